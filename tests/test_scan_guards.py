"""Bad input: every case raises ScanError saying what was wrong and what is accepted."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import pydicom_file, write_series
from PIL import Image

from assistant.scan import LoadLimits, ScanError, load_scan


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose IHDR (with a correct CRC) claims `width` x `height`."""
    data = bytearray(png_bytes(np.zeros((4, 4), np.uint8)))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_empty_inputs(tmp_path):
    with pytest.raises(ScanError, match="empty.*accepted"):
        load_scan(b"")
    (tmp_path / "e.png").write_bytes(b"")
    with pytest.raises(ScanError, match="empty"):
        load_scan(tmp_path / "e.png")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ScanError, match="no files"):
        load_scan(tmp_path / "empty_dir")


def test_missing_path_and_wrong_type(tmp_path, monkeypatch):
    with pytest.raises(ScanError, match="no such file"):
        load_scan(tmp_path / "nope.dcm")
    # an empty path (an unset shell variable) is refused, not read as the working folder, which
    # loaded whatever DICOM lay below it (an example scan, or another patient's)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.dcm").write_bytes(b"")
    for empty in ("", "  "):
        with pytest.raises(ScanError, match="no scan given"):
            load_scan(empty)
    with pytest.raises(ScanError, match="cannot read a scan from a int"):
        load_scan(123)
    with pytest.raises(ScanError, match="binary mode"):
        load_scan(io.StringIO("text"))


def test_text_with_image_extension(tmp_path):
    for name in ("notes.png", "notes.dcm", "notes.nii"):
        path = tmp_path / name
        path.write_text("this is not an image\n" * 10)
        with pytest.raises(ScanError, match=r"not a recognised scan format.*'\.\w+'.*accepted"):
            load_scan(path)


def test_truncated_files():
    png = png_bytes((np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8))
    with pytest.raises(ScanError, match="truncated or corrupt"):
        load_scan(png[: len(png) // 2])
    with pytest.raises(ScanError, match="truncated|corrupt"):
        load_scan(png[:20])
    ct = Path(pydicom_file("CT_small.dcm")).read_bytes()
    with pytest.raises(ScanError, match="could not be decoded.*less than expected"):
        load_scan(ct[: len(ct) - 5000])
    with pytest.raises(ScanError):
        load_scan(ct[:300])


def test_decompression_bomb_headers_checked_before_decoding():
    with pytest.raises(ScanError, match="17000 pixels.*16384 per side"):
        load_scan(png_claiming(17000, 100))
    with pytest.raises(ScanError, match="too large to decode safely"):
        load_scan(png_claiming(30000, 30000))  # Pillow's own guard fires on opening
    # within our raised limits but past Pillow's own hard limit: still a ScanError
    big = LoadLimits(max_pixels_per_side=100_000, max_total_voxels=10**10)
    with pytest.raises(ScanError, match="too large to decode safely"):
        load_scan(png_claiming(20000, 20000), limits=big)


def test_dicom_header_bomb(tmp_path):
    import pydicom

    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    ds.Rows, ds.Columns = 30000, 30000  # pixel data stays 128 x 128
    ds.save_as(tmp_path / "bomb.dcm")
    with pytest.raises(ScanError, match="per side"):
        load_scan(tmp_path / "bomb.dcm")


def test_configurable_limits(tmp_path):
    data = png_bytes(np.random.default_rng(0).integers(0, 255, (40, 50), dtype=np.uint8))
    with pytest.raises(ScanError, match="max_bytes"):
        load_scan(data, limits=LoadLimits(max_bytes=100))
    with pytest.raises(ScanError, match="max_total_voxels"):
        load_scan(data, limits=LoadLimits(max_total_voxels=1000))
    with pytest.raises(ScanError, match="per side"):
        load_scan(data, limits=LoadLimits(max_pixels_per_side=45))
    write_series(tmp_path / "s", n=3)
    with pytest.raises(ScanError, match="max_slices"):
        load_scan(tmp_path / "s", limits=LoadLimits(max_slices=2))
    assert load_scan(tmp_path / "s").pixels.shape[0] == 3


def test_gzip_bomb_and_non_nifti_gzip():
    with pytest.raises(ScanError, match="expands beyond"):
        load_scan(gzip.compress(b"\x00" * 3_000_000), limits=LoadLimits(max_bytes=1_000_000))
    with pytest.raises(ScanError, match="neither a NIfTI"):
        load_scan(gzip.compress(b"hello world"), filename="x.nii.gz")


def test_zip_guards(tmp_path):
    with pytest.raises(ScanError, match="corrupt or truncated"):
        load_scan(b"PK\x03\x04" + b"\x00" * 40)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "no images here")
    with pytest.raises(ScanError, match="no DICOM image.*non-DICOM"):
        load_scan(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.dcm", b"\x00" * 3_000_000)
    with pytest.raises(ScanError, match="max_bytes"):
        load_scan(buf.getvalue(), limits=LoadLimits(max_bytes=1_000_000))


def test_non_image_dicom_objects():
    for name in ("rtstruct.dcm", "rtplan.dcm", "test-SR.dcm"):
        with pytest.raises(ScanError, match="contains no pixel data.*accepted"):
            load_scan(pydicom_file(name))


def test_undecodable_transfer_syntax_named(tmp_path):
    import pydicom
    from pydicom.uid import MPEG2MPML

    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    from pydicom.encaps import encapsulate

    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = encapsulate([ds.PixelData])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(tmp_path / "video.dcm")
    with pytest.raises(
        ScanError, match=r"MPEG2 Main Profile / Main Level \(1\.2\.840\.10008\.1\.2"
    ):
        load_scan(tmp_path / "video.dcm")
