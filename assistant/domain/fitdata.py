"""Data for fitting the applicability model: the 2 mm IXI volumes registered to MNI space.

Each train/val volume is skull-stripped with its DLMUSE label map (labels > 0) and registered
(affine, `ACCURATE`) to the nilearn MNI brain template at 2 mm; the 4x4 MNI -> native voxel
matrix is cached as `<cache>/reg/<split>/<stem>.npy`. These matrices give every native axial
slice its MNI level, and build the skull-on head template that run-time registration uses.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from assistant.domain.geometry import sitk_from_zyx, sitk_template
from assistant.domain.register import ACCURATE, affine_register, physical_to_voxel
from assistant.scan import load_scan

log = logging.getLogger(__name__)


def volume_paths(root: Path, split: str) -> list[Path]:
    """The `*_T1.nii.gz` volumes of one split of the 2 mm set."""
    return sorted((Path(root) / split).glob("*_T1.nii.gz"))


def label_path(root: Path, split: str, volume: Path) -> Path:
    return Path(root) / "labels" / split / volume.name.replace("_T1.nii.gz", "_T1_DLMUSE.nii.gz")


def stem(path: Path) -> str:
    return path.name.replace(".nii.gz", "")


def load_volume(root: Path, split: str, path: Path) -> tuple[np.ndarray, np.ndarray, tuple]:
    """(pixels (Z, Y, X), brain mask, spacing) in the scan layout."""
    scan = load_scan(path)
    labels = load_scan(label_path(root, split, path))
    return scan.pixels, labels.pixels > 0.5, tuple(scan.spacing)


def register_brain(pixels: np.ndarray, brain: np.ndarray, spacing) -> tuple[np.ndarray, float]:
    """Skull-stripped volume -> (MNI -> native voxel 4x4 matrix, metric)."""
    stripped = pixels * brain
    vals = stripped[brain]
    moving = sitk_from_zyx(stripped / max(float(np.percentile(vals, 99)), 1e-6), spacing)
    f2m, metric = affine_register(sitk_template(2.0), moving, ACCURATE)
    return physical_to_voxel(moving) @ f2m, metric


def registered_matrices(root: Path, split: str, cache: Path) -> dict[str, np.ndarray]:
    """{stem: MNI -> native voxel matrix} for every volume of `split` (cached)."""
    out = {}
    folder = Path(cache) / "reg" / split
    folder.mkdir(parents=True, exist_ok=True)
    paths = volume_paths(root, split)
    for n, path in enumerate(paths):
        target = folder / f"{stem(path)}.npy"
        if not target.exists():
            t0 = time.perf_counter()
            pixels, brain, spacing = load_volume(root, split, path)
            matrix, metric = register_brain(pixels, brain, spacing)
            np.save(target, matrix)
            log.info(
                "%s %d/%d %s metric %.3f in %.1f s",
                split,
                n + 1,
                len(paths),
                stem(path),
                metric,
                time.perf_counter() - t0,
            )
        out[stem(path)] = np.load(target)
    return out


if __name__ == "__main__":  # registration cache only: python -m assistant.domain.fitdata ROOT
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = Path(sys.argv[1])
    cache = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("runs/domain")
    for split in ("val", "train"):
        registered_matrices(root, split, cache)
