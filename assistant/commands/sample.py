"""`assistant sample`: draw new healthy-looking slices from the diffusion model."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="sample healthy-looking slices from the model")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--out", required=True)
    p.add_argument(
        "--model", "--detector", dest="model", help="checkpoint folder (default: the shipped model)"
    )
    p.add_argument("--steps", type=int, default=50, help="DDIM steps (default 50)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from PIL import Image

    from assistant.detector.model import DiffusionModel
    from assistant.detector.sample import sample
    from assistant.render import to_uint8

    if args.n < 1 or args.steps < 1:
        raise ValueError(f"--n and --steps must be >= 1 (got {args.n}, {args.steps})")
    model = DiffusionModel.load(args.model)
    imgs = sample(model, args.n, steps=args.steps, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(imgs):
        Image.fromarray(to_uint8(im)).save(out / f"sample_{i:03d}.png")
    print(f"wrote {len(imgs)} samples to {out}")
    return 0
