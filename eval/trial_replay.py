"""Replay a radiologist's trial: the questions of `eval/trial/questions_*.txt` asked of their
scans through `Assistant` (shipped detector, grounded responder, retrieval), each answer written
as one JSON line; `--compare OLD.jsonl` prints the answers that changed.

    python -m eval.trial_replay --questions eval/trial/questions_2026-12-04.txt \
        --data ../shared/data --out runs/trial_now.jsonl [--compare runs/trial_before.jsonl]

A question file has one question per line: scan key, conversation id ("-" = standalone; lines
with the same id are one conversation, asked in order with its history) and the question,
separated by tabs. Scan keys: `png_lesion`, `png_normal` (the app's examples), `ixi` (a healthy
val volume of `DATA/ixi-hh-t1-2mm`), `ms` and `ms_anyway` (an MSLUB patient's T1 of
`DATA/mslub-mni`, the second analysed with "analyse anyway"). Answers are deterministic.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "assistant" / "examples"


def scan_path(key: str, data: Path) -> tuple[Path, bool]:
    """The file and the "analyse anyway" flag of a scan key: one of `scans`, an example's file
    name, an IXI volume's file name (`ixi-hh-t1-2mm/*/`), `chest_xray_NAME` (`ood/cxr-kermany/`),
    `mslub_PATIENT` (`mslub-mni/PATIENT/T1.nii.gz`), `midaxial_NAME` (`ixi-t1-midaxial/*/NAME`);
    a key ending in "(anyway)" is analysed anyway."""
    key = key.strip()
    anyway = key.endswith("(anyway)")
    key = key.removesuffix("(anyway)").strip()  # "mslub_patient19 (anyway)" too
    fixed = scans(data)
    if key in fixed:
        path, flag = fixed[key]
        return path, flag or anyway
    if (EXAMPLES / key).exists():
        return EXAMPLES / key, anyway
    if key.startswith("mslub_"):  # "mslub_patient07": that MSLUB patient's T1
        return data / "mslub-mni" / key.removeprefix("mslub_") / "T1.nii.gz", anyway
    if key.startswith("chest_xray_"):
        return data / "ood" / "cxr-kermany" / key.removeprefix("chest_xray_"), anyway
    if key.startswith("midaxial_"):  # "midaxial_sub-IXI...png": a healthy mid-axial slice
        found = sorted((data / "ixi-t1-midaxial").glob(f"*/{key.removeprefix('midaxial_')}"))
        if found:
            return found[0], anyway
    found = sorted((data / "ixi-hh-t1-2mm").glob(f"*/{key}"))
    if found:
        return found[0], anyway
    raise SystemExit(f"unknown scan key {key!r}")


def scans(data: Path) -> dict[str, tuple[Path, bool]]:
    ms = data / "mslub-mni" / "patient26" / "T1.nii.gz"
    return {
        "png_lesion": (EXAMPLES / "mni_left_hyperintense.png", False),
        "png_normal": (EXAMPLES / "mni_normal.png", False),
        "ixi": (data / "ixi-hh-t1-2mm" / "val" / "IXI033-HH-1259_T1.nii.gz", False),
        "ms": (ms, False),
        "ms_anyway": (ms, True),
    }


def read_questions(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        scan, conv, question = line.split("\t")
        rows.append((scan, conv, question))
    return rows


def replay(rows, data: Path, out: Path, detector: str | None = None) -> list[dict]:
    from assistant.chat import Assistant
    from assistant.evidence import Message
    from assistant.scan import load_scan

    if detector is None:
        bot = Assistant()
    else:
        from assistant.detector import Detector

        bot = Assistant(detector=Detector.from_pretrained(detector))
    states: dict = {}
    history: dict = {}
    records = []
    for scan, conv, question in rows:
        if scan not in states:
            path, anyway = scan_path(scan, data)
            states[scan] = bot.analyze(load_scan(path), anyway=anyway)
        turns = history.setdefault((scan, conv), []) if conv != "-" else []
        answer = bot.answer(states[scan], question, history=list(turns))
        if conv != "-":
            turns += [Message("user", question), Message("assistant", answer.text)]
        records.append(
            {
                "scan": scan,
                "conv": conv,
                "question": question,
                "answer": answer.text,
                "intent": answer.intent,
            }  # fmt: skip
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def changed(old: list[dict], new: list[dict]) -> list[str]:
    """The answers of `new` that differ from `old`'s answer to the same question (same scan,
    conversation and question; the n-th asking when a question repeats), numbered as in `new`."""
    seen: dict = {}
    before = {}
    for r in old:
        key = (r["scan"], r["conv"], r["question"])
        seen[key] = seen.get(key, 0) + 1
        before[(*key, seen[key])] = r
    seen = {}
    lines = []
    for i, b in enumerate(new, start=1):
        key = (b["scan"], b["conv"], b["question"])
        seen[key] = seen.get(key, 0) + 1
        a = before.get((*key, seen[key]))
        if a is not None and a["answer"] != b["answer"]:
            lines.append(f"#{i} [{a['scan']}] {a['question']}\n  before: {a['answer'][:300]}\n"
                         f"  now:    {b['answer'][:300]}\n")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", required=True, type=Path)
    ap.add_argument(
        "--data", required=True, type=Path, help="folder holding ixi-hh-t1-2mm, mslub-mni"
    )
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--compare", type=Path, default=None, help="an earlier replay's JSONL")
    ap.add_argument(
        "--detector",
        default=None,
        help="detector checkpoint folder (default: the shipped one; e.g. "
        "assistant/weights/ixi-t1-wholebrain-128)",
    )
    args = ap.parse_args(argv)
    records = replay(read_questions(args.questions), args.data, args.out, args.detector)
    print(f"{len(records)} answers -> {args.out}")
    if args.compare is not None:
        old = [json.loads(x) for x in args.compare.read_text().splitlines() if x.strip()]
        diff = changed(old, records)
        print(f"{len(diff)} answers changed")
        print("\n".join(diff))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
