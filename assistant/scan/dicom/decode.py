"""One DICOM dataset read with pydicom and decoded: pixels, modality LUT, window, geometry.

Nothing in this module logs or formats a dataset, a file name or any other header value:
pydicom's own warnings and log messages (which may quote element values) are withheld.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from assistant.scan.dicom.tags import attr, fg_item, first, pair, sop_kind, vector
from assistant.scan.pixels import coloured_fraction, rgb_to_gray
from assistant.scan.types import ACCEPTED, LoadLimits, ScanError

# pydicom's warnings and log messages quote element values (which may be identifiers), so its
# logger (and, through level inheritance, its child loggers) is silenced below CRITICAL.
logging.getLogger("pydicom").setLevel(logging.CRITICAL)


@contextmanager
def quiet() -> Iterator[None]:
    """Withhold Python warnings while datasets are read: they may quote header values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


INSTALL_HINT = "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle pyjpegls"
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


@dataclass
class Decoded:
    """Pixels of one DICOM dataset after the modality LUT, with its geometry.

    frames: (F, H, W) float32, physical units where a modality LUT exists (CT: HU).
    """

    frames: np.ndarray
    monochrome1: bool
    window: tuple[float, float] | None
    pixel_spacing: tuple[float, float] | None  # (row spacing dy, column spacing dx) in mm
    slice_spacing: float | None  # Spacing Between Slices, else Slice Thickness
    orientation: np.ndarray | None  # (6,) Image Orientation (Patient), LPS
    positions: np.ndarray | None  # (F, 3) Image Position (Patient) per frame, LPS mm
    notes: list[str] = field(default_factory=list)
    coloured: float | None = None  # a colour image's `coloured_fraction` (None: monochrome)


def read_dataset(data: bytes):
    """Parse `data` with pydicom (warnings withheld: they may quote header values)."""
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise ScanError(
            f"the DICOM file could not be parsed ({type(exc).__name__}): it is truncated, "
            f"corrupt or not DICOM; {ACCEPTED}"
        ) from None
    if len(ds) == 0:
        raise ScanError("the file is not DICOM (no data elements could be read); " + ACCEPTED)
    meta = ds.file_meta
    if "TransferSyntaxUID" not in meta:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if little is not False:
            meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    return ds


def has_pixels(ds) -> bool:
    return any(k in ds for k in _PIXEL_KEYWORDS)


# the pixels of such an image may hold the patient's name, ID or dates as text: it is never
# decoded, shown, analysed or passed to a language model
BURNED_IN = (
    "is marked as having text burned into its pixels (Burned In Annotation: YES), which may "
    "identify the patient; it is not shown or analysed, so that no identifier reaches the app, "
    "the answers or a language model. Export the images without annotations (or remove the "
    "text and set Burned In Annotation to NO)"
)


def burned_in(ds) -> bool:
    """Whether the header says identifying text is burned into the pixels (BurnedInAnnotation
    YES; a missing tag or NO is taken at its word)."""
    return str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES"


def check_decodable(ds) -> None:
    """ScanError naming the transfer syntax when no installed plugin can decode the pixels."""
    from pydicom.pixels import get_decoder

    uid = ds.file_meta.get("TransferSyntaxUID")
    if uid is None:
        raise ScanError("the DICOM file has no Transfer Syntax UID and its encoding is unknown")
    if not uid.is_compressed:
        return
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise ScanError(
            f"the pixel data uses the transfer syntax {uid.name} ({uid}), for which pydicom has "
            "no decoder (video and some newer codecs); convert the file to an uncompressed or "
            "JPEG/JPEG 2000 transfer syntax (e.g. dcmtk `dcmconv +te` or `gdcmconv --raw`)"
        ) from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies)
        raise ScanError(
            f"the pixel data uses the transfer syntax {uid.name} ({uid}), but no decoder plugin "
            f"is installed (needs one of: {missing}); install with `{INSTALL_HINT}`"
        )


def decode(ds, limits: LoadLimits) -> Decoded:
    """Decode the pixels of one dataset into (F, H, W) float32 after the modality LUT."""
    from pydicom.pixels import apply_color_lut

    if not has_pixels(ds):
        raise ScanError(
            f"the DICOM object ({sop_kind(ds)}) contains no pixel data: it is not an image "
            f"(structure sets, reports, plans and directories carry none); {ACCEPTED}"
        )
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if not rows or not cols:
        raise ScanError("the DICOM image lacks Rows/Columns, so its pixels cannot be read")
    n_frames = int(first(ds.get("NumberOfFrames")) or 1)
    limits.check_shape((n_frames, int(rows), int(cols)), "DICOM")  # before decoding
    check_decodable(ds)
    uid = ds.file_meta.TransferSyntaxUID
    notes: list[str] = []
    try:
        arr = ds.pixel_array
    except Exception as exc:  # decoder plugins raise many types for damaged streams
        reason = " ".join(str(exc).split())[:400] or type(exc).__name__
        raise ScanError(
            f"the pixel data ({uid.name}, {uid}) could not be decoded: {reason}. The file "
            f"may be truncated or corrupt{_other_decoders(uid)}"
        ) from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    color = spp > 1 or photometric == "PALETTE COLOR"
    arr = np.asarray(arr)
    if arr.ndim == (3 if color and photometric != "PALETTE COLOR" else 2):
        arr = arr[None]  # (1, H, W[, C])
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    coloured = None
    if color:
        coloured = coloured_fraction(arr)
        frames = rgb_to_gray(arr)
        notes.append(f"{photometric} colour image converted to gray (BT.601 luma)")
    else:
        frames = _modality(arr, ds)
    window = _window(ds)
    spacing = attr(ds, "PixelSpacing", "PixelMeasuresSequence")
    if spacing is None and "ImagerPixelSpacing" in ds:
        spacing = ds.ImagerPixelSpacing
        notes.append("spacing from Imager Pixel Spacing (at the detector, not the patient)")
    slice_sp = first(attr(ds, "SpacingBetweenSlices", "PixelMeasuresSequence"))
    slice_sp = slice_sp or first(attr(ds, "SliceThickness", "PixelMeasuresSequence"))
    return Decoded(
        frames=frames.astype(np.float32, copy=False),
        monochrome1=photometric == "MONOCHROME1",
        window=window,
        pixel_spacing=pair(spacing),
        slice_spacing=slice_sp if slice_sp and slice_sp > 0 else None,
        orientation=vector(attr(ds, "ImageOrientationPatient", "PlaneOrientationSequence"), 6),
        positions=_positions(ds, frames.shape[0]),
        notes=notes,
        coloured=coloured,
    )


def _other_decoders(uid) -> str:
    """A hint naming decoder plugins that are not installed for `uid`, if any."""
    from pydicom.pixels import get_decoder

    if not uid.is_compressed:
        return ""
    missing = get_decoder(uid).missing_dependencies
    return f"; decoders not installed that may read it: {'; '.join(missing)}" if missing else ""


def _modality(arr: np.ndarray, ds) -> np.ndarray:
    """Modality LUT (rescale slope/intercept or LUT) per frame: (F, H, W) -> float32."""
    from pydicom.pixels import apply_modality_lut

    if ds.get("ModalityLUTSequence") or "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return np.asarray(apply_modality_lut(arr, ds), dtype=np.float32)
    out = arr.astype(np.float32)
    for f in range(arr.shape[0]):
        item = fg_item(ds, f, "PixelValueTransformationSequence")
        if item is not None and ("RescaleSlope" in item or "RescaleIntercept" in item):
            out[f] = apply_modality_lut(arr[f], item)
    return out


def _window(ds) -> tuple[float, float] | None:
    center = first(attr(ds, "WindowCenter", "FrameVOILUTSequence"))
    width = first(attr(ds, "WindowWidth", "FrameVOILUTSequence"))
    if center is None or width is None or not width > 0:
        return None
    return (center, width)


def _positions(ds, n_frames: int) -> np.ndarray | None:
    """(F, 3) Image Position (Patient) of every frame, or None when not known for all."""
    if n_frames == 1 or "PerFrameFunctionalGroupsSequence" in ds:
        pos = [
            vector(attr(ds, "ImagePositionPatient", "PlanePositionSequence", f), 3)
            for f in range(n_frames)
        ]
        return None if any(p is None for p in pos) else np.stack(pos)
    offsets = ds.get("GridFrameOffsetVector")  # RT Dose: frame offsets along the normal
    origin = vector(ds.get("ImagePositionPatient"), 3)
    iop = vector(ds.get("ImageOrientationPatient"), 6)
    if offsets is None or origin is None or iop is None or len(offsets) != n_frames:
        return None
    normal = np.cross(iop[:3], iop[3:])
    return origin + np.outer([float(o) for o in offsets], normal)
