"""Accept / reject rates of the applicability check per class of input (issue 13).

    python -m eval.applicability --json eval/results/applicability.json \\
        [--data ../shared/data] [--model DIR] [--cache runs/domain] [--volumes N]

Classes (the ones that should be accepted first):
- ``healthy_val``: the healthy val mid-axial IXI slices (MNI, trained level);
- ``lesion_val``: the same with one synthetic lesion each (small, medium, large; every kind);
- ``stripped_healthy_val`` / ``stripped_lesion_val``: the same two, skull-stripped (masked with
  the dilated brain mask): to be refused, the detector was trained with the skull on;
- ``registered_at_level``: val 2 mm volumes (native, skull on) checked as volumes: registered to
  MNI space, the slice at the trained level; ``native_at_level``: the native axial slice nearest
  the trained level, as a volume slice (level from the registration) and ``native_at_level_2d``
  as a bare 2D image (level estimated from the image);
- ``chest_xray``, ``pydicom_<modality>`` (the files pydicom bundles offline: CT, US, NM, OT test
  images; MR reported apart; CR/DX files are download-only), ``photographs`` (scikit-image);
- ``far_axial_2d``: axial slices of the val volumes more than 10 mm from the trained level
  (level where the slice crosses the brain's centre line, from the fitting registration of the
  skull-stripped volume), as bare 2D images; ``far_axial_volume``: the same
  slices checked as slices of the volume (level from its registration);
- ``sagittal`` / ``coronal``: slices of the val volumes, as volume slices (the plane is known)
  and as bare 2D images (``*_2d``: image only).
- ``label_maps`` / ``brain_masks``: what a researcher uploads by mistake: the val DLMUSE label
  maps and the binary brain masks made from them, as volumes and as their middle axial slice
  (``*_2d``); to be refused (as label maps or masks, `assistant.domain.flat`);
  ``info_zoomed_screenshots_val`` (no target): the val mid-axial slices shrunk to a quarter and
  enlarged x32 with bilinear interpolation in 8 bits, which must not be taken for label maps.
- ``coloured_marks_val``: the val mid-axial slices saved as RGB PNG with a thin yellow circle
  drawn on them (a screenshot with an annotation), to be refused as coloured
  (`assistant.domain.check.MAX_COLOURED_FRACTION`); ``info_rgb_jpeg_val`` (no target): the
  same slices saved as RGB JPEG (quality 50) without marks, which must be read as before.

Timing: median seconds per 2D check and per volume registration on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from assistant.domain import check_applicability, load_domain_model, register_volume
from assistant.domain.fitdata import registered_matrices, stem, volume_paths
from assistant.domain.fitsets import lesion_images
from assistant.domain.register import slice_levels
from assistant.scan import LoadLimits, Scan, ScanError, load_bytes, load_scan
from eval import ROOT, photo_paths, portable_path, pydicom_test_scans
from eval.skull_stripped import mid_pairs

log = logging.getLogger(__name__)

FAR_MM = 10.0
TARGETS = {  # class prefix -> (expected verdict, minimum rate)
    "healthy_val": ("accept", 0.98),
    "lesion_val": ("accept", 0.98),
    "stripped_": ("reject", 0.95),
    "chest_xray": ("reject", 0.98),
    "pydicom_CT": ("reject", 0.98),
    "pydicom_CR": ("reject", 0.98),
    "pydicom_DX": ("reject", 0.98),
    "pydicom_US": ("reject", 0.98),
    "pydicom_NM": ("reject", 0.98),
    "photographs": ("reject", 0.98),
    "far_axial": ("reject", 0.95),
    "sagittal": ("reject", 0.95),
    "coronal": ("reject", 0.95),
    "label_maps": ("reject", 0.98),
    "brain_masks": ("reject", 0.98),
    "coloured_marks": ("reject", 0.98),
}
SCANNED_MODALITIES = (
    "CT",
    "CR",
    "DX",
    "US",
    "NM",
    "MR",
    "OT",
)  # bundled offline: CT, US, NM, MR, OT


class Tally:
    """Verdicts of one class of input."""

    def __init__(self) -> None:
        self.accepted: list[bool] = []
        self.seconds: list[float] = []
        self.reasons: Counter = Counter()
        self.level_offsets: list[float] = []  # mm from the trained level, of level refusals

    def add(self, verdict, seconds: float) -> None:
        self.accepted.append(bool(verdict.in_domain))
        self.seconds.append(seconds)
        for r in verdict.reasons:
            self.reasons[_reason_kind(r)] += 1
        level = verdict.checks.get("level") or {}
        if verdict.level_ok is False and level.get("offset_mm") is not None:
            self.level_offsets.append(round(float(level["offset_mm"]), 1))

    def summary(self, name: str) -> dict:
        n = len(self.accepted)
        acc = float(np.mean(self.accepted)) if n else float("nan")
        out = {
            "n": n,
            "accept_rate": round(acc, 4),
            "reject_rate": round(1.0 - acc, 4),
            "median_seconds": round(float(np.median(self.seconds)), 4) if n else None,
            "reasons": dict(self.reasons.most_common()),
        }
        if self.level_offsets and len(self.level_offsets) <= 50:  # a class mostly at the level
            out["refused_level_offsets_mm"] = sorted(self.level_offsets, key=abs)
        for prefix, (want, rate) in TARGETS.items():
            if name.startswith(prefix):
                got = acc if want == "accept" else 1.0 - acc
                out.update(expected=want, target=rate, met=bool(n and got >= rate))
        return out


def _reason_kind(reason: str) -> str:
    for key, kind in (
        ("label map, segmentation or mask", "label_map"),
        ("image is in colour", "colour"),
        ("skull-stripped", "skull_stripped"),
        ("contrast agent was given", "post_contrast"),
        ("header describes a", "sequence"),
        ("tissue contrast is not", "contrast"),
        ("does not look like", "typicality"),
        ("modality", "modality"),
        ("slice (", "plane"),
        ("body part", "body_part"),
        ("lies at about", "level"),
        ("No head outline", "no_head"),
        ("registration", "registration"),
        ("registered", "registration"),
    ):
        if key in reason:
            return kind
    return "other"


def _timed_check(tally: Tally, scan, index=None, **kw) -> None:
    t0 = time.perf_counter()
    verdict = check_applicability(scan, index, **kw)
    tally.add(verdict, time.perf_counter() - t0)


def bare(view: Scan) -> Scan:
    """The slice as a plain 2D image would arrive: pixels and spacing only (no plane note)."""
    return Scan(pixels=view.pixels, spacing=view.spacing, format="png")


def files_class(paths: Iterable[Path], model) -> Tally:
    tally = Tally()
    for path in paths:
        try:
            scan = load_scan(path)
        except ScanError:
            continue
        _timed_check(tally, scan if not scan.is_volume else scan.slice2d(), model_dir=model)
    return tally


def pydicom_scans() -> Iterator[tuple[str, Scan]]:
    """(modality, scan) of pydicom's test files that load, for the scanned modalities."""
    for _, scan in pydicom_test_scans():
        if scan.modality in SCANNED_MODALITIES:
            yield scan.modality, scan


def slice_classes(data: Path, model, tallies: dict[str, Tally]) -> None:
    """Healthy and lesion val mid-axial slices, chest X-rays, pydicom files, photographs."""
    mid = data / "ixi-t1-midaxial" / "val"
    tallies["healthy_val"] = files_class(sorted(mid.glob("*.png")), model)
    lesion = tallies["lesion_val"] = Tally()
    stripped = tallies["stripped_lesion_val"] = Tally()
    for img, img_stripped, _ in lesion_images(data / "ixi-t1-midaxial", "val"):
        _timed_check(lesion, Scan(pixels=img, format="png"), model_dir=model)
        _timed_check(stripped, Scan(pixels=img_stripped, format="png"), model_dir=model)
    healthy_stripped = tallies["stripped_healthy_val"] = Tally()
    for img in mid_pairs(data, "val")[1]:
        _timed_check(healthy_stripped, Scan(pixels=img, format="png"), model_dir=model)
    tallies["chest_xray"] = files_class(sorted((data / "ood" / "cxr-kermany").glob("*.png")), model)
    for modality, scan in pydicom_scans():
        view = scan.slice2d() if scan.is_volume else scan
        _timed_check(tallies.setdefault(f"pydicom_{modality}", Tally()), view, model_dir=model)
    tallies["photographs"] = files_class(photo_paths(), model)


def info_classes(data: Path, model, tallies: dict[str, Tally]) -> None:
    """Reported without a target: the shipped examples (the skull-on average IXI head with
    synthetic lesions) and the three MSLUB patients (real MS lesions, skull-stripped, FSL MNI
    grid) at the trained level."""
    import nibabel as nib

    import assistant.examples

    folder = Path(assistant.examples.__file__).parent
    examples = sorted(p for p in folder.iterdir() if p.name.startswith("mni_"))
    tallies["info_shipped_examples"] = files_class(examples, model)
    mslub = tallies["info_mslub_at_level"] = Tally()
    z0 = load_domain_model(model).trained_level
    for path in sorted((data / "mslub-mni").glob("patient*/T1.nii.gz")):
        aff = nib.load(path).affine
        scan = load_scan(path)
        k = int(round((z0 - aff[2, 3]) / aff[2, 2])) if aff[2, 2] > 0 else None
        if k is not None and 0 <= k < scan.pixels.shape[0]:
            _timed_check(mslub, bare(scan.slice2d(k)), model_dir=model)


def volume_classes(data: Path, model, cache: Path, limit: int | None, tallies, timing) -> None:
    """Registered / native at-level slices, far axial levels, sagittal and coronal slices."""
    root = data / "ixi-hh-t1-2mm"
    truth = registered_matrices(root, "val", cache)
    z0 = load_domain_model(model).trained_level
    for name in (
        "registered_at_level",
        "native_at_level",
        "native_at_level_2d",
        "far_axial_2d",
        "far_axial_volume",
        "sagittal",
        "sagittal_2d",
        "coronal",
        "coronal_2d",
    ):
        tallies.setdefault(name, Tally())
    for path in volume_paths(root, "val")[:limit]:
        scan = load_scan(path)
        reg = register_volume(scan, model_dir=model)
        timing["registration_seconds"].append(reg.seconds)
        kw = {"model_dir": model, "registered": reg}
        _timed_check(tallies["registered_at_level"], scan, None, **kw)
        _timed_check(tallies["native_at_level"], scan, reg.slice_index, **kw)
        _timed_check(tallies["native_at_level_2d"], bare(scan.slice2d(reg.slice_index)), None)
        axial = _brain_slices(scan.pixels, axis=0)
        for k, level in zip(axial, slice_levels(truth[stem(path)], axial, z0), strict=True):
            if abs(level - z0) > FAR_MM:
                _timed_check(tallies["far_axial_2d"], bare(scan.slice2d(k)), model_dir=model)
                _timed_check(tallies["far_axial_volume"], scan, k, **kw)
        for plane, axis in (("coronal", 1), ("sagittal", 2)):
            for k in _brain_slices(scan.pixels, axis=axis)[::3]:
                view = scan.slice2d(k, plane)
                _timed_check(tallies[plane], view, model_dir=model)
                _timed_check(tallies[f"{plane}_2d"], bare(view), model_dir=model)
        log.info("%s done", stem(path))


def label_map_classes(data: Path, model, tallies: dict[str, Tally]) -> None:
    """What a researcher uploads by mistake: the val DLMUSE label maps as volumes and as their
    middle axial slice (`_2d`), and the binary brain masks made from them."""
    folder = data / "ixi-hh-t1-2mm" / "labels" / "val"
    for name in ("label_maps", "label_maps_2d", "brain_masks", "brain_masks_2d"):
        tallies.setdefault(name, Tally())
    for path in sorted(folder.glob("*.nii*")):
        labels = load_scan(path)
        mask = Scan(
            pixels=(labels.pixels > 0).astype(np.float32),
            spacing=labels.spacing,
            format="nifti",
            patient_left=labels.patient_left,
        )
        for name, scan in (("label_maps", labels), ("brain_masks", mask)):
            _timed_check(tallies[name], scan, model_dir=model)
            middle = scan.slice2d(scan.pixels.shape[0] // 2)
            _timed_check(tallies[f"{name}_2d"], bare(middle), model_dir=model)
    # not label maps: val slices shrunk to a quarter and enlarged x32, smoothly, in 8 bits (a
    # screenshot of a zoomed viewer), whose slow ramps must not read as flat patches
    from PIL import Image

    zoomed = tallies.setdefault("info_zoomed_screenshots_val", Tally())
    for path in sorted((data / "ixi-t1-midaxial" / "val").glob("*.png")):
        im = Image.open(path).convert("L")
        small = im.resize((im.width // 4, im.height // 4), Image.BILINEAR)
        big = small.resize((small.width * 32, small.height * 32), Image.BILINEAR)
        _timed_check(
            zoomed, Scan(pixels=np.asarray(big, np.float32), format="png"), model_dir=model
        )


def colour_classes(data: Path, model, tallies: dict[str, Tally]) -> None:
    """Val slices as a user's colour files: with a coloured mark, and as plain RGB JPEG."""
    from eval.colour import encoded, grey_rgb, marked, yellow_circle

    marks = tallies.setdefault("coloured_marks_val", Tally())
    plain = tallies.setdefault("info_rgb_jpeg_val", Tally())
    limits = LoadLimits()
    for path in sorted((data / "ixi-t1-midaxial" / "val").glob("*.png")):
        scan = load_bytes(encoded(marked(path, yellow_circle), "png"), path.name, limits)
        _timed_check(marks, scan, model_dir=model)
        scan = load_bytes(encoded(grey_rgb(path), "jpeg", 50), f"{path.stem}.jpg", limits)
        _timed_check(plain, scan, model_dir=model)


def _brain_slices(pixels: np.ndarray, axis: int) -> list[int]:
    """Slices whose head foreground covers at least 5% of the largest one (not empty air)."""
    hi = np.percentile(pixels, 99)
    fg = pixels > 0.1 * hi
    area = fg.sum(axis=tuple(a for a in range(3) if a != axis))
    return [int(k) for k in np.flatnonzero(area >= 0.05 * area.max())]


def evaluate(data: Path, model, cache: Path, volumes: int | None) -> dict:
    tallies: dict[str, Tally] = {}
    timing: dict[str, list[float]] = {"registration_seconds": []}
    slice_classes(data, model, tallies)
    info_classes(data, model, tallies)
    label_map_classes(data, model, tallies)
    colour_classes(data, model, tallies)
    volume_classes(data, model, cache, volumes, tallies, timing)
    classes = {name: t.summary(name) for name, t in tallies.items()}
    two_d = [s for n, t in tallies.items() if n not in _VOLUME_CLASSES for s in t.seconds]
    cfg = load_domain_model(model).config
    return {
        "classes": classes,
        "all_targets_met": all(c.get("met", True) for c in classes.values()),
        "timing": {
            "median_seconds_per_2d_check": round(float(np.median(two_d)), 4),
            "median_seconds_per_registration": round(
                float(np.median(timing["registration_seconds"])), 3
            ),
            "max_seconds_per_registration": round(max(timing["registration_seconds"]), 3),
            "cpu_cores": _cores(),
        },
        "model": {
            "trained_level_mm": cfg["trained_level_mm"],
            "level_tolerance_mm": cfg["level_tolerance_mm"],
            "typicality_threshold": cfg["typicality_threshold"],
            "registration": cfg.get("registration", {}).get("kind"),
        },
        "data": portable_path(data),
    }


_VOLUME_CLASSES = {
    "registered_at_level",
    "native_at_level",
    "far_axial_volume",
    "label_maps",
    "brain_masks",
}


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.applicability", description=__doc__)
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint folder (default: shipped)",
    )
    p.add_argument("--cache", type=Path, default=ROOT / "runs" / "domain")
    p.add_argument("--volumes", type=int, default=None, help="at most N val volumes")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)  # decode errors of refused files
    result = evaluate(args.data, args.model, args.cache, args.volumes)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name, c in result["classes"].items():
        mark = "" if "met" not in c else (" ok" if c["met"] else " MISSED")
        print(f"{name:22s} n={c['n']:5d} accept {c['accept_rate']:.3f}{mark}")
    print(json.dumps(result["timing"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
