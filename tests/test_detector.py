"""Detector: training, checkpoint I/O, methods, calibration and findings, on tiny models."""

from __future__ import annotations

import json
import logging
from dataclasses import replace as replace_cfg

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from assistant.detector import Detector, DiffusionModel, get_config
from assistant.detector.calibrate import calibrate
from assistant.detector.data import augment
from assistant.detector.methods import PRESETS, run_method
from assistant.detector.postprocess import (
    ConfidenceMap,
    PostProcess,
    describe_regions,
    extract_findings,
    min_area_for,
    peak_cores,
    remove_small,
    seeded_components,
)
from assistant.detector.testing import tiny_detector, tiny_model, tiny_unet_config
from assistant.detector.train import TrainConfig, train
from assistant.scan import Scan


def _phantom(seed: int, size: int = 64, lesion: bool = False) -> np.ndarray:
    """A smooth 'brain': an ellipse with two tissue classes; optionally a bright blob."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    head = ((yy - 0.5) / 0.42) ** 2 + ((xx - 0.5) / 0.35) ** 2 < 1
    inner = ((yy - 0.5) / 0.25) ** 2 + ((xx - 0.5) / 0.2) ** 2 < 1
    img = head * 0.5 + inner * 0.2 + rng.normal(0, 0.01, (size, size))
    if lesion:
        img += 0.4 * (((yy - 0.45) ** 2 + (xx - 0.35) ** 2) < 0.006)
    return (img * head).astype(np.float32)


def test_training_step_lowers_loss_on_fixed_batch():
    torch.manual_seed(0)
    model = tiny_model(size=32)
    unet, sched = model.unet.train(), model.scheduler
    x = torch.from_numpy(np.stack([_phantom(i, 32) for i in range(4)]))[:, None] * 2 - 1
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([50, 150, 250, 350])
    xt = sched.add_noise(x, noise, t)
    opt = torch.optim.Adam(unet.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.mse_loss(unet(xt, t).sample, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def _cpu_run(tmp_path, n_scans: int, size: int, **cfg) -> TrainConfig:
    """A tiny CPU training run on a folder of `n_scans` phantom PNGs (batch 2, float32)."""
    data = tmp_path / "healthy"
    data.mkdir()
    for i in range(n_scans):
        Image.fromarray((_phantom(i, size) * 255).astype(np.uint8)).save(data / f"h{i}.png")
    base = dict(batch=2, bf16=False, device="cpu", unet=tiny_unet_config(32))
    return TrainConfig(data=str(data), out=str(tmp_path / "ck"), **{**base, **cfg})


def test_train_writes_checkpoint_and_resumes(tmp_path):
    cfg = _cpu_run(tmp_path, 6, 40, steps=4, ckpt_every=2)
    train(cfg)
    assert (tmp_path / "ck" / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    assert (tmp_path / "ck" / "train_state" / "state.json").is_file()
    logs = (tmp_path / "ck" / "train_log.jsonl").read_text().splitlines()
    assert len(logs) == 2
    cfg.steps = 6
    train(cfg)  # resumes from step 4
    logs = (tmp_path / "ck" / "train_log.jsonl").read_text().splitlines()
    assert [int(line.split('"step": ')[1].split(",")[0]) for line in logs] == [2, 4, 6]
    model = DiffusionModel.load(tmp_path / "ck")
    assert model.unet.config.sample_size == 32
    # --max-minutes counts this run's time: a resumed run with hours of earlier training
    # behind it still trains (it stopped at once when the limit counted all runs)
    state_file = tmp_path / "ck" / "train_state" / "state.json"
    state = json.loads(state_file.read_text())
    state["elapsed"] = 10 * 3600.0
    state_file.write_text(json.dumps(state))
    cfg.steps, cfg.max_minutes = 8, 60
    train(cfg)
    logs = (tmp_path / "ck" / "train_log.jsonl").read_text().splitlines()
    assert int(logs[-1].split('"step": ')[1].split(",")[0]) == 8


def test_learning_rate_schedules_warm_up_then_hold_or_decay(tmp_path):
    from assistant.detector.train import _Run

    def rates(schedule):
        cfg = TrainConfig(
            data=None, out="unused", steps=100, warmup=10, lr=1e-3, lr_schedule=schedule
        )
        run = _Run.__new__(_Run)
        run.cfg = cfg
        return [run.lr_at(s) for s in (0, 4, 9, 54, 99, 150)]

    # constant (the default): the linear warm-up of before, then the base rate
    assert rates("constant_with_warmup") == pytest.approx([1e-4, 5e-4, 1e-3, 1e-3, 1e-3, 1e-3])
    # cosine: half the rate halfway through the decay, 0 at the last step and held there
    cos = rates("cosine")
    assert cos[:3] == pytest.approx([1e-4, 5e-4, 1e-3])
    assert cos[3] == pytest.approx(0.5e-3, abs=2e-5)
    assert cos[4] == pytest.approx(0.0, abs=1e-9) and cos[5] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError):
        rates("no-such-schedule")


def test_a_cosine_run_resumed_follows_the_same_curve(tmp_path):
    # max_minutes: each run stops after its first step, so the run is resumed five times
    cfg = _cpu_run(
        tmp_path, 4, 32, steps=6, warmup=2, ckpt_every=3, lr_schedule="cosine", max_minutes=1e-9
    )
    for _ in range(6):
        train(cfg)
    state = json.loads((tmp_path / "ck" / "train_state" / "state.json").read_text())
    assert state["step"] == 6
    opt = torch.load(tmp_path / "ck" / "train_state" / "optimizer.pt", weights_only=True)
    # the last step ran at the cosine's rate for step 6 of 6: zero
    assert opt["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)
    assert (
        json.loads((tmp_path / "ck" / "training.json").read_text())["train_config"]["lr_schedule"]
        == "cosine"
    )


def test_save_load_gives_identical_outputs(tmp_path):
    det = tiny_detector(None, calibrated=False)
    det.model.save(tmp_path / "ck", dtype=torch.float32)
    det2 = Detector(DiffusionModel.load(tmp_path / "ck"), det.method, det.preset, autocast=False)
    img = _phantom(0, 48, lesion=True)
    a, b = det.detect_array(img), det2.detect_array(img)
    # the same weights give the same maps up to float32 rounding: a reloaded model may pick
    # other CPU kernels (measured: max abs difference 2.4e-8 on some CPUs)
    np.testing.assert_allclose(a.anomaly_map, b.anomaly_map, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.pseudo_healthy, b.pseudo_healthy, rtol=1e-5, atol=1e-6)


def test_fp16_save_and_load_stay_quiet(tmp_path, caplog):
    """Saving in float16 and loading back as float32 restores the weights (to fp16 precision)
    without diffusers' float32-modules warning; bitsandbytes' hint to fetch kernels from the
    Hub is filtered, its other messages are not."""
    det = tiny_detector(None, calibrated=False)
    before = {k: v.clone() for k, v in det.model.unet.state_dict().items()}
    with caplog.at_level(logging.WARNING):
        det.model.save(tmp_path / "ck")  # float16 on disk
        model = DiffusionModel.load(tmp_path / "ck")
    assert not [r for r in caplog.records if "float32" in r.getMessage()]
    assert next(det.model.unet.parameters()).dtype == torch.float32  # the live model unchanged
    for k, v in model.unet.state_dict().items():
        assert v.dtype == torch.float32
        torch.testing.assert_close(v, before[k].half().float())
    bnb = logging.getLogger("bitsandbytes.backends.cpu.ops")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=bnb.name):
        bnb.warning("Failed to load CPU gemm_4bit_forward from kernels-community: %s", "x")
        bnb.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]


@pytest.mark.parametrize("method", ["thor", "autoddpm", "anoddpm"])
def test_methods_shape_and_determinism(method):
    det = tiny_detector(None, method=method)
    img = _phantom(3, 50)[:, 5:45]  # non-square: maps come back on the scan's own grid
    scan = Scan(pixels=img, spacing=(1.0, 1.0), patient_left="image_left")
    r1, r2 = det(scan), det(scan)
    assert r1.anomaly_map.shape == img.shape == r1.pseudo_healthy.shape == r1.mask.shape
    assert r1.anomaly_map.dtype == np.float32
    np.testing.assert_array_equal(r1.anomaly_map, r2.anomaly_map)
    assert r1.unet_calls > 0 and r1.method == method
    assert (r1.anomaly_map >= 0).all() and (r1.anomaly_map[~r1.foreground] == 0).all()


def test_reference_presets_use_papers_step_counts():
    model = tiny_model(size=16)
    x = torch.rand(1, 1, 16, 16)
    thor = run_method(model, x, PRESETS["thor"]["reference"])
    assert thor.unet_calls == 351  # THOR: noise to t=350, every DDPM step
    auto = run_method(model, x, PRESETS["autoddpm"]["reference"])
    # reconstruction from t=200 (201 steps incl. t=0) + re-sampling t=50..1 x 5 + the t=0 step
    assert auto.unet_calls == 201 + 50 * 5 + 1
    fast = run_method(model, x, get_config("thor", "fast"))
    assert fast.unet_calls <= 351 // 15


def test_volume_uses_requested_slice():
    det = tiny_detector(None)
    vol = np.stack([_phantom(i, 40) for i in range(5)])
    res = det(Scan(pixels=vol, spacing=(2.0, 1.0, 1.0), patient_left="image_left"), 1)
    assert res.slice_index == 1 and res.anomaly_map.shape == (40, 40)


def test_calibration_hits_false_positive_rate():
    det = tiny_detector(None, calibrated=False)
    healthy = [_phantom(i, 48) for i in range(12)]
    cal = calibrate(det, healthy, fpr=0.05)
    flagged, total = 0, 0
    for r in det.detect_batch(healthy):
        flagged += int((r.anomaly_map[r.foreground] > cal.pixel_threshold).sum())
        total += int(r.foreground.sum())
    assert flagged / total == pytest.approx(0.05, abs=0.01)
    results = det.detect_batch(healthy)
    scores = [r.score for r in results]
    assert np.mean(np.asarray(scores) > cal.score_threshold) <= 0.1
    assert cal.healthy_scores == sorted(cal.healthy_scores) and len(cal.healthy_scores) == 12
    for r in results:
        # the score is the map's maximum; the mask (hysteresis seeded at the image threshold) is
        # empty unless the image is above it
        assert r.score == pytest.approx(float(r.anomaly_map[r.foreground].max()))
        if not r.is_abnormal:
            assert not r.mask.any() and r.findings == []
        hs = np.asarray(cal.healthy_scores)
        for f in r.findings:  # no fitted map: the fallback, the fraction of healthy
            # calibration scores below the peak
            # (the calibration images themselves here: a peak may equal a stored score)
            lo, hi = np.mean(hs < f.peak_anomaly - 1e-5), np.mean(hs <= f.peak_anomaly + 1e-5)
            assert lo - 1e-3 <= f.confidence <= hi + 1e-3


def _constructed(side_col: int, bright: bool):
    h, w = 60, 80
    img = np.zeros((h, w), np.float32)
    fg = np.zeros((h, w), bool)
    fg[5:55, 10:70] = True
    img[fg] = 0.5
    pseudo = img.copy()
    mask = np.zeros((h, w), bool)
    mask[12:20, side_col : side_col + 10] = True  # 80 pixels, anterior (top)
    img[mask] = 0.9 if bright else 0.1
    amap = np.abs(img - pseudo)
    return mask, amap, img, pseudo, fg


@pytest.mark.parametrize(
    "patient_left,expected",
    [
        ("image_left", "left"),
        ("image_right", "right"),
        (None, "left"),
    ],
)
def test_findings_area_side_intensity(patient_left, expected):
    mask, amap, img, pseudo, fg = _constructed(15, bright=True)
    post = PostProcess(pixel_threshold=0.2, spacing=(0.5, 2.0), patient_left=patient_left)
    (f,) = extract_findings(mask, amap, img, pseudo, fg, post)
    assert f.id == "F1" and f.area_px == 80 and f.area_mm2 == pytest.approx(80.0)
    assert f.side == expected
    assert f.side_frame == ("image" if patient_left is None else "patient")
    assert f.intensity == "hyperintense" and f.anterior_posterior == "anterior"
    assert f.bbox == (12, 15, 20, 25) and 0 < f.confidence <= 1


@pytest.mark.parametrize(
    "patient_left,lean", [(None, "left"), ("image_left", "left"), ("image_right", "right")]
)
def test_midline_and_central_findings_say_which_way_they_lean(patient_left, lean):
    _, _, img, pseudo, fg = _constructed(15, bright=True)
    img[:] = pseudo
    mask = np.zeros_like(fg)
    mask[27:32, 35:44] = True  # centroid (29, 39): 0.5 px left of and above the head's centre
    img[mask] = 0.9
    post = PostProcess(pixel_threshold=0.2, patient_left=patient_left)
    (f,) = extract_findings(mask, np.abs(img - pseudo), img, pseudo, fg, post)
    assert (f.side, f.side_lean) == ("midline", lean)
    assert (f.anterior_posterior, f.ap_lean) == ("central", "anterior")
    # off the midline, the lean is the side itself
    mask2 = np.zeros_like(fg)
    mask2[40:46, 50:56] = True
    (g,) = extract_findings(mask2, mask2 * 0.5, img, pseudo, fg, post)
    assert g.side == g.side_lean == ("left" if patient_left == "image_right" else "right")
    assert g.anterior_posterior == g.ap_lean == "posterior"


def test_findings_hypointense_right_and_ordering():
    mask, amap, img, pseudo, fg = _constructed(50, bright=False)
    mask2 = np.zeros_like(mask)
    mask2[40:44, 20:24] = True
    img[mask2] = 0.6
    amap = np.abs(img - pseudo)
    fs = extract_findings(mask | mask2, amap, img, pseudo, fg, PostProcess(pixel_threshold=0.05))
    assert [f.id for f in fs] == ["F1", "F2"]
    assert fs[0].intensity == "hypointense" and fs[0].side == "right"
    assert fs[1].side == "left" and fs[1].anterior_posterior == "posterior"
    assert fs[0].peak_anomaly > fs[1].peak_anomaly


def test_seeded_components_keep_regions_whose_peak_reaches_the_seed():
    amap = np.zeros((40, 40), np.float32)
    amap[5:12, 5:12] = 0.3  # 49 px, peak 0.3
    amap[8, 8] = 0.9
    amap[20:30, 20:30] = 0.4  # 100 px, never reaches the seed
    amap[35:37, 35:37] = 1.0  # 4 px: too small
    mask = amap > 0.2
    out = seeded_components(mask, amap, seed=0.8, min_area=5)
    assert out.sum() == 49 and out[8, 8] and not out[25, 25] and not out[36, 36]
    assert seeded_components(mask, amap, seed=None, min_area=5).sum() == 149
    assert not seeded_components(np.zeros_like(mask), amap, 0.1, 1).any()


def test_peak_cores_trim_regions_to_a_fraction_of_their_own_peak():
    yy, xx = np.mgrid[:50, :80]
    # two blobs of different strength, each with a wide low shoulder: one region each at 0.05
    amap = 1.0 * np.exp(-((yy - 25) ** 2 + (xx - 20) ** 2) / 20.0)
    amap += 0.1 * np.exp(-((yy - 25) ** 2 + (xx - 60) ** 2) / 20.0)
    amap = amap.astype(np.float32)
    mask = amap > 0.005
    cores = peak_cores(mask, amap, 0.005, 0.5)
    # each core is where its own blob reaches half its peak: the same disc for both strengths
    labels, n = ndimage.label(cores)
    assert n == 2
    areas = sorted(int((labels == i).sum()) for i in (1, 2))
    disc = int((((yy - 25) ** 2 + (xx - 20) ** 2) <= 20.0 * np.log(2)).sum())
    assert areas[0] == areas[1] == disc
    assert peak_cores(mask, amap, 0.005, 0.0) is mask
    floor = peak_cores(mask, amap, 0.3, 0.1)  # the floor wins over a low fraction
    assert floor.sum() == int((amap >= 0.3).sum())


def test_describe_regions_splits_findings_and_weak_regions():
    img = np.full((40, 60), 0.5, np.float32)
    fg = np.ones_like(img, bool)
    amap = np.zeros_like(img)
    amap[5:12, 5:12] = 0.5  # reaches the seed: a finding, on the image's left
    amap[20:30, 40:50] = 0.2  # above the pixel threshold only: a weak region, right
    amap[35, 2] = 0.9  # one pixel: too small for either
    pseudo = img.copy()
    img[5:12, 5:12] = 0.9
    img[20:30, 40:50] = 0.3
    post = PostProcess(pixel_threshold=0.1, seed_threshold=0.4, min_area=4)
    mask, found, weak = describe_regions(amap, fg, img, pseudo, post)
    assert mask.sum() == 49 and [f.id for f in found] == ["F1"] and [w.id for w in weak] == ["W1"]
    assert (found[0].side, found[0].intensity) == ("left", "hyperintense")
    assert (weak[0].side, weak[0].intensity, weak[0].area_px) == ("right", "hypointense", 100)
    post = PostProcess(pixel_threshold=0.1, seed_threshold=None, min_area=4)
    mask, found, weak = describe_regions(amap, fg, img, pseudo, post)
    assert len(found) == 2 and weak == []  # without a seed every region is a finding


def test_rethreshold_redoes_the_post_processing_the_result_was_made_with():
    det = tiny_detector(None)
    scan = Scan(pixels=_phantom(0, 48, lesion=True), spacing=(0.9, 1.1), patient_left="image_right")
    r = det(scan)
    post = r.postprocess
    assert (post.spacing, post.patient_left, post.slice_index) == ((0.9, 1.1), "image_right", None)
    assert post.min_area == min_area_for(32 / 48) and post.pixel_threshold == r.pixel_threshold
    assert r.rethreshold(1.0) is r
    loose = r.rethreshold(4.0)
    assert loose.pixel_threshold == r.pixel_threshold / 4
    assert loose.score_threshold == r.score_threshold / 4
    assert loose.params["sensitivity"] == 4.0 and loose.mask.sum() >= r.mask.sum()
    scaled = replace_cfg(
        post, pixel_threshold=r.pixel_threshold / 4, seed_threshold=r.score_threshold / 4
    )
    mask, found, weak = describe_regions(
        r.anomaly_map, r.foreground, r.image, r.pseudo_healthy, scaled
    )
    np.testing.assert_array_equal(loose.mask, mask)
    assert (loose.findings, loose.weak_findings, loose.postprocess) == (found, weak, scaled)
    back = loose.rethreshold(0.25)  # thresholds scaled by powers of two: exactly the original
    np.testing.assert_array_equal(back.mask, r.mask)
    assert (back.findings, back.weak_findings) == (r.findings, r.weak_findings)
    with pytest.raises(ValueError, match="sensitivity"):
        r.rethreshold(0.0)
    plain = tiny_detector(None, calibrated=False).detect_array(scan.pixels)
    assert plain.postprocess is None and plain.rethreshold(3.0) is plain
    hand_made = replace_cfg(r, postprocess=None)
    with pytest.raises(ValueError, match="post-processing"):
        hand_made.rethreshold(2.0)


def test_finding_confidence_from_healthy_scores():
    # no fitted confidence map: the fallback, the fraction of healthy scores below the peak,
    # which is not a probability of a lesion and is labelled "uncalibrated"
    mask, amap, img, pseudo, fg = _constructed(15, bright=True)  # peak 0.4
    post = PostProcess(pixel_threshold=0.1, healthy_scores=[0.1, 0.2, 0.3, 0.5])
    (f,) = extract_findings(mask, amap, img, pseudo, fg, post)
    assert f.confidence == pytest.approx(0.75) and f.confidence_level == "uncalibrated"


def test_finding_confidence_from_a_fitted_map():
    mask, amap, img, pseudo, fg = _constructed(15, bright=True)  # peak 0.4
    cmap = ConfidenceMap("logistic", coef=(2.0, 1.0))  # p = 1 / (1 + exp(-(2 + ln 0.4)))
    post = PostProcess(pixel_threshold=0.1, seed_threshold=0.1, confidence=cmap)
    (f,) = extract_findings(mask, amap, img, pseudo, fg, post)
    assert f.confidence == pytest.approx(1 / (1 + np.exp(-(2 + np.log(0.4)))), abs=1e-3)
    assert f.confidence_level == "moderate"  # 0.8 > p = 0.67 >= 0.5


def test_recalibrating_the_thresholds_drops_the_confidence_map():
    det = tiny_detector(None)
    det.calibration.confidence = ConfidenceMap("logistic", coef=(0.0, 1.0)).to_dict()
    cal = calibrate(det, [_phantom(i, 48) for i in range(4)], fpr=0.05)
    assert cal.confidence is None and det.calibration.confidence is None


def test_samples_average_independent_draws():
    model = tiny_model(size=32)
    x = torch.from_numpy(np.stack([_phantom(i, 32) for i in range(2)]))[:, None]
    fg = x > 0.05
    cfg = get_config("thor", "faster", steps=3, guidance_ts=(200,))
    one = [run_method(model, x, replace_cfg(cfg, seed=s), fg) for s in (3, 4)]
    two = run_method(model, x, replace_cfg(cfg, seed=3, samples=2), fg)
    assert two.unet_calls == 2 * one[0].unet_calls
    mean = (one[0].anomaly_map + one[1].anomaly_map) / 2
    torch.testing.assert_close(two.anomaly_map, mean, atol=1e-5, rtol=1e-4)
    rec = (one[0].pseudo_healthy + one[1].pseudo_healthy) / 2
    torch.testing.assert_close(two.pseudo_healthy, rec, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="samples"):
        run_method(model, x, replace_cfg(cfg, samples=0), fg)


def test_remove_small():
    m = np.zeros((20, 20), bool)
    m[2:4, 2:4] = True
    m[10:16, 10:16] = True
    out = remove_small(m, 5)
    assert out.sum() == 36


def test_augment_keeps_range_and_shape():
    x = torch.rand(4, 1, 32, 32)
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert not torch.equal(x, y)


def test_stochastic_sampling_does_not_depend_on_batch():
    """With eta > 0 each image draws its own noise: alone or in a batch, the same result."""
    det = tiny_detector(None, eta=1.0)
    a, b = _phantom(1, 40, lesion=True), _phantom(2, 40)
    alone = det.detect_array(a)
    batched = det.detect_batch([b, a])[1]
    np.testing.assert_allclose(alone.anomaly_map, batched.anomaly_map, atol=1e-5)
    again = det.detect_array(a)
    np.testing.assert_array_equal(alone.anomaly_map, again.anomaly_map)
