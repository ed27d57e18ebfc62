"""Level conditioning: a UNet that knows at which axial level (MNI z) its slice lies.

The level-aware normative model is the same diffusers `UNet2DModel` with a class embedding of
type "timestep": the level is passed as a continuous `class_labels` value, projected with the
same sinusoidal embedding as the diffusion timestep, mapped by a small MLP and added to the
timestep embedding. The label is the MNI template's voxel index along z (`level_label`: 95 at
the mid-axial level, MNI z = +23 mm), so labels are positive and on the timestep's scale.

`with_level_embedding(unet)` turns a trained unconditional UNet into a level-aware one whose
output is unchanged at first (the MLP's last layer starts at zero), so training can start
from the shipped weights (`assistant train --init-from`).
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers import UNet2DModel

TRAINED_LEVEL_MM = 23.0  # MNI z of the mid-axial training slices (template voxel 95)
LEVEL_ORIGIN_MM = -72.0  # MNI z of the template's voxel 0 along z
# bands of MNI z (mm, inclusive) for per-band validation losses and thresholds: lower
# (cerebellum, temporal poles), basal (brainstem, basal ganglia), the trained level's band
# (lateral ventricles) and upper (centrum semiovale to the vertex)
LEVEL_BANDS: tuple[tuple[int, int], ...] = ((-50, -21), (-20, 9), (10, 39), (40, 79))


def checkpoint_level_aware(path) -> bool:
    """Whether the checkpoint folder `path` (None: the shipped default) holds a level-aware
    UNet, read from its diffusers config alone (no weights are loaded)."""
    from assistant.detector.model import require_checkpoint

    config = UNet2DModel.load_config(require_checkpoint(path) / "unet")
    return config.get("class_embed_type") == "timestep"


def level_label(z_mm):
    """The UNet's class label for MNI z `z_mm` (a float, an array or a tensor)."""
    return z_mm - LEVEL_ORIGIN_MM


def is_level_aware(unet: UNet2DModel) -> bool:
    return getattr(unet.config, "class_embed_type", None) == "timestep"


def with_level_embedding(unet: UNet2DModel) -> UNet2DModel:
    """A level-aware copy of `unet`: same weights plus a zero-initialised level embedding."""
    if is_level_aware(unet):
        return unet
    config = {k: v for k, v in unet.config.items() if not k.startswith("_")}
    config["class_embed_type"] = "timestep"
    new = UNet2DModel.from_config(config)
    missing, unexpected = new.load_state_dict(unet.state_dict(), strict=False)
    if unexpected or any(not k.startswith("class_embedding.") for k in missing):
        raise ValueError(f"cannot add a level embedding: missing {missing}, extra {unexpected}")
    with torch.no_grad():
        new.class_embedding.linear_2.weight.zero_()
        new.class_embedding.linear_2.bias.zero_()
    ref = next(unet.parameters())
    # torch's Module.to: diffusers' override warns about float32 modules on every cast
    return torch.nn.Module.to(new, ref.device, ref.dtype)


def class_labels(unet: UNet2DModel, level_mm, batch: int, device) -> torch.Tensor | None:
    """`class_labels` for a batch at level(s) `level_mm` (None for an unconditional UNet;
    None as the level means the mid-axial level)."""
    if not is_level_aware(unet):
        return None
    z = TRAINED_LEVEL_MM if level_mm is None else level_mm
    if torch.is_tensor(z):  # e.g. a training batch's levels, already on the GPU
        labels = level_label(z.to(device=device, dtype=torch.float32))
    else:
        labels = torch.as_tensor(level_label(np.asarray(z, dtype=np.float32)), device=device)
    return labels.reshape(-1).expand(batch) if labels.numel() == 1 else labels


def load_level_set(path) -> tuple[torch.Tensor, torch.Tensor]:
    """A level set written by `assistant.domain.levelset` -> ((N, 1, S, S) [0, 1], (N,) MNI z)."""
    with np.load(path) as d:
        images = torch.from_numpy(d["images"].astype(np.float32) / 255.0)[:, None]
        levels = torch.from_numpy(d["levels"].astype(np.float32))
    return images, levels
