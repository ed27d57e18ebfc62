"""Problems a CLI user trial found (runs/cli1/REPORT.md rows 7, 8, 9, 14 and 16), each tested
on small synthetic files (no shared data, no downloaded model, no server)."""

from __future__ import annotations

import io
import json

import nibabel as nib
import numpy as np
import pytest
from conftest import nifti_ras_volume
from test_scan_study import T1, T2, write_study

from assistant.cli import main
from assistant.examples import EXAMPLES_DIR
from assistant.scan import ScanError, load_scan

PNG = str(EXAMPLES_DIR / "mni_normal.png")
QUICK = ["--no-detector", "--no-retrieval"]  # answers without models: moments per command
AFFINE = np.array(  # stored LAS (x runs right -> left), 1 x 2 x 3 mm voxels
    [[-1.0, 0, 0, 5.0], [0, 2.0, 0, -12.0], [0, 0, 3.0, -12.0], [0, 0, 0, 1.0]]
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_error_line(err: str) -> str:
    """The stderr of a refused command: exactly one `error:` line and no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def not_called(name: str):
    def fail(*args, **kwargs):
        raise AssertionError(f"{name} was called: the models loaded before the check")

    return fail


# --------------------------------------------------------------- #7 degenerate NIfTI affine


def nifti_with_header(path, **fields) -> str:
    """A NIfTI-1 file of `nifti_ras_volume` stored with `AFFINE` as sform and qform, whose
    header `fields` (e.g. sform_code, srow_x, quatern_b) are then overwritten in the bytes as
    they are (nibabel's save would rewrite them from the affine)."""
    img = nib.Nifti1Image(nifti_ras_volume(), AFFINE)
    img.header.set_xyzt_units("mm")
    img.set_qform(AFFINE, code=1)
    img.set_sform(AFFINE, code=1)
    raw = bytearray(img.to_bytes())
    header = nib.Nifti1Header.from_fileobj(io.BytesIO(bytes(raw[:348])))
    for key, value in fields.items():
        header[key] = value
    raw[:348] = header.binaryblock
    path.write_bytes(bytes(raw))
    return str(path)


def test_a_degenerate_sform_without_a_qform_is_a_scan_error(tmp_path, capsys):
    """The trial's file: the sform's first row all zeros, no qform: ScanError saying what is
    wrong and what is accepted (not nibabel's HeaderDataError), and exit 2 in every command."""
    path = nifti_with_header(tmp_path / "singular.nii", srow_x=[0, 0, 0, -90], qform_code=0)
    with pytest.raises(ScanError) as refused:
        load_scan(path)
    message = str(refused.value)
    assert "sform (sform_code 1) is degenerate" in message
    assert "no qform to fall back on" in message and "accepted:" in message
    for command in (["check", path], ["inspect", path], ["ask", path, "Anything?", *QUICK]):
        rc, _, err = run(capsys, *command)
        assert rc == 2
        assert "is degenerate" in one_error_line(err)


def test_a_degenerate_qform_without_an_sform_is_a_scan_error(tmp_path):
    path = nifti_with_header(tmp_path / "q.nii", sform_code=0, quatern_b=np.nan)
    with pytest.raises(ScanError, match=r"qform \(qform_code 1\) is degenerate .* no sform"):
        load_scan(path)


def test_a_degenerate_sform_gives_way_to_a_valid_qform_and_vice_versa(tmp_path):
    """With one valid transform the file is read with it, as if the other were absent: the
    same pixels, spacing and orientation; a note says so when the sform was set aside."""
    reference = load_scan(nifti_with_header(tmp_path / "ok.nii"))
    assert reference.patient_left == "image_left" and reference.spacing == pytest.approx(
        (3.0, 2.0, 1.0)
    )
    bad_sform = load_scan(nifti_with_header(tmp_path / "s.nii", srow_x=[0, 0, 0, 5]))
    bad_qform = load_scan(nifti_with_header(tmp_path / "q.nii", quatern_b=np.nan))
    for scan in (bad_sform, bad_qform):
        np.testing.assert_array_equal(scan.pixels, reference.pixels)
        assert scan.spacing == pytest.approx(reference.spacing, rel=1e-6)
        assert scan.patient_left == "image_left"
    assert any("sform is degenerate" in n and "from its qform" in n for n in bad_sform.notes)
    assert not any("degenerate" in n for n in bad_qform.notes)  # the sform is preferred anyway


# --------------------------------------------------------------- #8 responder errors


def test_a_model_that_is_not_downloaded_is_refused_before_anything_loads(
    tmp_path, capsys, monkeypatch
):
    import assistant.config

    monkeypatch.setattr(assistant.config, "build_assistant", not_called("build_assistant"))
    model = "nobody-here/not-downloaded-vlm"
    rc, out, err = run(
        capsys, "ask", PNG, "Anything?", "--responder", "transformers", "--model", model
    )
    assert rc == 2 and out == ""
    line = one_error_line(err)
    assert f"model '{model}' is not a local folder and is not in the Hugging Face cache" in line
    assert f"hf download {model}" in line
    missing = str(tmp_path / "no-such-model")
    rc, _, err = run(
        capsys, "ask", PNG, "Anything?", "--responder", "transformers", "--model", missing
    )
    assert rc == 2 and f"model folder '{missing}' does not exist" in one_error_line(err)


def test_an_unreachable_server_is_one_error_line(capsys, monkeypatch):
    """The OpenAI-compatible responder on a closed port: its own message (which names
    OPENAI_BASE_URL), exit 2, no traceback. The retries' waits are skipped."""
    import assistant.responders.openai_compat as openai_compat

    monkeypatch.setattr(openai_compat.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    rc, _, err = run(
        capsys, "ask", PNG, "Anything?", "--responder", "openai", "--model", "foo", *QUICK
    )
    assert rc == 2
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in err and len(errors) == 1
    assert "127.0.0.1:9" in errors[0] and "is the server running and reachable" in errors[0]


# --------------------------------------------------------------- #9 the series of a study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A study of two series: T2 (#2, 5 files) and T1 (#3, 6 files)."""
    folder = tmp_path_factory.mktemp("study") / "study"
    return str(write_study(folder, [(2, "AX T2 TSE", T2, 5), (3, "AX T1 SE", T1, 6)]))


SERIES = "'AX T1 SE' #3 MR (6 files)"


def test_plain_ask_names_the_series_it_read(study, capsys):
    rc, out, _ = run(capsys, "ask", study, "Is there an abnormality?", *QUICK)
    assert rc == 0
    assert (
        f"It is series {SERIES}, loaded from an upload of several series (chosen from their "
        "headers as the pre-contrast T1-weighted one)." in out
    )


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A tiny detector checkpoint calibrated for thor/fast only."""
    from assistant.detector.testing import tiny_checkpoint

    return str(tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt"))


@pytest.mark.parametrize("anyway", [False, True])
def test_detect_names_the_series_it_analysed(study, ckpt, tmp_path, capsys, anyway):
    """On stdout (the note `check` prints) and in findings.json, whether the series was
    refused by the check or analysed anyway."""
    pytest.importorskip("SimpleITK")
    out = tmp_path / "out"
    argv = ["detect", study, "--model", ckpt, "--out", str(out), "--slice-only"]
    rc, stdout, _ = run(capsys, *argv, *(["--anyway"] if anyway else []))
    assert rc == 0
    assert f"series {SERIES} was loaded of the 2 series in the folder" in stdout
    assert "'AX T2 TSE' #2 MR (5 files): T2-weighted" in stdout
    data = json.loads((out / "findings.json").read_text())
    assert data["series"] == SERIES and data["detected"] is anyway


# --------------------------------------------------------------- #14 a preset without thresholds


def test_a_preset_without_thresholds_is_named_before_the_run(ckpt, tmp_path, capsys, monkeypatch):
    """`detect --preset faster` on a checkpoint calibrated for thor/fast only: before the
    detector runs, stderr names the preset and the calibrated ones; afterwards it does not call
    the checkpoint uncalibrated."""
    import assistant.domain

    check = assistant.domain.check_applicability
    said_before: list[str] = []

    def check_then_run(*args, **kwargs):
        said_before.append(capsys.readouterr().err)
        return check(*args, **kwargs)

    monkeypatch.setattr(assistant.domain, "check_applicability", check_then_run)
    out = tmp_path / "out"
    argv = ["detect", PNG, "--model", ckpt, "--preset", "faster", "--anyway", "--out", str(out)]
    rc, _, err = run(capsys, *argv)
    assert rc == 0
    expected = "note: no thresholds for thor/faster in this checkpoint (calibrated: thor/fast)"
    assert said_before and expected in said_before[0]
    assert "no region is marked" in said_before[0]
    assert expected in err and "this checkpoint is uncalibrated" not in err
    assert json.loads((out / "findings.json").read_text())["score_threshold"] is None


def test_ask_names_a_preset_without_thresholds(ckpt, capsys):
    argv = ["ask", PNG, "Is there an abnormality?", "--json", "--no-retrieval", "--anyway"]
    rc, _, err = run(capsys, *argv, "--detector", ckpt, "--preset", "faster")
    assert rc == 0
    assert "no thresholds for thor/faster in this checkpoint (calibrated: thor/fast)" in err
    rc, _, err = run(capsys, *argv, "--detector", ckpt)
    assert rc == 0 and "no thresholds" not in err


def test_missing_thresholds_lists_the_same_methods_presets_first(tmp_path):
    from assistant.commands.presets import missing_thresholds
    from assistant.detector.model import Calibration
    from assistant.detector.testing import tiny_detector

    det = tiny_detector()
    assert missing_thresholds(det) is None  # thor/fast: calibrated
    calibration = det.model.config.calibration
    calibration["anoddpm/fast"] = Calibration()
    calibration["thor/fast+unregistered"] = Calibration()
    other = det.with_method("thor", "reference")
    assert missing_thresholds(other).startswith(
        "no thresholds for thor/reference in this checkpoint (calibrated: thor/fast, anoddpm/fast):"
    )
    calibration.clear()  # an uncalibrated checkpoint: said after the run, as before
    assert missing_thresholds(other) is None


# --------------------------------------------------------------- #16 small rough edges


def test_slice_of_a_2d_image_is_said_to_be_ignored(capsys):
    rc, out, err = run(capsys, "ask", PNG, "Is there an abnormality?", "--slice", "5", *QUICK)
    assert rc == 0 and out
    assert "note: --slice 5 is ignored: a 2D image has one slice" in err


def test_a_missing_scan_is_refused_before_the_models_load(tmp_path, capsys, monkeypatch):
    import assistant.config

    monkeypatch.setattr(assistant.config, "build_assistant", not_called("build_assistant"))
    monkeypatch.setattr(assistant.config, "build_analyzer", not_called("build_analyzer"))
    missing = str(tmp_path / "nonexistent.nii.gz")
    for argv in (["ask", missing, "hi"], ["report", missing], ["chat", missing]):
        rc, _, err = run(capsys, *argv)
        assert rc == 2
        assert one_error_line(err).startswith("error: no such file or folder (check the path)")


def test_check_names_the_native_slices_the_analysed_planes_cross():
    """#2 of the cli trial: `check` said "analysable slices: 77-79" where `ask`/`detect` said
    native slices 68-88 were analysed, and listed analysable slices for a refused volume."""
    from assistant.commands.check import format_verdict

    base = {
        "summary": "s",
        "level": 23.0,
        "trained_level": 23.0,
        "level_tolerance": 4.5,
        "typicality": 0.9,
        "typicality_threshold": 2.1,
        "slice_index": 78,
        "reasons": [],
    }
    checks = {"analysable_slices": [77, 78, 79], "crossed_slices": list(range(68, 89))}
    text = format_verdict({**base, "in_domain": True, "checks": checks})
    assert "analysable slices: 77-79 (their centre lies at the analysed levels)" in text
    assert "planes analysed cross native slices 68-88" in text
    refused = format_verdict({**base, "in_domain": False, "checks": checks, "reasons": ["r"]})
    assert "analysable slices: none (the scan is outside the detector's domain)" in refused


def test_a_finding_midway_and_deep_is_not_described_as_central_central():
    """`detect` printed "central, central" for a finding midway front-to-back and deep."""
    from assistant.findings import Finding

    f = Finding(
        id="F1", area_px=40, area_mm2=None, bbox=(30, 30, 36, 36), centroid=(33.0, 33.0),
        side="left", side_frame="patient", anterior_posterior="central",
        central_peripheral="central", intensity="hyperintense", intensity_delta=0.3,
        peak_anomaly=0.5, mean_anomaly=0.3, confidence=0.9,
    )  # fmt: skip
    text = f.describe()
    assert "midway front-to-back, deep (central)" in text and "central, central" not in text
