"""assistant.volume.smoothing: a volume's anomaly maps smoothed across levels, thresholds fitted
for them on healthy volumes (`calibrate --volumes --z-smoothing`), and `analyze_volume` using
them only where they were fitted (the detector is the tiny random one: its maps are noise, the
tests check arithmetic and wiring, not detection quality)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_volume import template_volume, write_nifti

from assistant.detector.model import Calibration
from assistant.detector.postprocess import ConfidenceMap
from assistant.detector.testing import tiny_detector
from assistant.volume import analyze_volume
from assistant.volume.smoothing import applies, smooth_across_levels, stack_band

LEVELS = (0.0, 2.0, 4.0, 6.0, 8.0)


def _gauss(offsets, sigma):
    return np.exp(-0.5 * (np.asarray(offsets, float) / sigma) ** 2)


def test_smoothing_is_a_gaussian_normalised_by_the_foreground_across_levels():
    shape = (6, 5)
    fg = [np.ones(shape, bool) for _ in LEVELS]
    # a constant map stays constant, the ends of the stack included (normalised convolution)
    flat = smooth_across_levels([np.full(shape, 0.3)] * 5, fg, list(LEVELS), 2.0, 3.0)
    for m in flat:
        np.testing.assert_allclose(m, 0.3, atol=1e-6)
    # one level's spike spreads with Gaussian weights (sigma 3 mm = 1.5 levels of 2 mm)
    spike = [np.zeros(shape) for _ in LEVELS]
    spike[2][1, 1] = 1.0
    out = smooth_across_levels(spike, fg, list(LEVELS), 2.0, 3.0)
    w = _gauss([-2, -1, 0, 1, 2], 1.5)
    for k in range(5):
        # level k's weights over the 5 levels present: its own Gaussian, cut at the stack's ends
        wk = _gauss(np.arange(5) - k, 1.5)
        assert out[k][1, 1] == pytest.approx(wk[2] / wk.sum(), abs=1e-4)
        assert out[k][0, 0] == 0.0
    assert out[2][1, 1] == pytest.approx(w[2] / w.sum(), abs=1e-4)
    # a pixel outside one level's head is not pulled towards 0 on its neighbours, and stays 0
    holed = [f.copy() for f in fg]
    holed[1][3, 3] = False
    out = smooth_across_levels([np.full(shape, 0.3)] * 5, holed, list(LEVELS), 2.0, 3.0)
    assert out[2][3, 3] == pytest.approx(0.3, abs=1e-6) and out[1][3, 3] == 0.0
    # a missing level carries no weight
    out = smooth_across_levels([np.full(shape, 0.3)] * 4, fg[:4], [0.0, 2.0, 6.0, 8.0], 2.0, 3.0)
    for m in out:
        np.testing.assert_allclose(m, 0.3, atol=1e-6)
    # no smoothing: the maps, 0 outside the foreground
    one = smooth_across_levels([np.full(shape, 0.3)], [holed[1]], [0.0], 2.0, 3.0)[0]
    assert one[3, 3] == 0.0 and one[0, 0] == pytest.approx(0.3)


def _level_aware(monkeypatch):
    from assistant.detector.levels import with_level_embedding
    from assistant.volume import analyze as analyze_mod
    from assistant.volume import calibrate as calibrate_mod

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", LEVELS)
    monkeypatch.setattr(calibrate_mod, "BRAIN_LEVELS_MM", LEVELS)
    return det


def _with_stack(det, step=2.0):
    """The detector's calibration with single-level bands (a confidence map on one) and stack
    thresholds at the given level step, written by hand (low enough that noise gets regions)."""
    cal = det.calibration
    base = {"pixel_threshold": 0.01, "score_threshold": 0.02, "n_images": 4, "healthy_scores": []}
    conf = ConfidenceMap(kind="logistic", coef=(2.0, 1.0)).to_dict()
    cal.bands = [
        {"lo_mm": -10.0, "hi_mm": 5.0, **base, "confidence": conf},
        {"lo_mm": 6.0, "hi_mm": 20.0, **base},
    ]
    low = {**base, "pixel_threshold": 0.0, "score_threshold": 0.0}
    cal.stack = {
        "z_smoothing_mm": 3.0,
        "level_step_mm": step,
        "bands": [{"lo_mm": -10.0, "hi_mm": 20.0, **low}],
    }
    return cal


def test_a_volume_is_smoothed_and_thresholded_with_its_stack_thresholds(monkeypatch):
    """With stack thresholds fitted at its level step, every level's map is the smoothed stack
    (`smooth_across_levels` of the unsmoothed maps), thresholded with the stack band; a
    region's confidence is the band's fitted map at the *unsmoothed* peak in it. At another
    level step, or with `z_smoothing=False`, nothing is smoothed, and the note says why."""
    det = _level_aware(monkeypatch)
    scan, m, _, _ = template_volume()
    plain = analyze_volume(scan, det, mni_to_voxel=m, progress=False, z_smoothing=False)
    assert plain.z_smoothing_mm is None and plain.levels == list(LEVELS)
    cal = _with_stack(det)
    assert applies(cal, 2.0, 5) and not applies(cal, 4.0, 5) and not applies(cal, 2.0, 1)
    res = analyze_volume(scan, det, mni_to_voxel=m, progress=False)
    assert res.z_smoothing_mm == 3.0 and res.to_dict()["z_smoothing_mm"] == 3.0
    assert any("smoothed across levels (Gaussian, 3 mm)" in n for n in res.notes)
    raw = [r.anomaly_map for r in plain.level_results]
    want = smooth_across_levels(
        raw, [r.foreground for r in plain.level_results], res.levels, 2.0, 3.0
    )
    conf = ConfidenceMap.from_dict(cal.bands[0]["confidence"])
    n_regions = 0
    for z, r, w, unsmoothed in zip(res.levels, res.level_results, want, raw, strict=True):
        np.testing.assert_allclose(r.anomaly_map, w, atol=1e-6)
        np.testing.assert_array_equal(r.peak_map if z <= 5 else unsmoothed, unsmoothed)
        assert r.pixel_threshold == 0.0 and r.score_threshold == 0.0
        assert r.params["z_smoothing_mm"] == 3.0
        if z <= 5:  # the band with a confidence map: read at the unsmoothed peak
            from scipy import ndimage

            lab, _ = ndimage.label(r.mask, structure=np.ones((3, 3), bool))
            for f in r.findings:
                y0, x0, y1, x1 = f.bbox
                k = np.bincount(lab[y0:y1, x0:x1].ravel())[1:].argmax() + 1
                peak = float(unsmoothed[lab == k].max())
                assert f.confidence == pytest.approx(conf.probability(peak, f.area_px), abs=1e-3)
                n_regions += 1
    assert n_regions > 0
    # the app's sensitivity keeps the smoothed maps and the unsmoothed peaks
    more = analyze_volume(scan, det, mni_to_voxel=m, progress=False, sensitivity=2.0)
    np.testing.assert_allclose(more.level_results[0].anomaly_map, want[0], atol=1e-6)
    assert more.level_results[0].peak_map is not None
    # fitted at 2 mm: a volume analysed every 4 mm is not smoothed
    four = analyze_volume(scan, det, mni_to_voxel=m, progress=False, level_step_mm=4.0)
    assert four.z_smoothing_mm is None
    assert any("fitted at a 2.0 mm level step" in n for n in four.notes)
    assert stack_band(cal, 30.0) is None and stack_band(cal, 4.0)["lo_mm"] == -10.0


def test_calibrate_z_smoothing_fits_stack_thresholds_on_healthy_volumes(
    tmp_path, monkeypatch, capsys
):
    """`assistant calibrate --volumes DIR --z-smoothing 3` after `--volumes DIR`: the stack
    thresholds (per band: the 95% quantile of smoothed healthy foreground pixels, the
    1 - 0.05 / bands quantile of each volume's highest smoothed slice score) are saved beside the
    single-level bands, which stay; `analyze_volume` then smooths. Without per-band thresholds
    first it says what to run."""
    from assistant.cli import main
    from assistant.detector import Detector
    from assistant.volume.calibrate import volume_levels

    det = _level_aware(monkeypatch)
    folder = det.model.save(tmp_path / "wholebrain")
    scan, m, origin, step = template_volume()
    healthy = tmp_path / "healthy"
    healthy.mkdir()
    for k, gain in enumerate((1.0, 0.9)):
        write_nifti(healthy / f"v{k}.nii.gz", scan.pixels * gain, origin, step)
    args = ["calibrate", "--model", str(folder), "--volumes", str(healthy), "--z-smoothing", "3"]
    assert main(args) != 0
    assert "no per-band calibration for thor/fast: run calibrate --volumes first" in (
        capsys.readouterr().err
    )
    assert main(["calibrate", "--model", str(folder), "--volumes", str(healthy)]) == 0
    bands = json.loads((folder / "detector.json").read_text())
    assert main(args) == 0
    saved = json.loads((folder / "detector.json").read_text())
    key = next(iter(saved["calibration"]))
    assert saved["calibration"][key]["bands"] == bands["calibration"][key]["bands"]
    stack = saved["calibration"][key]["stack"]
    assert stack["z_smoothing_mm"] == 3.0 and stack["level_step_mm"] == 2.0
    assert "2 volumes" in stack["data"] and len(stack["bands"]) == 1
    # the same figures from the detector's maps, smoothed per volume, by hand
    fresh = Detector.from_pretrained(folder)
    images, levels, names = volume_levels(healthy, fresh, 2.0, progress=False)
    pixels, top = [], {}
    for name in dict.fromkeys(names):
        idx = [k for k, n in enumerate(names) if n == name]
        rs = [  # in pairs, as the calibration runs them (the same kernels, the same floats)
            r
            for i in range(0, len(idx), 2)
            for r in fresh.detect_batch(
                [images[k] for k in idx[i : i + 2]], levels=[levels[k] for k in idx[i : i + 2]]
            )
        ]
        sm = smooth_across_levels(
            [r.anomaly_map for r in rs],
            [r.foreground for r in rs],
            [levels[k] for k in idx],
            2.0,
            3.0,
        )
        for s, r in zip(sm, rs, strict=True):
            pixels.append(s[r.foreground])
            top[name] = max(top.get(name, 0.0), float(s[r.foreground].max()))
    band = stack["bands"][0]
    assert band["n_volumes"] == 2
    assert band["pixel_threshold"] == pytest.approx(
        np.quantile(np.concatenate(pixels), 0.95), rel=1e-3
    )
    assert band["score_threshold"] == pytest.approx(
        np.quantile(list(top.values()), 1 - 0.05), rel=1e-3
    )
    assert isinstance(fresh.calibration, Calibration) and fresh.calibration.stack == stack
    res = analyze_volume(scan, fresh, mni_to_voxel=m, progress=False)
    assert res.z_smoothing_mm == 3.0
    assert res.level_results[0].pixel_threshold == pytest.approx(band["pixel_threshold"])
