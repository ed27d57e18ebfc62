"""Scripted QA evaluation of the assistant on medical VQA benchmarks, with ablations.

    python -m eval.qa --benchmark PATH --format vqa-rad|slake|pathvqa|jsonl --images DIR \
        --responder grounded|transformers|openai [--model ID] [--quantization 4bit|8bit|none] \
        [--detector DIR] [--method M] [--preset P] [--limit N] [--no-image] [--no-retrieval] \
        [--no-detector] [--ablations] --out DIR

Each image is analysed once (`Assistant.analyze`) and every question about it is asked in a fresh
conversation (`Assistant.ask`). Controls:
- ``--no-image``: the assistant analyses a blank (all-zero) image of the same size instead of the
  scan, so whatever it gets right comes from the question, retrieval or priors alone;
- ``--no-retrieval`` / ``--no-detector``: the assistant runs without retrieved cases/knowledge or
  without the anomaly detector's findings;
- ``--ablations``: runs the full system and the three ablations into ``OUT/<variant>/`` and writes
  ``OUT/summary.md`` and ``OUT/summary.json`` comparing them.

Output in ``--out``: ``predictions.jsonl`` (one line per answered question, appended and flushed as
they come; a rerun skips the ids already answered and drops a truncated last line),
``metrics.json`` (`closed_accuracy`, `open_recall`, `open_f1`, `n`, `by_type` {type: {accuracy,
n}}, bootstrap 95% intervals, the ablation flags) and ``report.md``. When sibling folders of
``--out`` hold runs of the same benchmark and responder with other ablation flags, the report and
``metrics.json`` ("comparison") compare them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.qa_formats import FORMATS, QAItem, load_benchmark, resolve_image
from eval.qa_metrics import ItemScore, QAMetrics, aggregate, group_metrics, score_item
from eval.qa_report import HEADLINE, compare_siblings, comparison_table, render_report, summary_row

logger = logging.getLogger(__name__)

RESPONDERS = ("grounded", "transformers", "openai")
VARIANTS = {  # name -> (no_image, no_retrieval, no_detector)
    "full": (False, False, False),
    "no-image": (True, False, False),
    "no-retrieval": (False, True, False),
    "no-detector": (False, False, True),
}
# keys of run.json that must match for a rerun to resume into the same folder
_IDENTITY = (
    "benchmark",
    "format",
    "images",
    "responder",
    "model",
    "quantization",
    "max_new_tokens",
    "no_image",
    "no_retrieval",
    "no_detector",
    "detector",
    "method",
    "preset",
)


@dataclass
class QARunConfig:
    """One evaluation run. Paths are stored as given (strings) so run.json stays portable."""

    benchmark: str
    format: str
    images: str
    out: str
    responder: str = "grounded"
    model: str | None = None  # model id/path for transformers and openai responders
    quantization: str | None = None  # "none", "8bit", "4bit" (transformers); None: environment
    max_new_tokens: int | None = None  # generation length (model responders; None: default)
    limit: int | None = None  # the first N questions of the benchmark (in file order)
    no_image: bool = False
    no_retrieval: bool = False
    no_detector: bool = False
    detector: str | None = None  # detector checkpoint (None: the assistant's default)
    method: str | None = None  # anomaly method (thor, autoddpm, anoddpm; None: checkpoint's)
    preset: str | None = None  # the method's preset (None: the checkpoint's default)
    batch_size: int = 8  # questions per batched generation call (transformers responders)
    n_boot: int = 1000  # bootstrap resamples for the 95% intervals
    seed: int = 0  # bootstrap seed

    @property
    def variant(self) -> str:
        flags = [
            name
            for name, on in (
                ("no-image", self.no_image),
                ("no-retrieval", self.no_retrieval),
                ("no-detector", self.no_detector),
            )
            if on
        ]
        return "+".join(flags) or "full"

    def identity(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in _IDENTITY}


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


# ----------------------------------------------------------------------------- predictions file


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


# ----------------------------------------------------------------------------- the assistant


def make_responder(cfg: QARunConfig):
    """The responder named by `cfg`, from `assistant.responders.registry`."""
    from assistant.responders.registry import make_responder as registry

    generation = {} if cfg.max_new_tokens is None else {"max_new_tokens": cfg.max_new_tokens}
    return registry(cfg.responder, model=cfg.model, quantization=cfg.quantization, **generation)


def build_assistant(cfg: QARunConfig):
    """An `assistant.chat.Assistant` for `cfg`: its responder, detector checkpoint (default: the
    shipped one) and the ablation switches (`use_detector`, `use_retrieval`)."""
    try:
        from assistant.chat import Assistant
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"the assistant is not available in this build ({exc.name} is missing)"
        ) from exc
    detector = None
    custom = cfg.detector is not None or cfg.method is not None or cfg.preset is not None
    if custom and not cfg.no_detector:
        from assistant.detector import Detector

        detector = Detector.from_pretrained(cfg.detector, method=cfg.method, preset=cfg.preset)
    return Assistant(
        detector=detector,
        responder=make_responder(cfg),
        use_detector=not cfg.no_detector,
        use_retrieval=not cfg.no_retrieval,
    )


def _blank_like(scan):
    """The same scan with every pixel 0 (the --no-image control)."""
    blank = replace(scan, pixels=np.zeros_like(scan.pixels), notes=[*scan.notes, "blanked"])
    return blank


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


def _answers(
    assistant, state, questions: list[str]
) -> Iterator[tuple[str, list[str], str | None, float]]:
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
    """The assistant's responder when it can generate in batches (`generate_batch`), else None."""
    responder = getattr(assistant, "responder", None)
    return responder if callable(getattr(responder, "generate_batch", None)) else None


def _answers_batched(
    assistant, states: list, questions: list[str], batch_size: int
) -> list[tuple[str, list[str], str | None, float]]:
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


def _evidence_ids(answer) -> list[str]:
    return [getattr(e, "id", str(e)) for e in (getattr(answer, "evidence", None) or [])]


# ----------------------------------------------------------------------------- running


def _group_by_image(items: Sequence[QAItem]) -> dict[str, list[QAItem]]:
    groups: dict[str, list[QAItem]] = {}
    for item in items:
        groups.setdefault(item.image, []).append(item)
    return groups


def _prediction(item: QAItem, **kw) -> Prediction:
    return Prediction(
        id=item.id,
        image=item.image,
        question=item.question,
        reference=item.answer,
        answer_type=item.answer_type,
        question_type=list(item.question_type),
        subtype=item.meta.get("question_subtype"),
        **kw,
    )


def _check_run_json(out: Path, cfg: QARunConfig) -> None:
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
    from assistant.scan import ScanError, load_scan

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
        _answer(todo, cfg, assistant, log, progress, load_scan, ScanError)
    metrics = score_run(items, log.done, cfg)
    metrics["comparison"] = compare_siblings(out, cfg, metrics)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "report.md").write_text(render_report(metrics, cfg))
    return metrics


def _answer(todo, cfg, assistant, log, progress, load_scan, ScanError) -> None:
    """Analyse each image once and answer its questions, appending to `log` as answers come.

    With a batching responder, questions of consecutive images are pooled until `batch_size`
    of them wait, then generated together."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc=f"qa {cfg.variant}", unit="q", disable=not progress)
    batching = cfg.batch_size > 1 and batched_responder(assistant) is not None
    pending: list[tuple[QAItem, Any, float]] = []  # (item, state, analysis seconds)

    def record(item, analysis, text, evidence, error, seconds):
        log.append(
            _prediction(
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
    if by_size:  # anomaly QA: each subtype by the image's lesion size bin ("none": healthy)
        d["by_lesion_size"] = {}
        for (size, sub), v in sorted(by_size.items()):
            correct = sum(x.correct for x in v)
            d["by_lesion_size"].setdefault(size, {})[sub] = {
                "correct": correct,
                "n": len(v),
                "accuracy": correct / len(v),
            }
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


def _mean_seconds(done: dict[str, dict], items: Sequence[QAItem]) -> float | None:
    secs = [done[i.id].get("seconds", 0.0) for i in items if i.id in done]
    return round(float(np.mean(secs)), 4) if secs else None


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


# ----------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval.qa",
        description="Evaluate the assistant on a medical VQA benchmark (research use only).",
    )
    p.add_argument("--benchmark", required=True, help="benchmark file (JSON, CSV or JSONL)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--images", required=True, help="folder the benchmark's image names refer to")
    p.add_argument("--responder", default="grounded", choices=RESPONDERS)
    p.add_argument("--model", help="model id or path (transformers / openai responders)")
    p.add_argument("--quantization", choices=("4bit", "8bit", "none"), default=None)
    p.add_argument("--max-new-tokens", type=int, help="answer length limit (model responders)")
    p.add_argument("--detector", help="detector checkpoint (default: the assistant's)")
    p.add_argument(
        "--method", help="anomaly method: thor, autoddpm, anoddpm (default: the checkpoint's)"
    )
    p.add_argument("--preset", help="the method's preset (default: the checkpoint's default)")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--no-image", action="store_true", help="analyse a blank image instead")
    p.add_argument("--no-retrieval", action="store_true", help="no retrieved cases/knowledge")
    p.add_argument("--no-detector", action="store_true", help="no anomaly detector findings")
    p.add_argument(
        "--ablations", action="store_true", help="run full + the three ablations into OUT/<variant>"
    )
    p.add_argument("--batch-size", type=int, default=8, help="questions per generation batch")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = QARunConfig(
        benchmark=args.benchmark,
        format=args.format,
        images=args.images,
        out=args.out,
        responder=args.responder,
        model=args.model,
        quantization=args.quantization,
        max_new_tokens=args.max_new_tokens,
        limit=args.limit,
        no_image=args.no_image,
        no_retrieval=args.no_retrieval,
        no_detector=args.no_detector,
        detector=args.detector,
        method=args.method,
        preset=args.preset,
        batch_size=args.batch_size,
        n_boot=args.n_boot,
        seed=args.seed,
    )
    try:
        if args.ablations:
            if cfg.no_image or cfg.no_retrieval or cfg.no_detector:
                raise ValueError("--ablations runs every variant; drop the --no-* flags")
            rows = run_ablations(cfg, progress=not args.no_progress)
            print(comparison_table(rows))
            return 0
        m = run_qa(cfg, progress=not args.no_progress)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: m.get(k) for k in ("n", *HEADLINE, "n_errors")}, indent=1))
    if m["n"] and m["n_errors"] == m["n"]:
        print("error: every question failed; see predictions.jsonl", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
