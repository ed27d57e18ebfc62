"""`GroundedResponder`: picks the answer for the question's intent and adds the caveats.

An answer is built in three steps: the handler of the question's intent (`turn.ANSWERS`, or two
of them for a two-part question); the first of `routes.ROUTES` that applies, or else that
handler's answer (`routes.first_answer`); then each of `afterwards.AFTERWARDS` in turn, which add
caveats or answer what the first answer left out; last, the research-use line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import assistant.responders.grounded.domain as domain
from assistant.evidence import Evidence, Message
from assistant.prompts import Task
from assistant.responders.base import Responder
from assistant.responders.grounded.afterwards import AFTERWARDS, no_sentence_twice
from assistant.responders.grounded.answers_context import unknown
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.routes import first_answer
from assistant.responders.grounded.turn import ANSWERS, Turn, asked_unassessable, both
from assistant.responders.grounded.wording import DISCLAIMER_LINE
from assistant.responders.intents import Resolved, resolve
from assistant.responders.intents.parse import SUBSTANCES_ASKED, parse, side_structure

__all__ = ["ANSWERS", "DISCLAIMER_LINE", "GroundedResponder", "VERSION"]

VERSION = "1.3.0"  # bump when the wording changes; logged as the prompt version


class GroundedResponder(Responder):
    """Deterministic, evidence-only answers; the offline default responder.

    disclaimer: append the one-line research-use note to every answer.
    """

    name = "grounded"
    model = "rules+all-MiniLM-L6-v2"  # exact rules, else the intent classifier's embeddings
    writes_own_refusal = True

    def __init__(self, disclaimer: bool = True):
        self.disclaimer = disclaimer

    @property
    def prompt_version(self) -> str:
        return f"grounded-{VERSION}"

    def stream(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
        *,
        resolved: Resolved | None = None,
    ) -> Iterator[str]:
        """Yield the answer word by word (with trailing whitespace); see `answer`. `task` needs
        no handling here: a question whose intent is "report" is answered with a draft."""
        yield from re.findall(r"\S+\s*", self.answer(question, evidence, history, resolved))

    def answer(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        resolved: Resolved | None = None,
    ) -> str:
        """The whole answer. `resolved`: the question's intent as the caller resolved it
        (None: resolved here from the question, the history and the evidence's finding ids)."""
        found = evidence.by_kind("finding")
        weak = evidence.by_kind("weak_finding")
        if resolved is None:
            resolved = resolve(question, history or [], [f.id for f in found + weak])
        ids = set(resolved.finding_ids)
        targets = [f for f in found if f.id in ids] or found
        said = " ".join(m.content for m in history or [] if m.role == "user").lower()
        case = CaseFacts(question, question.lower(), evidence, resolved, found, targets, weak, said)
        turn = Turn(
            case,
            handler=_handler(case),
            ids=ids,
            outside=domain.applicability_item(case),
            term=asked_unassessable(case.q),
        )
        text = first_answer(turn)
        for step in AFTERWARDS:
            text = step(turn, text)
        text = self._other_part(question, evidence, history, resolved, text)
        text = no_sentence_twice(turn, text)  # (two parts, or two steps, may say one thing twice)
        if self.disclaimer:  # every answer, refusals too (the README's promise)
            text += "\n\n" + DISCLAIMER_LINE
        return text

    def _other_part(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None,
        resolved: Resolved,
        text: str,
    ) -> str:
        """A message of two questions whose other one asks whether something is there, a
        finding's place, size, signal or count, or about the acquisition ("Is there an
        abnormality? Which sequence is this?", "How big is it? Is it bright or dark?"): that one
        answered too, a presence answer first (its yes/no leads); `text` as it is otherwise."""
        parts = [p.strip() for p in re.split(r"(?<=\?)\s+", question.strip()) if p.strip()]
        if len(parts) < 2 or re.search(r"\bif (so|yes|not|there is|there's)\b", question.lower()):
            return text
        if SUBSTANCES_ASKED.search(question.lower()):
            return text  # "fat? blood? melanin?": one question, a list of what it could be
        for part in parts:
            if not part.endswith("?"):
                continue  # "I remember something like MAGIC DR": not a question
            ask = parse(part)
            if ask is None or ask.intent == resolved.intent:
                continue
            kinds = ("presence", "intensity", "side", "location", "size", "count", "explanation")
            if ask.intent in kinds or (
                ask.intent == "modality" and _ACQUISITION_WORDS.search(part.lower())
            ):
                other = GroundedResponder(disclaimer=False).answer(part, evidence, history)
                if other.strip() in text:
                    return text
                return f"{other} {text}" if ask.intent == "presence" else f"{text} {other}"
        return text


def _handler(case: CaseFacts) -> Callable[[CaseFacts], str]:
    """The answer of the question's intent; for a two-part question, both parts' answers."""
    intent, found = case.resolved.intent, case.findings
    handler = ANSWERS.get(intent, unknown)
    if intent == "presence" and found and side_structure(case.question):
        # "Anything in the right frontal lobe?": whether a finding lies on that side (in the
        # frame the scan allows), not a bare "Yes" about a finding on the other side
        handler = ANSWERS["side"]
    if intent in ("side", "location") and found and _SIDE_AND_SIGNAL.search(case.q):
        # "which hemisphere, and how bright is it compared with the white matter?": both
        handler = both("side", "intensity")
    if intent in ("side", "size", "location") and found and _SIZE_AND_SIDE.search(case.q):
        handler = both("size", "side")  # "two things: how big and which side"
    if intent in ("side", "location") and found and _SIDE_AND_SLICES.search(case.q):
        handler = both("side", "location")  # "what side and which slices does it span"
    if intent in ("location", "size") and found and _WHERE_AND_SIZE.search(case.q):
        handler = both("location", "size")  # "biggest lesion - where and how big"
    if intent in ("size", "explanation") and found and _SIZE_AND_CAUSE.search(case.q):
        handler = both("size", "explanation")  # "How big is it and what could it be?"
    if intent in ("location", "side") and found and _WHAT_AND_WHERE.search(case.q):
        handler = ANSWERS["presence"]  # "what did you find and where?": the reading says both
    return handler


# "What did you find and where?", "what is it and where is it?"
_WHAT_AND_WHERE = re.compile(
    r"\bwhat (did|have|has|do) (you|it|the (detector|model|tool|ai|scan)) (\w+ )?(find|found|see|"
    r"seen|pick up|picked up|show|flag|flagged)\b.{0,20}\b(and|&)\b.{0,10}\bwhere\b|"
    r"\bwhat( is|'s) (it|this|that|the (abnormality|lesion|finding|problem|thing))\b.{0,15}\b(and|"
    r"&)\b.{0,10}\bwhere\b|"
    r"\bwhere\b.{0,25}\b(and|&)\b.{0,10}\bwhat (is|'s) (it|this|that)\b"
)
_ACQUISITION_WORDS = re.compile(
    r"\b(sequence|weighting|weighted|modality|mri|ct|scanner|tesla|contrast|flair|t1|t2|tr|te)\b"
)
_SIDE_AND_SIGNAL = re.compile(
    r"\b(which|what) (side|hemisphere)\b.{0,40}\b(and|&)\b.{0,20}\b(how (bright|dark)|brightness|"
    r"signal|intensity|brighter|darker|hyperintense|hypointense)\b"
)
_SIDE_AND_SLICES = re.compile(
    r"\b(which|what) side\b.{0,20}\b(and|&|\+)\b.{0,20}\b(which|what|how many) (slices?|levels?)\b|"
    r"\b(which|what|how many) (slices?|levels?)\b.{0,30}\b(and|&|\+)\b.{0,20}\b(which|what) side\b"
)
_WHERE_AND_SIZE = re.compile(
    r"\bwhere\b.{0,25}\b(and|&|\+)\b.{0,10}\b(how (big|large)|what size|size)\b|"
    r"\b(how (big|large)|what size)\b.{0,25}\b(and|&|\+)\b.{0,10}\bwhere\b"
)
_SIZE_AND_CAUSE = re.compile(
    r"\bhow (big|large)\b.{0,25}\b(and|&|\+)\b.{0,10}\bwhat (could|might|would|is|'s) (it|this|"
    r"that)( likely)?( be)?\b|\bwhat (could|might|is) (it|this|that)( be)?\b.{0,10}\b(and|&|\+)\b"
    r".{0,10}\bhow (big|large)\b"
)
_SIZE_AND_SIDE = re.compile(
    r"\b(how (big|large)|size|dimensions?)\b.{0,30}\b(and|&|\+)\b.{0,20}\b((which|what) "
    r"(side|hemisphere)|side)\b|"
    r"\b((which|what) (side|hemisphere)|side)\b.{0,30}\b(and|&|\+)\b.{0,20}\b(how (big|large)|size|"
    r"(approx\w* )?dimensions?)\b"
)
