"""How well the applicability check tells skull-stripped slices from slices with the skull on
(`assistant.domain.skull`), and what the detector does on skull-stripped healthy slices.

    python -m eval.skull_stripped --data ../shared/data --json eval/results/skull_stripped.json \
        [--detector]

Slices, per split (train chooses the threshold, val and holdout only report):
- ``mid``: the MNI-registered mid-axial IXI slices (skull on) and the same masked with the
  dilated `brain_mask` (skull-stripped);
- ``native``: axial slices of the IXI 2 mm whole-head volumes whose brain area is at least 85%
  of the volume's largest (around the lateral ventricles' level, where the check is read), as
  acquired (skull on) and masked with their DLMUSE brain labels (skull-stripped);
- ``mslub`` (skull-stripped MS patients, MNI space) and ``template`` (nilearn's skull-stripped
  MNI152 template): the slices within 4 mm of the trained level, reported only.

The threshold is the one that separates the train split's skull-on from its skull-stripped
slices with the fewest errors (ties: the midpoint of the widest gap); `--detector` also runs the
shipped detector on the val mid-axial slices with and without the skull (minutes on a CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain.fitdata import load_volume, volume_paths
from assistant.domain.skull import RIM_ON_BRAIN_THRESHOLD, rim_on_brain
from assistant.preprocess import brain_mask
from assistant.scan import load_scan
from eval import write_figures

SPLITS = ("train", "val", "holdout")


def _unit(pixels: np.ndarray) -> np.ndarray:
    p = np.asarray(pixels, dtype=np.float32)
    return p / max(float(p.max()), 1e-6)


def mid_pairs(root: Path, split: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    on, off = [], []
    for path in sorted((root / "ixi-t1-midaxial" / split).glob("*.png")):
        img = _unit(load_scan(path).pixels)
        on.append(img)
        off.append(img * ndimage.binary_dilation(brain_mask(img), iterations=2))
    return on, off


def native_pairs(root: Path, split: str, every: int = 2):
    on, off = [], []
    hh = root / "ixi-hh-t1-2mm"
    for path in volume_paths(hh, split):
        pixels, brain, _ = load_volume(hh, split, path)
        area = brain.sum(axis=(1, 2))
        for k in np.flatnonzero(area >= 0.85 * area.max())[::every]:
            on.append(pixels[k])
            off.append(pixels[k] * ndimage.binary_dilation(brain[k]))
    return on, off


def values(images) -> np.ndarray:
    v = [rim_on_brain(img) for img in images]
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


def choose_threshold(on: np.ndarray, off: np.ndarray) -> float:
    """The threshold (stripped when above) with the fewest train errors; ties: widest gap."""
    on, off = np.nan_to_num(on, nan=0.0), np.nan_to_num(off, nan=0.0)
    cuts = np.unique(np.concatenate([on, off]))
    best = None
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        t = (lo + hi) / 2
        errors = int((on > t).sum() + (off <= t).sum())
        key = (errors, -(hi - lo))
        if best is None or key < best[0]:
            best = (key, t)
    return float(best[1])


def rates(on: np.ndarray, off: np.ndarray, t: float) -> dict:
    on, off = np.nan_to_num(on, nan=0.0), np.nan_to_num(off, nan=0.0)
    return {
        "skull_on_called_stripped": f"{int((on > t).sum())}/{len(on)}",
        "stripped_missed": f"{int((off <= t).sum())}/{len(off)}",
        "skull_on_max": round(float(on.max()), 4),
        "stripped_min": round(float(off.min()), 4),
    }


def level_slices(volume: np.ndarray, centre: int, half: int = 2) -> list[np.ndarray]:
    return [volume[k] for k in range(centre - half, centre + half + 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="folder holding the IXI sets")
    ap.add_argument("--json", default="eval/results/skull_stripped.json")
    ap.add_argument("--detector", action="store_true", help="also run the detector on val")
    args = ap.parse_args(argv)
    root = Path(args.data)
    out: dict = {"measure": "assistant.domain.skull.rim_on_brain", "splits": {}}
    vals = {}
    for split in SPLITS:
        for kind, pairs in (("mid", mid_pairs), ("native", native_pairs)):
            on, off = pairs(root, split)
            vals[(split, kind)] = (values(on), values(off))
    train_on = np.concatenate([vals[("train", k)][0] for k in ("mid", "native")])
    train_off = np.concatenate([vals[("train", k)][1] for k in ("mid", "native")])
    t = choose_threshold(train_on, train_off)
    out["threshold_chosen_on_train"] = round(t, 4)
    out["threshold_shipped"] = RIM_ON_BRAIN_THRESHOLD
    for (split, kind), (on, off) in vals.items():
        out["splits"].setdefault(split, {})[kind] = rates(on, off, RIM_ON_BRAIN_THRESHOLD)
    others = {}
    mslub = root / "mslub-mni"
    if mslub.is_dir():
        for patient in sorted(p for p in mslub.iterdir() if p.is_dir()):
            vol = load_scan(patient / "T1.nii.gz").pixels
            # the MSLUB volumes are on the MNI grid: the trained level (+23 mm) is about slice 96
            v = values(level_slices(vol, 96))
            others[f"mslub/{patient.name}"] = [round(float(x), 3) for x in v]
    from assistant.domain.geometry import template_array, trained_level_mm

    data, aff = template_array()
    k = int(round((trained_level_mm() - aff[2, 3]) / aff[2, 2]))
    t_slices = [np.ascontiguousarray(data[:, :, j].T[::-1]) for j in range(k - 4, k + 5, 2)]
    others["template"] = [round(float(x), 3) for x in values(t_slices)]
    out["skull_stripped_sets"] = others
    out["skull_stripped_sets_called_stripped"] = {
        name: f"{sum(x > RIM_ON_BRAIN_THRESHOLD for x in v)}/{len(v)}" for name, v in others.items()
    }
    if args.detector:
        from assistant.detector import Detector

        det = Detector.from_pretrained()
        on, off = mid_pairs(root, "val")
        flagged = {}
        for name, images in (("skull_on", on), ("skull_stripped", off)):
            results = [
                r for i in range(0, len(images), 8) for r in det.detect_batch(images[i : i + 8])
            ]
            flagged[name] = f"{sum(bool(r.findings) for r in results)}/{len(results)}"
        out["detector_val_mid_with_a_finding"] = flagged
    write_figures(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
