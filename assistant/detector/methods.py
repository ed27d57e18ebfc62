"""Anomaly detection by partial noising and denoising towards healthy anatomy.

Three published methods, each with a reference configuration (the papers' step counts, DDPM
sampling) and fast configurations (DDIM, few UNet calls):

- `anoddpm`  AnoDDPM (Wyatt et al., CVPR-W 2022): noise the input to t (Gaussian or simplex
  noise), denoise back; anomaly = what changed.
- `autoddpm` Mask, Stitch, and Re-Sample (Bercea et al., ICML-W 2023): reconstruct from t=200,
  threshold the map into a mask, keep the input outside it, and re-sample inside with
  RePaint-style resampling (Lugmayr et al., CVPR 2022) from t=50 with 5 resamples.
- `thor`     THOR implicit guidance (Bercea et al., MICCAI 2024): noise to t=350; at
  intermediate steps (t in {300, 150, 50}) replace the prediction by the input wherever the
  running anomaly map says "healthy", re-noise and continue; the final map is the pixel-wise
  harmonic mean of the intermediate maps.

All functions take (B, 1, S, S) images in [0, 1] on the model grid and return a `MethodOutput`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from assistant.detector.levels import TRAINED_LEVEL_MM, class_labels
from assistant.detector.maps import anomaly_map, gaussian_blur, harmonic_mean
from assistant.detector.model import DiffusionModel
from assistant.detector.noise import make_noise
from assistant.preprocess import model_to_unit, unit_to_model

MethodName = Literal["anoddpm", "autoddpm", "thor"]


@dataclass(frozen=True)
class MethodConfig:
    name: MethodName = "thor"
    t_start: int = 350  # noise level the input is taken to (of 1000)
    sampler: Literal["ddim", "ddpm"] = "ddim"  # ddpm: every step (reference); ddim: `steps`
    steps: int = 10  # DDIM steps from t_start down to 0 (UNet calls = steps + 1)
    eta: float = 0.0  # DDIM stochasticity (0: deterministic DDIM; 1: DDPM-like noise per step)
    noise: Literal["gaussian", "simplex"] = "gaussian"
    map_kind: Literal["residual", "residual_perceptual"] = "residual_perceptual"
    # Gaussian smoothing of the map (pixels of the 128 grid); 3 chosen on validation data
    # (eval/sweep_detector.py: THOR fast pixel AUPRC 0.55 at sigma 1, 0.64 at 2, 0.75 at 3 with
    # the guidance below)
    sigma: float = 3.0
    # THOR: guidance points and the soft "healthy" decision on the running map (chosen on
    # validation data: 0.08/0.2 beat 0.04/0.12)
    guidance_ts: tuple[int, ...] = (300, 150, 50)
    guidance_low: float = 0.08  # map below: healthy, replaced by the input
    guidance_high: float = 0.2  # map above: anomalous, the model's prediction is kept
    # AutoDDPM: mask from the first reconstruction, then RePaint resampling inside it
    mask_threshold: float = 0.06
    mask_dilation: float = 3.0  # pixels (Gaussian blur of the binary mask)
    resample_t: int = 50
    resample_steps: int = 50  # denoising steps in the re-sampling stage (DDPM: every step)
    resamples: int = 5  # RePaint jumps per step
    # independent noise draws per image, run side by side in one batch; their maps and
    # pseudo-healthy images are averaged (UNet calls per image x samples). Draw j uses seed + j.
    samples: int = 1
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


# Named configurations. "reference" = the papers' step counts; the others trade calls for speed.
PRESETS: dict[str, dict[str, MethodConfig]] = {
    "thor": {
        "reference": MethodConfig("thor", t_start=350, sampler="ddpm"),
        # eta=1 (stochastic DDIM) chosen on validation data: pixel AUPRC 0.79 against 0.75
        # with deterministic DDIM at 10 steps, 0.80 at 6 steps (eval/sweep_detector.py)
        "fast": MethodConfig("thor", t_start=350, sampler="ddim", steps=10, eta=1.0),
        "faster": MethodConfig("thor", t_start=350, sampler="ddim", steps=6, eta=1.0),
        # two noise draws of `faster`, averaged (14 calls, one batch): on validation data pixel
        # AUPRC 0.84 vs 0.81 and image AUROC 0.92 vs 0.90 for about 1.6x the time
        "faster-x2": MethodConfig("thor", t_start=350, sampler="ddim", steps=6, eta=1.0, samples=2),
    },
    "autoddpm": {
        "reference": MethodConfig(
            "autoddpm", t_start=200, sampler="ddpm", resample_t=50, resample_steps=50, resamples=5
        ),
        "fast": MethodConfig(
            "autoddpm",
            t_start=200,
            sampler="ddim",
            steps=8,
            resample_t=60,
            resample_steps=4,
            resamples=3,
        ),
    },
    "anoddpm": {
        "reference": MethodConfig("anoddpm", t_start=250, sampler="ddpm", noise="gaussian"),
        "fast": MethodConfig("anoddpm", t_start=250, sampler="ddim", steps=10),
        "simplex": MethodConfig("anoddpm", t_start=250, sampler="ddim", steps=10, noise="simplex"),
    },
}


def get_config(name: str, preset: str = "fast", **overrides) -> MethodConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(PRESETS)}")
    if preset not in PRESETS[name]:
        raise ValueError(
            f"unknown preset {preset!r} for {name}; choose one of {sorted(PRESETS[name])}"
        )
    return replace(PRESETS[name][preset], **overrides)


@dataclass
class MethodOutput:
    anomaly_map: torch.Tensor  # (B, 1, S, S) >= 0
    pseudo_healthy: torch.Tensor  # (B, 1, S, S) in [0, 1]
    unet_calls: int


class _Runner:
    """Holds the model, a scheduler for the chosen sampler, and counts UNet calls."""

    def __init__(self, model: DiffusionModel, cfg: MethodConfig, autocast: bool, levels=None):
        self.model, self.cfg, self.autocast = model, cfg, autocast
        self.unet = model.unet
        self.levels = levels  # (B,) MNI z of each image for a level-aware UNet (None: +23 mm)
        self.calls = 0
        self.ab = model.scheduler.alphas_cumprod.to(model.device)  # \bar{alpha}_t

    def schedule(self, t_start: int, steps: int) -> tuple[DDPMScheduler | DDIMScheduler, list[int]]:
        """A fresh scheduler and the descending timesteps from `t_start` to 0."""
        n_train = self.model.scheduler.config.num_train_timesteps
        if self.cfg.sampler == "ddpm":
            sched = DDPMScheduler.from_config(self.model.scheduler.config)
            sched.set_timesteps(n_train)
            ts = [int(t) for t in sched.timesteps if t <= t_start]
        else:
            sched = self.model.ddim()
            stride = max(1, t_start // max(1, steps))
            sched.set_timesteps(n_train // stride)
            ts = [int(t) for t in sched.timesteps if t <= t_start]
        return sched, ts

    def step_kwargs(self, sched, gen: list[torch.Generator]) -> dict:
        if isinstance(sched, DDPMScheduler):
            return {"generator": gen}
        if self.cfg.eta > 0:  # DDIM's per-step noise, drawn on the CPU generator for determinism
            return {"eta": self.cfg.eta, "generator": gen}
        return {"eta": 0.0}

    def eps(self, x_t: torch.Tensor, t: int) -> torch.Tensor:
        self.calls += 1
        tt = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)
        with torch.autocast(x_t.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            labels = class_labels(self.unet, self.levels, x_t.shape[0], x_t.device)
            return self.unet(x_t, tt, class_labels=labels).sample.float()

    def noised(self, x0: torch.Tensor, t: int, gen: list[torch.Generator]) -> torch.Tensor:
        noise = make_noise(self.cfg.noise, tuple(x0.shape), gen, x0.device)
        ab = self.ab[t]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise  # q(x_t | x_0), DDPM eq. 4

    def denoise(
        self,
        x_t: torch.Tensor,
        t_start: int,
        steps: int,
        gen: list[torch.Generator],
        hook: Callable | None = None,
    ) -> torch.Tensor:
        """Reverse process from t_start to 0; `hook(t, t_prev, x0_hat, eps, x_prev)` may
        replace x_prev (guidance)."""
        sched, ts = self.schedule(t_start, steps)
        for i, t in enumerate(ts):
            eps = self.eps(x_t, t)
            out = sched.step(eps, t, x_t, **self.step_kwargs(sched, gen))
            x_prev = out.prev_sample
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            if hook is not None:
                x_prev = hook(t, t_prev, out.pred_original_sample, eps, x_prev)
            x_t = x_prev
        return x_t


def run_method(
    model: DiffusionModel,
    x01: torch.Tensor,
    cfg: MethodConfig,
    foreground: torch.Tensor | None = None,
    autocast: bool = False,
    levels: list[float] | None = None,
) -> MethodOutput:
    """Run one method on (B, 1, S, S) images in [0, 1]; `foreground` (B, 1, S, S) bool;
    `levels`: each image's MNI z (mm) for a level-aware UNet (None: the mid-axial level).

    With `cfg.samples` = k > 1 every image is run k times in the same batch (noise seeds
    seed .. seed + k - 1) and the k maps and pseudo-healthy images are averaged."""
    if cfg.samples < 1:
        raise ValueError(f"samples must be at least 1, got {cfg.samples}")
    n, k = x01.shape[0], cfg.samples
    fg = foreground if foreground is not None else torch.ones_like(x01, dtype=torch.bool)
    if k > 1:
        x01, fg = x01.repeat_interleave(k, 0), fg.repeat_interleave(k, 0)
    # one generator per image (and draw): an image gets the same noise alone or in a batch
    gen = [torch.Generator().manual_seed(cfg.seed + j) for _ in range(n) for j in range(k)]
    lv = None
    if levels is not None:
        lv = np.repeat(
            np.asarray([TRAINED_LEVEL_MM if z is None else z for z in levels], np.float32), k
        )
    runner = _Runner(model, cfg, autocast, lv)
    x01 = x01.to(model.device, torch.float32)
    fg = fg.to(x01.device).float()
    with torch.no_grad():
        if cfg.name == "anoddpm":
            rec = _anoddpm(runner, x01, gen)
            amap = anomaly_map(x01, rec, cfg.map_kind, cfg.sigma)
        elif cfg.name == "thor":
            rec, amap = _thor(runner, x01, fg, gen)
        elif cfg.name == "autoddpm":
            rec, amap = _autoddpm(runner, x01, fg, gen)
        else:
            raise ValueError(f"unknown method {cfg.name!r}; choose one of {sorted(PRESETS)}")
        amap = amap * fg
        if k > 1:
            amap = amap.view(n, k, *amap.shape[1:]).mean(1)
            rec = rec.view(n, k, *rec.shape[1:]).mean(1)
    return MethodOutput(anomaly_map=amap, pseudo_healthy=rec, unet_calls=runner.calls * k)


def _anoddpm(r: _Runner, x01: torch.Tensor, gen: list[torch.Generator]) -> torch.Tensor:
    x_t = r.noised(unit_to_model(x01), r.cfg.t_start, gen)
    return model_to_unit(r.denoise(x_t, r.cfg.t_start, r.cfg.steps, gen))


def _thor(r: _Runner, x01, fg, gen):
    cfg = r.cfg
    x0 = unit_to_model(x01)
    _, ts = r.schedule(cfg.t_start, cfg.steps)
    # the scheduled step closest to each requested guidance point
    guide_at = {min(ts, key=lambda t, g=g: abs(t - g)) for g in cfg.guidance_ts}
    maps: list[torch.Tensor] = []

    def hook(t, t_prev, x0_hat, eps, x_prev):
        if t not in guide_at or t_prev < 0:
            return x_prev
        rec01 = model_to_unit(x0_hat)
        m = anomaly_map(x01, rec01, cfg.map_kind, cfg.sigma) * fg
        maps.append(m)
        # soft decision: weight 1 = anomalous (keep the model), 0 = healthy (take the input)
        w = ((m - cfg.guidance_low) / (cfg.guidance_high - cfg.guidance_low)).clamp(0, 1)
        guided = w * x0_hat.clamp(-1, 1) + (1 - w) * x0
        ab_prev = r.ab[t_prev]
        if cfg.sampler == "ddim" and cfg.eta == 0:  # deterministic: re-noise with predicted eps
            return ab_prev.sqrt() * guided + (1 - ab_prev).sqrt() * eps
        return r.noised(guided, t_prev, gen)

    x_t = r.noised(x0, ts[0], gen)
    rec = model_to_unit(r.denoise(x_t, cfg.t_start, cfg.steps, gen, hook))
    maps.append(anomaly_map(x01, rec, cfg.map_kind, cfg.sigma) * fg)
    return rec, harmonic_mean(maps)


def _autoddpm(r: _Runner, x01, fg, gen):
    cfg = r.cfg
    x0 = unit_to_model(x01)
    # 1. Mask: reconstruct from t_start and threshold the map
    rec1 = model_to_unit(r.denoise(r.noised(x0, cfg.t_start, gen), cfg.t_start, cfg.steps, gen))
    m1 = anomaly_map(x01, rec1, cfg.map_kind, cfg.sigma) * fg
    mask = gaussian_blur((m1 > cfg.mask_threshold).float(), cfg.mask_dilation)
    mask = (mask * 3).clamp(0, 1)  # dilate: any nearby flagged pixel opens the mask
    # 2. Stitch: the input outside the mask, the reconstruction inside
    stitched = mask * unit_to_model(rec1) + (1 - mask) * x0
    # 3. Re-sample inside the mask (RePaint): known region re-imposed at every step
    sched, ts = r.schedule(cfg.resample_t, cfg.resample_steps)
    x_t = r.noised(stitched, ts[0], gen)
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        # RePaint jumps only where there is a noisier level to jump back to (not at t=0)
        for j in range(cfg.resamples if t_prev >= 0 else 1):
            eps = r.eps(x_t, t)
            x_prev = sched.step(eps, t, x_t, **r.step_kwargs(sched, gen)).prev_sample
            known = r.noised(x0, t_prev, gen) if t_prev >= 0 else x0
            x_prev = mask * x_prev + (1 - mask) * known
            if j + 1 < cfg.resamples and t_prev >= 0:
                # jump back: q(x_t | x_{t_prev}) with alpha ratio (RePaint eq. 8 over a stride)
                ratio = r.ab[t] / r.ab[t_prev]
                z = make_noise("gaussian", tuple(x_prev.shape), gen, x_prev.device)
                x_t = ratio.sqrt() * x_prev + (1 - ratio).sqrt() * z
            else:
                x_t = x_prev
    rec = model_to_unit(x_t)
    return rec, anomaly_map(x01, rec, cfg.map_kind, cfg.sigma) * mask
