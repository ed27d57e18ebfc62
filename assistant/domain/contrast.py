"""Is a slice T1-weighted? White matter against grey matter, read on the training grid.

On T1-weighted MRI white matter is brighter than grey matter (and fluid darker than both); on
T2, FLAIR and proton-density images the order is reversed. Once a slice lies on the detector's
training grid (a registered volume's plane, or a 2D slice aligned to it in 2D), the MNI152
2009 template's tissue maps at the trained level say where white and grey matter are:
`wm_gm_ratio` is the median intensity of the pixels that are white matter in the template
(probability at least 0.9) over that of the cortical grey matter (at least 0.6, white matter
under 0.2). An affine or 2D alignment leaves some of either class in the other's pixels; the
medians are robust to that. Below `MIN_WM_GM_RATIO` the slice is refused as another contrast.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from assistant.domain.geometry import as_training_slice, training_grid

WM_MIN_PROB = 0.9
GM_MIN_PROB = 0.6
GM_MAX_WM_PROB = 0.2
MIN_PIXELS = 500  # of each class in the slice's own foreground
# chosen on train (`python -m eval.contrast --t1-only`, eval/results/contrast_t1_train.json): the
# 466 train mid-axial slices aligned in 2D read 1.06-1.45 (1% below 1.14), the 146 train
# volumes' registered planes 1.22-1.48. 1.0 (white matter no brighter than grey matter) lies
# below all of them; the val volumes turned into FLAIR and PD contrasts read at most 0.97
# (`eval/results/contrast_val.json`)
MIN_WM_GM_RATIO = 1.0
T1_TRAIN_RANGE = (1.06, 1.48)  # what the train T1 slices and volume planes read (above)


@lru_cache(maxsize=1)
def tissue_masks() -> tuple[np.ndarray, np.ndarray]:
    """(white matter, grey matter) bool masks on the training grid (233 x 197) at the trained
    level, from nilearn's packaged MNI152 2009 probability maps."""
    from assistant.domain.mni import tissue_maps

    g, w = (as_training_slice(m) for m in tissue_maps())
    if g.shape != training_grid().shape:
        raise RuntimeError(f"unexpected tissue map shape {g.shape}")
    return w >= WM_MIN_PROB, (g >= GM_MIN_PROB) & (w < GM_MAX_WM_PROB)


def wm_gm_ratio(pixels: np.ndarray) -> float | None:
    """Median white-matter over median grey-matter intensity of a slice on the training grid
    at the trained level; None when the slice is not on that grid or either class has too few
    pixels inside the head (or grey matter reads 0)."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.shape != training_grid().shape:
        return None
    wm, gm = tissue_masks()
    lo = float(np.percentile(arr, 1))
    head = arr > lo + 0.05 * (float(np.percentile(arr, 99)) - lo)
    w, g = arr[wm & head], arr[gm & head]
    if w.size < MIN_PIXELS or g.size < MIN_PIXELS:
        return None
    g_med = float(np.median(g)) - lo
    if g_med <= 0:
        return None
    return round((float(np.median(w)) - lo) / g_med, 4)
