"""Allow-listed DICOM metadata and small readers of (functional-group) element values.

Only `ALLOWED_TAGS` (technical acquisition tags) ever leave a dataset. Identifiers, dates,
UIDs, institutions, people and free-text comments are never listed, and value types that may
carry them (PN, UI, DA, DT, TM, AS, LT, UT, sequences, binary) are skipped even if listed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from assistant.scan.pixels import COLOURED_PIXELS

# the acquisition's coded (first three) and numeric tags, which answers may quote: no free text
ACQUISITION_TAGS = (
    "ScanningSequence",
    "SequenceVariant",
    "MRAcquisitionType",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "FlipAngle",
    "MagneticFieldStrength",
)
# Technical tags that may enter Scan.metadata. Identifiers, dates, UIDs, institutions, people
# and free-text comments are never listed here.
ALLOWED_TAGS = (
    "Modality",
    "BodyPartExamined",
    "SeriesDescription",
    "ImageType",
    "Manufacturer",
    "ManufacturerModelName",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "PatientPosition",
    *ACQUISITION_TAGS,
    "EchoPulseSequence",
    "AcquisitionContrast",
    "KVP",
    "ConvolutionKernel",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
)
# Enhanced (multi-frame) MR keeps its sequence timings in functional groups, not at the top
# level: (metadata key, keyword in the group item, functional-group sequence), read for frame 0.
FUNCTIONAL_TAGS = (
    ("RepetitionTime", "RepetitionTime", "MRTimingAndRelatedParametersSequence"),
    ("FlipAngle", "FlipAngle", "MRTimingAndRelatedParametersSequence"),
    ("EchoTime", "EffectiveEchoTime", "MREchoSequence"),
    ("InversionTime", "InversionTimes", "MRModifierSequence"),
    ("AcquisitionContrast", "AcquisitionContrast", "MRImageFrameTypeSequence"),
)
# Contrast/Bolus Agent is free text: these say that none was given (it is never copied out)
NO_AGENT = re.compile(
    r"^\W*(none|no|n|nil|n/?a|0|-*|without|not given|no contrast|non[- ]?contrast|nativ|native)"
    r"\W*$",
    re.I,
)
# values the loader derives from the header (never a copied free-text value)
# "given" / "not given" (`contrast_agent`); the fraction of coloured pixels of a colour image
# (`assistant.scan.pixels.coloured_fraction`, set by `scan_from_decoded`)
DERIVED_TAGS = ("ContrastAgent", COLOURED_PIXELS)
NEVER_VRS = {"PN", "UI", "DA", "DT", "TM", "AS", "SQ", "OB", "OW", "OF", "OD", "UN", "LT", "UT"}


def sop_kind(ds) -> str:
    """A human name for the kind of object (SOP class name or modality), never a UID value."""
    for uid in (ds.get("SOPClassUID"), ds.file_meta.get("MediaStorageSOPClassUID")):
        name = str(getattr(uid, "name", "")) if uid is not None else ""
        if name and name != str(uid):
            return name
    return str(ds.get("Modality", "") or "unknown kind").strip()[:16]


def modality_code(ds) -> str:
    """The Modality code of `ds` ("CT", "MR", ...; "OT" when missing), at most 16 characters."""
    return str(ds.get("Modality", "") or "OT").strip()[:16]


def allowed_metadata(ds) -> dict[str, str | int | float]:
    """The allow-listed technical tags of `ds` as plain str/int/float values."""
    from pydicom.multival import MultiValue

    out: dict[str, str | int | float] = {}
    for key in ALLOWED_TAGS:
        elem = ds.get(key)
        if elem is None or ds[key].VR in NEVER_VRS:
            continue
        try:
            value = elem
            if isinstance(value, MultiValue | list | tuple):
                value = ", ".join(f"{float(v):g}" if num(v) else str(v) for v in value)
            elif isinstance(value, int):
                value = int(value)
            elif isinstance(value, float):
                value = float(value)
            else:
                value = str(value).strip()[:64]
        except (TypeError, ValueError):
            continue
        if value != "":
            out[key] = value
    for key, keyword, sequence in FUNCTIONAL_TAGS:
        if key not in out:
            value = _plain(fg_value(ds, 0, sequence, keyword))
            if value is not None:
                out[key] = value
    agent = contrast_agent(ds)
    if agent is not None:
        out["ContrastAgent"] = agent
    ts = ds.file_meta.get("TransferSyntaxUID")
    if ts is not None:
        out["TransferSyntax"] = str(getattr(ts, "name", "unknown"))
    return out


def contrast_agent(ds) -> str | None:
    """ "given" / "not given" when the header records whether a contrast agent was given, else
    None. Read from the enhanced objects' per-frame Contrast/Bolus Agent Administered ("given"
    when any frame says YES: a dynamic series may start before the injection) or from the
    Contrast/Bolus Agent text; the text itself (free text) is never copied out."""
    n_frames = len(ds.get("PerFrameFunctionalGroupsSequence") or []) or 1
    answers = set()
    for frame in range(n_frames):
        value = fg_value(ds, frame, "ContrastBolusUsageSequence", "ContrastBolusAgentAdministered")
        answers.add(str(value).strip().upper() if value is not None else "")
    if "YES" in answers:
        return "given"
    if "NO" in answers:
        return "not given"
    if "ContrastBolusAgent" in ds:
        text = str(ds["ContrastBolusAgent"].value or "").strip()
        if text:
            return "not given" if NO_AGENT.match(text) else "given"
    return None


def fg_value(ds, frame: int, sequence: str, keyword: str):
    """`keyword` of the functional-group `sequence` item for `frame` (per-frame, then shared)."""
    item = fg_item(ds, frame, sequence)
    if item is None or keyword not in item or item[keyword].VR in NEVER_VRS:
        return None
    value = item[keyword].value
    return None if value in (None, "") else value


def _plain(value) -> str | int | float | None:
    """A functional-group value as the plain str/float that `allowed_metadata` keeps."""
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = value[0] if len(value) else None  # the first of several (inversion) times
    if num(value):
        return float(value)
    text = str(value).strip()[:64] if value is not None else ""
    return text or None


def num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def fg_item(ds, frame: int, sequence: str):
    """Item of a functional-group `sequence` for `frame` (per-frame first, then shared)."""
    for group, idx in (
        ("PerFrameFunctionalGroupsSequence", frame),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        groups = ds.get(group)
        if groups and len(groups) > idx and sequence in groups[idx]:
            seq = groups[idx][sequence]
            if seq.value:
                return seq.value[0]
    return None


def first(value) -> float | None:
    """First value of a possibly multi-valued numeric element, or None."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = value[0] if len(value) else None
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def attr(ds, keyword: str, sequence: str | None = None, frame: int = 0):
    """`keyword` from the top level of `ds`, else from a functional-group `sequence` item."""
    if keyword in ds and ds[keyword].value not in (None, ""):
        return ds[keyword].value
    if sequence is not None:
        item = fg_item(ds, frame, sequence)
        if item is not None and keyword in item and item[keyword].value not in (None, ""):
            return item[keyword].value
    return None


def pair(value) -> tuple[float, float] | None:
    v = vector(value, 2)
    return None if v is None or (v <= 0).any() else (float(v[0]), float(v[1]))


def vector(value, n: int) -> np.ndarray | None:
    try:
        v = np.asarray([float(x) for x in value], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return v if v.shape == (n,) and np.isfinite(v).all() else None
