"""NIfTI loading: reorientation to the (Z inf->sup, Y ant->post, X left->right) layout."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest
from conftest import nifti_ras_volume
from nibabel.orientations import axcodes2ornt, ornt_transform

from assistant.scan import ScanError, load_scan

ZOOMS = (1.0, 2.0, 3.0)  # anisotropic (x, y, z) voxel size of the RAS reference, in mm


def reference_ras(shape=(10, 12, 8)) -> nib.Nifti1Image:
    affine = np.diag([*ZOOMS, 1.0])
    affine[:3, 3] = (-5.0, -12.0, -12.0)
    return nib.Nifti1Image(nifti_ras_volume(shape), affine)


def stored_as(axcodes: str, shape=(10, 12, 8)) -> nib.Nifti1Image:
    """The reference volume stored with another voxel axis order/direction (same anatomy)."""
    ref = reference_ras(shape)
    img = ref.as_reoriented(ornt_transform(axcodes2ornt("RAS"), axcodes2ornt(tuple(axcodes))))
    assert "".join(nib.aff2axcodes(img.affine)) == axcodes
    return img


def expected_pixels(shape=(10, 12, 8)) -> np.ndarray:
    c = nifti_ras_volume(shape)
    return c.transpose(2, 1, 0)[:, ::-1, :]  # pixels[z, y, x] = c[x, Ny-1-y, z]


@pytest.mark.parametrize("axcodes", ["RAS", "LAS", "LPS", "RPI", "ASL", "PIR", "SLP"])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_marker_lands_left_anterior_superior(tmp_path, axcodes, suffix):
    path = tmp_path / f"vol{suffix}"
    nib.save(stored_as(axcodes), path)
    scan = load_scan(path)
    assert scan.format == "nifti"
    assert scan.pixels.shape == (8, 12, 10)  # (Z, Y, X)
    assert scan.spacing == pytest.approx((3.0, 2.0, 1.0))  # (z, y, x) mm
    assert scan.patient_left == "image_left"
    np.testing.assert_array_equal(scan.pixels, expected_pixels())
    # marker: superior = last z, anterior = row 0, patient left = column 0
    assert scan.pixels[-1, 0, 0] == 9.0
    assert scan.pixels[0, -1, -1] == 1.0
    assert scan.metadata["StoredOrientation"] == axcodes
    if axcodes != "RAS":
        assert any("reoriented from " + axcodes in n for n in scan.notes)


def test_bytes_and_file_object_and_gzip_bytes(tmp_path):
    img = stored_as("LPS")
    raw = img.to_bytes()
    for source in (raw, gzip.compress(raw)):
        scan = load_scan(source)
        np.testing.assert_array_equal(scan.pixels, expected_pixels())
    path = tmp_path / "v.nii.gz"
    nib.save(img, path)
    with open(path, "rb") as fh:
        scan = load_scan(fh)
    assert scan.pixels[-1, 0, 0] == 9.0
    assert any("gzip" in n for n in scan.notes)


def test_2d_axial_nifti(tmp_path):
    data = np.ones((6, 5), dtype=np.float32)  # (x, y)
    data[0, 0] = 7.0  # first x, first y
    affine = np.diag([-0.5, -0.7, 1.0, 1.0])  # x runs to the left (L), y to posterior (P)
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "a.nii")
    scan = load_scan(tmp_path / "a.nii")
    assert scan.pixels.shape == (5, 6)  # (Y, X)
    assert scan.spacing == pytest.approx((0.7, 0.5))
    assert scan.patient_left == "image_left"
    # stored voxel (0, 0) is the most right and most anterior one -> row 0, last column
    assert scan.pixels[0, -1] == 7.0
    assert np.count_nonzero(scan.pixels == 7.0) == 1


def test_4d_first_volume_with_note(tmp_path):
    ref = reference_ras()
    data = np.stack([ref.get_fdata(), ref.get_fdata() * 0 + 5, ref.get_fdata() * 0 + 6], axis=-1)
    nib.save(nib.Nifti1Image(data.astype(np.float32), ref.affine), tmp_path / "f.nii.gz")
    scan = load_scan(tmp_path / "f.nii.gz")
    np.testing.assert_array_equal(scan.pixels, expected_pixels())
    assert any("first volume of 3" in n for n in scan.notes)


def test_nan_inf_replaced(tmp_path):
    data = nifti_ras_volume()
    data[3, 3, 3] = np.nan
    data[4, 4, 4] = np.inf
    data[5, 5, 5] = -np.inf
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "n.nii")
    scan = load_scan(tmp_path / "n.nii")
    assert np.isfinite(scan.pixels).all()
    assert scan.pixels.min() == 1.0 and scan.pixels.max() == 9.0
    assert any("3 NaN/Inf values replaced" in n for n in scan.notes)


def test_units_in_metres_converted(tmp_path):
    img = nib.Nifti1Image(nifti_ras_volume(), np.diag([0.001, 0.002, 0.003, 1.0]))
    img.header.set_xyzt_units("meter")
    nib.save(img, tmp_path / "m.nii")
    assert load_scan(tmp_path / "m.nii").spacing == pytest.approx((3.0, 2.0, 1.0))


def test_truncated_and_hdr_img_pair_refused(tmp_path):
    raw = stored_as("LAS").to_bytes()
    with pytest.raises(ScanError, match="truncated"):
        load_scan(raw[: len(raw) // 2])
    with pytest.raises(ScanError, match="truncated"):
        packed = gzip.compress(raw)
        load_scan(packed[: len(packed) // 2])
    with pytest.raises(ScanError, match="truncated"):
        load_scan(raw[:200])
    pair = nib.Nifti1Pair(nifti_ras_volume(), np.eye(4))
    nib.save(pair, tmp_path / "p.img")
    with pytest.raises(ScanError, match=r"\.hdr/\.img pair"):
        load_scan(tmp_path / "p.hdr")


def test_header_bomb_refused_before_reading(tmp_path):
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((30000, 30000, 1))
    hdr.set_data_dtype(np.uint8)
    raw = hdr.binaryblock + b"\x00" * 4 + b"\x00" * 1000  # far less data than announced
    with pytest.raises(ScanError, match="per side"):
        load_scan(raw)


def test_mni_template_matches_ixi_display_convention():
    """The IXI PNGs are `template[:, :, k].T[::-1]`: our axial slice k must be exactly that."""
    from pathlib import Path

    import nilearn.datasets

    path = (
        Path(nilearn.datasets.__file__).parent
        / "data"
        / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
    )
    if not path.exists():
        pytest.skip("nilearn's bundled MNI152 template is missing")
    template = np.asarray(nib.load(path).get_fdata(dtype=np.float32))
    scan = load_scan(path)
    assert scan.pixels.shape == (189, 233, 197) and scan.spacing == (1.0, 1.0, 1.0)
    np.testing.assert_array_equal(scan.slice2d(95).pixels, template[:, :, 95].T[::-1])


@pytest.mark.shared
def test_ixi_png_loads(shared_data):
    png = sorted((shared_data / "ixi-t1-midaxial" / "val").glob("*.png"))
    if not png:
        pytest.skip("no IXI PNGs in ../shared/data/ixi-t1-midaxial/val")
    scan = load_scan(png[0])
    assert scan.format == "png" and scan.pixels.shape == (233, 197)
    assert scan.patient_left is None and scan.spacing is None
