"""Reference THOR, AutoDDPM and AnoDDPM configurations beside the fast default, on the same
checkpoint and images, in one run: quality and median seconds per image side by side.

    python -m eval.bench_detector --images DIR --masks DIR --json OUT [--model DIR]
        [--limit N] [--rows NAME ...] [--threads T]

Pixel AUPRC/AUROC and image AUROC need no threshold, so every row is comparable even when only
the default is calibrated; Dice and false-positive figures are reported for calibrated rows.
The reference rows cost hundreds of UNet calls per image: use --limit on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import torch

from assistant.detector import Detector
from eval import portable_path
from eval.detection import evaluate

ROWS = {  # name -> (method, preset)
    "default": (None, None),
    "thor-reference": ("thor", "reference"),
    "autoddpm-reference": ("autoddpm", "reference"),
    "anoddpm-reference": ("anoddpm", "reference"),
    "thor-fast": ("thor", "fast"),
    "thor-faster": ("thor", "faster"),
    "autoddpm-fast": ("autoddpm", "fast"),
    "anoddpm-fast": ("anoddpm", "fast"),
}
KEYS = [
    "pixel_auprc",
    "pixel_auroc",
    "image_auroc",
    "dice_calibrated",
    "healthy_fp_fraction",
    "unet_calls_per_image",
    "seconds_per_image",
    "n_images",
    "n_abnormal",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_detector", description=__doc__)
    p.add_argument("--images", required=True)
    p.add_argument("--masks", required=True)
    p.add_argument("--json", required=True)
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint (default: the shipped model)",
    )
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.json)
    table = json.loads(out.read_text()).get("rows", {}) if out.is_file() else {}
    for name in args.rows:
        method, preset = ROWS[name]
        det = Detector.from_pretrained(args.model, method=method, preset=preset)
        t0 = time.perf_counter()
        fig = evaluate(det, args.images, args.masks, limit=args.limit)
        calibrated = det.calibration is not None
        row = {k: fig.get(k) for k in KEYS}
        if not calibrated:
            row["dice_calibrated"] = row["healthy_fp_fraction"] = None
        row.update(
            method=det.method.name,
            preset=det.preset,
            calibrated=calibrated,
            wall_s=round(time.perf_counter() - t0, 1),
        )
        table[name] = row
        report = {
            "model": portable_path(det.model.path),
            "images": args.images,
            "limit": args.limit,
            "machine": f"{platform.processor() or platform.machine()}, "
            f"{torch.get_num_threads()} torch threads",
            "rows": table,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        print(
            name,
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()},
            flush=True,
        )
    ref = table.get("thor-reference")
    dflt = table.get("default")
    if ref and dflt and ref["pixel_auprc"] is not None:
        print(
            f"default vs reference THOR: AUPRC {dflt['pixel_auprc']:.3f} vs "
            f"{ref['pixel_auprc']:.3f}; UNet calls {ref['unet_calls_per_image'] / dflt['unet_calls_per_image']:.0f}x fewer; "
            f"speed-up {ref['seconds_per_image'] / dflt['seconds_per_image']:.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
