"""Benchmark the assistant on CPU: analysis time, grounded time to first token and whole answer,
and process memory.

A synthetic-lesion slice (the nilearn MNI152 template's mid-axial slice, the same view as the
IXI slices, with a lesion painted by `assistant.synth`) is analysed by the detector (default:
the shipped checkpoint; `--detector DIR` another; a tiny random one when none is available,
which the JSON says) and the retrieval (default library; `--no-retrieval` to skip), then the
grounded responder answers a fixed list of questions several times.

    python -m eval.bench_assistant --out eval/results/bench_assistant.json

Keys: `analysis_cold_s` (first analysis, including loading the detector and the library),
`analysis_warm_s` (median over fresh scans once loaded), `analysis_cached_s` (same scan again),
`grounded.first_token_s` / `grounded.total_s` (p50 / p95 / max over questions x repeats, after
analysis), `intent_model_load_s` (first question that needs the sentence-embedding model),
`rss_mb` (resident memory at each stage) and `peak_rss_mb`.
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

logger = logging.getLogger("bench_assistant")

QUESTIONS = [
    "Is there an abnormality?",
    "Is this a normal brain?",
    "Which side is the lesion on?",
    "How big is it?",
    "How many lesions are there?",
    "Is it hyperintense or hypointense?",
    "What does the heatmap show?",
    "What would it look like if it were healthy?",
    "Are there similar cases?",
    "What could this be?",
    "Write a report.",
    "Should I stop my medication?",
]
EMBEDDING_QUESTION = "Does anything look off to you?"  # no keyword rule: needs the model


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def synthetic_scans(n: int, seed: int = 0):
    """`n` Scans: the MNI152 mid-axial slice (1 mm) with one synthetic lesion each."""
    from nilearn.datasets import load_mni152_template

    from assistant.scan import Scan
    from assistant.synth import brain_mask_for, synthesize_lesion

    template = load_mni152_template(resolution=1).get_fdata()
    img = template[:, :, 95].T[::-1].astype(np.float32)  # the IXI view (197 x 233)
    img01 = (img - img.min()) / max(float(img.max() - img.min()), 1e-6)
    brain = brain_mask_for(img01)
    rng = np.random.default_rng(seed)
    scans = []
    for _ in range(n):
        lesion = synthesize_lesion(img01, brain, rng, kind="hyperintense", size_bin="medium")
        scans.append(
            Scan(
                pixels=lesion.image.astype(np.float32),
                spacing=(1.0, 1.0),
                patient_left="image_left",
                modality="MR",
                format="nifti",
            )
        )
    return scans


def load_detector(path: str | None, tmp: Path):
    """(detector or None, description)."""
    from assistant.detector import Detector

    if path:
        return Detector.from_pretrained(path), f"checkpoint {path}"
    try:
        return Detector.from_pretrained(), "default shipped checkpoint"
    except Exception as exc:  # noqa: BLE001 - reported in the JSON
        logger.warning("no default detector (%s); using a tiny random one", exc)
    from assistant.detector.testing import tiny_detector

    return tiny_detector(tmp / "tiny"), "tiny random detector (no default checkpoint)"


def pct(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "p50": round(statistics.median(v), 5),
        "p95": round(v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))], 5),
        "max": round(v[-1], 5),
        "n": len(v),
    }


def _load_library(args: argparse.Namespace, out: dict):
    """The default retrieval library (None when --no-retrieval or unavailable); records its
    load time and the retrieval setting in `out`."""
    index, retrieval = None, "off"
    if not args.no_retrieval:
        try:
            from retrieval.library import default_library

            t0 = time.perf_counter()
            index = default_library(build=args.build_library, progress=False)
            out["library_load_s"] = round(time.perf_counter() - t0, 3)
            retrieval = "default library"
        except Exception as exc:  # noqa: BLE001 - reported in the JSON
            retrieval = f"off (default library unavailable: {type(exc).__name__}: {exc})"
            logger.warning("retrieval off: %s", exc)
    out["retrieval"] = retrieval
    return index


def _time_analysis(bot, scans: list, out: dict):
    """Cold, warm and cached `analyze` timings into `out`; the state of the first scan."""
    t0 = time.perf_counter()
    state = bot.analyze(scans[0])
    out["analysis_cold_s"] = round(time.perf_counter() - t0, 3)
    out["analysis_stages_s"] = {k: round(v, 4) for k, v in state.timings.items()}
    warm = []
    for scan in scans[1:]:
        t0 = time.perf_counter()
        bot.analyze(scan)
        warm.append(time.perf_counter() - t0)
    out["analysis_warm_s"] = pct(warm) if warm else None
    t0 = time.perf_counter()
    bot.analyze(scans[0])
    out["analysis_cached_s"] = round(time.perf_counter() - t0, 6)
    out["findings"] = len(state.evidence.by_kind("finding"))
    out["evidence_ids"] = sorted(state.evidence.ids())
    return state


def _timed_ask(bot, state, question: str):
    """(seconds to the first text chunk, seconds in all, the final answer) of one question."""
    t0 = time.perf_counter()
    first = None
    answer = None
    for part in bot.ask(state, question):
        if isinstance(part, str):
            first = first or time.perf_counter()
        else:
            answer = part
    end = time.perf_counter()
    return (first or end) - t0, end - t0, answer


def _time_questions(bot, state, repeats: int, out: dict) -> None:
    """Grounded answer timings (first token, total) and each question's intent into `out`."""
    _, total, _ = _timed_ask(bot, state, EMBEDDING_QUESTION)
    out["intent_model_load_s"] = round(total, 3)
    firsts, totals, intents = [], [], {}
    for _ in range(repeats):
        for q in QUESTIONS + [EMBEDDING_QUESTION]:
            f, t, answer = _timed_ask(bot, state, q)
            firsts.append(f)
            totals.append(t)
            intents[q] = answer.intent
    out["grounded"] = {"first_token_s": pct(firsts), "total_s": pct(totals)}
    out["intents"] = intents


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from assistant.chat import Assistant
    from assistant.responders.grounded import GroundedResponder

    torch.set_num_threads(max(1, args.threads))
    out: dict = {"rss_mb": {"start": round(rss_mb(), 1)}}
    scans = synthetic_scans(1 + args.warm_scans)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        detector, det_desc = load_detector(args.detector, Path(tmp))
        out["detector_load_s"] = round(time.perf_counter() - t0, 3)
        out["detector"] = det_desc
        index = _load_library(args, out)
        bot = Assistant(
            detector=detector,
            index=index,
            responder=GroundedResponder(),
            use_retrieval=index is not None,
        )
        out["rss_mb"]["loaded"] = round(rss_mb(), 1)
        state = _time_analysis(bot, scans, out)
        out["rss_mb"]["analysed"] = round(rss_mb(), 1)
        _time_questions(bot, state, args.repeats, out)
        out["rss_mb"]["answered"] = round(rss_mb(), 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    out["notes"] = (
        "CPU only; the machine's 2 cores are shared with other processes, so times are upper "
        "bounds. analysis_cold_s is the first analyze() call (lazy loads inside it included)."
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("eval/results/bench_assistant.json"))
    p.add_argument("--detector", default=None, help="detector checkpoint folder")
    p.add_argument("--no-retrieval", action="store_true")
    p.add_argument(
        "--build-library",
        action="store_true",
        help="build the default library when it is missing (else retrieval is reported off)",
    )
    p.add_argument("--warm-scans", type=int, default=3, help="fresh scans for the warm timing")
    p.add_argument("--repeats", type=int, default=3, help="passes over the question list")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    logger.info("wrote %s", args.out)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
