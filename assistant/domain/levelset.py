"""Training slices at every brain level: whole-head volumes registered to MNI and cut axially.

A level set is what the level-aware detector trains on (`assistant train --volumes`): each
volume of a folder is registered to the MNI head template exactly as at run time
(`register_matrix`, affine, mutual information), then resampled on the training slices' 1 mm
grid at every MNI z of `BRAIN_LEVELS_MM`, and prepared for the model like any scan
(`assistant.detector.data.prepare_slice`). The result is an npz file:

    images   (N, S, S) uint8   the model-grid images, [0, 1] * 255
    levels   (N,) float32      MNI z (mm) of each slice
    volumes  (N,) str          the volume's file name
    + matrices (V, 4, 4) and names (V,): the registrations, so that a rebuild can skip them

Registration takes 2-4 s per 2 mm volume on 2 cores; `build_level_set` re-uses the matrices of
an existing output file (`cache`), so an interrupted build resumes where it stopped.

    python -m assistant.domain.levelset --volumes DIR --out FILE.npz
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from assistant.detector.data import prepare_slice
from assistant.detector.model import PreprocessConfig
from assistant.domain.geometry import training_grid
from assistant.domain.register import register_matrix, sample_grid

log = logging.getLogger(__name__)

# MNI z (mm) of the axial levels a whole-brain model learns: from the lower cerebellum to the
# vertex every 2 mm (the 2 mm volumes' resolution). The mid-axial training slices are at +23.
BRAIN_LEVELS_MM: tuple[float, ...] = tuple(float(z) for z in range(-50, 79, 2))
MIN_FOREGROUND = 0.05  # slices whose head covers less of the model grid are left out


def volume_files(folder: str | Path) -> list[Path]:
    """3D scans (NIfTI) directly in `folder`, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of volumes")
    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith((".nii", ".nii.gz")))
    if not files:
        raise FileNotFoundError(f"no NIfTI volumes (.nii, .nii.gz) in {folder}")
    return files


def level_slices(pixels: np.ndarray, mni_to_voxel: np.ndarray, levels, pre: PreprocessConfig):
    """(model-grid images (n, S, S) float32, their levels) of one registered volume."""
    images, kept = [], []
    for z in levels:
        raw, _ = sample_grid(pixels, mni_to_voxel, training_grid(z))
        if not np.any(raw > 0):
            continue
        grid, fg, _, _ = prepare_slice(raw, pre)
        if fg.mean() < MIN_FOREGROUND:
            continue
        images.append(grid)
        kept.append(float(z))
    return np.stack(images) if images else np.zeros((0, pre.size, pre.size)), kept


def build_level_set(
    folder: str | Path,
    out: str | Path,
    pre: PreprocessConfig | None = None,
    levels=BRAIN_LEVELS_MM,
    limit: int | None = None,
) -> Path:
    """Register every volume of `folder`, cut it at `levels` and write the level set `out`."""
    from tqdm.auto import tqdm

    from assistant.scan import ScanError, load_scan

    pre = pre or PreprocessConfig()
    out = Path(out)
    known: dict[str, np.ndarray] = {}
    if out.is_file():
        with np.load(out) as old:
            known = dict(zip(old["names"].tolist(), old["matrices"], strict=True))
    images, lv, vols, names, matrices = [], [], [], [], []
    files = volume_files(folder)[:limit]
    for path in tqdm(files, desc="level set", dynamic_ncols=True):
        try:
            scan = load_scan(path)
        except ScanError as exc:
            log.warning("skipping %s: %s", path.name, exc)
            continue
        if not scan.is_volume:
            log.warning("skipping %s: not a 3D volume", path.name)
            continue
        t0 = time.perf_counter()
        matrix = known.get(path.name)
        if matrix is None:
            matrix = register_matrix(scan)[0]
        grids, kept = level_slices(scan.pixels, matrix, levels, pre)
        log.info("%s: %d levels in %.1f s", path.name, len(kept), time.perf_counter() - t0)
        images.append(np.round(grids * 255).astype(np.uint8))
        lv.extend(kept)
        vols.extend([path.name] * len(kept))
        names.append(path.name)
        matrices.append(matrix)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        images=np.concatenate(images) if images else np.zeros((0, pre.size, pre.size), np.uint8),
        levels=np.asarray(lv, dtype=np.float32),
        volumes=np.asarray(vols),
        names=np.asarray(names),
        matrices=np.asarray(matrices, dtype=np.float64).reshape(-1, 4, 4),
    )
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--volumes", required=True, help="folder of whole-head T1 volumes (NIfTI)")
    p.add_argument("--out", required=True, help="level set to write (.npz)")
    p.add_argument("--size", type=int, default=128, help="model grid size")
    p.add_argument("--limit", type=int, help="only the first N volumes")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build_level_set(args.volumes, args.out, PreprocessConfig(size=args.size), limit=args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
