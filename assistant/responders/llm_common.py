"""Pieces shared by the LLM responders (transformers VLM, OpenAI-compatible server), kept free
of torch so that the `openai` responder imports light: the `LLMResponder` base class, decoding
settings, errors and the images shown to a VLM."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from assistant.evidence import Evidence, Message
from assistant.prompts import Task, prompt_versions
from assistant.responders.base import Responder


class ResponderError(RuntimeError):
    """A responder cannot run as requested; the message says why and what to do instead."""


@dataclass
class GenerationSettings:
    """Decoding settings shared by the LLM responders."""

    max_new_tokens: int = 384  # a few sentences; a draft report needs ~300 tokens
    do_sample: bool = False  # greedy by default: answers are reproducible
    temperature: float = 0.7  # used only when do_sample
    top_p: float = 0.95  # nucleus sampling mass, used only when do_sample

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not self.temperature > 0:
            raise ValueError(
                f"temperature must be > 0, got {self.temperature} (use do_sample=False)"
            )
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
        }
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs


def unit_to_pil(img01: np.ndarray) -> Image.Image:
    """(H, W) float in [0, 1] -> RGB PIL image (values outside [0, 1] are clipped)."""
    arr = np.asarray(img01, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"expected a (H, W) slice in [0, 1], got shape {arr.shape}")
    return Image.fromarray(np.round(np.clip(arr, 0.0, 1.0) * 255).astype(np.uint8)).convert("RGB")


def overlay_to_pil(overlay: np.ndarray) -> Image.Image:
    """(H, W, 3) uint8 heatmap overlay -> RGB PIL image."""
    arr = np.asarray(overlay)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected a (H, W, 3) uint8 overlay, got {arr.shape} {arr.dtype}")
    return Image.fromarray(arr, mode="RGB")


def evidence_images(evidence: Evidence) -> list[Image.Image]:
    """The images shown to a VLM, in the order the evidence block announces: slice, overlay."""
    images = []
    if evidence.image is not None:
        images.append(unit_to_pil(evidence.image))
    if evidence.overlay is not None:
        images.append(overlay_to_pil(evidence.overlay))
    return images


class LLMResponder(Responder):
    """A responder that prompts a (vision-)language model with the prompt files
    (`assistant.prompts.build_prompt`) and can answer many questions at once (evaluation)."""

    settings: GenerationSettings

    @property
    def prompt_versions(self) -> dict[str, str]:
        return prompt_versions()

    @abstractmethod
    def generate_batch(
        self,
        questions: list[str],
        evidences: list[Evidence],
        histories: list[list[Message]] | None = None,
        task: Task = "answer",
        batch_size: int = 8,
    ) -> list[str]:
        """Raw answer texts (citations not yet checked), one per (question, evidence) pair."""
