"""One UNet call of the detector, timed in each CPU runtime side by side (issue 15, speed).

    python -m eval.bench_unet_runtime [--model DIR] [--batch 2] [--repeats 10] [--threads 2]
        --json eval/results/bench_unet_runtime.json

The volume path spends about 98% of its time in UNet calls (docs/volumes.md), so this measures
what one call costs in: PyTorch eager (contiguous and channels-last memory, the detector's CPU
default) and, when `onnxruntime` is installed (it is not a dependency), the same UNet exported
to ONNX (`torch.onnx.export`) and run by ONNX Runtime's CPU provider with all graph
optimisations; on a CPU with native bf16 (avx512_bf16) also eager channels-last under bf16
autocast, which the detector then uses. Rows carry the median seconds per call over `--repeats` calls (after two warm-up
calls), the ratio to eager channels-last measured in the same run, and the largest absolute
difference of the output from eager (float32). Inputs are random, timesteps 300: the cost of a
call does not depend on either. `gflop_per_call` counts the call's floating-point operations
(`torch.utils.flop_counter`: convolutions and matrix products, 2 per multiply-add); each row's
`gflop_per_s` is what the runtime achieved, and `calls_per_slice_for_75_in_60s` how many UNet
calls per slice the issue's speed target (about 75 brain slices in 60 s) leaves at that rate.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from eval import portable_path


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _Eps(torch.nn.Module):
    """The UNet as a function of (x, t) -> epsilon, for export."""

    def __init__(self, unet: torch.nn.Module):
        super().__init__()
        self.unet = unet

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t).sample


def run(model: str | None, batch: int, repeats: int, threads: int) -> dict:
    from assistant.detector import Detector
    from assistant.detector.model import cpu_has_bf16

    torch.set_num_threads(threads)
    unet = Detector.from_pretrained(model).model.unet.eval()
    size = unet.config.sample_size
    size = size if isinstance(size, int) else size[0]
    x = torch.randn(
        batch, unet.config.in_channels, size, size, generator=torch.Generator().manual_seed(0)
    )
    t = torch.full((batch,), 300, dtype=torch.long)
    rows: dict[str, dict] = {}
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        unet(x, t)
    gflop = counter.get_total_flops() / 1e9
    # no_grad, not inference_mode: parameters converted inside inference_mode could not be
    # traced by the export below
    with torch.no_grad():
        unet.to(memory_format=torch.contiguous_format)
        reference = unet(x, t).sample.numpy()
        rows["eager"] = {"s_per_call": _median_seconds(lambda: unet(x, t).sample, repeats)}
        unet.to(memory_format=torch.channels_last)
        xc = x.to(memory_format=torch.channels_last)
        rows["eager_channels_last"] = {
            "s_per_call": _median_seconds(lambda: unet(xc, t).sample, repeats),
            "max_abs_diff": float(np.abs(unet(xc, t).sample.numpy() - reference).max()),
        }
        # what the detector runs on a CPU with native bf16 (`cpu_has_bf16`: avx512_bf16)
        if cpu_has_bf16():

            def bf16():
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return unet(xc, t).sample

            rows["eager_channels_last_bf16"] = {
                "s_per_call": _median_seconds(bf16, repeats),
                "max_abs_diff": float(np.abs(bf16().float().numpy() - reference).max()),
            }
        else:
            rows["eager_channels_last_bf16"] = {"skipped": "this CPU has no avx512_bf16"}
        unet.to(memory_format=torch.contiguous_format)
    try:
        import onnxruntime as ort
    except ImportError:
        rows["onnxruntime"] = {"skipped": "onnxruntime is not installed"}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "unet.onnx")
            start = time.perf_counter()
            with torch.no_grad():
                torch.onnx.export(
                    _Eps(unet), (x, t), path, input_names=["x", "t"], output_names=["eps"],
                    dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "eps": {0: "batch"}},
                    opset_version=17, dynamo=False,
                )  # fmt: skip
            export_s = time.perf_counter() - start
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            feed = {"x": x.numpy(), "t": t.numpy()}
            rows["onnxruntime"] = {
                "s_per_call": _median_seconds(lambda: session.run(None, feed), repeats),
                "max_abs_diff": float(np.abs(session.run(None, feed)[0] - reference).max()),
                "export_s": round(export_s, 2),
                "version": ort.__version__,
            }
    base = rows["eager_channels_last"]["s_per_call"]
    for row in rows.values():
        if "s_per_call" in row:
            row["speedup_vs_eager_channels_last"] = round(base / row["s_per_call"], 3)
            row["s_per_call"] = round(row["s_per_call"], 4)
            row["s_per_slice"] = round(row["s_per_call"] / batch, 4)
            row["gflop_per_s"] = round(gflop / row["s_per_call"], 1)
            row["calls_per_slice_for_75_in_60s"] = round(60.0 / (75 * row["s_per_slice"]), 2)
    return {
        "model": portable_path(model) if model else "shipped default",
        "batch": batch,
        "gflop_per_call": round(gflop, 2),
        "repeats": repeats,
        "torch_threads": threads,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint folder (default: shipped)",
    )
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", required=True)
    args = ap.parse_args(argv)
    out = run(args.model, args.batch, args.repeats, args.threads)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out["rows"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
