"""Scoring free-text answers against VQA ground truth.

- Normalisation (`normalize`): Unicode NFKC, lower case, punctuation and hyphens -> spaces
  (decimal points kept: "2.5 cm"), articles (a, an, the) dropped, number words (zero..twenty) ->
  digits, whitespace collapsed. Matching is always on whole tokens, so "no" never matches
  "normal", "nodule" or "not".
- Closed questions (`closed_correct`): for a yes/no reference the prediction's polarity is read
  by `yes_no` from its first clause (the first token if it is "yes"/"no" or a synonym such as
  "correct"/"negative", else the first whole-word "yes"/"no"; "I can't tell: there is no
  evidence" has none); otherwise the reference phrase must occur in the
  prediction, and for "A or B" questions it must be the option chosen by the first phrase that
  names any option, with commas also ending a phrase ("Left, not the right" chooses left; a
  phrase that names several, e.g. "Left and right refer to the image", chooses none).
- Open questions: token recall (share of the reference tokens found in the prediction, counted
  with multiplicity), token F1 (SQuAD-style, bag of tokens) and exact match after normalisation.
  An open item counts as "correct" for per-type accuracy when its recall is 1 (every reference
  token is in the answer): chatty but right answers are not penalised, wrong ones are.
- 95% intervals: percentile bootstrap over questions with a fixed seed (`bootstrap_ci`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

ARTICLES = {"a", "an", "the"}
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
# Polarity words that decide a yes/no answer only as the answer's first token ("Correct, ...");
# deeper in a sentence they usually describe something else ("a negative contrast study").
YES_FIRST = {"yes", "yeah", "yep", "yup", "true", "correct", "affirmative", "positive", "present"}
NO_FIRST = {"no", "nope", "false", "incorrect", "negative", "absent", "none"}
_PUNCT = re.compile(r"[^\w\s.]|_")  # everything but letters, digits, spaces and dots
_CLAUSE = re.compile(r"[!?;:\n]|\.(?=\s|$)")  # clause ends (not decimal points)
_PHRASE = re.compile(r"[!?;:,\n]|\.(?=\s|$)")  # clause ends and commas
_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")  # dots that are not decimal points


def normalize(text: object) -> str:
    """Lower-cased, punctuation-free, article-free text with digits for number words."""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    s = _DOT.sub(" ", _PUNCT.sub(" ", s))
    toks = [NUMBER_WORDS.get(t, t) for t in s.split() if t not in ARTICLES]
    return " ".join(toks)


def tokens(text: object) -> list[str]:
    """Normalised whole-word tokens of `text`."""
    return normalize(text).split()


def yes_no(text: object) -> str | None:
    """ "yes", "no" or None (no polarity found) for a free-text answer.

    Only the first clause counts (up to . ! ? ; : or a line break): "I can't tell: there is no
    evidence either way" has no polarity, "There is no lesion." is "no".
    """
    clauses = (c for c in _CLAUSE.split(str(text)) if tokens(c))
    toks = tokens(next(clauses, ""))
    if not toks:
        return None
    if toks[0] in YES_FIRST:
        return "yes"
    if toks[0] in NO_FIRST:
        return "no"
    for t in toks:
        if t in ("yes", "no"):
            return t
    return None


def _find(hay: list[str], needle: list[str]) -> int:
    """Index of the first whole-token occurrence of `needle` in `hay`, or -1."""
    n = len(needle)
    if n == 0:
        return -1
    for i in range(len(hay) - n + 1):
        if hay[i : i + n] == needle:
            return i
    return -1


def question_options(question: str, answer: str) -> list[list[str]]:
    """The options of an "A or B" / "A, B or C" question whose answer is one of them, as token
    lists of the answer's length; [] when the question offers no such choice.

    "Is the lesion on the left or right side?" with answer "left" -> [["left"], ["right"]];
    "Is the lesion small, medium or large?" -> [["small"], ["medium"], ["large"]].
    """
    ans = tokens(answer)
    k = len(ans)
    text = unicodedata.normalize("NFKC", str(question)).lower()
    if not k:
        return []
    for m in re.finditer(r"\bor\b", text):
        segments = text[: m.start()].split(",")
        options = [tokens(text[m.end() :])[:k], tokens(segments[-1])[-k:]]
        # "A, B or C": the items between commas are exactly option-sized
        if len(segments) > 1 and len(tokens(segments[-1])) == k:
            options += [tokens(seg)[-k:] for seg in segments[:-1]]
        options = [o for o in options if len(o) == k]
        unique = [o for i, o in enumerate(options) if o not in options[:i]]
        if ans in unique and len(unique) > 1:
            return unique
    return []


def closed_correct(prediction: str, reference: str, question: str = "") -> bool:
    """Whether a free-text `prediction` answers a closed question with `reference`."""
    ref_pol = yes_no(reference) if len(tokens(reference)) == 1 else None
    if ref_pol is not None:
        return yes_no(prediction) == ref_pol
    pred, ref = tokens(prediction), tokens(reference)
    if not ref:
        return False
    if pred == ref:
        return True
    options = question_options(question, reference)
    if options:
        return chosen_option(prediction, options) == ref
    return _find(pred, ref) >= 0


def chosen_option(prediction: str, options: list[list[str]]) -> list[str] | None:
    """The option a free-text answer chooses: the one named in its first phrase (text between
    clause ends and commas) that names any option; None when no phrase names one, or when that
    phrase names several: "Left, not the right." chooses left, "Midline. Left and right refer to
    the image as displayed." chooses neither."""
    for phrase in _PHRASE.split(str(prediction)):
        toks = tokens(phrase)
        named = [o for o in options if _find(toks, o) >= 0]
        if named:
            return named[0] if len(named) == 1 else None
    return None


def token_recall(prediction: str, reference: str) -> float:
    """Share of the reference tokens (with multiplicity) present in the prediction, in [0, 1]."""
    ref = Counter(tokens(reference))
    if not ref:
        return 0.0
    common = ref & Counter(tokens(prediction))
    return sum(common.values()) / sum(ref.values())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style bag-of-tokens F1 in [0, 1]."""
    pred, ref = Counter(tokens(prediction)), Counter(tokens(reference))
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str) -> bool:
    return normalize(prediction) == normalize(reference)


@dataclass
class ItemScore:
    """The score of one answer. `correct` is the closed-question match for closed items and
    "recall == 1" for open ones; recall/f1/exact are filled for every item."""

    id: str
    answer_type: str  # "CLOSED" | "OPEN"
    question_type: tuple[str, ...]
    correct: bool
    recall: float
    f1: float
    exact: bool


def score_item(
    id: str,
    prediction: str,
    reference: str,
    question: str,
    answer_type: str,
    question_type: Sequence[str] = ("OTHER",),
) -> ItemScore:
    recall = token_recall(prediction, reference)
    if answer_type == "CLOSED":
        correct = closed_correct(prediction, reference, question)
    else:
        correct = recall >= 1.0
    return ItemScore(
        id=id,
        answer_type=answer_type,
        question_type=tuple(question_type),
        correct=bool(correct),
        recall=recall,
        f1=token_f1(prediction, reference),
        exact=exact_match(prediction, reference),
    )


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of `values` (None when empty)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi))


@dataclass
class GroupMetrics:
    accuracy: float | None  # mean of `correct`
    n: int
    ci: tuple[float, float] | None = None
    n_closed: int = 0
    n_open: int = 0


@dataclass
class QAMetrics:
    """Aggregate metrics. Rates are in [0, 1]; None where the group is empty."""

    n: int
    n_closed: int
    n_open: int
    closed_accuracy: float | None
    open_recall: float | None
    open_f1: float | None
    open_exact: float | None
    overall_accuracy: float | None  # mean of `correct` over every item
    ci: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    by_type: dict[str, GroupMetrics] = field(default_factory=dict)
    by_answer_type: dict[str, GroupMetrics] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("by_type", "by_answer_type"):
            d[key] = {k: asdict(v) for k, v in getattr(self, key).items()}
        return d


def _mean(x: Iterable[float]) -> float | None:
    x = list(x)
    return float(np.mean(x)) if x else None


def group_metrics(scores: Sequence[ItemScore], n_boot: int = 1000, seed: int = 0) -> GroupMetrics:
    """Accuracy (mean of `correct`), counts and bootstrap interval of a group of items."""
    vals = [float(s.correct) for s in scores]
    return GroupMetrics(
        accuracy=_mean(vals),
        n=len(scores),
        ci=bootstrap_ci(vals, n_boot, seed),
        n_closed=sum(s.answer_type == "CLOSED" for s in scores),
        n_open=sum(s.answer_type == "OPEN" for s in scores),
    )


def aggregate(scores: Sequence[ItemScore], n_boot: int = 1000, seed: int = 0) -> QAMetrics:
    """Overall, per-question-type and per-answer-type metrics with bootstrap 95% intervals."""
    closed = [s for s in scores if s.answer_type == "CLOSED"]
    opened = [s for s in scores if s.answer_type == "OPEN"]
    series = {
        "closed_accuracy": [float(s.correct) for s in closed],
        "open_recall": [s.recall for s in opened],
        "open_f1": [s.f1 for s in opened],
        "open_exact": [float(s.exact) for s in opened],
        "overall_accuracy": [float(s.correct) for s in scores],
    }
    types = sorted({t for s in scores for t in s.question_type})
    return QAMetrics(
        n=len(scores),
        n_closed=len(closed),
        n_open=len(opened),
        **{k: _mean(v) for k, v in series.items()},
        ci={k: bootstrap_ci(v, n_boot, seed) for k, v in series.items()},
        by_type={
            t: group_metrics([s for s in scores if t in s.question_type], n_boot, seed)
            for t in types
        },
        by_answer_type={
            a: group_metrics(g, n_boot, seed)
            for a, g in (("CLOSED", closed), ("OPEN", opened))
            if g
        },
    )
