"""`assistant train`: train the diffusion anomaly detector on a folder of healthy scans."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the detector on healthy scans")
    p.add_argument(
        "--data", help="folder of healthy scans (any supported format; mid-axial slices)"
    )
    p.add_argument(
        "--volumes",
        help="folder of healthy whole-head T1 volumes (NIfTI): registered to MNI and cut at "
        "every brain level (a level set, cached in OUT/levels_train.npz); implies "
        "--level-embedding",
    )
    p.add_argument("--val-volumes", help="healthy val volumes: a val loss per level band")
    p.add_argument(
        "--level-embedding",
        action="store_true",
        help="condition the UNet on the slice's MNI level (added to --init-from weights)",
    )
    p.add_argument("--val", help="folder of healthy validation scans (loss + calibration)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--size", type=int, default=128, help="model grid size (default 128)")
    p.add_argument(
        "--steps", type=int, default=20_000, help="optimiser steps in all (default 20000)"
    )
    p.add_argument("--batch", type=int, default=16, help="scans per step (default 16)")
    p.add_argument(
        "--lr",
        type=float,
        default=2e-4,
        help="learning rate after the warm-up (default 2e-4; a run shorter than --warmup never "
        "reaches it)",
    )
    p.add_argument("--channels", default="32,64,128,256", help="UNet channels per level")
    p.add_argument("--layers-per-block", type=int, default=2)
    p.add_argument("--attention-levels", default="3", help="levels with attention, e.g. 3")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="stop and save after this many minutes of this run (a resumed run counts afresh)",
    )
    p.add_argument(
        "--ckpt-every",
        type=int,
        default=1000,
        help="write the checkpoint and the resumable state every N steps (default 1000)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--no-bf16", action="store_true", help="disable bf16 autocast")
    p.add_argument("--no-flip", action="store_true", help="no left-right flips (non-brain data)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state")
    p.add_argument("--init-from", help="start from this checkpoint's weights (fine-tuning)")
    p.add_argument(
        "--warmup", type=int, default=500, help="learning-rate warm-up steps (default 500)"
    )
    p.add_argument(
        "--lr-schedule",
        default="constant_with_warmup",
        choices=["constant_with_warmup", "cosine", "linear"],
        help="learning rate after the warm-up (diffusers' schedules): constant (default), or "
        "down to 0 at --steps, cosine or linear",
    )
    p.add_argument("--no-calibrate", action="store_true", help="skip calibration on --val")
    p.add_argument(
        "--no-data-check",
        action="store_true",
        help="skip the applicability check of the --data and --val files (by default, files it "
        "would refuse and volumes in those folders are named in a warning; about 0.3 s a file)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from assistant.detector.model import PreprocessConfig, UNetConfig
    from assistant.detector.train import TrainConfig, command_line, train

    log = logging.getLogger("assistant.train")
    out = Path(args.out)
    if (out / "train_state" / "state.json").is_file() and not args.resume:
        raise ValueError(
            f"{out} already holds a training run; pass --resume to continue it or choose "
            "another --out"
        )
    if not args.data and not args.volumes:
        raise ValueError("give --data (a folder of scans), --volumes (a folder of volumes) or both")
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    if args.resume and not (out / "train_state" / "state.json").is_file():
        log.info("--resume: %s holds no training run yet; starting from step 0", out)
    if not args.no_data_check:
        from assistant.commands.datacheck import audit_healthy_folder

        for folder, role in ((args.data, "training scans"), (args.val, "validation scans")):
            if folder:
                audit_healthy_folder(folder, role)
    level_set = val_level_set = None
    if args.volumes:
        from assistant.domain.levelset import build_level_set

        out.mkdir(parents=True, exist_ok=True)
        level_set = out / "levels_train.npz"
        if not level_set.is_file():
            log.info("building the level set from %s (registration, 2-5 s a volume)", args.volumes)
            build_level_set(args.volumes, level_set, PreprocessConfig(size=args.size))
        if args.val_volumes:
            val_level_set = out / "levels_val.npz"
            if not val_level_set.is_file():
                build_level_set(args.val_volumes, val_level_set, PreprocessConfig(size=args.size))
    levels = tuple(int(c) for c in args.channels.split(","))
    attn = tuple(int(a) for a in args.attention_levels.split(",") if a.strip())
    if any(not 0 <= a < len(levels) for a in attn):
        raise ValueError(
            f"--attention-levels {args.attention_levels}: the UNet has {len(levels)} levels "
            f"(--channels {args.channels}), numbered 0 to {len(levels) - 1}"
        )
    cfg = TrainConfig(
        data=args.data,
        val=args.val,
        out=args.out,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        flip=not args.no_flip,
        seed=args.seed,
        ckpt_every=args.ckpt_every,
        max_minutes=args.max_minutes,
        device=args.device,
        bf16=not args.no_bf16,
        unet=UNetConfig(
            size=args.size,
            block_out_channels=levels,
            layers_per_block=args.layers_per_block,
            attention_levels=attn,
        ),
        init_from=args.init_from,
        warmup=args.warmup,
        lr_schedule=args.lr_schedule,
        level_set=str(level_set) if level_set else None,
        val_level_set=str(val_level_set) if val_level_set else None,
        level_embedding=args.level_embedding or bool(args.volumes),
        command=command_line(),
    )
    train(cfg)
    if args.val and not args.no_calibrate:
        from assistant.detector.calibrate import calibrate_checkpoint

        cal = calibrate_checkpoint(out, args.val, fpr=0.05)
        log.info(
            "calibrated on %s: pixel threshold %.4g, image score threshold %.4g (written to %s)",
            args.val,
            cal.pixel_threshold,
            cal.score_threshold,
            out / "detector.json",
        )
    return 0
