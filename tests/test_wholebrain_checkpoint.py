"""The packaged whole-brain checkpoint (opt-in, `--detector`): level-aware, calibrated per band
of MNI levels, and not the default."""

from pathlib import Path

import pytest

from assistant.detector import Detector
from assistant.detector.levels import LEVEL_BANDS

WHOLE_BRAIN = (
    Path(__file__).resolve().parent.parent / "assistant" / "weights" / ("ixi-t1-wholebrain-128")
)


@pytest.fixture(scope="module")
def whole_brain():
    return Detector.from_pretrained(WHOLE_BRAIN)


def test_the_whole_brain_checkpoint_is_level_aware_with_a_threshold_per_band(whole_brain):
    assert whole_brain.level_aware
    assert whole_brain.key == "thor/faster-x2"
    cal = whole_brain.calibration
    # mid-axial thresholds (a 2D upload has no level) and one pair per band of levels
    assert 0 < cal.pixel_threshold < 1 and 0 < cal.score_threshold < 1
    assert len(cal.bands) == len(LEVEL_BANDS)
    assert [(b["lo_mm"], b["hi_mm"]) for b in cal.bands] == [(lo, hi) for lo, hi in LEVEL_BANDS]
    for band in cal.bands:
        assert 0 < band["pixel_threshold"] < 1 and 0 < band["score_threshold"] < 1
    assert (WHOLE_BRAIN / "MODEL_CARD.md").is_file()


def test_the_default_detector_stays_the_level_unaware_mid_axial_one():
    assert not Detector.from_pretrained().level_aware


def test_its_faster_preset_has_its_own_thresholds_per_band(whole_brain):
    """`--preset faster` (7 UNet calls, a quicker first look) is calibrated the same way, with
    thresholds of its own: fewer samples make noisier maps."""
    faster = Detector.from_pretrained(WHOLE_BRAIN, preset="faster")
    assert faster.key == "thor/faster" and faster.level_aware
    cal, default = faster.calibration, whole_brain.calibration
    assert len(cal.bands) == len(LEVEL_BANDS)
    assert cal.pixel_threshold != pytest.approx(default.pixel_threshold, rel=0.05)
    for band, other in zip(cal.bands, default.bands, strict=True):
        assert (band["lo_mm"], band["hi_mm"]) == (other["lo_mm"], other["hi_mm"])
        assert 0 < band["pixel_threshold"] < 1 and 0 < band["score_threshold"] < 1
    assert cal.for_level(30.0).score_threshold == pytest.approx(
        next(b["score_threshold"] for b in cal.bands if b["lo_mm"] <= 30 <= b["hi_mm"])
    )


def test_its_findings_have_a_fitted_confidence_per_band_and_at_the_mid_axial_level(whole_brain):
    """Each band of levels, and the mid-axial thresholds (a 2D upload), carry a confidence map
    fitted on val (`python -m eval.band_confidence fit`, `python -m eval.confidence --model`):
    a slice at any level, and so a 3D finding, gets a probability, not "uncalibrated"; the
    committed figures were measured on holdout and beat the old fallback."""
    import json

    from assistant.detector.postprocess import ConfidenceMap

    cal = whole_brain.calibration
    root = WHOLE_BRAIN.parent.parent.parent
    figures = json.loads((root / "eval/results/band_confidence_wholebrain.json").read_text())
    for band, fig in zip(cal.bands, figures["bands"], strict=True):
        cmap = ConfidenceMap.from_dict(band["confidence"])
        assert cmap is not None and band["confidence"] == fig["fitted"]
        assert "val" in json.dumps(cmap.info["data"]) and "holdout" not in json.dumps(cmap.info)
        thr = band["score_threshold"]
        probs = [cmap.probability(thr * r) for r in (0.5, 1.0, 2.0, 4.0)]
        assert probs == sorted(probs) and 0 < probs[0] < probs[-1] < 1
        at = cal.for_level(0.5 * (band["lo_mm"] + band["hi_mm"]))
        assert at.confidence == band["confidence"]
    mid = ConfidenceMap.from_dict(cal.confidence)
    assert mid is not None and "midaxial/val" in json.dumps(mid.info["data"])
    pooled = figures["pooled_test"]["all_regions"]
    assert pooled["new"]["ece"] < pooled["old"]["ece"] and pooled["new"]["brier"] < 0.1
    assert pooled["new"]["ece"] == pytest.approx(0.069, abs=0.01)
