"""Scan loading and de-identification.

`load_scan` accepts a path (a file, a folder of DICOM files or a .zip of them), bytes or a binary
file object and detects the format from the content (the file name is only a hint):

- images (Pillow): PNG 8/16-bit, JPEG, TIFF, BMP -> `assistant.scan.image`
- DICOM (pydicom): single/multi-frame files, folders and .zip series -> `assistant.scan.dicom`
- NIfTI-1/2 (nibabel), plain or gzip-compressed -> `assistant.scan.nifti`

Every failure caused by the input is raised as `ScanError`, whose message says what was wrong
and what is accepted. Only an allow-list of technical tags is kept as metadata: patient names,
IDs, dates, institutions, physicians, UIDs and free-text comments never enter a `Scan`, and no
log message carries a file name or a header value.

Layout (each module imports only the ones above it):
    types       Scan, ScanError, LoadLimits, Plane: the vocabulary every loader uses
    sniff       format detection from magic bytes
    pixels      colour -> gray, nibabel image -> (Z, Y, X) layout
    containers  gzip streams, folders and .zip archives unpacked under LoadLimits
    image, nifti, dicom/   one loader per format (dicom/: tags, decode, volume, file, series)
    load        load_scan / load_bytes: reads the input and dispatches to a loader
    spacing     with_spacing: a pixel spacing given by the user, for images without one
"""

from assistant.scan.load import load_bytes, load_scan
from assistant.scan.sniff import sniff_format
from assistant.scan.spacing import USER_SPACING, parse_spacing, size_basis, with_spacing
from assistant.scan.types import (
    CHOSEN_BY_HAND,
    LoadLimits,
    PatientLeft,
    Plane,
    Scan,
    ScanError,
    SeriesChooser,
    SeriesInfo,
)

__all__ = [
    "LoadLimits",
    "PatientLeft",
    "Plane",
    "Scan",
    "ScanError",
    "CHOSEN_BY_HAND",
    "SeriesChooser",
    "SeriesInfo",
    "USER_SPACING",
    "load_bytes",
    "load_scan",
    "parse_spacing",
    "size_basis",
    "sniff_format",
    "with_spacing",
]
