"""In-plane tilt: how far real slices are turned as acquired, how the applicability check's tilt
measure (`assistant.domain.orientation.tilt_degrees`) reads turned slices, and what the
detector does on turned healthy slices.

    python -m eval.tilt --data ../shared/data --json eval/results/tilt.json \
        [--splits train val holdout] [--detector]

Slices per split, as `eval.orientation`: the MNI-registered mid-axial IXI slices and the axial
slices of the IXI 2 mm whole-head volumes whose brain area is at least 85% of the volume's
largest (every second one). Each is measured as acquired and turned by 10, 15, 20 and 30
degrees (`scipy.ndimage.rotate`, alternately counter-clockwise and clockwise): the measured
tilt's percentiles and maximum, its error on the turned ones, and how many exceed the check's
tolerance (`TILT_TOLERANCE_DEG`, chosen from train as acquired: above every train slice's tilt
with a margin for the measure's error).

`--detector` (val only: it informs the choice): the val native slices nearest the trained level
(`eval.align2d.native_slices`, as a PNG upload would be) and the first 20 val mid-axial slices,
turned by 0 to 30 degrees: the applicability check's verdict without the tilt check
(`check_applicability(..., tilt=False)`) and with it, and whether the detector (with the
slice's calibration) finds anything. About 10 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage
from tqdm import tqdm

from assistant.domain import check_applicability
from assistant.domain.orientation import TILT_TOLERANCE_DEG, tilt_degrees
from assistant.scan import Scan, load_scan
from eval import write_figures
from eval.orientation import slices

SPLITS = ("train", "val", "holdout")
TURNS = (10, 15, 20, 30)
DETECTOR_TURNS = (0, 5, 10, 15, 20, 30)


def turn(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """`pixels` turned by `degrees` counter-clockwise as displayed (negative: clockwise)."""
    if degrees == 0:
        return np.asarray(pixels, dtype=np.float32)
    img = np.asarray(pixels, dtype=np.float32)
    return ndimage.rotate(img, degrees, reshape=False, order=1)


def _pct(values: np.ndarray) -> dict:
    return {f"p{q}": round(float(np.percentile(values, q)), 1) for q in (50, 90, 99, 99.5)} | {
        "max": round(float(values.max()), 1)
    }


def split_figures(images: list[np.ndarray]) -> dict:
    """The measured tilt of `images` as acquired and turned (module docstring)."""
    acquired = np.array([tilt_degrees(i) for i in images], dtype=np.float64)
    ok = np.isfinite(acquired)
    out: dict = {
        "n_slices": len(images),
        "as_acquired_abs_degrees": _pct(np.abs(acquired[ok])),
        "as_acquired_over_tolerance": f"{int((np.abs(acquired[ok]) > TILT_TOLERANCE_DEG).sum())}"
        f"/{int(ok.sum())}",
        "turned": {},
    }
    for degrees in TURNS:
        signs = np.where(np.arange(len(images)) % 2 == 0, 1.0, -1.0)
        measured = np.array(
            [tilt_degrees(turn(i, s * degrees)) for i, s in zip(images, signs, strict=True)],
            dtype=np.float64,
        )
        good = ok & np.isfinite(measured)
        # the turn adds to the tilt the slice had as acquired
        error = measured[good] - (acquired[good] + signs[good] * degrees)
        out["turned"][str(degrees)] = {
            "over_tolerance": f"{int((np.abs(measured[good]) > TILT_TOLERANCE_DEG).sum())}"
            f"/{int(good.sum())}",
            "median_abs_error_degrees": round(float(np.median(np.abs(error))), 2),
            "p95_abs_error_degrees": round(float(np.percentile(np.abs(error), 95)), 2),
        }
    return out


def detector_figures(root: Path) -> dict:
    """The check and the detector on turned healthy val slices (module docstring)."""
    from assistant.analysis import default_detector, detector_for_slice
    from eval.align2d import native_slices

    det = default_detector()
    sets: dict[str, list[np.ndarray]] = {"native": [], "mid_axial": []}
    for path in sorted((root / "ixi-hh-t1-2mm" / "val").glob("*.nii*")):
        sets["native"] += [px for _, px in native_slices(path, 0)]
    mids = sorted((root / "ixi-t1-midaxial" / "val").glob("*.png"))[:20]
    sets["mid_axial"] = [load_scan(p).slice2d().pixels for p in mids]
    out: dict = {}
    for name, images in sets.items():
        rows = {}
        for degrees in DETECTOR_TURNS:
            without = with_tilt = found_without = found_with = 0
            for i, px in enumerate(tqdm(images, desc=f"{name} {degrees}", leave=False)):
                scan = Scan(pixels=turn(px, degrees if i % 2 == 0 else -degrees), format="png")
                verdict = check_applicability(scan)
                passes_without = check_applicability(scan, tilt=False).in_domain
                if not (passes_without or verdict.in_domain):
                    continue
                found = bool(detector_for_slice(det, scan)(scan).findings)
                without += passes_without
                found_without += passes_without and found
                with_tilt += verdict.in_domain
                found_with += verdict.in_domain and found
            rows[str(degrees)] = {
                "n": len(images),
                "accepted_without_tilt_check": without,
                "with_a_finding_of_those": found_without,
                "accepted_with_tilt_check": with_tilt,
                "with_a_finding_of_those_now": found_with,
            }
        out[name] = rows
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="folder holding the IXI sets")
    ap.add_argument("--json", default="eval/results/tilt.json")
    ap.add_argument("--splits", nargs="+", default=list(SPLITS), choices=SPLITS)
    ap.add_argument("--detector", action="store_true", help="also the detector on val")
    args = ap.parse_args(argv)
    root = Path(args.data)
    out: dict = {
        "measure": "assistant.domain.orientation.tilt_degrees",
        "tolerance_degrees": TILT_TOLERANCE_DEG,
        "splits": {s: split_figures(slices(root, s)) for s in args.splits},
    }
    if args.detector:
        out["detector_val"] = detector_figures(root)
    write_figures(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
