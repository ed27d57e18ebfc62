"""Level-aware detector (issue 15): level embedding, level sets, training and detection with
levels; 2D alignment of uploaded slices (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from assistant.detector import Detector, get_config
from assistant.detector.levels import (
    TRAINED_LEVEL_MM,
    class_labels,
    is_level_aware,
    level_label,
    load_level_set,
    with_level_embedding,
)
from assistant.detector.model import DiffusionModel
from assistant.detector.testing import TINY_OVERRIDES, tiny_model, tiny_unet_config
from assistant.detector.train import TrainConfig, train
from assistant.scan import Scan, ScanError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
VOLUMES = SHARED / "ixi-hh-t1-2mm"


def _phantom(size: int, level: float) -> np.ndarray:
    """An ellipse whose inner structure shrinks with the level (a toy 'level')."""
    yy, xx = np.mgrid[:size, :size] / size
    head = ((yy - 0.5) / 0.42) ** 2 + ((xx - 0.5) / 0.35) ** 2 < 1
    r = 0.25 - 0.002 * (level - 23.0)
    inner = ((yy - 0.5) / r) ** 2 + ((xx - 0.5) / (0.8 * r)) ** 2 < 1
    return (head * 0.5 + inner * 0.3).astype(np.float32)


def test_level_label_is_the_template_voxel_index():
    assert level_label(TRAINED_LEVEL_MM) == pytest.approx(95.0)
    assert level_label(-72.0) == pytest.approx(0.0)


def test_level_embedding_keeps_the_output_at_first_then_depends_on_the_level():
    unet = tiny_model(size=32).unet
    aware = with_level_embedding(unet)
    assert not is_level_aware(unet) and is_level_aware(aware)
    assert with_level_embedding(aware) is aware
    x = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([100, 400])
    with torch.no_grad():
        before = unet(x, t).sample
        after = aware(x, t, class_labels=class_labels(aware, [-30.0, 60.0], 2, "cpu")).sample
        torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
        torch.nn.init.normal_(aware.class_embedding.linear_2.weight, std=0.5)
        low = aware(x, t, class_labels=class_labels(aware, -30.0, 2, "cpu")).sample
        high = aware(x, t, class_labels=class_labels(aware, 60.0, 2, "cpu")).sample
    assert (low - high).abs().max() > 1e-3
    assert class_labels(unet, 10.0, 2, "cpu") is None


def _level_set(path: Path, size: int = 32) -> Path:
    levels = np.array([-20.0, 0.0, 23.0, 40.0, 60.0, -20.0, 40.0, 60.0], dtype=np.float32)
    images = np.stack([_phantom(size, z) for z in levels])
    np.savez_compressed(
        path,
        images=np.round(images * 255).astype(np.uint8),
        levels=levels,
        volumes=np.array(["a.nii.gz"] * len(levels)),
        names=np.array(["a.nii.gz"]),
        matrices=np.eye(4)[None],
    )
    return path


def test_load_level_set_scales_images_to_unit_range(tmp_path):
    x, lv = load_level_set(_level_set(tmp_path / "set.npz"))
    assert x.shape == (8, 1, 32, 32) and lv.shape == (8,)
    assert float(x.max()) <= 1.0 and float(x.max()) > 0.7
    assert lv.tolist()[:3] == [-20.0, 0.0, 23.0]


def test_level_aware_training_from_a_level_set_resumes_and_loads(tmp_path):
    cfg = TrainConfig(
        data=None,
        out=str(tmp_path / "ck"),
        steps=2,
        batch=2,
        ckpt_every=2,
        bf16=False,
        device="cpu",
        unet=tiny_unet_config(32),
        level_set=str(_level_set(tmp_path / "set.npz")),
        val_level_set=str(_level_set(tmp_path / "val.npz")),
        level_embedding=True,
    )
    train(cfg)
    cfg.steps = 4
    train(cfg)
    logs = [json.loads(x) for x in (tmp_path / "ck" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logs] == [2, 4]
    assert any(k.startswith("val_loss_") for k in logs[-1])
    model = DiffusionModel.load(tmp_path / "ck")
    assert is_level_aware(model.unet)


def test_training_needs_data():
    cfg = TrainConfig(data=None, out="unused", steps=1)
    with pytest.raises(ValueError, match="nothing to train on"):
        train(cfg)


def test_detect_batch_passes_levels_to_a_level_aware_model():
    model = tiny_model(size=32)
    model.unet = with_level_embedding(model.unet)
    torch.nn.init.normal_(model.unet.class_embedding.linear_2.weight, std=0.5)
    det = Detector(model, get_config("thor", "fast", **TINY_OVERRIDES), autocast=False)
    assert det.level_aware
    img = _phantom(48, 23.0)
    a, b = det.detect_batch([img, img], levels=[-30.0, 60.0])
    assert not np.allclose(a.pseudo_healthy, b.pseudo_healthy, atol=1e-4)
    (c,) = det.detect_batch([img], levels=[None])
    (d,) = det.detect_batch([img], levels=[TRAINED_LEVEL_MM])
    np.testing.assert_allclose(c.anomaly_map, d.anomaly_map, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- 2D alignment


def test_align_slice_recovers_a_known_similarity_transform():
    from scipy import ndimage

    from assistant.domain.align2d import align_slice, template_slice

    tmpl = template_slice()
    # the template, shrunk to 0.6 of its size, rotated 8 degrees and shifted, on a 200x200 image
    theta, s = np.radians(8.0), 0.6
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) / s
    out_c, in_c = np.array([100.0, 95.0]), np.array(tmpl.shape) / 2.0
    offset = in_c - rot @ out_c
    moved = ndimage.affine_transform(tmpl, rot, offset=offset, output_shape=(200, 200), order=1)
    aligned = align_slice(Scan(pixels=(moved * 800.0).astype(np.float32), format="png"))
    assert aligned.scan.pixels.shape == tmpl.shape
    assert aligned.scale == pytest.approx(0.6, abs=0.04)
    assert abs(abs(aligned.angle_deg) - 8.0) < 2.5
    a = aligned.scan.pixels / aligned.scan.pixels.max()
    head = tmpl > 0.1
    assert np.corrcoef(a[head], tmpl[head])[0, 1] > 0.9
    assert aligned.scan.spacing is None  # a PNG's pixels have no physical size
    assert "aligned in 2D" in aligned.scan.notes[-1]


def test_align_slice_refuses_volumes_and_empty_images():
    from assistant.domain.align2d import align_slice

    with pytest.raises(ScanError, match="foreground"):
        align_slice(Scan(pixels=np.zeros((64, 64), np.float32), format="png"))
    vol = Scan(
        pixels=np.zeros((4, 8, 8), np.float32),
        spacing=(1.0, 1.0, 1.0),
        patient_left="image_left",
        modality="MR",
        window=None,
        format="nifti",
        notes=[],
        metadata={},
    )
    with pytest.raises(ScanError, match="volume"):
        align_slice(vol)


@pytest.mark.skipif(not VOLUMES.is_dir(), reason="needs ../shared/data/ixi-hh-t1-2mm")
def test_level_set_from_a_real_volume_spans_the_brain(tmp_path):
    import shutil

    from assistant.domain.levelset import build_level_set

    src = sorted((VOLUMES / "val").glob("*_T1.nii.gz"))[0]
    folder = tmp_path / "vols"
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    out = build_level_set(folder, tmp_path / "set.npz")
    with np.load(out) as d:
        levels, images = d["levels"], d["images"]
    assert images.shape[1:] == (128, 128) and len(levels) == len(images)
    assert levels.min() <= -40 and levels.max() >= 70  # cerebellum to vertex
    assert images.dtype == np.uint8 and images.max() > 200
    mtime = out.stat().st_mtime_ns
    build_level_set(folder, out)  # the registration is re-used from the file
    assert out.stat().st_mtime_ns >= mtime


def test_eval_level_loss_gives_a_loss_per_band_for_any_checkpoint(tmp_path):
    from assistant.detector.testing import tiny_checkpoint
    from eval.level_loss import band_losses, main

    ck = tiny_checkpoint(tmp_path / "ck")
    levels = _level_set(tmp_path / "set.npz")
    losses = band_losses(str(ck), str(levels))  # no level embedding: a zero one is added
    assert losses and all(np.isfinite(v) and v > 0 for v in losses.values())
    assert band_losses(str(ck), str(levels)) == losses  # fixed slices, timesteps and noise
    out = tmp_path / "out.json"
    assert main(["--levels", str(levels), "--model", str(ck), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["losses"]


# ------------------------------------------------------------------- per-band calibration


def test_calibration_for_level_picks_the_band_and_keeps_the_rest():
    from assistant.detector.model import Calibration, DetectorConfig

    bands = [
        {
            "lo_mm": -50.0,
            "hi_mm": -21.0,
            "pixel_threshold": 0.5,
            "score_threshold": 0.9,
            "n_images": 3,
            "healthy_scores": [0.1, 0.2, 0.9],
        },
        {
            "lo_mm": 40.0,
            "hi_mm": 79.0,
            "pixel_threshold": 0.3,
            "score_threshold": 0.6,
            "n_images": 2,
            "healthy_scores": [0.2, 0.6],
        },
    ]
    cal = Calibration(
        0.1,
        0.2,
        n_images=58,
        healthy_scores=[0.1, 0.2],
        confidence={"kind": "logistic", "coef": [0.0, 1.0]},
        bands=bands,
    )
    low = cal.for_level(-30.0)
    assert (low.pixel_threshold, low.score_threshold, low.n_images) == (0.5, 0.9, 3)
    assert low.healthy_scores == [0.1, 0.2, 0.9] and low.confidence is None and low.bands is None
    assert cal.for_level(-21.0).pixel_threshold == 0.5  # bands are inclusive
    for z in (None, 23.0, 0.0):  # no level, or a level outside every band: the main thresholds
        assert cal.for_level(z) is cal
    # detector.json round trip keeps the bands
    cfg = DetectorConfig(calibration={"thor/fast": cal})
    back = DetectorConfig.from_json(cfg.to_json()).calibration["thor/fast"]
    assert back.bands == bands and back.for_level(60.0).score_threshold == 0.6


def test_calibrate_levels_fits_each_band_on_its_own_slices_and_detection_uses_it():
    from assistant.detector.calibrate import calibrate, calibrate_levels

    model = tiny_model(size=32)
    model.unet = with_level_embedding(model.unet)
    torch.nn.init.normal_(model.unet.class_embedding.linear_2.weight, std=0.5)
    det = Detector(model, get_config("thor", "fast", **TINY_OVERRIDES), "fast", autocast=False)
    imgs = [_phantom(48, 23.0) * (1 + 0.05 * k) for k in range(6)]
    calibrate(det, imgs[:2])
    main = det.calibration
    levels = [-40.0, -30.0, 20.0, 30.0, 50.0, 60.0]
    bands = calibrate_levels(det, imgs, levels, data="phantoms", progress=False)
    assert [(b["lo_mm"], b["hi_mm"], b["n_images"]) for b in bands] == [
        (-50.0, -21.0, 2),
        (10.0, 39.0, 2),
        (40.0, 79.0, 2),
    ]  # the band -20..+9 has no slice: left out
    assert det.calibration is main and main.bands == bands
    # each band's score threshold is the 95% quantile of its own slices' scores
    uncal = Detector(model, det.method, "uncalibrated", autocast=False)
    scores = [r.score for r in uncal.detect_batch(imgs, levels=levels)]
    for b, pair in zip(bands, (scores[0:2], scores[2:4], scores[4:6]), strict=True):
        assert b["score_threshold"] == pytest.approx(np.quantile(pair, 0.95), rel=1e-4, abs=1e-6)
    # detection thresholds a slice with its band's values, a slice without a level with the main
    (r_low,) = det.detect_batch([imgs[0]], levels=[-40.0])
    (r_none,) = det.detect_batch([imgs[0]])
    assert r_low.score_threshold == pytest.approx(bands[0]["score_threshold"])
    assert r_none.score_threshold == pytest.approx(main.score_threshold)
    # re-calibrating the main thresholds keeps the bands
    calibrate(det, imgs[2:4])
    assert det.calibration.bands == bands
    with pytest.raises(ValueError, match="level-aware"):
        calibrate_levels(Detector(tiny_model(32), det.method, autocast=False), imgs, levels)
    # per volume: each volume's highest score in a band, at 1 - fpr / (number of bands)
    groups = ["a", "b", "a", "b", "a", "a"]
    rows: list[dict] = []
    vol = calibrate_levels(
        det, imgs, levels, data="phantoms", progress=False, groups=groups, scores_out=rows
    )
    assert [r["group"] for r in rows] == groups and len(rows) == 6
    assert rows[0]["score"] == pytest.approx(scores[0], rel=1e-4, abs=1e-6)
    top = max(scores[4], scores[5])  # band +40..+79 holds only volume "a"
    assert vol[2]["score_threshold"] == pytest.approx(top, rel=1e-4, abs=1e-6)
    assert vol[0]["n_volumes"] == 2 and vol[0]["rule"].startswith("volume")
    q = 1 - 0.05 / 3
    assert vol[0]["score_threshold"] == pytest.approx(
        np.quantile([scores[0], scores[1]], q), rel=1e-4, abs=1e-6
    )


def test_calibrate_cli_needs_slices_or_volumes_and_volumes_in_the_folder(tmp_path, capsys):
    """No data: refused (an "error:" line, exit 2, like the other errors); `--volumes` of a
    level-unaware model is its threshold for whole volumes (`calibrate_slab`,
    tests/test_volume.py), refused with a clear error when the folder holds no volume."""
    from assistant.cli import main
    from assistant.detector.testing import tiny_checkpoint

    ck = tiny_checkpoint(tmp_path / "ck")
    assert main(["calibrate", "--model", str(ck)]) == 2
    assert "error: give --healthy" in capsys.readouterr().err
    vols = tmp_path / "vols"
    vols.mkdir()
    # refused (a clear error, exit 2) before any volume is read
    assert main(["calibrate", "--model", str(ck), "--volumes", str(vols)]) == 2
    assert "no NIfTI volumes" in capsys.readouterr().err


def test_class_labels_take_a_batch_of_levels_as_a_tensor_on_its_device():
    # training passes the batch's levels as a tensor on the GPU; numpy cannot read such a
    # tensor (a "meta" tensor stands in for it here: it has no data on the host either)
    aware = with_level_embedding(tiny_model(size=32).unet)
    levels = torch.tensor([-30.0, 23.0, 60.0], dtype=torch.float64)
    expected = class_labels(aware, levels.tolist(), 3, "cpu")
    got = class_labels(aware, levels, 3, "cpu")
    torch.testing.assert_close(got, expected)
    assert got.dtype == torch.float32
    on_meta = class_labels(aware, levels.to("meta"), 3, "meta")
    assert on_meta.device.type == "meta" and on_meta.shape == (3,)
