"""Retrieval evaluation and FAISS benchmark.

    python -m eval.retrieval --json OUT [--shared DIR] [--skip-1m]

Self-contained. Cases: synthetic lesions (every kind, size and side; `retrieval.synthetic`) on
healthy slices. With ../shared/data/ixi-t1-midaxial present: the library from `train/`, the
weights chosen on `val/` queries, precision reported on `holdout/` queries; otherwise MNI152
template levels (library: even levels 80..110; val: 83, 97, 107; holdout: 85, 91, 99, 105).

- precision_at_5: share of the top 5 library cases whose main finding has the query's side and
  intensity class. Query findings come from the query's lesion mask described by the detector's
  own finding code (a perfect detector); the text part is the findings description
  (`FindingProfile.describe`), as the assistant sends it with the question. Ablations:
  image-only, text-only, findings-only and random (the exact expectation).
  `precision_at_5_noisy_findings`: the same with each query's side and intensity class replaced
  by a wrong one with probability `NOISE` each (an imperfect detector), where the other parts
  must make up for it.
- weights: a grid over (image, text, findings) weights (step 0.1) on val queries, clean and
  noisy; the library default is the best noisy-val choice (`retrieval.index.DEFAULT_WEIGHTS`).
- FAISS at the index's real dimension (1041 = 640 image + 384 text + 17 findings): vectors drawn
  from a clustered generator (2,000 cluster centres in a random 48-d subspace + isotropic noise:
  embeddings have a low intrinsic dimension; i.i.d. Gaussian vectors have none and are reported
  separately as a worst case at 20k). recall@10 of the automatic backend (HNSW at 100k) against
  exact search, single-query search latency p50/p95, build seconds at 10k / 100k, and at 1M with
  64-d vectors (1M x 1041-d float32 is 4.2 GB, beyond this benchmark's budget).
- embedding throughput of each embedder on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from itertools import product
from pathlib import Path

import faiss
import numpy as np

from assistant.findings import INTENSITIES, SIDES
from retrieval.embedders import FindingEmbedder
from retrieval.index import DEFAULT_WEIGHTS, CaseIndex
from retrieval.store import VectorStore

log = logging.getLogger("eval.retrieval")

NOISE = 0.3
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PARTS = ("image", "text", "findings")


# ---------------------------------------------------------------- data
def _slices(shared: Path | None, n_lib: int, n_val: int, n_hold: int):
    from eval import portable_path
    from retrieval.synthetic import folder_slices, template_slices

    ixi = shared / "ixi-t1-midaxial" if shared else None
    if ixi is not None and (ixi / "train").is_dir():
        return (
            folder_slices(ixi / "train", n_lib),
            folder_slices(ixi / "val", n_val),
            folder_slices(ixi / "holdout", n_hold),
            f"IXI T1 mid-axial ({portable_path(ixi)}): library from train/, weights from val/, "
            "queries from holdout/",
        )
    return (
        template_slices(range(80, 111, 2)),
        template_slices([83, 97, 107]),
        template_slices([85, 91, 99, 105]),
        "MNI152 template levels (no ../shared): library even levels 80-110, "
        "val 83/97/107, holdout 85/91/99/105",
    )


def _key(profile) -> tuple[str, str] | None:
    return (profile[0].side, profile[0].intensity) if profile else None


def _noisy(profiles, rng):
    from dataclasses import replace

    out = []
    for p in profiles:
        q = p[0]
        if rng.random() < NOISE:
            q = replace(q, side=str(rng.choice([s for s in SIDES if s != q.side])))
        if rng.random() < NOISE:
            q = replace(q, intensity=str(rng.choice([s for s in INTENSITIES if s != q.intensity])))
        out.append([q])
    return out


class QuerySet:
    """Per-part query vectors of lesion cases, so any weights combine without re-embedding."""

    def __init__(self, index: CaseIndex, cases, rng):
        from assistant.synth import load_image01

        self.keys = [_key(c.profile) for c in cases]
        off = index._offsets()
        self.dim = max(s.stop for s in off.values())
        self.off = off
        texts = [c.profile[0].describe() for c in cases]
        noisy = _noisy([c.profile for c in cases], rng)
        self.parts = {
            "image": np.stack(
                [index._embed_query("image", load_image01(c.images[0])) for c in cases]
            ),
            "text": index.embedders["text"].embed(texts),
            "findings": FindingEmbedder().embed([c.profile for c in cases]),
        }
        # an imperfect detector describes the scan wrongly in its findings and its text alike
        self.noisy_parts = dict(self.parts)
        self.noisy_parts["text"] = index.embedders["text"].embed([p[0].describe() for p in noisy])
        self.noisy_parts["findings"] = FindingEmbedder().embed(noisy)

    def matrix(self, weights: dict[str, float], noisy: bool = False) -> np.ndarray:
        parts = self.noisy_parts if noisy else self.parts
        total = sum(weights.values())
        q = np.zeros((len(self.keys), self.dim), np.float32)
        for p, w in weights.items():
            if w > 0:
                q[:, self.off[p]] = parts[p] * (w / total)
        return q


def precision_at_5(index: CaseIndex, qs: QuerySet, weights, noisy=False) -> float:
    lib_keys = [_key(r["profile"] and [_P(r["profile"][0])]) for r in index.rows]
    _, ids = index.store.search(qs.matrix(weights, noisy), 5)
    hits = [[lib_keys[i] == k for i in row if i >= 0] for row, k in zip(ids, qs.keys, strict=True)]
    return float(np.mean([np.mean(h) for h in hits]))


def _P(d):
    from retrieval.profile import FindingProfile

    return FindingProfile.from_dict(d)


def random_precision(index: CaseIndex, qs: QuerySet) -> float:
    lib_keys = [_key(r["profile"] and [_P(r["profile"][0])]) for r in index.rows]
    return float(np.mean([np.mean([lk == k for lk in lib_keys]) for k in qs.keys]))


def weight_grid(index, qs, noisy: bool) -> list[dict]:
    rows = []
    steps = np.round(np.arange(0, 1.01, 0.1), 2)
    for wi, wt in product(steps, steps):
        wf = round(1.0 - wi - wt, 2)
        if wf < -1e-9:
            continue
        w = {"image": float(wi), "text": float(wt), "findings": max(float(wf), 0.0)}
        rows.append({**w, "precision_at_5": round(precision_at_5(index, qs, w, noisy), 4)})
    # best first; among ties the most even split (the smallest largest weight)
    return sorted(rows, key=lambda r: (-r["precision_at_5"], max(r[p] for p in PARTS)))


# ---------------------------------------------------------------- benchmark
def clustered_vectors(n: int, dim: int, rng, latent: int = 48, centers: int = 2000):
    basis = rng.standard_normal((latent, dim)).astype(np.float32) / np.sqrt(dim)
    c = np.random.default_rng(1).standard_normal((centers, latent)).astype(np.float32)

    def draw(m):
        z = rng.integers(centers, size=m)
        lat = c[z] + 0.6 * rng.standard_normal((m, latent)).astype(np.float32)
        x = lat @ basis + 0.02 * rng.standard_normal((m, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(200)


def _bench_store(x, q, backend="auto"):
    store = VectorStore(x.shape[1], backend)
    t = time.perf_counter()
    store.add(x)
    build = time.perf_counter() - t
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(q, 10)
    times, found = [], []
    for i in range(len(q)):
        t = time.perf_counter()
        _, ids = store.search(q[i : i + 1], 10)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    return store.kind, build, float(recall), np.array(times) * 1e3


def benchmark(dim: int, skip_1m: bool) -> dict:
    rng = np.random.default_rng(0)
    out: dict = {"bench_dim": dim}
    x, q = clustered_vectors(100_000, dim, rng)
    kind, build, recall, ms = _bench_store(x, q)
    out.update(
        backend_100k=kind,
        recall_at_10_approx=round(recall, 4),
        query_ms_p50_100k=round(float(np.percentile(ms, 50)), 3),
        query_ms_p95_100k=round(float(np.percentile(ms, 95)), 3),
        build_s_100k=round(build, 2),
    )
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    ms = []
    for i in range(50):
        t = time.perf_counter()
        flat.search(q[i : i + 1], 10)
        ms.append((time.perf_counter() - t) * 1e3)
    out["query_ms_p50_100k_exact"] = round(float(np.percentile(ms, 50)), 3)
    del x, flat
    x10, _ = clustered_vectors(10_000, dim, rng)
    for backend in ("auto", "hnsw"):
        s = VectorStore(dim, backend)
        t = time.perf_counter()
        s.add(x10)
        out[f"build_s_10k_{backend}"] = round(time.perf_counter() - t, 3)
        out[f"backend_10k_{backend}"] = s.kind
    out["build_s_10k"] = out["build_s_10k_auto"]
    g = np.random.default_rng(2).standard_normal((20_000, dim)).astype(np.float32)
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    gq = np.random.default_rng(3).standard_normal((100, dim)).astype(np.float32)
    gq /= np.linalg.norm(gq, axis=1, keepdims=True)
    _, _, recall_iid, _ = _bench_store(g, gq, "hnsw")
    out["recall_at_10_iid_gaussian_20k_hnsw"] = round(recall_iid, 4)
    if skip_1m:
        out["build_s_1m"] = None
    else:
        x1m, _ = clustered_vectors(1_000_000, 64, rng)
        s = VectorStore(64, "auto")
        t = time.perf_counter()
        s.add(x1m)
        out["build_s_1m"] = round(time.perf_counter() - t, 1)
        out["build_1m_dim"] = 64
        out["backend_1m"] = s.kind
    return out


# ---------------------------------------------------------------- throughput
def throughput(index: CaseIndex, images: list[np.ndarray], texts: list[str], profiles) -> dict:
    out = {}
    emb = index.embedders
    emb["image"].embed(images[:2])  # warm up
    t = time.perf_counter()
    emb["image"].embed(images)
    out["image_per_s"] = round(len(images) / (time.perf_counter() - t), 1)
    t = time.perf_counter()
    emb["text"].embed(texts)
    out["text_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
    many = (profiles * (5000 // max(len(profiles), 1) + 1))[:5000]
    t = time.perf_counter()
    FindingEmbedder().embed(many)
    out["findings_per_s"] = round(len(many) / (time.perf_counter() - t), 1)
    return out


# ---------------------------------------------------------------- main
def run(args) -> dict:
    from retrieval.synthetic import make_synthetic_cases

    t0 = time.perf_counter()
    shared = Path(args.shared) if args.shared else SHARED
    lib_s, val_s, hold_s, what = _slices(shared if shared.is_dir() else None, args.n_library,
                                         args.n_val, args.n_holdout)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="eval-retrieval-"))
    lib = make_synthetic_cases(lib_s, tmp / "lib", per_slice=args.per_image, seed=0)
    val = make_synthetic_cases(val_s, tmp / "val", per_slice=2, normals=False, seed=1)
    hold = make_synthetic_cases(hold_s, tmp / "hold", per_slice=2, normals=False, seed=2)
    t_synth = time.perf_counter() - t0
    index = CaseIndex()
    t = time.perf_counter()
    index.add(lib)
    t_index = time.perf_counter() - t
    rng = np.random.default_rng(0)
    qv, qh = QuerySet(index, val, rng), QuerySet(index, hold, rng)

    grid_clean, grid_noisy = weight_grid(index, qv, False), weight_grid(index, qv, True)
    only = {p: {q: float(q == p) for q in PARTS} for p in PARTS}
    res: dict = {
        "data": what,
        "library_cases": len(index),
        "val_queries": len(val),
        "holdout_queries": len(hold),
        "query_findings": "lesion masks described by the detector's finding code (perfect "
        f"detector); noisy: side and intensity each wrong with p={NOISE:.1f}",
        "weights_default": DEFAULT_WEIGHTS,
        "precision_at_5": precision_at_5(index, qh, DEFAULT_WEIGHTS),
        "precision_at_5_image_only": precision_at_5(index, qh, only["image"]),
        "precision_at_5_text_only": precision_at_5(index, qh, only["text"]),
        "precision_at_5_findings_only": precision_at_5(index, qh, only["findings"]),
        "precision_at_5_random": random_precision(index, qh),
        "precision_at_5_noisy_findings": precision_at_5(index, qh, DEFAULT_WEIGHTS, True),
        "precision_at_5_noisy_findings_only": precision_at_5(index, qh, only["findings"], True),
        "precision_at_5_noisy_text_only": precision_at_5(index, qh, only["text"], True),
        "weights_val_best_noisy": {p: grid_noisy[0][p] for p in PARTS},
        "precision_at_5_val_best_noisy_weights": precision_at_5(
            index, qh, {p: grid_noisy[0][p] for p in PARTS}
        ),
        "precision_at_5_noisy_findings_val_best_noisy_weights": precision_at_5(
            index, qh, {p: grid_noisy[0][p] for p in PARTS}, True
        ),
        "weight_grid_val_clean_top5": grid_clean[:5],
        "weight_grid_val_noisy_top5": grid_noisy[:5],
    }
    res = {k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}
    from assistant.synth import load_image01

    imgs = [load_image01(c.images[0]) for c in lib[:48]]
    res["embedding_throughput"] = throughput(
        index, imgs, [c.embed_text for c in lib[:256]], [c.profile for c in lib if c.profile]
    )
    res["synthesis_s"] = round(t_synth, 1)
    res["library_index_s"] = round(t_index, 1)
    res.update(benchmark(sum(s.dim for s in index.specs.values()), args.skip_1m))
    res["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, " \
        f"faiss {faiss.__version__} ({faiss.omp_get_max_threads()} threads)"  # fmt: skip
    res["total_s"] = round(time.perf_counter() - t0, 1)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--shared", help=f"shared data folder (default {SHARED})")
    ap.add_argument("--n-library", type=int, default=40, help="library source images")
    ap.add_argument("--per-image", type=int, default=6, help="lesion cases per library image")
    ap.add_argument("--n-val", type=int, default=15, help="val images (2 lesions each)")
    ap.add_argument("--n-holdout", type=int, default=30, help="holdout images (2 lesions each)")
    ap.add_argument("--skip-1m", action="store_true", help="skip the 1M-vector build")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    res = run(args)
    text = json.dumps(res, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
