"""Answers about what surrounds the findings: the heatmap and the pseudo-healthy image, similar
cases and reference text, the detector's confidence, the scan's modality, a draft report, and
the refusals (signs the detector does not assess, out-of-scope and unknown questions).
"""

from __future__ import annotations

import re

from assistant.prompts import refusal_text
from assistant.report import draft_report
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import CAPABILITIES, cite, safe_excerpt


def heatmap(c: CaseFacts) -> str:
    if not c.detection_ran:
        return f"There is no heatmap: {c.no_findings()}."
    thr = c.detector.get("pixel_threshold")
    text = (
        "The heatmap (anomaly map) shows, for every pixel, how much the scan differs from the "
        "detector's pseudo-healthy reconstruction: the brighter (redder) an area, the more it "
        "deviates from the healthy training distribution."
    )
    if thr is not None:
        text += f" Pixels above the calibrated threshold ({thr:.3g}) form the findings."
    if c.findings:
        text += (
            " "
            + "; ".join(
                f"{t.id}: peak {t.data['peak_anomaly']:.3g}, "
                f"mean {t.data['mean_anomaly']:.3g}, "
                f"{c.side_phrase(t.data)} {cite(t.id)}"
                for t in c.targets
            )
            + "."
        )
    else:
        text += f" Here {c.no_findings()}; faint low-level signal is expected everywhere."
    return text + (
        " The map shows deviation, not a diagnosis: artefacts and normal variants can also "
        "light up." + c.uncertainty()
    )


def pseudo_healthy(c: CaseFacts) -> str:
    if not c.detection_ran:
        return f"There is no pseudo-healthy reconstruction: {c.no_findings()}."
    text = (
        "The pseudo-healthy image is the detector's estimate of how this scan would look "
        "without the anomaly, made by a diffusion model trained only on healthy scans."
    )
    if c.findings:
        text += (
            " "
            + "; ".join(
                f"In {t.id} the scan is "
                f"{'brighter' if t.data['intensity_delta'] > 0 else 'darker'}"
                f" than the reconstruction by {abs(t.data['intensity_delta']):.2f} "
                f"(0-1 scale) {cite(t.id)}"
                for t in c.targets
            )
            + "."
        )
    else:
        text += f" It closely matches the scan: {c.no_findings()}."
    return text + " It is a model estimate, not a real image of the patient."


def similar_cases(c: CaseFacts) -> str:
    cases = c.evidence.by_kind("case")
    if not cases:
        return (
            "No similar case was found in the case library above the minimum similarity, so "
            "I can't compare this scan with other cases."
        )
    listing = "; ".join(
        f"{i.id}"
        + (f" (similarity {i.score:.2f})" if i.score is not None else "")
        + f': "{safe_excerpt(i.text)}" {cite(i.id)}'
        for i in cases
    )
    return (
        f"The most similar cases in the library are: {listing}. Similar cases are other "
        "(or synthetic) cases, not this patient; their reports do not transfer to this scan."
    )


def explanation(c: CaseFacts) -> str:
    knowledge = c.evidence.by_kind("knowledge")
    cases = c.evidence.by_kind("case")
    if not c.findings and not c.detector.get("is_abnormal"):
        return f"There is nothing to explain: {c.no_findings()}." + c.uncertainty()
    text = (
        "This cannot be determined from the detector's output: it reports regions that deviate "
        "from healthy anatomy, not their cause."
    )
    if c.findings:
        text += " " + "; ".join(c.describe(t) for t in c.targets) + "."
    if knowledge:
        text += (
            " Retrieved reference text that may be relevant: "
            + "; ".join(f'{k.id}: "{safe_excerpt(k.text)}" {cite(k.id)}' for k in knowledge[:3])
            + "."
        )
    if cases:
        text += (
            " Similar cases in the library were reported as: "
            + "; ".join(f'"{safe_excerpt(k.text, 120)}" {cite(k.id)}' for k in cases[:2])
            + "."
        )
    if not knowledge and not cases:
        text += " No reference text or similar case was retrieved, so I can't suggest causes."
    return text + (
        " Any of these may or may not correspond to this scan; interpretation needs a "
        "clinician with the full study and history."
    )


def report(c: CaseFacts) -> str:
    return draft_report(c.evidence).to_text()


def modality(c: CaseFacts) -> str:
    s = c.evidence.scan_summary or {}
    modality = str(s.get("modality") or "OT")
    names = {"MR": "MRI", "CT": "CT", "CR": "X-ray", "DX": "X-ray", "US": "ultrasound"}
    names |= {"PT": "PET", "NM": "nuclear medicine", "MG": "mammography"}
    fmt = s.get("format", "unknown")
    if modality in ("OT", "", "unknown"):
        known = None
        text = (
            f"The {fmt} file does not record its imaging modality, so I can't tell from the "
            "evidence."
        )
    else:
        known = names.get(modality, modality)
        text = f"The scan's header gives the modality as {modality} ({known})."
    asked = re.search(r"\b(mri|mr|ct|x-?ray|ultrasound|pet)\b", c.q)
    if c.closed and asked and known is not None:
        want = {"mr": "MRI", "mri": "MRI", "ct": "CT", "pet": "PET"}.get(
            asked.group(1), "X-ray" if "ray" in asked.group(1) else "ultrasound"
        )
        text = f"{'Yes' if want == known else 'No'}. " + text
    elif c.closed and asked:
        text = "Unknown. " + text
    notes = " ".join(str(n) for n in s.get("notes", []))
    plane = re.search(r"\b(axial|coronal|sagittal) slice \d+", notes)
    if plane:
        text += f" The slice shown is an {plane.group(0)} of a volume."
    return text


def confidence(c: CaseFacts) -> str:
    if not c.detection_ran:
        return f"I can't say: {c.no_findings()}."
    text = (
        "Confidence comes from two numbers: each finding's confidence (how far it rises "
        "above the calibrated pixel threshold) and the image score against its threshold."
    )
    if c.findings:
        text += (
            " "
            + "; ".join(
                f"{t.id}: confidence {t.data['confidence']:.2f} ({c.confidence_word(t.data)}) "
                f"{cite(t.id)}"
                for t in c.targets
            )
            + "."
        )
    else:
        text += f" Here {c.no_findings()}."
    return (
        text
        + c.uncertainty()
        + (
            " The detector was trained on healthy scans only: it can flag normal variants or "
            "artefacts and miss subtle abnormalities."
        )
    )


def unassessable(c: CaseFacts, term: str) -> str:
    text = (
        f"I can't tell: the detector does not assess that ({term}) specifically; it only "
        "reports regions that deviate from the healthy training distribution."
    )
    if c.findings:
        return text + " It found: " + "; ".join(c.describe(t) for t in c.targets) + "."
    if c.detection_ran:
        return text + f" Here {c.no_findings()}."
    return text


def out_of_scope(c: CaseFacts) -> str:
    return " ".join(refusal_text(CAPABILITIES).split())


def unknown(c: CaseFacts) -> str:
    return (
        "I can't answer that from the evidence available for this scan. I can answer "
        f"questions about {CAPABILITIES}."
    )
