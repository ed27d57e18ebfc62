"""Benchmark the transformers responder on CPU: load time, time to first token, tokens/s.

Tiny random Gemma3 models (MedGemma's class, built by `assistant.responders.testing.tiny_vlm`)
answer a real prompt (system + evidence block + question + slice + overlay) through the same
code path as a real checkpoint, unquantized, 4-bit NF4 (bf16 and float32 compute) and 8-bit.
Random weights with special tokens suppressed always write `max_new_tokens` tokens, so the
numbers measure speed only. Real models are far larger: these figures bound overheads and show
the relative cost of the quantized kernels on this CPU, not MedGemma's speed.

    python -m eval.bench_responders --out eval/results/bench_responders.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from assistant.evidence import Evidence, EvidenceItem
from assistant.responders.testing import tiny_vlm
from assistant.responders.transformers_vlm import TransformersResponder

logger = logging.getLogger("bench_responders")

SIZES = {  # name: (hidden_size, num_layers, extra vocabulary words)
    "tiny": (64, 2, 0),
    "small": (512, 4, 8000),
}
MODES = {  # name: (quantization, dtype)
    "none-fp32": ("none", torch.float32),
    "4bit-bf16": ("4bit", torch.bfloat16),
    "4bit-fp32": ("4bit", torch.float32),
    "8bit-fp16": ("8bit", torch.float16),
}


def bench_evidence() -> Evidence:
    rng = np.random.default_rng(0)
    return Evidence(
        items=[
            EvidenceItem(
                "F1",
                "finding",
                "F1",
                0.8,
                dict(
                    side="left",
                    intensity="hyperintense",
                    confidence=0.8,
                    area_mm2=40.0,
                    anterior_posterior="posterior",
                    central_peripheral="peripheral",
                ),
            ),
            EvidenceItem("C1", "case", "T2 hyperintense lesion in the left frontal lobe.", 0.7),
        ],
        detector_summary=dict(score=0.5, score_threshold=0.3, is_abnormal=True, method="thor"),
        scan_summary=dict(modality="MR", format="png", shape=(128, 128)),
        image=rng.random((128, 128), dtype=np.float32),
        overlay=rng.integers(0, 256, (128, 128, 3), dtype=np.uint8),
    )


def run_once(responder: TransformersResponder, evidence: Evidence) -> dict[str, float]:
    """Time one streamed answer: first chunk and the whole answer (seconds), tokens/s."""
    tokenizer = responder.vlm.processor.tokenizer
    start = time.perf_counter()
    first = None
    chunks = []
    for chunk in responder.stream("Where is the lesion and how big is it?", evidence, []):
        first = first or time.perf_counter()
        chunks.append(chunk)
    end = time.perf_counter()
    n_tokens = len(tokenizer("".join(chunks), add_special_tokens=False)["input_ids"])
    return {
        "ttft_s": first - start,
        "total_s": end - start,
        "new_tokens": n_tokens,
        "decode_tokens_per_s": (n_tokens - 1) / max(end - first, 1e-9),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("eval/results/bench_responders.json"))
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: tiny,small")
    parser.add_argument("--modes", default=",".join(MODES), help=f"from {list(MODES)}")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice). On a busy machine "
        "2 threads stalled tiny fp32 matmuls to 15-220 tok/s vs 290 with 1",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    evidence = bench_evidence()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # The first model of a process pays one-off costs (thread pools, allocator); measured
        # 25-45 tok/s instead of ~180 for whichever mode ran first. Pay them before timing.
        warm = tiny_vlm(Path(tmp) / "warm", "gemma3")
        for _ in range(2):
            run_once(
                TransformersResponder(str(warm.path), device="cpu", max_new_tokens=16), evidence
            )
        for size in args.sizes.split(","):
            hidden, layers, words = SIZES[size]
            tiny = tiny_vlm(Path(tmp) / size, "gemma3", hidden, layers, vocab_words=words)
            n_params = sum(f.stat().st_size for f in tiny.path.glob("*.safetensors")) // 4
            for mode in args.modes.split(","):
                quantization, dtype = MODES[mode]
                start = time.perf_counter()
                responder = TransformersResponder(
                    str(tiny.path),
                    quantization=quantization,
                    device="cpu",
                    dtype=dtype,
                    max_new_tokens=args.max_new_tokens,
                )
                load_s = time.perf_counter() - start
                for _ in range(2):  # warm-up: kernel loading, oneDNN primitives per shape
                    run_once(responder, evidence)
                runs = [run_once(responder, evidence) for _ in range(args.repeats)]
                row = {
                    "size": size,
                    "hidden_size": hidden,
                    "layers": layers,
                    "params_approx": n_params,
                    "vocab": tiny.vocab_size,
                    "mode": mode,
                    "load_s": round(load_s, 3),
                }
                for key in ("ttft_s", "total_s", "decode_tokens_per_s"):
                    row[key] = round(statistics.median(r[key] for r in runs), 4)
                row["new_tokens"] = runs[0]["new_tokens"]
                logger.info("%s", row)
                results.append(row)
    report = {
        "benchmark": "transformers responder on CPU, tiny random Gemma3 (MedGemma's class)",
        "max_new_tokens": args.max_new_tokens,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
