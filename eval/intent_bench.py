"""Intent accuracy and yes/no consistency on the paraphrase benchmark (issue 14).

    python -m eval.intent_bench --split test --json eval/results/intent_bench_test.json \
        [--classifier MODULE:FUNC] [--consistency] [--bootstrap 2000]

The benchmark (`eval/paraphrase/benchmark.jsonl`, see its README) is written independently of the
assistant's intent rules. Reported:

- intent accuracy overall and per benchmark intent, each with a 95% bootstrap interval that
  resamples paraphrase GROUPS (questions of one group are not independent);
- `accuracy_side_as_location`: the same with "side" and "location" counted as one intent, a
  secondary figure only (the project has had a separate "side" intent since issue 14);
- `target_accuracy`: when the classifier reports what a question is about (`.about`: image,
  finding:Fk, map, pseudo_healthy, cases, none), how often that matches the benchmark's target;
- the confusion list (gold -> predicted, counts) and every misrouted question;
- with `--consistency`: each yes/no presence group is asked, paraphrase by paraphrase, to the
  grounded responder about one abnormal (findings F1 and F2) and one normal synthetic scan; an
  answer is read with `eval.qa.metrics.yes_no` and flipped for negative polarity ("Is this
  normal?"), and a (group, scan) pair is consistent when every paraphrase gives the same
  reading. Also reported: how many answers had no yes/no at all and how many readings were right
  about the scan.

The classifier: `MODULE:FUNC` called as FUNC(question). It may return a label (str), a tuple
whose first element is the label, or an object with `.intent` (and optionally `.source`,
`.finding_ids`, `.about`). Labels are translated with `PROJECT_TO_BENCH` (project intent ->
benchmark label); any label that is not a benchmark intent counts as an error. The default is
`eval.intent_bench:project_intent`, the project's resolver on the question alone (no history).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eval import portable_path
from eval.paraphrase import BENCHMARK, INTENTS, load
from eval.qa.metrics import normalize, yes_no

# Project intent name (assistant/responders/intents) -> benchmark label. Every benchmark label
# is listed; a benchmark label the project had no intent for would be listed in
# NO_PROJECT_INTENT (those questions can only be counted as errors).
PROJECT_TO_BENCH: dict[str, str] = {
    "presence": "presence",
    "location": "location",
    "side": "side",
    "size": "size",
    "intensity": "intensity",
    "count": "count",
    "explanation": "cause",
    "similar_cases": "comparison",
    "heatmap": "heatmap",
    "pseudo_healthy": "pseudo_healthy",
    "confidence": "confidence",
    "next_steps": "next_steps",
    "modality": "modality",
    "out_of_scope": "out_of_scope",
    "report": "report",
    "unknown": "unknown",  # the resolver's "no intent": always an error
}
NO_PROJECT_INTENT: dict[str, str] = {}  # every benchmark label has a project intent
LENIENT = {"side": "location"}  # the merge behind accuracy_side_as_location

DEFAULT_CLASSIFIER = "eval.intent_bench:project_intent"
FINDINGS = ["F1", "F2"]  # the finding ids a question may name (targets "finding:F1"/"finding:F2")


# ----------------------------------------------------------------------- the project's resolver


def _intent_module():
    """The project's intent package (`resolve(question, history, findings)`, `INTENT_EXAMPLES`)."""
    return importlib.import_module("assistant.responders.intents")


def _resolver() -> Callable:
    return _intent_module().resolve


def examples_overlap(rows: list[dict]) -> list[str]:
    """Ids of benchmark questions that also appear (after normalisation) among the project's
    example questions (`INTENT_EXAMPLES`) or rules' examples: leakage to watch, since the
    benchmark must stay independent of the rules. Empty when the module has no examples."""
    examples = getattr(_intent_module(), "INTENT_EXAMPLES", {})
    known = {normalize(q) for qs in examples.values() for q in qs}
    return [r["id"] for r in rows if normalize(r["question"]) in known]


def project_intent(question: str):
    """The project's intent resolver on one question, without history (the default classifier);
    returns its `Resolved` (intent, source, finding_ids, ...)."""
    return _resolver()(question, [], list(FINDINGS))


def load_classifier(spec: str) -> Callable:
    module, _, func = spec.partition(":")
    if not func:
        raise SystemExit(f"--classifier must be MODULE:FUNC, got {spec!r}")
    return getattr(importlib.import_module(module), func)


def predict(classify: Callable, question: str) -> dict:
    """{"raw", "intent" (benchmark label or the unmapped raw name), "source", "finding_ids",
    "about"}."""
    out = classify(question)
    source = getattr(out, "source", None)
    ids = getattr(out, "finding_ids", None)
    about = getattr(out, "about", None)
    if isinstance(out, tuple):
        raw = out[0]
        source = out[1] if len(out) > 1 and isinstance(out[1], str) else None
    else:
        raw = getattr(out, "intent", out)
    raw = str(raw)
    return {
        "raw": raw,
        "intent": PROJECT_TO_BENCH.get(raw, raw),
        "source": source,
        "finding_ids": None if ids is None else list(ids),
        "about": None if about is None else str(about),
    }


# ----------------------------------------------------------------------- statistics


def group_bootstrap(
    correct: list[bool], groups: list[str], n_boot: int, seed: int
) -> tuple[float, float]:
    """95% percentile interval of the mean of `correct`, resampling whole groups."""
    by_group: dict[str, list[bool]] = defaultdict(list)
    for ok, g in zip(correct, groups, strict=True):
        by_group[g].append(ok)
    hits = np.array([sum(v) for v in by_group.values()], float)
    sizes = np.array([len(v) for v in by_group.values()], float)
    if len(hits) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(hits), size=(n_boot, len(hits)))
    means = hits[idx].sum(1) / sizes[idx].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))


def _accuracy(rows: list[dict], ok_key: str, n_boot: int, seed: int) -> dict:
    correct = [r[ok_key] for r in rows]
    n = len(correct)
    return {
        "n": n,
        "correct": int(sum(correct)),
        "accuracy": round(sum(correct) / n, 4) if n else None,
        "ci95": list(group_bootstrap(correct, [r["group"] for r in rows], n_boot, seed)),
    }


# ----------------------------------------------------------------------- intent accuracy


def score_intents(rows: list[dict], classify: Callable, n_boot: int = 2000, seed: int = 0) -> dict:
    """Intent accuracy (overall, per intent, side-as-location), confusion and misrouted list."""
    scored = []
    for r in rows:
        p = predict(classify, r["question"])
        scored.append(
            {
                **r,
                "predicted": p["intent"],
                "raw": p["raw"],
                "source": p["source"],
                "finding_ids": p["finding_ids"],
                "about": p["about"],
                "ok": p["intent"] == r["intent"],
                "ok_lenient": LENIENT.get(p["intent"], p["intent"])
                == LENIENT.get(r["intent"], r["intent"]),
            }
        )
    per_intent = {
        i: _accuracy([s for s in scored if s["intent"] == i], "ok", n_boot, seed)
        for i in INTENTS
        if any(s["intent"] == i for s in scored)
    }
    pairs = Counter((s["intent"], s["predicted"]) for s in scored if not s["ok"])
    matrix: dict[str, dict[str, int]] = defaultdict(dict)
    for (gold, pred), k in Counter((s["intent"], s["predicted"]) for s in scored).items():
        matrix[gold][pred] = k
    return {
        "overall": _accuracy(scored, "ok", n_boot, seed),
        "accuracy_side_as_location": _accuracy(scored, "ok_lenient", n_boot, seed),
        "per_intent": per_intent,
        "finding_targets": _finding_targets(scored),
        "target_accuracy": _target_accuracy(scored, n_boot, seed),
        "sources": dict(Counter(str(s["source"]) for s in scored)),
        "confusion": [
            {"gold": g, "predicted": p, "count": k}
            for (g, p), k in sorted(pairs.items(), key=lambda x: (-x[1], x[0]))
        ],
        "confusion_matrix": {g: dict(sorted(v.items())) for g, v in sorted(matrix.items())},
        "misrouted": [
            {k: s[k] for k in ("id", "question", "intent", "predicted", "raw", "source", "group")}
            for s in scored
            if not s["ok"]
        ],
    }


def _target_accuracy(scored: list[dict], n_boot: int, seed: int) -> dict | None:
    """How often the classifier's `about` matches the benchmark's target (only when it reports
    one), overall and per target."""
    if all(s["about"] is None for s in scored):
        return None
    rows = [{**s, "ok_about": s["about"] == s["target"]} for s in scored]
    out = _accuracy(rows, "ok_about", n_boot, seed)
    out["per_target"] = {
        t: _accuracy([r for r in rows if r["target"] == t], "ok_about", n_boot, seed)
        for t in sorted({r["target"] for r in rows})
    }
    out["wrong"] = [
        {k: r[k] for k in ("id", "question", "target", "about")} for r in rows if not r["ok_about"]
    ]
    return out


def _finding_targets(scored: list[dict]) -> dict | None:
    """Of the questions about one finding (target finding:Fk), how many the classifier resolved
    to exactly that finding (only when it reports finding ids)."""
    asked = [s for s in scored if s["target"].startswith("finding:")]
    if not asked or all(s["finding_ids"] is None for s in asked):
        return None
    ok = sum(s["finding_ids"] == [s["target"].split(":", 1)[1]] for s in asked)
    return {"n": len(asked), "correct": ok, "accuracy": round(ok / len(asked), 4)}


# ----------------------------------------------------------------------- consistency


SCAN_FORMATS = {
    # a PNG upload: no modality, no spacing, orientation unknown (the trial)
    "png": {"spacing_mm": None, "patient_left": None, "modality": None, "frame": "image"},
    # a NIfTI MR slice with spacing and a known orientation
    "nifti": {"spacing_mm": [1.0, 1.0], "patient_left": "image_left", "modality": "MR",
              "frame": "patient"},
}  # fmt: skip


def synthetic_evidence(abnormal: bool, fmt: str = "png", second: bool = False):
    """Evidence for a 64 x 80 synthetic slice (an ellipse "brain"), with one bright 8 x 8 px
    square lesion at the image's upper left (F1), or none, in one of `SCAN_FORMATS`. `second`:
    the abnormal slice also has a weaker dark 6 x 6 px lesion at its lower right (F2), so that
    questions about F2 ask about a finding that exists."""
    from assistant.detector.result import DetectionResult
    from assistant.findings import Finding

    h, w = 64, 80
    meta = SCAN_FORMATS[fmt]
    yy, xx = np.mgrid[0:h, 0:w]
    healthy = np.where(
        ((yy - h / 2) / (h * 0.45)) ** 2 + ((xx - w / 2) / (w * 0.45)) ** 2 < 1, 0.5, 0
    )
    healthy = healthy.astype(np.float32)
    image = healthy.copy()
    findings = []

    def square(
        fid: str, top: int, left: int, size: int, delta: float, side: str, ap: str, p: float
    ):
        """A square lesion of `size` px added to the image, and its finding."""
        image[top : top + size, left : left + size] += delta
        area = size * size
        return Finding(
            id=fid,
            area_px=area,
            area_mm2=None if meta["spacing_mm"] is None else float(area),
            bbox=(top, left, top + size, left + size),
            centroid=(top + (size - 1) / 2, left + (size - 1) / 2),
            side=side,
            side_frame=meta["frame"],
            anterior_posterior=ap,
            central_peripheral="peripheral",
            intensity="hyperintense" if delta > 0 else "hypointense",
            intensity_delta=delta,
            peak_anomaly=abs(delta),
            mean_anomaly=abs(delta),
            confidence=p,
        )

    if abnormal:
        findings.append(square("F1", 10, 12, 8, 0.4, "left", "anterior", 0.8))
    if abnormal and second:
        findings.append(square("F2", 44, 58, 6, -0.25, "right", "posterior", 0.55))
    amap = np.abs(image - healthy)
    result = DetectionResult(
        anomaly_map=amap,
        pseudo_healthy=healthy,
        image=np.clip(image, 0, 1),
        foreground=healthy > 0,
        mask=amap > 0.1,
        score=0.9 if abnormal else 0.1,
        score_threshold=0.4,
        pixel_threshold=0.1,
        findings=findings,
        method="thor",
        side_frame=meta["frame"],
    )
    summary = {"format": fmt, "shape": [h, w], "notes": []}
    summary |= {k: meta[k] for k in ("spacing_mm", "patient_left", "modality")}
    return _build_evidence()(result, summary)


def _build_evidence() -> Callable:
    """The project's `build_evidence` (assistant.analysis after the re-layout, else chat)."""
    for name in ("assistant.analysis", "assistant.chat"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "build_evidence"):
            return module.build_evidence
    raise ImportError("no build_evidence in assistant.analysis or assistant.chat")


def reading(answer: str, polarity: str) -> str | None:
    """ "abnormal" / "normal" / None: the answer's yes/no, flipped when yes means normal."""
    yn = yes_no(answer)
    if yn is None:
        return None
    return "abnormal" if (yn == "yes") == (polarity == "positive") else "normal"


def score_consistency(
    rows: list[dict], answer: Callable | None = None, formats: tuple[str, ...] = ("png", "nifti")
) -> dict:
    """Same yes/no (after polarity) across the paraphrases of each presence group, on an
    abnormal and a normal synthetic scan in each of `formats`. `answer(question, evidence)`
    -> text. The headline is over all (group, scan) pairs; `by_format` splits it."""
    if answer is None:
        from assistant.responders.grounded import GroundedResponder

        responder = GroundedResponder(disclaimer=False)
        answer = lambda q, ev: responder.answer(q, ev, [])  # noqa: E731
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["intent"] == "presence" and r["polarity"]:
            groups[r["group"]].append(r)
    pairs: list[dict] = []
    answers: list[dict] = []
    for fmt in formats:
        for truth in ("abnormal", "normal"):
            evidence = synthetic_evidence(truth == "abnormal", fmt, second=True)
            for gid, qs in sorted(groups.items()):
                asked = [
                    {"id": r["id"], "format": fmt, "scan": truth, "question": r["question"],
                     "polarity": r["polarity"], "answer": answer(r["question"], evidence)}
                    for r in qs
                ]  # fmt: skip
                for a in asked:
                    a["reading"] = reading(a["answer"], a["polarity"])
                    a["answer"] = a["answer"].split("\n")[0][:200]
                answers += asked
                pairs.append(_pair(gid, fmt, truth, [a["reading"] for a in asked]))
    return {
        **_consistency_figures(pairs, answers),
        "groups": len(groups),
        "formats": list(formats),
        "by_format": {
            f: _consistency_figures(
                [p for p in pairs if p["format"] == f], [a for a in answers if a["format"] == f]
            )
            for f in formats
        },
        "per_pair": pairs,
        "answers_detail": answers,
    }


def _pair(gid: str, fmt: str, truth: str, reads: list[str | None]) -> dict:
    top, top_n = Counter(reads).most_common(1)[0]
    return {
        "group": gid,
        "format": fmt,
        "scan": truth,
        "n": len(reads),
        "consistent": None not in reads and len(set(reads)) == 1,
        "majority": top,
        "majority_share": round(top_n / len(reads), 4),
        "readings": dict(Counter(map(str, reads))),
    }


def _consistency_figures(pairs: list[dict], answers: list[dict]) -> dict:
    ok = sum(p["consistent"] for p in pairs)
    right = sum(a["reading"] == a["scan"] for a in answers)
    return {
        "consistency": round(ok / len(pairs), 4) if pairs else None,
        "consistent_pairs": ok,
        "pairs": len(pairs),
        "answers": len(answers),
        "no_yes_no": sum(a["reading"] is None for a in answers),
        "correct_readings": right,
        "presence_accuracy": round(right / len(answers), 4) if answers else None,
    }


# ----------------------------------------------------------------------- CLI


def run(
    split: str = "test",
    classifier: str = DEFAULT_CLASSIFIER,
    consistency: bool = False,
    data: str | Path = BENCHMARK,
    n_boot: int = 2000,
    seed: int = 0,
    formats: tuple[str, ...] = ("png", "nifti"),
) -> dict:
    rows = load(data, split)
    if not rows:
        raise SystemExit(f"no questions in split {split!r} of {data}")
    t0 = time.perf_counter()
    out: dict = {
        "benchmark": portable_path(data),
        "split": split,
        "questions": len(rows),
        "groups": len({r["group"] for r in rows}),
        "classifier": classifier,
        "mapping": {
            "project_to_benchmark": PROJECT_TO_BENCH,
            "no_project_intent": NO_PROJECT_INTENT,
        }
        if classifier == DEFAULT_CLASSIFIER
        else None,
        "bootstrap": {"resamples": n_boot, "unit": "paraphrase group", "seed": seed},
        **score_intents(rows, load_classifier(classifier), n_boot, seed),
    }
    overlap = examples_overlap(rows)
    out["in_project_examples"] = {"count": len(overlap), "ids": overlap}
    if consistency:
        out["consistency"] = score_consistency(rows, formats=formats)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def summary_lines(res: dict) -> list[str]:
    o = res["overall"]
    lines = [
        f"{res['questions']} questions ({res['groups']} groups), split {res['split']}, "
        f"classifier {res['classifier']}",
        f"intent accuracy {o['accuracy']:.3f} [{o['ci95'][0]:.3f}, {o['ci95'][1]:.3f}]"
        f"  (side counted as location: {res['accuracy_side_as_location']['accuracy']:.3f})",
    ]
    for intent, a in res["per_intent"].items():
        lines.append(
            f"  {intent:15s} {a['correct']:3d}/{a['n']:<3d} {a['accuracy']:.3f} "
            f"[{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]"
        )
    if res.get("target_accuracy"):
        t = res["target_accuracy"]
        lines.append(
            f"target accuracy {t['accuracy']:.3f} [{t['ci95'][0]:.3f}, {t['ci95'][1]:.3f}]"
        )
    lines.append("top confusions: " + ", ".join(
        f"{c['gold']}->{c['predicted']} {c['count']}" for c in res["confusion"][:8]))  # fmt: skip
    if "consistency" in res:
        c = res["consistency"]
        lines.append(
            f"consistency {c['consistency']:.3f} ({c['consistent_pairs']}/{c['pairs']} group x "
            f"scan pairs); answers without yes/no {c['no_yes_no']}/{c['answers']}; "
            f"presence readings correct {c['correct_readings']}/{c['answers']}"
        )
        for f, b in c["by_format"].items():
            lines.append(f"  {f:6s} consistency {b['consistency']:.3f} "
                         f"({b['consistent_pairs']}/{b['pairs']})")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "test", "all"), default="test")
    ap.add_argument("--json", help="write the full results here")
    ap.add_argument("--classifier", default=DEFAULT_CLASSIFIER, help="MODULE:FUNC")
    ap.add_argument("--consistency", action="store_true", help="ask the grounded responder too")
    ap.add_argument(
        "--scan-formats", default="png,nifti", help="synthetic scans for --consistency: png,nifti"
    )
    ap.add_argument("--data", default=str(BENCHMARK))
    ap.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    formats = tuple(f for f in args.scan_formats.split(",") if f)
    if not set(formats) <= set(SCAN_FORMATS):
        ap.error(f"--scan-formats: choose from {', '.join(SCAN_FORMATS)}")
    res = run(
        args.split, args.classifier, args.consistency, args.data, args.bootstrap, args.seed, formats
    )
    print("\n".join(summary_lines(res)))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {portable_path(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
