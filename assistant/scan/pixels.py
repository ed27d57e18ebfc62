"""Pixel conversions shared by the format loaders: colour -> gray and the (Z, Y, X) layout.

Volumes with a known patient orientation are stored as (Z, Y, X) with Z inferior -> superior,
row 0 anterior and column 0 the patient's left (neurological display, the convention of the IXI
slices `template[:, :, k].T[::-1]`):
    pixels[z, y, x] = canonical[x, Ny - 1 - y, z]   (canonical = nibabel.as_closest_canonical)
"""

from __future__ import annotations

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601


# a pixel whose colour channels differ by more than this fraction of full scale is coloured (a
# grey-scale scan saved as RGB, JPEG included, reads exactly 0: `eval.colour`)
COLOUR_SPREAD = 32 / 255
COLOURED_PIXELS = "ColouredPixels"  # the metadata key of `coloured_fraction`, set by the loaders


def coloured_fraction(rgb: np.ndarray) -> float:
    """The fraction of the (..., 3 or 4) image's pixels that are coloured: their R, G and B
    differ by more than `COLOUR_SPREAD` of full scale (255 for 8-bit values, else the integer
    type's maximum; for floats the image's maximum). A heatmap overlay, coloured annotations or a photograph; 0.0 for a
    grey-scale image saved as colour."""
    rgb = np.asarray(rgb)[..., :3]
    if rgb.size == 0:
        return 0.0
    if np.issubdtype(rgb.dtype, np.integer):  # 8-bit values stored wider (a palette LUT): 255
        full = 255.0 if rgb.max() <= 255 else float(np.iinfo(rgb.dtype).max)
    else:
        full = float(np.nanmax(rgb)) or 1.0
    spread = rgb.max(axis=-1).astype(np.float64) - rgb.min(axis=-1)
    return float(np.mean(spread > COLOUR_SPREAD * full))


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
