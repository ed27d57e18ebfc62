"""Images for people: heatmap overlays with a colour bar, side-by-side comparisons.

The overlay of a detection result (`overlay_figure`) is one figure for the CLI's overlay.png
and the app's viewer (`assistant.ui.views.overlay_image`): the same colour scale
(`display_range`), the same colour bar with the score and threshold ticks (`result_colorbar`)
and the same side letters (`side_marks`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from assistant.findings import ORIENTATIONS

# `DetectionResult` (assistant.detector.result) by duck typing: render sits below the detector
DetectionResult = Any

# the letters drawn at the image's (left, right) edges for a scan's `patient_left`:
# "image_left" = the neurological display (the patient's left on the image left)
SIDE_LETTERS = {"image_left": ("L", "R"), "image_right": ("R", "L")}


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
    """Append a vertical colour bar with min/max labels to the right of an (H, W, 3) image
    (a plain bar without thresholds; a detection result's overlay uses `result_colorbar`)."""
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


def display_range(result: DetectionResult) -> tuple[float, float]:
    """(vmin, vmax) of the heatmap colours of a result, for the CLI and the app alike: from half
    the pixel threshold (or 0) up to the image score (the map's maximum over the foreground, the
    number the score line reports), but at least the calibrated image threshold (and twice
    vmin). A map that stays below the image threshold never reaches the top colours, so a
    healthy scan's weak noise is not painted like a lesion; above it the top is the score."""
    vmin = 0.5 * (result.pixel_threshold or 0.0)
    thr = float(result.score_threshold or 0.0)
    vmax = max(float(result.score), thr, 2 * vmin, 1e-6)
    return vmin, vmax


def result_colorbar(
    rgb: np.ndarray, result: DetectionResult, vmin: float, vmax: float
) -> np.ndarray:
    """Append a vertical colour bar to an (H, W, 3) image: vmax at the top, vmin at the bottom,
    a white tick at the image score (labelled "score") and a cyan one at the calibrated image
    threshold ("thr"), so that the bar and the score line show the same quantity. The top
    label names the score or the threshold when it is one of them."""
    h, w = rgb.shape[:2]
    bar_w, pad = max(12, h // 20), 96
    canvas = Image.new("RGB", (w + bar_w + pad, max(h, 60)), (0, 0, 0))
    canvas.paste(Image.fromarray(np.ascontiguousarray(rgb)), (0, 0))
    ramp = heatmap_rgb(np.linspace(1.0, 0.0, h)[:, None].repeat(bar_w, 1), vmax=1.0)
    x0 = w + 4
    canvas.paste(Image.fromarray(ramp), (x0, 0))
    draw = ImageDraw.Draw(canvas)
    tx = x0 + bar_w + 4

    def row(v: float) -> int:
        return int(round((1.0 - (v - vmin) / max(vmax - vmin, 1e-12)) * (h - 1)))

    score = float(result.score)
    marks = [(score, "score", (255, 255, 255))]
    if result.score_threshold is not None:
        marks.append((float(result.score_threshold), "thr", (0, 255, 255)))
    names = [n for v, n, _ in marks if math.isclose(v, vmax, rel_tol=1e-6)]
    draw.text((tx, 0), " ".join([f"{vmax:.3g}", *names]), fill=(255, 255, 255))
    draw.text((tx, h - 12), f"{vmin:.3g}", fill=(255, 255, 255))
    taken = [0, h - 12]
    for value, name, colour in marks:
        if not vmin <= value <= vmax:
            continue
        y = row(value)
        draw.line([(x0 - 3, y), (x0 + bar_w + 2, y)], fill=colour, width=2)
        ty = min(max(y - 6, 0), h - 12)
        if all(abs(ty - t) >= 12 for t in taken):  # room for its label
            draw.text((tx, ty), f"{name} {value:.3g}", fill=colour)
            taken.append(ty)
    return np.asarray(canvas)


def patient_left_of(result: DetectionResult) -> str | None:
    """The scan's recorded orientation a result was made with (`Scan.patient_left`:
    "image_left" / "image_right"), None when unknown (plain images, or a result without its
    post-processing: uncalibrated or built by hand)."""
    left = getattr(getattr(result, "postprocess", None), "patient_left", None)
    return left if left in ORIENTATIONS else None


def _letter_font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # an old Pillow, or one without FreeType
        return ImageFont.load_default()


def side_marks(rgb: np.ndarray, patient_left: str | None) -> np.ndarray:
    """The (H, W, 3) uint8 image with the patient's sides lettered in its top corners, as
    radiology viewers do: "L" at the image edge that shows the patient's left and "R" at the
    other, from the scan's recorded orientation (`patient_left`: "image_left" for the
    neurological display, "image_right" for the radiological one). White letters outlined in
    black, about 1/16 of the image's shorter side; only their pixels change. An unknown
    orientation (None: plain images) or an image too small for letters: returned unchanged."""
    letters = SIDE_LETTERS.get(patient_left) if patient_left else None
    h, w = rgb.shape[:2]
    if letters is None or min(h, w) < 24:
        return rgb
    size = int(np.clip(round(min(h, w) / 16), 10, 28))
    font = _letter_font(size)
    stroke = max(1, size // 12)
    margin = max(2, size // 5)
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    draw = ImageDraw.Draw(img)
    for letter, at_right in zip(letters, (False, True), strict=True):
        left, top, right, _ = draw.textbbox((0, 0), letter, font=font, stroke_width=stroke)
        x = w - margin - right if at_right else margin - left
        draw.text(
            (x, margin - top),
            letter,
            fill=(255, 255, 255),
            font=font,
            stroke_width=stroke,
            stroke_fill=(0, 0, 0),
        )
    return np.asarray(img)


def _enlarge(arr: np.ndarray, k: int) -> np.ndarray:
    return arr if k <= 1 else np.repeat(np.repeat(arr, k, axis=0), k, axis=1)


def overlay_figure(result: DetectionResult, opacity: float = 0.5, scale: int = 1) -> np.ndarray:
    """(H, W + bar, 3) uint8: the slice in grey with the heatmap blended at `opacity` on the
    `display_range` scale, the calibrated mask outlined in cyan, the patient's sides lettered
    when the scan's orientation is known (`side_marks`) and the colour bar (`result_colorbar`)
    on the right. `scale`: each pixel enlarged to a `scale` x `scale` square first. The CLI's
    overlay.png and the app's viewer (`assistant.ui.views.overlay_image`)."""
    vmin, vmax = display_range(result)
    image, amap, mask = (
        _enlarge(a, scale) for a in (result.image, result.anomaly_map, result.mask)
    )
    rgb = overlay_rgb(image, amap, opacity, vmin, vmax, mask)
    rgb = side_marks(rgb, patient_left_of(result))
    return result_colorbar(rgb, result, vmin, vmax)


def save_outputs(result, out: str | Path, opacity: float = 0.5) -> None:
    """Write overlay.png (with colour bar), heatmap.png and pseudo_healthy.png."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # one figure with the app's: its colour scale, threshold tick and side letters
    Image.fromarray(overlay_figure(result, opacity)).save(out / "overlay.png")
    vmax = display_range(result)[1]
    Image.fromarray(heatmap_rgb(result.anomaly_map, vmax)).save(out / "heatmap.png")
    Image.fromarray(to_uint8(result.pseudo_healthy)).save(out / "pseudo_healthy.png")
