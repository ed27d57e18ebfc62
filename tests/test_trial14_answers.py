"""Answers a fourteenth trial (2026-12-05: an emergency-department doctor on a night shift and a
GP trainee, 114 questions, 31 judged wrong) found wrong, asked through the grounded responder
with constructed evidence, mostly in other words than the trial's."""

from __future__ import annotations

from assistant_fixtures import (
    FIVE_LEVELS,
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    skull_stripped_volume,
)

from assistant.responders.grounded.glossary import term_asked
from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence


def one_slice_of_nine():
    return evidence(source_shape=[9, 64, 80], slice_index=4)


def test_the_tools_own_words_are_explained_not_the_scan_read():
    """ "What does 'anomaly detector' mean in plain English?" got the scan's reading; "What does
    skull-stripped mean?" a "Yes"; "What does hypointense mean?" a bare "Hypointense."."""
    plain = ask("what's an anomaly detector, in simple terms?", healthy_evidence())
    assert plain.startswith("In plain words: an anomaly detector is a computer model")
    stripped = ask("what does 'skull stripping' mean?", skull_stripped_volume())
    assert stripped.startswith("A skull-stripped scan is one that image-processing software")
    assert "not anything about the patient" in stripped and "That is why" in stripped
    dark = ask("define hypointense", evidence())
    assert dark.startswith("Hyperintense means brighter, and hypointense darker")
    assert "On this scan:" in dark
    # a value is not a meaning
    assert term_asked("what is the anomaly score?") is None
    assert term_asked("what does the anomaly score mean?").name == "anomaly score"
    assert term_asked("is there an anomaly?") is None


def test_research_use_only_and_what_files_it_needs():
    """ "Why does it say research use only? Can I still use it for my patient?" got "There is
    nothing to explain"; "what kind of files do you need from me?" got "I can't tell."."""
    why = ask("why is it only for research? can I use it on real patients?", healthy_evidence())
    assert why.startswith("Because it is a research tool, not a medical device")
    files = ask("what sort of files do you want?", skull_stripped_volume())
    assert files.startswith("The detector accepts") or "DICOM series (a folder or a .zip)" in files
    assert "NIfTI volume (.nii, .nii.gz)" in files


def test_a_volume_analysed_at_one_slice_is_not_answered_for_the_rest():
    """ "is it on more than one slice?" got "No." with one of 9 slices analysed; "hows the rest
    of the brain" the finding's place; "did you look at the whole head or just one bit?" a count
    ("0."); "Can you look at all of it?" a draft report."""
    vol = one_slice_of_nine()
    assert ask("does it show on several slices?", vol).startswith("I can't tell")
    assert ask("and what about the rest of the head?", vol).startswith("I can't tell")
    assert ask("have you checked the entire brain or only a piece?", vol).startswith(
        "No, only part of it."
    )
    assert ask("can you go through all of it?", vol).startswith("No, only part of it.")
    five = evidence(**FIVE_LEVELS)
    assert ask("did you look at the whole scan or just a bit?", five).startswith(
        "No, only part of it."
    )
    png = evidence()
    assert ask("is it on more than one slice?", png).startswith(
        "I can't tell: this is a single 2D image"
    )
    assert ask("did u look at the whole brain or just one bit", png).startswith(
        "Only what is in the image"
    )
    # a question about the acquisition is not one about the analysis
    assert not ask("does this cover the whole brain or just a slab?", vol).startswith("No, only")


def test_what_and_where_both_answered():
    """ "What did you find and where?" got only where."""
    both = ask("what did the tool find and where?", evidence())
    assert both.startswith("The detector found 1 region") and "hyperintense" in both


def test_a_medium_region_is_not_called_not_big():
    """ "Is it big?" got "No." for a medium region."""
    big = ask("is it large?", evidence(lesions=[{**RIGHT_DARK, "size": 9}], spacing_mm=[1, 1]))
    assert big.startswith(("Medium-sized", "Yes", "No")), big
    if "medium" in big.split(":")[0]:
        assert big.startswith("Medium-sized, neither small nor large")


def test_going_home_and_what_to_say_or_write():
    """ "can he go home if he's neuro intact?" got "No, not normal."; "What should I say to the
    patient?" and "What should I put in my referral letter?" a list of tests."""
    home = ask("ok for her to go home if she's walking fine?", evidence())
    assert home.startswith("No, this reading does not support it:")
    assert "clinical decision" in home
    nothing = ask("can she go home?", healthy_evidence())
    assert nothing.startswith("Nothing was found, yes, but not on this reading alone")
    say = ask("what do I tell his wife?", evidence())
    assert say.startswith("Not that the scan is normal, no: what to say is yours to decide")
    assert "What it found:" in say
    calm = ask("what should I tell the patient?", healthy_evidence())
    assert calm.startswith("That nothing was found, yes, but not that all is well")
    letter = ask("what should I write in the referral to neurology?", evidence())
    assert letter.startswith("Quote the formal radiology report")
    # the patient's own question is asked: answered as it was
    asked = ask("pt is asking 'is my brain normal', what do i tell her", healthy_evidence())
    assert "what to say is yours" not in asked.split(":")[0]


def test_reversal_age_and_kind_of_a_described_finding():
    """ "pt on apixaban, do i need to reverse based on this" got a work-up list; "how old is this
    lesion" the reading; "dark spot on the R, infarct?" "Yes. F1 lies on the patient's right"."""
    rev = ask("on rivaroxaban - should we reverse?", evidence())
    assert rev.startswith("Whether to give or withhold an acute treatment")
    assert "cannot tell whether a region is blood" in rev
    age = ask("how long has it been there?", evidence())
    assert age.startswith("I can't tell how old it is")
    for q in ("bright patch on the left, haemorrhage?", "dark bit top right - stroke?"):
        assert resolve(q).intent == "presence", q
        assert "I can't tell whether it is" in ask(q, evidence()), q
    hole = ask("is the black area a hole?", evidence(lesions=[RIGHT_DARK]))
    assert not hole.startswith("Yes")


def test_one_slice_is_not_a_normal_head():
    """ "nothing acute right?", "55M syncope, head normal?", "normal for a 40 year old?", "Is my
    patient definitely fine?" and "Is one picture enough to say it's normal?" of one 2D slice
    got a yes without saying it is one slice."""
    acute = ask("nothing acute, right?", healthy_evidence())
    assert "this is one 2D slice" in acute
    assert "one 2D slice" in ask("fall, head ok?", healthy_evidence())
    age = ask("is her brain normal for a 70 year old?", healthy_evidence())
    assert "not with norms for the patient's age" in age
    sure = ask("so he's 100% fine?", healthy_evidence())
    assert sure.startswith("Yes, as far as this detector can tell, but not definitely:")
    enough = ask("is a single slice enough to call it normal?", healthy_evidence())
    assert enough.startswith("No: this is one 2D slice")


def test_questions_no_scan_reading_settles():
    """ "Can you tell if he has had a concussion?" got "No, not clearly"; "any skull fracture?" a
    refusal as off-topic; "would a CT have been better?" a generic answer; "Is this an MRI or a
    CT?" of an accepted PNG "Unknown."."""
    concussed = ask("could she be concussed? is there concussion?", healthy_evidence())
    assert concussed.startswith("I can't tell: concussion is diagnosed clinically")
    history = ask("known migraine, new headache. any bleed?", healthy_evidence())
    assert not history.startswith("I can't tell: migraine")
    fracture = ask("is there a fracture of the skull?", healthy_evidence())
    assert fracture.startswith("I can't tell: the detector looks for deviations of the brain")
    both = ask("fell down the stairs - any fracture or bleed?", healthy_evidence())
    assert both.startswith("No") and "does not assess bone" in both
    assert not ask("migraine or something sinister?", healthy_evidence()).startswith(
        "I can't tell: migraine"
    )
    ct = ask("would an MRI have been more useful than this?", healthy_evidence())
    assert ct.startswith("That depends on the clinical question")
    assert resolve("This image is MRI or CT? which type?").intent == "modality"
    png = evidence(format="png", modality="OT")
    kind = ask("MRI or CT?", png)
    assert kind.startswith("It looks like an MRI, but the file does not say.")


def test_a_refused_scan_what_to_do_and_a_prior():
    """ "so what do i do then" of a refused scan gave no way on; "Can you compare it with her scan
    from two years ago?" the refusal."""
    todo = ask("how do I make it analysable?", skull_stripped_volume())
    assert "What you can do: upload the images as acquired" in todo
    prior = ask("compare it with his MRI from last year please", skull_stripped_volume())
    assert prior.startswith("I can't compare: no prior study was provided")


def test_what_a_described_thing_is_and_the_ventricles():
    """ "What is the bright patch on the left?" got only a side; "What is this ring-shaped
    thing?" was declined; "What are the dark butterfly shapes in the middle?" got the reading."""
    assert resolve("what's that bright blob on the right?").intent == "explanation"
    assert resolve("what is the size of the spot?").intent == "size"
    shapes = ask("what are those black shapes in the centre?", healthy_evidence())
    assert shapes.startswith("Most likely the lateral ventricles")
    assert not ask("is there a dark area in the middle?", healthy_evidence()).startswith("Most")


def test_the_thirteenth_trials_open_answers():
    """Left open by the thirteenth trial: "toxo or lymphoma?" hedged only lymphoma; "is this
    haemorrhagic transformation?" after "stroke team asking" was answered about a stroke; "is it
    a left or right sided problem?" of a slice with nothing found led with a weak region's side;
    "what are the dark shapes in the middle?" got the reading."""
    either = ask("ring lesion in an HIV patient: toxo or lymphoma?", evidence())
    assert "whether it is toxoplasmosis or a lymphoma" in either
    transformed = ask("stroke unit here: haemorrhagic transformation?", evidence())
    assert "whether it is haemorrhagic transformation" in transformed
    from assistant_fixtures import weak_five_level_volume

    weak = evidence(lesions=[])
    assert ask("left or right sided problem?", weak_five_level_volume()).startswith(
        "Neither side clearly"
    )
    assert not ask("which side is the lesion on?", weak_five_level_volume()).startswith("Neither")
    assert ask("what are the dark shapes in the middle?", weak).startswith(
        "Most likely the lateral ventricles"
    )


def test_a_negative_reading_says_small_lesions_are_mostly_missed():
    """A cli trial: a missed 6 mm lesion got "No, not clearly ... the detector is fairly
    confident that the image is normal", the small-lesion figure only when "small" was asked."""
    from assistant_fixtures import weak_five_level_volume

    for ev in (healthy_evidence(), weak_five_level_volume()):
        text = ask("Is there an abnormality?", ev)
        assert "It misses most small lesions" in text and "it flagged a third" in text
        assert "fairly confident that the image is normal" not in text


def test_a_size_says_how_far_the_flagged_region_is_from_the_lesion():
    """A cli trial: a painted 9 mm disc came back as about 337 mm² with only "may not match the
    lesion's true boundary"; the measured ratios are said now."""
    text = ask("how big is it?", evidence())
    assert "a median 4 times a small lesion's area (up to about 200 mm²)" in text
    assert "0.7 times a large one's" in text


def test_a_message_of_two_questions_gets_both_answers():
    """A cli trial: "Is there an abnormality? Which sequence is this?" got only the sequence."""
    both = ask("Is there an abnormality? Which sequence is this?", evidence())
    assert both.startswith("Yes.") and "sequence" in both
    reverse = ask("What sequence is it? Any lesion?", evidence())
    assert reverse.startswith("Yes.") and "sequence" in reverse
    two = ask("How big is it? Is it bright or dark?", evidence())
    assert "covers" in two and "hyperintense" in two.lower()
    assert ask("Any bleed? If so, where?", evidence()).count("I can't tell whether") == 1


def test_her_mri_is_the_whole_volume():
    """Noticed after the thirteenth trial: "anything sinister on her MRI?" of a volume analysed
    at five levels got "No, not at the analysed levels"; her MRI is the whole head."""
    text = ask("anything worrying on his MRI?", evidence(**FIVE_LEVELS, lesions=[]))
    assert text.startswith("I can't tell for the whole head")
