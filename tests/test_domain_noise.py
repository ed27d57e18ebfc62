"""The noise of a magnitude MR image, read from its background (`assistant.domain.noise`)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.domain.align2d import template_slice
from assistant.domain.noise import bright_level, noise_fraction, rician_sigma, without_noise


def _head() -> np.ndarray:
    """The MNI head template's slice at the trained level, skull on."""
    return (np.clip(template_slice(), 0, 1) * 1000).astype(np.float32)


def _rician(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    real = img + rng.normal(0, sigma, img.shape)
    return np.sqrt(real**2 + rng.normal(0, sigma, img.shape) ** 2).astype(np.float32)


@pytest.mark.parametrize("fraction", [0.02, 0.04, 0.08])
def test_the_noise_sigma_is_read_from_the_air(fraction):
    clean = _head()
    sigma = fraction * bright_level(clean)
    noisy = _rician(clean, sigma)
    assert rician_sigma(noisy) == pytest.approx(sigma, rel=0.15)
    # relative to the noisy image's own bright level (a little lower than the clean one's)
    assert noise_fraction(noisy) == pytest.approx(fraction, rel=0.2)


def test_no_noisy_background_means_unknown_noise():
    clean = _head()
    assert noise_fraction(clean) < 0.01  # the template's air is faint and smooth
    zeroed = np.where(clean > 0.1 * clean.max(), clean, 0.0)
    assert rician_sigma(zeroed) is None  # an export that zeroes the air
    assert noise_fraction(np.zeros((32, 32), np.float32)) is None
    # a skull-stripped brain's edge: a flat run of dark partial-volume intensities, no peak
    ramp = np.tile(np.linspace(1.0, 1000.0, 200, dtype=np.float32), (200, 1))
    assert rician_sigma(ramp) is None


def test_without_noise_takes_away_the_floor_and_keeps_the_tissue():
    clean = _head()
    noisy = _rician(clean, 0.05 * bright_level(clean))
    out = without_noise(noisy)
    air = clean < 0.01 * clean.max()
    tissue = clean > 0.5 * clean.max()
    assert noisy[air].mean() > 0.05 * bright_level(clean)  # the Rician floor
    assert out[air].mean() < 0.25 * noisy[air].mean()
    assert np.median(out[tissue] / clean[tissue]) == pytest.approx(1.0, abs=0.05)
    # unknown noise (the air zeroed): the median filter alone
    zeroed = np.where(clean > 0.1 * clean.max(), clean, 0.0).astype(np.float32)
    assert np.array_equal(without_noise(zeroed), _median(zeroed))


def _median(img):
    from scipy import ndimage

    return ndimage.median_filter(img, size=3)
