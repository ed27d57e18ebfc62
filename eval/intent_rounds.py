"""Side-by-side figures of several `eval.intent_bench --consistency` runs on the same question
sets (one folder of `SET.json` files per system), with totals over the sets.

    python -m eval.intent_rounds --run before=runs/base --run after=runs/d \
        --sets blind19 blind20 --json eval/results/intent_rounds.json

Per system and set: intent accuracy (correct / n), consistent (group, scan) pairs, presence
readings right and presence answers without a yes/no; then the same summed over the sets. Only
figures are written, never a question or an error list (the sets may be held out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def figures(result: dict) -> dict:
    c = result["consistency"]
    return {
        "intent_correct": result["overall"]["correct"],
        "questions": result["overall"]["n"],
        "consistent_pairs": c["consistent_pairs"],
        "pairs": c["pairs"],
        "correct_readings": c["correct_readings"],
        "answers": c["answers"],
        "no_yes_no": c["no_yes_no"],
    }


def summarise(runs: dict[str, Path], sets: list[str]) -> dict:
    out: dict = {"sets": sets, "systems": {}}
    for name, folder in runs.items():
        per = {s: figures(json.loads((folder / f"{s}.json").read_text())) for s in sets}
        total = {k: sum(p[k] for p in per.values()) for k in next(iter(per.values()))}
        total |= {
            "intent_accuracy": round(total["intent_correct"] / total["questions"], 4),
            "consistency": round(total["consistent_pairs"] / total["pairs"], 4),
            "presence_accuracy": round(total["correct_readings"] / total["answers"], 4),
        }
        out["systems"][name] = {"folder": str(folder), "per_set": per, "total": total}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", required=True, help="NAME=FOLDER (repeatable)")
    ap.add_argument("--sets", nargs="+", required=True)
    ap.add_argument("--json", required=True)
    args = ap.parse_args(argv)
    runs = {}
    for spec in args.run:
        name, _, folder = spec.partition("=")
        if not folder:
            ap.error(f"--run wants NAME=FOLDER, got {spec!r}")
        runs[name] = Path(folder)
    res = summarise(runs, args.sets)
    Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    for name, sysres in res["systems"].items():
        t = sysres["total"]
        print(
            f"{name}: intent {t['intent_correct']}/{t['questions']} ({t['intent_accuracy']}), "
            f"consistent pairs {t['consistent_pairs']}/{t['pairs']} ({t['consistency']}), "
            f"readings {t['correct_readings']}/{t['answers']}, no yes/no {t['no_yes_no']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
