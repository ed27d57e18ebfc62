"""``metrics.json`` of a run: every benchmark question scored against its recorded prediction
(`eval.qa.metrics`), aggregated overall, by question type, subtype and lesion size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from eval.qa.config import QARunConfig
from eval.qa.formats import QAItem
from eval.qa.metrics import ItemScore, QAMetrics, aggregate, group_metrics, score_item


def _by_lesion_size(by_size: dict[tuple[str, str], list[ItemScore]]) -> dict:
    """{lesion size: {subtype: {correct, n, accuracy}}} (anomaly QA; "none": healthy)."""
    out: dict = {}
    for (size, sub), v in sorted(by_size.items()):
        correct = sum(x.correct for x in v)
        out.setdefault(size, {})[sub] = {
            "correct": correct,
            "n": len(v),
            "accuracy": correct / len(v),
        }
    return out


def _mean_seconds(done: dict[str, dict], items: Sequence[QAItem]) -> float | None:
    secs = [done[i.id].get("seconds", 0.0) for i in items if i.id in done]
    return round(float(np.mean(secs)), 4) if secs else None


def score_run(items: Sequence[QAItem], done: dict[str, dict], cfg: QARunConfig) -> dict:
    """metrics.json content for the benchmark `items` given the prediction records `done`."""
    scores: list[ItemScore] = []
    subtypes: dict[str, list[ItemScore]] = {}
    by_size: dict[tuple[str, str], list[ItemScore]] = {}  # (lesion size, subtype) -> scores
    missing, errors = 0, 0
    for item in items:
        rec = done.get(item.id)
        if rec is None:
            missing += 1
            continue
        errors += bool(rec.get("error"))
        s = score_item(
            item.id,
            rec.get("prediction") or "",
            item.answer,
            item.question,
            item.answer_type,
            item.question_type,
        )
        scores.append(s)
        if item.meta.get("question_subtype"):
            subtypes.setdefault(item.meta["question_subtype"], []).append(s)
            if item.meta.get("lesion_size"):
                key = (item.meta["lesion_size"], item.meta["question_subtype"])
                by_size.setdefault(key, []).append(s)
    m: QAMetrics = aggregate(scores, n_boot=cfg.n_boot, seed=cfg.seed)
    d = m.to_dict()
    if subtypes:
        d["by_subtype"] = {
            k: asdict(group_metrics(v, n_boot=cfg.n_boot, seed=cfg.seed))
            for k, v in sorted(subtypes.items())
        }
    if by_size:
        d["by_lesion_size"] = _by_lesion_size(by_size)
    d.update(
        n_errors=errors,
        n_missing=missing,
        ablation={
            "variant": cfg.variant,
            "no_image": cfg.no_image,
            "no_retrieval": cfg.no_retrieval,
            "no_detector": cfg.no_detector,
        },
        config={k: v for k, v in asdict(cfg).items() if k != "out"},
        mean_seconds_per_question=_mean_seconds(done, items),
    )
    return d
