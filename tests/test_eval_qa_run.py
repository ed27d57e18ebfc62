"""The QA runner's mechanics (resume, errors, ablation bookkeeping, outputs) with a recording
test double in place of the assistant. The real assistant end to end: test_eval_qa_e2e.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from qa_helpers import write_phantoms

from eval.qa.cli import main
from eval.qa.config import QARunConfig
from eval.qa.run import run_ablations, run_qa


@dataclass
class _Answer:
    text: str
    evidence: list = field(default_factory=list)


@dataclass
class _Item:
    id: str


class BrightnessAssistant:
    """Answers "Yes" when the analysed image has any bright pixel, else "No"; records every call
    and raises KeyboardInterrupt on the `stop_at`-th question (a simulated Ctrl-C)."""

    def __init__(self, stop_at: int | None = None):
        self.asked: list[str] = []
        self.analysed: list[tuple[int, ...]] = []
        self.stop_at = stop_at

    def analyze(self, scan):
        self.analysed.append(scan.pixels.shape)
        return {"bright": bool(np.asarray(scan.pixels).max() > 0)}

    def ask(self, state, question, history):
        if self.stop_at is not None and len(self.asked) + 1 == self.stop_at:
            raise KeyboardInterrupt
        self.asked.append(question)
        word = "Yes" if state["bright"] else "No"
        yield word
        yield _Answer(text=f"{word}, as the image shows [F1].", evidence=[_Item("F1")])


def _bench(tmp_path, n_images=3):
    images = write_phantoms(tmp_path / "images", n_images)
    lines = []
    for i in range(n_images):
        lines.append(
            {
                "id": f"q{2 * i}",
                "image": f"h{i}.png",
                "question": f"Is there a lesion {i}?",
                "answer": "yes",
                "question_type": "PRES",
            }
        )
        lines.append(
            {
                "id": f"q{2 * i + 1}",
                "image": f"h{i}.png",
                "question": f"Where {i}?",
                "answer": "left frontal",
                "answer_type": "OPEN",
                "question_type": "POS",
            }
        )
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path, images


def _cfg(tmp_path, bench, images, out="run", **kw):
    return QARunConfig(
        benchmark=str(bench),
        format="jsonl",
        images=str(images),
        out=str(tmp_path / out),
        n_boot=100,
        **kw,
    )


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_outputs_and_metrics(tmp_path):
    bench, images = _bench(tmp_path)
    a = BrightnessAssistant()
    m = run_qa(_cfg(tmp_path, bench, images), assistant=a, progress=False)
    assert len(a.analysed) == 3  # each image analysed once for its two questions
    assert m["n"] == 6 and m["closed_accuracy"] == 1.0
    # open: "Yes, as the image shows [F1]." vs "left frontal": no shared token
    assert m["open_recall"] == 0.0 and m["open_f1"] == 0.0
    assert m["by_type"]["PRES"] == {**m["by_type"]["PRES"], "accuracy": 1.0, "n": 3}
    assert m["ablation"]["variant"] == "full"
    out = tmp_path / "run"
    assert json.loads((out / "metrics.json").read_text())["n"] == 6
    preds = _lines(out / "predictions.jsonl")
    assert [p["id"] for p in preds] == [f"q{i}" for i in range(6)]
    assert preds[0]["prediction"].startswith("Yes") and preds[0]["evidence"] == ["F1"]
    # every answer with its verdict, to find the wrong ones without re-scoring (a cli trial)
    scored = _lines(out / "scored.jsonl")
    assert [r["id"] for r in scored] == [p["id"] for p in preds]
    assert sum(r["correct"] for r in scored if r["answer_type"] == "CLOSED") == 3
    assert not any(r["correct"] for r in scored if r["answer_type"] == "OPEN")
    report = (out / "report.md").read_text()
    assert "closed_accuracy | 1.000" in report and "| PRES | 3 |" in report
    assert "Detector: the shipped checkpoint, its default method, its default preset." in report


def test_resume_skips_finished_ids_and_drops_a_torn_line(tmp_path):
    bench, images = _bench(tmp_path)
    cfg = _cfg(tmp_path, bench, images)
    with pytest.raises(KeyboardInterrupt):
        run_qa(cfg, assistant=BrightnessAssistant(stop_at=4), progress=False)
    log = tmp_path / "run" / "predictions.jsonl"
    assert [p["id"] for p in _lines(log)] == ["q0", "q1", "q2"]
    with open(log, "a") as fh:  # the process died in the middle of writing q3
        fh.write('{"id": "q3", "prediction": "Ye')
    second = BrightnessAssistant()
    m = run_qa(cfg, assistant=second, progress=False)
    assert second.asked == ["Where 1?", "Is there a lesion 2?", "Where 2?"]
    assert [p["id"] for p in _lines(log)] == [f"q{i}" for i in range(6)]
    assert m["n"] == 6 and m["n_missing"] == 0
    third = BrightnessAssistant()
    run_qa(cfg, assistant=third, progress=False)
    assert third.asked == [] and third.analysed == []
    # an assistant is not even built when nothing is left to do
    run_qa(cfg, progress=False, factory=lambda c: pytest.fail("built an assistant"))


def test_rerun_with_other_flags_is_refused(tmp_path):
    bench, images = _bench(tmp_path)
    run_qa(_cfg(tmp_path, bench, images), assistant=BrightnessAssistant(), progress=False)
    with pytest.raises(ValueError, match="another configuration"):
        run_qa(_cfg(tmp_path, bench, images, no_image=True), assistant=BrightnessAssistant())


def test_missing_image_is_an_error_retried_later(tmp_path):
    bench, images = _bench(tmp_path)
    (images / "h1.png").rename(tmp_path / "h1.png")
    cfg = _cfg(tmp_path, bench, images)
    m = run_qa(cfg, assistant=BrightnessAssistant(), progress=False)
    assert m["n_errors"] == 2 and m["closed_accuracy"] == pytest.approx(2 / 3)
    (tmp_path / "h1.png").rename(images / "h1.png")
    a = BrightnessAssistant()
    m = run_qa(cfg, assistant=a, progress=False)
    assert a.asked == ["Is there a lesion 1?", "Where 1?"]
    assert m["n_errors"] == 0 and m["closed_accuracy"] == 1.0


def test_no_image_blanks_the_scan_and_siblings_are_compared(tmp_path):
    bench, images = _bench(tmp_path)
    run_qa(
        _cfg(tmp_path, bench, images, out="cmp/full"),
        assistant=BrightnessAssistant(),
        progress=False,
    )
    blank = BrightnessAssistant()
    m = run_qa(
        _cfg(tmp_path, bench, images, out="cmp/no-image", no_image=True),
        assistant=blank,
        progress=False,
    )
    assert blank.analysed == [(96, 80)] * 3  # a blank image of the same size
    assert m["closed_accuracy"] == 0.0 and m["ablation"]["no_image"] is True
    rows = {r["variant"]: r for r in m["comparison"]}
    assert set(rows) == {"full", "no-image"}
    assert rows["full"]["closed_accuracy"] == 1.0 and rows["no-image"]["closed_accuracy"] == 0.0
    assert "| no-image | 6 | 0.000 (-1.000)" in (tmp_path / "cmp/no-image/report.md").read_text()


def test_ablations_run_every_variant(tmp_path):
    bench, images = _bench(tmp_path, n_images=2)
    built = []

    def factory(cfg):
        built.append((cfg.no_image, cfg.no_retrieval, cfg.no_detector))
        return BrightnessAssistant()

    rows = run_ablations(_cfg(tmp_path, bench, images, out="abl"), progress=False, factory=factory)
    assert built == [
        (False, False, False),
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert [r["variant"] for r in rows] == ["full", "no-image", "no-retrieval", "no-detector"]
    assert rows[1]["closed_accuracy"] == 0.0 and rows[0]["closed_accuracy"] == 1.0
    summary = (tmp_path / "abl" / "summary.md").read_text()
    assert "| no-image | 4 | 0.000 (-1.000)" in summary
    assert (
        json.loads((tmp_path / "abl" / "summary.json").read_text())[3]["variant"] == "no-detector"
    )


def test_cli_rejects_bad_input(tmp_path, capsys):
    bench, images = _bench(tmp_path)
    code = main(
        [
            "--benchmark",
            str(bench),
            "--format",
            "jsonl",
            "--images",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    assert code == 2 and "is not a folder" in capsys.readouterr().err
    code = main(
        [
            "--benchmark",
            str(bench),
            "--format",
            "jsonl",
            "--images",
            str(images),
            "--out",
            str(tmp_path / "o"),
            "--limit",
            "0",
        ]
    )
    assert code == 2 and "--limit" in capsys.readouterr().err


class FlakyAssistant(BrightnessAssistant):
    """Fails on questions mentioning "Where 1"."""

    def ask(self, state, question, history):
        if "Where 1" in question:
            raise RuntimeError("generation failed")
        yield from super().ask(state, question, history)


def test_a_failing_question_is_recorded_and_the_run_goes_on(tmp_path):
    bench, images = _bench(tmp_path)
    m = run_qa(_cfg(tmp_path, bench, images), assistant=FlakyAssistant(), progress=False)
    preds = {p["id"]: p for p in _lines(tmp_path / "run" / "predictions.jsonl")}
    assert preds["q3"]["error"] == "RuntimeError: generation failed"
    assert preds["q3"]["prediction"] == "" and preds["q5"]["error"] is None
    assert m["n"] == 6 and m["n_errors"] == 1


def test_results_files_store_portable_paths(tmp_path):
    from eval import ROOT, portable_path

    assert portable_path(ROOT / "assistant" / "weights") == "assistant/weights"
    assert portable_path(ROOT.parent / "shared" / "data") == "../shared/data"
    outside = tmp_path / "model"
    assert portable_path(outside) == str(outside)
    for f in (ROOT / "eval" / "results").glob("*.json"):
        text = f.read_text()
        assert str(ROOT) not in text and str(ROOT.parent / "shared") not in text, f.name
