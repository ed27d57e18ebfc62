"""How well the applicability check tells upright slices from upside-down ones
(`assistant.domain.orientation`), and what the detector does on upside-down healthy slices.

    python -m eval.orientation --data ../shared/data --json eval/results/orientation.json \
        [--detector]

Slices, per split (train chooses the threshold, val and holdout only report): the MNI-registered
mid-axial IXI slices, and the axial slices of the IXI 2 mm whole-head volumes whose brain area
is at least 85% of the volume's largest (every second one), each as acquired (upright), turned
upside-down (mirrored front to back) and turned by 180 degrees. Only the slices that pass the
checks read before the orientation (metadata, typicality, level) count: the orientation is
measured on those alone, as at run time. `--detector` runs the shipped pipeline (applicability
without the orientation check, then detection with the slice's calibration) on the val
mid-axial slices upright and upside-down (minutes on a CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant.domain import check_applicability
from assistant.domain.fitdata import load_volume, volume_paths
from assistant.domain.orientation import UPSIDE_DOWN_THRESHOLD
from assistant.scan import Scan, load_scan
from eval import write_figures
from eval.skull_stripped import choose_threshold

SPLITS = ("train", "val", "holdout")
TURNS = {
    "upright": lambda img: img,
    "upside_down": lambda img: np.ascontiguousarray(img[::-1]),
    "rotated_180": lambda img: np.ascontiguousarray(img[::-1, ::-1]),
}


def slices(root: Path, split: str) -> list[np.ndarray]:
    out = [load_scan(p).pixels for p in sorted((root / "ixi-t1-midaxial" / split).glob("*.png"))]
    hh = root / "ixi-hh-t1-2mm"
    for path in volume_paths(hh, split):
        pixels, brain, _ = load_volume(hh, split, path)
        area = brain.sum(axis=(1, 2))
        out += [pixels[k] for k in np.flatnonzero(area >= 0.85 * area.max())[::2]]
    return out


def scores(images: list[np.ndarray]) -> np.ndarray:
    """The orientation score of each image that reaches the orientation check (else NaN)."""
    values = []
    for img in images:
        verdict = check_applicability(Scan(pixels=np.asarray(img, np.float32), format="png"))
        orient = verdict.checks.get("orientation")
        values.append(np.nan if orient is None else orient["upside_down_score"])
    return np.array(values, dtype=np.float64)


def rates(upright: np.ndarray, turned: np.ndarray, t: float) -> dict:
    upright, turned = upright[np.isfinite(upright)], turned[np.isfinite(turned)]
    return {
        "upright_called_upside_down": f"{int((upright > t).sum())}/{len(upright)}",
        "turned_missed": f"{int((turned <= t).sum())}/{len(turned)}",
        "upright_max": round(float(upright.max()), 4),
        "turned_min": round(float(turned.min()), 4),
    }


def detector_figures(root: Path) -> dict:
    from assistant.analysis import default_detector, detector_for_slice

    det = default_detector()
    out = {}
    images = [load_scan(p).pixels for p in sorted((root / "ixi-t1-midaxial" / "val").glob("*.png"))]
    for name in ("upright", "upside_down"):
        passed = flagged = 0
        for img in images:
            scan = Scan(pixels=np.asarray(TURNS[name](img), np.float32), format="png")
            verdict = check_applicability(scan)
            if "orientation" not in verdict.checks:
                continue  # refused before the orientation is read
            passed += 1
            flagged += bool(detector_for_slice(det, scan)(scan).findings)
        out[name] = {
            "passed_the_other_checks": f"{passed}/{len(images)}",
            "with_a_finding": flagged,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="folder holding the IXI sets")
    ap.add_argument("--json", default="eval/results/orientation.json")
    ap.add_argument("--detector", action="store_true", help="also run the detector on val")
    args = ap.parse_args(argv)
    root = Path(args.data)
    measured = {}
    for split in SPLITS:
        images = slices(root, split)
        measured[split] = {name: scores([f(i) for i in images]) for name, f in TURNS.items()}

    def turned(split):
        return np.concatenate([measured[split]["upside_down"], measured[split]["rotated_180"]])

    up = measured["train"]["upright"]
    t = choose_threshold(up[np.isfinite(up)], turned("train")[np.isfinite(turned("train"))])
    out: dict = {
        "measure": "assistant.domain.orientation.upside_down_score",
        "threshold_chosen_on_train": round(t, 4),
        "threshold_shipped": UPSIDE_DOWN_THRESHOLD,
        "splits": {
            s: rates(measured[s]["upright"], turned(s), UPSIDE_DOWN_THRESHOLD) for s in SPLITS
        },
    }
    if args.detector:
        out["detector_val_mid"] = detector_figures(root)
    write_figures(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
