"""Answers of the fourth radiologist's trial (2026-12-05, 159 questions) still judged wrong after
that session's fixes, asked through the grounded responder with constructed evidence: what one
reading of one T1 image cannot settle gets "I can't tell" and why, then what was found."""

from __future__ import annotations

from assistant_fixtures import (
    LEFT_BRIGHT,
    finding_evidence,
    grounded_ask,
    scan_summary,
    synthetic_result,
    weak_five_level_volume,
)

from assistant.analysis import build_evidence
from assistant.domain import Applicability
from assistant.evidence import Message
from eval.qa.metrics import yes_no

ask = grounded_ask
evidence = finding_evidence

healthy_five_levels = weak_five_level_volume


def analysed_anyway():
    """A scan outside the detector's domain (refused for its typicality, not for its skull),
    analysed anyway, with one region."""
    refused = Applicability(in_domain=False, reasons=["The image does not look like the slices."])
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 117}
    return build_evidence(
        synthetic_result([LEFT_BRIGHT]), summary, applicability=refused, unreliable=True
    )


def test_part_of_a_volume_does_not_sign_off_the_patient():
    """Before: "Can I tell the patient their brain MRI is normal?" and "So nothing to worry
    about?" of a healthy volume analysed at 5 of its 120 levels -> "Yes, probably at the analysed
    levels"."""
    ev = healthy_five_levels()
    for q in ("Can I tell the patient their brain MRI is normal?", "So nothing to worry about?"):
        a = ask(q, ev)
        assert a.startswith("I can't tell for the whole scan: the detector analysed only part"), q
        assert "the 5 levels the detector was trained for were analysed" in a
        assert "On the analysed levels: the image score is below" in a
    # a plain question keeps its reading at the analysed levels
    assert ask("Is it normal?", ev).startswith("Yes, probably at the analysed levels")


def test_what_is_new_needs_a_prior():
    """Before: "Known RRMS. Anything new?" -> "Yes." and the follow-up "Compared to what?" -> the
    generic refusal."""
    ev = evidence()
    new = ask("Patient with known RRMS. Anything new?", ev)
    assert new.startswith("I can't tell what is new: no prior study was provided")
    assert "What this scan shows: the detector found 1 region" in new
    assert yes_no(new) is None
    history = [Message("user", "Anything new?"), Message("assistant", new)]
    assert ask("Compared to what?", ev, history).startswith("To nothing: no prior study")
    # a prior named keeps the comparison answer; "new information" is not about lesions
    assert ask("Compared to the prior from 2019, any new lesions?", ev).startswith(
        "I can't compare"
    )
    assert "no prior study" not in ask("Is there new information in the heatmap?", ev)
    anyway = ask("Anything new?", analysed_anyway())
    assert anyway.startswith("Unreliable:") and "I can't tell what is new" in anyway


def test_what_one_t1_image_cannot_show_is_not_a_yes():
    """Before: "Is there any restricted diffusion?" and "Any enhancing lesion?" -> "Yes, a region
    deviates ..."; "Is the ring lesion enhancing or not - we didnt give contrast" -> "That is a
    clinical decision"; "Any FLAIR hyperintensities?" -> "Yes."; "any white matter
    hyperintensities?" of a healthy scan -> "No, not clearly" with no word on T1."""
    ev = evidence()
    diffusion = ask("Is there any restricted diffusion?", ev)
    assert diffusion.startswith("I can't tell whether there is restricted diffusion")
    assert "What it did find: the detector found 1 region" in diffusion
    enhancing = ask("Is the ring lesion enhancing or not - we didnt give contrast", ev)
    assert enhancing.startswith(
        "I can't tell whether it enhances: without a contrast injection there is nothing"
    )
    assert "The detector found 1 region" in enhancing
    flair = ask("Any FLAIR hyperintensities?", ev)
    assert flair.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it would be a hyperintensity on T2-weighted or FLAIR images"
    )  # the benchmarks' reading of a named kind (a yes), hedged
    assert yes_no(flair) == "yes" and "many are not visible at all" in flair
    wmh = ask("any white matter hyperintensities?", healthy_five_levels())
    assert wmh.startswith("No, not clearly at the analysed levels")
    assert "White matter hyperintensities are defined on T2-weighted and FLAIR images" in wmh


def test_particulars_one_reading_cannot_settle():
    """Before: "Could the dark area just be a CSF space rather than pathology?" -> "Yes. F1 is
    hypointense"; "Does the scan fit?" after a vignette -> "Yes."; "Does it cross the midline?"
    and "how far from the midline?" -> the location; "Is the centre of the ring darker than the
    rim?" -> "Yes."."""
    ev = evidence()
    csf = ask("Could the dark area just be a CSF space rather than pathology?", ev)
    assert csf.startswith("I can't tell whether it is CSF space or pathology")
    assert "The detector found 1 region" in csf
    fit = ask("67F, sudden onset left arm weakness 3 days ago. Does the scan fit?", ev)
    assert fit.startswith("I can't tell whether it fits the clinical picture")
    for q in ("Does it cross the midline like a butterfly glioma?", "how far from the midline?"):
        a = ask(q, ev)
        assert a.startswith("I can't tell: the detector does not locate the midline"), q
        assert "glioma" not in a.split("The detector found")[1]  # the plain reading
    rim = ask("Is the centre of the ring darker than the rim?", ev)
    assert rim.startswith("I can't tell: the detector measures how much darker or brighter")
    # a midline shift stays the unassessed sign it was
    assert "midline shift" in ask("Is there a midline shift?", ev)


def test_a_scan_analysed_anyway_does_not_name_a_kind_of_lesion():
    """Before, of a scan analysed anyway: "Any MS plaques visible?", "Any black holes on T1?",
    "c/w demyelination?" -> "Yes, a region deviates ..."; "real or an artefact of skull
    stripping?" -> "Yes, probably."; "Is the heatmap just lighting up the edge of the brain?" ->
    "Yes."; "Is this skull-stripped? does that matter?" -> the presence answer."""
    ev = analysed_anyway()
    for q, kind in [
        ("Any MS plaques visible?", "MS"),
        ("Any black holes on T1?", "a black hole"),
        ("c/w demyelination?", "demyelination"),
    ]:
        a = ask(q, ev)
        assert a.startswith("Unreliable:"), q
        assert f"I can't tell whether what it flagged here is {kind}" in a, q
        assert "Yes" not in a.split("[A1]", 1)[1][:200], q
    real = ask("Is the finding on the left real or an artefact of skull stripping?", ev)
    assert "I can't tell whether it is real or an artefact" in real
    edge = ask("Is the heatmap just lighting up the edge of the brain?", ev)
    assert "I can't tell from the detector's output" in edge
    skull = ask("Is this skull-stripped? does that matter?", ev)
    assert skull.startswith("I can't tell: the applicability check refused this scan for another")
    assert "It matters" in skull
    # in the detector's domain the benchmark's convention stays: something deviates, kind unknown
    assert ask("Any MS plaques visible?", evidence()).startswith("A region deviates")


def test_other_hotspots_and_levels_off_the_analysed_ones():
    """Before: "what does the heat map show outside the lesion? any other hotspots?" -> the
    general description; "Any lesion at the level of the centrum semiovale?" and "anything in the
    temporal lobes?" of a volume analysed at +19..+27 mm -> "No, not clearly at the analysed
    levels"."""
    ev = evidence()
    hot = ask("what does the heat map show outside the lesion? any other hotspots?", ev)
    assert "Outside F1, the detector kept no other region" in hot
    vol = healthy_five_levels()
    centrum = ask("Any lesion at the level of the centrum semiovale?", vol)
    assert centrum.startswith("I can't tell for most of it: the centrum semiovale lies above")
    temporal = ask("anything in the temporal lobes? pt has epilepsy", vol)
    assert temporal.startswith("I can't tell for most of them: the temporal lobes lie below")
    assert ask("Anything in the cerebellum?", vol).startswith("I can't tell: the cerebellum is not")


def test_named_compartments_and_the_side_with_more():
    """Before: "Is the lesion in the insula?" -> the location only; "Are the lesions
    periventricular, juxtacortical or infratentorial?" -> "whether it lies in the
    periventricular"; "Which side has more lesion load?" -> a size."""
    from assistant_fixtures import RIGHT_DARK

    ev = evidence()
    assert ask("Is the lesion in the insula?", ev).startswith(
        "I can't tell whether it lies in the insula"
    )
    assert ask("Are the lesions periventricular, juxtacortical or infratentorial?", ev).startswith(
        "I can't tell whether it is periventricular, juxtacortical or infratentorial:"
    )
    one = ask("Which side has more lesion load?", ev)
    assert one.startswith("All that the detector flagged lies on the patient's left")
    assert "not a lesion load" in one
    two = build_evidence(synthetic_result([LEFT_BRIGHT, RIGHT_DARK]), scan_summary())
    both = ask("Which side has more lesion load?", two)
    assert both.startswith("Of what the detector flagged, the most lies on the patient's left")
    assert "[F1][F2]" in both


def test_particulars_of_the_map_and_the_reconstruction():
    """Before: "Does the heatmap light up only the ring or the whole thing?" and "pseudohealthy
    image - does it remove the lesion cleanly?" -> the general description only; "Are the lesions
    periventricular, juxtacortical or infratentorial?" of a scan analysed anyway -> the
    location."""
    ev = evidence()
    ring = ask("Does the heatmap light up only the ring or the whole thing?", ev)
    assert ring.startswith("I can't tell from the detector's numbers: it reports each region")
    assert "The heatmap (anomaly map) shows" in ring
    clean = ask("pseudohealthy image - does it remove the lesion cleanly?", ev)
    assert clean.startswith("I can't judge that from the numbers: how cleanly")
    assert ask("What does the heatmap show?", ev).startswith("The heatmap (anomaly map) shows")
    anyway = ask(
        "Are the lesions periventricular, juxtacortical or infratentorial?", analysed_anyway()
    )
    assert anyway.startswith("Unreliable:")
    assert "I can't tell whether it is periventricular, juxtacortical or infratentorial" in anyway
