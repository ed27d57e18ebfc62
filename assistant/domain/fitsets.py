"""Slice sets for fitting and evaluating the applicability model (descriptors, levels, cached).

Each set is a `SliceSet` of descriptor vectors (`assistant.domain.features`) with the slice's
MNI level (mm; NaN when unknown) and the volume or file it came from:

- ``mid``: the mid-axial IXI slices (MNI registered, all at the trained level);
- ``lesion``: the same with synthetic lesions (`assistant.synth`; 3 per val image, 1 per train
  image; sizes and kinds in turn); ``lesion_stripped``: the same masked with the brain mask;
- ``native``: every axial slice of the 2 mm volumes that holds brain, level at the brain's
  centre from the volume's registration (`assistant.domain.fitdata`);
- ``mni``: the 2 mm volumes resampled on the training grid at levels -40..+80 mm;
- ``native_stripped`` / ``mni_stripped``: the same masked with the DLMUSE brain mask;
- ``template``: the nilearn MNI template (skull-stripped) at levels -40..+80 mm, and
  ``template_lesion``: with synthetic lesions at levels within 12 mm of the trained level;
- ``sagittal`` / ``coronal``: slices of the 2 mm volumes in those planes (evaluation only).

Sets are cached as `<cache>/sets/<name>_<split>.npz`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain.features import describe, mirrored_vectors
from assistant.domain.fitdata import load_volume, registered_matrices, stem, volume_paths
from assistant.domain.geometry import template_array, trained_level_mm, training_grid
from assistant.domain.register import sample_grid
from assistant.scan import load_scan

log = logging.getLogger(__name__)

MNI_LEVELS = np.arange(-40.0, 81.0, 4.0)
LESION_SIZES = ("small", "medium", "large")


@dataclass
class SliceSet:
    vectors: np.ndarray  # (N, D) float32 descriptors
    level: np.ndarray  # (N,) MNI z mm (NaN: unknown)
    group: np.ndarray  # (N,) str: the file or volume
    index: np.ndarray  # (N,) int: slice index in the volume (-1 for 2D files)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **self.__dict__)

    @classmethod
    def load(cls, path: Path) -> SliceSet:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ("vectors", "level", "group", "index")})

    def __len__(self) -> int:
        return len(self.level)

    def subset(self, keep: np.ndarray) -> SliceSet:
        return SliceSet(self.vectors[keep], self.level[keep], self.group[keep], self.index[keep])


Row = tuple[np.ndarray, float, str, int]


def _collect(rows: Iterator[Row]) -> SliceSet:
    rows = list(rows)
    if not rows:
        raise ValueError("empty slice set")
    return SliceSet(
        np.stack([r[0] for r in rows]).astype(np.float32),
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows], dtype=np.int64),
    )


def _vector(img: np.ndarray, spacing=None) -> np.ndarray:
    return describe(img, spacing).vector()


def mid_rows(root: Path, split: str, encode=_vector) -> Iterator[Row]:
    z = trained_level_mm()
    for path in sorted((Path(root) / split).glob("*.png")):
        scan = load_scan(path)
        yield encode(scan.pixels, scan.spacing), z, path.stem, -1


def lesion_images(
    root: Path, split: str, seed: int = 0, per_image: int = 3
) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """(image with a synthetic lesion, the same skull-stripped, name) for `per_image` lesions of
    each image of the split: sizes small, medium, large in turn, the kinds in turn so that every
    kind meets every size; [0, 1] images. Stripped: masked with the dilated brain mask."""
    from assistant.synth import KINDS, brain_mask_for, load_image01, synthesize_lesion

    rng = np.random.default_rng(seed)
    n = 0
    for path in sorted((Path(root) / split).glob("*.png")):
        img = load_image01(path)
        brain = brain_mask_for(img)
        keep = ndimage.binary_dilation(brain, iterations=2)
        for _ in range(per_image):
            size = LESION_SIZES[n % len(LESION_SIZES)]
            kind = KINDS[n % len(KINDS)]
            n += 1
            try:
                les = synthesize_lesion(img, brain, rng, kind=kind, size_bin=size)
            except ValueError:
                continue
            yield les.image, les.image * keep, f"{path.stem}:{kind}:{size}"


def lesion_sets(root: Path, split: str, encode=_vector) -> tuple[SliceSet, SliceSet]:
    """(skull-on, skull-stripped) lesion slice sets: 3 lesions per val image, 1 per train image
    (synthesis takes about 0.7 s per lesion)."""
    z = trained_level_mm()
    per_image = 3 if split == "val" else 1
    on, off = [], []
    for img, stripped, name in lesion_images(root, split, int(split != "val"), per_image):
        on.append((encode(img), z, name, -1))
        off.append((encode(stripped), z, name, -1))
    return _collect(iter(on)), _collect(iter(off))


def _brain_centre_level(v2m: np.ndarray, k: int, brain2d: np.ndarray, shape) -> float:
    ys, xs = np.nonzero(brain2d)
    y, x = (ys.mean(), xs.mean()) if len(ys) else ((shape[1] - 1) / 2, (shape[2] - 1) / 2)
    return float((v2m @ np.array([k, y, x, 1.0]))[2])


def volume_rows(
    root: Path, split: str, cache: Path, kind: str, every: int = 1, encode=_vector
) -> Iterator[Row]:
    """Rows of the 2 mm volumes: kind "native" (axial slices with brain), "mni" (resampled at
    `MNI_LEVELS`), "sagittal" or "coronal" (slices with brain); a "_stripped" suffix masks
    every slice with the DLMUSE brain mask (skull-stripped scans are brain MRI too)."""
    matrices = registered_matrices(root, split, cache)
    base, strip = kind.removesuffix("_stripped"), kind.endswith("_stripped")
    for path in volume_paths(root, split):
        pixels, brain, spacing = load_volume(root, split, path)
        if strip:
            pixels = pixels * ndimage.binary_dilation(brain)
        m2v = matrices[stem(path)]
        name = stem(path)
        if base == "mni":
            for z in MNI_LEVELS[::2] if strip else MNI_LEVELS:
                img, _ = sample_grid(pixels, m2v, training_grid(z))
                yield encode(img), float(z), name, -1
            continue
        axis = {"native": 0, "coronal": 1, "sagittal": 2}[base]
        area = brain.sum(axis=tuple(a for a in range(3) if a != axis))
        for k in np.flatnonzero(area > 0.01 * area.max())[:: every * (2 if strip else 1)]:
            img = np.take(pixels, k, axis=axis)
            sp = tuple(s for a, s in enumerate(spacing) if a != axis)
            if axis:
                img = img[::-1]
            level = np.nan
            if axis == 0:
                level = _brain_centre_level(np.linalg.inv(m2v), int(k), brain[k], pixels.shape)
            yield encode(img, sp), level, name, int(k)


def template_rows(lesions_per_level: int = 0) -> Iterator[Row]:
    """The nilearn MNI template (skull-stripped) itself every 2 mm from -40 to +80 mm; with
    `lesions_per_level`, that many synthetic lesions on each level within 12 mm of the trained
    level instead (sizes and kinds in turn)."""
    from assistant.synth import KINDS, brain_mask_for, synthesize_lesion

    data, aff = template_array()
    z0, rng, n = trained_level_mm(), np.random.default_rng(2), 0
    levels = np.arange(-40.0, 81.0, 2.0)
    if lesions_per_level:
        levels = levels[np.abs(levels - z0) <= 12.0]
    for z in levels:
        k = int(round((z - aff[2, 3]) / aff[2, 2]))
        img = np.ascontiguousarray(data[:, :, k].T[::-1])
        if not lesions_per_level:
            yield describe(img).vector(), float(z), "mni", k
            continue
        brain = brain_mask_for(img)
        for _ in range(lesions_per_level):
            size, kind = LESION_SIZES[n % len(LESION_SIZES)], KINDS[n % len(KINDS)]
            n += 1
            try:
                les = synthesize_lesion(img, brain, rng, kind=kind, size_bin=size)
            except ValueError:
                continue
            yield describe(les.image).vector(), float(z), f"mni:{kind}:{size}", k


def slice_set(name: str, split: str, data: Path, cache: Path) -> SliceSet:
    """The cached slice set `name` ("mid", "lesion", "native", "mni", "sagittal", "coronal",
    ...; a "_mirror" suffix: the descriptors of both `mirrored_halves` of each slice)."""
    target = Path(cache) / "sets" / f"{name}_{split}.npz"
    if target.exists():
        return SliceSet.load(target)
    mid = Path(data) / "ixi-t1-midaxial"
    vols = Path(data) / "ixi-hh-t1-2mm"
    base = name.removesuffix("_mirror")
    encode = mirrored_vectors if name.endswith("_mirror") else _vector
    sfx = "_mirror" if name.endswith("_mirror") else ""
    if base == "mid":
        rows = mid_rows(mid, split, encode)
    elif base in ("lesion", "lesion_stripped"):
        on, off = lesion_sets(mid, split, encode)
        on.save(target.with_name(f"lesion{sfx}_{split}.npz"))
        off.save(target.with_name(f"lesion_stripped{sfx}_{split}.npz"))
        return off if base.endswith("_stripped") else on
    elif base == "template":
        rows = template_rows()
    elif base == "template_lesion":
        rows = template_rows(lesions_per_level=7)
    elif base.removesuffix("_stripped") in ("native", "mni"):
        # train: every other native slice (4 mm apart) is plenty for the references
        every = 2 if split == "train" else 1
        rows = volume_rows(vols, split, cache, base, every=every, encode=encode)
    elif base in ("sagittal", "coronal"):
        rows = volume_rows(vols, split, cache, base, every=3, encode=encode)
    else:
        raise ValueError(f"unknown slice set {name!r}")
    out = _collect(rows)
    out.save(target)
    log.info("slice set %s/%s: %d slices", name, split, len(out))
    return out
