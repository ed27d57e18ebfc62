"""DICOM series from a folder or a .zip: sorting, geometry, mixed series refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_series

from assistant.scan import ScanError, load_scan

N = 5
DZ = 2.5


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()


def check_volume(scan, n=N):
    assert scan.format == "dicom" and scan.modality == "CT"
    assert scan.pixels.shape == (n, 128, 128)
    # slice k holds stored value 100 * (k + 1); CT_small's rescale intercept is -1024
    centre = scan.pixels[:, 64, 64]
    np.testing.assert_array_equal(centre, [100 * (k + 1) - 1024 for k in range(n)])
    # marker stored at row 0, column 0 = patient right, anterior. Neurological layout puts
    # the patient's left at column 0, so the marker lands in the last column of row 0
    assert (scan.pixels[:, 0, -1] == 4000 - 1024).all()
    assert (scan.pixels[:, 0, 0] != 4000 - 1024).all()
    assert scan.patient_left == "image_left"
    assert scan.spacing[0] == pytest.approx(DZ)
    assert scan.spacing[1:] == pytest.approx((0.661468, 0.661468), rel=1e-4)
    assert scan.metadata["NumberOfSlices"] == n


def test_folder_sorted_by_position_not_instance_number(tmp_path):
    write_series(tmp_path / "s", n=N, dz=DZ)
    check_volume(load_scan(tmp_path / "s"))


def test_zip_sorted_and_same_as_folder(tmp_path):
    write_series(tmp_path / "s", n=N, dz=DZ, seed=3)
    (tmp_path / "s" / "README.txt").write_text("exported series")
    data = zip_folder(tmp_path / "s")
    scan = load_scan(data)
    check_volume(scan)
    assert any("1 non-DICOM" in n for n in scan.notes)
    (tmp_path / "series.zip").write_bytes(data)
    np.testing.assert_array_equal(load_scan(tmp_path / "series.zip").pixels, scan.pixels)


def test_reversed_slice_direction_still_inferior_to_superior(tmp_path):
    write_series(tmp_path / "s", n=N, dz=-DZ)  # slice k lies *below* slice k - 1
    scan = load_scan(tmp_path / "s")
    centre = scan.pixels[:, 64, 64]
    np.testing.assert_array_equal(centre, [100 * (N - k) - 1024 for k in range(N)])


def test_instance_number_fallback_without_positions(tmp_path):
    import pydicom

    write_series(tmp_path / "s", n=3)
    for p in (tmp_path / "s").iterdir():
        ds = pydicom.dcmread(p)
        del ds.ImagePositionPatient
        ds.save_as(p)
    scan = load_scan(tmp_path / "s")
    # InstanceNumber = n - k, so instance order is superior -> inferior here
    np.testing.assert_array_equal(scan.pixels[:, 64, 64], [300 - 1024, 200 - 1024, 100 - 1024])
    assert any("instance/stored order" in n for n in scan.notes)


def test_mixed_series_refused_with_listing(tmp_path):
    uid_a = "1.2.826.0.1.3680043.9999.71"
    uid_b = "1.2.826.0.1.3680043.9999.72"
    write_series(tmp_path / "mix" / "a", n=3, description="AX T1", series_uid=uid_a)
    write_series(tmp_path / "mix" / "b", n=2, description="COR FLAIR", series_uid=uid_b)
    for source in (tmp_path / "mix", zip_folder(tmp_path / "mix")):
        with pytest.raises(ScanError) as err:
            load_scan(source)
        msg = str(err.value)
        assert "mixes 2 series" in msg
        assert "'AX T1'" in msg and "(3 files)" in msg
        assert "'COR FLAIR'" in msg and "(2 files)" in msg
        assert "9999" not in msg  # never a UID
        assert "accepted" in msg


def test_duplicate_positions_refused(tmp_path):
    write_series(tmp_path / "s", n=3, dz=0.0)
    with pytest.raises(ScanError, match="distinct slice positions"):
        load_scan(tmp_path / "s")


def test_single_file_folder_is_2d(tmp_path, ct_small):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "x.dcm").write_bytes(Path(ct_small).read_bytes())
    assert load_scan(tmp_path / "one").pixels.shape == (128, 128)
