"""The applicability check inside the analysis (issue 13): out of domain, no finding is
asserted and every answer, report and JSON says why; analysed anyway, everything is marked
unreliable; in domain, nothing changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.chat import Assistant
from assistant.examples import EXAMPLES_DIR
from assistant.responders.grounded import GroundedResponder
from assistant.scan import Scan, load_scan


@pytest.fixture(scope="module")
def bot():
    testing = pytest.importorskip("assistant.detector.testing")
    return Assistant(
        detector=testing.tiny_detector(), responder=GroundedResponder(), use_retrieval=False
    )


def gradient() -> Scan:
    """A smooth gradient: no head, nothing like a T1 brain slice."""
    pixels = np.tile(np.linspace(0, 255, 128, dtype=np.float32), (128, 1))
    return Scan(pixels=pixels, spacing=None, format="png")


def test_out_of_domain_asserts_no_finding_and_says_why(bot):
    state = bot.analyze(gradient())
    assert state.applicability is not None and not state.applicability.in_domain
    assert state.result is None and not state.unreliable
    ids = [i.id for i in state.evidence.items]
    assert ids == ["A1"]
    assert state.evidence.out_of_domain and state.evidence.applicability["reasons"]
    answer = bot.answer(state, "Is there an abnormality?")
    assert answer.text.startswith("I can't tell") and answer.evidence == ["A1"]
    assert "does not apply" in answer.text
    report = bot.report(state)
    data = json.loads(report.to_json())
    assert data["applicability"]["in_domain"] is False and data["unreliable"] is False
    assert "A1" in data["evidence"]
    assert "does not apply" in report.to_text()
    assert "deviating" not in report.to_text()


def test_a_whole_brain_detector_does_not_say_volumes_are_cut_at_one_level():
    # a level-aware detector analyses a volume at every brain level: the advice for an image
    # outside its domain says so, not that a volume "is registered and sliced at that level"
    from assistant.detector.levels import with_level_embedding

    testing = pytest.importorskip("assistant.detector.testing")
    det = testing.tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    assert det.level_aware
    aware = Assistant(detector=det, responder=GroundedResponder(), use_retrieval=False)
    state = aware.analyze(gradient())
    assert state.evidence.items[0].data["whole_brain"] is True
    text = aware.answer(state, "Is there an abnormality?").text
    assert text.startswith("I can't tell") and "does not apply" in text
    assert "analyses at every axial brain level" in text
    assert "single 2D slices at one level only" in text
    assert "sliced at that level" not in text
    # the shipped kind of detector keeps its one-level advice
    plain = Assistant(
        detector=testing.tiny_detector(), responder=GroundedResponder(), use_retrieval=False
    )
    bot_answer = plain.answer(plain.analyze(gradient()), "Is there an abnormality?").text
    assert "sliced at that level" in bot_answer and "every axial brain level" not in bot_answer
    assert "whole_brain" not in plain.analyze(gradient()).evidence.items[0].data


def test_a_slice_prepared_otherwise_gets_its_own_advice(bot):
    # an upside-down slice is the right kind of scan: the answer says how to fix it, not to
    # upload another kind of scan
    normal = load_scan(EXAMPLES_DIR / "mni_normal.png")
    turned = Scan(pixels=np.ascontiguousarray(normal.pixels[::-1]), format="png")
    answer = bot.answer(bot.analyze(turned), "Is there an abnormality?")
    assert answer.text.startswith("I can't tell") and "upside-down" in answer.text
    assert "front of the head is at the top" in answer.text
    assert "Upload an axial T1-weighted" not in answer.text
    assert answer.text.lower().count("analyse anyway") == 1  # said once, in the reason
    from scipy import ndimage

    tilted = Scan(
        pixels=ndimage.rotate(normal.pixels.astype(np.float32), 20, reshape=False), format="png"
    )
    answer = bot.answer(bot.analyze(tilted), "Is there an abnormality?")
    assert answer.text.startswith("I can't tell") and "turned by about 20 degrees" in answer.text
    assert "clockwise and upload it again" in answer.text
    assert "Upload an axial T1-weighted" not in answer.text
    assert answer.text.lower().count("analyse anyway") == 1
    other = bot.answer(bot.analyze(gradient()), "Is there an abnormality?")
    assert "Upload an axial T1-weighted brain MRI at that level" in other.text


def test_thick_slices_get_their_own_advice(bot):
    """A volume cut into 6 mm slices: the answer gives the thickness reason and names
    "analyse anyway" once, without asking for another kind of scan."""
    from assistant.domain import load_domain_model

    t = load_domain_model().head_template
    px = np.asarray(t["volume"], np.float32)[:, ::-1, :] * 1000.0
    n = px.shape[0] // 3
    slabs = px[: 3 * n].reshape(n, 3, *px.shape[1:]).mean(axis=1)
    thick = Scan(pixels=np.ascontiguousarray(slabs), spacing=(6.0, 2.0, 2.0), format="nifti")
    answer = bot.answer(bot.analyze(thick), "Is there anything wrong with this brain MRI?")
    assert answer.text.startswith("I can't tell") and "6 mm thick" in answer.text
    assert "Upload an axial T1-weighted" not in answer.text
    assert answer.text.lower().count("analyse anyway") == 1


def test_a_very_noisy_scan_gets_its_own_advice(bot):
    """A T1 slice with noise of 8% of its tissue signal: the answer gives the noise reason and
    names "analyse anyway" once, without asking for another kind of scan."""
    from assistant.domain.align2d import template_slice
    from assistant.domain.noise import bright_level

    clean = np.clip(template_slice(), 0, 1).astype(np.float32) * 1000.0
    rng = np.random.default_rng(3)
    sigma = 0.08 * bright_level(clean)
    noisy = np.sqrt(
        (clean + rng.normal(0, sigma, clean.shape)) ** 2 + rng.normal(0, sigma, clean.shape) ** 2
    )
    scan = Scan(pixels=noisy.astype(np.float32), format="png")
    answer = bot.answer(bot.analyze(scan), "Is there anything wrong with this brain MRI?")
    assert answer.text.startswith("I can't tell") and "too noisy" in answer.text
    assert "Upload an axial T1-weighted" not in answer.text
    assert answer.text.lower().count("analyse anyway") == 1


def test_analysed_anyway_is_unreliable_everywhere(bot):
    state = bot.analyze(gradient(), anyway=True)
    assert state.unreliable and state.result is not None and state.result.unreliable
    assert all(f.unreliable for f in state.result.findings + state.result.weak_findings)
    d1 = state.evidence.by_kind("detector")[0]
    assert d1.text.startswith("UNRELIABLE")
    answer = bot.answer(state, "Is there an abnormality?")
    assert answer.text.startswith("Unreliable") and "A1" in answer.evidence
    report = bot.report(state)
    assert json.loads(report.to_json())["unreliable"] is True
    for sentence in report.findings + report.impression[:-1]:
        assert sentence.text.startswith("UNRELIABLE")
    fhir = json.loads(report.to_fhir_json(state.evidence.by_kind("finding")))
    assert "UNRELIABLE" in fhir["conclusion"]
    # rethresholding keeps the mark
    again = state.result.rethreshold(2.0)
    assert again.unreliable and all(f.unreliable for f in again.findings)


def test_a_ct_is_refused_from_its_metadata(bot):
    scan = load_scan(EXAMPLES_DIR / "mni_normal.png")
    ct = Scan(pixels=scan.pixels, spacing=scan.spacing, modality="CT", format="dicom")
    state = bot.analyze(ct)
    assert not state.applicability.in_domain and state.result is None
    assert any("CT" in r for r in state.applicability.reasons)


@pytest.mark.parametrize("name", ["mni_normal.png", "mni_left_hyperintense.png"])
def test_brain_slices_at_the_trained_level_are_analysed_as_before(bot, name):
    state = bot.analyze(load_scan(EXAMPLES_DIR / name))
    assert state.applicability.in_domain and not state.unreliable
    assert state.result is not None and not state.result.unreliable
    assert not state.evidence.by_kind("applicability")
    assert state.evidence.items[0].id == "D1"


def test_a_thin_slab_is_analysed_at_the_level_the_check_chose(bot):
    volume = load_scan(EXAMPLES_DIR / "mni_left_volume.nii.gz")  # 9 slices: too thin to register
    state = bot.analyze(volume)
    app = state.applicability
    assert app.in_domain, app.reasons
    assert abs(app.level - app.trained_level) <= app.level_tolerance
    assert state.slice_index == app.slice_index == state.result.slice_index


@pytest.mark.shared
def test_a_head_volume_is_analysed_on_its_registered_slice(bot):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "shared/data/ixi-hh-t1-2mm/val"
    paths = sorted(folder.glob("*.nii.gz"))
    if not paths:
        pytest.skip("needs ../shared/data/ixi-hh-t1-2mm")
    volume = load_scan(paths[0])
    state = bot.analyze(volume)
    app = state.applicability
    assert app.in_domain, app.reasons
    registered = state.scan_summary["registered"]
    assert state.slice_index == registered["slice_index"]
    assert state.result.image.shape == (233, 197)  # the training grid
    n = volume.pixels.shape[0]
    for f in state.result.findings + state.result.weak_findings:
        z, _, _ = f.native_voxel
        assert 0 <= z < n and f.slice_index == z


def test_llm_prompt_carries_the_applicability_item(bot):
    from assistant.prompts import build_evidence_block, load_prompt

    block = build_evidence_block(bot.analyze(gradient()).evidence)
    assert "[A1] APPLICABILITY: The anomaly detector does not apply" in block
    assert "[A1]" in load_prompt("system").path.read_text()


@pytest.mark.shared
def test_a_volume_is_registered_once_for_all_its_slices(bot, monkeypatch):
    from pathlib import Path

    import assistant.domain.check as check

    folder = Path(__file__).resolve().parents[2] / "shared/data/ixi-hh-t1-2mm/val"
    paths = sorted(folder.glob("*.nii.gz"))
    if not paths:
        pytest.skip("needs ../shared/data/ixi-hh-t1-2mm")
    calls = []
    real = check.register_volume
    monkeypatch.setattr(check, "register_volume", lambda *a, **k: calls.append(1) or real(*a, **k))
    volume = load_scan(paths[-1])
    first = bot.analyze(volume)
    other = bot.analyze(volume, first.slice_index + 1)
    assert len(calls) == 1 and other.applicability.in_domain


@pytest.mark.parametrize(
    ("meta", "question", "said"),
    [
        (
            {"RepetitionTime": 4000.0, "EchoTime": 100.0, "ScanningSequence": "SE"},
            "Is there anything wrong with this brain MRI?",
            ("T2-weighted series", "TE 100 ms", "T1-weighted series"),
        ),
        (
            {"RepetitionTime": 500.0, "EchoTime": 12.0, "ContrastAgent": "given"},
            "Is there an enhancing lesion?",
            ("post-contrast series", "not been measured", "pre-contrast T1"),
        ),
    ],
)
def test_a_series_refused_from_its_header_gets_its_own_advice(bot, meta, question, said):
    """A DICOM header that marks a T2-weighted series (its echo time) or a post-contrast one (a
    contrast agent): the answer says so and asks for the study's (pre-contrast) T1 series,
    naming "analyse anyway" once."""
    from assistant.domain.align2d import template_slice

    pixels = np.clip(template_slice(), 0, 1).astype(np.float32) * 1000.0
    state = bot.analyze(Scan(pixels=pixels, modality="MR", format="dicom", metadata=meta))
    assert not state.applicability.in_domain
    answer = bot.answer(state, question)
    assert answer.text.startswith("I can't tell")
    assert all(words in answer.text for words in said), answer.text
    assert "Upload an axial T1-weighted" not in answer.text
    assert answer.text.lower().count("analyse anyway") == 1
