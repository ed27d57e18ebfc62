"""`assistant inspect SCAN`: a de-identified summary of a scan and an optional preview PNG.

The summary holds only what a `Scan` holds (format, shape, spacing, orientation, modality,
window, notes and allow-listed technical metadata); the scan's file name is never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from assistant.scan import Scan, load_scan

logger = logging.getLogger(__name__)

PREVIEW_PERCENTILES = (1.0, 99.0)  # robust display range when the scan has no window
_LEFT = {
    "image_left": "image left (neurological display)",
    "image_right": "image right (radiological display)",
    None: "unknown",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="de-identified summary and preview of a scan",
        description="Print a de-identified summary of a scan (image, DICOM file/folder/.zip, "
        "NIfTI) and optionally write a preview PNG of one slice.",
    )
    p.add_argument("scan", help="PNG/JPEG/TIFF/BMP, DICOM file, folder or .zip, NIfTI")
    p.add_argument("--slice", type=int, default=None, help="slice index (default: middle)")
    p.add_argument(
        "--plane", choices=("axial", "coronal", "sagittal"), default="axial", help="for volumes"
    )
    p.add_argument("--out", type=Path, default=None, help="write a preview PNG to this path")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def preview_image(view: Scan):
    """A 2D scan -> 8-bit Pillow image: its window if any, else the 1st..99th percentiles.

    Non-square pixels (from `spacing`) are stretched so that the preview has true proportions.
    """
    from PIL import Image

    from assistant.preprocess import to_unit

    unit = to_unit(view.pixels, window=view.window, percentiles=PREVIEW_PERCENTILES)
    img = Image.fromarray(np.round(unit * 255.0).astype(np.uint8))
    if view.spacing is not None and len(view.spacing) == 2:
        dy, dx = view.spacing
        if dx > 0 and abs(dy / dx - 1.0) > 0.01:
            height = max(1, round(img.height * dy / dx))
            img = img.resize((img.width, height), Image.Resampling.BILINEAR)
    return img


def summarize(scan: Scan, view: Scan, plane: str, index: int | None) -> dict[str, object]:
    summary = scan.summary()
    if scan.is_volume:
        axis = {"axial": 0, "coronal": 1, "sagittal": 2}[plane]
        n = scan.pixels.shape[axis]
        i = n // 2 if index is None else index
        summary["preview"] = {"plane": plane, "slice": i, "of": n, "shape": list(view.pixels.shape)}
    else:
        summary["preview"] = {"plane": "2D image", "shape": list(view.pixels.shape)}
    return summary


def format_summary(s: dict) -> str:
    shape = s["shape"]
    axes = "(Z, Y, X)" if len(shape) == 3 else "(Y, X)"
    spacing = s["spacing_mm"]
    window = s["window"]
    lines = [
        f"format:       {s['format']}",
        f"modality:     {s['modality']}",
        f"shape:        {' x '.join(str(n) for n in shape)} {axes}",
        "spacing:      "
        + ("unknown" if spacing is None else " x ".join(f"{v:g}" for v in spacing) + " mm"),
        f"patient left: {_LEFT.get(s['patient_left'], s['patient_left'])}",
        "window:       "
        + ("none" if window is None else f"center {window[0]:g}, width {window[1]:g}"),
        f"values:       {s['value_range'][0]:g} .. {s['value_range'][1]:g}",
    ]
    p = s["preview"]
    where = f"{p['plane']} slice {p['slice']} of {p['of']}" if "slice" in p else p["plane"]
    lines.append(f"preview:      {where}" + (f" -> {p['path']}" if "path" in p else ""))
    if s["metadata"]:
        lines.append("metadata:")
        lines += [f"  {k}: {v}" for k, v in s["metadata"].items()]
    if s["notes"]:
        lines.append("notes:")
        lines += [f"  - {n}" for n in s["notes"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    scan = load_scan(args.scan)
    view = scan.slice2d(args.slice, args.plane)
    summary = summarize(scan, view, args.plane, args.slice)
    if args.slice is not None and not scan.is_volume:
        summary["notes"].append("--slice ignored: the scan is a 2D image")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        preview_image(view).save(args.out, format="PNG")
        summary["preview"]["path"] = str(args.out)
        logger.debug("preview written")
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
