"""Seeded synthetic 3D lesions in healthy NIfTI volumes, with their masks on the same grid.

    python -m assistant.volume.synth3d --volumes DIR --out OUT [--labels DIR] [--seed 0] \\
        [--limit N] [--healthy N]

writes `OUT/volumes/NAME` (the volume with 1-3 lesions), `OUT/masks/NAME` (uint8, 1 = lesion, on
the volume's own stored grid and affine), `OUT/lesions.json` (what was painted, per volume);
`--healthy N` copies N further volumes of DIR unchanged (no mask: healthy for `eval.volumes`).

A lesion is a smooth-edged 3D shape placed inside the brain (never through its border): an
ellipsoid with random radii (3-12 mm) and orientation, or an irregular blob (the ellipsoid's
distance field perturbed by smooth 3D noise). The tissue under it is replaced by the local
tissue level (a Gaussian-weighted mean of the brain around it) plus or minus a contrast of
0.25-0.6 of the brain's 99th-percentile intensity (hypo- or hyperintense on T1, as the 2D
generator `assistant.synth` does), with a little noise. Centres are spread over all brain
levels: the axial level (the stored axis closest to superior) is drawn uniformly among the
levels where a lesion of that size fits, then a voxel in it. The truth mask is where the shape's
soft weight is at least 0.5, inside the brain.

Brain mask: from a label map of the same volume when given (`--labels DIR`, e.g. the DLMUSE maps
`NAME_DLMUSE.nii.gz`; label > 0), else the MNI152 brain mask mapped through a registration
(`assistant.domain.register`; a few mm of error), eroded by 2 mm. `--mni-z LO HI` puts the
centres only at those MNI levels (through the registration): a set that a level-unaware model
(the shipped one analyses MNI z 19..27 mm) can see at all.

Deterministic: volume i of the sorted folder uses `numpy.random.default_rng([seed, i])`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

log = logging.getLogger(__name__)

RADIUS_MM = (3.0, 12.0)
CONTRAST_RANGE = (0.25, 0.6)  # of the brain's 99th percentile intensity
KINDS = ("ellipsoid", "irregular")
EDGE_MM = 1.0  # soft edge (Gaussian sigma) of the painted shape
LOCAL_SIGMA_MM = 6.0  # the local tissue level's neighbourhood
NOISE = 0.03  # noise inside the lesion, of the 99th percentile intensity


@dataclass
class Lesion3D:
    """One painted lesion; voxel indices are of the stored array (the file's own axes)."""

    kind: str
    polarity: str  # hyperintense / hypointense
    center_voxel: tuple[int, int, int]
    radii_mm: tuple[float, float, float]
    contrast: float  # |level - local tissue| / the brain's 99th percentile
    n_voxels: int
    volume_mm3: float
    level_index: int  # the stored superior axis' index of the centre
    level_fraction: float  # where that is between the brain's lowest (0) and highest (1) level


def superior_axis(affine: np.ndarray) -> int:
    """The stored array axis closest to the patient's superior direction."""
    return int(np.argmax(np.abs(np.asarray(affine)[2, :3])))


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    a, b, c, d = q / np.linalg.norm(q)
    return np.array(
        [
            [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
            [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
            [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
        ]
    )


def _shape(rng, kind: str, center, radii_mm, zooms, shape) -> tuple[np.ndarray, tuple]:
    """The soft weight (in [0, 1]) of one shape in a box around `center`, and the box."""
    half = [int(np.ceil(1.6 * max(radii_mm) / z)) + 2 for z in zooms]
    box = tuple(
        slice(max(0, c - h), min(n, c + h + 1)) for c, h, n in zip(center, half, shape, strict=True)
    )
    grids = np.meshgrid(
        *[(np.arange(s.start, s.stop) - c) * z for s, c, z in zip(box, center, zooms, strict=True)],
        indexing="ij",
    )
    pts = np.stack([g.ravel() for g in grids])  # (3, n) mm offsets
    local = _rotation(rng).T @ pts
    dist = np.sqrt(((local / np.asarray(radii_mm)[:, None]) ** 2).sum(0)).reshape(grids[0].shape)
    if kind == "irregular":
        sigma = [max(1.0, 0.5 * min(radii_mm) / z) for z in zooms]
        noise = ndimage.gaussian_filter(rng.normal(size=dist.shape), sigma)
        noise /= max(float(noise.std()), 1e-6)
        dist = dist * (1.0 + 0.25 * noise)
    inside = _largest(dist <= 1.0).astype(np.float32)
    weight = ndimage.gaussian_filter(inside, [EDGE_MM / z for z in zooms])
    weight[weight < 0.02] = 0.0  # the Gaussian's far tail: leave the tissue untouched
    return np.clip(weight, 0.0, 1.0), box


def _largest(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component of `mask` (one lesion is one piece)."""
    lab, n = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())[1:]
    return lab == (int(np.argmax(sizes)) + 1)


def paint_lesions(
    data: np.ndarray,
    affine: np.ndarray,
    brain: np.ndarray,
    rng: np.random.Generator,
    n_lesions: int | None = None,
    kinds: tuple[str, ...] = KINDS,
    centres: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Lesion3D]]:
    """Paint 1-3 (or `n_lesions`) lesions into `data` (stored array, any orientation) inside
    `brain` (bool, same shape); `centres` (bool, same shape): where their centres may lie
    (default: anywhere in the brain). Returns (new data float32, mask uint8, lesions)."""
    data = np.asarray(data, dtype=np.float32)
    brain = np.asarray(brain, dtype=bool)
    if brain.shape != data.shape:
        raise ValueError(f"brain mask {brain.shape} is not on the volume's grid {data.shape}")
    zooms = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(0))
    hi = float(np.percentile(data[brain], 99)) if brain.any() else 1.0
    wsum = ndimage.gaussian_filter(brain.astype(np.float32), LOCAL_SIGMA_MM / zooms)
    local = ndimage.gaussian_filter(np.where(brain, data, 0.0), LOCAL_SIGMA_MM / zooms)
    local = local / np.maximum(wsum, 1e-3)
    depth = ndimage.distance_transform_edt(brain, sampling=zooms)  # mm to the brain's border
    sup = superior_axis(affine)
    brain_levels = np.flatnonzero(brain.any(axis=tuple(a for a in range(3) if a != sup)))
    out = data.copy()
    mask = np.zeros(data.shape, dtype=np.uint8)
    taken = np.zeros(data.shape, dtype=bool)
    lesions: list[Lesion3D] = []
    n = int(n_lesions) if n_lesions is not None else int(rng.integers(1, 4))
    for _ in range(n):
        for _attempt in range(30):
            radii = tuple(float(r) for r in rng.uniform(*RADIUS_MM, size=3))
            fits = (depth >= max(radii) * 0.8 + 2.0) & ~taken
            if centres is not None:
                fits &= centres
            levels = np.flatnonzero(fits.any(axis=tuple(a for a in range(3) if a != sup)))
            if not len(levels):
                continue
            level = int(rng.choice(levels))
            cand = np.argwhere(np.take(fits, level, axis=sup))
            c2 = cand[int(rng.integers(len(cand)))].tolist()
            center = tuple(int(v) for v in np.insert(c2, sup, level))
            kind = str(rng.choice(kinds))
            weight, box = _shape(rng, kind, center, radii, zooms, data.shape)
            weight = weight * brain[box]
            support = _largest((weight >= 0.5) & ~taken[box])
            if support.sum() < 4:
                continue
            tissue = float(local[center]) / hi
            bright_ok = 1.0 - tissue >= CONTRAST_RANGE[0] + 0.02  # room for a bright lesion
            polarity = "hyperintense" if bright_ok and rng.random() < 0.5 else "hypointense"
            room = tissue - 0.02 if polarity == "hypointense" else 1.0 - tissue
            top = max(CONTRAST_RANGE[0], min(CONTRAST_RANGE[1], room))
            contrast = float(rng.uniform(CONTRAST_RANGE[0], top))
            sign = -1.0 if polarity == "hypointense" else 1.0
            level_val = (tissue + sign * contrast) * hi
            noise = rng.normal(0.0, NOISE * hi, size=weight.shape)
            region = out[box]
            out[box] = np.clip(region * (1 - weight) + weight * (level_val + noise), 0.0, None)
            mask[box] |= support.astype(np.uint8)
            taken[box] |= ndimage.binary_dilation(support, iterations=2)
            nvox = int(support.sum())
            span = max(1, brain_levels[-1] - brain_levels[0])
            lesions.append(
                Lesion3D(
                    kind=kind,
                    polarity=polarity,
                    center_voxel=center,
                    radii_mm=tuple(round(r, 2) for r in radii),
                    contrast=round(contrast, 4),
                    n_voxels=nvox,
                    volume_mm3=round(nvox * float(np.prod(zooms)), 1),
                    level_index=level,
                    level_fraction=round((level - brain_levels[0]) / span, 3),
                )
            )
            break
        else:
            log.warning("could not place a lesion after 30 attempts")
    return out, mask, lesions


def brain_from_labels(labels: np.ndarray, erode_mm: float, zooms) -> np.ndarray:
    brain = np.asarray(labels) > 0
    brain = ndimage.binary_fill_holes(brain)
    return _erode(brain, erode_mm, zooms)


def _erode(brain: np.ndarray, mm: float, zooms) -> np.ndarray:
    if mm <= 0:
        return brain
    return ndimage.distance_transform_edt(brain, sampling=zooms) > mm


def registration_maps(img) -> tuple[np.ndarray, np.ndarray]:
    """(MNI152 brain mask, MNI z in mm) on a nibabel image's stored grid, through the
    registration of `assistant.domain` (computed in the scan loader's (Z, Y, X) layout and
    mapped back to the stored axes)."""
    import nibabel as nib

    from assistant.domain import mni
    from assistant.domain.register import register_matrix
    from assistant.scan import Scan
    from assistant.scan.pixels import canonical_zyx
    from assistant.volume.components import voxel_points

    pixels, spacing = canonical_zyx(img)
    scan = Scan(pixels=pixels, spacing=spacing, patient_left="image_left", format="nifti")
    m2v, *_ = register_matrix(scan)
    zyx = np.argwhere(np.ones(pixels.shape, bool)).astype(np.float64)
    pts = voxel_points(np.linalg.inv(m2v), zyx)
    inside = (mni.sample(mni.brain_mask(0), pts, order=0) > 0.5).reshape(pixels.shape)
    z_mm = pts[:, 2].reshape(pixels.shape).astype(np.float32)
    canon = nib.as_closest_canonical(img)
    ornt = nib.orientations.ornt_transform(
        nib.orientations.io_orientation(canon.affine), nib.orientations.io_orientation(img.affine)
    )

    def stored(arr):  # the inverse of canonical_zyx: (Z, Y, X) -> canonical (X, Y, Z) -> stored
        return nib.orientations.apply_orientation(arr[:, ::-1, :].transpose(2, 1, 0), ornt)

    return stored(inside).astype(bool), stored(z_mm).astype(np.float32)


def brain_from_registration(img) -> np.ndarray:
    """The MNI152 brain mask on a nibabel image's stored grid (`registration_maps`)."""
    return registration_maps(img)[0]


@dataclass
class SynthVolumeSet:
    out: str
    n_lesion_volumes: int
    n_healthy: int
    seed: int
    mni_z: list[float] | None
    lesions: dict[str, list[dict]]


def labels_for(volume: Path, labels_dir: Path | None) -> Path | None:
    """`labels_dir/STEM_DLMUSE.nii.gz` (or the same file name) for a volume, if it exists."""
    if labels_dir is None:
        return None
    stem = volume.name.split(".nii")[0]
    for name in (f"{stem}_DLMUSE.nii.gz", volume.name):
        if (labels_dir / name).is_file():
            return labels_dir / name
    return None


def synthesize_volume_set(
    volumes_dir: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    labels_dir: str | Path | None = None,
    limit: int | None = None,
    healthy: int = 0,
    erode_mm: float = 2.0,
    mni_z: tuple[float, float] | None = None,
) -> SynthVolumeSet:
    """Lesions into the first `limit` volumes of `volumes_dir` (sorted), and `healthy` further
    volumes copied unchanged (module docstring). `mni_z` (lo, hi): lesion centres only where
    the registration puts MNI z in [lo, hi] mm (e.g. the levels a level-unaware model analyses);
    default: all brain levels."""
    import nibabel as nib

    from assistant.domain.levelset import volume_files

    files = volume_files(volumes_dir)
    n = len(files) if limit is None else min(int(limit), len(files))
    if n + healthy > len(files):
        raise ValueError(f"{volumes_dir} holds {len(files)} volumes; {n} + {healthy} asked")
    out = Path(out)
    (out / "volumes").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    labels_dir = Path(labels_dir) if labels_dir is not None else None
    record: dict[str, list[dict]] = {}
    for i, path in enumerate(files[:n]):
        rng = np.random.default_rng([int(seed), i])
        img = nib.load(str(path))
        data = np.asarray(img.get_fdata(dtype=np.float32))
        zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(0))
        lab_path = labels_for(path, labels_dir)
        reg_brain, centres = None, None
        if mni_z is not None or lab_path is None:
            reg_brain, z_mm = registration_maps(img)
            if mni_z is not None:
                centres = (z_mm >= float(mni_z[0])) & (z_mm <= float(mni_z[1]))
        if lab_path is not None:
            lab = nib.load(str(lab_path))
            if lab.shape[:3] != data.shape[:3] or not np.allclose(
                lab.affine, img.affine, atol=1e-3
            ):
                raise ValueError(f"{lab_path.name} is not on the grid of {path.name}")
            brain = brain_from_labels(np.asarray(lab.dataobj), erode_mm, zooms)
            source = "labels"
        else:
            brain = _erode(reg_brain, erode_mm, zooms)
            source = "registration"
        new, mask, lesions = paint_lesions(data, img.affine, brain, rng, centres=centres)
        header = img.header.copy()
        header.set_data_dtype(np.float32)
        header.set_slope_inter(1.0, 0.0)
        nib.save(nib.Nifti1Image(new, img.affine, header), str(out / "volumes" / path.name))
        mheader = img.header.copy()
        mheader.set_data_dtype(np.uint8)
        mheader.set_slope_inter(1.0, 0.0)
        nib.save(nib.Nifti1Image(mask, img.affine, mheader), str(out / "masks" / path.name))
        record[path.name] = [{**asdict(les), "brain_mask": source} for les in lesions]
        log.info("%s: %d lesion(s), brain from %s", path.name, len(lesions), source)
    for path in files[n : n + healthy]:
        shutil.copyfile(path, out / "volumes" / path.name)
    summary = SynthVolumeSet(
        out=str(out),
        n_lesion_volumes=n,
        n_healthy=healthy,
        seed=int(seed),
        mni_z=None if mni_z is None else [float(v) for v in mni_z],
        lesions=record,
    )
    (out / "lesions.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m assistant.volume.synth3d",
        description="Seeded synthetic 3D lesions in healthy NIfTI volumes (+ masks).",
    )
    p.add_argument("--volumes", required=True, help="folder of healthy NIfTI volumes")
    p.add_argument("--out", required=True, help="output folder (volumes/, masks/, lesions.json)")
    p.add_argument("--labels", default=None, help="label maps (NAME_DLMUSE.nii.gz): brain mask")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="lesions into the first N volumes")
    p.add_argument("--healthy", type=int, default=0, help="copy N further volumes unchanged")
    p.add_argument(
        "--mni-z",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="lesion centres only at MNI z LO..HI mm (after registration); default: all levels",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    s = synthesize_volume_set(
        args.volumes,
        args.out,
        seed=args.seed,
        labels_dir=args.labels,
        limit=args.limit,
        healthy=args.healthy,
        mni_z=None if args.mni_z is None else tuple(args.mni_z),
    )
    print(f"{s.n_lesion_volumes} volumes with lesions, {s.n_healthy} healthy -> {s.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
