"""Scan loading and de-identification.

`load_scan` accepts a path (a file, a folder of DICOM files or a .zip of them), bytes or a binary
file object and detects the format from the content (the file name is only a hint):

- images (Pillow): PNG 8/16-bit, JPEG, TIFF, BMP -> `assistant.scan_image`
- DICOM (pydicom): single/multi-frame files, folders and .zip series -> `assistant.scan_dicom`
- NIfTI-1/2 (nibabel), plain or gzip-compressed -> `assistant.scan_nifti`

Every failure caused by the input is raised as `ScanError`, whose message says what was wrong
and what is accepted. Only an allow-list of technical tags is kept as metadata: patient names,
IDs, dates, institutions, physicians, UIDs and free-text comments never enter a `Scan`, and no
log message carries a file name or a header value.
"""

from __future__ import annotations

import io
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

logger = logging.getLogger(__name__)

ACCEPTED = (
    "accepted: PNG (8/16-bit), JPEG, TIFF, BMP, DICOM (a file, a folder or a .zip of one series) "
    "and NIfTI (.nii, .nii.gz)"
)


class ScanError(ValueError):
    """The one exception users see for bad input: says what was wrong and what is accepted."""


Plane = Literal["axial", "sagittal", "coronal"]
PatientLeft = Literal["image_left", "image_right"]


@dataclass(frozen=True)
class LoadLimits:
    """Guards checked against headers before any pixel data is decoded."""

    max_bytes: int = 1 << 30  # size of the file, folder or decompressed stream (1 GiB)
    max_pixels_per_side: int = 16384  # rows, columns or slices claimed by a header
    max_total_voxels: int = 512**3  # rows x columns x slices (x frames)
    max_slices: int = 2048  # frames of a multi-frame file or files of a series

    def check_shape(self, shape: tuple[int, ...], what: str) -> None:
        """Raise ScanError when a header's claimed `shape` exceeds the limits (a pixel bomb)."""
        dims = [int(s) for s in shape]
        if any(s <= 0 for s in dims):
            raise ScanError(f"the {what} header claims an empty image of shape {tuple(dims)}")
        if max(dims[-2:]) > self.max_pixels_per_side:
            raise ScanError(
                f"the {what} header claims {dims[-2]} x {dims[-1]} pixels; at most "
                f"{self.max_pixels_per_side} per side are accepted (decompression bomb guard; "
                "raise LoadLimits.max_pixels_per_side for larger images)"
            )
        if len(dims) > 2 and int(np.prod(dims[:-2])) > self.max_slices:
            raise ScanError(
                f"the {what} header claims {int(np.prod(dims[:-2]))} slices/frames; at most "
                f"{self.max_slices} are accepted (raise LoadLimits.max_slices)"
            )
        total = int(np.prod(dims, dtype=np.int64))
        if total > self.max_total_voxels:
            raise ScanError(
                f"the {what} header claims {total:,} voxels; at most {self.max_total_voxels:,} "
                "are accepted (raise LoadLimits.max_total_voxels)"
            )


@dataclass
class Scan:
    """A de-identified scan.

    pixels: float32, (Y, X) for a 2D image or (Z, Y, X) for a volume. Volumes whose patient
        orientation is known (NIfTI, DICOM series with Image Position/Orientation) are
        reoriented so that Z runs inferior -> superior, Y anterior (row 0) -> posterior and X
        patient left (column 0) -> right (neurological convention, `patient_left="image_left"`).
        2D DICOM images keep the stored pixel order. Values are physical where known (CT in HU).
    spacing: mm per pixel in the same axis order as `pixels` (None when unknown).
    patient_left: which image side (of an axial/2D display: column 0 is "image_left") shows
        the patient's left; None when the orientation is unknown (plain images).
    modality: DICOM modality code ("CT", "MR", ...; "OT" when unknown).
    window: (center, width) default display window in pixel units, e.g. the DICOM VOI window.
    format: "png", "jpeg", "tiff", "bmp", "dicom" or "nifti".
    notes: what the loader changed or noticed (conversions, replaced values, ...).
    metadata: allow-listed technical tags only (see `assistant.scan_dicom.ALLOWED_TAGS`).
    """

    pixels: np.ndarray
    spacing: tuple[float, ...] | None = None
    patient_left: PatientLeft | None = None
    modality: str = "OT"
    window: tuple[float, float] | None = None  # (center, width) default display window
    format: str = "unknown"  # "png", "jpeg", "tiff", "bmp", "dicom", "nifti"
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, str | int | float] = field(default_factory=dict)  # allow-listed tags

    @property
    def is_volume(self) -> bool:
        return self.pixels.ndim == 3

    def slice2d(self, index: int | None = None, plane: Plane = "axial") -> Scan:
        """A 2D Scan of one slice (middle slice when index is None); a 2D scan returns itself.

        With the (Z, Y, X) convention of `pixels` (Z inferior -> superior, Y anterior ->
        posterior), the returned (rows, columns) are:
        - axial, index along Z: rows Y (row 0 anterior), columns X; `patient_left` kept.
        - coronal, index along Y: rows Z flipped (row 0 superior), columns X; `patient_left` kept.
        - sagittal, index along X: rows Z flipped (row 0 superior), columns Y (column 0
          anterior); `patient_left` is None (left/right is the slice axis).
        Spacing follows the same (rows, columns) order.
        """
        if plane not in ("axial", "coronal", "sagittal"):
            raise ScanError(f"unknown plane {plane!r}; accepted: axial, coronal, sagittal")
        if not self.is_volume:
            return self
        axis = {"axial": 0, "coronal": 1, "sagittal": 2}[plane]
        n = self.pixels.shape[axis]
        i = n // 2 if index is None else int(index)
        if not 0 <= i < n:
            raise ScanError(f"slice {i} is out of range for the {plane} plane: 0..{n - 1}")
        img = np.take(self.pixels, i, axis=axis)
        if plane != "axial":
            img = img[::-1]  # row 0 = superior, as coronal/sagittal views are displayed
        spacing = None
        if self.spacing is not None:
            spacing = tuple(s for k, s in enumerate(self.spacing) if k != axis)
        return Scan(
            pixels=np.ascontiguousarray(img, dtype=np.float32),
            spacing=spacing,
            patient_left=self.patient_left if plane in ("axial", "coronal") else None,
            modality=self.modality,
            window=self.window,
            format=self.format,
            notes=[*self.notes, f"{plane} slice {i} of {n}"],
            metadata=dict(self.metadata),
        )

    def summary(self) -> dict[str, object]:
        """A JSON-serialisable, de-identified description (no pixel values)."""
        return {
            "format": self.format,
            "shape": list(self.pixels.shape),
            "spacing_mm": None if self.spacing is None else [round(s, 4) for s in self.spacing],
            "patient_left": self.patient_left,
            "modality": self.modality,
            "window": None if self.window is None else [round(w, 3) for w in self.window],
            "value_range": [float(self.pixels.min()), float(self.pixels.max())],
            "notes": list(self.notes),
            "metadata": dict(self.metadata),
        }


Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


def load_scan(
    source: Source, *, filename: str | None = None, limits: LoadLimits | None = None
) -> Scan:
    """Load a scan from a path (file, DICOM folder, .zip of DICOM), bytes or a binary file object.

    The format is detected from the content; `filename` is only a hint (its extension is used,
    never logged). `limits` (default `LoadLimits()`) bounds bytes, pixels per side, voxels and
    slices, checked on headers before decoding. Returns a `Scan` with float32 pixels (see
    `Scan` for the axis conventions). Raises ScanError for any bad input.
    """
    limits = limits or LoadLimits()
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            from assistant.scan_dicom_series import load_dicom_folder

            return _finish(load_dicom_folder(path, limits))
        data = _read_path(path, limits)
        filename = filename or path.name
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(limits.max_bytes + 1)
        if not isinstance(data, bytes):
            raise ScanError("the file object must be opened in binary mode ('rb'); " + ACCEPTED)
        name = getattr(source, "name", None)
        filename = filename or (name if isinstance(name, str) else None)
    else:
        raise ScanError(
            f"cannot read a scan from a {type(source).__name__}: pass a path, bytes or a binary "
            "file object; " + ACCEPTED
        )
    if len(data) > limits.max_bytes:
        raise ScanError(
            f"the input is larger than {limits.max_bytes:,} bytes (raise LoadLimits.max_bytes)"
        )
    return _finish(load_bytes(data, filename, limits))


def _read_path(path: Path, limits: LoadLimits) -> bytes:
    if not path.exists():
        raise ScanError(f"no such file or folder (check the path); {ACCEPTED}")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ScanError(
            f"the file has {size:,} bytes; at most {limits.max_bytes:,} are accepted "
            "(raise LoadLimits.max_bytes)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ScanError(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None


def _extension(filename: str | None) -> str:
    """The lower-case extension of a file name hint (".nii.gz" kept whole); "" when none."""
    if not filename:
        return ""
    name = Path(str(filename)).name.lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return Path(name).suffix


def sniff_format(data: bytes) -> str | None:
    """The format named by the magic bytes of `data`, or None when nothing matches.

    One of "png", "jpeg", "tiff", "bmp", "dicom", "nifti", "gzip", "zip".
    """
    if data[128:132] == b"DICM":  # first: a DICOM preamble may itself hold a TIFF header
        return "dicom"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(data) >= 4:
        for order in ("<", ">"):
            if int(np.frombuffer(data[:4], dtype=f"{order}i4")[0]) in (348, 540):
                return "nifti"
    return None


def gunzip(data: bytes, limits: LoadLimits) -> bytes:
    """Decompress gzip `data` (all members), refusing output beyond `limits.max_bytes`."""
    out = io.BytesIO()
    rest = data
    while rest.startswith(b"\x1f\x8b"):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = rest
        while chunk:
            out.write(d.decompress(chunk, 1 << 22))
            if out.tell() > limits.max_bytes:
                raise ScanError(
                    f"the gzip stream expands beyond {limits.max_bytes:,} bytes "
                    "(decompression bomb guard; raise LoadLimits.max_bytes)"
                )
            chunk = d.unconsumed_tail
        if not d.eof:
            raise ScanError("the gzip stream is truncated (the file ends early); " + ACCEPTED)
        rest = d.unused_data
    return out.getvalue()


def load_bytes(data: bytes, filename: str | None, limits: LoadLimits) -> Scan:
    """Detect the format of `data` by content (with `filename` as a hint) and load it."""
    ext = _extension(filename)
    if len(data) == 0:
        raise ScanError("the file is empty (0 bytes); " + ACCEPTED)
    kind = sniff_format(data)
    if kind == "gzip":
        inner = gunzip(data, limits)
        inner_kind = sniff_format(inner)
        if inner_kind == "nifti":
            from assistant.scan_nifti import load_nifti_bytes

            return load_nifti_bytes(inner, limits, note="gzip-compressed")
        if inner_kind == "dicom":
            from assistant.scan_dicom import load_dicom_bytes

            scan = load_dicom_bytes(inner, limits)
            scan.notes.insert(0, "gzip-compressed DICOM file")
            return scan
        raise ScanError(
            "the gzip file contains neither a NIfTI image (.nii.gz) nor a DICOM file; " + ACCEPTED
        )
    if kind in ("png", "jpeg", "tiff", "bmp"):
        from assistant.scan_image import load_image_bytes

        return load_image_bytes(data, kind, limits)
    if kind == "nifti":
        from assistant.scan_nifti import load_nifti_bytes

        return load_nifti_bytes(data, limits)
    if kind == "zip":
        from assistant.scan_dicom_series import load_dicom_zip

        return load_dicom_zip(data, limits)
    from assistant.scan_dicom import load_dicom_bytes, plausible_dicom_without_preamble

    if kind == "dicom" or plausible_dicom_without_preamble(data, ext == ".dcm"):
        return load_dicom_bytes(data, limits)
    claimed = f" although its name ends in {ext!r}" if ext else ""
    raise ScanError(f"the content is not a recognised scan format{claimed}; {ACCEPTED}")


def _finish(scan: Scan) -> Scan:
    """Common post-processing: float32, finite values, constant-image note, log a summary."""
    px = np.asarray(scan.pixels)
    if px.ndim not in (2, 3) or min(px.shape) == 0:
        raise ScanError(f"the image has an unusable shape {px.shape}; " + ACCEPTED)
    px = px.astype(np.float32, copy=False)
    finite = np.isfinite(px)
    if not finite.all():
        bad = int(px.size - np.count_nonzero(finite))
        fill = float(px[finite].min()) if finite.any() else 0.0
        hi = float(px[finite].max()) if finite.any() else 0.0
        px = np.nan_to_num(px, nan=fill, posinf=hi, neginf=fill)
        scan.notes.append(
            f"{bad} NaN/Inf values replaced (NaN and -Inf by the minimum, +Inf by "
            "the maximum finite value)"
        )
    if px.size and float(px.max()) == float(px.min()):
        scan.notes.append(f"constant image: every pixel is {float(px.min()):g}")
    scan.pixels = np.ascontiguousarray(px)
    if scan.window is not None and not (scan.window[1] > 0 and np.isfinite(scan.window).all()):
        scan.notes.append("the stored display window was invalid and is ignored")
        scan.window = None
    logger.debug(
        "loaded %s scan: shape %s, spacing %s, modality %s",
        scan.format,
        scan.pixels.shape,
        scan.spacing,
        scan.modality,
    )
    return scan
