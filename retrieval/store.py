"""The FAISS part of an index: backend choice, incremental add, save and (memory-mapped) load.

Backends (all inner product on unit-norm parts, i.e. cosine similarity):
- "flat": `IndexFlatIP`, exact; the automatic choice below `HNSW_MIN` vectors;
- "hnsw": `IndexHNSWFlat` (M=16, efConstruction=40, efSearch=64), approximate, the automatic
  choice from `HNSW_MIN` vectors on (a flat index is converted when it grows past it);
- "ivf": `IndexIVFFlat` (nlist = 4 sqrt(n), nprobe = 16), trained on the first batch added.
Vectors are numbered 0..n-1 in insertion order; the caller keeps the metadata rows in that order.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Literal

import numpy as np

logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # CPU-feature probing chatter
import faiss  # noqa: E402

log = logging.getLogger(__name__)

Backend = Literal["auto", "flat", "hnsw", "ivf"]
HNSW_MIN = (
    20_000  # exact search at 100k x 1041-d measured ~120 ms/query on 2 busy cores, HNSW 0.3 ms
)
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64
IVF_NPROBE = 16
MMAP_MIN_BYTES = 256 * 2**20  # load index files of at least this size memory-mapped


class VectorStore:
    """A FAISS index of (n, dim) float32 vectors under a chosen backend."""

    def __init__(self, dim: int, backend: Backend = "auto", hnsw_min: int = HNSW_MIN):
        if backend not in ("auto", "flat", "hnsw", "ivf"):
            raise ValueError(f"backend must be auto, flat, hnsw or ivf, got {backend!r}")
        self.dim = int(dim)
        self.backend = backend
        self.hnsw_min = int(hnsw_min)
        self.index: faiss.Index | None = None
        self.mmapped = False

    @property
    def kind(self) -> str:
        """The backend in use: "flat", "hnsw", "ivf" or "empty"."""
        if self.index is None:
            return "empty"
        inner = faiss.downcast_index(self.index)
        if isinstance(inner, faiss.IndexHNSW):
            return "hnsw"
        if isinstance(inner, faiss.IndexIVF):
            return "ivf"
        return "flat"

    @property
    def ntotal(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def _new(self, kind: str, train: np.ndarray) -> faiss.Index:
        if kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        if kind == "hnsw":
            idx = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            idx.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            idx.hnsw.efSearch = HNSW_EF_SEARCH
            return idx
        nlist = max(1, min(int(4 * math.sqrt(len(train))), len(train) // 39 or 1))
        quantizer = faiss.IndexFlatIP(self.dim)
        idx = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        idx.train(train)
        idx.nprobe = min(IVF_NPROBE, nlist)
        return idx

    def add(self, x: np.ndarray) -> None:
        """Append (m, dim) vectors (ids continue from `ntotal`)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (m, {self.dim}), got {x.shape}")
        if self.mmapped:
            raise ValueError("this index was loaded memory-mapped; load it with mmap=False to add")
        if len(x) == 0:
            return
        total = self.ntotal + len(x)
        want = self.backend
        if want == "auto":
            want = "hnsw" if total >= self.hnsw_min else "flat"
        if self.index is None:
            self.index = self._new(want, x)
        elif self.kind != want and self.backend == "auto" and want == "hnsw":
            old = self.reconstruct(np.arange(self.ntotal))
            log.info("converting the flat index (%d vectors) to HNSW", len(old))
            self.index = self._new("hnsw", old)
            self.index.add(old)
        self.index.add(x)

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(B, dim) queries -> (scores (B, k), ids (B, k)); id -1 where fewer than k exist."""
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        if self.index is None or self.ntotal == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        return self.index.search(q, min(int(k), self.ntotal))

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of `ids` -> (len(ids), dim)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.index is None or len(ids) == 0:
            return np.zeros((len(ids), self.dim), np.float32)
        inner = faiss.downcast_index(self.index)
        if isinstance(inner, faiss.IndexIVF):
            inner.make_direct_map()
        return np.stack([self.index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def save(self, path: str | Path) -> None:
        if self.index is None:
            raise ValueError("nothing to save: the index is empty")
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | Path, backend: Backend = "auto", mmap: bool | None = None):
        """Read an index file; `mmap=None` maps files of at least `MMAP_MIN_BYTES`."""
        path = Path(path)
        if mmap is None:
            mmap = path.stat().st_size >= MMAP_MIN_BYTES
        # IO_FLAG_MMAP_IFC maps the stored vectors in place (zero-copy); IO_FLAG_MMAP on its
        # own only maps on-disk inverted lists and would still read flat/HNSW codes into RAM
        flag = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP) if mmap else 0
        index = faiss.read_index(str(path), flag)
        store = cls(index.d, backend)
        store.index = index
        store.mmapped = bool(mmap)
        if store.kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH
        return store
