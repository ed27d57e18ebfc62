"""`synthesize_lesion`: paint one lesion into a healthy [0, 1] image (see `assistant.synth`)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

from assistant import findings
from assistant.findings import (
    LATERAL_SIDES,
    SIZE_BINS,
    Intensity,
    LateralSide,
    SizeBin,
    size_scale,
)
from assistant.preprocess import brain_mask
from assistant.synth.shapes import ShapeField, local_level, radial_warp, smooth_noise, soft_weight

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = (
    "hyperintense",
    "hypointense",
    "irregular",
    "textured",
    "mass_effect",
    "ring",
)
# areas drawn (log-uniformly, at 128x128) inside each size bin, away from the edges so that the
# drawn size lands in its bin after the shape is rasterised
_AREA_RANGES_128 = {"small": (18.0, 62.0), "medium": (85.0, 480.0), "large": (680.0, 1100.0)}
CONTRAST_RANGE = (0.25, 0.6)  # |lesion level - local tissue| in [0, 1] units


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
    side: LateralSide
    ap: Literal["anterior", "posterior"]
    intensity: Intensity
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


def brain_mask_for(img01: np.ndarray) -> np.ndarray:
    """Brain (not head) mask of a [0, 1] T1-like image; see `assistant.preprocess.brain_mask`."""
    return brain_mask(img01)


def synthesize_lesion(
    img01: np.ndarray,
    foreground: np.ndarray,
    rng: np.random.Generator,
    kind: str | None = None,
    size_bin: SizeBin | None = None,
    side: LateralSide | None = None,
    max_tries: int = 60,
) -> SynthLesion:
    """Paint one lesion into a healthy image.

    img01: (H, W) float32 in [0, 1]; foreground: (H, W) bool where lesions may lie (the brain,
    e.g. `brain_mask_for(img01)`); kind / size_bin / side: drawn from `rng` when None.
    The lesion (and any tissue its mass effect moves) lies inside the foreground, at least a
    couple of pixels from its border. Raises ValueError when no such place exists.
    """
    img, fg = _checked(img01, foreground)
    kind, size_bin, side = _choose(rng, kind, size_bin, side)
    place, polarity = _Placement.plan(img, fg, rng, kind, size_bin, side)
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
    out = _paint(place, rng, kind, polarity, center, shape, local, contrast)

    rows, cols = np.nonzero(shape)
    centroid = (float(rows.mean()), float(cols.mean()))
    brain_row = float(np.nonzero(fg)[0].mean())
    return SynthLesion(
        image=out,
        mask=shape,
        kind=kind,
        size_bin=findings.size_bin(int(shape.sum()), img.shape),
        side="left" if centroid[1] < img.shape[1] / 2 else "right",
        ap="anterior" if centroid[0] < brain_row else "posterior",
        intensity=polarity,
        area_px=int(shape.sum()),
        centroid=centroid,
        contrast=contrast,
        mean_abs_change=float(np.abs(out - img)[shape].mean()),
    )


def _checked(img01: np.ndarray, foreground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image float32, foreground bool), or ValueError for the wrong shapes or range."""
    img = np.asarray(img01, dtype=np.float32)
    fg = np.asarray(foreground, dtype=bool)
    if img.ndim != 2 or fg.shape != img.shape:
        raise ValueError(
            f"synthesize_lesion needs a 2D image and a foreground of the same shape, got "
            f"{img.shape} and {fg.shape}"
        )
    if img.size and (img.min() < -1e-6 or img.max() > 1 + 1e-6):
        raise ValueError(f"img01 must lie in [0, 1], got [{img.min():.3g}, {img.max():.3g}]")
    return img, fg


def _choose(rng, kind, size_bin, side) -> tuple[str, str, str]:
    """kind, size bin and side: as given (checked) or drawn from `rng`, in that order."""
    if kind is None:
        kind = str(rng.choice(KINDS))
    if kind not in KINDS:
        raise ValueError(f"unknown lesion kind {kind!r}; choose one of {', '.join(KINDS)}")
    if size_bin is None:
        size_bin = str(rng.choice(SIZE_BINS))
    if size_bin not in SIZE_BINS:
        raise ValueError(f"unknown size bin {size_bin!r}; choose one of {', '.join(SIZE_BINS)}")
    if side is None:
        side = str(rng.choice(LATERAL_SIDES))
    if side not in LATERAL_SIDES:
        raise ValueError(f"side must be 'left' or 'right' (image side), got {side!r}")
    return kind, size_bin, side


def headroom(local, polarity: str):
    """Largest contrast (<= 0.6) a lesion of `polarity` can have on tissue of level `local`
    (a float or an array) while staying in [0.02, 0.98]."""
    up, down = 0.98 - local, local - 0.02
    room = {"hyperintense": up, "hypointense": down, "mixed": np.minimum(up, down)}[polarity]
    return np.minimum(CONTRAST_RANGE[1], room)


@dataclass
class _Placement:
    """Where a lesion of a given area can go (`plan`); `search` tries random centres."""

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
    edge: float  # soft border width in pixels
    reach: int  # pixels the soft edge extends beyond the shape
    dist: np.ndarray  # (H, W) distance to the foreground's border
    margin: float  # lesion pixels keep this far from the foreground's border

    @classmethod
    def plan(cls, img, fg, rng, kind: str, size_bin: str, side: str) -> tuple[_Placement, str]:
        """(placement, polarity): the lesion's area, radius, soft edge and polarity drawn from
        `rng`, and where its centre may go (on the image `side`, off the border)."""
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
        margin = max(2.0, 0.015 * min(h, w))
        edge = float(rng.uniform(0.8, 1.8)) * max(1.0, np.sqrt(scale))
        dist = ndimage.distance_transform_edt(fg)
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
        place = cls(
            img=img,
            fg=fg,
            room=room,
            inner=dist > margin,
            level=local_level(img, fg, sigma=max(1.5, 0.6 * radius)),
            csf=local_level((img < 0.3).astype(np.float32), fg, sigma=max(1.0, 0.6 * radius)),
            radius=radius,
            area=area,
            size_bin=size_bin,
            irregular=kind not in ("hyperintense", "hypointense"),
            edge=edge,
            reach=int(np.ceil(2.5 * edge)),
            dist=dist,
            margin=margin,
        )
        return place, polarity

    def search(self, rng: np.random.Generator, polarity: str, tries: int):
        """(center, shape, local level, headroom) of the best of `tries` placements, or None.

        Prefers centres where the tissue leaves room for the contrast (bright lesions cannot
        go on tissue that is already near white) and not over CSF (ventricles)."""
        headroom_map = headroom(self.level, polarity)
        good = self.room & (headroom_map >= CONTRAST_RANGE[0]) & (self.csf < 0.1)
        if good.any():
            candidates = np.argwhere(good)
        else:
            cut = np.quantile(headroom_map[self.room], 0.9)
            candidates = np.argwhere(self.room & (headroom_map >= cut))
        best, best_score = None, -np.inf
        for _ in range(tries):
            center = tuple(float(c) for c in candidates[rng.integers(len(candidates))])
            field = ShapeField(rng, self.img.shape, center, self.radius, self.irregular)
            shape = field.fit_area(self.radius, self.area)
            area_px = int(shape.sum())
            if area_px == 0 or findings.size_bin(area_px, self.img.shape) != self.size_bin:
                continue
            if not np.all(self.inner[ndimage.binary_dilation(shape, iterations=self.reach)]):
                continue
            # local tissue: the pixels under and around the shape, inside the brain
            grow = max(2, round(0.5 * self.radius))
            zone = ndimage.binary_dilation(shape, iterations=grow) & self.fg
            local = float(np.median(self.img[zone]))
            room = float(headroom(local, polarity))
            csf = float(np.mean(self.img[shape] < 0.3))  # lesion fraction painted over CSF
            score = min(room, CONTRAST_RANGE[0]) - 2.0 * csf
            if score > best_score:
                best, best_score = (center, shape, local, room), score
            if room >= CONTRAST_RANGE[0] and csf <= 0.1:
                break
        return best


def _paint(place: _Placement, rng, kind, polarity, center, shape, local, contrast) -> np.ndarray:
    """The image with the lesion `shape` painted at `contrast` from the tissue level `local`
    (after the mass effect's warp), plus a little noise; (H, W) float32 in [0, 1]."""
    img, radius, edge = place.img, place.radius, place.edge
    out = img.copy()
    if kind == "mass_effect":
        room = place.dist[int(center[0]), int(center[1])] - place.margin
        sigma = min(1.8 * radius, max(radius, room / 2.6))
        out = radial_warp(out, center, amp=float(rng.uniform(0.25, 0.4)), sigma=sigma)
    weight = soft_weight(shape, edge)
    # a little acquisition-like noise and slow shading everywhere; "textured" lesions get a
    # heterogeneous interior (blotches of about a fifth of the radius plus fine grain)
    texture = 0.02 * smooth_noise(rng, img.shape, 0.7)
    texture += 0.03 * smooth_noise(rng, img.shape, max(1.0, radius / 2))
    if kind == "textured":
        amp = rng.uniform(0.08, 0.14)
        texture += amp * smooth_noise(rng, img.shape, max(1.0, radius / 5))
        texture += 0.3 * amp * smooth_noise(rng, img.shape, 1.0)
    if kind == "ring":
        # bright rim, dark core: core = shape eroded by 30-45 % of the radius
        rim_px = max(2, round(rng.uniform(0.3, 0.45) * radius))
        core = ndimage.binary_erosion(shape, iterations=rim_px)
        rim_level = min(local + contrast, 0.98)
        core_level = max(local - rng.uniform(*CONTRAST_RANGE), 0.02)
        out = out * (1 - weight) + weight * (rim_level + texture)
        if core.any():
            wc = soft_weight(core, edge)
            out = out * (1 - wc) + wc * (core_level + texture)
    else:
        sign = 1.0 if polarity == "hyperintense" else -1.0
        level = local + sign * contrast
        out = out * (1 - weight) + weight * (level + texture)
    return np.clip(np.where(place.fg, out, img), 0.0, 1.0).astype(np.float32)
