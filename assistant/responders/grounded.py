"""The offline default responder: deterministic answers built only from the evidence.

`GroundedResponder.stream(question, evidence, history)` resolves the question's intent
(`assistant.responders.intents.resolve`: exact keyword rules, else the packaged sentence-embedding
model against example questions; follow-ups from the history) and writes the answer from the
detector's findings (F1..), retrieved cases (C1..) and knowledge passages (K1..), citing each
statement's evidence. Wording is deliberately careful: the detector reports regions that deviate
from its healthy training distribution, never a diagnosis. Closed questions are answered with a
first word a QA benchmark can score ("Yes", "No", "Left", "Hyperintense", a number).

Retrieved text is quoted data: only short excerpts are quoted, and sentences that read like
instructions to an assistant are dropped from them (see `safe_excerpt`), so a case report that
says "ignore previous instructions" changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from assistant.report import lean_of, position_words
from assistant.responders.base import Evidence, EvidenceItem, Message
from assistant.responders.intents import Resolved, resolve

logger = logging.getLogger(__name__)

VERSION = "1.0.0"  # bump when the wording changes; logged as the prompt version

CAPABILITIES = (
    "whether the detector found a region that deviates from healthy anatomy, where it is "
    "(side, front/back), its size, how many regions there are, whether they are hyper- or "
    "hypointense, what the heatmap and the pseudo-healthy reconstruction show, similar cases, "
    "possible explanations from retrieved reference text, the imaging modality, and a draft report"
)
DISCLAIMER = "Research use only, not a medical device: a clinician must review this."

# intents answered from the weaker regions (W1..) when there is no finding, with that caveat
_WEAK_INTENTS = ("location", "intensity", "size")
# words for the size classes of `retrieval.profile.size_bin` in closed size questions
_SIZE_WORDS = {
    "small": "small",
    "tiny": "small",
    "medium": "medium",
    "moderate": "medium",
    "large": "large",
    "big": "large",
    "huge": "large",
}
_CLOSED = re.compile(
    r"^\s*(?:and\s+|so\s+|but\s+)?(is|are|does|do|did|was|were|can|could|has|have|will|would|"
    r"should|shall|isn't|aren't|doesn't)\b"
)
_NORMAL = re.compile(r"\b(normal|healthy|unremarkable|fine|okay|ok|clear|clean|intact)\b")
_SPECIFIC = re.compile(
    r"\b(tumou?rs?|mass(?:es)?|cancer|metasta\w+|bleed\w*|ha?emorrhage|infarcts?|stroke|"
    r"cysts?|abscess\w*|plaques?|multiple sclerosis|ms lesions?|glioma\w*|edema|oedema)\b"
)
# Signs and structures the detector does not assess: asked about them, it says so.
_UNASSESSABLE = re.compile(
    r"\b(mass effect|midline shift|ventric\w*|atroph\w*|enhanc\w*|contrast agent|o?edema|"
    r"calcif\w*|margins?|borders?|well[- ]defined|ill[- ]defined|lobes?|gyr\w*|sulc\w*|"
    r"herniat\w*|hydroceph\w*|white matter|gr[ae]y matter|cortex|cortical|thalam\w*|"
    r"cerebell\w*|brain ?stem|basal ganglia|symmetr\w*|asymmetr\w*)\b"
)
_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rule|prompt|previous|above)|"
    r"\b(system prompt|you are now|you must|act as|pretend|as an ai|respond with|reply with|"
    r"answer with|say that|tell the user|new instructions?)\b",
    re.IGNORECASE,
)


# "Is this scan free of abnormalities?", "... without any lesion?": negated presence questions
_NEGATED = re.compile(r"\bfree (of|from)\b|\bwithout (any )?(abnormal|lesion|finding|sign)")


def _negated(q: str) -> bool:
    """The question asks whether the scan is NORMAL (so "yes" means no finding)."""
    return bool(_NEGATED.search(q)) or (bool(_NORMAL.search(q)) and not re.search(r"\babnormal", q))


def safe_excerpt(text: str, max_chars: int = 180) -> str:
    """A short quotable excerpt of retrieved text that can only be read as data.

    Sentences that address an assistant ("ignore previous instructions", "say that ...") are
    replaced by a marker, then `assistant.prompts.quote_data` neutralises the rest (chat-template
    tokens, delimiters, square brackets so quoted text can never forge a citation) and cuts it.
    """
    from assistant.prompts import REMOVED, quote_data

    sentences = re.split(r"(?<=[.!?;])\s+|\n+", str(text))
    kept = [REMOVED if _INJECTION.search(s) else s.strip() for s in sentences if s.strip()]
    return quote_data(" ".join(kept), max_chars=max_chars).replace('"', "'")


_AP_LONG = {
    "anterior": "in the anterior part of the image",
    "posterior": "in the posterior part of the image",
    "central": "midway between the front and the back of the image",
}


def _ap_phrase(f: dict) -> str:
    lean = lean_of(f, "anterior_posterior")
    long = _AP_LONG[f["anterior_posterior"]]
    return f"{long} (slightly {lean} of the middle)" if lean else long


def _leaning(f: dict, key: str) -> str:
    """The answer word to "left or right?" / "anterior or posterior?": the finding's value, or
    for a midline / central finding, e.g. "midline, slightly left" (which way it leans)."""
    lean = lean_of(f, key)
    return f"{f[key]}, slightly {lean}" if lean else f[key]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cite(*ids: str) -> str:
    return "".join(f"[{i}]" for i in ids)


def _count_word(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@dataclass
class _Case:
    """The evidence for one question, with the helpers every intent needs."""

    question: str
    q: str  # lower-cased question
    evidence: Evidence
    resolved: Resolved
    findings: list[EvidenceItem]  # all findings, detector order
    targets: list[EvidenceItem]  # the findings the question is about
    weak: list[EvidenceItem] = field(default_factory=list)  # W1..: below the image threshold

    @property
    def closed(self) -> bool:
        return bool(_CLOSED.search(self.q))

    @property
    def detector(self) -> dict:
        return self.evidence.detector_summary or {}

    @property
    def detection_ran(self) -> bool:
        return bool(self.detector)

    def spacing(self) -> tuple[float, float] | None:
        sp = (self.evidence.scan_summary or {}).get("spacing_mm")
        if not sp or len(sp) < 2:
            return None
        return float(sp[-2]), float(sp[-1])

    # --- sentences reused by several intents --------------------------------------------
    def side_phrase(self, f: dict) -> str:
        if f["side"] == "midline":
            lean = lean_of(f, "side")
            if not lean:
                return "at the midline"
            frame = "the patient's" if f.get("side_frame") == "patient" else "the image's"
            return f"at the midline (slightly to {frame} {lean})"
        if f.get("side_frame") == "patient":
            return f"on the patient's {f['side']}"
        return f"on the {f['side']} side of the image"

    def orientation_note(self, items: list[EvidenceItem]) -> str:
        if any(i.data.get("side_frame") != "patient" for i in items):
            return (
                " Left and right refer to the image as displayed, because the scan does not "
                "record the patient's orientation."
            )
        return ""

    def size_phrase(self, f: dict) -> str:
        if f.get("area_mm2") is None:
            return f"{f['area_px']} pixels (the scan has no pixel spacing, so no size in mm)"
        ext = self.extent_mm(f)
        across = f", about {ext[0]:.0f} × {ext[1]:.0f} mm across" if ext else ""
        return f"about {f['area_mm2']:.0f} mm²{across}"

    def extent_mm(self, f: dict) -> tuple[float, float] | None:
        sp = self.spacing()
        if sp is None:
            return None
        r0, c0, r1, c1 = f["bbox"]
        return (r1 - r0) * sp[0], (c1 - c0) * sp[1]

    def confidence_word(self, f: dict) -> str:
        c = float(f.get("confidence", 0.0))
        return "high" if c >= 0.7 else "moderate" if c >= 0.4 else "low"

    def describe(self, item: EvidenceItem) -> str:
        f = item.data
        return (
            f"{item.id} is a {f['intensity']} region {self.side_phrase(f)} "
            f"({', '.join(position_words(f))}), {self.size_phrase(f)}, "
            f"detector confidence {f['confidence']:.2f} ({self.confidence_word(f)}) "
            f"{_cite(item.id)}"
        )

    def d1(self) -> str:
        """The citation of the detector's image-level result, when the evidence has it."""
        return " [D1]" if any(i.id == "D1" for i in self.evidence.items) else ""

    def uncertainty(self) -> str:
        """One sentence on how sure the detector is, from the image score vs its threshold."""
        d = self.detector
        score, thr = d.get("score"), d.get("score_threshold")
        if score is None:
            return ""
        if thr is None:
            return (
                f" The detector is not calibrated for this kind of scan (image score "
                f"{score:.3g}, no threshold), so treat this result as uncertain{self.d1()}."
            )
        ratio = score / thr if thr > 0 else float("inf")
        if ratio >= 1.5:
            where, sure = (
                "well above",
                "the detector is fairly confident that the image is abnormal",
            )
        elif ratio > 1.0:
            where, sure = "just above", "this result is uncertain"
        elif ratio > 0.67:
            where, sure = "just below", "this result is uncertain"
        else:
            where, sure = "well below", "the detector is fairly confident that the image is normal"
        return (
            f" The image anomaly score is {score:.3g}, {where} the calibrated threshold of "
            f"{thr:.3g}, so {sure}{self.d1()}."
        )

    def nothing_found(self, open_lead: str) -> str:
        """The answer to a where / how big / how bright question when there is no finding: "No"
        to a closed question when the detector ran and found nothing, "I can't tell" when it
        did not run (no evidence either way)."""
        if not self.detection_ran:
            lead = "I can't tell"
        else:
            lead = "No" if self.closed else open_lead
        return f"{lead}: {self.no_findings()}."

    def no_findings(self) -> str:
        """Why there is nothing to describe (detection not run, or nothing above threshold)."""
        if not self.detection_ran:
            return "anomaly detection was not run for this scan, so there is no finding to describe"
        return (
            "the detector found no region that deviates from the healthy training distribution "
            f"above its threshold{self.d1()}"
        )


class GroundedResponder:
    """Deterministic, evidence-only answers; the offline default responder."""

    name = "grounded"
    model = "rules+all-MiniLM-L6-v2"
    prompt_version = f"grounded-{VERSION}"

    def __init__(self, disclaimer: bool = True):
        self.disclaimer = disclaimer

    def stream(self, question: str, evidence: Evidence, history: list[Message]) -> Iterator[str]:
        """Yield the answer word by word (with trailing whitespace); see `answer`."""
        yield from re.findall(r"\S+\s*", self.answer(question, evidence, history))

    def answer(
        self, question: str, evidence: Evidence, history: list[Message] | None = None
    ) -> str:
        findings = evidence.by_kind("finding")
        weak = evidence.by_kind("weak_finding")
        resolved = resolve(question, history or [], [f.id for f in findings + weak])
        ids = set(resolved.finding_ids)
        targets = [f for f in findings if f.id in ids] or findings
        case = _Case(question, question.lower(), evidence, resolved, findings, targets, weak)
        handler = getattr(self, f"_{resolved.intent}", self._unknown)
        term = _UNASSESSABLE.search(case.q)
        if term and (
            resolved.source != "rule"
            or resolved.intent in ("presence", "unknown", "explanation", "intensity")
        ):
            text = self._unassessable(case, term.group(0)).strip()
        elif resolved.intent in _WEAK_INTENTS and not findings and weak:
            text = self._weak(case, handler)
        else:
            text = handler(case).strip()
            if term and resolved.intent == "location":
                text += (
                    " The detector does not identify lobes or other anatomical structures; it "
                    "reports the position in the image only."
                )
        if self.disclaimer and resolved.intent != "out_of_scope":
            text += "\n\n" + DISCLAIMER
        return text

    def _weak(self, c: _Case, handler) -> str:
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

    # --- intents -------------------------------------------------------------------------
    def _presence(self, c: _Case) -> str:
        negative = _negated(c.q)
        term = _SPECIFIC.search(c.q)
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
                f"{_count_word(n, 'weaker region').capitalize()} exceeded the pixel threshold "
                "without reaching the image threshold and may be noise or normal variation: "
                + "; ".join(c.describe(f) for f in below[:3])
                + "."
                + c.uncertainty()
            )
        if c.findings:
            lead = ("No. " if negative else "Yes. ") if c.closed else ""
            n = len(c.findings)
            text = (
                f"{lead}The detector found {_count_word(n, 'region')} that "
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

    def _location(self, c: _Case) -> str:
        if not c.findings:
            return c.nothing_found("There is nothing to locate")
        words = set(re.findall(r"[a-z]+", c.q))
        sides_asked = {"left", "right"} & words
        ap_map = {"anterior": "anterior", "front": "anterior", "posterior": "posterior"}
        ap_map["back"] = "posterior"
        ap_asked = {ap_map[w] for w in words if w in ap_map}
        invert = _negated(c.q)
        details = "; ".join(
            f"{t.id} lies {c.side_phrase(t.data)}, {_ap_phrase(t.data)}, "
            f"{position_words(t.data)[1]} {_cite(t.id)}"
            for t in c.targets
        )
        note = c.orientation_note(c.targets)
        if c.closed and len(sides_asked) == 1 and not ("or" in words and ap_asked):
            return self._yes_no(c, "side", sides_asked.pop(), invert) + details + "." + note
        if c.closed and len(ap_asked) == 1 and not sides_asked:
            return self._yes_no(c, "anterior_posterior", ap_asked.pop(), invert) + details + "."
        if ap_asked and not sides_asked and "side" not in words:
            values = {_leaning(t.data, "anterior_posterior") for t in c.targets}
            lead = values.pop().capitalize() if len(values) == 1 else "Both"
            return f"{lead}. {details}." + note
        values = {_leaning(t.data, "side") for t in c.targets}
        lead = values.pop().capitalize() if len(values) == 1 else "Both sides"
        return f"{lead}. {details}." + note

    def _yes_no(self, c: _Case, key: str, value: str, invert: bool) -> str:
        hit = any(t.data[key] == value for t in c.targets)
        return "Yes. " if hit != invert else "No. "

    def _size(self, c: _Case) -> str:
        if not c.findings:
            return c.nothing_found("There is nothing to measure")
        details = "; ".join(
            f"{t.id} covers {c.size_phrase(t.data)} {_cite(t.id)}" for t in c.targets
        )
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
        asked = {_SIZE_WORDS[w] for w in re.findall(r"\b(" + "|".join(_SIZE_WORDS) + r")\b", c.q)}
        if c.closed and asked:
            bins = {t.id: self._size_bin(c, t.data) for t in c.targets}
            named = "; ".join(f"{i} is {b}" for i, b in bins.items())
            if len(asked) > 1:  # "small, medium or large?": answer with the class
                found = list(dict.fromkeys(bins.values()))
                lead = " and ".join(found).capitalize()
            else:  # "Is the lesion large?"
                lead = "Yes" if asked & set(bins.values()) else "No"
            return f"{lead}. {named} ({self._size_classes(c, c.targets)}): {details}." + caveat
        if len(c.targets) == 1:
            f = c.targets[0].data
            lead = (
                f"About {f['area_mm2']:.0f} mm²."
                if f.get("area_mm2") is not None
                else f"{f['area_px']} pixels."
            )
            return f"{lead} {details}." + caveat
        return f"{details}." + caveat

    @staticmethod
    def _size_classes(c: _Case, targets: list[EvidenceItem]) -> str:
        """What the size classes mean for these findings: mm² edges when their area in mm² is
        known, else THOR's edges scaled from 128x128 to this image's pixels."""
        from retrieval.profile import SIZE_EDGES_MM2

        lo, hi = SIZE_EDGES_MM2
        shape = (c.evidence.scan_summary or {}).get("shape") or None
        if all(t.data.get("area_mm2") is not None for t in targets) or not shape:
            return (
                f"size classes: small up to {lo:.0f} mm², large above {hi:.0f} mm², as for brain "
                "lesions in THOR's protocol"
            )
        from assistant.synth import BIN_EDGES_128, size_scale

        h, w = shape[-2:]
        s = size_scale((h, w))
        return (
            f"size classes without a pixel spacing: small up to {BIN_EDGES_128[0] * s:.0f} "
            f"pixels, large above {BIN_EDGES_128[1] * s:.0f} pixels on this {h}x{w} image "
            "(THOR's brain-lesion classes scaled from 128x128)"
        )

    @staticmethod
    def _size_bin(c: _Case, f: dict) -> str:
        from retrieval.profile import size_bin

        shape = (c.evidence.scan_summary or {}).get("shape") or None
        return size_bin(f["area_px"], tuple(shape[-2:]) if shape else None, f.get("area_mm2"))

    def _count(self, c: _Case) -> str:
        n = len(c.findings)
        if not c.detection_ran:
            return f"I can't tell: {c.no_findings()}."
        listing = "".join(f" {c.describe(f)}." for f in c.findings)
        if c.closed and re.search(r"more than one|multiple|several", c.q):
            lead = "Yes" if n > 1 else "No"
            return f"{lead}. The detector found {_count_word(n, 'region')}.{listing}" + (
                c.uncertainty()
            )
        if n == 0:
            return f"0. {_upper_first(c.no_findings())}." + c.uncertainty()
        return (
            f"{n}. The detector found {_count_word(n, 'region')} that "
            f"{'deviates' if n == 1 else 'deviate'} from the healthy training distribution."
            f"{listing}" + c.uncertainty()
        )

    def _intensity(self, c: _Case) -> str:
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
            + f" {_cite(t.id)}"
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

    def _heatmap(self, c: _Case) -> str:
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
                    f"{c.side_phrase(t.data)} {_cite(t.id)}"
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

    def _pseudo_healthy(self, c: _Case) -> str:
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
                    f"(0-1 scale) {_cite(t.id)}"
                    for t in c.targets
                )
                + "."
            )
        else:
            text += f" It closely matches the scan: {c.no_findings()}."
        return text + " It is a model estimate, not a real image of the patient."

    def _similar_cases(self, c: _Case) -> str:
        cases = c.evidence.by_kind("case")
        if not cases:
            return (
                "No similar case was found in the case library above the minimum similarity, so "
                "I can't compare this scan with other cases."
            )
        listing = "; ".join(
            f"{i.id}"
            + (f" (similarity {i.score:.2f})" if i.score is not None else "")
            + f': "{safe_excerpt(i.text)}" {_cite(i.id)}'
            for i in cases
        )
        return (
            f"The most similar cases in the library are: {listing}. Similar cases are other "
            "(or synthetic) cases, not this patient; their reports do not transfer to this scan."
        )

    def _explanation(self, c: _Case) -> str:
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
                + "; ".join(
                    f'{k.id}: "{safe_excerpt(k.text)}" {_cite(k.id)}' for k in knowledge[:3]
                )
                + "."
            )
        if cases:
            text += (
                " Similar cases in the library were reported as: "
                + "; ".join(f'"{safe_excerpt(k.text, 120)}" {_cite(k.id)}' for k in cases[:2])
                + "."
            )
        if not knowledge and not cases:
            text += " No reference text or similar case was retrieved, so I can't suggest causes."
        return text + (
            " Any of these may or may not correspond to this scan; interpretation needs a "
            "clinician with the full study and history."
        )

    def _report(self, c: _Case) -> str:
        from assistant.report import draft_report

        return draft_report(c.evidence).to_text()

    def _modality(self, c: _Case) -> str:
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

    def _confidence(self, c: _Case) -> str:
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
                    f"{_cite(t.id)}"
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

    def _unassessable(self, c: _Case, term: str) -> str:
        text = (
            f"I can't tell: the detector does not assess that ({term}) specifically; it only "
            "reports regions that deviate from the healthy training distribution."
        )
        if c.findings:
            return text + " It found: " + "; ".join(c.describe(t) for t in c.targets) + "."
        if c.detection_ran:
            return text + f" Here {c.no_findings()}."
        return text

    def _out_of_scope(self, c: _Case) -> str:
        from assistant.prompts import refusal_text

        return " ".join(refusal_text(CAPABILITIES).split())

    def _unknown(self, c: _Case) -> str:
        return (
            "I can't answer that from the evidence available for this scan. I can answer "
            f"questions about {CAPABILITIES}."
        )
