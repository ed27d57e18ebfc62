"""Coloured images (heatmap overlays, annotated screenshots, photographs) uploaded as scans:
the loaders read how much of the image is coloured before turning it gray, and the check
refuses it with its own reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import pydicom_file
from PIL import Image, ImageDraw

from assistant.domain import check_applicability
from assistant.domain.align2d import template_slice
from assistant.domain.check import MAX_COLOURED_FRACTION
from assistant.scan import LoadLimits, load_bytes, load_scan
from assistant.scan.pixels import COLOURED_PIXELS, coloured_fraction


def _slice_rgb() -> np.ndarray:
    """The template slice at the trained level as an 8-bit RGB image (grey content)."""
    gray = (np.clip(template_slice(), 0, 1) * 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def _file(rgb: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **kw)
    return buf.getvalue()


def _circled(rgb: np.ndarray) -> np.ndarray:
    im = Image.fromarray(rgb)
    h, w = rgb.shape[:2]
    ImageDraw.Draw(im).ellipse(
        (w // 2 - 15, h // 2 - 15, w // 2 + 15, h // 2 + 15), outline=(255, 255, 0)
    )
    return np.asarray(im)


def test_coloured_fraction_counts_coloured_pixels_only():
    rgb = _slice_rgb()
    assert coloured_fraction(rgb) == 0.0
    marked = rgb.copy()
    marked[10:20, 10:30] = (255, 0, 0)  # 200 red pixels
    assert coloured_fraction(marked) == pytest.approx(200 / (rgb.shape[0] * rgb.shape[1]))
    cast = np.clip(rgb.astype(int) + [12, 0, -12], 0, 255).astype(np.uint8)
    assert coloured_fraction(cast) == 0.0  # a slight colour cast is not colour (24 < 32 of 255)
    assert coloured_fraction(marked.astype(np.uint16) * 257) == coloured_fraction(marked)
    assert coloured_fraction(marked.astype(np.uint16)) == coloured_fraction(marked)  # 8-bit LUT
    assert coloured_fraction(marked / 255.0) == coloured_fraction(marked)
    assert coloured_fraction(np.zeros((0, 0, 3), np.uint8)) == 0.0


def test_the_loaders_record_colour_before_turning_the_image_gray():
    """A grey slice saved as RGB PNG or JPEG (even at quality 10) reads 0; a palette image
    with a coloured mark, and a colour DICOM secondary capture, read their coloured share; a
    grey PNG records nothing."""
    rgb = _slice_rgb()
    limits = LoadLimits()
    for data in (_file(rgb), _file(rgb, "JPEG", quality=10), _file(rgb, "JPEG", quality=95)):
        assert load_bytes(data, "a", limits).metadata[COLOURED_PIXELS] == 0.0
    palette = Image.fromarray(_circled(rgb)).convert("P", palette=Image.ADAPTIVE)
    buf = io.BytesIO()
    palette.save(buf, "PNG")
    scan = load_bytes(buf.getvalue(), "p.png", limits)
    assert scan.metadata[COLOURED_PIXELS] > MAX_COLOURED_FRACTION
    assert COLOURED_PIXELS not in load_bytes(_file(rgb[..., 0]), "g.png", limits).metadata
    sc = load_scan(pydicom_file("SC_rgb_rle.dcm"))
    assert sc.metadata[COLOURED_PIXELS] > 0.5 and sc.pixels.ndim == 2


def test_a_coloured_mark_refuses_the_slice_with_its_own_reason():
    """The same slice is accepted saved as RGB JPEG and refused with a yellow circle drawn on
    it: the reason says it is in colour and asks for the plain scan; nothing else is read."""
    rgb = _slice_rgb()
    limits = LoadLimits()
    plain = check_applicability(load_bytes(_file(rgb, "JPEG", quality=50), "a.jpg", limits))
    assert plain.in_domain, plain.reasons
    assert plain.checks["colour"] == {
        "fraction": 0.0,
        "limit": MAX_COLOURED_FRACTION,
        "coloured": False,
    }
    verdict = check_applicability(load_bytes(_file(_circled(rgb)), "marked.png", limits))
    assert not verdict.in_domain and verdict.checks["colour"]["coloured"] is True
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0].startswith("The image is in colour (0.")
    assert "Upload the plain grey-scale scan" in verdict.reasons[0]
    assert "image" not in verdict.checks and "flat" not in verdict.checks
    gray = check_applicability(load_bytes(_file(rgb[..., 0]), "g.png", limits))
    assert "colour" not in gray.checks


def test_the_assistant_says_a_heatmap_overlay_is_not_a_scan():
    """Uploading the app's own heatmap overlay back: "I can't tell", it is in colour."""
    from assistant.chat import Assistant
    from assistant.detector.testing import tiny_detector
    from assistant.responders.grounded import GroundedResponder

    rgb = _slice_rgb()
    overlay = rgb.copy()
    overlay[100:130, 60:90] = (255, 80, 0)  # a hot spot blended in
    overlay[:, -12:] = np.linspace([0, 0, 255], [255, 0, 0], rgb.shape[0]).astype(np.uint8)[
        :, None
    ]  # a colour bar
    scan = load_bytes(_file(overlay), "overlay.png", LoadLimits())
    bot = Assistant(detector=tiny_detector(), responder=GroundedResponder(), use_retrieval=False)
    state = bot.analyze(scan)
    assert not state.applicability.in_domain and state.result is None
    answer = bot.answer(state, "Is there a lesion?")
    assert answer.text.startswith("I can't tell") and "in colour" in answer.text


def test_eval_colour_summarises_the_reads(tmp_path):
    from eval.colour import MARKS, encoded, marked, read, summary

    out = summary([0.0, None, 0.01])
    assert out == {
        "n": 3,
        "grey_files": 1,
        "min": 0.0,
        "median": 0.0,
        "max": 0.01,
        "over_limit": 1,
    }
    path = tmp_path / "slice.png"
    Image.fromarray(_slice_rgb()[..., 0]).save(path)
    for draw in MARKS.values():
        assert read(encoded(marked(path, draw), "png"), "m.png") > MAX_COLOURED_FRACTION
