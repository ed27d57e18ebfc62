"""Pixel- and image-level evaluation of the anomaly detector on a labelled folder.

    python -m eval.detection --images DIR --masks DIR --json OUT \\
        [--model DIR] [--method NAME] [--preset NAME] [--limit N]

Every image in --images (any format `assistant.scan.load_scan` reads; a volume is evaluated on
its middle axial slice) is abnormal when --masks holds a PNG of the same stem (non-zero = lesion,
on the image's own grid) and healthy otherwise; `assistant synthesize-lesions` writes such
folders. Thresholds are the model's calibrated ones (fixed on healthy validation data), except
`dice_oracle`, which picks the best threshold on this very set and is only an upper bound.

The applicability check (`assistant.domain.check_applicability`) runs on every evaluated slice:
`n_in_domain` / `n_out_of_domain` count its verdicts and `"in_domain"` holds the same metric
keys restricted to the in-domain images. The detector still runs on every image ("analyse
anyway"), so the top-level keys keep their meaning. `lesion_hit_rate`: the fraction of lesions
(connected components of each mask) with more than `HIT_FRACTION` of their pixels in the
calibrated mask; `healthy_with_findings`: the fraction of healthy images with a finding.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.findings import SIZE_BINS, size_bin
from assistant.synth import image_stem, list_images
from eval import portable_path
from eval.metrics import average_precision, candidate_thresholds, dice, dice_sweep, roc_auc

logger = logging.getLogger(__name__)

MAX_PIXELS = 5_000_000  # pooled pixel metrics subsample (deterministically) above this
HIT_FRACTION = 0.1  # a lesion is hit when more than this fraction of its pixels is flagged


@dataclass
class Case:
    """One evaluation image and its truth mask (None = healthy)."""

    name: str
    image: Path
    mask: Path | None


@dataclass
class CaseResult:
    """What the evaluation keeps of one detector run (arrays restricted to the foreground)."""

    name: str
    abnormal: bool
    fg_scores: np.ndarray  # (n_fg,) float32 anomaly map on foreground pixels
    fg_truth: np.ndarray  # (n_fg,) bool
    n_missed: int  # lesion pixels outside the detector's foreground
    area_px: int  # lesion area (0 when healthy)
    size_bin: str | None
    dice: float | None  # calibrated mask vs truth (abnormal images)
    flagged_fraction: float  # mask.sum() / foreground.sum()
    score: float
    is_abnormal: bool | None
    unet_calls: int
    seconds: float
    method: str = ""
    params: dict | None = None
    pixel_threshold: float | None = None
    score_threshold: float | None = None
    in_domain: bool | None = None  # the applicability check's verdict (None: not checked)
    n_lesions: int = 0  # connected components of the truth mask
    n_lesions_hit: int = 0  # ... with more than HIT_FRACTION of their pixels flagged
    n_findings: int = 0
    # the flagged area of the regions that touch the lesion / the lesion's area (abnormal
    # images with a flagged region on the lesion; None otherwise): how sizes compare with truth
    area_ratio: float | None = None


def flagged_area_ratio(mask: np.ndarray, truth: np.ndarray) -> float | None:
    """The area of the flagged regions (connected components of `mask`) that overlap the lesion
    `truth`, over the lesion's area; None when no flagged region touches it."""
    from scipy import ndimage

    mask, truth = np.asarray(mask, bool), np.asarray(truth, bool)
    if not truth.any():
        return None
    labels, _ = ndimage.label(mask)
    touching = np.unique(labels[truth & mask])
    touching = touching[touching > 0]
    if not touching.size:
        return None
    return float(np.isin(labels, touching).sum()) / float(truth.sum())


def find_cases(images_dir: str | Path, masks_dir: str | Path | None) -> list[Case]:
    """Pair every image with `masks_dir/STEM.png` when it exists (abnormal), else healthy."""
    masks = Path(masks_dir) if masks_dir is not None else None
    if masks is not None and not masks.is_dir():
        raise FileNotFoundError(f"mask folder not found: {masks}")
    cases = []
    for path in list_images(images_dir):
        stem = image_stem(path)
        mask = masks / f"{stem}.png" if masks is not None else None
        cases.append(Case(stem, path, mask if mask is not None and mask.is_file() else None))
    return cases


def load_truth(mask_path: Path | None, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool truth mask (all False when healthy); the mask must be on the image's grid."""
    if mask_path is None:
        return np.zeros(shape, dtype=bool)
    from PIL import Image

    with Image.open(mask_path) as im:
        m = np.asarray(im.convert("L")) > 127
    if m.shape != tuple(shape):
        raise ValueError(
            f"mask {mask_path.name} is {m.shape[1]}x{m.shape[0]} (WxH) but its image is "
            f"{shape[1]}x{shape[0]}: masks must be on the image's own grid"
        )
    return m


def lesions_hit(truth: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """(lesions, lesions hit): connected components of `truth` (8-connected), and those with
    more than `HIT_FRACTION` of their pixels inside `mask`."""
    from scipy import ndimage

    labels, n = ndimage.label(truth, structure=np.ones((3, 3), bool))
    if n == 0:
        return 0, 0
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    inside = np.bincount(labels[np.asarray(mask, bool)], minlength=n + 1)[1:]
    return n, int((inside > HIT_FRACTION * sizes).sum())


def run_case(detector, case: Case, check=None) -> CaseResult:
    """Load one image, check its applicability (`check`: scan -> Applicability, None: not
    checked), run the detector on it (timed, whatever the verdict), compare with the truth."""
    from assistant.scan import load_scan

    scan = load_scan(case.image).slice2d()
    in_domain = None if check is None else bool(check(scan).in_domain)
    start = time.perf_counter()
    result = detector(scan)
    seconds = time.perf_counter() - start
    truth = load_truth(case.mask, scan.pixels.shape)
    if result.anomaly_map.shape != truth.shape:
        raise ValueError(
            f"{case.name}: the detector returned a {result.anomaly_map.shape} map for a "
            f"{truth.shape} image; maps must be on the scan's own grid"
        )
    fg = np.asarray(result.foreground, dtype=bool)
    area = int(truth.sum())
    abnormal = area > 0
    n_lesions, n_hit = lesions_hit(truth, result.mask)
    return CaseResult(
        name=case.name,
        abnormal=abnormal,
        fg_scores=np.asarray(result.anomaly_map, dtype=np.float32)[fg],
        fg_truth=truth[fg],
        n_missed=int((truth & ~fg).sum()),
        area_px=area,
        size_bin=size_bin(area, truth.shape) if abnormal else None,
        dice=dice(result.mask, truth) if abnormal else None,
        flagged_fraction=float(np.asarray(result.mask, bool).sum()) / max(int(fg.sum()), 1),
        score=float(result.score),
        is_abnormal=result.is_abnormal,
        unet_calls=int(result.unet_calls),
        seconds=seconds,
        method=result.method,
        params=dict(result.params),
        pixel_threshold=result.pixel_threshold,
        score_threshold=result.score_threshold,
        in_domain=in_domain,
        n_lesions=n_lesions,
        n_lesions_hit=n_hit,
        n_findings=len(result.findings),
        area_ratio=flagged_area_ratio(result.mask, truth) if abnormal else None,
    )


def _pooled_pixels(results: list[CaseResult], max_pixels: int, notes: list[str]):
    """The foreground pixel scores and truths of every image, pooled: (scores, truth, and the
    same subsampled to `max_pixels` for AUROC/AUPRC). Appends what it did to `notes`."""
    scores = np.concatenate([r.fg_scores for r in results]) if results else np.zeros(0)
    truth = np.concatenate([r.fg_truth for r in results]) if results else np.zeros(0, bool)
    n_pixels = int(scores.size)
    if n_pixels > max_pixels:
        keep = np.sort(np.random.default_rng(0).choice(n_pixels, max_pixels, replace=False))
        scores_s, truth_s = scores[keep], truth[keep]
        notes.append(
            f"pixel AUROC/AUPRC on a fixed random subsample of {max_pixels:,} of "
            f"{n_pixels:,} foreground pixels (seed 0)"
        )
    else:
        scores_s, truth_s = scores, truth
    missed = sum(r.n_missed for r in results)
    if missed:
        notes.append(
            f"{missed} lesion pixels lie outside the detector's foreground: they count as "
            "missed in Dice but are not part of the pooled pixel metrics"
        )
    return scores, truth, scores_s, truth_s


def _dice_oracle(abn: list[CaseResult], scores: np.ndarray, notes: list[str]):
    """(best mean Dice over single thresholds on this set, that threshold); None without
    abnormal images."""
    dice_oracle, oracle_t = None, None
    if abn:
        sweep_input = [(r.fg_scores, r.fg_truth, r.n_missed) for r in abn]
        thresholds = candidate_thresholds(scores)
        curve = dice_sweep(sweep_input, thresholds)
        best = int(np.argmax(curve))
        dice_oracle, oracle_t = float(curve[best]), float(thresholds[best])
    notes.append(
        "dice_oracle: mean Dice at the single threshold on the raw anomaly map (foreground "
        "only, no post-processing) that is best on THIS set - an upper bound, not a result"
    )
    return dice_oracle, oracle_t


def _sensitivity_specificity(results, abn, healthy, notes: list[str]):
    """Image-level (sensitivity, specificity) of the calibrated decisions (None when the model
    has no calibrated image threshold, or the class is absent)."""
    decided = [r for r in results if r.is_abnormal is not None]
    sens = spec = None
    if len(decided) < len(results):
        notes.append("the model has no calibrated image threshold: sensitivity/specificity null")
    else:
        if abn:
            sens = float(np.mean([r.is_abnormal for r in abn]))
        if healthy:
            spec = float(np.mean([not r.is_abnormal for r in healthy]))
    return sens, spec


def _median(xs) -> float | None:
    return float(np.median(xs)) if len(xs) else None


def _mean(xs) -> float | None:
    return float(np.mean(xs)) if xs else None


def _per_image(r: CaseResult) -> dict:
    return {
        "name": r.name,
        "abnormal": r.abnormal,
        "area_px": r.area_px,
        "size_bin": r.size_bin,
        "dice": None if r.dice is None else round(r.dice, 4),
        "flagged_fraction": round(r.flagged_fraction, 5),
        "score": r.score,
        "is_abnormal": r.is_abnormal,
        "seconds": round(r.seconds, 4),
        "in_domain": r.in_domain,
        "n_findings": r.n_findings,
        "n_lesions": r.n_lesions,
        "n_lesions_hit": r.n_lesions_hit,
        "area_ratio": None if r.area_ratio is None else round(r.area_ratio, 3),
    }


def _quartiles(values: list[float]) -> list[float] | None:
    return [float(q) for q in np.quantile(values, [0.25, 0.75])] if values else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def metrics(results: list[CaseResult], max_pixels: int, notes: list[str]) -> dict:
    """The metric keys (JSON-ready) of a set of per-image results; appends to `notes`."""
    abn = [r for r in results if r.abnormal]
    healthy = [r for r in results if not r.abnormal]
    scores, truth, scores_s, truth_s = _pooled_pixels(results, max_pixels, notes)
    dice_oracle, oracle_t = _dice_oracle(abn, scores, notes)
    by_size = {b: [r.dice for r in abn if r.size_bin == b] for b in SIZE_BINS}
    labels = np.array([r.abnormal for r in results], dtype=bool)
    image_scores = np.array([r.score for r in results], dtype=np.float64)
    sens, spec = _sensitivity_specificity(results, abn, healthy, notes)
    if not healthy:
        notes.append("no healthy images: image_auroc, specificity and healthy_fp_fraction null")
    if not abn:
        notes.append("no abnormal images: pixel metrics, Dice and sensitivity null")
    first = results[0] if results else None
    return {
        "method": first.method if first else None,
        "params": first.params if first else None,
        "pixel_threshold": first.pixel_threshold if first else None,
        "score_threshold": first.score_threshold if first else None,
        "pixel_auprc": average_precision(scores_s, truth_s) if truth_s.any() else None,
        "pixel_auroc": roc_auc(scores_s, truth_s),
        "pixel_prevalence": float(truth.mean()) if scores.size else None,  # chance-level AUPRC
        "dice_calibrated": _mean([r.dice for r in abn]),
        "dice_oracle": dice_oracle,
        "dice_oracle_threshold": oracle_t,
        "dice_by_size": {b: _mean(v) for b, v in by_size.items()},
        "n_by_size": {b: len(v) for b, v in by_size.items()},
        "image_auroc": roc_auc(image_scores, labels) if results else None,
        "sensitivity": sens,
        "specificity": spec,
        "healthy_fp_fraction": _median([r.flagged_fraction for r in healthy]),
        "lesion_hit_rate": _ratio(sum(r.n_lesions_hit for r in abn), sum(r.n_lesions for r in abn)),
        "healthy_with_findings": _ratio(sum(r.n_findings > 0 for r in healthy), len(healthy)),
        # flagged area of the regions on a lesion / the lesion's area (how sizes compare)
        "area_ratio_median": _median([r.area_ratio for r in abn if r.area_ratio is not None]),
        "area_ratio_quartiles": _quartiles([r.area_ratio for r in abn if r.area_ratio is not None]),
        "area_ratio_by_size": {
            b: _median([r.area_ratio for r in abn if r.size_bin == b and r.area_ratio is not None])
            for b in SIZE_BINS
        },
        "unet_calls_per_image": _median([r.unet_calls for r in results]),
        "seconds_per_image": _median([r.seconds for r in results]),
        "n_images": len(results),
        "n_abnormal": len(abn),
        "n_healthy": len(healthy),
        "n_pixels": int(scores.size),
    }


def summarize(results: list[CaseResult], max_pixels: int = MAX_PIXELS) -> dict:
    """The evaluation figures (JSON-ready) from per-image results: the metrics of every image,
    the applicability counts and the metrics of the in-domain images ("in_domain")."""
    notes: list[str] = []
    figures = metrics(results, max_pixels, notes)
    checked = [r for r in results if r.in_domain is not None]
    inside = [r for r in checked if r.in_domain]
    figures["n_in_domain"] = len(inside) if checked else None
    figures["n_out_of_domain"] = len(checked) - len(inside) if checked else None
    if checked and len(checked) < len(results):
        notes.append("the applicability check ran on some images only")
    if not checked:
        notes.append("no applicability check: n_in_domain, n_out_of_domain, in_domain null")
    figures["in_domain"] = metrics(inside, max_pixels, []) if checked else None
    notes.append(
        "in_domain: the same metrics on the images the applicability check accepts; the "
        "top-level metrics include every image (the detector runs on all, as if 'anyway')"
    )
    figures["notes"] = notes
    figures["per_image"] = [_per_image(r) for r in results]
    return figures


def evaluate(
    detector,
    images_dir: str | Path,
    masks_dir: str | Path | None,
    limit: int | None = None,
    progress: bool = False,
    check=None,
) -> dict:
    """Run `detector` (a callable Scan -> DetectionResult) on a labelled folder; the summary
    of `summarize` plus the detector's method and thresholds. `check`: the applicability check
    (a callable Scan -> Applicability; None: the shipped `check_applicability`)."""
    if check is None:
        from assistant.domain import check_applicability as check
    cases = find_cases(images_dir, masks_dir)
    if limit is not None:
        cases = cases[: max(0, int(limit))]
    iterator = cases
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases, desc="evaluate", unit="img")
    results = [run_case(detector, c, check) for c in iterator]
    return summarize(results)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval.detection",
        description="Evaluate the anomaly detector on images with lesion masks.",
    )
    p.add_argument("--images", required=True, help="folder of images (any loadable format)")
    p.add_argument("--masks", required=True, help="folder of masks STEM.png (missing = healthy)")
    p.add_argument("--json", required=True, help="where to write the figures (JSON)")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint folder (default: the shipped model)",
    )
    p.add_argument("--method", default=None, help="anomaly method (default: the model's)")
    p.add_argument("--preset", default=None, help="method configuration (default: the model's)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N images")
    p.add_argument(
        "--autocast",
        choices=("auto", "on", "off"),
        default="auto",
        help="bf16 autocast: the detector's default (auto: on a GPU or a CPU with avx512_bf16), "
        "forced on, or off (float32)",
    )
    return p


def load_detector(
    model: str | None, method: str | None, preset: str | None, autocast: bool | None = None
):
    """`Detector.from_pretrained(model, method=..., preset=..., autocast=...)` (None = the
    defaults)."""
    from assistant.detector import Detector

    return Detector.from_pretrained(model, method=method, preset=preset, autocast=autocast)


def domain_check(model: str | None):
    """The applicability check for checkpoint `model`: with its own applicability model when
    it has one (`domain/domain.json`), else the shipped one."""
    from functools import partial

    from assistant.domain import check_applicability

    base = Path(model) if model else None
    if base is not None and any((base / sub / "domain.json").is_file() for sub in ("domain", ".")):
        return partial(check_applicability, model_dir=model)
    return check_applicability


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    autocast = {"auto": None, "on": True, "off": False}[args.autocast]
    detector = load_detector(args.model, args.method, args.preset, autocast)
    figures = evaluate(
        detector,
        args.images,
        args.masks,
        limit=args.limit,
        progress=True,
        check=domain_check(args.model),
    )
    figures = {
        "model": portable_path(args.model) if args.model else "default (shipped)",
        "method_requested": args.method,
        "preset": args.preset,
        "bf16_autocast": bool(getattr(detector, "autocast", False)),
        **figures,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    brief = {k: v for k, v in figures.items() if k not in ("per_image", "notes")}
    print(json.dumps(brief, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
