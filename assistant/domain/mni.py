"""MNI-space reference maps that ship with nilearn (no download): brain mask and tissue maps.

`nilearn.datasets` packages the MNI152 2009 (symmetric, 1 mm, 197 x 233 x 189) T1 template, its
grey- and white-matter probability maps and a brain mask computed from the template; these are
the only MNI maps available offline. nilearn's labelled atlases (Harvard-Oxford, AAL, ...) are
all *downloaded* (`fetch_atlas_*`), so none is used here (`assistant.volume.regions` says what
that means for region names).

Arrays are kept in nilearn's index order (x, y, z) with the affine `origin + index` (1 mm):
`sample(arr, points)` reads them at MNI RAS mm points.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage

MNI_ORIGIN = np.array([-98.0, -134.0, -72.0])  # RAS mm of voxel (0, 0, 0) of the 1 mm maps


def _check_affine(img) -> None:
    aff = np.asarray(img.affine, dtype=np.float64)
    if not (np.allclose(aff[:3, :3], np.eye(3)) and np.allclose(aff[:3, 3], MNI_ORIGIN)):
        raise RuntimeError(f"unexpected nilearn MNI grid (affine {aff.tolist()})")


# nilearn's packaged files (`nilearn.datasets.load_mni152_*` read the same ones; reading them with
# nibabel directly saves importing `nilearn.datasets`, about 3-8 s)
T1_FILE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
GM_FILE = "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"
WM_FILE = "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
BRAIN_THRESHOLD = 0.2  # nilearn's `load_mni152_brain_mask` default


def _packaged(name: str) -> np.ndarray:
    """A map packaged with nilearn, (x, y, z) float32 scaled to a maximum of 1."""
    import importlib.util
    from pathlib import Path

    import nibabel as nib

    spec = importlib.util.find_spec("nilearn")
    if spec is None or spec.origin is None:
        raise RuntimeError("nilearn is not installed: its MNI152 maps are needed")
    img = nib.load(str(Path(spec.origin).parent / "datasets" / "data" / name))
    _check_affine(img)
    data = np.asarray(img.get_fdata(dtype=np.float32))
    return data / max(float(data.max()), 1e-6)


@lru_cache(maxsize=4)
def brain_mask(margin_mm: int = 0) -> np.ndarray:
    """nilearn's MNI152 brain mask (`load_mni152_brain_mask`: template > 0.2), (x, y, z) bool
    at 1 mm, dilated by `margin_mm` mm (room for the error of an affine registration)."""
    mask = _packaged(T1_FILE) > BRAIN_THRESHOLD
    if margin_mm > 0:
        ball = ndimage.generate_binary_structure(3, 1)
        mask = ndimage.binary_dilation(mask, ball, iterations=int(margin_mm))
    return mask


@lru_cache(maxsize=1)
def tissue_maps() -> tuple[np.ndarray, np.ndarray]:
    """(grey matter, white matter) probability maps of the MNI152 2009 template, (x, y, z)
    float32 in [0, 1] at 1 mm (nilearn's packaged `load_mni152_gm/wm_template` files)."""
    return _packaged(GM_FILE), _packaged(WM_FILE)


def sample(arr: np.ndarray, points: np.ndarray, order: int = 0, cval: float = 0.0) -> np.ndarray:
    """Values of a 1 mm (x, y, z) MNI map at `points` (N, 3) RAS mm (`cval` outside the map);
    order 0: nearest voxel (by indexing, any dtype), 1: trilinear."""
    idx = np.asarray(points, dtype=np.float64) - MNI_ORIGIN
    if order == 0:
        ijk = np.rint(idx).astype(np.int64)
        ok = np.all((ijk >= 0) & (ijk < np.asarray(arr.shape)), axis=1)
        out = np.full(len(ijk), cval, dtype=arr.dtype if arr.dtype != bool else np.float32)
        out[ok] = arr[ijk[ok, 0], ijk[ok, 1], ijk[ok, 2]]
        return out
    return ndimage.map_coordinates(arr, idx.T, order=order, mode="constant", cval=cval)
