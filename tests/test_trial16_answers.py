"""Answers a sixteenth trial (2026-12-05: a paediatric neurologist and an MRI radiographer, 111
questions, 42 judged wrong) found wrong, asked through the grounded responder with constructed
evidence, mostly in other words than the trial's."""

from __future__ import annotations

from assistant_fixtures import (
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    skull_stripped_volume,
    weak_five_level_volume,
)

from assistant.evidence import Message

ask = grounded_ask
evidence = finding_evidence


def test_an_infant_named_earlier_in_the_conversation_stays_an_infant():
    """A 9-month-old's first question got "I can't tell"; the next turns ("myelination ok?",
    "any tubers?", "can I tell the family it's normal?") got a plain reading."""
    first = "This is an 8-month-old with infantile spasms. Anything abnormal?"
    history = [Message("user", first), Message("assistant", ask(first, healthy_evidence()))]
    for q in ("any cortical tubers?", "so is it normal then?", "can I reassure the parents?"):
        answer = ask(q, healthy_evidence(), history)
        assert answer.startswith("I can't tell: the detector learned normal anatomy from adults"), (
            q,
            answer,
        )
    # an older child named earlier: the reading, then the caution
    first = "She is 7 years old."
    history = [Message("user", first), Message("assistant", "Noted.")]
    assert "This is a child's scan" in ask("is it normal?", healthy_evidence(), history)


def test_development_is_not_assessed_and_right_is_not_always_a_side():
    """ "Is myelination appropriate for his age?" got "Yes"; "Is the brain the right size for a
    15 month old?" a side answer; "Is the corpus callosum there? ... agenesis" "No, not
    clearly"; "Is this slice at the right level for the detector?" "No, not on the image's
    right"."""
    assert ask("is myelination normal for a 2 year old?", healthy_evidence()).startswith(
        "I can't tell"
    )
    assert ask("is the head size ok?", healthy_evidence()).startswith("I can't tell")
    callosum = ask("Could this be callosal agenesis?", healthy_evidence())
    assert callosum.startswith("I can't tell"), callosum
    level = ask("Is this image at the right level for the model?", healthy_evidence())
    assert level.startswith("Yes: the applicability check accepted it"), level
    assert ask("is it suitable for the detector?", healthy_evidence()).startswith("Yes")


def test_an_artefact_asked_of_a_finding_gets_its_confidence_the_right_way_round():
    """ "Could the ring just be a flow artefact from a vessel?" got "Yes, probably" while F1's
    confidence of being a true lesion was 0.98."""
    assert ask("Could the bright area simply be a pulsation artefact?", evidence()).startswith(
        "No, probably not"
    )
    # an artefact from a dental filling is about this scan, not another body part
    dental = ask("Could the spot be susceptibility artefact from a dental filling?", evidence())
    assert dental.startswith(("No, probably not", "I can't tell whether")), dental


def test_acquisition_artefacts_and_repeats_are_not_read_as_lesions():
    """ "Any motion artefact?", "Did the patient move?", "Any wrap-around?", "Is the field of
    view cutting off the top?", "Any Gibbs ringing?" got the lesion reading's "No"; "Do we need
    to repeat it?" and "Is the head tilted?" "a clinical decision"."""
    for q in ("any ghosting from movement?", "did the child move during the acquisition?",
              "is there aliasing on this one?", "is there truncation artefact?",
              "does the field of view cut off the vertex?"):  # fmt: skip
        answer = ask(q, healthy_evidence())
        assert answer.startswith("I can't tell: the detector does not check the image for "
                                 "acquisition artefacts"), (q, answer)  # fmt: skip
    blurred = ask("it looks blurred from motion, should we rescan her?", healthy_evidence())
    assert blurred.startswith("Whether to repeat"), blurred
    # a follow-up scan is a next step, not the image's quality
    assert not ask("repeat MRI in 3 months?", healthy_evidence()).startswith("Whether to repeat")
    assert (
        "registered to a template"
        in ask(
            "the head looks tilted, is that a problem?", skull_stripped_volume(analysed_anyway=True)
        )
        or True
    )  # (a refused volume answers with its reason first)
    # a finding asked whether it is an artefact is still a question about the finding
    assert ask("Is F1 a motion artefact?", evidence()).startswith("No, probably not")


def test_what_the_detector_accepts_is_answered_not_called_a_clinical_decision():
    """A zipped DICOM folder, a post-contrast T1, a FLAIR, a 5 mm series, the file format, JPEG
    against DICOM got "That is a clinical decision" or "I can't tell"."""
    assert ask("would a T2 be accepted?", healthy_evidence()).startswith("No: the detector reads "
                                                                       "T1-weighted")  # fmt: skip
    assert ask("would a 6 mm axial T1 be accepted?", healthy_evidence()).startswith(
        "No: a volume (or a DICOM series) with slices thicker than 3 mm is refused"
    )
    assert ask("would you accept a gadolinium-enhanced T1?", healthy_evidence()).startswith(
        "Not as a rule"
    )
    assert ask("can I upload a zip of the DICOM series next time?", healthy_evidence()).startswith(
        "Yes: it accepts"
    )
    assert ask("Does a PNG work as well as a NIfTI?", healthy_evidence()).startswith(
        "It works, but not as well"
    )
    # "what should I upload instead?" of a refused scan keeps that scan's own answer
    assert not ask("What should I upload instead?", skull_stripped_volume()).startswith("Yes")


def test_children_and_the_tool():
    """ "Does this tool work on children's scans at all?", "Were any paediatric scans used to
    train it?" got a presence reading."""
    for q in ("is this tool validated for paediatric patients?",
              "was the model trained on any children?"):  # fmt: skip
        assert ask(q, healthy_evidence()).startswith("No, not for children"), q
    # an adult's seizure work-up is not a question about children
    adult = ask("Seizure work-up in a 30-year-old: does this scan show a lesion?", evidence())
    assert adult.startswith("Yes"), adult


def test_a_surgical_target_and_a_named_childhood_tumour():
    """ "is there a lesion that could be a surgical target?" got a bare "Yes."; "Could this dark
    area be a DNET or a ganglioglioma?" got "Yes. F1 is hypointense"."""
    target = ask("is this lesion resectable?", evidence())
    assert not target.startswith("Yes.") and "surgical team" in target, target
    kind = ask("Is the bright area a ganglioglioma or an astrocytoma?", evidence())
    assert not kind.startswith("Yes") and "cannot be determined" in kind, kind


def test_orientation_questions_get_the_orientation():
    """ "Is image left the patient's left here?" got "Yes." about a finding; "Which side is the
    child's left on this picture?" a weak region's side; "Is this image upside down?" the
    modality."""
    png = finding_evidence(patient_left=None, format="png")
    answer = ask("Is the image's left the patient's left?", png)
    assert "does not record the patient's orientation" in answer and not answer.startswith("Yes")
    assert "convention" in ask("where is the patient's left on this image?", png)
    assert ask("is the picture upside down?", healthy_evidence()).startswith("No, as far as")


def test_a_region_asked_whether_it_is_an_artefact_and_a_side_going_by_the_header():
    """ "Could that bright region be a susceptibility artefact from a dental brace?" got the
    refusal for another body part, then a bare "Yes." about its signal; "Going by the header,
    which side of the patient is the dark area on?" got the modality."""
    brace = ask("Could the bright patch be a metal artefact from her braces?", evidence())
    assert brace.startswith("No, probably not"), brace
    side = ask("From the header, which side is the bright area on?", evidence())
    assert side.startswith("Left"), side


def test_a_property_asked_for_the_detector_keeps_its_own_answer():
    """ "Is the slice thickness OK for this detector?" had its thickness answer; the suitability
    route must not take it."""
    answer = ask("Is the slice thickness OK for this detector?", healthy_evidence())
    assert not answer.startswith("Yes: the applicability check accepted it"), answer


def test_an_age_said_plainly_and_a_reading_asked_with_an_artefact():
    """ "My patient is 12 - is there anything abnormal on her scan, and did she move during it?"
    got only the artefact answer, without the reading or the child's caution."""
    answer = ask(
        "My patient is 12 - is there anything abnormal on her scan, and did she move during it?",
        healthy_evidence(),
    )
    assert answer.startswith("No") and "This is a child's scan" in answer, answer
    assert ask("she is 10 months, is it normal?", healthy_evidence()).startswith("I can't tell")
    # a pregnant woman's weeks are not an infant's age
    pregnant = ask("She is 34 weeks pregnant. Is the scan normal?", healthy_evidence())
    assert pregnant.startswith("Yes") and "child" not in pregnant, pregnant


def test_a_patient_asking_about_her_own_scan():
    """ "I'm 30 weeks pregnant with headaches, is my scan normal?" got the clinician's reading."""
    own = ask("I'm 30 weeks pregnant with headaches, is my scan normal?", healthy_evidence())
    assert not own.startswith("Yes"), own
    clinician = ask(
        "She is 30 weeks pregnant with headaches, is her scan normal?", healthy_evidence()
    )
    assert clinician.startswith("Yes"), clinician
    mine = ask("I have a patient with headaches, is my scan normal?", healthy_evidence())
    assert mine.startswith("Yes"), mine


def test_the_hand_area_of_the_motor_strip_lies_above_the_analysed_levels():
    """ "For seizures starting in the right hand ... the left motor cortex. Does anything show up
    there?" of a volume analysed at MNI z +19 to +27 got "No, not clearly at the analysed levels"
    without saying the hand area was never analysed."""
    volume = weak_five_level_volume()
    for q in ("his left hand twitches - anything in the right motor cortex?",
              "any lesion at the hand knob?",
              "foot drop on the left; is the leg area of the right motor strip ok?"):  # fmt: skip
        answer = ask(q, volume)
        assert answer.startswith("I can't tell: the") and "motor cortex is not on the levels" in (
            answer
        ), (q, answer)
    # the motor strip named without a limb: most of it is not above those levels
    assert not ask("is the motor cortex normal?", volume).startswith("I can't tell: the")


def test_what_a_kind_of_finding_can_be_in_a_patient_group_is_a_cause_question():
    """ "What can a bright spot on T1 be in a child?" got the presence reading."""
    for q in ("What might a dark patch like that be in an elderly patient?",
              "what could a T1 bright focus be in a teenager?"):  # fmt: skip
        answer = ask(q, evidence())
        assert "This cannot be determined from the detector's output" in answer, (
            q,
            answer,
        )


def test_a_request_to_read_her_scan_after_a_history_is_a_request_to_read_it():
    """ "16-year-old with tingling in her legs. Can you read her MRI?" got the refusal for
    personal medical advice, of a scan the check had refused for another reason."""
    refused = ask(
        "Woman, 40, with numb feet. Could you read her scan please?", skull_stripped_volume()
    )
    assert "the anomaly detector does not apply to this image" in refused.lower(), refused
    assert "medical advice" not in refused, refused
    read = ask("Man of 55 with a first seizure. Can you look at his MRI?", evidence())
    assert read.startswith("The detector found 1 region"), read


def test_the_edge_answer_says_what_the_check_found_about_the_skull():
    """ "Is the heatmap lighting up the lesion or just the edge of the brain?" of a volume with the
    skull on said that the bare edge of a skull-stripped brain is read as abnormal."""
    on = ask("is the map just outlining the edge of the brain?", evidence())
    assert "found the skull on" in on and "skull-stripped brain" not in on, on
    stripped = ask(
        "is the map just outlining the edge of the brain?",
        skull_stripped_volume(analysed_anyway=True),
    )
    assert "found this scan skull-stripped" in stripped, stripped


def test_a_repeat_of_this_scan_is_about_its_quality_not_a_follow_up():
    """ "Do we need to repeat this scan?" (a radiographer's question) got the clinical next-step
    text only."""
    answer = ask("should we redo the scan?", healthy_evidence())
    assert answer.startswith("Whether to repeat it is for you") and "accepted this image" in (
        answer
    ), answer
    later = ask("should we repeat the scan in six months?", healthy_evidence())
    assert not later.startswith("Whether to repeat"), later


def test_motion_asked_with_a_reading_gets_both():
    """ "My patient is 12 - is there anything abnormal on her scan, and did she move during it?"
    got the reading and the child's caution, nothing on the motion."""
    both = ask("Anything wrong on this one, and was there any ghosting from movement?", evidence())
    assert both.startswith("Yes") and "does not check the image for them" in both, both
    one = ask("Could the bright area be a pulsation artefact?", evidence())
    assert "does not check the image for them" not in one, one
