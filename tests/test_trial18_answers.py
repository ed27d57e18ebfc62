"""Answers an eighteenth trial (2026-12-05: a stroke physician and a memory-clinic
geriatrician, 110 questions, 22 judged wrong) found wrong, asked through the grounded responder
with constructed evidence, in other words than the trial's."""

from __future__ import annotations

from assistant_fixtures import (
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    png_evidence,
    skull_stripped_volume,
    weak_five_level_volume,
)

from assistant.responders.intents import resolve

ask = grounded_ask


def test_children_in_an_old_patients_history_do_not_make_it_a_childs_scan():
    answer = ask("She is 81 and keeps seeing children in her room. Lewy body disease?",
                 healthy_evidence())  # fmt: skip
    assert "child's scan" not in answer and "adults only" not in answer, answer


def test_normal_for_age_is_not_a_plain_yes_then_cannot_say():
    answer = ask("Is this what you'd expect for a 90 year old?", healthy_evidence())
    assert answer.startswith("Nothing was found, yes, but not as normal for age"), answer
    shrunk = ask("has her brain shrunk?", healthy_evidence())
    assert shrunk.startswith("I can't tell"), shrunk
    volume = ask("Known MS for 30 years. Any global volume loss?", healthy_evidence())
    assert volume.startswith("I can't tell") and "volume" in volume.split(";")[0], volume


def test_an_older_patients_scan_called_normal_says_not_for_age():
    """ "is this what a healthy older brain looks like?" and "my 91 year old patient ... does it
    look normal?" got a plain "Yes, as far as this detector can tell"."""
    for q in ("Does this look like a normal elderly brain?",
              "Her mother is 88. Is her scan normal?"):  # fmt: skip
        answer = ask(q, healthy_evidence())
        assert answer.startswith("Nothing was found, yes, but not as normal for age"), (q, answer)
    infarct = ask("79F, sudden aphasia. Is there an MCA infarct?", healthy_evidence())
    assert infarct.startswith("No"), infarct  # the reading of the lesion asked stands


def test_what_t1_cannot_show_is_not_answered_no():
    """Microbleeds (SWI/T2*), a Fazekas grade (FLAIR), early ischaemia and ASPECTS (DWI, CT), a
    vessel's occlusion or territory got "No" or "Right."."""
    for q in ("any micro-haemorrhages before we anticoagulate?", "Fazekas grade?",
              "basilar thrombosis?"):  # fmt: skip
        assert ask(q, healthy_evidence()).startswith("I can't tell"), q
    early = ask("hyperacute ischaemia? ASPECTS please", healthy_evidence())
    assert early.startswith("I can't tell: early ischaemic change mostly shows on diffusion"), early
    assert resolve("ACA territory or watershed?", [], ["F1"]).intent != "out_of_scope"


def test_clinical_questions_are_not_refused_as_personal_advice():
    """ "lacune in the internal capsule?", "What about normal pressure hydrocephalus? His gait
    ...", "Should I put any of this in my clinic letter to the GP?" were refused."""
    assert resolve("small lacune in the external capsule?", [], []).intent == "presence"
    nph = ask("What about NPH? She is falling and incontinent.", healthy_evidence())
    assert nph.startswith("I can't tell"), nph
    letter = ask("Can I put any of this in my referral letter?", finding_evidence())
    assert not letter.startswith(("Yes", "I can only")) and "clinical decision" in letter, letter
    drive = ask("Anything that means she should stop driving?", healthy_evidence())
    assert "clinical (and licensing) decision" in drive, drive


def test_comparisons_orientation_capabilities_coverage():
    prior = ask("Is this unchanged from her MRI a year ago?", finding_evidence())
    assert prior.startswith("I can't compare: no prior study was provided"), prior
    side = ask("is image left the pts left?", png_evidence())
    assert side.startswith("The PNG file does not record the patient's orientation"), side
    ct = ask("could you do a CT brain instead?", healthy_evidence())
    assert "trained on healthy T1-weighted brain MRI only" in ct, ct
    lobes = ask("were the parietal lobes looked at?", weak_five_level_volume())
    assert lobes.startswith("In part:"), lobes


def test_no_sentence_is_said_twice():
    answer = ask("Could it be a bleed? Should we stop her warfarin?", finding_evidence())
    sentences = [s[:60] for s in answer.split(". ") if len(s) >= 40]
    assert len(sentences) == len(set(sentences)), answer


def test_volume_loss_of_a_scan_analysed_anyway():
    answer = ask("Any atrophy?", skull_stripped_volume(analysed_anyway=True))
    assert answer.startswith("Unreliable") and "does not measure brain volume" in answer, answer
