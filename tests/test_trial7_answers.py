"""Answers a seventh radiologist's trial (2026-12-05, 156 questions, 24 judged wrong) found wrong,
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

from assistant.evidence import Message
from assistant.responders.intents import resolve
from eval.qa.metrics import yes_no

ask = grounded_ask
evidence = finding_evidence
NAMED = "A region deviates from healthy anatomy, yes, but I can't tell whether it is "


def test_a_named_kind_is_not_a_leading_yes():
    """ "subacute bleed?", "lacunar infarct in the R?", "fat containing lesion like a dermoid or
    lipoma?" got "Yes, ..." (or a bare "Yes."), which reads as a yes to the kind; the lead now
    says that something deviates and that what it is, the detector cannot tell (the benchmarks'
    reading of a presence question stays a yes). A low-confidence region says so too."""
    ev = evidence()
    bleed = ask("subacute bleed? methaemoglobin would fit T1 bright", ev)
    assert bleed.startswith(NAMED + "a bleed") and yes_no(bleed) == "yes"
    assert resolve("lacunar infarct in the R?").intent == "presence"  # not "in the are?"
    assert ask("lacunar infarct in the R?", ev).startswith(NAMED + "a lacunar infarct")
    fat = ask("fat containing lesion like a dermoid or lipoma?", ev)
    assert not fat.startswith("Yes") and "cannot be determined" in fat
    low = ask("febrile pt w/ sinusitis, abscess??", evidence((RIGHT_DARK,)))
    assert low.startswith(
        "A low-confidence region deviates from healthy anatomy, yes, but I can't tell whether it "
        "is an abscess"
    )  # the abscess asked, not the sinusitis of the history
    assert ask("is it in the basal ganglia", ev).startswith(
        "I can't tell whether it lies in the basal ganglia"
    )


def test_a_negative_does_not_exclude_a_named_kind_or_sign_a_patient_off():
    """ "can you exclude a small met", "pls confirm no MS lesions" -> "Yes, ..." then "cannot
    rule out"; "pt is anxious, can i just tell them the scan is fine" -> "Yes"; "SAH?" after a
    history with a headache -> "not about this scan"; "ventricles enlarged? hydrocephalus?" ->
    "No"; a 4 mm lesion "hiding" -> the confidence."""
    well = healthy_evidence()
    met = ask("can you exclude a small met on this", well)
    assert met.startswith("Nothing was found, yes, but that does not rule out a metastasis")
    assert "Small lesions are mostly missed" in met and yes_no(met) == "yes"
    ms = ask("pls confirm no MS lesions", well)
    assert ms.startswith("Nothing was found, yes, but that does not rule out an MS lesion")
    assert ms.count("rule out") == 1
    tell = ask("pt is anxious, can i just tell them the scan is fine", well)
    assert tell.startswith("Nothing was found, yes, but not on this reading alone")
    assert "is a clinical decision that this reading can inform but not make" in tell
    sah = ask("34M with thunderclap headache yesterday. SAH?", well)
    assert sah.startswith("No: ") and "cannot rule out a subarachnoid haemorrhage" in sah
    assert ask("ventricles look enlarged to you? hydrocephalus?", well).startswith(
        "I can't tell: the detector does not assess that (ventricles)"
    )
    hiding = ask("Could a 4 mm lesion be hiding on this and you'd not flag it?", well)
    assert hiding.startswith("Probably not reliably. Small lesions are mostly missed")
    vol = weak_five_level_volume()
    assert ask("r/o mets", vol).startswith(
        "Nothing clear was found, yes, but that does not rule out a metastasis"
    )


def test_questions_read_for_what_they_ask():
    """ "R arm weakness" was read as "are arm weakness", a question about the tool's weaknesses;
    "what would make you more confident" / "more certainty, what else should be done" are what
    would clarify it; "apart from the left side" asks about the other regions; "how big and
    which side" both; the weaker regions of a volume counted as "0"; "analyse it anyway" of a
    scan analysed anyway explained how to ask for it."""
    vignette = "45M, progressive R arm weakness over 6 wks. what's the differential for this"
    assert resolve(vignette).intent == "explanation"
    assert resolve("what are the weaknesses of this tool").intent == "confidence"
    for q in (
        "what would make you more confident",
        "if i wanted more certainty what else should be done",
    ):
        assert resolve(q).intent == "next_steps", q
    assert resolve("how confident are you?").intent == "confidence"
    ev = evidence()
    assert ask("Is the heatmap hot anywhere apart from the left side?", ev).startswith(
        "No, only F1 [F1] was found"
    )
    both = ask("two things: how big and which side", ev)
    assert both.index("F1 covers") < both.index("F1 lies on the patient's left")
    weak = ask(
        "any weak or single-level regions I should eyeball myself?", weak_five_level_volume()
    )
    assert weak.startswith("Yes, 1 weaker region below the image threshold") and "[W1]" in weak
    anyway = skull_stripped_volume(analysed_anyway=True)
    seen = ask("ok analyse it anyway. what do you see", anyway)
    assert "It is analysed anyway, as asked. What the detector flagged" in seen and "[F1]" in seen
    assert seen.startswith("Unreliable")


def test_a_question_after_an_acquisition_question_keeps_its_own_reading():
    """After "what plane is the displayed slice", "which way is left on the display" and "and
    is there anything on it" were both answered "the file does not record its imaging
    modality"; "rest of brain unremarkable?" of a volume analysed at one slice was a "Yes"."""
    history = [
        Message("user", "what plane is the displayed slice and which slice number"),
        Message("assistant", "Axial slice 83 of this volume's 120."),
    ]
    assert resolve("and is there anything on it", history).intent == "presence"
    assert resolve("any brain lesion on it?", history).intent == "presence"
    left = ask("which way is left on the display", evidence(patient_left="image_left"), history)
    assert "neurological convention" in left and "modality" not in left
    nine = evidence(source_shape=[9, 64, 80], slice_index=4)
    rest = ask("rest of brain unremarkable?", nine)
    assert rest.startswith("Nothing else on the analysed part, yes: only F1")
    assert "The rest of the volume was not analysed" in rest


def test_either_or_questions_get_one_of_the_two():
    """Noticed after the sixth trial: "left vs right?" -> "Yes." (the "right?" was read as a
    tag question), "noise vs lesion?" -> "Yes, probably."; and "which side is the lesion, and is
    the image in radiological convention?" gave the convention only."""
    ev = evidence()
    assert ask("left vs right?", ev).startswith("Left. F1 lies on the patient's left")
    assert ask("noise vs lesion?", ev).startswith("More likely a true lesion than noise")
    assert ask("real lesion or artefact?", evidence((RIGHT_DARK,))).startswith(
        "More likely noise or a false alarm than a true lesion"
    )
    assert ask("f1 real or not", ev).startswith("Yes, probably.")  # a yes/no, as before
    both = ask("which side is the lesion, and is the image in radiological convention?", ev)
    assert (
        both.startswith("Left. F1 lies on the patient's left") and "neurological convention" in both
    )


def test_every_answer_carries_the_research_use_line():
    """Out-of-scope answers ("is the heart enlarged" of a chest X-ray, "pt name and DOB?") had
    no research-use line, although the README says every answer carries it."""
    from assistant.responders.grounded import GroundedResponder
    from assistant.responders.grounded.responder import DISCLAIMER_LINE

    responder = GroundedResponder()
    for q in (
        "pt name and DOB?",
        "ok should we start aspirin then",
        "what is the capital of France",
    ):
        assert responder.answer(q, evidence(), []).endswith(DISCLAIMER_LINE), q


def test_a_structure_asked_about_is_not_called_abnormal_for_a_region_anywhere():
    """The sixth trial's "basal ganglia normal?" (and "is the thalamus normal?") of a slice
    with a region: "No, not normal", as if the region were known to be there."""
    for q in ("basal ganglia normal?", "is the thalamus normal?", "caudate ok?"):
        a = ask(q, evidence())
        assert a.startswith("No, not clearly: a region deviates from healthy anatomy on this slice")
        assert "I can't tell whether it involves the" in a and yes_no(a) == "no", q
    assert ask("is the thalamus normal?", healthy_evidence()).startswith("Yes, as far as")
