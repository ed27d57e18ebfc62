"""What a researcher's first trial of the training, calibration and evaluation workflow found
(2026-12-05): a resumed run that ignored new architecture flags and kept thresholds fitted on
other weights, results that did not name their checkpoint, an uncalibrated checkpoint answering
"No", a raw traceback for a folder that is not a checkpoint, a blank volume refused with ITK's
message, too few healthy scans for the false-positive rate without a word."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from assistant_fixtures import LEFT_BRIGHT, grounded_ask, scan_summary, synthetic_result
from PIL import Image

from assistant.analysis import build_evidence
from assistant.cli import main
from assistant.detector import Detector
from assistant.detector.model import DEFAULT_CHECKPOINT, DiffusionModel
from assistant.detector.testing import tiny_checkpoint, tiny_unet_config
from assistant.detector.train import TrainConfig, train
from assistant.scan import Scan


def _healthy_folder(path: Path, n: int = 4, size: int = 32) -> Path:
    path.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2).astype(float)
    for i in range(n):
        img = np.clip(0.6 * disc + 0.05 * rng.standard_normal(disc.shape), 0, 1)
        Image.fromarray((img * 255).astype(np.uint8)).save(path / f"h{i}.png")
    return path


def _run(tmp_path: Path, **cfg) -> TrainConfig:
    base = dict(batch=2, bf16=False, device="cpu", unet=tiny_unet_config(32), steps=2)
    data = tmp_path / "healthy"
    if not data.exists():
        _healthy_folder(data)
    return TrainConfig(data=str(data), out=str(tmp_path / "ck"), **{**base, **cfg})


def test_a_resumed_run_refuses_other_architecture_flags(tmp_path):
    train(_run(tmp_path))
    bigger = replace(tiny_unet_config(32), size=64)
    with pytest.raises(ValueError, match="a resumed run keeps its architecture"):
        train(_run(tmp_path, steps=4, unet=bigger))
    train(_run(tmp_path, steps=4))  # the same flags: resumed
    state = json.loads((tmp_path / "ck" / "train_state" / "state.json").read_text())
    assert state["step"] == 4


def test_a_resumed_run_drops_thresholds_fitted_on_earlier_weights(tmp_path, caplog):
    from assistant.detector.calibrate import calibrate_checkpoint

    train(_run(tmp_path))
    calibrate_checkpoint(tmp_path / "ck", tmp_path / "healthy", fpr=0.25)
    config = json.loads((tmp_path / "ck" / "detector.json").read_text())
    assert config["calibration"]
    with caplog.at_level(logging.WARNING, logger="assistant.detector.train"):
        train(_run(tmp_path, steps=4))
    assert "fitted on earlier weights" in caplog.text
    assert json.loads((tmp_path / "ck" / "detector.json").read_text())["calibration"] == {}


def test_train_cli_refuses_flags_it_cannot_use(tmp_path, capsys):
    data = _healthy_folder(tmp_path / "healthy")
    common = ["train", "--data", str(data), "--out", str(tmp_path / "ck"), "--size", "32"]
    assert main([*common, "--steps", "0"]) == 2
    assert "--steps must be at least 1" in capsys.readouterr().err
    tiny = ["--channels", "8,16", "--attention-levels", "5", "--steps", "1"]
    assert main([*common, *tiny]) == 2
    assert "numbered 0 to 1" in capsys.readouterr().err


def test_results_name_the_checkpoint_that_made_them(tmp_path):
    ck = tiny_checkpoint(tmp_path / "ck")
    det = Detector.from_pretrained(ck)
    scan = Scan(pixels=np.zeros((32, 32), np.float32) + 0.5, spacing=(1.0, 1.0))
    assert det(scan).params["checkpoint"] == str(ck.resolve())
    shipped = DiffusionModel(unet=None, scheduler=None, config=None, path=DEFAULT_CHECKPOINT)
    assert shipped.checkpoint == "shipped:ixi-t1-128"
    assert DiffusionModel(unet=None, scheduler=None, config=None).checkpoint == "in memory"


def test_an_uncalibrated_checkpoint_cannot_tell(tmp_path):
    result = synthetic_result([], threshold=None)
    result = replace(result, score_threshold=None, pixel_threshold=None)
    ev = build_evidence(result, scan_summary())
    text = grounded_ask("Is there an abnormality?", ev)
    assert text.startswith("I can't tell: the detector has no thresholds")
    assert "assistant calibrate" in text
    found = build_evidence(synthetic_result([LEFT_BRIGHT]), scan_summary())
    assert grounded_ask("Is there an abnormality?", found).startswith("Yes")


def test_a_folder_that_is_not_a_checkpoint_is_an_error_not_a_traceback(tmp_path, capsys):
    scan = _healthy_folder(tmp_path / "scans", n=1) / "h0.png"
    assert main(["check", str(scan), "--model", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "is not a detector checkpoint folder" in err and "Traceback" not in err


def test_a_blank_volume_is_refused_as_blank():
    from assistant.domain import check_applicability

    blank = Scan(pixels=np.zeros((60, 60, 60), np.float32), spacing=(2.0, 2.0, 2.0))
    verdict = check_applicability(blank)
    assert not verdict.in_domain
    assert any(r.startswith("The volume is blank") for r in verdict.reasons)
    assert not any("ITK" in r for r in verdict.reasons)


def test_calibration_on_too_few_scans_warns_and_sets_the_default_when_asked(tmp_path, capsys):
    ck = tiny_checkpoint(tmp_path / "ck")
    healthy = _healthy_folder(tmp_path / "healthy", n=3)
    args = ["calibrate", "--model", str(ck), "--healthy", str(healthy), "--preset", "fast"]
    assert main([*args, "--make-default"]) == 0
    out = capsys.readouterr()
    assert "warning: 3 healthy scans cannot place a 5% false-positive rate" in out.err
    assert "written to" in out.out and "is now the default" in out.out
    config = json.loads((ck / "detector.json").read_text())
    assert (config["default_method"], config["default_preset"]) == ("thor", "fast")


def test_sizes_of_a_registered_slice_are_on_the_mni_grid():
    from assistant.scan import size_basis

    notes = ["registered to MNI (affine, mutual information); axial slice at MNI z = +23 mm"]
    basis = size_basis({"spacing_mm": [1.0, 1.0], "shape": [233, 197], "notes": notes})
    assert basis["spacing_source"] == "registration"
    assert "registered MNI grid" in basis["note"] and "from the file" not in basis["note"]


def test_healthy_folders_are_checked_and_what_would_be_refused_is_named(tmp_path, capsys):
    """A chest X-ray went into a "healthy" training set, and an MS patient's volume (read at its
    middle native slice) into a calibration set, without a word."""
    import shutil

    from assistant.commands.datacheck import audit_healthy_folder
    from assistant.examples import EXAMPLES_DIR

    folder = tmp_path / "healthy"
    folder.mkdir()
    shutil.copy(EXAMPLES_DIR / "mni_normal.png", folder / "normal.png")
    shutil.copy(EXAMPLES_DIR / "mni_left_volume.nii.gz", folder / "volume.nii.gz")
    rng = np.random.default_rng(0)
    noise = (rng.random((128, 128)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(folder / "noise.png")
    warnings = audit_healthy_folder(folder, "calibration scans")
    assert len(warnings) == 2 and warnings == capsys.readouterr().err.strip().split("\n")
    refused, volumes = warnings
    assert "1 of 3 files" in refused and "noise.png" in refused and "normal.png" not in refused
    assert "volume.nii.gz" in volumes and "--volumes" in volumes


@pytest.mark.parametrize(
    "argv",
    [
        ["detect", "x.png", "--out", "O", "--detector", "CK"],
        ["check", "x.png", "--detector", "CK"],
        ["calibrate", "--detector", "CK", "--healthy", "H"],
        ["sample", "--out", "O", "--detector", "CK"],
    ],
)
def test_the_detector_checkpoint_is_named_detector_in_every_command(argv):
    """The same flag names the detector checkpoint everywhere (`ask`, `chat`, `report` and the
    app already used `--detector`); `--model` stays as these commands' older spelling."""
    from assistant.cli import build_parser

    args = build_parser().parse_args(argv)
    assert args.model == "CK"
    older = build_parser().parse_args([a if a != "--detector" else "--model" for a in argv])
    assert older.model == "CK"


def test_the_evaluation_scripts_take_detector_too():
    import argparse
    import importlib

    for name in ("eval.volumes", "eval.detection", "eval.real_volumes", "eval.mslub"):
        module = importlib.import_module(name)
        parser = None
        original = argparse.ArgumentParser.parse_args

        def capture(self, args=None, namespace=None):
            nonlocal parser
            parser = self
            raise SystemExit(0)

        argparse.ArgumentParser.parse_args = capture
        try:
            with pytest.raises(SystemExit):
                module.main([])
        finally:
            argparse.ArgumentParser.parse_args = original
        assert "--detector" in parser._option_string_actions, name
