"""What an overlay figure says on its own (trial cli1 rows 10 and 11): the colour bar marks the
calibrated threshold and a map below it is not painted like a lesion (the CLI's overlay.png as
the app's viewer), and the patient's sides are lettered when the scan's orientation is known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from assistant.detector.postprocess import PostProcess
from assistant.detector.result import DetectionResult
from assistant.render import overlay_rgb, save_outputs
from assistant.ui import views

H, W = 96, 96
PIXEL_THR, SCORE_THR = 0.0228, 0.225  # the shipped checkpoint's calibration (trial row 10)
PEAK = (slice(40, 52), slice(30, 42))  # the map's strongest square, left of the midline


def result(
    peak: float, patient_left: str | None = "image_left", image: float = 0.5
) -> DetectionResult:
    """A 96x96 "brain" (a grey disc; `image`: its grey) whose map is 0.005 everywhere inside
    and `peak` in one square; the shipped thresholds; `patient_left` as the scan recorded it."""
    yy, xx = np.mgrid[0:H, 0:W]
    brain = (yy - H / 2) ** 2 + (xx - W / 2) ** 2 < (0.42 * H) ** 2
    img = np.where(brain, image, 0.0).astype(np.float32)
    amap = np.where(brain, 0.005, 0.0).astype(np.float32)
    amap[PEAK] = peak
    return DetectionResult(
        anomaly_map=amap,
        pseudo_healthy=img,
        image=img,
        foreground=brain,
        mask=amap > SCORE_THR,
        score=float(amap.max()),
        score_threshold=SCORE_THR,
        pixel_threshold=PIXEL_THR,
        side_frame="patient" if patient_left else "image",
        postprocess=PostProcess(
            pixel_threshold=PIXEL_THR, seed_threshold=SCORE_THR, patient_left=patient_left
        ),
    )


def cli_overlay(r: DetectionResult, tmp_path) -> np.ndarray:
    save_outputs(r, tmp_path)
    return np.asarray(Image.open(tmp_path / "overlay.png").convert("RGB"))


def is_cyan(px: np.ndarray) -> np.ndarray:
    return (np.abs(px.astype(int) - [0, 255, 255]).sum(-1) < 10).any()


def bar_row(value: float, vmin: float, vmax: float, h: int = H) -> int:
    return int(round((1 - (value - vmin) / (vmax - vmin)) * (h - 1)))


# ----------------------------------------------------------------------------- colour scale
def test_cli_colour_bar_marks_the_threshold_at_its_height(tmp_path):
    """A lesion (score 0.62): the bar runs from half the pixel threshold to the score, with a
    cyan tick at the image threshold, as in the app."""
    r = result(0.62)
    ov = cli_overlay(r, tmp_path)
    assert ov.shape[0] == H
    x0, bar_w = W + 4, 12
    row = bar_row(SCORE_THR, PIXEL_THR / 2, 0.62)
    assert is_cyan(ov[row, x0 : x0 + bar_w])
    assert not is_cyan(ov[row - 5, x0 : x0 + bar_w]) and not is_cyan(ov[row + 5, x0 : x0 + bar_w])
    np.testing.assert_array_equal(ov, views.overlay_image(r, 0.5))  # one figure with the app's


@pytest.mark.parametrize("make", ["cli", "app"])
def test_a_map_far_below_the_threshold_is_not_painted_like_a_lesion(make, tmp_path):
    """A healthy scan's weak noise (max 0.048, threshold 0.225) is barely tinted, while a
    lesion (0.62) is painted in the top colour; the healthy bar still shows the threshold."""

    def draw(r, name):
        return cli_overlay(r, tmp_path / name) if make == "cli" else views.overlay_image(r, 0.5)

    healthy, lesion = draw(result(0.048), "healthy"), draw(result(0.62), "lesion")
    r0, c0 = PEAK[0].start + 6, PEAK[1].start + 6
    grey = np.array([128, 128, 128])  # the disc, 0.5
    assert np.abs(healthy[r0, c0].astype(int) - grey).max() < 20
    assert int(lesion[r0, c0, 0]) - int(lesion[r0, c0, 2]) > 40  # yellow over grey
    assert views.display_range(result(0.048)) == pytest.approx((PIXEL_THR / 2, SCORE_THR))
    assert views.display_range(result(0.62)) == pytest.approx((PIXEL_THR / 2, 0.62))
    # the threshold is the healthy bar's top: its tick at the first rows
    assert is_cyan(healthy[0:2, W + 4 : W + 16].reshape(-1, 3))
    if make == "cli":
        heat = np.asarray(Image.open(tmp_path / "healthy" / "heatmap.png").convert("RGB"))
        assert heat[r0, c0].astype(int).sum() < 250  # dark, not the top colour


# ----------------------------------------------------------------------------- side letters
def letters_in(ov: np.ndarray, w: int = W, h: int = H) -> tuple[str | None, str | None]:
    """The letter drawn in the image's top-left and top-right corners (white on a black
    background): "L" (nothing in the top right quarter of its box), "R" (its bowl there) or
    None (nothing white)."""

    def letter(corner: np.ndarray) -> str | None:
        white = corner.min(axis=-1) > 200
        if not white.any():
            return None
        rows, cols = np.nonzero(white)
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
        top_right = white[r0 : r0 + (r1 - r0) // 2, c0 + (c1 - c0) // 2 + 1 : c1 + 1]
        return "R" if top_right.any() else "L"

    ch, cw = h // 4, w // 4
    return letter(ov[:ch, :cw]), letter(ov[:ch, w - cw : w])


def test_letters_follow_the_recorded_orientation(tmp_path):
    """Neurological display ("image_left": a volume, a DICOM series): L on the image left;
    radiological ("image_right": a single DICOM image as stored): R on the image left. Only
    the corners change: the rest of the overlay is the plain blend."""
    r = result(0.62)
    plain = overlay_rgb(r.image, r.anomaly_map, 0.5, PIXEL_THR / 2, 0.62, r.mask)
    for patient_left, expected in (("image_left", ("L", "R")), ("image_right", ("R", "L"))):
        r = result(0.62, patient_left)
        for ov in (cli_overlay(r, tmp_path), views.overlay_image(r, 0.5)):
            assert letters_in(ov) == expected
            changed = np.nonzero((ov[:, :W] != plain).any(axis=-1))
            assert changed[0].max() < H // 4  # the top corners only
            assert ((changed[1] < W // 4) | (changed[1] >= W - W // 4)).all()
        big = views.overlay_image(r, 0.5, side=views.DISPLAY_SIDE)  # shown enlarged
        assert letters_in(big, 4 * W, 4 * H) == expected
        orig, pseudo = views.comparison(r, side=views.DISPLAY_SIDE)
        assert letters_in(orig, 4 * W, 4 * H) == letters_in(pseudo, 4 * W, 4 * H) == expected


def test_no_letters_when_the_orientation_is_unknown(tmp_path):
    """A plain image (PNG: no recorded orientation) gets no L/R letters: the image part of the
    overlay is the plain blend, unchanged."""
    r = result(0.62, patient_left=None)
    plain = overlay_rgb(r.image, r.anomaly_map, 0.5, PIXEL_THR / 2, 0.62, r.mask)
    for ov in (cli_overlay(r, tmp_path), views.overlay_image(r, 0.5)):
        np.testing.assert_array_equal(ov[:, :W], plain)
        assert letters_in(ov) == (None, None)
    orig, _ = views.comparison(r)
    np.testing.assert_array_equal(orig, views.grey_rgb(r.image))


def test_letters_are_readable_on_a_bright_image():
    """Outlined in black: the letters stand out even where the corners are white."""
    r = result(0.62, "image_left", image=1.0)
    r.image[:] = 1.0  # a white image up to the corners
    ov = views.overlay_image(r, 0.5)
    corner = ov[: H // 4, : W // 4]
    assert (corner.max(axis=-1) < 60).any()  # the dark outline
