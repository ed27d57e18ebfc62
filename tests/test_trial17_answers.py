"""Answers a seventeenth trial (2026-12-05: a consultant neurosurgeon and an overnight
teleradiologist, 110 questions, 21 judged wrong) found wrong, asked through the grounded
responder with constructed evidence, in other words than the trial's."""

from __future__ import annotations

from assistant_fixtures import (
    LEFT_BRIGHT,
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


def one_slice_of_a_volume():
    """A 9-slice volume of which one slice (4) was analysed, F1 on the patient's left."""
    summary = {**scan_summary(), "source_shape": [9, 64, 80], "slice_index": 4}
    return build_evidence(synthetic_result([LEFT_BRIGHT]), summary)


def test_writing_the_reading_into_the_record_is_not_a_yes():
    """ "Can I write 'left-sided lesion confirmed by AI' in the op note?" got "Yes. F1 lies on the
    patient's left"; "OK to document 'no intracranial lesion' in the notes?" "Yes, as far as this
    detector can tell"."""
    side = ask("Can I put 'right frontal lesion, AI-confirmed' in the operation note?", evidence())
    assert side.startswith("Not as a confirmation") and "[F1]" in side, side
    normal = ask("Fine to record 'normal brain MRI' in her chart?", healthy_evidence())
    assert normal.startswith("Yes, as far as this detector can tell") and (
        "What goes into the notes is a clinical decision" in normal
    ), normal


def evidence():
    return finding_evidence()


def test_after_surgery_the_extent_of_resection_and_a_recurrence_are_not_judged():
    """ "So can I tell the pt it was a complete resection?" got "Nothing clear was found, yes, but
    that does not rule out a resection"; "FU 6/12 after GTR of L temporal GBM. Recurrence?" the
    refusal for personal advice ("6/12" read as arithmetic)."""
    extent = ask("Was it a gross total resection?", healthy_evidence())
    assert extent.startswith("I can't tell whether the resection was complete"), extent
    again = ask("3/12 post resection of a left frontal glioma. Any recurrence?", evidence())
    assert again.startswith("I can't tell whether the tumour has recurred") and "[F1]" in again
    assert resolve("Review at 6/52 after surgery. Regrowth?", [], []).intent != "out_of_scope"


def test_a_history_before_the_question_does_not_make_it_a_side_question():
    """ "Ring lesion R side. Size in mm? Need it for the MDT." got a side answer."""
    assert resolve("Mass on the left. How big?", [], ["F1"]).intent == "size"
    assert resolve("Known right temporal tumour. Anything new?", [], []).intent == "presence"
    assert resolve("Left weakness. Which side is the lesion on?", [], []).intent == "side"


def test_a_biopsy_target_is_for_the_surgical_team():
    answer = ask("Where should we biopsy?", evidence())
    assert "surgical or biopsy target is for the surgical team" in answer, answer


def test_three_planes_cortical_or_deep_and_substances():
    """ "Dimensions in 3 planes please." got the image's matrix; "Cortical or deep? Deciding
    transsulcal vs transcortical approach." a garbled either/or; "fat? blood? melanin?" the
    signal only."""
    planes = ask("measurements in three planes?", evidence())
    assert planes.startswith("About") and "single 2D image" in planes, planes
    deep = ask("Cortical or deep? Planning the corridor.", evidence())
    assert deep.startswith("I can't tell whether it is cortical or deep") and "peripheral" in (
        deep
    ), deep
    assert resolve("bright on T1 - blood/fat?", [], ["F1"]).intent == "explanation"
    listed = ask("T1 bright focus - calcium? protein? fat?", evidence())
    assert listed.startswith("This cannot be determined") and "melanin" in listed, listed


def test_comparison_with_a_preoperative_scan_says_there_is_none():
    answer = ask("Any change from the preoperative MRI?", healthy_evidence())
    assert answer.startswith("I can't compare: no prior study was provided"), answer


def test_sides_written_as_one_letter_and_volumes_analysed_in_part():
    """ "Anything in the R hemisphere as well?" of a volume analysed at one slice got a bare
    "No."; "any lesion outside the slab u analysed?" "Yes." with the analysed slice's finding."""
    part = one_slice_of_a_volume()
    right = ask("Anything in the R hemisphere too?", part)
    assert right.startswith("No, not on the analysed slice") and "patient's left" in right, right
    assert ask("anything in the L hemisphere?", evidence()).startswith("Yes")
    outside = ask("any lesion on the slices you didn't analyse?", part)
    assert outside.startswith("I can't tell: the detector says nothing about the parts"), outside
    assert ask("anything on the other slices?", evidence()).startswith("There are no other slices")


def test_a_whole_head_report_line_of_a_volume_analysed_in_part():
    """ "ok i write 'No acute intracranial abnormality.' you agree?" of a volume analysed at five
    levels got "Yes, probably at the analysed levels"."""
    answer = ask("I'll put 'no intracranial abnormality'. ok?", weak_five_level_volume())
    assert answer.startswith("I can't tell for the whole head"), answer


def test_a_draft_line_naming_a_diagnosis_is_not_supported():
    """ "draft: '... likely subacute hemorrhage.' agree?" got a whole draft report."""
    answer = ask("my line: 'Left frontal lesion, probably a metastasis.' agree?", evidence())
    assert "As for a metastasis: that cannot be determined by this detector" in answer, answer
    assert not answer.startswith("Technique"), answer


def test_files_orientation_identifiers_and_exports():
    """ "Does this DICOM carry pt identifiers?", "L is pt left in this file?" and "is trustable on
    a png export from PACS?" got the modality."""
    ids = ask("does the file still contain patient names?", evidence())
    assert ids.startswith("The assistant removes a scan's patient identifiers"), ids
    side = ask("is the orientation right, L = patient left?", evidence())
    assert side.startswith("From its header, the patient's left is shown"), side
    export = ask("how reliable is it on a JPEG exported from PACS?", evidence())
    assert export.startswith("It works on a PNG, JPEG or TIFF export"), export


def test_typos_and_capability_questions():
    """ "analise anyway then" was declined; "you can do chest xray or only brain" refused."""
    anyway = ask("ok analize it anyway", skull_stripped_volume())
    assert anyway.startswith('Yes: choose "analyse anyway"'), anyway
    assert resolve("can it do CT or only MRI?", [], []).intent == "out_of_scope"
    what = ask("you can read spine or only brain?", evidence())
    assert "trained on healthy T1-weighted brain MRI only" in what, what


def test_a_kind_named_after_a_history_clause_is_the_one_asked():
    """ "trauma pt fall from stairs, no bleed?" got "does not rule out a trauma"."""
    answer = ask("fell off a ladder, head trauma, no bleed?", healthy_evidence())
    assert answer.startswith("Nothing was found, yes, but that does not rule out a bleed"), answer
