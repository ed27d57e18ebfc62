"""Small data builders shared by the QA evaluation tests (phantom brains, synthetic lesion sets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def phantom_brain(h: int = 96, w: int = 80, seed: int = 0) -> np.ndarray:
    """A brain-like (H, W) float32 image in [0, 1]: a textured bright ellipse on a dark
    background with a darker central "ventricle", plus a little noise."""
    rng = np.random.default_rng(seed)
    r, c = np.indices((h, w))
    e = ((r - h / 2) / (0.42 * h)) ** 2 + ((c - w / 2) / (0.4 * w)) ** 2
    img = np.where(e < 1, 0.55 + 0.1 * np.sin(r / 5) * np.cos(c / 7), 0.02)
    img = np.where(e < 0.05, 0.25, img)
    img = img + 0.02 * rng.standard_normal((h, w))
    return np.clip(img, 0, 1).astype(np.float32)


def write_phantoms(folder: Path, n: int, h: int = 96, w: int = 80) -> Path:
    """n phantom PNGs in `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.round(phantom_brain(h, w, seed=i) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"h{i}.png")
    return folder


def synth_set(tmp_path: Path, n: int = 6, healthy_fraction: float = 0.34) -> Path:
    """A lesion set written by assistant.synth.synthesize_dataset from phantom brains."""
    from assistant.synth import synthesize_dataset

    healthy = write_phantoms(tmp_path / "healthy", n)
    out = tmp_path / "synth"
    synthesize_dataset(healthy, out, healthy_fraction=healthy_fraction, seed=0)
    return out
