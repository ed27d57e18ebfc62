"""`GroundedResponder`: picks the answer for the question's intent and adds the caveats."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import assistant.responders.grounded.answers_context as context
import assistant.responders.grounded.answers_findings as findings
import assistant.responders.grounded.domain as domain
from assistant.evidence import Evidence, Message
from assistant.prompts import Task
from assistant.responders.base import Responder
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import DISCLAIMER_LINE, UNASSESSABLE, WEAK_INTENTS
from assistant.responders.intents import Resolved, resolve

VERSION = "1.0.0"  # bump when the wording changes; logged as the prompt version

# intent -> the function that writes its answer
ANSWERS: dict[str, Callable[[CaseFacts], str]] = {
    "presence": findings.presence,
    "location": findings.location,
    "size": findings.size,
    "count": findings.count,
    "intensity": findings.intensity,
    "heatmap": context.heatmap,
    "pseudo_healthy": context.pseudo_healthy,
    "similar_cases": context.similar_cases,
    "explanation": context.explanation,
    "report": context.report,
    "modality": context.modality,
    "confidence": context.confidence,
    "out_of_scope": context.out_of_scope,
    "unknown": context.unknown,
}


class GroundedResponder(Responder):
    """Deterministic, evidence-only answers; the offline default responder.

    disclaimer: append the one-line research-use note to every answer but refusals.
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
        case = CaseFacts(question, question.lower(), evidence, resolved, found, targets, weak)
        handler = ANSWERS.get(resolved.intent, context.unknown)
        term = UNASSESSABLE.search(case.q)
        outside = domain.applicability_item(case)
        if outside is not None and resolved.intent not in domain.INDEPENDENT:
            if not evidence.unreliable:
                text = domain.not_applicable(case, outside)
            else:
                text = domain.unreliable_prefix(outside) + handler(case).strip()
        elif term and (
            resolved.source != "rule"
            or resolved.intent in ("presence", "unknown", "explanation", "intensity")
        ):
            text = context.unassessable(case, term.group(0)).strip()
        elif resolved.intent in WEAK_INTENTS and not found and weak:
            text = findings.weak(case, handler)
        else:
            text = handler(case).strip()
            if term and resolved.intent == "location":
                text += (
                    " The detector does not identify lobes or other anatomical structures; it "
                    "reports the position in the image only."
                )
        if self.disclaimer and resolved.intent != "out_of_scope":
            text += "\n\n" + DISCLAIMER_LINE
        return text
