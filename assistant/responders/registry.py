"""The responders there are and their options: the one list the CLI, the app and the evaluation
offer (`RESPONDERS`, `QUANTIZATIONS`), and how a choice falls back to the environment.

`choose_responder(name, model, quantization, **generation)` validates a choice; arguments left
as None fall back to the environment:

- `ASSISTANT_RESPONDER`: "grounded" (default; offline, deterministic), "transformers" or "openai".
- `ASSISTANT_MODEL`: model id or local folder for "transformers" (default
  `google/medgemma-4b-it`, which must be downloaded ahead of time:
  `hf download google/medgemma-4b-it`), or the served model name for "openai" (default: the
  first model the server lists).
- `ASSISTANT_QUANTIZATION`: "none" (default), "8bit" or "4bit" (bitsandbytes; "transformers" only).
- `OPENAI_BASE_URL`: the OpenAI-compatible server for "openai" (default
  `http://localhost:8000/v1`, vLLM's default; Ollama: `http://localhost:11434/v1`).
- `OPENAI_API_KEY`: its API key, if it needs one (`api_key_env=` names another variable).

`generation` takes GenerationSettings fields (max_new_tokens, do_sample, temperature, top_p) and
responder options (transformers: device, stream_timeout; openai: base_url, api_key_env,
connect_timeout, read_timeout, max_retries, backoff). `assistant.config.make_responder` builds
the chosen responder (importing the heavy modules of that responder only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ResponderName = Literal["grounded", "transformers", "openai"]
Quantization = Literal["none", "8bit", "4bit"]  # bitsandbytes modes of the transformers responder

RESPONDERS: tuple[str, ...] = get_args(ResponderName)
QUANTIZATIONS: tuple[str, ...] = get_args(Quantization)
DEFAULT_RESPONDER = "grounded"  # offline and deterministic
MODEL_RESPONDERS = ("transformers", "openai")  # the responders that run a model


@dataclass(frozen=True)
class ResponderChoice:
    """A validated responder choice, environment fallbacks applied."""

    name: str  # one of RESPONDERS
    model: str | None = None  # None: the responder's default model
    quantization: str = "none"  # one of QUANTIZATIONS (not "none" for transformers only)
    generation: dict[str, Any] = field(default_factory=dict)


def choose_responder(
    name: str | None = None,
    model: str | None = None,
    quantization: str | None = None,
    **generation: Any,
) -> ResponderChoice:
    """Validate a responder choice (see the module docstring for the environment fallbacks)."""
    name = (name or os.environ.get("ASSISTANT_RESPONDER") or DEFAULT_RESPONDER).strip().lower()
    if name not in RESPONDERS:
        raise ValueError(f"unknown responder {name!r}; choose one of {list(RESPONDERS)}")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {list(QUANTIZATIONS)}, got {quantization!r}")
    if name == "grounded":
        if model is not None or quantization not in (None, "none") or generation:
            raise ValueError(
                "the grounded responder is deterministic and takes no model, quantization or "
                "generation settings; use --responder transformers or openai for a language "
                "model (a detector checkpoint is --detector)"
            )
        return ResponderChoice(name)
    model = model or os.environ.get("ASSISTANT_MODEL") or None
    if name == "transformers":
        quantization = quantization or os.environ.get("ASSISTANT_QUANTIZATION") or "none"
        if quantization not in QUANTIZATIONS:
            raise ValueError(
                f"ASSISTANT_QUANTIZATION must be one of {list(QUANTIZATIONS)}, got {quantization!r}"
            )
        return ResponderChoice(name, model, quantization, dict(generation))
    if quantization not in (None, "none"):
        raise ValueError(
            f"quantization {quantization!r} applies to the transformers responder only; an "
            "OpenAI-compatible server quantizes on its side"
        )
    return ResponderChoice(name, model, "none", dict(generation))
