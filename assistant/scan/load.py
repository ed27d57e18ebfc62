"""The dispatcher: `load_scan` reads a path, bytes or a file object and picks the format loader.

The format is detected from the content (`assistant.scan.sniff`); the file name is only a hint.
Folders and .zip archives are unpacked by `assistant.scan.containers` and read as one DICOM
series. Every loader returns a `Scan`, which `_finish` brings to float32 with finite values.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from assistant.scan.containers import gunzip, read_folder, read_zip
from assistant.scan.dicom.file import load_dicom_bytes
from assistant.scan.dicom.series import load_dicom_items
from assistant.scan.image import load_image_bytes
from assistant.scan.nifti import load_nifti_bytes
from assistant.scan.sniff import extension, plausible_dicom_without_preamble, sniff_format
from assistant.scan.types import ACCEPTED, LoadLimits, Scan, ScanError, SeriesChooser

logger = logging.getLogger(__name__)

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


def load_scan(
    source: Source,
    *,
    filename: str | None = None,
    limits: LoadLimits | None = None,
    choose_series: SeriesChooser | None = None,
) -> Scan:
    """Load a scan from a path (file, DICOM folder, .zip of DICOM), bytes or a binary file object.

    The format is detected from the content; `filename` is only a hint (its extension is used,
    never logged). `limits` (default `LoadLimits()`) bounds bytes, pixels per side, voxels and
    slices, checked on headers before decoding. `choose_series`: for a folder or .zip that
    holds several series of one study, picks the one to load (e.g.
    `assistant.domain.series.choose_t1_series`); without it such an input is refused with a
    list of its series. Returns a `Scan` with float32 pixels (see `Scan` for the axis
    conventions). Raises ScanError for any bad input.
    """
    limits = limits or LoadLimits()
    if isinstance(source, (str, os.PathLike)):
        path = existing_path(source)
        if path.is_dir():
            blobs = read_folder(path, limits)
            return _finish(load_dicom_items(blobs, limits, "folder", choose_series))
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
            f"the input is larger than {limits.max_bytes:,} bytes (a limit whoever runs this tool can raise: LoadLimits.max_bytes)"
        )
    return _finish(load_bytes(data, filename, limits, choose_series))


def existing_path(source: str | os.PathLike) -> Path:
    """`source` as the Path of a file or folder that exists, else ScanError (an empty path,
    or nothing there). The command line checks this before it loads any model."""
    if not os.fspath(source).strip():
        # Path("") is the working folder: it would load whatever DICOM lies below it
        raise ScanError(f"no scan given (the path is empty); {ACCEPTED}")
    path = Path(source)
    if not path.exists():
        raise ScanError(f"no such file or folder (check the path); {ACCEPTED}")
    return path


def _read_path(path: Path, limits: LoadLimits) -> bytes:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ScanError(
            f"the file has {size:,} bytes; at most {limits.max_bytes:,} are accepted "
            "(a limit whoever runs this tool can raise: LoadLimits.max_bytes)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ScanError(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None


def load_bytes(
    data: bytes,
    filename: str | None,
    limits: LoadLimits,
    choose_series: SeriesChooser | None = None,
) -> Scan:
    """Detect the format of `data` by content (with `filename` as a hint) and load it
    (`choose_series`: see `load_scan`)."""
    ext = extension(filename)
    if len(data) == 0:
        raise ScanError("the file is empty (0 bytes); " + ACCEPTED)
    kind = sniff_format(data)
    if kind == "gzip":
        inner = gunzip(data, limits)
        inner_kind = sniff_format(inner)
        if inner_kind == "nifti":
            return load_nifti_bytes(inner, limits, note="gzip-compressed")
        if inner_kind == "dicom":
            scan = load_dicom_bytes(inner, limits)
            scan.notes.insert(0, "gzip-compressed DICOM file")
            return scan
        raise ScanError(
            "the gzip file contains neither a NIfTI image (.nii.gz) nor a DICOM file; " + ACCEPTED
        )
    if kind in ("png", "jpeg", "tiff", "bmp"):
        return load_image_bytes(data, kind, limits)
    if kind == "nifti":
        return load_nifti_bytes(data, limits)
    if kind == "zip":
        return load_dicom_items(read_zip(data, limits), limits, ".zip archive", choose_series)
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
