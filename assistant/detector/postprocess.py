"""The detector's post-processing: from an anomaly map to a mask, findings and weak findings.

`describe_regions(anomaly, foreground, image01, pseudo01, params)` is all of it; `params` is a
`PostProcess` (keyword-only): the calibrated thresholds, the smallest region, and what the
findings are described with (pixel spacing, orientation, slice index, healthy scores). A
`DetectionResult` keeps the `PostProcess` it was made with, so that it can be redone with other
thresholds (`DetectionResult.rethreshold`).

Steps (all arrays (Y, X) on the scan's own grid):

1. regions: the foreground above the pixel threshold, without components under `min_area`
   pixels (`remove_small`), each trimmed to its core (`peak_cores`);
2. mask: the regions whose peak reaches the seed (image-score) threshold (hysteresis,
   `seeded_components`);
3. findings F1..: the mask's components; weak findings W1..: the other regions, at most
   `max_weak` (`extract_findings`, the words from `assistant.findings`);
4. confidence (`ConfidenceMap`): each region's estimated probability of being a true lesion, a
   monotone function of its peak fitted on validation data (`calibrate.fit_confidence`,
   `python -m eval.confidence`); without a fitted map, the fallback of `Finding.confidence`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from assistant.findings import Finding, confidence_level_of, opposite_part_of, side_frame

MIN_AREA_GRID = 6  # components smaller than this on the model grid are noise (post-processing)
MAX_WEAK = 3  # sub-threshold regions kept for questions about an image without findings
# a region is trimmed to where the map reaches this fraction of the region's peak (and the
# pixel threshold): chosen on validation data (eval/sweep_detector.py, `seeded.by_core`): Dice
# 0.37 -> 0.53 and size-bin accuracy 0.42 -> 0.68 at 0.3 (0.2: 0.51, 0.4: 0.52, 0.5: 0.49)
RELATIVE_CORE = 0.3
_EIGHT = np.ones((3, 3))  # 8-connectivity


@dataclass(frozen=True)
class ConfidenceMap:
    """A candidate region's peak anomaly -> the estimated probability that it is a true lesion.

    Fitted on validation data (`assistant.detector.calibrate.fit_confidence`, run by
    `python -m eval.confidence`) and stored in detector.json as the "confidence" block of a
    method/preset's calibration. Non-decreasing in the peak, so a stronger deviation never gets a
    lower probability. kind "isotonic": linear interpolation between knots (`peaks`, `probs`),
    constant beyond them; kind "logistic": 1 / (1 + exp(-(coef[0] + coef[1] ln peak [+
    coef[2] ln area_px]))). `info`: what it was fitted on (n, data, label rule, cross-validation).
    """

    kind: str
    peaks: tuple[float, ...] = ()
    probs: tuple[float, ...] = ()
    coef: tuple[float, ...] = ()
    info: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if self.kind == "isotonic":
            p, q = np.asarray(self.peaks, float), np.asarray(self.probs, float)
            if p.size == 0 or p.shape != q.shape:
                raise ValueError("an isotonic confidence map needs as many probs as peaks (> 0)")
            if np.any(np.diff(p) < 0) or np.any(np.diff(q) < -1e-12):
                raise ValueError("an isotonic confidence map must be non-decreasing")
            if q.min() < 0 or q.max() > 1:
                raise ValueError("probabilities must lie in [0, 1]")
        elif self.kind == "logistic":
            if len(self.coef) not in (2, 3) or self.coef[1] < 0:
                raise ValueError(
                    "a logistic confidence map needs (intercept, ln-peak slope >= 0[, ln-area])"
                )
        else:
            raise ValueError(f"unknown confidence map kind {self.kind!r}")

    def probability(self, peak: float, area_px: float | None = None) -> float:
        """The estimated probability that a region with this peak (and area in scan pixels,
        used by a logistic map with an area term) is a true lesion."""
        if self.kind == "isotonic":
            return float(np.interp(peak, self.peaks, self.probs))
        z = self.coef[0] + self.coef[1] * math.log(max(peak, 1e-12))
        if len(self.coef) == 3:
            z += self.coef[2] * math.log(max(area_px or 1.0, 1.0))
        return float(1.0 / (1.0 + math.exp(-min(max(z, -50.0), 50.0))))

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "peaks": list(self.peaks),
            "probs": list(self.probs),
            "coef": list(self.coef),
            **self.info,
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> ConfidenceMap | None:
        """The map of a detector.json "confidence" block (None: no block)."""
        if not d:
            return None
        core = ("kind", "peaks", "probs", "coef")
        return cls(
            kind=d["kind"],
            peaks=tuple(float(v) for v in d.get("peaks", ())),
            probs=tuple(float(v) for v in d.get("probs", ())),
            coef=tuple(float(v) for v in d.get("coef", ())),
            info={k: v for k, v in d.items() if k not in core},
        )


@dataclass(frozen=True, kw_only=True)
class PostProcess:
    """The parameters of the detector's post-processing (see the module docstring).

    pixel_threshold: the calibrated pixel threshold (region extent); seed_threshold: the
    calibrated image-score threshold a region's peak must reach to be a finding (None: every
    region is one); min_area: the smallest region in scan pixels (`min_area_for`); core: the
    fraction of its own peak a region is trimmed to; max_weak: how many weak findings are kept.
    spacing (mm, (..., row, col)) gives areas in mm²; patient_left ("image_left" /
    "image_right") puts sides in the patient's frame; slice_index is copied into the findings;
    confidence: the fitted map from a region's peak to the probability that it is a true
    lesion (`ConfidenceMap`; None: not fitted for this method/preset, and the findings get the
    fallback, `healthy_scores`: the calibration images' map maxima, see `Finding.confidence`).
    midline_band / central_band: the middle bands, as fractions of the foreground's half width /
    half height, where a finding is "midline" / "central".
    """

    pixel_threshold: float
    seed_threshold: float | None = None
    min_area: int = 1
    core: float = RELATIVE_CORE
    max_weak: int = MAX_WEAK
    spacing: tuple[float, ...] | None = None
    patient_left: str | None = None
    slice_index: int | None = None
    healthy_scores: Sequence[float] = field(default=(), repr=False)
    confidence: ConfidenceMap | None = field(default=None, repr=False)
    midline_band: float = 0.03
    central_band: float = 0.12

    def scaled(self, sensitivity: float) -> PostProcess:
        """Both thresholds divided by `sensitivity` (> 1: more sensitive)."""
        seed = None if self.seed_threshold is None else self.seed_threshold / sensitivity
        return replace(
            self, pixel_threshold=self.pixel_threshold / sensitivity, seed_threshold=seed
        )


def min_area_for(grid_scale: float) -> int:
    """`MIN_AREA_GRID` model-grid pixels in scan pixels, for a scan resized by `grid_scale`
    (model-grid pixels per scan pixel) to the model grid."""
    return int(round(MIN_AREA_GRID / grid_scale**2))


def describe_regions(
    anomaly: np.ndarray,
    foreground: np.ndarray,
    image01: np.ndarray,
    pseudo01: np.ndarray,
    params: PostProcess,
    peak_map: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Finding], list[Finding]]:
    """The detector's post-processing of a map on the scan grid: (mask, findings, weak).

    Regions and mask as in `flag_mask`; the mask's regions (peak at least the seed threshold,
    the calibrated image threshold) are the findings F1... The other regions, at most
    `params.max_weak` of them by decreasing peak, are the weak findings W1...: deviations below
    the image threshold that may be noise or normal variation, reported apart so that nothing
    calls them findings.

    peak_map: the map whose peak within a region its confidence is read from, when that is not
    `anomaly` (a volume's maps smoothed across levels: the confidence map was fitted on the
    peaks of unsmoothed maps, `assistant.volume.smoothing`).
    """
    p = params
    regions, mask = flag_mask(
        anomaly, foreground, p.pixel_threshold, p.seed_threshold, p.min_area, p.core
    )
    maps = (anomaly, image01, pseudo01, foreground)
    findings = extract_findings(mask, *maps, p, peak_map=peak_map)
    weak = extract_findings(regions & ~mask, *maps, p, id_prefix="W", peak_map=peak_map)
    return mask, findings, weak[: p.max_weak]


def flag_mask(
    anomaly: np.ndarray,
    foreground: np.ndarray,
    pixel_threshold: float,
    seed_threshold: float | None,
    min_area: int,
    core: float = RELATIVE_CORE,
) -> tuple[np.ndarray, np.ndarray]:
    """(regions, mask): the foreground regions above `pixel_threshold` with at least
    `min_area` pixels, each trimmed to its core (`peak_cores` at `core` of its peak), and the
    mask of those whose peak reaches `seed_threshold` (hysteresis; None: all of them)."""
    regions = remove_small((anomaly > pixel_threshold) & foreground, min_area)
    regions = peak_cores(regions, anomaly, pixel_threshold, core)
    return regions, seeded_components(regions, anomaly, seed_threshold, 1)


def remove_small(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop connected components (8-connectivity) smaller than `min_area` pixels."""
    if min_area <= 1:
        return mask
    return seeded_components(mask, mask, None, min_area)


def seeded_components(
    mask: np.ndarray, anomaly: np.ndarray, seed: float | None, min_area: int
) -> np.ndarray:
    """Hysteresis thresholding: keep the connected components (8-connectivity) of `mask` that
    have at least `min_area` pixels and whose peak `anomaly` reaches `seed` (None: any peak).

    The detector passes mask = map above the calibrated pixel threshold and seed = the calibrated
    image-score threshold, so a region is reported only where the map reaches a level that at
    most the calibrated fraction of healthy validation images reach anywhere, and its extent is
    where the map exceeds the pixel threshold.
    """
    if not mask.any():
        return mask
    labels, n = ndimage.label(mask, structure=_EIGHT)
    idx = np.arange(1, n + 1)
    ok = ndimage.sum(mask, labels, index=idx) >= max(min_area, 1)
    if seed is not None:
        ok &= ndimage.maximum(anomaly, labels, index=idx) >= seed
    return np.isin(labels, idx[ok])


def peak_cores(mask: np.ndarray, anomaly: np.ndarray, floor: float, relative: float) -> np.ndarray:
    """Trim every connected component (8-connectivity) of `mask` to its core: the pixels
    connected to the component's peak where `anomaly` reaches max(`floor`, `relative` x peak).

    A smoothed map spreads a lesion's deviation far beyond the lesion; a threshold relative to
    each region's own peak (like a full width at a fraction of the maximum) keeps its extent
    close to the lesion's, whatever the lesion's contrast. `relative` <= 0 returns `mask`.
    """
    if relative <= 0 or not mask.any():
        return mask
    labels, n = ndimage.label(mask, structure=_EIGHT)
    idx = np.arange(1, n + 1)
    peaks = np.asarray(ndimage.maximum(anomaly, labels, index=idx), dtype=np.float64)
    where = ndimage.maximum_position(anomaly, labels, index=idx)
    level = np.concatenate([[np.inf], np.maximum(floor, relative * peaks)])[labels]
    cores, _ = ndimage.label(mask & (anomaly >= level), structure=_EIGHT)
    keep = sorted({int(cores[p]) for p in where} - {0})
    return np.isin(cores, keep)


def region_features(labels: np.ndarray, n: int, anomaly: np.ndarray) -> dict[str, np.ndarray]:
    """Peak, area (pixels) and mean of `anomaly` over each region 1..`n` of `labels`: what a
    region's confidence is fitted on (`calibrate.fit_confidence`)."""
    if n == 0:
        return {k: np.zeros(0) for k in ("peak", "area", "mean")}
    idx = np.arange(1, n + 1)
    vals = np.asarray(anomaly, dtype=np.float64)
    return {
        "peak": np.asarray(ndimage.maximum(vals, labels, index=idx), dtype=np.float64),
        "area": np.asarray(ndimage.sum(np.ones_like(vals), labels, index=idx), dtype=np.float64),
        "mean": np.asarray(ndimage.mean(vals, labels, index=idx), dtype=np.float64),
    }


def extract_findings(
    mask: np.ndarray,
    anomaly: np.ndarray,
    image01: np.ndarray,
    pseudo01: np.ndarray,
    foreground: np.ndarray,
    params: PostProcess,
    id_prefix: str = "F",
    peak_map: np.ndarray | None = None,
) -> list[Finding]:
    """Describe each connected component of `mask` (all arrays (Y, X) on the scan grid), ids
    `id_prefix`1.. by decreasing peak anomaly.

    Side: the component centroid against the foreground's midline column (within
    `params.midline_band` of the foreground's half width: "midline"); in the patient frame when
    `params.patient_left` is known ("image_left" = neurological display), otherwise the image
    frame. Anterior/posterior: row 0 is anterior (standard axial display); within
    `params.central_band` of the foreground's half height of its centre: "central".
    `side_lean` / `ap_lean`: the side of the midline and of the centre that the centroid is on,
    also within those bands. Intensity: sign of input - pseudo-healthy. Confidence: the
    estimated probability that the region is a true lesion, `params.confidence` at its peak,
    with its word (`assistant.findings.confidence_level_of`, against `params.seed_threshold`);
    without a fitted map the fallback (level "uncalibrated"): the fraction of
    `params.healthy_scores` below the peak, or without them how far the peak is above
    `params.pixel_threshold`. `peak_map`: the map the confidence's peak is read from instead of
    `anomaly` (`describe_regions`).
    """
    if not mask.any():
        return []
    labels, _ = ndimage.label(mask, structure=_EIGHT)
    frame = _Frame.of(foreground if foreground.any() else np.ones_like(mask), params)
    out = []
    for lab, sl in enumerate(ndimage.find_objects(labels), start=1):
        rr, cc = np.nonzero(labels[sl] == lab)
        rr = rr + sl[0].start
        cc = cc + sl[1].start
        delta = image01[rr, cc] - pseudo01[rr, cc]
        conf_peak = None if peak_map is None else float(peak_map[rr, cc].max())
        out.append(frame.finding(rr, cc, anomaly[rr, cc], delta, conf_peak))
    out.sort(key=lambda f: f.peak_anomaly, reverse=True)
    for i, f in enumerate(out, start=1):
        f.id = f"{id_prefix}{i}"
    return out


@dataclass
class _Frame:
    """What a component is measured against: the foreground's centre and half extents, the
    pixel area, the confidence reference, and the post-processing parameters."""

    params: PostProcess
    mid_row: float
    mid_col: float
    half_h: float
    half_w: float
    px_area: float | None  # mm² per pixel
    ref: np.ndarray | None  # sorted healthy scores

    @classmethod
    def of(cls, fg: np.ndarray, params: PostProcess) -> _Frame:
        rows, cols = np.nonzero(fg)
        spacing, scores = params.spacing, params.healthy_scores
        return cls(
            params=params,
            mid_row=(rows.min() + rows.max()) / 2.0,
            mid_col=(cols.min() + cols.max()) / 2.0,
            half_h=max(1.0, (rows.max() - rows.min()) / 2.0),
            half_w=max(1.0, (cols.max() - cols.min()) / 2.0),
            px_area=float(spacing[-1] * spacing[-2]) if spacing is not None else None,
            ref=np.sort(np.asarray(scores, dtype=np.float64)) if len(scores) else None,
        )

    def finding(
        self,
        rr: np.ndarray,
        cc: np.ndarray,
        vals: np.ndarray,
        delta: np.ndarray,
        conf_peak: float | None = None,
    ) -> Finding:
        """The (unnamed) finding of the component at pixels (rr, cc), with its anomaly `vals`
        and its input - pseudo-healthy differences `delta`; `conf_peak`: the peak its
        confidence is read at (None: the peak of `vals`)."""
        p = self.params
        cy, cx = float(rr.mean()), float(cc.mean())
        dx = (cx - self.mid_col) / self.half_w
        dy = (cy - self.mid_row) / self.half_h
        side, lean = self._side(dx)
        ap_lean = "anterior" if dy < 0 else "posterior"
        peak = float(vals.max())
        px_area = self.px_area
        confidence, calibrated = self._confidence(peak if conf_peak is None else conf_peak, len(rr))
        level = confidence_level_of(confidence, peak, p.seed_threshold, calibrated)
        return Finding(
            id="",
            area_px=int(len(rr)),
            area_mm2=round(len(rr) * px_area, 1) if px_area else None,
            bbox=(int(rr.min()), int(cc.min()), int(rr.max()) + 1, int(cc.max()) + 1),
            centroid=(round(cy, 1), round(cx, 1)),
            side=side,
            side_frame=side_frame(p.patient_left),
            anterior_posterior="central" if abs(dy) < p.central_band else ap_lean,
            central_peripheral="central" if math.hypot(dx, dy) < 0.5 else "peripheral",
            intensity=_intensity(vals, delta),
            intensity_delta=round(float(delta.mean()), 4),
            peak_anomaly=round(peak, 5),
            mean_anomaly=round(float(vals.mean()), 5),
            confidence=round(confidence, 3),
            slice_index=p.slice_index,
            side_lean=lean,
            ap_lean=ap_lean,
            confidence_level=level,
            opposite_part=round(opposite_part_of(delta, float(delta.mean())), 3),
        )

    def _side(self, dx: float) -> tuple[str, str]:
        """(side, lean) of a centroid `dx` half widths right of the midline column, in the
        patient's frame when the orientation is known."""
        image_side = "midline" if abs(dx) < self.params.midline_band else _left_right(dx)
        side, lean = image_side, _left_right(dx)
        if self.params.patient_left == "image_right":  # the image is mirrored
            lean = _mirror(lean)
            side = image_side if image_side == "midline" else _mirror(image_side)
        return side, lean

    def _confidence(self, peak: float, area_px: int) -> tuple[float, bool]:
        """(confidence, calibrated): the fitted probability of a true lesion, or the fallback."""
        if self.params.confidence is not None:
            return self.params.confidence.probability(peak, area_px), True
        if self.ref is not None:
            return float(np.searchsorted(self.ref, peak, side="left")) / len(self.ref), False
        # 0 at the threshold, -> 1 as the peak reaches several times the threshold
        thr = max(self.params.pixel_threshold, 1e-8)
        return 1.0 - math.exp(-max(0.0, peak / thr - 1.0)), False


def _left_right(dx: float) -> str:
    return "left" if dx < 0 else "right"


def _mirror(side: str) -> str:
    return "right" if side == "left" else "left"


def _intensity(vals: np.ndarray, delta: np.ndarray) -> str:
    """Anomaly-weighted balance of brighter vs darker than the pseudo-healthy image, in
    [-1, 1]: the strongest deviations decide; near 0 (both signs, e.g. a ring) = mixed."""
    w = vals / max(float(vals.sum()), 1e-12)
    balance = float((w * delta).sum() / max(float((w * np.abs(delta)).sum()), 1e-12))
    return "hyperintense" if balance > 0.3 else "hypointense" if balance < -0.3 else "mixed"
