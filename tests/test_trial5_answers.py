"""Answers a fifth radiologist's trial (2026-12-05, 158 questions, 28 judged wrong) found wrong,
asked through the grounded responder with constructed evidence, or through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    LEFT_BRIGHT,
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    scan_summary,
    synthetic_result,
)

from assistant.analysis import build_evidence
from assistant.domain import Applicability
from assistant.evidence import Message
from assistant.responders.intents import resolve
from eval.qa.metrics import yes_no

ask = grounded_ask
evidence = finding_evidence
SKULL_STRIPPED = Applicability(
    in_domain=False, reasons=["The slice looks skull-stripped: the outline is the brain."]
)


def refused():
    """A volume the applicability check refused (not analysed)."""
    summary = {**scan_summary(), "source_shape": [182, 218, 182]}
    return build_evidence(None, summary, applicability=SKULL_STRIPPED)


def anyway():
    """The same volume analysed anyway, with one region."""
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 117}
    return build_evidence(
        synthetic_result([LEFT_BRIGHT]), summary, applicability=SKULL_STRIPPED, unreliable=True
    )


def healthy():
    return build_evidence(synthetic_result([]), {**scan_summary(), "level_mm": 23.0})


def test_a_scan_analysed_anyway_gets_no_yes_no_and_no_count():
    """Before: "anything abnormal", "yes or no: lesions present?" -> "Yes."; "how many lesions?" ->
    "1."; "periventricular lesions?" / "any callosal lesions" -> "Yes, a region deviates ...",
    right after "the following is not evidence about this scan"."""
    ev = anyway()
    for q in ("anything abnormal", "yes or no: lesions present?"):
        a = ask(q, ev)
        assert a.startswith("Unreliable:") and "I can't tell: on a scan outside its domain" in a, q
        assert "What it flagged: the detector found 1 region" in a
        assert yes_no(a.split("[A1]", 1)[1]) is None
    assert "I can't tell how many lesions there are" in ask("how many lesions?", ev)
    for q, term in [
        ("periventricular lesions?", "periventricular"),
        ("any callosal lesions", "callosal"),
    ]:
        assert f"I can't tell whether there are {term} lesions" in ask(q, ev), q
    edge = ask("is the heatmap just lighting up the brain edge?", ev)
    assert "I can't tell from the detector's output" in edge


def test_whether_a_refused_scan_can_be_read_gets_the_reason():
    """Before: "why wont you analyse this", "can you read this one?", "so you can't read it?" ->
    "I can't answer that from the evidence available"; "any new lesions?" of a refused scan said
    only that there was no prior."""
    ev = refused()
    why = ask("why wont you analyse this", ev)
    assert why.startswith("Because the anomaly detector does not apply to this image [A1]")
    assert ask("can you read this one?", ev).startswith("No: the anomaly detector does not apply")
    assert ask("so you can't read it?", ev).startswith("That's right: the anomaly detector")
    new = ask("MS pt, 34F, follow-up. any new lesions?", ev)
    assert new.startswith("I can't tell what is new") and "Nor was this scan analysed" in new
    assert ask("can you analyse this", anyway()).startswith("Not reliably:")
    assert ask("can you analyse this", evidence()).startswith(
        "Yes: the applicability check accepted it"
    )


def test_small_lesions_other_lesions_and_a_whole_study():
    """Before: "could a small lesion be missed here?" -> "There is no finding to be confident
    about"; "any lesions at all, even tiny ones?" -> a flat "No"; "any other lesion elsewhere on
    the slice" -> "1."; "ok so normal study then?" of one PNG slice -> "Yes, as far as this
    detector can tell" with no word on the rest of the study."""
    ev = healthy()
    assert ask("could a small lesion be missed here?", ev).startswith("Yes, quite possibly")
    tiny = ask("any lesions at all, even tiny ones?", ev)
    assert tiny.startswith("No") and "Small lesions are mostly missed" in tiny
    other = ask("any other lesion elsewhere on the slice", evidence())
    assert other.startswith("No, only F1 [F1] was found")
    two = build_evidence(synthetic_result([LEFT_BRIGHT, RIGHT_DARK]), scan_summary())
    assert ask("any other lesion elsewhere on the slice", two).startswith("Yes: besides F1")
    study = ask("ok so normal study then?", ev)
    assert study.startswith("Yes, as far as this detector can tell")  # the benchmarks' reading
    assert "This is one 2D slice: the rest of the study was not seen" in study


def test_places_signs_and_kinds_it_does_not_assess():
    """Before: "and the thalami?" of a slice at +23 mm -> "No"; "sinus disease?" -> "No, not
    clearly"; "anything asymmetric L vs R?" -> "No, not clearly"; "cyst vs encephalomalacia" ->
    "Yes, ... whether it is a cyst ..."."""
    ev = healthy()
    history = [Message("user", "anything in the basal ganglia?"), Message("assistant", "No ...")]
    assert ask("and the thalami?", ev, history).startswith(
        "I can't tell for most of them: the thalami lie below the analysed slice"
    )
    assert ask("sinus disease?", ev).startswith("I can't tell: the detector does not assess")
    assert ask("anything asymmetric L vs R?", ev).startswith("I can't tell: the detector does not")
    cyst = ask("CSF signal? cyst vs encephalomalacia", evidence())
    assert cyst.startswith("I can't tell whether it is cyst or encephalomalacia")


def test_acquisition_details_and_the_display_convention():
    """Before: "matrix size?" and "whats the TR/TE" -> "does not record its imaging modality";
    "modality and sequence per header" -> the sequence only; "right or left - radiological or
    neurological convention?" -> the side only."""
    vol = evidence(source_shape=[120, 120, 90], source_spacing_mm=[2.0, 2.0, 2.0])
    assert ask("matrix size?", vol).startswith("The volume is 120 x 120 x 90 voxels as loaded, 2")
    assert "TR, TE, TI and the flip angle are not recorded in a NIfTI file" in ask(
        "whats the TR/TE", vol
    )
    both = ask("modality and sequence per header", evidence(modality="MR"))
    assert "The header gives the modality as MR." in both and "sequence" in both
    side = ask("right or left - radiological or neurological convention?", evidence())
    assert side.startswith("Left.") and "(neurological convention)" in side


def test_vignettes_and_the_age_of_a_lesion_are_read_for_what_they_ask():
    """Before: "71M, hx of stroke. old infarct?" was refused as general health ("history of");
    "so can you say if it's acute?" was a presence question; "frontal lobe tumour?" a location
    one."""
    assert resolve("71M, hx of stroke. old infarct?").intent == "presence"
    old = ask("71M, hx of stroke. old infarct?", evidence())
    assert "I can't tell whether it is an infarct" in old  # the kind asked, not the history
    assert resolve("Tell me about the history of MRI").intent == "out_of_scope"
    history = [Message("user", "is it a stroke?"), Message("assistant", "Yes, a region ...")]
    assert resolve("so can you say if it's acute?", history, ["F1"]).intent == "explanation"
    assert resolve("acute or chronic?").intent == "explanation"
    assert resolve("frontal lobe tumour?").intent == "presence"
    assert resolve("Where is the lesion?").intent == "location"


# ----------------------------------------------------------------------------- sixth trial
def test_sixth_trial_answers():
    """A sixth trial (156 questions, 18 judged wrong, 11.5%): "can I tell the pt its normal" and
    "so normal study then?" of a volume analysed at five levels -> "Yes, probably at the analysed
    levels"; "sinuses clear?" -> "Yes, probably"; "is there a 2nd lesion anywhere" -> "Yes";
    "anything hot outside the lesion?" -> "Yes" then the lesion itself; "rest of the brain ok?" ->
    "No, not normal"; "any change compared to the prior" and "can i report this as MS
    progression?" never said that there is no prior; "pts age?" -> a presence answer; "which
    levels did you look at" of a refused scan -> its displayed slice as if analysed."""
    from assistant_fixtures import weak_five_level_volume

    vol = weak_five_level_volume()
    for q in ("can I tell the pt its normal", "so normal study then?"):
        assert ask(q, vol).startswith("I can't tell for the whole scan"), q
    assert ask("sinuses clear?", healthy()).startswith("I can't tell: the detector does not")
    ev = evidence()
    for q in ("is there a 2nd lesion anywhere", "heatmap - anything hot outside the lesion?"):
        assert ask(q, ev).startswith("No, only F1 [F1] was found"), q
    # (since the twelfth trial: "on this slice", for one slice does not show the rest of the brain)
    assert ask("rest of the brain ok?", ev).startswith("Nothing else on this slice, yes: only F1")
    for q in ("any change compared to the prior", "can i report this as MS progression?"):
        assert ask(q, ev).startswith("I can't compare: no prior study was provided"), q
    assert resolve("pts age?").intent == "out_of_scope"
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 97}
    out = build_evidence(None, summary, applicability=SKULL_STRIPPED)
    assert ask("which levels did you look at", out).startswith(
        "None: the detector did not analyse this scan"
    )
    lacunar = ask("67M hx of HTN. old lacunar infarct?", ev)
    assert "I can't tell whether it is a lacunar infarct" in lacunar
    small = ask("could a small lesion be missed", vol)
    assert small.startswith("Yes, quite possibly") and "No, not clearly" not in small


def test_confidence_about_a_named_kind_is_not_confidence_in_the_kind():
    """Tried as a user: "honestly, would you bet this is a tumour?" -> "Here: F1 0.98 (high)",
    which reads as 98% sure of a tumour; the confidence is that F1 is a true lesion at all."""
    bet = ask("honestly, would you bet this is a tumour?", evidence())
    assert bet.startswith("I can't tell whether it is a tumour: the detector does not tell kinds")
    assert "Here: F1" in bet
    assert ask("how confident are you?", evidence()).startswith("Confidence is the estimated")
