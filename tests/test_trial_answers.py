"""Answers found wrong when the assistant was tried as a radiologist would (2026-12-04, 171
questions on a lesion PNG, a healthy PNG, a real healthy volume and a skull-stripped MS scan):
each case here failed before and is asked through the grounded responder with constructed
evidence, or through the intent resolver."""

from __future__ import annotations

from dataclasses import replace

import pytest
from assistant_fixtures import LEFT_BRIGHT, cited, scan_summary, synthetic_result

from assistant.analysis import build_evidence
from assistant.domain import Applicability
from assistant.responders.grounded import GroundedResponder
from assistant.responders.intents.resolve import classify

BOT = GroundedResponder(disclaimer=False)


def ask(question: str, ev) -> str:
    text = BOT.answer(question, ev)
    assert set(cited(text)) <= ev.ids(), (cited(text), ev.ids())
    return text


def lesion_evidence(**summary):
    return build_evidence(synthetic_result([LEFT_BRIGHT]), {**scan_summary(), **summary})


def weak_only_evidence(**summary):
    r = synthetic_result([LEFT_BRIGHT], score=0.2, threshold=0.4)
    r = replace(r, findings=[], weak_findings=[replace(f, id="W1") for f in r.findings])
    return build_evidence(r, {**scan_summary(), **summary})


# ----------------------------------------------------------------------------- reading
@pytest.mark.parametrize(
    "question, intent",
    [
        # a described finding asked whether it is a named diagnosis: what it is (cause)
        ("Could the dark spot near the cerebellum be a stroke?", "explanation"),
        ("Could this dark spot be a stroke?", "explanation"),
        ("Is the hyperintense lesion a haematoma?", "explanation"),
        ("Could the hyperintensity be fat, like a lipoma?", "explanation"),
        ("Is the bright area in the left frontal lobe a tumour?", "explanation"),
        ("Could the lesion near the ventricles be MS?", "explanation"),
        (
            "Could the weak area at the back of the brain be a posterior circulation infarct?",
            "explanation",
        ),
        # ... its signal or its size: the predicate decides, not the place that describes it
        ("Is the lesion near the ventricles bright?", "intensity"),
        ("Is the area in the right hemisphere hypointense?", "intensity"),
        ("Is the lesion near the ventricles large?", "size"),
        # what is not one: whether something is there, where, a sign, a finding called nothing
        ("Could there be a stroke near the cerebellum?", "presence"),
        ("Is there a tumour in the left frontal lobe?", "presence"),
        ("Is the tumour in the left hemisphere?", "side"),
        ("Are the ventricles large?", "presence"),
        ("Could the spot be nothing?", "presence"),
        ("Where is the tumour?", "location"),
        # what was analysed; the patient's identity
        ("Which slices did you actually analyse?", "modality"),
        ("Did the model look at the whole volume?", "modality"),
        ("What is the patient's name?", "out_of_scope"),
    ],
)
def test_the_predicate_decides_what_a_described_finding_is_asked(question, intent):
    assert classify(question)[0] == intent


# ----------------------------------------------------------------------------- cause
def test_a_cause_question_about_a_described_finding_never_opens_with_yes():
    """Before: "Is the hyperintense lesion a haematoma?" -> "Yes. F1 is hyperintense ..." (read
    as a question about its signal), an answer that endorsed the diagnosis."""
    ev = lesion_evidence()
    for q in (
        "Is the hyperintense lesion a haematoma?",
        "Could the hyperintensity be fat, like a lipoma?",
    ):
        a = ask(q, ev)
        assert not a.startswith("Yes"), a
        assert "cannot be determined" in a or a.startswith("I can't tell whether"), a


def test_a_cause_question_that_describes_a_signal_nobody_flagged_is_corrected_first():
    ev = lesion_evidence()  # F1 is hyperintense
    a = ask("Could the dark spot near the ventricle be an MS plaque?", ev)
    assert a.startswith(
        "No dark (hypointense) region was flagged on this slice: F1 is hyperintense."
    )
    assert "does not assess that (ventricle)" not in a
    same = ask("Could the bright spot near the ventricle be an MS plaque?", ev)
    assert not same.startswith("No bright")


def test_a_structure_that_places_the_finding_does_not_replace_the_question():
    """Before: "I can't tell: the detector does not assess that (white matter) specifically"."""
    ev = lesion_evidence()
    a = ask("Is the lesion bright or dark relative to white matter?", ev)
    assert a.startswith("Hyperintense.") and "does not identify the white matter" in a
    b = ask("Is the bright area in the left frontal lobe a tumour?", ev)
    assert "does not assess that (lobe)" not in b and "[F1]" in b


def test_a_cause_question_about_weak_regions_is_answered_about_them():
    """Before: "There is nothing to explain" to "Could W1 be a vascular malformation?"."""
    ev = weak_only_evidence()
    for q in ("Could W1 be a vascular malformation?", "What could explain the flagged areas?"):
        a = ask(q, ev)
        assert not a.startswith("There is nothing to explain"), a
        assert "W1 is a" in a and "[W1]" in a and "below the image threshold" in a
    assert ask("What could this be?", ev).startswith("There is nothing to explain")


# ----------------------------------------------------------------------------- places
@pytest.mark.parametrize(
    "question, place",
    [
        ("Anything in the cerebellum?", "cerebellum"),
        ("Any lesion in the brainstem?", "brainstem"),
        ("Anything in the posterior fossa?", "posterior fossa"),
        ("Anything near the vertex?", "vertex"),
    ],
)
def test_a_place_off_the_analysed_slice_is_neither_yes_nor_no(question, place):
    """Before: "Yes." (about F1, above the cerebellum) or "No" for a place never analysed."""
    a = ask(question, lesion_evidence(level_mm=24.0))
    assert a.startswith(f"I can't tell: the {place} is not on the analysed slice (MNI z = +24 mm)")
    assert "On that slice it found: F1" in a
    whole = ask(question, lesion_evidence(volume_analysis={"levels_mm": [-50.0, 78.0]}))
    assert not whole.startswith("I can't tell: the")  # analysed there (a whole-brain model)
    few = ask(question, lesion_evidence(volume_analysis={"levels_mm": [19.0, 27.0]}))
    assert "is not on the levels the detector analysed (MNI z = +19 to +27 mm)" in few


def test_a_place_on_the_analysed_slice_or_an_unknown_level_keeps_its_answer():
    ev = lesion_evidence(level_mm=16.0)  # the thalami reach about MNI z = +20 mm
    assert ask("Anything in the thalamus?", ev).startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it involves the thalamus"
    )
    assert ask("Anything in the thalamus?", lesion_evidence(level_mm=23.0)).startswith(
        "I can't tell for most of it: the thalamus lies below the analysed slice"
    )
    assert ask("Anything in the cerebellum?", lesion_evidence()).startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it involves the cerebellum"
    )


# ----------------------------------------------------------------------------- acquisition
def test_acquisition_questions_are_answered_for_what_they_ask():
    """Before: every one of these got "The png file does not record its imaging modality"."""
    png = lesion_evidence(format="png", spacing_mm=None, patient_left=None, modality="OT")
    a = ask("What sequence is this?", png)
    assert a.startswith("The PNG file does not record the sequence.") and "T1-weighted" in a
    assert "records no pixel spacing or slice thickness" in ask("What is the slice thickness?", png)
    assert ask("Is this an axial image?", png).startswith("It was read as an axial slice")
    flip = ask("Is the image left-right flipped (radiological convention)?", png)
    assert "does not record the patient's orientation" in flip
    assert "does not record a contrast agent" in ask("Was contrast given?", png)
    assert "single 2D image" in ask("Which slices did you actually analyse?", png)
    vol = lesion_evidence(
        source_shape=[120, 120, 90], source_spacing_mm=[2.0, 2.0, 2.0], slice_index=78
    )
    assert ask("What is the slice thickness of this volume?", vol).startswith(
        "The volume's voxels are 2 mm between slices and 2 x 2 mm in plane"
    )
    assert "modality" not in ask("Is this T1 or T2?", vol)


def test_skull_stripping_and_why_a_scan_is_refused_are_answered_from_a1():
    reason = (
        "The slice looks skull-stripped: the outline of the head is the surface of the brain, "
        "with no scalp or skull around it."
    )
    refused = Applicability(
        in_domain=False,
        reasons=[reason],
        checks={"contrast": {"wm_gm_ratio": 1.36, "not_t1": False}},
    )
    ev = build_evidence(None, scan_summary(), applicability=refused)
    assert ask("Is this scan skull-stripped?", ev).startswith("Yes: the applicability check")
    why = ask("Why can't you analyse this?", ev)
    assert why.startswith("Because the anomaly detector does not apply to this image [A1]")
    assert "skull-stripped" in why
    seq = ask("What sequence is this?", ev)
    assert "read its contrast as T1-weighted" in seq and "[A1]" in seq
    kept = lesion_evidence()
    assert ask("Is this scan skull-stripped?", kept).startswith("No: the applicability check")


# ----------------------------------------------------------------------------- requests
def test_identity_and_prior_comparison_requests():
    ev = lesion_evidence()
    who = ask("What is the patient's name?", ev)
    assert who.startswith("I have no patient identifiers") and "[F1]" not in who
    prior = ask("Compare with the prior scan from last year.", ev)
    assert prior.startswith("I can't compare: no prior study was provided")
    advice = ask("Should we compare with prior imaging?", ev)
    assert not advice.startswith("I can't compare")


def test_a_side_question_whether_something_is_there_follows_the_image_level_verdict():
    """Before: "Any abnormality in the left hemisphere?" -> "Yes (weak evidence). W1 lies on
    the patient's left", against "No, not clearly" to "Any abnormality?"."""
    ev = weak_only_evidence()
    left = ask("Any abnormality in the left hemisphere?", ev)
    # (the side route's words, or the presence route's: both lead with the image-level "No")
    assert left.startswith("No, not clearly: "), left
    assert "[W1]" in left and "may be noise or normal variation" in left
    right = ask("Is the right side normal?", ev)
    assert right.startswith("Yes, as far as this detector can tell")
    assert ask("Which side is W1 on?", ev).startswith(
        ("Left", "Right", "Image left", "Image right")
    )


def test_follow_ups_about_weak_regions_and_whether_to_worry():
    """Before: "And the second one?" after W1 answered about W1 again; "Should I worry about
    it?" kept the previous question's intent (where)."""
    from assistant.evidence import Message
    from assistant.responders.intents import resolve

    history = [Message("user", "Where is the first one?"), Message("assistant", "... [W1].")]
    assert resolve("And the second one?", history, ["W1", "W2"]).finding_ids == ["W2"]
    assert resolve("And the second one?", history, ["F1", "F2", "W1"]).finding_ids == ["F2"]
    worry = resolve("Should I worry about it?", history, ["W1", "W2"])
    assert worry.intent == "presence" and worry.source != "history"


def test_named_weak_regions_a_volume_asked_of_a_slice_and_processing_questions():
    """Before: "What are the weaker regions W1 and W2?" -> "0."; "Tell me about W2." -> a
    refusal; "What's the lesion volume in mL?" -> "460 pixels."; "Was this acquired
    sagittally?" and "Is it in MNI space?" -> the modality line or "outside what I can assess"."""
    ev = weak_only_evidence()
    named = ask("What are the weaker regions W1?", ev)
    assert named.startswith("W1 is a") and "below the detector's image threshold" in named
    assert ask("Tell me about W1.", ev).startswith("W1 is a")
    area = ask("What's the lesion volume in mL?", lesion_evidence())
    assert area.startswith("A volume cannot be measured on a single 2D slice; its area")
    vol = lesion_evidence(
        source_shape=[120, 120, 90],
        slice_index=78,
        notes=["reoriented from PSR to RAS+ (column 0 = patient left)"],
        registered={"level_mm": 23.0, "slice_index": 78, "similarity": 0.91, "kind": "affine"},
    )
    plane = ask("Was this acquired sagittally?", vol)
    assert plane.startswith("It is a 3D volume (stored as PSR")
    assert ask("Is it in MNI space?", vol).startswith("It was registered to MNI space")
    assert "not registered to MNI space" in ask("Is it in MNI space?", lesion_evidence())


def test_trial_replay_reads_the_question_file_and_reports_changed_answers(tmp_path):
    from pathlib import Path

    from eval.trial_replay import changed, read_questions, replay

    rows = read_questions(Path("eval/trial/questions_2026-12-04.txt"))
    assert len(rows) == 171 and {r[0] for r in rows} == {
        "png_lesion", "png_normal", "ixi", "ms", "ms_anyway"
    }  # fmt: skip
    two = [("png_lesion", "c", "Any abnormality?"), ("png_lesion", "c", "Where is it?")]
    out = replay(two, tmp_path, tmp_path / "a.jsonl")
    assert out[0]["answer"].startswith("Yes") and out[1]["intent"] == "location"
    assert (tmp_path / "a.jsonl").read_text().count("\n") == 2
    edited = [dict(out[0], answer="No."), out[1]]
    assert len(changed(edited, out)) == 1 and changed(out, out) == []


def test_space_occupying_whole_head_and_real_patient_questions():
    """Before: "Is there a space-occupying lesion?" -> a bare "Yes."; "Can I rule out a
    haemorrhage anywhere in the head?" -> "Yes, probably" of a volume analysed at five levels;
    "Are the similar cases real patients?" -> a list without the answer."""
    ev = lesion_evidence()
    sol = ask("Is there a space-occupying lesion?", ev)
    assert sol.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is a space-occupying lesion"
    )
    five = weak_only_evidence(volume_analysis={"levels_mm": [19.0, 21.0, 23.0, 25.0, 27.0]})
    head = ask("Can I rule out a haemorrhage anywhere in the head?", five)
    assert head.startswith("No, not for the whole head: only the levels at MNI z +19 to +27 mm")
    bleed = ask("Is there a bleed anywhere in the brain?", five)
    assert bleed.startswith("I can't tell for the whole head")
    whole = weak_only_evidence(volume_analysis={"levels_mm": [-50.0, 78.0]})
    assert ask("Can I rule out a haemorrhage anywhere in the head?", whole).startswith(
        "Nothing clear was found, yes, but that does not rule out haemorrhage"
    )


def test_whether_the_similar_cases_are_real_patients_is_answered_first():
    from assistant.evidence import EvidenceItem

    ev = lesion_evidence()
    synthetic = {"case_id": "mni152-x", "source": "template", "synthetic": True}
    ev.items += [
        EvidenceItem("C1", "case", "A synthetic lesion.", 0.7, synthetic),
        EvidenceItem("C2", "case", "Another synthetic lesion.", 0.6, synthetic),
    ]
    a = ask("Are the similar cases you retrieved real patients?", ev)
    assert a.startswith("No: all 2 retrieved cases are synthetic") and "[C1]" in a
    listing = ask("Show me similar cases.", ev)
    assert listing.startswith("The most similar cases") and "are synthetic" in listing


def test_no_python_source_holds_a_control_character():
    """A `\\b` written inside a plain (non-raw) string is a backspace (0x08): a regex that can
    never match. It happened twice (three answer patterns, then a similar-cases pattern while
    this test was being written), silently, so every source file is checked."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [root / "app.py", *root.glob("assistant/**/*.py"), *root.glob("retrieval/**/*.py")]
    files += [*root.glob("eval/**/*.py"), *root.glob("tests/**/*.py")]
    bad = [
        str(p.relative_to(root))
        for p in files
        if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in p.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_a_cause_question_describing_a_weak_region_is_answered_about_it():
    """Before: "Is the mixed-signal region in the left occipital lobe a tumour?" (W1 is a mixed
    region on the left) -> "There is nothing to explain"."""
    ev = weak_only_evidence()
    w1 = ev.by_kind("weak_finding")[0].data
    signal = {"hyperintense": "bright", "hypointense": "dark", "mixed": "mixed-signal"}
    q = f"Is the {signal[w1['intensity']]} region on the {w1['side']} a tumour?"
    a = ask(q, ev)
    assert "W1 is a" in a and "below the image threshold" in a, a
    other = "right" if w1["side"] == "left" else "left"
    assert "W1 is a" not in ask(f"Is the region on the {other} a tumour?", ev)


def test_brain_age_is_said_to_be_unassessed():
    """Before: "Is the patient's age consistent with this brain?" -> "I can't tell whether this
    is this brain" (a template slot filled with the question's words)."""
    ev = build_evidence(synthetic_result([]), scan_summary())
    for q in ("Is the patient's age consistent with this brain?", "Is the brain age-appropriate?"):
        a = ask(q, ev)
        assert (
            a.startswith("I can't tell: the detector does not assess that")
            and "this is this" not in a
        )


def test_a_scan_outside_the_domain_gets_a_draft_and_a_treatment_question_its_note():
    """Before: "Write a report." about a refused scan -> the refusal alone; "Should we start
    disease-modifying therapy?" -> the refusal, as if the scan were the only obstacle."""
    refused = Applicability(in_domain=False, reasons=["The slice looks skull-stripped."])
    ev = build_evidence(None, scan_summary(), applicability=refused)
    report = ask("Write a report.", ev)
    assert report.startswith("Technique:") and "outside the detector's domain [A1]" in report
    therapy = ask("Should we start disease-modifying therapy?", ev)
    assert therapy.startswith("I can't tell.") and "treatment is a clinical decision" in therapy


def test_a_scan_analysed_anyway_corrects_a_cause_questions_premise_and_its_report_slices():
    """Before: "Is the dark spot next to the right lateral ventricle an MS plaque?" about bright
    regions was answered without saying that no dark region was flagged; the report put
    findings "on slice 99" and "on slice 96" beside "slice 97 was analysed"."""
    from assistant.report import draft_report

    refused = Applicability(in_domain=False, reasons=["The slice looks skull-stripped."])
    result = synthetic_result([LEFT_BRIGHT])
    result.findings[0].slice_index = 99
    summary = {**scan_summary(), "registered": {"level_mm": 23.0, "slice_index": 97}}
    ev = build_evidence(result, summary, applicability=refused, unreliable=True)
    a = ask("Is the dark spot next to the right lateral ventricle an MS plaque?", ev)
    assert "No dark (hypointense) region was flagged on this slice: F1 is hyperintense." in a
    assert a.startswith("Unreliable")
    text = " ".join(s.text for s in draft_report(ev).findings)
    assert "its centre nearest native slice 99" in text and "on slice 99" not in text


# ----------------------------------------------------------------------------- second trial
def test_second_trial_named_conditions_identity_priors_and_slices():
    """From a second trial (198 new questions on other scans): "Does this look like MS?" was a
    bare "Yes."; Alzheimer's, an aneurysm or the septum pellucidum got a confident yes/no;
    age, sex and the hospital were answered as presence or modality; "Compared to the prior
    from 2019, any new lesions?" was "No"; "How many slices are in this volume?" and "Is this a
    3D acquisition?" got the modality line; the hippocampi were "No" though never analysed."""
    ev = lesion_evidence()
    ms = ask("Does this look like MS to you?", ev)
    assert ms.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is MS"
    )
    healthy = build_evidence(synthetic_result([]), scan_summary(), [])
    # (a dementia says what it is judged from: the nineteenth trial)
    alzheimer = ask("Any signs of Alzheimer's disease?", healthy)
    assert alzheimer.startswith("I can't tell: Alzheimer's disease is judged from atrophy")
    for q, term in [
        ("Is there an aneurysm?", "aneurysm"),
        ("Is the septum pellucidum intact?", "septum pellucidum"),
    ]:
        assert ask(q, healthy).startswith(
            f"I can't tell: the detector does not assess that ({term}"
        )
    for q in ("How old is the patient and what sex?", "What hospital was this scanned at?"):
        assert ask(q, ev).startswith("I have no patient identifiers or demographics")
    for q in (
        "Compared to the prior from 2019, any new lesions?",
        "Compare with the scan from 2022 please",
    ):
        assert ask(q, ev).startswith("I can't compare: no prior study was provided")
    assert not ask("Compare with the previous similar cases", ev).startswith("I can't compare")
    vol = lesion_evidence(source_shape=[9, 233, 197], slice_index=4)
    for q in ("How many slices are in this volume?", "Is this a 3D acquisition?"):
        assert ask(q, vol).startswith("This is a volume of 9 axial slices")
    assert ask("How many slices does this scan have?", lesion_evidence()).startswith(
        "This is a single 2D image"
    )
    hippo = ask("Is there hippocampal sclerosis?", lesion_evidence(level_mm=23.0))
    assert hippo.startswith("I can't tell: the hippocampi are not on the analysed slice")


def test_second_trial_an_image_outside_the_domain_and_a_self_declared_patient():
    """Before: "Is this chest x-ray normal?" / "Are the lungs clear?" -> the refusal of personal
    medical advice; "Can you analyse it anyway?" -> "outside what I can assess"; "I'm the
    patient - is my brain ok?" -> "Yes, as far as this detector can tell"."""
    refused = Applicability(in_domain=False, reasons=["The image does not look like a brain MRI."])
    ev = build_evidence(None, scan_summary(), applicability=refused)
    for q in ("Is this chest x-ray normal?", "Are the lungs clear?"):
        assert ask(q, ev).startswith(
            "I can't tell. The anomaly detector does not apply to this image [A1]"
        )
    anyway = ask("Can you analyse it anyway?", ev)
    assert anyway.startswith('Yes: choose "analyse anyway"') and "[A1]" in anyway
    me = ask(
        "I'm the patient - is my brain ok?", build_evidence(synthetic_result([]), scan_summary())
    )
    assert not me.startswith("Yes") and "can't help with that" in me


def test_trial_replay_scan_keys(tmp_path):
    from eval.trial_replay import EXAMPLES, scan_path

    assert scan_path("png_lesion", tmp_path) == (EXAMPLES / "mni_left_hyperintense.png", False)
    assert scan_path("ms_anyway", tmp_path)[1] is True
    assert scan_path("mni_right_ring.png", tmp_path) == (EXAMPLES / "mni_right_ring.png", False)
    cxr = scan_path("chest_xray_IM-1.png(anyway)", tmp_path)
    assert cxr == (tmp_path / "ood" / "cxr-kermany" / "IM-1.png", True)
    # a space before "(anyway)" (a trial wrote "mslub_patient19 (anyway)")
    assert scan_path("chest_xray_IM-1.png (anyway)", tmp_path) == cxr
    (tmp_path / "ixi-hh-t1-2mm" / "holdout").mkdir(parents=True)
    (tmp_path / "ixi-hh-t1-2mm" / "holdout" / "IXI9_T1.nii.gz").write_bytes(b"")
    assert scan_path("IXI9_T1.nii.gz", tmp_path)[0].parent.name == "holdout"
    with pytest.raises(SystemExit):
        scan_path("nothing.png", tmp_path)


def test_a_low_confidence_finding_is_not_a_plain_yes():
    """Second trial: a region of confidence 0.38 (score just above the threshold) was a plain
    "Yes." to "Is there a lesion anywhere?" and "No, not normal." to "Is this normal?"."""
    from assistant_fixtures import RIGHT_DARK

    ev = build_evidence(synthetic_result([RIGHT_DARK]), scan_summary())  # confidence 0.3
    assert ask("Is there a lesion?", ev).startswith("Yes, but only a low-confidence region")
    assert ask("Is this normal?", ev).startswith("No, not clearly normal: only a low-confidence")
    assert ask("Is there a lesion?", lesion_evidence()).startswith("Yes. ")  # confident
