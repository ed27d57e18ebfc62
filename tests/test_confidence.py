"""The findings' confidence: the fitted probability of a true lesion, its words, the shipped map."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assistant.detector.calibrate import (
    choose_confidence,
    fit_confidence,
    isotonic,
    logistic,
    reliability,
)
from assistant.detector.model import DEFAULT_CHECKPOINT, DetectorConfig
from assistant.detector.postprocess import ConfidenceMap, PostProcess, extract_findings
from assistant.detector.testing import tiny_detector
from assistant.findings import (
    CONFIDENCE_DEFINITION,
    NEAR_THRESHOLD,
    confidence_band,
    confidence_level,
    confidence_level_of,
    confidence_meaning,
)


def _synthetic_regions(n: int = 4000, seed: int = 0):
    """Region peaks with a known probability of a true lesion, p = sigmoid(a + b ln peak), and
    their 0/1 labels drawn from it."""
    rng = np.random.default_rng(seed)
    peak = np.exp(rng.uniform(np.log(0.02), np.log(1.0), n))
    a, b = 2.0 + 4.0 * np.log(1 / 0.2), 4.0
    p = 1 / (1 + np.exp(-(a + b * np.log(peak))))
    return peak, rng.random(n) < p, p, (a, b)


# ----------------------------------------------------------------------------- the fits
def test_logistic_recovers_known_coefficients():
    peak, y, _, (a, b) = _synthetic_regions()
    coef = logistic(np.log(peak)[:, None], y)
    assert coef[0] == pytest.approx(a, abs=0.6) and coef[1] == pytest.approx(b, abs=0.4)


def test_isotonic_is_pava():
    x = np.array([1.0, 2, 3, 4, 5, 6])
    y = np.array([0, 1, 0, 0, 1, 1])
    xs, ps = isotonic(x, y, shrink=0.0)
    # pools (2, 3, 4) into 1/3: the knots hold each block's ends
    assert list(xs) == [1, 2, 4, 5, 6]
    assert ps == pytest.approx([0, 1 / 3, 1 / 3, 1, 1])
    sk = pytest.importorskip("sklearn.isotonic")
    ref = sk.IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.linspace(0, 7, 71)
    assert np.interp(grid, xs, ps) == pytest.approx(ref.predict(grid))


def test_isotonic_shrinks_towards_the_base_rate_and_stays_monotone():
    peak, y, _, _ = _synthetic_regions(600, seed=1)
    xs, ps = isotonic(peak, y)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ps) >= 0)
    assert 0 < ps[0] and ps[-1] < 1  # a finite sample never says 0 or 1


@pytest.mark.parametrize("kind", ["isotonic", "logistic", "logistic-area"])
def test_fitted_maps_are_calibrated_and_monotone(kind):
    peak, y, p_true, _ = _synthetic_regions()
    area = np.full(peak.size, 50.0)
    cmap = fit_confidence(peak, y, kind, area=area, data={"healthy": "x"})
    grid = np.exp(np.linspace(np.log(0.01), np.log(2.0), 200))
    probs = np.array([cmap.probability(g, 50.0) for g in grid])
    assert np.all(np.diff(probs) >= -1e-12) and probs.min() >= 0 and probs.max() <= 1
    test_peak, test_y, test_p, _ = _synthetic_regions(seed=5)
    fitted = np.array([cmap.probability(v, 50.0) for v in test_peak])
    assert np.abs(fitted - test_p).mean() < 0.05
    assert reliability(fitted, test_y)["ece"] < 0.05
    info = cmap.to_dict()
    assert (
        info["fit"] == kind and info["n_regions"] == peak.size and info["data"] == {"healthy": "x"}
    )


def test_map_round_trips_and_rejects_non_monotone_knots():
    peak, y, _, _ = _synthetic_regions(500)
    cmap = fit_confidence(peak, y, "isotonic", n_images=10)
    back = ConfidenceMap.from_dict(json.loads(json.dumps(cmap.to_dict())))
    assert back == cmap and back.info["n_images"] == 10
    assert ConfidenceMap.from_dict(None) is None
    with pytest.raises(ValueError):
        ConfidenceMap("isotonic", peaks=(0.1, 0.2), probs=(0.6, 0.4))
    with pytest.raises(ValueError):
        ConfidenceMap("logistic", coef=(0.0, -1.0))


def test_reliability_figures_on_known_numbers():
    p = np.full(100, 0.9)
    y = np.arange(100) < 50  # observed 0.5 where 0.9 is said
    r = reliability(p, y)
    assert r["ece"] == pytest.approx(0.4) and r["ece_equal_count"] == pytest.approx(0.4)
    assert r["brier"] == pytest.approx(0.5 * 0.01 + 0.5 * 0.81)
    assert r["table"] == [
        {"bin": [0.9, 1.0], "n": 100, "mean_probability": 0.9, "observed_rate": 0.5}
    ]
    perfect = reliability(y.astype(float), y)
    assert perfect["ece"] == 0 and perfect["brier"] == 0


def test_choose_confidence_cross_validates_by_group():
    peak, y, _, _ = _synthetic_regions(1500)
    groups = np.arange(peak.size) % 30
    out = choose_confidence(peak, y, groups, area=np.full(peak.size, 40.0))
    assert set(out["kinds"]) == {"isotonic", "logistic", "logistic-area"}
    assert out["chosen"] in out["kinds"] and out["kinds"]["logistic"]["ece"] < 0.06


# ----------------------------------------------------------------------------- the words
def test_confidence_words_by_band_and_never_high_just_above_the_threshold():
    assert [confidence_band(p) for p in (0.0, 0.49, 0.5, 0.79, 0.8, 1.0)] == [
        "low",
        "low",
        "moderate",
        "moderate",
        "high",
        "high",
    ]
    thr = 0.2
    for ratio in np.linspace(1.0, NEAR_THRESHOLD - 1e-6, 20):
        assert confidence_level_of(0.99, ratio * thr, thr) != "high"
    assert confidence_level_of(0.99, NEAR_THRESHOLD * thr, thr) == "high"
    assert confidence_level_of(0.99, 0.01, None) == "high"  # no threshold known
    assert confidence_level_of(0.99, 1.0, 0.2, calibrated=False) == "uncalibrated"
    # a finding dict: the detector's stored word first, else the band with the cap
    assert confidence_level({"confidence": 0.9, "confidence_level": "moderate"}) == "moderate"
    assert confidence_level({"confidence": 0.9, "peak_anomaly": 0.21}, 0.2) == "moderate"
    assert confidence_level({"confidence": 0.9, "peak_anomaly": 0.5}, 0.2) == "high"
    assert "62% probability of being a true lesion" in confidence_meaning({"confidence": 0.62})
    assert "probability" in CONFIDENCE_DEFINITION and "validation" in CONFIDENCE_DEFINITION


def test_grounded_confidence_word_uses_the_shared_helper():
    from assistant.evidence import Evidence
    from assistant.responders.grounded.case import CaseFacts

    ev = Evidence(
        items=[], detector_summary={"score": 0.25, "score_threshold": 0.2}, scan_summary={}
    )
    c = CaseFacts("how sure?", "how sure?", ev, None, [], [])  # type: ignore[arg-type]
    assert c.confidence_word({"confidence": 0.95, "peak_anomaly": 0.25}) == "moderate"
    assert c.confidence_word({"confidence": 0.95, "peak_anomaly": 0.4}) == "high"
    assert c.confidence_word({"confidence": 0.3, "peak_anomaly": 0.4}) == "low"
    assert c.confidence_word({"confidence": 0.97, "confidence_level": "uncalibrated"}) == (
        "uncalibrated"
    )


# ----------------------------------------------------------------------------- in the detector
def _square():
    h, w = 40, 40
    fg = np.zeros((h, w), bool)
    fg[4:36, 4:36] = True
    img = np.where(fg, 0.5, 0.0).astype(np.float32)
    amap = np.zeros((h, w), np.float32)
    amap[10:16, 10:16] = 0.25  # peak 1.25 x the image threshold 0.2
    amap[24:30, 24:30] = 0.6  # 3 x
    return amap > 0.1, amap, img, img.copy(), fg


def test_findings_get_the_fitted_probability_and_its_word():
    mask, amap, img, pseudo, fg = _square()
    cmap = ConfidenceMap("isotonic", peaks=(0.1, 0.3, 0.5), probs=(0.05, 0.9, 0.97))
    post = PostProcess(pixel_threshold=0.1, seed_threshold=0.2, confidence=cmap)
    f1, f2 = extract_findings(mask, amap, img, pseudo, fg, post)
    assert f1.peak_anomaly == pytest.approx(0.6) and f1.confidence == pytest.approx(0.97)
    assert f1.confidence_level == "high"
    # 0.25 -> 0.05 + (0.15 / 0.2) * 0.85, just above the threshold: at most moderate
    assert f2.confidence == pytest.approx(0.6875, abs=1e-3) and f2.confidence_level == "moderate"
    # the word travels with the finding (JSON, answers, report) and survives a rethreshold
    assert f2.to_dict()["confidence_level"] == "moderate"
    assert replace(post, pixel_threshold=0.05).confidence is cmap


def test_without_a_fitted_map_confidence_falls_back_and_says_so():
    mask, amap, img, pseudo, fg = _square()
    post = PostProcess(pixel_threshold=0.1, seed_threshold=0.2, healthy_scores=[0.1, 0.3, 0.5])
    f1, f2 = extract_findings(mask, amap, img, pseudo, fg, post)
    assert f1.confidence == pytest.approx(1.0) and f2.confidence == pytest.approx(1 / 3, abs=1e-3)
    assert f1.confidence_level == f2.confidence_level == "uncalibrated"
    assert "not calibrated" in confidence_meaning(f1.to_dict())


def test_old_detector_json_without_the_block_loads():
    raw = json.loads((DEFAULT_CHECKPOINT / "detector.json").read_text())
    for cal in raw["calibration"].values():
        cal.pop("confidence", None)
    config = DetectorConfig.from_json(json.dumps(raw))
    assert all(c.confidence is None for c in config.calibration.values())
    assert DetectorConfig.from_json(config.to_json()).calibration == config.calibration


def test_shipped_checkpoint_has_a_fitted_map_for_its_default():
    config = DetectorConfig.from_json((DEFAULT_CHECKPOINT / "detector.json").read_text())
    key = f"{config.default_method}/{config.default_preset}"
    cal = config.calibration[key]
    cmap = ConfidenceMap.from_dict(cal.confidence)
    assert cmap is not None, f"no confidence map for the default {key}"
    info = cmap.info
    assert info["n_regions"] > 100 and info["n_true"] > 20
    assert "val" in json.dumps(info["data"]) and "holdout" not in json.dumps(info["data"])
    thr = cal.score_threshold
    peaks = np.linspace(0.5 * thr, 4 * thr, 200)
    probs = [cmap.probability(p) for p in peaks]
    assert np.all(np.diff(probs) >= -1e-12)
    # the words a finding would get: never "high" just above the image threshold
    near = [p for p in peaks if thr <= p < NEAR_THRESHOLD * thr]
    assert all(confidence_level_of(cmap.probability(p), p, thr) != "high" for p in near)


def test_detector_findings_carry_the_checkpoints_fitted_map():
    det = tiny_detector(None)
    cal = det.calibration
    fitted = ConfidenceMap("isotonic", peaks=(0.0, 10.0), probs=(0.1, 0.9), info={"fit": "test"})
    # the image threshold at the pixel threshold, so that every region is a finding
    det.model.config.calibration[det.key] = replace(
        cal, score_threshold=cal.pixel_threshold, confidence=fitted.to_dict()
    )
    rng = np.random.default_rng(0)
    img = (rng.random((32, 32)) * 0.2 + 0.4).astype(np.float32)
    img[10:16, 10:16] = 1.0
    r = det.detect_array(img)
    assert r.postprocess is not None and r.postprocess.confidence is not None, (
        "Detector._result must pass ConfidenceMap.from_dict(cal.confidence) to PostProcess"
    )
    assert r.findings
    for f in r.findings + r.weak_findings:
        assert f.confidence == pytest.approx(0.1 + 0.08 * f.peak_anomaly, abs=2e-3)
        assert f.confidence_level != "uncalibrated"


def test_committed_figures_match_the_shipped_map_and_beat_the_old_definition():
    from eval import ROOT

    figures = json.loads((ROOT / "eval/results/confidence.json").read_text())
    config = DetectorConfig.from_json((DEFAULT_CHECKPOINT / "detector.json").read_text())
    key = figures["detector"]["key"]
    assert config.calibration[key].confidence == figures["fitted"]
    cmap = ConfidenceMap.from_dict(figures["fitted"])
    thr = figures["detector"]["score_threshold"]
    # the fitted curve: ~0.38 at the image threshold, ~0.86 at twice it
    assert cmap.probability(thr) == pytest.approx(0.38, abs=0.03)
    assert cmap.probability(2 * thr) == pytest.approx(0.86, abs=0.03)
    assert figures["fit_set"]["healthy"].endswith("/val")
    assert figures["test_set"]["healthy"].endswith("/holdout")
    test = figures["test"]
    for subset in ("all_regions", "findings"):
        new, old = test[subset]["new"], test[subset]["old"]
        assert new["ece"] < old["ece"] and new["brier"] < old["brier"]
    assert test["all_regions"]["new"]["ece"] == pytest.approx(0.054, abs=0.01)
    assert test["all_regions"]["old"]["ece"] == pytest.approx(0.327, abs=0.01)
    # the words carry information on held-out regions
    words = test["by_word"]
    assert words["low"]["observed_rate"] < words["moderate"]["observed_rate"]
    assert words["moderate"]["observed_rate"] < words["high"]["observed_rate"]
