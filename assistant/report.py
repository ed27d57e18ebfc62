"""Draft findings (Technique / Findings / Impression) built from the evidence, and their export.

Every sentence of a `DraftReport` carries the evidence ids it rests on (F1.. findings, C1..
similar cases, K1.. knowledge); sentences that rest on the scan header or the detector's
image-level result name that source instead. Exports:

- Markdown (`to_markdown`) and plain text (`to_text`, what the grounded responder answers);
- JSON (`to_dict`);
- HL7 FHIR: `to_fhir()` returns a `DiagnosticReport` (status "preliminary", LOINC 18748-4
  "Diagnostic imaging study") whose findings are contained `Observation`s referenced from
  `result`, with the impression as `conclusion` and the Markdown as `presentedForm`. It is
  built and validated with `fhir.resources` (v8). That package ships FHIR R5 at its top level and
  R4B (4.3.0) in `fhir.resources.R4B`; it has no plain R4 subpackage, so the R4B models are used.
  DiagnosticReport and Observation are unchanged between R4 and R4B, so the JSON is valid R4.

No identifier ever enters a report: the inputs are the de-identified evidence and the scan hash.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal

from assistant import DISCLAIMER
from assistant.evidence import Evidence, EvidenceItem, analysed_scope
from assistant.findings import (
    CONFIDENCE_DEFINITION,
    CONFIDENCE_FALLBACK_DEFINITION,
    CONFIDENCE_NAME,
    confidence_level,
    confidence_meaning,
    position_words,
)
from assistant.scan.dicom.series import loaded_series_sentence

logger = logging.getLogger(__name__)

Source = Literal["evidence", "scan", "detector", "disclaimer"]
MODALITY_NAMES = {
    "MR": "MRI",
    "CT": "CT",
    "CR": "radiograph",
    "DX": "radiograph",
    "US": "ultrasound",
    "PT": "PET",
}


@dataclass
class ReportSentence:
    """One sentence and what it rests on (evidence ids, or the scan/detector summary)."""

    text: str
    evidence: list[str] = field(default_factory=list)
    source: Source = "evidence"

    def cited(self) -> str:
        """The sentence with its evidence ids appended as [F1][C2]."""
        if not self.evidence:
            return self.text
        ids = "".join(f"[{i}]" for i in self.evidence)
        if self.text.endswith("."):
            return f"{self.text[:-1]} {ids}."
        return f"{self.text} {ids}"


@dataclass
class DraftReport:
    technique: list[ReportSentence]
    findings: list[ReportSentence]
    impression: list[ReportSentence]
    scan_hash: str | None = None
    # the applicability check (`Applicability.to_dict()`; None: not run) and whether the
    # detector's results are unreliable (analysed although outside its domain)
    applicability: dict | None = None
    unreliable: bool = False
    # the detector's image threshold: a finding's confidence word is never "high" just above it
    score_threshold: float | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    disclaimer: str = DISCLAIMER

    def sections(self) -> dict[str, list[ReportSentence]]:
        return {
            "Technique": self.technique,
            "Findings": self.findings,
            "Impression": self.impression,
        }

    def evidence_ids(self) -> list[str]:
        ids = [i for sents in self.sections().values() for s in sents for i in s.evidence]
        return list(dict.fromkeys(ids))

    def to_text(self) -> str:
        """Plain text: one "Section:" paragraph per section, ids cited inline."""
        return "\n".join(
            f"{name}: " + " ".join(s.cited() for s in sents)
            for name, sents in self.sections().items()
        )

    def to_markdown(self) -> str:
        lines = ["# Draft findings (for review)", ""]
        for name, sents in self.sections().items():
            lines += [f"## {name}", ""] + [f"- {s.cited()}" for s in sents] + [""]
        lines += [f"_{self.disclaimer}_", ""]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "technique": [asdict(s) for s in self.technique],
            "findings": [asdict(s) for s in self.findings],
            "impression": [asdict(s) for s in self.impression],
            "evidence": self.evidence_ids(),
            "scan_hash": self.scan_hash,
            "applicability": self.applicability,
            "unreliable": self.unreliable,
            "created": self.created,
            "disclaimer": self.disclaimer,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_fhir(self, finding_items: list[EvidenceItem] | None = None):
        """A validated FHIR R4(B) `DiagnosticReport` (see the module docstring)."""
        return to_fhir(self, finding_items or [])

    def to_fhir_json(self, finding_items: list[EvidenceItem] | None = None) -> str:
        report = self.to_fhir(finding_items)
        return report.model_dump_json(exclude_none=True, indent=2)


def _technique(evidence: Evidence) -> list[ReportSentence]:
    s = evidence.scan_summary or {}
    d = evidence.detector_summary or {}
    modality = str(s.get("modality") or "OT")
    kind = MODALITY_NAMES.get(modality, "image" if modality == "OT" else modality)
    shape = s.get("shape") or []
    dims = " × ".join(str(v) for v in shape[-2:]) if shape else "unknown size"
    sp = s.get("spacing_mm")
    spacing = f", {sp[-2]:g} × {sp[-1]:g} mm pixels" if sp and len(sp) >= 2 else ""
    source = s.get("source_shape") or []
    if len(source) >= 3:  # one slice analysed out of a volume: say so, and which
        volume = " × ".join(str(v) for v in source)
        out = [
            ReportSentence(
                f"One axial slice ({dims} pixels{spacing}) of a 3D {kind} volume ({volume} "
                f"voxels), {s.get('format', 'unknown')} input.",
                source="scan",
            ),
            ReportSentence(analysed_scope(s), source="scan"),
        ]
        series = loaded_series_sentence(s.get("notes") or [])
        if series:  # of a whole study: which series was read, and how it was chosen
            out.insert(1, ReportSentence(series, source="scan"))
    else:
        out = [
            ReportSentence(
                f"Single 2D {kind} slice ({dims} pixels{spacing}), "
                f"{s.get('format', 'unknown')} input.",
                source="scan",
            )
        ]
    if d:
        method = d.get("method") or "diffusion"
        out.append(
            ReportSentence(
                f"Analysed by a diffusion-model anomaly detector trained on healthy scans only "
                f"({method} method), comparing the slice with its pseudo-healthy reconstruction.",
                source="detector",
            )
        )
    else:
        out.append(ReportSentence("Anomaly detection was not run.", source="detector"))
    if s.get("patient_left") is None:
        out.append(
            ReportSentence(
                "Patient orientation is not recorded; left and right refer to the image.",
                source="scan",
            )
        )
    return out


def _finding_sentence(
    item: EvidenceItem,
    spacing: tuple[float, float] | None,
    threshold: float | None = None,
    resampled: bool = False,
) -> str:
    """One finding as a report sentence. `resampled`: the analysed image is a volume's plane
    resampled at one MNI level, which crosses several native slices; a finding's slice is then
    the native slice nearest its centre, said as such (not "on slice 99" beside "slice 97 was
    analysed")."""
    f = item.data
    if f["side"] == "midline":
        where = "at the midline"
    elif f.get("side_frame") == "patient":
        where = f"in the patient's {f['side']} side"
    else:
        where = f"on the image {f['side']}"
    if f.get("area_mm2") is not None:
        size = f"approximately {f['area_mm2']:.0f} mm²"
        if spacing:
            r0, c0, r1, c1 = f["bbox"]
            size += f" ({(r1 - r0) * spacing[0]:.0f} × {(c1 - c0) * spacing[1]:.0f} mm)"
    else:
        size = f"{f['area_px']} pixels (no pixel spacing)"
    slice_note = ""
    if f.get("slice_index") is not None:
        slice_note = (
            f" (its centre nearest native slice {f['slice_index']})"
            if resampled
            else f" on slice {f['slice_index']}"
        )
    ap, depth = position_words(f)
    return (
        f"A {f['intensity']} region {where}{slice_note}, {ap} and {depth}, {size}, deviates from "
        "the healthy training distribution "
        f"(confidence {f['confidence']:.2f}, {confidence_level(f, threshold)}: "
        f"{confidence_meaning(f)})."
    )


def _confidence_sentence(findings: list[EvidenceItem]) -> ReportSentence:
    """What the findings' confidence means (the definition shared with the answers, README)."""
    fallback = any(f.data.get("confidence_level") == "uncalibrated" for f in findings)
    return ReportSentence(
        CONFIDENCE_FALLBACK_DEFINITION if fallback else CONFIDENCE_DEFINITION, source="detector"
    )


def _score_sentence(d: dict) -> ReportSentence | None:
    score, thr = d.get("score"), d.get("score_threshold")
    if score is None:
        return None
    if thr is None:
        text = f"Image anomaly score {score:.3g}; the detector is uncalibrated (no threshold)."
    else:
        rel = "above" if score > thr else "below"
        close = 0.67 < score / thr < 1.5 if thr > 0 else False
        text = f"Image anomaly score {score:.3g}, {rel} the calibrated threshold of {thr:.3g}"
        text += " (close to the threshold, so uncertain)." if close else "."
    return ReportSentence(text, source="detector")


def draft_report(evidence: Evidence, scan_hash: str | None = None) -> DraftReport:
    """Technique / Findings / Impression from the evidence alone (deterministic)."""
    d = evidence.detector_summary or {}
    findings = evidence.by_kind("finding")
    volume_all = evidence.by_kind("volume_finding")  # 3D findings of a whole-volume analysis
    volume = [v for v in volume_all if not v.data.get("weak")]  # weak: one level only
    cases = evidence.by_kind("case")
    knowledge = evidence.by_kind("knowledge")
    sp_raw = (evidence.scan_summary or {}).get("spacing_mm")
    spacing = (float(sp_raw[-2]), float(sp_raw[-1])) if sp_raw and len(sp_raw) >= 2 else None

    thr = d.get("score_threshold")
    resampled = bool((evidence.scan_summary or {}).get("registered"))
    body: list[ReportSentence] = [
        ReportSentence(_finding_sentence(f, spacing, thr, resampled), [f.id]) for f in findings
    ]
    if not findings and d:
        where = " on the displayed slice" if volume else ""
        body.append(
            ReportSentence(
                f"No focal region{where} deviates from the healthy training distribution above "
                "the detector's threshold.",
                source="detector",
            )
        )
    body += [
        ReportSentence(f"In 3D, over the analysed levels: {v.text}.", [v.id]) for v in volume_all
    ]
    if findings or volume:
        body.append(_confidence_sentence(findings or volume))
    score = _score_sentence(d)
    if score:
        body.append(score)
    if cases:
        sims = ", ".join(
            f"{c.id}" + (f" (similarity {c.score:.2f})" if c.score is not None else "")
            for c in cases[:3]
        )
        body.append(
            ReportSentence(
                f"Most similar library cases: {sims}; these are other cases, not this patient.",
                [c.id for c in cases[:3]],
            )
        )

    impression: list[ReportSentence] = []
    if findings or volume:
        main = volume or findings  # a volume's 3D findings, else the slice's
        n = len(main)
        top = main[0].data
        where = " in 3D" if volume else ""
        impression.append(
            ReportSentence(
                f"{n} region{'s' if n > 1 else ''}{where} deviating from healthy anatomy, the "
                f"most prominent {top['intensity']} on the {top['side']} "
                f"({'patient' if top.get('side_frame') == 'patient' else 'image'} side); this "
                "may correspond to a focal abnormality and needs clinical correlation.",
                [f.id for f in findings + volume],
            )
        )
        if knowledge:
            impression.append(
                ReportSentence(
                    "Retrieved reference text that may be relevant to this pattern is cited for "
                    "context only.",
                    [k.id for k in knowledge[:3]],
                )
            )
    elif d:
        impression.append(
            ReportSentence(
                "No focal abnormality detected by the anomaly detector; small or subtle "
                "abnormalities can be missed.",
                source="detector",
            )
        )
    else:
        impression.append(
            ReportSentence("No detector result is available for this scan.", source="detector")
        )
    impression.append(ReportSentence("Draft for review; research use only.", source="disclaimer"))
    technique = _technique(evidence)
    if str((d.get("params") or {}).get("calibration", "")).endswith("+unregistered"):
        technique.append(
            ReportSentence(
                "The slice was not registered to the detector's training space and was judged "
                "with thresholds for unregistered 2D slices (fewer false alarms, lower "
                "sensitivity).",
                ["D1"],
            )
        )
    report = DraftReport(technique, body, impression, scan_hash=scan_hash, score_threshold=thr)
    return _with_applicability(report, evidence)


def _with_applicability(report: DraftReport, evidence: Evidence) -> DraftReport:
    """Out of the detector's domain (evidence item A1): the technique says why, and no finding
    is asserted; analysed anyway, every detector sentence is marked unreliable."""
    report.applicability = evidence.applicability
    report.unreliable = evidence.unreliable
    items = evidence.by_kind("applicability")
    if not items:
        return report
    a1 = items[0]
    report.technique.append(ReportSentence(a1.text, [a1.id]))
    if evidence.unreliable:
        for s in report.findings + report.impression:
            if s.source != "disclaimer":
                s.text = "UNRELIABLE (outside the detector's domain): " + s.text
        return report
    report.findings = [
        ReportSentence(
            "No detector findings are asserted: the image is outside the detector's domain.",
            [a1.id],
        )
    ]
    report.impression = [
        ReportSentence(
            "The anomaly detector does not apply to this image, so this draft makes no statement "
            "about abnormality.",
            [a1.id],
        ),
        report.impression[-1],
    ]
    return report


def to_fhir(report: DraftReport, finding_items: list[EvidenceItem]):
    """Build and validate a FHIR R4B `DiagnosticReport` (findings as contained Observations)."""
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    by_id = {s.evidence[0]: s for s in report.findings if len(s.evidence) == 1}
    observations = [
        _fhir_observation(item, by_id.get(item.id), report.score_threshold)
        for item in finding_items
    ]
    markdown = report.to_markdown().encode("utf-8")
    resource = {
        "resourceType": "DiagnosticReport",
        "id": f"draft-{report.scan_hash[:16]}" if report.scan_hash else "draft",
        "status": "preliminary",
        "category": [{"coding": [_RADIOLOGY]}],
        "code": {
            "coding": [_IMAGING_STUDY],
            "text": "Anomaly detection draft findings (research use only)",
        },
        "issued": report.created,
        "contained": [o.model_dump(exclude_none=True) for o in observations],
        "result": [{"reference": f"#{o.id}"} for o in observations] or None,
        "conclusion": " ".join(s.cited() for s in report.impression),
        "presentedForm": [
            {
                "contentType": "text/markdown",
                "language": "en",
                "data": base64.b64encode(markdown).decode("ascii"),
                "title": "Draft findings",
            }
        ],
    }
    return DiagnosticReport.model_validate({k: v for k, v in resource.items() if v is not None})


_RADIOLOGY = {
    "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
    "code": "RAD",
    "display": "Radiology",
}
_IMAGING_STUDY = {
    "system": "http://loinc.org",
    "code": "18748-4",
    "display": "Diagnostic imaging study",
}


def _fhir_quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def _fhir_observation(
    item: EvidenceItem, sentence: ReportSentence | None, threshold: float | None = None
):
    """A validated FHIR R4B `Observation` of one finding (its report sentence as the value)."""
    from fhir.resources.R4B.observation import Observation

    f = item.data
    uncalibrated = f.get("confidence_level") == "uncalibrated"
    name = (
        "detector confidence (uncalibrated: fraction of healthy validation scans below this peak)"
        if uncalibrated
        else CONFIDENCE_NAME
    )
    components = [
        {"code": {"text": "laterality"}, "valueString": f"{f['side']} ({f['side_frame']} side)"},
        {
            "code": {"text": "position"},
            "valueString": f"{f['anterior_posterior']}, {f['central_peripheral']}",
        },
        {"code": {"text": "relative intensity"}, "valueString": f["intensity"]},
        {
            "code": {"text": name},
            "valueQuantity": _fhir_quantity(round(float(f["confidence"]), 4), "1"),
        },
        {"code": {"text": "confidence level"}, "valueString": confidence_level(f, threshold)},
    ]
    if f.get("area_mm2") is not None:
        components.append(
            {
                "code": {"text": "area"},
                "valueQuantity": _fhir_quantity(round(float(f["area_mm2"]), 2), "mm2"),
            }
        )
    return Observation.model_validate(
        {
            "resourceType": "Observation",
            "id": item.id.lower(),
            "status": "preliminary",
            "code": {"text": "Region deviating from healthy anatomy (anomaly detector)"},
            "valueString": sentence.text if sentence else item.text,
            "component": components,
        }
    )
