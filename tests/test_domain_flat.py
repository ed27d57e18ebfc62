"""Label maps, segmentations and masks uploaded instead of a scan (`assistant.domain.flat`)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.domain import check_applicability, load_domain_model
from assistant.domain.align2d import template_slice
from assistant.domain.flat import MAX_FLAT_FRACTION, flat_fraction
from assistant.scan import Scan


def _label_map(img: np.ndarray, n: int = 6) -> np.ndarray:
    """`img` cut into `n` intensity classes (0..n-1): a label map of its tissues."""
    edges = np.quantile(img[img > img.min()], np.linspace(0, 1, n)[1:-1])
    return np.digitize(img, edges).astype(np.float32) * (img > img.min())


def test_scans_read_as_scans_and_label_maps_and_masks_as_flat():
    """The template slice (float and as an 8-bit PNG would hold it), the same enlarged
    without interpolation, and a small copy enlarged x32 with interpolation read far under the
    limit; its label map and brain mask far over;
    too few pixels give no verdict."""
    from PIL import Image

    img = template_slice()
    as_png = np.round(np.clip(img, 0, 1) * 255)
    # a screenshot of a zoomed viewer: a quarter-size image enlarged x32, smoothly, in 8 bits
    small = Image.fromarray(as_png.astype(np.uint8)).resize((58, 49), Image.BILINEAR)
    zoomed = np.asarray(small.resize((58 * 32, 49 * 32), Image.BILINEAR), np.float32)
    for scan in (img, as_png, np.repeat(np.repeat(as_png, 4, axis=0), 4, axis=1), zoomed):
        assert flat_fraction(scan) < 0.3 < MAX_FLAT_FRACTION
    labels = _label_map(img)
    assert flat_fraction(labels) > 0.7
    assert flat_fraction(np.repeat(np.repeat(labels, 3, axis=0), 3, axis=1)) > 0.7
    assert flat_fraction((img > 0.2).astype(np.float32)) == pytest.approx(1.0)
    assert flat_fraction(np.zeros((64, 64))) is None
    assert flat_fraction(np.arange(16.0).reshape(4, 4)) is None


def test_a_label_map_volume_is_refused_as_one_without_being_registered():
    """A label map volume (the head template cut into tissue classes) is refused as a label
    map at once (no registration, no image check); the template itself is read as a scan."""
    t = load_domain_model().head_template
    vol = np.asarray(t["volume"], np.float32)
    head = Scan(pixels=vol, spacing=(2.0, 2.0, 2.0), format="nifti", patient_left="image_left")
    labels = Scan(
        pixels=_label_map(vol), spacing=(2.0, 2.0, 2.0), format="nifti", patient_left="image_left"
    )
    verdict = check_applicability(labels)
    assert not verdict.in_domain and verdict.checks["flat"]["label_map"] is True
    assert len(verdict.reasons) == 1 and "label map, segmentation or mask" in verdict.reasons[0]
    assert "registration" not in verdict.checks and verdict.registered is None
    assert check_applicability(head).checks["flat"]["fraction"] < 0.3


def test_a_label_map_slice_gets_its_own_reason_in_the_answer():
    """Asked about a 2D label map, the assistant says what it is and asks for the image."""
    from assistant.chat import Assistant
    from assistant.detector.testing import tiny_detector
    from assistant.responders.grounded import GroundedResponder

    bot = Assistant(detector=tiny_detector(), responder=GroundedResponder(), use_retrieval=False)
    state = bot.analyze(Scan(pixels=_label_map(template_slice()) * 40.0, format="png"))
    assert not state.applicability.in_domain
    answer = bot.answer(state, "Is there a tumour?")
    assert answer.text.startswith("I can't tell") and "label map" in answer.text
    assert "Upload the T1-weighted image itself" in answer.text
    assert "does not look like" not in answer.text  # not also read as an atypical slice


def test_eval_flat_summarises_the_reads_and_zooms_like_a_viewer(tmp_path):
    """`eval.flat`: the range and the count over the limit (no verdicts apart), and a zoomed
    screenshot of an 8-bit slice that still reads as a scan."""
    from PIL import Image

    from eval.flat import summary, zoomed

    out = summary([0.1, None, 0.7, 0.2])
    assert out == {"n": 4, "no_verdict": 1, "min": 0.1, "median": 0.2, "max": 0.7, "over_limit": 1}
    path = tmp_path / "slice.png"
    Image.fromarray((np.clip(template_slice(), 0, 1) * 255).astype(np.uint8)).save(path)
    big = zoomed(path, 4, 16)
    assert big.shape == (233 // 4 * 16, 197 // 4 * 16)
    assert flat_fraction(big) < 0.3
