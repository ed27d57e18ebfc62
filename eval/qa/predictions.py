"""``predictions.jsonl``: one `Prediction` per answered question, appended and flushed as answers
come, so that an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.qa.formats import QAItem

logger = logging.getLogger(__name__)


@dataclass
class Prediction:
    """One line of predictions.jsonl."""

    id: str
    image: str
    question: str
    reference: str
    prediction: str
    answer_type: str
    question_type: list[str]
    evidence: list[str] = field(default_factory=list)  # cited evidence ids (F1, C2, K3, ...)
    seconds: float = 0.0  # wall time of ask() (analysis time is in `analysis_seconds`)
    analysis_seconds: float = 0.0  # shared by every question on the same image
    error: str | None = None  # why no answer was produced (counts as wrong)
    subtype: str | None = None  # eval.anomaly_qa's question_subtype, where present

    @classmethod
    def of(cls, item: QAItem, **kw) -> Prediction:
        """The prediction for benchmark `item` (its question and reference copied over)."""
        return cls(
            id=item.id,
            image=item.image,
            question=item.question,
            reference=item.answer,
            answer_type=item.answer_type,
            question_type=list(item.question_type),
            subtype=item.meta.get("question_subtype"),
            **kw,
        )


class PredictionLog:
    """Append-only predictions.jsonl: resumable, flushed per line, tolerant of a torn last line."""

    def __init__(self, path: Path):
        self.path = path
        self.done: dict[str, dict] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        offset = 0  # byte offset of the current line
        for i, raw in enumerate(lines):
            last = i == len(lines) - 1
            if raw.strip():
                try:
                    rec = json.loads(raw)
                except json.JSONDecodeError:
                    if not last:
                        raise ValueError(
                            f"{self.path} line {i + 1} is not valid JSON; delete that line (or "
                            "the file) to re-run its questions"
                        ) from None
                    # interrupted while writing: drop the partial line
                    logger.warning("dropping a truncated last line of %s", self.path)
                    with open(self.path, "r+b") as fh:
                        fh.truncate(offset)
                    break
                # a later line for the same id wins (errors retried on a rerun)
                self.done[str(rec["id"])] = rec
                if last:  # a complete record whose newline was not written
                    with open(self.path, "ab") as fh:
                        fh.write(b"\n")
            offset += len(raw) + 1

    def finished(self) -> set[str]:
        """Ids answered without error (errors are retried on a rerun)."""
        return {k for k, r in self.done.items() if not r.get("error")}

    def append(self, pred: Prediction) -> None:
        rec = asdict(pred)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.done[pred.id] = rec
