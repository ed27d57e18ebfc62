"""Image noise of a magnitude MR scan, read from the scan itself.

In a magnitude image the air around the head holds only noise, which is Rician there (Rayleigh:
the signal is zero), so its most frequent intensity is the noise's sigma. `rician_sigma` finds
that mode among the scan's darkest non-zero pixels; exact zeros are left out, since many
exports zero the background (then the noise is unknown, not zero). The mode must be a peak as
the Rayleigh distribution has one (at twice sigma its density is 0.45 of the peak's): the flat
run of partial-volume intensities at the edge of a skull-stripped brain is not taken for noise. `noise_fraction` gives sigma
as a fraction of the bright tissue intensity (`bright_level`), the measure the applicability
check limits (`assistant.domain.check.MAX_NOISE_FRACTION`) and `eval.noise` adds noise at.

`without_noise` is the image the check's second look reads: a 3x3 median filter, then the
Rician floor taken away (sqrt(max(m^2 - 2 sigma^2, 0)), the magnitude bias correction of
Gudbjartsson and Patz, MRM 1995), since a median filter keeps the noise's mean in the air and
that floor alone makes a noisy head look unlike the training slices. Tissue, far above sigma,
is almost unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

MEDIAN_PX = 3
# the background mode is looked for below this fraction of the bright tissue intensity; a mode
# in the top quarter of that range is dark tissue, not noise (unknown: None)
SEARCH_FRACTION = 0.2
MIN_BACKGROUND_FRACTION = 0.02  # fewer dark non-zero pixels than this: no noisy background
# a noise peak: the (smoothed) histogram at twice the mode is at most this fraction of the mode's
PEAK_RATIO = 0.7
_BINS = 200  # over (0, 2 x SEARCH_FRACTION x bright)


def bright_level(pixels: np.ndarray) -> float:
    """The bright tissue intensity: the 90th percentile of the non-zero pixels above their
    median (0.0 for an all-zero image)."""
    v = np.asarray(pixels, dtype=np.float32)
    v = v[v > 0]
    if v.size == 0:
        return 0.0
    upper = v[v > np.median(v)]
    return float(np.percentile(upper if upper.size else v, 90))


def rician_sigma(pixels: np.ndarray, bright: float | None = None) -> float | None:
    """The background noise's sigma (the intensity units of `pixels`), or None when the image
    has no noisy background to read it from (zeroed or cropped away, or only dark tissue)."""
    img = np.asarray(pixels, dtype=np.float32)
    bright = bright_level(img) if bright is None else bright
    if not np.isfinite(bright) or bright <= 0:
        return None
    top = SEARCH_FRACTION * bright
    if np.count_nonzero((img > 0) & (img < top)) < MIN_BACKGROUND_FRACTION * img.size:
        return None
    low = img[(img > 0) & (img < 2 * top)]
    hist, edges = np.histogram(low, bins=_BINS, range=(0.0, 2 * top))
    smooth = ndimage.gaussian_filter1d(hist.astype(np.float64), 2)
    half = _BINS // 2  # the bins below `top`
    k = int(np.argmax(smooth[:half]))
    if k >= 0.75 * half or smooth[min(2 * k + 1, _BINS - 1)] > PEAK_RATIO * smooth[k]:
        return None
    return float((edges[k] + edges[k + 1]) / 2)


def noise_fraction(pixels: np.ndarray) -> float | None:
    """`rician_sigma` as a fraction of `bright_level` (None when unknown)."""
    bright = bright_level(pixels)
    sigma = rician_sigma(pixels, bright)
    return None if sigma is None else sigma / bright


def without_noise(pixels: np.ndarray) -> np.ndarray:
    """A 3x3 median filter, then the Rician floor removed with the image's own sigma (module
    docstring); only the median filter when the sigma is unknown."""
    smooth = ndimage.median_filter(np.asarray(pixels, dtype=np.float32), size=MEDIAN_PX)
    sigma = rician_sigma(pixels)
    if not sigma:
        return smooth
    return np.sqrt(np.maximum(smooth**2 - 2.0 * sigma**2, 0.0)).astype(np.float32)
