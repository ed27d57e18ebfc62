"""Answers a ninth radiologist's trial (2026-12-05, 118 questions, 12 judged wrong) found wrong,
asked through the grounded responder with constructed evidence, or through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    finding_evidence,
    grounded_ask,
    skull_stripped_volume,
    weak_five_level_volume,
)

from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence


def test_two_part_and_open_questions_get_both_parts():
    """ "which hemisphere, and how bright compared with white matter?" gave the side only; "what
    modality and plane is this?" the plane only; "whats going on in this slice" described the
    pseudo-healthy image; "how does the top one compare" (after similar cases) the modality."""
    ev = evidence()
    both = ask(
        "which hemisphere is the abnormality in, and how bright is it compared with surrounding white matter?",
        ev,
    )
    assert both.startswith("Left. F1 lies on the patient's left") and "Hyperintense" in both
    plane = ask("what modality and plane is this?", ev)
    assert (
        plane.startswith("The scan's header gives the modality as MR (MRI).") and "axial" in plane
    )
    assert resolve("whats going on in this slice").intent == "presence"
    assert ask("whats going on in this slice", ev).startswith("The detector found 1 region")
    assert resolve("how does the top one compare with this scan?").intent == "similar_cases"


def test_what_one_slice_or_the_check_cannot_or_can_say():
    """ "extent in the craniocaudal direction?" gave an area; "is the left hemisphere clear of
    abnormality" of one 2D slice a bare "Yes."; "Did the scan pass the applicability check?" and
    "is the scan registered OK to MNI" were not read as such; "what size lesion could you have
    missed?" got the confidence text."""
    ev = evidence(source_shape=[9, 64, 80], slice_index=4)
    cc = ask("extent in the craniocaudal direction?", ev)
    assert cc.startswith("The craniocaudal extent can't be measured here") and "F1 covers" in cc
    clear = ask("is the right hemisphere clear of abnormality", evidence())
    assert clear.startswith("Yes.") and "This is one 2D slice" in clear
    for q in (
        "Did the scan pass the applicability check, or is it out of domain?",
        "is the scan registered OK to MNI, did the alignment work?",
    ):
        assert resolve(q).intent == "modality", q
    passed = ask("Did the scan pass the applicability check, or is it out of domain?", evidence())
    assert passed.startswith("Yes: the applicability check accepted it")
    size = ask("what size lesion could you have missed?", weak_five_level_volume())
    assert size.startswith("Small lesions are mostly missed by this detector")


def test_a_treatment_named_after_a_presence_question_and_what_was_flagged():
    """ "acute stroke on this? thrombolyse?" ignored the thrombolysis; "anything flagged?" of a scan
    analysed anyway said "I can't tell" then listed what was flagged."""
    stroke = ask(
        "71M, sudden L hemiparesis 3 h ago. acute stroke on this? thrombolyse?", evidence()
    )
    assert stroke.startswith("A region deviates from healthy anatomy, yes, but I can't tell")
    assert stroke.endswith("is a clinical decision that this research tool cannot inform.")
    anyway = skull_stripped_volume(analysed_anyway=True)
    flagged = ask("anything flagged?", anyway)
    assert "It flagged 1 region, but on a scan outside its domain" in flagged
    assert "I can't tell" not in flagged
