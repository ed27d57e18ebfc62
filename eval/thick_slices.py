"""Real healthy volumes cut into thick axial slices: does the assistant still know them?

    python -m eval.thick_slices --volumes ../shared/data/ixi-hh-t1-2mm/val \
        --thickness 4 6 --json eval/results/thick_slices_val.json

Routine clinical T1 series are often axial with 4-6 mm slices, while the detector learned
slices cut from near-isotropic volumes. Each volume in `--volumes` (taken as healthy) is
reoriented to RAS and its axial slices are averaged in groups of `thickness / spacing` (a thick
slice is the mean of the thin ones it covers, the partial-volume effect of a thick acquisition;
a thickness that is not a multiple of the spacing, e.g. 3 mm from 2 mm slices, weights each thin
slice by the part of it that the slab covers);
the result goes through what a user's upload goes through (`eval.real_volumes.evaluate`:
applicability check, registration, whole-volume analysis). Reported per thickness: how many
volumes were in domain and how many of those got a finding (on the trained level's slice, and
a 3D finding over the analysed levels), beside the same figures for the volumes as they are
(thickness 0 in the output, with `--with-original`).

The check refuses slices thicker than `assistant.domain.check.MAX_SLICE_THICKNESS_MM`;
`--without-thickness-check` lifts that limit for the run, to measure what the detector would
say about such volumes (how the limit was chosen).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from assistant.analysis import Analyzer
from eval import portable_path
from eval.real_volumes import evaluate

logger = logging.getLogger(__name__)


def thick_slices(img: nib.Nifti1Image, thickness_mm: float) -> nib.Nifti1Image:
    """`img` reoriented to RAS with its axial slices averaged into slabs of about
    `thickness_mm` (the last incomplete slab dropped); the affine puts each slab at the centre
    of the thin slices it averages."""
    ras = nib.as_closest_canonical(img)
    data = np.asanyarray(ras.dataobj, dtype=np.float32)
    dz = float(ras.header.get_zooms()[2])
    k = thickness_mm / dz  # thin slices per slab
    if abs(k - round(k)) < 1e-6:
        k = max(1, int(round(k)))
        n = data.shape[2] // k
        slabs = data[:, :, : n * k].reshape(*data.shape[:2], n, k).mean(axis=3)
    else:  # slab j covers thin slices [j k, (j + 1) k): each weighted by the part covered
        n = int(np.floor(data.shape[2] / k + 1e-9))
        edges = np.arange(data.shape[2] + 1, dtype=np.float64)
        lo, hi = np.arange(n)[:, None] * k, (np.arange(n)[:, None] + 1) * k
        weights = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None) / k
        slabs = np.tensordot(data, weights.T.astype(np.float32), axes=([2], [0]))
    affine = ras.affine.copy()
    affine[:3, 3] = affine[:3, 3] + affine[:3, 2] * (k - 1) / 2.0
    affine[:3, 2] = affine[:3, 2] * k
    out = nib.Nifti1Image(slabs.astype(np.float32), affine)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out


def _summary(result: dict) -> dict:
    keep = (
        "n_volumes",
        "n_in_domain",
        "healthy_with_findings",
        "healthy_with_volume_findings",
        "n_volume_analysed",
        "median_volume_s",
    )
    rows = result["volumes"]
    return {
        **{k: result[k] for k in keep},
        "refusal_reasons": sorted({r for row in rows for r in row["reasons"]}),
        "weak_volume_findings": sum(
            sum(f["weak"] for f in row["volume_findings"] or []) for row in rows
        ),
        "volumes": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--volumes", type=Path, required=True, help="folder of healthy NIfTI volumes")
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--thickness", type=float, nargs="+", default=[4.0, 6.0], help="mm")
    p.add_argument("--limit", type=int, default=None, help="only the first N volumes (sorted)")
    p.add_argument(
        "--with-original",
        action="store_true",
        help="also run the volumes as they are (thickness 0), side by side",
    )
    p.add_argument(
        "--without-thickness-check",
        action="store_true",
        help="accept any slice thickness in this run (what the detector does on thick slices)",
    )
    args = p.parse_args(argv)
    if args.without_thickness_check:
        from assistant.domain import check

        check.MAX_SLICE_THICKNESS_MM = float("inf")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    volumes = sorted(args.volumes.glob("*.nii*"))[: args.limit]
    if not volumes:
        p.error(f"no NIfTI volumes in {args.volumes}")
    analyzer = Analyzer(use_retrieval=False)
    out: dict = {
        "volumes_dir": portable_path(args.volumes),
        "thickness_check": not args.without_thickness_check,
        "by_thickness": {},
    }
    thicknesses = ([0.0] if args.with_original else []) + list(args.thickness)
    for t in thicknesses:
        if t == 0:
            res = evaluate(volumes, analyzer)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                paths = []
                for v in volumes:
                    path = Path(tmp) / v.name
                    nib.save(thick_slices(nib.load(v), t), path)
                    paths.append(path)
                res = evaluate(paths, analyzer)
        out["by_thickness"][f"{t:g}"] = _summary(res)
        s = out["by_thickness"][f"{t:g}"]
        print(
            f"{t:g} mm: {s['n_in_domain']}/{s['n_volumes']} in domain; with findings "
            f"{s['healthy_with_findings']}, with 3D findings "
            f"{s['healthy_with_volume_findings']}; weak 3D findings {s['weak_volume_findings']}"
        )
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
