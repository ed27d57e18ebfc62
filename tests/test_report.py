"""Draft findings: sections linked to evidence, Markdown / JSON / validated FHIR R4(B)."""

from __future__ import annotations

import base64
import json

from assistant_fixtures import LEFT_BRIGHT, RIGHT_DARK, scan_summary, synthetic_result

from assistant.analysis import build_evidence
from assistant.evidence import EvidenceItem
from assistant.report import draft_report


def evidence(lesions, with_retrieval=True):
    ev = build_evidence(synthetic_result(lesions), scan_summary())
    if with_retrieval:
        ev.items += [
            EvidenceItem("C1", "case", "Synthetic hyperintense lesion, left.", 0.8, {}),
            EvidenceItem("K1", "knowledge", "Hyperintensity: increased signal.", 0.5, {}),
        ]
    return ev


def test_sections_link_every_finding_sentence_to_its_evidence():
    report = draft_report(evidence([LEFT_BRIGHT, RIGHT_DARK]), scan_hash="ab" * 32)
    finding_sents = [s for s in report.findings if s.evidence and s.evidence[0].startswith("F")]
    assert [s.evidence for s in finding_sents] == [["F1"], ["F2"]]
    assert "left" in finding_sents[0].text and "hyperintense" in finding_sents[0].text
    assert "right" in finding_sents[1].text and "hypointense" in finding_sents[1].text
    assert any(s.evidence == ["C1"] for s in report.findings)
    assert report.impression[0].evidence == ["F1", "F2"]
    assert "may correspond" in report.impression[0].text  # careful wording, no diagnosis
    assert report.impression[-1].text == "Draft for review; research use only."
    assert all(s.source != "evidence" or s.evidence for s in report.findings + report.impression)
    assert report.evidence_ids() == ["F1", "F2", "C1", "K1"]
    assert set(report.evidence_ids()) <= evidence([LEFT_BRIGHT]).ids() | {"F2"}


def test_markdown_and_json():
    report = draft_report(evidence([LEFT_BRIGHT]))
    md = report.to_markdown()
    for heading in ("## Technique", "## Findings", "## Impression"):
        assert heading in md
    assert "[F1]." in md and "Research use only" in md
    data = json.loads(report.to_json())
    assert data["findings"][0]["evidence"] == ["F1"]
    assert data["evidence"][0] == "F1"
    assert report.to_text().startswith("Technique: ")


def test_healthy_report():
    report = draft_report(evidence([], with_retrieval=False))
    assert report.findings[0].source == "detector"
    assert "No focal" in report.findings[0].text
    assert report.impression[0].text.startswith("No focal abnormality")
    assert report.evidence_ids() == []


def test_fhir_diagnostic_report_validates():
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    ev = evidence([LEFT_BRIGHT, RIGHT_DARK])
    report = draft_report(ev, scan_hash="cd" * 32)
    text = report.to_fhir_json(ev.by_kind("finding"))
    resource = DiagnosticReport.model_validate_json(text)  # validation round trip
    data = json.loads(text)
    assert data["resourceType"] == "DiagnosticReport" and data["status"] == "preliminary"
    assert data["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "18748-4",
        "display": "Diagnostic imaging study",
    }
    obs = data["contained"]
    assert [o["id"] for o in obs] == ["f1", "f2"]
    assert [r["reference"] for r in data["result"]] == ["#f1", "#f2"]
    area = next(c for c in obs[0]["component"] if c["code"]["text"] == "area")
    assert area["valueQuantity"]["code"] == "mm2"
    assert abs(area["valueQuantity"]["value"] - 64 * 0.9 * 1.2) < 0.01
    assert "[F1][F2]" in data["conclusion"] or "[F1]" in data["conclusion"]
    md = base64.b64decode(data["presentedForm"][0]["data"]).decode()
    assert md == report.to_markdown()
    assert resource.id == "draft-" + "cd" * 8
    assert "subject" not in data  # de-identified: no patient reference


def test_fhir_without_findings():
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    ev = evidence([], with_retrieval=False)
    text = draft_report(ev).to_fhir_json(ev.by_kind("finding"))
    data = json.loads(text)
    DiagnosticReport.model_validate(data)
    assert "result" not in data and "contained" not in data
    assert data["conclusion"].startswith("No focal abnormality")


def test_report_states_the_confidence_as_a_calibrated_probability():
    from assistant.findings import CONFIDENCE_DEFINITION, CONFIDENCE_NAME

    # LEFT_BRIGHT: confidence 0.8 at a peak equal to the image threshold (0.4): not "high"
    ev = evidence([LEFT_BRIGHT, RIGHT_DARK])
    report = draft_report(ev)
    f1, f2 = (s.text for s in report.findings[:2])
    calibrated = "as calibrated on healthy and synthetic-lesion validation scans)"
    assert (
        f"(confidence 0.80, moderate: an estimated 80% probability of being a true lesion, {calibrated}"
        in f1
    )
    assert (
        f"(confidence 0.30, low: an estimated 30% probability of being a true lesion, {calibrated}"
        in f2
    )
    assert "high" not in f1 + f2
    assert any(s.text == CONFIDENCE_DEFINITION for s in report.findings)
    data = json.loads(report.to_fhir_json(ev.by_kind("finding")))
    comps = {c["code"]["text"]: c for c in data["contained"][0]["component"]}
    assert comps[CONFIDENCE_NAME]["valueQuantity"]["value"] == 0.8
    assert comps["confidence level"]["valueString"] == "moderate"
    assert "detector confidence" not in comps


def test_report_of_an_uncalibrated_confidence_does_not_call_it_a_probability():
    from assistant.findings import CONFIDENCE_FALLBACK_DEFINITION

    ev = evidence([LEFT_BRIGHT])
    ev.by_kind("finding")[0].data["confidence_level"] = "uncalibrated"
    report = draft_report(ev)
    text = report.to_text()
    assert "confidence 0.80, uncalibrated: not calibrated for this detector setting" in text
    assert "probability of being a true lesion" not in text
    assert CONFIDENCE_FALLBACK_DEFINITION in text
    data = json.loads(report.to_fhir_json(ev.by_kind("finding")))
    names = [c["code"]["text"] for c in data["contained"][0]["component"]]
    assert any(n.startswith("detector confidence (uncalibrated") for n in names)


def test_a_slice_of_a_volume_is_reported_as_one_slice_of_it():
    """A volume is analysed on one slice: the technique says which, and that the rest of the
    volume was not analysed (not "Single 2D slice")."""
    summary = {
        **scan_summary(),
        "source_shape": [120, 256, 256],
        "slice_index": 76,
        "registered": {"level_mm": 23.0, "slice_index": 76},
    }
    report = draft_report(build_evidence(synthetic_result([]), summary))
    technique = " ".join(s.text for s in report.technique)
    assert "Single 2D" not in technique
    assert "3D MRI volume (120 × 256 × 256 voxels)" in technique
    assert "Only one of this volume's 120 axial slices was analysed: slice 76" in technique
    assert "MNI z = +23 mm" in technique and "nothing can be said about other levels" in technique
    plain = draft_report(build_evidence(synthetic_result([]), scan_summary()))
    assert "Single 2D MRI slice" in plain.technique[0].text
    assert not any("volume" in s.text for s in plain.technique)
