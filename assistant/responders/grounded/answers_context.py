"""Answers about what surrounds the findings: the heatmap and the pseudo-healthy image, similar
cases and reference text, what a finding can represent and what would clarify it, the detector's
confidence, the scan's modality, a draft report, and the refusals (signs the detector does not
assess, out-of-scope and unknown questions).

Cause and next-step answers are written for a clinician or researcher, colleague to colleague:
what such a region can represent in general terms and what would clarify it, never a diagnosis or
a management recommendation for the patient. Their general statements are the project's own
reference notes (`REFERENCE_NOTES`, shipped as passages "SA:..." of
`retrieval/data/knowledge.jsonl`); an answer cites a note's K id when retrieval put that note
in the evidence for this scan.
"""

from __future__ import annotations

import re

from assistant.evidence import EvidenceItem
from assistant.findings import CONFIDENCE_DEFINITION, CONFIDENCE_FALLBACK_DEFINITION, size_bin
from assistant.prompts import refusal_text
from assistant.report import draft_report
from assistant.responders.grounded.case import CaseFacts, threshold_band
from assistant.responders.grounded.wording import cite, safe_excerpt
from assistant.scan.dicom.series import loaded_series_sentence

# What the grounded responder can answer; listed whenever a question is outside it.
ANSWERABLE = (
    "whether the detector found a region that deviates from healthy anatomy; where it is and on "
    "which side; its size; whether it is hyper- or hypointense; how many regions there are; what "
    "the heatmap and the pseudo-healthy image show; similar cases in the library; what such a "
    "finding can represent in general terms; what would clarify it (next steps); how confident "
    "the detector is; the imaging modality; and a draft report"
)

# The project's reference notes (retrieval/data/knowledge.jsonl, source "written for this
# project"): passage id -> the statement an answer makes from it.
T1_HYPO = "SA:focal-t1-hypointense"
T1_HYPER = "SA:focal-t1-hyperintense"
MIMICS = "SA:focal-lesion-mimics"
WORKUP = "SA:focal-lesion-workup"
REFERENCE_NOTES = (T1_HYPO, T1_HYPER, MIMICS, WORKUP)
CAN_REPRESENT = {
    "hypointense": (
        T1_HYPO,
        "a focal region darker than expected on T1 is non-specific: it can be fluid or tissue "
        "loss (a cyst, a resection cavity, an old infarct), tissue with more water (oedema, "
        "inflammation, demyelination, many tumours), blood products at some stages, or normal "
        "anatomy or artefact",
    ),
    "hyperintense": (
        T1_HYPER,
        "a focal region brighter than expected on T1 has fewer general causes: subacute blood "
        "products, fat, protein-rich fluid, melanin, some calcifications or mineral deposits, "
        "gadolinium if contrast was given, or artefact",
    ),
}
NARROW_DOWN = {
    "hypointense": (
        "comparison with prior imaging, the adjacent slices, FLAIR and T2, diffusion (DWI/ADC), "
        "SWI, contrast-enhanced T1 and the clinical history (for example previous surgery)"
    ),
    "hyperintense": (
        "whether contrast was given (and a pre-contrast T1), prior imaging, SWI, fat-suppressed "
        "images and the clinical history"
    ),
}
MIMIC_TEXT = (
    "such regions are often normal anatomy (CSF or perivascular spaces, vessels), "
    "partial-volume effects or registration artefacts"
)
NEGATIVE_MEANS = (
    "A negative result means only that this slice does not deviate from the healthy training "
    "scans enough to pass the detector's threshold. It does not exclude lesions on other slices, "
    "findings that show only on other sequences (FLAIR, DWI, SWI, contrast-enhanced T1), lesions "
    "too small or subtle for the threshold, or diffuse changes such as atrophy."
)
NOT_A_RECOMMENDATION = (
    "These are general considerations from a research tool, not a management recommendation "
    "for this patient."
)


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


# --------------------------------------------------------------- cause and next steps
_SUBJECT = (
    r"(?:(?:the|this|that|these|those) (?:lesion|finding|region|abnormality|area|spot)s?|"
    r"this|it|that|these|they|those|f\d+)"
)
_ENTITY_PATTERNS = [
    re.compile(rf"\b(?:could|can|might|may|would)\s+{_SUBJECT}\s+be\s+(?P<e>[^?.!]+)", re.I),
    re.compile(rf"^\s*(?:is|are)\s+{_SUBJECT}\s+(?P<e>[^?.!]+)", re.I),
    re.compile(
        r"\b(?:consistent|compatible) with\s+(?P<e>[^?.!]+)|\b(?:due to|caused by|a sign of|"
        r"suggestive of|represent|indicate)s?\s+(?P<f>[^?.!]+)",
        re.I,
    ),
]
_NOT_ENTITY = re.compile(
    r"^(?:be|mean|means|anything|something|it|this|that)$|"
    r"^(?:due to|caused|from|related|because)\b",
    re.I,
)


def asked_entity(question: str) -> str | None:
    """The condition or structure a cause question names ("a resection cavity" in "Is this a
    resection cavity?", "MS" in "Could this be MS?"), in the user's words; None for an open
    question ("What could this be?", "What could this be due to?"). Bracketed text is dropped
    (no citation can be forged), then only letters, digits, spaces, hyphens and apostrophes are
    kept, at most 60 characters."""
    for pattern in _ENTITY_PATTERNS:
        m = pattern.search(question)
        if not m:
            continue
        raw = next(g for g in m.groups() if g)
        entity = re.sub(r"[^\w\s'\-]", " ", re.sub(r"\[[^\]]*\]", " ", raw))
        entity = re.sub(r"\s+(?:or not|at all|here|in this (?:scan|image|patient))\s*$", "", entity)
        entity = " ".join(entity.split())[:60].strip()
        if entity and not _NOT_ENTITY.match(entity):
            return entity
    return None


def _whether(c: CaseFacts, entity: str) -> str:
    """ "I can't tell whether this is X" (or "these are X" for a plural question)."""
    plural = re.search(r"\b(?:these|they|those|(?:lesion|finding|region|area|spot)s)\b", c.q)
    return f"I can't tell whether {'these are' if plural else 'this is'} {entity}"


def _names_a_cause(question: str) -> bool:
    """Whether a question the resolver did not place asks if the finding is some condition or
    structure: "could it be X", "consistent with X", or "is this a/an X"."""
    entity = asked_entity(question)
    if entity is None or re.match(r"(?:your|my|you|our|me)\b", entity, re.I):
        return False
    closed = _ENTITY_PATTERNS[1].search(question)
    return not closed or bool(re.match(r"(?:an?)\s", closed.group("e"), re.I))


def _note(c: CaseFacts, passage_id: str) -> EvidenceItem | None:
    """The knowledge item in the evidence that is the reference note `passage_id`, if any."""
    for k in c.evidence.by_kind("knowledge"):
        if k.data.get("case_id") == passage_id:
            return k
    return None


def _cite_notes(c: CaseFacts, *passage_ids: str) -> str:
    """The citation (e.g. " [K2][K3]") of the reference notes among `passage_ids` that are in
    the evidence; "" when none is."""
    ids = [k.id for p in passage_ids if (k := _note(c, p)) is not None]
    return " " + cite(*dict.fromkeys(ids)) if ids else ""


def _size_class(c: CaseFacts, f: dict) -> str | None:
    shape = (c.evidence.scan_summary or {}).get("shape") or None
    try:
        return size_bin(f["area_px"], tuple(shape[-2:]) if shape else None, f.get("area_mm2"))
    except (KeyError, ValueError, TypeError):
        return None


def _by_intensity(items: list[EvidenceItem]) -> dict[str, list[EvidenceItem]]:
    """Findings (2D or 3D) grouped by intensity, in detector order."""
    groups: dict[str, list[EvidenceItem]] = {}
    for t in items:
        groups.setdefault(t.data.get("intensity", ""), []).append(t)
    return groups


def _names(items: list[EvidenceItem]) -> str:
    ids = [i.id for i in items]
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " and " + ids[-1]


def _mimic_candidates(c: CaseFacts) -> list[tuple[EvidenceItem, str]]:
    """Targeted findings that are small or at the midline (the likeliest normal variants), each
    with the reason ("small", "at the midline", "small and at the midline")."""
    out = []
    for t in c.targets:
        why = [
            w
            for w, yes in (
                ("small", _size_class(c, t.data) == "small"),
                ("at the midline", t.data.get("side") == "midline"),
            )
            if yes
        ]
        if why:
            out.append((t, " and ".join(why)))
    return out


def _mimic_sentence(c: CaseFacts) -> str:
    mimics = _mimic_candidates(c)
    if not mimics:
        return ""
    reasons: dict[str, list[EvidenceItem]] = {}
    for t, why in mimics:
        reasons.setdefault(why, []).append(t)
    which = "; ".join(
        f"{_names(items)} {'is' if len(items) == 1 else 'are'} {why}"
        for why, items in reasons.items()
    )
    return f" {which}: {MIMIC_TEXT}{_cite_notes(c, MIMICS)}."


def _low_confidence(c: CaseFacts) -> list[EvidenceItem]:
    return [t for t in c.targets if c.confidence_word(t.data).startswith("low")]


def _other_references(c: CaseFacts) -> str:
    """Retrieved passages other than the reference notes, and similar cases, quoted as data."""
    others = [
        k for k in c.evidence.by_kind("knowledge") if k.data.get("case_id") not in REFERENCE_NOTES
    ]
    cases = c.evidence.by_kind("case")
    text = ""
    if others:
        text += (
            " Other retrieved reference text (matched to the finding's description, not to this "
            "scan): "
            + "; ".join(f'{k.id}: "{safe_excerpt(k.text)}" {cite(k.id)}' for k in others[:3])
            + "."
        )
    if cases:
        text += (
            " Similar cases in the library were reported as: "
            + "; ".join(f'"{safe_excerpt(k.text, 120)}" {cite(k.id)}' for k in cases[:2])
            + " (other cases, not this patient)."
        )
    return text


def _weak_note(c: CaseFacts) -> str:
    if not c.weak:
        return ""
    return (
        f" {_names(c.weak)} exceeded the pixel threshold but not the image threshold "
        f"{cite(*[w.id for w in c.weak])}: weak evidence that may be noise or normal variation."
    )


def explanation(c: CaseFacts) -> str:
    """What the finding(s) can represent in general terms, what would narrow it down, and that
    the detector does not diagnose; "I can't tell whether this is X" when a cause is named."""
    entity = asked_entity(c.question)
    if not c.detection_ran:
        lead = _whether(c, entity) if entity else "I can't say what this is"
        return f"{lead}: {c.no_findings()}. I can answer questions about {ANSWERABLE}."
    if not c.findings:
        lead = (
            f"{_whether(c, entity)}; there is no finding to assess"
            if entity
            else "There is nothing to explain"
        )
        return f"{lead}: {c.no_findings()}. {NEGATIVE_MEANS}" + _weak_note(c) + _image_level(c)
    text = _cause_lead(c, entity)
    text += " " + "; ".join(c.describe(t) for t in c.targets) + "."
    text += _in_general(c, c.targets)
    text += _mimic_sentence(c)
    low = _low_confidence(c)
    if low:
        text += (
            f" {_names(low)} {'has' if len(low) == 1 else 'have'} low detector confidence "
            f"{cite(*[t.id for t in low])}, so {'it' if len(low) == 1 else 'they'} may be a "
            "false positive."
        )
    return text + _other_references(c) + " None of this is a diagnosis for this scan."


def _cause_lead(c: CaseFacts, entity: str | None) -> str:
    """The first sentence of a cause answer: the detector reports deviation, not its cause."""
    if entity:
        return (
            f"{_whether(c, entity)}: that cannot be determined from the detector's output, which "
            "reports regions that deviate from the healthy T1 scans it was trained on "
            "(including normal variants and artefacts), not their cause."
        )
    return (
        "This cannot be determined from the detector's output: it reports regions that "
        "deviate from the healthy T1 scans it was trained on (including normal variants and "
        "artefacts), not their cause."
    )


def _in_general(c: CaseFacts, items: list[EvidenceItem]) -> str:
    """What regions of each intensity among `items` (2D or 3D findings) can represent in
    general terms, and what would narrow it down, cited to the reference notes."""
    text = ""
    for intensity, group in _by_intensity(items).items():
        if intensity not in CAN_REPRESENT:
            continue
        passage, statement = CAN_REPRESENT[intensity]
        text += (
            f" In general terms ({_names(group)}), {statement}{_cite_notes(c, passage)}."
            f" What would narrow it down: {NARROW_DOWN[intensity]}"
            f"{_cite_notes(c, passage, WORKUP)}."
        )
    return text


def _common_steps(k_all: str) -> list[str]:
    """The next-step lines every finding shares: priors, other sequences, contrast."""
    return [
        "- comparison with prior imaging: new, growing, stable or shrinking" + k_all,
        "- the other sequences of the study: FLAIR and T2 (oedema, gliosis, demyelination, "
        "fluid), diffusion with ADC (acute ischaemia, abscess, very cellular tissue), SWI or T2* "
        "(blood products, calcification)" + k_all,
        "- contrast-enhanced T1, where clinically appropriate: enhancement suggests "
        "blood-brain barrier breakdown" + k_all,
    ]


TRAINED_ON_HEALTHY = (
    "The detector was trained on healthy scans only: it can flag normal variants or artefacts, "
    "and it can miss small or subtle abnormalities"
)


def next_steps(c: CaseFacts) -> str:
    """What would clarify the finding(s), colleague to colleague and non-prescriptive; with no
    finding, what a negative result of this detector does and does not exclude. A yes/no
    question ("Would you recommend repeat imaging?") is told that this evidence can't settle
    that decision, then gets the same general considerations."""
    lead = (
        "That is a clinical decision that this evidence can't settle on its own. "
        if c.closed
        else ""
    )
    if not c.detection_ran:
        return (
            f"{lead}I can't say what would clarify a finding: {c.no_findings()}. I can answer "
            f"questions about {ANSWERABLE}."
        )
    if not c.findings:
        return (
            f"{lead}There is no finding to work up: {c.no_findings()}. {NEGATIVE_MEANS}"
            + _weak_note(c)
            + " If there is a clinical question, the full study (all slices and sequences) and a "
            "radiologist's read address it, not this detector."
            + _image_level(c)
            + " "
            + NOT_A_RECOMMENDATION
        )
    groups = _by_intensity(c.targets)
    notes = [CAN_REPRESENT[i][0] for i in groups if i in CAN_REPRESENT]
    k_all = _cite_notes(c, *notes, WORKUP)
    steps = []
    check = list({t.id: t for t in _low_confidence(c) + [t for t, _ in _mimic_candidates(c)]})
    if check:
        items = [t for t in c.targets if t.id in check]
        steps.append(
            f"- first, whether {_names(items)} {'is' if len(items) == 1 else 'are'} real: the "
            "heatmap and the slices above and below (small, midline or low-confidence regions "
            "are often normal anatomy, partial-volume effects or artefacts"
            f"{_cite_notes(c, MIMICS)})"
        )
    priors, sequences, contrast = _common_steps(k_all)
    steps += [priors, _extent_step(c) + _cite_notes(c, WORKUP, MIMICS), sequences]
    if "hyperintense" in groups:
        bright = groups["hyperintense"]
        steps.append(
            f"- for the bright region{'s' if len(bright) > 1 else ''} ({_names(bright)}): "
            "whether contrast was already given, a pre-contrast T1 and fat-suppressed images"
            + _cite_notes(c, T1_HYPER)
        )
    steps += [
        contrast,
        "- clinical correlation: symptoms, history such as previous surgery or known disease"
        + k_all,
        "- a radiologist's read of the full study" + _cite_notes(c, WORKUP),
    ]
    found = "; ".join(c.describe(t) for t in c.targets)
    return (
        f"{lead}{found}. In general terms, these would clarify "
        f"{'it' if len(c.targets) == 1 else 'them'}:\n"
        + "\n".join(steps)
        + "\n\n"
        + _image_level(c).strip()
        + (" " if _image_level(c) else "")
        + NOT_A_RECOMMENDATION
    )


def _extent_step(c: CaseFacts) -> str:
    """The next-steps line on the finding's extent: what of the scan this evidence covers (a
    2D image, one slice of a volume, the levels of a volume the detector analysed)."""
    s = c.evidence.scan_summary or {}
    shape = s.get("source_shape")
    if not shape or len(shape) < 3:
        return (
            "- the rest of the study: this evidence is one 2D image, so the extent in 3D is "
            "not known"
        )
    whole = s.get("volume_analysis") or {}
    levels = whole.get("levels_mm") or []
    if whole.get("level_aware"):
        return (
            "- the adjacent slices at full resolution: the detector analysed every brain level, "
            "and its 3D findings give the extent it saw, which may not be the lesion's"
        )
    if levels:
        native = whole.get("native_slices")
        where = f" (native slices {native[0]}-{native[1]})" if native else ""
        return (
            f"- the rest of the volume: the detector analysed only the {len(levels)} levels it "
            f"was trained for{where}, so the extent beyond them and any finding at other "
            "levels are not known"
        )
    return (
        "- the rest of the volume: this evidence is one of its axial slices, so the extent in "
        "3D is not known"
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
    if re.search(r"\b(slice (number|index)|(which|what) (slice|level))\b", c.q):
        return _which_slice_shown(s)  # "Which slice number is this?"
    if plane:
        text += f" The slice shown is an {plane.group(0)} of a volume."
    series = loaded_series_sentence(s.get("notes", []))
    return f"{text} {series}" if series else text


def _which_slice_shown(s: dict) -> str:
    """Which slice of a volume is shown (and the MNI level it was resampled at), or that the
    image is a single 2D slice."""
    shape, index = s.get("source_shape"), s.get("slice_index")
    if not shape or len(shape) < 3 or index is None:
        return "This image is a single 2D slice, not part of a volume."
    level = (s.get("registered") or {}).get("level_mm")
    at = "" if level is None else f", resampled at about MNI z = {level:+.0f} mm"
    return f"Axial slice {index} of this volume's {shape[0]} (numbered from 0){at}."


def _image_level(c: CaseFacts) -> str:
    """The image score against its threshold in one sentence; a result near the threshold is
    "borderline" (not "uncertain", which would read as contradicting a finding's word)."""
    d = c.detector
    score, thr = d.get("score"), d.get("score_threshold")
    if score is None:
        return ""
    if thr is None:
        return (
            f" The detector has no calibrated threshold for this kind of scan (image score "
            f"{score:.3g}){c.d1()}, so its numbers are only indicative here."
        )
    where = threshold_band(score, thr)
    meaning = {
        "well above": "the image as a whole clearly deviates from healthy scans",
        "well below": "the image as a whole is close to the healthy scans",
    }.get(where, "a borderline call for the image as a whole")
    return (
        f" The image anomaly score is {score:.3g}, {where} the calibrated threshold of "
        f"{thr:.3g}{c.d1()}: {meaning}." + c.unregistered()
    )


def confidence(c: CaseFacts) -> str:
    """What the findings' confidence means (one sentence), each finding's number and word
    (`CaseFacts.confidence_word`), the image score against its threshold, and what the detector
    can get wrong. The image-level result is called borderline, never "uncertain", so that it
    does not read as contradicting a finding's word."""
    if not c.detection_ran:
        return f"I can't say: {c.no_findings()}."
    if c.findings:
        words = {t.id: c.confidence_word(t.data) for t in c.targets}
        means = (
            CONFIDENCE_FALLBACK_DEFINITION
            if any(w == "uncalibrated" for w in words.values())
            else CONFIDENCE_DEFINITION
        )
        text = (
            f"{means} Here: "
            + "; ".join(
                f"{t.id} {t.data['confidence']:.2f} ({words[t.id]}) {cite(t.id)}" for t in c.targets
            )
            + "."
        )
    else:
        text = f"There is no finding to be confident about: {c.no_findings()}." + _weak_note(c)
    text += _image_level(c)
    return text + f" {TRAINED_ON_HEALTHY} and anything outside this slice."


def unassessable(c: CaseFacts, term: str) -> str:
    """A sign or structure the detector does not assess ("Is there mass effect?"): "I can't
    tell", with what it did find. A next-step question that only names such a thing as a
    possible step ("Is a contrast-enhanced study worth doing?") gets the next-step answer, and a
    cause question naming it ("Could this be oedema?") the cause answer, which starts "I can't
    tell whether this is oedema": neither answers a different question."""
    if c.resolved.intent == "next_steps":
        return next_steps(c)
    if c.resolved.intent == "explanation" and asked_entity(c.question):
        return explanation(c)
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
    """The refusal for questions that are not about this scan, or that ask for personal medical
    advice (prompts/refusal.md, addressed neutrally), with what the assistant can answer."""
    return " ".join(refusal_text(ANSWERABLE).split())


def unknown(c: CaseFacts) -> str:
    """A question the assistant has no answer for: it says so, and what it can answer, rather
    than answering a different question. A question that names a possible cause ("Is this a
    resection cavity?") gets the cause answer, which starts "I can't tell whether this is ..."."""
    if _names_a_cause(c.question):
        return explanation(c)
    return (
        "I can't answer that from the evidence available for this scan: it is outside what "
        f"this assistant can assess. I can answer questions about {ANSWERABLE}."
    )


def about_volume(c: CaseFacts) -> str:
    """How sure / what could it be / what next, when the displayed slice has no finding but the
    volume analysis found 3D findings (V1..) at other levels: answered about those, never "there
    is no finding" (the displayed slice is not the whole scan)."""
    volume = c.volume_findings()
    listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
    found = (
        "Nothing was found on the displayed slice, but at other analysed levels of the volume "
        f"the detector found {len(volume)} region{'s' if len(volume) > 1 else ''} in 3D: "
        f"{listing}.{c.crossing(volume)}"
    )
    intent = c.resolved.intent
    if intent == "confidence":
        uncalibrated = any(v.data.get("confidence_level") == "uncalibrated" for v in volume)
        means = CONFIDENCE_FALLBACK_DEFINITION if uncalibrated else CONFIDENCE_DEFINITION
        each = "; ".join(
            f"{v.id} {float(v.data.get('confidence') or 0):.2f} "
            f"({v.data.get('confidence_level') or 'uncalibrated'}) {cite(v.id)}"
            for v in volume
        )
        return (
            f"{found} {means} Here (a 3D finding takes its strongest slice's number): {each}. "
            f"{TRAINED_ON_HEALTHY}."
        )
    if intent == "explanation":
        text = _cause_lead(c, asked_entity(c.question)) + " " + found + _in_general(c, volume)
        return text + " None of this is a diagnosis for this scan."
    # next steps
    lead = (
        "That is a clinical decision that this evidence can't settle on its own. "
        if c.closed
        else ""
    )
    k_all = _cite_notes(c, T1_HYPO, T1_HYPER, WORKUP)
    steps = [
        "- first, whether it is real: the heatmap on the finding's slices and the slices around "
        "them (regions found on one level only, small or low-confidence regions are often "
        f"normal anatomy, partial-volume effects or artefacts{_cite_notes(c, MIMICS)})",
        *_common_steps(k_all),
        "- clinical correlation and a radiologist's read of the full study"
        + _cite_notes(c, WORKUP),
    ]
    return (
        f"{lead}{found} In general terms, these would clarify "
        f"{'it' if len(volume) == 1 else 'them'}:\n"
        + "\n".join(steps)
        + "\n\n"
        + NOT_A_RECOMMENDATION
    )
