"""The finding vocabulary, defined once: what a finding is and the words that describe it.

A finding is one region that deviates from healthy anatomy. The detector measures it
(`assistant.detector.postprocess`), the case library profiles lesions with the same fields
(`retrieval.profile`), the lesion synthesiser labels what it paints (`assistant.synth`), and the
report, prompts, answers and app describe it with the words below.

Fields and their values:

- side (`SIDES`): "left" / "right" / "midline", in the patient's frame when the scan records its
  orientation (`side_frame` "patient"), else the image's ("image");
- anterior_posterior (`APS`): "anterior" / "central" / "posterior"; the top of an axial image
  is anterior;
- central_peripheral (`CPS`): "central" (deep) / "peripheral";
- side_lean / ap_lean: which way a finding in the middle band (midline / central) leans
  (`lean_of`);
- intensity (`INTENSITIES`): "hyperintense" / "hypointense" / "mixed", relative to the
  surrounding (pseudo-healthy) tissue;
- size bin (`SIZE_BINS`, `size_bin`): THOR's classes (Bercea et al., MICCAI 2024), small <= 71 px
  < medium <= 570 px < large on a 128x128 grid, scaled to the image's area when the spacing is
  unknown; with a known spacing the same classes for a 197x233 mm (MNI 1 mm) field of view,
  i.e. 200 mm² and 1600 mm².

Only the standard library and numpy: everything that talks about findings can import this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Side = Literal["left", "right", "midline"]
LateralSide = Literal["left", "right"]
AP = Literal["anterior", "central", "posterior"]
CP = Literal["central", "peripheral"]
Intensity = Literal["hyperintense", "hypointense", "mixed"]
SizeBin = Literal["small", "medium", "large"]
SideFrame = Literal["patient", "image"]

SIDES: tuple[str, ...] = ("left", "right", "midline")
LATERAL_SIDES: tuple[str, ...] = ("left", "right")
APS: tuple[str, ...] = ("anterior", "central", "posterior")
CPS: tuple[str, ...] = ("central", "peripheral")
INTENSITIES: tuple[str, ...] = ("hyperintense", "hypointense", "mixed")
SIZE_BINS: tuple[str, ...] = ("small", "medium", "large")

# a scan's `patient_left` values that fix its orientation ("image_left": neurological display)
ORIENTATIONS: tuple[str, ...] = ("image_left", "image_right")

# ----------------------------------------------------------------------------- size classes
# THOR's bin edges in pixels on a 128x128 grid: small <= 71 < medium <= 570 < large
BIN_EDGES_128 = (71.0, 570.0)
SIZE_EDGES_MM2 = (200.0, 1600.0)  # small <= 200 mm² < medium <= 1600 mm² < large


def size_scale(shape: tuple[int, ...]) -> float:
    """Area factor from a 128x128 grid to an image of `shape` (H, W): (H * W) / 128²."""
    return float(shape[0] * shape[1]) / (128.0 * 128.0)


def size_edges_px(shape: tuple[int, ...]) -> tuple[float, float]:
    """THOR's (small, medium) upper edges in pixels on an image of `shape` (H, W)."""
    s = size_scale(shape)
    return BIN_EDGES_128[0] * s, BIN_EDGES_128[1] * s


def size_bin(
    area_px: float, shape: tuple[int, ...] | None = None, area_mm2: float | None = None
) -> SizeBin:
    """The size class of a lesion: "small" / "medium" / "large".

    By `area_mm2` when known (edges `SIZE_EDGES_MM2`), else by `area_px` on an image of `shape`
    (H, W) (edges `BIN_EDGES_128` scaled by `size_scale`)."""
    if area_mm2 is not None:
        lo, hi = SIZE_EDGES_MM2
        area = area_mm2
    elif shape is None:
        raise ValueError("a size bin needs the area in mm² or the image shape (H, W)")
    else:
        lo, hi = size_edges_px(shape)
        area = area_px
    if area <= lo:
        return "small"
    return "medium" if area <= hi else "large"


def area_text(area_mm2: float | None, area_px: int) -> str:
    """ "123 mm²", or "45 px" when the scan has no pixel spacing."""
    return f"{area_mm2:.0f} mm²" if area_mm2 is not None else f"{area_px} px"


# ----------------------------------------------------------------------------- position
def side_frame(patient_left: str | None) -> SideFrame:
    """ "patient" when a scan's `patient_left` fixes its orientation, else "image"."""
    return "patient" if patient_left in ORIENTATIONS else "image"


AP_WORDS = {"anterior": "anterior", "posterior": "posterior", "central": "midway front-to-back"}
DEPTH_WORDS = {"central": "deep (central)", "peripheral": "peripheral"}

# position field of a finding -> (its middle value, the field that says which way a finding in
# that middle band leans)
LEANS = {"side": ("midline", "side_lean"), "anterior_posterior": ("central", "ap_lean")}


def lean_of(f: dict, key: str) -> str | None:
    """For a finding dict whose `key` ("side" or "anterior_posterior") is in the middle band
    (midline / central): which way its centroid leans; otherwise None."""
    middle, lean_key = LEANS[key]
    return f.get(lean_key) if f.get(key) == middle else None


def position_words(f: dict) -> tuple[str, str]:
    """("anterior" | "posterior" | "midway front-to-back", "deep (central)" | "peripheral")
    for a finding dict; top of the image is anterior."""
    ap = AP_WORDS.get(f.get("anterior_posterior", ""), str(f.get("anterior_posterior")))
    depth = DEPTH_WORDS.get(f.get("central_peripheral", ""), str(f.get("central_peripheral")))
    return ap, depth


# ----------------------------------------------------------------------------- the record
@dataclass
class Finding:
    """One candidate abnormality: a connected component of the calibrated anomaly mask.

    Coordinates are on the scan's own 2D grid (row, column) in pixels.
    """

    id: str  # "F1", "F2", ... by decreasing peak anomaly ("W1".. for weak regions)
    area_px: int
    area_mm2: float | None  # None when the scan has no spacing
    bbox: tuple[int, int, int, int]  # (row0, col0, row1, col1), end-exclusive
    centroid: tuple[float, float]  # (row, col)
    side: Side
    side_frame: SideFrame  # "patient" when the scan knows its orientation
    anterior_posterior: AP  # top of image = anterior
    central_peripheral: CP
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
    side_lean: LateralSide | None = None
    ap_lean: Literal["anterior", "posterior"] | None = None
    # for a registered volume: the native (z, y, x) voxel under the centroid (the finding itself
    # was found on the slice resampled to the detector's grid)
    native_voxel: tuple[int, int, int] | None = None
    # True when the scan is outside the detector's domain and was analysed anyway
    unreliable: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """A short human-readable description, e.g. for reports and prompts."""
        frame = "" if self.side_frame == "patient" else " (image side; orientation unknown)"
        mark = "unreliable (outside the detector's domain), " if self.unreliable else ""
        return (
            f"{self.id}: {mark}{self.intensity} region, {self.side}{frame}, {self.anterior_posterior}, "
            f"{self.central_peripheral}, {area_text(self.area_mm2, self.area_px)}, "
            f"confidence {self.confidence:.2f}"
        )
