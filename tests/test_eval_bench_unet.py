"""eval.bench_unet_runtime: every runtime row computes the same UNet output (timings are
reported by the script, never asserted)."""

from __future__ import annotations

from eval.bench_unet_runtime import run


def test_runtimes_agree_with_eager_and_report_ratios():
    out = run(None, batch=1, repeats=1, threads=1)
    rows = out["rows"]
    assert rows["eager_channels_last"]["speedup_vs_eager_channels_last"] == 1.0
    assert rows["eager_channels_last"]["max_abs_diff"] < 1e-3
    assert rows["eager"]["s_per_call"] > 0
    ort = rows["onnxruntime"]
    assert "skipped" in ort or ort["max_abs_diff"] < 1e-3
