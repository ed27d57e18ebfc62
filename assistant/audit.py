"""Optional audit log: one JSON line per answer.

Each record holds the time (UTC, ISO 8601), the scan hash (SHA-256 of the pixel data, no
metadata), the slice, the responder, model and prompt versions, the intent, the evidence ids
cited and removed, the timings and the answer text. It never holds the image, the question
(a user may type a name into it) or any DICOM identifier.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()


class AuditLog:
    """Append-only JSONL audit log at `path` (parent folders are created)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(
        self,
        *,
        scan_hash: str,
        slice_index: int | None,
        responder: str,
        model: str,
        prompt_version: str,
        intent: str,
        evidence: list[str],
        removed_ids: list[str],
        answer: str,
        timings: dict[str, float],
    ) -> dict:
        """Append one record and return it."""
        record = {
            "time": datetime.now(timezone.utc).isoformat(),
            "scan_hash": scan_hash,
            "slice_index": slice_index,
            "responder": responder,
            "model": model,
            "prompt_version": prompt_version,
            "intent": intent,
            "evidence": list(evidence),
            "removed_ids": list(removed_ids),
            "timings": {k: round(float(v), 4) for k, v in timings.items()},
            "answer": answer,
        }
        line = json.dumps(record, ensure_ascii=False)
        with _LOCK, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        logger.debug("audit record written (%d bytes)", len(line))
        return record

    def read(self) -> list[dict]:
        """All records (for tests and review)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
