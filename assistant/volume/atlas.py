"""A labelled MNI atlas built from label maps of registered volumes (majority vote).

    python -m assistant.volume.atlas --volumes DIR --labels DIR --names CSV --out FILE.npz \\
        [--matrices LEVELSET.npz] [--limit N] [--step 2]

Each volume of --volumes is registered to MNI space (`assistant.domain.register.register_matrix`,
affine; or its matrix is read from a level set written by `assistant.domain.levelset`, which
stores them), its label map (`--labels/STEM_DLMUSE.nii.gz`, same grid) is read at the MNI points
of a `step` mm grid over the MNI152 template's extent (nearest neighbour), and every grid point
gets the label most volumes agree on (background included). `--names` is an Index,Code,Name CSV.

The result (`MniAtlas`) names the region of any registered volume's finding approximately:
only an affine registration stands between the subject and the atlas, so cortical labels are
blurred across subjects and names are right to a few millimetres, not to the gyrus. Built from
the IXI train split's NiChart DLMUSE maps it is data derived from IXI (CC BY-SA 3.0, "IXI
dataset, brain-development.org") and DLMUSE; shipping it must state that provenance.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain import mni
from assistant.volume.regions import MniAtlas, read_label_names

log = logging.getLogger(__name__)

EXTENT_MM = ((-98.0, 98.0), (-134.0, 98.0), (-72.0, 116.0))  # the MNI152 2009 1 mm grid


def atlas_grid(step: float) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(origin, shape) of a `step` mm grid over the template's extent."""
    origin = np.array([lo for lo, _ in EXTENT_MM])
    shape = tuple(int(np.floor((hi - lo) / step)) + 1 for lo, hi in EXTENT_MM)
    return origin, shape


def _matrices(path: str | Path | None) -> dict[str, np.ndarray]:
    if path is None:
        return {}
    with np.load(path) as d:
        return dict(zip(d["names"].tolist(), d["matrices"], strict=True))


def build_atlas(
    volumes_dir: str | Path,
    labels_dir: str | Path,
    names_csv: str | Path,
    *,
    matrices: str | Path | None = None,
    limit: int | None = None,
    step: float = 2.0,
    provenance: str = "",
) -> MniAtlas:
    """Majority-vote atlas of the label maps of `volumes_dir` (module docstring)."""
    from tqdm.auto import tqdm

    from assistant.domain.levelset import volume_files
    from assistant.domain.register import register_matrix
    from assistant.scan import load_scan
    from assistant.volume.synth3d import labels_for

    names = read_label_names(names_csv)
    codes = np.array(sorted({0, *names}), dtype=np.int64)
    lut = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    lut[codes] = np.arange(len(codes))
    origin, shape = atlas_grid(step)
    g = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1).reshape(-1, 3)
    pts = origin + g * step
    # only where a brain can be: the MNI brain mask, generously dilated
    keep = mni.sample(mni.brain_mask(6), pts, order=0) > 0.5
    pts, g = pts[keep], g[keep]
    known = _matrices(matrices)
    votes = []
    files = volume_files(volumes_dir)[: limit if limit is not None else None]
    for path in tqdm(files, desc="atlas", unit="vol"):
        lab_path = labels_for(path, Path(labels_dir))
        if lab_path is None:
            log.warning("no label map for %s: skipped", path.name)
            continue
        m2v = known.get(path.name)
        if m2v is None:
            m2v = register_matrix(load_scan(path))[0]
        lab = np.rint(load_scan(lab_path).pixels).astype(np.int64)
        vox = pts @ m2v[:3, :3].T + m2v[:3, 3]
        vals = ndimage.map_coordinates(lab, vox.T, order=0, mode="constant", cval=0)
        vals = np.where((vals >= 0) & (vals < len(lut)), vals, 0)
        votes.append(lut[vals].astype(np.uint8))
    if not votes:
        raise FileNotFoundError(f"no volume of {volumes_dir} has a label map in {labels_dir}")
    stack = np.stack(votes)  # (volumes, points)
    n_codes = len(codes)
    winner = np.zeros(stack.shape[1], dtype=np.int64)
    for s in range(0, stack.shape[1], 100_000):
        block = stack[:, s : s + 100_000].astype(np.int64)
        n = block.shape[1]
        flat = (np.arange(n)[None, :] * n_codes + block).ravel()
        counts = np.bincount(flat, minlength=n * n_codes).reshape(n, n_codes)
        winner[s : s + n] = counts.argmax(1)
    labels = np.zeros(shape, dtype=np.uint8 if codes.max() < 256 else np.uint16)
    labels[g[:, 0], g[:, 1], g[:, 2]] = codes[winner]
    text = provenance or (
        f"majority vote of {len(votes)} label maps ({Path(labels_dir).name}) registered affinely "
        f"to MNI, {step:g} mm"
    )
    return MniAtlas(labels, origin, step, names, text)


def check_atlas(
    atlas: MniAtlas,
    volumes_dir: str | Path,
    labels_dir: str | Path,
    *,
    limit: int | None = 5,
    spheres: int = 40,
    radius_mm: float = 5.0,
    seed: int = 0,
) -> dict:
    """How well `atlas` names regions of volumes that have their own label maps (never the
    volumes it was built from): each volume is registered, and (1) the fraction of its voxels
    with a named label whose atlas label equals it, (2) for `spheres` random balls of
    `radius_mm` inside its brain (seeded), whether the atlas' largest region is the label map's
    largest region ("top region agrees"), and whether it is in the same hemisphere."""
    from assistant.domain.levelset import volume_files
    from assistant.domain.register import register_matrix
    from assistant.scan import load_scan
    from assistant.volume.components import voxel_points
    from assistant.volume.regions import region_fractions
    from assistant.volume.synth3d import labels_for

    rng = np.random.default_rng(seed)
    rows = []
    for path in volume_files(volumes_dir)[: limit if limit is not None else None]:
        lab_path = labels_for(path, Path(labels_dir))
        if lab_path is None:
            continue
        scan = load_scan(path)
        v2m = np.linalg.inv(register_matrix(scan)[0])
        lab = np.rint(load_scan(lab_path).pixels).astype(np.int64)
        brain = np.argwhere(np.isin(lab, np.fromiter(atlas.names, dtype=np.int64)))
        own = lab[tuple(brain.T)]
        from_atlas = atlas.lookup(voxel_points(v2m, brain))
        sp = np.asarray(scan.spacing, dtype=np.float64)
        top_ok = side_ok = 0
        for c in brain[rng.choice(len(brain), spheres, replace=False)]:
            d = np.sqrt((((brain - c) * sp) ** 2).sum(1))
            ball = brain[d <= radius_mm]
            a = region_fractions(atlas.lookup(voxel_points(v2m, ball)), atlas.names, 0.0)
            b = region_fractions(lab[tuple(ball.T)], atlas.names, 0.0)
            top_ok += a[0]["label"] == b[0]["label"]
            side_ok += _side(a[0]["name"]) == _side(b[0]["name"])
        rows.append(
            {
                "volume": path.name,
                "voxel_agreement": round(float((own == from_atlas).mean()), 4),
                "top_region_agreement": round(top_ok / spheres, 4),
                "hemisphere_agreement": round(side_ok / spheres, 4),
            }
        )
    keys = ("voxel_agreement", "top_region_agreement", "hemisphere_agreement")
    return {
        **{k: round(float(np.mean([r[k] for r in rows])), 4) if rows else None for k in keys},
        "n_volumes": len(rows),
        "spheres_per_volume": spheres,
        "sphere_radius_mm": radius_mm,
        "volumes": rows,
    }


def _side(name: str) -> str:
    return name.split()[0] if name.split()[0] in ("left", "right") else "none"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.volume.atlas", description=__doc__)
    p.add_argument("--volumes", required=True)
    p.add_argument("--labels", required=True, help="label maps, STEM_DLMUSE.nii.gz")
    p.add_argument("--names", required=True, help="Index,Code,Name CSV")
    p.add_argument("--out", required=True, help="atlas npz to write")
    p.add_argument("--matrices", default=None, help="a level set (.npz) holding registrations")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--step", type=float, default=2.0)
    p.add_argument("--provenance", default="")
    p.add_argument(
        "--check",
        nargs=2,
        metavar=("VOLUMES", "LABELS"),
        help="instead of building: check the atlas --out against these labelled volumes",
    )
    p.add_argument("--json", default=None, help="with --check: write the figures here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        import json

        fig = check_atlas(MniAtlas.load(args.out), *args.check, limit=args.limit or 5)
        fig = {"atlas": args.out, "volumes_dir": args.check[0], **fig}
        text = json.dumps(fig, indent=2)
        if args.json:
            Path(args.json).write_text(text + "\n")
        print(text)
        return 0
    atlas = build_atlas(
        args.volumes,
        args.labels,
        args.names,
        matrices=args.matrices,
        limit=args.limit,
        step=args.step,
        provenance=args.provenance,
    )
    atlas.save(args.out)
    print(f"{args.out}: {atlas.labels.shape} labels, {len(atlas.names)} names")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
