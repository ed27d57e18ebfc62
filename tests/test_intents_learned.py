"""The learned intent reader (assistant.responders.intents.learned) and how the resolver uses it."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from assistant.responders.intents import INTENTS
from assistant.responders.intents.learned import (
    OVERRIDE_PROBABILITY,
    POLARITY_OVERRIDE_PROBABILITY,
    LearnedIntent,
    learned_intent,
)

# the module, not the package's `resolve` function of the same name
resolve_module = importlib.import_module("assistant.responders.intents.resolve")


def test_packaged_weights_load_and_predict_a_distribution():
    model = learned_intent()
    assert model is not None
    assert set(model.classes) <= set(INTENTS)
    from eval.paraphrase.train_intent_classifier import DEFAULT_EXCLUDE, HELD_OUT, training_rows

    assert {f"blind{n}" for n in range(19, 28)} <= set(HELD_OUT)  # never train on them
    assert not any(h in f for f in model.meta["files"] for h in HELD_OUT)
    _, default_files = training_rows(list(DEFAULT_EXCLUDE))
    assert set(model.meta["files"]) == set(default_files)  # the default retrains the same
    probs = model.probabilities("Is there a bleed on this slice?")
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    intent, p = model.predict("How large is F1 in millimetres?")
    assert intent == "size" and 0.5 < p <= 1.0


class _Sure:
    def __init__(self, label: str, p: float):
        self.label, self.p = label, p

    def predict(self, question: str) -> tuple[str, float]:
        return self.label, self.p


@pytest.mark.parametrize(
    "label, p, expected",
    [
        ("side", OVERRIDE_PROBABILITY + 0.05, ("side", "learned")),  # sure and different
        ("side", OVERRIDE_PROBABILITY - 0.05, ("presence", "rule")),  # not sure enough
        ("presence", 0.99, ("presence", "rule")),  # agrees with the rules
    ],
)
def test_the_learned_reader_overrules_the_rules_only_when_sure(monkeypatch, label, p, expected):
    monkeypatch.setattr(resolve_module, "learned_intent", lambda: _Sure(label, p))
    resolve_module.classify.cache_clear()
    try:
        assert resolve_module.classify("Is there a lesion on this slice?")[:2] == expected
    finally:
        resolve_module.classify.cache_clear()


@pytest.mark.parametrize(
    "p, expected",
    [
        (resolve_module.CAUSE_TO_PRESENCE_PROBABILITY + 0.01, ("presence", "learned")),
        (resolve_module.CAUSE_TO_PRESENCE_PROBABILITY - 0.03, ("explanation", "rule")),
    ],
)
def test_a_cause_reading_turns_into_presence_only_when_the_reader_is_very_sure(
    monkeypatch, p, expected
):
    """Without a denial ("no", "nothing", ...), the parser's cause reading of "Does the slice
    show changes typical of an infarct?" gives way only to a reader at least
    `CAUSE_TO_PRESENCE_PROBABILITY` sure that it asks whether something is there."""
    assert p >= OVERRIDE_PROBABILITY
    monkeypatch.setattr(resolve_module, "learned_intent", lambda: _Sure("presence", p))
    resolve_module.classify.cache_clear()
    try:
        question = "Does the slice show changes typical of an infarct?"
        assert resolve_module.classify(question)[:2] == expected
    finally:
        resolve_module.classify.cache_clear()


def test_retraining_reproduces_the_packaged_classifier():
    """The shipped weights are what `eval.paraphrase.train_intent_classifier` makes from the
    benchmark files (compared by predictions, which survive other CPUs' rounding)."""
    from assistant.responders.intents.learned import features
    from eval.paraphrase.train_intent_classifier import train, training_rows

    shipped = learned_intent()
    rows, files = training_rows([], only=shipped.meta["files"])
    assert files == shipped.meta["files"] and len(rows) == shipped.meta["n_questions"]
    fresh = train(rows, shipped.meta["C"])
    sample = [r["question"] for r in rows[::7]]
    assert list(fresh["vocabulary"]) == list(shipped.vectorizer.get_feature_names_out())
    X = features(sample, shipped.vectorizer)
    ours = np.argmax(X @ shipped.weights.T + shipped.bias, axis=1)
    theirs = np.argmax(X @ fresh["weights"].astype(np.float32).T + fresh["bias"], axis=1)
    assert list(fresh["classes"]) == shipped.classes
    assert (ours == theirs).mean() >= 0.99


def test_missing_weights_leave_the_parser_alone(tmp_path):
    with pytest.raises(FileNotFoundError):
        LearnedIntent(tmp_path / "none.npz")


class _Polar:
    def __init__(self, p: float):
        self.p = p

    def normal_probability(self, question: str) -> float:
        return self.p


learned_module = importlib.import_module("assistant.responders.intents.learned")


SURE = POLARITY_OVERRIDE_PROBABILITY + 0.01
UNSURE = POLARITY_OVERRIDE_PROBABILITY - 0.05


@pytest.mark.parametrize(
    "question, p, expected",
    [
        ("Is this slice typical?", SURE, True),  # sure it means normal: overrules the rules
        ("Is this slice typical?", UNSURE, False),  # not sure enough: the rules' reading
        ("Is there a lesion?", 0.999, False),  # an abnormality asked for: never overruled
        ("Is this normal?", 1 - SURE, False),  # sure yes means abnormal: overrules
        ("Is this normal?", 1 - UNSURE, True),
        ("Isn't there a lesion?", SURE, True),  # negations: the model may overrule
        ("Is it wrong to say this is normal?", SURE, False),  # a frame: the rules decide
        ("Would you reject the null hypothesis of a healthy brain?", SURE, False),
    ],
)
def test_learned_polarity_overrules_only_when_sure_and_outside_frames(
    monkeypatch, question, p, expected
):
    monkeypatch.setattr(learned_module, "learned_intent", lambda: _Polar(p))
    assert learned_module.yes_means_normal(question) is expected


def test_packaged_polarity_reads_plain_questions():
    model = learned_intent()
    assert model.normal_probability("Does this brain look healthy?") > 0.5
    assert model.normal_probability("Is there a tumour?") < 0.5


@pytest.mark.parametrize(
    "question, normal",
    [
        # negations read by the word n-grams (written for this test, not in any question set)
        ("Would you say the slice is clear of any bleeding?", True),
        ("There's nothing untoward here, is there?", True),
        ("No sign of a stroke, would you agree?", True),
        ("Do you spot any swelling or haemorrhage?", False),
    ],
)
def test_packaged_polarity_reads_negations(question, normal):
    assert bool(learned_intent().normal_probability(question) > 0.5) is normal


def test_cross_validation_can_add_sets_that_are_never_scored():
    """`cross_validate(..., extra=, folds=)`: the extra rows join every fold's training but are
    never left out or counted; sets are grouped into the asked number of folds."""
    from eval.paraphrase.train_intent_classifier import cross_validate

    def rows(name, questions):
        return [
            {"question": q, "intent": i, "polarity": pol, "_file": name} for q, i, pol in questions
        ]

    base = [
        ("Is there a lesion?", "presence", "positive"),
        ("Is the brain normal?", "presence", "negative"),
        ("How big is it?", "size", None),
        ("Which side is it on?", "side", None),
    ]
    cv_rows = rows("a.jsonl", base) + rows("b.jsonl", base) + rows("c.jsonl", base)
    extra = rows("x.jsonl", base)
    out = cross_validate(cv_rows, 1.0, extra=extra, views=("embedding",), folds=2)
    assert set(out["per_set"]) == {"fold0", "fold1"}
    assert sum(p["intent_n"] for p in out["per_set"].values()) == len(cv_rows) == 12
    assert out["n_questions"] == 12 and out["n_yes_no"] == 6
    assert out["extra_files"] == ["x.jsonl"]
    assert 0.0 <= out["overall"]["embedding"]["intent"] <= 1.0
