"""`assistant calibrate`: fit the pixel and image thresholds on healthy validation scans
(`--healthy`: mid-axial slices), and thresholds for whole volumes on healthy whole-head volumes
(`--volumes`): a level-aware model's per band of MNI levels, a level-unaware model's one
threshold for the levels it analyses in a volume ("method/preset+volume"); `--volumes` runs
after `--healthy`, whose thresholds it starts from."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="calibrate thresholds on healthy scans")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        required=True,
        help="checkpoint folder (updated in place)",
    )
    p.add_argument("--healthy", help="folder of healthy validation scans (slices)")
    p.add_argument(
        "--volumes",
        help="folder of healthy validation head volumes (NIfTI): per-band thresholds of a "
        "level-aware model, or a level-unaware model's threshold for whole volumes",
    )
    p.add_argument("--level-step", type=float, default=2.0, help="--volumes: mm between levels")
    p.add_argument(
        "--z-smoothing",
        type=float,
        metavar="MM",
        help="--volumes, level-aware model: instead fit the thresholds of whole volumes whose "
        "anomaly maps are smoothed across levels by a Gaussian of MM (e.g. 3)",
    )
    p.add_argument("--fpr", type=float, default=0.05, help="healthy false-positive rate")
    p.add_argument("--method", choices=["thor", "autoddpm", "anoddpm"])
    p.add_argument("--preset")
    p.add_argument(
        "--no-data-check",
        action="store_true",
        help="skip the applicability check of the --healthy files (by default, files it would "
        "refuse and volumes in that folder are named in a warning)",
    )
    p.add_argument(
        "--make-default",
        action="store_true",
        help="also make --method/--preset the checkpoint's default (what `ask`, `detect` and the "
        "app use when no preset is named; a checkpoint from `assistant train` defaults to "
        "thor/fast, the shipped one to thor/faster-x2)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    if not args.healthy and not args.volumes:
        raise ValueError("give --healthy (slices) and/or --volumes (head volumes)")
    if args.healthy:
        from assistant.commands.datacheck import audit_healthy_folder
        from assistant.detector.calibrate import calibrate_checkpoint

        if not args.no_data_check:
            audit_healthy_folder(args.healthy, "calibration scans", model=args.model)
        cal = calibrate_checkpoint(
            args.model, args.healthy, fpr=args.fpr, method=args.method, preset=args.preset
        )
        print(
            f"{cal.method}/{cal.preset}: pixel threshold {cal.pixel_threshold:.5f}, "
            f"score threshold {cal.score_threshold:.5f} (fpr {cal.fpr}, {cal.n_images} images); "
            f"written to {Path(args.model) / 'detector.json'}"
        )
        print(
            "  the score threshold is the image score above which a scan is called abnormal, "
            f"set so that about {cal.fpr:.0%} of these healthy scans are; the pixel threshold "
            "outlines the regions (findings) on the anomaly map"
        )
        if cal.n_images * cal.fpr < 1:
            print(
                f"warning: {cal.n_images} healthy scans cannot place a {cal.fpr:.0%} "
                f"false-positive rate (that needs at least {int(round(1 / cal.fpr))}, better "
                "several times that): the threshold lies among the highest one or two scores, "
                "and the rate it gives on new healthy scans is not known",
                file=sys.stderr,
            )
        if args.make_default:
            from assistant.detector.model import DetectorConfig

            path = Path(args.model) / "detector.json"
            config = DetectorConfig.from_json(path.read_text())
            config.default_method, config.default_preset = cal.method, cal.preset
            path.write_text(config.to_json())
            print(f"{cal.method}/{cal.preset} is now the default of {args.model}")
    elif args.make_default:
        raise ValueError("--make-default needs --healthy (the slices' thresholds of that preset)")
    if args.volumes:
        from assistant.volume.calibrate import calibrate_volumes, describe_band

        for b in calibrate_volumes(
            args.model,
            args.volumes,
            args.level_step,
            args.fpr,
            method=args.method,
            preset=args.preset,
            z_smoothing_mm=args.z_smoothing,
        ):
            print(describe_band(b))
    return 0
