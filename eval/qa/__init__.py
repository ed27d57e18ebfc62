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
n}}, bootstrap 95% intervals, the ablation flags), ``scored.jsonl`` (each answer with its reference
and whether it was scored correct) and ``report.md``. When sibling folders of
``--out`` hold runs of the same benchmark and responder with other ablation flags, the report and
``metrics.json`` ("comparison") compare them.

The modules, in the order a run uses them:

- `config`: `QARunConfig`, one run's settings (and the ablation variants);
- `formats`: benchmark loaders (VQA-RAD, SLAKE, PathVQA, JSONL) into `QAItem`s;
- `predictions`: the resumable ``predictions.jsonl`` (`Prediction`, `PredictionLog`);
- `answering`: analyse each image once and ask its questions (one by one or batched);
- `metrics`: answer normalisation, per-question scores, aggregates and ``metrics.json``;
- `report`: ``report.md``, comparison tables between variants;
- `run`: `build_assistant`, `run_qa` and `run_ablations`, which tie the above together;
- `cli` (and ``__main__``): the command line.
"""
