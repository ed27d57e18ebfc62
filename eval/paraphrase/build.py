"""Build benchmark.jsonl from the hand-written questions.txt.

    python -m eval.paraphrase.build [--seed 14] [--check]

Ids are stable (`pq-NNNN` in file order). The split is by paraphrase group, never by question:
within each intent, of all ways to divide its groups between dev and test, those with the most
even question counts are kept and one is drawn with the seed, which gives about 50/50 per
intent. `--check` rebuilds in memory and fails if benchmark.jsonl differs (as the tests do).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from eval.paraphrase import BENCHMARK, INTENTS, SOURCE

SEED = 14
TARGET = re.compile(r"^(image|map|pseudo_healthy|cases|none|finding:F\d+)$")
_HEADER = re.compile(r"^\[\s*([\w-]+)\s*\|\s*(\w+)\s*\|\s*([\w:]+)\s*\]$")
_POLARITY = {"+": "positive", "-": "negative"}


def parse(text: str) -> list[dict]:
    """Records (without split) from the source text; raises ValueError on a malformed line."""
    rows: list[dict] = []
    group = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = _HEADER.match(line)
        if head:
            gid, intent, target = head.groups()
            if intent not in INTENTS or not TARGET.match(target):
                raise ValueError(f"line {n}: unknown intent or target in {line!r}")
            if any(r["group"] == gid for r in rows):
                raise ValueError(f"line {n}: group {gid} defined twice")
            group = {"group": gid, "intent": intent, "target": target}
            continue
        if group is None:
            raise ValueError(f"line {n}: question before any [group] header")
        polarity = _POLARITY.get(line[:1]) if line[1:2] == " " else None
        question = line[2:].strip() if polarity else line
        if (polarity is not None) != (group["intent"] == "presence"):
            raise ValueError(f"line {n}: presence questions (and only they) carry +/- polarity")
        rows.append({"question": question, **group, "polarity": polarity})
    for i, row in enumerate(rows, start=1):
        row["id"] = f"pq-{i:04d}"
    return rows


def assign_splits(rows: list[dict], seed: int = SEED) -> dict[str, str]:
    """{group id: "dev" | "test"}: per intent, the split of its groups into two non-empty halves
    whose question counts differ least, chosen at random (seeded) among the equally good ones."""
    rng = random.Random(seed)
    sizes: dict[str, int] = {}
    intent_of: dict[str, str] = {}
    for r in rows:
        sizes[r["group"]] = sizes.get(r["group"], 0) + 1
        intent_of[r["group"]] = r["intent"]
    split_of: dict[str, str] = {}
    for intent in INTENTS:
        groups = sorted(g for g, i in intent_of.items() if i == intent)
        if len(groups) < 2:
            raise ValueError(f"intent {intent} needs at least two groups to appear in both splits")
        total = sum(sizes[g] for g in groups)
        best: list[int] = []
        gap = total
        for mask in range(1, 2 ** len(groups) - 1):  # both splits non-empty
            n_test = sum(sizes[g] for k, g in enumerate(groups) if mask >> k & 1)
            d = abs(total - 2 * n_test)
            if d < gap:
                best, gap = [mask], d
            elif d == gap:
                best.append(mask)
        mask = rng.choice(best)
        for k, g in enumerate(groups):
            split_of[g] = "test" if mask >> k & 1 else "dev"
    return split_of


def build(
    source: str | Path = SOURCE, seed: int = SEED, split_all: str | None = None
) -> list[dict]:
    """The benchmark rows of `source`; `split_all` puts every group in that split (a held-out
    set written later, e.g. "test") instead of the seeded dev/test assignment."""
    rows = parse(Path(source).read_text(encoding="utf-8"))
    if split_all is not None:
        split_of = {r["group"]: split_all for r in rows}
    else:
        split_of = assign_splits(rows, seed)
    keys = ("id", "question", "intent", "target", "group", "polarity", "split")
    return [{k: {**r, "split": split_of[r["group"]]}[k] for k in keys} for r in rows]


def dumps(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", default=str(BENCHMARK))
    ap.add_argument("--check", action="store_true", help="fail if the file is out of date")
    ap.add_argument("--source", default=str(SOURCE), help="the hand-written source file")
    ap.add_argument("--split-all", choices=("dev", "test"), help="every group in this split")
    ap.add_argument("--id-prefix", default="pq", help="question ids: PREFIX-NNNN")
    args = ap.parse_args(argv)
    rows = build(args.source, seed=args.seed, split_all=args.split_all)
    if args.id_prefix != "pq":
        for r in rows:
            r["id"] = r["id"].replace("pq-", f"{args.id_prefix}-", 1)
    text = dumps(rows)
    out = Path(args.out)
    if args.check:
        ok = out.exists() and out.read_text(encoding="utf-8") == text
        print(
            "up to date" if ok else f"{out} is out of date: rerun python -m eval.paraphrase.build"
        )
        return 0 if ok else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} questions to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
