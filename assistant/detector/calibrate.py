"""Calibration on healthy validation scans only (never on test or holdout data).

pixel threshold: the (1 - fpr) quantile of the anomaly map over all foreground pixels of the
healthy images, so that at most `fpr` of healthy foreground pixels are flagged.
score threshold: the (1 - fpr) quantile of the healthy image scores (the map's maximum); it is
also the seed level of the detector's hysteresis mask, so at most about `fpr` of healthy images
get any finding. The sorted healthy scores are kept for the findings' confidence.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from assistant.detector.data import list_scans
from assistant.detector.detector import Detector
from assistant.detector.model import Calibration

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
    detector.model.config.calibration[detector.key] = cal
    return cal


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
