"""The command line of `python -m eval.qa` (see `eval.qa` for what a run does and writes)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from assistant.responders.registry import QUANTIZATIONS, RESPONDERS
from eval.qa.config import QARunConfig
from eval.qa.formats import FORMATS
from eval.qa.report import HEADLINE, comparison_table
from eval.qa.run import run_ablations, run_qa


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
    p.add_argument("--quantization", choices=QUANTIZATIONS, default=None)
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
        "--no-domain-check",
        action="store_true",
        help="analyse every image even when the applicability check refuses it (e.g. phantoms, "
        "or a detector trained on another domain)",
    )
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


def config_from_args(args: argparse.Namespace) -> QARunConfig:
    return QARunConfig(
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
        no_domain_check=args.no_domain_check,
        detector=args.detector,
        method=args.method,
        preset=args.preset,
        batch_size=args.batch_size,
        n_boot=args.n_boot,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = config_from_args(args)
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
