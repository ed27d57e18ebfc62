"""What the detector returns: `Finding` and `DetectionResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

Side = Literal["left", "right", "midline"]
Intensity = Literal["hyperintense", "hypointense", "mixed"]


@dataclass
class Finding:
    """One candidate abnormality: a connected component of the calibrated anomaly mask.

    Coordinates are on the scan's own 2D grid (row, column) in pixels.
    """

    id: str  # "F1", "F2", ... by decreasing peak anomaly
    area_px: int
    area_mm2: float | None  # None when the scan has no spacing
    bbox: tuple[int, int, int, int]  # (row0, col0, row1, col1), end-exclusive
    centroid: tuple[float, float]  # (row, col)
    side: Side
    side_frame: Literal["patient", "image"]  # "patient" when the scan knows its orientation
    anterior_posterior: Literal["anterior", "posterior", "central"]  # top of image = anterior
    central_peripheral: Literal["central", "peripheral"]
    intensity: Intensity  # relative to the surrounding tissue, input vs. pseudo-healthy
    intensity_delta: float  # mean (input - pseudo-healthy) inside the finding, in [0,1] units
    peak_anomaly: float
    mean_anomaly: float
    # in [0, 1]: the fraction of healthy calibration images whose anomaly peak is below this
    # finding's peak (uncalibrated-style fallback: how far above the pixel threshold it is)
    confidence: float
    slice_index: int | None = None  # for volumes: which axial slice
    # which way the centroid leans, also inside the midline / central bands (same frame as
    # `side`): answers "left or right?" for a midline finding with "midline, slightly left"
    side_lean: Literal["left", "right"] | None = None
    ap_lean: Literal["anterior", "posterior"] | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """A short human-readable description, e.g. for reports and prompts."""
        size = f"{self.area_mm2:.0f} mm²" if self.area_mm2 is not None else f"{self.area_px} px"
        frame = "" if self.side_frame == "patient" else " (image side; orientation unknown)"
        return (
            f"{self.id}: {self.intensity} region, {self.side}{frame}, {self.anterior_posterior}, "
            f"{self.central_peripheral}, {size}, confidence {self.confidence:.2f}"
        )


@dataclass
class DetectionResult:
    """Output of `Detector(scan)`; all maps are float32 on the scan's own 2D grid."""

    anomaly_map: np.ndarray  # (Y, X) float32, >= 0, higher = more anomalous
    pseudo_healthy: np.ndarray  # (Y, X) float32 in [0, 1] display units
    image: np.ndarray  # (Y, X) float32 in [0, 1]: the normalised input the map refers to
    foreground: np.ndarray  # (Y, X) bool
    # (Y, X) bool: foreground regions above pixel_threshold whose peak reaches score_threshold
    mask: np.ndarray
    score: float  # image-level anomaly score: the map's maximum over the foreground
    score_threshold: float | None  # calibrated image threshold (None if uncalibrated)
    pixel_threshold: float | None
    findings: list[Finding] = field(default_factory=list)
    # regions above the pixel threshold whose peak stays below the image threshold (W1.., at
    # most 3): not findings; kept so that questions about an unflagged image can be answered
    # with that caveat
    weak_findings: list[Finding] = field(default_factory=list)
    method: str = ""
    params: dict = field(default_factory=dict)
    unet_calls: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    side_frame: Literal["patient", "image"] = "image"
    slice_index: int | None = None
    # sorted image scores of the healthy calibration images (for the findings' confidence)
    healthy_scores: list[float] = field(default_factory=list, repr=False)

    @property
    def is_abnormal(self) -> bool | None:
        """Image score above the calibrated threshold (None when uncalibrated)."""
        if self.score_threshold is None:
            return None
        return bool(self.score > self.score_threshold)

    def summary(self) -> dict:
        """JSON-ready summary without the arrays."""
        return {
            "score": self.score,
            "score_threshold": self.score_threshold,
            "is_abnormal": self.is_abnormal,
            "pixel_threshold": self.pixel_threshold,
            "method": self.method,
            "params": self.params,
            "unet_calls": self.unet_calls,
            "timings": self.timings,
            "side_frame": self.side_frame,
            "slice_index": self.slice_index,
            "findings": [f.to_dict() for f in self.findings],
            "weak_findings": [f.to_dict() for f in self.weak_findings],
        }
