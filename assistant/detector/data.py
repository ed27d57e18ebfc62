"""Reading a folder of healthy scans into model-grid tensors, and on-device augmentation."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from assistant.detector.model import PreprocessConfig
from assistant.preprocess import brain_mask, fit_to_grid, foreground_mask, to_unit

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".dcm", ".nii", ".nii.gz")


def list_scans(folder: str | Path) -> list[Path]:
    """Scan files directly in `folder` (sorted, so runs are reproducible)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of scans")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(SCAN_SUFFIXES)
    )
    if not files:
        raise FileNotFoundError(f"no scans in {folder} (accepted: {', '.join(SCAN_SUFFIXES)})")
    return files


def prepare_slice(img: np.ndarray, pre: PreprocessConfig, window=None):
    """Raw (Y, X) slice -> (unit image on model grid, foreground on model grid, GridInfo, unit
    image on the scan grid)."""
    unit = to_unit(img, window=window, percentiles=tuple(pre.percentiles))
    grid, info = fit_to_grid(unit, pre.size)
    if pre.foreground == "brain":
        fg = brain_mask(grid)
    elif pre.foreground == "head":
        fg = foreground_mask(grid, threshold=pre.foreground_threshold)
    else:
        raise ValueError(f"unknown foreground {pre.foreground!r}; choose 'head' or 'brain'")
    return grid.astype(np.float32), fg, info, unit


def load_folder(folder: str | Path, pre: PreprocessConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Every scan in `folder` (a volume contributes its middle axial slice) as
    ((N, 1, S, S) float32 in [0, 1], (N, 1, S, S) bool foreground)."""
    from assistant.scan import ScanError, load_scan

    images, masks = [], []
    for path in list_scans(folder):
        try:
            scan = load_scan(path).slice2d()
        except ScanError as exc:
            log.warning("skipping %s: %s", path.name, exc)
            continue
        grid, fg, _, _ = prepare_slice(scan.pixels, pre, window=None)
        images.append(grid)
        masks.append(fg)
    if not images:
        raise FileNotFoundError(f"no readable scans in {folder}")
    x = torch.from_numpy(np.stack(images))[:, None]
    m = torch.from_numpy(np.stack(masks))[:, None]
    return x, m


def augment(x: torch.Tensor, generator: torch.Generator, flip: bool = True) -> torch.Tensor:
    """Anatomy-preserving augmentation on (B, 1, S, S) images in [0, 1], on their device.

    Small affine (rotation +-6 degrees, scale 0.94..1.06, shift +-4%), left-right flip (brains are
    near-symmetric) and intensity jitter (gamma 0.85..1.15, contrast +-8%): variation that
    healthy anatomy and scanners show, so the model does not learn it as abnormal.
    """
    b = x.shape[0]
    dev = x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator, device=dev)

    ang = u(-6, 6) * math.pi / 180
    scale = u(0.94, 1.06)
    tx, ty = u(-0.04, 0.04), u(-0.04, 0.04)
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    )  # (B, 2, 3)
    if flip:
        sign = torch.where(torch.rand(b, generator=generator, device=dev) < 0.5, -1.0, 1.0)
        theta[:, 0, 0] *= sign
        theta[:, 1, 0] *= sign
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = u(0.85, 1.15).view(b, 1, 1, 1)
    contrast = u(0.92, 1.08).view(b, 1, 1, 1)
    out = (out.clamp(0, 1) ** gamma * contrast).clamp(0, 1)
    return out
