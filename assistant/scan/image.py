"""Plain images (PNG 8/16-bit, JPEG, TIFF, BMP) read with Pillow.

Orientation and spacing are unknown for these (`patient_left=None`, `spacing=None`): a DPI
value says nothing about the patient. Colour images become gray (ITU-R BT.601 luma) with a
note. Text chunks and EXIF data are never copied into the metadata, and text burned into the
pixels outside the head (a screenshot's annotations) is blanked out with a note
(`assistant.scan.overlay`).
"""

from __future__ import annotations

import io
import logging
import warnings

import numpy as np

from assistant.scan.overlay import BURNED_IN_TEXT, blank_marks, find_burned_text
from assistant.scan.pixels import COLOURED_PIXELS, coloured_fraction, rgb_to_gray
from assistant.scan.types import ACCEPTED, LoadLimits, Scan, ScanError

logger = logging.getLogger(__name__)

_GRAY_MODES = {"L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
_COLOR_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV"}
_BITS = {"1": 1, "L": 8, "P": 8, "I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": 32}


def load_image_bytes(data: bytes, kind: str, limits: LoadLimits) -> Scan:
    """Decode a PNG/JPEG/TIFF/BMP file held in `data` (format `kind` from its magic bytes)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    label = kind.upper()
    notes: list[str] = []
    with warnings.catch_warnings():
        # our own LoadLimits decide; Pillow's hard DecompressionBombError is still caught below
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise ScanError(
                f"the {label} header claims an image too large to decode safely "
                f"(decompression bomb guard: {exc})"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ScanError(
                f"the {label} file is corrupt or truncated, or not really a {label}; {ACCEPTED}"
            ) from None
        width, height = im.size
        limits.check_shape((height, width), label)  # before any pixel is decoded
        n_frames = int(getattr(im, "n_frames", 1) or 1)
        if n_frames > 1:
            notes.append(f"the {label} holds {n_frames} frames/pages; the first is used")
        try:
            im.load()
            if im.getexif().get(0x0112, 1) not in (1, None):  # EXIF Orientation tag
                im = ImageOps.exif_transpose(im)
                notes.append("rotated/flipped according to the EXIF orientation tag")
        except Image.DecompressionBombError:
            raise ScanError(f"the {label} image is too large to decode safely") from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ScanError(
                f"the {label} file is truncated or corrupt: its pixel data could not be "
                f"decoded; {ACCEPTED}"
            ) from None
    mode = im.mode
    colour: list[float] = []
    pixels = _to_gray(im, notes, colour)
    text = find_burned_text(pixels)
    if text is not None:  # a screenshot's annotations: never read, shown or sent anywhere
        pixels = blank_marks(pixels, text)
        notes.append(text.note())
    metadata: dict[str, str | int | float] = {
        "Format": label,
        "Mode": mode,
        "Rows": int(pixels.shape[0]),
        "Columns": int(pixels.shape[1]),
    }
    if colour:  # read before the conversion to gray: the domain check refuses coloured marks
        metadata[COLOURED_PIXELS] = round(colour[0], 5)
    if text is not None:
        metadata[BURNED_IN_TEXT] = text.glyphs
    if mode in _BITS:
        metadata["BitsStored"] = _BITS[mode]
    logger.debug("decoded %s image, mode %s, %dx%d", label, mode, width, height)
    return Scan(pixels=pixels, format=kind, notes=notes, metadata=metadata)


def _to_gray(im, notes: list[str], colour: list[float]) -> np.ndarray:
    """A Pillow image -> (H, W) float32 in its native value range (0..255, 0..65535, ...);
    a colour or palette image's `coloured_fraction` is appended to `colour`."""
    mode = im.mode
    if mode in _GRAY_MODES:
        return np.asarray(im).astype(np.float32)
    if mode == "1":
        return np.asarray(im.convert("L")).astype(np.float32)
    if mode in ("LA", "La", "PA"):
        if mode == "PA":
            rgb = np.asarray(im.convert("RGBA"))
            colour.append(coloured_fraction(rgb))
            notes.append("palette image (PA) converted to gray; alpha channel ignored")
            return rgb_to_gray(rgb)
        notes.append(f"{mode} image: alpha channel ignored")
        return np.asarray(im)[..., 0].astype(np.float32)
    if mode == "P":
        rgb = np.asarray(im.convert("RGB"))
        colour.append(coloured_fraction(rgb))
        notes.append("palette image converted to gray (BT.601 luma)")
        return rgb_to_gray(rgb)
    if mode in _COLOR_MODES:
        alpha = mode in ("RGBA", "RGBa")
        rgb = np.asarray(im.convert("RGBA" if alpha else "RGB"))
        same = np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
        colour.append(0.0 if same else coloured_fraction(rgb))
        detail = "equal channels, nothing lost" if same else "BT.601 luma"
        notes.append(
            f"{mode} image converted to gray ({detail}"
            + ("; alpha channel ignored)" if alpha else ")")
        )
        return rgb_to_gray(rgb)
    raise ScanError(
        f"images in Pillow mode {mode!r} are not supported; save it as 8/16-bit gray or RGB "
        f"PNG; {ACCEPTED}"
    )
