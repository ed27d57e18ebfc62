"""Answers a third radiologist's trial (2026-12-05, 170 questions on two example PNGs, a real
healthy IXI volume, a real MS patient's skull-stripped volume and a chest X-ray) judged wrong,
asked through the grounded responder with constructed evidence, or through the intent reader."""

from __future__ import annotations

import pytest
from assistant_fixtures import (
    LEFT_BRIGHT,
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    scan_summary,
    synthetic_result,
    weak_five_level_volume,
)

from assistant.analysis import build_evidence
from assistant.domain import Applicability
from assistant.evidence import Message
from assistant.responders.intents.resolve import classify
from eval.qa.metrics import yes_no

ask = grounded_ask
evidence = finding_evidence


weak_volume = weak_five_level_volume


@pytest.mark.parametrize(
    "question, intent",
    [
        ("What is the total lesion load in ml?", "size"),
        ("How many levels is that based on?", "modality"),
        ("Is the detector trained on scans like this one?", "modality"),
        ("What space is this volume in?", "modality"),
        ("Has the skull been removed from this image?", "modality"),
        ("What should I upload instead so that you can read it?", "modality"),
        ("Is the registration to MNI any good?", "modality"),
        ("And would you pick up a 3 mm lesion?", "confidence"),
        ("Does the lesion involve the caudate or the internal capsule?", "location"),
        ("Is the lesion in grey or white matter?", "location"),
    ],
)
def test_third_trial_questions_are_read_for_what_they_ask(question, intent):
    assert classify(question)[0] == intent


def test_a_volume_analysed_at_a_few_levels_is_not_signed_off_whole():
    """Before: "nad?" -> "Yes, probably" and "Is the whole brain normal?" -> "No, not for the whole
    head" of a healthy volume analysed at five levels; "Chiari malformation?" / "Is there a pineal
    cyst?" -> "No, not clearly"; "and the cerebellum?" as a follow-up lost the level answer;
    "Any weak or borderline regions?" -> "No, not clearly" then W1; "How many levels is that
    based on?" -> "0."."""
    ev = weak_volume()
    assert ask("nad?", ev).startswith("Yes, probably at the analysed levels:")
    assert ask("Is the whole brain normal?", ev).startswith("I can't tell for the whole head")
    assert ask("Can you rule out a bleed anywhere in the brain?", ev).startswith(
        "No, not for the whole head"
    )
    assert ask("So overall is the scan clear?", ev).startswith("I can't tell for the whole head")
    for q, place in [
        ("Chiari malformation?", "craniocervical junction"),
        ("Is there a pineal cyst?", "pineal region"),
        ("Could you look at the orbits?", "orbits"),
        ("Anything above the ventricles?", "levels above the lateral ventricles"),
    ]:
        assert ask(q, ev).startswith(f"I can't tell: the {place}"), q
    history = [Message("user", "What about the white matter?"), Message("assistant", "W1 ...")]
    follow = ask("and the cerebellum?", ev, history)
    assert follow.startswith("I can't tell: the cerebellum is not on the levels")
    assert ask("Any weak or borderline regions?", ev).startswith(
        "Yes, weaker regions below the image threshold"
    )
    assert "the 5 levels the detector was trained for" in ask(
        "How many levels is that based on?", ev
    )


def test_processing_questions_get_the_processing():
    """Before: the registration's quality, the storage orientation, the space, the level, skull
    on or stripped, and what to upload were answered as presence, size or a refusal."""
    ev = weak_volume()
    assert "similarity 0.86" in ask("Is the registration to MNI any good?", ev)
    assert ask("What orientation is the volume stored in?", ev).startswith(
        "The file stores its voxels in PSR order"
    )
    assert ask("Has it got a skull on or is it skull-stripped?", ev).startswith("Skull on:")
    assert ask("Which axial level is this slice at?", ev).startswith("About MNI z = +23 mm")
    assert ask("Is the detector trained on scans like this one?", ev).startswith(
        "Yes, as far as the applicability check can tell"
    )
    refused = Applicability(
        in_domain=False,
        reasons=[
            "The slice looks skull-stripped. accepted: axial T1-weighted brain MRI within 4.5 mm "
            "of MNI z = +23 mm (the level of the lateral ventricles), as a 2D slice. Upload an "
            "axial T1-weighted brain MRI at that level."
        ],
    )
    summary = {**scan_summary(), "source_shape": [182, 218, 182]}
    out = build_evidence(None, summary, applicability=refused)
    assert ask("Has the skull been removed from this image?", out).startswith("Yes: the")
    upload = ask("What should I upload instead so that you can read it?", out)
    assert upload.startswith("The detector accepts axial T1-weighted brain MRI within 4.5 mm")
    assert "Upload an axial T1-weighted brain MRI at that level." in upload
    assert ask("Is the detector trained on scans like this one?", out).startswith("No: the")
    assert ask("What space is this volume in?", out).startswith(
        "This volume was not registered to MNI space"
    )


def test_what_a_question_qualifies_a_lesion_by_is_said_in_the_lead():
    """Before: "Is there a juxtacortical lesion?" -> "Yes."; "Does it restrict diffusion?" ->
    "Yes."; "is there midline shift or mass effect" -> "Yes, ... whether it is a mass ..."; "No
    haemorrhage, correct?" -> "No, not normal." with no hedge; "?SOL" -> a bare "Yes."."""
    ev = evidence()
    jux = ask("Is there a juxtacortical lesion?", ev)
    assert jux.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is juxtacortical"
    )
    assert yes_no(jux) == "yes"
    wm = ask("Any white matter lesions?", ev)
    assert wm.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it involves the white matter"
    )
    assert ask("Does it restrict diffusion?", ev).startswith("I can't tell: the detector does not")
    assert ask("is there midline shift or mass effect", ev).startswith(
        "I can't tell: the detector does not assess that (midline shift)"
    )
    bleed = ask("No haemorrhage, correct?", ev)
    assert bleed.startswith("No, not normal: a region deviates from healthy anatomy, but whether")
    assert yes_no(bleed) == "no"
    assert ask("?SOL", ev).startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is a space-occupying lesion"
    )
    assert ask("Is the corpus callosum intact?", evidence([])).startswith("Yes, as far as")
    caudate = ask("Does the lesion involve the caudate or the internal capsule?", ev)
    assert caudate.startswith("I can't tell whether it involves the caudate")
    gw = ask("Is the lesion in grey or white matter?", ev)
    assert gw.startswith("I can't tell whether it lies in the grey or the white matter")


def test_a_scan_analysed_anyway_keeps_its_warning_and_its_levels():
    """Before, of a skull-stripped volume analysed anyway at one level: "Any lesions in the
    posterior fossa?" -> "Yes."; "Show me similar cases" without the warning; "total lesion load in
    ml?" put the warning in the middle."""
    refused = Applicability(in_domain=False, reasons=["The slice looks skull-stripped."])
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 117}
    summary["level_mm"] = 23.0
    ev = build_evidence(synthetic_result([LEFT_BRIGHT]), summary, applicability=refused,
                        unreliable=True)  # fmt: skip
    fossa = ask("Any lesions in the posterior fossa?", ev)
    assert fossa.startswith("Unreliable:") and "I can't tell: the posterior fossa is not" in fossa
    load = ask("What is the total lesion load in ml?", ev)
    assert load.startswith("Unreliable:") and "A volume cannot be measured" in load
    jux = ask("Is there a juxtacortical lesion?", ev)
    # (fifth trial: no "Yes" lead on a scan analysed anyway, whose output is not evidence)
    assert "I can't tell whether there are juxtacortical lesions" in jux


def test_sensitivity_and_the_frame_of_a_side():
    """Before: "would you pick up a 3 mm lesion?" -> "No: the detector found no region";
    "Is it the patient's left or the image left?" -> "Yes."; "The right side is normal, isn't
    it?" -> "Yes." with the patient's side unknown."""
    small = ask("And would you pick up a 3 mm lesion?", evidence([]))
    assert small.startswith("Probably not reliably. Small lesions are mostly missed")
    png = build_evidence(
        synthetic_result([LEFT_BRIGHT], spacing=None, frame="image"),
        {**scan_summary(None), "format": "png", "patient_left": None, "modality": None},
    )
    assert ask("Is it the patient's left or the image left?", png).startswith(
        "Image left; the patient's side is unknown."
    )
    assert ask("The right side is normal, isn't it?", png).startswith(
        "Yes for the image's right side."
    )


def test_an_acute_treatment_decision_is_not_informed_by_the_tool():
    """Before: "62M, sudden onset right arm weakness 3h ago. Is this a stroke, should we
    thrombolyse?" -> the cause answer alone."""
    a = ask("62M, sudden onset right arm weakness 3h ago. Is this a stroke, should we thrombolyse?",
            evidence())  # fmt: skip
    assert a.startswith("Whether to give or withhold an acute treatment")
    assert "[F1]" in a
    # a presence question keeps its yes/no ("Can we rule out a bleed before we thrombolyse?")
    assert yes_no(ask("Can we rule out a bleed before we thrombolyse?", evidence([]))) == "yes"


# ----------------------------------------------------------------------------- fourth trial
def test_fourth_trial_answers():
    """A fourth trial (159 questions, 49 judged wrong) on the code after the third trial's fixes:
    "Is there brain atrophy?" analysed anyway was "Yes."; "c/w demyelination?" a bare "Yes.";
    "single or multiple?" was "No."; "Estimate the volume in cubic cm" gave a length as an area;
    "Anything on the top slice?" answered about slice 4; field strength got the modality;
    "Is the detector validated on MS lesions?" and "what can you analyse then?" were presence
    answers or refusals; "Nothing else abnormal apart from the ring?" was "No, not normal."."""
    refused = Applicability(in_domain=False, reasons=["The slice looks skull-stripped."])
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 117}
    anyway = build_evidence(synthetic_result([LEFT_BRIGHT]), summary, applicability=refused,
                            unreliable=True)  # fmt: skip
    atrophy = ask("Is there brain atrophy?", anyway)
    assert (
        atrophy.startswith("Unreliable:")
        and "I can't tell: the detector does not" in atrophy  # (assess that / measure volume)
    )
    ev = evidence()
    assert ask("c/w demyelination?", ev).startswith(
        "A region deviates from healthy anatomy, yes, but"
    )
    assert ask("Is it a single lesion or multiple?", ev).startswith("Single: the detector found 1")
    vol = evidence(source_shape=[9, 64, 80], slice_index=4, source_spacing_mm=[1.0, 0.9, 1.2])
    cubic = ask("Estimate the volume in cubic cm", vol)
    assert cubic.startswith("A volume cannot be measured") and "at its widest" not in cubic
    assert ask("Anything on the top slice?", vol).startswith("I can't tell")
    both = ask("How many slices does this volume have and what's the thickness?", vol)
    assert "1 mm between slices" in both
    assert "field strength" in ask("Is this a 1.5T or 3T scan?", ev)
    assert ask("Is the detector validated on MS lesions?", ev).startswith("No, not on patients")
    assert ask("what can you analyse then?", ev).startswith("This scan was accepted. The detector")
    only = ask("Nothing else abnormal apart from the ring thing?", ev)
    assert only.startswith("Yes, nothing else: only F1 [F1] was found")
    two = build_evidence(synthetic_result([LEFT_BRIGHT, RIGHT_DARK]), scan_summary())
    assert ask("Nothing else abnormal apart from F1?", two).startswith("No: besides F1 [F1]")
    bg = ask("Is the lesion in the basal ganglia or thalamus?", ev)
    assert bg.startswith("I can't tell whether it lies in the basal ganglia or thalamus")


def test_fourth_trial_follow_up_quality_and_orientation():
    """ "and the signal?" after a presence question was the presence answer again; "Is this image
    even good enough quality to analyse?" got the findings' confidence; "how sure are you about
    the side, given NIfTI orientation issues?" a bare "Left."."""
    ev = evidence()
    history = [Message("user", "anything focal?"), Message("assistant", "Yes. ... [F1]")]
    assert ask("and the signal?", ev, history).startswith("Hyperintense.")
    assert ask("Is this image even good enough quality to analyse?", ev).startswith(
        "For this detector, yes: the applicability check accepted it"
    )
    side = ask("how sure are you about the side, given NIfTI orientation issues?", ev)
    assert side.startswith("Left.") and "comes from the file's header" in side


def test_consistent_with_a_diagnosis_is_a_cause_question():
    """ "Is that consistent with chronic infarct?" in a conversation got the presence answer
    (the learned reader overruled the cause reading), later the signal of the previous turn."""
    assert classify("Is that consistent with chronic infarct?")[0] == "explanation"
    assert classify("Is this slice consistent with no traumatic injury?")[0] != "explanation"
    history = [Message("user", "and the signal?"), Message("assistant", "Hyperintense. [F1]")]
    a = ask("Is that consistent with chronic infarct?", evidence(), history)
    assert a.startswith("I can't tell whether this is")


def test_could_you_miss_a_small_lesion_is_a_yes():
    """The sensitivity answer led "Probably not reliably" also to "Could you miss a small
    lesion?", which reads as "No"; and "Does it abut the lateral ventricle?" was "I can't tell
    whether it lies in the ventricle"."""
    assert ask("Could you miss a small lesion?", evidence([])).startswith("Yes, quite possibly.")
    assert ask("Would you pick up a 3 mm lesion?", evidence([])).startswith("Probably not")
    abut = ask("Does it abut the lateral ventricle?", evidence())
    assert abut.startswith("I can't tell whether it abuts the")
