"""`resolve(question, history, findings)`: the question's intent, what it is about, and which
findings it means, with follow-ups resolved from the conversation."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.evidence import Message
from assistant.responders.intents.classifier import default_classifier
from assistant.responders.intents.learned import OVERRIDE_PROBABILITY, learned_intent
from assistant.responders.intents.parse import DIAGNOSIS, parse
from assistant.responders.intents.text import FINDING_NUMBER, normalise, strip_modality

logger = logging.getLogger(__name__)

Intent = Literal[
    "presence",
    "location",
    "side",
    "size",
    "count",
    "intensity",
    "heatmap",
    "pseudo_healthy",
    "similar_cases",
    "explanation",
    "report",
    "modality",
    "confidence",
    "next_steps",
    "out_of_scope",
    "unknown",
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]

# what an intent is about when the question does not name a finding
_ABOUT = {
    "similar_cases": "cases",
    "pseudo_healthy": "pseudo_healthy",
    "heatmap": "map",
    "out_of_scope": "none",
    "unknown": "none",
}

# Elliptic follow-ups: "and ...?", "what about ...?", or short questions built on a pronoun.
_FOLLOW_UP = re.compile(r"^\s*(and|also|what about|how about|same for)\b")
_SINGULAR = re.compile(r"\b(it|its|it's|that|this one|that one|the other|the lesion|the finding)\b")
_PLURAL = re.compile(r"\b(they|them|those|these|both|each)\b")
_FINDING_ID = re.compile(r"\b[fFwW](\d{1,3})\b")
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}


@dataclass
class Resolved:
    """A question with its intent, what it is about and the findings it means.

    source: "rule" (the parser read it), "embedding" (nearest example), "history" (a follow-up
    that kept the previous question's intent) or "none" (no reading: intent "unknown").
    about: "image", "finding:Fk", "map", "pseudo_healthy", "cases" or "none" (out of scope).
    """

    question: str
    intent: Intent
    source: Literal["rule", "embedding", "history", "none"]
    similarity: float | None = None  # cosine similarity of the nearest example (embedding)
    finding_ids: list[str] = field(default_factory=list)  # [] = all findings
    follow_up: bool = False
    about: str = "image"


def rule_intent(question: str) -> str | None:
    """The intent the parser reads in `question`, or None when it has no reading."""
    ask = parse(question)
    return None if ask is None else ask.intent


# Readings the learned reader never overrules: left/right and the display convention hang on
# which frame the words name, which sentence embeddings blur ("Is it on the right of the
# image?" is a side question, "Is the right of the screen the patient's left?" is not); a draft
# request; "could this be <a diagnosis>?" (what it is, not whether something is there); the
# similar cases named ("did other patients with scans like this have a tumour?": 190 of 191
# readings right on the tuning sets); "are you sure ...?" (confidence by the benchmark's
# convention, also when it ends in "normal"); another body part named ("Is the liver normal on
# this CT?": out of scope, however close to a presence question it reads); a referral ("does she
# need to see a neurologist?"); a finding described by its place asked about its signal or size
# ("Is the area in the right hemisphere hypointense?": not a side question); which slice a finding is on ("Which slice?", "Which slice is it
# on?": read as the acquisition before, "Which slice is this?" stays that)
_SOURCE_IMAGE = re.compile(
    r"\b(real|original|actual|underlying|raw|source|native) (image|scan|t1|picture|slice)\b"
)
_FRAME_CUES = (
    "age of a lesion",
    "image quality",
    "applicability",
    "what is going on",
    "side",
    "slices of a finding",
    "which slice",
    "display convention",
    "side of the highlighted region",
    "report request",
    "could it be",
    "cases",
    "are you sure",
    "another body part",
    "referral",
    "signal of a described finding",
    "analysed slices",
    "slices in the scan",
    "capabilities",
    "analyse this",
    "volume in units",
    "scanner artefact",
    "patient identity",
    "personal medical advice",
    "size of a described finding",
    "whether a test would help",
    "what to upload",
    "training domain",
    "processing",
    "sensitivity",
    "lesion load",
    "structure involvement",
    "presence, through the pseudo-healthy comparison",
)


# The learned reader turns a cause reading into presence when the question denies that
# something is there ("Please confirm there is no neoplastic lesion."), or else only when it is
# at least `CAUSE_TO_PRESENCE_PROBABILITY` sure. Replayed leaving each tuning set out of its
# training in turn, its cause -> presence overrules were right 7 times, all with such a denial,
# and wrong 5 times, none with one ("benign or not", "could this be an old infarct?"). On four
# new sets that neither reader nor rules had seen (train28a-d, with the reader before they joined
# its training), the overrules that the denial rule blocked were all right (5 of 5: "is F2 just a
# ringing artefact", "Does this brain show lesions typical of multiple sclerosis?"), 3 of them
# at 0.97 or more.
_DENIAL = re.compile(r"\b(no|none|nothing|without|free of|un\w+ed)\b")
CAUSE_TO_PRESENCE_PROBABILITY = 0.97


@functools.lru_cache(maxsize=1024)
def classify(question: str) -> tuple[str, str, float | None]:
    """(intent, source, score) for one question on its own (no history): the parser's reading
    ("rule"), overruled by the learned classifier when it is at least `OVERRIDE_PROBABILITY`
    sure of another intent ("learned", its probability); without a reading, the nearest example
    question ("embedding", its cosine similarity) or "unknown"."""
    ask = parse(question)
    intent = None if ask is None else ask.intent
    text = strip_modality(normalise(question))
    learned = learned_intent() if re.search(r"[a-z]", text) else None
    if ask is not None and ask.cue in _FRAME_CUES:
        learned = None
    if (
        ask is not None
        and ask.cue == "intensity at the highlighted region"
        and _SOURCE_IMAGE.search(text)
    ):
        learned = None  # "is the yellow area bright on the real image?": the image's signal there
    if learned is not None:
        label, p = learned.predict(question)
        # a cause question stays one unless it denies that something is there or the reader is sure
        kept = (
            intent == "explanation"
            and label == "presence"
            and not _DENIAL.search(text)
            and p < CAUSE_TO_PRESENCE_PROBABILITY
        )
        if p >= OVERRIDE_PROBABILITY and label != intent and not kept:
            return label, "learned", p  # sure, and the rules read it otherwise (or not at all)
    if intent is not None:
        return intent, "rule", None
    if not re.search(r"[a-z0-9]", text):
        return "unknown", "none", None
    label, sim = default_classifier().classify(text)
    return label, ("embedding" if label != "unknown" else "none"), sim


_REAL = re.compile(r"\b(real|genuine|artefact\w*|artifact\w*|false (positive|alarm))\b")
_WORRY = re.compile(r"\b(worr\w*|concern\w*|alarm\w*|serious|dangerous|bother\w*)\b")


def _is_elliptic(question: str) -> bool:
    q = question.lower().strip()
    short = len(q.split()) <= 6
    return bool(_FOLLOW_UP.search(q)) or (short and bool(_SINGULAR.search(q) or _PLURAL.search(q)))


def explicit_findings(question: str, available: list[str]) -> list[str]:
    """Finding ids named in the question: "F2", "W1", "the second one" (in the detector's
    order)."""
    q = question.lower()
    ids = [f"{m.group(0)[0].upper()}{m.group(1)}" for m in _FINDING_ID.finditer(question)]
    ids += [f"F{m.group(3)}" for m in re.finditer(FINDING_NUMBER, q)]
    for word, n in _ORDINALS.items():
        if re.search(rf"\b{word}\b", q):
            # the n-th finding, or the n-th weaker region when the scan has no finding F{n}
            ids.append(f"F{n}" if f"F{n}" in available or f"W{n}" not in available else f"W{n}")
    return [i for i in dict.fromkeys(ids) if i in available]


def cited_findings(text: str) -> list[str]:
    """Finding ids cited as [F1] in `text`, in order of first citation."""
    return list(dict.fromkeys(f"F{m}" for m in re.findall(r"\[F(\d+)\]", text)))


def about_of(question: str, intent: str) -> str:
    """What the question is about (see `Resolved.about`)."""
    if intent in _ABOUT:
        return _ABOUT[intent]
    ask = parse(question)
    if ask is not None and ask.intent == intent:
        return ask.about
    m = _FINDING_ID.search(question)
    return f"finding:F{m.group(1)}" if m and m.group(0)[0] in "fF" else "image"


def resolve(
    question: str, history: list[Message] | None = None, findings: list[str] | None = None
) -> Resolved:
    """Intent and target findings of `question`, using `history` for follow-ups.

    findings: ids of the findings available for this scan (to resolve "it", "the second one").
    An elliptic question ("and the other one?", "how big is it?") is a follow-up: without an
    intent of its own it keeps the previous user question's intent, and its pronoun selects the
    finding(s) the previous turn was about (its explicit ids, else the ids the answer cited).
    """
    history = history or []
    findings = findings or []
    intent, source, sim = classify(question)
    q = question.lower()
    targets = explicit_findings(question, findings)
    users = [i for i, m in enumerate(history) if m.role == "user"]
    follow_up = False
    if users and _is_elliptic(question):
        last = users[-1]
        prev = resolve(history[last].content, history[:last], findings)
        prev_bot = next((m.content for m in history[last + 1 :] if m.role == "assistant"), "")
        follow_up = True
        # "Should I worry about it?" asks its own question (whether it matters), not the last one
        # and so does "is it definitely real?" (whether the finding is real, not its size again)
        own = intent == "presence" and (_WORRY.search(q) or _REAL.search(q))
        # a question of its own after a question about the acquisition ("which way is left on
        # the display", "and is there anything on it"): not about the acquisition again
        own = own or (source == "rule" and prev.intent == "modality")
        # "is it MS?", "is that a stroke?", "could it just be nothing?" after a side question: a
        # named kind, or nothing at all, is a question of its own, however short
        own = own or (
            intent in ("presence", "explanation")
            and bool(
                re.search(rf"\b{DIAGNOSIS}\b|\b(ms|mets?|sol)\b|\b(just )?nothing\b|\bnoise\b", q)
            )
        )
        if (
            (source != "rule" or intent == "presence")
            and not own
            and prev.intent
            not in (
                "unknown",
                "out_of_scope",
            )
        ):
            intent, source, sim = prev.intent, "history", None
        if not targets:
            mentioned = prev.finding_ids or [f for f in cited_findings(prev_bot) if f in findings]
            if re.search(r"\b(other|another|next)\b", q):
                targets = [f for f in findings if f not in mentioned][:1]
            elif _PLURAL.search(q):
                targets = mentioned
            elif _SINGULAR.search(q):
                targets = mentioned[:1]
            else:
                targets = prev.finding_ids
    about = about_of(question, intent)
    if about == "image" and len(targets) == 1 and intent not in _ABOUT:
        about = f"finding:{targets[0]}"
    logger.debug("intent %s (%s, similarity %s), findings %s", intent, source, sim, targets)
    return Resolved(question, intent, source, sim, targets, follow_up, about)  # type: ignore[arg-type]
