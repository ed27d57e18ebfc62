"""`CaseIndex`: cases embedded by image, text and finding profile, searched with one FAISS index.

Each stored vector is the concatenation of its unit-norm parts `[image | text | findings]` (a
part a case lacks is zeros). A query builds the same parts from what it has and scales part p by
w_p / W (W = the sum of the weights of the parts the query has), so the inner product is

    similarity = sum_p w_p * cos_p / W        (in [-1, 1])

computed exactly by FAISS, with the weights chosen at query time (no rebuild). Default weights
(`DEFAULT_WEIGHTS`) were measured with `python -m eval.retrieval` (see docs/retrieval.md).

Image features are centred by the mean feature of the first batch indexed (`image_center`,
stored with the index) before normalising: raw CNN features of any two brain slices have cosine
near 1; centred ones tell the slices apart.

On disk (`save(dir)`): `index.faiss` (FAISS' own format), `cases.parquet` (metadata rows in
vector order) and `index.json` (embedders, weights, centre, thresholds). No pickle anywhere.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.cases import Case
from retrieval.embedders import (
    PARTS,
    EmbedderSpec,
    FindingEmbedder,
    ImageEmbedder,
    TextEmbedder,
    l2_normalize,
    profiles_of,
)
from retrieval.hit import NO_MATCH_MESSAGE, Hit, SearchResult
from retrieval.store import HNSW_MIN, Backend, VectorStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_WEIGHTS = {"image": 0.2, "text": 0.3, "findings": 0.5}
MIN_SIMILARITY = 0.3  # below this no hit is returned and the result says "no similar case found"
MAX_DROP = 0.1  # adaptive k: cut the ranking at the first drop in similarity larger than this
EXCERPT_CHARS = 300


@dataclass
class AddReport:
    """What `CaseIndex.add` did."""

    added: int = 0
    duplicates: list[str] = field(default_factory=list)  # ids already in the index: skipped
    failed: dict[str, str] = field(default_factory=dict)  # id -> why (e.g. unreadable image)


def default_embedders() -> dict:
    return {"image": ImageEmbedder(), "text": TextEmbedder(), "findings": FindingEmbedder()}


class CaseIndex:
    """A searchable library of cases (or knowledge passages).

    parts: which embeddings the index holds, e.g. ("text",) for a knowledge corpus.
    embedders: part -> embedder (defaults: EfficientNet-Lite0, MiniLM, finding profile).
    """

    def __init__(
        self,
        parts: tuple[str, ...] = PARTS,
        embedders: dict | None = None,
        backend: Backend = "auto",
        hnsw_min: int = HNSW_MIN,
        weights: dict[str, float] | None = None,
        min_similarity: float = MIN_SIMILARITY,
        max_drop: float = MAX_DROP,
    ):
        bad = [p for p in parts if p not in PARTS]
        if bad or not parts:
            raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {parts}")
        self.parts = tuple(p for p in PARTS if p in parts)
        given = embedders or {}
        defaults = {"image": ImageEmbedder, "text": TextEmbedder, "findings": FindingEmbedder}
        self.embedders = {p: given.get(p) or defaults[p]() for p in self.parts}
        self.specs: dict[str, EmbedderSpec] = {}
        self.backend = backend
        self.hnsw_min = hnsw_min
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.min_similarity = float(min_similarity)
        self.max_drop = float(max_drop)
        self.image_center: np.ndarray | None = None
        self.rows: list[dict] = []
        self._row_of: dict[str, int] = {}
        self.store: VectorStore | None = None
        self.root: Path | None = None  # folder the index was loaded from / saved to

    # ------------------------------------------------------------------ layout
    def _dims(self) -> dict[str, int]:
        return {p: self.specs[p].dim for p in self.parts}

    def _offsets(self) -> dict[str, slice]:
        out, start = {}, 0
        for p, d in self._dims().items():
            out[p] = slice(start, start + d)
            start += d
        return out

    def _ensure_specs(self) -> None:
        for p in self.parts:
            spec = self.embedders[p].spec
            if p in self.specs:
                self.specs[p].check(spec)
            else:
                self.specs[p] = spec

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, case_id: str) -> bool:
        return case_id in self._row_of

    # ------------------------------------------------------------------ building
    def add(self, cases: list[Case], progress: bool = False) -> AddReport:
        """Embed and add cases; ids already present are skipped (de-duplication by id)."""
        report = AddReport()
        new, seen = [], set()
        for c in cases:
            if c.id in self._row_of or c.id in seen:
                report.duplicates.append(c.id)
            else:
                seen.add(c.id)
                new.append(c)
        if report.duplicates:
            log.info("skipped %d cases whose id is already indexed", len(report.duplicates))
        if not new:
            return report
        self._ensure_specs()
        vectors = {p: np.zeros((len(new), self.specs[p].dim), np.float32) for p in self.parts}
        images = None
        if "image" in self.parts:
            images = _load_images(new, report.failed, progress)
        if "findings" in self.parts:
            _fill_profiles(new, images, report.failed)
        keep = [i for i, c in enumerate(new) if c.id not in report.failed]
        if "text" in self.parts:
            idx = [i for i in keep if new[i].embed_text]
            texts = [new[i].embed_text for i in idx]
            if texts:
                vectors["text"][idx] = self.embedders["text"].embed(texts, progress=progress)
        if "image" in self.parts:
            idx = [i for i in keep if images[i] is not None]
            if idx:
                flat = [im for i in idx for im in images[i]]
                feats = self.embedders["image"].embed(flat, progress=progress)
                owner = np.repeat(np.arange(len(idx)), [len(images[i]) for i in idx])
                mean = np.stack([feats[owner == j].mean(0) for j in range(len(idx))])
                if self.image_center is None:
                    self.image_center = (
                        mean.mean(0) if len(idx) > 1 else np.zeros(mean.shape[1], np.float32)
                    ).astype(np.float32)
                vectors["image"][idx] = l2_normalize(mean - self.image_center)
        if "findings" in self.parts:
            idx = [i for i in keep if new[i].profile is not None]
            if idx:
                emb = self.embedders["findings"]
                vectors["findings"][idx] = emb.embed([new[i].profile for i in idx])
        stacked = np.concatenate([vectors[p] for p in self.parts], axis=1)[keep]
        self.add_vectors(stacked, [new[i] for i in keep])
        report.added = len(keep)
        for cid, why in report.failed.items():
            log.warning("case %s skipped: %s", cid, why)
        return report

    def add_vectors(self, vectors: np.ndarray, cases: list[Case]) -> None:
        """Add precomputed (m, dim) vectors in this index's layout with their cases."""
        if len(vectors) != len(cases):
            raise ValueError(f"{len(vectors)} vectors for {len(cases)} cases")
        if self.store is None:
            self.store = VectorStore(sum(self._dims().values()), self.backend, self.hnsw_min)
        self.store.add(vectors)
        for c in cases:
            self._row_of[c.id] = len(self.rows)
            self.rows.append(c.to_row())

    # ------------------------------------------------------------------ saving
    def save(self, directory: str | Path) -> Path:
        """Write index.faiss, cases.parquet and index.json into `directory`."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.store is None:
            raise ValueError("nothing to save: the index is empty")
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        self.store.save(root / "index.faiss")
        rows = [_portable(r, root) for r in self.rows]
        for r in rows:
            r["profile"] = None if r["profile"] is None else json.dumps(r["profile"])
        pq.write_table(pa.Table.from_pylist(rows, schema=_schema()), root / "cases.parquet")
        meta = {
            "format_version": FORMAT_VERSION,
            "parts": list(self.parts),
            "embedders": {p: s.to_dict() for p, s in self.specs.items()},
            "weights": self.weights,
            "min_similarity": self.min_similarity,
            "max_drop": self.max_drop,
            "backend": self.store.kind,
            "count": len(self.rows),
            "image_center": None if self.image_center is None else self.image_center.tolist(),
        }
        (root / "index.json").write_text(json.dumps(meta, indent=1))
        self.root = root
        return root

    @classmethod
    def load(cls, directory: str | Path, embedders: dict | None = None, mmap: bool | None = None):
        """Open a saved index. Given `embedders` must match the stored name/version/dim.

        mmap: None maps large index files (>= 256 MB), True/False forces it; a mapped index
        cannot be added to.
        """
        import pyarrow.parquet as pq

        root = Path(directory)
        meta_path = root / "index.json"
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"no index in {root} (index.json missing); build one with `assistant index build`"
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"index format {meta.get('format_version')} is not {FORMAT_VERSION}")
        index = cls(
            parts=tuple(meta["parts"]),
            embedders=embedders,
            weights=meta["weights"],
            min_similarity=meta["min_similarity"],
            max_drop=meta["max_drop"],
        )
        index.specs = {p: EmbedderSpec(**d) for p, d in meta["embedders"].items()}
        for p, emb in (embedders or {}).items():
            if p in index.specs:
                index.specs[p].check(emb.spec)  # refuse a different embedder right away
        if meta.get("image_center") is not None:
            index.image_center = np.asarray(meta["image_center"], np.float32)
        index.store = VectorStore.load(root / "index.faiss", mmap=mmap)
        table = pq.read_table(root / "cases.parquet").to_pylist()
        for r in table:
            r["profile"] = None if r["profile"] is None else json.loads(r["profile"])
            r["images"] = [str((root / p).resolve()) for p in r["images"]]
            r["mask"] = str((root / r["mask"]).resolve()) if r["mask"] else None
            index._row_of[r["id"]] = len(index.rows)
            index.rows.append(r)
        index.root = root
        return index

    # ------------------------------------------------------------------ searching
    def query_vector(self, image=None, text=None, findings=None, weights=None):
        """The (dim,) query vector and the weights used (normalised to sum 1)."""
        self._ensure_specs()
        given = {"image": image, "text": text, "findings": findings}
        used = [p for p in self.parts if given[p] is not None and not _empty_text(given[p])]
        if not used:
            have = ", ".join(f"{p}=" for p in self.parts)
            raise ValueError(f"give at least one of {have} to search this index")
        w = {**self.weights, **(weights or {})}
        if any(w[p] < 0 for p in used) or sum(w[p] for p in used) <= 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {w}")
        total = sum(w[p] for p in used)
        w_used = {p: w[p] / total for p in used}
        q = np.zeros(sum(self._dims().values()), np.float32)
        off = self._offsets()
        for p in used:
            q[off[p]] = w_used[p] * self._embed_query(p, given[p])
        return q, w_used

    def _embed_query(self, part: str, value) -> np.ndarray:
        emb = self.embedders[part]
        if part == "text":
            return emb.embed([str(value)])[0]
        if part == "findings":
            return emb.vector(profiles_of(value))
        img = np.asarray(value, dtype=np.float32)
        feat = emb.embed([img])
        center = self.image_center if self.image_center is not None else 0.0
        return l2_normalize(feat - center)[0]

    def query(
        self,
        image: np.ndarray | None = None,
        text: str | None = None,
        findings=None,
        k: int = 5,
        weights: dict[str, float] | None = None,
        adaptive: bool = True,
        min_similarity: float | None = None,
    ) -> SearchResult:
        """Search; see `search` for the arguments. Returns hits plus the no-match flag."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        q, w_used = self.query_vector(image, text, findings, weights)
        scores, ids = self.store.search(q[None], k) if self.store else ([[]], [[]])
        pairs = [(float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        floor = self.min_similarity if min_similarity is None else float(min_similarity)
        best = pairs[0][0] if pairs else None
        kept = [(s, i) for s, i in pairs if s >= floor]
        if adaptive:
            kept = kept[: len(adaptive_cut([s for s, _ in kept], self.max_drop))]
        hits = self._hits(kept, q, w_used)
        if not hits:
            msg = NO_MATCH_MESSAGE
            if best is not None:
                msg += f" (best similarity {best:.2f} < minimum {floor:.2f})"
            return SearchResult([], True, msg, best, w_used)
        return SearchResult(hits, False, "", best, w_used)

    def search(
        self,
        image: np.ndarray | None = None,
        text: str | None = None,
        findings=None,
        k: int = 5,
        weights: dict[str, float] | None = None,
        adaptive: bool = True,
        min_similarity: float | None = None,
    ) -> list[Hit]:
        """Up to `k` most similar entries, best first.

        image: (H, W) float array in [0, 1] (e.g. `DetectionResult.image`); text: the question
        and/or findings text; findings: a `DetectionResult`, a list of `Finding` or of
        `FindingProfile` ([] = a normal scan). Parts left None are not used; `weights` override
        the index's per-part weights. Hits below `min_similarity` (default: the index's) are
        dropped, and with `adaptive` the list is cut at the first drop larger than `max_drop`.
        An empty list means "no similar case found" (`query` says so explicitly).
        """
        return self.query(image, text, findings, k, weights, adaptive, min_similarity).hits

    def _hits(self, kept, q, w_used) -> list[Hit]:
        if not kept:
            return []
        off = self._offsets()
        vecs = self.store.reconstruct(np.array([i for _, i in kept]))
        out = []
        for (s, i), v in zip(kept, vecs, strict=True):
            r = self.rows[i]
            parts = {}
            for p, wp in w_used.items():
                if wp > 0 and np.any(v[off[p]]):
                    parts[p] = round(float(v[off[p]] @ q[off[p]]) / wp, 4)
            report = r["report"] or r["text"] or r["findings"]
            out.append(
                Hit(
                    id=r["id"],
                    similarity=round(s, 4),
                    kind=r["kind"],
                    findings=r["findings"],
                    impression=r["impression"],
                    excerpt=_excerpt(report),
                    labels=list(r["labels"] or []),
                    synthetic=bool(r["synthetic"]),
                    source=r["source"],
                    license=r["license"],
                    image_path=(r["images"] or [None])[0],
                    modality=r["modality"],
                    parts=parts,
                    profile=r["profile"],
                )
            )
        return out


def adaptive_cut(scores: list[float], max_drop: float) -> list[float]:
    """The prefix of descending `scores` before the first step down larger than `max_drop`."""
    for i in range(1, len(scores)):
        if scores[i - 1] - scores[i] > max_drop:
            return scores[:i]
    return list(scores)


def _empty_text(v) -> bool:
    return isinstance(v, str) and not v.strip()


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " ..."


def _portable(row: dict, root: Path) -> dict:
    """Paths inside the index folder's parent (e.g. a library's data/ beside cases/) are stored
    relative to the index folder, so the whole library folder can move; others stay absolute."""
    r = dict(row)
    root = root.resolve()

    def rel(p: str) -> str:
        full = Path(p).resolve()
        if full.is_relative_to(root.parent):
            return os.path.relpath(full, root)
        return str(full)

    r["images"] = [rel(p) for p in r["images"]]
    r["mask"] = rel(r["mask"]) if r["mask"] else None
    return r


def _load_images(cases: list[Case], failed: dict, progress: bool) -> list:
    """Per case: a list of (H, W) [0, 1] arrays, or None for cases without images."""
    from tqdm.auto import tqdm

    from assistant.synth import load_image01

    out = []
    for c in tqdm(cases, desc="reading images", disable=not progress, unit="case"):
        try:
            out.append([load_image01(p) for p in c.images] if c.images else None)
        except Exception as exc:  # any reader error: report the case and go on
            failed[c.id] = f"image unreadable ({type(exc).__name__}: {exc})"
            out.append(None)
    return out


def _fill_profiles(cases: list[Case], images: list | None, failed: dict) -> None:
    """Cases with a mask but no profile get one computed from the mask."""
    from assistant.synth import brain_mask_for, load_image01
    from retrieval.profile import profile_from_mask

    for i, c in enumerate(cases):
        if c.profile is not None or not c.mask or c.id in failed:
            continue
        try:
            mask = load_image01(c.mask) > 0.5
            img = images[i][0] if images and images[i] else None
            if img is None or img.shape != mask.shape:
                raise ValueError(f"mask {mask.shape} does not match the case's first image")
            c.profile = [] if not mask.any() else profile_from_mask(mask, brain_mask_for(img), img)
        except Exception as exc:
            failed[c.id] = f"mask unusable ({type(exc).__name__}: {exc})"


def _schema():
    import pyarrow as pa

    s, b, ls = pa.string(), pa.bool_(), pa.list_(pa.string())
    return pa.schema(
        [
            ("id", s),
            ("images", ls),
            ("mask", s),
            ("modality", s),
            ("findings", s),
            ("impression", s),
            ("report", s),
            ("text", s),
            ("labels", ls),
            ("profile", s),  # JSON list of FindingProfile dicts, null = unknown
            ("source", s),
            ("license", s),
            ("synthetic", b),
            ("kind", s),
        ]
    )
