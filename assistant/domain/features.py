"""A cheap, scale-free descriptor of a 2D slice for the applicability check.

The slice is normalised as the detector normalises it (`to_unit`), its head (foreground) is
found, and the head's bounding square is cut out and resized to `CROP` x `CROP` pixels, so a
native 240 mm field of view and a 197 x 233 MNI slice give comparable crops. A few global
statistics (how much of the image is head, the head's shape, the intensity histogram inside and
outside it, left-right symmetry) complete it. Measured cost: a few milliseconds per slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from assistant.preprocess import foreground_mask, to_unit

CROP = 32  # side of the head crop
HIST_BINS = 8
MAX_SIDE = 256  # larger images are shrunk first (speed; the crop is 32 px anyway)
STAT_NAMES = (
    "head_fraction",
    "bbox_aspect",
    "bbox_fill",
    "solidity",
    "components",
    "background_mean",
    "background_std",
    "symmetry",
    *(f"hist{i}" for i in range(HIST_BINS)),
)


@dataclass
class Descriptor:
    crop: np.ndarray  # (CROP, CROP) float32 in [0, 1]
    stats: np.ndarray  # (len(STAT_NAMES),) float32
    head_found: bool

    def vector(self) -> np.ndarray:
        return np.concatenate([self.crop.ravel(), self.stats]).astype(np.float32)


def _resize(arr: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if tuple(arr.shape) == tuple(shape):
        return arr.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))[None, None]
    shrink = shape[0] < arr.shape[0] or shape[1] < arr.shape[1]
    out = F.interpolate(t, size=shape, mode="bilinear", align_corners=False, antialias=shrink)
    return out[0, 0].numpy()


def isotropic(img: np.ndarray, spacing: tuple[float, ...] | None) -> np.ndarray:
    """Resample a (Y, X) image to square pixels (the finer spacing) and at most MAX_SIDE px."""
    img = np.asarray(img, dtype=np.float32)
    h, w = img.shape
    fy, fx = 1.0, 1.0
    if spacing is not None and len(spacing) == 2 and min(spacing) > 0:
        dy, dx = (float(s) for s in spacing)
        fy, fx = dy / min(dy, dx), dx / min(dy, dx)
    scale = min(1.0, MAX_SIDE / max(h * fy, w * fx))
    shape = (max(1, round(h * fy * scale)), max(1, round(w * fx * scale)))
    return _resize(img, shape)


def _solidity(mask: np.ndarray) -> float:
    from scipy.spatial import ConvexHull, QhullError

    edge = mask & ~ndimage.binary_erosion(mask)
    pts = np.argwhere(edge)
    if len(pts) < 4:
        return 0.0
    try:
        hull = ConvexHull(pts)
    except QhullError:
        return 0.0
    # the hull runs through edge-pixel centres: add half its perimeter (and a pixel) to compare
    # it with a pixel count
    return float(min(1.0, mask.sum() / max(hull.volume + hull.area / 2 + 1.0, 1.0)))


def _square_crop(unit: np.ndarray, fg: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(fg)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = int(round(max(y1 - y0, x1 - x0) * 1.04)) + 2
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    out = np.zeros((side, side), dtype=np.float32)
    top, left = cy - side // 2, cx - side // 2
    sy0, sx0 = max(0, top), max(0, left)
    sy1, sx1 = min(unit.shape[0], top + side), min(unit.shape[1], left + side)
    out[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = unit[sy0:sy1, sx0:sx1]
    return _resize(out, (CROP, CROP))


def describe(img: np.ndarray, spacing: tuple[float, ...] | None = None, window=None) -> Descriptor:
    """The descriptor of a raw (Y, X) slice (any intensity range)."""
    iso = isotropic(img, spacing)
    unit = to_unit(iso, window=window)
    fg = foreground_mask(unit)
    n_stats = len(STAT_NAMES)
    if fg.sum() < 0.01 * fg.size:
        return Descriptor(np.zeros((CROP, CROP), np.float32), np.zeros(n_stats, np.float32), False)
    crop = _square_crop(unit, fg)
    ys, xs = np.nonzero(fg)
    bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    _, n_comp = ndimage.label(unit > 0.08)
    bg = unit[~fg] if (~fg).any() else np.zeros(1, np.float32)
    hist = np.histogram(unit[fg], bins=HIST_BINS, range=(0.0, 1.0))[0] / fg.sum()
    sym = np.corrcoef(crop.ravel(), crop[:, ::-1].ravel())[0, 1] if crop.std() > 0 else 0.0
    stats = np.array(
        [
            fg.mean(),
            np.log(bh / bw),
            fg.sum() / (bh * bw),
            _solidity(fg),
            np.log1p(n_comp),
            bg.mean(),
            bg.std(),
            sym,
            *hist,
        ],
        dtype=np.float32,
    )
    return Descriptor(crop.astype(np.float32), np.nan_to_num(stats), True)


def mirrored_halves(img: np.ndarray, spacing=None) -> tuple[np.ndarray, np.ndarray]:
    """(left half + its mirror image, right half + its mirror image) of a (Y, X) slice, about
    the vertical midline of the head's bounding box. A one-sided lesion leaves one of them
    healthy-looking: the level is read from the more typical one."""
    img = np.asarray(img, dtype=np.float32)
    fg = foreground_mask(to_unit(img))
    cols = np.flatnonzero(fg.any(axis=0)) if fg.any() else np.array([0, img.shape[1] - 1])
    c = (cols[0] + cols[-1]) / 2.0
    x = np.arange(img.shape[1])
    out = []
    for keep_left in (True, False):
        src = np.where((x <= c) == keep_left, x, np.round(2 * c - x)).astype(int)
        valid = (src >= 0) & (src < img.shape[1])
        out.append(img[:, np.clip(src, 0, img.shape[1] - 1)] * valid[None, :])
    return out[0], out[1]


def mirrored_vectors(img: np.ndarray, spacing=None) -> np.ndarray:
    """The descriptors of both `mirrored_halves`, concatenated: (2 * D,)."""
    left, right = mirrored_halves(img)
    return np.concatenate([describe(left, spacing).vector(), describe(right, spacing).vector()])
