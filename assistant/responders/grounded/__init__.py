"""The offline default responder: deterministic answers built only from the evidence.

`GroundedResponder.stream(question, evidence, history, resolved=...)` takes the question's
intent as the orchestration resolved it (`assistant.responders.intents.resolve`; resolved here
when not given) and writes the answer from the detector's findings (F1.., weaker regions W1..),
retrieved cases (C1..) and knowledge passages (K1..), citing each statement's evidence. Wording is
deliberately careful: the detector reports regions that deviate from its healthy training
distribution, never a diagnosis. Closed questions are answered with a first word a QA benchmark
can score ("Yes", "No", "Left", "Hyperintense", a number).

Retrieved text is quoted data: only short excerpts are quoted, and sentences that read like
instructions to an assistant are dropped from them (see `safe_excerpt`), so a case report that
says "ignore previous instructions" changes nothing.

Layout (each module imports only the ones above it):
    wording           question patterns and phrases (citations, positions, safe excerpts)
    case              CaseFacts: the question, its evidence and the sentences answers share
    answers_findings  presence, location, size, count, intensity (+ weak-evidence answers)
    answers_context   heatmap, pseudo-healthy, similar cases, explanation, confidence,
                      modality, draft report, refusals
    answers_scope     what one reading can and cannot settle (parts of a volume, sign-off)
    domain            answers for a scan outside the detector's domain [A1]
    turn              Turn: one question on its way to an answer; the intents' handlers
    routes            the answers that take the place of the intent's own, in order
    afterwards        the caveats and second parts added to an answer, in order
    responder         GroundedResponder: intent -> handler -> route or own answer ->
                      afterwards -> disclaimer
"""

from assistant.responders.grounded.responder import GroundedResponder
from assistant.responders.grounded.wording import safe_excerpt

__all__ = ["GroundedResponder", "safe_excerpt"]
