"""Label maps, segmentations and masks uploaded by mistake: images made of flat patches.

A researcher keeps label maps and masks beside the scans (`*_seg.nii.gz`, DLMUSE maps, lesion
masks), and one is easily uploaded instead of the scan. The checks then refused it for reasons
that do not name the mistake (a failed registration, an atypical slice). A scan, even stored in
8 bits, has noise and smooth gradients: few neighbouring pixels inside it have exactly the same
value. A label map or mask is flat within each label. `flat_fraction` is the fraction of
neighbouring pixel pairs (along rows and columns) inside the image (not its most frequent value,
the background) whose values are identical. An image enlarged without interpolation (every pixel
repeated k x k times) is read at its own resolution first, and an image larger than 256 pixels
on a side on every k-th pixel, so that an enlarged, smoothly interpolated 8-bit image (a
screenshot of a zoomed viewer) is not read as flat.

Measured (`python -m eval.flat --json eval/results/flat.json`; the refusals in
`eval.applicability`'s label-map classes): T1 scans of every kind read 0.07-0.26 (466 train and
58 val mid-axial PNGs, 61 train/val volumes, the shipped examples, 40 chest X-rays; MSLUB
volumes 0), 10 val mid-axial PNGs shrunk and enlarged x4-x32 with bilinear interpolation at most
0.28, the 21 val DLMUSE label maps 0.76-0.79, binary masks 1.0.
"""

from __future__ import annotations

import numpy as np

SCANS_READ = (0.07, 0.26)  # what T1 scans of every kind read (the module docstring)
MAX_FLAT_FRACTION = 0.6  # between the scans (at most 0.26) and the label maps (at least 0.76)
# (a pure linear gradient, equal along one axis, reads 0.5: not taken for a label map)
MIN_PAIRS = 1000  # fewer neighbouring foreground pairs: no verdict
MAX_SLICES = 32  # a volume is read on at most this many of its slices, evenly spread
MAX_REPEAT = 8  # pixel repetition (enlargement without interpolation) looked for up to this
MAX_SIDE = 256  # a larger image is read on every k-th pixel (an enlarged, interpolated image's
# slow 8-bit ramps would otherwise read as flat: x8-x32 enlargements read 0.40-0.58 in full)


def flat_fraction(pixels: np.ndarray) -> float | None:
    """The fraction of neighbouring foreground pixel pairs with identical values (module
    docstring): a 2D image (H, W) or a volume (Z, Y, X), read per axial slice; None when the
    image has too few foreground pairs to tell."""
    px = np.asarray(pixels)
    if px.ndim == 2:
        px = px[None]
    if px.ndim != 3 or min(px.shape) == 0:
        return None
    px = px[:: max(1, int(np.ceil(px.shape[0] / MAX_SLICES)))]
    px = _unrepeated(px)
    step = max(1, int(np.ceil(max(px.shape[1:]) / MAX_SIDE)))
    px = px[:, ::step, ::step]
    values, counts = np.unique(px, return_counts=True)
    foreground = px != values[counts.argmax()]
    same = pairs = 0
    for axis in (1, 2):
        a, f = np.moveaxis(px, axis, 0), np.moveaxis(foreground, axis, 0)
        both = f[1:] & f[:-1]
        pairs += int(both.sum())
        same += int(((a[1:] == a[:-1]) & both).sum())
    return same / pairs if pairs >= MIN_PAIRS else None


def _unrepeated(px: np.ndarray) -> np.ndarray:
    """`px` (Z, Y, X) at its own resolution when every pixel of it was repeated k x k times
    in-plane (an image enlarged without interpolation), else `px`."""
    h, w = px.shape[1:]
    for k in range(MAX_REPEAT, 1, -1):
        if h < 4 * k or w < 4 * k:
            continue
        small = px[:, ::k, ::k]
        if np.array_equal(np.repeat(np.repeat(small, k, axis=1), k, axis=2)[:, :h, :w], px):
            return small
    return px
