"""Answers about the findings themselves: is there one, where, how big, how many, how bright.

Each function takes the question's `CaseFacts` and returns the answer text, starting with a word a
QA benchmark can score ("Yes", "No", "Left", "Medium", "Hyperintense", a number). When nothing
reached the image threshold, `weak` answers where / how big / how bright from the strongest weaker
region (W1..), saying that it is weak evidence.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.evidence import EvidenceItem
from assistant.findings import SIZE_EDGES_MM2, position_words, size_bin, size_edges_px
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import (
    SIZE_WORDS,
    SPECIFIC,
    ap_phrase,
    cite,
    count_word,
    leaning,
    negated,
    upper_first,
)


def weak(c: CaseFacts, handler) -> str:
    """A location/intensity/size answer about the strongest region below the image
    threshold (or the W ids asked about), saying that it is weak evidence."""
    ids = set(c.resolved.finding_ids)
    targets = [w for w in c.weak if w.id in ids] or c.weak[:1]
    text = handler(replace(c, findings=targets, targets=targets)).strip()
    lead, sep, rest = text.partition(". ")
    names = ", ".join(t.id for t in targets)
    return (
        f"{lead} (weak evidence){sep}{rest} No region reached the detector's image "
        f"threshold{c.d1()}: {names} {'is' if len(targets) == 1 else 'are'} only the "
        f"strongest {'deviation' if len(targets) == 1 else 'deviations'} below it and may "
        "be noise or normal variation."
    )


def presence(c: CaseFacts) -> str:
    negative = negated(c.q)
    term = SPECIFIC.search(c.q)
    if not c.detection_ran:
        return (
            "I can't tell: anomaly detection was not run for this scan, so there is no "
            "evidence about abnormalities."
        )
    below = c.findings or c.weak
    if below and c.detector.get("is_abnormal") is False:
        # regions above the pixel threshold, but the image as a whole is within the range
        # of healthy scans: report them without calling the scan abnormal
        lead = (
            ("Yes, probably" if negative else "No, not clearly")
            if c.closed
            else ("No clear abnormality")
        )
        n = len(below)
        return (
            f"{lead}: the image score is below the detector's calibrated threshold, so the "
            "scan as a whole looks like the healthy training scans. "
            f"{count_word(n, 'weaker region').capitalize()} exceeded the pixel threshold "
            "without reaching the image threshold and may be noise or normal variation: "
            + "; ".join(c.describe(f) for f in below[:3])
            + "."
            + c.uncertainty()
        )
    if c.findings:
        lead = ("No. " if negative else "Yes. ") if c.closed else ""
        n = len(c.findings)
        text = (
            f"{lead}The detector found {count_word(n, 'region')} that "
            f"{'deviates' if n == 1 else 'deviate'} from the healthy training distribution: "
            + "; ".join(c.describe(f) for f in c.findings)
            + "."
        )
        if term:
            text += (
                f" Whether {'it is' if n == 1 else 'any of them is'} a {term.group(0)} cannot "
                "be determined by this detector: it measures deviation from healthy anatomy, "
                "not what the deviation is."
            )
        return text + c.uncertainty()
    if c.detector.get("is_abnormal"):
        lead = "No, not clearly" if negative else "Yes, but only weakly"
        return (
            f"{lead}: the image as a whole scores above the detector's threshold, but no "
            "localised region exceeded the pixel threshold." + c.uncertainty()
        )
    if not c.closed:
        text = f"Nothing abnormal was found: {c.no_findings()}."
    else:
        lead = "Yes, as far as this detector can tell" if negative else "No"
        text = f"{lead}: {c.no_findings()}."
    if c.detector.get("score_threshold") is None:
        text += " The detector is uncalibrated, so this is not a reliable negative."
    else:
        text += c.uncertainty()
    return text + " A detector can miss small or subtle abnormalities."


def location(c: CaseFacts) -> str:
    if not c.findings:
        return c.nothing_found("There is nothing to locate")
    words = set(re.findall(r"[a-z]+", c.q))
    sides_asked = {"left", "right"} & words
    ap_map = {"anterior": "anterior", "front": "anterior", "posterior": "posterior"}
    ap_map["back"] = "posterior"
    ap_asked = {ap_map[w] for w in words if w in ap_map}
    invert = negated(c.q)
    details = "; ".join(
        f"{t.id} lies {c.side_phrase(t.data)}, {ap_phrase(t.data)}, "
        f"{position_words(t.data)[1]} {cite(t.id)}"
        for t in c.targets
    )
    note = c.orientation_note(c.targets)
    if c.closed and len(sides_asked) == 1 and not ("or" in words and ap_asked):
        return _yes_no(c, "side", sides_asked.pop(), invert) + details + "." + note
    if c.closed and len(ap_asked) == 1 and not sides_asked:
        return _yes_no(c, "anterior_posterior", ap_asked.pop(), invert) + details + "."
    if ap_asked and not sides_asked and "side" not in words:
        values = {leaning(t.data, "anterior_posterior") for t in c.targets}
        lead = values.pop().capitalize() if len(values) == 1 else "Both"
        return f"{lead}. {details}." + note
    values = {leaning(t.data, "side") for t in c.targets}
    lead = values.pop().capitalize() if len(values) == 1 else "Both sides"
    return f"{lead}. {details}." + note


def _yes_no(c: CaseFacts, key: str, value: str, invert: bool) -> str:
    hit = any(t.data[key] == value for t in c.targets)
    return "Yes. " if hit != invert else "No. "


def size(c: CaseFacts) -> str:
    if not c.findings:
        return c.nothing_found("There is nothing to measure")
    details = "; ".join(f"{t.id} covers {c.size_phrase(t.data)} {cite(t.id)}" for t in c.targets)
    caveat = (
        " Sizes are measured on this slice, on the thresholded anomaly region, which may not "
        "match the lesion's true boundary."
    )
    m = re.search(
        r"\b(larger|bigger|greater|more|wider|longer|over|smaller|less|shorter|under)\b"
        r"(?:\s+than)?\s+(\d+(?:\.\d+)?)\s*(mm|millimet\w*|cm|centimet\w*)",
        c.q,
    )
    if m:
        limit = float(m.group(2)) * (10.0 if m.group(3).startswith("c") else 1.0)
        larger = m.group(1) in (
            "larger",
            "bigger",
            "greater",
            "more",
            "wider",
            "longer",
            "over",
        )
        extents = [c.extent_mm(t.data) for t in c.targets]
        if any(e is None for e in extents):
            return (
                "I can't tell: the scan has no pixel spacing, so sizes are known only in "
                f"pixels. {details}."
            )
        biggest = max(max(e) for e in extents)  # type: ignore[arg-type]
        hit = biggest > limit if larger else biggest < limit
        return (
            f"{'Yes' if hit else 'No'}. The largest extent is about {biggest:.0f} mm "
            f"(limit {limit:.0f} mm): {details}." + caveat
        )
    asked = {SIZE_WORDS[w] for w in re.findall(r"\b(" + "|".join(SIZE_WORDS) + r")\b", c.q)}
    if c.closed and asked:
        bins = {t.id: _size_bin(c, t.data) for t in c.targets}
        named = "; ".join(f"{i} is {b}" for i, b in bins.items())
        if len(asked) > 1:  # "small, medium or large?": answer with the class
            found = list(dict.fromkeys(bins.values()))
            lead = " and ".join(found).capitalize()
        else:  # "Is the lesion large?"
            lead = "Yes" if asked & set(bins.values()) else "No"
        return f"{lead}. {named} ({_size_classes(c, c.targets)}): {details}." + caveat
    if len(c.targets) == 1:
        f = c.targets[0].data
        lead = (
            f"About {f['area_mm2']:.0f} mm²."
            if f.get("area_mm2") is not None
            else f"{f['area_px']} pixels."
        )
        return f"{lead} {details}." + caveat
    return f"{details}." + caveat


def _size_classes(c: CaseFacts, targets: list[EvidenceItem]) -> str:
    """What the size classes mean for these findings: mm² edges when their area in mm² is
    known, else THOR's edges scaled from 128x128 to this image's pixels."""
    lo, hi = SIZE_EDGES_MM2
    shape = (c.evidence.scan_summary or {}).get("shape") or None
    if all(t.data.get("area_mm2") is not None for t in targets) or not shape:
        return (
            f"size classes: small up to {lo:.0f} mm², large above {hi:.0f} mm², as for brain "
            "lesions in THOR's protocol"
        )
    h, w = shape[-2:]
    small, medium = size_edges_px((h, w))
    return (
        f"size classes without a pixel spacing: small up to {small:.0f} "
        f"pixels, large above {medium:.0f} pixels on this {h}x{w} image "
        "(THOR's brain-lesion classes scaled from 128x128)"
    )


def _size_bin(c: CaseFacts, f: dict) -> str:
    shape = (c.evidence.scan_summary or {}).get("shape") or None
    return size_bin(f["area_px"], tuple(shape[-2:]) if shape else None, f.get("area_mm2"))


def count(c: CaseFacts) -> str:
    n = len(c.findings)
    if not c.detection_ran:
        return f"I can't tell: {c.no_findings()}."
    listing = "".join(f" {c.describe(f)}." for f in c.findings)
    if c.closed and re.search(r"more than one|multiple|several", c.q):
        lead = "Yes" if n > 1 else "No"
        return f"{lead}. The detector found {count_word(n, 'region')}.{listing}" + (c.uncertainty())
    if n == 0:
        return f"0. {upper_first(c.no_findings())}." + c.uncertainty()
    return (
        f"{n}. The detector found {count_word(n, 'region')} that "
        f"{'deviates' if n == 1 else 'deviate'} from the healthy training distribution."
        f"{listing}" + c.uncertainty()
    )


def intensity(c: CaseFacts) -> str:
    if not c.findings:
        return c.nothing_found("There is no region to characterise")
    hyper = re.search(r"hyper|bright|white|light", c.q)
    hypo = re.search(r"hypo|dark|black", c.q)
    details = "; ".join(
        f"{t.id} is {t.data['intensity']}: "
        + (
            f"{'brighter' if t.data['intensity_delta'] > 0 else 'darker'} than the "
            f"pseudo-healthy reconstruction by {abs(t.data['intensity_delta']):.2f} on a 0-1 "
            "intensity scale"
            if t.data["intensity"] != "mixed"
            else "both brighter and darker parts"
        )
        + f" {cite(t.id)}"
        for t in c.targets
    )
    caveat = (
        " Intensity is relative to the detector's pseudo-healthy reconstruction of the same "
        "image, not an absolute signal measurement."
    )
    if c.closed and bool(hyper) != bool(hypo):
        want = "hyperintense" if hyper else "hypointense"
        hit = any(t.data["intensity"] == want for t in c.targets)
        return f"{'Yes' if hit else 'No'}. {details}." + caveat
    values = {t.data["intensity"] for t in c.targets}
    lead = values.pop().capitalize() if len(values) == 1 else "Both hyper- and hypointense"
    return f"{lead}. {details}." + caveat
