"""`assistant calibrate`: fit the pixel and image thresholds on healthy validation scans."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="calibrate thresholds on healthy scans")
    p.add_argument("--model", required=True, help="checkpoint folder (updated in place)")
    p.add_argument("--healthy", required=True, help="folder of healthy validation scans")
    p.add_argument("--fpr", type=float, default=0.05, help="healthy false-positive rate")
    p.add_argument("--method", choices=["thor", "autoddpm", "anoddpm"])
    p.add_argument("--preset")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.detector.calibrate import calibrate_checkpoint

    cal = calibrate_checkpoint(
        args.model, args.healthy, fpr=args.fpr, method=args.method, preset=args.preset
    )
    print(
        f"{cal.method}/{cal.preset}: pixel threshold {cal.pixel_threshold:.5f}, "
        f"score threshold {cal.score_threshold:.5f} (fpr {cal.fpr}, {cal.n_images} images)"
    )
    return 0
