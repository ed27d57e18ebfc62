"""Answers bounded by what was analysed and by what a result can mean.

- `slices_not_analysed`: "Is there a lesion on slice 7?", "Anything on the other slices?" about a
  volume of which only one slice (or a few levels) was analysed: "I can't tell", and which were.
- `on_analysed_part`: a "No" (or "Yes, ... normal") about a volume analysed only in part says
  that it holds for the analysed part ("No, not on the analysed slice: ...").
- `result_meaning`: "Does a negative result mean this person is healthy?": no, and why; the
  same for a positive result and disease.
"""

from __future__ import annotations

import re

from assistant.evidence import analysed_scope
from assistant.responders.grounded.case import CaseFacts


def _partial(summary: dict) -> bool:
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
    r"\b(slices?|levels?|sections?) (above|below)\b|"
    r"\b(top|bottom|first|last|highest|lowest|uppermost|lowermost|end) (slices?|levels?|sections?)\b"
)


def slices_not_analysed(c: CaseFacts) -> str | None:
    """ "Is there a lesion on slice 7?" / "Any abnormality on the other slices?" about a volume
    analysed only in part, when those slices were not analysed: neither yes nor no, and which
    were analysed. None when the question names no such slice, or the scan is not such a volume."""
    summary = c.evidence.scan_summary or {}
    if not _partial(summary):
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
    if _OTHER_SLICES.search(c.q):
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


def on_analysed_part(c: CaseFacts, text: str) -> str:
    """A presence answer about a volume analysed only in part: a leading "No" becomes "No,
    not on the analysed slice" ("... at the analysed levels"), a "Yes, as far as this detector
    can tell" (normal) says where it holds, and the analysed scope is said when the answer does
    not say it yet. Other answers are returned as they are."""
    summary = c.evidence.scan_summary or {}
    if not _partial(summary) or re.search(r"\b[fwv]\d{1,3}\b", c.q):
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
_POSITIVE_RESULT = re.compile(
    r"\b(positive|abnormal|a finding|flagged|a hit)\b[\w\s-]{0,30}?\b(mean|means|imply|implies|"
    r"prove|proves|confirm|confirms)\b[\w\s,'-]{0,40}\b(disease|ill|sick|cancer|tumou?r|lesion|"
    r"pathology|something wrong|abnormal|ms|stroke)\b"
)


def result_meaning(c: CaseFacts) -> str | None:
    """ "Does a negative result mean this person is healthy?" / "Does a positive result mean
    cancer?": what such a result means, then what this scan's result is. None for other
    questions."""
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
