"""Pixel conversions shared by the format loaders: colour -> gray and the (Z, Y, X) layout.

Volumes with a known patient orientation are stored as (Z, Y, X) with Z inferior -> superior,
row 0 anterior and column 0 the patient's left (neurological display, the convention of the IXI
slices `template[:, :, k].T[::-1]`):
    pixels[z, y, x] = canonical[x, Ny - 1 - y, z]   (canonical = nibabel.as_closest_canonical)
"""

from __future__ import annotations

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB -> (...) float32 gray with BT.601 luma weights (same value range)."""
    return np.tensordot(rgb[..., :3].astype(np.float32), _LUMA, axes=([-1], [0]))


def canonical_zyx(img) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 3D nibabel image -> ((Z, Y, X) float32 pixels, (z, y, x) spacing in affine units).

    The image is reoriented with `nibabel.as_closest_canonical` (RAS+) and laid out as
    described in the module docstring. Spacing is the reoriented voxel size.
    """
    import nibabel as nib

    canon = nib.as_closest_canonical(img)
    data = np.asarray(canon.get_fdata(dtype=np.float32))  # (X, Y, Z), RAS+
    zyx = data.transpose(2, 1, 0)[:, ::-1, :]  # rows: anterior first
    zooms = np.sqrt((canon.affine[:3, :3] ** 2).sum(axis=0))  # (x, y, z) voxel size
    return np.ascontiguousarray(zyx), (float(zooms[2]), float(zooms[1]), float(zooms[0]))
