"""The detector's reference frame: the MNI template, the trained axial level and its slice grid.

The detector was trained on IXI T1 slices registered to MNI152NLin2009cSym at 1 mm and cut at
`template[:, :, 95].T[::-1]` of the template that nilearn ships: 233 rows (row 0 anterior,
MNI y = +98 mm) by 197 columns (column 0 the patient's left, MNI x = -98 mm), at MNI z = +23 mm.

Every SimpleITK image built here lives in one right-handed RAS frame in millimetres (x to the
patient's right, y anterior, z superior). A `Scan` volume (Z inferior -> superior, Y row 0
anterior, X column 0 the patient's left) maps into it with index (i, j, k) = (column, row,
slice) and direction diag(1, -1, 1); its origin is unknown (a `Scan` keeps no position), so it
is put at the volume's centre and the registration finds the translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

TRAINED_INDEX = 95  # template voxel index (third axis) of the training slices
# the nilearn MNI152 2009 1 mm template's grid (checked against nilearn by the tests), kept here
# so that the run-time check never loads the template itself
TEMPLATE_SHAPE = (197, 233, 189)
TEMPLATE_ORIGIN = (-98.0, -134.0, -72.0)


@dataclass(frozen=True)
class SliceGrid:
    """An axial grid in MNI mm: pixel (row, col) is at x = x0 + col * step, y = y0 - row * step."""

    shape: tuple[int, int]
    x0: float
    y0: float
    z: float
    step: float = 1.0

    def points(self) -> np.ndarray:
        """(rows, cols, 3) MNI RAS mm coordinates of every pixel."""
        rows, cols = np.mgrid[0 : self.shape[0], 0 : self.shape[1]].astype(np.float64)
        x = self.x0 + cols * self.step
        y = self.y0 - rows * self.step
        return np.stack([x, y, np.full_like(x, self.z)], axis=-1)


@lru_cache(maxsize=1)
def template_array() -> tuple[np.ndarray, np.ndarray]:
    """The nilearn MNI152 (2009, 1 mm, brain) template as ((X, Y, Z) float32 in [0, 1], affine)."""
    from nilearn.datasets import load_mni152_template

    img = load_mni152_template(resolution=1)
    data = np.asarray(img.get_fdata(dtype=np.float32))
    return data / max(float(data.max()), 1e-6), np.asarray(img.affine, dtype=np.float64)


def trained_level_mm() -> float:
    """MNI z (mm) of the training slices: template voxel 95 along z (+23 mm)."""
    return TEMPLATE_ORIGIN[2] + TRAINED_INDEX


def training_grid(z_mm: float | None = None) -> SliceGrid:
    """The training slices' grid (233 x 197 at 1 mm) at MNI z `z_mm` (default: trained level)."""
    nx, ny, _ = TEMPLATE_SHAPE
    return SliceGrid(
        shape=(ny, nx),
        x0=TEMPLATE_ORIGIN[0],
        y0=TEMPLATE_ORIGIN[1] + (ny - 1),
        z=trained_level_mm() if z_mm is None else float(z_mm),
    )


def as_training_slice(volume_xyz: np.ndarray, z_index: int = TRAINED_INDEX) -> np.ndarray:
    """Axial slice `z_index` of an (x, y, z) map on the template's grid, laid out like the
    training slices (row 0 anterior, column 0 the patient's left)."""
    return np.ascontiguousarray(volume_xyz[:, :, z_index].T[::-1])


def template_slice(z_index: int = TRAINED_INDEX) -> np.ndarray:
    """The template's axial slice laid out like the training slices, [0, 1]."""
    return as_training_slice(template_array()[0], z_index)


def sitk_from_zyx(pixels: np.ndarray, spacing: tuple[float, float, float], origin=None):
    """A (Z, Y, X) scan-layout volume -> SimpleITK image in the RAS frame (see module doc).

    `spacing` is (z, y, x) mm. `origin` (RAS mm of voxel (0, 0, 0)); default: centred at 0.
    """
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(np.ascontiguousarray(pixels, dtype=np.float32))
    sz, sy, sx = (float(s) for s in spacing)
    img.SetSpacing((sx, sy, sz))
    img.SetDirection((1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0))
    if origin is None:
        nz, ny, nx = pixels.shape
        origin = (-(nx - 1) * sx / 2, (ny - 1) * sy / 2, -(nz - 1) * sz / 2)
    img.SetOrigin(tuple(float(o) for o in origin))
    return img


def sitk_template(step: float = 2.0):
    """The MNI brain template as a SimpleITK image in the RAS frame, resampled to `step` mm."""
    return _sitk_template(float(step))


@lru_cache(maxsize=4)
def _sitk_template(step: float):
    import SimpleITK as sitk

    data, aff = template_array()
    img = sitk.GetImageFromArray(np.ascontiguousarray(data.transpose(2, 1, 0)))
    img.SetSpacing((1.0, 1.0, 1.0))
    img.SetOrigin(tuple(float(v) for v in aff[:3, 3]))
    if step == 1.0:
        return img
    return resample_to_step(img, step)


def resample_to_step(img, step: float):
    """`img` smoothed and resampled to an isotropic `step` mm grid over the same extent."""
    import SimpleITK as sitk

    sp = np.array(img.GetSpacing())
    size = np.array(img.GetSize())
    new_size = [max(1, int(round(n * s / step))) for n, s in zip(size, sp, strict=True)]
    sigma = [max(0.0, (step - s) / 2.0) for s in sp]
    smooth = sitk.SmoothingRecursiveGaussian(img, sigma) if max(sigma) > 0 else img
    return sitk.Resample(
        smooth,
        new_size,
        sitk.Transform(),
        sitk.sitkLinear,
        img.GetOrigin(),
        (step, step, step),
        img.GetDirection(),
        0.0,
        sitk.sitkFloat32,
    )


def sitk_from_template_zyx(arr: np.ndarray, origin, step: float):
    """A (Z, Y, X) array stored in MNI index order (i = x, j = y, k = z, identity direction)."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(np.ascontiguousarray(arr, dtype=np.float32))
    img.SetSpacing((step, step, step))
    img.SetOrigin(tuple(float(o) for o in origin))
    return img
