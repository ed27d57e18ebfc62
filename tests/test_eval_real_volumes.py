"""eval.real_volumes: the pipeline's false-positive rate on healthy volumes (tiny detector)."""

from __future__ import annotations

import pytest

from assistant.analysis import Analyzer
from assistant.examples import EXAMPLES_DIR
from eval.real_volumes import evaluate


def test_rows_and_summary():
    testing = pytest.importorskip("assistant.detector.testing")
    analyzer = Analyzer(detector=testing.tiny_detector(), use_retrieval=False)
    out = evaluate([EXAMPLES_DIR / "mni_left_volume.nii.gz"], analyzer)
    assert out["n_volumes"] == 1 and out["n_in_domain"] == 1
    row = out["volumes"][0]
    assert row["in_domain"] and row["slice_index"] is not None
    assert out["healthy_with_findings"] == float(row["n_findings"] > 0)
    assert out["median_check_s"] >= 0 and out["median_detect_s"] >= 0
    assert out["max_check_s"] == row["check_s"]
    # the registration's own seconds, where the check registered the volume
    assert out["max_registration_s"] == row["registration_s"]
