"""What the detector returns: a `DetectionResult` (maps, thresholds, findings)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from assistant.detector.postprocess import PostProcess, describe_regions
from assistant.findings import Finding, SideFrame


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
    side_frame: SideFrame = "image"
    slice_index: int | None = None
    # the post-processing that made mask and findings from the maps (None: uncalibrated, or a
    # result built by hand); `rethreshold` redoes it
    postprocess: PostProcess | None = field(default=None, repr=False)
    # True when the scan is outside the detector's domain and was analysed anyway
    # (`assistant.domain`): the score, the maps and every finding are unreliable
    unreliable: bool = False
    # the map a region's confidence is read from when it is not `anomaly_map` (a volume's
    # level smoothed across levels: the unsmoothed map, `assistant.volume.smoothing`)
    peak_map: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_abnormal(self) -> bool | None:
        """Image score above the calibrated threshold (None when uncalibrated)."""
        if self.score_threshold is None:
            return None
        return bool(self.score > self.score_threshold)

    def rethreshold(
        self, sensitivity: float, *, postprocess: PostProcess | None = None
    ) -> DetectionResult:
        """The result with its pixel and image thresholds divided by `sensitivity` (> 1: more
        sensitive, more false positives; 1: unchanged), mask, findings and weak findings redone
        on the same maps by the same post-processing (`postprocess`: instead of the one the
        result was made with, for a result built without it). An uncalibrated result, or
        sensitivity 1, returns the result itself.
        """
        if sensitivity <= 0:
            raise ValueError(f"sensitivity must be > 0, got {sensitivity}")
        if self.pixel_threshold is None or sensitivity == 1.0:
            return self
        base = postprocess or self.postprocess
        if base is None:
            raise ValueError(
                "this result does not carry the post-processing it was made with; pass "
                "postprocess=PostProcess(...) to rethreshold it"
            )
        current = replace(
            base, pixel_threshold=self.pixel_threshold, seed_threshold=self.score_threshold
        )
        params = current.scaled(sensitivity)
        mask, findings, weak = describe_regions(
            self.anomaly_map,
            self.foreground,
            self.image,
            self.pseudo_healthy,
            params,
            peak_map=self.peak_map,
        )
        redone = replace(
            self,
            mask=mask,
            findings=findings,
            weak_findings=weak,
            pixel_threshold=params.pixel_threshold,
            score_threshold=params.seed_threshold,
            params={**self.params, "sensitivity": sensitivity},
            postprocess=params,
        )
        return redone.as_unreliable() if self.unreliable else redone

    def as_unreliable(self) -> DetectionResult:
        """The result marked unreliable (analysed although outside the detector's domain),
        every finding and weak region with it."""
        return replace(
            self,
            findings=[replace(f, unreliable=True) for f in self.findings],
            weak_findings=[replace(f, unreliable=True) for f in self.weak_findings],
            unreliable=True,
        )

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
            "unreliable": self.unreliable,
            "findings": [f.to_dict() for f in self.findings],
            "weak_findings": [f.to_dict() for f in self.weak_findings],
        }
