"""Calibration on healthy validation scans only (never on test or holdout data).

pixel threshold: the (1 - fpr) quantile of the anomaly map over all foreground pixels of the
healthy images, so that at most `fpr` of healthy foreground pixels are flagged.
score threshold: the (1 - fpr) quantile of the healthy image scores (the map's maximum); it is
also the seed level of the detector's hysteresis mask, so at most about `fpr` of healthy images
get any finding. The sorted healthy scores are kept (the findings' fallback confidence).

confidence (`fit_confidence`): the map from a candidate region's peak to the probability that it
is a true lesion, fitted on validation regions of healthy scans and scans with synthetic lesions
(`python -m eval.confidence`, which also measures it on holdout data) and stored as the
calibration's "confidence" block. Re-calibrating the thresholds (`calibrate`) drops the block,
since the regions it was fitted on depend on them: refit it afterwards.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from assistant.detector.data import list_scans
from assistant.detector.detector import Detector
from assistant.detector.levels import LEVEL_BANDS, TRAINED_LEVEL_MM
from assistant.detector.model import Calibration
from assistant.detector.postprocess import ConfidenceMap

log = logging.getLogger(__name__)


def calibrate(
    detector: Detector,
    images: list[np.ndarray],
    fpr: float = 0.05,
    data: str = "",
    batch: int = 8,
) -> Calibration:
    """Fit both thresholds for `detector`'s method/preset on healthy raw (Y, X) images."""
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    if not images:
        raise ValueError("calibration needs at least one healthy image")
    pixel_vals, scores = [], []
    uncal = Detector(detector.model, detector.method, "uncalibrated", detector.autocast)
    for i in tqdm(range(0, len(images), batch), desc="calibrate", unit="batch"):
        for r in uncal.detect_batch(images[i : i + batch]):
            pixel_vals.append(r.anomaly_map[r.foreground])
            scores.append(r.score)
    pooled = np.concatenate(pixel_vals)
    cal = Calibration(
        pixel_threshold=float(np.quantile(pooled, 1 - fpr)),
        score_threshold=float(np.quantile(np.asarray(scores), 1 - fpr)),
        fpr=fpr,
        n_images=len(images),
        data=data,
        method=detector.method.name,
        preset=detector.preset,
        healthy_scores=sorted(round(float(x), 6) for x in scores),
    )
    previous = detector.model.config.calibration.get(detector.key)
    if previous is not None:  # a level-aware model's bands and volume thresholds stay
        cal.bands, cal.stack = previous.bands, previous.stack
    detector.model.config.calibration[detector.key] = cal
    return cal


def calibrate_levels(
    detector: Detector,
    images: list[np.ndarray],
    levels: list[float],
    bands: tuple[tuple[float, float], ...] = LEVEL_BANDS,
    fpr: float = 0.05,
    data: str = "",
    batch: int = 8,
    progress: bool = True,
    groups: list[str] | None = None,
    scores_out: list[dict] | None = None,
) -> list[dict]:
    """Per-band thresholds of a level-aware detector on healthy raw slices at MNI z `levels`,
    stored in the detector's calibration (`Calibration.bands`; the mid-axial thresholds there
    are kept, so calibrate those first with `calibrate`, or the band holding the trained level
    supplies them). Bands without slices are left out (their slices keep the mid-axial
    thresholds). Returns the bands.

    In each band of `bands` (MNI z, mm, inclusive) the pixel threshold is the (1 - fpr) quantile
    of the band's healthy foreground pixels, as in `calibrate`. The score threshold (the seed of
    a finding) is, without `groups`, the (1 - fpr) quantile of the band's slice scores: about
    `fpr` of healthy *slices* get a finding. With `groups` (the volume each slice comes from) it
    is the (1 - fpr / number of bands) quantile of each volume's highest score in the band, so
    that at most about `fpr` of healthy *volumes* get a finding anywhere (a volume is analysed at
    up to 65 levels: per-slice thresholds would flag nearly every healthy volume).
    `scores_out`, when given, receives one {"level_mm", "score", "group"} per slice."""
    if not detector.level_aware:
        raise ValueError(
            "per-level calibration needs a level-aware detector (assistant train --volumes)"
        )
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    if len(images) != len(levels) or not images:
        raise ValueError("calibrate_levels needs one level per image, and at least one image")
    if groups is not None and len(groups) != len(images):
        raise ValueError("calibrate_levels needs one group per image")
    uncal = Detector(detector.model, detector.method, "uncalibrated", detector.autocast)
    pixel_vals, scores = [], []
    for i in tqdm(
        range(0, len(images), batch), desc="calibrate levels", unit="batch", disable=not progress
    ):
        part = slice(i, i + batch)
        for r in uncal.detect_batch(images[part], levels=list(levels[part])):
            pixel_vals.append(r.anomaly_map[r.foreground])
            scores.append(r.score)
    if scores_out is not None:
        scores_out.extend(
            {"level_mm": float(z), "score": round(float(sc), 6), "group": g}
            for z, sc, g in zip(levels, scores, groups or [None] * len(levels), strict=True)
        )
    out = band_thresholds(pixel_vals, scores, levels, bands, fpr, groups)
    cal = detector.model.config.calibration.get(detector.key)
    if cal is None:
        mid = next((b for b in out if b["lo_mm"] <= TRAINED_LEVEL_MM <= b["hi_mm"]), out[0])
        cal = Calibration.from_thresholds(
            mid, fpr=fpr, data=data, method=detector.method.name, preset=detector.preset
        )
        detector.model.config.calibration[detector.key] = cal
    cal.bands = out
    if data and data not in cal.data:
        cal.data = f"{cal.data}; bands: {data}" if cal.data else data
    return out


def band_thresholds(
    pixel_vals: list[np.ndarray],
    scores: list[float],
    levels: list[float],
    bands: tuple[tuple[float, float], ...] = LEVEL_BANDS,
    fpr: float = 0.05,
    groups: list[str] | None = None,
) -> list[dict]:
    """The bands of `calibrate_levels` from each healthy slice's foreground map values
    (`pixel_vals`), score and MNI z (`levels`), and `groups` (the volume of each slice, for the
    per-volume score rule; None: the per-slice rule). Bands without slices are left out."""
    lv = np.asarray(levels, np.float64)
    present = [(lo, hi) for lo, hi in bands if np.any((lv >= lo) & (lv <= hi))]
    out = []
    for lo, hi in present:
        idx = np.flatnonzero((lv >= lo) & (lv <= hi))
        band_scores = np.asarray([scores[k] for k in idx])
        pooled = np.concatenate([pixel_vals[k] for k in idx])
        band = {
            "lo_mm": float(lo),
            "hi_mm": float(hi),
            "pixel_threshold": float(np.quantile(pooled, 1 - fpr)),
            "n_images": int(idx.size),
            "healthy_scores": sorted(round(float(x), 6) for x in band_scores),
        }
        if groups is None:
            band["score_threshold"] = float(np.quantile(band_scores, 1 - fpr))
            band["rule"] = f"slice: {1 - fpr:g} quantile of the slice scores"
        else:
            top: dict[str, float] = {}
            for k in idx:
                top[groups[k]] = max(top.get(groups[k], -np.inf), float(scores[k]))
            q = 1 - fpr / len(present)
            band["score_threshold"] = float(np.quantile(np.asarray(list(top.values())), q))
            band["rule"] = f"volume: {q:g} quantile of each volume's highest score in the band"
            band["n_volumes"] = len(top)
        out.append(band)
    return out


def load_healthy(folder: str | Path) -> list[np.ndarray]:
    from assistant.scan import ScanError, load_scan

    out = []
    for path in list_scans(folder):
        try:
            out.append(load_scan(path).slice2d().pixels)
        except ScanError as exc:
            log.warning("skipping %s: %s", path.name, exc)
    return out


def calibrate_checkpoint(
    path: str | Path,
    healthy: str | Path,
    fpr: float = 0.05,
    method: str | None = None,
    preset: str | None = None,
) -> Calibration:
    """Calibrate a checkpoint folder's method/preset on a healthy folder and save detector.json."""
    det = Detector.from_pretrained(path, method=method, preset=preset)
    cal = calibrate(det, load_healthy(healthy), fpr=fpr, data=str(healthy))
    (Path(path) / "detector.json").write_text(det.model.config.to_json())
    return cal


# ----------------------------------------------------------------------------- confidence
# "isotonic": pool-adjacent-violators on the peak; "logistic": on ln(peak); "logistic-area": on
# ln(peak) and ln(area in pixels)
CONFIDENCE_KINDS = ("isotonic", "logistic", "logistic-area")
# by number of parameters (2, 3, one per isotonic block): the one-standard-error rule's order
SIMPLEST_FIRST = ("logistic", "logistic-area", "isotonic")
SHRINK = 1.0  # isotonic: each block's rate is shrunk towards the base rate by this many regions
CLIP = 1e-4  # log loss: probabilities clipped to [CLIP, 1 - CLIP]


def isotonic(x: np.ndarray, y: np.ndarray, shrink: float = SHRINK) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic (non-decreasing) regression of 0/1 labels `y` on `x` by pool-adjacent-violators,
    as knots (x, p) for linear interpolation: each block of pooled regions contributes its
    lowest and highest x at its rate (k + shrink * base) / (n + shrink), which keeps 0 and 1
    out of a finite sample and stays non-decreasing (pooled again where shrinking breaks it)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.size == 0:
        raise ValueError("isotonic regression needs at least one point")
    ux, inv = np.unique(x, return_inverse=True)
    k = np.bincount(inv, weights=y)
    n = np.bincount(inv).astype(np.float64)
    base = float(y.mean())
    blocks = _pava(list(zip(k, n, ux, ux, strict=True)))
    rate = [
        ((bk + shrink * base) / (bn + shrink), bn + shrink, lo, hi) for bk, bn, lo, hi in blocks
    ]
    pooled = _pava([(r * w, w, lo, hi) for r, w, lo, hi in rate])
    xs, ps = [], []
    for bk, bn, lo, hi in pooled:
        for v in (lo, hi) if hi > lo else (lo,):
            xs.append(float(v))
            ps.append(float(bk / bn))
    return np.asarray(xs), np.asarray(ps)


def _pava(
    blocks: list[tuple[float, float, float, float]],
) -> list[tuple[float, float, float, float]]:
    """Pool adjacent (sum, weight, lo, hi) blocks, in order of x, until their means
    sum / weight are increasing (equal neighbours pooled too: one block per level)."""
    out: list[list[float]] = []
    for b in blocks:
        out.append(list(b))
        while len(out) > 1 and out[-2][0] / out[-2][1] >= out[-1][0] / out[-1][1] - 1e-12:
            s2, w2, _, hi2 = out.pop()
            out[-1][0] += s2
            out[-1][1] += w2
            out[-1][3] = hi2
    return [tuple(b) for b in out]


def logistic(
    features: np.ndarray, y: np.ndarray, ridge: float = 1.0, iters: int = 100
) -> np.ndarray:
    """Logistic regression by Newton's method: coefficients (intercept, one per column of
    `features` (N, d)), an L2 penalty `ridge` / 2 |w|² on the slopes of the standardised columns
    (scikit-learn's default C = 1), which keeps the slopes finite on separable data."""
    f = np.asarray(features, np.float64).reshape(len(y), -1)
    y = np.asarray(y, np.float64)
    mu, sd = f.mean(0), f.std(0) + 1e-12
    x = np.column_stack([np.ones(len(y)), (f - mu) / sd])
    w = np.zeros(x.shape[1])
    pen = np.full(x.shape[1], ridge)
    pen[0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) + pen * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(pen + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    slopes = w[1:] / sd
    return np.concatenate([[w[0] - float(slopes @ mu)], slopes])


def _features(kind: str, peak: np.ndarray, area: np.ndarray | None) -> np.ndarray:
    cols = [np.log(np.maximum(np.asarray(peak, np.float64), 1e-12))]
    if kind == "logistic-area":
        if area is None:
            raise ValueError("logistic-area needs the regions' areas")
        cols.append(np.log(np.maximum(np.asarray(area, np.float64), 1.0)))
    return np.column_stack(cols)


def fit_confidence(
    peak: np.ndarray,
    true: np.ndarray,
    kind: str = "isotonic",
    area: np.ndarray | None = None,
    **info,
) -> ConfidenceMap:
    """Fit the map from a candidate region's peak (and area) to the probability that it is a
    true lesion, on regions with 0/1 labels `true`. `info` (data, label rule, counts) is stored
    with it, beside the fit's kind and its n."""
    peak = np.asarray(peak, np.float64)
    true = np.asarray(true, bool)
    if peak.size == 0 or peak.shape != true.shape:
        raise ValueError("fit_confidence needs one label per region, and at least one region")
    meta = {
        "fit": kind,
        "n_regions": int(peak.size),
        "n_true": int(true.sum()),
        "base_rate": round(float(true.mean()), 4),
        **info,
    }
    if kind == "isotonic":
        xs, ps = isotonic(peak, true)
        meta["shrink"] = SHRINK
        return ConfidenceMap(
            "isotonic",
            peaks=tuple(round(float(v), 6) for v in xs),
            probs=tuple(round(float(v), 4) for v in ps),
            info=meta,
        )
    if kind not in CONFIDENCE_KINDS:
        raise ValueError(f"unknown confidence fit {kind!r}; choose from {CONFIDENCE_KINDS}")
    coef = logistic(_features(kind, peak, area), true)
    coef[1] = max(coef[1], 0.0)  # non-decreasing in the peak
    return ConfidenceMap("logistic", coef=tuple(round(float(c), 6) for c in coef), info=meta)


def reliability(prob: np.ndarray, true: np.ndarray, bins: int = 10, table: bool = True) -> dict:
    """How well probabilities `prob` match the 0/1 outcomes `true`: expected calibration error
    over `bins` equal-width bins on [0, 1] ("ece": the |mean probability - observed rate| of
    each bin weighted by its share of the regions) and over `bins` equal-count bins
    ("ece_equal_count"), the Brier score, the log loss, and (`table`) the equal-width
    reliability table. Equal-count bins hold about n / `bins` regions each (regions of equal
    probability stay in one bin)."""
    p = np.clip(np.asarray(prob, np.float64), 0.0, 1.0)
    y = np.asarray(true, np.float64)
    n = p.size
    if n == 0:
        return {"n": 0}
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    ece, rows = 0.0, []
    for b in range(bins):
        sel = which == b
        if not sel.any():
            continue
        gap = abs(p[sel].mean() - y[sel].mean())
        ece += sel.sum() / n * gap
        rows.append(
            {
                "bin": [round(edges[b], 2), round(edges[b + 1], 2)],
                "n": int(sel.sum()),
                "mean_probability": round(float(p[sel].mean()), 4),
                "observed_rate": round(float(y[sel].mean()), 4),
            }
        )
    # equal-count bins: edges at the quantiles of p, equal probabilities kept in one bin
    q_edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    q_which = np.searchsorted(q_edges, p, side="right")
    ece_eq = sum(
        (q_which == b).sum() / n * abs(p[q_which == b].mean() - y[q_which == b].mean())
        for b in np.unique(q_which)
    )
    pc = np.clip(p, CLIP, 1 - CLIP)
    out = {
        "n": int(n),
        "observed_rate": round(float(y.mean()), 4),
        "mean_probability": round(float(p.mean()), 4),
        "ece": round(float(ece), 4),
        "ece_equal_count": round(float(ece_eq), 4),
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "log_loss": round(float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))), 4),
    }
    if table:
        out["table"] = rows
    return out


def choose_confidence(
    peak: np.ndarray,
    true: np.ndarray,
    groups: np.ndarray,
    area: np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """Cross-validate every kind of `CONFIDENCE_KINDS` on the fit set, folds by `groups` (the
    subject: its healthy and lesion images stay together), and choose by the one-standard-error
    rule: the simplest kind (`SIMPLEST_FIRST`) whose out-of-fold Brier score is within one
    standard error of the best one's."""
    peak, true, groups = np.asarray(peak), np.asarray(true, bool), np.asarray(groups)
    uniq = np.random.default_rng(seed).permutation(np.unique(groups))
    fold_of = {g: i % folds for i, g in enumerate(uniq)}
    fold = np.asarray([fold_of[g] for g in groups])
    out: dict = {"folds": folds, "by": "subject", "rule": "one standard error", "kinds": {}}
    sq: dict[str, np.ndarray] = {}
    for kind in SIMPLEST_FIRST:
        if kind == "logistic-area" and area is None:
            continue
        prob = np.zeros(peak.size)
        for k in range(folds):
            tr, te = fold != k, fold == k
            if not te.any():
                continue
            cmap = fit_confidence(peak[tr], true[tr], kind, area=None if area is None else area[tr])
            a = np.ones(te.sum()) if area is None else area[te]
            prob[te] = [cmap.probability(pk, ar) for pk, ar in zip(peak[te], a, strict=True)]
        sq[kind] = (prob - true) ** 2
        out["kinds"][kind] = reliability(prob, true, table=False)
    best = min(sq, key=lambda k: sq[k].mean())
    se = float(sq[best].std(ddof=1) / np.sqrt(max(peak.size, 1))) if peak.size > 1 else 0.0
    out["best_brier"] = {
        "kind": best,
        "brier": round(float(sq[best].mean()), 4),
        "se": round(se, 4),
    }
    out["chosen"] = next(k for k in sq if sq[k].mean() <= sq[best].mean() + se)
    return out
