"""Finding profiles: the detector-independent description of one abnormality.

A `FindingProfile` is what "similar findings" compares: side, position, size, intensity and a
confidence. It is built either from a detector `Finding` (a query) or from a lesion mask and
its metadata (a library case: synthetic lesions, or a user's case with a mask), so that cases in
the library never depend on the detector checkpoint.

The fields, their values and the size bins are the finding vocabulary of `assistant.findings`.
Positions (side, anterior/posterior, central/peripheral) and intensity are measured by the
detector's own post-processing (`assistant.detector.postprocess.extract_findings`), which
`profile_from_mask` calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy import ndimage

from assistant.findings import (
    AP,
    APS,
    CP,
    CPS,
    INTENSITIES,
    SIDES,
    SIZE_BINS,
    Intensity,
    Side,
    SizeBin,
    size_bin,
)


@dataclass(frozen=True)
class FindingProfile:
    """One abnormality, described only by categorical position/appearance fields."""

    side: Side
    anterior_posterior: AP
    central_peripheral: CP
    intensity: Intensity
    size_bin: SizeBin
    confidence: float = 1.0  # in [0, 1]; 1 for ground-truth masks

    def __post_init__(self) -> None:
        for name, allowed in (
            ("side", SIDES),
            ("anterior_posterior", APS),
            ("central_peripheral", CPS),
            ("intensity", INTENSITIES),
            ("size_bin", SIZE_BINS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"finding {name}={value!r} is not one of {allowed}")
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise ValueError(f"finding confidence={self.confidence} must lie in [0, 1]")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FindingProfile:
        keys = ("side", "anterior_posterior", "central_peripheral", "intensity", "size_bin")
        missing = [k for k in keys if k not in d]
        if missing:
            raise ValueError(f"finding profile is missing {missing}; it needs {list(keys)}")
        return cls(**{k: d[k] for k in keys}, confidence=float(d.get("confidence", 1.0)))

    @classmethod
    def from_finding(cls, finding, shape: tuple[int, int] | None = None) -> FindingProfile:
        """From an `assistant.findings.Finding` on an image of `shape` (H, W) (needed for the
        size bin when the finding has no area in mm²)."""
        return cls(
            side=finding.side,
            anterior_posterior=finding.anterior_posterior,
            central_peripheral=finding.central_peripheral,
            intensity=finding.intensity,
            size_bin=size_bin(finding.area_px, shape, area_mm2=finding.area_mm2),
            confidence=float(np.clip(finding.confidence, 0.0, 1.0)),
        )

    def describe(self) -> str:
        """Findings text in the words a report would use, e.g. for text queries."""
        return f"{self.size_bin} {self.intensity} lesion {self.location()}"

    def location(self) -> str:
        """E.g. "in the left cerebral hemisphere, anterior, deep (central)"."""
        side = "midline" if self.side == "midline" else f"{self.side} cerebral hemisphere"
        ap = {"anterior": "anterior", "central": "mid", "posterior": "posterior"}
        cp = {"central": "deep (central)", "peripheral": "peripheral"}
        return f"in the {side}, {ap[self.anterior_posterior]}, {cp[self.central_peripheral]}"


def profile_from_mask(
    mask: np.ndarray,
    foreground: np.ndarray,
    image: np.ndarray | None = None,
    healthy: np.ndarray | None = None,
    *,
    spacing: tuple[float, float] | None = None,
    intensity: Intensity | None = None,
) -> list[FindingProfile]:
    """Profiles of the lesions in a (Y, X) bool `mask` inside a (Y, X) bool `foreground`, one per
    connected component (largest first), described by the detector's own
    `assistant.detector.postprocess.extract_findings` with the mask as a perfect anomaly map and
    `healthy` as the pseudo-healthy image, so that library cases and detector queries share one
    definition of side, position and intensity.

    image, healthy: (Y, X) in [0, 1]. Without `healthy` the lesion is compared with the mean of a
    3-pixel ring around it; without `image`, `intensity` must be given. `intensity` (e.g.
    synthetic-lesion metadata) overrides the measured class. Sides are image sides (image left =
    "left"; the patient's left for neurological-convention scans such as MNI/IXI slices).
    """
    from assistant.detector.postprocess import PostProcess, extract_findings

    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or np.shape(foreground) != mask.shape:
        raise ValueError(
            f"mask {mask.shape} and foreground {np.shape(foreground)} must be the same 2D shape"
        )
    if not mask.any():
        raise ValueError("the lesion mask is empty; a profile needs at least one lesion pixel")
    if image is None and intensity is None:
        raise ValueError("an intensity class needs the image (or pass intensity=...)")
    foreground = np.asarray(foreground, dtype=bool) | mask
    if image is None:  # only the position matters: any contrast will do
        image, healthy = mask.astype(np.float32), np.zeros(mask.shape, np.float32)
    image = np.asarray(image, dtype=np.float32)
    if healthy is None:
        ring = ndimage.binary_dilation(mask, iterations=3) & ~mask & foreground
        ref = float(image[ring].mean()) if ring.any() else float(image[foreground].mean())
        healthy = np.where(mask, ref, image)
    findings = extract_findings(
        mask,
        mask.astype(np.float32),
        image,
        np.asarray(healthy, dtype=np.float32),
        foreground,
        PostProcess(pixel_threshold=0.5, spacing=spacing),
    )
    findings.sort(key=lambda f: f.area_px, reverse=True)
    out = []
    for f in findings:
        p = FindingProfile.from_finding(f, mask.shape)
        out.append(replace(p, intensity=intensity) if intensity is not None else p)
    return out
