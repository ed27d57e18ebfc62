"""Is a slice skull-stripped? The shipped detector learned "normal" from scans with the skull
and scalp on: on a skull-stripped slice the missing scalp and the bare edge of the brain are
themselves unlike anything it saw (46 of 58 healthy val slices, skull-stripped, got a finding:
`python -m eval.skull_stripped`), so such a slice is outside its domain.

On a slice with the skull on, the outline of the head is scalp: the brain lies a skull's
thickness inside it. On a skull-stripped slice the outline is the brain's own surface. The
measure (`rim_on_brain`) is the fraction of the head outline's rim (the outer `RIM_PX` pixels of
the head on the detector's 128 x 128 grid, `assistant.preprocess`) that lies within `NEAR_PX`
pixels of the brain (`assistant.preprocess.brain_mask`). It is 0 on nearly every slice with
the skull on near the trained level, and well above 0 on skull-stripped ones; it is only read on
slices that already passed the typicality and level checks (away from the lateral ventricles'
level, where the brain is small, the two overlap).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from assistant.preprocess import brain_mask, fit_to_grid, foreground_mask, to_unit

GRID = 128  # the detector's grid (`detector.json` preprocess size)
MIN_HEAD_PX = 50
RIM_PX = 3
NEAR_PX = 2
# chosen on the train split by `python -m eval.skull_stripped` (fewest errors, then the widest gap
# between skull-on and skull-stripped slices; eval/results/skull_stripped.json)
RIM_ON_BRAIN_THRESHOLD = 0.0096


def head_on_grid(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(the slice in [0, 1] on the detector's `GRID`, its head mask), as the detector prepares
    it (`assistant.preprocess`); None when no head is found."""
    unit = to_unit(np.asarray(pixels, dtype=np.float32), percentiles=(0.5, 99.5))
    grid, _ = fit_to_grid(unit, GRID)
    head = foreground_mask(grid, threshold=0.08)
    return None if head.sum() < MIN_HEAD_PX else (grid, head)


def rim_on_brain(pixels: np.ndarray) -> float | None:
    """The fraction of the head outline's rim within `NEAR_PX` grid pixels of the brain; None
    when no head is found."""
    found = head_on_grid(pixels)
    if found is None:
        return None
    grid, head = found
    rim = head & ~ndimage.binary_erosion(head, iterations=RIM_PX)
    if not rim.any():
        return None
    brain = brain_mask(grid)
    if not brain.any():
        return None
    distance = ndimage.distance_transform_edt(~brain)
    return float((distance[rim] <= NEAR_PX).mean())
