"""Answers a nineteenth trial (2026-12-05: a neuro-oncologist preparing a tumour board and a
liaison psychiatrist, 110 questions, 17 judged wrong, 4 of them unsafe) found wrong, asked
through the grounded responder with constructed evidence, in other words than the trial's."""

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

from assistant.responders.intents import resolve, yes_means_normal
from assistant.responders.intents.text import normalise

ask = grounded_ask


def test_capacity_is_not_answered_from_a_scan():
    """ "Does this scan mean he lacks capacity to refuse treatment?" got "Yes."."""
    for q in ("Can I use the MRI to say she has lost capacity?",
              "is he competent to consent to surgery, going by this scan?"):  # fmt: skip
        answer = ask(q, finding_evidence())
        assert answer.startswith("No scan can decide that: capacity is a clinical"), (q, answer)
        assert "[F1]" in answer  # and what the detector found


def test_a_psychiatric_diagnosis_is_not_refused_as_advice():
    answer = ask("Does she have bipolar disorder?", healthy_evidence())
    assert answer.startswith("No scan makes or excludes that diagnosis: bipolar disorder"), answer


def test_organic_causes_are_not_excluded_by_a_yes():
    """ "So can I say organic causes have been excluded?" and "nothing organic then?" got "Yes
    ..." with nothing found."""
    for q in ("Is it fair to document that an organic cause is ruled out?",
              "no organic pathology then?"):  # fmt: skip
        for ev in (healthy_five_level_volume(), png_evidence(())):
            answer = ask(q, ev)
            assert answer.startswith("Nothing was found, yes, but that does not exclude an organic "
                                     "cause"), (q, answer)  # fmt: skip
            assert "only part of an organic screen" in answer
    either = ask("Anything organic going on?", healthy_evidence())
    assert either.startswith("No, nothing was found, but that does not exclude"), either


def test_a_procedure_called_unsafe_is_a_clinical_decision():
    """ "anything on here that would make ECT unsafe?" got "No, not at the analysed levels"."""
    answer = ask("Is there something on this that makes a general anaesthetic dangerous?",
                 healthy_five_level_volume())  # fmt: skip
    assert answer.startswith("Whether to go ahead (general anaesthetic) is a clinical decision")
    ect = ask("would ECT be contraindicated by anything here?", healthy_five_level_volume())
    assert ect.startswith("Whether to go ahead (ECT)"), ect


def test_management_is_the_clinicians():
    answer = ask("Does the scan alter our management?", healthy_five_level_volume())
    assert "How to manage the patient is a clinical decision" in answer, answer


def test_treatment_effects_and_markers_are_not_a_yes():
    """ "radionecrosis vs recurrence?" and "IDH mutant? any T2-FLAIR mismatch?" got "Yes.";
    "MGMT methylated - can imaging tell you?" got the file's modality; "RANO?" a refusal."""
    for q in ("pseudoprogression or true progression? chemoradiation ended 3 months ago",
              "what RANO response would you give?", "1p19q codeleted?",
              "MGMT promoter status?"):  # fmt: skip
        answer = ask(q, finding_evidence())
        assert answer.startswith("I can't tell: "), (q, answer)
        assert "On this scan, the detector found 1 region" in answer, answer
    both = ask("IDH-mutant? T2-FLAIR mismatch present?", finding_evidence())
    assert "IDH status is a molecular marker" in both and "T2-FLAIR mismatch sign" in both, both
    # the marker named in the history is not what is asked
    history = ask("Known EGFR-mutant lung cancer, IDH testing pending. Any lesion here?",
                  healthy_evidence())  # fmt: skip
    assert not history.startswith("I can't tell"), history
    assert normalise("MGMT methylated?").startswith("mgmt")
    assert normalise("mgmt plan?").startswith("management")


def test_signs_read_on_other_sequences_are_not_a_no():
    """ "Leptomeningeal disease?", "Non-enhancing FLAIR abnormality?", "any leukoencephalopathy
    after WBRT?" got "No"."""
    for q in ("any leptomeningeal spread?", "T2 signal abnormality beyond the cavity?",
              "radiation leukoencephalopathy?"):  # fmt: skip
        answer = ask(q, healthy_evidence())
        assert answer.startswith("I can't tell: "), (q, answer)
        assert "T2-weighted and FLAIR" in answer or "FLAIR" in answer


def test_enhancement_asked_of_nothing_in_particular():
    answer = ask("Is there rim enhancement around the cavity?", finding_evidence())
    assert answer.startswith("I can't tell whether anything enhances"), answer


def test_a_count_of_one_slice_says_so():
    """ "Solitary met or multiple?" of one PNG got "Single" with no word on the other levels."""
    answer = ask("one met or several?", png_evidence())
    assert "this one 2D slice only" in answer, answer
    volume = ask("How many metastases?", healthy_five_level_volume())
    assert "this one 2D slice only" not in volume


def test_radiotherapy_is_not_the_right_side():
    """ "GTV for RT planning in cc please" was read as a side question."""
    assert normalise("post-RT changes?") == "post-radiotherapy changes?"
    assert normalise("RT planning volume") == "radiotherapy planning volume"
    assert normalise("lesion RT hemisphere") == "lesion right hemisphere"
    assert resolve("GTV in cc for the RT plan?", [], ["F1"]).intent == "size"


def test_lesion_burden_counted_and_coverage_asked():
    anyway = ask("Lesion load - how many plaques?", skull_stripped_volume(True))
    assert "I can't tell how many lesions there are" in anyway, anyway
    coverage = ask(
        "How much of the head did the model actually look at?", healthy_five_level_volume()
    )
    assert coverage.startswith("Of this volume's 120 axial slices"), coverage


def test_a_chest_film_asked_what_it_shows_gets_the_reason():
    answer = ask("any rib fracture visible?", skull_stripped_volume())
    assert answer.startswith("I can't tell. The anomaly detector does not apply"), answer


def test_dementia_and_substances_are_not_read_from_a_lobe():
    """ "What about the frontal lobes specifically? I am thinking of frontotemporal dementia"
    got the weak region's position; "has the cannabis damaged his brain?" a "No"."""
    answer = ask("and the temporal lobes? wondering about Alzheimer's", weak_five_level_volume())
    assert answer.startswith("I can't tell: Alzheimer's disease is judged from atrophy"), answer
    drug = ask("Has his drinking harmed his brain?", healthy_five_level_volume())
    assert drug.startswith("I can't tell: the detector finds regions"), drug
    bleed = ask("She has dementia. Any bleed?", healthy_evidence())
    assert bleed.startswith("No"), bleed


def test_a_history_does_not_flip_the_question():
    """After a treatment history, "Is this the resection cavity?" was answered as if "yes"
    meant normal, and as whether the resection was complete."""
    q = "GBM L frontal, GTR a year ago, chemoradiation completed. Is this the surgical cavity?"
    assert not yes_means_normal(q)
    answer = ask(q, finding_evidence())
    assert answer.startswith("A region deviates from healthy anatomy, yes, but I can't tell "
                             "whether it is a surgical cavity"), answer  # fmt: skip


def test_a_plain_words_request_and_a_test_to_push_for():
    """ "Can you explain in simple terms what this result means?" led "There is nothing to
    explain"; "Should I push for an LP and EEG then?" got a generic refusal."""
    plain = ask("what does my result mean, in plain English?", healthy_evidence())
    assert plain.startswith("The result is negative: the detector found no region"), plain
    push = ask("should we press for an EEG?", healthy_evidence())
    assert push.startswith("That is a clinical decision"), push


def test_a_measurement_for_rano_and_dementia_in_the_history():
    """The treatment-effect answer does not replace a measurement asked "for RANO"; dementia
    named in the history leaves the reading of "is there anything?" and adds why it is not
    excluded."""
    size = ask("F1's two perpendicular diameters for the RANO table, please", finding_evidence())
    assert "mm" in size and not size.startswith("I can't tell"), size
    history = ask(
        "71M, family worried about Alzheimer's. Anything on the scan?", healthy_five_level_volume()
    )
    assert history.startswith("No") and "As for dementia: Alzheimer's disease is judged" in history
