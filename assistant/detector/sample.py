"""Drawing new healthy-looking slices from pure noise (DDIM, Song et al. 2021)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from assistant.detector.levels import class_labels
from assistant.detector.model import DiffusionModel
from assistant.preprocess import model_to_unit


@torch.no_grad()
def sample(
    model: DiffusionModel, n: int, steps: int = 50, seed: int = 0, level_mm: float | None = None
) -> list[np.ndarray]:
    """n images (S, S) float32 in [0, 1] (a level-aware model: at MNI z `level_mm`)."""
    sched = model.ddim()
    sched.set_timesteps(steps)
    gen = torch.Generator().manual_seed(seed)
    s = model.unet.config.sample_size
    x = torch.randn((n, 1, s, s), generator=gen).to(model.device)
    for t in tqdm(sched.timesteps, desc="sample", leave=False):
        tt = torch.full((n,), int(t), device=x.device, dtype=torch.long)
        labels = class_labels(model.unet, level_mm, n, x.device)
        eps = model.unet(x, tt, class_labels=labels).sample
        x = sched.step(eps, t, x, eta=0.0).prev_sample
    return [model_to_unit(x[i, 0]).cpu().numpy() for i in range(n)]
