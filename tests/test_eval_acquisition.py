"""eval.thick_slices and eval.noise: the transforms they apply to real scans."""

from __future__ import annotations

import numpy as np
import pytest

from eval.noise import rician
from eval.thick_slices import thick_slices


def test_thick_slices_average_the_thin_ones_and_keep_their_place():
    nib = pytest.importorskip("nibabel")
    data = np.arange(4 * 5 * 7, dtype=np.float32).reshape(4, 5, 7)  # RAS, 2 mm
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-4.0, -5.0, -6.0)
    out = thick_slices(nib.Nifti1Image(data, affine), 6.0)
    got = np.asarray(out.dataobj)
    assert got.shape == (4, 5, 2)  # 7 thin slices -> 2 slabs of 3, the last one dropped
    np.testing.assert_allclose(got[..., 0], data[..., 0:3].mean(axis=2), rtol=1e-6)
    np.testing.assert_allclose(got[..., 1], data[..., 3:6].mean(axis=2), rtol=1e-6)
    assert out.header.get_zooms()[:3] == pytest.approx((2.0, 2.0, 6.0))
    # each slab sits at the centre of the thin slices it averages (z of slices 1 and 4)
    centre = out.affine @ np.array([0, 0, 1, 1.0])
    assert centre[2] == pytest.approx(affine[2, 3] + 2.0 * 4)
    first = out.affine @ np.array([0, 0, 0, 1.0])
    assert first[2] == pytest.approx(affine[2, 3] + 2.0 * 1)


def test_a_thickness_between_multiples_weights_the_thin_slices_it_covers():
    """3 mm from 2 mm slices: slab 0 = slice 0 + half of slice 1, slab 1 = the other half of
    slice 1 + slice 2, each at the centre of what it covers (z 1.5 and 4.5 mm into the stack)."""
    nib = pytest.importorskip("nibabel")
    data = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)  # RAS, 2 mm, 10 mm deep
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    out = thick_slices(nib.Nifti1Image(data, affine), 3.0)
    got = np.asarray(out.dataobj)
    assert got.shape == (2, 3, 3)  # 10 mm -> 3 slabs of 3 mm, the last 1 mm dropped
    np.testing.assert_allclose(got[..., 0], (2 * data[..., 0] + data[..., 1]) / 3, rtol=1e-6)
    np.testing.assert_allclose(got[..., 1], (data[..., 1] + 2 * data[..., 2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(got[..., 2], (2 * data[..., 3] + data[..., 4]) / 3, rtol=1e-6)
    assert out.header.get_zooms()[:3] == pytest.approx((2.0, 2.0, 3.0))
    # thin slice i's centre is at z = 2 i mm (its extent from 2 i - 1): slab j's at 3 j + 0.5
    for j in range(3):
        assert (out.affine @ np.array([0, 0, j, 1.0]))[2] == pytest.approx(3.0 * j + 0.5)


def test_rician_noise_has_the_asked_sigma():
    rng = np.random.default_rng(0)
    img = np.zeros((200, 200), np.float32)
    img[50:150, 50:150] = 100.0
    assert np.array_equal(rician(img, 0.0, rng), img)
    assert np.array_equal(rician(np.zeros((4, 4)), 0.05, rng), np.zeros((4, 4)))  # no head
    noisy = rician(img, 0.05, rng)  # sigma = 5% of the bright tissue (100)
    tissue = noisy[60:140, 60:140]
    assert tissue.mean() == pytest.approx(100.0, abs=0.5)
    assert tissue.std() == pytest.approx(5.0, rel=0.1)
    background = noisy[:40, :40]  # Rayleigh: mean sigma * sqrt(pi / 2)
    assert background.mean() == pytest.approx(5.0 * np.sqrt(np.pi / 2), rel=0.1)
    assert (noisy >= 0).all()


def test_a_noisy_copy_keeps_the_grid_and_the_estimate_reads_its_noise(tmp_path):
    """eval.noise's volumes: the copy keeps shape and affine, and the check's estimator
    (`assistant.domain.noise`) reads back the noise that was added."""
    nib = pytest.importorskip("nibabel")
    from assistant.domain.noise import noise_fraction
    from eval.noise import _noisy_copy

    data = np.zeros((40, 40, 20), np.float32)
    data[8:32, 8:32, :] = 1000.0
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    src = tmp_path / "src" / "vol.nii.gz"
    src.parent.mkdir()
    nib.save(nib.Nifti1Image(data, affine), src)
    out_dir = tmp_path / "noisy"
    out_dir.mkdir()
    copy = nib.load(_noisy_copy(src, 0.04, np.random.default_rng(0), str(out_dir)))
    assert copy.shape == data.shape and np.allclose(copy.affine, affine)
    assert noise_fraction(np.asarray(copy.dataobj)) == pytest.approx(0.04, rel=0.15)
