"""Building blocks of a synthetic lesion: smooth noise, lesion outlines, soft edges, warps."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise with unit standard deviation, (H, W) float32."""
    n = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    return n / max(float(n.std()), 1e-6)


def soft_weight(shape_mask: np.ndarray, edge: float) -> np.ndarray:
    """Smooth [0, 1] weight from a binary shape: 0.5 on its border, tanh fall-off of width
    `edge` pixels along the signed distance, zero beyond 2.5 * edge outside. (H, W) float32."""
    inside = ndimage.distance_transform_edt(shape_mask)
    outside = ndimage.distance_transform_edt(~shape_mask)
    signed = np.where(shape_mask, 0.5 - inside, outside - 0.5)
    weight = 0.5 * (1.0 - np.tanh(signed / edge))
    # cut the tail (< 0.7 %) so that the change stays local: nothing beyond 2.5 edge widths
    return np.where(signed < 2.5 * edge, weight, 0.0).astype(np.float32)


class ShapeField:
    """A random lesion outline around `center`, rasterised at any equivalent radius.

    An ellipse (axis ratio 0.6..1, random angle) whose border is, when `irregular`, pushed in
    and out by smooth noise (lobulated outline). The noise is drawn once, so that `at(radius)`
    can be rescaled to hit a target area without changing the outline's character.
    """

    def __init__(self, rng, shape, center, radius, irregular):
        rows, cols = np.indices(shape, dtype=np.float32)
        q, theta = rng.uniform(0.6, 1.0), rng.uniform(0, np.pi)
        dy, dx = rows - center[0], cols - center[1]
        u = dx * np.cos(theta) + dy * np.sin(theta)
        v = -dx * np.sin(theta) + dy * np.cos(theta)
        # elliptic radius of an ellipse of area pi * r²: rho / r == 1 on the border
        self.rho = np.sqrt((u * np.sqrt(q)) ** 2 + (v / np.sqrt(q)) ** 2)
        self.bump = np.zeros(shape, dtype=np.float32)
        if irregular:
            noise = smooth_noise(rng, shape, sigma=max(1.0, 0.45 * radius))
            self.bump = rng.uniform(0.3, 0.5) * noise

    def at(self, radius: float) -> np.ndarray:
        """Bool (H, W) shape, one component, no holes."""
        shape = self.rho / radius - 1.0 - self.bump < 0
        labels, n = ndimage.label(shape)
        if n > 1:
            sizes = ndimage.sum(shape, labels, index=np.arange(1, n + 1))
            shape = labels == int(np.argmax(sizes)) + 1
        return ndimage.binary_fill_holes(shape)

    def fit_area(self, radius: float, area: float, rounds: int = 4) -> np.ndarray:
        """The shape rescaled (a few rounds of radius *= sqrt(target / got)) to about
        `area` pixels."""
        shape = self.at(radius)
        for _ in range(rounds):
            got = int(shape.sum())
            if got == 0 or abs(got - area) <= 0.08 * area:
                break
            radius *= float(np.sqrt(area / got))
            shape = self.at(radius)
        return shape


def local_level(img: np.ndarray, fg: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean of the image over the foreground only (normalised
    convolution), (H, W) float32: the tissue level a lesion at each pixel would replace."""
    num = ndimage.gaussian_filter(np.where(fg, img, 0.0).astype(np.float32), sigma)
    den = ndimage.gaussian_filter(fg.astype(np.float32), sigma)
    return num / np.maximum(den, 1e-6)


def radial_warp(img: np.ndarray, center: tuple[float, float], amp: float, sigma: float):
    """Push tissue away from `center`: output radius r samples the input at
    r * (1 - amp * exp(-r² / (2 sigma²))), a smooth monotone warp for amp < 1 that vanishes a few
    sigma away. Returns the warped (H, W) float32 image."""
    rows, cols = np.indices(img.shape, dtype=np.float32)
    dy, dx = rows - center[0], cols - center[1]
    factor = 1.0 - amp * np.exp(-(dy**2 + dx**2) / (2.0 * sigma**2))
    coords = np.stack([center[0] + dy * factor, center[1] + dx * factor])
    return ndimage.map_coordinates(img, coords, order=1, mode="nearest").astype(np.float32)
