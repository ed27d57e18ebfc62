"""What `assistant.domain.flat.flat_fraction` reads on scans and on label maps and masks.

    python -m eval.flat --data ../shared/data --json eval/results/flat.json

Per class, the range (min, median, max) of the fraction of neighbouring pixels inside the image
with the same value, and how many read above the limit (`MAX_FLAT_FRACTION`, i.e. would be
refused as a label map):
- scans: the train and val mid-axial IXI PNGs, the first 40 train and all val 2 mm volumes,
  the shipped examples, the first 40 chest X-rays, the MSLUB T1 volumes;
- zoomed screenshots: the first 10 val PNGs shrunk by 1, 2, 4 or 8 and enlarged x4-x32 with
  bilinear interpolation in 8 bits (their slow ramps must not read as flat);
- label maps and masks: the val DLMUSE label maps, and binary brain masks made from them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant.domain.flat import MAX_FLAT_FRACTION, flat_fraction
from assistant.scan import load_scan
from eval import portable_path, write_figures

ZOOMS = ((1, 4), (1, 8), (2, 16), (4, 16), (4, 32), (8, 32))  # (shrink, enlarge)


def summary(values: list[float | None]) -> dict:
    """Range and count over the limit of `values` (None: no verdict, counted apart)."""
    read = np.array([v for v in values if v is not None], dtype=float)
    out: dict = {"n": len(values), "no_verdict": len(values) - len(read)}
    if len(read):
        out.update(
            min=round(float(read.min()), 3),
            median=round(float(np.median(read)), 3),
            max=round(float(read.max()), 3),
            over_limit=int((read > MAX_FLAT_FRACTION).sum()),
        )
    return out


def zoomed(path: Path, shrink: int, enlarge: int) -> np.ndarray:
    """The 8-bit image at `path` shrunk by `shrink` and enlarged by `enlarge`, bilinearly."""
    from PIL import Image

    im = Image.open(path).convert("L")
    small = im.resize((im.width // shrink, im.height // shrink), Image.BILINEAR)
    big = small.resize((small.width * enlarge, small.height * enlarge), Image.BILINEAR)
    return np.asarray(big, np.float32)


def evaluate(data: Path) -> dict:
    import assistant.examples

    mid, vol = data / "ixi-t1-midaxial", data / "ixi-hh-t1-2mm"
    examples = Path(assistant.examples.__file__).parent
    scans = {
        "midaxial_train": sorted((mid / "train").glob("*.png")),
        "midaxial_val": sorted((mid / "val").glob("*.png")),
        "volumes_train_40": sorted((vol / "train").glob("*.nii*"))[:40],
        "volumes_val": sorted((vol / "val").glob("*.nii*")),
        "shipped_examples": sorted(p for p in examples.iterdir() if p.name.startswith("mni_")),
        "chest_xray_40": sorted((data / "ood" / "cxr-kermany").glob("*.png"))[:40],
        "mslub_t1": sorted((data / "mslub-mni").glob("patient*/T1.nii.gz")),
    }
    classes = {
        name: summary([flat_fraction(load_scan(p).pixels) for p in paths])
        for name, paths in scans.items()
    }
    ten = scans["midaxial_val"][:10]
    classes["zoomed_screenshots_val_10"] = summary(
        [flat_fraction(zoomed(p, s, e)) for p in ten for s, e in ZOOMS]
    )
    labels = [load_scan(p).pixels for p in sorted((vol / "labels" / "val").glob("*.nii*"))]
    classes["label_maps_val"] = summary([flat_fraction(lab) for lab in labels])
    classes["brain_masks_val"] = summary(
        [flat_fraction((lab > 0).astype(np.float32)) for lab in labels]
    )
    return {"limit": MAX_FLAT_FRACTION, "classes": classes, "data": portable_path(data)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    args = p.parse_args(argv)
    write_figures(args.json, evaluate(args.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
