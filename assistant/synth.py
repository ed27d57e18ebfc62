"""Synthetic lesions on healthy 2D scans, for evaluation and for rare findings.

A lesion is painted into a healthy [0, 1] image inside the brain (never on its border):
the tissue under a smooth-edged shape is replaced by a level that differs from the local tissue
by 0.25..0.6 (in [0, 1] units), plus a little noise so that it looks acquired, not painted.

Kinds (`KINDS`):
- ``hyperintense`` / ``hypointense``: an elliptic blob brighter / darker than its surroundings.
- ``irregular``: a shape cut out of smooth random noise (lobulated border), either polarity.
- ``textured``: an irregular shape with a heterogeneous (noisy) interior, either polarity.
- ``mass_effect``: the surrounding tissue is pushed outwards by a smooth radial warp (e.g. the
  ventricles are displaced) and a lesion of either polarity sits at its centre.
- ``ring``: a bright rim around a dark core (ring-like lesion); its intensity is ``mixed``.

Sizes follow THOR's bins at 128x128 (Bercea et al., MICCAI 2024): small <= 71 px,
medium 71..570 px, large > 570 px, scaled by (H * W) / (128 * 128) for other image sizes
(`size_bin_for_area`). The truth mask is the lesion's shape support (where the smooth weight is
at least 0.5); the displaced tissue of a mass effect is not part of it.

Everything is deterministic given the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import ndimage

from assistant.preprocess import brain_mask

logger = logging.getLogger(__name__)

SizeBin = Literal["small", "medium", "large"]
Side = Literal["left", "right"]
KINDS: tuple[str, ...] = (
    "hyperintense",
    "hypointense",
    "irregular",
    "textured",
    "mass_effect",
    "ring",
)
SIZE_BINS: tuple[str, ...] = ("small", "medium", "large")
# THOR's bin edges in pixels on a 128x128 grid: small <= 71 < medium <= 570 < large
BIN_EDGES_128 = (71.0, 570.0)
# areas drawn (log-uniformly, at 128x128) inside each bin, away from the edges so that the
# drawn size lands in its bin after the shape is rasterised
_AREA_RANGES_128 = {"small": (18.0, 62.0), "medium": (85.0, 480.0), "large": (680.0, 1100.0)}
CONTRAST_RANGE = (0.25, 0.6)  # |lesion level - local tissue| in [0, 1] units
# file suffixes of the formats the scan loader reads
IMAGE_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".bmp",
    ".dcm",
    ".dicom",
    ".nii",
    ".nii.gz",
}


@dataclass
class SynthLesion:
    """A healthy image with one synthetic lesion.

    image: (H, W) float32 in [0, 1]; mask: (H, W) bool, the lesion support.
    side is the IMAGE side of the lesion centroid (column < W / 2 is "left"); ap is "anterior"
    when the centroid row is above (smaller than) the brain's centroid row.
    """

    image: np.ndarray
    mask: np.ndarray
    kind: str
    size_bin: SizeBin
    side: Side
    ap: Literal["anterior", "posterior"]
    intensity: Literal["hyperintense", "hypointense", "mixed"]
    area_px: int
    centroid: tuple[float, float]  # (row, col)
    contrast: float  # |lesion level - local tissue level (median around it)|, [0, 1] units
    mean_abs_change: float  # mean |image - healthy input| inside the mask, [0, 1] units

    def labels(self) -> dict:
        """JSON-ready labels without the arrays."""
        d = asdict(self)
        del d["image"], d["mask"]
        d["centroid"] = [round(float(c), 2) for c in self.centroid]
        d["contrast"] = round(float(self.contrast), 4)
        d["mean_abs_change"] = round(float(self.mean_abs_change), 4)
        return d


def size_scale(shape: tuple[int, ...]) -> float:
    """Area factor from a 128x128 grid to an image of `shape` (H, W): (H * W) / 128²."""
    return float(shape[0] * shape[1]) / (128.0 * 128.0)


def size_bin_for_area(area_px: float, shape: tuple[int, ...]) -> SizeBin:
    """THOR's size bin of a lesion of `area_px` pixels on an image of `shape` (H, W)."""
    s = size_scale(shape)
    if area_px <= BIN_EDGES_128[0] * s:
        return "small"
    if area_px <= BIN_EDGES_128[1] * s:
        return "medium"
    return "large"


def brain_mask_for(img01: np.ndarray) -> np.ndarray:
    """Brain (not head) mask of a [0, 1] T1-like image; see `assistant.preprocess.brain_mask`."""
    return brain_mask(img01)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise with unit standard deviation, (H, W) float32."""
    n = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    return n / max(float(n.std()), 1e-6)


def _soft_weight(shape_mask: np.ndarray, edge: float) -> np.ndarray:
    """Smooth [0, 1] weight from a binary shape: 0.5 on its border, tanh fall-off of width
    `edge` pixels along the signed distance, zero beyond 2.5 * edge outside. (H, W) float32."""
    inside = ndimage.distance_transform_edt(shape_mask)
    outside = ndimage.distance_transform_edt(~shape_mask)
    signed = np.where(shape_mask, 0.5 - inside, outside - 0.5)
    weight = 0.5 * (1.0 - np.tanh(signed / edge))
    # cut the tail (< 0.7 %) so that the change stays local: nothing beyond 2.5 edge widths
    return np.where(signed < 2.5 * edge, weight, 0.0).astype(np.float32)


class _ShapeField:
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
            noise = _smooth_noise(rng, shape, sigma=max(1.0, 0.45 * radius))
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


def _local_level(img: np.ndarray, fg: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean of the image over the foreground only (normalised
    convolution), (H, W) float32: the tissue level a lesion at each pixel would replace."""
    num = ndimage.gaussian_filter(np.where(fg, img, 0.0).astype(np.float32), sigma)
    den = ndimage.gaussian_filter(fg.astype(np.float32), sigma)
    return num / np.maximum(den, 1e-6)


def _radial_warp(img: np.ndarray, center: tuple[float, float], amp: float, sigma: float):
    """Push tissue away from `center`: output radius r samples the input at
    r * (1 - amp * exp(-r² / (2 sigma²))), a smooth monotone warp for amp < 1 that vanishes a few
    sigma away. Returns the warped (H, W) float32 image."""
    rows, cols = np.indices(img.shape, dtype=np.float32)
    dy, dx = rows - center[0], cols - center[1]
    factor = 1.0 - amp * np.exp(-(dy**2 + dx**2) / (2.0 * sigma**2))
    coords = np.stack([center[0] + dy * factor, center[1] + dx * factor])
    return ndimage.map_coordinates(img, coords, order=1, mode="nearest").astype(np.float32)


@dataclass
class _Placement:
    """Where a lesion of a given area can go; `search` tries random centres."""

    img: np.ndarray  # (H, W) in [0, 1]
    fg: np.ndarray  # (H, W) bool, the brain
    room: np.ndarray  # (H, W) bool, admissible centres (side, distance to the border)
    inner: np.ndarray  # (H, W) bool, where lesion pixels may lie
    level: np.ndarray  # (H, W) local tissue level
    csf: np.ndarray  # (H, W) local fraction of CSF-dark pixels
    radius: float
    area: float
    size_bin: str
    irregular: bool
    reach: int  # pixels the soft edge extends beyond the shape

    def search(self, rng: np.random.Generator, polarity: str, tries: int):
        """(center, shape, local level, headroom) of the best of `tries` placements, or None.

        Prefers centres where the tissue leaves room for the contrast (bright lesions cannot
        go on tissue that is already near white) and not over CSF (ventricles)."""
        headroom_map = _headroom(self.level, polarity)
        good = self.room & (headroom_map >= CONTRAST_RANGE[0]) & (self.csf < 0.1)
        if good.any():
            candidates = np.argwhere(good)
        else:
            cut = np.quantile(headroom_map[self.room], 0.9)
            candidates = np.argwhere(self.room & (headroom_map >= cut))
        best, best_score = None, -np.inf
        for _ in range(tries):
            center = tuple(float(c) for c in candidates[rng.integers(len(candidates))])
            field = _ShapeField(rng, self.img.shape, center, self.radius, self.irregular)
            shape = field.fit_area(self.radius, self.area)
            area_px = int(shape.sum())
            if area_px == 0 or size_bin_for_area(area_px, self.img.shape) != self.size_bin:
                continue
            if not np.all(self.inner[ndimage.binary_dilation(shape, iterations=self.reach)]):
                continue
            # local tissue: the pixels under and around the shape, inside the brain
            grow = max(2, round(0.5 * self.radius))
            zone = ndimage.binary_dilation(shape, iterations=grow) & self.fg
            local = float(np.median(self.img[zone]))
            headroom = float(_headroom(local, polarity))
            csf = float(np.mean(self.img[shape] < 0.3))  # lesion fraction painted over CSF
            score = min(headroom, CONTRAST_RANGE[0]) - 2.0 * csf
            if score > best_score:
                best, best_score = (center, shape, local, headroom), score
            if headroom >= CONTRAST_RANGE[0] and csf <= 0.1:
                break
        return best


def synthesize_lesion(
    img01: np.ndarray,
    foreground: np.ndarray,
    rng: np.random.Generator,
    kind: str | None = None,
    size_bin: SizeBin | None = None,
    side: Side | None = None,
    max_tries: int = 60,
) -> SynthLesion:
    """Paint one lesion into a healthy image.

    img01: (H, W) float32 in [0, 1]; foreground: (H, W) bool where lesions may lie (the brain,
    e.g. `brain_mask_for(img01)`); kind / size_bin / side: drawn from `rng` when None.
    The lesion (and any tissue its mass effect moves) lies inside the foreground, at least a
    couple of pixels from its border. Raises ValueError when no such place exists.
    """
    img = np.asarray(img01, dtype=np.float32)
    fg = np.asarray(foreground, dtype=bool)
    if img.ndim != 2 or fg.shape != img.shape:
        raise ValueError(
            f"synthesize_lesion needs a 2D image and a foreground of the same shape, got "
            f"{img.shape} and {fg.shape}"
        )
    if img.size and (img.min() < -1e-6 or img.max() > 1 + 1e-6):
        raise ValueError(f"img01 must lie in [0, 1], got [{img.min():.3g}, {img.max():.3g}]")
    if kind is None:
        kind = str(rng.choice(KINDS))
    if kind not in KINDS:
        raise ValueError(f"unknown lesion kind {kind!r}; choose one of {', '.join(KINDS)}")
    if size_bin is None:
        size_bin = str(rng.choice(SIZE_BINS))
    if size_bin not in SIZE_BINS:
        raise ValueError(f"unknown size bin {size_bin!r}; choose one of {', '.join(SIZE_BINS)}")
    if side is None:
        side = str(rng.choice(("left", "right")))
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (image side), got {side!r}")

    h, w = img.shape
    scale = size_scale(img.shape)
    lo, hi = _AREA_RANGES_128[size_bin]
    area = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) * scale
    radius = float(np.sqrt(area / np.pi))
    if kind == "ring":
        polarity = "mixed"
    elif kind in ("hyperintense", "hypointense"):
        polarity = kind
    else:  # T1 lesions are more often dark than bright
        polarity = "hyperintense" if rng.random() < 0.4 else "hypointense"
    irregular = kind not in ("hyperintense", "hypointense")
    margin = max(2.0, 0.015 * min(h, w))
    edge = float(rng.uniform(0.8, 1.8)) * max(1.0, np.sqrt(scale))  # soft border width in px
    dist = ndimage.distance_transform_edt(fg)
    inner = dist > margin
    # where a lesion centre can go: far enough from the border, on the requested side
    cols = np.arange(w)[None, :]
    half = cols < w / 2 if side == "left" else cols >= w / 2
    room = (dist > 0.9 * radius + margin) & half
    if kind == "mass_effect":  # the warp moves tissue beyond the lesion: keep off the border
        room_me = (dist > 1.4 * radius + margin) & half
        room = room_me if room_me.any() else room
    if not room.any():
        raise ValueError(
            f"no room for a {size_bin} lesion ({area:.0f} px) on the image {side} of this "
            f"foreground ({int(fg.sum())} px); try a smaller size bin or the other side"
        )
    level = _local_level(img, fg, sigma=max(1.5, 0.6 * radius))
    csf_map = _local_level((img < 0.3).astype(np.float32), fg, sigma=max(1.0, 0.6 * radius))
    reach = int(np.ceil(2.5 * edge))
    place = _Placement(
        img, fg, room, inner, level, csf_map, radius, area, size_bin, irregular, reach
    )
    best = place.search(rng, polarity, max_tries)
    if kind in ("irregular", "textured", "mass_effect") and polarity == "hyperintense":
        # T1 white matter is near white: a bright lesion of a kind whose polarity is free
        # turns dark when no place leaves room for a clearly visible bright one
        if best is None or best[3] < CONTRAST_RANGE[0]:
            polarity = "hypointense"
            best = place.search(rng, polarity, max_tries) or best
    if best is None:
        raise ValueError(f"could not place a {size_bin} {kind} lesion inside the foreground")
    center, shape, local, headroom = best
    if headroom < CONTRAST_RANGE[0]:
        logger.debug("lesion contrast limited to %.2f by the tissue level %.2f", headroom, local)
    contrast = float(rng.uniform(CONTRAST_RANGE[0], max(CONTRAST_RANGE[0], headroom)))
    contrast = min(contrast, max(headroom, 0.05))

    out = img.copy()
    if kind == "mass_effect":
        sigma = min(
            1.8 * radius, max(radius, (dist[int(center[0]), int(center[1])] - margin) / 2.6)
        )
        out = _radial_warp(out, center, amp=float(rng.uniform(0.25, 0.4)), sigma=sigma)
    weight = _soft_weight(shape, edge)
    # a little acquisition-like noise and slow shading everywhere; "textured" lesions get a
    # heterogeneous interior (blotches of about a fifth of the radius plus fine grain)
    texture = 0.02 * _smooth_noise(rng, img.shape, 0.7)
    texture += 0.03 * _smooth_noise(rng, img.shape, max(1.0, radius / 2))
    if kind == "textured":
        amp = rng.uniform(0.08, 0.14)
        texture += amp * _smooth_noise(rng, img.shape, max(1.0, radius / 5))
        texture += 0.3 * amp * _smooth_noise(rng, img.shape, 1.0)
    if kind == "ring":
        # bright rim, dark core: core = shape eroded by 30-45 % of the radius
        rim_px = max(2, round(rng.uniform(0.3, 0.45) * radius))
        core = ndimage.binary_erosion(shape, iterations=rim_px)
        rim_level = min(local + contrast, 0.98)
        core_level = max(local - rng.uniform(*CONTRAST_RANGE), 0.02)
        out = out * (1 - weight) + weight * (rim_level + texture)
        if core.any():
            wc = _soft_weight(core, edge)
            out = out * (1 - wc) + wc * (core_level + texture)
    else:
        sign = 1.0 if polarity == "hyperintense" else -1.0
        level = local + sign * contrast
        out = out * (1 - weight) + weight * (level + texture)
    out = np.clip(np.where(fg, out, img), 0.0, 1.0).astype(np.float32)

    rows, cols = np.nonzero(shape)
    centroid = (float(rows.mean()), float(cols.mean()))
    brain_row = float(np.nonzero(fg)[0].mean())
    return SynthLesion(
        image=out,
        mask=shape,
        kind=kind,
        size_bin=size_bin_for_area(int(shape.sum()), img.shape),
        side="left" if centroid[1] < w / 2 else "right",
        ap="anterior" if centroid[0] < brain_row else "posterior",
        intensity=polarity,
        area_px=int(shape.sum()),
        centroid=centroid,
        contrast=contrast,
        mean_abs_change=float(np.abs(out - img)[shape].mean()),
    )


def _headroom(local, polarity: str):
    """Largest contrast (<= 0.6) a lesion of `polarity` can have on tissue of level `local`
    (a float or an array) while staying in [0.02, 0.98]."""
    up, down = 0.98 - local, local - 0.02
    room = {"hyperintense": up, "hypointense": down, "mixed": np.minimum(up, down)}[polarity]
    return np.minimum(CONTRAST_RANGE[1], room)


# ----------------------------------------------------------------------------- data sets


def list_images(images_dir: str | Path) -> list[Path]:
    """Image files of a folder (sorted), by the suffixes the scan loader accepts."""
    root = Path(images_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    files = [
        p
        for p in sorted(root.iterdir())
        if p.is_file() and not p.name.startswith(".") and _suffix(p) in IMAGE_SUFFIXES
    ]
    if not files:
        raise ValueError(
            f"no images in {root}; accepted suffixes: {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    return files


def image_stem(path: Path) -> str:
    """File name without its image suffix ("a.nii.gz" -> "a")."""
    suffix = _suffix(path)
    return path.name[: -len(suffix)] if suffix else path.name


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def load_image01(path: str | Path) -> np.ndarray:
    """A 2D (H, W) float32 image in [0, 1] from any format `assistant.scan.load_scan` takes (a
    volume gives its middle axial slice). 8-bit raster images are divided by 255 (a lossless
    round trip through PNG); others are normalised with `assistant.preprocess.to_unit` (with
    the scan's display window when it has one)."""
    from assistant.preprocess import to_unit
    from assistant.scan import load_scan

    scan = load_scan(Path(path)).slice2d()
    px = np.asarray(scan.pixels, dtype=np.float32)
    raster = scan.format in ("png", "jpeg", "bmp", "tiff")
    if raster and px.size and 0 <= px.min() and px.max() <= 255:
        return (px / 255.0).astype(np.float32)
    return to_unit(px, window=scan.window)


def _write_png(path: Path, arr01: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(np.round(np.clip(arr01, 0, 1) * 255).astype(np.uint8)).save(path)


@dataclass
class SynthDatasetSummary:
    """What `synthesize_dataset` wrote."""

    out_dir: Path
    n_images: int
    n_abnormal: int
    n_healthy: int
    by_kind: dict[str, int]
    by_size: dict[str, int]


def synthesize_dataset(
    images_dir: str | Path,
    out_dir: str | Path,
    n_per_image: int = 1,
    healthy_fraction: float = 0.3,
    seed: int = 0,
    progress: bool = False,
) -> SynthDatasetSummary:
    """Write a lesion evaluation set from a folder of healthy images.

    A fraction `healthy_fraction` of the source images (drawn with `seed`) is written unchanged
    as healthy `images/NAME.png`; every other source image gives `n_per_image` abnormal images
    (`NAME.png`, or `NAME_l{k}.png` when n_per_image > 1) with the lesion mask `masks/NAME.png`
    (0/255) beside them. Kinds and size bins are balanced over the abnormal images, sides drawn
    at random. `labels.jsonl` holds one line per written image. All images are 8-bit PNG.
    """
    if n_per_image < 1:
        raise ValueError(f"n_per_image must be >= 1, got {n_per_image}")
    if not 0.0 <= healthy_fraction <= 1.0:
        raise ValueError(f"healthy_fraction must be in [0, 1], got {healthy_fraction}")
    files = list_images(images_dir)
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    n_healthy = round(healthy_fraction * len(files))
    healthy = set(rng.permutation(len(files))[:n_healthy].tolist())
    n_abnormal = (len(files) - n_healthy) * n_per_image
    # kinds and size bins each balanced to within one; all combinations every 18 images
    n_k = len(KINDS)
    plan = [
        (KINDS[i % n_k], SIZE_BINS[(i % n_k + i // n_k) % len(SIZE_BINS)])
        for i in range(n_abnormal)
    ]
    plan = [plan[i] for i in rng.permutation(n_abnormal)]

    by_kind = {k: 0 for k in KINDS}
    by_size = {s: 0 for s in SIZE_BINS}
    written, n_abn = 0, 0
    iterator = enumerate(files)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(files), desc="synthesize", unit="img")
    with open(out / "labels.jsonl", "w") as labels_file:
        for i, path in iterator:
            img = load_image01(path)
            stem = image_stem(path)
            if i in healthy:
                _write_png(out / "images" / f"{stem}.png", img)
                record = {"name": f"{stem}.png", "source": path.name, "abnormal": False}
                labels_file.write(json.dumps(record) + "\n")
                written += 1
                continue
            brain = brain_mask_for(img)
            for k in range(n_per_image):
                kind, size_bin = plan[n_abn]
                lesion_rng = np.random.default_rng([seed, i, k])
                try:
                    lesion = synthesize_lesion(img, brain, lesion_rng, kind=kind, size_bin=size_bin)
                except ValueError:  # no room on that side: the other side, then smaller
                    lesion = _fallback_lesion(img, brain, lesion_rng, kind, size_bin)
                name = f"{stem}_l{k}.png" if n_per_image > 1 else f"{stem}.png"
                _write_png(out / "images" / name, lesion.image)
                _write_png(out / "masks" / name, lesion.mask.astype(np.float32))
                record = {"name": name, "source": path.name, "abnormal": True, **lesion.labels()}
                labels_file.write(json.dumps(record) + "\n")
                by_kind[lesion.kind] += 1
                by_size[lesion.size_bin] += 1
                n_abn += 1
                written += 1
    logger.info("wrote %d images (%d abnormal) to %s", written, n_abn, out)
    return SynthDatasetSummary(out, written, n_abn, written - n_abn, by_kind, by_size)


def _fallback_lesion(img, brain, rng, kind, size_bin) -> SynthLesion:
    order = SIZE_BINS[: SIZE_BINS.index(size_bin) + 1][::-1]
    last: ValueError | None = None
    for s in order:
        for side in ("left", "right"):
            try:
                return synthesize_lesion(img, brain, rng, kind=kind, size_bin=s, side=side)
            except ValueError as exc:
                last = exc
    raise ValueError(f"no room for any lesion in this image: {last}")
