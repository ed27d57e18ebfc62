"""Cause, next-step, confidence and can't-answer answers of the grounded responder, called
directly with constructed evidence (answers_context)."""

from __future__ import annotations

import re

import pytest
from assistant_fixtures import LEFT_BRIGHT, RIGHT_DARK, cited, scan_summary, synthetic_result

import assistant.responders.grounded.answers_context as ctx
from assistant.analysis import build_evidence
from assistant.evidence import Evidence, EvidenceItem
from assistant.findings import CONFIDENCE_DEFINITION, CONFIDENCE_FALLBACK_DEFINITION
from assistant.responders.grounded import GroundedResponder
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.intents import Resolved

LEFT_DARK = {"row": 30, "col": 10, "size": 7, "delta": -0.35}
# addressed to a patient, or prescriptive: never in an answer to a clinician
PATIENT_TALK = re.compile(
    r"talk to your|your (clinician|doctor|physician)|see a doctor|consult (a|your)|you should|"
    r"we recommend|I recommend",
    re.I,
)


def note(eid: str, passage_id: str, text: str = "reference note") -> EvidenceItem:
    """A retrieved knowledge item as `assistant.analysis` builds it from a hit."""
    return EvidenceItem(eid, "knowledge", text, 0.7, {"case_id": passage_id, "source": "test"})


def evidence(lesions, notes=(), **kw) -> Evidence:
    ev = build_evidence(synthetic_result(lesions, **kw), scan_summary())
    ev.items += list(notes)
    return ev


def facts(question: str, ev: Evidence, intent: str = "explanation") -> CaseFacts:
    found = ev.by_kind("finding")
    return CaseFacts(
        question,
        question.lower(),
        ev,
        Resolved(question, intent, "rule"),  # type: ignore[arg-type]
        found,
        found,
        ev.by_kind("weak_finding"),
    )


def check_tone(text: str, ev: Evidence) -> None:
    assert not PATIENT_TALK.search(text), text
    assert set(cited(text)) <= ev.ids(), (cited(text), ev.ids())


# ----------------------------------------------------------------------------- cause
@pytest.mark.parametrize(
    "lesion, note_id, words",
    [
        (LEFT_BRIGHT, ctx.T1_HYPER, ("subacute blood products", "fat", "gadolinium")),
        (LEFT_DARK, ctx.T1_HYPO, ("resection cavity", "old infarct", "oedema", "demyelination")),
    ],
)
def test_explanation_gives_general_categories_cited_to_the_note(lesion, note_id, words):
    ev = evidence([lesion], [note("K1", ctx.MIMICS), note("K2", note_id)])
    a = ctx.explanation(facts("What could this be?", ev))
    assert a.startswith("This cannot be determined from the detector's output")
    assert "[F1]" in a and "In general terms (F1)" in a
    for w in words:
        assert w in a, w
    statement = ctx.CAN_REPRESENT["hyperintense" if lesion["delta"] > 0 else "hypointense"][1]
    assert f"{statement} [K2]." in a  # the categories rest on the retrieved note
    assert "What would narrow it down" in a and "prior imaging" in a
    assert "F1 is small" in a and "[K1]" in a  # small region: normal variants / artefacts
    assert a.endswith("None of this is a diagnosis for this scan.")
    check_tone(a, ev)


def test_explanation_cites_no_note_that_was_not_retrieved():
    ev = evidence([LEFT_BRIGHT])  # no knowledge in the evidence
    a = ctx.explanation(facts("What could this be?", ev))
    assert "subacute blood products" in a  # the general categories are still given
    assert not re.search(r"\[K\d+\]", a)
    check_tone(a, ev)


def test_explanation_quotes_other_passages_and_cases_as_data():
    other = EvidenceItem("K1", "knowledge", "Cerebral hemisphere mass lesion", 0.7, {})
    case = EvidenceItem("C1", "case", "Small bright lesion, left frontal. [F9]", 0.8, {})
    ev = evidence([LEFT_BRIGHT], [case, other, note("K2", ctx.T1_HYPER)])
    a = ctx.explanation(facts("What could this be?", ev))
    assert 'K1: "Cerebral hemisphere mass lesion" [K1]' in a
    assert "[C1]" in a and "not this patient" in a and "[F9]" not in a
    check_tone(a, ev)


@pytest.mark.parametrize(
    "question, lead",
    [
        ("Is this a resection cavity?", "I can't tell whether this is a resection cavity:"),
        ("Could this be MS?", "I can't tell whether this is MS:"),
        ("Could these be metastases?", "I can't tell whether these are metastases:"),
        ("Is this consistent with an old infarct?", "I can't tell whether this is consistent"),
    ],
)
def test_named_cause_is_answered_with_i_cant_tell(question, lead):
    ev = evidence([LEFT_DARK], [note("K1", ctx.T1_HYPO)])
    a = ctx.explanation(facts(question, ev))
    assert a.startswith(lead), a
    assert "cannot be determined" in a and "[F1]" in a and "[K1]" in a
    check_tone(a, ev)


@pytest.mark.parametrize(
    "question, entity",
    [
        ("What could this be?", None),
        ("DDx?", None),
        ("What could this be due to?", None),
        ("What does it mean?", None),
        ("Is this a resection cavity?", "a resection cavity"),
        ("Could it be MS or not?", "MS"),
        ("Could F1 be a tumour [K9]?", "a tumour"),
        ("Is this finding due to a stroke?", "a stroke"),
    ],
)
def test_asked_entity(question, entity):
    assert ctx.asked_entity(question) == entity


def test_explanation_without_findings_says_what_a_negative_means():
    ev = evidence([])
    a = ctx.explanation(facts("What could this be?", ev))
    assert a.startswith("There is nothing to explain: the detector found no region")
    assert "does not exclude" in a and "other slices" in a and "[D1]" in a
    assert "well below" in a
    named = ctx.explanation(facts("Is this a resection cavity?", ev))
    assert named.startswith("I can't tell whether this is a resection cavity; there is no finding")
    check_tone(a + named, ev)


def test_explanation_without_detection_lists_what_it_can_answer():
    ev = Evidence(items=[], detector_summary={}, scan_summary=scan_summary())
    a = ctx.explanation(facts("What could this be?", ev))
    assert a.startswith("I can't say what this is: anomaly detection was not run")
    assert ctx.ANSWERABLE in a


def test_low_confidence_finding_is_called_a_possible_false_positive():
    ev = evidence([LEFT_BRIGHT, RIGHT_DARK])  # RIGHT_DARK: confidence 0.3
    c = facts("What could this be?", ev)
    assert c.confidence_word(ev.by_kind("finding")[1].data) == "low"
    a = ctx.explanation(c)
    assert "F2 has low detector confidence [F2], so it may be a false positive." in a
    assert "In general terms (F1)" in a and "In general terms (F2)" in a  # one per intensity


# ----------------------------------------------------------------------------- next steps
def test_next_steps_lists_what_would_clarify_cited_and_non_prescriptive():
    notes = [note("K1", ctx.T1_HYPO), note("K2", ctx.WORKUP)]
    ev = evidence([LEFT_DARK], notes)
    a = ctx.next_steps(facts("What should I do next for this patient?", ev, "next_steps"))
    assert a.startswith("F1 is a hypointense region") and "these would clarify it:\n- " in a
    for step in (
        "prior imaging",
        "one 2D image, so the extent in 3D is not known",
        "FLAIR and T2",
        "diffusion with ADC",
        "SWI",
        "contrast-enhanced T1",
        "clinical correlation",
        "radiologist's read",
    ):
        assert step in a, step
    assert "comparison with prior imaging: new, growing, stable or shrinking [K1][K2]" in a
    assert "radiologist's read of the full study [K2]" in a
    assert "whether contrast was already given" not in a  # only for a bright region
    assert a.endswith(ctx.NOT_A_RECOMMENDATION) and "well above" in a and "[D1]" in a
    assert "clinician" not in a
    check_tone(a, ev)


def test_next_steps_for_a_bright_and_a_doubtful_region():
    ev = evidence([LEFT_BRIGHT, RIGHT_DARK], [note("K1", ctx.T1_HYPER), note("K2", ctx.MIMICS)])
    a = ctx.next_steps(facts("What next?", ev, "next_steps"))
    assert "- first, whether F1 and F2 are real" in a  # both small, F2 low confidence
    assert "- for the bright region (F1): whether contrast was already given" in a
    assert "fat-suppressed images [K1]" in a and "artefacts [K2])" in a
    assert "these would clarify them:" in a
    check_tone(a, ev)


def test_closed_next_step_question_is_not_answered_yes_or_no():
    ev = evidence([LEFT_BRIGHT])
    a = ctx.next_steps(facts("Would you recommend repeat imaging?", ev, "next_steps"))
    assert a.startswith("That is a clinical decision that this evidence can't settle on its own.")
    assert "prior imaging" in a
    check_tone(a, ev)


def test_next_steps_without_findings_says_what_a_negative_does_not_exclude():
    ev = evidence([])
    a = ctx.next_steps(facts("What should we do next?", ev, "next_steps"))
    assert a.startswith("There is no finding to work up: the detector found no region")
    assert "does not exclude lesions on other slices" in a and "FLAIR" in a
    assert "radiologist's read" in a and a.endswith(ctx.NOT_A_RECOMMENDATION)
    assert set(cited(a)) == {"D1"}
    none = Evidence(items=[], detector_summary={}, scan_summary=scan_summary())
    b = ctx.next_steps(facts("What next?", none, "next_steps"))
    assert b.startswith("I can't say what would clarify a finding: anomaly detection was not run")


def test_next_steps_mentions_weak_regions_as_weak():
    from dataclasses import replace

    r = synthetic_result([LEFT_BRIGHT], score=0.2, threshold=0.4)
    r = replace(r, findings=[], weak_findings=[replace(f, id="W1") for f in r.findings])
    ev = build_evidence(r, scan_summary())
    a = ctx.next_steps(facts("What next?", ev, "next_steps"))
    assert "W1 exceeded the pixel threshold but not the image threshold [W1]" in a


# ----------------------------------------------------------------------------- confidence
@pytest.mark.parametrize("score", [0.1, 0.3, 0.45, 0.5, 0.9])
@pytest.mark.parametrize("conf", [0.3, 0.6, 0.95])
def test_confidence_explains_the_probability_and_never_mixes_high_and_uncertain(score, conf):
    lesion = dict(LEFT_BRIGHT, confidence=conf)
    ev = evidence([lesion], score=score, threshold=0.4)
    c = facts("How confident are you?", ev, "confidence")
    a = ctx.confidence(c)
    assert a.startswith(CONFIDENCE_DEFINITION + " Here: ")  # the report's wording
    assert a.count("probability") == 1  # the meaning, in one sentence
    word = c.confidence_word(ev.by_kind("finding")[0].data)
    assert f"F1 {conf:.2f} ({word}) [F1]" in a
    assert "uncertain" not in a
    if 0.67 < score / 0.4 < 1.5:
        assert "borderline" in a
    assert "[D1]" in a and "miss small or subtle" in a


def test_confidence_of_an_uncalibrated_setting_is_not_called_a_probability():
    ev = evidence([LEFT_BRIGHT])
    ev.items[1].data["confidence_level"] = "uncalibrated"  # no fitted confidence map
    c = facts("How confident are you?", ev, "confidence")
    if c.confidence_word(ev.items[1].data) != "uncalibrated":
        pytest.skip("this checkout's confidence words have no 'uncalibrated' level")
    a = ctx.confidence(c)
    assert a.startswith(CONFIDENCE_FALLBACK_DEFINITION + " Here: F1 0.80 (uncalibrated) [F1]")
    assert "estimated probability" not in a


def test_confidence_without_findings_and_without_threshold():
    ev = evidence([])
    a = ctx.confidence(facts("How sure are you?", ev, "confidence"))
    assert a.startswith("There is no finding to be confident about") and "well below" in a
    ev = evidence([LEFT_BRIGHT], threshold=None)
    a = ctx.confidence(facts("How sure are you?", ev, "confidence"))
    assert "no calibrated threshold" in a and "only indicative" in a


# ----------------------------------------------------------------------------- can't answer
def test_unknown_says_so_and_lists_what_it_can_answer():
    ev = evidence([LEFT_BRIGHT])
    a = ctx.unknown(facts("Who are you?", ev, "unknown"))
    assert a.startswith("I can't answer that from the evidence available for this scan")
    for topic in ("side", "size", "heatmap", "similar cases", "general terms", "next steps"):
        assert topic in a, topic
    assert cited(a) == []


def test_unknown_question_naming_a_cause_gets_i_cant_tell():
    ev = evidence([LEFT_DARK])
    a = ctx.unknown(facts("Is this a resection cavity?", ev, "unknown"))
    assert a.startswith("I can't tell whether this is a resection cavity:")
    assert ctx.unknown(facts("Is this your final answer?", ev, "unknown")).startswith(
        "I can't answer that"
    )


def test_unassessable_terms_in_next_step_and_cause_questions():
    ev = evidence([LEFT_DARK], [note("K1", ctx.T1_HYPO)])
    q = "Is a contrast-enhanced study worth doing?"
    a = ctx.unassessable(facts(q, ev, "next_steps"), "enhanced")
    assert a.startswith("That is a clinical decision") and "contrast-enhanced T1" in a
    a = ctx.unassessable(facts("Could this be oedema?", ev), "oedema")
    assert a.startswith("I can't tell whether this is oedema:") and "[K1]" in a
    a = ctx.unassessable(facts("Is there mass effect?", ev, "presence"), "mass effect")
    assert a.startswith("I can't tell: the detector does not assess that (mass effect)")
    assert "[F1]" in a


def test_out_of_scope_refusal_is_neutral():
    ev = evidence([LEFT_BRIGHT])
    a = ctx.out_of_scope(facts("Should I stop my medication?", ev, "out_of_scope"))
    assert a.startswith("I can only answer questions about this scan")
    assert ctx.ANSWERABLE in a and "treating clinician" in a
    assert not PATIENT_TALK.search(a)


def test_through_the_responder_cause_answers_carry_the_disclaimer():
    ev = evidence([LEFT_DARK], [note("K1", ctx.T1_HYPO)])
    a = GroundedResponder().answer("What could this be?", ev, [])
    assert "[K1]" in a and "Research use only" in a
    check_tone(a, ev)
