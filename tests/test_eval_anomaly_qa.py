"""The anomaly-QA benchmark builder on synthetic lesion sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from qa_helpers import synth_set, write_phantoms

from eval.anomaly_qa import AnomalyQAConfig, build_anomaly_qa, main
from eval.qa.formats import load_benchmark, resolve_image


def _labels(folder):
    return [json.loads(x) for x in (folder / "labels.jsonl").read_text().splitlines() if x]


def test_answers_follow_the_labels_and_masks(tmp_path):
    data = synth_set(tmp_path, n=6)
    records = build_anomaly_qa(data)
    by_id = {r["qid"]: r for r in records}
    labels = _labels(data)
    assert any(lab["abnormal"] for lab in labels) and not all(lab["abnormal"] for lab in labels)
    for lab in labels:
        stem = lab["name"][:-4]
        pres, neg = by_id[f"{stem}-presence"], by_id[f"{stem}-presence_negated"]
        size = lab["size_bin"] if lab["abnormal"] else "none"
        assert all(r["lesion_size"] == size for k, r in by_id.items() if k.startswith(stem + "-"))
        assert pres["answer"] == ("yes" if lab["abnormal"] else "no")
        assert neg["answer"] == ("no" if lab["abnormal"] else "yes")  # "Is this normal?"
        if not lab["abnormal"]:
            assert not any(k.startswith(stem + "-side") for k in by_id)
            continue
        mask = np.asarray(Image.open(data / "masks" / lab["name"])) > 127
        col = np.nonzero(mask)[1].mean()
        if f"{stem}-side" in by_id:
            expected = "left" if col < mask.shape[1] / 2 else "right"
            assert by_id[f"{stem}-side"]["answer"] == expected == lab["side"]
            yn = by_id[f"{stem}-side_yesno"]
            assert yn["answer"] == ("yes" if expected in yn["question"] else "no")
        assert by_id[f"{stem}-size"]["answer"] == lab["size_bin"]
        if lab["intensity"] != "mixed":
            assert by_id[f"{stem}-intensity"]["answer"] == lab["intensity"]
    # VQA-RAD format: loadable by the vqa-rad loader, images resolvable, all closed
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(records))
    items = load_benchmark(path, "vqa-rad")
    assert len(items) == len(records) and all(i.answer_type == "CLOSED" for i in items)
    assert {i.question_type[0] for i in items} <= {"PRES", "POS", "ATTRIB", "SIZE"}
    assert items[0].meta["question_subtype"] == "presence"
    assert items[0].meta["lesion_size"] == by_id[items[0].id]["lesion_size"]
    assert resolve_image(data, items[0].image).is_file()
    assert build_anomaly_qa(data) == records  # deterministic


def test_ambiguous_and_mixed_lesions_are_not_asked(tmp_path):
    data = tmp_path / "set"
    write_phantoms(data / "images", 2)
    h, w = 96, 80
    base = {"abnormal": True, "kind": "ring", "size_bin": "small", "ap": "anterior"}
    lines = [
        # centroid on the midline column, mixed (ring) intensity: no side, no intensity question
        {
            **base,
            "name": "h0.png",
            "side": "left",
            "intensity": "mixed",
            "centroid": [20.0, w / 2 - 0.5],
        },
        # centroid on the brain's centroid row: no anterior/posterior question
        {
            **base,
            "name": "h1.png",
            "kind": "hyperintense",
            "side": "left",
            "intensity": "hyperintense",
            "centroid": [h / 2, 10.0],
        },
    ]
    (data / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    ids = {r["qid"] for r in build_anomaly_qa(data, AnomalyQAConfig(seed=1))}
    assert "h0-side" not in ids and "h0-intensity" not in ids and "h0-anterior_posterior" in ids
    assert "h1-side" in ids and "h1-intensity" in ids and "h1-anterior_posterior" not in ids


def test_bad_folders(tmp_path):
    with pytest.raises(ValueError, match="labels.jsonl"):
        build_anomaly_qa(tmp_path)
    (tmp_path / "labels.jsonl").write_text(json.dumps({"name": "x.png", "abnormal": False}) + "\n")
    with pytest.raises(ValueError, match="does not exist"):
        build_anomaly_qa(tmp_path)


def test_cli_synthesises_then_builds(tmp_path):
    healthy = write_phantoms(tmp_path / "healthy", 4)
    out = tmp_path / "bench.json"
    assert (
        main(["--data", str(tmp_path / "set"), "--healthy", str(healthy), "--out", str(out)]) == 0
    )
    records = json.loads(out.read_text())
    presence = [r for r in records if r["question_subtype"] == "presence"]
    assert len(presence) == 4
    assert sum(r["answer"] == "yes" for r in presence) == 2  # --healthy-fraction 0.5
