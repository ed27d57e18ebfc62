"""A level-aware detector's confidence per band of MNI levels (`eval.band_confidence`): level
images named with their level, the band's own fitted map reaching its findings, the per-band
fit and the pooled measure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.detector.model import Calibration
from assistant.detector.postprocess import ConfidenceMap
from eval.band_confidence import fit_bands, in_band, level_name, pooled, to_unit
from eval.confidence import level_of, subject_of


def test_level_images_carry_their_level_and_volume():
    name = level_name("IXI033-HH-1259_T1", -36.0)
    assert name == "IXI033-HH-1259_T1_z-36" and level_of(name) == -36.0
    assert level_of(level_name("IXI033-HH-1259_T1", 22.0)) == 22.0
    assert subject_of(name) == "IXI033-HH-1259_T1"
    # the mid-axial sets' names keep their meaning
    assert level_of("IXI012-HH-1211-T1") is None and subject_of("IXI012_l1") == "IXI012"
    unit = to_unit(np.asarray([[0.0, 50.0], [100.0, 1000.0]], np.float32))
    assert unit.min() == 0.0 and unit.max() == 1.0 and unit.dtype == np.float32


def _band(lo, hi, confidence=None):
    b = {
        "lo_mm": lo,
        "hi_mm": hi,
        "pixel_threshold": 0.1,
        "score_threshold": 0.2,
        "n_images": 10,
        "healthy_scores": [0.1, 0.15],
    }
    if confidence is not None:
        b["confidence"] = confidence
    return b


def test_a_bands_fitted_map_reaches_the_slices_at_its_levels():
    fitted = ConfidenceMap("isotonic", peaks=(0.1, 0.5), probs=(0.2, 0.8), info={"fit": "t"})
    top = Calibration(pixel_threshold=0.05, score_threshold=0.1, n_images=5)
    cal = replace(top, bands=[_band(-50, -21, fitted.to_dict()), _band(-20, 9)])
    low = cal.for_level(-36.0)
    assert ConfidenceMap.from_dict(low.confidence).probability(0.3) == pytest.approx(0.5)
    assert cal.for_level(0.0).confidence is None  # no map fitted: the fallback, "uncalibrated"
    assert cal.for_level(None) is cal


def _regions(seed=0, n=600):
    """Regions at levels in two bands; in the lower band lesions have higher peaks."""
    rng = np.random.default_rng(seed)
    level = rng.choice([-36.0, 0.0], n)
    true = rng.random(n) < 0.4
    peak = np.where(true, 0.4, 0.15) + 0.1 * rng.random(n) + np.where(level < -20, 0.1, 0.0)
    return {
        "peak": peak,
        "area": rng.integers(10, 100, n).astype(float),
        "true": true,
        "subject": rng.integers(0, 12, n),
        "level": level,
        "old": rng.random(n),
    }


def test_each_band_gets_its_own_map_and_each_region_its_bands_probability():
    bands = [_band(-50, -21), _band(-20, 9)]
    fit = _regions(0)
    maps, choices = fit_bands(fit, bands, {"fit": "val"})
    assert len(maps) == 2 and all(c["chosen"] for c in choices)
    for cmap, b in zip(maps, bands, strict=True):
        assert (
            cmap.info["band_mm"] == [b["lo_mm"], b["hi_mm"]] and cmap.info["data"]["fit"] == "val"
        )
        assert cmap.info["n_regions"] == int(in_band(fit, b).sum())
        # lesions separate from false alarms: a lesion's peak gets a far higher probability
        assert cmap.probability(0.5 + (0.1 if b["lo_mm"] < -20 else 0.0)) > 0.8
    test = _regions(1)
    prob, inside = pooled(maps, bands, test)
    assert inside.all() and np.all((prob >= 0) & (prob <= 1))
    low = in_band(test, bands[0])
    assert prob[low][0] == pytest.approx(maps[0].probability(test["peak"][low][0]))
    # a region at a level no band holds gets no probability
    test["level"][0] = 90.0
    assert not pooled(maps, bands, test)[1][0]


def test_a_band_without_enough_lesions_is_not_fitted():
    fit = _regions(0)
    fit["true"][fit["level"] < -20] = False
    with pytest.raises(ValueError, match="too few regions"):
        fit_bands(fit, [_band(-50, -21)], {"fit": "val"})


def test_collect_detects_level_images_at_their_level_with_their_bands_thresholds(tmp_path):
    from PIL import Image

    from assistant.detector.levels import with_level_embedding
    from assistant.detector.testing import tiny_detector
    from eval.confidence import collect

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    cal = det.calibration
    bands = [_band(-50, -21), _band(-20, 9)]
    bands[0]["pixel_threshold"], bands[1]["pixel_threshold"] = 0.011, 0.022
    det.model.config.calibration[det.key] = replace(cal, bands=bands)
    seen = []
    real = det.detect_batch

    def spy(images, *args, levels=None, **kw):
        seen.extend(levels or [])
        return real(images, *args, levels=levels, **kw)

    det.detect_batch = spy
    rng = np.random.default_rng(0)
    folder = tmp_path / "healthy"
    folder.mkdir()
    for z in (-36, 0):
        img = (rng.random((48, 40)) * 80 + 60).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{level_name('V1_T1', z)}.png")
    cases = collect(det, folder, False, tmp_path / "cache", "fit_healthy", batch=2)
    assert sorted(seen) == [-36.0, 0.0]
    by_level = {c.level: c for c in cases}
    assert by_level[-36.0].pixel_threshold == pytest.approx(0.011)
    assert by_level[0.0].pixel_threshold == pytest.approx(0.022)
    assert {c.subject for c in cases} == {"V1_T1"}
    # read back from the cache with the level
    again = collect(det, folder, False, tmp_path / "cache", "fit_healthy")
    assert sorted(c.level for c in again) == [-36.0, 0.0] and len(seen) == 2


def test_export_writes_healthy_and_lesion_level_images(tmp_path):
    """The shipped head template as a volume, its brain as the label map: level images every
    16 mm, each healthy and with a lesion inside the brain."""
    import json

    import nibabel as nib
    from PIL import Image

    from assistant.domain import load_domain_model
    from eval.band_confidence import export

    t = load_domain_model().head_template
    vol = np.asarray(t["volume"], dtype=np.float32)  # (z, y, x) MNI index order
    affine = np.diag([float(t["step"])] * 3 + [1.0])
    affine[:3, 3] = np.asarray(t["origin"])
    data = np.ascontiguousarray(vol.transpose(2, 1, 0))  # NIfTI (x, y, z)
    (tmp_path / "v").mkdir()
    (tmp_path / "l").mkdir()
    nib.save(nib.Nifti1Image(data * 1000, affine), tmp_path / "v" / "S1_T1.nii.gz")
    brain = (data > 0.35).astype(np.int16)
    nib.save(nib.Nifti1Image(brain, affine), tmp_path / "l" / "S1_T1_DLMUSE.nii.gz")
    summary = export(tmp_path / "v", tmp_path / "l", tmp_path / "out", 16.0, progress=False)
    healthy = sorted((tmp_path / "out" / "healthy").glob("*.png"))
    assert summary["n_level_images"] == len(healthy) >= 4 and summary["level_step_mm"] == 16.0
    levels = sorted(level_of(p.stem) for p in healthy)
    assert levels[0] >= -50 and levels[-1] <= 78 and np.all(np.diff(levels) == 16)
    record = json.loads((tmp_path / "out" / "export.json").read_text())["lesions"]
    assert len(record) == len(healthy)
    for p in healthy:
        h = np.asarray(Image.open(p))
        les = np.asarray(Image.open(tmp_path / "out" / "lesions" / "images" / p.name))
        mask = np.asarray(Image.open(tmp_path / "out" / "lesions" / "masks" / p.name)) > 0
        assert mask.any() and h.shape == les.shape == mask.shape
        changed = np.abs(les.astype(int) - h.astype(int)) > 2
        assert changed[mask].mean() > 0.5  # the lesion is painted where its mask is


def test_map_normalisation_measures_variants_leaving_each_subject_out(tmp_path):
    """`eval.map_normalisation` on a toy cache: three subjects at two levels, a lesion image
    per healthy one; a healthy map with a fixed hot spot at one position (as at a brain edge),
    which the per-position normalisation removes: its pixel AUPRC is higher than the raw map's."""
    from eval.map_normalisation import load, measure

    rng = np.random.default_rng(0)
    for kind in ("fit_healthy", "fit_lesions"):
        (tmp_path / kind).mkdir()
    for s in ("IXI001", "IXI002", "IXI003"):
        for level in (-20.0, 30.0):
            fg = np.zeros((32, 32), bool)
            fg[4:28, 4:28] = True
            base = rng.uniform(0, 0.1, (32, 32)).astype(np.float32)
            base[6:9, 6:9] += 0.8  # the same hot spot in every healthy map
            truth = np.zeros_like(fg)
            lesion = base.copy()
            truth[18:22, 18:22] = True
            lesion[truth] += 0.5
            for kind, a, t in (
                ("fit_healthy", base, np.zeros_like(fg)),
                ("fit_lesions", lesion, truth),
            ):
                np.savez(tmp_path / kind / f"{s}_T1_z{level:+.0f}.npz", anomaly=a, foreground=fg,
                         truth=t, level=level, pixel_threshold=0.3)  # fmt: skip
    healthy, lesions = load(tmp_path / "fit_healthy"), load(tmp_path / "fit_lesions")
    assert {h["subject"] for h in healthy} == {"IXI001_T1", "IXI002_T1", "IXI003_T1"}
    res = measure(healthy, lesions, sigma=0.5)
    assert res["n_subjects"] == 3 and res["n_lesion_images"] == 6
    v = res["variants"]
    assert v["minus_mean"]["pixel_auprc"] > v["raw"]["pixel_auprc"]
    assert set(res["slice_scores_raw_map"]) == {"max", "top50", "top200", "excess"}
