"""The diffusion model (diffusers `UNet2DModel` + schedulers) and its checkpoint folder.

A checkpoint is a folder:
    unet/                 diffusers UNet2DModel (config.json + safetensors weights)
    scheduler/            DDPMScheduler config (training noise schedule)
    detector.json         preprocessing settings, calibrated thresholds, default method/preset
    MODEL_CARD.md         training data and licence, exact command, steps, wall time, figures
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "weights" / "ixi-t1-128"


@dataclass
class UNetConfig:
    """Architecture of the denoising UNet (passed to diffusers `UNet2DModel`)."""

    size: int = 128  # square model grid; scans are fitted to it keeping the aspect ratio
    block_out_channels: tuple[int, ...] = (32, 64, 128, 256)  # one entry per resolution level
    layers_per_block: int = 2  # residual blocks per level
    attention_levels: tuple[int, ...] = (3,)  # levels (0 = full res) with self-attention
    norm_num_groups: int = 8

    def build(self) -> UNet2DModel:
        n = len(self.block_out_channels)
        down = tuple(
            "AttnDownBlock2D" if i in self.attention_levels else "DownBlock2D" for i in range(n)
        )
        up = tuple(
            "AttnUpBlock2D" if (n - 1 - i) in self.attention_levels else "UpBlock2D"
            for i in range(n)
        )
        return UNet2DModel(
            sample_size=self.size,
            in_channels=1,
            out_channels=1,
            block_out_channels=tuple(self.block_out_channels),
            layers_per_block=self.layers_per_block,
            down_block_types=down,
            up_block_types=up,
            norm_num_groups=self.norm_num_groups,
        )


@dataclass
class PreprocessConfig:
    """How a scan slice becomes a model input; stored with the checkpoint."""

    size: int = 128
    percentiles: tuple[float, float] = (0.5, 99.5)  # robust normalisation to [0, 1]
    foreground_threshold: float = 0.08  # on the [0, 1] image, see preprocess.foreground_mask
    # "head": everything above the threshold; "brain": preprocess.brain_mask (T1 brain inside
    # the skull, for models of non-skull-stripped brain MRI)
    foreground: str = "head"


@dataclass
class Calibration:
    """Thresholds fitted on healthy validation data only (never test/holdout)."""

    pixel_threshold: float | None = None  # anomaly-map value flagged at the target FPR
    score_threshold: float | None = None  # image score flagged at the target FPR
    fpr: float = 0.05
    n_images: int = 0
    data: str = ""  # which healthy set (path as given) was used
    method: str = ""  # method + preset the thresholds belong to
    preset: str = ""
    # the healthy images' scores, sorted: the findings' fallback confidence (the fraction of
    # them below a finding's peak) when there is no fitted confidence map
    healthy_scores: list[float] = field(default_factory=list)
    # the fitted map from a region's peak to the probability that it is a true lesion
    # (`postprocess.ConfidenceMap.to_dict`: kind, knots or coefficients, n, data, label rule;
    # `python -m eval.confidence --write-checkpoint`); None: not fitted for this method/preset
    # (older detector.json files have no such block)
    confidence: dict | None = None
    # a level-aware model's thresholds per band of MNI levels (`calibrate_levels`): a list of
    # {"lo_mm", "hi_mm", "pixel_threshold", "score_threshold", "n_images", "healthy_scores"};
    # a slice whose level lies in a band is thresholded with that band's values (`for_level`),
    # other slices (no level: the mid-axial level) with the thresholds above
    bands: list[dict] | None = None
    # a level-aware model's thresholds for whole volumes whose anomaly maps are smoothed across
    # levels (`assistant.volume.smoothing`): {"z_smoothing_mm", "level_step_mm", "bands", "fpr",
    # "data", "rule"}, each band as in `bands` but fitted on smoothed stacks of healthy
    # validation volumes (`calibrate_volumes(z_smoothing_mm=...)`); None: volumes are not smoothed
    stack: dict | None = None

    @classmethod
    def from_thresholds(cls, t: dict, **info) -> Calibration:
        """A calibration from a dict with "pixel_threshold", "score_threshold", "n_images" and
        "healthy_scores" (a band, or a fit written to a file); `info`: fpr, data, method,
        preset."""
        return cls(
            pixel_threshold=t["pixel_threshold"],
            score_threshold=t["score_threshold"],
            n_images=t["n_images"],
            healthy_scores=list(t["healthy_scores"]),
            **info,
        )

    def for_level(self, level_mm: float | None) -> Calibration:
        """The calibration that applies to a slice at MNI z `level_mm` (None: no level)."""
        if level_mm is None or not self.bands:
            return self
        for b in self.bands:
            if b["lo_mm"] <= level_mm <= b["hi_mm"]:
                # the band's own fitted confidence map (`python -m eval.band_confidence`);
                # without one its findings get the fallback (the fraction of its healthy
                # scores below the peak)
                info = {"fpr": self.fpr, "data": self.data, "method": self.method}
                return Calibration.from_thresholds(
                    b, preset=self.preset, confidence=b.get("confidence"), **info
                )
        return self


# what detector.json's "domain" block holds (see `DetectorConfig.domain`)
DOMAIN_KEYS = ("trained_level_mm", "level_tolerance_mm", "typicality_threshold")


@dataclass
class DetectorConfig:
    """Contents of detector.json."""

    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    default_method: str = "thor"
    default_preset: str = "fast"
    calibration: dict[str, Calibration] = field(default_factory=dict)  # key "method/preset"
    flip_augment: bool = True  # trained with left-right flips (brains)
    # MethodConfig field overrides applied to the default method/preset of this checkpoint
    default_overrides: dict = field(default_factory=dict)
    # the applicability check's limits for this detector (`DOMAIN_KEYS`: trained level, level
    # tolerance, typicality threshold), measured on val by `python -m assistant.domain.fit`,
    # which writes them here and into domain/domain.json; these win when both are present
    domain: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> DetectorConfig:
        raw = json.loads(text)
        pre = PreprocessConfig(**{**raw.get("preprocess", {})})
        pre.percentiles = tuple(pre.percentiles)
        cal = {k: Calibration(**v) for k, v in raw.get("calibration", {}).items()}
        return cls(
            preprocess=pre,
            default_method=raw.get("default_method", "thor"),
            default_preset=raw.get("default_preset", "fast"),
            calibration=cal,
            flip_augment=raw.get("flip_augment", True),
            default_overrides=raw.get("default_overrides", {}),
            domain=raw.get("domain", {}),
        )


@dataclass
class DiffusionModel:
    """A trained UNet with its training noise schedule and settings."""

    unet: UNet2DModel
    scheduler: DDPMScheduler
    config: DetectorConfig
    path: Path | None = None

    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    @property
    def checkpoint(self) -> str:
        """Which checkpoint this is, for the record of a result: a shipped one by its name
        ("shipped:ixi-t1-128"), another by its folder's absolute path ("in memory" when built
        without one, as the tests do)."""
        if self.path is None:
            return "in memory"
        path = Path(self.path).resolve()
        if path.parent == DEFAULT_CHECKPOINT.parent:
            return f"shipped:{path.name}"
        return str(path)

    def ddim(self) -> DDIMScheduler:
        """A DDIM scheduler on the same noise schedule (fast deterministic inference)."""
        return DDIMScheduler.from_config(self.scheduler.config, clip_sample=False)

    def save(self, path: str | Path, dtype: torch.dtype = torch.float16) -> Path:
        """Write the checkpoint folder; weights stored in `dtype` (float16 halves the size)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        unet = self.unet
        orig = next(unet.parameters()).dtype
        # safetensors needs contiguous tensors (a Detector may have made them channels-last)
        channels_last = any(p.dim() == 4 and not p.is_contiguous() for p in unet.parameters())
        # torch's Module.to: diffusers' override warns about float32 modules on every cast,
        # even when the model has none (UNet2DModel)
        torch.nn.Module.to(unet, dtype=dtype, memory_format=torch.contiguous_format)
        try:
            unet.save_pretrained(path / "unet", safe_serialization=True)
        finally:
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            torch.nn.Module.to(unet, dtype=orig, memory_format=fmt)
        self.scheduler.save_pretrained(path / "scheduler")
        (path / "detector.json").write_text(self.config.to_json())
        return path

    @classmethod
    def load(
        cls, path: str | Path | None = None, device: str | torch.device = "cpu"
    ) -> DiffusionModel:
        """Load a checkpoint folder (None: the shipped default) as float32 on `device`."""
        path = require_checkpoint(path)
        unet = UNet2DModel.from_pretrained(path / "unet", torch_dtype=torch.float32).to(device)
        unet.eval()
        scheduler = DDPMScheduler.from_pretrained(path / "scheduler")
        config = DetectorConfig.from_json((path / "detector.json").read_text())
        return cls(unet=unet, scheduler=scheduler, config=config, path=path)


def require_checkpoint(path: str | Path | None) -> Path:
    """The checkpoint folder `path` (None: the shipped default), or FileNotFoundError saying what
    a checkpoint folder holds when it is not one."""
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not (path / "unet").is_dir() or not (path / "detector.json").is_file():
        raise FileNotFoundError(
            f"{path} is not a detector checkpoint folder (expected unet/, scheduler/ and "
            "detector.json, as written by `assistant train`)"
        )
    return path


def new_scheduler(num_train_timesteps: int = 1000) -> DDPMScheduler:
    """The training schedule: 1000-step DDPM, linear betas, epsilon prediction (Ho et al. 2020)."""
    return DDPMScheduler(
        num_train_timesteps=num_train_timesteps,
        beta_schedule="linear",
        prediction_type="epsilon",
        clip_sample=False,
    )


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bf16 matrix instructions (bf16 autocast then pays off)."""
    try:
        with open("/proc/cpuinfo") as fh:
            return "avx512_bf16" in fh.read()
    except OSError:
        return False
