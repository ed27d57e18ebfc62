"""Question understanding (assistant.responders.intents): the parser, the modality-word
invariance, polarity, sides, follow-ups and the embedding fallback.

The questions here were written for these tests; none is taken from the paraphrase benchmark
(eval/paraphrase), whose test split stays a generalisation figure."""

from __future__ import annotations

import pytest

from assistant.evidence import Message
from assistant.responders.intents import (
    INTENT_EXAMPLES,
    INTENTS,
    asks_normal,
    classify,
    parse,
    resolve,
    side_question,
    yes_means_normal,
    yes_no_question,
)
from assistant.responders.intents.parse import asks_which_slice
from assistant.responders.intents.text import modality_only, normalise, strip_modality

# (intent, question): one or more plain and one or more awkward phrasings per intent
CASES = [
    ("presence", "Is the scan abnormal?"),
    ("presence", "Any abnormality on the T2?"),
    ("presence", "Is there pathology on this sagittal MRI?"),
    ("presence", "Does this CT look normal?"),
    ("presence", "Did the AI detect a lesion?"),
    ("presence", "Nothing abnormal?"),
    ("presence", "pathology y/n"),
    ("presence", "is thre a tumor"),
    ("presence", "Is there a haematoma?"),
    ("location", "Where on the image is the abnormality?"),
    ("location", "Is F1 deep or superficial?"),
    ("location", "Is the lesion in the frontal lobe or parietal lobe?"),
    ("location", "Whereabouts is F1?"),
    ("side", "Is the lesion left?"),
    ("side", "Which hemisphere is involved on this MRI?"),
    ("side", "F1 on the right or left?"),
    ("side", "Is it on the right of the image?"),
    ("size", "Is the lesion larger than 5 mm?"),
    ("size", "How wide is it?"),
    ("size", "Is it a large lesion?"),
    ("size", "Approximately what size?"),
    ("intensity", "Is F2 dark?"),
    ("intensity", "Is it T2 bright?"),
    ("intensity", "Hyper or hypo?"),
    ("count", "How many lesions are on this T2 image?"),
    ("count", "Is there only one lesion?"),
    ("count", "Are there other lesions besides F1?"),
    ("count", "Are there two lesions?"),
    ("explanation", "Could this be a glioma?"),
    ("explanation", "Is F1 an infarct?"),
    ("explanation", "Tumour or MS?"),
    ("explanation", "What could the hyperintensity on T2 be?"),
    ("explanation", "Is the lesion benign?"),
    ("similar_cases", "Are there any matching cases in the library?"),
    ("similar_cases", "What are the nearest neighbours?"),
    ("heatmap", "Why is the overlay red there?"),
    ("heatmap", "How do I interpret the colours?"),
    ("pseudo_healthy", "What does the brain look like without F1?"),
    ("pseudo_healthy", "Is the reconstruction reliable?"),
    ("confidence", "Could the detector have missed a lesion?"),
    # a plain yes/no whether a finding is real is presence (eval/paraphrase/README.md); the
    # retrained reader of 2026-12-05 reads it so, as the training sets label it
    ("presence", "Is F2 a false positive?"),
    ("confidence", "Could F1 be an artefact?"),
    ("presence", "Is the finding real?"),
    ("confidence", "Is the finding real or noise?"),
    ("next_steps", "Should I get a follow-up scan?"),
    ("next_steps", "Would perfusion imaging help?"),
    ("next_steps", "Should the patient be referred?"),
    ("next_steps", "How should this be followed up?"),
    ("modality", "What sequence is this?"),
    ("modality", "Is this T1 or T2 weighted?"),
    ("modality", "What is the spacing between pixels?"),
    ("modality", "Which way is left on this image?"),
    ("out_of_scope", "Is this knee MRI normal?"),
    ("out_of_scope", "What is the recommended dose of aspirin?"),
    ("out_of_scope", "How common is multiple sclerosis?"),
    ("out_of_scope", "Can you help me with my taxes?"),
    ("report", "Can you give me a summary of the findings?"),
    ("report", "Draft an impression for this T1 study."),
    ("report", "Write it up as a report."),
    # a sequence named as where something is seen, not asked about
    ("intensity", "Is it bright on this sequence?"),
    ("intensity", "Does F1 have low signal on the T2 sequence?"),
    ("modality", "What is the TE of this sequence?"),
    # whether the detector is wrong is a confidence question, not a cause question
    ("confidence", "Could the algorithm be mistaken?"),
    ("confidence", "How often is the model wrong about such regions?"),
    # what a kind of finding can be, whatever adjective describes it
    ("explanation", "What might this T2 bright spot represent?"),
    ("explanation", "What could a dark area like this be?"),
    # a polite or unsure preamble does not change what is asked
    ("presence", "I might be wrong but is there a lesion?"),
    ("presence", "Not sure if I'm reading this right, but is the brain ok?"),
    ("presence", "Any red flags on this image?"),
    ("size", "Not sure about this one: how big is F1?"),
    ("heatmap", "Frankly I am not sure what the heatmap shows - can you explain it?"),
    # a kind of lesion asked about as present or absent, not as a cause
    ("presence", "Any evidence of a demyelinating process?"),
    ("presence", "Is the scan negative for neoplastic disease?"),
    ("presence", "subcortical hyperintensities seen?"),
    ("presence", "Hello - I am a junior doctor, is there a lesion?"),
    ("presence", "Would it be wrong to call this scan unremarkable?"),
]


@pytest.mark.parametrize("intent, question", CASES)
def test_parser_reads_what_is_asked(intent, question):
    assert classify(question)[0] == intent, question


def test_every_intent_is_covered_and_named():
    assert {i for i, _ in CASES} == set(INTENTS) - {"unknown"}
    assert set(INTENT_EXAMPLES) == set(INTENTS) - {"unknown"}


@pytest.mark.parametrize(
    "plain, asked",
    [
        ("Is there a tumour on this image?", "presence"),
        ("Is this scan normal?", "presence"),
        ("Which side is the abnormality on?", "side"),
        ("How many lesions are visible?", "count"),
        ("What could the bright region be?", "explanation"),
        ("Write a report for this slice.", "report"),
        ("Where is the lesion on this slice?", "location"),
    ],
)
@pytest.mark.parametrize(
    "qualifier", ["", "T1 ", "axial ", "coronal T2 ", "FLAIR ", "T1-weighted MR ", "MRI "]
)
def test_modality_words_do_not_change_what_is_asked(plain, asked, qualifier):
    q = plain.replace("this image", f"this {qualifier}image").replace(
        "this slice", f"this {qualifier}slice"
    )
    q = q.replace("this scan", f"this {qualifier or ''}scan")
    assert classify(q)[0] == asked, q


def test_acquisition_questions_are_modality():
    for q in ("Is this axial?", "Is this an MRI or a CT?", "Is this a T1-weighted image?",
              "What is the slice thickness?", "Is the image in radiological convention?"):  # fmt: skip
        assert classify(q)[0] == "modality", q
        assert modality_only(normalise(q)) or parse(q).cue == "acquisition", q
    assert strip_modality(normalise("Is there anything wrong with this brain MRI?")) == (
        "is there anything wrong with this scan?"
    )
    assert (
        strip_modality(normalise("Is the lesion T2 hyperintense?")) == "is the lesion hyperintense?"
    )


def test_which_slice_a_finding_is_on_is_where_not_which_slice_is_shown():
    for q in ("Which slice is the lesion on?", "Which slices should I look at?",
              "On what slice is F1 best seen?", "What level is the abnormality at?",
              "Which slice do I scroll to?",
              # found by trying the whole-brain checkpoint in the app: read as the similar cases,
              # presence, the acquisition or a count before
              "Which slices?", "Which slices are affected?", "How many slices does it span?",
              "How many slices is the lesion on?", "Show me the slice with the lesion",
              "Take me to the slice that shows the abnormality",
              # the learned reader read these as the acquisition (0.92-0.99 sure)
              "Which slice?", "What slice?", "Which slice is it on?"):  # fmt: skip
        assert classify(q)[0] == "location", q
        assert asks_which_slice(q), q
    for q in ("Which slice number is this?", "What slice level is this?",
              "Which slice is this?", "What is the slice thickness?",
              "How many slices are in this scan?", "How many slices does this scan have?"):  # fmt: skip
        assert classify(q)[0] == "modality", q


def test_shorthand_and_typos():
    assert normalise("DDx?") == "differential diagnosis?"
    assert normalise("?SOL") == "?space occupying lesion"
    assert normalise("r/o bleed y/n") == "rule out bleed yes or no"
    assert normalise("wher is the lesoin") == "where is the lesion"
    assert normalise("Were any found?") == "were any found?"  # known words are never "corrected"
    assert classify("hw many lesoins?")[0] == "count"
    # a corrected typo completes a phrase
    assert normalise("the pseduo healthy scan") == "the pseudo-healthy scan"
    assert classify("What does the pseduo healthy reconstruction show?")[0] == "pseudo_healthy"


def test_a_hedged_question_keeps_its_yes_no_polarity():
    from assistant.responders.intents.parse import asks_normal, yes_no_question

    q = "Sorry if this is a silly question, but is the scan normal?"
    assert yes_no_question(q) and asks_normal(q)
    q = "Honestly, does this look pathological?"
    assert yes_no_question(q) and not asks_normal(q)


def test_framed_statements_and_shorthand_keep_their_polarity():
    from assistant.responders.intents.parse import asks_normal

    assert asks_normal("Am I right that this slice is normal?")
    assert not asks_normal("Would it be wrong to call this scan unremarkable?")
    assert asks_normal("I can't see any lesion, correct?")
    assert asks_normal("nl study y/n")
    assert not asks_normal("Is any region different from normal?")


def test_polarity_and_yes_no():
    normal = ["Is this MRI within normal limits?", "Can we exclude a tumour?",
              "Is the study negative?", "Is the slice free of pathology?", "Nothing abnormal?",
              "Is there no bleed?", "Is the T1 clean?", "Is this scan normal or not?"]  # fmt: skip
    abnormal = ["Is there anything wrong?", "Is this scan not normal?", "Any clear lesion?",
                "Is anything visible that should not be there?",
                "Are there lesions or is it normal?"]  # fmt: skip
    for q in normal:
        assert asks_normal(q), q
    for q in abnormal:
        assert not asks_normal(q), q
    for q in normal + abnormal + ["Lesion present?", "tell me if anything is wrong"]:
        assert yes_no_question(q), q
    for q in ("What is abnormal here?", "Which regions are abnormal?", "Describe the findings."):
        assert not yes_no_question(q), q


def test_side_questions_name_their_frame():
    s = side_question("Is F1 on the patient's left?")
    assert (s.sides, s.frame, s.choice) == (("left",), "patient", False)
    s = side_question("Is the lesion on the left or right side of the image?")
    assert (s.sides, s.frame, s.choice) == (("left", "right"), "image", True)
    s = side_question("Is it on the image left or the patient's left?")
    assert s.both_frames and s.choice is False or s.both_frames
    assert side_question("Which hemisphere?").frame == "patient"
    assert side_question("Is the lesion on the right?").frame is None
    # "right" meaning correct is not a side
    assert classify("Am I right that the scan is clear?")[0] == "presence"
    assert classify("Does the picture seem right to you?")[0] == "presence"


def test_what_the_question_is_about():
    assert resolve("How big is F2?", [], ["F1", "F2"]).about == "finding:F2"
    assert resolve("What does the heatmap show around F1?", [], ["F1"]).about == "map"
    assert resolve("Compare F1 with the similar cases.", [], ["F1"]).about == "cases"
    assert resolve("What did the model reconstruct?", [], []).about == "pseudo_healthy"
    assert resolve("Tell me a joke.", [], []).about == "none"
    assert resolve("Where is it?", [], ["F1"]).about == "image"


def test_follow_ups_keep_the_intent_and_pick_the_finding():
    history = [Message("user", "Which side is F2 on?"), Message("assistant", "Right. [F2]")]
    r = resolve("and the other one?", history, ["F1", "F2"])
    assert (r.intent, r.finding_ids, r.follow_up) == ("side", ["F1"], True)
    r = resolve("what about its size?", history, ["F1", "F2"])
    assert (r.intent, r.finding_ids) == ("size", ["F2"])
    # without history an elliptic question about "it" is about the image's main finding
    assert resolve("how big is it?").intent == "size"


def test_unreadable_questions_fall_back_to_the_embedding_or_unknown():
    intent, source, sim = classify("Would a radiologist be happy with this slice?")
    assert (intent, source) == ("presence", "embedding") and sim >= 0.5
    assert classify("Who are you?")[0] == "unknown"
    # not answered as presence: declined, as unknown or as out of scope (the learned reader)
    assert classify("What is the patient's age?")[0] in ("unknown", "out_of_scope")
    assert classify("")[0] == "unknown"


def test_example_lists_do_not_leak_the_benchmark_test_split():
    """The embedding examples may share a few common phrasings with the paraphrase benchmark by
    chance; the count on its test split must not grow (10 when the benchmark was written)."""
    from eval.intent_bench import examples_overlap
    from eval.paraphrase import load

    assert len(examples_overlap(load(split="test"))) <= 10


def test_real_words_are_never_corrected_as_typos():
    # "contusion" is one edit from the key word "conclusion", "cure" from "sure": real English
    # words (pyspellchecker's list) are kept; typos of key words are still corrected
    from assistant.responders.intents.text import correct_word

    for word in ("contusion", "cure", "mess", "breed", "hematoma"):
        assert correct_word(word) == word
    assert correct_word("lesoin") == "lesion" and correct_word("abnormaility") == "abnormality"
    assert classify("Is a contusion visible?")[0] == "presence"
    assert classify("Is there a cure for this?")[0] != "confidence"


def test_a_negating_prefix_is_never_corrected_away():
    # "unflagged" is two edits from the key word "flagged": correcting it flipped the question
    from assistant.responders.intents.learned import yes_means_normal
    from assistant.responders.intents.text import correct_word, normalise

    for word in ("unflagged", "undetected", "nonflagged", "unhighlighted"):
        assert correct_word(word) == word
    assert normalise("Is the slice unflagged?") == "is the slice unflagged?"
    assert correct_word("flaged") == "flagged"  # a typo of the word itself is still corrected
    assert classify("Is the slice unflagged?")[0] == "presence"
    assert yes_means_normal("Is the slice unflagged?")
    assert not yes_means_normal("Is the slice flagged?")


@pytest.mark.parametrize(
    "question",
    [
        "Is an SDH seen?",
        "any blood products along the falx",
        "Could there have been a bleed here?",
        "does it have white matter hyperintensities",
        "Is a cavernoma present?",
        "evidence of TBI on this one",
    ],
)
def test_named_kinds_of_finding_are_presence_questions(question):
    assert classify(question)[0] == "presence"


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Under the yellow highlight, is the tissue healthy?", True),
        ("Is the glowing region a genuine lesion?", False),
        ("the hot spot is just normal cortex, agree?", True),
        ("Did the model highlight something?", False),
    ],
)
def test_questions_pointing_at_the_map_ask_about_the_scan(question, normal):
    assert classify(question)[0] == "presence"
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent",
    [
        ("What does the yellow stand for?", "heatmap"),
        ("How many hot spots are there?", "count"),
        ("Which lobe is the highlighted lesion in?", "location"),
        ("loc of F2?", "location"),
        ("finding 2 bright or dark?", "intensity"),
        ("Any idea what kind of lesion that is?", "explanation"),
        ("is this an axial cut?", "modality"),
        ("should this go to the MDT meeting?", "next_steps"),
        ("Could F1 be a fluke?", "confidence"),
    ],
)
def test_more_phrasings_keep_what_is_asked(question, intent):
    assert classify(question)[0] == intent


def test_finding_numbers_in_words_name_the_finding():
    assert resolve("Is finding 2 bright?", [], ["F1", "F2"]).finding_ids == ["F2"]
    assert resolve("Is lesion no. 1 large?", [], ["F1", "F2"]).finding_ids == ["F1"]


@pytest.mark.parametrize(
    "question, normal",
    [
        ("I reckon this is unremarkable, wouldn't you say?", True),
        ("I think there is a mass, agree?", False),
        ("Is the cortex clear of lesions?", True),
        ("no flags from the detector?", True),
        ("image score under the cutoff?", True),
        ("Has the detector cleared it?", True),
        ("So I can relax?", True),
        ("Is this bad news?", False),
        ("Can we call it clean?", True),
    ],
)
def test_polarity_of_statements_and_reassurance(question, normal):
    assert classify(question)[0] == "presence"
    assert yes_no_question(question)
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Nothing on it that is not normal?", True),
        ("I see nothing that looks not right, agree?", True),
        ("Don't you see a mass?", False),
        ("Isn't there a bleed here?", False),
        ("the slice's unremarkable?", True),
        ("no signs of trauma?", True),
    ],
)
def test_double_and_rhetorical_negatives(question, normal):
    assert classify(question)[0] == "presence"
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent",
    [
        ("Can you exclude an abscess or a tumour?", "presence"),
        ("CVA?", "presence"),
        ("Is the cortex intact?", "presence"),
        ("Is there loss of brain volume?", "presence"),
        ("What is the reference range for potassium?", "out_of_scope"),
        ("give me an impression for the referral letter", "report"),
        ("Please summarise the heatmap", "heatmap"),
        ("would perfusion help here?", "next_steps"),
    ],
)
def test_exclusions_signs_letters_and_summaries(question, intent):
    assert classify(question)[0] == intent


@pytest.mark.parametrize(
    "question, intent",
    [
        ("45F, seizures last week. Is there a lesion?", "presence"),
        ("Known melanoma. Any secondaries here?", "presence"),
        ("The red patch - is it a genuine abnormality on the scan?", "presence"),
        ("any post-op change?", "presence"),
        ("microangiopathic change present?", "presence"),
        ("foci suggestive of MS?", "presence"),
        ("Are the basal ganglia abnormal?", "presence"),
        ("Is the lesion occipital or parietal?", "location"),
        ("F1 l/r?", "side"),
        ("Is F1 iso relative to white matter?", "intensity"),
        ("a single nodule or a cluster?", "count"),
        ("What is the 'repaired' version for?", "pseudo_healthy"),
        ("Would you bet on F1 being a real lesion?", "confidence"),
        ("Is this post-gad?", "modality"),
        ("What do the NICE guidelines say about diabetes?", "out_of_scope"),
    ],
)
def test_context_sentences_and_clinical_wording(question, intent):
    assert classify(question)[0] == intent


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Haemorrhage not a feature, agree?", True),
        ("Is there anything keeping this from being a normal study?", False),
        ("So I can stop worrying?", True),
    ],
)
def test_more_polarity_forms(question, normal):
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent",
    [
        ("Is there a lesion here that I might have overlooked?", "presence"),
        ("This dark spot is abnormal, right?", "presence"),
        ("Is it true that nothing is there?", "presence"),
        ("Is the yellow area - where does it sit?", "location"),
        ("The hot spot on the map - where is it?", "location"),
        ("Is F1 central or more superficial?", "location"),
        ("Is it on the left or right? Please use the patient's frame.", "side"),
        ("Is the flagged area brighter than the adjacent cortex?", "intensity"),
        ("Is F2 hyperintense to grey matter?", "intensity"),
        ("What's the healthy version on the right?", "pseudo_healthy"),
        ("Will we need a CT venogram?", "next_steps"),
        ("Should I page the stroke team?", "next_steps"),
        ("pre or post gad?", "modality"),
        ("Prepare a summary for the handover.", "report"),
    ],
)
def test_fifth_round_phrasings(question, intent):
    assert classify(question)[0] == intent


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Has the software given it the all clear?", True),
        ("Bleed's off the table here?", True),
        ("Is the cortex unaffected?", True),
        ("Can I tell them the scan looks good?", True),
    ],
)
def test_fifth_round_polarity(question, normal):
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent",
    [
        ("Would you call this an abnormal scan in the report?", "presence"),
        ("Can I write 'no acute haemorrhage' in my report?", "presence"),
        ("Are the thalami spared?", "presence"),
        ("Melanoma, restaging: any deposits?", "presence"),
        ("Any CMB?", "presence"),
        ("Which side is the yellow patch on, patient's left or right?", "side"),
        ("Tell me the side of the lesion.", "side"),
        ("about how many mm across is the red region?", "size"),
        ("What fraction of the hemisphere does F1 cover?", "size"),
        ("is the yellow area bright on the real image?", "intensity"),
        ("Does the lesion come out dark on T1?", "intensity"),
        ("Stroke reg here. Honestly, what is it?", "explanation"),
        ("How much weight should I give this finding?", "confidence"),
        ("Will this need a CTA?", "next_steps"),
    ],
)
def test_sixth_round_phrasings(question, intent):
    assert classify(question)[0] == intent


@pytest.mark.parametrize(
    "question, normal",
    [
        ("No post-ischaemic change, correct?", True),
        ("zero lesions?", True),
        ("thalami clear?", True),
        ("Is this study anything other than normal?", False),
        ("it looks normal right??", True),
        ("I reckon it's fine but I'm not sure. Is it?", True),
        ("Can we say there is no bleed?", True),
    ],
)
def test_sixth_round_polarity(question, normal):
    assert asks_normal(question) is normal


# Real users' styles (issue 14; written for these tests, not taken from any benchmark set):
# requests instead of questions, dictated punctuation, research phrasing, context and courtesy
@pytest.mark.parametrize(
    "question, intent, yes_no, normal",
    [
        ("Kindly verify whether there is a haemorrhage.", "presence", True, False),
        ("I'd like you to confirm there's no tumour.", "presence", True, True),
        ("Report whether a lesion is present.", "presence", True, False),
        ("Known breast cancer. Check for metastatic deposits please.", "presence", True, False),
        ("any bleed question mark", "presence", True, False),
        ("scan normal comma yes question mark", "presence", True, True),
        ("Does the model consider this scan in distribution?", "presence", True, True),
        ("Is the slice out-of-distribution for the detector?", "presence", True, False),
        ("Is the scan abnormal compared with healthy controls?", "presence", True, False),
        ("Are these findings appropriate for her age?", "presence", True, True),
        ("Anything more than you would expect at 70?", "presence", True, False),
        ("Any lesion in the back of the brain?", "presence", True, False),
        ("Any lesion in the corona radiata?", "presence", True, False),
        ("Is F3 a true abnormality?", "presence", True, False),
        ("f three genuine?", "presence", True, False),
        ("Is F3 only a normal variant?", "presence", True, True),
        ("Tell me F3 is not a real lesion.", "presence", True, True),
        ("pulmonary embolism no?", "presence", True, True),
    ],
)
def test_requests_dictation_and_research_phrasing(question, intent, yes_no, normal):
    assert classify(question)[0] == intent, question
    assert yes_no_question(question) is yes_no
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent",
    [
        ("Could F3 be a false alarm?", "confidence"),  # a doubt, not a yes/no on reality
        ("Is F3 real or noise?", "confidence"),
        ("Where is the lesion? Many thanks.", "location"),
        ("is it more dark or more bright than cortex?", "intensity"),
        ("how much spots can you see", "count"),
        (
            "Is there anything apart from F1, since that would change the plan? Keep it brief.",
            "count",
        ),
        ("Is the heatmap strongest at the lesion edge?", "heatmap"),
        ("Explain how a jet engine works.", "out_of_scope"),
        ("what should be done next for F2?", "next_steps"),
        ("do we need post-contrast question mark", "next_steps"),
        ("gad given?", "modality"),
        ("I need to know whether contrast was injected for this scan.", "modality"),
    ],
)
def test_more_real_user_phrasings(question, intent):
    assert classify(question)[0] == intent, question


@pytest.mark.parametrize(
    "question, intent, normal",
    [
        ("The software detect anything here?", "presence", False),
        ("post op appearances", "presence", False),
        ("Is the hot area on the overlay just noise?", "presence", True),
        ("the yellow on the heatmap is probably nothing, yes?", "presence", True),
        ("f3 relevant", "presence", False),
        ("can we disregard F3?", "presence", True),
        ("I think there's no mass here, am I correct?", "presence", True),
        ("the skull doesn't look fractured, does it?", "presence", True),
        ("Patient is not hurt after the fall, yes?", "presence", True),
        ("screen for demyelination please", "presence", False),
        ("Say me if the brain has something.", "presence", False),
        (
            "Is there signal change beyond normal age-related variation on this slice?",
            "presence",
            False,
        ),
    ],
)
def test_blind8_style_presence(question, intent, normal):
    assert classify(question)[0] == intent, question
    assert yes_no_question(question)
    assert asks_normal(question) is normal, question


@pytest.mark.parametrize(
    "question, intent",
    [
        ("is F3 the only one, or are there more?", "count"),
        ("What is that finding, what do you reckon?", "explanation"),
        ("F3 maybe is malignant?", "explanation"),
        (
            "25M, first seizure. Neurosurgery asks for a differential for the lesion. Which ones "
            "come to mind? Thanks, be brief.",
            "explanation",
        ),  # fmt: skip
        ("show comparable", "similar_cases"),
        ("Explain how the per-pixel anomaly scores are derived.", "heatmap"),
        ("how does it choose which pixels get coloured?", "heatmap"),
        ("can I see the healthy version the model produced?", "pseudo_healthy"),
        ("f3 fp?", "confidence"),
        ("does she have to come back for another scan?", "next_steps"),
        ("seq", "modality"),
        ("Is the right side of the screen the patient's left?", "modality"),
        ("What learning rate should I use to fine-tune my network?", "out_of_scope"),
        ("could you sum up the result for me?", "report"),
    ],
)
def test_blind8_style_other_intents(question, intent):
    assert classify(question)[0] == intent, question


def test_expectation_and_no_words_read_narrowly():
    # "what you'd expect" means normal only for an age or a healthy brain
    assert asks_normal("Is this what you would expect at 75?")
    assert not asks_normal("Is this what you'd expect for a glioma?")
    # "no idea ..." is not "no lesion"; a dictated word "period" is kept as a word
    assert not asks_normal("no idea what this is, is it bad?")
    assert normalise("what is the follow-up period").endswith("period")


@pytest.mark.parametrize(
    "question, intent",
    [
        ("For our validation set: is this slice a positive at the chosen threshold?", "presence"),
        ("Stroke team want the longest axis of the lesion in mm. What is it?", "size"),
        ("Query abscess after endocarditis - any on this image?", "presence"),
        ("f3 noise", "presence"),
        ("Is F3 something real I need to act on?", "presence"),
        ("Is F3 the only candidate, or did the tool report others?", "count"),
        ("what are the possibilities here?", "explanation"),
        ("who should we refer her to", "next_steps"),
        ("was the dye given for this one?", "modality"),
        ("pre or post contrast T1?", "modality"),
        ("how do I book the scanner room for Monday?", "out_of_scope"),
        ("Is the spot darker than normal brain?", "intensity"),
    ],
)
def test_blind10_style_phrasings(question, intent):
    assert classify(question)[0] == intent, question


@pytest.mark.parametrize(
    "question",
    [
        "I cannot see tumour on this, do you agree there is none?",
        "Am I right in thinking there isn't a mass?",
        "Please confirm: nothing abnormal here.",
    ],
)
def test_blind10_style_normal_readings(question):
    assert classify(question)[0] == "presence"
    assert yes_no_question(question)
    assert asks_normal(question)


@pytest.mark.parametrize(
    "question, intent",
    [
        # blind11 and blind12 read: new rules, tested in other words
        ("Any suspicious area in the brain, please look", "presence"),
        ("the spot on the overlay noise", "presence"),
        ("f3 spurious?", "presence"),
        ("Besides F3, did the detector output any further regions?", "count"),
        ("Is F2 the only suprathreshold cluster, or are there satellite foci?", "count"),
        ("what is this most likely", "explanation"),
        ("malignant or not", "explanation"),
        ("Is the mass something sinister, like a lymphoma?", "explanation"),
        ("More in keeping with a benign process or something malignant?", "explanation"),
        ("Resident here \u2014 might this be a chronic lacunar infarct?", "explanation"),
        ("f2 ?metastasis", "explanation"),
        ("Could you show me how this slice would normally look?", "pseudo_healthy"),
        ("what the brain should look like without the lesion", "pseudo_healthy"),
        ("how probable is it that F2 is just noise", "confidence"),
        ("Scan done with gadolinium or without?", "modality"),
        ("did she receive contrast for this study", "modality"),
        ("How do I know this is a FLAIR?", "modality"),
        ("Schedule me a scanner slot for Friday.", "out_of_scope"),
        ("Tell me about the history of the hospital, unrelated to this case.", "out_of_scope"),
        ("parking", "out_of_scope"),
        ("just give me the bottom line", "report"),
        ("which vascular territory is the abnormality in?", "location"),
        ("Is F3 in the occipital lobe or elsewhere?", "location"),
        ("sorry \u2013 tell me wich sighed the lesion is", "side"),
        ("Stroke fellow. 70M, aphasia. F2 \u2013 how large is it? Thanks.", "size"),
        ("is the region whiter than the cortex", "intensity"),
        ("Did other people with a scan like this end up having a stroke?", "similar_cases"),
        ("should we add d w i", "next_steps"),
        ("Which views should we order next?", "next_steps"),
        ("burr hole changes?", "presence"),
        ("is a demyelinating lesion visible on this slice", "presence"),
    ],
)
def test_blind11_and_blind12_style_phrasings(question, intent):
    assert classify(question)[0] == intent, question


@pytest.mark.parametrize(
    "question, normal",
    [
        ("72M, fall, brief loc. The ED consultant asks whether the slice shows any bleed.", False),
        ("Haematology want to know if this slice is free of abnormality. Thanks", True),
        ("I believe there is no bleed, could you check that I'm right?", True),
        ("infarct neg?", True),
        ("This scan doesn't show a tumour, does it?", True),
        ("The patient does not have MS on this slice, correct?", True),
        ("Does the slice lie outside the distribution of healthy brains?", False),
        ("Is this slice anomalous under the normal-anatomy model?", False),
        ("the highlighted blob artefact?", True),
        ("f3 spurious?", True),
        ("you see any tumour on this picture", False),
        ("Flag any abnormality on this image.", False),
    ],
)
def test_blind11_and_blind12_style_presence(question, normal):
    assert classify(question)[0] == "presence", question
    assert yes_no_question(question), question
    assert asks_normal(question) is normal, question


def test_a_preamble_naming_a_finding_keeps_it_as_the_subject():
    q = "Not sure what to make of F3 - is it just normal cortex?"
    assert classify(q)[0] == "presence" and asks_normal(q)
    assert not yes_no_question("Please describe what is abnormal on this slice.")
    assert normalise("brief LOC and vomiting").startswith("brief loss of consciousness")
    assert "location" in normalise("loc?")


@pytest.mark.parametrize(
    "question, intent",
    [
        # blind13 read: new rules, tested in other words
        ("Stroke physician here; can I treat this as a normal study?", "presence"),
        ("58F. What is it most likely to be - glioma, lymphoma, other? Thanks", "explanation"),
        ("which disease category does F2 most closely match?", "explanation"),
        ("F1 might be an old haemorrhage perhaps?", "explanation"),
        ("does a brighter colour on the overlay mean more abnormal?", "heatmap"),
        ("Is the overlay normalised per image?", "heatmap"),
        ("Does F2 reflect true pathology rather than noise in the reconstruction?", "presence"),
        ("just one finding or are there several?", "count"),
        ("Beyond F2, any additional abnormal regions?", "count"),
        ("might a tiny lesion be hiding somewhere the model could not pick up?", "confidence"),
        ("What is the state of the art for lesion segmentation?", "out_of_scope"),
        ("In general, what are the symptoms of encephalitis?", "out_of_scope"),
    ],
)
def test_blind13_style_phrasings(question, intent):
    assert classify(question)[0] == intent, question


def test_rejecting_a_healthy_null_hypothesis_asks_for_an_abnormality():
    q = "Can we reject the null hypothesis that this brain is healthy?"
    assert classify(q)[0] == "presence" and not asks_normal(q) and not yes_means_normal(q)


@pytest.mark.parametrize(
    "question, intent",
    [
        # blind14 read: new rules, tested in other words
        ("Please tell me whether there is a demyelinating plaque.", "presence"),
        ("Has the patient's brain any cyst or abscess?", "presence"),
        ("is F1 less than 5 mm", "size"),
        ("More lesions beside F2 present?", "count"),
        (
            "65F, diabetic, new dysphasia. Infarct or tumour, what's your view? Thanks",
            "explanation",
        ),
        ("abscess or primary", "explanation"),
        (
            "GP here, 40M, headaches. Your result looks quiet, but could a tiny lesion be missed?",
            "confidence",
        ),
        ("F2 matters for surgery, I'm the surgeon. How reliable is the model on it?", "confidence"),
        ("70F, incidental cyst. Should I refer, and to whom?", "next_steps"),
        ("is right on the display the patient's left?", "modality"),
        ("Can you help me fill out the leave form?", "out_of_scope"),
    ],
)
def test_blind14_style_phrasings(question, intent):
    assert classify(question)[0] == intent, question


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Does the slice fall outside the healthy prior, i.e. anything abnormal?", False),
        ("Confirm that the hot spot on the map is noise only.", True),
        ("Neurologist here. I don't believe there is any lesion. Right?", True),
        ("Please confirm the detector didn't detect anything.", True),
        ("Confirm no acute or chronic haemorrhage.", True),
    ],
)
def test_blind14_style_presence(question, normal):
    assert classify(question)[0] == "presence", question
    assert asks_normal(question) is normal, question


@pytest.mark.parametrize(
    "question, intent",
    [
        # blind16 read: new rules, tested in other words
        ("Could this scan be considered within normal limits?", "presence"),
        ("is the scan an outlier with respect to the healthy training set", "presence"),
        ("Show me the brain as it would look if it were healthy.", "pseudo_healthy"),
        ("you are certain the slice is normal?", "confidence"),
        ("Would a DWI help differentiate this?", "next_steps"),
        ("Apologies if off-topic - does she need to see a neurologist?", "next_steps"),
        ("is it a c t or an m r i", "modality"),
        ("Was bias-field correction or skull-stripping applied?", "modality"),
        ("which side of the screen is the patient's right?", "modality"),
        ("Are the kidneys normal on this scan?", "out_of_scope"),
    ],
)
def test_blind16_style_phrasings(question, intent):
    assert classify(question)[0] == intent, question


@pytest.mark.parametrize(
    "question, normal",
    [
        ("The brain doesn't seem damaged, does it?", True),
        ("doesn't look like there's a bleed, does it?", True),  # a clinician's trial
        ("any non-healthy tissue", False),
        ("Is the red area a genuine lesion rather than noise?", False),
        ("The map lights up at the front. Is that only a false alarm?", True),
        ("Is the bright spot on the heatmap nothing to worry about?", True),
        ("I can't see a bleed - am I right that there isn't one?", True),
    ],
)
def test_blind16_style_presence(question, normal):
    assert classify(question)[0] == "presence", question
    assert asks_normal(question) is normal, question


def test_isnt_one_is_not_dictated_t1():
    from assistant.responders.intents.text import normalise

    assert normalise("there isn't one, is there?").startswith("there is not one")
    assert "t1" in normalise("is this a tea one image")


def test_learned_polarity_never_turns_an_existential_abnormality_question_normal():
    # blind18's two changed readings (read after its first run): a preamble must not let the
    # learned polarity read "yes" as normal; passing as a healthy sample is a normal reading
    q = "I'm a second-year resident, sorry if this is basic — is there anything abnormal here?"
    assert classify(q)[0] == "presence" and not yes_means_normal(q)
    q = "Could this image pass as one of the healthy controls?"
    assert classify(q)[0] == "presence" and yes_means_normal(q)


@pytest.mark.parametrize(
    "question, normal",
    [
        # likeness to the healthy reference is what is asked (tuning sets blind12/blind16, read;
        # tested in other words)
        ("Would you call this slice indistinguishable from normal volunteers?", True),
        ("Does this image resemble the healthy scans in the training set?", True),
        ("Is the slice no different from a normal brain?", True),
        # the healthy reference named after "with respect to" is not what is asked
        ("Is the image abnormal with respect to the healthy subjects it learned from?", False),
        ("Is this different from a healthy brain?", False),
    ],
)
def test_likeness_to_the_healthy_reference(question, normal):
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, normal",
    [
        ("Is the orange blob on the overlay a glitch?", True),  # a glitch is an artefact
        ("Could you check whether F3 is merely artifactual?", True),
        ("Has the algorithm come back completely empty here?", True),
        ("Was the list of detections empty?", True),
        ("Did the network remain quiet for this patient?", True),
        ("Were any glitches hiding a real lesion on this slice?", False),
        ("Is there anything in the empty space of the ventricle wall?", False),
    ],
)
def test_glitches_and_an_empty_detector_mean_yes_is_normal(question, normal):
    from assistant.responders.intents.parse import asks_normal

    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, intent, normal",
    [
        # the detector's output read as a verdict (tuning set train30b, read; tested in other words)
        ("Is the overlay completely blank on this one?", "presence", True),
        ("Did the residual stay flat?", "presence", True),
        ("Is the anomaly mask all zero for this patient?", "presence", True),
        ("Does anything light up on this slice?", "presence", False),
        ("Did the score go above the threshold?", "presence", False),
        ("Does the detector output come up empty-handed?", "presence", True),
        # what the map means, or what else it shows, is not a verdict
        ("What does a blank heatmap mean?", "heatmap", False),
        ("Is everything above threshold drawn in red?", "heatmap", False),
    ],
)
def test_the_detector_output_read_as_a_verdict(question, intent, normal):
    from assistant.responders.intents.parse import asks_normal, parse

    assert parse(question).intent == intent
    if intent == "presence":
        assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, normal",
    [
        # a finding called an artefact, a fluke or nothing is asked whether it is real
        # (tuning sets train30a-d, read; tested in other words)
        ("Is the first finding a processing artefact?", True),
        ("Is F2 a fluke of the algorithm?", True),
        ("Could F3 be nothing at all?", True),
        ("Can the second region be disregarded as noise?", True),
        ("Is F1 clinically negligible?", True),
    ],
)
def test_a_finding_called_an_artefact_or_nothing_is_asked_whether_real(question, normal):
    from assistant.responders.intents.parse import asks_normal, parse

    assert parse(question).intent == "presence"
    assert asks_normal(question) is normal


@pytest.mark.parametrize(
    "question, normal",
    [
        # a yes/no form, a filed verdict, a question that hangs on the answer, a missing
        # apostrophe (tuning sets train30a-d, read; tested in other words)
        ("Tumour: yes/no", False),
        ("Infarct yes, no?", False),
        ("mass or no mass", False),
        ("Can I sign this off as normal?", True),
        ("Is it safe to send the patient home?", True),
        ("Any mass? If so, how big?", False),
        ("this doesnt show any bleed, right", True),
        ("Would you disagree that there is a tumour?", True),
        ("Is the slice without abnormal findings?", True),
        ("Please confirm there is nothing.", True),
    ],
)
def test_forms_verdicts_and_follow_ups_are_read_for_their_yes(question, normal):
    from assistant.responders.intents.parse import asks_normal, parse

    assert parse(question).intent == "presence"
    assert asks_normal(question) is normal


def test_a_lesion_in_a_named_structure_is_a_presence_question():
    # tuning sets train28b and train30a, read; tested in other words
    from assistant.responders.intents.parse import parse

    assert parse("Is there a haematoma in the left temporal lobe?").intent == "presence"
    assert parse("Isn't there a bleed within the right cerebellar hemisphere?").intent == "presence"
    assert parse("Is there a lesion on the left?").intent == "side"  # a bare side stays one
    # a sports match in the history is not a matching case
    assert parse("Fell at a match today, anything on his MRI?").intent == "presence"
