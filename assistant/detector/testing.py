"""A tiny random detector for tests (seconds on CPU). Not a useful model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from assistant.detector.detector import Detector
from assistant.detector.methods import get_config
from assistant.detector.model import (
    Calibration,
    DetectorConfig,
    DiffusionModel,
    PreprocessConfig,
    UNetConfig,
    new_scheduler,
)

# few steps and a plain residual map: seconds per call on CPU
TINY_OVERRIDES = {
    "steps": 3,
    "t_start": 60,
    "guidance_ts": (40,),
    "resample_steps": 2,
    "resamples": 2,
    "resample_t": 20,
    "map_kind": "residual",
    "eta": 0.0,
}


def tiny_unet_config(size: int = 32) -> UNetConfig:
    """Two levels of 8 and 16 channels, no attention: a UNet that builds and runs in moments."""
    return UNetConfig(
        size=size,
        block_out_channels=(8, 16),
        layers_per_block=1,
        attention_levels=(),
        norm_num_groups=4,
    )


def tiny_model(size: int = 32, seed: int = 0) -> DiffusionModel:
    torch.manual_seed(seed)
    unet = tiny_unet_config(size).build().eval()
    cfg = DetectorConfig(
        preprocess=PreprocessConfig(size=size), default_method="thor", default_preset="fast"
    )
    return DiffusionModel(unet=unet, scheduler=new_scheduler(), config=cfg)


def tiny_detector(
    tmp_path: str | Path | None = None,
    size: int = 32,
    method: str = "thor",
    preset: str = "fast",
    calibrated: bool = True,
    **overrides,
) -> Detector:
    """A tiny random detector with few steps; saved as a checkpoint folder at `tmp_path` (and
    loaded back) if given.

    With `calibrated`, thresholds are set from the detector's own output on a smooth synthetic
    "healthy" disc image (so findings appear for strong deviations), not from any test data.
    """
    model = tiny_model(size)
    overrides = {**TINY_OVERRIDES, **overrides}
    model.config.default_method, model.config.default_preset = method, preset
    model.config.default_overrides = dict(overrides)
    cfg = get_config(method, preset, **overrides)
    det = Detector(model, cfg, preset=preset, autocast=False)
    if calibrated:
        yy, xx = np.mgrid[:64, :64]
        disc = ((yy - 32) ** 2 + (xx - 32) ** 2 < 26**2).astype(np.float32) * 0.6
        res = Detector(model, cfg, "uncalibrated", autocast=False).detect_array(disc)
        vals = res.anomaly_map[res.foreground]
        det.model.config.calibration[det.key] = Calibration(
            pixel_threshold=float(np.quantile(vals, 0.95)),
            score_threshold=res.score,
            n_images=1,
            data="synthetic disc",
            method=method,
            preset=preset,
        )
    if tmp_path is not None:
        path = Path(tmp_path)
        det.model.save(path, dtype=torch.float32)
        det = Detector(DiffusionModel.load(path), cfg, preset=preset, autocast=False)
    return det


def tiny_checkpoint(path: str | Path, **kwargs) -> Path:
    """Write a calibrated tiny checkpoint folder (loadable with `Detector.from_pretrained`,
    fast: few steps, residual map) and return its path."""
    tiny_detector(path, **kwargs)
    return Path(path)
