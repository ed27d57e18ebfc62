"""`assistant ask`, `assistant chat` and `assistant report` on real files; no identifier leaks."""

from __future__ import annotations

import argparse
import io
import json

import numpy as np
import pytest
from conftest import PLANTED

from assistant.cli import main


def planted_tokens() -> list[str]:
    """Every planted value and every name part of it (e.g. "Plantedname" from a PN)."""
    tokens = set()
    for value in PLANTED.values():
        tokens.add(value)
        tokens.update(p for p in value.replace("^", " ").split() if len(p) >= 4)
    tokens -= {"call", "Jane", "Street", "Avenue", "General", "Hospital", "study", "comment"}
    return sorted(tokens)


def assert_no_identifiers(text: str) -> None:
    for token in planted_tokens():
        assert token.lower() not in text.lower(), f"identifier {token!r} leaked"
    assert "scan.dcm" not in text  # nor the file name


def chat_args(scan, **overrides) -> argparse.Namespace:
    """The namespace `assistant chat` parses: no detector, no retrieval, every option unset."""
    values = dict(
        scan=str(scan),
        slice=None,
        detector=None,
        library=None,
        no_detector=True,
        no_retrieval=True,
        responder=None,
        model=None,
        quantization=None,
        max_new_tokens=None,
        audit_log=None,
        anyway=False,
        spacing=None,
    )
    values.update(overrides)
    return argparse.Namespace(**values)


@pytest.fixture(scope="module")
def detector_dir(tmp_path_factory):
    """A tiny random, calibrated detector saved as a checkpoint folder (for --detector)."""
    import torch

    testing = pytest.importorskip(
        "assistant.detector.testing", reason="assistant.detector.testing not in this build yet"
    )
    detector = testing.tiny_detector()
    return detector.model.save(tmp_path_factory.mktemp("detector") / "ckpt", dtype=torch.float32)


def detector_args(request) -> list[str]:
    if request.param == "no-detector":
        return ["--no-detector"]
    return ["--detector", str(request.getfixturevalue("detector_dir"))]


@pytest.fixture(params=["no-detector", "tiny-detector"])
def det(request) -> list[str]:
    return detector_args(request)


def test_ask_json_leaks_no_identifiers(planted_dicom, det, capsys):
    rc = main(
        ["ask", str(planted_dicom), "Is there an abnormality?", "--json", "--no-retrieval", *det]
    )
    assert rc == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data["answer"], str) and data["answer"]
    assert set(data["evidence"]) <= {e["id"] for e in data["analysis"]["evidence"]}
    assert data["intent"] == "presence" and data["responder"] == "grounded"
    assert data["analysis"]["scan"]["modality"] == "CT"
    if det == ["--no-detector"]:
        assert data["answer"].startswith("I can't tell")
    else:  # a CT: refused from its metadata, no detector result asserted
        assert data["answer"].startswith("I can't tell")
        assert data["evidence"] == ["A1"] and "CT" in data["answer"]
        assert not any(e["id"].startswith(("D", "F")) for e in data["analysis"]["evidence"])
    assert_no_identifiers(out)


def test_report_fhir_leaks_no_identifiers(planted_dicom, det, tmp_path, capsys):
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    out_file = tmp_path / "report" / "fhir.json"
    rc = main(
        [
            "report",
            str(planted_dicom),
            "--format",
            "fhir",
            "--no-retrieval",
            "--out",
            str(out_file),
            *det,
        ]
    )
    assert rc == 0
    text = out_file.read_text()
    report = DiagnosticReport.model_validate_json(text)
    assert report.status == "preliminary"
    assert_no_identifiers(text + capsys.readouterr().out)


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_report_formats_to_stdout(planted_dicom, fmt, capsys):
    assert (
        main(["report", str(planted_dicom), "--format", fmt, "--no-detector", "--no-retrieval"])
        == 0
    )
    out = capsys.readouterr().out
    if fmt == "md":
        assert "## Technique" in out and "## Impression" in out and "CT" in out
    else:
        assert json.loads(out)["impression"][0]["text"].startswith("No detector result")
    assert_no_identifiers(out)


def test_ask_streams_plain_text(planted_dicom, capsys):
    assert (
        main(["ask", str(planted_dicom), "Is this a CT?", "--no-detector", "--no-retrieval"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Yes. The scan's header gives the modality as CT")


def test_chat_loop_keeps_history(planted_dicom):
    from assistant.commands.ask import run_chat

    args = chat_args(planted_dicom)
    stdin = io.StringIO("Is this an MRI?\n\nWhat is the weather?\nquit\nIs it big?\n")
    stdout = io.StringIO()
    assert run_chat(args, stdin=stdin, stdout=stdout) == 0
    text = stdout.getvalue()
    assert text.count("> ") == 4  # three questions (one blank line), then quit
    assert "No. The scan's header gives the modality as CT" in text
    assert "I can only answer questions about this scan" in text
    assert "Is it big" not in text and "nothing to measure" not in text  # after quit
    assert_no_identifiers(text)


def test_bad_scan_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    assert main(["ask", str(bad), "Is there an abnormality?", "--no-detector"]) == 2
    assert "not a recognised scan format" in capsys.readouterr().err


def test_spacing_option_gives_sizes_in_mm(detector_dir, capsys):
    """`ask --spacing 0.5` on a PNG (no spacing of its own): sizes in mm², said so in the JSON;
    without it the JSON says the sizes are pixels of the original image."""
    from assistant.examples import EXAMPLES_DIR

    png = str(EXAMPLES_DIR / "mni_left_hyperintense.png")
    base = [
        "ask",
        png,
        "How big is it?",
        "--json",
        "--no-retrieval",
        "--detector",
        str(detector_dir),
    ]
    assert main(base) == 0
    px = json.loads(capsys.readouterr().out)["analysis"]
    assert px["sizes"]["unit"] == "px" and px["scan"]["spacing_mm"] is None
    assert px["findings"] and all(f["area_mm2"] is None for f in px["findings"])
    assert main([*base, "--spacing", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    mm = data["analysis"]
    assert mm["sizes"] == {
        "unit": "mm²",
        "spacing_mm": [0.5, 0.5],
        "spacing_source": "user",
        "image_shape": [233, 197],
        "note": "sizes in mm² (pixel spacing 0.5 × 0.5 mm, given by the user)",
    }
    assert mm["scan"]["spacing_mm"] == [0.5, 0.5]
    assert [f["area_mm2"] for f in mm["findings"]] == [
        # area_mm2 is rounded to 0.1 mm²: up to 0.05 off (exactly 0.05 for an odd pixel count)
        pytest.approx(f["area_px"] * 0.25, abs=0.06)
        for f in px["findings"]
    ]
    assert "mm²" in data["answer"]


def test_spacing_option_is_refused_for_a_scan_with_its_own(planted_dicom, capsys):
    argv = ["--no-detector", "--no-retrieval", "--spacing", "0.5"]
    assert main(["report", str(planted_dicom), *argv]) == 2
    err = capsys.readouterr().err
    assert "carries its own pixel spacing" in err and "leave it out" in err
    assert_no_identifiers(err)
    assert (
        main(["ask", str(planted_dicom), "Is this a CT?", "--spacing", "0.661468", *argv[:2]]) == 0
    )
    assert capsys.readouterr().out.startswith("Yes")  # the same value: accepted


def test_chat_says_what_sizes_are_in(tmp_path):
    from PIL import Image

    from assistant.commands.ask import run_chat

    path = tmp_path / "gray.png"
    Image.fromarray(np.full((40, 50), 90, np.uint8)).save(path)
    args = chat_args(path, spacing=(0.7,))
    stdout = io.StringIO()
    assert run_chat(args, stdin=io.StringIO("quit\n"), stdout=stdout) == 0
    assert "sizes in mm² (pixel spacing 0.7 × 0.7 mm, given by the user)" in stdout.getvalue()
    args.spacing = None
    stdout = io.StringIO()
    assert run_chat(args, stdin=io.StringIO("quit\n"), stdout=stdout) == 0
    assert "sizes in pixels of the original 40 × 50 image" in stdout.getvalue()


def test_ask_preset_chooses_the_detector_setting(detector_dir, capsys):
    """`--preset` picks the method's preset (the JSON says which made the results); an unknown
    one is a clear error that lists the presets."""
    from assistant.examples import EXAMPLES_DIR

    scan = str(EXAMPLES_DIR / "mni_normal.png")
    base = ["ask", scan, "Is there an abnormality?", "--json", "--no-retrieval", "--anyway"]
    base += ["--detector", str(detector_dir)]
    assert main(base) == 0
    default = json.loads(capsys.readouterr().out)["analysis"]
    assert (default["method"], default["preset"]) == ("thor", "fast")
    assert main([*base, "--preset", "faster"]) == 0
    faster = json.loads(capsys.readouterr().out)["analysis"]
    assert (faster["method"], faster["preset"]) == ("thor", "faster")
    assert main([*base, "--preset", "quickest"]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'quickest'" in err and "faster-x2" in err
