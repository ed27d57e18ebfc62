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
- confidence: the estimated probability that the region is a true lesion rather than a false
  alarm (`CONFIDENCE_DEFINITION`), with its word (`CONFIDENCE_LEVELS`, `confidence_level`; see
  "Confidence" below).

Confidence, defined once here, shown the same way in the findings table, answers, report, JSON
and README. For a detector setting with a fitted map (the shipped default), a region's
confidence p is a monotone function of its peak anomaly fitted on validation regions
(`assistant.detector.postprocess.ConfidenceMap`, `python -m eval.confidence`): of the
validation regions with that peak, about p were true lesions. It is a probability under the
validation mix (half healthy scans, half scans with one synthetic lesion), not a diagnosis, and
it does not transfer to real lesions or to another mix of scans without checking. Its words
(`CONFIDENCE_BANDS`): "high" from 0.8 (at least four in five such regions were lesions),
"moderate" from 0.5 (more likely a lesion than not), "low" below (more likely a false alarm),
and never "high" for a region whose peak is under `NEAR_THRESHOLD` times the image threshold,
the band in which the answers and the report call the image's result close to the threshold
(borderline). A setting
without a fitted map (an older detector.json, another method) falls back to the fraction of
healthy calibration scans whose highest anomaly is below the region's peak: not a probability
of a lesion, so its word is "uncalibrated" (`CONFIDENCE_FALLBACK_DEFINITION`).

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


# ----------------------------------------------------------------------------- confidence
ConfidenceLevel = Literal["low", "moderate", "high", "uncalibrated"]
CONFIDENCE_LEVELS: tuple[str, ...] = ("low", "moderate", "high", "uncalibrated")
# (lowest probability, word), highest first
CONFIDENCE_BANDS: tuple[tuple[float, str], ...] = ((0.8, "high"), (0.5, "moderate"), (0.0, "low"))
# a region whose peak is under this multiple of the image threshold is "just above" it (the band
# in which the answers and the report call the image's result close to the threshold): never
# "high"
NEAR_THRESHOLD = 1.5

CONFIDENCE_DEFINITION = (
    "Confidence is the estimated probability that a region is a true lesion rather than a false "
    "alarm, calibrated on validation data: of the validation regions with a similar peak anomaly "
    "(healthy scans and scans with one synthetic lesion, half each), about that fraction were "
    "lesions."
)
CONFIDENCE_FALLBACK_DEFINITION = (
    "This detector setting has no fitted confidence, so the number shown is only the fraction of "
    "healthy validation scans whose strongest deviation is weaker than this region's peak; it is "
    "not a probability of a lesion."
)
# how the report's JSON / FHIR name the number
CONFIDENCE_NAME = (
    "estimated probability of a true lesion (calibrated on healthy and synthetic-lesion "
    "validation scans, not on patients)"
)


def confidence_band(probability: float) -> str:
    """ "low" / "moderate" / "high" for a calibrated probability (`CONFIDENCE_BANDS`)."""
    return next(word for lo, word in CONFIDENCE_BANDS if float(probability) >= lo)


def confidence_level_of(
    probability: float,
    peak: float | None = None,
    threshold: float | None = None,
    calibrated: bool = True,
) -> ConfidenceLevel:
    """The word for a region's confidence: its band (`confidence_band`), at most "moderate"
    when its `peak` is under `NEAR_THRESHOLD` times the image `threshold`, "uncalibrated" for
    the fallback number (no fitted map)."""
    if not calibrated:
        return "uncalibrated"
    word = confidence_band(probability)
    if word == "high" and peak is not None and threshold:
        if peak < NEAR_THRESHOLD * threshold:
            return "moderate"
    return word  # type: ignore[return-value]


def confidence_level(f: dict, threshold: float | None = None) -> ConfidenceLevel:
    """The word of a finding dict: the one the detector stored (`Finding.confidence_level`),
    else (a finding built by hand) `confidence_level_of` its probability, its peak and the
    image `threshold` when given."""
    level = f.get("confidence_level")
    if level in CONFIDENCE_LEVELS:
        return level
    peak = f.get("peak_anomaly")
    return confidence_level_of(float(f.get("confidence", 0.0)), peak, threshold)


def confidence_text(f: dict) -> str:
    """ "confidence 0.62 (moderate)" for a finding dict (the same words everywhere)."""
    return f"confidence {float(f.get('confidence', 0.0)):.2f} ({confidence_level(f)})"


def confidence_meaning(f: dict) -> str:
    """What a finding's confidence number means, in words: "an estimated 62% probability of
    being a true lesion" (or the fallback's meaning)."""
    c = float(f.get("confidence", 0.0))
    if f.get("confidence_level") == "uncalibrated":
        return (
            "not calibrated for this detector setting: its peak is higher than in "
            f"{c:.0%} of healthy validation scans"
        )
    return (
        f"an estimated {c:.0%} probability of being a true lesion, as calibrated on healthy and "
        "synthetic-lesion validation scans"
    )


# a region is described as having a part of the opposite signal (a brighter rim around a dark
# centre, a dark core in a bright lesion) when at least this fraction of its pixels deviates the
# other way by at least `OPPOSITE_MIN_RATIO` of its mean deviation
OPPOSITE_PART_MIN = 0.1
OPPOSITE_MIN_RATIO = 1 / 3


def opposite_part_of(delta, mean_delta: float) -> float:
    """The fraction of a region's (input - pseudo-healthy) differences `delta` (an array) that
    deviate against its mean `mean_delta` by at least `OPPOSITE_MIN_RATIO` of its size."""
    if mean_delta == 0 or len(delta) == 0:
        return 0.0
    against = -delta if mean_delta > 0 else delta
    return float((against >= OPPOSITE_MIN_RATIO * abs(mean_delta)).mean())


def signal_parts(f: dict) -> str:
    """ " with a brighter part (about 20% of it)" for a region with a clear part of the opposite
    signal (`OPPOSITE_PART_MIN`), else ""."""
    part = f.get("opposite_part")
    if part is None or part < OPPOSITE_PART_MIN or f.get("intensity") == "mixed":
        return ""
    other = "darker" if f.get("intensity_delta", 0) > 0 else "brighter"
    return f", with a {other} part (about {round(part * 100):.0f}% of it)"


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
    # in [0, 1]: the estimated probability that the region is a true lesion (see "Confidence"
    # in the module docstring); without a fitted map the fallback, with confidence_level
    # "uncalibrated"
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
    # the word for `confidence` (`confidence_level_of`), set by the detector; None (a finding
    # built by hand): the probability's band
    confidence_level: ConfidenceLevel | None = None
    # the fraction of the region's pixels that deviate clearly the other way from its overall
    # signal (`opposite_part_of`): the brighter rim of a mostly dark ring lesion, say; None when
    # not measured
    opposite_part: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """A short human-readable description, e.g. for reports and prompts."""
        frame = "" if self.side_frame == "patient" else " (image side; orientation unknown)"
        mark = "unreliable (outside the detector's domain), " if self.unreliable else ""
        # "midway front-to-back, deep (central)", not "central, central"
        ap, depth = position_words(self.to_dict())
        return (
            f"{self.id}: {mark}{self.intensity} region, {self.side}{frame}, {ap}, {depth}, "
            f"{area_text(self.area_mm2, self.area_px)}, {confidence_text(self.to_dict())}"
        )
