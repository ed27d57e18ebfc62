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
from dataclasses import replace

from assistant.evidence import EvidenceItem, analysed_scope
from assistant.findings import CONFIDENCE_DEFINITION, CONFIDENCE_FALLBACK_DEFINITION, size_bin
from assistant.prompts import refusal_text
from assistant.report import draft_report
from assistant.responders.grounded.case import CaseFacts, threshold_band
from assistant.responders.grounded.wording import BRIGHT_WORDS, DARK_WORDS, cite, safe_excerpt
from assistant.responders.intents.parse import (
    AGE_OF_A_LESION,
    ANALYSED_SLICES,
    COVERAGE,
    IDENTIFIERS_IN_FILE,
    IMAGE_ARTEFACT,
    PATIENT_IDENTITY,
    QUALITY,
    TRAINING_DOMAIN,
    TRUST_AN_EXPORT,
    WHAT_TO_UPLOAD,
    yes_no_question,
)
from assistant.responders.intents.text import normalise
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
NEGATIVE_MEANS_WHOLE = (
    "A negative result means only that no level of this volume deviates from the healthy "
    "training scans enough to pass the detector's thresholds. It does not exclude findings that "
    "show only on other sequences (FLAIR, DWI, SWI, contrast-enhanced T1), lesions too small or "
    "subtle for the thresholds, or diffuse changes such as atrophy."
)


def negative_means(c: CaseFacts) -> str:
    """What a negative result means, for a slice or for a volume analysed at every level."""
    return NEGATIVE_MEANS_WHOLE if c.whole_brain() else NEGATIVE_MEANS


NOT_A_RECOMMENDATION = (
    "These are general considerations from a research tool, not a management recommendation "
    "for this patient."
)


_ELSEWHERE = re.compile(
    r"\b(other|else|elsewhere|outside|apart from|besides|additional|another)\b|\bhot ?spots\b"
)


def heatmap(c: CaseFacts) -> str:
    if not c.detection_ran:
        return f"There is no heatmap: {c.no_findings()}."
    thr = c.detector.get("pixel_threshold")
    lead = ""
    if _WHICH_PART_LIT.search(c.q) and c.findings:
        lead = (
            "I can't tell from the detector's numbers: it reports each region as a whole (its "
            "peak and mean, and the share that deviates the other way), not which part of it is "
            "brightest on the map; the overlay in the app shows that pixel by pixel. "
        )
    text = lead + (
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
        if _ELSEWHERE.search(c.q):
            # "What does the map show outside the lesion? Any other hotspots?"
            ids = ", ".join(t.id for t in c.findings)
            if c.weak:
                weak = "; ".join(f"{w.id} {c.side_phrase(w.data)} {cite(w.id)}" for w in c.weak)
                text += (
                    f" Outside {ids}, {len(c.weak)} weaker region(s) exceeded the pixel threshold "
                    f"without reaching the image threshold (may be noise or normal variation): "
                    f"{weak}."
                )
            else:
                text += (
                    f" Outside {ids}, the detector kept no other region (neither a finding nor a "
                    "weaker region; specks of a few pixels are dropped as noise)."
                )
    elif c.weak:
        # "what does the heatmap show" with weaker regions only: they are what stands out on it
        weak = "; ".join(f"{w.id} {c.side_phrase(w.data)} {cite(w.id)}" for w in c.weak)
        text += (
            f" Here {c.no_findings()}; what stands out on it is {len(c.weak)} weaker region(s) "
            "that exceeded the pixel threshold without reaching the image threshold (may be noise "
            f"or normal variation): {weak}."
        )
    else:
        text += f" Here {c.no_findings()}; faint low-level signal is expected everywhere."
    return text + (
        " The map shows deviation, not a diagnosis: artefacts and normal variants can also "
        "light up." + c.uncertainty()
    )


# "Does it remove the lesion cleanly?", "How well did it reconstruct the tissue?": a judgement
# of the image that the numbers do not make
_HOW_WELL = re.compile(
    r"\b(remove\w*|erase\w*|replace\w*|fill\w*|reconstruct\w*|restore\w*|paint\w* out)\b.{0,40}"
    r"\b(clean\w*|complete\w*|fully|properly|well|entirely|convincing\w*|realistic\w*)\b|"
    r"\b(fully|completely|cleanly|entirely|properly|totally) (remove|erase|replace|fill|paint\w* "
    r"out|restore)\w*\b|\b(recon\w*|reconstruction|pseudo-?healthy)\b.{0,20}\bconvincing\b|"
    r"\bhow (well|good|realistic|convincing)\b"
)
# "Does the heatmap light up only the ring or the whole thing?": which part of a region
_WHICH_PART_LIT = re.compile(
    r"\b(light\w*|lit|highlight\w*|colou?r\w*|show\w*) up (only |just )?(the )?(ring|rim|edge|wall|"
    r"centre|center|core|margin)\b|\b(ring|rim|edge|wall|centre|center|core) or the whole\b"
)


def pseudo_healthy(c: CaseFacts) -> str:
    if not c.detection_ran:
        return f"There is no pseudo-healthy reconstruction: {c.no_findings()}."
    lead = ""
    if _HOW_WELL.search(c.q) and c.findings:
        lead = (
            "I can't judge that from the numbers: how cleanly the reconstruction replaces a "
            "region is seen by comparing the two images (the comparison slider in the app), and "
            "the detector measures only how much the scan differs from it. "
        )
    text = lead + (
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
    synthetic = [i.id for i in cases if i.data.get("synthetic")]
    if synthetic:
        kind = (
            f"{'All' if len(synthetic) == len(cases) else ' and '.join(synthetic) + ' of the'} "
            f"{len(cases)} retrieved case{'s' if len(cases) != 1 else ''} "
            f"{'are' if len(synthetic) > 1 else 'is'} synthetic (a lesion drawn on a template "
            "head), not real patients"
        )
    else:
        kind = "The retrieved cases are other patients' scans from the library"
    if _ASKS_REAL_CASES.search(c.q):
        # "Are the similar cases real patients?": answered first
        lead = ("No" if len(synthetic) == len(cases) else "Partly") if synthetic else "Yes"
        return f"{lead}: {kind[:1].lower() + kind[1:]}. They are: {listing}."
    return (
        f"The most similar cases in the library are: {listing}. {kind}; they are not this "
        "patient, and their reports do not transfer to this scan."
    )


_ASKS_REAL_CASES = re.compile(
    r"\b(real|actual|genuine|true) (patients?|people|cases?|scans?|humans?)\b|\bsynthetic\b|"
    r"\bsimulated\b|\bfake\b|\bmade[- ]up\b|\bartificial\b"
)


# --------------------------------------------------------------- cause and next steps
_SUBJECT = (
    r"(?:(?:the|this|that|these|those) (?:lesion|finding|region|abnormality|area|spot)s?|"
    r"this|it|that|these|they|those|f\d+)"
)
_ENTITY_PATTERNS = [
    # "is that ring thing the cause of her seizure?": the cause asked about, not the description
    re.compile(r"\b(?P<e>the (?:cause|reason|explanation) (?:of|for) [^?.!]+)", re.I),
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
    r"^(?:this|the|that) (?:brain|scan|image|slice|volume|mri|study|patient)$|"
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


_WEAK_WORDS = re.compile(
    r"\b(weak\w*|faint\w*|flagged|highlighted|sub-?threshold|borderline|marked|coloured|colored)"
    r"\b"
)


def _asked_weak(c: CaseFacts) -> list:
    """The weak regions (W1..) a question asks about: those it names, or all of them when it
    speaks of weak / flagged / highlighted areas; [] otherwise."""
    if not c.weak:
        return []
    named = [w for w in c.weak if re.search(rf"\b{w.id.lower()}\b", c.q)]
    if named:
        return named
    if _WEAK_WORDS.search(c.q):
        return list(c.weak)
    # "the mixed-signal region in the left occipital lobe": the weak regions it describes (by
    # signal and side), when it describes a region at all
    if not re.search(r"\b(region|area|spot|patch|blob|focus|lesion|thing)s?\b", c.q):
        return []
    wanted = [k for k, rx in _DESCRIBES.items() if rx.search(c.q)]
    if not wanted:
        return []
    return [
        w
        for w in c.weak
        if all(
            w.data.get("intensity") == k
            if k in ("mixed", "hyperintense", "hypointense")
            else w.data.get("side") == k
            for k in wanted
        )
    ]


_DESCRIBES = {
    "mixed": re.compile(r"\bmixed\b"),
    "hyperintense": BRIGHT_WORDS,
    "hypointense": DARK_WORDS,
    "left": re.compile(r"\bleft\b"),
    "right": re.compile(r"\bright\b"),
}


# "what this result means", "explain the output in simple terms"
_RESULT_MEANING = re.compile(
    r"\bwhat (this|the|that|these|my|his|her) (results?|outputs?|readings?|reports?) means?\b|"
    r"\bin (simple|plain|lay|layman'?s|everyday) (terms|words|english|language)\b"
)


def explanation(c: CaseFacts) -> str:
    """What the finding(s) can represent in general terms, what would narrow it down, and that
    the detector does not diagnose; "I can't tell whether this is X" when a cause is named."""
    entity = asked_entity(c.question)
    if not c.detection_ran:
        lead = _whether(c, entity) if entity else "I can't say what this is"
        return f"{lead}: {c.no_findings()}. I can answer questions about {ANSWERABLE}."
    if not c.findings and (asked := _asked_weak(c)):
        # "Could W1 be a vascular malformation?", "What could explain the flagged areas?": about
        # the weak regions the user sees, not "there is nothing to explain"
        lead = _whether(c, entity) if entity else "The detector cannot say what this is"
        one = len(asked) == 1
        return (
            f"{lead}: " + "; ".join(c.describe(w) for w in asked) + ". "
            f"{'It lies' if one else 'They lie'} below the image threshold, so "
            f"{'it is' if one else 'they are'} not reported as a finding: weak evidence that is "
            "most likely noise or normal variation." + _image_level(c)
        )
    if not c.findings:
        lead = (
            f"{_whether(c, entity)}; there is no finding to assess"
            if entity
            # "Can you explain in simple terms what this result means?"
            else "The result is negative"
            if _RESULT_MEANING.search(c.q)
            else "There is nothing to explain"
        )
        return f"{lead}: {c.no_findings()}. {negative_means(c)}" + _weak_note(c) + _image_level(c)
    text = _cause_lead(c, entity)
    if re.search(AGE_OF_A_LESION, c.q):  # "how old is this lesion?"
        text = (
            "I can't tell how old it is: the detector does not date what it finds, and a "
            "T1-weighted image alone rarely dates a lesion; its age is judged from diffusion "
            "imaging (recent infarcts), SWI or T2* (blood products of different ages) and "
            "comparison with earlier scans."
        )
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


# "Do we need to repeat this scan?", "should we redo it?": the same scan again, now
_REPEAT_THIS_SCAN = re.compile(
    r"\b(repeat|redo|rescan|re-scan|reacquire|re-acquire)\b( (the |this |it|her |his )"
    r"(\w+ )?(scan|mri|study|sequence|acquisition|series|images?)?)?\s*\??$"
)
_LATER = re.compile(
    r"\b(follow[- ]?up|months?|weeks?|years?|interval|later|surveillance|contrast|gad\w*|"
    r"sequence[s]? (of|with)|dwi|flair|swi|t2)\b"
)


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
    if _REPEAT_THIS_SCAN.search(c.q) and not _LATER.search(c.q):
        # "Do we need to repeat this scan?": a repeat for the image's sake, not a follow-up
        lead = _image_artefact(c, *_applicability(c)) + " "
    if not c.findings:
        return (
            f"{lead}There is no finding to work up: {c.no_findings()}. {negative_means(c)}"
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


_ASKS_SEQUENCE = re.compile(
    r"\b(sequence|weight\w*|t1|t2|flair|pd|proton density|dwi|diffusion|swi|mprage|spgr|"
    r"gradient echo|spin echo)\b"
)
_ASKS_THICKNESS = re.compile(
    r"\b(thickness|thick|thin|voxels?|resolution|spacing|pixel size|mm slices?|isotropic)\b"
)
_ASKS_CONTRAST_AGENT = re.compile(
    r"\b(gad\w*|gadolinium|contrast (agent|given|administered|injected|medium)|"
    r"(post|pre)[- ]?contrast|with contrast|without contrast|enhanced|iv contrast)\b|"
    r"\bcontrast\b.*\b(given|used|administered|injected)\b"
)
_ASKS_SLICE_COUNT = re.compile(
    r"\bhow many (axial |native )?(slices|sections|images)\b|\bnumber of (slices|sections)\b|"
    r"\bslice count\b"
)
_ASKS_FIELD = re.compile(
    r"\b(field strength|tesla|1\.5 ?t|3 ?t|7 ?t|scanner (make|model|vendor|type)|vendor|"
    r"manufacturer|which scanner|what scanner)\b"
)
_ASKS_3D = re.compile(r"\b(3d|three[- ]dimensional|volumetric|2d|two[- ]dimensional)\b")
_ASKS_MATRIX = re.compile(
    r"\bmatrix( size)?\b|\b(image|volume|array|scan) (size|dimensions?|shape)\b|"
    r"\bdimensions?\b|\bhow many (pixels|voxels)\b"
)
_ASKS_TIMING = re.compile(
    r"\b(tr|te|ti|repetition time|echo time|inversion time|flip angle|timing parameters?)\b"
)
_ASKS_SKULL = re.compile(
    r"\b(skull[- ]?strip\w*|brain[- ]?extract\w*|skull on|with the skull|skull (been |was |is )?"
    r"(removed|taken off))\b"
)
_ASKS_LEVEL = re.compile(r"\b(which|what) (\w+ )?(level|height|z)\b")
_ASKS_SPACE = re.compile(
    r"\b(mni|template space|registered|registration|normali[sz]ed space|native space|(what|which) "
    r"(coordinate |reference )?space)\b"
)
_ASKS_PLANE = re.compile(r"\b(axial\w*|coronal\w*|sagittal\w*|planes?|transverse\w*)\b")
_ASKS_ORIENTATION = re.compile(
    r"\b(flipped|mirrored|orienta\w*|radiological|neurological|convention)\b|"
    r"\b(l|left) (is|=) (the )?(pt|patient)'?s? (l|left)\b|"  # "L is pt left in this file?"
    r"\bimage'?s? (left|right|l|r) (the |is the |= ?)?(pt|pts|patient)'?s? (left|right|l|r)\b|"
    # "Is image left the patient's left here?", "Which side is the child's left on this picture?",
    # "Which way round is it stored? Where is the patient's left?"
    r"\bimage'?s? (left|right) (the |is the )?(patient|child|baby|subject)'?s? (left|right)\b|"
    r"\bwhich side is (the |his |her )?((patient|child|baby|subject)'?s? )?(left|right)\b|"
    r"\bwhere is (the )?(patient|child|baby|subject)'?s? (left|right)\b|\bwhich way round\b|"
    r"\bwhich (way|side) is (the )?(patient'?s?'? |pts?'?s? )?(left|right|l|r)\b|\b(left|right) (shown )?on the "
    r"(left|right) (of|on) the (display|screen|image)\b|"
    # "Is the left side of the picture the patient's left?"
    r"\b(left|right)( side)? (of|on) the (image|screen|picture|display)\b.*\bpatient'?s?'? (left|"
    r"right)\b|\bpatient'?s?'? (left|right)\b.*\b(left|right)( side)? (of|on) the (image|screen|"
    r"picture|display)\b"
)


_APPLICABILITY = re.compile(
    r"\b(applicability( check)?|in (the )?domain|out of (the )?domain|within (the )?domain|"
    r"pass(ed)? the (domain |applicability )?check)\b"
)

_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "bmp": "BMP", "nifti": "NIfTI"}
_FORMAT_NAMES |= {"dicom": "DICOM", "npy": "NumPy"}


_SEQUENCE_NAMES = {"SE": "spin echo", "GR": "gradient echo", "IR": "inversion recovery"}
_SEQUENCE_NAMES |= {"EP": "echo planar", "RM": "research mode"}


def _sequence_name(header: dict) -> str:
    """ "a 2D spin echo sequence (ScanningSequence SE)" from the coded tags."""
    codes = [c for c in str(header.get("ScanningSequence", "")).split("\\") if c]
    names = " / ".join(_SEQUENCE_NAMES.get(c, c) for c in codes) or "a sequence"
    dims = header.get("MRAcquisitionType")
    dims = f"{dims} " if dims in ("2D", "3D") else ""
    return f"a {dims}{names} sequence (ScanningSequence {'/'.join(codes)})"


def _timing(header: dict) -> str:
    """ "TR 500 ms, TE 10 ms" from the header's timings (those it has)."""
    parts = [
        f"{name} {header[key]:g}{unit}"
        for key, name, unit in (
            ("RepetitionTime", "TR", " ms"),
            ("EchoTime", "TE", " ms"),
            ("InversionTime", "TI", " ms"),
            ("FlipAngle", "flip angle", "°"),
        )
        if isinstance(header.get(key), float)
    ]
    return ", ".join(parts)


def _sequence_reading(header: dict) -> str:
    """What short or long TR and TE say of the weighting (a spin echo's rule of thumb)."""
    tr, te = header.get("RepetitionTime"), header.get("EchoTime")
    if not isinstance(tr, float) or not isinstance(te, float):
        return ""
    if tr < 1000 and te < 30:
        return " Short TR and TE: T1-weighted, as the detector expects."
    if tr >= 2000 and te >= 60:
        return " Long TR and TE: T2-weighted, which the detector was not trained on."
    return ""


def _axis_codes(q: str) -> str | None:
    """Orientation axis codes asked about ("is it LAS?", "RAS or LPS?": the first), upper-case;
    None when the question names none."""
    for word in re.findall(r"\b[a-z]{3}\b", q):
        if {frozenset(p) & set(word) for p in ("lr", "ap", "si")} == {frozenset(ch) for ch in word}:
            return word.upper()
    return None


def _coverage(c: CaseFacts) -> str:
    """ "does this cover the whole brain or just a slab?": the volume's extent along z, then
    what of it was analysed."""
    s = c.evidence.scan_summary or {}
    shape, spacing = s.get("source_shape"), s.get("source_spacing_mm")
    if not shape:
        return "This is a single 2D image, not a volume: one slice of the brain, not all of it."
    n = int(shape[0])
    if not spacing:
        text = f"It has {n} axial slices; their spacing is not recorded, so its extent is unknown."
    else:
        dz = float(spacing[0])
        extent = n * dz
        text = (
            f"It is a slab: {n} axial slices of {dz:g} mm, about {extent:.0f} mm in all, not the "
            "whole brain (about 130 mm from the vertex to the foramen magnum)."
            if extent < 100
            else f"It covers about {extent:.0f} mm along its slice axis ({n} axial slices of "
            f"{dz:g} mm), enough for the whole brain."
        )
    scope = analysed_scope(s)
    return f"{text} {scope}" if scope else text


def acquisition_detail(c: CaseFacts) -> str | None:
    """`_acquisition_detail`, and the display orientation after it when the question asks that
    too ("voxel size and orientation of the volume?")."""
    text = _acquisition_detail(c)
    if text and re.search(r"\bmodality\b", c.q) and "modality" not in text:
        # "what modality and plane is this?": the modality first
        ask = "what modality is this?"
        text = f"{modality(replace(c, question=ask, q=ask)).strip()} {text}"
    if (
        text
        and _ASKS_ORIENTATION.search(c.q)
        and not re.search(r"convention|orientation|RAS\+", text)
    ):
        ask = "which way is left on the display?"
        orientation = _acquisition_detail(replace(c, question=ask, q=ask))
        if orientation:
            text = f"{text.rstrip()} {orientation}"
    return text


def _applicability(c: CaseFacts) -> tuple[EvidenceItem | None, str, bool]:
    """(A1 when the check refused the scan, its reasons as one text, whether the detector ran on
    a scan the check accepted)."""
    items = c.evidence.by_kind("applicability")
    outside = items[0] if items else None
    reasons = " ".join((outside.data.get("reasons") or []) if outside else [])
    return outside, reasons, c.detection_ran and outside is None


def _acquisition_detail(c: CaseFacts) -> str | None:
    """The answer to a question about one property of the acquisition or its processing that
    the evidence knows or knows it does not (the sequence or weighting, slice thickness and
    voxel size, a contrast agent, skull stripping, MNI registration, the plane, the display
    orientation); None for a question about the modality itself."""
    s = c.evidence.scan_summary or {}
    fmt = _FORMAT_NAMES.get(str(s.get("format")), str(s.get("format") or "image"))
    outside, reasons, checked_t1 = _applicability(c)
    q = c.q
    if WHAT_TO_UPLOAD.search(q):
        return what_to_upload(c)
    if _APPLICABILITY.search(q):
        # "Did the scan pass the applicability check, or is it out of domain?"
        if outside is not None:
            return (
                f"No: the applicability check found it outside the detector's domain "
                f"{cite('A1')}: " + reasons
            )
        if checked_t1:
            return f"Yes: the applicability check accepted it as {_accepted(c)}."
        return None
    if TRAINING_DOMAIN.search(q) and re.search(r"\b(validated|tested|evaluated|benchmarked)\b", q):
        # "Is the detector validated on MS lesions?": what it was measured on
        return (
            "No, not on patients: the detector was evaluated on healthy scans with synthetic "
            "lesions painted in; on three real multiple-sclerosis patients (MSLUB, "
            "skull-stripped scans, which it refuses) it did not find the lesions (see the model "
            "card). It is a research tool, not validated for clinical use."
        )
    if TRAINING_DOMAIN.search(q):
        if outside is not None:
            return (
                "No: the applicability check found this scan outside what the detector was "
                f"trained on {cite('A1')}: " + reasons
            )
        if checked_t1:
            return (
                "Yes, as far as the applicability check can tell: it accepted this scan as "
                f"{_accepted(c)}, the kind of healthy adult T1-weighted scans (IXI) the detector "
                "was trained on. That check is about the kind of image, not about the patient."
            )
        return None
    if IMAGE_ARTEFACT.search(normalise(c.question)) and not QUALITY.search(q):
        return _image_artefact(c, outside, reasons, checked_t1)
    if QUALITY.search(q):
        if outside is not None:
            return (
                "No, not for this detector: the applicability check found it outside what the "
                f"detector can analyse {cite('A1')}: " + reasons
            )
        if checked_t1:
            return (
                "For this detector, yes: the applicability check accepted it (it checks the "
                "contrast, the level, the slice thickness, the noise and the field of view against "
                "the healthy training scans). Whether its quality is good enough for a clinical "
                "read is not assessed."
                + (
                    " Motion artefact is not checked for as such (it shows as ghosting or "
                    "blurring, which a reader of the images would see); nor does passing the "
                    "check make a negative reading exclude a lesion."
                    if re.search(r"\b(motion|movement|moving|ghost\w*|blur\w*)\b", q)
                    else ""
                )
            )
        return None
    if COVERAGE.search(q):
        return _coverage(c)
    if ANALYSED_SLICES.search(q) or ANALYSED_SLICES.search(normalise(c.question)):
        # (as the parser reads it: "which levels did u look at")
        scope = analysed_scope(s)
        if outside is not None and not c.detection_ran:
            # a refused scan: the check read a slice to decide; the detector read none
            index = s.get("slice_index")
            read = f" (it read slice {index} to decide)" if index is not None else ""
            return (
                "None: the detector did not analyse this scan, because the applicability check "
                f"refused it{read} {cite('A1')}: " + reasons
            )
        if scope:
            return scope
        level = s.get("level_mm")
        at = f" (at about MNI z = {level:+.0f} mm)" if level is not None else ""
        ran = "analysed whole" if c.detection_ran else "not analysed by the detector"
        return f"This is a single 2D image{at}, {ran}; there are no other slices."
    if _ASKS_SLICE_COUNT.search(q) or _ASKS_3D.search(q):
        shape = s.get("source_shape")
        if shape and len(shape) >= 3:
            scope = analysed_scope(s)
            src = s.get("source_spacing_mm")
            thick = ""
            if src and _ASKS_THICKNESS.search(q):
                thick = (
                    f" Its voxels are {src[0]:g} mm between slices and {src[1]:g} x {src[2]:g} mm "
                    "in plane (from its header)."
                )
            return (
                f"This is a volume of {shape[0]} axial slices ({' x '.join(str(n) for n in shape)} "
                "voxels as loaded); whether it was acquired as a 3D sequence or as 2D slices is "
                f"not recorded in the file.{thick} {scope}"
            ).strip()
        return f"This is a single 2D image ({fmt}), not a volume: there are no other slices."
    if _ASKS_SKULL.search(q):
        either = re.search(r"\bor\b", q)  # "skull on or stripped?": the answer, not a yes/no
        if "skull-stripped" in reasons or "skull stripped" in reasons:
            return (
                ("Skull-stripped" if either else "Yes")
                + ": the applicability check found the skull removed (skull-stripped), which is "
                f"why the detector does not apply to it {cite('A1')}: it was trained on scans "
                "with the skull on."
            )
        if checked_t1:
            return (
                ("Skull on" if either else "No")
                + ": the applicability check found the skull on (it refuses skull-stripped "
                "scans, which the detector was not trained on)."
            )
        if outside is not None:
            # refused for another reason first: the skull check was not reached
            return (
                "I can't tell: the applicability check refused this scan for another reason "
                f"{cite('A1')} before it looked at the skull (it reads the skull only on scans that "
                "pass its other checks). It matters: the detector was trained on scans with the "
                "skull and scalp on, and on a skull-stripped scan it reads the bare edge of the "
                "brain as abnormal."
            )
        return None
    header = s.get("acquisition") or {}
    if _ASKS_FIELD.search(q) and header.get("MagneticFieldStrength"):
        return (
            f"The {fmt} header records a field strength of {header['MagneticFieldStrength']:g} T. "
            "The detector's applicability check looks at the image itself, not the scanner."
        )
    if _ASKS_FIELD.search(q):
        return (
            "The field strength, scanner make and model are not among what this assistant reads "
            f"from the {fmt} file (a PNG or NIfTI does not record them), so I can't tell. The "
            "detector's applicability check looks at the image itself, not the scanner."
        )
    if _ASKS_CONTRAST_AGENT.search(q):
        return (
            f"The {fmt} file does not record a contrast agent, so whether contrast was given is "
            "unknown (a DICOM series whose header records one is refused). The detector was "
            "trained on non-contrast T1 scans; how it reads enhancing tissue was not measured."
        )
    if _ASKS_THICKNESS.search(q):
        src = s.get("source_spacing_mm")
        if src:
            z, y, x = src[:3]
            return (
                f"The volume's voxels are {z:g} mm between slices and {y:g} x {x:g} mm in plane "
                f"(from its header; shape {' x '.join(str(n) for n in s.get('source_shape', []))}"
                "). The detector looks at one axial plane resampled on a 1 mm grid."
            )
        sp = s.get("spacing_mm")
        thick = s.get("slice_thickness_mm")
        if sp and thick:
            return (
                f"The slice is {thick:g} mm thick and its pixels are {sp[0]:g} x {sp[1]:g} mm "
                "(from its DICOM header)."
            )
        if sp:
            return (
                f"The image's pixels are {sp[0]:g} x {sp[1]:g} mm (from its header); a single 2D "
                "slice's thickness is not recorded in it."
            )
        return (
            f"The {fmt} file records no pixel spacing or slice thickness, so both are unknown "
            "(sizes are then given in pixels of the image)."
        )
    if _ASKS_SPACE.search(q):
        reg = s.get("registered")
        if reg:
            return (
                "It was registered to MNI space for the analysis "
                f"({reg.get('kind', 'affine')}, mutual information, similarity "
                f"{reg.get('similarity', 0):.2f}): the displayed axial plane is resampled at MNI "
                f"z = {reg.get('level_mm', 0):+.0f} mm on the 1 mm training grid."
            )
        level = s.get("level_mm")
        at = f" (its level was estimated at about MNI z = {level:+.0f} mm)" if level else ""
        if s.get("source_shape"):
            return (
                "This volume was not registered to MNI space for the analysis"
                + (f" (the applicability check refused it first {cite('A1')})" if outside else "")
                + "; its header does not say which space it is in."
            )
        return (
            "A single 2D image is not registered to MNI space; it is compared with the training "
            f"slices as it is{at}."
        )
    if _ASKS_LEVEL.search(q) and not ANALYSED_SLICES.search(q):
        # "Which axial level is this slice at?"
        reg = s.get("registered") or {}
        level = reg.get("level_mm", s.get("level_mm"))
        if level is not None:
            how = (
                "the plane resampled from the registered volume"
                if reg
                else "as estimated by the applicability check from the image"
            )
            return (
                f"About MNI z = {level:+.0f} mm ({how}), the level of the bodies of the lateral "
                "ventricles, which the detector was trained on."
            )
    if _ASKS_MATRIX.search(q):
        # "Matrix size?": the image as stored (the acquisition matrix is not read)
        shape = s.get("source_shape") or s.get("shape")
        spacing = s.get("source_spacing_mm") or s.get("spacing_mm")
        if shape:
            dims = " x ".join(str(int(n)) for n in shape)
            what = "volume" if len(shape) >= 3 else "image"
            unit = "voxels" if len(shape) >= 3 else "pixels"
            size = (
                f", {' x '.join(f'{v:g}' for v in spacing)} mm each"
                if spacing
                else " (no pixel spacing recorded)"
            )
            return (
                f"The {what} is {dims} {unit} as loaded{size}. The acquisition matrix itself is "
                f"not among what this assistant reads from the {fmt} file."
            )
    if _ASKS_TIMING.search(q) and (timing := _timing(header)):
        return f"The {fmt} header records {timing}." + _sequence_reading(header)
    if _ASKS_TIMING.search(q):
        read = (
            " The applicability check reads the contrast from the image itself (T1-weighted: "
            "white matter brighter than grey matter)."
            if checked_t1
            else ""
        )
        if fmt == "DICOM":
            return (
                "I can't quote them: the loader reads a DICOM series' TR, TE and TI only to tell "
                "a T1-weighted series from T2, FLAIR and others (it refuses those), and does not "
                f"pass the values on to the answers.{read}"
            )
        return (
            f"TR, TE, TI and the flip angle are not recorded in a {fmt} file, so I can't tell."
            f"{read}"
        )
    if re.search(r"\b(upside down|back to front|rotated|the wrong way up)\b", q) and checked_t1:
        return (
            "No, as far as the applicability check can tell: it compares the image with the "
            "training slices, whose front of the head is at the top, and it accepted this one; an "
            "upside-down or rotated slice would not match them. Whether left and right are "
            "swapped is another matter: "
            + (
                "this file does not record the patient's orientation, so sides are given as image "
                "left or right."
                if s.get("patient_left") is None
                else "its header records the orientation, so sides are the patient's."
            )
        )
    if _ASKS_ORIENTATION.search(q) and not _ASKS_SEQUENCE.search(q):
        left = s.get("patient_left")
        notes = " ".join(str(n) for n in s.get("notes", []))
        stored = re.search(r"reoriented from (\w+)", notes)
        codes = _axis_codes(q)
        if stored and codes:
            # "is the orientation LAS?": the header's axis codes against those asked
            same = codes == stored.group(1).upper()
            return (
                f"{'Yes' if same else 'No'}: the file stores its voxels in {stored.group(1)} order "
                f"(axis codes from its header){'' if same else f', not {codes}'}; it was "
                "reoriented to RAS+ for the analysis, so the patient's left is shown on the image "
                "left."
            )
        if stored and re.search(r"\b(stored|saved|file|header|written)\b", q):
            # "What orientation is the volume stored in?": its axis codes, as read
            return (
                f"The file stores its voxels in {stored.group(1)} order (axis codes from its "
                "header); it was reoriented to RAS+ for the analysis, so the patient's left is "
                "shown on the image left."
            )
        if left is None:
            return (
                f"The {fmt} file does not record the patient's orientation, so whether it is "
                "shown in the radiological convention (patient's left on the image right) or the "
                "neurological one is unknown; sides are given as image left or right. Most "
                "clinical viewers use the radiological convention, where the image left is the "
                "patient's right, but an exported picture need not."
            )
        side = "left" if left == "image_left" else "right"
        return (
            f"From its header, the patient's left is shown on the image {side} "
            f"({'neurological' if side == 'left' else 'radiological'} convention)."
        )
    if _ASKS_SEQUENCE.search(q) and header.get("ScanningSequence") and checked_t1:
        # "Which sequence is this?" of a DICOM whose header codes it
        timing = _timing(header)
        return (
            f"The {fmt} header records {_sequence_name(header)}"
            + (f", {timing}" if timing else "")
            + "."
            + _sequence_reading(header)
            + " The applicability check also read its contrast as T1-weighted (white matter "
            "brighter than grey matter), which is what the detector accepts."
        )
    if _ASKS_SEQUENCE.search(q):
        series = loaded_series_sentence(s.get("notes", []))
        known = f" {series}" if series else ""
        if re.search(r"\bmodality\b", q):
            # "modality and sequence per header": both
            mod = s.get("modality")
            known = (
                f" The header gives the modality as {mod}."
                if mod
                else " Nor does it record the modality."
            ) + known
        if fmt == "DICOM":
            # the Series Description may name it, but free text is not read (identifiers)
            known += (
                " (Only coded header tags are read; free-text fields such as the series "
                "description are not, as they can hold identifiers.)"
            )
        if checked_t1:
            return (
                f"The {fmt} file does not record the sequence.{known} Its contrast reads as "
                "T1-weighted: the applicability check found white matter brighter than grey "
                "matter, which is what the detector accepts (T2, FLAIR and other contrasts are "
                "refused)."
            )
        read = ((outside.data.get("checks") or {}).get("contrast") or {}) if outside else {}
        if read.get("wm_gm_ratio") is not None:
            t1 = not read.get("not_t1")
            return (
                f"The {fmt} file does not record the sequence.{known} The applicability check "
                + (
                    "read its contrast as T1-weighted (white matter brighter than grey matter)"
                    if t1
                    else "did not read its contrast as T1-weighted (white matter not brighter "
                    "than grey matter)"
                )
                + f"; the detector does not apply to this scan {cite('A1')}."
            )
        return None
    if _ASKS_PLANE.search(q) and not re.search(r"\bslice (number|index)\b", q):
        if s.get("source_shape"):
            notes = " ".join(str(n) for n in s.get("notes", []))
            stored = re.search(r"reoriented from (\w+)", notes)
            how = f" (stored as {stored.group(1)}, reoriented to RAS+)" if stored else ""
            return (
                f"It is a 3D volume{how}; the acquisition plane is not recorded. The displayed "
                "image is an axial plane resampled from it."
            )
        if checked_t1:
            return (
                "It was read as an axial slice: the applicability check accepts axial brain "
                "slices at the level the detector was trained on."
            )
        return None
    return None


def _accepted(c: CaseFacts) -> str:
    """What the detector accepts, from the applicability check's record."""
    a = c.evidence.applicability or {}
    level, tol = a.get("trained_level"), a.get("level_tolerance")
    where = (
        f" within {tol:g} mm of MNI z = {level:+g} mm (the level of the lateral ventricles)"
        if level is not None and tol is not None
        else " at the level of the lateral ventricles"
    )
    return f"an axial T1-weighted brain MRI{where}, as a 2D slice or a 3D volume"


def what_to_upload(c: CaseFacts) -> str:
    """ "What should I upload instead?": what the detector accepts (the refusal's own words when
    the scan was refused); of a photo of a screen, that an export is what it needs; "is it
    reliable on a PNG export?", how an exported slice fares against a volume."""
    if re.search(TRUST_AN_EXPORT, c.q) and not re.search(r"\b(photo\w*|pic|snap)\b", c.q):
        return (
            "It works on a PNG, JPEG or TIFF export of one axial T1 slice, but less well than on "
            "a DICOM or NIfTI volume: an export has no pixel spacing (sizes are in pixels unless "
            "you give one) and no orientation (sides are the image's, the patient's unknown); a "
            "slice that is not on the trained grid is judged with stricter thresholds, so it "
            "gets few false alarms but misses about two lesions in three (synthetic lesions on "
            "validation slices). A 3D volume, registered to the template first, works best. It "
            "is a research tool, not validated for clinical use."
        )
    if re.search(
        r"\b(photo\w*|picture|pic|snap)\b.{0,40}\b(screen|monitor|pacs|computer|viewer)\b", c.q
    ):
        return (
            "A photo of a screen is not good enough: it adds glare, moiré, perspective and the "
            "screen's own windowing, and loses the pixel spacing and orientation, so the detector's "
            "reading of it is not reliable even when the check accepts it. Export the image itself "
            "instead (the DICOM series or a NIfTI volume, or at least a PNG export of the slice). "
            + _what_to_upload_plain(c)
        )
    return _what_to_upload_plain(c)


def _what_to_upload_plain(c: CaseFacts) -> str:
    items = c.evidence.by_kind("applicability")
    if items:
        text = items[0].text
        m = re.search(r"\b(Upload .+?\.)(?= [A-Z]|\s*$)", text)
        accepted = re.search(r"accepted: (.+?)\.(?= [A-Z]|\s*$)", text)
        upload = m.group(1) if m else ""
        what = f"The detector accepts {accepted.group(1).strip()}. " if accepted else ""
        outside = (
            f"This scan is outside that {cite(items[0].id)}; a DICOM series (a folder or a .zip) "
            "or a NIfTI volume (.nii, .nii.gz) of a T1-weighted brain MRI with the skull on works "
            "best, as it is registered to MNI space first; a PNG, JPEG or TIFF export of one "
            "axial slice is read too."
        )
        return " ".join(part for part in (what.strip(), upload, outside) if part)
    return (
        f"This scan was accepted. The detector accepts {_accepted(c)}; a 3D T1-weighted volume "
        "(NIfTI or a DICOM series) with the skull on is registered to MNI space first, and a PNG "
        "has no pixel spacing or orientation, so sizes and sides are then in image terms."
    )


def modality(c: CaseFacts) -> str:
    detail = acquisition_detail(c)
    if detail is not None:
        return detail
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
    choice = re.search(
        r"\b(mri|mr|ct|x-?ray|ultrasound|pet)\b.{0,6}\bor\b.{0,6}\b(an? )?(mri|mr|ct|x-?ray|ultrasound|pet)\b",
        c.q,
    )
    if choice and known is not None:
        text = f"{known}. " + text  # "is this a CT or an MRI?": the one it is
    elif c.closed and asked and known is not None:
        want = {"mr": "MRI", "mri": "MRI", "ct": "CT", "pet": "PET"}.get(
            asked.group(1), "X-ray" if "ray" in asked.group(1) else "ultrasound"
        )
        text = f"{'Yes' if want == known else 'No'}. " + text
    elif c.closed and asked:
        text = "Unknown. " + text
    looks_t1 = known is None and c.detection_ran and not c.evidence.by_kind("applicability")
    if looks_t1:  # "Is this an MRI or a CT?" of a PNG the check accepted: what it looks like
        text = text.replace(", so I can't tell from the evidence.", ".")
        text += (
            " Its appearance, though, matches the T1-weighted brain MRI slices the detector "
            "was trained on: the applicability check accepted it as one, so it looks like a "
            "T1-weighted MRI (a judgement from the image, not a record)."
        )
        if choice or (c.closed and asked):
            text = "It looks like an MRI, but the file does not say. " + text.removeprefix(
                "Unknown. "
            )
    notes = " ".join(str(n) for n in s.get("notes", []))
    plane = re.search(r"\b(axial|coronal|sagittal) slice \d+", notes)
    if re.search(
        r"\b(slice (number|index)|(which|what) (slice|level)|slice (shown|displayed))\b", c.q
    ):
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


# "Is F1 a false positive?", "a false alarm?": whether a finding is real, asked the other way
FALSE_ALARM = re.compile(r"\bfalse[- ](positive|alarm)s?\b")


def _image_artefact(c: CaseFacts, outside, reasons: str, checked_t1: bool) -> str:
    """ "Any motion artefact on it?", "Did the patient move?", "Any wrap-around?", "Do we need to
    repeat it?", "Is the head tilted?": not checked as such; what the applicability check did."""
    q = normalise(c.question)
    volume = bool((c.evidence.scan_summary or {}).get("source_shape"))
    if re.search(r"\b(tilt\w*|rotated|off[- ]?cent(re|er)|reposition\w*)\b", q):
        lead = (
            "A tilted head does not matter to the detector for a volume: it is registered to a "
            "template before it is analysed, which undoes the tilt."
            if volume
            else "The detector does not measure tilt; a 2D slice cut at a clearly different angle "
            "or level from its training slices is refused by its applicability check."
        )
    elif re.search(r"\b(repeat|rescan|re-scan|redo|reacquire|re-acquire|bring)\b", q):
        lead = (
            "Whether to repeat it is for you and the reporting radiologist: the detector does "
            "not judge the image's quality for a clinical read (motion, wrap-around, other "
            "artefacts)."
        )
    else:
        lead = (
            "I can't tell: the detector does not check the image for acquisition artefacts "
            "(motion, wrap-around, ringing, susceptibility, a bias field or a cut-off field of "
            "view); look at the images themselves. A strong artefact can be flagged as a region "
            "that deviates from the healthy scans."
        )
    if outside is not None:
        return f"{lead} Its applicability check refused this image {cite('A1')}: " + reasons
    if checked_t1:
        return (
            f"{lead} Its applicability check accepted this image (it checks the contrast, the "
            "level, the slice thickness, the noise and the field of view against the healthy "
            "training scans, not artefacts as such)."
        )
    return lead


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
        if (
            yes_no_question(c.question)
            and FALSE_ALARM.search(c.q)
            and "uncalibrated" not in words.values()
        ):
            # "Is F1 a false positive?": a yes or no from the confidence, first
            best = max(float(t.data.get("confidence") or 0.0) for t in c.targets)
            text = ("No, probably not. " if best >= 0.5 else "Yes, possibly. ") + text
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
    advice (prompts/refusal.md, addressed neutrally), with what the assistant can answer; a
    question for the patient's identity is told that none is kept."""
    if re.search(IDENTIFIERS_IN_FILE, c.q):
        return (
            "The assistant removes a scan's patient identifiers from the header when it loads "
            "the file and never shows, logs or passes them on, so it can't tell you what this "
            "file holds. The file you uploaded is unchanged: if it came from a clinical system, "
            "assume its header still carries them (and that text may be burned into the "
            "pixels), and de-identify it with your institution's anonymiser before it goes on "
            "slides or leaves the hospital."
        )
    if PATIENT_IDENTITY.search(c.q):
        return (
            "I have no patient identifiers or demographics: names, dates of birth, age, sex, "
            "record numbers, the study's dates and the institution are removed from a scan's "
            "header when it is "
            "loaded and are never shown, logged or passed to a model (text burned into the "
            "pixels is blanked where the loader finds it). I can only talk about the image. I "
            f"can answer questions about {ANSWERABLE}."
        )
    return " ".join(refusal_text(ANSWERABLE).split())


# "Compare with the prior scan", "Has it changed since last year's MRI?": no prior study is given
PRIOR_COMPARISON = re.compile(
    r"\b(compar\w*|changed?|progress\w*|interval|stable|new since|grown|shrunk|same as)\b.{0,60}"
    r"\b(prior|previous|last|earlier|old|older|baseline|last year'?s?|yesterday'?s?|follow-up|"
    r"pre-?op(erative)?|post-?op(erative)?|initial|original|diagnostic|outside|other hospital'?s?) "
    r"(scan|study|mri|mr|imaging|exam\w*|one|images?|films?|ct)\b|\bsince (the )?(last|previous|"
    r"prior) (scan|study|mri|imaging|exam\w*)\b|\b(compar\w*|new|changed?|progress\w*|interval)\b"
    r".{0,40}\b(the )?(prior|previous|baseline)( one)? from\b|\bcompar\w*\b.{0,30}\b(scan|study|mri|"
    r"imaging|exam\w*|films?) from (19|20)\d\d\b|"
    # "compare it with her scan from two years ago", "against his MRI of last March"
    r"\bcompar\w*\b.{0,40}\b(scan|study|mri|mr|ct|imaging|exam\w*|images?|one)s? (from|of|taken|done) "
    r"(\w+ ){0,3}(ago|last|earlier|before|previously|back)\b|"
    # "any change compared to the prior", "can I report this as MS progression?"
    r"\b(compar\w*|changed?) (to|with|from|since) (the |a )?(prior|previous|last|old|earlier)\b|"
    r"\bprogress(ion|ing|ed|ive disease)\b|"
    # "Is this the same as his scan last year?"
    r"\b(same as|different from|unchanged from|changed from|compared (to|with))\b.{0,30}\b(scan|mri|"
    r"mr|study|imaging|one)s?\b.{0,12}\b(last|previous|prior|earlier|a) (year|month|week|time|"
    r"visit)( ago)?\b|"
    # "can it tell if the lump is growing?", "is her brain shrinking?", "is her MS getting
    # worse?": a change of the finding or the brain needs a prior (not "something growing",
    # not "migraines getting worse")
    r"\b(it|this|that|they|the (lump|lesion|mass|tumou?r|spot|finding|abnormality|area|brain)|"
    r"(her|his|their) (brain|ms|lesions?|disease|tumou?r))( is| are| has| have)?( been)? "
    r"(growing|shrinking|getting (bigger|smaller|worse|better)|enlarging|progressing)\b"
)
_CASES_WORDS = re.compile(r"\b(similar|cases?|library|retrieved|reference)\b")
_ADVICE = re.compile(r"\b(should|would|need|needed|worth|recommend\w*|helpful|useful|advis\w*)\b")


# "Anything new?", "Any new lesions?", "Is it new?": new since when needs a prior study
NEW_ASK = re.compile(
    r"\b(anything|something) new\b(?! (scan|image|patient|upload|question|file|slice|series|"
    r"case|information|info|feature|option|setting|version)s?\b)|\bnew (lesions?|findings?|plaques?|abnormalit\w*|"
    r"changes?|activity|disease|foci|focus|spots?|areas?|regions?)\b(?! (detect|found|shown))|"
    r"\b(is|are) (it|this|that|they|these|f\d+) new\b"
)
# "Compared to what?" after an answer: there was nothing to compare with
_COMPARED_TO_WHAT = re.compile(r"^\W*(compared|relative|in comparison) (to|with) what\b")


def asks_what_is_new(c: CaseFacts) -> bool:
    """Whether the question asks what is new ("Known RRMS. Anything new?"), which needs a prior."""
    return bool(NEW_ASK.search(c.q)) and not _CASES_WORDS.search(c.q)


# the user's own plan, said after the question: "I'll compare it with the old report myself"
_OWN_PLAN = re.compile(
    r"\b(i am|i'm|im|we are|we're|i will|i'll|we will|we'll|i plan to|we plan to|i want to|"
    r"i'd like to|then i|later i|afterwards i)( going to| gonna)? (then |later |myself )?(compare|"
    r"check (it |this )?against|put (it |this )?(side by side|next to))\b"
)


def prior_comparison(c: CaseFacts) -> str | None:
    """A request to compare with a prior study, which the assistant does not have (one scan at a
    time): said plainly, with what this scan shows; None for other questions and for advice
    ("Should we compare with prior imaging?" is a next step)."""
    if _COMPARED_TO_WHAT.search(c.q):
        return (
            "To nothing: no prior study was provided, and the assistant analyses one scan at a "
            "time. What it reports is a comparison with its own pseudo-healthy reconstruction of "
            "this scan and with the healthy training scans, not with an earlier scan of this "
            "patient, so it cannot say what has changed."
        )
    if asks_what_is_new(c) and not _ADVICE.search(c.q) and not PRIOR_COMPARISON.search(c.q):
        return (
            "I can't tell what is new: no prior study was provided, and the assistant analyses "
            "one scan at a time, so it cannot say whether anything appeared or changed. Comparing "
            "the original images with prior imaging is a radiologist's task."
        )
    if not PRIOR_COMPARISON.search(c.q) or _ADVICE.search(c.q) or _CASES_WORDS.search(c.q):
        return None
    plan = _OWN_PLAN.search(c.q)
    if plan and "?" in c.q[: plan.start()]:
        return None  # "Anything abnormal? I'm going to compare with the old report afterwards."
    return (
        "I can't compare: no prior study was provided, and the assistant analyses one scan at a "
        "time, so I can't say what has changed. Comparing the original images with prior "
        "imaging is a radiologist's task."
    )


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
