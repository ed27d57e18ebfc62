"""Answers an eighth radiologist's trial (2026-12-05, 155 questions, 17 judged wrong) found wrong,
asked through the grounded responder with constructed evidence, or through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    skull_stripped_volume,
    weak_five_level_volume,
)

from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence
DECISION = "Whether to go ahead ({}) is a clinical decision that this research tool cannot inform"


def test_a_procedure_or_treatment_is_not_given_a_yes_or_a_no():
    """ "so ok to give tPA?" -> "Yes, as far as this detector can tell"; "safe to do an LP on
    this pt?" and "ok to restart her anticoag then?" -> "No, not normal."."""
    assert ask("so ok to give tPA?", healthy_evidence()).startswith(DECISION.format("tPA"))
    lp = ask("safe to do an LP on this pt?", evidence())
    assert (
        lp.startswith(DECISION.format("LP"))
        and "What the detector found: the detector found 1" in lp
    )
    assert ask("ok to restart her anticoag then?", evidence()).startswith(
        DECISION.format("anticoag")
    )
    tell = ask("pt is asking 'is my brain normal', what do i tell her", healthy_evidence())
    assert tell.startswith(
        "Nothing was found, but that is not enough on its own to tell the patient"
    )
    assert "clinical decision" in tell


def test_questions_read_for_what_they_ask():
    """ "R/L?" was out of scope; "mets, abscess or GBM, which fits best?" after a history naming
    the lung was refused; "anywhere other than the lesion" -> "1."; "lesion? which side" gave
    the side only; "does this analysis cover the whole brain?" -> "Yes, but ..."; "voxel size
    and orientation" gave the voxel size only; "and the slice shown, which number is it" -> the
    modality; "what about outside the levels you looked at" -> "No clear abnormality"."""
    assert resolve("R/L?").intent == "side"
    ddx = "62M, known lung adenoCA, new confusion x3 days. ring-like lesion here - mets, abscess or GBM, which fits best?"
    assert resolve(ddx).intent == "explanation"
    assert resolve("is the liver normal on this CT?").intent == "out_of_scope"
    ev = evidence()
    assert ask("does the heatmap light up anywhere other than the lesion", ev).startswith(
        "No, only F1 [F1] was found"
    )
    low = evidence((RIGHT_DARK,))
    side = ask("lesion? which side", low)
    assert side.startswith("Yes, but only a low-confidence region") and "F1 lies on" in side
    vol = weak_five_level_volume()
    for q in (
        "does this analysis cover the whole brain?",
        "what about outside the levels you looked at",
    ):
        assert resolve(q).intent == "modality", q
        assert "The rest of the volume was not analysed" in ask(q, vol), q
    assert ask("and the slice shown, which number is it", vol).startswith(
        "Axial slice 75 of this volume's 120"
    )
    both = ask("voxel size and orientation of the volume?", evidence(**_VOLUME))
    assert "between slices" in both and "neurological convention" in both


_VOLUME = {"source_shape": [9, 64, 80], "source_spacing_mm": [1.0, 1.0, 1.0], "slice_index": 4}


def test_what_it_cannot_tell_is_said_without_contradiction():
    """ "is that a ring lesion or am i seeing things" -> "I can't tell whether this is a ring
    lesion or am i seeing things"; "is it deep grey (basal ganglia) or more cortical" -> "I
    can't tell whether it is deep" then "deep (central)"; "anything acute?" -> "Yes."."""
    ev = evidence()
    seeing = ask("is that a ring lesion or am i seeing things", ev)
    assert seeing.startswith("Yes, you are not seeing things: the detector found 1 region")
    assert "Whether it is a ring lesion I can't tell" in seeing
    assert ask("am i seeing things?", healthy_evidence()).startswith(
        "No, the detector found nothing there"
    )
    tell = "Can I tell the anticoagulation clinic that no bleed is seen?"
    assert ask(tell, healthy_evidence()).startswith(
        "Nothing was found, yes"
    )  # a reading, then the act
    assert "map follows the brain's edge" not in ask(
        "Is F1 just an artefact at the edge of the skull?", ev
    )
    deep = ask("is it deep grey (basal ganglia) or more cortical", evidence((RIGHT_DARK,)))
    assert deep.startswith("I can't tell whether it lies in the deep grey matter or the cortex")
    if "deep (central)" in deep:
        assert '"deep" there means central in the image' in deep
    acute = ask("78F fall, on apixaban. anything acute?", ev)
    assert acute.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is acute"
    )


def test_a_refused_or_analysed_anyway_scan():
    """ "what do I need to do to make it analysable" of a refused scan led "I can't tell."; "is
    the heatmap hot along the brain edge?" of a scan analysed anyway described the heatmap."""
    refused = skull_stripped_volume()
    fix = ask("what do I need to do to make it analysable", refused)
    assert fix.startswith("It can't be analysed as it is. The anomaly detector does not apply")
    anyway = skull_stripped_volume(analysed_anyway=True)
    edge = ask("is the heatmap hot along the brain edge?", anyway)
    assert "not whether the map follows the brain's edge" in edge
