"""Intensity normalisation, model-grid resizing with an exact inverse, and foreground masks.

Range conventions (one named helper per conversion, never `x * 2 - 1` inline):
- "unit": float32 in [0, 1], what the user sees and what metrics use;
- "model": float32 in [-1, 1], what the diffusion UNet is trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage


def to_unit(
    img: np.ndarray,
    window: tuple[float, float] | None = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
) -> np.ndarray:
    """Normalise raw intensities to [0, 1].

    With `window=(center, width)` (e.g. a DICOM VOI window) the window is used; otherwise the
    robust `percentiles` of the non-zero pixels (all pixels when fewer than 1% are non-zero) map to
    0 and 1. Constant images map to zeros.
    """
    img = np.asarray(img, dtype=np.float32)
    if window is not None:
        center, width = window
        lo, hi = center - width / 2.0, center + width / 2.0
    else:
        vals = img[img != 0] if np.count_nonzero(img) > 0.01 * img.size else img.ravel()
        if vals.size == 0:
            return np.zeros_like(img)
        lo, hi = np.percentile(vals, percentiles)
        lo = min(lo, float(img.min())) if np.count_nonzero(img) < img.size else lo
    if hi - lo <= 1e-8:
        return np.zeros_like(img)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def unit_to_model(x):
    """[0, 1] -> [-1, 1] (numpy array or torch tensor)."""
    return x * 2.0 - 1.0


def model_to_unit(x):
    """[-1, 1] -> [0, 1] (numpy array or torch tensor), clipped."""
    if isinstance(x, torch.Tensor):
        return ((x + 1.0) / 2.0).clamp(0.0, 1.0)
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


@dataclass(frozen=True)
class GridInfo:
    """How an image of `shape` was placed on a square model grid of `size`.

    The image is scaled by `scale` (same factor on both axes, keeping the aspect ratio) to
    `scaled` = (h, w), then zero-padded with `pad` = (top, left) to (size, size).
    """

    shape: tuple[int, int]
    size: int
    scale: float
    scaled: tuple[int, int]
    pad: tuple[int, int]

    def back(self, arr: np.ndarray, order: int = 1) -> np.ndarray:
        """Map a (size, size) array on the model grid back to the original (Y, X) grid.

        order=1 bilinear (maps, images), order=0 nearest (masks, labels).
        """
        top, left = self.pad
        h, w = self.scaled
        crop = np.asarray(arr)[top : top + h, left : left + w]
        return _resize(crop, self.shape, order=order)


def _resize(arr: np.ndarray, shape: tuple[int, int], order: int) -> np.ndarray:
    if tuple(arr.shape) == tuple(shape):
        return np.array(arr, copy=True)
    is_bool = arr.dtype == bool
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))[None, None]
    if order == 0:
        out = F.interpolate(t, size=shape, mode="nearest")
    else:
        # antialias when shrinking so that small structures are averaged, not aliased
        antialias = shape[0] < arr.shape[0] or shape[1] < arr.shape[1]
        out = F.interpolate(
            t, size=shape, mode="bilinear", align_corners=False, antialias=antialias
        )
    out = out[0, 0].numpy()
    return out > 0.5 if is_bool else out.astype(np.float32)


def fit_to_grid(img: np.ndarray, size: int, order: int = 1) -> tuple[np.ndarray, GridInfo]:
    """Resize a (Y, X) image to fit a (size, size) grid keeping the aspect ratio, zero-padded
    and centred. Returns the grid array and the `GridInfo` whose `.back()` inverts it."""
    if img.ndim != 2:
        raise ValueError(f"fit_to_grid expects a 2D (Y, X) image, got shape {img.shape}")
    h0, w0 = img.shape
    scale = size / max(h0, w0)
    h, w = max(1, round(h0 * scale)), max(1, round(w0 * scale))
    scaled = _resize(img, (h, w), order=order)
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((size, size), dtype=scaled.dtype)
    out[top : top + h, left : left + w] = scaled
    return out, GridInfo(shape=(h0, w0), size=size, scale=scale, scaled=(h, w), pad=(top, left))


def foreground_mask(
    img01: np.ndarray, threshold: float = 0.08, min_fraction: float = 0.01
) -> np.ndarray:
    """Body/brain foreground of a [0, 1] image: pixels above `threshold`, closed, hole-filled,
    keeping the largest component (and components of at least `min_fraction` of the image).

    Returns a bool array of the same shape. Everything above threshold if no component remains.
    """
    raw = img01 > threshold
    if not raw.any():
        return raw
    m = ndimage.binary_closing(raw, structure=np.ones((3, 3)), iterations=2)
    m = ndimage.binary_fill_holes(m)
    labels, n = ndimage.label(m)
    if n > 1:
        sizes = ndimage.sum(m, labels, index=np.arange(1, n + 1))
        keep = (sizes >= max(sizes.max(), 1) * 0.999) | (sizes >= min_fraction * m.size)
        m = np.isin(labels, np.flatnonzero(keep) + 1)
    m = ndimage.binary_erosion(m, iterations=1) | (m & raw)
    return m.astype(bool)


def brain_mask(img01: np.ndarray) -> np.ndarray:
    """Brain (not head) mask of a [0, 1] T1-like image, (H, W) bool.

    The head is `foreground_mask`; inside it the bright tissue (Otsu threshold on head pixels)
    is eroded a little to cut it loose from the scalp, the largest component is kept, grown back
    and hole-filled (ventricles, sulci). Falls back to the head mask eroded by 8% of its
    equivalent radius when the result is implausibly small (e.g. skull-stripped or non-brain
    images).
    """
    img01 = np.asarray(img01, dtype=np.float32)
    head = foreground_mask(img01)
    if head.sum() < 16:
        return head
    k = max(1, round(min(img01.shape) / 100))
    t = _otsu(img01[head])
    bright = ndimage.binary_erosion((img01 > t) & head, iterations=k)
    labels, n = ndimage.label(bright)
    brain = np.zeros_like(head)
    if n:
        sizes = ndimage.sum(bright, labels, index=np.arange(1, n + 1))
        brain = labels == int(np.argmax(sizes)) + 1
        brain = ndimage.binary_dilation(brain, iterations=k)
        brain = ndimage.binary_closing(brain, structure=np.ones((3, 3)), iterations=4)
        brain = ndimage.binary_fill_holes(brain) & head
    if brain.sum() < 0.3 * head.sum():
        radius = np.sqrt(head.sum() / np.pi)
        brain = ndimage.distance_transform_edt(head) > 0.08 * radius
    return brain


def _otsu(values: np.ndarray, bins: int = 64) -> float:
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    return float(centers[int(np.argmax(w0 * w1 * (mu0 - mu1) ** 2))])
