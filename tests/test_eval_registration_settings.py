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
