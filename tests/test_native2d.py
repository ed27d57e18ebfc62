"""Unregistered 2D slices: the calibration that includes real native-space slices
(`Detector.in_space`, `on_training_grid`, `Analyzer`, `eval.native2d`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from assistant.analysis import UNREGISTERED_NOTE, Analyzer, unregistered_calibration
from assistant.detector.detector import REGISTERED, UNREGISTERED
from assistant.detector.testing import tiny_detector
from assistant.domain.align2d import on_training_grid
from assistant.scan import Scan, load_scan

EXAMPLES = Path(__file__).resolve().parent.parent / "assistant" / "examples"


def _with_unregistered(det, factor: float = 3.0):
    """`det` with a second, stricter calibration for unregistered slices."""
    cal = det.calibration
    det.model.config.calibration[f"{det.key}+{UNREGISTERED}"] = replace(
        cal,
        pixel_threshold=cal.pixel_threshold * factor,
        score_threshold=cal.score_threshold * factor,
        data="mixed",
    )
    return det


def test_a_detector_applies_the_calibration_of_its_space():
    det = tiny_detector()
    assert det.space == REGISTERED and det.calibration_key == det.key
    # no unregistered calibration in the checkpoint: the registered one is used
    assert det.in_space(UNREGISTERED).calibration_key == det.key
    _with_unregistered(det)
    native = det.in_space(UNREGISTERED)
    assert native.calibration_key == f"{det.key}+{UNREGISTERED}"
    assert native.calibration.score_threshold == pytest.approx(3 * det.calibration.score_threshold)
    assert native.model is det.model and native.method is det.method
    assert native.with_method("thor", "fast").space == UNREGISTERED
    yy, xx = np.mgrid[:64, :64]
    img = ((yy - 32) ** 2 + (xx - 32) ** 2 < 26**2).astype(np.float32) * 0.6
    img[20:28, 20:28] = 1.0
    a, b = det.detect_array(img), native.detect_array(img)
    assert a.params["calibration"] == det.key and not unregistered_calibration(a)
    assert unregistered_calibration(b)
    assert b.score == pytest.approx(a.score, rel=1e-4, abs=1e-6)  # same map, other thresholds
    assert b.score_threshold > a.score_threshold
    with pytest.raises(ValueError, match="space"):
        det.in_space("mni")


def test_slices_on_the_training_grid_are_told_from_native_ones():
    normal = load_scan(EXAMPLES / "mni_normal.png")
    assert on_training_grid(normal)  # skull-stripped MNI slice on the grid
    assert on_training_grid(load_scan(EXAMPLES / "mni_right_hypointense.dcm").slice2d())
    px = normal.pixels
    # the same slice rotated by 12 degrees, or shifted by 15 pixels, on the same grid: not
    assert not on_training_grid(Scan(pixels=ndimage.rotate(px, 12, reshape=False), format="png"))
    assert not on_training_grid(Scan(pixels=ndimage.shift(px, (15, 0)), format="png"))
    # another grid (a 2 mm native export, a crop): not
    assert not on_training_grid(Scan(pixels=px[::2, ::2].copy(), format="png"))
    assert not on_training_grid(Scan(pixels=np.zeros(px.shape, np.float32), format="png"))


def test_the_analyzer_uses_the_unregistered_calibration_off_the_grid():
    det = _with_unregistered(tiny_detector())
    analyzer = Analyzer(detector=det, use_retrieval=False, check_domain=False)
    normal = load_scan(EXAMPLES / "mni_normal.png")
    on_grid = analyzer.analyze(normal)
    assert not unregistered_calibration(on_grid.result)
    assert UNREGISTERED_NOTE not in on_grid.scan_summary.get("notes", [])
    small = Scan(pixels=normal.pixels[::2, ::2].copy(), format="png")
    off_grid = analyzer.analyze(small)
    assert unregistered_calibration(off_grid.result)
    assert UNREGISTERED_NOTE in off_grid.scan_summary["notes"]
    d1 = next(i for i in off_grid.evidence.items if i.id == "D1")
    assert "(for unregistered 2D slices)" in d1.text


def test_native2d_thresholds_and_their_application():
    from eval.native2d import Item, apply, thresholds

    def item(peak: float, truth=None) -> Item:
        amap = np.zeros((32, 32), np.float32)
        amap[8:16, 8:16] = peak
        fg = np.ones((32, 32), bool)
        return Item("x", amap, fg, 4, 0.0, truth, 1.0, False)

    healthy = [item(p) for p in np.linspace(0.1, 1.0, 20)]
    cal = thresholds(healthy)
    assert cal["n_images"] == 20 and len(cal["healthy_scores"]) == 20
    assert cal["score_threshold"] == pytest.approx(np.quantile(np.linspace(0.1, 1.0, 20), 0.95))
    got = apply(healthy, cal)
    assert got["n"] == 20 and got["with_findings"] == pytest.approx(0.05)
    truth = np.zeros((32, 32), bool)
    truth[8:16, 8:16] = True
    got = apply([item(2.0, truth), item(0.01, truth)], cal)
    assert got["lesion_hit_rate"] == pytest.approx(0.5)


def test_the_apps_sensitivity_wrapper_keeps_the_space():
    from assistant.ui.engine import SensitiveDetector

    det = _with_unregistered(tiny_detector())
    wrapped = SensitiveDetector(det, 2.0).in_space(UNREGISTERED)
    assert wrapped.detector.space == UNREGISTERED and wrapped.sensitivity == 2.0
    assert SensitiveDetector(lambda *a: None, 1.5).in_space(UNREGISTERED).sensitivity == 1.5


def test_detect_command_uses_the_same_choice(tmp_path):
    from assistant.commands.detect import detect_checked
    from assistant.domain import check_applicability

    det = _with_unregistered(tiny_detector())
    normal = load_scan(EXAMPLES / "mni_normal.png")
    small = Scan(pixels=normal.pixels[::2, ::2].copy(), format="png")
    res, reg = detect_checked(det, small, None, check_applicability(small))
    assert reg is None and unregistered_calibration(res)
    res, _ = detect_checked(det, normal, None, check_applicability(normal))
    assert not unregistered_calibration(res)


def test_answers_about_an_unregistered_slice_say_what_its_thresholds_cost():
    from assistant.responders.grounded import GroundedResponder

    det = _with_unregistered(tiny_detector())
    analyzer = Analyzer(detector=det, use_retrieval=False, check_domain=False)
    normal = load_scan(EXAMPLES / "mni_normal.png")
    responder = GroundedResponder(disclaimer=False)
    small = analyzer.analyze(Scan(pixels=normal.pixels[::2, ::2].copy(), format="png"))
    for q in ("Is there anything abnormal?", "How sure are you?"):
        a = responder.answer(q, small.evidence, [])
        assert "not registered to the detector's training space" in a and "misses more" in a, q
    grid = analyzer.analyze(normal)
    assert "not registered" not in responder.answer("How sure are you?", grid.evidence, [])


def test_the_draft_report_says_the_slice_was_judged_as_unregistered():
    from assistant.report import draft_report

    det = _with_unregistered(tiny_detector())
    analyzer = Analyzer(detector=det, use_retrieval=False, check_domain=False)
    normal = load_scan(EXAMPLES / "mni_normal.png")
    small = analyzer.analyze(Scan(pixels=normal.pixels[::2, ::2].copy(), format="png"))
    text = " ".join(s.text for s in draft_report(small.evidence).technique)
    assert "thresholds for unregistered 2D slices" in text
    text = " ".join(s.text for s in draft_report(analyzer.analyze(normal).evidence).technique)
    assert "unregistered" not in text


def test_the_apps_score_line_says_the_slice_was_judged_as_unregistered():
    from assistant.ui.views import score_markdown

    det = _with_unregistered(tiny_detector())
    analyzer = Analyzer(detector=det, use_retrieval=False, check_domain=False)
    normal = load_scan(EXAMPLES / "mni_normal.png")
    small = analyzer.analyze(Scan(pixels=normal.pixels[::2, ::2].copy(), format="png"))
    assert UNREGISTERED_NOTE in score_markdown(small, "upload.png")
    assert UNREGISTERED_NOTE not in score_markdown(analyzer.analyze(normal), "mni_normal.png")


def test_native2d_writes_its_thresholds_as_the_unregistered_calibration(tmp_path):
    from assistant.detector.model import DiffusionModel
    from assistant.detector.testing import tiny_checkpoint
    from eval.native2d import write_checkpoint

    ck = tiny_checkpoint(tmp_path / "ck")
    cal = {"pixel_threshold": 0.1, "score_threshold": 0.4, "n_images": 3,
           "healthy_scores": [0.1, 0.2, 0.4]}  # fmt: skip
    write_checkpoint(cal, "mixed test data", str(ck))
    stored = DiffusionModel.load(ck).config.calibration["thor/fast+unregistered"]
    assert (stored.pixel_threshold, stored.score_threshold, stored.n_images) == (0.1, 0.4, 3)
    assert stored.healthy_scores == [0.1, 0.2, 0.4] and stored.data == "mixed test data"
