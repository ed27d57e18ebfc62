"""Case manifests: broken lines reported with line numbers and skipped; the CLI path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from retrieval.cases import read_manifest


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "scan.png"
    Image.fromarray((np.random.default_rng(0).random((32, 40)) * 255).astype(np.uint8)).save(path)
    return path


def test_jsonl_broken_lines_are_reported_and_skipped(tmp_path, image_file):
    lines = [
        json.dumps({"id": "a", "image": "scan.png", "findings": "ok", "synthetic": True}),
        "{not json",
        json.dumps({"id": "b", "image": "missing.png", "findings": "x"}),
        json.dumps({"findings": "no id"}),
        "",
        json.dumps({"id": "c", "findings": "bad flag", "synthetic": "maybe"}),
        json.dumps({"id": "a", "findings": "duplicate"}),
        json.dumps({"id": "d", "impression": "text only", "labels": ["x", "y"]}),
        json.dumps({"id": "e", "findings": "bad profile", "profile": [{"side": "up"}]}),
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")
    cases, problems = read_manifest(path)
    assert [c.id for c in cases] == ["a", "d"]
    assert cases[0].images == [str(image_file.resolve())] and cases[0].synthetic
    assert cases[1].labels == ["x", "y"] and cases[1].profile is None
    by_line = {p.line: p.message for p in problems}
    assert sorted(by_line) == [2, 3, 4, 6, 7, 9]
    assert "not valid JSON" in by_line[2]
    assert "image not found: missing.png" in by_line[3]
    assert "missing 'id'" in by_line[4]
    assert "synthetic" in by_line[6] and "duplicate" in by_line[7]
    assert "profile" in by_line[9] or "missing" in by_line[9]


def test_csv_manifest_with_profile_and_line_numbers(tmp_path, image_file):
    prof = json.dumps({"side": "left", "anterior_posterior": "anterior",
                       "central_peripheral": "central", "intensity": "hypointense",
                       "size_bin": "small"})  # fmt: skip
    path = tmp_path / "cases.csv"
    with open(path, "w", newline="") as fh:
        import csv

        w = csv.writer(fh)
        w.writerow(["id", "image", "findings", "labels", "profile", "normal"])
        w.writerow(["p1", "scan.png", "dark spot", "ms;lesion", prof, ""])
        w.writerow(["p2", "nope.png", "x", "", "", ""])
        w.writerow(["p3", "scan.png", "normal scan", "", "", "true"])
    cases, problems = read_manifest(path)
    assert [c.id for c in cases] == ["p1", "p3"]
    assert cases[0].labels == ["ms", "lesion"] and cases[0].profile[0].intensity == "hypointense"
    assert cases[1].profile == []  # normal
    assert [p.line for p in problems] == [3]


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "none.jsonl")
    bad = tmp_path / "cases.txt"
    bad.write_text("x")
    with pytest.raises(ValueError, match=".jsonl or .csv"):
        read_manifest(bad)


def test_cli_build_and_search(tmp_path, image_file, capsys):
    from assistant.cli import main

    rows = [
        {"id": "r1", "image": "scan.png", "findings": "Hyperintense lesion in the left frontal "
         "white matter.", "impression": "Demyelination likely.", "source": "test", "license": "CC0"},
        {"id": "r2", "findings": "Large hypointense mass in the right temporal lobe."},
        {"id": "r3", "image": "gone.png", "findings": "broken"},
    ]  # fmt: skip
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "idx"
    assert main(["index", "build", "--cases", str(manifest), "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert "line 3" in cap.err and "gone.png" in cap.err and "indexed 2 cases" in cap.out
    argv = ["index", "search", "--index", str(out), "--text", "left frontal white matter"]
    assert main([*argv, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["cases"]["hits"][0]["id"] == "r1"
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "r1" in text and "similarity" in text and "Demyelination" in text
    assert main(["index", "search", "--index", str(out)]) == 2  # nothing to search with
