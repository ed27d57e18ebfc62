"""Thresholds for whole volumes, on healthy whole-head volumes.

A level-unaware detector (the shipped one) analyses a few levels of each volume (those within
its domain's tolerance of the trained level); `calibrate_slab` gives it one score threshold for
them, on each healthy volume's highest score over those levels (so that about 5% of healthy
volumes, not slices, get a finding), stored as "method/preset+volume" (`Detector.in_space
("volume")`, which `analyze_volume` applies). A level-aware detector gets per-band thresholds:

Each volume is registered to MNI space and cut at its brain levels exactly as `analyze_volume`
analyses it (`level_images`), every `level_step_mm` mm (the slices of one head 2 mm apart are
nearly the same; a coarser step costs less and loses little); the detector then gets, per band
of MNI levels (`assistant.detector.levels.LEVEL_BANDS`), the same two 95% quantiles as the
mid-axial calibration (`assistant.detector.calibrate.calibrate_levels`), the score threshold
on each volume's highest score in the band (so that about 5% of healthy volumes get a finding,
not 5% of slices; `--per-slice` for the slice rule). Healthy validation volumes only, never test
or holdout ones.

    python -m assistant.volume.calibrate --model DIR --volumes DIR [--level-step 6] [--fpr 0.05]
        [--per-slice] [--scores-json OUT] [--z-smoothing MM]

With `--z-smoothing MM` a level-aware checkpoint instead gets thresholds for whole volumes
whose maps are smoothed across levels (`assistant.volume.smoothing`; `Calibration.stack`), on
the same healthy volumes cut at every `--level-step` mm (2: every level, as volumes are
analysed); its per-band single-level thresholds stay as they are.

(also `assistant calibrate --model DIR --volumes DIR`). The thresholds are written into the
checkpoint's detector.json under its default method/preset (or `--method` / `--preset`).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from assistant.detector.calibrate import band_thresholds, calibrate_levels
from assistant.detector.detector import Detector
from assistant.domain.levelset import BRAIN_LEVELS_MM, volume_files
from assistant.domain.register import register_matrix
from assistant.scan import load_scan
from assistant.volume.analyze import domain_dir, level_images

log = logging.getLogger(__name__)


def volume_levels(
    folder: str | Path, detector: Detector, level_step_mm: float = 2.0, progress: bool = True
) -> tuple[list[np.ndarray], list[float], list[str]]:
    """(raw slices, their MNI z, the volume each came from) of every NIfTI volume in `folder`,
    registered (to the head template `analyze_volume` would use for this detector) and cut at
    every `level_step_mm` mm of `BRAIN_LEVELS_MM` that holds brain."""
    step = max(1, int(round(level_step_mm / 2.0)))
    wanted = list(BRAIN_LEVELS_MM[::step])
    pre = detector.model.config.preprocess
    files = volume_files(folder)
    images, levels, names = [], [], []
    if progress:
        from tqdm.auto import tqdm

        files = tqdm(files, desc="register volumes", unit="volume")
    for path in files:
        scan = load_scan(path)
        mni_to_voxel, *_ = register_matrix(scan, model_dir=domain_dir(detector))
        ims, kept = level_images(scan.pixels, mni_to_voxel, wanted, pre)
        images.extend(ims)
        levels.extend(kept)
        names.extend([path.name] * len(kept))
    return images, levels, names


def calibrate_volumes(
    model: str | Path,
    volumes: str | Path,
    level_step_mm: float = 2.0,
    fpr: float = 0.05,
    method: str | None = None,
    preset: str | None = None,
    batch: int = 8,
    progress: bool = True,
    per_volume: bool = True,
    scores_json: str | Path | None = None,
    z_smoothing_mm: float | None = None,
) -> list[dict]:
    """Calibrate a level-aware checkpoint's per-band thresholds on a folder of healthy volumes
    and save its detector.json (`per_volume`: score thresholds on each volume's highest score
    per band, see `calibrate_levels`). `scores_json`: also write every slice's score, level and
    volume there. `z_smoothing_mm`: instead fit the thresholds of volumes smoothed across levels
    (`calibrate_stacks`). Returns the bands."""
    if z_smoothing_mm:
        return calibrate_stacks(
            model, volumes, z_smoothing_mm, level_step_mm, fpr, method, preset, progress
        )
    det = Detector.from_pretrained(model, method=method, preset=preset)
    if not det.level_aware:
        return [calibrate_slab(model, volumes, fpr, method, preset, progress=progress)]
    images, levels, names = volume_levels(volumes, det, level_step_mm, progress)
    if not images:
        raise ValueError(f"no brain level could be cut from the volumes in {volumes}")
    data = f"{volumes} ({len(set(names))} volumes, every {level_step_mm:g} mm)"
    scores: list[dict] = []
    bands = calibrate_levels(
        det,
        images,
        levels,
        fpr=fpr,
        data=data,
        batch=batch,
        progress=progress,
        groups=names if per_volume else None,
        scores_out=scores,
    )
    (Path(model) / "detector.json").write_text(det.model.config.to_json())
    if scores_json is not None:
        Path(scores_json).write_text(json.dumps({"data": data, "slices": scores}, indent=0))
    return bands


def stack_thresholds(
    detector: Detector,
    volumes: str | Path,
    z_smoothing_mm: float,
    level_step_mm: float = 2.0,
    fpr: float = 0.05,
    batch: int = 2,
    progress: bool = True,
) -> dict:
    """The thresholds of whole volumes smoothed across levels (`Calibration.stack`) for a
    level-aware `detector`, on the healthy volumes in `volumes`: each is registered and cut at
    every `level_step_mm` mm (`volume_levels`), its levels' maps smoothed along z with a
    Gaussian of `z_smoothing_mm` (`smooth_across_levels`), and per band the pixel threshold is
    the (1 - fpr) quantile of the smoothed healthy foreground pixels, the score threshold the
    (1 - fpr / bands) quantile of each volume's highest smoothed slice score in the band (as
    `calibrate_levels` with volumes)."""
    from assistant.volume.smoothing import smooth_across_levels

    if not detector.level_aware:
        raise ValueError("smoothing across levels needs a level-aware detector")
    if z_smoothing_mm <= 0:
        raise ValueError(f"the smoothing must be > 0 mm, got {z_smoothing_mm}")
    images, levels, names = volume_levels(volumes, detector, level_step_mm, progress)
    if not images:
        raise ValueError(f"no brain level could be cut from the volumes in {volumes}")
    order = list(dict.fromkeys(names))
    pixel_vals, scores = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(images), desc="smoothed stacks", unit="level")
    for name in order:
        idx = [k for k, n in enumerate(names) if n == name]
        maps, fgs = [], []
        for i in range(0, len(idx), max(1, int(batch))):
            part = idx[i : i + max(1, int(batch))]
            for r in detector.detect_batch(
                [images[k] for k in part], levels=[levels[k] for k in part]
            ):
                maps.append(r.anomaly_map)
                fgs.append(r.foreground)
            if bar is not None:
                bar.update(len(part))
        smooth = smooth_across_levels(
            maps, fgs, [levels[k] for k in idx], level_step_mm, z_smoothing_mm
        )
        for s, fg in zip(smooth, fgs, strict=True):
            pixel_vals.append(s[fg])
            scores.append(float(s[fg].max()) if fg.any() else 0.0)
    if bar is not None:
        bar.close()
    ordered_levels = [levels[k] for name in order for k, n in enumerate(names) if n == name]
    groups = [name for name in order for n in names if n == name]
    bands = band_thresholds(pixel_vals, scores, ordered_levels, fpr=fpr, groups=groups)
    return {
        "z_smoothing_mm": float(z_smoothing_mm),
        "level_step_mm": float(level_step_mm),
        "bands": bands,
        "fpr": fpr,
        "data": f"{volumes} ({len(order)} volumes, every {level_step_mm:g} mm, maps smoothed "
        f"along z with a Gaussian of {z_smoothing_mm:g} mm)",
        "rule": "per band: pixel, the (1 - fpr) quantile of smoothed healthy foreground pixels; "
        "score, the (1 - fpr / bands) quantile of each volume's highest smoothed slice score",
    }


def calibrate_stacks(
    model: str | Path,
    volumes: str | Path,
    z_smoothing_mm: float,
    level_step_mm: float = 2.0,
    fpr: float = 0.05,
    method: str | None = None,
    preset: str | None = None,
    progress: bool = True,
) -> list[dict]:
    """Fit a level-aware checkpoint's thresholds for volumes smoothed across levels
    (`stack_thresholds`) and save them in its detector.json (`Calibration.stack` of its
    method/preset, whose single-level thresholds must be calibrated first). Returns the bands."""
    det = Detector.from_pretrained(model, method=method, preset=preset)
    cal = det.calibration
    if cal is None or not cal.bands:
        raise ValueError(
            f"{model} has no per-band calibration for {det.key}: run calibrate --volumes first"
        )
    cal.stack = stack_thresholds(
        det, volumes, z_smoothing_mm, level_step_mm, fpr, progress=progress
    )
    (Path(model) / "detector.json").write_text(det.model.config.to_json())
    return cal.stack["bands"]


def calibrate_slab(
    model: str | Path | None,
    volumes: str | Path,
    fpr: float = 0.05,
    method: str | None = None,
    preset: str | None = None,
    progress: bool = True,
) -> dict:
    """A level-unaware checkpoint's threshold for whole volumes: every healthy volume in
    `volumes` is registered and analysed at the levels `analyze_volume` gives this detector,
    with its slice calibration's pixel threshold; the score threshold is the (1 - fpr) quantile
    of the volumes' highest scores. Stored as "method/preset+volume" in the checkpoint's
    detector.json (None: the shipped one), with the slice calibration's confidence map (a
    region's peak -> probability); returns the thresholds as a band-like dict."""
    from dataclasses import replace

    from assistant.detector.detector import VOLUME
    from assistant.detector.model import DEFAULT_CHECKPOINT
    from assistant.domain.model import load_domain_model
    from assistant.volume.analyze import candidate_levels

    folder = Path(model) if model else DEFAULT_CHECKPOINT
    det = Detector.from_pretrained(folder, method=method, preset=preset)
    base = det.calibration
    if base is None or base.pixel_threshold is None:
        raise ValueError(f"{folder} has no slice calibration for {det.key}: run calibrate first")
    domain = load_domain_model(domain_dir(det))
    wanted = candidate_levels(False, domain.trained_level, domain.level_tolerance, 2.0)
    pre = det.model.config.preprocess
    files = volume_files(volumes)
    if progress:
        from tqdm.auto import tqdm

        files = tqdm(files, desc="volumes", unit="volume")
    highest = []
    for path in files:
        scan = load_scan(path)
        mni_to_voxel, *_ = register_matrix(scan, model_dir=domain_dir(det))
        images, kept = level_images(scan.pixels, mni_to_voxel, wanted, pre)
        if images:
            results = det.detect_batch(images, levels=kept)
            highest.append(max(float(r.score) for r in results))
    if not highest:
        raise ValueError(f"no volume in {volumes} could be cut at {wanted}")
    cal = replace(
        base,
        score_threshold=float(np.quantile(np.asarray(highest), 1 - fpr)),
        fpr=fpr,
        n_images=len(highest),
        data=f"{volumes} ({len(highest)} volumes, levels {min(wanted):+.0f}..{max(wanted):+.0f} "
        f"mm; pixel threshold from {base.data})",
        healthy_scores=sorted(round(x, 6) for x in highest),
        bands=None,
    )
    key = f"{det.key}+{VOLUME}"
    det.model.config.calibration[key] = cal
    (folder / "detector.json").write_text(det.model.config.to_json())
    return {
        "key": key,
        "lo_mm": min(wanted),
        "hi_mm": max(wanted),
        "pixel_threshold": cal.pixel_threshold,
        "score_threshold": cal.score_threshold,
        "n_images": len(highest),
        "n_volumes": len(highest),
        "slice_score_threshold": base.score_threshold,
    }


def describe_band(b: dict) -> str:
    """One line for a band of `calibrate_levels` (or `calibrate_slab`'s thresholds)."""
    if "key" in b:
        return (
            f"{b['key']}: MNI z {b['lo_mm']:+.0f}..{b['hi_mm']:+.0f} mm, pixel threshold "
            f"{b['pixel_threshold']:.5f}, score threshold {b['score_threshold']:.5f} on "
            f"{b['n_volumes']} volumes' highest scores (slices: {b['slice_score_threshold']:.5f})"
        )
    return (
        f"MNI z {b['lo_mm']:+.0f}..{b['hi_mm']:+.0f} mm: pixel threshold "
        f"{b['pixel_threshold']:.5f}, score threshold {b['score_threshold']:.5f} "
        f"({b['n_images']} slices, {b.get('n_volumes', '-')} volumes)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.volume.calibrate", description=__doc__)
    p.add_argument(
        "--model", "--detector", dest="model", required=True, help="checkpoint (updated in place)"
    )
    p.add_argument("--volumes", required=True, help="folder of healthy NIfTI head volumes")
    p.add_argument("--level-step", type=float, default=2.0, help="mm between levels (even)")
    p.add_argument("--fpr", type=float, default=0.05)
    p.add_argument("--method", choices=["thor", "autoddpm", "anoddpm"])
    p.add_argument("--preset")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument(
        "--per-slice",
        action="store_true",
        help="score thresholds on slices (fpr of healthy slices), not volumes",
    )
    p.add_argument("--scores-json", help="also write every slice's score here")
    p.add_argument(
        "--z-smoothing",
        type=float,
        metavar="MM",
        help="fit thresholds for volumes whose maps are smoothed across levels by this Gaussian",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    bands = calibrate_volumes(
        args.model,
        args.volumes,
        args.level_step,
        args.fpr,
        args.method,
        args.preset,
        args.batch,
        per_volume=not args.per_slice,
        scores_json=args.scores_json,
        z_smoothing_mm=args.z_smoothing,
    )
    for b in bands:
        print(describe_band(b))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
