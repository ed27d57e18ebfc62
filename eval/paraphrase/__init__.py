"""The paraphrase benchmark of questions about one brain MRI slice (issue 14): the hand-written
source `questions.txt`, its builder (`build.py`) and the generated `benchmark.jsonl`."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "questions.txt"
BENCHMARK = HERE / "benchmark.jsonl"

INTENTS = (
    "presence",
    "location",
    "side",
    "size",
    "intensity",
    "count",
    "cause",
    "comparison",
    "heatmap",
    "pseudo_healthy",
    "confidence",
    "next_steps",
    "modality",
    "out_of_scope",
    "report",
)
SPLITS = ("dev", "test")


def load(path: str | Path = BENCHMARK, split: str | None = None) -> list[dict]:
    """The benchmark records (all, or those of one split)."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if split in (None, "all", r["split"])]
