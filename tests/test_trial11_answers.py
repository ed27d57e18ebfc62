"""Answers an eleventh radiologist's trial (2026-12-05, the whole-brain detector, 140 questions,
21 judged wrong) found wrong, asked through the grounded responder with constructed evidence, or
through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    finding_evidence,
    grounded_ask,
    scan_summary,
    skull_stripped_volume,
    synthetic_result,
)

from assistant.analysis import build_evidence
from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence


def whole_brain_volume(notes=("reoriented from PSR to RAS+ (column 0 = patient left)",)):
    """Evidence of a healthy volume analysed at every brain level by a level-aware detector:
    no finding, no 3D finding."""
    summary = {
        **scan_summary(),
        "notes": list(notes),
        "source_shape": [120, 64, 80],
        "source_spacing_mm": [2.0, 2.0, 2.0],
        "slice_index": 74,
        "registered": {"level_mm": 23.0, "slice_index": 74, "similarity": 0.86},
        "volume_analysis": {
            "levels_mm": [float(z) for z in range(-50, 80, 2)],
            "native_slices": [39, 98],
            "level_aware": True,
            "findings": [],
            "weak": [],
        },
    }
    return build_evidence(synthetic_result([]), summary)


def one_slice_of_nine():
    return evidence(source_shape=[9, 64, 80], slice_index=4, source_spacing_mm=[1.0, 1.0, 1.0])


def test_a_whole_volume_is_not_called_one_slice():
    """Rule-outs on a volume analysed at every level said "only the analysed slice ... was
    compared" beside "the whole volume ... was analysed at every brain level"."""
    ev = whole_brain_volume()
    for q in ("r/o mass anywhere in the brain", "any infarct anywhere, old or new"):
        text = ask(q, ev)
        assert "only the analysed slice" not in text, q
        assert "only this T1-weighted volume was compared with healthy scans" in text, q
    assert "no level of this volume deviates" in ask("what would you do next", ev)


def test_no_go_ahead_to_sign_off_a_whole_volume():
    """ "can I tell the patient her MRI is normal", "ok to discharge then", "so can i report it
    as a normal study" got "Yes, probably"."""
    ev = whole_brain_volume()
    for q in (
        "can I tell the patient her MRI is normal",
        "ok to discharge then",
        "so can i report it as a normal study",
    ):
        text = ask(q, ev)
        assert text.startswith("Nothing was found at any analysed level, yes, but not on this "), q
        assert text.count("clinical decision") == 1, q


def test_places_of_a_volume_analysed_at_every_level():
    """ "and the posterior fossa?" got a weak region's position on the displayed slice;
    "cerebellum and brainstem clear?" said the detector does not assess them, though their
    levels were analysed; a sign of a structure stays not assessed."""
    ev = whole_brain_volume()
    fossa = ask("anything in the posterior fossa?", ev)
    assert fossa.startswith("No: the whole volume was analysed at every brain level, the levels ")
    both = ask("cerebellum and brainstem clear?", ev)
    assert (
        both.startswith("Yes, nothing was found there") and "cerebellum and the brainstem" in both
    )
    assert ask("lesion in the pons?", ev).startswith("No: the whole volume was analysed")
    assert ask("hippocampi symmetric?", ev).startswith("I can't tell")
    assert ask("cerebellar tonsils ok? ?chiari", ev).startswith("I can't tell")


def test_a_side_in_the_history_is_not_the_side_asked():
    """ "45F new R hand numbness, any focal lesion on this vol?" was read as "is it on the
    right?" and answered "No. F1 lies on the patient's left"."""
    q = "45F new R hand numbness, any focal lesion on this vol?"
    assert resolve(q).intent == "presence"
    assert ask(q, evidence()).startswith("Yes. The detector found 1 region")
    assert ask("left-sided weakness, which side is the lesion?", evidence()).startswith("Left.")
    assert resolve("R hemisphere clear?").intent == "side"


def test_the_extent_and_both_parts_of_a_volume_question():
    """ "does this cover the whole brain or just a slab?" got F1's area; "what side and which
    slices does it span" the side only; "biggest lesion - where and how big" the size only; "R
    hemisphere clear?" of one analysed slice a bare "Yes"."""
    ev = one_slice_of_nine()
    slab = ask("does this cover the whole brain or just a slab?", ev)
    assert slab.startswith("It is a slab: 9 axial slices of 1 mm, about 9 mm in all")
    both = ask("what side and which slices does it span", ev)
    assert both.startswith("Left.") and "Slice 4, the displayed slice, holds F1" in both
    where = ask("biggest lesion - where and how big", ev)
    assert where.startswith("Left, anterior") and "F1 covers" in where
    clear = ask("R hemisphere clear?", ev)
    assert (
        clear.startswith("Yes.")
        and "Only one of this volume's 9 axial slices was analysed" in clear
    )


def test_a_refused_volume_and_one_analysed_anyway():
    """ "lesion load in mL" of a refused volume spoke of "its area on this slice"; "is the
    orientation LAS?" got no yes/no; "what can you tell me then" opened "I can't help with that";
    "how many lesions and total volume in mL" (analysed anyway) dropped the volume; "corpus
    callosum involved?" (analysed anyway) lost the unreliable warning."""
    refused = skull_stripped_volume()
    load = ask("lesion load in mL", refused)
    assert "its area on this slice" not in load and "[A1]" in load
    las = evidence(notes=["reoriented from LAS to RAS+ (column 0 = patient left)"])
    assert ask("is the orientation LAS?", las).startswith("Yes: the file stores its voxels in LAS")
    assert ask("orientation RAS?", las).startswith("No: the file stores its voxels in LAS order")
    assert "I can tell you about" in ask("what can you tell me then", refused)
    anyway = skull_stripped_volume(analysed_anyway=True)
    count = ask("how many lesions and total volume in mL", anyway)
    assert count.startswith("Unreliable") and "A volume (mL) cannot be measured" in count
    assert ask("corpus callosum involved?", anyway).startswith("Unreliable: this image is outside")


def test_follow_ups_name_what_they_ask():
    """ "and the second one?" repeated F1's size; "which slices for that one" the size again."""
    second = ask("and the second one?", evidence())
    assert second.startswith("There is no second finding on this scan: the detector found only F1")
    assert resolve("which slices for that one").intent == "location"


def test_elsewhere_in_the_brain_and_atlas_regions_of_one_slice():
    """ "can I rule out a lesion elsewhere in the brain" of one 2D slice got "No, not normal"
    about F1; "which atlas region" got a position without saying there is no atlas name."""
    png = evidence(source_shape=None)
    elsewhere = ask("can I rule out a lesion elsewhere in the brain", png)
    assert elsewhere.startswith("No, not for the whole brain: this is one 2D slice")
    atlas = ask("which atlas region is the finding in", one_slice_of_nine())
    assert atlas.startswith("No atlas region can be named: this scan has no 3D finding")
