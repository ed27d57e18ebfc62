"""Plain images through Pillow: bit depths, colour to gray, formats detected by content."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.scan import load_scan


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def ramp(h=20, w=30, hi=255, dtype=np.uint8) -> np.ndarray:
    return (np.linspace(0, hi, h * w).reshape(h, w)).astype(dtype)


def test_png_16bit_keeps_full_range(tmp_path):
    arr = ramp(hi=65535, dtype=np.uint16)
    path = tmp_path / "x.png"
    Image.fromarray(arr).save(path)
    scan = load_scan(path)
    assert scan.format == "png"
    assert scan.pixels.dtype == np.float32 and scan.pixels.shape == (20, 30)
    np.testing.assert_array_equal(scan.pixels, arr.astype(np.float32))
    assert scan.pixels.max() == 65535.0
    assert scan.metadata["BitsStored"] == 16
    assert scan.spacing is None and scan.patient_left is None


def test_png_8bit_gray():
    arr = ramp()
    scan = load_scan(encode(Image.fromarray(arr), "PNG"))
    np.testing.assert_array_equal(scan.pixels, arr)
    assert scan.notes == []


def test_rgba_converted_to_gray_with_note():
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)
    rgba[..., 0] = 200  # red
    rgba[..., 3] = 50  # mostly transparent: alpha is ignored
    scan = load_scan(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    np.testing.assert_allclose(scan.pixels, 0.299 * 200, rtol=1e-5)
    assert any("RGBA image converted to gray" in n and "alpha" in n for n in scan.notes)


def test_rgb_with_equal_channels_says_nothing_lost():
    gray = ramp()
    rgb = np.stack([gray] * 3, axis=-1)
    scan = load_scan(encode(Image.fromarray(rgb, "RGB"), "PNG"))
    np.testing.assert_allclose(scan.pixels, gray, atol=1e-3)
    assert any("equal channels" in n for n in scan.notes)


def test_jpeg_roughly_preserved():
    arr = ramp()
    scan = load_scan(encode(Image.fromarray(arr), "JPEG", quality=95), filename="x.jpg")
    assert scan.format == "jpeg" and scan.pixels.shape == arr.shape
    assert np.abs(scan.pixels - arr).mean() < 3.0


def test_tiff_16bit_and_bmp(tmp_path):
    arr = ramp(hi=4095, dtype=np.uint16)
    scan = load_scan(encode(Image.fromarray(arr), "TIFF"))
    assert scan.format == "tiff"
    np.testing.assert_array_equal(scan.pixels, arr)
    arr8 = ramp()
    scan = load_scan(encode(Image.fromarray(arr8), "BMP"))
    assert scan.format == "bmp"
    np.testing.assert_array_equal(scan.pixels, arr8)


def test_multipage_tiff_uses_first_page():
    pages = [Image.fromarray(np.full((8, 8), v, dtype=np.uint8)) for v in (10, 20, 30)]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    scan = load_scan(buf.getvalue())
    assert float(scan.pixels.max()) == 10.0
    assert any("3 frames/pages" in n for n in scan.notes)


def test_content_beats_misleading_extension(tmp_path):
    path = tmp_path / "actually_png.jpg"
    Image.fromarray(ramp()).save(path, format="PNG")
    assert load_scan(path).format == "png"


def test_palette_png_converted():
    img = Image.fromarray(ramp()).convert("P")
    scan = load_scan(encode(img, "PNG"))
    assert scan.pixels.shape == (20, 30)
    assert any("palette" in n for n in scan.notes)


def test_constant_image_loads_with_note():
    scan = load_scan(encode(Image.fromarray(np.full((9, 9), 7, np.uint8)), "PNG"))
    assert scan.pixels.shape == (9, 9)
    assert any("constant image" in n and "7" in n for n in scan.notes)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_file_object_source(fmt):
    data = encode(Image.fromarray(ramp()), fmt)
    scan = load_scan(io.BytesIO(data))
    assert scan.pixels.shape == (20, 30)
