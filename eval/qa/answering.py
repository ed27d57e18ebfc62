"""Asking the assistant: each image is analysed once (`Assistant.analyze`) and every question
about it is asked in a fresh conversation (`Assistant.ask`), or, with a responder that generates
in batches, pooled with the questions of the next images into one `generate_batch` call."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant.responders.llm_common import LLMResponder
from assistant.scan import ScanError, load_scan
from eval.qa.config import QARunConfig
from eval.qa.formats import QAItem, resolve_image
from eval.qa.predictions import Prediction, PredictionLog

logger = logging.getLogger(__name__)

Answer = tuple[str, list[str], str | None, float]  # (text, evidence ids, error, seconds)


def _blank_like(scan):
    """The same scan with every pixel 0 (the --no-image control)."""
    blank = replace(scan, pixels=np.zeros_like(scan.pixels), notes=[*scan.notes, "blanked"])
    return blank


def _evidence_ids(answer) -> list[str]:
    return [getattr(e, "id", str(e)) for e in (getattr(answer, "evidence", None) or [])]


def _ask(assistant, state, question: str) -> tuple[str, list[str]]:
    """Run one question to completion: (answer text, cited evidence ids)."""
    chunks: list[str] = []
    final = None
    for part in assistant.ask(state, question, []):
        if isinstance(part, str):
            chunks.append(part)
        else:
            final = part
    if final is None:
        return "".join(chunks).strip(), []
    return str(final.text).strip(), _evidence_ids(final)


def _answers(assistant, state, questions: list[str]) -> Iterator[Answer]:
    """(text, evidence ids, error, seconds) for each question about one analysed image, in
    order, one `Assistant.ask` each. A failing question is reported as an error (it counts as
    wrong and is retried on a rerun) instead of ending the run."""
    for question in questions:
        t0 = time.perf_counter()
        try:
            text, evidence = _ask(assistant, state, question)
            error = None
        except Exception as exc:  # noqa: BLE001 - recorded per question, the run goes on
            logger.warning("question failed: %s: %s", type(exc).__name__, exc)
            text, evidence, error = "", [], f"{type(exc).__name__}: {exc}"
        yield text, evidence, error, time.perf_counter() - t0


def batched_responder(assistant) -> Any | None:
    """The assistant's responder when it can generate in batches (an `LLMResponder`), else None."""
    responder = getattr(assistant, "responder", None)  # test doubles may have none
    return responder if isinstance(responder, LLMResponder) else None


def _answers_batched(
    assistant, states: list, questions: list[str], batch_size: int
) -> list[Answer]:
    """Like `_answers` for questions about several images, through the responder's
    `generate_batch` (padded batches), with the same citation check as `Assistant.ask`
    (unknown ids removed). Questions that `Assistant.ask` answers with its fixed out-of-scope
    refusal go through `ask` so that the guard applies."""
    from assistant.chat import cited_ids
    from assistant.prompts import validate_citations
    from assistant.responders.intents import resolve

    results: list = [None] * len(questions)
    batch_idx = []
    for i, (state, q) in enumerate(zip(states, questions, strict=True)):
        finding_ids = [f.id for f in state.evidence.by_kind("finding")]
        r = resolve(q, [], finding_ids)
        if r.intent == "out_of_scope" and r.source == "rule":
            results[i] = next(_answers(assistant, state, [q]))
        else:
            batch_idx.append(i)
    if batch_idx:
        t0 = time.perf_counter()
        evidences = [states[i].evidence for i in batch_idx]
        try:
            texts = assistant.responder.generate_batch(
                [questions[i] for i in batch_idx], evidences, batch_size=batch_size
            )
            error = None
        except Exception as exc:  # noqa: BLE001 - recorded per question, the run goes on
            logger.warning("batch failed: %s: %s", type(exc).__name__, exc)
            texts, error = [""] * len(batch_idx), f"{type(exc).__name__}: {exc}"
        seconds = (time.perf_counter() - t0) / len(batch_idx)
        for i, text, evidence in zip(batch_idx, texts, evidences, strict=True):
            clean = validate_citations(text, evidence).clean_text.strip() if text else ""
            results[i] = (clean, cited_ids(clean, evidence), error, seconds)
    return results


def _group_by_image(items: Sequence[QAItem]) -> dict[str, list[QAItem]]:
    groups: dict[str, list[QAItem]] = {}
    for item in items:
        groups.setdefault(item.image, []).append(item)
    return groups


def answer_items(
    todo: Sequence[QAItem], cfg: QARunConfig, assistant, log: PredictionLog, progress: bool
) -> None:
    """Analyse each image once and answer its questions, appending to `log` as answers come.

    With a batching responder, questions of consecutive images are pooled until `batch_size`
    of them wait, then generated together."""
    bar = tqdm(total=len(todo), desc=f"qa {cfg.variant}", unit="q", disable=not progress)
    batching = cfg.batch_size > 1 and batched_responder(assistant) is not None
    pending: list[tuple[QAItem, Any, float]] = []  # (item, state, analysis seconds)

    def record(item, analysis, text, evidence, error, seconds):
        log.append(
            Prediction.of(
                item,
                prediction=text,
                evidence=evidence,
                seconds=round(seconds, 4),
                analysis_seconds=round(analysis, 4),
                error=error,
            )
        )
        bar.update(1)

    def flush():
        answers = _answers_batched(
            assistant, [p[1] for p in pending], [p[0].question for p in pending], cfg.batch_size
        )
        for (item, _, analysis), ans in zip(pending, answers, strict=True):
            record(item, analysis, *ans)
        pending.clear()

    for image, group in _group_by_image(todo).items():
        t0 = time.perf_counter()
        try:
            scan = load_scan(resolve_image(cfg.images, image))
            if cfg.no_image:
                scan = _blank_like(scan)
            state = assistant.analyze(scan)
        except (ScanError, FileNotFoundError, ValueError) as exc:
            logger.warning("image %s: %s", image, exc)
            for item in group:
                record(item, 0.0, "", [], f"image: {exc}", 0.0)
            continue
        analysis = time.perf_counter() - t0
        if batching:
            pending += [(item, state, analysis) for item in group]
            if len(pending) >= cfg.batch_size:
                flush()
            continue
        answers = _answers(assistant, state, [it.question for it in group])
        for item, ans in zip(group, answers, strict=True):
            record(item, analysis, *ans)
    if pending:
        flush()
    bar.close()
