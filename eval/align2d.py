"""Does 2D alignment (and intensity standardisation) of an uploaded slice lower false positives?

    python -m eval.align2d --volumes ../shared/data/ixi-hh-t1-2mm/val \
        --reference ../shared/data/ixi-t1-midaxial/train --json eval/results/align2d_val.json

Real healthy 2D slices as a user would upload them: each val volume is registered to MNI
(as at run time) only to find its native axial slice nearest the trained level; that slice and
its `--neighbours` on each side are taken as plain 2D images (no spacing, no orientation, like a
PNG export). Each goes to the default detector three ways:

- ``as_is``: today's path, the slice as uploaded;
- ``aligned``: `assistant.domain.align2d.align_slice` (2D similarity registration to the head
  template's slice at the trained level, resampled on the training grid);
- ``aligned_hist``: aligned, then its head's intensities histogram-matched to the mean quantile
  function of the `--reference` slices' heads (intensity standardisation).

Reported per way: `healthy_with_findings` on the healthy slices, and on the same slices with
one synthetic lesion each (`assistant.synth`, seeded; the truth mask is carried through the
alignment) the `lesion_hit_rate` (lesions with more than 10% of their pixels in the calibrated
mask) and the fraction with any finding. A way is worth shipping only if it lowers
`healthy_with_findings` without lowering `lesion_hit_rate`.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from tqdm import tqdm

from assistant.analysis import default_detector
from assistant.domain.align2d import align_slice
from assistant.domain.levelset import volume_files
from assistant.domain.register import _nearest_slice, register_matrix
from assistant.scan import Scan, load_scan
from assistant.synth import brain_mask_for, synthesize_lesion
from eval import portable_path
from eval.detection import lesions_hit

log = logging.getLogger(__name__)
WAYS = ("as_is", "aligned", "aligned_hist")
QUANTILES = np.linspace(0.0, 1.0, 101)


def plain(pixels: np.ndarray) -> Scan:
    """A 2D slice as a PNG upload holds it: pixels only."""
    return Scan(pixels=np.asarray(pixels, dtype=np.float32), format="png")


def head_quantiles(img: np.ndarray) -> np.ndarray:
    x = np.asarray(img, dtype=np.float64)
    x = x / max(float(np.percentile(x, 99.5)), 1e-6)
    return np.quantile(x[x > 0.08], QUANTILES)


def reference_quantiles(folder: Path) -> np.ndarray:
    from assistant.synth import list_images, load_image01

    return np.mean([head_quantiles(load_image01(p)) for p in list_images(folder)], axis=0)


def match(img: np.ndarray, ref_q: np.ndarray) -> np.ndarray:
    """The head's intensities mapped through its quantile function onto `ref_q`."""
    x = np.asarray(img, dtype=np.float64)
    x = x / max(float(np.percentile(x, 99.5)), 1e-6)
    head = x > 0.08
    out = np.zeros_like(x)
    q = np.quantile(x[head], QUANTILES)
    out[head] = np.interp(x[head], q, ref_q)
    return out.astype(np.float32)


def native_slices(path: Path, neighbours: int) -> list[tuple[str, np.ndarray]]:
    vol = load_scan(path)
    matrix = register_matrix(vol)[0]
    k = _nearest_slice(matrix, 23.0, vol.pixels.shape[0])
    ks = [i for i in range(k - neighbours, k + neighbours + 1) if 0 <= i < vol.pixels.shape[0]]
    return [(f"{path.name}#{i}", vol.pixels[i]) for i in ks]


def run_way(detector, way: str, pixels: np.ndarray, truth, ref_q) -> dict:
    t0 = time.perf_counter()
    scan = plain(pixels)
    if way != "as_is":
        aligned = align_slice(scan)
        scan = aligned.scan
        if truth is not None:
            m = aligned.to_original
            rows, cols = np.mgrid[0 : scan.pixels.shape[0], 0 : scan.pixels.shape[1]]
            r = m[0, 0] * rows + m[0, 1] * cols + m[0, 2]
            c = m[1, 0] * rows + m[1, 1] * cols + m[1, 2]
            truth = ndimage.map_coordinates(truth.astype(np.float32), [r, c], order=1) > 0.5
        if way == "aligned_hist":
            scan = plain(match(scan.pixels, ref_q))
    result = detector(scan)
    row = {
        "findings": len(result.findings),
        "score": round(float(result.score), 5),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if truth is not None:
        n, hit = lesions_hit(truth, result.mask)
        row.update(lesions=n, hit=hit)
    return row


def evaluate(volumes: list[Path], neighbours: int, ref_q, seed: int) -> dict:
    detector = default_detector()
    rng = np.random.default_rng(seed)
    rows = []
    for path in tqdm(volumes, desc="volumes"):
        for name, pixels in native_slices(path, neighbours):
            img01 = np.clip(pixels / max(float(np.percentile(pixels, 99.5)), 1e-6), 0, 1)
            lesion = synthesize_lesion(img01.astype(np.float32), brain_mask_for(img01), rng)
            row = {"slice": name, "lesion_kind": lesion.kind, "lesion_size": lesion.size_bin}
            for way in WAYS:
                row[way] = run_way(detector, way, pixels, None, ref_q)
                row[f"{way}_lesion"] = run_way(detector, way, lesion.image, lesion.mask, ref_q)
            rows.append(row)
    return {"n_slices": len(rows), "summary": summarize(rows), "rows": rows}


def summarize(rows: list[dict]) -> dict:
    """Per way: healthy slices with a finding, lesion hit rate, lesion slices with a finding."""
    summary = {}
    for way in WAYS:
        healthy = [r[way] for r in rows]
        sick = [r[f"{way}_lesion"] for r in rows]
        summary[way] = {
            "healthy_with_findings": round(np.mean([h["findings"] > 0 for h in healthy]), 4),
            "lesion_hit_rate": round(
                sum(s["hit"] for s in sick) / max(1, sum(s["lesions"] for s in sick)), 4
            ),
            "lesion_slices_with_findings": round(np.mean([s["findings"] > 0 for s in sick]), 4),
            "median_seconds": float(np.median([h["seconds"] for h in healthy])),
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--volumes", required=True, help="folder of healthy head volumes (NIfTI)")
    p.add_argument("--reference", required=True, help="mid-axial training slices (histograms)")
    p.add_argument("--json", required=True, help="where to write the figures")
    p.add_argument("--neighbours", type=int, default=1, help="native slices each side")
    p.add_argument("--limit", type=int, help="only the first N volumes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    ref_q = reference_quantiles(Path(args.reference))
    out = evaluate(volume_files(args.volumes)[: args.limit], args.neighbours, ref_q, args.seed)
    out = {
        "command": "python -m eval.align2d " + " ".join(argv or []),
        "volumes": portable_path(args.volumes),
        "reference": portable_path(args.reference),
        "seed": args.seed,
        **out,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(json.dumps(out["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
