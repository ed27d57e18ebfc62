"""The paraphrase benchmark (eval/paraphrase) and its scorer (eval.intent_bench), on stubs only:
no sentence-embedding model, no detector."""

from __future__ import annotations

import json
import re
import sys
import types
from collections import Counter, defaultdict

import pytest

from eval import intent_bench
from eval.paraphrase import BENCHMARK, INTENTS, build, load

KEYS = {"id", "question", "intent", "target", "group", "polarity", "split"}
TARGET = re.compile(r"^(image|map|pseudo_healthy|cases|none|finding:F\d+)$")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load()


def test_schema(rows):
    assert len(rows) >= 400
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        assert set(r) == KEYS, r
        assert r["intent"] in INTENTS, r
        assert TARGET.match(r["target"]), r
        assert r["split"] in ("dev", "test"), r
        assert isinstance(r["question"], str) and r["question"].strip() == r["question"] != ""
        if r["intent"] == "presence":
            assert r["polarity"] in ("positive", "negative"), r
        else:
            assert r["polarity"] is None, r
    assert len({r["question"].lower() for r in rows}) == len(rows), "duplicate questions"


def test_every_label_in_both_splits_with_enough_questions(rows):
    counts = Counter((r["intent"], r["split"]) for r in rows)
    for intent in INTENTS:
        assert counts[(intent, "dev")] + counts[(intent, "test")] >= 25, intent
        assert counts[(intent, "dev")] > 0 and counts[(intent, "test")] > 0, intent
    splits = Counter(r["split"] for r in rows)
    assert 0.4 <= splits["test"] / len(rows) <= 0.6


def test_groups_are_whole_and_coherent(rows):
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    for gid, members in groups.items():
        assert len({m["split"] for m in members}) == 1, f"group {gid} split across dev/test"
        assert len({(m["intent"], m["target"]) for m in members}) == 1, gid
        if members[0]["intent"] == "presence":
            assert len(members) >= 8, gid
    assert any(r["polarity"] == "negative" for r in rows if r["split"] == "test")


def test_jsonl_is_built_from_the_source():
    assert BENCHMARK.read_text(encoding="utf-8") == build.dumps(build.build())


def test_source_parser_rejects_bad_lines():
    with pytest.raises(ValueError, match="polarity"):
        build.parse("[g | presence | image]\nIs there a lesion?\n")
    with pytest.raises(ValueError, match="polarity"):
        build.parse("[g | size | image]\n+ How big is it?\n")
    with pytest.raises(ValueError, match="unknown intent"):
        build.parse("[g | nonsense | image]\nWhat?\n")
    parsed = build.parse("# c\n[g | presence | image]\n- Is this normal?\n+ Any lesion?\n")
    assert [(r["id"], r["polarity"]) for r in parsed] == [
        ("pq-0001", "negative"),
        ("pq-0002", "positive"),
    ]


# ----------------------------------------------------------------------- the scorer on stubs


def _stub_module(monkeypatch) -> str:
    """A classifier that knows three words; returns project names to exercise the mapping."""

    def classify(question: str):
        q = question.lower()
        if "where" in q:
            return ("location", "rule")
        if "similar" in q:
            return "similar_cases"
        if "heat" in q:
            return types.SimpleNamespace(intent="heatmap", source="rule", finding_ids=[])
        return "unknown"

    module = types.ModuleType("stub_intents")
    module.classify = classify
    monkeypatch.setitem(sys.modules, "stub_intents", module)
    return "stub_intents:classify"


def test_score_intents_on_a_stub(monkeypatch):
    spec = _stub_module(monkeypatch)
    rows = [
        {"id": "a", "question": "Where is it?", "intent": "location", "target": "image",
         "group": "g1", "polarity": None, "split": "test"},
        {"id": "b", "question": "Which side?", "intent": "side", "target": "image",
         "group": "g2", "polarity": None, "split": "test"},
        {"id": "c", "question": "Similar cases?", "intent": "comparison", "target": "cases",
         "group": "g3", "polarity": None, "split": "test"},
        {"id": "d", "question": "Heatmap?", "intent": "heatmap", "target": "map",
         "group": "g4", "polarity": None, "split": "test"},
    ]  # fmt: skip
    res = intent_bench.score_intents(rows, intent_bench.load_classifier(spec), n_boot=200)
    assert res["overall"]["correct"] == 3 and res["overall"]["n"] == 4
    assert res["per_intent"]["side"]["accuracy"] == 0.0
    assert res["confusion"] == [{"gold": "side", "predicted": "unknown", "count": 1}]
    assert [m["id"] for m in res["misrouted"]] == ["b"]
    lo, hi = res["overall"]["ci95"]
    assert 0.0 <= lo <= 0.75 <= hi <= 1.0


def test_cli_runs_on_a_stub(monkeypatch, tmp_path, capsys):
    spec = _stub_module(monkeypatch)
    monkeypatch.setattr(intent_bench, "examples_overlap", lambda rows: [])
    out = tmp_path / "res.json"
    code = intent_bench.main(
        ["--split", "test", "--classifier", spec, "--json", str(out), "--bootstrap", "100"]
    )
    assert code == 0
    res = json.loads(out.read_text())
    test_rows = load(split="test")
    assert res["questions"] == len(test_rows)
    assert set(res["per_intent"]) == set(INTENTS)
    assert len(res["misrouted"]) == res["overall"]["n"] - res["overall"]["correct"]
    assert sum(c["count"] for c in res["confusion"]) == len(res["misrouted"])
    assert "intent accuracy" in capsys.readouterr().out


def test_mapping_covers_every_label():
    mapped = set(intent_bench.PROJECT_TO_BENCH.values()) | set(intent_bench.NO_PROJECT_INTENT)
    assert set(INTENTS) <= mapped


def test_consistency_with_a_stub_answerer(monkeypatch):
    monkeypatch.setattr(
        intent_bench, "synthetic_evidence", lambda abnormal, fmt="png", second=False: abnormal
    )
    rows = [
        {"id": "1", "question": "Is there a lesion?", "intent": "presence", "target": "image",
         "group": "p", "polarity": "positive", "split": "test"},
        {"id": "2", "question": "Is this normal?", "intent": "presence", "target": "image",
         "group": "p", "polarity": "negative", "split": "test"},
    ]  # fmt: skip

    def truthful(question, abnormal):
        says_yes = abnormal != ("normal" in question)
        return "Yes." if says_yes else "No."

    res = intent_bench.score_consistency(rows, truthful, formats=("png",))
    assert res["consistency"] == 1.0 and res["pairs"] == 2
    assert res["presence_accuracy"] == 1.0

    res = intent_bench.score_consistency(rows, lambda q, ev: "Yes.", formats=("png",))
    assert res["consistency"] == 0.0  # "yes" to both readings contradicts itself
    res = intent_bench.score_consistency(rows, lambda q, ev: "I can't tell.", formats=("png",))
    assert res["consistency"] == 0.0 and res["no_yes_no"] == 4


def test_reading_flips_negative_polarity():
    assert intent_bench.reading("Yes, there is.", "positive") == "abnormal"
    assert intent_bench.reading("Yes, it looks normal.", "negative") == "normal"
    assert intent_bench.reading("No.", "negative") == "abnormal"
    assert intent_bench.reading("Unknown.", "positive") is None


@pytest.mark.parametrize("fmt", sorted(intent_bench.SCAN_FORMATS))
def test_synthetic_scans(fmt):
    abnormal = intent_bench.synthetic_evidence(True, fmt)
    normal = intent_bench.synthetic_evidence(False, fmt)
    assert [f.id for f in abnormal.by_kind("finding")] == ["F1"]
    assert normal.by_kind("finding") == []
    two = intent_bench.synthetic_evidence(True, fmt, second=True)
    assert [f.id for f in two.by_kind("finding")] == ["F1", "F2"]
    assert "right" in two.by_kind("finding")[1].text
    assert intent_bench.synthetic_evidence(False, fmt, second=True).by_kind("finding") == []
    assert abnormal.scan_summary["modality"] == intent_bench.SCAN_FORMATS[fmt]["modality"]


def test_every_project_intent_maps_to_a_benchmark_label():
    from assistant.responders.intents import INTENTS as PROJECT_INTENTS

    assert intent_bench.NO_PROJECT_INTENT == {}
    for intent in PROJECT_INTENTS:
        assert intent in intent_bench.PROJECT_TO_BENCH, intent
    assert intent_bench.PROJECT_TO_BENCH["side"] == "side"
    assert intent_bench.PROJECT_TO_BENCH["next_steps"] == "next_steps"


def test_target_accuracy_on_a_stub():
    def classify(question: str):
        return types.SimpleNamespace(intent="heatmap", source="rule", finding_ids=[], about="map")

    rows = [
        {"id": "a", "question": "Heatmap?", "intent": "heatmap", "target": "map",
         "group": "g1", "polarity": None, "split": "test"},
        {"id": "b", "question": "Where?", "intent": "location", "target": "image",
         "group": "g2", "polarity": None, "split": "test"},
    ]  # fmt: skip
    res = intent_bench.score_intents(rows, classify, n_boot=100)
    assert res["target_accuracy"]["correct"] == 1 and res["target_accuracy"]["n"] == 2
    assert [w["id"] for w in res["target_accuracy"]["wrong"]] == ["b"]


@pytest.mark.parametrize("name, split, prefix", [("test2", "test", "t2"), ("dev2", "dev", "d2")])
def test_the_later_sets_are_built_from_their_sources(name, split, prefix):
    from pathlib import Path

    from eval.paraphrase.build import build as build_rows
    from eval.paraphrase.build import main as build_main

    source = Path(BENCHMARK).parent / f"questions_{name}.txt"
    rows = build_rows(source, split_all=split)
    assert len(rows) >= 90 and {r["split"] for r in rows} == {split}
    assert all(r["polarity"] for r in rows if r["intent"] == "presence")
    built = Path(BENCHMARK).parent / f"benchmark_{name}.jsonl"
    assert [json.loads(x)["question"] for x in built.read_text().splitlines()] == [
        r["question"] for r in rows
    ]
    args = ["--source", str(source), "--split-all", split, "--id-prefix", prefix]
    assert build_main([*args, "--out", str(built), "--check"]) == 0
