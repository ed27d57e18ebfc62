"""QA metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from eval.qa.metrics import (
    aggregate,
    bootstrap_ci,
    closed_correct,
    exact_match,
    normalize,
    score_item,
    token_f1,
    token_recall,
    yes_no,
)


def test_normalize():
    assert normalize("The  Lesion, is LEFT!") == "lesion is left"
    assert normalize("T2-weighted MRI.") == "t2 weighted mri"
    assert normalize("2.5 cm.") == "2.5 cm"
    assert normalize("Two nodules") == "2 nodules"
    assert normalize("an X-ray") == "x ray"


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("Yes.", "yes", True),
        ("YES, there is a hyperintense lesion [F1].", "Yes", True),
        ("Correct, a lesion is present.", "yes", True),
        ("There is no lesion.", "no", True),
        ("Negative.", "no", True),
        ("No; yes it would be unusual.", "no", True),  # the first polarity word decides
        # the trap: "no" is never matched inside other words
        ("normal", "no", False),
        ("Normal brain.", "no", False),
        ("A nodule is visible.", "no", False),
        ("Not sure.", "no", False),
        ("nodular", "no", False),
        ("I cannot tell from this image.", "yes", False),
        # polarity is read from the first clause only: an abstention is not a "no"
        ("I can't tell: there is no evidence either way.", "no", False),
        ("Uncertain. No region was found.", "no", False),
        ("Based on the findings, no lesion is present.", "no", True),
        ("No abnormality is present.", "yes", False),  # "present" counts only as first word
    ],
)
def test_closed_yes_no(prediction, reference, expected):
    assert closed_correct(prediction, reference, "Is there a lesion?") is expected


def test_yes_no_polarity():
    assert yes_no("Nope") == "no"
    assert yes_no("normal") is None
    assert yes_no("The brain is normal, no lesion.") == "no"
    assert yes_no("\n\nYes: F1 is a region 2.5 mm across.") == "yes"


def test_closed_choice_questions():
    q = "Is the lesion on the left or right side of the image?"
    assert closed_correct("Left", "left", q)
    assert closed_correct("The lesion lies in the LEFT hemisphere (image left) [F1].", "left", q)
    assert not closed_correct("It is on the right side.", "left", q)
    assert closed_correct("Left, not the right.", "left", q)
    assert not closed_correct("Right, not the left.", "left", q)
    assert not closed_correct("I don't know.", "left", q)
    # the first phrase that names an option decides; one naming both options decides nothing
    midline = "Midline. F1 lies at the midline. Left and right refer to the image as displayed."
    assert not closed_correct(midline, "left", q) and not closed_correct(midline, "right", q)
    assert closed_correct("Midline, slightly left. Left and right refer to the image.", "left", q)
    assert not closed_correct("Left or right: I can't tell.", "left", q)
    size_q = "Is the lesion small, medium or large?"
    assert closed_correct("It is small.", "small", size_q)
    assert not closed_correct("Medium, not small.", "small", size_q)
    assert closed_correct("A CT scan", "CT", "Is this an MRI or a CT?")
    assert not closed_correct("an MRI", "CT", "Is this an MRI or a CT?")
    # no options in the question: whole-phrase containment
    assert closed_correct("hyperintense region", "hyperintense", "What is its signal?")
    assert not closed_correct("hyperintensity", "hyperintense", "What is its signal?")


def test_open_metrics_hand_computed():
    # reference tokens: right, upper, lobe; prediction tokens: mass, in, right, lobe
    assert token_recall("Mass in the right lobe", "Right upper lobe") == pytest.approx(2 / 3)
    # precision 2/4, recall 2/3 -> F1 = 2 * (1/2 * 2/3) / (1/2 + 2/3) = 4/7
    assert token_f1("Mass in the right lobe", "Right upper lobe") == pytest.approx(4 / 7)
    assert token_f1("liver", "spleen") == 0.0
    assert token_recall("anything", "") == 0.0
    assert exact_match("The Right upper lobe.", "right upper LOBE")
    assert not exact_match("right upper lobe mass", "right upper lobe")
    # multiplicity: the reference "left left" needs two "left" tokens
    assert token_recall("left", "left left") == pytest.approx(0.5)


def test_score_and_aggregate_hand_computed():
    scores = [
        score_item("1", "Yes", "yes", "Is there a lesion?", "CLOSED", ("PRES",)),
        score_item("2", "normal", "no", "Is there a lesion?", "CLOSED", ("PRES",)),
        score_item("3", "left", "left", "Left or right?", "CLOSED", ("POS",)),
        score_item("4", "Right upper lobe", "right upper lobe", "Where?", "OPEN", ("POS",)),
        score_item(
            "5", "Mass in the right lobe", "Right upper lobe", "Where?", "OPEN", ("POS", "PRES")
        ),
    ]
    assert [s.correct for s in scores] == [True, False, True, True, False]
    m = aggregate(scores, n_boot=200, seed=0)
    assert (m.n, m.n_closed, m.n_open) == (5, 3, 2)
    assert m.closed_accuracy == pytest.approx(2 / 3)
    assert m.open_recall == pytest.approx((1 + 2 / 3) / 2)
    assert m.open_f1 == pytest.approx((1 + 4 / 7) / 2)
    assert m.open_exact == pytest.approx(0.5)
    assert m.overall_accuracy == pytest.approx(3 / 5)
    assert m.by_type["PRES"].n == 3 and m.by_type["PRES"].accuracy == pytest.approx(1 / 3)
    assert m.by_type["POS"].n == 3 and m.by_type["POS"].accuracy == pytest.approx(2 / 3)
    assert m.by_answer_type["OPEN"].accuracy == pytest.approx(0.5)
    lo, hi = m.ci["closed_accuracy"]
    assert 0.0 <= lo <= m.closed_accuracy <= hi <= 1.0
    d = m.to_dict()
    assert d["by_type"]["PRES"]["n"] == 3 and d["closed_accuracy"] == m.closed_accuracy


def test_bootstrap_ci_fixed_seed_and_width():
    x = np.r_[np.ones(80), np.zeros(20)]
    a, b = bootstrap_ci(x, n_boot=2000, seed=3), bootstrap_ci(x, n_boot=2000, seed=3)
    assert a == b  # reproducible
    lo, hi = a
    # binomial standard error sqrt(0.8 * 0.2 / 100) = 0.04: the 95% interval is about +-0.08
    assert lo == pytest.approx(0.72, abs=0.025) and hi == pytest.approx(0.88, abs=0.025)
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)
