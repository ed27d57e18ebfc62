"""Format detection from content: the magic bytes decide, a file name is only a hint."""

from __future__ import annotations

from pathlib import Path

import numpy as np


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


def plausible_dicom_without_preamble(data: bytes, hinted: bool) -> bool:
    """True when `data` starts like a DICOM data set without the 128-byte preamble.

    The first element must belong to the file meta (0002) or general study/series (0008) group, or, when
    the file name ends in .dcm (`hinted`), to another group every image carries.
    """
    if len(data) < 12:
        return False
    groups = {0x0002, 0x0008} | ({0x0010, 0x0018, 0x0020, 0x0028} if hinted else set())
    return int.from_bytes(data[:2], "little") in groups or int.from_bytes(data[:2], "big") in groups


def extension(filename: str | None) -> str:
    """The lower-case extension of a file name hint (".nii.gz" kept whole); "" when none."""
    if not filename:
        return ""
    name = Path(str(filename)).name.lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return Path(name).suffix
