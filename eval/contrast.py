"""Does the applicability check refuse brain MRI of another contrast (T2, FLAIR, PD)?

    python -m eval.contrast --volumes ../shared/data/ixi-hh-t1-2mm/val \\
        --labels ../shared/data/ixi-hh-t1-2mm/labels/val --json eval/results/contrast_val.json

The detector learned healthy T1-weighted scans. A radiologist's series is just as often T2,
FLAIR or proton-density weighted, and a NIfTI or PNG does not record which. No such scans are
available offline here, so each real healthy T1 volume is turned into an approximate other
contrast: its DLMUSE label map gives the tissue classes (ventricles and the dark fluid around
the brain = CSF, the white-matter labels = white matter, every other label = grey matter), and
each class is rescaled, keeping its own texture, to that contrast's typical brightness
relative to the others (`WEIGHTINGS`: e.g. on T2 CSF brightest and white matter darker than
grey; on FLAIR CSF dark and white matter darker than grey). The scalp and skull are scaled as
a whole. These are approximations of the contrasts' tissue ordering, not simulations of the
sequences; what they test is whether the check notices the ordering.

Two generators: `lut` (default) maps every intensity in the brain region through the line
joining the T1 levels of CSF, grey and white matter to the new contrast's levels, so partial
volume between tissues lands in between; `labels` rescales each labelled tissue class as a
whole (intensity / class median x new level), which keeps sharp label edges and over-bright
partial-volume voxels in dark classes: a cruder image, kept because it is what a first version
of this script made and the check of that day let half of its FLAIR-like volumes through.
`--without-contrast-check` lifts the white/grey matter check for the run (what the other checks
alone do).

Each volume, as acquired (control) and in every other contrast, is checked as a volume
(registered, the slice at the trained level) and as a bare 2D image (the native slice nearest
the trained level, found on the T1 original).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain import check_applicability, register_volume
from assistant.scan import Scan
from eval import portable_path
from eval.applicability import Tally, bare

log = logging.getLogger(__name__)

# brightness of CSF, grey matter, white matter and everything outside the brain, relative to
# the volume's own T1 white matter (T1: CSF dark, grey < white). Typical orderings:
# T2: CSF > grey > white; FLAIR: grey > white > CSF (fluid suppressed); PD: grey >= CSF > white.
WEIGHTINGS: dict[str, dict[str, float]] = {
    "t1": {},  # the volume as acquired
    "t2": {"csf": 2.0, "gm": 1.25, "wm": 0.8, "outside": 0.8},
    "flair": {"csf": 0.15, "gm": 1.1, "wm": 0.8, "outside": 0.7},
    "pd": {"csf": 1.15, "gm": 1.2, "wm": 1.0, "outside": 0.9},
}
CSF_LABELS = ("Ventricle",)
WM_WORDS = ("_WM", "Fornix", "InternalCapsule", "CorpusCallosum", "BrainStem")


def label_classes(names_csv: Path) -> dict[int, str]:
    """DLMUSE label index -> "csf", "wm" or "gm"."""
    out = {}
    with open(names_csv, newline="") as f:
        for row in csv.DictReader(f):
            name = row["Name"]
            if any(w in name for w in CSF_LABELS):
                kind = "csf"
            elif any(w in name for w in WM_WORDS):
                kind = "wm"
            else:
                kind = "gm"
            out[int(row["Index"])] = kind
    return out


def tissue_levels(volume: np.ndarray, labels: np.ndarray, classes: dict[int, str]) -> dict:
    """The brain region (labelled voxels and 2 mm around them, which holds the fluid over the
    brain) and the median T1 intensity of its CSF, grey and white matter."""
    lab = labels.astype(np.int64)
    levels = {}
    for kind in ("csf", "gm", "wm"):
        idx = [i for i, k in classes.items() if k == kind]
        levels[kind] = float(np.median(volume[np.isin(lab, idx)]))
    region = ndimage.binary_dilation(lab > 0, iterations=1)
    return {"region": region, **levels}


def recontrast(volume: np.ndarray, tissue: dict, weighting: str) -> np.ndarray:
    """The volume in `weighting`'s contrast: inside the brain region each intensity is mapped
    through the line joining the T1 levels of CSF, grey and white matter to that contrast's
    levels (so a voxel between two tissues, partial volume, lands between their new levels);
    outside it, the scalp and skull are scaled as a whole (see module)."""
    targets = WEIGHTINGS[weighting]
    if not targets:
        return volume.astype(np.float32)
    wm = tissue["wm"]
    xs = [tissue["csf"], tissue["gm"], tissue["wm"]]
    ys = [targets["csf"] * wm, targets["gm"] * wm, targets["wm"] * wm]
    out = volume.astype(np.float32) * targets["outside"]
    region = tissue["region"]
    out[region] = np.interp(volume[region], xs, ys)
    return out


def recontrast_by_labels(
    volume: np.ndarray, labels: np.ndarray, classes: dict[int, str], weighting: str
) -> np.ndarray:
    """The `labels` generator (see module): each tissue class rescaled as a whole; the fluid
    around the brain (unlabelled, within 6 mm, darker than grey matter) counts as CSF."""
    targets = WEIGHTINGS[weighting]
    if not targets:
        return volume.astype(np.float32)
    lab = labels.astype(np.int64)
    kinds = np.zeros(lab.shape, np.int8)  # 0 outside, 1 csf, 2 gm, 3 wm
    for index, kind in classes.items():
        kinds[lab == index] = {"csf": 1, "gm": 2, "wm": 3}[kind]
    brain = lab > 0
    near = ndimage.binary_dilation(brain, iterations=3) & ~brain
    kinds[near & (volume < 0.8 * np.median(volume[kinds == 2]))] = 1
    wm = float(np.median(volume[kinds == 3]))
    out = volume.astype(np.float32) * targets["outside"]
    for code, name in ((1, "csf"), (2, "gm"), (3, "wm")):
        mask = kinds == code
        level = max(float(np.median(volume[mask])), 1e-6)
        out[mask] = volume[mask] / level * targets[name] * wm
    return out


def evaluate(
    volumes: Path,
    labels: Path,
    names_csv: Path,
    limit: int | None,
    model,
    generator: str = "lut",
) -> dict:
    import nibabel as nib

    from assistant.scan import load_scan

    classes = label_classes(names_csv)
    tallies = {f"{w}_{kind}": Tally() for w in WEIGHTINGS for kind in ("volume", "2d")}
    ratios: dict[str, list] = {name: [] for name in tallies}
    paths = sorted(volumes.glob("*.nii.gz"))[:limit]
    for path in paths:
        stem = path.name[: -len(".nii.gz")]
        lab_path = labels / f"{stem}_DLMUSE.nii.gz"
        if not lab_path.exists():
            log.warning("no label map for %s: skipped", stem)
            continue
        img = nib.load(path)
        raw = np.asarray(img.dataobj, dtype=np.float32) * float(img.dataobj.slope or 1)
        lab = np.asarray(nib.load(lab_path).dataobj)
        tissue = tissue_levels(raw, lab, classes)
        original = load_scan(path)
        k = register_volume(original, model_dir=model).slice_index
        for weighting in WEIGHTINGS:
            if generator == "labels":
                data = recontrast_by_labels(raw, lab, classes, weighting)
            else:
                data = recontrast(raw, tissue, weighting)
            scan = _as_scan(data, img)
            for kind, view in (("volume", scan), ("2d", bare(scan.slice2d(k)))):
                t0 = time.perf_counter()
                verdict = check_applicability(view, model_dir=model)
                tallies[f"{weighting}_{kind}"].add(verdict, time.perf_counter() - t0)
                contrast = verdict.checks.get("contrast") or {}
                ratios[f"{weighting}_{kind}"].append(contrast.get("wm_gm_ratio"))
        log.info("%s done", stem)
    classes = {}
    for name, t in tallies.items():
        classes[name] = t.summary(name)
        read = [r for r in ratios[name] if r is not None]
        classes[name]["wm_gm_ratio"] = {
            "n_read": len(read),
            "min": min(read) if read else None,
            "median": float(np.median(read)) if read else None,
            "max": max(read) if read else None,
        }
        if not name.startswith("t1_"):  # the T1 controls: what the other checks say
            got = classes[name]["reject_rate"]
            classes[name].update(
                expected="reject", target=0.95, met=bool(t.accepted and got >= 0.95)
            )
    return {
        "classes": classes,
        "weightings": WEIGHTINGS,
        "generator": generator,
        "contrast_check": _contrast_check_on(),
        "volumes": portable_path(volumes),
        "n_volumes": len(paths),
    }


def t1_ratios(midaxial: Path | None, volumes: Path | None, limit: int | None, model) -> dict:
    """The contrast measure on real T1 scans as the check reads it: 2D slices aligned to the
    training grid, volumes on their registered plane (to choose `MIN_WM_GM_RATIO` on train)."""
    from assistant.domain.align2d import align_slice
    from assistant.domain.contrast import wm_gm_ratio
    from assistant.scan import load_scan

    out = {}
    if midaxial is not None:
        vals = []
        for path in sorted(midaxial.glob("*.png"))[:limit]:
            vals.append(wm_gm_ratio(align_slice(load_scan(path), model).scan.pixels))
        out["midaxial_2d"] = _spread(vals)
    if volumes is not None:
        vals = []
        for path in sorted(volumes.glob("*.nii.gz"))[:limit]:
            vals.append(wm_gm_ratio(register_volume(load_scan(path), model_dir=model).scan.pixels))
        out["volume_planes"] = _spread(vals)
    return out


def _spread(values: list) -> dict:
    read = np.array([v for v in values if v is not None], dtype=float)
    if not read.size:
        return {"n": len(values), "n_read": 0}
    q = np.percentile(read, [0, 1, 5, 50, 100])
    return {
        "n": len(values),
        "n_read": int(read.size),
        "min": round(float(q[0]), 4),
        "q01": round(float(q[1]), 4),
        "q05": round(float(q[2]), 4),
        "median": round(float(q[3]), 4),
        "max": round(float(q[4]), 4),
    }


def _contrast_check_on() -> bool:
    from assistant.domain import check

    return bool(np.isfinite(check.MIN_WM_GM_RATIO))


def _as_scan(data: np.ndarray, img) -> Scan:
    """Load `data` (on `img`'s grid) through the project's NIfTI loader, as an upload would."""
    import tempfile

    import nibabel as nib

    from assistant.scan import load_scan

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "contrast.nii.gz"
        nib.save(nib.Nifti1Image(data.astype(np.float32), img.affine), out)
        return load_scan(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.contrast", description=__doc__)
    p.add_argument("--volumes", type=Path, required=True, help="healthy T1 NIfTI volumes")
    p.add_argument("--labels", type=Path, help="their *_DLMUSE.nii.gz maps")
    p.add_argument(
        "--t1-only",
        action="store_true",
        help="only read the contrast measure on the T1 scans as they are (--volumes, and "
        "--midaxial 2D slices): the figures that choose the threshold",
    )
    p.add_argument("--midaxial", type=Path, default=None, help="2D T1 slices (PNG) for --t1-only")
    p.add_argument("--names", type=Path, default=None, help="muse_rois.csv (default: beside")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--generator", choices=("lut", "labels"), default="lut")
    p.add_argument(
        "--without-contrast-check",
        action="store_true",
        help="lift the white/grey matter contrast check for this run",
    )
    p.add_argument("--model", "--detector", dest="model", default=None)
    p.add_argument("--json", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.t1_only:
        out = t1_ratios(args.midaxial, args.volumes, args.limit, args.model)
        out["volumes"] = portable_path(args.volumes)
        out["midaxial"] = portable_path(args.midaxial) if args.midaxial else None
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(json.dumps(out, indent=2))
        return 0
    if args.labels is None:
        p.error("--labels is needed (or --t1-only)")
    if args.without_contrast_check:
        from assistant.domain import check

        check.MIN_WM_GM_RATIO = -float("inf")
    names = args.names or args.labels.parent / "muse_rois.csv"
    out = evaluate(args.volumes, args.labels, names, args.limit, args.model, args.generator)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    for name, c in out["classes"].items():
        print(f"{name:14s} n={c['n']:3d} accepted={c['accept_rate']:.2f} {c['reasons']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
