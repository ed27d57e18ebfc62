"""eval.bench_unet_runtime: every runtime row computes the same UNet output (timings are
reported by the script, never asserted)."""

from __future__ import annotations

import pytest

from eval.bench_unet_runtime import run


def test_runtimes_agree_with_eager_and_report_ratios():
    out = run(None, batch=1, repeats=1, threads=1)
    rows = out["rows"]
    assert rows["eager_channels_last"]["speedup_vs_eager_channels_last"] == 1.0
    assert rows["eager_channels_last"]["max_abs_diff"] < 1e-3
    assert rows["eager"]["s_per_call"] > 0
    # the shipped UNet: about 22.5 GFLOP per 128 x 128 image per call (a fixed count)
    assert out["gflop_per_call"] == pytest.approx(22.5, rel=0.05)  # batch 1
    assert rows["eager"]["gflop_per_s"] > 0
    assert rows["eager"]["calls_per_slice_for_75_in_60s"] > 0
    ort = rows["onnxruntime"]
    assert "skipped" in ort or ort["max_abs_diff"] < 1e-3
