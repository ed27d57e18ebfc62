"""Finding profiles: the detector-independent description of one abnormality.

A `FindingProfile` is what "similar findings" compares: side, position, size, intensity and a
confidence. It is built either from a detector `Finding` (a query) or from a lesion mask and
its metadata (a library case: synthetic lesions, or a user's case with a mask), so that cases in
the library never depend on the detector checkpoint.

Conventions (the same as `assistant.detector.result.Finding`):
- side is "left" / "right" / "midline"; for masks it is computed on the image (image left = the
  patient's left for neurological-convention scans such as the MNI/IXI slices): the side of the
  lesion centroid, "midline" within `MIDLINE_FRACTION` of the foreground's width of its midline;
- anterior_posterior splits the foreground's row extent into thirds (top of image = anterior);
- central_peripheral: "central" when the lesion centroid lies deeper inside the foreground than
  `CENTRAL_DEPTH` of the foreground's maximum depth (Euclidean distance to its edge);
- size bins: THOR's bins (Bercea et al., MICCAI 2024; `assistant.synth.size_bin_for_area`):
  small <= 71 px < medium <= 570 px < large on a 128x128 grid, scaled to the image's area
  when the spacing is unknown; with a known spacing the same bins for a 197x233 mm
  (MNI 1 mm) field of view, i.e. 200 mm² and 1600 mm².
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

Side = Literal["left", "right", "midline"]
AP = Literal["anterior", "central", "posterior"]
CP = Literal["central", "peripheral"]
Intensity = Literal["hyperintense", "hypointense", "mixed"]
SizeBin = Literal["small", "medium", "large"]

SIDES: tuple[str, ...] = ("left", "right", "midline")
APS: tuple[str, ...] = ("anterior", "central", "posterior")
CPS: tuple[str, ...] = ("central", "peripheral")
INTENSITIES: tuple[str, ...] = ("hyperintense", "hypointense", "mixed")
SIZE_BINS: tuple[str, ...] = ("small", "medium", "large")

SIZE_EDGES_MM2 = (200.0, 1600.0)  # small <= 200 mm² < medium <= 1600 mm² < large
MIDLINE_FRACTION = 0.03  # |centroid - midline| below this share of the width -> "midline"
CENTRAL_DEPTH = 0.45  # depth ratio at or above which a lesion counts as "central"
INTENSITY_DELTA = 0.03  # mean change in [0, 1] units that makes a lesion hyper/hypo-intense


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
        """From an `assistant.detector.result.Finding` on an image of `shape` (H, W) (needed
        for the size bin when the finding has no area in mm²)."""
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


def size_bin(
    area_px: float, shape: tuple[int, int] | None, area_mm2: float | None = None
) -> SizeBin:
    """ "small" / "medium" / "large": by `area_mm2` when known (edges `SIZE_EDGES_MM2`), else by
    `area_px` on an image of `shape` (H, W) with `assistant.synth.size_bin_for_area`."""
    if area_mm2 is not None:
        lo, hi = SIZE_EDGES_MM2
        return "small" if area_mm2 <= lo else ("medium" if area_mm2 <= hi else "large")
    if shape is None:
        raise ValueError("a size bin needs the area in mm² or the image shape (H, W)")
    from assistant.synth import size_bin_for_area

    return size_bin_for_area(area_px, shape)


def profile_from_mask(
    mask: np.ndarray,
    foreground: np.ndarray,
    image: np.ndarray | None = None,
    healthy: np.ndarray | None = None,
    *,
    spacing: tuple[float, float] | None = None,
    intensity: Intensity | None = None,
) -> FindingProfile:
    """Profile of a lesion given its (Y, X) bool `mask` inside a (Y, X) bool `foreground`.

    Intensity: `intensity` when given (e.g. synthetic-lesion metadata); otherwise the mean of
    `image - healthy` inside the mask (both (Y, X) in [0, 1]), or, without `healthy`, the lesion
    mean against a 3-pixel ring around it.
    """
    mask = np.asarray(mask, dtype=bool)
    foreground = np.asarray(foreground, dtype=bool) | mask
    if mask.shape != foreground.shape or mask.ndim != 2:
        raise ValueError(
            f"mask {mask.shape} and foreground {foreground.shape} must be the same 2D shape"
        )
    if not mask.any():
        raise ValueError("the lesion mask is empty; a profile needs at least one lesion pixel")
    rows, cols = np.nonzero(foreground)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    cy, cx = ndimage.center_of_mass(mask)

    midline = (c0 + c1 - 1) / 2.0
    dx = cx - midline
    side: Side = (
        "midline" if abs(dx) < MIDLINE_FRACTION * (c1 - c0) else ("left" if dx < 0 else "right")
    )
    third = (cy - r0) / max(r1 - r0, 1)
    ap: AP = "anterior" if third < 1 / 3 else ("central" if third < 2 / 3 else "posterior")
    depth = ndimage.distance_transform_edt(foreground)
    ratio = depth[int(round(cy)), int(round(cx))] / max(float(depth.max()), 1e-6)
    cp: CP = "central" if ratio >= CENTRAL_DEPTH else "peripheral"

    area_px = float(mask.sum())
    area_mm2 = area_px * float(spacing[0] * spacing[1]) if spacing is not None else None
    if intensity is None:
        intensity = _intensity(mask, foreground, image, healthy)
    return FindingProfile(side, ap, cp, intensity, size_bin(area_px, mask.shape, area_mm2), 1.0)


def _intensity(mask, foreground, image, healthy) -> Intensity:
    if image is None:
        raise ValueError("an intensity class needs the image (or pass intensity=...)")
    image = np.asarray(image, dtype=np.float32)
    if healthy is not None:
        diff = image[mask] - np.asarray(healthy, dtype=np.float32)[mask]
    else:
        ring = ndimage.binary_dilation(mask, iterations=3) & ~mask & foreground
        ref = float(image[ring].mean()) if ring.any() else float(image[foreground].mean())
        diff = image[mask] - ref
    up = float((diff > INTENSITY_DELTA).mean())
    down = float((diff < -INTENSITY_DELTA).mean())
    if up > 0.25 and down > 0.25:
        return "mixed"
    mean = float(diff.mean())
    if mean > INTENSITY_DELTA:
        return "hyperintense"
    if mean < -INTENSITY_DELTA:
        return "hypointense"
    return "mixed"
