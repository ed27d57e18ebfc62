"""Every file the pydicom wheel ships loads into a valid Scan or raises ScanError, never else."""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np
import pytest

from assistant.scan import Scan, ScanError, load_scan

# Files that must load (a regression here means a decoder or geometry path broke).
MUST_LOAD = {
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "JPEG2000.dcm",
    "JPGExtended.dcm",
    "SC_rgb_jpeg.dcm",
    "examples_ybr_color.dcm",
    "examples_palette.dcm",
    "rtdose.dcm",
    "image_dfl.dcm",
    "zipMR.gz",
}


def reason_kind(message: str) -> str:
    """Group a ScanError message into a short kind (numbers and names stripped)."""
    kinds = [
        ("contains no pixel data", "DICOM object without pixel data"),
        ("holds no DICOM image", "folder without DICOM images"),
        ("slice orientations", "series mixing slice orientations (localizer)"),
        ("mixes", "folder mixing several series"),
        ("distinct slice positions", "series with repeated slice positions"),
        ("could not be decoded", "pixel data not decodable (corrupt/truncated/non-conformant)"),
        ("lacks Rows/Columns", "pixel data without Rows/Columns"),
        ("not a recognised scan format", "not a scan file (text, dump, ICC profile...)"),
        ("neither a NIfTI", "gzip file holding neither NIfTI nor DICOM"),
        ("malformed elements", "malformed DICOM elements"),
    ]
    for needle, kind in kinds:
        if needle in message:
            return kind
    return re.sub(r"\d+", "N", message)[:80]


def check_scan(scan: Scan) -> None:
    assert isinstance(scan, Scan)
    assert scan.pixels.dtype == np.float32 and scan.pixels.ndim in (2, 3)
    assert min(scan.pixels.shape) >= 1 and np.isfinite(scan.pixels).all()
    if scan.spacing is not None:
        assert len(scan.spacing) == scan.pixels.ndim and all(s > 0 for s in scan.spacing)
    assert scan.patient_left in (None, "image_left", "image_right")
    if scan.window is not None:
        assert scan.window[1] > 0
    assert all(isinstance(v, str | int | float) for v in scan.metadata.values())


def test_every_pydicom_test_file(capsys):
    from pydicom.data import get_testdata_files

    paths = [p for p in get_testdata_files() if p is not None and os.path.exists(p)]
    if not paths:
        pytest.skip("pydicom's test files are not available")
    loaded, refused, unexpected = [], Counter(), []
    for path in paths:
        try:
            check_scan(load_scan(path))
            loaded.append(os.path.basename(path))
        except ScanError as exc:
            assert str(exc), path
            refused[reason_kind(str(exc))] += 1
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            unexpected.append(f"{os.path.basename(path)}: {type(exc).__name__}: {exc}")
    with capsys.disabled():
        print(
            f"\npydicom test data: {len(paths)} entries, {len(loaded)} load, "
            f"{sum(refused.values())} refused with ScanError, {len(unexpected)} other errors"
        )
        for kind, count in refused.most_common():
            print(f"  refused x{count}: {kind}")
    assert unexpected == []
    assert MUST_LOAD <= set(loaded), MUST_LOAD - set(loaded)
