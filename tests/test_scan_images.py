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


# ----------------------------------------------------------------------------- user spacing
def test_user_spacing_is_set_on_an_image_without_one():
    from assistant.scan import USER_SPACING, size_basis, with_spacing

    scan = load_scan(encode(Image.fromarray(ramp()), "PNG"))
    assert scan.spacing is None and with_spacing(scan, None) is scan
    square = with_spacing(scan, 0.5)
    assert square.spacing == (0.5, 0.5) and scan.spacing is None  # a copy; the scan is kept
    assert square.notes[-1] == f"{USER_SPACING}: 0.5 × 0.5 mm (the file carries none)"
    assert square.pixels is scan.pixels
    rect = with_spacing(scan, "0.8,1.2")
    assert rect.spacing == (0.8, 1.2)
    basis = size_basis(rect.summary())
    assert basis["unit"] == "mm²" and basis["spacing_source"] == "user"
    assert basis["spacing_mm"] == [0.8, 1.2] and "given by the user" in basis["note"]
    none = size_basis(scan.summary())
    assert none["unit"] == "px" and none["spacing_source"] is None
    assert none["image_shape"] == [20, 30]
    assert none["note"].startswith("sizes in pixels of the original 20 × 30 image")
    assert "depend on its resolution" in none["note"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "not a number"),
        ("0", "out of range"),
        ("-1", "out of range"),
        ("1e6", "out of range"),
        ("nan", "out of range"),
        ("1,2,3,4", "has 4 values"),
        ("1,1,1", "3 values but the scan is a 2D image"),
    ],
)
def test_bad_user_spacing_is_a_clear_error(value, message):
    from assistant.scan import ScanError, with_spacing

    scan = load_scan(encode(Image.fromarray(ramp()), "PNG"))
    with pytest.raises(ScanError, match=message) as err:
        with_spacing(scan, value)
    assert "accepted: one value in mm" in str(err.value)  # what is accepted


def test_user_spacing_never_replaces_the_scans_own():
    """A scan with its own spacing keeps it: an equal value changes nothing, a different one is
    refused (the CLI) or ignored with a note (the app's setting, keep_own=True)."""
    from assistant.scan import Scan, ScanError, with_spacing

    scan = Scan(pixels=np.zeros((8, 8), np.float32), spacing=(0.9, 0.9), format="dicom")
    assert with_spacing(scan, 0.9) is scan and with_spacing(scan, "0.9,0.9") is scan
    with pytest.raises(ScanError, match=r"carries its own pixel spacing \(0.9 × 0.9 mm\)"):
        with_spacing(scan, 0.5)
    kept = with_spacing(scan, 0.5, keep_own=True)
    assert kept.spacing == (0.9, 0.9) and "applies only to images without one" in kept.notes[-1]

    volume = Scan(pixels=np.zeros((4, 8, 8), np.float32), format="dicom")  # no spacing at all
    with pytest.raises(ScanError, match="SLICE,ROW,COL"):
        with_spacing(volume, 0.5)
    assert with_spacing(volume, 0.5, keep_own=True).spacing is None
    full = with_spacing(volume, "3,0.5,0.5")
    assert full.spacing == (3.0, 0.5, 0.5) and full.slice2d(1).spacing == (0.5, 0.5)
