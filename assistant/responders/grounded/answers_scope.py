"""Answers bounded by what was analysed and by what a result can mean.

- `slices_not_analysed`: "Is there a lesion on slice 7?", "Anything on the other slices?" about a
  volume of which only one slice (or a few levels) was analysed: "I can't tell", and which were.
- `on_analysed_part`: a "No" (or "Yes, ... normal") about a volume analysed only in part says
  that it holds for the analysed part ("No, not on the analysed slice: ...").
- `result_meaning`: "Does a negative result mean this person is healthy?": no, and why; the
  same for a positive result and disease.
- `sign_off_on_part`: "Can I tell the patient it is normal?" of a volume analysed only in part:
  "I can't tell for the whole scan", then what the analysed part showed.
- `cannot_tell`: particulars one reading of one T1 image cannot settle (enhancement, "X rather
  than Y", the clinical fit, the midline, a ring's centre against its rim, "just the edge of the
  brain?"): "I can't tell ..." and why; the responder adds what was found.
- `side_comparison`: "Which side has more lesion load?": the flagged area per side.
"""

from __future__ import annotations

import re

from assistant.evidence import analysed_scope
from assistant.responders.grounded.case import CaseFacts


def partial(summary: dict) -> bool:
    """A volume of which only part was analysed: one slice, or the levels a single-level model
    knows (not a level-aware analysis of the whole brain)."""
    shape = summary.get("source_shape")
    if not shape or len(shape) < 3:
        return False
    whole = summary.get("volume_analysis") or {}
    return not whole.get("level_aware")


def analysed_slices(summary: dict) -> set[int]:
    """The native slice numbers (from 0) that the detector analysed, as far as known."""
    whole = summary.get("volume_analysis") or {}
    first_last = whole.get("native_slices")
    if first_last:
        return set(range(int(first_last[0]), int(first_last[1]) + 1))
    index = summary.get("slice_index")
    return set() if index is None else {int(index)}


_SLICE_NUMBER = re.compile(
    r"\b(?:slices?|sections?|cuts?)\s*(?:no\.?\s*|number\s*|#\s*)?(\d{1,4})\b"
)
_OTHER_SLICES = re.compile(
    r"\b(other|remaining|rest of the|adjacent|neighbou?ring|next|previous|higher|lower|upper|"
    r"more (superior|inferior|cranial|caudal)|different|any other|all (the )?other)\s+"
    r"(slices?|levels?|sections?|images?|cuts?)\b|\brest of the (volume|scan|study|stack|series)\b|"
    # "is it on more than one slice?", "did you look at the whole head or just one bit?"
    r"\b(more than one|multiple|several|both|two or more) (slices?|levels?|sections?|cuts?)\b|"
    r"\b(slices?|levels?|sections?) (above|below)\b|"
    r"\b(top|bottom|first|last|highest|lowest|uppermost|lowermost|end) (slices?|levels?|sections?)\b"
)


# "did you look at the whole head or just one bit?", "can you look at all of it?"
_WHOLE_ASKED = re.compile(
    r"\b(whole|entire|full) (head|brain|volume|scan)\b.{0,20}\bor (just|only)\b|"
    r"\b(look\w*|check\w*|analy[sz]\w*|see[ns]?|went through|go through) (at )?(all|every bit) of "
    r"(it|the (volume|scan|brain|head|file))\b"
)


def whole_asked(c: CaseFacts) -> str | None:
    """ "Did you look at the whole head or just one bit?", "Can you look at all of it?" of a
    volume analysed in part or of a 2D image: what was analysed, and that the rest can't be
    read from it; None for another question or a volume analysed whole."""
    if (
        re.search(r"\b(normal|abnormal\w*|lesions?|wrong|fine|ok|healthy|clear)\b", c.q)
        or not _WHOLE_ASKED.search(c.q)
        or not re.search(
            r"\b(look\w*|analy[sz]\w*|check\w*|read|assess\w*|examin\w*|see[ns]?|saw|went|go) ", c.q
        )
    ):
        return None  # "does this cover the whole brain or just a slab?": the acquisition
    summary = c.evidence.scan_summary or {}
    if partial(summary):
        return (
            f"No, only part of it. {analysed_scope(summary)} The detector knows only the axial "
            "levels it was trained on, so it reads only the slices at those levels."
        )
    if not summary.get("source_shape") or len(summary["source_shape"]) < 3:
        if c.resolved.intent == "presence":
            return None  # "have you looked at all of it?" of one image: its reading answers
        return (
            "Only what is in the image: this is a single 2D slice, so the rest of the head is "
            "not in it. For the whole head, upload the volume (a DICOM series or a NIfTI file)."
        )
    return None


def slices_not_analysed(c: CaseFacts) -> str | None:
    """ "Is there a lesion on slice 7?" / "Any abnormality on the other slices?" about a volume
    analysed only in part, when those slices were not analysed: neither yes nor no, and which
    were analysed. None when the question names no such slice, or the scan is not such a volume."""
    summary = c.evidence.scan_summary or {}
    if not partial(summary):
        shape = summary.get("source_shape")
        if (
            (not shape or len(shape) < 3)
            and _OTHER_SLICES.search(c.q)
            and re.search(r"\b(slices?|levels?|sections?|cuts?)\b", c.q)  # not "the rest of
            and c.detection_ran  # the brain", which on one slice may mean the rest of it
            and c.resolved.intent != "presence"  # "anything on the other slices?": its reading
        ):
            return (
                "I can't tell: this is a single 2D image, so nothing of the other slices of "
                "the head, or of how far a region extends through them, is in it."
            )
        return None
    n = int(summary["source_shape"][0])
    done = analysed_slices(summary)
    scope = analysed_scope(summary)
    number = _SLICE_NUMBER.search(c.q)
    if number is not None:
        k = int(number.group(1))
        if k >= n:
            return (
                f"There is no slice {k} in this volume: it has {n} axial slices, numbered 0 to "
                f"{n - 1}. {scope}"
            )
        if k in done:
            return None
        return f"I can't tell: slice {k} was not analysed, so the detector says nothing about it. {scope}"
    rest = c.resolved.intent != "presence" and re.search(r"\brest of the (brain|head)\b", c.q)
    # "how's the rest of the brain?"; not "is the rest of the brain normal?", which of one
    # slice may ask about the rest of that slice
    if _OTHER_SLICES.search(c.q) or rest:
        return (
            "I can't tell: the detector did not analyse the other slices of this volume, so it "
            f"says nothing about them. {scope}"
        )
    return None


_NO_LEAD = re.compile(r"^No[.:]\s*")
# the leads of a reading below the image threshold ("No, not clearly: ...", "Yes, probably: ...")
_WEAK_LEAD = re.compile(r"^(No, not clearly|Yes, probably)(?=[:.])")
_AN_ID = re.compile(r"^[FWVD]\d")
_YES_NORMAL_LEAD = re.compile(r"^Yes, as far as this detector can tell\b")


# a question that would sign the scan off or reassure: "Can I tell the patient their MRI is
# normal?", "So nothing to worry about?", "All clear?", "Can I reassure her?"
# passing the reading on: "pt wants to know if her brain is normal, what do i say"
PASSING_IT_ON = (
    r"\bwhat (do|should|can|shall) (i|we) (say|tell)\b|\b(patient|pt|she|he|they|family) (wants?|"
    r"asks?|is asking|are asking) (to know )?(if|whether)\b"
)
_SIGN_OFF = re.compile(
    r"\b(normal|clear|negative|unremarkable) (brain )?(study|mri|exam|examination)\b|"
    r"\b(tell|inform|reassure|assure) (the |my |our )?(patient|pt|family|relatives?|him|her|them|"
    r"parents?|gp|referrer|colleague)\b|\bnothing (\w+ )?(to worry|to be worried|of concern|to be "
    r"concerned)\b|\ball[- ]clear\b|\bsign (it |this |the scan |this scan )?off\b|\breassur\w*|"
    r"\bdischarg\w*|\bsend (him|her|them|the patient) home\b|\b(go|be sent|leave) home\b|\b(can|could|may) (i|we) (say|call|"
    r"report) (it|this|the (scan|mri|study|brain)) (is )?(normal|clear|negative)\b|" + PASSING_IT_ON
)


def signs_off(c: CaseFacts) -> bool:
    """Whether the question would sign the scan off or reassure (`_SIGN_OFF`)."""
    return bool(_SIGN_OFF.search(c.q))


def sign_off_on_part(c: CaseFacts, text: str) -> str | None:
    """ "Can I tell the patient their brain MRI is normal?" / "So nothing to worry about?" about a
    volume analysed only in part, when the reading there is normal: not for the whole scan (the
    rest was not analysed), then what the analysed levels showed. None otherwise."""
    summary = c.evidence.scan_summary or {}
    if not partial(summary) or not _SIGN_OFF.search(c.q):
        return None
    lead = _YES_NORMAL_LEAD.match(text) or re.match(
        r"^(Yes, probably|Nothing abnormal was found|No clear abnormality)(?=[:.])", text
    )
    if lead is None:
        return None
    rest = re.sub(r"^[^:.]*[:.]\s*", "", text[lead.start() :], count=1)
    where = "levels" if summary.get("volume_analysis") else "slice"
    return (
        "I can't tell for the whole scan: the detector analysed only part of this volume and "
        "says nothing about the rest, so its reading cannot support calling the scan normal. "
        f"{analysed_scope(summary)} "
        f"On the analysed {where}: {rest[:1].lower() + rest[1:]}"
    )


def on_analysed_part(c: CaseFacts, text: str) -> str:
    """A presence answer about a volume analysed only in part: a leading "No" becomes "No,
    not on the analysed slice" ("... at the analysed levels"), a "Yes, as far as this detector
    can tell" (normal) says where it holds, and the analysed scope is said when the answer does
    not say it yet. Other answers are returned as they are."""
    summary = c.evidence.scan_summary or {}
    if not partial(summary) or re.search(r"\b[fwv]\d{1,3}\b", c.q):
        return text  # "Is V2 real?": about a finding, not the volume
    if re.search(r"\banalysed (slice|levels?)\b", text.split(". ")[0]):
        return text  # the lead says where it holds already
    where = "at the analysed levels" if summary.get("volume_analysis") else "on the analysed slice"
    if _NO_LEAD.match(text):
        rest = _NO_LEAD.sub("", text, count=1)
        if not _AN_ID.match(rest):
            rest = rest[:1].lower() + rest[1:]
        text = f"No, not {where}: {rest}"
    elif _YES_NORMAL_LEAD.match(text):
        text = _YES_NORMAL_LEAD.sub(f"Yes {where}, as far as this detector can tell", text, count=1)
    elif m := _WEAK_LEAD.match(text):
        text = f"{m.group(1)} {where}" + text[m.end() :]
    else:
        return text
    scope = analysed_scope(summary)
    if scope and scope not in text:
        text = text.rstrip() + " " + scope
    return text


_NEGATIVE_RESULT = re.compile(
    r"\b(negative|normal|clean|clear|unremarkable|nothing found|no findings?)\b[\w\s-]{0,30}?\b"
    r"(mean|means|imply|implies|prove|proves|guarantee|guarantees|confirm|confirms)\b[\w\s,'-]{0,40}"
    r"\b(healthy|normal|disease[- ]free|no disease|nothing wrong|fine|well|no (tumou?r|lesion|"
    r"pathology|problem)s?)\b"
)
_TRUST_A_NEGATIVE = re.compile(
    r"\b(trust|rely on|believe|depend on|how good is|how reliable is)\b.{0,40}\b(normal|negative|"
    r"nothing found|clear|all[- ]clear)\b.{0,10}(result|reading|read|report|scan)?"
)
_POSITIVE_RESULT = re.compile(
    r"\b(positive|abnormal|a finding|flagged|a hit)\b[\w\s-]{0,30}?\b(mean|means|imply|implies|"
    r"prove|proves|confirm|confirms)\b[\w\s,'-]{0,40}\b(disease|ill|sick|cancer|tumou?r|lesion|"
    r"pathology|something wrong|abnormal|ms|stroke)\b"
)


def result_meaning(c: CaseFacts) -> str | None:
    """ "Does a negative result mean this person is healthy?" / "Does a positive result mean
    cancer?": what such a result means, then what this scan's result is. None for other
    questions."""
    if _TRUST_A_NEGATIVE.search(c.q):
        ms = re.search(r"\b(ms|multiple sclerosis|demyelinat\w*)\b", c.q)
        return (
            "Only so far: a 'normal' result means that the detector found nothing above its "
            "threshold in what it analysed. It reads one T1-weighted scan (at a few levels of a "
            "volume with the shipped model), misses most small lesions (a third of small "
            "synthetic ones were flagged on validation slices), and sees nothing that shows only "
            "on other sequences."
            + (
                " For MS in particular: most MS lesions are seen on FLAIR and T2 rather than T1, "
                "many are small, and lesions in the posterior fossa or the spinal cord are outside "
                "what it analyses, so a normal result here says little; the MS patients' scans "
                "it was tried on were skull-stripped and refused."
                if ms
                else ""
            )
        )
    if _NEGATIVE_RESULT.search(c.q):
        return (
            "No. A negative result means only that the detector found no region that deviates "
            "from its healthy training scans above its calibrated threshold on what it analysed. "
            "It is not a diagnosis of health: it can miss small or subtle lesions, it says "
            "nothing about parts of the scan it did not analyse, and disease without a visible "
            "structural change on this kind of image is not seen."
        )
    if _POSITIVE_RESULT.search(c.q):
        return (
            "No. A positive result means only that a region deviates from the detector's "
            "healthy training scans; it is not a diagnosis: normal variants, artefacts and "
            "differences of scanner or protocol can deviate too, and the detector does not say "
            "what a region is. A radiologist's reading of the images decides."
        )
    return None


# Particulars that one reading of one image cannot settle; each gets "I can't tell ...", why,
# and then (in the responder) what the detector did find.
# "how many millimetres from the ventricle is it?", "how far is it from the midline?"
_DISTANCE_TO = re.compile(
    r"\b(how (far|close|near)|how many (mm|millimet\w*|cm|centimet\w*)|distance)\b.{0,40}\b(from|to)"
    r" (the |a )?(\w+ )?(ventricles?|cortex|surface|skull|falx|sulc\w*|edge|border)\b"
)
_ENHANCES = re.compile(
    r"\b(is|are|was|were) (it|this|that|they|these|f\d+|the (\w+ ){0,2}(lesion|ring|mass|region|"
    r"area|rim|finding|abnormality|thing|one|wall|nodule|focus)) (\w+ )?enhanc\w*|"
    r"\b(does|do|did) (it|this|that|they|f\d+|the (\w+ ){0,2}(lesion|ring|mass|region|area|rim|"
    r"finding|abnormality|nodule|focus)) (\w+ )?enhance\b|\benhanc\w* or not\b"
)
# "any nodular enhancement along the cavity margin?": whether anything enhances
_ENHANCEMENT_ASKED = re.compile(
    r"\b(nodular|ring|rim|leptomeningeal|dural|patchy|solid|avid|abnormal|new|residual|marginal|"
    r"any|no) enhancement\b|\benhancement (along|of|at|in|around|within|on)\b"
)
_NO_CONTRAST = re.compile(
    r"\b(no|without|didn'?t give|did not give|didnt give|not given|wasn'?t given|no gad\w*)\b.{0,20}"
    r"\b(contrast|gad\w*)|\b(contrast|gad\w*)\b.{0,15}\b(not|wasn'?t|was not) (given|used|injected)"
)
_RATHER_THAN = re.compile(
    r"\b(?:(?:just|simply|only|merely) )?(?:be|is|it'?s|represent|reflect)\s+"
    r"(?:(?:this|it|that|they|[fwv]\d+) )?(?:just |simply |only |merely )?(?:an? |the )?"
    r"(?P<x>[a-z][\w -]{1,40}?)\s+(?:rather than|instead of|as opposed to)\s+(?:an? |the )?"
    r"(?P<y>[a-z][\w -]{1,40}?)\s*[?.!]*$",
    re.IGNORECASE,
)
# "noise rather than a lesion", "a normal variant rather than pathology": whether a region is
# real, answered from its confidence elsewhere
_REALITY_AXIS = re.compile(
    r"\b(artefacts?|artifacts?|noise|noisy|real|genuine\w*|true|actual\w*|normal|healthy|scanner|"
    r"reconstruction|glitch|error|partial[- ]volume|variants?|variation|anatomy|map|colou?r|"
    r"heatmap|spot|tissue|bias[- ]field|motion|movement|blips?|static|susceptibility|"
    r"inhomogeneit\w*)\b",
    re.IGNORECASE,
)
# "cyst vs encephalomalacia", "CSF signal? cyst vs encephalomalacia"
_VERSUS = re.compile(
    r"(?:^|[?.!,;:]\s*)(?P<x>[a-z][\w -]{1,30}?)\s+(?:vs\.?|versus)\s+(?P<y>[a-z][\w -]{1,30}?)"
    r"\s*[?.!]*$",
    re.IGNORECASE,
)
_REAL_OR_ARTEFACT = re.compile(
    r"\b(real|genuine|true)( lesion| finding| abnormality)? or (an? |just )?(artefact|artifact)"
)
_EDGE_ONLY = re.compile(
    r"\b(just|only|simply|merely|mostly)\b.{0,40}\b(edges?|rim|borders?|surface|outline|boundary|"
    r"margins?) of the (brain|head|scan|image)\b|\b(just|only|simply|merely|mostly)\b.{0,40}\b"
    r"(brain|head|cortical) (edges?|rim|borders?|surface|outline|boundary|margins?)\b|"
    # "Is the heatmap just showing the edge where the skull was stripped?"
    r"\b(edges?|rim|borders?|outline|surface|boundary) (where|of where) (the )?skull\b|"
    r"\bskull[- ]strip\w* (edges?|rim|borders?|boundary|outline)\b|"
    # "is the heatmap hot along the brain edge?"
    r"\b(along|around|follow\w*) (the )?(brain'?s? |head'?s? |cortical )?(edges?|rim|"
    r"outline|surface|boundary|margins?)( of the (brain|head))?\b"
)
_SYMPTOM = (
    r"(symptoms?|presentation|clinical|history|exam\w*|weakness|deficit|story|complaint|signs?|"
    r"seizures?|headaches?|picture|numbness|confusion|aphasia|palsy|hemiparesis)"
)
# "Does the scan fit?" (after a vignette), "Does it fit with her symptoms?", "Could this explain
# the weakness?": whether the image matches the clinical picture
_CLINICAL_FIT = re.compile(
    r"\b(does|do|would|could|can|might) (the |this |that |these |those )?(scan|mri|imaging|image|"
    r"findings?|lesion|f\d+|it|this|that|appearances?|abnormality|region) (\w+ )?(fit|match|"
    r"correlate|tally|go with)\b(?=\s*[?.!]*$| (in )?with (the |his |her |their |this |my )?"
    rf"(\w+ )?{_SYMPTOM})|\b(does|do|would|could|can|might) (the |this |that )?(scan|findings?|"
    rf"lesion|f\d+|it|this|that|abnormality) (\w+ )?(explain|account for) (the |his |her |their "
    rf"|this |my )?(\w+ ){{0,2}}{_SYMPTOM}\b|\b(consistent|compatible|in keeping|fit|fits) with "
    rf"(the |his |her |their |this )?(\w+ )?{_SYMPTOM}\b"
)
_MIDLINE = re.compile(
    r"\b(cross\w*|crossing|reach\w*|extend\w*|span\w*|involv\w*|abut\w*|touch\w*) (\w+ ){0,3}"
    r"midline\b|\b(how far|distance|how close|how near)\b.{0,25}\bmidline\b|"
    r"\bmidline\b.{0,20}\b(cross\w*|distance|how far)\b"
)
_CENTRE_RIM = re.compile(
    r"\b(centre|center|middle|core|inside)\b.{0,40}\b(rim|wall|edge|periphery|margin|ring)\b|"
    r"\b(rim|wall|edge|periphery|margin)\b.{0,40}\b(centre|center|middle|core)\b"
)


def cannot_tell(c: CaseFacts) -> str | None:
    """The lead of an answer to a particular that this reading cannot settle ("Is the ring lesion
    enhancing?", "Could it be a CSF space rather than pathology?", "Does the scan fit the
    symptoms?", "Does it cross the midline?", "Is the centre darker than the rim?"): "I can't
    tell ...", and why. None for other questions."""
    q = c.q
    if _DISTANCE_TO.search(q):
        return (
            "I can't tell: the detector does not locate anatomical structures, so distances from "
            "a finding to them are not measured."
        )
    if _ENHANCES.search(q) or _ENHANCEMENT_ASKED.search(q):
        what = "it enhances" if _ENHANCES.search(q) else "anything enhances"
        why = (
            "without a contrast injection there is nothing to enhance, and even with one, "
            if _NO_CONTRAST.search(q)
            else ""
        )
        return (
            f"I can't tell whether {what}: {why}enhancement shows only when a post-contrast "
            "scan is compared with a pre-contrast one, and this detector reads one T1 image and "
            "was trained on non-contrast T1 scans."
        )
    if c.evidence.unreliable and _REAL_OR_ARTEFACT.search(q):
        return (
            "I can't tell whether it is real or an artefact: this scan is outside the detector's "
            "domain, so its findings here are unreliable either way; on such scans (for example "
            "skull-stripped ones, whose bare brain edge the training scans never showed) regions "
            "are often flagged because the scan differs, not because of a lesion."
        )
    if (
        (m := _RATHER_THAN.search(c.question.strip()) or _VERSUS.search(c.question.strip()))
        and not _REALITY_AXIS.search(m[0])
        and not re.search(
            r"\b([fwv]\d|left|right|l|r|acute|chronic|old|new|what|whats|what's|which|how|why|"
            r"score|threshold|confidence|probability|heatmap|pseudo\w*|detector|model|slice|image|"
            r"scan|volume|png|dicom|nifti|t1|t2|flair|mm|px|pixels?|hyper\w*|hypo\w*|iso\w*|"
            r"bright\w*|dark\w*|bigger|smaller|larger|approach\w*|route|access|corridor|"
            r"trajector\w*|surg\w*|resect\w*|biops\w*|deciding|choosing)\b",
            m["x"] + " " + m["y"],
            re.I,
        )
    ):
        x, y = m["x"].strip(), m["y"].strip()
        normal = re.search(r"\b(csf|normal|variant|sulc\w*|ventric\w*|fissure|space)\b", x, re.I)
        why = (
            "; a normal structure that differs from those scans (a larger CSF space, a variant) "
            "can deviate as well as a lesion can"
            if normal
            else ""
        )
        return (
            f"I can't tell whether it is {x} or {y}: the detector reports that a region deviates "
            f"from the healthy scans it was trained on, not what the region is{why}."
        )
    if _EDGE_ONLY.search(q):
        where = {
            t.data.get("central_peripheral") for t in c.findings if t.data.get("central_peripheral")
        }
        at = (
            " The regions it kept lie at the periphery, where the edge is."
            if where == {"peripheral"}
            else ""
        )
        items = c.evidence.by_kind("applicability")
        reasons = " ".join((items[0].data.get("reasons") or []) if items else []).lower()
        if re.search(r"skull[- ]stripped", reasons):
            edge = (
                " The check found this scan skull-stripped: the bare edge of a skull-stripped "
                "brain, which the training scans never showed, is read as abnormal, so a region "
                "along the edge here is likely that."
            )
        elif c.detection_ran and not items:
            edge = (
                " The applicability check found the skull on, as in the training scans, so the "
                "brain's edge itself is not expected to deviate; a region at the periphery can "
                "still be a cortical change, or CSF or scalp included at the edge."
            )
        else:
            edge = (
                " On a skull-stripped scan the bare edge of the brain, which the training scans "
                "never showed, is read as abnormal."
            )
        return (
            "I can't tell from the detector's output: it reports where a region lies (central or "
            "peripheral), not whether the map follows the brain's edge; the overlay shows it."
            f"{edge}{at}"
        )
    if _CLINICAL_FIT.search(q):
        return (
            "I can't tell whether it fits the clinical picture: the detector reads the image "
            "alone, without the history or the examination, and relating what it found to the "
            "symptoms is the clinician's judgement."
        )
    if _MIDLINE.search(q) and "shift" not in q:
        return (
            "I can't tell: the detector does not locate the midline, so it cannot say whether a "
            "region reaches or crosses it, or how far from it a region lies; it reports which "
            "half of the image a region lies in and whether it is central or peripheral."
        )
    if _CENTRE_RIM.search(q):
        return (
            "I can't tell: the detector measures how much darker or brighter a region is than "
            "its pseudo-healthy reconstruction, as a whole and the share of it that deviates the "
            "other way, but not where in the region each part lies (its rim or its centre)."
        )
    return None


_WHICH_SIDE_MORE = re.compile(
    r"\bwhich (side|hemisphere)\b.{0,40}\b(more|most|larger|bigger|greater|worse|heavier)\b|"
    r"\b(more|most) (lesions?|lesion load|disease|burden|abnormalit\w*|involvement) on (the )?"
    r"(left|right)\b"
)


def side_comparison(c: CaseFacts) -> str | None:
    """ "Which side has more lesion load?": the flagged area on each side (in the frame the scan
    allows), and that lesion load itself is not measured. None for other questions or without
    findings."""
    if not _WHICH_SIDE_MORE.search(c.q) or not c.findings:
        return None
    sides: dict[str, list[float]] = {}  # side -> [regions, area]
    unit = "mm²"
    for f in c.findings:
        d = f.data
        area = d.get("area_mm2")
        if area is None:
            area, unit = d.get("area_px") or 0, "pixels"
        count_area = sides.setdefault(c.side_phrase(d), [0, 0.0])
        count_area[0] += 1
        count_area[1] += float(area)
    listing = "; ".join(
        f"{key}: {n} region(s), about {area:.0f} {unit}"
        for key, (n, area) in sorted(sides.items(), key=lambda kv: -kv[1][1])
    )
    ids = "".join(f"[{f.id}]" for f in c.findings)
    lead = (
        f"Of what the detector flagged, the most lies {max(sides, key=lambda k: sides[k][1])}"
        if len(sides) > 1
        else f"All that the detector flagged lies {next(iter(sides))}"
    )
    return (
        f"{lead} ({listing}) {ids}. That is the thresholded anomaly on what was analysed, not a "
        "lesion load: the detector does not count or measure lesions as a radiologist would, "
        "and small lesions are mostly missed."
    )
