"""Train the learned intent reader: logistic regression on all-MiniLM-L6-v2 sentence embeddings
of the labelled paraphrase questions (their intent, and for yes/no presence questions whether
"yes" means normal).

    python -m eval.paraphrase.train_intent_classifier \
        [--out assistant/responders/intents/intent_classifier.npz] [--C 10] [--exclude blind15 blind17 blind18]

Every benchmark file in this folder (`benchmark*.jsonl`) whose name does not contain an
`--exclude` word is training data (by default all but `blind15`, `blind17` and `blind18`, the newest
held-out sets, which stay test sets). Questions are embedded as the resolver sees them
(`text.normalise`, then `text.strip_modality`), with unit-length embeddings; labels are the
benchmark's intents mapped to the project's (`cause` -> `explanation`, `comparison` ->
`similar_cases`). The output holds the weights, biases and class names
(`assistant.responders.intents.learned` reads them with numpy only) and what it was trained on.
scikit-learn (a dependency of sentence-transformers) is needed only here.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from eval.paraphrase import HERE

BENCH_TO_PROJECT = {"cause": "explanation", "comparison": "similar_cases"}


def training_rows(exclude: list[str]) -> tuple[list[dict], list[str]]:
    files = sorted(
        p for p in HERE.glob("benchmark*.jsonl") if not any(x in p.name for x in exclude)
    )
    rows = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows, [p.name for p in files]


def train(rows: list[dict], C: float = 10.0) -> dict:
    from sklearn.linear_model import LogisticRegression

    from assistant.responders.intents.learned import embed

    X = embed([r["question"] for r in rows])
    y = np.array([BENCH_TO_PROJECT.get(r["intent"], r["intent"]) for r in rows])
    clf = LogisticRegression(max_iter=5000, C=C).fit(X, y)
    # polarity of the yes/no presence questions: does "yes" mean normal?
    yes_no = np.array([r["intent"] == "presence" and bool(r.get("polarity")) for r in rows])
    normal = np.array([r.get("polarity") == "negative" for r in rows])[yes_no]
    pol = LogisticRegression(max_iter=5000, C=C).fit(X[yes_no], normal)
    return {
        "weights": clf.coef_.astype(np.float32),
        "bias": clf.intercept_.astype(np.float32),
        "classes": np.array(clf.classes_, dtype=str),
        "train_accuracy": np.float32((clf.predict(X) == y).mean()),
        "polarity_weights": pol.coef_[0].astype(np.float32),
        "polarity_bias": np.float32(pol.intercept_[0]),
        "polarity_train_accuracy": np.float32((pol.predict(X[yes_no]) == normal).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="assistant/responders/intents/intent_classifier.npz")
    ap.add_argument("--C", type=float, default=10.0, help="inverse L2 regularisation strength")
    ap.add_argument(
        "--exclude",
        nargs="*",
        default=["blind15", "blind17", "blind18"],
        help="benchmark files left out",
    )
    args = ap.parse_args(argv)
    rows, files = training_rows(args.exclude)
    model = train(rows, args.C)
    meta = {"files": files, "n_questions": len(rows), "C": args.C, "exclude": args.exclude}
    np.savez(args.out, **model, meta=np.array(json.dumps(meta)))
    print(f"{args.out}: {len(rows)} questions from {len(files)} files, classes "
          f"{', '.join(model['classes'])}; training accuracy {float(model['train_accuracy']):.3f}, "
          f"polarity {float(model['polarity_train_accuracy']):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
