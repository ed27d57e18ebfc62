"""`eval.phrasings`: the anomaly-QA questions asked in every phrasing of the paraphrase benchmark."""

from __future__ import annotations

import json

from eval.phrasings import expand, main, side_expectation


def _items() -> list[dict]:
    def q(image, sub, answer, qtype):
        return {
            "qid": f"{image}-{sub}",
            "image_name": f"images/{image}.png",
            "image_organ": "HEAD",
            "question": "?",
            "answer": answer,
            "answer_type": "CLOSED",
            "question_type": qtype,
            "question_subtype": sub,
            "lesion_size": "none" if image == "well" else "medium",
        }

    return [
        q("well", "presence", "no", "PRES"),
        q("sick", "presence", "yes", "PRES"),
        q("sick", "side", "left", "POS"),
    ]


PARAPHRASES = [
    {"id": "p1", "question": "Anything abnormal?", "intent": "presence", "polarity": "positive",
     "split": "dev", "group": "a"},
    {"id": "p2", "question": "Is this a normal brain?", "intent": "presence",
     "polarity": "negative", "split": "test", "group": "a"},
    {"id": "p3", "question": "What is abnormal here?", "intent": "presence", "polarity": None,
     "split": "dev", "group": "b"},
    {"id": "s1", "question": "Left or right?", "intent": "side", "polarity": None,
     "split": "dev", "group": "s"},
    {"id": "s2", "question": "Is the lesion right-sided?", "intent": "side", "polarity": None,
     "split": "test", "group": "s"},
    {"id": "s3", "question": "Is it on the patient's left?", "intent": "side", "polarity": None,
     "split": "test", "group": "s"},
]  # fmt: skip


def test_every_phrasing_is_asked_with_its_polarity_and_side():
    out, counts = expand(_items(), PARAPHRASES)
    got = {(q["image_name"], q["question"]): (q["answer"], q["question_subtype"]) for q in out}
    assert got == {
        ("images/well.png", "Anything abnormal?"): ("no", "presence_dev"),
        ("images/well.png", "Is this a normal brain?"): ("yes", "presence_test"),
        ("images/sick.png", "Anything abnormal?"): ("yes", "presence_dev"),
        ("images/sick.png", "Is this a normal brain?"): ("no", "presence_test"),
        ("images/sick.png", "Left or right?"): ("left", "side_dev"),
        ("images/sick.png", "Is the lesion right-sided?"): ("no", "side_test"),
    }
    assert counts["side_questions_left_out"] == 1  # the patient's side of a PNG is unknown
    assert {q["question_type"] for q in out} == {"PRES", "POS"}


def test_side_expectations():
    assert side_expectation("Which side is it on?", "right") == "right"
    assert side_expectation("Is the lesion on the left side of the image?", "left") == "yes"
    assert side_expectation("Is the lesion on the left side of the image?", "right") == "no"
    assert side_expectation("Is it in the patient's right hemisphere?", "right") is None


def test_cli_writes_a_benchmark_in_the_same_format(tmp_path):
    bench, para, out = tmp_path / "b.json", tmp_path / "p.jsonl", tmp_path / "o.json"
    bench.write_text(json.dumps(_items()))
    para.write_text("".join(json.dumps(p) + "\n" for p in PARAPHRASES))
    assert main(["--benchmark", str(bench), "--paraphrases", str(para), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 6 and all(r["answer_type"] == "CLOSED" for r in rows)
    assert len({r["qid"] for r in rows}) == 6
