"""Fit and measure the findings' confidence: the estimated probability that a region is a true
lesion.

    python -m eval.confidence --json eval/results/confidence.json [--write-checkpoint] \\
        [--fit-healthy ../shared/data/ixi-t1-midaxial/val] \\
        [--fit-lesions runs/confidence/val_synth] \\
        [--test-healthy ../shared/data/ixi-t1-midaxial/holdout] \\
        [--test-lesions runs/confidence/holdout_synth] [--cache runs/confidence/maps]

The lesion folders are written by `assistant synthesize-lesions --healthy-fraction 0` (every
image has one synthetic lesion, its mask in masks/); the healthy folders are the same subjects'
unchanged slices, so each set is half healthy, half lesion images.

1. Collect: the shipped detector (default method/preset, `Detector.from_pretrained()`) runs once
   on every image; its anomaly map, foreground, the truth mask and the thresholds are cached per
   image under --cache (re-runs read them).
2. Regions: every candidate region at the calibrated pixel threshold, exactly as the detector
   makes its findings and weak regions (`postprocess.flag_mask`: above the pixel threshold, at
   least the minimum area, trimmed to its core), with its peak, area and mean anomaly. A region
   is a true lesion when it overlaps the lesion mask by more than `OVERLAP` of its own pixels or
   of the lesion's (`label_regions`); every region of a healthy image is false.
3. Fit (on the fit set only): `calibrate.fit_confidence`, the kind chosen by grouped
   cross-validation on the fit set (`calibrate.choose_confidence`: the simplest kind within one
   standard error of the best cross-validated Brier score); --write-checkpoint stores it in
   the shipped detector.json (the calibration of the default method/preset, key "confidence").
4. Reliability (on the test set only): expected calibration error over 10 equal-width bins
   (and 10 equal-count bins), the reliability table, Brier score, log loss and AUROC (lesion vs
   false alarm), for all regions
   and for the findings alone (peak at least the image threshold), with a bootstrap over
   subjects; beside them the same figures for the old definition of confidence (the fraction of
   healthy calibration scans whose highest anomaly is below the region's peak).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.detector.calibrate import (
    CONFIDENCE_KINDS,
    choose_confidence,
    fit_confidence,
    reliability,
)
from assistant.detector.postprocess import ConfidenceMap, flag_mask, region_features
from assistant.findings import confidence_level_of
from assistant.synth import image_stem, list_images
from eval import portable_path
from eval.metrics import roc_auc

logger = logging.getLogger(__name__)

# a region is a true lesion when the lesion covers more than this fraction of the region's
# pixels, or the region more than this fraction of the lesion's (HIT_FRACTION of eval.detection)
OVERLAP = 0.1
DATA = "../shared/data/ixi-t1-midaxial"
DEFAULTS = {
    "fit_healthy": f"{DATA}/val",
    "fit_lesions": "runs/confidence/val_synth",
    "test_healthy": f"{DATA}/holdout",
    "test_lesions": "runs/confidence/holdout_synth",
    "cache": "runs/confidence/maps",
}
N_BOOT = 1000
_EIGHT = np.ones((3, 3), bool)


# ----------------------------------------------------------------------------- collect
@dataclass
class Cached:
    """What is kept of one detector run: arrays on the image's own grid."""

    name: str
    subject: str  # the healthy source's stem: a subject's healthy and lesion images share it
    anomaly: np.ndarray  # float32
    foreground: np.ndarray  # bool
    truth: np.ndarray  # bool lesion mask (all False: healthy)
    score: float
    pixel_threshold: float
    score_threshold: float
    min_area: int
    healthy_scores: np.ndarray  # the calibration's sorted healthy scores (old confidence)
    level: float | None = None  # MNI z (mm) of a volume's level image (`level_of`)


# a level image of a volume (`eval.band_confidence export`): NAME_z{level}, e.g. IXI033_T1_z-36
_LEVEL = re.compile(r"_z([+-]?\d+(?:\.\d+)?)$")


def level_of(stem: str) -> float | None:
    """MNI z (mm) of a level image named NAME_z{+NN} (None for other names)."""
    m = _LEVEL.search(stem)
    return None if m is None else float(m.group(1))


def subject_of(stem: str) -> str:
    """The subject an image belongs to: a level image's volume, a lesion copy's source."""
    m = _LEVEL.search(stem)
    if m is not None:
        return stem[: m.start()]
    return stem.split("_l")[0] if "_l" in stem[-4:] else stem


def image_set(folder: str | Path, lesions: bool) -> list[tuple[str, Path, Path | None]]:
    """(stem, image, mask) of a folder: `folder/images` + `folder/masks` for a lesion set (only
    images with a mask), the folder itself for a healthy one."""
    folder = Path(folder)
    if not lesions:
        return [(image_stem(p), p, None) for p in list_images(folder)]
    out = []
    for p in list_images(folder / "images"):
        m = folder / "masks" / f"{image_stem(p)}.png"
        if m.is_file():
            out.append((image_stem(p), p, m))
    return out


def collect(
    detector, folder: str | Path, lesions: bool, cache: Path, tag: str, batch: int = 4
) -> list[Cached]:
    """Run `detector` on every image of a set once (in batches of `batch`); per-image npz under
    `cache/tag/`, read back on later runs. Level images (`level_of`) are detected at their
    level, with the thresholds of its band (a level-aware detector's `Calibration.for_level`)."""
    from tqdm.auto import tqdm

    from assistant.scan import load_scan
    from eval.detection import load_truth

    where = cache / tag
    where.mkdir(parents=True, exist_ok=True)
    cal = detector.calibration
    items = image_set(folder, lesions)
    todo = [it for it in items if not (where / f"{it[0]}.npz").is_file()]
    bar = tqdm(total=len(todo), desc=tag, unit="img")
    for i in range(0, len(todo), batch):
        chunk = todo[i : i + batch]
        scans = [load_scan(path).slice2d() for _, path, _ in chunk]
        levels = [level_of(stem) for stem, _, _ in chunk]
        at = {"levels": levels} if all(z is not None for z in levels) else {}
        results = detector.detect_batch(
            [s.pixels for s in scans],
            [s.spacing for s in scans],
            [s.patient_left for s in scans],
            **at,
        )
        for (stem, _, mask), scan, r, z in zip(chunk, scans, results, levels, strict=True):
            ref = cal.for_level(z) if at else cal
            np.savez_compressed(
                where / f"{stem}.npz",
                anomaly=r.anomaly_map.astype(np.float32),
                foreground=r.foreground,
                truth=load_truth(mask, scan.pixels.shape),
                score=r.score,
                pixel_threshold=r.pixel_threshold,
                score_threshold=r.score_threshold,
                min_area=r.postprocess.min_area,
                healthy_scores=np.asarray(ref.healthy_scores, np.float64),
                key=detector.key,
                level=np.nan if z is None else z,
            )
        bar.update(len(chunk))
    bar.close()
    return [load_cached(where / f"{stem}.npz", stem) for stem, _, _ in items]


def load_cached(path: Path, stem: str) -> Cached:
    z = np.load(path)
    level = float(z["level"]) if "level" in z.files else float("nan")
    return Cached(
        name=stem,
        subject=subject_of(stem),
        anomaly=z["anomaly"],
        foreground=z["foreground"],
        truth=z["truth"],
        score=float(z["score"]),
        pixel_threshold=float(z["pixel_threshold"]),
        score_threshold=float(z["score_threshold"]),
        min_area=int(z["min_area"]),
        healthy_scores=z["healthy_scores"],
        level=None if np.isnan(level) else level,
    )


# ----------------------------------------------------------------------------- regions
def label_regions(
    labels: np.ndarray, n: int, truth: np.ndarray, overlap: float = OVERLAP
) -> tuple[np.ndarray, np.ndarray]:
    """(true, touches) per region 1..n of `labels`: true when the truth mask covers more than
    `overlap` of the region's pixels, or the region more than `overlap` of a lesion's (a
    connected component of `truth`); touches: any overlap at all."""
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    idx = np.arange(1, n + 1)
    area = ndimage.sum(np.ones_like(truth, dtype=np.float64), labels, index=idx)
    inter = ndimage.sum(truth.astype(np.float64), labels, index=idx)
    true = inter > overlap * area
    les, n_les = ndimage.label(truth, structure=_EIGHT)
    if n_les:
        les_area = np.bincount(les.ravel(), minlength=n_les + 1)
        for j in range(1, n_les + 1):
            cov = np.bincount(labels[les == j], minlength=n + 1)[1:]
            true |= cov > overlap * les_area[j]
    return true, inter > 0


def regions_of(cases: list[Cached], overlap: float = OVERLAP) -> dict[str, np.ndarray]:
    """Every candidate region of every cached image (see the module docstring), as columns."""
    cols: dict[str, list] = {
        k: []
        for k in ("peak", "area", "mean", "true", "touches", "image", "subject", "old", "level")
    }
    subjects = {s: i for i, s in enumerate(sorted({c.subject for c in cases}))}
    for i, c in enumerate(cases):
        regions, _ = flag_mask(
            c.anomaly, c.foreground, c.pixel_threshold, c.score_threshold, c.min_area
        )
        labels, n = ndimage.label(regions, structure=_EIGHT)
        feats = region_features(labels, n, c.anomaly)
        true, touches = label_regions(labels, n, c.truth, overlap)
        ref = np.sort(c.healthy_scores)
        cols["peak"] += feats["peak"].tolist()
        cols["area"] += feats["area"].tolist()
        cols["mean"] += feats["mean"].tolist()
        cols["true"] += true.tolist()
        cols["touches"] += touches.tolist()
        cols["image"] += [i] * n
        cols["subject"] += [subjects[c.subject]] * n
        cols["old"] += (np.searchsorted(ref, feats["peak"], side="left") / len(ref)).tolist()
        cols["level"] += [np.nan if c.level is None else c.level] * n
    out = {k: np.asarray(v) for k, v in cols.items()}
    out["true"] = out["true"].astype(bool)
    out["touches"] = out["touches"].astype(bool)
    return out


def set_summary(cases: list[Cached], reg: dict[str, np.ndarray], thr: float) -> dict:
    lesion_images = [c for c in cases if c.truth.any()]
    finding = reg["peak"] >= thr
    return {
        "n_images": len(cases),
        "n_lesion_images": len(lesion_images),
        "n_healthy_images": len(cases) - len(lesion_images),
        "n_regions": int(reg["peak"].size),
        "n_true": int(reg["true"].sum()),
        "n_findings": int(finding.sum()),
        "n_true_findings": int((finding & reg["true"]).sum()),
        "n_touching_but_not_true": int((reg["touches"] & ~reg["true"]).sum()),
    }


# ----------------------------------------------------------------------------- measure
def scores_for(cmap: ConfidenceMap, reg: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(
        [cmap.probability(p, a) for p, a in zip(reg["peak"], reg["area"], strict=True)]
    )


def measured(prob: np.ndarray, reg: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    """ECE (equal-width and equal-count bins), reliability table, Brier, log loss; bootstrap
    95% intervals of ECE and Brier over subjects."""
    y = reg["true"]
    out = reliability(prob, y)
    auc = roc_auc(prob, y)  # does the number separate lesions from false alarms at all?
    out["auroc"] = None if auc is None else round(auc, 4)
    subj = reg["subject"]
    groups = [np.nonzero(subj == s)[0] for s in np.unique(subj)]
    eces, briers = [], []
    for _ in range(N_BOOT):
        pick = rng.integers(0, len(groups), len(groups))
        idx = np.concatenate([groups[g] for g in pick])
        r = reliability(prob[idx], y[idx], table=False)
        eces.append(r["ece"])
        briers.append(r["brier"])
    out["ece_95ci"] = [round(float(v), 4) for v in np.percentile(eces, [2.5, 97.5])]
    out["brier_95ci"] = [round(float(v), 4) for v in np.percentile(briers, [2.5, 97.5])]
    return out


def evaluate_test(
    cmap: ConfidenceMap, reg: dict[str, np.ndarray], thr: float, seed: int = 0
) -> dict:
    """The new and the old confidence on the test regions: all regions, and findings only; and
    per confidence word (`confidence_level_of`), how many regions and how many were lesions."""
    new = scores_for(cmap, reg)
    words = np.asarray(
        [confidence_level_of(p, k, thr) for p, k in zip(new, reg["peak"], strict=True)]
    )
    out: dict = {
        "by_word": {
            w: {
                "n_regions": int((words == w).sum()),
                "mean_probability": round(float(new[words == w].mean()), 4),
                "observed_rate": round(float(reg["true"][words == w].mean()), 4),
            }
            for w in ("low", "moderate", "high")
            if (words == w).any()
        }
    }
    for subset, keep in (
        ("all_regions", np.ones_like(reg["true"])),
        ("findings", reg["peak"] >= thr),
    ):
        sub = {k: v[keep] for k, v in reg.items()}
        rng = np.random.default_rng(seed)
        out[subset] = {
            "n_regions": int(keep.sum()),
            "n_true": int(sub["true"].sum()),
            "new": measured(new[keep], sub, rng),
            "old": measured(reg["old"][keep], sub, np.random.default_rng(seed)),
        }
    return out


# ----------------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval.confidence", description=__doc__.split("\n")[0]
    )
    p.add_argument("--json", required=True, help="where to write the figures (JSON)")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), default=v, help=f"default {v}")
    p.add_argument(
        "--kind",
        default="auto",
        choices=("auto", *CONFIDENCE_KINDS),
        help="the fit (auto: chosen by cross-validation on the fit set)",
    )
    p.add_argument(
        "--write-checkpoint",
        action="store_true",
        help="store the fitted map in the shipped checkpoint's detector.json",
    )
    p.add_argument("--collect-only", action="store_true", help="run the detector and stop")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="another checkpoint (default: the shipped one); --write-checkpoint then writes "
        "into its detector.json",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from assistant.detector import Detector
    from assistant.detector.model import DEFAULT_CHECKPOINT

    det = Detector.from_pretrained(args.model)
    cal = det.calibration
    cache = Path(args.cache)
    t0 = time.perf_counter()
    fit_cases = collect(det, args.fit_healthy, False, cache, "fit_healthy") + collect(
        det, args.fit_lesions, True, cache, "fit_lesions"
    )
    test_cases = collect(det, args.test_healthy, False, cache, "test_healthy") + collect(
        det, args.test_lesions, True, cache, "test_lesions"
    )
    logger.info("collected in %.0f s", time.perf_counter() - t0)
    if args.collect_only:
        return 0
    thr = float(cal.score_threshold)
    fit_reg = regions_of(fit_cases)
    test_reg = regions_of(test_cases)
    choice = choose_confidence(
        fit_reg["peak"], fit_reg["true"], fit_reg["subject"], fit_reg["area"]
    )
    kind = choice["chosen"] if args.kind == "auto" else args.kind
    cv_briers = ", ".join(f"{k} {v['brier']:.4f}" for k, v in choice["kinds"].items())
    data = {
        "healthy": portable_path(args.fit_healthy),
        "lesions": portable_path(args.fit_lesions),
    }
    cmap = fit_confidence(
        fit_reg["peak"],
        fit_reg["true"],
        kind=kind,
        area=fit_reg["area"],
        data=data,
        label=f"overlap > {OVERLAP:g} of the region's or the lesion's pixels",
        n_images=len(fit_cases),
        n_lesion_images=sum(bool(c.truth.any()) for c in fit_cases),
        pixel_threshold=float(cal.pixel_threshold),
        score_threshold=thr,
        chosen_by=(
            f"{choice['folds']}-fold cross-validation on the fit set, folds by subject, "
            "one-standard-error rule (the simplest kind within one standard error of the best "
            f"Brier score; Brier {cv_briers})"
        ),
        measured=f"python -m eval.confidence: {portable_path(args.json)}",
    )
    figures = {
        "what": (
            "confidence = the estimated probability that a candidate region (a finding F or a "
            "weak region W) is a true lesion, fitted on the fit set (validation), measured on "
            "the test set (holdout)"
        ),
        "command": "python -m eval.confidence "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "detector": {
            "key": det.key,
            "pixel_threshold": cal.pixel_threshold,
            "score_threshold": thr,
        },
        "label_rule": (
            f"a region is a true lesion when the lesion mask covers more than {OVERLAP:g} of its "
            f"pixels, or it covers more than {OVERLAP:g} of a lesion's pixels; every region of a "
            "healthy image is false"
        ),
        "bins": "ECE: 10 equal-width bins on [0, 1] (ece) and 10 equal-count bins (ece_equal_count)",
        "fit_set": {**data, **set_summary(fit_cases, fit_reg, thr)},
        "test_set": {
            "healthy": portable_path(args.test_healthy),
            "lesions": portable_path(args.test_lesions),
            **set_summary(test_cases, test_reg, thr),
        },
        "model_selection_on_fit_set": choice,
        "fitted": cmap.to_dict(),
        "curve": [
            {"peak_over_threshold": r, "probability": round(cmap.probability(r * thr), 3)}
            for r in (0.25, 0.5, 0.75, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0)
        ],
        "test": evaluate_test(cmap, test_reg, thr),
        "other_kinds_on_test": {
            "note": "for information only: the kind was chosen on the fit set before this",
            **{
                k: {
                    subset: {m: v["new"][m] for m in ("ece", "ece_equal_count", "brier")}
                    for subset, v in evaluate_test(
                        fit_confidence(fit_reg["peak"], fit_reg["true"], k, area=fit_reg["area"]),
                        test_reg,
                        thr,
                    ).items()
                    if subset != "by_word"
                }
                for k in CONFIDENCE_KINDS
                if k != kind
            },
        },
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: figures[k] for k in ("fit_set", "test_set", "curve")}, indent=2))
    for subset in ("all_regions", "findings"):
        v = figures["test"][subset]
        print(
            f"{subset}: n={v['n_regions']} true={v['n_true']}  "
            f"ECE new {v['new']['ece']:.4f} old {v['old']['ece']:.4f}  "
            f"Brier new {v['new']['brier']:.4f} old {v['old']['brier']:.4f}"
        )
    if args.write_checkpoint:
        from assistant.detector.model import DetectorConfig

        path = (Path(args.model) if args.model else DEFAULT_CHECKPOINT) / "detector.json"
        config = DetectorConfig.from_json(path.read_text())
        config.calibration[det.key].confidence = cmap.to_dict()
        path.write_text(config.to_json() + ("\n" if path.read_text().endswith("\n") else ""))
        logger.info("wrote the confidence map into %s", portable_path(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
