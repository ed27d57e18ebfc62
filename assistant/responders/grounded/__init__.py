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
    responder         GroundedResponder: intent -> answer, caveats and disclaimer
"""

from assistant.responders.grounded.responder import GroundedResponder
from assistant.responders.grounded.wording import safe_excerpt

__all__ = ["GroundedResponder", "safe_excerpt"]
