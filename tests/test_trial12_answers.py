"""Answers a twelfth trial (2026-12-05: a neuroradiologist and a neurology registrar, 152
questions, 36 judged wrong) found wrong, asked through the grounded responder with constructed
evidence, or through the intent reader."""

from __future__ import annotations

from assistant_fixtures import (
    FIVE_LEVELS,
    RIGHT_DARK,
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    scan_summary,
    skull_stripped_volume,
    synthetic_result,
    weak_five_level_volume,
)

from assistant.analysis import build_evidence
from assistant.evidence import Message
from assistant.responders.intents import resolve

ask = grounded_ask
evidence = finding_evidence


def weak_slice():
    """A healthy 2D slice with one weaker region (W1), nothing above the image threshold."""
    from dataclasses import replace

    from assistant_fixtures import LEFT_BRIGHT

    r = synthetic_result([LEFT_BRIGHT], score=0.2, threshold=0.4)
    r = replace(r, findings=[], weak_findings=[replace(f, id="W1") for f in r.findings])
    return build_evidence(r, scan_summary())


def test_no_go_ahead_on_one_slice():
    """ "fine, can I sign off as normal?", "can i send her home then", "can i discharge him?",
    "happy for me to report as NAD?" got "Yes, probably"; "what do i tell her husband" no
    caveat; "is the brain ok on this?" no word that it is one slice."""
    ev = weak_slice()
    for q in (
        "fine, can I sign off as normal?",
        "can i send her home then",
        "can i discharge him?",
        "happy for me to report as NAD?",
    ):
        text = ask(q, ev)
        assert text.startswith("Nothing was found, yes, but not on this reading alone"), q
        assert "clinical decision" in text and "This is one 2D slice" in text, q
    husband = ask("what do i tell her husband, he is really worried", ev)
    assert husband.startswith("Nothing was found, but that is not enough on its own")
    assert "This is one 2D slice" in ask("is the brain ok on this?", ev)


def test_requests_to_read_the_scan():
    """ "what have we got", "read this vol pls", "analyse pls", "run it", "can you look at this,
    my patient is short of breath" were declined as out of scope."""
    for q in ("what have we got", "read this vol pls", "analyse pls", "run it"):
        assert resolve(q).intent == "presence", q
    assert ask("what have we got", evidence()).startswith("The detector found 1 region")
    refused = skull_stripped_volume()
    for q in ("analyse pls", "run it", "can you look at this, my patient is short of breath"):
        assert ask(q, refused).startswith("I can't analyse it: the anomaly detector"), q


def test_two_part_and_acquisition_questions():
    """ "side and size", "which hemisphere, and approx dimensions?" gave one part; "slice
    count?" a count of findings; "is this scan good quality?" a presence answer; "lesion volume
    in cc?" a "Yes"; "hippocampal volumes?" "nothing to locate"."""
    assert "Left." in ask("side and size", evidence()) and "F1 covers" in ask(
        "side and size", evidence()
    )
    dims = ask("which hemisphere, and approx dimensions?", evidence())
    assert "Left." in dims and "across" in dims
    volume = weak_five_level_volume()
    assert resolve("slice count?").intent == "modality"
    assert ask("slice count?", volume).startswith("This is a volume of 120 axial slices")
    assert ask("is this scan good quality?", volume).startswith("For this detector, yes")
    assert resolve("lesion volume in cc?").intent == "size"
    assert ask("lesion volume in cc?", evidence()).startswith("A volume cannot be measured")
    assert ask("hippocampal volumes?", volume).startswith("I can't tell")
    assert FIVE_LEVELS["source_shape"][0] == 120


def test_named_kinds_causes_and_change():
    """ "is it MS?" and "could it just be nothing?" after a side question kept the side; "is the
    dark patch dead brain?" a bare "Yes."; "is that ring thing the cause of her seizure?" and
    "anything on the scan that explains it?" a "Yes."; "can it tell if the lump is growing?" and
    "is her brain shrinking?" a "Yes."/"No" without a prior."""
    history = [
        Message("user", "is it on the right side of his brain then?"),
        Message("assistant", "Yes. F1 lies on the patient's right [F1]."),
    ]
    assert resolve("is it MS?", history, ["F1"]).intent == "presence"
    assert resolve("could it just be nothing?", history, ["F1"]).intent == "presence"
    dark = evidence(lesions=(RIGHT_DARK,))
    assert "yes, but I can't tell whether it is MS" in ask("is it MS?", dark)
    assert ask("could it just be nothing?", evidence()).startswith("No, probably not")
    assert not ask("is the dark patch dead brain?", dark).startswith("Yes")
    seizure = ask("is that ring thing the cause of her seizure?", evidence())
    assert seizure.startswith("I can't tell whether this is the cause of her seizure")
    explains = ask("new right sided weakness. anything on the scan that explains it?", evidence())
    assert explains.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it explains"
    )
    for q in ("can it tell if the lump is growing?", "is her brain shrinking?"):
        assert ask(q, evidence()).startswith("I can't compare: no prior study was provided"), q


def test_volumes_analysed_in_part_and_scans_analysed_anyway():
    """ "so is the MRI normal or not?" of a volume analysed at five levels got "Yes at the
    analysed levels"; "the back of the brain, the balance bit" was not placed; "is the left side
    worse?" of a scan analysed anyway said "Yes." after saying it is not evidence; "can I put any
    of this in a report" of such a scan got the draft alone."""
    volume = weak_five_level_volume()
    assert ask("so is the MRI normal or not?", volume).startswith("I can't tell for the whole head")
    before = [Message("user", "anything abnormal?"), Message("assistant", "No, not clearly.")]
    balance = ask("what about the back of the brain, the balance bit?", volume, before)
    assert balance.startswith("I can't tell: the cerebellum is not on the levels")
    anyway = skull_stripped_volume(analysed_anyway=True)
    worse = ask("is the left side worse?", anyway)
    assert worse.startswith("Unreliable") and "Yes." not in worse
    report = ask("can I put any of this in a report", anyway)
    assert "No, not as findings" in report


def test_the_rest_of_the_brain_a_picture_and_a_better_test():
    """ "is the rest of the brain normal?" of one slice said "Yes, nothing else" and then that
    the rest was not seen; "can the family see a picture of it?" got "Yes. The detector found";
    "heatmap completely cold?" got "Yes, probably" and then a region on it; "would a CT have
    been better?" a presence answer; "is the white spot a bleed? should i stop his aspirin?"
    only the aspirin."""
    rest = ask("is the rest of the brain normal?", evidence(source_shape=None))
    assert rest.startswith("Nothing else on this slice, yes")
    picture = ask("can the family see a picture of it?", evidence())
    assert picture.startswith("The app shows the scan") and "your decision" in picture
    cold = ask("heatmap completely cold?", weak_slice())
    assert cold.startswith("Mostly, yes: no region reached the detector's thresholds")
    assert resolve("would a CT have been better?").intent == "next_steps"
    bleed = ask("is the white spot a bleed? should i stop his aspirin?", evidence())
    assert bleed.startswith(
        "A region deviates from healthy anatomy, yes, but I can't tell whether it is a bleed"
    )
    assert "clinical decision" in bleed
    assert ask("is the brain ok?", healthy_evidence()).startswith(("Yes", "No"))
