"""The second radiologist trial's answers that stayed wrong after its first round of fixes
(`eval/results/trial_radiologist_2026-12-04b.md`, sections A-J), each asked through the grounded
responder with constructed evidence, or through the intent resolver."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from assistant_fixtures import (
    LEFT_BRIGHT,
    finding_evidence,
    grounded_ask,
    scan_summary,
    synthetic_result,
)

from assistant.analysis import build_evidence
from assistant.domain import Applicability
from assistant.evidence import Message
from assistant.findings import opposite_part_of, signal_parts
from assistant.responders.intents.resolve import classify, resolve
from eval.qa.metrics import yes_no

ask = grounded_ask
evidence = finding_evidence


NINE_SLICES = {"source_shape": [9, 64, 80], "slice_index": 4}


# ----------------------------------------------------------------------------- B: meaning
def test_a_negative_or_positive_result_is_not_a_diagnosis():
    """Before: "Does a negative result mean this person is healthy?" -> "Yes, as far as this
    detector can tell"."""
    healthy = evidence([])
    neg = ask("Does a negative result mean this person is healthy?", healthy)
    assert neg.startswith("No. A negative result means only that")
    assert "not a diagnosis" in neg and "On this scan: the detector found no region" in neg
    pos = ask("Does a positive result mean she has MS?", evidence())
    assert pos.startswith("No. A positive result means only that a region deviates")
    # the ordinary questions are untouched
    assert ask("Is this scan normal?", healthy).startswith("Yes, as far as this detector")


# ----------------------------------------------------------------------------- C: slices
def test_slices_that_were_not_analysed_get_i_cant_tell():
    """Before, about a 9-slice volume of which slice 4 was analysed: "Is there a lesion on slice
    7?" / "any abnormality on the other slices?" -> "Yes" (about slice 4); "Is there something
    in the right hemisphere?" -> a bare "No"."""
    vol = evidence(**NINE_SLICES)
    seven = ask("Is there a lesion on slice 7?", vol)
    assert seven.startswith("I can't tell: slice 7 was not analysed")
    assert "slice 4 (numbered from 0)" in seven
    assert ask("any abnormality on the other slices?", vol).startswith(
        "I can't tell: the detector did not analyse the other slices"
    )
    assert ask("anything on slice 12?", vol).startswith("There is no slice 12 in this volume")
    assert ask("Is there a lesion on slice 4?", vol).startswith("Yes")  # the analysed one
    right = ask("Is there something in the right hemisphere?", vol)
    assert right.startswith("No, not on the analysed slice: F1 lies on the patient's left")
    assert "9 axial slices" in right and yes_no(right) == "no"
    # a 2D image is analysed whole: the plain answers stand
    flat = evidence()
    assert ask("Is there something in the right hemisphere?", flat).startswith("No. F1")
    assert not ask("Is there a lesion on slice 7?", flat).startswith("I can't tell")


def test_a_normal_answer_about_a_volume_analysed_at_a_few_levels_says_where_it_holds():
    """Before: "Is there a bright spot anywhere?" about a volume analysed at five levels -> "No:
    the detector found no region ..." with the levels only at the end."""
    summary = {
        "source_shape": [120, 64, 80],
        "slice_index": 79,
        "registered": {"level_mm": 23.0, "slice_index": 79},
        "volume_analysis": {"levels_mm": [19.0, 21.0, 23.0, 25.0, 27.0], "native_slices": [76, 81]},
    }
    ev = evidence([], **summary)
    spot = ask("Is there a bright spot on this scan?", ev)
    assert spot.startswith("No, not at the analysed levels: the detector found no region")
    assert "native slices 76-81" in spot
    anywhere = ask("Is there a bright spot anywhere?", ev)  # the whole head: neither yes nor no
    assert anywhere.startswith("I can't tell for the whole head: only the levels at MNI z +19")
    # the brain (or the MRI) normal asks about the whole of it: since the twelfth trial, neither
    # yes nor no when only five levels were analysed, as for "anywhere"
    normal = ask("Is the brain normal?", ev)
    assert normal.startswith("I can't tell for the whole head: only the levels at MNI z +19")
    assert "There: the detector found no region" in normal


# ----------------------------------------------------------------------------- H: signal
def test_a_region_with_a_part_of_the_opposite_signal_is_described_so():
    """Before: a ring lesion (dark centre, brighter rim) was "hypointense" and "is the signal
    heterogeneous / mixed?" got "Hypointense."."""
    delta = np.array([-0.2] * 8 + [0.1, 0.08])  # 2 of 10 pixels clearly brighter
    assert opposite_part_of(delta, float(delta.mean())) == pytest.approx(0.2)
    assert opposite_part_of(np.array([-0.2, -0.1, 0.01]), -0.1) == pytest.approx(0.0)
    assert opposite_part_of(np.array([]), 0.0) == 0.0

    result = synthetic_result([{**LEFT_BRIGHT, "delta": -0.4}])
    ring = replace(result.findings[0], opposite_part=0.2)
    ev = build_evidence(replace(result, findings=[ring]), scan_summary())
    assert signal_parts(ring.to_dict()) == ", with a brighter part (about 20% of it)"
    hypo = ask("Is the lesion hypointense?", ev)
    assert hypo.startswith("Yes, mostly. F1 is hypointense") and "brighter part" in hypo
    assert ask("is the signal heterogeneous / mixed?", ev).startswith("Yes.")
    assert ask("Is it homogeneous?", ev).startswith("No.")
    assert "with a brighter part (about 20% of it)," in ask("any lesion?", ev)
    plain = build_evidence(result, scan_summary())  # no opposite part measured
    assert ask("is the signal heterogeneous?", plain).startswith("No.")
    assert ask("Is the lesion hypointense?", plain).startswith("Yes. ")


# ----------------------------------------------------------------------------- E: misread
@pytest.mark.parametrize(
    "question, intent",
    [
        ("would DWI help to tell abscess from tumour?", "next_steps"),
        ("Would contrast help characterise this?", "next_steps"),
        ("hyperintense on T1, could it be blood products?", "explanation"),
        ("dark spot on the right. could this be a cyst?", "explanation"),
        ("Is it homogeneous?", "intensity"),
    ],
)
def test_second_trial_questions_are_read_for_what_they_ask(question, intent):
    assert classify(question)[0] == intent


def test_is_it_real_after_a_size_question_asks_whether_it_is_real():
    """Before: "is it definitely real?" after "how big is it" -> the size again."""
    history = [Message("user", "how big is it"), Message("assistant", "About 60 mm² [F1].")]
    assert resolve("is it definitely real?", history, ["F1"]).intent == "presence"
    assert resolve("and the other one?", history, ["F1", "F2"]).intent == "size"


def test_a_diameter_is_given_as_a_length_in_the_unit_asked():
    """Before: "What's the maximum diameter in cm?" -> "About 561 mm²"."""
    ev = evidence()  # 8 x 8 px at 0.9 x 1.2 mm: 7 x 10 mm
    assert ask("What's the maximum diameter in cm?", ev).startswith("About 1.0 cm at its widest")
    assert ask("how long is it?", ev).startswith("About 10 mm at its widest")
    assert ask("how big is it?", ev).startswith("About 69 mm²")
    no_spacing = build_evidence(synthetic_result([LEFT_BRIGHT], spacing=None), scan_summary(None))
    assert ask("What's the diameter?", no_spacing).startswith("About 8 pixels across")


def test_fitness_for_work_is_a_clinical_decision():
    """Before: "The patient asks if they can go back to work. What should I tell them?" -> the
    location of F1."""
    a = ask("The patient asks if they can go back to work. What should I tell them?", evidence())
    assert a.startswith("That is a clinical decision for you and the patient")
    assert "F1" in a


def test_an_image_outside_the_domain_gets_its_reason_for_acquisition_and_other_body_parts():
    """Before: "Is this PA or AP?" of a chest X-ray -> only "does not record its imaging
    modality"; "Is this a lung nodule?" analysed anyway -> the personal-advice refusal."""
    refused = Applicability(in_domain=False, reasons=["The image does not look like a brain MRI."])
    ev = build_evidence(None, scan_summary(), applicability=refused)
    assert "does not apply to this image [A1]" in ask("Is this PA or AP?", ev)
    anyway = build_evidence(
        synthetic_result([]), scan_summary(), applicability=refused, unreliable=True
    )
    nodule = ask("Is this a lung nodule?", anyway)
    assert "does not apply to this image [A1]" in nodule and "can't help" not in nodule


# ----------------------------------------------------------------------------- I: header
def test_a_dicom_slice_thickness_is_reported():
    """Before: "What's the slice thickness?" of a DICOM with SliceThickness 1 -> "not recorded"."""
    ev = evidence(slice_thickness_mm=1.0)
    assert ask("What's the slice thickness?", ev).startswith("The slice is 1 mm thick")
    assert "not recorded" in ask("What's the slice thickness?", evidence())


# ----------------------------------------------------------------------------- A: structures
def test_a_named_structure_or_enhancement_is_not_confirmed_by_a_side():
    """Before: "Is there a lesion in the right basal ganglia?" -> "Yes. F1 lies on the patient's
    right"; "Is there an infarct in the left MCA territory?" -> "Yes. F1 lies on the patient's
    left"; "Is the lesion in the frontal lobe?" -> "Right, ..."; "Is there a ring-enhancing
    lesion?" -> "Yes." with the caveat at the end."""
    ev = evidence()  # F1 on the patient's left
    bg = ask("Is there a lesion in the left basal ganglia?", ev)
    assert bg.startswith(
        "Yes, on the patient's left, but whether it lies in the left basal ganglia I can't tell"
    )
    assert yes_no(bg) == "yes"  # still a yes about that side
    mca = ask("Is there an infarct in the left MCA territory?", ev)
    assert "left MCA territory or whether it is an infarct I can't tell" in mca
    assert ask("Anything in the right frontal lobe?", ev).startswith("No.")
    lobe = ask("Is the lesion in the frontal lobe?", ev)
    assert lobe.startswith("I can't tell whether it lies in the frontal lobe")
    ring = ask("Is there a ring-enhancing lesion?", ev)
    # one non-contrast T1 cannot show enhancement at all: "I can't tell" (fourth trial: a "Yes"
    # lead read as confirming it), then what was found
    assert ring.startswith("I can't tell whether anything enhances")
    assert "the detector found 1 region" in ring and yes_no(ring) is None
    assert ask("ring-enhancing lesion?", evidence([])).startswith("No:")


def test_a_side_asked_without_a_frame_of_an_image_without_orientation_names_the_image_side():
    """Before: "is it on the left?" of a PNG -> a bare "No." although the patient's side is
    unknown (the lesion was on the image right, the patient's left in radiological display)."""
    png = build_evidence(
        synthetic_result([LEFT_BRIGHT], frame="image"),
        {**scan_summary(None), "format": "png", "patient_left": None, "modality": None},
    )
    assert ask("is it on the left?", png).startswith("Yes, on the image's left.")
    assert ask("is it on the right?", png).startswith("No, not on the image's right.")
    assert ask("Is it on the right side of the image?", png).startswith("No. ")


# ----------------------------------------------------------------------------- misreadings
@pytest.mark.parametrize(
    "question, intent, yes_means_normal",
    [
        # "left" the verb, "right" a tag or someone being right: not a side
        (
            'Covering for a colleague. She left a note saying "check the brain MRI for anything '
            'abnormal". So, is there anything abnormal?',
            "presence",
            False,
        ),
        ("F1 is the strongest one, right? Is it actually abnormal?", "presence", False),
        ("nothing wrong with it right question mark", "presence", True),
        ("no brain mets right full stop", "presence", True),
        ("Is it on the right?", "side", None),
        ("Is it left or right?", "side", None),
        ("Is it in the right hemisphere, right?", "side", None),
        # an artefact of some kind, asked of a finding: whether it is real (yes = normal)
        ("Is F1 a flow or motion artefact?", "presence", True),
        ("Is F1 probably a motion artefact?", "presence", True),
        # used, read or filed as normal; a control; looks as it should: whether it is normal
        ("Could this be used as a normal reference slice?", "presence", True),
        ("could this be read as a completely normal brain", "presence", True),
        ("Is this a control (healthy) scan?", "presence", True),
        ("Does the brain look like it should?", "presence", True),
        ("Does anything not look like it should?", "presence", False),
    ],
)
def test_words_that_only_look_like_a_side_or_a_cause(question, intent, yes_means_normal):
    from assistant.responders.intents import yes_means_normal as polarity

    assert classify(question)[0] == intent
    if yes_means_normal is not None:
        assert polarity(question) is yes_means_normal
