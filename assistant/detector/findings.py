"""From a thresholded anomaly map to a list of `Finding`s (connected components)."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from assistant.detector.result import Finding


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
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
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
    structure = np.ones((3, 3))
    labels, n = ndimage.label(mask, structure=structure)
    idx = np.arange(1, n + 1)
    peaks = np.asarray(ndimage.maximum(anomaly, labels, index=idx), dtype=np.float64)
    where = ndimage.maximum_position(anomaly, labels, index=idx)
    level = np.concatenate([[np.inf], np.maximum(floor, relative * peaks)])[labels]
    cores, _ = ndimage.label(mask & (anomaly >= level), structure=structure)
    keep = sorted({int(cores[p]) for p in where} - {0})
    return np.isin(cores, keep)


def extract_findings(
    mask: np.ndarray,
    anomaly: np.ndarray,
    image01: np.ndarray,
    pseudo01: np.ndarray,
    foreground: np.ndarray,
    pixel_threshold: float,
    spacing: tuple[float, ...] | None = None,
    patient_left: str | None = None,
    slice_index: int | None = None,
    healthy_scores: list[float] | None = None,
    id_prefix: str = "F",
    midline_band: float = 0.03,
    central_band: float = 0.12,
) -> list[Finding]:
    """Describe each connected component of `mask` (all arrays (Y, X) on the scan grid).

    Side: the component centroid against the foreground's midline column (within
    `midline_band` of the foreground width: "midline"); in the patient frame when
    `patient_left` is known ("image_left" = neurological display), otherwise the image frame.
    Anterior/posterior: row 0 is anterior (standard axial display); within `central_band` of
    the foreground height of its centre: "central". `side_lean` / `ap_lean`: the side of the
    midline and of the centre that the centroid is on, also within those bands. Intensity: sign
    of input - pseudo-healthy.
    Confidence: the fraction of `healthy_scores` (the calibration images' map maxima) below the
    finding's peak; without them, how far the peak is above `pixel_threshold`.
    """
    if not mask.any():
        return []
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    fg = foreground if foreground.any() else np.ones_like(mask)
    rows, cols = np.nonzero(fg)
    mid_col = (cols.min() + cols.max()) / 2.0
    mid_row = (rows.min() + rows.max()) / 2.0
    half_w = max(1.0, (cols.max() - cols.min()) / 2.0)
    half_h = max(1.0, (rows.max() - rows.min()) / 2.0)
    px_area = float(spacing[-1] * spacing[-2]) if spacing is not None else None
    thr = max(pixel_threshold, 1e-8)
    ref = np.sort(np.asarray(healthy_scores, dtype=np.float64)) if healthy_scores else None
    out = []
    for lab, sl in enumerate(ndimage.find_objects(labels), start=1):
        comp = labels[sl] == lab
        rr, cc = np.nonzero(comp)
        rr = rr + sl[0].start
        cc = cc + sl[1].start
        vals = anomaly[rr, cc]
        delta = image01[rr, cc] - pseudo01[rr, cc]
        cy, cx = float(rr.mean()), float(cc.mean())
        dx = (cx - mid_col) / half_w
        image_side = "midline" if abs(dx) < midline_band else ("left" if dx < 0 else "right")
        lean = "left" if dx < 0 else "right"
        side, frame = image_side, "image"
        if patient_left in ("image_left", "image_right"):
            frame = "patient"
            if patient_left == "image_right":
                lean = "right" if lean == "left" else "left"
                if image_side != "midline":
                    side = "right" if image_side == "left" else "left"
        dy = (cy - mid_row) / half_h
        ap_lean = "anterior" if dy < 0 else "posterior"
        ap = "central" if abs(dy) < central_band else ap_lean
        radial = math.hypot(dx, dy)
        # anomaly-weighted balance of brighter vs darker than the pseudo-healthy image, in
        # [-1, 1]: the strongest deviations decide; near 0 (both signs, e.g. a ring) = mixed
        w = vals / max(float(vals.sum()), 1e-12)
        balance = float((w * delta).sum() / max(float((w * np.abs(delta)).sum()), 1e-12))
        intensity = (
            "hyperintense" if balance > 0.3 else "hypointense" if balance < -0.3 else "mixed"
        )
        peak = float(vals.max())
        if ref is not None:
            confidence = float(np.searchsorted(ref, peak, side="left")) / len(ref)
        else:  # 0 at the threshold, -> 1 as the peak reaches several times the threshold
            confidence = 1.0 - math.exp(-max(0.0, peak / thr - 1.0))
        out.append(
            Finding(
                id="",
                area_px=int(len(rr)),
                area_mm2=round(len(rr) * px_area, 1) if px_area else None,
                bbox=(int(rr.min()), int(cc.min()), int(rr.max()) + 1, int(cc.max()) + 1),
                centroid=(round(cy, 1), round(cx, 1)),
                side=side,
                side_frame=frame,
                anterior_posterior=ap,
                central_peripheral="central" if radial < 0.5 else "peripheral",
                intensity=intensity,
                intensity_delta=round(float(delta.mean()), 4),
                peak_anomaly=round(peak, 5),
                mean_anomaly=round(float(vals.mean()), 5),
                confidence=round(confidence, 3),
                slice_index=slice_index,
                side_lean=lean,
                ap_lean=ap_lean,
            )
        )
    out.sort(key=lambda f: f.peak_anomaly, reverse=True)
    for i, f in enumerate(out, start=1):
        f.id = f"{id_prefix}{i}"
    return out
