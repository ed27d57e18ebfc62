"""A QA evaluation run: build the assistant, answer every (remaining) question of the benchmark,
score, and write ``metrics.json`` and ``report.md``; and the full system with its three
ablations side by side (`run_ablations`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from assistant.responders.registry import RESPONDERS
from eval.qa.answering import answer_items
from eval.qa.config import VARIANTS, QARunConfig
from eval.qa.formats import FORMATS, QAItem, load_benchmark
from eval.qa.predictions import PredictionLog
from eval.qa.report import compare_siblings, comparison_table, render_report, summary_row
from eval.qa.scoring import score_run

logger = logging.getLogger(__name__)


def build_assistant(cfg: QARunConfig):
    """An `assistant.chat.Assistant` for `cfg`, built by the shared builder
    (`assistant.config.build_assistant`): its responder, detector checkpoint/method/preset
    (default: the shipped one) and the ablation switches."""
    try:
        from assistant.config import Settings
        from assistant.config import build_assistant as build
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"the assistant is not available in this build ({exc.name} is missing)"
        ) from exc

    generation = {} if cfg.max_new_tokens is None else {"max_new_tokens": cfg.max_new_tokens}
    settings = Settings(
        detector=cfg.detector,
        method=cfg.method,
        preset=cfg.preset,
        use_detector=not cfg.no_detector,
        use_retrieval=not cfg.no_retrieval,
        check_domain=not cfg.no_domain_check,
        responder=cfg.responder,
        model=cfg.model,
        quantization=cfg.quantization,
        generation=generation,
    )
    return build(settings)


def _load_items(cfg: QARunConfig) -> list[QAItem]:
    """The benchmark questions `cfg` asks for, after checking its settings."""
    if cfg.format not in FORMATS:
        raise ValueError(f"unknown format {cfg.format!r}; accepted: {', '.join(FORMATS)}")
    if cfg.responder not in RESPONDERS:
        raise ValueError(f"unknown responder {cfg.responder!r}; accepted: {', '.join(RESPONDERS)}")
    if not Path(cfg.images).is_dir():
        raise ValueError(f"--images {cfg.images} is not a folder")
    if cfg.limit is not None and cfg.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {cfg.limit}")
    items = load_benchmark(cfg.benchmark, cfg.format)
    if cfg.limit is not None:
        items = items[: cfg.limit]
    return items


def _check_run_json(out: Path, cfg: QARunConfig) -> None:
    """Refuse to resume into a folder that holds a run with other settings; write run.json."""
    path = out / "run.json"
    if path.exists():
        old = json.loads(path.read_text()).get("identity", {})
        diff = {k: (old.get(k), v) for k, v in cfg.identity().items() if old.get(k) != v}
        if diff:
            raise ValueError(
                f"{out} holds a run with another configuration ({diff}: stored vs. requested); "
                "choose another --out or delete the folder"
            )
    path.write_text(json.dumps({"identity": cfg.identity(), "config": asdict(cfg)}, indent=1))


def run_qa(
    cfg: QARunConfig,
    assistant=None,
    progress: bool = True,
    factory: Callable[[QARunConfig], Any] = build_assistant,
) -> dict:
    """Answer every (remaining) question of the benchmark, then score and write the outputs.

    `assistant`: a ready `Assistant`; when None, `factory(cfg)` builds one, and only if some
    question is still unanswered. Returns the metrics dict (also written to metrics.json).
    """
    items = _load_items(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    _check_run_json(out, cfg)
    log = PredictionLog(out / "predictions.jsonl")
    finished = log.finished()
    todo = [it for it in items if it.id not in finished]
    logger.info(
        "%s: %d questions, %d already answered, %d to go (%s, %s)",
        Path(cfg.benchmark).name,
        len(items),
        len(items) - len(todo),
        len(todo),
        cfg.responder,
        cfg.variant,
    )
    if todo:
        if assistant is None:
            assistant = factory(cfg)
        answer_items(todo, cfg, assistant, log, progress)
    metrics = score_run(items, log.done, cfg)
    metrics["comparison"] = compare_siblings(out, cfg, metrics)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    write_scored(out / "scored.jsonl", items, log.done)
    (out / "report.md").write_text(render_report(metrics, cfg))
    return metrics


def write_scored(path: Path, items, done: dict[str, dict]) -> None:
    """One line per answered question: its id, question, reference, prediction and whether it
    was scored correct (the same `score_item` as metrics.json), to find the wrong ones without
    re-scoring."""
    from eval.qa.metrics import score_item

    lines = []
    for item in items:
        rec = done.get(item.id)
        if rec is None:
            continue
        pred = rec.get("prediction") or ""
        s = score_item(
            item.id, pred, item.answer, item.question, item.answer_type, item.question_type
        )
        lines.append(
            json.dumps(
                {
                    "id": item.id,
                    "question": item.question,
                    "reference": item.answer,
                    "prediction": pred,
                    "answer_type": item.answer_type,
                    "correct": bool(s.correct),
                    "recall": round(float(s.recall), 4),
                }
            )
        )
    path.write_text("".join(line + "\n" for line in lines))


def run_ablations(
    cfg: QARunConfig,
    progress: bool = True,
    factory: Callable[[QARunConfig], Any] = build_assistant,
) -> list[dict]:
    """The full system and the three ablations into OUT/<variant>/, plus OUT/summary.{md,json}.

    Each variant gets its own assistant from `factory` (the ablation flags are in its config).
    """
    root = Path(cfg.out)
    rows = []
    for name, (no_image, no_retrieval, no_detector) in VARIANTS.items():
        sub = replace(
            cfg,
            out=str(root / name),
            no_image=no_image,
            no_retrieval=no_retrieval,
            no_detector=no_detector,
        )
        m = run_qa(sub, progress=progress, factory=factory)
        rows.append({"variant": name, "dir": name, **summary_row(m)})
    (root / "summary.json").write_text(json.dumps(rows, indent=1))
    (root / "summary.md").write_text(
        f"# Ablations: {Path(cfg.benchmark).name} with `{cfg.responder}`"
        + (f" (`{cfg.model}`)" if cfg.model else "")
        + "\n\nDeltas in parentheses are to the full system.\n\n"
        + comparison_table(rows)
    )
    return rows
