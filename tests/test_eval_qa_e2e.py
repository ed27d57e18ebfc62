"""`python -m eval.qa` end to end with the real assistant on a few synthetic lesion images:
the grounded responder, and a tiny random transformers VLM (batched generation)."""

from __future__ import annotations

import json

import pytest
from qa_helpers import synth_set

pytest.importorskip("assistant.chat", reason="assistant.chat (the assistant issue) is missing")

from eval import anomaly_qa  # noqa: E402
from eval.qa import cli as qa  # noqa: E402
from eval.qa.metrics import yes_no  # noqa: E402


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """(benchmark json, images folder, tiny random detector folder or None) for the tests here.

    Without `assistant.detector.testing` (the detector issue) the runs use --no-detector, so the
    command, the assistant and the responders are still exercised end to end."""
    tmp = tmp_path_factory.mktemp("qa_e2e")
    data = synth_set(tmp, n=5, healthy_fraction=0.4)
    path = tmp / "anomaly_qa.json"
    assert anomaly_qa.main(["--data", str(data), "--out", str(path)]) == 0
    try:
        from assistant.detector import testing
    except ImportError:
        return path, data, None
    return path, data, testing.tiny_checkpoint(tmp / "detector")


def _argv(bench, out, *extra):
    path, data, detector = bench
    # the phantoms are not brain slices: the applicability check would refuse them all
    det = (
        ["--no-detector"]
        if detector is None
        else ["--detector", str(detector), "--no-domain-check"]
    )
    return [
        "--benchmark", str(path), "--format", "vqa-rad", "--images", str(data), *det,
        "--out", str(out), "--no-progress", "--n-boot", "50", "--no-retrieval", *extra,
    ]  # fmt: skip


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_grounded_end_to_end_resume_and_no_image(bench, tmp_path):
    records = json.loads(bench[0].read_text())
    out = tmp_path / "runs" / "full"
    assert qa.main(_argv(bench, out, "--responder", "grounded")) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == len(records) and metrics["n_errors"] == 0
    assert set(metrics["by_type"]) <= {"PRES", "POS", "ATTRIB", "SIZE"}
    assert {"closed_accuracy", "open_recall", "open_f1", "ci", "ablation"} <= set(metrics)
    assert 0.0 <= metrics["closed_accuracy"] <= 1.0
    assert metrics["by_type"]["PRES"]["n"] == 2 * 5
    preds = _lines(out / "predictions.jsonl")
    assert [p["id"] for p in preds] == [r["qid"] for r in records]
    for p in preds:
        assert p["prediction"] and p["error"] is None
        for eid in p["evidence"]:
            assert f"[{eid}" in p["prediction"] or f", {eid}" in p["prediction"]
        if p["subtype"] == "presence" and bench[2] is not None:
            # with a detector the grounded responder answers closed questions first
            assert yes_no(p["prediction"]) in ("yes", "no")
        if bench[2] is None:  # no detector: it says it cannot tell, never a guess
            assert p["subtype"] != "presence" or yes_no(p["prediction"]) is None
    report = (out / "report.md").read_text()
    assert "## By question type" in report and "| PRES | 10 |" in report
    # each subtype by lesion size: the counts add up to the subtype's, healthy images under "none"
    by_size = metrics["by_lesion_size"]
    for sub, g in metrics["by_subtype"].items():
        assert sum(v[sub]["n"] for v in by_size.values() if sub in v) == g["n"]
    healthy = [r for r in records if r["lesion_size"] == "none"]
    assert by_size["none"]["presence"]["n"] == len(healthy) // 2 == 2
    assert set(by_size["none"]) == {"presence", "presence_negated"}
    assert "## By lesion size" in report

    # a rerun answers nothing new
    before = (out / "predictions.jsonl").read_text()
    assert qa.main(_argv(bench, out, "--responder", "grounded")) == 0
    assert (out / "predictions.jsonl").read_text() == before

    # the no-image control in a sibling folder is compared with the full run
    blank = tmp_path / "runs" / "no-image"
    assert qa.main(_argv(bench, blank, "--responder", "grounded", "--no-image")) == 0
    m = json.loads((blank / "metrics.json").read_text())
    expected = "no-image+no-retrieval" + ("+no-detector" if bench[2] is None else "")
    assert m["ablation"]["variant"] == expected
    assert {r["dir"] for r in m["comparison"]} == {"full", "no-image"}
    assert "Comparison with ablations" in (blank / "report.md").read_text()


def test_tiny_transformers_vlm_batched(bench, tmp_path, monkeypatch):
    testing = pytest.importorskip("assistant.responders.testing")
    from assistant.responders.transformers_vlm import TransformersResponder

    vlm = testing.tiny_vlm(tmp_path / "vlm", "gemma3")
    calls = []
    original = TransformersResponder.generate_batch

    def spy(self, questions, evidences, *args, **kwargs):
        calls.append(len(questions))
        return original(self, questions, evidences, *args, **kwargs)

    monkeypatch.setattr(TransformersResponder, "generate_batch", spy)
    monkeypatch.setattr(TransformersResponder, "stream", lambda *a, **k: pytest.fail("not batched"))
    out = tmp_path / "tf"
    argv = _argv(bench, out, "--responder", "transformers", "--model", str(vlm.path))
    assert qa.main([*argv, "--limit", "12", "--batch-size", "4", "--max-new-tokens", "8"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 12 and metrics["n_errors"] == 0
    assert sum(calls) == 12 and max(calls) <= 4 + 6  # pooled up to a batch (+ one image's rest)
    preds = _lines(out / "predictions.jsonl")
    assert len(preds) == 12 and all(isinstance(p["prediction"], str) for p in preds)


def test_method_and_preset_choose_the_detector(bench, tmp_path, capsys):
    if bench[2] is None:
        pytest.skip("needs the detector issue's tiny checkpoint")
    out = tmp_path / "faster"
    argv = _argv(bench, out, "--method", "thor", "--preset", "faster", "--limit", "2")
    assert qa.main(argv) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["identity"]["method"] == "thor" and run["identity"]["preset"] == "faster"
    assert len(_lines(out / "predictions.jsonl")) == 2
    report = (out / "report.md").read_text()
    assert f"Detector: checkpoint `{bench[2]}`, method `thor`, preset `faster`." in report
    # the same folder with another preset is refused (no mixed runs)
    other = _argv(bench, out, "--method", "thor", "--preset", "fast", "--limit", "2")
    assert qa.main(other) == 2 and "another configuration" in capsys.readouterr().err
    bad = _argv(bench, tmp_path / "bad", "--method", "thor", "--preset", "nope", "--limit", "2")
    assert qa.main(bad) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'nope'" in err and "faster-x2" in err


def test_the_domain_check_refuses_phantoms(bench, tmp_path):
    path, data, detector = bench
    if detector is None:
        pytest.skip("needs the tiny detector")
    argv = [
        "--benchmark", str(path), "--format", "vqa-rad", "--images", str(data),
        "--detector", str(detector), "--out", str(tmp_path / "run"), "--no-progress",
        "--n-boot", "20", "--no-retrieval", "--limit", "3",
    ]  # fmt: skip
    assert qa.main(argv) == 0
    for p in _lines(tmp_path / "run" / "predictions.jsonl"):
        assert p["prediction"].startswith("I can't tell") and p["evidence"] == ["A1"]
