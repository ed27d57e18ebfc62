"""Tables and the markdown report of a QA evaluation run, and comparisons between runs
(the full system vs. its ablations)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.qa.config import QARunConfig

HEADLINE = ("closed_accuracy", "open_recall", "open_f1", "overall_accuracy")


def summary_row(metrics: dict) -> dict:
    row = {k: metrics.get(k) for k in HEADLINE}
    row["n"] = metrics.get("n")
    row["by_type"] = {t: v.get("accuracy") for t, v in metrics.get("by_type", {}).items()}
    if "by_subtype" in metrics:
        row["by_subtype"] = {t: v.get("accuracy") for t, v in metrics["by_subtype"].items()}
    return row


def compare_siblings(out: Path, cfg: QARunConfig, metrics: dict) -> list[dict]:
    """Runs in sibling folders of `out` on the same benchmark, responder and model but other
    ablation flags, as comparison rows (this run first). [] when there are none."""
    rows = []
    parent = out.resolve().parent
    same = (
        "benchmark",
        "format",
        "responder",
        "model",
        "quantization",
        "max_new_tokens",
        "detector",
    )
    mine = cfg.identity()
    for run_json in sorted(parent.glob("*/run.json")):
        sib = run_json.parent
        if sib.resolve() == out.resolve() or not (sib / "metrics.json").exists():
            continue
        ident = json.loads(run_json.read_text()).get("identity", {})
        if any(ident.get(k) != mine[k] for k in same):
            continue
        m = json.loads((sib / "metrics.json").read_text())
        variant = m.get("ablation", {}).get("variant", sib.name)
        if variant == cfg.variant:
            continue
        rows.append({"variant": variant, "dir": sib.name, **summary_row(m)})
    if not rows:
        return []
    return [{"variant": cfg.variant, "dir": out.name, **summary_row(metrics)}, *rows]


def _fmt(x, ci=None) -> str:
    if x is None:
        return "–"
    s = f"{x:.3f}"
    if ci:
        s += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return s


def comparison_table(rows: list[dict]) -> str:
    """A markdown table of runs: headline metrics, per-type accuracy, delta to "full"."""
    if not rows:
        return ""
    types = sorted({t for r in rows for t in r["by_type"]})
    subtypes = sorted({t for r in rows for t in r.get("by_subtype", {})})
    full = next((r for r in rows if r["variant"] == "full"), None)
    head = ["variant", "n", *HEADLINE, *types, *subtypes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["variant"], str(r["n"])]
        for k in HEADLINE:
            cells.append(_delta(r.get(k), full.get(k) if full and r is not full else None))
        for t in types:
            ref = full["by_type"].get(t) if full and r is not full else None
            cells.append(_delta(r["by_type"].get(t), ref))
        for t in subtypes:
            ref = full.get("by_subtype", {}).get(t) if full and r is not full else None
            cells.append(_delta(r.get("by_subtype", {}).get(t), ref))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _delta(x, ref) -> str:
    if x is None:
        return "–"
    if ref is None:
        return f"{x:.3f}"
    return f"{x:.3f} ({x - ref:+.3f})"


# ----------------------------------------------------------------------------- report


def _detector_line(cfg: QARunConfig) -> str:
    if cfg.no_detector:
        return "Detector: off (`--no-detector`)."
    where = f"checkpoint `{cfg.detector}`" if cfg.detector else "the shipped checkpoint"
    method = f"method `{cfg.method}`" if cfg.method else "its default method"
    preset = f"preset `{cfg.preset}`" if cfg.preset else "its default preset"
    return f"Detector: {where}, {method}, {preset}."


def render_report(m: dict, cfg: QARunConfig) -> str:
    ci = m.get("ci", {})
    lines = [
        f"# QA evaluation: {Path(cfg.benchmark).name} ({cfg.format})",
        "",
        f"Responder `{cfg.responder}`"
        + (f" (model `{cfg.model}`)" if cfg.model else "")
        + f", variant **{cfg.variant}**, {m['n']} questions ({m['n_closed']} closed, "
        f"{m['n_open']} open), {m['n_errors']} errors, {m['n_missing']} not answered yet.",
        _detector_line(cfg),
        "Intervals are 95% percentile bootstrap intervals over questions "
        f"({cfg.n_boot} resamples, seed {cfg.seed}).",
        "",
        "| metric | value [95% CI] |",
        "|---|---|",
    ]
    for k in ("closed_accuracy", "open_recall", "open_f1", "open_exact", "overall_accuracy"):
        lines.append(f"| {k} | {_fmt(m.get(k), ci.get(k))} |")
    lines += ["", "## By question type", "", "| type | n | closed | open | accuracy [95% CI] |"]
    lines.append("|---|---|---|---|---|")
    for t, g in m.get("by_type", {}).items():
        lines.append(
            f"| {t} | {g['n']} | {g['n_closed']} | {g['n_open']} | {_fmt(g['accuracy'], g['ci'])} |"
        )
    lines += [
        "",
        "## By answer type",
        "",
        "| answer type | n | accuracy [95% CI] |",
        "|---|---|---|",
    ]
    for t, g in m.get("by_answer_type", {}).items():
        lines.append(f"| {t} | {g['n']} | {_fmt(g['accuracy'], g.get('ci'))} |")
    if m.get("by_subtype"):
        lines += ["", "## By question subtype", "", "| subtype | n | accuracy [95% CI] |"]
        lines.append("|---|---|---|")
        for t, g in m["by_subtype"].items():
            lines.append(f"| {t} | {g['n']} | {_fmt(g['accuracy'], g.get('ci'))} |")
    if m.get("by_lesion_size"):
        sizes = [k for k in ("none", "small", "medium", "large") if k in m["by_lesion_size"]]
        subs = sorted({t for v in m["by_lesion_size"].values() for t in v})
        lines += ["", "## By lesion size (correct / n; none = healthy image)", ""]
        lines.append("| subtype | " + " | ".join(sizes) + " |")
        lines.append("|---" * (len(sizes) + 1) + "|")
        for t in subs:
            cells = []
            for k in sizes:
                g = m["by_lesion_size"][k].get(t)
                cells.append(f"{g['correct']}/{g['n']}" if g else "–")
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
    if m.get("comparison"):
        lines += ["", "## Comparison with ablations (sibling runs; delta to full)", ""]
        lines.append(comparison_table(m["comparison"]))
    lines += [
        "",
        "Closed answers are matched after normalisation (case, punctuation, articles, yes/no "
        'synonyms; whole words only, so "no" never matches "normal"); open answers are scored '
        "by token recall/F1 and exact match. Open items count as correct in per-type accuracy "
        "when every reference token is in the answer.",
        "",
        "Research use only: not a medical device.",
        "",
    ]
    return "\n".join(lines)
