"""Is a 2D slice upside-down (the front of the head at the bottom)? The detector learned axial
slices with the front of the head at the top; every one of 12 healthy val slices turned
upside-down (or by 180 degrees) still passed the typicality and level checks, and every one got a
finding (`python -m eval.orientation`). Left-right mirroring is harmless (the brain is nearly
symmetric and sides are reported from the recorded orientation); a quarter turn fails typicality.

The measure (`upside_down_score`) compares the slice's front-back asymmetry with that of the
skull-on head template at the trained level (`assistant.domain.align2d.template_slice`): both
are cropped to the head's bounding box and resampled to `SIZE` x `SIZE`, standardised, and
their differences with their own vertical mirror images are correlated; the score is minus that
correlation, so about -0.5 for an upright slice and +0.5 for an upside-down one. It is read only
on slices that passed the typicality and level checks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage

from assistant.domain.skull import head_on_grid

SIZE = 64
# chosen on the train split by `python -m eval.orientation` (fewest errors between upright and
# upside-down/rotated accepted slices, then the widest gap; eval/results/orientation.json)
UPSIDE_DOWN_THRESHOLD = -0.0474
# a slice whose head is turned in the image plane by more than this is refused: every train
# slice as acquired is within 9.5 degrees (99.5% within 6.5; `python -m eval.tilt`), and turned
# healthy val slices get findings more often from 15-20 degrees on (eval/results/tilt.json)
TILT_TOLERANCE_DEG = 12.0
TILT_SPAN_DEG = 45.0  # a quarter turn already fails typicality
TILT_COARSE_DEG = 3.0
TILT_FINE_DEG = 0.5


def _canonical(pixels: np.ndarray) -> np.ndarray | None:
    found = head_on_grid(pixels)
    if found is None:
        return None
    grid, head = found
    ys, xs = np.nonzero(head)
    crop = grid[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    z = ndimage.zoom(crop, (SIZE / crop.shape[0], SIZE / crop.shape[1]), order=1)[:SIZE, :SIZE]
    if z.shape != (SIZE, SIZE):
        z = np.pad(z, ((0, SIZE - z.shape[0]), (0, SIZE - z.shape[1])), mode="edge")
    return (z - z.mean()) / (z.std() + 1e-6)


def _front_back(x: np.ndarray) -> np.ndarray | None:
    a = x - x[::-1]
    norm = float(np.linalg.norm(a))
    return None if norm < 1e-6 else a / norm


@lru_cache(maxsize=4)
def _reference(model_dir: str | None) -> np.ndarray:
    from assistant.domain.align2d import template_slice

    ref = _front_back(_canonical(template_slice(model_dir)))
    assert ref is not None
    return ref


def tilt_degrees(pixels: np.ndarray) -> float | None:
    """The head's in-plane turn in degrees as displayed (positive: counter-clockwise), the angle
    at which the slice, centred on its head, best matches its own left-right mirror image (the
    brain's midline is then vertical); searched within +-`TILT_SPAN_DEG`, in
    `TILT_COARSE_DEG` steps then `TILT_FINE_DEG` steps around the best. None without a head."""
    found = head_on_grid(pixels)
    if found is None:
        return None
    grid, head = found
    half = ndimage.zoom(grid, 0.5, order=1)  # 64 x 64: 4x fewer pixels, the same angle
    mask = ndimage.zoom(head.astype(np.float32), 0.5, order=1) > 0.5
    if not mask.any():
        return None
    cy, cx = ndimage.center_of_mass(mask)
    move = ((half.shape[0] - 1) / 2 - cy, (half.shape[1] - 1) / 2 - cx)
    half = ndimage.shift(half, move, order=1)
    mask = ndimage.shift(mask.astype(np.float32), move, order=0) > 0.5

    def symmetry(angle: float) -> float:
        img = ndimage.rotate(half, angle, reshape=False, order=1)
        m = ndimage.rotate(mask.astype(np.float32), angle, reshape=False, order=0) > 0.5
        m |= m[:, ::-1]
        a, b = img[m], img[:, ::-1][m]
        if a.std() < 1e-6:
            return -1.0
        return float(np.corrcoef(a, b)[0, 1])

    coarse = np.arange(-TILT_SPAN_DEG, TILT_SPAN_DEG + 1e-6, TILT_COARSE_DEG)
    best = max(coarse, key=symmetry)
    fine = np.arange(best - TILT_COARSE_DEG, best + TILT_COARSE_DEG + 1e-6, TILT_FINE_DEG)
    # rotating by `angle` brings the midline upright, so the head is turned by -angle
    return -float(max(fine, key=symmetry))


def upside_down_score(pixels: np.ndarray, model_dir=None) -> float | None:
    """About -0.5 for an upright axial slice, +0.5 for an upside-down one; None without a head
    or without any front-back asymmetry."""
    x = _canonical(pixels)
    if x is None:
        return None
    a = _front_back(x)
    if a is None:
        return None
    ref = _reference(None if model_dir is None else str(model_dir))
    return -float((a * ref).sum())
