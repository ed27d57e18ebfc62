"""Images for people: heatmap overlays with a colour bar, side-by-side comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def _colormap(v: np.ndarray) -> np.ndarray:
    """[0, 1] -> (..., 3) uint8 'inferno'-like ramp (black-purple-orange-yellow)."""
    stops = np.array(
        [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32
    )
    x = np.clip(v, 0, 1) * (len(stops) - 1)
    i = np.minimum(x.astype(int), len(stops) - 2)
    f = (x - i)[..., None]
    return (stops[i] * (1 - f) + stops[i + 1] * f).astype(np.uint8)


def to_uint8(img01: np.ndarray) -> np.ndarray:
    return (np.clip(img01, 0, 1) * 255).round().astype(np.uint8)


def heatmap_rgb(anomaly: np.ndarray, vmax: float | None = None) -> np.ndarray:
    vmax = vmax or float(np.quantile(anomaly, 0.999)) or 1.0
    return _colormap(anomaly / max(vmax, 1e-8))


def overlay_rgb(
    image01: np.ndarray,
    anomaly: np.ndarray,
    opacity: float = 0.5,
    vmin: float | None = None,
    vmax: float | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8: the scan in gray with the heatmap blended where the map exceeds `vmin`
    (default: the calibrated threshold if passed, else 0); the calibrated mask outlined."""
    gray = np.repeat(to_uint8(image01)[..., None], 3, axis=2).astype(np.float32)
    vmax = vmax or float(np.quantile(anomaly, 0.999)) or 1.0
    vmin = vmin if vmin is not None else 0.0
    heat = _colormap((anomaly - vmin) / max(vmax - vmin, 1e-8)).astype(np.float32)
    alpha = opacity * np.clip((anomaly - vmin) / max(vmax - vmin, 1e-8), 0, 1)[..., None]
    out = gray * (1 - alpha) + heat * alpha
    if mask is not None and mask.any():
        from scipy import ndimage

        edge = mask & ~ndimage.binary_erosion(mask)
        out[edge] = (0, 255, 255)
    return out.clip(0, 255).astype(np.uint8)


def with_colorbar(rgb: np.ndarray, vmin: float, vmax: float, label: str = "anomaly") -> np.ndarray:
    """Append a vertical colour bar with min/max labels to the right of an (H, W, 3) image."""
    h = rgb.shape[0]
    bar_w, pad = max(12, h // 20), 60
    canvas = Image.new("RGB", (rgb.shape[1] + bar_w + pad, max(h, 60)), (0, 0, 0))
    canvas.paste(Image.fromarray(rgb), (0, 0))
    ramp = _colormap(np.linspace(1, 0, h)[:, None].repeat(bar_w, 1))
    canvas.paste(Image.fromarray(ramp), (rgb.shape[1] + 4, 0))
    draw = ImageDraw.Draw(canvas)
    x = rgb.shape[1] + bar_w + 8
    draw.text((x, 0), f"{vmax:.3g}", fill=(255, 255, 255))
    draw.text((x, h - 12), f"{vmin:.3g}", fill=(255, 255, 255))
    draw.text((x, h // 2 - 6), label, fill=(255, 255, 255))
    return np.asarray(canvas)


def save_outputs(result, out: str | Path, opacity: float = 0.5) -> None:
    """Write overlay.png (with colour bar), heatmap.png and pseudo_healthy.png."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # the bar's top is the image score (the map's maximum over the foreground), as in the app
    # (`assistant.ui.views.display_range`), so that bar and score state the same number
    vmin = result.pixel_threshold or 0.0
    vmax = max(float(result.score), vmin * 2, 1e-6)
    ov = overlay_rgb(result.image, result.anomaly_map, opacity, vmin * 0.5, vmax, result.mask)
    Image.fromarray(with_colorbar(ov, vmin * 0.5, vmax)).save(out / "overlay.png")
    Image.fromarray(heatmap_rgb(result.anomaly_map, vmax)).save(out / "heatmap.png")
    Image.fromarray(to_uint8(result.pseudo_healthy)).save(out / "pseudo_healthy.png")
