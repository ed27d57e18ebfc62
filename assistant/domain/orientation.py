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
