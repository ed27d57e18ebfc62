"""`GroundedResponder`: picks the answer for the question's intent and adds the caveats."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

import assistant.responders.grounded.answers_context as context
import assistant.responders.grounded.answers_findings as findings
import assistant.responders.grounded.answers_scope as scope
import assistant.responders.grounded.domain as domain
from assistant.evidence import Evidence, Message
from assistant.prompts import Task
from assistant.responders.base import Responder
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import (
    BRIGHT_WORDS,
    DARK_WORDS,
    DISCLAIMER_LINE,
    TISSUE,
    UNASSESSABLE,
    WEAK_INTENTS,
    cite,
    count_word,
    upper_first,
)
from assistant.responders.intents import (
    Resolved,
    existential,
    resolve,
    yes_means_normal,
    yes_no_question,
)
from assistant.responders.intents.parse import (
    FINDING_TERMS,
    SENSITIVITY,
    asks_for_a_clinical_act,
    parse,
    side_structure,
    without_hedge,
)
from assistant.responders.intents.text import normalise

VERSION = "1.3.0"  # bump when the wording changes; logged as the prompt version

# intent -> the function that writes its answer
ANSWERS: dict[str, Callable[[CaseFacts], str]] = {
    "presence": findings.presence,
    "location": findings.location,
    "size": findings.size,
    "count": findings.count,
    "intensity": findings.intensity,
    "heatmap": context.heatmap,
    "pseudo_healthy": context.pseudo_healthy,
    "similar_cases": context.similar_cases,
    "explanation": context.explanation,
    "report": context.report,
    "modality": context.modality,
    "confidence": context.confidence,
    "side": findings.side,
    # the colleague-level next-step answer lives in answers_context; until it exists the
    # explanation (what the finding may be, from the evidence) stands in
    "next_steps": getattr(context, "next_steps", context.explanation),
    "out_of_scope": context.out_of_scope,
    "unknown": context.unknown,
}


class GroundedResponder(Responder):
    """Deterministic, evidence-only answers; the offline default responder.

    disclaimer: append the one-line research-use note to every answer.
    """

    name = "grounded"
    model = "rules+all-MiniLM-L6-v2"  # exact rules, else the intent classifier's embeddings
    writes_own_refusal = True

    def __init__(self, disclaimer: bool = True):
        self.disclaimer = disclaimer

    @property
    def prompt_version(self) -> str:
        return f"grounded-{VERSION}"

    def stream(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
        *,
        resolved: Resolved | None = None,
    ) -> Iterator[str]:
        """Yield the answer word by word (with trailing whitespace); see `answer`. `task` needs
        no handling here: a question whose intent is "report" is answered with a draft."""
        yield from re.findall(r"\S+\s*", self.answer(question, evidence, history, resolved))

    def answer(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        resolved: Resolved | None = None,
    ) -> str:
        """The whole answer. `resolved`: the question's intent as the caller resolved it
        (None: resolved here from the question, the history and the evidence's finding ids)."""
        found = evidence.by_kind("finding")
        weak = evidence.by_kind("weak_finding")
        meaning = None
        if resolved is None:
            resolved = resolve(question, history or [], [f.id for f in found + weak])
        ids = set(resolved.finding_ids)
        targets = [f for f in found if f.id in ids] or found
        case = CaseFacts(question, question.lower(), evidence, resolved, found, targets, weak)
        handler = ANSWERS.get(resolved.intent, context.unknown)
        if resolved.intent == "presence" and found and side_structure(question):
            # "Anything in the right frontal lobe?": whether a finding lies on that side (in the
            # frame the scan allows), not a bare "Yes" about a finding on the other side
            handler = ANSWERS["side"]
        if resolved.intent in ("side", "location") and found and _SIDE_AND_SIGNAL.search(case.q):
            # "which hemisphere, and how bright is it compared with the white matter?": both
            handler = _both("side", "intensity")
        if (
            resolved.intent in ("side", "size", "location")
            and found
            and _SIZE_AND_SIDE.search(case.q)
        ):
            handler = _both("size", "side")  # "two things: how big and which side"

        term = _asked_unassessable(case.q)
        outside = domain.applicability_item(case)
        if outside is not None and _ANYWAY.search(case.q) and evidence.unreliable:
            # "ok analyse it anyway. what do you see" of a scan analysed anyway: it is, and what
            # it flagged, with the warning
            text = (
                domain.unreliable_prefix(outside)
                + "It is analysed anyway, as asked. What the detector flagged: "
                + _lowered(_plain_reading(case))
            )
        elif outside is not None and _ANYWAY.search(case.q):
            # "Can you analyse it anyway?": yes, marked unreliable, and what that means here
            text = (
                'Yes: choose "analyse anyway" in the app (`--anyway` in the CLI) and the detector '
                "runs on it, but every result is then marked unreliable: the detector does not "
                f"apply to this image {cite(outside.id)}, so its heatmap and findings say nothing "
                "reliable about it."
            )
        elif (
            outside is not None
            and resolved.intent == "out_of_scope"
            and (ask := parse(question)) is not None
            and ask.cue == "another body part"
        ):
            # "Is this chest X-ray normal?" about the uploaded image: the reason is A1, not a
            # refusal of personal medical advice
            text = domain.not_applicable(case, outside)
        elif outside is not None and _WHY_REFUSED.search(case.q):
            # "Why can't you analyse this?": the reasons are the answer [A1]
            text = "Because t" + domain.not_applicable(case, outside).removeprefix(
                "I can't tell. T"
            )
        elif _CAN_YOU_READ.search(case.q):
            # "Can you read this one?": whether the detector applies to it, and its reading
            denied = re.search(r"\b(can'?t|cannot|won'?t|wont|cant|couldn'?t)\b", case.q)
            if outside is None:
                here = _without_lead(findings.presence(case).strip(), 90)
                text = (
                    ("No, it can: t" if denied else "Yes: t")
                    + "he applicability check accepted it, and the detector analysed it. "
                    + here[:1].upper()
                    + here[1:]
                )
            elif evidence.unreliable:
                text = (
                    "Not reliably: the detector does not apply to this image "
                    f"{cite(outside.id)}, and it was analysed anyway at your request, so its "
                    "heatmap and findings say nothing reliable about it. "
                    + " ".join(outside.data.get("reasons") or [])
                )
            else:
                text = ("That's right: t" if denied else "No: t") + domain.not_applicable(
                    case, outside
                ).removeprefix("I can't tell. T")
        elif (prior := context.prior_comparison(case)) is not None:
            text = prior  # "Compare with the prior scan": there is none
            if context.asks_what_is_new(case) and (outside is None or evidence.unreliable):
                # "Anything new?": not answerable, but what this scan shows is
                here = _without_lead(findings.presence(case).strip(), 90)
                text += " What this scan shows: " + here[:1].lower() + here[1:]
                if outside is not None:
                    text = domain.unreliable_prefix(outside) + text
            elif context.asks_what_is_new(case) and outside is not None:
                # "Any new lesions?" of a scan the detector refused: and nothing was read on it
                text += " Nor was this scan analysed: t" + domain.not_applicable(
                    case, outside
                ).removeprefix("I can't tell. T")
        elif (outside is None or evidence.unreliable) and (
            by_side := scope.side_comparison(case)
        ) is not None:
            # "Which side has more lesion load?": the flagged area on each side
            text = by_side if outside is None else domain.unreliable_prefix(outside) + by_side
        elif (outside is None or evidence.unreliable) and (
            particular := scope.cannot_tell(case)
        ) is not None:
            # "Is the ring lesion enhancing?", "Does the scan fit?", "Does it cross the
            # midline?": not settled by this reading; then what the detector did find
            text = f"{particular} {_plain_reading(case)}"
            if outside is not None:
                text = domain.unreliable_prefix(outside) + text
        elif outside is None and SENSITIVITY.search(normalise(question)):
            # "Would you pick up a 3 mm lesion?": what is known of its sensitivity to small ones
            missed = re.search(r"\bmiss(ed)?\b", case.q)  # "Could you miss a small lesion?"
            lead = "Yes, quite possibly. " if missed else "Probably not reliably. "
            if not yes_no_question(question):
                lead = ""  # "what size lesion could you have missed?"
            text = (
                lead + "Small lesions are mostly missed by this detector: on "
                "validation slices with one small synthetic lesion (up to about 200 mm² on a "
                "slice) it said so in a third of them, and regions smaller than a few pixels of "
                "its 128 x 128 grid are dropped as noise; lesions of a few millimetres were not "
                "measured at all. On this scan: "
                + _lowered(_without_lead(findings.presence(case).strip(), 90))
            )
        elif (
            outside is None
            and _LOOK_AT.search(case.q)
            and (off_levels := findings.place_not_analysed(case)) is not None
        ):
            text = off_levels  # "Could you look at the orbits?": not on the analysed levels
        elif _FITNESS.search(case.q):
            # "The patient asks if they can go back to work": not a question this tool can answer
            text = (
                "That is a clinical decision for you and the patient: this research tool reads one "
                "scan for regions that deviate from healthy anatomy, and cannot judge fitness for "
                "work, driving or other activities."
            )
            if outside is None:
                reading = findings.presence(case).strip()
                text += " What the reading of this scan found: " + _without_lead(reading, 90)
        elif outside is None and (meaning := scope.result_meaning(case)) is not None:
            # "Does a negative result mean this person is healthy?": no, and this scan's result
            here = _without_lead(findings.presence(case).strip())
            text = f"{meaning} On this scan: {here[:1].lower() + here[1:]}"
        elif (
            outside is None
            and resolved.intent in ("presence", "side", "location", "count")
            and (not_analysed := scope.slices_not_analysed(case)) is not None
        ):
            text = not_analysed  # "Is there a lesion on slice 7?" when only slice 4 was analysed
        elif (
            outside is None
            and resolved.intent in ("count", "out_of_scope", "unknown")
            and (named := _named_regions(question, found + weak))
        ):
            # "What are the weaker regions W1 and W2?", "Tell me about W2.": those regions
            text = findings.describe_named(case, named)
        elif (
            outside is None
            and resolved.intent in ("presence", "confidence", "explanation")
            and (real_3d := findings.is_a_3d_finding_real(case)) is not None
        ):
            text = real_3d  # "Is V1 real?": about V1, weak or not
        elif (
            outside is not None
            and evidence.unreliable
            and resolved.intent in ("presence", "out_of_scope", "unknown")
            and (off_levels := findings.place_not_analysed(case)) is not None
        ):
            # "Any lesions in the posterior fossa?" of a scan analysed anyway at one level
            text = domain.unreliable_prefix(outside) + off_levels
        elif (
            outside is None
            and (
                resolved.intent == "presence"
                or (resolved.follow_up and resolved.intent not in ("out_of_scope", "report"))
                or (resolved.intent in ("out_of_scope", "unknown") and yes_no_question(question))
            )
            and (off_levels := findings.place_not_analysed(case)) is not None
        ):
            # (also "and the cerebellum?" after another question, whatever it asked)
            # "Anything in the cerebellum?" about a slice above it: not assessed, neither yes nor no
            text = off_levels
        elif (
            outside is None
            and resolved.intent == "presence"
            and not found
            and (at_a_place := findings.presence_at_a_place(case)) is not None
        ):
            # "Any abnormality in the brainstem?" with 3D findings elsewhere: no, and where they lie
            text = at_a_place
        elif outside is not None and resolved.intent not in domain.INDEPENDENT:
            if not evidence.unreliable:
                text = domain.not_applicable(case, outside)
                if resolved.intent == "next_steps" and _TREATMENT.search(case.q):
                    # "Should we start disease-modifying therapy?": not a question of the scan
                    text += (
                        " Whether to start, stop or change a treatment is a clinical decision "
                        "that no reading of this scan by this tool can make."
                    )
            else:
                premise = _premise(case) if resolved.intent == "explanation" else ""
                body = handler(case).strip()
                qualifies = term and _qualifies_a_lesion(question, case.q, term.group(0), resolved)
                if qualifies and body.startswith("Yes. "):
                    body = _then(_qualified_yes(term.group(0)), body.removeprefix("Yes. "))
                elif term and not qualifies and resolved.intent in ("presence", "unknown"):
                    # "Is there brain atrophy?" analysed anyway: not assessed, as for any scan
                    body = context.unassessable(case, term.group(0)).strip()
                elif term and resolved.intent == "location" and yes_no_question(question):
                    # "Are the lesions periventricular or juxtacortical?" analysed anyway
                    body = _structure_question(case, term.group(0), body)
                if resolved.intent in ("presence", "count") and re.match(_YES_NO_LEAD, body):
                    # "Anything abnormal?", "How many lesions?", "Periventricular lesions?" of a
                    # scan analysed anyway: its output is not evidence either way, so no yes/no
                    what = f" whether there are {term.group(0)} lesions" if qualifies else ""
                    how_many = " how many lesions there are" if resolved.intent == "count" else ""
                    body = (
                        f"I can't tell{what or how_many}: on a scan outside its domain what the "
                        "detector flags is not evidence either way"
                        + (", and it does not identify anatomical structures" if qualifies else "")
                        + ". What it flagged: "
                        + _lowered(_plain_reading(case))
                    )
                text = domain.unreliable_prefix(outside) + premise + body
        elif term and _qualifies_a_lesion(question, case.q, term.group(0), resolved):
            # "Any white matter lesions?": whether a lesion is there, and what is not assessed
            text = handler(case).strip()
            named_3d = any(v.data.get("regions") for v in case.volume_findings())
            if text.startswith("Yes. ") and not named_3d:
                # "Is there a ring-enhancing lesion?", "Any periventricular plaques?": something
                # deviates; what the word qualifies it by is not seen, said in the lead
                place = findings.structure_phrase(case.q) or term.group(0)
                text = _then(_qualified_yes(place), text.removeprefix("Yes. "))
            elif "does not identify anatomical structures" not in text:
                text += findings.unassessed_note(term.group(0))
        elif (
            term
            and resolved.intent in ("explanation", "intensity")
            and (place := _PLACE_PHRASE.search(case.q))
        ):
            # "Is the bright area in the left frontal lobe a tumour?", "... bright or dark relative
            # to white matter?": the structure only places or compares the finding; the question
            # asked is answered, with what the detector does not identify
            text = (
                handler(case).strip()
                + f" The detector does not identify the {place.group('place')} or other "
                "anatomical structures on a slice; it reports the position in the image, and "
                "signal relative to its pseudo-healthy reconstruction."
            )
        elif term and (
            resolved.source != "rule"
            or resolved.intent in ("presence", "unknown", "explanation", "intensity")
        ):
            text = context.unassessable(case, term.group(0)).strip()
        elif resolved.intent in (*WEAK_INTENTS, "count") and not found and case.volume_findings():
            # nothing on the displayed slice, 3D findings at other levels of the volume
            text = findings.from_volume(case)
        elif (
            resolved.intent in ("confidence", "explanation", "next_steps")
            and not found
            and case.volume_findings()
        ):
            text = context.about_volume(case)  # about the 3D findings, not "no finding"
        elif resolved.intent in WEAK_INTENTS and not found and weak:
            text = findings.weak(case, handler)
        else:
            text = handler(case).strip()
            named_3d = any(v.data.get("regions") for v in case.volume_findings())
            if resolved.intent in ("location", "size") and "In 3D" not in text:
                text += findings.in_3d(case)  # a volume analysed whole: regions, slices, mm³
            if term and resolved.intent in ("location", "side") and named_3d:
                text += (
                    " Anatomical names come from the 3D analysis (an atlas registered to the "
                    "volume, right to a few mm); on the displayed slice the detector reports the "
                    "position in the image only."
                )
            elif term and resolved.intent == "location" and yes_no_question(question):
                # "Is the lesion in the frontal lobe?": neither yes nor no
                text = _structure_question(case, term.group(0), text)
            elif (
                term
                and resolved.intent in ("location", "side")
                and "does not identify anatomical structures" not in text
            ):
                text += (
                    " The detector does not identify lobes or other anatomical structures; it "
                    "reports the position in the image only."
                )
        if resolved.intent == "explanation" and outside is None:
            text = _premise(case) + text
        if resolved.intent == "similar_cases" and outside is not None and evidence.unreliable:
            # cases retrieved for a finding of a scan analysed anyway carry its warning too
            text = domain.unreliable_prefix(outside) + text
        if (
            resolved.intent in ("presence", "count")
            and outside is None
            and found
            and _ELSE_ASK.search(case.q)
            and not case.volume_findings()
        ):
            # "Nothing else abnormal apart from the ring?": about the other regions, not F1
            named = [f for f in found if f.id in ids] or found[:1]
            others = [f for f in found if f not in named]
            main = ", ".join(f"{f.id} {cite(f.id)}" for f in named)
            if yes_means_normal(question):
                lead = f"Yes, nothing else: only {main} was found" if not others else "No"
            else:
                lead = f"No, only {main} was found" if not others else "Yes"
            listing = "; ".join(case.describe(f) for f in others)
            text = (
                f"{lead}: besides {main}, the detector found "
                f"{count_word(len(others), 'region')}: {listing}."
                if others
                else f"{lead}; the detector found no other region on this image."
            )
            if resolved.intent == "count" and not yes_no_question(question):
                # "How many other regions besides F1?": the number first
                text = f"{len(others)} besides {main}" + (
                    f": {listing}." if others else "; the detector found no other region."
                )
            if (part := case.scope()) and part.strip() not in text:
                # "rest of brain unremarkable?" of a volume analysed in part: of that part only
                text = text.replace("Yes, nothing else:", "Nothing else on the analysed part, yes:")
                text += part
        if (
            resolved.intent == "count"
            and weak
            and not found
            and outside is None
            and _WEAK_ASK.search(case.q)
            and (yes_no_question(question) or re.search(r"\bhow many\b", case.q))
            and not re.search(r"\b[wf]\d+\b", case.q)
        ):
            # "any weak or single-level regions I should eyeball myself?": the weaker ones
            n = count_word(len(weak), "weaker region")
            lead = f"Yes, {n}" if yes_no_question(question) else upper_first(n)
            text = f"{lead} below the image threshold: " + _lowered(_plain_reading(case))
        if (
            resolved.intent == "presence"
            and weak
            and not found
            and _WEAK_ASK.search(case.q)
            and text.startswith("No, not clearly")
        ):
            # "Any weak or borderline regions?": yes, weaker ones, which the answer lists
            text = "Yes, weaker regions below the image threshold" + text.removeprefix(
                "No, not clearly"
            )
        if resolved.intent == "modality" and outside is not None and not evidence.unreliable:
            # "Is this PA or AP?" of a chest X-ray: and the detector does not apply to it [A1]
            text += " " + domain.not_applicable(case, outside).removeprefix("I can't tell. ")
        if resolved.intent == "size" and _VOLUME_ASK.search(case.q) and not case.volume_findings():
            # "What's the lesion volume in mL?" of one 2D slice: an area, said as such
            one = "on a single 2D slice"
            if (case.evidence.scan_summary or {}).get("source_shape"):
                one = "from one analysed slice of the volume"
            warning = domain.unreliable_prefix(outside) if outside is not None else ""
            rest = text.removeprefix(warning) if warning and text.startswith(warning) else text
            text = (
                (warning if rest is not text else "")
                + f"A volume cannot be measured {one}; its area on this slice: "
                + (rest[:1].lower() + rest[1:])
            )
        normalised = normalise(question)
        missing = _missing_ids(f"{question} {normalised}", evidence, resolved.intent)
        # the question proper: after any preface and after "I'm happy with F1, but ..."
        asked_text = re.split(r"\bbut\b", without_hedge(normalised))[-1]
        asked = dict.fromkeys(m.upper() for m in re.findall(r"\b[fwv]\d{1,3}\b", asked_text))
        if (
            missing
            and resolved.intent == "presence"
            and outside is None
            and set(asked) <= set(missing)
            and yes_no_question(question)
        ):
            # "Is F2 a real lesion?" when there is no F2: about that finding, the answer is no
            have = ", ".join(f.id for f in found) or "none"
            # "Is F1 a glitch?" with no F1: yes, but say why, not as if F1 were a glitch
            lead = "No"
            if yes_means_normal(question):
                lead = "Yes, no such finding" if found else "Yes, nothing is there"
            text = (
                f"{lead}: there is no {' or '.join(missing)} on this scan (the detector's "
                f"findings: {have})."
                + (
                    f" Ask about {have} by name for {'its' if len(found) == 1 else 'their'} "
                    "details."
                    if found
                    else " " + upper_first(findings.presence(case).split(": ", 1)[-1])
                )
            )
        elif missing:
            have = ", ".join(f.id for f in found) or "none"
            text = (
                f"There is no {' or '.join(missing)} on this scan (the detector's findings: "
                f"{have}). " + text
            )
        if resolved.intent == "presence" and outside is None and (part := _part_of_the_head(case)):
            # "Can I rule out a haemorrhage anywhere in the head?" of a volume analysed at a few
            # levels: not for the whole head; what those levels show
            lo, hi = part
            # "Can I rule out a haemorrhage anywhere?": no; "Is the whole brain normal?" and
            # "Anything anywhere?": neither yes nor no for the whole head
            ruling_out = re.search(r"\b(rule[sd]? out|r/o|exclud\w*|excluded)\b", case.q)
            lead = (
                "No, not for the whole head"
                if yes_means_normal(question) and ruling_out
                else "I can't tell for the whole head"
            )
            rest = _without_lead(text)
            text = (
                f"{lead}: only the levels at MNI z {lo:+.0f} to {hi:+.0f} mm of this volume were "
                f"analysed. There: {rest[:1].lower() + rest[1:]}"
            )
        if resolved.intent == "presence" and outside is None and not meaning:
            # about a volume analysed in part: "No, not on the analysed slice: ..."; a sign-off
            # ("Can I tell the patient it is normal?") is not supported by part of a volume
            text = scope.sign_off_on_part(case, text) or scope.on_analysed_part(case, text)
        if (
            resolved.intent == "presence"
            and outside is None
            and (act := _PROCEDURE.search(case.question))
            and _PERMISSION.search(case.q[: act.start() + 1])
            and not re.search(r"\b(tell|inform|say|report|let)\b", case.q[: act.start()])
        ):
            # "so ok to give tPA?", "safe to do an LP on this pt?", "ok to restart her anticoag
            # then?": not a yes or no from this tool, whatever the reading
            text = (
                f"Whether to go ahead ({act.group(0)}) is a clinical decision that this research "
                "tool cannot inform: it reads one T1-weighted image for deviations from healthy "
                "anatomy; such decisions rest on the clinical assessment and dedicated imaging. "
                "What the detector found: " + _lowered(_plain_reading(case))
            )
        if (
            resolved.intent in ("presence", "explanation")
            and outside is None
            and _SEEING_THINGS.search(case.q)
        ):
            # "is that a ring lesion or am i seeing things"
            reading = _lowered(_plain_reading(case))
            if found:
                text = "Yes, you are not seeing things: " + reading
                if re.search(r"\bring\b", case.q):
                    text += (
                        " Whether it is a ring lesion I can't tell: the detector reports where and "
                        "how a region deviates, not its shape or what it is."
                    )
            else:
                text = "No, the detector found nothing there: " + reading
        if (
            resolved.intent == "presence"
            and outside is None
            and found
            and _ACUTE_ASK.search(case.q)
            and text.startswith(("Yes. ", "Yes, but only a low-confidence region"))
        ):
            # "78F fall, on apixaban. anything acute?": something deviates; its age, the detector
            # cannot tell
            text = (
                "A region deviates from healthy anatomy, yes, but I can't tell whether it is "
                "acute: the detector does not tell how old a lesion is. "
                + re.sub(r"^Yes(, but only a low-confidence region[^.]*)?\. ", "", text)
            )
        if (
            resolved.intent == "side"
            and outside is None
            and found
            and re.match(
                r"^\W*(any )?(lesions?|abnormality|anything|something|mass|findings?|"
                r"tumou?rs?)\s*\?",
                case.q,
            )
        ):
            # "lesion? which side": whether there is one, then its side
            plain = "is there a lesion?"
            there = findings.presence(replace(case, question=plain, q=plain)).strip()
            text = there + " " + text
        if (
            outside is not None
            and not evidence.unreliable
            and _MAKE_ANALYSABLE.search(case.q)
            and text.startswith("I can't tell. ")
        ):
            # "what do I need to do to make it analysable": why not, and what it accepts
            text = "It can't be analysed as it is. " + text.removeprefix("I can't tell. ")
        if (
            resolved.intent == "size"
            and outside is None
            and found
            and _CRANIOCAUDAL.search(case.q)
            and not case.volume_findings()
        ):
            # "extent in the craniocaudal direction?" with one slice analysed: not measurable
            text = (
                "The craniocaudal extent can't be measured here: it needs the region on several "
                "analysed slices, and only one slice was analysed. In plane: " + _lowered(text)
            )
        if (
            resolved.intent == "presence"
            and outside is not None
            and evidence.unreliable
            and found
            and re.search(r"\b(flag\w*|highlight\w*|mark\w*|pick\w* up|detect\w*)\b", case.q)
            and "I can't tell" in text
        ):
            # "anything flagged?" of a scan analysed anyway: what it flagged, and that it is not
            # evidence either way
            n = count_word(len(found), "region")
            text = domain.unreliable_prefix(outside) + (
                f"It flagged {n}, but on a scan outside its domain what the detector flags is not "
                "evidence either way: " + _lowered(_plain_reading(case))
            )
        if (
            resolved.intent == "side"
            and outside is None
            and yes_means_normal(question)
            and text.startswith("Yes")
            and not (evidence.scan_summary or {}).get("source_shape")
        ):
            # "is the left hemisphere clear of abnormality" of one 2D image
            text += " This is one 2D slice: the rest of that hemisphere was not seen."
        if (
            resolved.intent not in ("out_of_scope", "report")
            and _ACUTE_DECISION.search(case.q)
            and "clinical decision" not in text
        ):
            decision = (
                "Whether to give or withhold an acute treatment (thrombolysis, thrombectomy, "
                "anticoagulation) is a clinical decision that this research tool cannot inform"
            )
            if resolved.intent == "presence":
                # "acute stroke on this? thrombolyse?": the decision, after the reading
                text += f" {decision}."
            else:
                # "Is this a stroke, should we thrombolyse?": the decision is not this tool's
                text = (
                    f"{decision}: it reads one T1-weighted image for deviations from healthy "
                    "anatomy; such decisions rest on the clinical assessment and dedicated "
                    "imaging. " + text
                )
        if (
            resolved.intent == "confidence"
            and found
            and (kind := findings.named_kind(case.q)) is not None
            and "I can't tell whether" not in text
        ):
            # "Would you bet this is a tumour?": the confidence is that a region is a true lesion,
            # not that it is the kind named
            text = (
                f"I can't tell whether it is {findings.a_kind(kind.group(0))}: the detector does "
                "not tell kinds of lesion apart, and its confidence is the probability that a "
                "region is a true lesion at all, not that it is the kind named. " + text
            )
        if (
            resolved.intent == "presence"
            and _T2_FINDING.search(case.q)
            and "T2-weighted and FLAIR" not in text
            and "does not apply" not in text
        ):
            # "Any white matter hyperintensities?" of a T1: they are a T2/FLAIR finding, so a bare
            # "Yes" is hedged like a named kind, and a "No" does not exclude them
            if text.startswith("Yes. "):
                text = (
                    "A region deviates from healthy anatomy, yes, but I can't tell whether it "
                    "would be a hyperintensity on T2-weighted or FLAIR images: this is a "
                    "T1-weighted image. " + text.removeprefix("Yes. ")
                )
            text += (
                " White matter hyperintensities are defined on T2-weighted and FLAIR images; on "
                "a T1-weighted image many are not visible at all, and small ones fall below this "
                "detector's sensitivity, so its reading does not exclude them."
            )
        if (
            resolved.intent == "presence"
            and outside is None
            and text.startswith(
                ("Yes, as far as this detector can tell", "Nothing abnormal was found")
            )
            and not (evidence.scan_summary or {}).get("source_shape")
            and (_WHOLE_STUDY.search(case.q) or scope.signs_off(case))
        ):
            # "ok so normal study then?", "Can I report this as a normal brain MRI?" of one 2D
            # image: the study's other slices were never seen
            if _TELLS_OR_SIGNS_OFF.search(case.q):
                # "can i just tell them the scan is fine": not a go-ahead
                closed = text.startswith("Yes")
                text = (
                    "Nothing was found, yes, but not on this reading alone"
                    if closed
                    else "Nothing was found, but that is not enough on its own to tell the patient "
                    "the scan is normal"
                ) + re.sub(
                    r"^(Yes, as far as this detector can tell|Nothing abnormal was found)", "", text
                )
                text += (
                    " Telling the patient, or signing the study off, is a clinical decision that "
                    "this reading can inform but not make."
                )
            text += (
                " This is one 2D slice: the rest of the study was not seen, so this reading cannot "
                "support calling the whole study normal."
            )
        if (
            resolved.intent == "side"
            and outside is None
            and re.search(r"\b(convention|radiological|neurological)\b", case.q)
            and (frame := context.acquisition_detail(case))
            and frame not in text
        ):
            # "right or left - radiological or neurological convention?": the side, then how
            # the image is shown
            text += " " + frame
        if (
            resolved.intent == "modality"
            and outside is None
            and found
            and re.search(r"\b(convention|radiological|neurological)\b", case.q)
            and re.search(
                r"\b(which|what) side\b.{0,30}\b(lesion|finding|abnormality|it|f\d)\b", case.q
            )
        ):
            # "which side is the lesion, and is the image in radiological convention?": both
            # (the side answer of an image without orientation already says both conventions)
            sided = ANSWERS["side"](case).strip()
            text = sided if "convention" in sided else sided + " " + text
        if (
            resolved.intent == "presence"
            and outside is None
            and found
            and (structure := _STRUCTURE.search(case.q))
            and yes_means_normal(question)
            and text.startswith("No, not normal")
            and not any(v.data.get("regions") for v in case.volume_findings())
        ):
            # "is the thalamus normal?" with a region on the slice: not clearly, and whether
            # the region is in the thalamus the detector cannot tell
            text = (
                "No, not clearly: a region deviates from healthy anatomy on this slice, but I "
                f"can't tell whether it involves the {structure.group(0)}: the detector does not "
                "identify anatomical structures on a slice. " + _without_lead(text, 60)
            )
        if (
            resolved.intent == "presence"
            and outside is None
            and text.startswith(("No", "Nothing was found", "Nothing clear was found"))
            and re.search(r"\b(tiny|small|subtle|little|minute|few mm|\d+ ?mm)\b", case.q)
            and "Small lesions are mostly missed" not in text
        ):
            # "Any lesions at all, even tiny ones?": a "No" here does not exclude small ones
            text += (
                " Small lesions are mostly missed by this detector (it found a third of small "
                "synthetic lesions on validation slices), so this does not exclude them."
            )
        if resolved.intent == "presence" and asks_for_a_clinical_act(question):
            # "Can I sign this off as normal?": the detector reads one scan; the act is the user's
            text += (
                " Whether to sign off, discharge or reassure is a clinical decision that this "
                "reading of one scan can inform but not make."
            )
        if self.disclaimer:  # every answer, refusals too (the README's promise)
            text += "\n\n" + DISCLAIMER_LINE
        return text


# white matter hyperintensities and small white matter spots: a T2/FLAIR finding
_T2_FINDING = re.compile(
    r"\bwhite matter hyperintens\w*|\bwmhs?\b|\b(flair|t2)[- ](hyperintens\w*|bright\w*|signal|"
    r"lesions?)\b|\b(small|tiny|punctate) (\w+ )?(white matter|wm) (spots?|lesions?|foci|dots?|"
    r"changes?|hyperintens\w*)\b"
)


_COMPARTMENT = (
    r"(?:periventricular|juxtacortical|infratentorial|supratentorial|subcortical|cortical|"
    r"callosal|deep white matter|deep gr[ae]y(?: matter)?|deep)"
)
# where a lesion is, asked as adjectives: "Are the lesions periventricular, juxtacortical or
# infratentorial?"
_COMPARTMENTS = re.compile(
    rf"\b(?:are|is) (?:the |this |that |these |those )?(?:\w+ )?(?:lesions?|it|they|findings?|"
    rf"regions?|plaques?)? ?({_COMPARTMENT}(?:(?:,| or| and|, or|, and) {_COMPARTMENT})*)\b"
)


def _structure_question(case: CaseFacts, term: str, where: str) -> str:
    """ "Is the lesion in the frontal lobe?", "... in the caudate or the internal capsule?", "Are
    the lesions periventricular or juxtacortical?": neither yes nor no (the detector does not
    identify structures on a slice), then `where` (the location answer)."""
    place = findings.structure_phrase(case.q) or term
    if re.search(r"\b(gr[ae]y|white)( matter)? or (the )?(gr[ae]y|white) matter\b", case.q):
        place = "grey or the white matter"
    elif both := re.search(
        r"\b(?:in|within|involve\w*) (?:the )?([a-z ]{3,30}? or (?:the )?[a-z ]{3,30}?)"
        r"\s*[?.!]*$",
        case.q,
    ):
        place = both.group(1)  # "the caudate or the internal capsule"
    verb = re.search(r"\b(abut|touch|reach|extend|cross|involv|encroach|spar)\w*", case.q)
    how = {"abut": "abuts", "touch": "touches", "reach": "reaches", "cross": "crosses"}
    how |= {"extend": "extends into", "involv": "involves", "encroach": "encroaches on"}
    how |= {"spar": "spares"}
    lies = how[verb.group(1)] if verb else "lies in"
    the = "the "
    if adjectives := _COMPARTMENTS.search(case.q):
        # "Are the lesions periventricular, juxtacortical or infratentorial?"
        lies, the, place = "is", "", adjectives.group(1)
    if re.search(r"\bdeep gr[ae]y\b", case.q):
        # "is it deep grey (basal ganglia) or more cortical": "deep" in the answer below means
        # central in the image, which says nothing about the deep grey matter
        cortex = " or the cortex" if re.search(r"\bcorti\w*", case.q) else ""
        lies, the, place = "lies in", "the ", f"deep grey matter{cortex}"
        where += (
            ' ("deep" there means central in the image, not the deep grey matter)'
            if "deep" in where
            else ""
        )
    return (
        f"I can't tell whether it {lies} {the}{place}: the detector does not identify "
        "lobes or other anatomical structures on a slice; it reports the position in "
        f"the image. Where it is: {where}"
    )


# structures of a slice the detector does not identify ("is the thalamus normal?")
_STRUCTURE = re.compile(
    r"\b(thalam(us|i)|caudate( nucle(us|i))?|putamen|basal ganglia|internal capsules?|corpus "
    r"callosum|insula|brain ?stem|pons|cerebellum|hippocamp(us|i))\b"
)
_SIDE_AND_SIGNAL = re.compile(
    r"\b(which|what) (side|hemisphere)\b.{0,40}\b(and|&)\b.{0,20}\b(how (bright|dark)|brightness|"
    r"signal|intensity)\b"
)
_CRANIOCAUDAL = re.compile(
    r"\b(cranio-?caudal\w*|superior[- ]inferior|through[- ]plane|top to bottom|z[- ]extent|vertical "
    r"extent|how many slices (does it|is it|it) (span|cover|extend)\w*)\b"
)
_SIZE_AND_SIDE = re.compile(
    r"\b(how (big|large)|size|dimensions?)\b.{0,30}\b(and|&|\+)\b.{0,20}\b(which|what) side\b|"
    r"\b(which|what) side\b.{0,30}\b(and|&|\+)\b.{0,20}\b(how (big|large)|size|dimensions?)\b"
)


def _both(*intents: str) -> Callable[[CaseFacts], str]:
    """A handler that answers a two-part question with each part's answer, in order."""
    return lambda c: " ".join(ANSWERS[i](c).strip() for i in intents)


def _asked_unassessable(q: str) -> re.Match | None:
    """The sign or structure the detector does not assess (`UNASSESSABLE`) that the question
    asks about; None when there is none, or when it is only named in a history before the
    question that names a kind of lesion ("febrile pt w/ sinusitis, abscess??")."""
    term = UNASSESSABLE.search(q)
    kind = findings.named_kind(q)
    if term is None or kind is None or kind.start() < term.end():
        return term
    asked = re.split(r"[.,;:]\s*", q[term.end() : kind.start()])
    if len(asked) < 2 or re.match(r"(or|and|and/or|plus|also|vs|versus)\b", asked[-1]):
        return term  # "midline shift or a mass?": both asked
    later = UNASSESSABLE.search(q, kind.end())
    return later


def _plain_reading(case: CaseFacts) -> str:
    """What the detector found, as the answer to a plain "Is there an abnormality?" without its
    yes/no lead (whatever kind of lesion or place the question named)."""
    plain = "is there an abnormality?"
    here = _without_lead(findings.presence(replace(case, question=plain, q=plain)).strip(), 90)
    return here[:1].upper() + here[1:]


def _without_lead(text: str, longest: int = 40) -> str:
    """A presence answer without its yes/no lead ("Yes, as far as this detector can tell: "),
    for quoting it after another lead; `longest`: the lead's most characters after Yes/No."""
    return re.sub(rf"^(Yes|No)\b[^:.]{{0,{longest}}}[:.] ", "", text)


_WHOLE_HEAD = re.compile(
    r"\b(anywhere (in|on) (the|this) (head|brain|scan|volume|study)|(whole|entire|full) "
    r"(head|brain|volume|scan|study)|every (slice|level)|all (the )?(slices|levels)|"
    r"vertex to (the )?(foramen magnum|skull base)|top to bottom|anywhere|overall|globally)\b"
)


def _part_of_the_head(c: CaseFacts) -> tuple[float, float] | None:
    """The analysed MNI z range of a volume analysed at only part of the brain (the shipped
    model's levels), when the question asks about the whole head; None otherwise."""
    if not _WHOLE_HEAD.search(c.q):
        return None
    levels = ((c.evidence.scan_summary or {}).get("volume_analysis") or {}).get("levels_mm")
    if not levels or max(levels) - min(levels) >= 100:
        return None
    return float(min(levels)), float(max(levels))


_LOOK_AT = re.compile(
    r"\b(look|looking|check|examine|assess|review|comment) (at |on )?(the )?(\w+ )?"
    r"(orbits?|globes?|optic nerves?|pineal|cerebell\w*|posterior fossa|brain ?stem|pons|"
    r"medulla|midbrain|pituitary|sella|vertex|hippocamp\w*|temporal poles?|craniocervical|"
    r"foramen magnum|tonsils?)\b"
)
# the whole study called normal: "normal study then?", "report this as a normal brain MRI"
_WHOLE_STUDY = re.compile(
    r"\b(normal|clear|negative|unremarkable) (brain )?(study|mri|scan|exam|examination|head)\b|"
    r"\b(study|mri|scan|exam) (is |was )?(normal|clear|negative|unremarkable)\b|"
    r"\breport (this|it) as (a )?normal\b"
)
# an answer's yes/no lead, in the words `answers_findings` writes it ("Yes.", "No:", "3 regions",
# "A region deviates from healthy anatomy, yes, but ...", "Nothing was found, yes, but ...")
_YES_NO_LEAD = re.compile(
    r"(Yes|No|\d+)\b|(A (low-confidence )?region deviates|Regions deviate)[^.:]*, yes\b|Nothing (clear )?was found, yes\b"
)
# a clinical act on the reading's strength: telling, reassuring, signing off, discharging (wider
# than `parse.asks_for_a_clinical_act`, which does not count telling the patient)
_TELLS_OR_SIGNS_OFF = re.compile(
    r"\b(tell|inform|reassure|assure|discharg\w*|sign (\w+ ){0,2}off|send (\w+ )?home)\b"
)
_ELSE_ASK = re.compile(
    r"\b(else|other|another|additional|further)\b.{0,40}\b(apart from|besides|other than|except|"
    r"aside from|in addition to)\b|\b(apart from|besides|other than|except( for)?|aside from|"
    r"in addition to) (the |this |that |f\d)[^?]{0,40}\b(else|other|another|additional)\b|"
    # "any other lesion elsewhere on the slice?", "anything else?"
    r"\b(any|are there|is there)( \w+)? (other|further|additional|more) (lesions?|abnormalit\w*|"
    r"findings?|regions?|areas?|spots?|foci)\b|\b(anything|any lesions?|abnormalit\w*) (else|"
    r"elsewhere)\b|"
    # "is there a 2nd lesion anywhere", "anything hot outside the lesion?", "rest of the brain ok?"
    r"\b(is there|are there|any|see) (a |an )?(2nd|second|third|3rd) (lesion|abnormality|finding|"
    r"region|spot|focus)\b|"
    r"\b(outside|apart from|besides|beyond|other than|except( for)?|aside from) (the |this |that )?"
    r"(lesion|finding|abnormality|f\d)\b|"
    r"\b(the )?rest of (the )?(brain|scan|image|slice|parenchyma)\b|"
    # "Is the heatmap hot anywhere apart from the left side?"
    r"\b(apart from|besides|other than|except( for)?|aside from|outside( of)?) the (left|right)"
    r"( side| hemisphere| half)?\b"
)
_WEAK_ASK = re.compile(
    r"\b(weak(er)?|borderline|sub-?threshold|below[- ]threshold|faint(er)?|equivocal) "
    r"(or [\w-]+ )?(regions?|areas?|findings?|spots?|ones?|signals?|foci|hits?|anomal\w*)\b"
)
# a procedure or treatment asked permission for ("safe to do an LP", "ok to give tPA")
_PROCEDURE = re.compile(
    r"(?i)\b(lp|lumbar puncture|tpa|alteplase|tenecteplase|thromboly\w*|lyse|thrombectom\w*|"
    r"anticoag\w*|apixaban|rivaroxaban|edoxaban|dabigatran|warfarin|heparin|doac|antiplatelets?|"
    r"aspirin|clopidogrel|biopsy|surgery|craniotomy|operate)\b"
)
# asked right before the procedure: "safe to do an LP", "ok to restart her anticoag", "can we
# give tPA" (not "rule out a bleed before we thrombolyse", a presence question)
_PERMISSION = re.compile(
    r"\b(safe|ok|okay|alright|fine|go ahead|proceed|(can|should|could|may) (i|we))\b( to)?"
    r"( \w+){0,3} \w$"
)
_SEEING_THINGS = re.compile(
    r"\b(am i|i am|i'm|im) (just )?(seeing things|imagining( it| things)?|hallucinating)\b"
)
_ACUTE_ASK = re.compile(r"\b(anything|any|something|is (it|this|that|there)\w*) (\w+ )?acute\b")
_MAKE_ANALYSABLE = re.compile(
    r"\b(make|get) (it|this|the (scan|image|file|volume)) (\w+ )?(analy[sz]able|analy[sz]ed|"
    r"accepted|readable|work)\b|\bwhat (do|would|should) (i|we) (need to )?(do|upload|send|change)\b"
)
_ACUTE_DECISION = re.compile(
    r"\b(thromboly\w*|lyse|tpa|alteplase|tenecteplase|thrombectom\w*|anticoagula\w*)\b"
)
_FITNESS = re.compile(
    r"\b(go|get|return|back) (back )?to (work|school|college|university|driving|sport|the gym)|"
    r"\b(fit|fitness) (for|to) (work|drive|driving|fly|flying|travel)|\bsick (note|leave)\b|"
    r"\b(can|could|may|should) (he|she|they|i|the patient) (still )?(drive|fly|travel|work|"
    r"play \w+|exercise)\b"
)
_TREATMENT = re.compile(
    r"\b(start|begin|commence|stop|switch|change|escalate|give|prescribe|treat\w*|therap\w*|"
    r"medication|drugs?|steroids?|dmts?)\b"
)
_ANYWAY = re.compile(
    r"\b(analy[sz]e|run|process|check|detect|look at) (it|this|the (scan|image|x-?ray|picture))? ?"
    r"(anyway|regardless|all the same)\b|\b(force|override) (the )?(analysis|check|detector)\b"
)
_VOLUME_ASK = re.compile(r"\b(volume|ml|millilit\w*|cc|cm3|cm³|mm3|mm³|cubic)\b")


def _named_regions(question: str, items) -> list:
    """The findings / weaker regions a question names by id ("W1 and W2"), in evidence order."""
    ids = {m.upper() for m in re.findall(r"\b[fw]\d{1,3}\b", question.lower())}
    return [i for i in items if i.id in ids]


_WHY_REFUSED = re.compile(
    r"^\W*(but |so |and )?(why|how come)\b.{0,50}\b(not|n't|cannot|can't|unable|refus\w*|"
    r"reject\w*|won't|wont|cant|dont|doesn't|doesnt|does not|didn't|didnt|out of (domain|scope)|"
    r"outside)\b|^\W*(but |so |and )?(why|how come)( not)?\W*$"
)
# "Can you read this one?", "can you analyse this", "so you can't read it?": whether this scan
# can be analysed at all
_CAN_YOU_READ = re.compile(
    r"^\W*(so |but |and |ok |okay )?(can|could|will|would) (you|u|it|the (tool|detector|assistant|"
    r"model)) (\w+ )?(analy[sz]e|read|process|interpret|assess|handle)\b( (this|it|this one|that|"
    r"that one|the (scan|image|study|file|volume|x-?ray)))?( (at all|then|anyway))?\W*$|"
    r"^\W*(so |but |and |ok )?(you|u) (can'?t|cannot|won'?t|wont|cant|couldn'?t) (\w+ )?(analy[sz]e|"
    r"read|process|interpret|do) (this|it|this one|that|anything)\b"
)
# a structure that places or serves as reference for what is asked about ("the spot near the
# ventricle", "relative to white matter"), not the subject of the question
_PLACE_PHRASE = re.compile(
    r"\b(in|at|near|next to|adjacent to|around|within|by|close to|beside|along|of|"
    r"relative to|compared (to|with)|than) (the |this |that |a |an )?([\w-]+ ){0,2}"
    r"(?P<place>lobes?|ventric\w*|white matter|gr[ae]y matter|cortex|thalam\w*|cerebell\w*|"
    r"brain ?stem|basal ganglia|gyr\w*|sulc\w*)\b"
)


def _premise(c: CaseFacts) -> str:
    """A cause question that describes the finding's signal otherwise than the detector found it
    ("Could the dark spot be a plaque?" when F1 is hyperintense): said first, so that the answer
    is not read as being about a region that was not flagged ("" when it matches or says none)."""
    dark, bright = bool(DARK_WORDS.search(c.q)), bool(BRIGHT_WORDS.search(c.q))
    regions = c.targets or c.weak
    if dark == bright or not regions:
        return ""
    wanted = "hypointense" if dark else "hyperintense"
    if any(r.data.get("intensity") in (wanted, "mixed") for r in regions):
        return ""
    kinds = "; ".join(f"{r.id} is {r.data.get('intensity', 'of unknown signal')}" for r in regions)
    return (
        f"No {'dark (hypointense)' if dark else 'bright (hyperintense)'} region was flagged "
        f"on this slice: {kinds}. "
    )


_LESION_WORD = re.compile(
    r"\b(lesions?|abnormalit\w*|anomal\w*|tumou?rs?|masse?s?(?! effect)|diffusion|plaques?|foci|focus|spots?|"
    r"hyperintensit\w*|hypointensit\w*|infarcts?|bleeds?|nodules?|regions?|areas?|"
    rf"changes?|findings?|pathology|anything|something|{FINDING_TERMS})\b"
)


def _lowered(text: str) -> str:
    """`text` with its first letter lower-cased (to follow a colon), unless it starts with an
    evidence id ("F1 is ...")."""
    if text[:1].isupper() and not re.match(r"[FWVDAKC]\d", text):
        return text[:1].lower() + text[1:]
    return text


def _then(lead: str, body: str) -> str:
    """`lead` then `body`, its first letter lower-cased after a lead that ends with a colon."""
    return lead + (_lowered(body) if lead.endswith(": ") else body)


def _qualified_yes(term: str) -> str:
    """The lead of a "yes" whose lesion the question qualifies by something the detector does not
    see ("Is there a ring-enhancing lesion?", "Any white matter lesions?")."""
    # what one non-contrast T1 image cannot show at all: "I can't tell", then what was found
    if term.startswith("enhanc"):
        return (
            "I can't tell whether anything enhances: enhancement shows only when a post-contrast "
            "scan is compared with a pre-contrast one, and this detector reads one T1 image and "
            "was trained on non-contrast T1 scans. What it did find: "
        )
    if "diffusion" in term:
        return (
            "I can't tell whether there is restricted diffusion: that needs diffusion-weighted "
            "images with an ADC map, and this detector reads one T1-weighted image. What it did "
            "find: "
        )
    what = f"is {term}" if term.endswith(("al", "ar")) else f"involves the {term}"
    return (
        f"A region deviates from healthy anatomy, yes, but I can't tell whether it {what}: "
        "the detector does not identify anatomical structures or tissues. "
    )


def _qualifies_a_lesion(question: str, q: str, term: str, resolved: Resolved) -> bool:
    """A presence question whose unassessed word only qualifies the lesion asked about ("Any
    white matter lesions?", "Is there an enhancing mass?") or names a tissue of the slice ("Is
    the white matter normal?"): it is answered as a presence question, with a note on what the
    detector does not assess. A question about the sign itself ("Is there a midline shift?",
    "Are the ventricles enlarged?") is not."""
    if resolved.intent != "presence":
        return False
    if TISSUE.fullmatch(term):
        return True  # "Is the white matter normal?": a tissue the slice shows as a whole
    if re.match(r"a?symmetr", term):
        return False  # "Anything asymmetric L vs R?": the sign itself, which is not assessed
    bare = not re.match(
        r"^\W*(is|are|was|were|does|do|did|can|could|what|where|which|how|why|when|who)\b", q
    )  # "ring-enhancing lesion?": a bare noun phrase asks whether it is there
    if not (existential(question) or bare):
        return False
    if "diffusion" in term:
        return True  # "Any restricted diffusion?": a finding of its own
    lesion = _LESION_WORD.search(q.replace(term, " "))
    # "ventricles enlarged? hydrocephalus?": the only "lesion" named is a sign of its own
    return bool(lesion) and not re.match(r"(hydroceph|ventriculomeg|atroph)", lesion.group(0))


def _missing_ids(question: str, evidence: Evidence, intent: str) -> list[str]:
    """Finding ids the question names ("F2", "W1") that this scan's evidence does not have,
    so that an answer about the other findings says so first."""
    if intent in ("out_of_scope", "unknown", "modality", "report"):
        return []
    named = dict.fromkeys(m.upper() for m in re.findall(r"\b[FfWwVv]\d{1,3}\b", question))
    return [i for i in named if i not in evidence.ids()]
