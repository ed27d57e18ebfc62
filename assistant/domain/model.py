"""The fitted applicability model: feature embedding, typicality, axial level, head template.

Artifacts (written by `python -m assistant.domain.fit`, read here) live in the checkpoint's
`domain/` folder (default `assistant/weights/ixi-t1-128/domain/`):

- ``domain.json``: trained level, level tolerance, typicality threshold, registration settings
  and quality threshold, how each was measured (the lead merges it into `detector.json`);
- ``features.npz``: PCA of the head crops, standardisation of the global statistics, and a
  reference set of embedded train slices (axial T1 head slices at every level, skull on and
  skull-stripped) with their MNI level: the typicality is the distance to the nearest of them,
  the level a distance-weighted k-nearest-neighbour regression on them;
- ``head_template.npz``: the skull-on head template in MNI space (mean of the registered
  train volumes, 2 mm, uint8) that `register_volume` registers to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.domain.features import CROP

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "weights" / "ixi-t1-128"
DOMAIN_JSON = "domain.json"
FEATURES_NPZ = "features.npz"
TEMPLATE_NPZ = "head_template.npz"


def domain_dir(model_dir: str | Path | None = None) -> Path:
    """The folder holding the artifacts: `model_dir/domain` or `model_dir` itself."""
    base = Path(model_dir) if model_dir is not None else DEFAULT_CHECKPOINT
    return base / "domain" if (base / "domain" / DOMAIN_JSON).exists() else base


@dataclass
class DomainModel:
    config: dict
    features: dict[str, np.ndarray]
    head_template: dict[str, np.ndarray]

    @property
    def trained_level(self) -> float:
        return float(self.config["trained_level_mm"])

    @property
    def level_tolerance(self) -> float:
        return float(self.config["level_tolerance_mm"])

    @property
    def typicality_threshold(self) -> float:
        return float(self.config["typicality_threshold"])

    @property
    def registration(self) -> dict:
        return dict(self.config.get("registration", {}))

    @property
    def reference(self) -> np.ndarray:
        """The embedded train reference slices (float32), shared by typicality and level."""
        ref = self.features["ref"]
        if ref.dtype != np.float32:
            ref = self.features["ref"] = ref.astype(np.float32)
        return ref

    def embed(self, vectors: np.ndarray) -> np.ndarray:
        """Descriptor vectors (N, D) -> embedding (N, E): PCA of the crop + weighted stats."""
        f = self.features
        v = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        n_pix = CROP * CROP
        crop, stats = v[:, :n_pix], v[:, n_pix:]
        coef = (crop - f["pca_mean"]) @ f["pca_components"].T
        resid = crop - f["pca_mean"] - coef @ f["pca_components"]
        z_stats = (stats - f["stat_mean"]) / f["stat_std"] * f["stat_weight"]
        res = np.linalg.norm(resid, axis=1, keepdims=True) * f["residual_weight"]
        return np.concatenate([coef, z_stats, res], axis=1).astype(np.float32)

    def typicality(self, emb: np.ndarray) -> np.ndarray:
        """Atypicality of each embedded slice: mean distance to its k nearest typical training
        slices, divided by the same on the training slices (1 ~ a typical training slice;
        higher is less typical)."""
        f = self.features
        d = _knn_distances(emb, self.reference, int(f["typ_k"]))
        return d.mean(axis=1) / float(f["typ_scale"])

    def level(self, emb: np.ndarray) -> np.ndarray:
        """Estimated MNI z (mm) of each embedded axial slice (distance-weighted kNN)."""
        f = self.features
        k = int(f["lvl_k"])
        d2 = _sq_distances(emb, self.reference)
        idx = np.argpartition(d2, k, axis=1)[:, :k]
        dk = np.sqrt(np.maximum(np.take_along_axis(d2, idx, axis=1), 0.0))
        w = 1.0 / (dk + 1e-3)
        return (f["lvl_level"][idx] * w).sum(axis=1) / w.sum(axis=1)

    def robust_level(self, vectors: np.ndarray, mirrored: np.ndarray):
        """(level, source) of each slice from the most typical of: the whole slice (source 0),
        its left half mirrored (1), its right half mirrored (2) (`features.mirrored_vectors`):
        a one-sided lesion leaves one half healthy, and the level is read from it."""
        v = np.atleast_2d(vectors)
        m = np.atleast_2d(mirrored)
        d = v.shape[1]
        embs = [self.embed(x) for x in (v, m[:, :d], m[:, d:])]
        typ = np.stack([self.typicality(e) for e in embs], axis=1)
        pick = np.argmin(typ, axis=1)
        levels = np.stack([self.level(e) for e in embs], axis=1)
        return levels[np.arange(len(pick)), pick], pick


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]


def _knn_distances(a: np.ndarray, ref: np.ndarray, k: int) -> np.ndarray:
    d2 = _sq_distances(a, ref)
    k = min(k, ref.shape[0])
    part = np.partition(d2, k - 1, axis=1)[:, :k]
    return np.sqrt(np.maximum(part, 0.0))


def load_domain_model(model_dir: str | Path | None = None) -> DomainModel:
    """The applicability model of a checkpoint (None: the shipped default), cached."""
    return _load(str(domain_dir(model_dir).resolve()))


@lru_cache(maxsize=4)
def _load(folder: str) -> DomainModel:
    path = Path(folder)
    if not (path / DOMAIN_JSON).exists():
        raise FileNotFoundError(
            f"no applicability model in {path} (expected {DOMAIN_JSON}, {FEATURES_NPZ}, "
            f"{TEMPLATE_NPZ}); build it with `python -m assistant.domain.fit`"
        )
    config = json.loads((path / DOMAIN_JSON).read_text())
    config.update(detector_limits(path))
    with np.load(path / FEATURES_NPZ) as z:
        features = {k: z[k] for k in z.files}
    with np.load(path / TEMPLATE_NPZ) as z:
        template = template_from_npz({k: z[k] for k in z.files})
    return DomainModel(config, features, template)


def detector_limits(folder: Path) -> dict:
    """The "domain" block of the checkpoint's detector.json (beside `folder` or in it): the
    limits the detector is checked against (`DOMAIN_KEYS`); {} when it has none."""
    from assistant.detector.model import DOMAIN_KEYS

    for base in (folder.parent, folder) if folder.name == "domain" else (folder,):
        path = base / "detector.json"
        if path.exists():
            block = json.loads(path.read_text()).get("domain") or {}
            return {k: block[k] for k in DOMAIN_KEYS if k in block}
    return {}


def template_from_npz(stored: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The stored head template (uint8 + scale) as float32 intensities."""
    out = dict(stored)
    out["volume"] = stored["volume"].astype(np.float32) * float(stored["scale"])
    return out
