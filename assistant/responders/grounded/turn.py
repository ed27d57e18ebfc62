"""`Turn`: one question on its way to an answer (the case, the intent's handler, and what the
responder has worked out about the scan and the question), and the helpers the answer's steps
share (`routes` writes a special answer or leaves it to the intent's own, `afterwards` adds the
caveats)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import assistant.responders.grounded.answers_context as context
import assistant.responders.grounded.answers_findings as findings
from assistant.evidence import EvidenceItem
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import BRIGHT_WORDS, DARK_WORDS, UNASSESSABLE
from assistant.responders.intents.parse import without_hedge

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
    "side": findings.side,
    # the colleague-level next-step answer lives in answers_context; until it exists the
    # explanation (what the finding may be, from the evidence) stands in
    "next_steps": getattr(context, "next_steps", context.explanation),
    "out_of_scope": context.out_of_scope,
    "unknown": context.unknown,
}


def both(*intents: str) -> Callable[[CaseFacts], str]:
    """A handler that answers a two-part question with each part's answer, in order."""
    return lambda c: " ".join(ANSWERS[i](c).strip() for i in intents)


@dataclass
class Turn:
    """One question being answered."""

    case: CaseFacts
    handler: Callable[[CaseFacts], str]  # the answer of the question's intent (or two intents)
    ids: set[str]  # the finding ids the question was resolved to be about
    outside: EvidenceItem | None  # A1 when the scan is outside the detector's domain
    term: re.Match | None  # a sign or structure the detector does not assess, asked about
    route: str = ""  # the special answer that wrote the text (`routes`); "" for the intent's own

    @property
    def question(self) -> str:
        return self.case.question

    @property
    def q(self) -> str:
        return self.case.q

    @property
    def evidence(self):
        return self.case.evidence

    @property
    def resolved(self):
        return self.case.resolved

    @property
    def intent(self) -> str:
        return self.case.resolved.intent

    @property
    def found(self) -> list[EvidenceItem]:
        return self.case.findings

    @property
    def weak(self) -> list[EvidenceItem]:
        return self.case.weak

    @property
    def analysed(self) -> bool:
        """The detector ran on the scan: in its domain, or outside it and analysed anyway."""
        return self.outside is None or bool(self.case.evidence.unreliable)


def asked_unassessable(q: str) -> re.Match | None:
    """The sign or structure the detector does not assess (`UNASSESSABLE`) that the question
    asks about; None when there is none, or when it is only named in a history before the
    question that names a kind of lesion ("febrile pt w/ sinusitis, abscess??")."""
    term = UNASSESSABLE.search(q)
    asked_part = without_hedge(q)
    if (
        term is not None
        and asked_part != q
        and not UNASSESSABLE.search(asked_part)
        and re.search(
            r"\b(the|this|her|his|their) (scan|brain|mri|image|slice|study)\b", asked_part
        )
    ):
        return None  # "it looks fairly symmetric... does that mean the scan is normal?"
    kind = findings.named_kind(q)
    if term is None or kind is None or kind.start() < term.end():
        return term
    asked = re.split(r"[.,;:]\s*", q[term.end() : kind.start()])
    if len(asked) < 2 or re.match(r"(or|and|and/or|plus|also|vs|versus)\b", asked[-1]):
        return term  # "midline shift or a mass?": both asked
    later = UNASSESSABLE.search(q, kind.end())
    return later


def plain_reading(case: CaseFacts) -> str:
    """What the detector found, as the answer to a plain "Is there an abnormality?" without its
    yes/no lead (whatever kind of lesion or place the question named)."""
    plain = "is there an abnormality?"
    here = without_lead(findings.presence(replace(case, question=plain, q=plain)).strip(), 90)
    return here[:1].upper() + here[1:]


def without_lead(text: str, longest: int = 40) -> str:
    """A presence answer without its yes/no lead ("Yes, as far as this detector can tell: "),
    for quoting it after another lead; `longest`: the lead's most characters after Yes/No."""
    return re.sub(rf"^(Yes|No)\b[^:.]{{0,{longest}}}[:.] ", "", text)


def lowered(text: str) -> str:
    """`text` with its first letter lower-cased (to follow a colon), unless it starts with an
    evidence id ("F1 is ...")."""
    if text[:1].isupper() and not re.match(r"[FWVDAKC]\d", text):
        return text[:1].lower() + text[1:]
    return text


def then(lead: str, body: str) -> str:
    """`lead` then `body`, its first letter lower-cased after a lead that ends with a colon."""
    return lead + (lowered(body) if lead.endswith(": ") else body)


def premise(c: CaseFacts) -> str:
    """A cause question that describes the finding's signal otherwise than the detector found it
    ("Could the dark spot be a plaque?" when F1 is hyperintense): said first, so that the answer
    is not read as being about a region that was not flagged ("" when it matches or says none)."""
    dark, bright = bool(DARK_WORDS.search(c.q)), bool(BRIGHT_WORDS.search(c.q))
    regions = c.targets or c.weak
    if dark == bright or not regions:
        return ""
    wanted = "hypointense" if dark else "hyperintense"
    if any(r.data.get("intensity") in (wanted, "mixed") for r in regions):
        return ""
    kinds = "; ".join(f"{r.id} is {r.data.get('intensity', 'of unknown signal')}" for r in regions)
    return (
        f"No {'dark (hypointense)' if dark else 'bright (hyperintense)'} region was flagged "
        f"on this slice: {kinds}. "
    )
