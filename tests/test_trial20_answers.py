"""Answers a twentieth trial (2026-12-05: a neuro-intensive-care consultant and a neuroradiology
research fellow auditing the tool, 110 questions, 27 judged wrong, 2 of them unsafe) found wrong,
asked through the grounded responder with constructed evidence, in other words than the
trial's."""

from __future__ import annotations

from assistant_fixtures import (
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    healthy_five_level_volume,
    png_evidence,
    skull_stripped_volume,
    weak_five_level_volume,
)

from assistant.responders.intents import resolve

ask = grounded_ask


def test_brain_death_donation_and_withdrawal_are_never_read_from_the_scan():
    """ "Is this scan compatible with brain death?" got "Yes, probably at the analysed levels";
    "Can we proceed to organ donation on the strength of this scan?" the pseudo-healthy image."""
    for q in ("GCS 3, no brainstem reflexes. Does the MRI confirm brainstem death?",
              "is it reasonable to withdraw treatment based on this?",
              "Could he be an organ donor given this scan?"):  # fmt: skip
        answer = ask(q, healthy_five_level_volume())
        assert answer.startswith("No scan by this tool can establish that"), (q, answer)
        assert "two senior clinicians" in answer


def test_stopping_a_treatment_is_a_clinical_decision():
    """ "Can I stop the hypertonic saline?" got "Yes at the analysed levels"."""
    answer = ask("ok to wean the mannitol now?", healthy_five_level_volume())
    assert answer.startswith("Whether to stop (mannitol) is a clinical decision"), answer
    go = ask("safe to extubate?", healthy_five_level_volume())
    assert go.startswith("Whether to go ahead (extubate) is a clinical decision"), go


def test_outcome_and_what_a_negative_leaves_out():
    """ "family keep asking if he'll wake up. does the scan help?" and "scan says normal but
    she's still not waking up day 5. what am I missing?" got a bare "No" / "Yes"."""
    wake = ask("Will she recover, going by this?", healthy_five_level_volume())
    assert wake.startswith("I can't tell: whether and how the patient recovers"), wake
    missing = ask(
        "MRI clear yet he's still drowsy - what could I be missing?", healthy_five_level_volume()
    )
    assert missing.startswith("Nothing was found on this reading, but that neither explains"), (
        missing
    )
    assert "EEG" in missing and "diffusion" in missing


def test_icu_signs_a_t1_reading_does_not_show_or_measure():
    """Hypoxic injury on day 3 and DAI got "No" with only the small-lesion caveat, raised ICP a
    "No": the first two keep the reading (the benchmarks' convention for a kind of lesion) with
    why it does not exclude them; the third is not measured at all."""
    for q, name in [
        ("any anoxic brain injury after the arrest?", "hypoxic-ischaemic injury"),
        ("diffuse axonal injury?", "diffuse axonal injury"),
    ]:
        answer = ask(q, healthy_evidence())
        assert answer.startswith("No") and f"As for {name}: it shows" in answer, (q, answer)
        assert answer.endswith("so this reading does not exclude it."), answer
    found = ask("shearing injury?", finding_evidence())
    assert found.startswith("A region deviates from healthy anatomy, yes, but I can't tell whether "
                            "it is a shearing injury"), found  # fmt: skip
    icp = ask("signs of high intracranial pressure?", healthy_evidence())
    assert icp.startswith("I can't tell: raised intracranial pressure"), icp


def test_identifiers_and_scan_dates_are_not_read_as_findings():
    """ "Were any patient identifiers retained from the DICOM header?" got "Yes. The detector
    found 1 region"; "is this scan from today or the admission one?" the modality."""
    kept = ask("Does the assistant keep any identifiers from the header?", finding_evidence())
    assert kept.startswith("The assistant removes a scan's patient identifiers"), kept
    date = ask("Is this today's scan?", finding_evidence())
    assert date.startswith("I have no patient identifiers or demographics"), date


def test_a_whole_head_claim_for_a_partly_analysed_volume():
    """ "So is it accurate to write 'no abnormality detected' for this scan?" got "Yes at the
    analysed levels"; in other words it got "I can't tell for the whole head"."""
    answer = ask("Can I say 'no abnormality detected' for this study?", healthy_five_level_volume())
    assert answer.startswith(("I can't tell for the whole head", "No, not for the whole head")), (
        answer
    )


def test_a_quoted_confidence_is_checked_and_not_a_yes():
    """ "Can I quote 'left-sided hyperintense lesion, confidence 0.9' in a radiology report?"
    got a draft report."""
    answer = ask("May I cite 'bright lesion, confidence 95%' in the formal report?",
                 png_evidence())  # fmt: skip
    assert not answer.startswith(("Yes", "Technique")), answer
    assert "The detector's confidence is not 95%: F1 0.80" in answer, answer
    assert "can't be cited as confirming anything" in answer


def test_weak_regions_asked_for_a_report():
    answer = ask("Were any borderline regions found, and do they belong in the report?",
                 weak_five_level_volume())  # fmt: skip
    assert answer.startswith("Yes, weaker regions below the image threshold"), answer


def test_another_input_asked_as_a_what_if():
    """ "what if this were FLAIR?", "what if I sent the sagittal reformat?" got this scan's
    reading; "would you notice wrong orientation tags?" the header."""
    for q in (
        "What if I uploaded the T2 instead?",
        "would the result differ with a coronal slice?",
    ):
        answer = ask(q, healthy_evidence())
        assert answer.startswith("It would most likely not be read at all"), (q, answer)
    mirror = ask("If someone mirrored the image before upload, would the tool spot it?",
                 finding_evidence())  # fmt: skip
    assert mirror.startswith("The detector would not notice a mirrored image"), mirror


def test_questions_about_the_detectors_figures():
    """False-negative and false-positive rates, AUPRC, the check's refusal rate, the checkpoint,
    sensitivity under 5 mm and on real MS lesions got this scan's reading."""
    for q in ("What's the false positive rate on healthy scans?", "AUROC on the test set?",
              "How often does the check refuse a healthy scan?"):  # fmt: skip
        answer = ask(q, healthy_evidence())
        assert answer.startswith("That is a measured property of the detector"), (q, answer)
    ms = ask("What is its sensitivity on real MS patients?", skull_stripped_volume(True))
    assert "real MS lesions" in ms, ms
    version = ask("Which model checkpoint was used?", healthy_evidence())
    assert version.startswith("The answers do not name the checkpoint"), version
    small = ask("What's the false negative rate for tiny lesions?", healthy_evidence())
    assert small.startswith("Small lesions are mostly missed"), small


def test_volume_in_units_and_region_names():
    assert resolve("Volume of the finding in cm3, and how reliable is it?", [], ["F1"]).intent == (
        "size"
    )
    names = ask("Do the anatomical labels come from an atlas or from the scan's segmentation?",
                finding_evidence())  # fmt: skip
    assert names.startswith("A 3D finding's anatomical regions come from"), names


def test_one_region_or_two():
    """ "Is the rim counted as part of F1 or as a separate region?" got F1's position."""
    answer = ask("is the bright edge included in F1 or a separate finding?", finding_evidence())
    assert answer.startswith("A finding is one connected region of the thresholded anomaly map")


def test_outcome_around_a_question_about_the_scan():
    """ "family keep asking if he'll wake up. does the scan help?" got "No, not at the analysed
    levels"; a repeat scan "for prognostication" stays a next step."""
    helps = ask(
        "His wife asks whether he will recover. Would the MRI help?", healthy_five_level_volume()
    )
    assert helps.startswith("I can't tell: whether and how the patient recovers"), helps
    repeat = ask("should we rescan at day 5 for prognosis?", healthy_five_level_volume())
    assert not repeat.startswith("I can't tell: whether and how"), repeat


def test_brain_death_asked_of_a_refused_scan():
    """A refused scan (a CT, a chest film) still gets the judgement first, then why the detector
    does not apply."""
    answer = ask("Is this scan consistent with brainstem death?", skull_stripped_volume())
    assert answer.startswith("No scan by this tool can establish that"), answer
    assert "The anomaly detector does not apply to this image [A1]" in answer
