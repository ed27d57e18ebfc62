"""Answers a fifteenth trial (2026-12-05: a consultant neurologist and a final-year medical
student, 114 questions, 36 judged wrong) found wrong, asked through the grounded responder with
constructed evidence, mostly in other words than the trial's."""

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

ask = grounded_ask
evidence = finding_evidence


def test_a_students_terms_are_explained():
    """ "What's DICOM?", "What is a NIfTI file?", "What's a diffusion model?", "what is IXI?",
    "what's a false positive rate?", "explain what a black hole is in MS", "what's a ring
    enhancing lesion" got the modality, the refusal, the pseudo-healthy image or "outside"."""
    expected = {
        "what does DICOM stand for?": "DICOM",
        "what is a nifti file?": "NIfTI",
        "what's a denoising diffusion model?": "diffusion model",
        "what is the IXI dataset?": "IXI",
        "define false positive rate": "false positive rate",
        "explain what a T1 black hole is in MS": "black hole",
        "what is a ring-enhancing lesion?": "ring-enhancing lesion",
    }
    for q, name in expected.items():
        assert term_asked(q) is not None and term_asked(q).name == name, q
    assert "diffusion-weighted" in ask("what's a diffusion model?", evidence())
    assert "one T1 image without contrast" in ask("what is a ring enhancing lesion", evidence())


def test_teaching_and_tool_questions():
    """ "Can you quiz me?" got a draft report, "teach me the anatomy" the modality, "Why was the
    model only trained on healthy people?" and "how would you find MS lesions then?" the
    refusal, "why is the result marked unreliable?" the confidence template."""
    assert ask("could you test me on this image?", evidence()).startswith("I can't teach or quiz")
    why = ask("why is it trained on normal scans only?", skull_stripped_volume())
    assert why.startswith("It learns what normal looks like") and "This scan was refused" in why
    how = ask("so how does it detect tumours then?", evidence())
    assert how.startswith("It learns what normal looks like")
    unreliable = ask("why does it say unreliable?", skull_stripped_volume(analysed_anyway=True))
    assert unreliable.startswith("Because the scan is outside the detector's domain")
    assert "skull-stripped" in unreliable


def test_textbook_questions_in_general_terms():
    """ "Why is white matter brighter on T1?" got "the detector does not assess that"; "How would
    it look on T2?" got "Hypointense."; "How do you tell MS lesions from small vessel disease?"
    the findings again; McDonald's dissemination in space the next-step list; "where's the
    lateral ventricle" got "nothing to locate"."""
    t1 = ask("why does CSF look dark on T1?", healthy_evidence())
    assert t1.startswith("In general terms: a T1-weighted image is bright where")
    t2 = ask("what would it look like on FLAIR?", evidence(lesions=[RIGHT_DARK]))
    assert t2.startswith("I can't tell: there is no T2, FLAIR or other sequence here")
    svd = ask("how would you differentiate MS from small vessel disease?", evidence())
    assert svd.startswith("In general terms, on MRI the pattern helps")
    dis = ask("does this fulfil dissemination in space?", healthy_evidence())
    assert dis.startswith("Not this tool's reading: dissemination in space")
    where = ask("where is the lateral ventricle here?", healthy_evidence())
    assert where.startswith("The detector does not label anatomy") and "four ventricles" in where


def test_clinic_questions():
    """ "What should I tell the patient in clinic today?" was declined; "one-line summary I can
    paste into my clinic letter" got the draft; "How much should I trust a 'normal' result in my
    MS clinic?" missed T1-only, small lesions and MS; "Does that imply irreversible axonal
    loss?" got "Yes."; "Any motion artefact?" was ignored."""
    assert "what to say is yours to decide" in ask(
        "what do I tell her at the appointment tomorrow?", evidence()
    )
    letter = ask("a sentence for my discharge summary please?", evidence())
    assert letter.startswith("Quote the formal radiology report")
    trust = ask("can I rely on a normal result for MS follow-up?", healthy_evidence())
    assert trust.startswith("Only so far") and "FLAIR and T2" in trust
    assert ask("is that irreversible damage?", evidence()).startswith("I can't tell")
    motion = ask("is the image quality ok, any movement artefact?", healthy_evidence())
    assert "Motion artefact is not checked for as such" in motion


def test_a_volume_analysed_at_one_slice_and_sides():
    """ "Any other lesions elsewhere in the volume?" got "No, only F1" with one of 9 slices
    analysed; "Where is the lesion in 3D?" the in-plane place only; "which side, and how do you
    know left from right?" a bare side; "Could this lesion explain a right-sided hemiparesis?"
    "Left."; "What's the abnormality here and where is it?" only where."""
    nine = evidence(source_shape=[9, 64, 80], slice_index=4, patient_left="image_left")
    other = ask("anything else anywhere else in the volume?", nine)
    assert other.startswith("Not on the analysed slice") and "Elsewhere I can't tell" in other
    assert "how far it extends through the other slices" in ask("where is it in 3D?", nine)
    how = ask("what side, and how can you tell left from right?", nine)
    assert "From its header" in how
    fits = ask("could it explain weakness on the right?", nine)
    assert "The side fits" in fits or "does not fit" in fits
    what = ask("what's the lesion and where is it?", evidence())
    assert what.startswith("The detector found 1 region")


def test_a_premise_then_a_kind_and_one_slice():
    """ "Dark on T1 means fluid, right? So is it a cyst?" got "Hypointense." alone; "Is this
    brain normal?" of one 2D slice no one-slice caveat; "Is the left of the picture the patient's
    left?" the modality."""
    cyst = ask("Low signal on T1 is water, yes? Then is it a cyst?", evidence(lesions=[RIGHT_DARK]))
    assert "I can't tell whether it is a cyst" in cyst
    assert "one 2D slice" in ask("is this brain ok?", healthy_evidence())
    left = ask("is the right of the screen the patient's right?", evidence(patient_left=None))
    assert "radiological convention" in left and "Most clinical viewers" in left
    assert FIVE_LEVELS  # the fixture module the volume tests share


def test_treatment_the_series_description_and_a_term_with_its_question():
    """ "Is the lesion burden enough to escalate to a high-efficacy DMT?" got sizes; "Does the
    DICOM header tell you which sequence this is?" said nothing of the series description;
    "what's a ring enhancing lesion and is this one?" did not explain the term."""
    dmt = ask("is the load enough to escalate to a high-efficacy DMT?", evidence())
    assert "clinical decision" in dmt.split(". ")[0] and not dmt.startswith(("Yes", "No"))
    anyway = ask("is the lesion load enough for natalizumab?", skull_stripped_volume(True))
    assert anyway.startswith("Unreliable:") and "clinical decision" in anyway
    assert "series description are not" in ask(
        "which sequence does the header say?", evidence(format="dicom")
    )
    ring = ask("what is a ring-enhancing lesion and is this one?", evidence())
    assert ring.startswith("A ring-enhancing lesion is one whose rim takes up contrast")


def test_the_differential_of_a_ring_lesion_in_general_terms():
    """ "what's the differential for a ring lesion? (MAGIC DR)" got the causes of a dark region."""
    ddx = ask("ddx of a ring lesion?", evidence())
    assert ddx.startswith("In general terms, the differential of a ring-enhancing lesion")
    assert "not enhancement" in ddx


def test_tried_after_the_trials_prognosis_and_distances():
    """Tried as a clinician at the end of the session: "is this going to kill him?" got "Yes.";
    "how many millimetres from the ventricle is it?" got the region's area."""
    kill = ask("will he die from this?", evidence())
    assert kill.startswith("A region deviates from healthy anatomy, yes, but I can't tell how")
    far = ask("how close is it to the ventricles in mm?", evidence())
    assert far.startswith("I can't tell: the detector does not locate anatomical structures")
