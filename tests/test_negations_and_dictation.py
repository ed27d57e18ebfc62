"""Yes/no questions asked through a negation ("Does the image fail to show a lesion?", "Is F1
not an artefact?", "Is it not the case that ..."), dictated questions ("so know bleed right",
"F won", "question mark" in the middle), a child's scan, "normal for age" and a sided question on
an image with regions on both sides. The tuning paraphrase sets (train28-31) found these; the
wordings here are other ones."""

from __future__ import annotations

import pytest
from assistant_fixtures import (
    LEFT_BRIGHT,
    finding_evidence,
    grounded_ask,
    healthy_evidence,
    png_evidence,
)

from assistant.responders.intents import resolve
from assistant.responders.intents.learned import yes_means_normal
from assistant.responders.intents.text import normalise

ask = grounded_ask
RIGHT_BRIGHT = {"row": 40, "col": 56, "size": 8, "delta": 0.4}


@pytest.mark.parametrize(
    "question, normal",
    [
        # a frame that says the statement is untrue flips it
        ("Is it not true that this slice is clean?", False),
        ("Is it not the case that there are lesions here?", True),
        ("Would it be untrue to say there is a mass?", True),
        # failing or being unable to show something: nothing there
        ("Did the scan fail to demonstrate a haemorrhage?", True),
        ("Was the detector unable to find anything?", True),
        ("Did the model leave the whole slice unflagged?", True),
        # normal negated: yes = abnormal
        ("Is this slice anything but healthy?", False),
        ("Is the slice not completely normal?", False),
        ("Is the brain not free of disease?", False),
        ("Can a healthy scan be excluded here?", False),
        ("Does any region fall outside the normal range of the reference scans?", False),
        # an artefact negated: yes = real
        ("Is the highlighted area more than noise?", False),
        ("Is F2 not merely an artefact?", False),
        ("Is the red blob anything other than a glitch?", False),
        # two negations: yes = normal
        ("Nothing that isn't noise, right?", True),
        ("Is there nothing on it that shouldn't be there?", True),
        # an artefact named, "rather than" a lesion: yes = normal
        ("Is the spot caused by motion rather than pathology?", True),
        ("Could F1 be a partial volume effect instead of a real lesion?", True),
        # a question of its own after a doubting statement
        ("I doubt there's a mass. Is there?", False),
        # the detector's flag read out
        ("Is abnormal = false for this one?", True),
    ],
)
def test_negated_questions_are_read_the_right_way(question, normal):
    assert yes_means_normal(question) is normal, question


def test_dictated_words():
    """Speech-to-text homophones and spoken punctuation."""
    assert "no mass" in normalise("so there's know mass right")
    assert "did it report no findings" in normalise("did it report know findings")
    assert "i know lesions" in normalise("I know lesions can be subtle")
    assert "let me know if" in normalise("let me know if there's a bleed")
    assert "f1" in normalise("is F won bright") and "f2" in normalise("is eff too real")
    assert "lesion" in normalise("what sort of lee shun is it")
    assert "unhealthy" in normalise("any un healthy tissue")
    assert "is f1 just noise" in normalise("is F1 just static")
    # a filler is a pause; a question mark said early leaves the question after it
    assert resolve("bad headaches uh is there a bleed", [], []).intent == "presence"
    healthy = ask("new headache question mark is the scan normal", healthy_evidence())
    assert healthy.startswith("Yes"), healthy
    found = ask("so know tumour right", finding_evidence())
    assert found.startswith("No, not normal"), found


def test_negated_questions_get_the_right_yes_or_no():
    found, healthy = finding_evidence(), healthy_evidence()
    assert ask("Does this slice fail to show any lesion?", found).startswith("No")
    assert ask("Does this slice fail to show any lesion?", healthy).startswith("Yes")
    assert ask("Is F1 not an artefact?", found).startswith("Yes, probably")
    assert ask("Is F1 more than an artefact?", found).startswith("Yes, probably")
    assert ask("Is F1 more than an artefact?", healthy).startswith("No")
    assert ask("Is the red area caused by a bias field rather than disease?", found).startswith(
        "No"
    )
    assert ask("Is F1 likely to be noise?", found).startswith("No, probably not")
    assert ask("Is the hottest colour on the overlay due to noise?", found).startswith("No")
    # an exam candidate is not a candidate diagnosis; "would you do the same?" asks the statement
    assert ask("Can I tell the candidate it's a normal film?", healthy).startswith("Yes")
    assert ask("I'd call this clear. Would you do the same?", found).startswith("No")
    # "does it match normal anatomy" is about this scan, not the case library
    assert resolve("Does this slice match normal anatomy?", [], ["F1"]).intent == "presence"


def test_a_childs_scan_is_read_with_caution_and_an_infants_not_at_all():
    """The detector learned adult brains only (IXI, about 20 to 86): an infant's or toddler's scan
    (still myelinating: T1 contrast differs) gets "I can't tell" with the reason, whatever it
    computed; an older child's gets the reading and a caution; a 17-year-old's neither."""
    for q in ("10-month-old, is this normal?", "toddler with seizures - any lesion?",
              "Is this 2 year old's MRI normal?"):  # fmt: skip
        for ev in (finding_evidence(), healthy_evidence()):
            answer = ask(q, ev)
            assert answer.startswith("I can't tell: the detector learned normal anatomy from "
                                     "adults only"), (q, answer)  # fmt: skip
            assert "What it computed:" in answer
    for q in ("6-year-old with headaches, is this normal?", "Is this child's MRI normal?"):
        answer = ask(q, healthy_evidence())
        assert answer.startswith("Yes, as far as this detector can tell"), answer
        assert "This is a child's scan: the detector learned normal anatomy from adults" in answer
        assert ask(q, finding_evidence()).startswith("No, not normal")
    assert "adults only" in ask("12F, where is the lesion?", finding_evidence())
    assert "adults only" in ask("baby, where is the lesion?", finding_evidence())
    assert "adults only" not in ask("17M, first fit. is it normal?", healthy_evidence())
    assert "adults only" not in ask("forty two year old, is it normal?", healthy_evidence())


def test_normal_for_age_is_read_as_normal_with_the_age_caveat():
    """ "normal for age?" got "the detector does not assess that (normal for age)" while "normal
    for a 70 year old?" got the reading with the caveat; both now get the reading and caveat."""
    for q in ("Is this normal for his age?", "age appropriate appearances?"):
        healthy = ask(q, healthy_evidence())
        # (a yes that it found nothing, then not "for age": trial 18 found "Yes, probably" then
        # "it cannot say whether ... is normal for age" contradictory)
        assert healthy.startswith("Nothing was found, yes, but not as normal for age"), healthy
        assert "not with norms for the patient's age" in healthy
        assert ask(q, finding_evidence()).startswith("No, not normal")
    # the signs of ageing themselves are still not assessed
    assert ask("is there age-related atrophy?", healthy_evidence()).startswith("I can't tell")


def test_a_side_asked_of_an_image_with_regions_on_both_sides():
    """Without a recorded orientation, regions on both sides of the image put one on the
    patient's asked side whichever way it is displayed."""
    both = png_evidence([LEFT_BRIGHT, RIGHT_BRIGHT])
    answer = ask("Is there a lesion in the patient's left hemisphere?", both)
    assert answer.startswith("Yes, whichever way the image is displayed"), answer
    assert "which one is unknown" in answer
    assert ask("Is the right hemisphere clear?", both).startswith("No, whichever way")
    # one side only: still unknown
    one = ask("Is there a lesion in the patient's left hemisphere?", png_evidence([LEFT_BRIGHT]))
    assert one.startswith("I can't tell which side of the patient")
    # nothing found: a question whether one side is clear gets a yes
    assert ask("Is the right hemisphere clear?", healthy_evidence()).startswith("Yes, nothing")


def test_a_post_contrast_image_is_read_with_a_note():
    """ "Is the contrast-enhanced T1 abnormal?" got "the detector does not assess that
    (enhanced)": it asks about the image; the answer reads it and says the detector learned
    non-contrast T1 only. Whether something enhances is still "I can't tell"."""
    found = ask("Is the contrast-enhanced T1 abnormal?", finding_evidence())
    assert found.startswith("Yes") and "trained on T1 scans without contrast" in found
    healthy = ask("anything on this post-gad slice?", healthy_evidence())
    assert healthy.startswith("No") and "trained on T1 scans without contrast" in healthy
    assert ask("Is the lesion enhancing?", finding_evidence()).startswith("I can't tell")
    # bare fragments and a statement put up for checking
    assert ask("issue?", finding_evidence()).startswith("Yes")
    assert ask("I'd call this normal. Does the scan support that?", finding_evidence()).startswith(
        "No, not normal"
    )


def test_second_round_wordings():
    """train32a-d (ages and sides; pasted text; messages with more than the question; cautious
    and leading framings), in other words."""
    found, healthy = finding_evidence(), healthy_evidence()
    # a yes/no about one side with nothing found anywhere: a yes or no, not "nothing to lateralise"
    assert ask("right temporal lobe ok?", healthy).startswith("Yes, nothing was found")
    assert ask("any mass on the left side?", healthy).startswith("No")
    # "a false positive / alarm?" of a finding: a yes or no from its confidence
    assert ask("Would F1 be a false alarm?", found).startswith("No, probably not")
    assert ask("Is the overlay's hot spot a false positive?", found).startswith("No")
    assert ask("Is F3 a false positive?", found).startswith("Yes, no such finding")
    # a quoted claim put up for agreement asks the claim
    assert ask('Report line: "No intracranial abnormality." Correct?', found).startswith("No")
    assert ask('My impression: "Abnormal study." Agree?', healthy).startswith("No")
    # the detector's output as a field, the null hypothesis, expectation
    assert ask("lesions: none? Y/N", found).startswith("No")
    assert ask("Do we keep the null hypothesis that the slice is normal?", found).startswith("No")
    assert ask("Is this slice what you'd expect from a healthy volunteer?", healthy).startswith(
        "Yes"
    )
    assert ask("Does this differ from what you'd expect in a healthy adult?", found).startswith(
        "Yes"
    )
    assert resolve("Does the scan match what we'd expect of a healthy control?", [], []).intent == (
        "presence"
    )
    # a correction inside the message
    assert "the warm area real" in normalise("Is the blue - no wait, the warm area real?")
    assert "blue" not in normalise("Is the blue - no wait, the warm area real?")
    # a sign named before the question about the whole scan does not take the question
    assert ask("it looks quite symmetric... so is the brain normal?", healthy).startswith("Yes")


@pytest.mark.parametrize(
    "question, normal",
    [
        # words for "not a true lesion": fake, a reconstruction error, the model being wrong
        ("Is F1 bogus?", True),
        ("is the red blob just a registration error?", True),
        ("Is F2 merely the algorithm being oversensitive?", True),
        ("Is the hot spot just the software hallucinating?", True),
        ("Is the highlight non-pathological?", True),
        ("Is F1 a bona fide abnormality?", False),
        ("Is F2 a proper lesion?", False),
        ("F1: false alarm?", True),
        ("Would you class F1 as a false positive?", True),
        ("F1 isn't real, is it?", True),
        ("The spot looks like noise to me, right?", True),
        # the detector's verdict in words of passing, flags counted as none
        ("Did the slice pass the AI screen?", True),
        ("Did it pass the detector's threshold?", False),
        ("Did the model flag zero areas?", True),
        ("The detector not find anything, correct?", True),
        ("Is this one good to go?", True),
        ("Is it grand, this scan?", True),
        ("Any grand mal seizure focus?", False),
        # someone else's claim checked, a true negative, a key: value line (the retrained reader
        # is less sure of these than the old one was, so the rules read them)
        ("My SHO thinks F2 is just noise; is he right?", True),
        ("The consultant says there's a bleed, is she correct?", False),
        ("Is this a true negative?", True),
        ("Field: F1_artefact | Answer: ? (true/false)", True),
    ],
)
def test_third_round_polarity(question, normal):
    """train33a-d (real users; what they see on the screen; idioms; more than the question), in
    other words: whether "yes" means the scan (or the finding) is normal."""
    assert yes_means_normal(question) is normal, question


def test_third_round_answers():
    found, healthy = finding_evidence(), healthy_evidence()
    # a finding called fake gets its confidence the right way round
    assert ask("Is F1 bogus?", found).startswith("No, probably not")
    assert ask("F1 bogus?", found).startswith("No")
    assert ask("Is the yellow patch on the overlay meaningless?", found).startswith("No")
    assert ask("Is the lit-up area on the map just a reconstruction error?", healthy).startswith(
        "Yes"
    )
    assert resolve("Is what the detector flags real?", [], []).intent == "presence"
    # a plan said after the question is not a request to compare
    plan = ask("Is the scan normal? I'll compare it with last year's report myself.", healthy)
    assert plan.startswith("Yes"), plan
    # a past operation asked about is not a permission to operate
    prior = ask("Can we exclude previous surgery here?", healthy)
    assert prior.startswith("Yes") and "clinical decision" not in prior, prior


@pytest.mark.parametrize(
    "question, normal",
    [
        # asked through the comparison with the pseudo-healthy image
        ("Does subtracting the pseudo-healthy image uncover a lesion?", False),
        ("The restored image matches mine closely, so normal?", True),
        ("Is there anything in this slice that the healthy version had to paint out?", False),
        # a finding called a false positive without an article or a verb
        ("F1 false alarm, yes?", True),
        ("F2 - false alarm or not?", True),
        # "not any X?" as a phrase; "X or no X?"
        ("not any bleed na?", True),
        ("Tumour or no tumour?", False),
        ("variant of the norm?", True),
        ("The detector didn't mark a single area, right?", True),
        ("Could F1 be dismissed as an artefact?", True),
        ("Is F2 just the algorithm overreacting?", True),
    ],
)
def test_fourth_round_polarity(question, normal):
    """train34a-d (a busy hospital's mix; yes/no in many shapes; non-native phone typing; what
    users see on the screen), in other words."""
    assert yes_means_normal(question) is normal, question


def test_fourth_round_intents_and_answers():
    found, healthy = finding_evidence(), healthy_evidence()
    for q in ("Does the side-by-side view reveal an abnormality?",
              "Is the patient's scan healthy according to the reconstruction?",
              "Is the overlay activation merely a false alarm?",
              "If you had one word for this scan, would the word be abnormal?"):  # fmt: skip
        assert resolve(q, [], ["F1"]).intent == "presence", q
    # what the pseudo-healthy image is stays its own question
    for q in ("Compare the input slice with the healthy reconstruction.",
              "Is the pseudo-healthy image a real photo of a healthy brain?",
              "Does the reconstruction look normal?"):  # fmt: skip
        assert resolve(q, [], ["F1"]).intent == "pseudo_healthy", q
    assert ask("F2 false positive, right?", healthy).startswith("Yes, nothing is there")
    assert ask("Can F1 be written off as noise?", found).startswith("No, probably not")
    # a yes/no with a note on the letter keeps its yes/no
    assert ask("Any lesions? I have to put it in the GP letter.", found).startswith("Yes")
