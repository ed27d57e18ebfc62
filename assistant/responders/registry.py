"""Choose a responder by name (config, CLI flag or environment).

`make_responder(name, model, quantization, **generation)`; arguments left as None fall back to
the environment:

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
connect_timeout, read_timeout, max_retries, backoff). Heavy modules are imported only for the
responder asked for.
"""

from __future__ import annotations

import os
from typing import Any

from assistant.responders.base import Responder

RESPONDERS = ("grounded", "transformers", "openai")
QUANTIZATIONS = ("none", "8bit", "4bit")


def make_responder(
    name: str | None = None,
    model: str | None = None,
    quantization: str | None = None,
    **generation: Any,
) -> Responder:
    """Build the responder `name` (see the module docstring for the environment fallbacks)."""
    name = (name or os.environ.get("ASSISTANT_RESPONDER") or "grounded").strip().lower()
    if name not in RESPONDERS:
        raise ValueError(f"unknown responder {name!r}; choose one of {list(RESPONDERS)}")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {list(QUANTIZATIONS)}, got {quantization!r}")
    if name == "grounded":
        if model is not None or quantization not in (None, "none") or generation:
            raise ValueError(
                "the grounded responder is deterministic and takes no model, quantization or "
                "generation settings; use --responder transformers or openai for a model"
            )
        from assistant.responders.grounded import GroundedResponder

        return GroundedResponder()
    model = model or os.environ.get("ASSISTANT_MODEL") or None
    if name == "transformers":
        quantization = quantization or os.environ.get("ASSISTANT_QUANTIZATION") or "none"
        if quantization not in QUANTIZATIONS:
            raise ValueError(
                f"ASSISTANT_QUANTIZATION must be one of {list(QUANTIZATIONS)}, got {quantization!r}"
            )
        from assistant.responders.transformers_vlm import TransformersResponder

        return TransformersResponder(model, quantization=quantization, **generation)
    if quantization not in (None, "none"):
        raise ValueError(
            f"quantization {quantization!r} applies to the transformers responder only; an "
            "OpenAI-compatible server quantizes on its side"
        )
    from assistant.responders.openai_compat import OpenAICompatResponder

    return OpenAICompatResponder(model, **generation)
