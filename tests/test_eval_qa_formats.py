"""Benchmark loaders on fixtures written in each published format."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from eval.qa.formats import load_benchmark, pathvqa_question_type, resolve_image

FIX = Path(__file__).parent / "fixtures" / "qa"


def test_vqa_rad_public_json():
    items = load_benchmark(FIX / "vqa_rad_public.json", "vqa-rad")
    assert [i.id for i in items] == ["101", "102", "103", "104"]
    first, second, count, where = items
    assert first.image == "synpic100.jpg" and first.answer == "Yes"
    assert first.answer_type == "CLOSED" and first.question_type == ("PRES",)
    assert second.answer_type == "CLOSED"  # "CLOSED " with a trailing blank
    assert second.question_type == ("PRES", "POS")  # "PRES, POS" counts for both types
    assert second.meta["phrase_type"] == "para" and second.meta["image_organ"] == "HEAD"
    assert count.answer == "2" and count.answer_type == "OPEN"  # numeric answer in the JSON
    assert where.question == "Where is the mass located?"


def test_slake_keeps_english_only():
    items = load_benchmark(FIX / "slake_test.json", "slake")
    assert [i.id for i in items] == ["11", "12", "14"]  # qid 13 is Chinese
    assert items[0].image == "xmlab7/source.jpg"
    assert items[0].question_type == ("ORGAN",)
    assert items[1].answer_type == "CLOSED" and items[1].question_type == ("ABNORMALITY",)
    assert items[2].answer == "Left Lung, Right" and items[2].meta["modality"] == "X-Ray"


@pytest.mark.parametrize(
    "name", ["pathvqa_test_qa.json", "pathvqa_test_vqa.json", "pathvqa_test.csv"]
)
def test_pathvqa_json_and_csv(name):
    items = load_benchmark(FIX / name, "pathvqa")
    assert len(items) == 3
    assert [i.image for i in items] == ["test_0001", "test_0001", "test_0002"]
    assert items[0].answer == "granulomatous inflammation" and items[0].answer_type == "OPEN"
    assert items[1].answer_type == "CLOSED" and items[1].question_type == ("YES/NO",)
    assert items[2].answer == "two" and items[2].question_type == ("HOW MANY/HOW MUCH",)
    assert len({i.id for i in items}) == 3
    if name == "pathvqa_test_vqa.json":
        assert items[0].id == "300001000"


def test_pathvqa_refuses_pickle(tmp_path):
    p = tmp_path / "test_qa.pkl"
    p.write_bytes(pickle.dumps([{"image": "x", "question": "q?", "answer": "yes"}]))
    with pytest.raises(ValueError, match="never loaded"):
        load_benchmark(p, "pathvqa")
    disguised = tmp_path / "test_qa.json"
    disguised.write_bytes(p.read_bytes())
    with pytest.raises(ValueError, match="never loaded"):
        load_benchmark(disguised, "pathvqa")


def test_jsonl():
    items = load_benchmark(FIX / "questions.jsonl", "jsonl")
    assert [i.id for i in items] == ["q1", "q2", "q3"]
    assert items[0].answer_type == "CLOSED"  # inferred from the yes/no answer
    assert items[1].question_type == ("POS",) and items[1].meta == {"source": "hand-written"}
    assert items[2].question_type == ("OTHER",)


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark format"):
        load_benchmark(FIX / "questions.jsonl", "vqa-med")
    with pytest.raises(ValueError, match="not found"):
        load_benchmark(tmp_path / "missing.json", "vqa-rad")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "image": "x.png", "question": "q?"}\n')
    with pytest.raises(ValueError, match=r"line 1: missing field\(s\) \['answer'\]"):
        load_benchmark(bad, "jsonl")
    dup = tmp_path / "dup.jsonl"
    rec = {"id": "a", "image": "x.png", "question": "q?", "answer": "no"}
    dup.write_text(json.dumps(rec) + "\n" + json.dumps(rec) + "\n")
    with pytest.raises(ValueError, match="duplicate question id 'a'"):
        load_benchmark(dup, "jsonl")
    wrong_type = tmp_path / "t.jsonl"
    wrong_type.write_text(json.dumps({**rec, "answer_type": "MAYBE"}) + "\n")
    with pytest.raises(ValueError, match="answer_type 'MAYBE'"):
        load_benchmark(wrong_type, "jsonl")


def test_pathvqa_question_types():
    assert pathvqa_question_type("Where are the cells?") == "WHERE"
    assert pathvqa_question_type("How much fluid is there?") == "HOW MANY/HOW MUCH"
    assert pathvqa_question_type("Whose disease is this?") == "WHO/WHOSE"
    assert pathvqa_question_type("Does this show necrosis?") == "YES/NO"
    assert pathvqa_question_type("Name the organ.") == "OTHER"


def test_resolve_image(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "test_0001.jpg").write_bytes(b"x")
    (tmp_path / "xmlab7").mkdir()
    (tmp_path / "xmlab7" / "source.jpg").write_bytes(b"x")
    (tmp_path / "synpic100.jpg").write_bytes(b"x")
    assert resolve_image(tmp_path, "test_0001") == tmp_path / "test" / "test_0001.jpg"
    assert resolve_image(tmp_path, "xmlab7/source.jpg") == tmp_path / "xmlab7" / "source.jpg"
    assert resolve_image(tmp_path, "synpic100.jpg") == tmp_path / "synpic100.jpg"
    with pytest.raises(FileNotFoundError, match="synpic999"):
        resolve_image(tmp_path, "synpic999.jpg")
    with pytest.raises(ValueError, match="relative"):
        resolve_image(tmp_path, "../etc/passwd")
