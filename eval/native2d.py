"""Real native-space 2D slices: how often are healthy ones flagged, and what a calibration that
includes them costs on the registered slices.

    python -m eval.native2d --mni-val ../shared/data/ixi-t1-midaxial/val \
        --mni-lesions runs/anomaly_qa_val --calib-volumes ../shared/data/ixi-hh-t1-2mm/train \
        --val-volumes ../shared/data/ixi-hh-t1-2mm/val --json eval/results/native2d_val.json

A clinician's PNG of a brain MRI is a native slice: not registered to MNI space, tilted
against the training plane, 2 mm or coarser, another scanner's contrast. Each volume is
registered only to find its native axial slice nearest the trained level (as `eval.align2d`);
that slice is then analysed as a plain 2D image, as a PNG upload would be.

The default detector runs once on every image (its anomaly maps do not depend on the
thresholds); each calibration is then applied to the stored maps with the detector's own
post-processing (`postprocess.flag_mask`), so that every calibration is compared on the same
maps:

- ``mni``: the shipped thresholds (the 95% quantiles on the healthy mid-axial val slices);
- ``mixed``: the same quantiles over the mid-axial val slices and the native slices of the
  `--calib-volumes` (train volumes), pooled, as issue 13 (item 5) asks when real scans are
  flagged far more often than 5%.

Reported per calibration: healthy native val slices with a finding, native val slices with one
synthetic lesion each (seeded) - lesion hit rate, mid-axial val slices with synthetic lesions
(`--mni-lesions`: images/ and masks/, e.g. the anomaly-QA val set) - lesion hit rate and slices
with a finding, healthy mid-axial val slices with a finding (in-sample for both calibrations),
and the applicability check's typicality of each set. Nothing here reads holdout data unless
`--holdout-volumes` is given, for the final figure only.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.analysis import default_detector
from assistant.detector.postprocess import flag_mask
from assistant.domain import check_applicability
from assistant.domain.align2d import on_training_grid
from assistant.domain.levelset import volume_files
from assistant.scan import Scan, load_scan
from assistant.synth import brain_mask_for, list_images, synthesize_lesion
from eval import portable_path
from eval.align2d import native_slices
from eval.detection import lesions_hit

log = logging.getLogger(__name__)
FPR = 0.05


@dataclass
class Item:
    """One analysed image: its map on the scan grid, foreground, truth mask (None: healthy)."""

    name: str
    anomaly: np.ndarray
    foreground: np.ndarray
    min_area: int
    core: float
    truth: np.ndarray | None
    typicality: float | None
    on_grid: bool

    @property
    def score(self) -> float:
        return float(self.anomaly[self.foreground].max()) if self.foreground.any() else 0.0


def _analyse(detector, name: str, pixels: np.ndarray, truth=None) -> Item:
    scan = Scan(pixels=np.asarray(pixels, dtype=np.float32), format="png")
    typ = check_applicability(scan).typicality
    r = detector(scan)
    post = r.postprocess
    grid = on_training_grid(scan)
    return Item(name, r.anomaly_map, r.foreground, post.min_area, post.core, truth, typ, grid)


def _img01(pixels: np.ndarray) -> np.ndarray:
    return np.clip(pixels / max(float(np.percentile(pixels, 99.5)), 1e-6), 0, 1).astype(np.float32)


def native_items(detector, folder: str, lesions: bool, seed: int) -> tuple[list, list]:
    """(healthy items, items with one synthetic lesion each: [] unless `lesions`)."""
    rng = np.random.default_rng(seed)
    healthy, sick = [], []
    for path in tqdm(volume_files(folder), desc=Path(folder).name):
        for name, pixels in native_slices(path, 0):
            healthy.append(_analyse(detector, name, pixels))
            if lesions:
                img01 = _img01(pixels)
                les = synthesize_lesion(img01, brain_mask_for(img01), rng)
                sick.append(_analyse(detector, name, les.image, les.mask))
    return healthy, sick


def mni_items(detector, folder: str, masks: str | None = None) -> list[Item]:
    out = []
    for path in tqdm(list_images(folder), desc=Path(folder).name):
        truth = None
        if masks is not None:
            m = Path(masks) / f"{path.stem}.png"
            if not m.exists():
                continue
            truth = np.asarray(load_scan(m).pixels) > 0
        out.append(_analyse(detector, path.name, load_scan(path).slice2d().pixels, truth))
    return out


def thresholds(items: list[Item]) -> dict:
    """The calibration's two quantiles over `items` (as `assistant.detector.calibrate`)."""
    pooled = np.concatenate([i.anomaly[i.foreground] for i in items])
    scores = [i.score for i in items]
    return {
        "pixel_threshold": float(np.quantile(pooled, 1 - FPR)),
        "score_threshold": float(np.quantile(scores, 1 - FPR)),
        "n_images": len(items),
        "healthy_scores": sorted(round(float(x), 6) for x in scores),
    }


def apply(items: list[Item], cal: dict) -> dict:
    """With/without finding and lesion hits of `items` under the calibration `cal`."""
    flagged, lesions, hits = [], 0, 0
    for i in items:
        _, mask = flag_mask(
            i.anomaly,
            i.foreground,
            cal["pixel_threshold"],
            cal["score_threshold"],
            i.min_area,
            i.core,
        )
        flagged.append(bool(mask.any()))
        if i.truth is not None:
            n, h = lesions_hit(i.truth, mask)
            lesions, hits = lesions + n, hits + h
    out = {
        "n": len(items),
        "with_findings": round(float(np.mean(flagged)), 4),
        "on_training_grid": round(float(np.mean([i.on_grid for i in items])), 4),
    }
    if lesions:
        out["lesion_hit_rate"] = round(hits / lesions, 4)
    return out


def _typicality(items: list[Item]) -> dict:
    t = np.array([i.typicality for i in items if i.typicality is not None])
    return {"median": round(float(np.median(t)), 3), "p95": round(float(np.quantile(t, 0.95)), 3)}


def evaluate(args) -> dict:
    detector = default_detector()
    shipped = detector.calibration
    sets = {
        "mni_val_healthy": mni_items(detector, args.mni_val),
        "mni_val_lesions": mni_items(
            detector, f"{args.mni_lesions}/images", f"{args.mni_lesions}/masks"
        ),
    }
    sets["native_calib_healthy"], _ = native_items(detector, args.calib_volumes, False, args.seed)
    sets["native_val_healthy"], sets["native_val_lesions"] = native_items(
        detector, args.val_volumes, True, args.seed
    )
    if args.holdout_volumes:
        sets["native_holdout_healthy"], sets["native_holdout_lesions"] = native_items(
            detector, args.holdout_volumes, True, args.seed + 1
        )
    cals = {
        "mni": {
            "pixel_threshold": shipped.pixel_threshold,
            "score_threshold": shipped.score_threshold,
            "n_images": shipped.n_images,
        },
        "mixed": thresholds(sets["mni_val_healthy"] + sets["native_calib_healthy"]),
    }
    return {
        "calibrations": cals,
        "results": {c: {k: apply(v, cal) for k, v in sets.items()} for c, cal in cals.items()},
        "typicality": {k: _typicality(v) for k, v in sets.items()},
        "median_score": {
            k: round(float(np.median([i.score for i in v])), 4) for k, v in sets.items()
        },
    }


def write_checkpoint(cal: dict, data: str, model_dir: str | None = None) -> str:
    """Store the mixed thresholds as the default method/preset's calibration for unregistered
    2D slices ("method/preset+unregistered" in detector.json); no fitted confidence map (the
    findings get the fallback: the fraction of these healthy scores below their peak)."""
    from assistant.detector import Detector
    from assistant.detector.detector import UNREGISTERED
    from assistant.detector.model import DEFAULT_CHECKPOINT, Calibration

    folder = Path(model_dir) if model_dir else DEFAULT_CHECKPOINT
    det = Detector.from_pretrained(folder)
    key = f"{det.key}+{UNREGISTERED}"
    det.model.config.calibration[key] = Calibration.from_thresholds(
        cal, fpr=FPR, data=data, method=det.method.name, preset=det.preset
    )
    (folder / "detector.json").write_text(det.model.config.to_json())
    return key


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mni-val", required=True, help="healthy mid-axial val slices")
    p.add_argument("--mni-lesions", required=True, help="folder with images/ and masks/")
    p.add_argument(
        "--calib-volumes", required=True, help="healthy volumes for the mixed calibration"
    )
    p.add_argument("--val-volumes", required=True, help="healthy volumes to measure on")
    p.add_argument("--holdout-volumes", help="final figures only")
    p.add_argument("--json", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--write-checkpoint",
        action="store_true",
        help="store the mixed thresholds in the shipped checkpoint's detector.json",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    out = {
        "command": "python -m eval.native2d " + " ".join(argv or []),
        "inputs": {
            k: portable_path(v) if v else None
            for k, v in vars(args).items()
            if k not in ("json", "seed", "write_checkpoint")
        },
        "seed": args.seed,
        **evaluate(args),
    }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    if args.write_checkpoint:
        data = (
            f"mixed: {portable_path(args.mni_val)} ({out['results']['mni']['mni_val_healthy']['n']}"
            f" slices) + the native slices nearest the trained level of "
            f"{portable_path(args.calib_volumes)}"
        )
        out["written"] = write_checkpoint(out["calibrations"]["mixed"], data)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(json.dumps({k: out[k] for k in ("calibrations", "results", "typicality")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
