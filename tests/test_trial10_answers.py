"""Answers a tenth radiologist's trial (2026-12-05, 150 questions, 14 judged wrong) found wrong,
asked through the grounded responder with constructed evidence, or through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    FIVE_LEVELS,
    LEFT_BRIGHT,
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    scan_summary,
    skull_stripped_volume,
    synthetic_result,
    weak_five_level_volume,
)

from assistant.analysis import build_evidence
from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence


def test_either_or_and_two_part_side_questions():
    """ "is that the pts right or just image right?" opened with a bare "No."; "which side, and is
    the rim brighter or darker than WM?" gave the side only."""
    summary = {**scan_summary(None), "format": "png", "patient_left": None, "modality": None}
    png = build_evidence(synthetic_result([LEFT_BRIGHT], None, frame="image"), summary)
    frame = ask("is that the pts right or just image right?", png)
    assert frame.startswith("Image left; the patient's side is unknown.")
    both = ask("two qs: which side, and is the rim brighter or darker than WM?", evidence())
    assert both.startswith("Left. F1 lies on the patient's left") and "Hyperintense" in both


def test_the_map_apart_from_a_finding_and_with_weaker_regions_only():
    """ "heatmap lit up anywhere apart from the ring?" opened "1." (read as one other hot spot);
    "what does the heatmap show" of a volume with only a weaker region left it out."""
    other = ask("heatmap lit up anywhere apart from the ring?", evidence())
    assert other.startswith("No, only F1 [F1] was found")
    shows = ask("what does the heatmap show", weak_five_level_volume())
    assert "what stands out on it is 1 weaker region(s)" in shows and "[W1]" in shows
    assert "faint low-level signal is expected everywhere" in ask(
        "what does the heatmap show", healthy_evidence()
    )


def test_before_calling_it_normal_and_what_to_tell_the_patient():
    """ "what else would you want before calling it normal" repeated the reading; "pt wants to
    know if her brain is normal, what do i say" opened "Yes, as far as this detector can tell"
    with no caveat."""
    q = "what else would you want before calling it normal"
    assert resolve(q).intent == "next_steps"
    assert "the full study (all slices and sequences)" in ask(q, healthy_evidence())
    say = ask("pt wants to know if her brain is normal, what do i say", healthy_evidence())
    assert say.startswith("Nothing was found, yes, but not on this reading alone")
    assert "Telling the patient, or signing the study off, is a clinical decision" in say
    assert "This is one 2D slice" in say


def test_a_described_finding_asked_what_it_is():
    """ "dark spot R hemisphere - what is it" answered only the side."""
    q = "dark spot R hemisphere - what is it"
    assert resolve(q).intent == "explanation"
    dark = evidence(lesions=(RIGHT_DARK,))
    assert ask(q, dark).startswith("This cannot be determined from the detector's output")
    assert resolve("which side is the dark spot on").intent == "side"


def test_the_acquisition_in_the_users_words():
    """ "which way is pt left on the display" gave the modality; "which side is L in this volume"
    said there was nothing to lateralise; "how many slices are there in total" gave a count of
    regions; "which levels did u look at" said the modality was unknown; "is the noise level
    acceptable" gave the presence answer."""
    volume = weak_five_level_volume()
    for q in ("which way is pt left on the display", "which side is L in this volume"):
        assert resolve(q).intent == "modality", q
        assert ask(q, volume).startswith("From its header, the patient's left is shown"), q
    q = "how many slices are there in total"
    assert resolve(q).intent == "modality"
    assert ask(q, volume).startswith("This is a volume of 120 axial slices")
    levels = ask("which levels did u look at", volume)
    assert levels.startswith("Of this volume's 120 axial slices, the 5 levels")
    noise = "is the noise level acceptable"
    assert resolve(noise).intent == "modality"
    assert ask(noise, volume).startswith("For this detector, yes: the applicability check")
    assert resolve("is F1 just noise?").intent != "modality"


def test_size_in_3d_of_one_analysed_slice():
    """ "and its size in 3D" of a volume with one slice analysed gave an area as if it were the
    size."""
    ev = evidence(source_shape=[9, 64, 80], slice_index=4)
    size = ask("what is its size in 3D", ev)
    assert size.startswith("A volume cannot be measured from one analysed slice of the volume")


def test_a_head_mri_offered_for_a_refused_scan():
    """ "if I upload his head MRI instead can you do that" of a refused scan got the generic
    out-of-scope list."""
    q = "if I upload his head MRI instead can you do that"
    assert resolve(q).intent == "modality"
    text = ask(q, skull_stripped_volume())
    assert "This scan is outside that [A1]" in text and "  " not in text
    assert "I can't help with that" not in text
    assert FIVE_LEVELS["source_shape"][0] == 120  # the fixture the volume questions use


def test_the_readme_examples_question_gets_presence_then_side():
    """The README's Python example asks "Is there an abnormality, and on which side?"; it got the
    side alone ("Left. ...")."""
    both = ask("Is there an abnormality, and on which side?", evidence())
    assert both.startswith("Yes. The detector found 1 region") and "Left. F1 lies" in both
    assert ask("Is there an abnormality, and on which side?", healthy_evidence()).startswith("No")


def test_the_borderline_calls_of_the_tenth_trial():
    """Accepted by the judge but worth doing better: "can I tell the pt it's probably a met"
    opened "No, not normal" (normality was not asked); "analyse this pls" got the list of what
    can be asked; "what can you do then" of a refused scan opened "I can't tell"; "so is it a
    brain scan or not" opened "I can't tell" although the check refused it by far."""
    tell = ask("ok so can I tell the pt it's probably a met", evidence())
    assert tell.startswith("No, this reading cannot support that: a region deviates")
    assert "I can't tell whether it is a metastasis" in tell and "clinical decision" in tell
    assert ask("analyse this pls", evidence()).startswith("The detector found 1 region")
    refused = skull_stripped_volume()
    assert ask("analyse this pls", refused).startswith("I can't analyse it: the anomaly detector")
    can = ask("what can you do then", refused)
    assert "I can tell you about whether the detector found a region" in can
    assert "outside what the detector reads, so about it I can only say why" in can
    assert resolve("what can you do then").intent == "out_of_scope"
    brain = ask("so is it a brain scan or not", refused)
    assert brain.startswith("Not one this detector can read: the anomaly detector")
    accepted = ask("so is it a brain scan or not", evidence())
    assert accepted.startswith("Yes: the applicability check accepted it")
