"""Train the learned intent reader: logistic regression on the word 1-3-gram TF-IDF and the
all-MiniLM-L6-v2 sentence embedding of the labelled paraphrase questions (their intent, and for
yes/no presence questions whether "yes" means normal).

    python -m eval.paraphrase.train_intent_classifier \
        [--out assistant/responders/intents/intent_classifier.npz] [--C 30] \
        [--exclude blind19 blind20 blind21 blind22 blind23]

Every benchmark file in this folder (`benchmark*.jsonl`) whose name does not contain an
`--exclude` word is training data (by default all but `blind19` to `blind23`, the newest
held-out sets, which stay test sets). Questions are read as the
resolver sees them (`text.normalise`, then `text.strip_modality`): the n-gram vocabulary (n-grams
in at least two questions) and idf are fitted on them and stored, and the sentence embeddings
are unit-length; labels are the
benchmark's intents mapped to the project's (`cause` -> `explanation`, `comparison` ->
`similar_cases`). The output holds the vocabulary, idf, weights, biases and class names (read by
`assistant.responders.intents.learned`) and what it was trained on.
scikit-learn is a dependency of sentence-transformers; at run time only its `TfidfVectorizer`
is used, rebuilt from the stored vocabulary and idf.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from eval.paraphrase import HERE

BENCH_TO_PROJECT = {"cause": "explanation", "comparison": "similar_cases"}


def training_rows(
    exclude: list[str], only: list[str] | None = None
) -> tuple[list[dict], list[str]]:
    """The labelled questions of every benchmark file whose name holds no `exclude` word (or of
    exactly the files named in `only`, e.g. a shipped model's `meta["files"]`)."""
    files = sorted(
        p
        for p in HERE.glob("benchmark*.jsonl")
        if (p.name in only if only is not None else not any(x in p.name for x in exclude))
    )
    rows = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) | {"_file": path.name} for line in f if line.strip()]
    return rows, [p.name for p in files]


def train(rows: list[dict], C: float = 30.0) -> dict:
    from sklearn.linear_model import LogisticRegression

    from assistant.responders.intents.learned import features, reader_text, word_vectorizer

    questions = [r["question"] for r in rows]
    vectorizer = word_vectorizer().fit([reader_text(q) for q in questions])
    X = features(questions, vectorizer)
    y = np.array([BENCH_TO_PROJECT.get(r["intent"], r["intent"]) for r in rows])
    clf = LogisticRegression(max_iter=5000, C=C).fit(X, y)
    # polarity of the yes/no presence questions: does "yes" mean normal?
    yes_no = np.array([r["intent"] == "presence" and bool(r.get("polarity")) for r in rows])
    normal = np.array([r.get("polarity") == "negative" for r in rows])[yes_no]
    pol = LogisticRegression(max_iter=5000, C=C).fit(X[yes_no], normal)
    return {
        "vocabulary": vectorizer.get_feature_names_out().astype(str),
        "idf": vectorizer.idf_.astype(np.float32),
        "weights": clf.coef_.astype(np.float16),  # half precision: a third of a megabyte
        "bias": clf.intercept_.astype(np.float32),
        "classes": np.array(clf.classes_, dtype=str),
        "train_accuracy": np.float32((clf.predict(X) == y).mean()),
        "polarity_weights": pol.coef_[0].astype(np.float16),
        "polarity_bias": np.float32(pol.intercept_[0]),
        "polarity_train_accuracy": np.float32((pol.predict(X[yes_no]) == normal).mean()),
    }


def cross_validate(rows: list[dict], C: float) -> dict:
    """Leave one question set (benchmark file) out at a time: accuracy of the intent and of the
    yes/no polarity on the set left out, for the sentence embedding alone and for both views."""
    from sklearn.linear_model import LogisticRegression

    from assistant.responders.intents.learned import embed, features, reader_text, word_vectorizer

    questions = [r["question"] for r in rows]
    sets = np.array([r["_file"] for r in rows])
    y = np.array([BENCH_TO_PROJECT.get(r["intent"], r["intent"]) for r in rows])
    yes_no = np.array([r["intent"] == "presence" and bool(r.get("polarity")) for r in rows])
    normal = np.array([r.get("polarity") == "negative" for r in rows])
    emb = embed(questions)  # once: only the n-gram vocabulary depends on the fold
    texts = [reader_text(q) for q in questions]
    out: dict = {"C": C, "per_set": {}}
    right = {v: {"intent": 0, "polarity": 0} for v in ("embedding", "embedding+words")}
    for name in sorted(set(sets)):
        train_, test = sets != name, sets == name
        vec = word_vectorizer().fit([t for t, keep in zip(texts, train_, strict=True) if keep])
        views = {"embedding": emb, "embedding+words": features(questions, vec, emb)}
        per = {"intent_n": int(test.sum()), "polarity_n": int((test & yes_no).sum())}
        for view, X in views.items():
            clf = LogisticRegression(max_iter=5000, C=C).fit(X[train_], y[train_])
            ok_i = int((clf.predict(X[test]) == y[test]).sum())
            tr_p, te_p = train_ & yes_no, test & yes_no
            pol = LogisticRegression(max_iter=5000, C=C).fit(X[tr_p], normal[tr_p])
            ok_p = int((pol.predict(X[te_p]) == normal[te_p]).sum())
            per[view] = {"intent": round(ok_i / test.sum(), 4),
                         "polarity": round(ok_p / max(te_p.sum(), 1), 4)}  # fmt: skip
            right[view]["intent"] += ok_i
            right[view]["polarity"] += ok_p
        out["per_set"][name] = per
    n_i, n_p = len(rows), int(yes_no.sum())
    out["overall"] = {
        view: {"intent": round(r["intent"] / n_i, 4), "polarity": round(r["polarity"] / n_p, 4)}
        for view, r in right.items()
    }
    out["n_questions"], out["n_yes_no"] = n_i, n_p
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="assistant/responders/intents/intent_classifier.npz")
    ap.add_argument("--C", type=float, default=30.0, help="inverse L2 regularisation strength")
    ap.add_argument(
        "--exclude",
        nargs="*",
        default=["blind19", "blind20", "blind21", "blind22", "blind23"],
        help="benchmark files left out",
    )
    ap.add_argument(
        "--cv", action="store_true", help="leave-one-file-out accuracy instead of training"
    )
    ap.add_argument("--json", help="with --cv: write the figures here")
    args = ap.parse_args(argv)
    rows, files = training_rows(args.exclude)
    if args.cv:
        res = cross_validate(rows, args.C) | {"files": files, "exclude": args.exclude}
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(res, f, indent=1)
        for view, r in res["overall"].items():
            print(f"{view:16s} intent {r['intent']:.3f}  polarity {r['polarity']:.3f}")
        return 0
    model = train(rows, args.C)
    meta = {"files": files, "n_questions": len(rows), "C": args.C, "exclude": args.exclude}
    np.savez_compressed(args.out, **model, meta=np.array(json.dumps(meta)))
    print(f"{args.out}: {len(rows)} questions from {len(files)} files, classes "
          f"{', '.join(model['classes'])}; training accuracy {float(model['train_accuracy']):.3f}, "
          f"polarity {float(model['polarity_train_accuracy']):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
