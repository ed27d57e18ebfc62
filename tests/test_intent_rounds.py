import json

from eval import intent_rounds


def _run(folder, name, correct, pairs_ok, right, none):
    folder.mkdir(exist_ok=True)
    result = {
        "overall": {"correct": correct, "n": 10},
        "consistency": {
            "consistent_pairs": pairs_ok,
            "pairs": 4,
            "correct_readings": right,
            "answers": 40,
            "no_yes_no": none,
            "answers_detail": [{"question": "never copied"}],
        },
    }
    (folder / f"{name}.json").write_text(json.dumps(result))


def test_rounds_sum_figures_over_sets_and_copy_no_questions(tmp_path):
    for name, vals in {"s1": (9, 3, 38, 1), "s2": (8, 2, 36, 2)}.items():
        _run(tmp_path / "a", name, *vals)
    out = tmp_path / "out.json"
    assert (
        intent_rounds.main(
            ["--run", f"A={tmp_path / 'a'}", "--sets", "s1", "s2", "--json", str(out)]
        )
        == 0
    )
    res = json.loads(out.read_text())
    total = res["systems"]["A"]["total"]
    assert total["intent_correct"] == 17 and total["questions"] == 20
    assert total["consistency"] == 0.625 and total["presence_accuracy"] == 0.925
    assert total["no_yes_no"] == 3
    assert "never copied" not in out.read_text()
