"""The responder interface shared by the grounded, transformers and OpenAI-compatible responders.

Agreed interface (lead): responders receive an `Evidence` bundle built by code (never by the model)
and stream text chunks. The orchestration (`assistant/chat.py`) turns the stream into the final
structured `Answer` (validating cited ids against the evidence).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

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
    "out_of_scope",
    "unknown",
]


@dataclass
class EvidenceItem:
    """One citable piece of evidence: a finding (F1..), a retrieved case (C1..) or a knowledge
    passage (K1..). `text` is what a responder may quote; for cases it is DATA, never instructions."""

    id: str  # "F1", "C2", "K3"
    kind: Literal["finding", "case", "knowledge", "detector"]
    text: str
    score: float | None = None  # confidence (findings) or similarity (cases/knowledge)
    data: dict = field(default_factory=dict)  # structured fields (e.g. Finding.to_dict(), Hit)


@dataclass
class Evidence:
    """Everything a responder may use to answer about one scan (one slice)."""

    items: list[EvidenceItem]
    detector_summary: dict  # DetectionResult.summary() (no arrays)
    scan_summary: dict  # de-identified: format, modality, shape, spacing, orientation
    image: np.ndarray | None = None  # (H, W) float32 [0,1] slice shown to VLMs (None = no image)
    overlay: np.ndarray | None = None  # (H, W, 3) uint8 heatmap overlay shown to VLMs

    def ids(self) -> set[str]:
        return {item.id for item in self.items}

    def by_kind(self, kind: str) -> list[EvidenceItem]:
        return [i for i in self.items if i.kind == kind]


@dataclass
class Message:
    role: Literal["user", "assistant"]
    content: str


class Responder(Protocol):
    name: str  # "grounded", "transformers", "openai"
    model: str  # model id or "rules"

    def stream(
        self, question: str, evidence: Evidence, history: list[Message]
    ) -> Iterator[str]:  # text chunks
        ...
