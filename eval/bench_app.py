"""Benchmark the chat app as users meet it: `python -m eval.bench_app`.

Launches `python app.py` in a subprocess on a free port, then with gradio_client (the same
queue and API as the page) measures, per run:
- upload -> overlay: from sending a scan to `/analyze` until the heatmap overlay image is back
  (the detection, retrieval and rendering of one slice; each run uploads a slightly different
  PNG so that the per-slice cache is never hit), plus one DICOM and one NIfTI example;
- first answer token: from sending a question to `/ask` until the first streamed text;
and the app process's memory (RSS now and peak, children included) and its start-up time.
Medians go to a JSON file (default eval/results/bench_app.json).

Detector: `--detector PATH`, else the shipped checkpoint when it exists, else a tiny random
test detector (saved to a temporary folder; timings then say little about a real model, and
the JSON says so).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from assistant.responders.registry import DEFAULT_RESPONDER
from eval import ROOT, portable_path

logger = logging.getLogger(__name__)

QUESTIONS = ("Is there an abnormality?", "Which side is it on?", "How big is it?")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_checkpoint(folder: Path) -> Path:
    """A tiny random, self-calibrated detector checkpoint (test-only; not a useful model)."""
    import torch

    from assistant.detector.testing import tiny_detector

    det = tiny_detector(folder)
    return det.model.save(folder / "tiny-calibrated", dtype=torch.float32)


def rss_mb(pid: int) -> tuple[float, float]:
    """(RSS, peak RSS) in MiB of `pid` plus its children (Linux /proc)."""
    pids = [pid]
    try:
        out = subprocess.run(
            ["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True, check=False
        )
        pids += [int(p) for p in out.stdout.split()]
    except OSError:
        pass
    now = peak = 0.0
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        now += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        peak += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return now, peak


def wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the app was not ready after {timeout:.0f} s")


def variants(png: Path, n: int, folder: Path) -> list[Path]:
    """`n` copies of a PNG with different faint noise (defeats the per-slice cache)."""
    from PIL import Image

    base = np.asarray(Image.open(png), dtype=np.int16)
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        img = np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
        path = folder / f"run{k}.png"
        Image.fromarray(img).save(path)
        out.append(path)
    return out


def time_analyze(client, path: Path) -> tuple[float, dict]:
    from gradio_client import handle_file

    t0 = time.perf_counter()
    data, overlay, _ = client.predict(handle_file(str(path)), -1, api_name="/analyze")
    dt = time.perf_counter() - t0
    assert overlay and Path(overlay).is_file(), "no overlay came back"
    return dt, data


def time_first_token(client, question: str) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds to the final answer)."""
    t0 = time.perf_counter()
    job = client.submit(question, api_name="/ask")
    first = None
    for out in job:
        if first is None and out and out[0]:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    return (first if first is not None else total), total


def run(args: argparse.Namespace) -> dict:
    from gradio_client import Client

    from assistant.detector import DEFAULT_CHECKPOINT
    from assistant.examples import EXAMPLES_DIR

    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    if args.detector:
        detector, kind = Path(args.detector), "given checkpoint"
    elif (DEFAULT_CHECKPOINT / "detector.json").is_file():
        detector, kind = DEFAULT_CHECKPOINT, "shipped checkpoint"
    else:
        detector, kind = tiny_checkpoint(tmp), "tiny random test detector (no shipped checkpoint)"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--detector", str(detector)]
    if not args.retrieval:
        cmd.append("--no-retrieval")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = open(tmp / "app.log", "w")  # noqa: SIM115 (kept open for the subprocess)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(url, proc, args.startup_timeout)
        startup = time.perf_counter() - t0
        rss_idle, _ = rss_mb(proc.pid)
        client = Client(url, verbose=False)
        overlay_s, first_s, answer_s = [], [], []
        for k, path in enumerate(
            variants(EXAMPLES_DIR / "mni_left_hyperintense.png", args.runs, tmp)
        ):
            dt, _ = time_analyze(client, path)
            overlay_s.append(dt)
            f, t = time_first_token(client, QUESTIONS[k % len(QUESTIONS)])
            first_s.append(f)
            answer_s.append(t)
        formats = {}
        for name in ("mni_right_hypointense.dcm", "mni_left_volume.nii.gz"):
            dt, data = time_analyze(client, EXAMPLES_DIR / name)
            formats[name] = {
                "upload_to_overlay_s": round(dt, 3),
                "findings": len(data["findings"]),
                "cases": len(data["cases"]),  # 0 when the case library is off
            }
        rss_now, rss_peak = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return {
        "detector": kind,
        "detector_path": portable_path(detector),
        "retrieval": args.retrieval,
        "responder": os.environ.get("ASSISTANT_RESPONDER", DEFAULT_RESPONDER),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "runs": args.runs,
        "startup_s": round(startup, 2),
        "median_upload_to_overlay_s": round(statistics.median(overlay_s), 3),
        "median_first_token_s": round(statistics.median(first_s), 4),
        "median_answer_s": round(statistics.median(answer_s), 4),
        "upload_to_overlay_s": [round(v, 3) for v in overlay_s],
        "first_token_s": [round(v, 4) for v in first_s],
        "formats": formats,
        "rss_mb_idle": round(rss_idle, 1),
        "rss_mb_after": round(rss_now, 1),
        "rss_mb_peak": round(rss_peak, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--detector", default=None, help="checkpoint folder (default: see above)")
    p.add_argument("--runs", type=int, default=5, help="uploads + questions to time")
    p.add_argument("--no-retrieval", dest="retrieval", action="store_false")
    p.add_argument("--startup-timeout", type=float, default=600.0, help="seconds")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "bench_app.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    logger.info(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
