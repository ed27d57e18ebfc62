"""eval.registration_settings: a setting's best of K starts is read from its single-seed runs."""

from __future__ import annotations

import pytest

from eval.registration_settings import SETTINGS, summarise


def _row(volume, setting, seed, sim, secs, n, in_domain=True):
    return {"volume": volume, "setting": setting, "seed": seed, "similarity": sim,
            "seconds": secs, "in_domain": in_domain, "n_findings": n}  # fmt: skip


def test_best_of_starts_keeps_the_most_similar_run_and_adds_its_seconds():
    rows = []
    for name in SETTINGS:
        rows += [
            _row("a", name, 1, 0.60, 1.0, 1, in_domain=False),  # refused at seed 1
            _row("a", name, 2, 0.80, 1.5, 0),
            _row("b", name, 1, 0.85, 2.0, 1),
            _row("b", name, 2, 0.84, 3.0, 0),
        ]
    out = summarise(rows, seeds=2)
    name = next(iter(SETTINGS))
    one, two = out[f"{name}, seed 1"], out[f"{name}, best of 2 starts"]
    assert (one["n_in_domain"], one["with_findings"]) == (1, 1)
    assert one["min_similarity"] == pytest.approx(0.60)
    # best of two: a's seed 2 (0.80, in domain, no finding), b's seed 1 (0.85, one finding)
    assert (two["n_volumes"], two["n_in_domain"], two["with_findings"]) == (2, 2, 1)
    assert two["mean_similarity"] == pytest.approx(0.825, abs=1e-4)
    assert two["median_seconds"] == pytest.approx(3.75)  # (2.5 + 5.0) / 2
    assert two["max_seconds"] == pytest.approx(5.0)


def test_second_start_only_below_the_cutoff_is_read_from_the_same_runs():
    rows = []
    for name in ("dense", "masked"):
        rows += [
            _row("a", name, 1, 0.70, 1.0, 1),  # below every cutoff: seed 2 runs and wins
            _row("a", name, 2, 0.78, 2.0, 0),
            _row("b", name, 1, 0.82, 3.0, 1),  # below 0.85 only; seed 2 runs but loses
            _row("b", name, 2, 0.81, 4.0, 0),
        ]
    out = summarise(rows, seeds=2)
    low, mid, high = (out[f"masked, seed 2 if seed 1 < {c}"] for c in (0.75, 0.8, 0.85))
    assert (low["with_findings"], low["mean_similarity"]) == (1, pytest.approx(0.80))
    assert low["median_seconds"] == pytest.approx(3.0)  # a: 1 + 2 s, b: 3 s
    assert mid == low
    assert high["with_findings"] == 1 and high["median_seconds"] == pytest.approx(5.0)  # 3, 7
    assert set(out) >= {"dense, seed 1", "masked, best of 2 starts"}


def test_merged_rows_take_each_setting_from_one_run_only(tmp_path):
    import json

    from eval.registration_settings import merged_rows

    now = [_row(v, "capped", s, 0.8, 1.0, 0) for v in "ab" for s in (1, 2)]
    first = [_row(v, n, s, 0.7, 2.0, 0) for v in "ab" for n in ("dense", "capped") for s in (1, 2)]
    older = [
        _row(v, n, s, 0.6, 3.0, 1) for v in "ab" for n in ("dense", "sparse") for s in (1, 2, 3)
    ]
    files = []
    for name, rows in (("first", first), ("older", older)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps({"rows": rows}))
    rows = merged_rows(files, now, seeds=2)
    by = {(r["setting"], r["volume"], r["seed"]): r for r in rows}
    assert len(rows) == len(by) == 12  # 3 settings x 2 volumes x seeds 1-2 (older seed 3 left)
    assert by[("capped", "a", 1)]["seconds"] == 1.0  # run now wins over `first`
    assert by[("dense", "b", 2)]["seconds"] == 2.0  # `first` wins over `older`
    assert by[("sparse", "a", 2)]["seconds"] == 3.0
    assert {(r["setting"], r["run"]) for r in rows} == {
        ("capped", "now"),
        ("dense", "first.json"),
        ("sparse", "older.json"),
    }
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rows": [_row("c", "sparse", 1, 0.6, 3.0, 0)]}))
    with pytest.raises(SystemExit, match="volumes differ"):
        merged_rows([other], now, seeds=2)
