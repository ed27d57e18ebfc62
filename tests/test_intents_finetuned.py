"""The fine-tuned question reader (LoRA adapters on the packaged MiniLM, two heads; a research
option, not shipped): a tiny one trained here survives saving and loading, the learned reader
averages it with the logistic one, and `ASSISTANT_FINETUNED_READER` switches it on."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("peft")  # a development dependency

from assistant.responders.intents.finetuned import FineTunedReader, save  # noqa: E402
from assistant.responders.intents.learned import LearnedIntent, learned_intent  # noqa: E402


def test_a_reader_trained_here_is_the_same_after_saving_and_loading(tmp_path, monkeypatch):
    import torch

    from eval.paraphrase.train_intent_classifier import (
        BENCH_TO_PROJECT,
        _upper,
        finetune,
        lower_states,
        training_rows,
    )

    rows, _ = training_rows([], only=["benchmark.jsonl"])
    rows = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[:96]]
    classes = sorted({BENCH_TO_PROJECT.get(r["intent"], r["intent"]) for r in rows})
    reader = finetune(rows, classes, epochs=1)
    save(reader, classes, {"files": ["benchmark.jsonl"]}, tmp_path)
    assert not (tmp_path / "README.md").exists()
    assert (
        json.loads((tmp_path / "adapter_config.json").read_text())["base_model_name_or_path"]
        == "sentence-transformers/all-MiniLM-L6-v2"
    )  # no path of the training machine
    loaded = FineTunedReader(tmp_path)
    questions = [r["question"] for r in rows[:6]]
    with torch.no_grad():  # the training path: cached lower layers, adapted top layers
        logits, polarity = _upper(reader, lower_states(reader, questions), list(range(6)))
    expected = torch.softmax(logits, -1).numpy()
    got = np.array([[loaded.probabilities(q)[c] for c in classes] for q in questions])
    # heads are stored in half precision
    np.testing.assert_allclose(got, expected, atol=2e-3)
    np.testing.assert_allclose(
        [loaded.normal_probability(q) for q in questions],
        torch.sigmoid(polarity).numpy(),
        atol=2e-3,
    )
    # switched on for the resolver by the environment variable
    monkeypatch.setenv("ASSISTANT_FINETUNED_READER", str(tmp_path))
    learned_intent.cache_clear()
    try:
        model = learned_intent()
        assert model.finetuned is not None
        q = questions[0]
        alone = LearnedIntent().probabilities(q)
        assert model.probabilities(q)[classes[0]] == pytest.approx(
            (alone[classes[0]] + loaded.probabilities(q)[classes[0]]) / 2, abs=1e-5
        )
    finally:
        monkeypatch.delenv("ASSISTANT_FINETUNED_READER")
        learned_intent.cache_clear()
    assert learned_intent().finetuned is None  # off by default


class _Fixed:
    def __init__(self, classes, top: str, normal: float):
        self.classes = classes
        self.top, self.normal = top, normal

    def probabilities(self, question):
        return {c: float(c == self.top) for c in self.classes}

    def normal_probability(self, question):
        return self.normal


def test_the_learned_reader_averages_the_two_readers():
    alone = LearnedIntent()
    q = "Is there a bleed on this slice?"
    fixed = _Fixed(alone.classes, "size", 1.0)
    both = LearnedIntent(finetuned=fixed)
    p0, p1 = alone.probabilities(q), both.probabilities(q)
    for c in alone.classes:
        assert p1[c] == pytest.approx((p0[c] + float(c == "size")) / 2, abs=1e-6)
    assert both.normal_probability(q) == pytest.approx((alone.normal_probability(q) + 1) / 2)
    with pytest.raises(ValueError, match="other intents"):
        LearnedIntent(finetuned=_Fixed(["presence"], "presence", 0.5))
