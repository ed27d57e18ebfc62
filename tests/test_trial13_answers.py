"""Answers a thirteenth trial (2026-12-05: a neurology registrar and a GP trainee, 112 questions,
25 judged wrong) found wrong, asked through the grounded responder with constructed evidence, or
through the intent reader."""

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

ask = grounded_ask
evidence = finding_evidence


def test_what_to_tell_seriousness_and_symptoms():
    """ "what should I tell her about the scan?" of a volume analysed in part opened "Nothing
    abnormal was found"; "the patient wants to know if it's serious" and "should I worry?" got
    "Yes."; "anything there that could cause a fit?" got "Yes."; "so nothing there to explain his
    symptoms?" had no caveat; "anything acute?" with nothing found neither."""
    tell = ask("what should I tell her about the scan?", weak_five_level_volume())
    assert tell.startswith("I can't tell for the whole scan")
    for q in ("the patient wants to know if it's serious", "should I worry?"):
        assert ask(q, evidence()).startswith(
            "A region deviates from healthy anatomy, yes, but I can't tell how serious"
        ), q
    fit = ask("17M, first fit. anything there that could cause a fit?", evidence())
    assert fit.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it explains"
    )
    assert "does not mean nothing explains the symptoms" in ask(
        "so nothing there to explain his symptoms?", healthy_evidence()
    )
    assert "an acute infarct is often invisible" in ask("anything acute?", healthy_evidence())
    assert resolve("does this dark spot explain her left sided weakness?").intent == "explanation"


def test_signs_procedures_and_words_that_are_not_kinds():
    """ "is it pushing on anything, any shift?" got "Yes."; "anything that would stop us doing a
    lumbar puncture?" a "No" (a go-ahead); "she's scared it's a brain tumour" read "scared" as a
    kind; "can it be treated?" read "treated" as one."""
    assert ask("is it pushing on anything, any shift?", evidence()).startswith("I can't tell")
    lp = ask("is there anything that would stop us doing a lumbar puncture?", healthy_evidence())
    assert lp.startswith("Whether to go ahead (lumbar puncture) is a clinical decision")
    scared = ask("she's really scared it's a brain tumour. can I reassure her?", healthy_evidence())
    assert "scared" not in scared.split(":")[0] and "tumour" in scared
    assert resolve("can it be treated?").intent == "next_steps"


def test_questions_about_the_tool_and_the_scan():
    """ "what does this program actually do?", "what does this tool look for?" were declined;
    "is this as good as the radiologist's report?" and "can I use this instead of waiting for
    the formal report?" got a draft; "why can't you read it?" after a preamble the generic
    decline; "is this a CT or an MRI?" a "No."; "could this just be an artefact from the
    scanner?" the modality; a photo of the screen a confidence answer."""
    for q in (
        "I'm a GP trainee, what does this program actually do?",
        "what does this tool look for?",
    ):
        assert ask(q, evidence()).startswith("This is a research tool: an anomaly detector"), q
    for q in (
        "is this as good as the radiologist's report?",
        "can I use this instead of waiting 6 weeks for the formal report?",
    ):
        assert ask(q, evidence()).startswith("No: this is a research tool, not a medical device"), q
    why = ask("I don't understand, why can't you read it?", skull_stripped_volume())
    assert why.startswith("Because the anomaly detector does not apply")
    dicom = evidence(format="dicom")
    assert ask("is this a CT or an MRI?", dicom).startswith("MRI. The scan's header gives")
    assert resolve("could this just be an artefact from the scanner?").intent == "presence"
    photo = ask("I took a photo of the hospital screen, is that good enough for you?", evidence())
    assert photo.startswith("A photo of a screen is not good enough")
    dark = evidence(lesions=(RIGHT_DARK,))
    assert ask("what does the dark area mean?", dark).startswith("This cannot be determined")
    history = [Message("user", "is the brain normal?"), Message("assistant", "I can't tell.")]
    assert resolve("why can't you read it?", history).intent != "size"
