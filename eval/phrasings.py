"""The anomaly-QA presence and side questions asked in every phrasing of the paraphrase benchmark.

`python -m eval.phrasings --benchmark runs/anomaly_qa_val/anomaly_qa.json --out
runs/anomaly_qa_val/phrasings.json` reads an anomaly-QA benchmark (`python -m eval.anomaly_qa`:
per image, a presence question and, for images with a lesion, the lesion's side on the image)
and writes a benchmark in the same format in which every image is asked

- every presence phrasing of `eval/paraphrase/benchmark.jsonl` that has a yes/no polarity (the
  expected answer flipped when "yes" means normal: "Is this a normal brain?");
- for images with a lesion, every side phrasing: a choice ("Left or right?") expects the image
  side; a yes/no question about one side of the image ("Is it right-sided?") expects yes or no.
  Yes/no questions about the patient's side are left out: a PNG records no orientation, so the
  right answer to them is "unknown", which this closed scoring cannot hold.

Each question's `question_subtype` names the paraphrase split ("presence_dev", "side_test", ...)
so that `python -m eval.qa --benchmark OUT --format vqa-rad --images DIR --out RUN` reports
presence and side per split (`by_subtype`), beside the overall `by_type` figures (PRES, POS).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import defaultdict
from pathlib import Path

from eval.paraphrase import load as load_paraphrases

log = logging.getLogger(__name__)
DEFAULT_PARAPHRASES = Path(__file__).resolve().parent / "paraphrase" / "benchmark.jsonl"


def _truths(items: list[dict]) -> dict[str, dict]:
    """image name -> {"abnormal": bool, "side": "left"/"right"/None, "lesion_size": ...}."""
    out: dict[str, dict] = defaultdict(lambda: {"abnormal": None, "side": None})
    for it in items:
        t = out[it["image_name"]]
        t.setdefault("image_organ", it.get("image_organ", "HEAD"))
        t["lesion_size"] = it.get("lesion_size")
        sub, answer = it.get("question_subtype"), str(it["answer"]).lower()
        if sub == "presence":
            t["abnormal"] = answer == "yes"
        elif sub == "presence_negated":
            t["abnormal"] = answer == "no"
        elif sub == "side":
            t["side"] = answer
    return {k: v for k, v in out.items() if v["abnormal"] is not None}


def side_expectation(question: str, truth_side: str) -> str | None:
    """The expected closed answer to a side phrasing about a lesion on the image `truth_side`,
    or None when this scoring cannot hold the right answer (a yes/no question about the
    patient's side, or one naming no side)."""
    from assistant.responders.intents.parse import side_question

    ask = side_question(question)
    if ask.choice:
        return truth_side
    if ask.frame == "patient" or len(ask.sides) != 1:
        return None
    return "yes" if ask.sides[0] == truth_side else "no"


def expand(items: list[dict], paraphrases: list[dict]) -> tuple[list[dict], dict]:
    """(the expanded benchmark, counts of what was asked and left out)."""
    truths = _truths(items)
    presence = [p for p in paraphrases if p["intent"] == "presence" and p.get("polarity")]
    sides = [p for p in paraphrases if p["intent"] == "side"]
    out: list[dict] = []
    skipped = 0
    for image, t in sorted(truths.items()):
        stem = Path(image).stem
        base = {
            "image_name": image,
            "image_organ": t.get("image_organ", "HEAD"),
            "answer_type": "CLOSED",
            "lesion_size": t.get("lesion_size") or "none",
            "phrase_type": "paraphrase",
            "evaluation": "given",
        }
        for p in presence:
            yes = t["abnormal"] == (p["polarity"] == "positive")
            out.append(
                base
                | {
                    "qid": f"{stem}-{p['id']}",
                    "question": p["question"],
                    "answer": "yes" if yes else "no",
                    "question_type": "PRES",
                    "question_subtype": f"presence_{p['split']}",
                }
            )
        if not (t["abnormal"] and t["side"] in ("left", "right")):
            continue
        for p in sides:
            expected = side_expectation(p["question"], t["side"])
            if expected is None:
                skipped += 1
                continue
            out.append(
                base
                | {
                    "qid": f"{stem}-{p['id']}",
                    "question": p["question"],
                    "answer": expected,
                    "question_type": "POS",
                    "question_subtype": f"side_{p['split']}",
                }
            )
    counts = {
        "images": len(truths),
        "abnormal_images_with_side": sum(1 for t in truths.values() if t["abnormal"] and t["side"]),
        "presence_phrasings": len(presence),
        "side_phrasings": len(sides),
        "questions": len(out),
        "side_questions_left_out": skipped,
    }
    return out, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", required=True, help="anomaly-QA benchmark (JSON)")
    parser.add_argument("--paraphrases", default=str(DEFAULT_PARAPHRASES))
    parser.add_argument("--out", required=True, help="the expanded benchmark (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    items = json.loads(Path(args.benchmark).read_text())
    rows = load_paraphrases(args.paraphrases, None)
    out, counts = expand(items, rows)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    log.info("wrote %s: %s", args.out, counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
