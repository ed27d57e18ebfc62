"""What `assistant.scan.pixels.coloured_fraction` reads on grey-scale scans saved as colour and
on coloured images (heatmap overlays, coloured marks, photographs).

    python -m eval.colour --data ../shared/data --json eval/results/colour.json

Every input goes through `load_bytes` as a user's file would (the loaders record the fraction
of coloured pixels before turning the image gray). Per class, the range (min, median, max) and
how many read above the limit (`MAX_COLOURED_FRACTION`, i.e. would be refused as coloured):
- grey-scale scans saved as colour: the val mid-axial IXI PNGs as RGB PNG and as RGB JPEG at
  quality 10, 50 and 95 (4:2:0 chroma subsampling), the first 40 chest X-rays as RGB JPEG;
- the app's own heatmap overlays (`views.overlay_image`, opacity 0.5, with its colour bar) of
  the first 10 val slices, each with one synthetic lesion, analysed by the shipped detector;
- coloured marks drawn on the val PNGs: a thin yellow circle (30 px across), a red arrow, a
  green measurement line with its label;
- colour photographs (scikit-image's, those stored in colour) and pydicom's colour DICOM files
  (secondary captures and ultrasound).
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.domain.check import MAX_COLOURED_FRACTION
from assistant.scan import LoadLimits, ScanError, load_bytes, load_scan
from assistant.scan.pixels import COLOURED_PIXELS
from eval import photo_paths, portable_path, pydicom_test_scans, write_figures

JPEG_QUALITIES = (10, 50, 95)


def summary(values: list[float | None]) -> dict:
    """Range and count over the limit of `values` (None: read as grey-scale, no fraction)."""
    read = np.array([0.0 if v is None else v for v in values], dtype=float)
    out: dict = {"n": len(values), "grey_files": sum(v is None for v in values)}
    if len(read):
        out.update(
            min=round(float(read.min()), 5),
            median=round(float(np.median(read)), 5),
            max=round(float(read.max()), 5),
            over_limit=int((read > MAX_COLOURED_FRACTION).sum()),
        )
    return out


def encoded(rgb: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    """An (H, W, 3) uint8 image as the bytes of a PNG or JPEG file."""
    from PIL import Image

    buf = io.BytesIO()
    im = Image.fromarray(np.asarray(rgb, np.uint8), "RGB")
    if fmt == "jpeg":
        im.save(buf, "JPEG", quality=quality, subsampling=2)
    else:
        im.save(buf, "PNG")
    return buf.getvalue()


def read(data: bytes, name: str) -> float | None:
    """The fraction of coloured pixels the loader records for the file `data`."""
    return load_bytes(data, name, LoadLimits()).metadata.get(COLOURED_PIXELS)


def grey_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def marked(path: Path, draw: Callable) -> np.ndarray:
    """The 8-bit PNG at `path` as RGB with `draw(ImageDraw, width, height)` drawn on it."""
    from PIL import Image, ImageDraw

    im = Image.open(path).convert("RGB")
    draw(ImageDraw.Draw(im), im.width, im.height)
    return np.asarray(im)


def yellow_circle(d, w, h):
    d.ellipse((w // 2 - 15, h // 2 - 15, w // 2 + 15, h // 2 + 15), outline=(255, 255, 0))


def red_arrow(d, w, h):
    x, y = w // 2, h // 2
    d.line((x - 30, y - 30, x, y), fill=(255, 0, 0), width=2)
    d.polygon([(x, y), (x - 8, y - 2), (x - 2, y - 8)], fill=(255, 0, 0))


def green_measurement(d, w, h):
    d.line((w // 3, h // 2, 2 * w // 3, h // 2), fill=(0, 255, 0), width=1)
    d.text((w // 3, h // 2 + 4), "23.4 mm", fill=(0, 255, 0))


MARKS = {
    "yellow_circle": yellow_circle,
    "red_arrow": red_arrow,
    "green_measurement": green_measurement,
}


def overlays(data: Path, n: int) -> list[np.ndarray]:
    """The app's heatmap overlays of the first `n` val slices with one synthetic lesion each."""
    from assistant.detector import Detector
    from assistant.domain.fitsets import lesion_images
    from assistant.ui import views

    detector = Detector.from_pretrained(None)
    out = []
    for img, _, _ in lesion_images(data / "ixi-t1-midaxial", "val", per_image=1):
        out.append(views.overlay_image(detector.detect_array(img), 0.5))
        if len(out) == n:
            break
    return out


def colour_dicoms() -> list[float | None]:
    """The fractions of pydicom's test files that load and are stored in colour."""
    return [
        scan.metadata[COLOURED_PIXELS]
        for _, scan in pydicom_test_scans()
        if COLOURED_PIXELS in scan.metadata
    ]


def evaluate(data: Path, n_overlays: int = 10) -> dict:
    val = sorted((data / "ixi-t1-midaxial" / "val").glob("*.png"))
    cxr = sorted((data / "ood" / "cxr-kermany").glob("*.png"))[:40]
    classes = {"val_rgb_png": summary([read(encoded(grey_rgb(p), "png"), p.name) for p in val])}
    for q in JPEG_QUALITIES:
        classes[f"val_rgb_jpeg_q{q}"] = summary(
            [read(encoded(grey_rgb(p), "jpeg", q), "a.jpg") for p in val]
        )
    classes["chest_xray_40_rgb_jpeg_q50"] = summary(
        [read(encoded(grey_rgb(p), "jpeg", 50), "a.jpg") for p in cxr]
    )
    classes["app_overlays_val_10"] = summary(
        [read(encoded(o, "png"), "overlay.png") for o in overlays(data, n_overlays)]
    )
    for name, draw in MARKS.items():
        classes[f"val_{name}"] = summary(
            [read(encoded(marked(p, draw), "png"), p.name) for p in val]
        )
    photos = []
    for path in photo_paths():
        try:
            scan = load_scan(path)
        except ScanError:
            continue
        if scan.metadata.get("Mode") not in ("L", "I", "I;16", "1", "F", "LA"):
            photos.append(scan.metadata.get(COLOURED_PIXELS))
    classes["colour_photographs"] = summary(photos)
    classes["pydicom_colour_files"] = summary(colour_dicoms())
    return {"limit": MAX_COLOURED_FRACTION, "classes": classes, "data": portable_path(data)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--overlays", type=int, default=10, help="heatmap overlays to render")
    args = p.parse_args(argv)
    write_figures(args.json, evaluate(args.data, args.overlays))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
