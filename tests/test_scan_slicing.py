"""Scan.slice2d: axial/coronal/sagittal views of the (Z inf->sup, Y ant->post, X L->R) layout."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from conftest import nifti_ras_volume

from assistant.scan import Scan, ScanError, load_scan


@pytest.fixture
def volume(tmp_path) -> Scan:
    # marker of 9 in the left-anterior-superior corner; voxel size (x, y, z) = (1, 2, 3) mm
    nib.save(
        nib.Nifti1Image(nifti_ras_volume((10, 12, 8)), np.diag([1.0, 2.0, 3.0, 1.0])),
        tmp_path / "v.nii.gz",
    )
    return load_scan(tmp_path / "v.nii.gz")


def test_axial(volume):
    top = volume.slice2d(7)  # most superior slice
    assert top.pixels.shape == (12, 10) and top.spacing == (2.0, 1.0)
    assert top.pixels[0, 0] == 9.0  # row 0 anterior, column 0 patient left
    assert top.patient_left == "image_left"
    assert volume.slice2d(0).pixels.max() == 1.0
    assert volume.slice2d().notes[-1] == "axial slice 4 of 8"


def test_coronal_rows_run_superior_to_inferior(volume):
    front = volume.slice2d(0, "coronal")  # most anterior coronal slice
    assert front.pixels.shape == (8, 10) and front.spacing == (3.0, 1.0)
    assert front.pixels[0, 0] == 9.0  # row 0 superior, column 0 patient left
    assert front.pixels[-1, 0] == 1.0
    assert front.patient_left == "image_left"


def test_sagittal_rows_superior_columns_anterior(volume):
    left = volume.slice2d(0, "sagittal")  # the patient's leftmost sagittal slice
    assert left.pixels.shape == (8, 12) and left.spacing == (3.0, 2.0)
    assert left.pixels[0, 0] == 9.0  # row 0 superior, column 0 anterior
    assert left.pixels[0, -1] == 1.0
    assert left.patient_left is None
    assert volume.slice2d(9, "sagittal").pixels.max() == 1.0


def test_bad_index_and_plane(volume):
    with pytest.raises(ScanError, match="out of range.*0..7"):
        volume.slice2d(8)
    with pytest.raises(ScanError, match="unknown plane"):
        volume.slice2d(0, "oblique")


def test_2d_scan_returns_itself():
    scan = Scan(pixels=np.zeros((4, 5), np.float32))
    assert scan.slice2d() is scan and not scan.is_volume
