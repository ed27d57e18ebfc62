"""Lesion evaluation sets: `synthesize_dataset` paints lesions into a folder of healthy images."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.findings import SIZE_BINS
from assistant.synth.lesion import KINDS, SynthLesion, brain_mask_for, synthesize_lesion

logger = logging.getLogger(__name__)

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
