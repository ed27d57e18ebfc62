"""What is added to, or changed in, an answer once it is written (`routes.first_answer`): each
of `AFTERWARDS`, in order, takes the answer so far and returns it, changed where its question
asks for it. Some add a caveat ("Any lesions at all, even tiny ones?": small ones are missed;
"Can I sign this off?": a clinical decision), some answer what the first answer left out ("lesion?
which side": whether there is one, then its side), some take back a yes/no the reading cannot
support ("so ok to give tPA?": not a yes or no from this tool)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import assistant.responders.grounded.about_the_tool as about_the_tool
import assistant.responders.grounded.answers_context as context
import assistant.responders.grounded.answers_findings as findings
import assistant.responders.grounded.answers_scope as scope
import assistant.responders.grounded.beyond_the_reading as beyond
import assistant.responders.grounded.domain as domain
from assistant.evidence import Evidence, analysed_scope
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.turn import (
    ANSWERS,
    Turn,
    lowered,
    plain_reading,
    premise,
    without_lead,
)
from assistant.responders.grounded.wording import (
    BONE_NOT_READ,
    FRACTURE,
    cite,
    count_word,
    upper_first,
)
from assistant.responders.intents import yes_means_normal, yes_no_question
from assistant.responders.intents.parse import (
    DOCUMENTING,
    IMAGE_ARTEFACT,
    asks_for_a_clinical_act,
    without_hedge,
)
from assistant.responders.intents.text import normalise


def explanation_premise(t: Turn, text: str) -> str:
    """A cause question that describes the finding otherwise than the detector found it: said
    first (`turn.premise`)."""
    if t.intent == "explanation" and t.outside is None:
        return premise(t.case) + text
    return text


def cases_of_a_scan_analysed_anyway(t: Turn, text: str) -> str:
    """Cases retrieved for a finding of a scan analysed anyway carry its warning too."""
    if t.intent == "similar_cases" and t.outside is not None and t.evidence.unreliable:
        return domain.unreliable_prefix(t.outside) + text
    return text


def anything_else(t: Turn, text: str) -> str:
    """ "Nothing else abnormal apart from the ring?": about the other regions, not F1."""
    found, question = t.found, t.question
    if not (
        t.intent in ("presence", "count")
        and t.outside is None
        and found
        and _ELSE_ASK.search(t.q)
        and not t.case.volume_findings()
    ):
        return text
    named = [f for f in found if f.id in t.ids] or found[:1]
    others = [f for f in found if f not in named]
    main = ", ".join(f"{f.id} {cite(f.id)}" for f in named)
    if yes_means_normal(question):
        lead = f"Yes, nothing else: only {main} was found" if not others else "No"
    else:
        lead = f"No, only {main} was found" if not others else "Yes"
    listing = "; ".join(t.case.describe(f) for f in others)
    partial = scope.partial(t.evidence.scan_summary or {})
    if not others and partial and not yes_means_normal(question):
        # "any other lesions elsewhere in the volume?" with one slice analysed: not for the rest
        return (
            f"Not on the analysed slice: only {main} was found there. Elsewhere I can't tell: "
            + lowered(analysed_scope(t.evidence.scan_summary))
        )
    text = (
        f"{lead}: besides {main}, the detector found "
        f"{count_word(len(others), 'region')}: {listing}."
        if others
        else f"{lead}; the detector found no other region on this image."
    )
    if t.intent == "count" and not yes_no_question(question):
        # "How many other regions besides F1?": the number first
        text = f"{len(others)} besides {main}" + (
            f": {listing}." if others else "; the detector found no other region."
        )
    if (part := t.case.scope()) and part.strip() not in text:
        # "rest of brain unremarkable?" of a volume analysed in part: of that part only
        text = text.replace("Yes, nothing else:", "Nothing else on the analysed part, yes:")
        text += part
    one_image = not (t.evidence.scan_summary or {}).get("source_shape")
    if one_image and _WHOLE_BRAIN_ASKED.search(t.q):
        # "can I rule out a lesion elsewhere in the brain" of one 2D image: not for the brain
        if _RULE_OUT.search(t.q) and not others:
            return (
                "No, not for the whole brain: this is one 2D slice, and the rest of the brain was "
                f"not seen. On this slice the detector found only {main}, no other region."
            )
        if text.startswith("Yes, nothing else"):
            # "is the rest of the brain normal?": on this slice only
            text = "Nothing else on this slice, yes" + text.removeprefix("Yes, nothing else")
        text += " This is one 2D slice: the rest of the brain was not seen."
    return text


def weak_regions_counted(t: Turn, text: str) -> str:
    """ "any weak or single-level regions I should eyeball myself?": the weaker ones."""
    if not (
        t.intent == "count"
        and t.weak
        and not t.found
        and t.outside is None
        and _WEAK_ASK.search(t.q)
        and (yes_no_question(t.question) or re.search(r"\bhow many\b", t.q))
        and not re.search(r"\b[wf]\d+\b", t.q)
    ):
        return text
    n = count_word(len(t.weak), "weaker region")
    lead = f"Yes, {n}" if yes_no_question(t.question) else upper_first(n)
    return f"{lead} below the image threshold: " + lowered(plain_reading(t.case))


def weak_regions_asked(t: Turn, text: str) -> str:
    """ "Any weak or borderline regions?": yes, weaker ones, which the answer lists."""
    if (
        t.intent == "presence"
        and t.weak
        and not t.found
        and _WEAK_ASK.search(t.q)
        and text.startswith("No, not clearly")
    ):
        return "Yes, weaker regions below the image threshold" + text.removeprefix(
            "No, not clearly"
        )
    return text


def acquisition_of_a_refused_scan(t: Turn, text: str) -> str:
    """ "Is this PA or AP?" of a chest X-ray: and the detector does not apply to it [A1]."""
    if t.route == "meaning_of_a_term":
        return text  # the meaning says what bears on this scan
    if t.intent == "modality" and t.outside is not None and not t.evidence.unreliable:
        return text + " " + domain.not_applicable(t.case, t.outside).removeprefix("I can't tell. ")
    return text


def volume_of_one_slice(t: Turn, text: str) -> str:
    """ "What's the lesion volume in mL?" of one 2D slice: an area, said as such."""
    if not (t.intent == "size" and _VOLUME_ASK.search(t.q) and not t.case.volume_findings()):
        return text
    if t.outside is not None and not t.evidence.unreliable:
        return text  # refused: nothing was analysed, the refusal stands
    one = "on a single 2D slice"
    if (t.evidence.scan_summary or {}).get("source_shape"):
        one = "from one analysed slice of the volume"
    warning = domain.unreliable_prefix(t.outside) if t.outside is not None else ""
    rest = text.removeprefix(warning) if warning and text.startswith(warning) else text
    return (
        (warning if rest is not text else "")
        + f"A volume cannot be measured {one}; its area on this slice: "
        + lowered(rest)
    )


def count_and_volume(t: Turn, text: str) -> str:
    """ "how many lesions and total volume in mL" of a scan with no 3D findings: the count, then
    that a volume cannot be measured from the analysed slice."""
    if not (
        t.intent == "count"
        and _VOLUME_ASK.search(t.q)
        and not t.case.volume_findings()
        and (t.outside is None or t.evidence.unreliable)
    ):
        return text
    return text + (
        " A volume (mL) cannot be measured from one analysed slice: it needs the regions on "
        "every level of a volume analysed whole."
    )


def ordinal_not_on_this_scan(t: Turn, text: str) -> str:
    """ "and the second one?" when the scan has one region: there is no second one (the
    follow-up had repeated the first's answer)."""
    m = _ORDINAL_ONLY.match(t.q)
    if m is None or t.outside is not None and not t.evidence.unreliable:
        return text
    n = _ORDINAL_NUMBER[m.group("nth")]
    if not t.found or len(t.found) >= n:
        return text
    have = ", ".join(f"{r.id} {cite(r.id)}" for r in t.found)
    word = "other" if m.group("nth") in ("other", "next") else m.group("nth")
    text = f"There is no {word} finding on this scan: the detector found only {have}."
    if t.weak:
        weak = ", ".join(f"{w.id} {cite(w.id)}" for w in t.weak)
        text += f" Weaker regions below the image threshold, which may be noise: {weak}."
    return text


def ids_not_on_this_scan(t: Turn, text: str) -> str:
    """ "Is F2 a real lesion?" when there is no F2: about that finding, the answer is no; other
    questions naming an id this scan does not have say so first."""
    question, found = t.question, t.found
    normalised = normalise(question)
    missing = _missing_ids(f"{question} {normalised}", t.evidence, t.intent)
    if not missing:
        return text
    # the question proper: after any preface and after "I'm happy with F1, but ..."
    asked_text = re.split(r"\bbut\b", without_hedge(normalised))[-1]
    asked = dict.fromkeys(m.upper() for m in re.findall(r"\b[fwv]\d{1,3}\b", asked_text))
    have = ", ".join(f.id for f in found) or "none"
    if (
        (t.intent == "presence" or (t.intent == "confidence" and context.FALSE_ALARM.search(t.q)))
        and t.outside is None
        and set(asked) <= set(missing)
        and yes_no_question(question)
    ):
        # "Is F1 a glitch?" with no F1: yes, but say why, not as if F1 were a glitch
        lead = "No"
        if yes_means_normal(question):
            lead = "Yes, no such finding" if found else "Yes, nothing is there"
        return (
            f"{lead}: there is no {' or '.join(missing)} on this scan (the detector's "
            f"findings: {have})."
            + (
                f" Ask about {have} by name for {'its' if len(found) == 1 else 'their'} details."
                if found
                else " " + upper_first(findings.presence(t.case).split(": ", 1)[-1])
            )
        )
    return (
        f"There is no {' or '.join(missing)} on this scan (the detector's findings: "
        f"{have}). " + text
    )


def whole_head_of_part(t: Turn, text: str) -> str:
    """ "Can I rule out a haemorrhage anywhere in the head?" of a volume analysed at a few levels:
    not for the whole head ("No" to a rule-out; "I can't tell" to "Is the whole brain normal?"
    and "Anything anywhere?"); what those levels show."""
    if t.intent != "presence" or t.outside is not None or not (part := _part_of_the_head(t.case)):
        return text
    if yes_means_normal(t.question) and text.startswith("No, not normal"):
        return text  # "Is this brain normal?" with a finding: not normal, whatever the rest
    lo, hi = part
    ruling_out = re.search(r"\b(rule[sd]? out|r/o|exclud\w*|excluded)\b", t.q)
    lead = (
        "No, not for the whole head"
        if yes_means_normal(t.question) and ruling_out
        else "I can't tell for the whole head"
    )
    rest = without_lead(text)
    return (
        f"{lead}: only the levels at MNI z {lo:+.0f} to {hi:+.0f} mm of this volume were "
        f"analysed. There: {rest[:1].lower() + rest[1:]}"
    )


def part_of_a_volume(t: Turn, text: str) -> str:
    """About a volume analysed in part: "No, not on the analysed slice: ..."; a sign-off ("Can I
    tell the patient it is normal?") is not supported by part of a volume."""
    if t.intent == "presence" and t.outside is None and t.route != "result_meaning":
        return scope.sign_off_on_part(t.case, text) or scope.on_analysed_part(t.case, text)
    if (
        t.intent == "side"
        and t.outside is None
        and yes_no_question(t.question)
        and re.search(r"\b(any|anything|something|lesions?|abnormalit\w*)\b", t.q)
    ):
        # "Anything in the R hemisphere as well?" of a volume analysed at one slice
        return scope.on_analysed_part(t.case, text)
    return text


def _verb(q: str, act: re.Match) -> str:
    """ "stop" for "Can I stop the hypertonic saline?", else "go ahead"."""
    before = q[: act.start()]
    stopping = r"\b(stop|wean|withdraw|discontinu|reduc|taper)\w*( off)? (the |his |her |their )?$"
    return "stop" if re.search(stopping, before) else "go ahead"


def procedure_asked_permission(t: Turn, text: str) -> str:
    """ "so ok to give tPA?", "safe to do an LP on this pt?", "ok to restart her anticoag
    then?": not a yes or no from this tool, whatever the reading."""
    if not (
        t.intent == "presence"
        and t.outside is None
        and (act := _PROCEDURE.search(t.question))
        and (
            _PERMISSION.search(t.q[: act.start() + 1])
            or _UNSAFE_AFTER.search(t.question[act.end() :].lower())
        )
        and not re.search(r"\b(tell|inform|say|report|let)\b", t.q[: act.start()])
        # "Can we rule out prior surgery?": a past procedure, whether its traces are there
        and not re.search(
            r"\b(prior|previous|past|earlier|old|history of|signs? of|evidence of|any) $",
            t.q[: act.start()],
        )
    ):
        return text
    if findings.named_kind(t.q[: act.start()]) is not None and "?" in t.q[: act.start()]:
        # "is the white spot a bleed? should i stop his aspirin?": the first answered, then the
        # decision
        return text + (
            f" Whether to {_verb(t.q, act)} ({act.group(0)}) is a clinical decision that this research "
            "tool cannot inform."
        )
    return (
        f"Whether to {_verb(t.q, act)} ({act.group(0)}) is a clinical decision that this research "
        "tool cannot inform: it reads one T1-weighted image for deviations from healthy "
        "anatomy; such decisions rest on the clinical assessment and dedicated imaging. "
        "What the detector found: " + lowered(plain_reading(t.case))
    )


def seeing_things(t: Turn, text: str) -> str:
    """ "is that a ring lesion or am i seeing things"."""
    if not (
        t.intent in ("presence", "explanation") and t.outside is None and _SEEING_THINGS.search(t.q)
    ):
        return text
    reading = lowered(plain_reading(t.case))
    if not t.found:
        return "No, the detector found nothing there: " + reading
    text = "Yes, you are not seeing things: " + reading
    if re.search(r"\bring\b", t.q):
        text += (
            " Whether it is a ring lesion I can't tell: the detector reports where and "
            "how a region deviates, not its shape or what it is."
        )
    return text


def _hedged_yes(what: str, why: str, rest: str) -> str:
    """The named-kind convention for a "yes" the detector cannot stand behind in full: "A region
    deviates from healthy anatomy, yes, but I can't tell {what}: {why}. " then the rest of the
    answer (the yes stays in the first clause; what was asked is not affirmed)."""
    return f"A region deviates from healthy anatomy, yes, but I can't tell {what}: {why}. " + rest


def anything_acute(t: Turn, text: str) -> str:
    """ "78F fall, on apixaban. anything acute?": something deviates; its age, the detector
    cannot tell; with nothing found, that does not exclude an acute lesion."""
    if (
        t.intent == "presence"
        and t.outside is None
        and not t.found
        and _ACUTE_ASK.search(t.q)
        and text.startswith(("No", *_NORMAL_LEADS))
    ):
        text += (
            " The detector cannot tell how old a lesion is, and an acute infarct is often "
            "invisible on a T1-weighted scan in its first hours, so this reading does not exclude "
            "one."
        )
        if not (t.evidence.scan_summary or {}).get("source_shape") and "2D slice" not in text:
            text += " And this is one 2D slice: the rest of the head was not seen."
        return text
    if (
        t.intent == "presence"
        and t.outside is None
        and t.found
        and _ACUTE_ASK.search(t.q)
        and text.startswith(("Yes. ", "Yes, but only a low-confidence region"))
    ):
        return _hedged_yes(
            "whether it is acute",
            "the detector does not tell how old a lesion is",
            re.sub(r"^Yes(, but only a low-confidence region[^.]*)?\. ", "", text),
        )
    return text


def explains_the_symptoms(t: Turn, text: str) -> str:
    """ "new right sided weakness, anything on the scan that explains it?": something deviates;
    whether it explains the symptoms the detector cannot tell."""
    if (
        t.intent == "presence"
        and t.outside is None
        and not t.found
        and _EXPLAINS_SYMPTOMS.search(t.q)
        and text.startswith((*_NORMAL_LEADS, "No"))
        and "does not mean nothing explains" not in text
    ):
        # "so nothing there to explain his symptoms?": nothing found here is not nothing there
        return text + (
            " Nothing found on this reading does not mean nothing explains the symptoms: it "
            "compares one T1-weighted scan (and only the analysed part of it) with healthy scans; "
            "many causes show only on other sequences or are too small for the detector."
        )
    if (
        t.intent == "presence"
        and t.outside is None
        and t.found
        and _EXPLAINS_SYMPTOMS.search(t.q)
        and text.startswith("Yes. ")
    ):
        return _hedged_yes(
            "whether it explains the symptoms",
            "the detector reports deviations from healthy scans, not their clinical "
            "significance, and one slice does not show the whole pathway",
            text.removeprefix("Yes. "),
        )
    return text


def how_serious(t: Turn, text: str) -> str:
    """ "the patient wants to know if it's serious", "should I worry?": something deviates; how
    serious it is the detector cannot tell (not a bare "Yes")."""
    if (
        t.intent == "presence"
        and t.outside is None
        and t.found
        and _SERIOUS.search(t.q)
        and text.startswith("Yes. ")
    ):
        return _hedged_yes(
            "how serious it is",
            "the detector does not tell what a region is or how it will behave; that needs a "
            "clinician's assessment of the full study",
            text.removeprefix("Yes. "),
        )
    return text


def lesion_which_side(t: Turn, text: str) -> str:
    """ "lesion? which side", "Is there an abnormality, and on which side?": whether there is
    one, then its side."""
    if (
        t.intent == "side"
        and t.outside is None
        and t.found
        and (
            re.match(
                r"^\W*(any )?(lesions?|abnormality|anything|something|mass|findings?|"
                r"tumou?rs?)\s*\?",
                t.q,
            )
            or _PRESENCE_AND_SIDE.match(t.q)
        )
    ):
        plain = "is there a lesion?"
        there = findings.presence(replace(t.case, question=plain, q=plain)).strip()
        return there + " " + text
    return text


def make_it_analysable(t: Turn, text: str) -> str:
    """ "what do I need to do to make it analysable": why not, and what it accepts."""
    if (
        t.outside is not None
        and not t.evidence.unreliable
        and _MAKE_ANALYSABLE.search(t.q)
        and (text.startswith("I can't tell. ") or t.intent in ("unknown", "out_of_scope"))
    ):
        if not text.startswith("I can't tell. "):  # "how do I make it analysable?" unplaced
            text = domain.not_applicable(t.case, t.outside)
        return (
            "It can't be analysed as it is. "
            + text.removeprefix("I can't tell. ")
            + " What you can do: upload the images as acquired (the original DICOM series or a "
            "NIfTI volume of the T1-weighted scan, skull on), or go by the formal radiology "
            "report, which this tool cannot replace."
        )
    return text


def craniocaudal_of_one_slice(t: Turn, text: str) -> str:
    """ "extent in the craniocaudal direction?" with one slice analysed: not measurable."""
    if (
        t.intent == "size"
        and t.outside is None
        and t.found
        and _CRANIOCAUDAL.search(t.q)
        and not t.case.volume_findings()
    ):
        return (
            "The craniocaudal extent can't be measured here: it needs the region on several "
            "analysed slices, and only one slice was analysed. In plane: " + lowered(text)
        )
    return text


def flagged_when_analysed_anyway(t: Turn, text: str) -> str:
    """ "anything flagged?" of a scan analysed anyway: what it flagged, and that it is not
    evidence either way."""
    if (
        t.intent == "presence"
        and t.outside is not None
        and t.evidence.unreliable
        and t.found
        and re.search(r"\b(flag\w*|highlight\w*|mark\w*|pick\w* up|detect\w*)\b", t.q)
        and "I can't tell" in text
    ):
        n = count_word(len(t.found), "region")
        return domain.unreliable_prefix(t.outside) + (
            f"It flagged {n}, but on a scan outside its domain what the detector flags is not "
            "evidence either way: " + lowered(plain_reading(t.case))
        )
    return text


def hemisphere_of_one_slice(t: Turn, text: str) -> str:
    """ "is the left hemisphere clear of abnormality" of one 2D image, or of a volume analysed at
    one slice or a few levels: only that part of it was seen."""
    if not (
        t.intent == "side"
        and t.outside is None
        and yes_means_normal(t.question)
        and text.startswith("Yes")
    ):
        return text
    if not (t.evidence.scan_summary or {}).get("source_shape"):
        return text + " This is one 2D slice: the rest of that hemisphere was not seen."
    part = t.case.scope()
    if t.case.whole_brain() or not part or part.strip() in text:
        return text
    return text + part


def acute_treatment(t: Turn, text: str) -> str:
    """ "acute stroke on this? thrombolyse?": the reading, then that the decision is not this
    tool's; "Is this a stroke, should we thrombolyse?": the decision first."""
    if (
        t.intent in ("out_of_scope", "report")
        or not _ACUTE_DECISION.search(t.q)
        or "clinical decision" in text
    ):
        return text
    decision = (
        "Whether to give or withhold an acute treatment (thrombolysis, thrombectomy, "
        "anticoagulation or its reversal) is a clinical decision that this research tool cannot "
        "inform"
    )
    if t.intent == "presence":
        return text + f" {decision}."
    return (
        f"{decision}: it reads one T1-weighted image for deviations from healthy "
        "anatomy and cannot tell whether a region is blood; such decisions rest on the clinical "
        "assessment and dedicated imaging. " + text
    )


def confidence_in_a_kind(t: Turn, text: str) -> str:
    """ "Would you bet this is a tumour?": the confidence is that a region is a true lesion, not
    that it is the kind named."""
    if (
        t.intent == "confidence"
        and t.found
        and (kind := findings.named_kind(t.q)) is not None
        and "I can't tell whether" not in text
    ):
        return (
            f"I can't tell whether it is {findings.a_kind(kind.group(0))}: the detector does "
            "not tell kinds of lesion apart, and its confidence is the probability that a "
            "region is a true lesion at all, not that it is the kind named. " + text
        )
    return text


def t2_finding(t: Turn, text: str) -> str:
    """ "Any white matter hyperintensities?" of a T1: they are a T2/FLAIR finding, so a bare
    "Yes" is hedged like a named kind, and a "No" does not exclude them."""
    if not (
        t.intent == "presence"
        and _T2_FINDING.search(t.q)
        and "T2-weighted and FLAIR" not in text
        and "does not apply" not in text
    ):
        return text
    if text.startswith("Yes. "):
        text = _hedged_yes(
            "whether it would be a hyperintensity on T2-weighted or FLAIR images",
            "this is a T1-weighted image",
            text.removeprefix("Yes. "),
        )
    return text + (
        " White matter hyperintensities are defined on T2-weighted and FLAIR images; on "
        "a T1-weighted image many are not visible at all, and small ones fall below this "
        "detector's sensitivity, so its reading does not exclude them."
    )


def whole_study_of_one_slice(t: Turn, text: str) -> str:
    """ "ok so normal study then?", "Can I report this as a normal brain MRI?" of one 2D image:
    the study's other slices were never seen; "can i just tell them the scan is fine": not a
    go-ahead."""
    if not (
        t.intent == "presence"
        and t.outside is None
        and text.startswith(_NORMAL_LEADS)
        and not (t.evidence.scan_summary or {}).get("source_shape")
        and (_WHOLE_STUDY.search(t.q) or scope.signs_off(t.case))
    ):
        return text
    if _TELLS_OR_SIGNS_OFF.search(t.q):
        closed = text.startswith("Yes")
        text = (
            "Nothing was found, yes, but not on this reading alone"
            if closed
            else "Nothing was found, but that is not enough on its own to tell the patient "
            "the scan is normal"
        ) + _without_normal_lead(text)
        text += (
            " Telling the patient, or signing the study off, is a clinical decision that "
            "this reading can inform but not make."
        )
    return text + (
        " This is one 2D slice: the rest of the study was not seen, so this reading cannot "
        "support calling the whole study normal."
    )


def bone_not_read(t: Turn, text: str) -> str:
    """ "any bleed or fracture?": the bleed answered, and that bone is not read."""
    if t.intent == "presence" and t.route != "bone" and FRACTURE.search(t.q):
        return text + BONE_NOT_READ
    return text


def symptom_side(t: Turn, text: str) -> str:
    """ "Could this lesion explain a right-sided hemiparesis?": whether the side fits (motor and
    sensory pathways cross), where the patient's side of the region is known."""
    m = _SIDED_SYMPTOM.search(t.q)
    if (
        m is None
        or not t.found
        or t.outside is not None
        or t.intent
        not in (
            "explanation",
            "presence",
            "side",
        )
    ):
        return text
    symptom = m.group("a") or m.group("b")
    f = t.found[0].data
    if f.get("side_frame") != "patient" or f.get("side") not in ("left", "right"):
        return text + (
            " Whether its side fits can't be told: the file does not record the patient's "
            "orientation, so the region's side in the patient is unknown."
        )
    fits = f["side"] != symptom
    return text + (
        f" The side {'fits' if fits else 'does not fit the usual pattern'}: {t.found[0].id} lies "
        f"in the patient's {f['side']} hemisphere, and the motor and sensory pathways cross, so "
        f"{symptom}-sided weakness or numbness usually comes from the "
        f"{'left' if symptom == 'right' else 'right'} hemisphere; whether this region is the "
        "cause cannot be told from this reading."
    )


def treatment_decision(t: Turn, text: str) -> str:
    """ "Is the lesion burden enough to escalate to a high-efficacy DMT?": no treatment decision
    rests on this reading (said first), then what it found."""
    if (
        not _DMT.search(t.q)
        or "clinical decision" in text
        or (t.outside is not None and not t.evidence.unreliable)
    ):
        return text
    decision = (
        "Whether to start, change or escalate a treatment is a clinical decision that this "
        "research tool cannot inform: it reads one T1-weighted scan for deviations from healthy "
        "anatomy, and does not measure lesion load or activity. "
    )
    if t.intent == "presence":  # its yes/no stays first
        return text + " " + decision.strip()
    warning = domain.unreliable_prefix(t.outside) if t.outside is not None else ""
    if warning and text.startswith(warning):  # the warning stays first
        return warning + decision + text.removeprefix(warning)
    return decision + text


def in_3d_of_one_slice(t: Turn, text: str) -> str:
    """ "Where is the lesion in 3D?" of a volume analysed at one slice: where on that slice, and
    that its extent through the others is unknown."""
    if (
        t.intent in ("location", "side", "size")
        and t.found
        and t.outside is None
        and _IN_3D.search(t.q)
        and not t.case.volume_findings()
        and (t.evidence.scan_summary or {}).get("source_shape")
    ):
        scope = analysed_scope(t.evidence.scan_summary)
        return (
            text + " In 3D: only the analysed slice shows it, so how far it extends through the "
            "other slices of the volume is unknown. " + scope
        ).strip()
    if (
        t.intent in ("location", "size")
        and t.found
        and t.outside is None
        and _IN_3D.search(t.q)
        and not (t.evidence.scan_summary or {}).get("source_shape")
    ):
        # "Dimensions in 3 planes please." of a 2D image
        return text + (
            " The third dimension (across slices) can't be measured: this is a single 2D image."
        )
    return text


def how_sides_are_known(t: Turn, text: str) -> str:
    """ "which side is it on, and how do you know left from right?": the side, then where the
    orientation comes from."""
    if t.intent != "side" or not _HOW_KNOWN.search(t.q):
        return text
    ask = "which way is the patient's left?"
    return text + " " + context.modality(replace(t.case, question=ask, q=ask))


def not_definitely(t: Turn, text: str) -> str:
    """ "Is my patient definitely fine?", "100% normal?": as far as the detector can tell, but
    not definitely, whatever was found."""
    if t.intent != "presence" or not _DEFINITELY.search(t.q):
        return text
    lead = re.match(r"Yes\b[^:.]*", text)
    if lead is not None and ":" in text[: lead.end() + 1]:
        return text[: lead.end()] + ", but not definitely" + text[lead.end() :]
    if text.startswith(_NORMAL_LEADS):
        rest = _without_normal_lead(text)
        return "Yes, as far as this detector can tell, but not definitely: " + lowered(
            rest.lstrip(":. ")
        )
    return text


def normal_for_age(t: Turn, text: str) -> str:
    """ "Is his brain normal for a 40 year old?", "is this what a healthy older brain looks
    like?", "my 91 year old patient ... does it look normal?": the detector has no norms by
    age."""
    if t.intent != "presence" or t.outside is not None:
        return text
    old = _OLD.search(t.q) and yes_no_question(t.question) and yes_means_normal(t.question)
    if not (_FOR_AGE.search(t.q) or old):
        return text
    if any(rx.search(t.q) or rx.search(t.case.said_before) for rx in (_CHILD, _INFANT)):
        return text  # `child_scan` says why the detector's reading needs caution
    why = (
        "the detector compares the scan with healthy adults of many ages (the IXI dataset, "
        "about 20 to 86 years), not with norms for the patient's age, so it cannot say whether "
        "something (such as atrophy or small-vessel change) is normal for age"
    )
    if re.match(r"Yes\b", text):
        # "Is it normal for an 84 year old?": not a plain "Yes" followed by "it cannot say"
        one = "" if (t.evidence.scan_summary or {}).get("source_shape") else " of this one slice"
        return (
            f"Nothing was found, yes, but not as normal for age: {why}. What it found{one}: "
            f"{lowered(without_lead(text, 60))}"
        )
    return text + f" {upper_first(why)}."


# a young child's scan: "a 10-month-old", "an infant", "a 2 year old" (up to 2 years: the brain
# is still myelinating); an older child's: "this child's MRI", "a 7-year-old", "12F" (up to 15:
# a 17-year-old's brain is close to the youngest training adults')
_INFANT = re.compile(
    r"\b(infants?|baby|babies|toddlers?|neonat\w*|newborns?|preterm|premature)\b|"
    r"(?<!ty )(?<!ty-)\b(\d{1,2}|one|two|three|six|nine|eighteen)[- ](month|week|day)s?[- ]old\b|"
    r"(?<!ty )(?<!ty-)\b([0-2]|one|two)[- ]?(year|yr|y)s?[- ]?(old|o)\b|\b[0-2] ?(yo|y/o|y\.o\.)(?!\w)|"
    r"\b[0-2](m|f)\b(?! ?(mm|cm))|\b(is|aged) (\d{1,2}|one|two|three|six|nine|eighteen) (months?|weeks?|"
    r"days?)( old)?\b(?! ?(pregnant|gestation\w*|along|into|post\w*|after|ago|of (pregnancy|"
    r"gestation)))"
)
# an adult named: not a child's scan, whatever else the message says about children
_ADULT = re.compile(
    r"\b([2-9]\d|1[6-9])[- ]?(year|yr|y)s?[- ]?(old|o)\b|\b([2-9]\d|1[6-9]) ?(yo|y/o)\b|"
    r"\b(aged|is|was|age) ([2-9]\d|1[6-9])\b(?!\s*(mm|cm|%|months?|weeks?|days?|slices?))|"
    r"\b([2-9]\d)(m|f)\b|\b(elderly|older (man|woman|lady|adult|patient)|grand(mother|father|ma|pa|"
    r"children|kids|son|daughter)|retired|pensioner|widow\w*|dementia|menopaus\w*)\b|"
    r"\b(her|his) (mother|father|husband|wife)\b|\b(my|the patient'?s) (mother|father|husband|"
    r"wife)\b"
)
_CHILD = re.compile(
    r"\b(child|child's|(?<!of )(?<!her )(?<!his )(?<!their )(?<!my )(?<!see )(?<!sees )(?<!saw )"
    r"(?<!seeing )children|kid|kids|paediatric|pediatric|paeds|peds|schoolboy|schoolgirl)\b|"
    r"\b([3-9]|1[0-5])[- ]?(year|yr|y)s?[- ]?(old|o)\b|\b([3-9]|1[0-5]) ?(yo|y/o|y\.o\.)(?!\w)|"
    r"\b([3-9]|1[0-5])(m|f)\b(?! ?(mm|cm))|"
    # "my patient is 12", "she is 7", "aged 9"
    r"\b(patient|she|he|child|boy|girl|son|daughter|who) (is|was) ([3-9]|1[0-5])\b(?!\s*(mm|cm|%|"
    r"months?|weeks?|days?|slices?|px|pixels?))|\baged ([3-9]|1[0-5])\b(?!\s*(months?|weeks?|days?))"
)
ADULTS_ONLY = (
    "the detector learned normal anatomy from adults only (the IXI scans, about 20 to 86 years)"
)
_CANT_TELL = "I can't tell: "
INFANT_NOTE = (
    f"{_CANT_TELL}{ADULTS_ONLY}, and a young child's brain is still myelinating, so its grey "
    "and white matter look different on T1 from an adult's; the detector's reading of it, normal "
    "or abnormal, is not reliable."
)
CHILD_NOTE = (
    f"This is a child's scan: {ADULTS_ONLY}, and a child's brain differs from an adult's in size "
    "and proportions, so treat this reading with extra caution."
)


_A_REGION = re.compile(
    r"\b[fwv]\d+\b|\b(spot|area|region|blob|lesion|finding|highlight|hot ?spot|ring|patch|focus)\b"
)


_OUTSIDE_ANALYSED = re.compile(
    r"\b(outside|beyond|apart from|other than|except( for)?) (the |that |this )?(slab|slices?|levels?|"
    r"part|bit|section|region|area|range)s? (that |which )?((you|u|it|the (detector|model|tool)) )?"
    r"(analy[sz]ed|looked at|checked|covered|read|saw)\b|"
    r"\b(on|in|at) (the )?(other|remaining|rest of the) (slices|levels|sections)\b|"
    r"\b(slices|levels) (you|u|it) (did not|didn't|have not|haven't|never) (analy[sz]e|look at|"
    r"check|read)\b"
)


def no_sentence_twice(t: Turn, text: str) -> str:
    """Two steps that each add the same scope or decision sentence ("Of this volume's 120 axial
    slices, ...", "Whether to give or withhold an acute treatment ... cannot inform"): a
    sentence said once already (its first 60 characters) is not said again."""
    seen: set[str] = set()
    paragraphs = []
    for paragraph in text.split("\n"):
        kept = []
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph):
            key = sentence[:60]
            if len(sentence) >= 40 and key in seen:
                continue
            seen.add(key)
            kept.append(sentence)
        paragraphs.append(" ".join(kept))
    return "\n".join(paragraphs)


_LOOKED_AT = re.compile(
    r"\b(were|was|are|is|did|have|has) (they|it|the \w+( \w+)?|you|those|these) (\w+ )?(look(ed)? at|"
    r"analy[sz](ed|e)|cover(ed)?|include[d]?|check(ed)?|examin(ed|e)|assess(ed)?|seen|"
    r"included)\b"
)
_LOBE = re.compile(r"\b(frontal|parietal|occipital|temporal)( lobes?)?\b|\blobes?\b")


def was_a_lobe_looked_at(t: Turn, text: str) -> str:
    """ "and the occipital lobes, were they looked at?": in part; the analysed slice (or levels)
    cut through part of each lobe, and the detector does not identify lobes."""
    if t.outside is not None or not (_LOOKED_AT.search(t.q) and _LOBE.search(t.q)):
        return text
    if ((t.evidence.scan_summary or {}).get("volume_analysis") or {}).get("level_aware"):
        return text  # every brain level was analysed
    if text.startswith("I can't tell: the") and "not on" in text[:80]:
        return text  # a place off the analysed levels, said already
    scope = (
        analysed_scope(t.evidence.scan_summary) or "The whole of this one 2D slice was analysed."
    )
    return (
        "In part: a slice at the level of the lateral ventricles cuts through part of each lobe, "
        "and the detector does not identify lobes, so it cannot say how much of them it saw. "
        f"{scope} What it found there: {lowered(plain_reading(t.case))}"
    )


_VOLUME_LOSS = re.compile(
    r"\b((brain|cerebral|parenchymal|global) )?volume loss\b|\batroph\w*|\bshrunk\w*|\bshrink\w*|"
    r"\bshrivel\w*"
)


def volume_loss(t: Turn, text: str) -> str:
    """ "Can you tell me anything about brain volume loss?" (after a history naming MS): not an
    answer about the kind of lesion; the detector does not measure volume or atrophy."""
    if t.intent not in ("presence", "explanation") or not _VOLUME_LOSS.search(t.q):
        return text
    if text.startswith("I can't"):
        return text  # "is her brain shrinking?": a change, which needs a prior, said already
    return (
        "I can't tell: the detector does not measure brain volume or atrophy (that needs "
        "volumetry, or a radiologist comparing the whole study with norms for age); it reports "
        f"regions that deviate from healthy scans. What it found: {lowered(plain_reading(t.case))}"
    )


_VESSEL = re.compile(
    r"\b(basilar|vertebral arter\w*|vertebrals?|carotids?|(mca|aca|pca|pica|aica)( territory)?|"
    r"venous sinus\w*|sinus thrombos\w*|occlu\w*|posterior circulation|anterior circulation|"
    r"circle of willis|dissection|(which|what) (vascular )?territory|watershed)\b"
)


def vessels(t: Turn, text: str) -> str:
    """ "basilar occlusion?", "R MCA?", "carotid dissection?": the detector does not see vessels
    or vascular territories; not a "No" or a bare side."""
    if t.intent not in ("presence", "location", "side", "explanation", "unknown"):
        return text
    if t.outside is not None or not _VESSEL.search(t.q) or "I can't tell" in text:
        return text
    if re.search(
        r"\b[fwv]\d+\b|\b(just|only|merely|simply|real|artefact\w*|artifact\w*|noise|"
        r"normal structure|mimic\w*|small[- ]vessels?)\b",
        t.q,
    ):
        return text  # "Is F1 just a vessel?": whether a finding is real, answered from it
    if re.search(
        r"\b(infarct\w*|strokes?|bleed\w*|ha?emorrhag\w*|lesions?|ischa?emi\w*|abnormal\w*|"
        r"anything)\b",
        t.q,
    ):
        return text  # "Is there a PCA infarct?": the reading of the lesion asked, as it stands
    return (
        "I can't tell: the detector does not assess vessels or vascular territories (an "
        "occlusion, a dissection or a thrombosis needs CT or MR angiography or venography). What "
        f"it found: {lowered(plain_reading(t.case))}"
    )


def early_ischaemia(t: Turn, text: str) -> str:
    """ "any early ischaemic change? what's the ASPECTS?": not a plain "No" before a
    thrombolysis decision; early ischaemia shows on DWI, and ASPECTS is a CT score."""
    if t.intent != "presence" or t.outside is not None:
        return text
    if not re.search(
        r"\b(early ischa?emi\w*|aspects|hyperacute (stroke|infarct\w*|ischa?emi\w*))", t.q
    ):
        return text
    return (
        "I can't tell: early ischaemic change mostly shows on diffusion-weighted imaging (or as "
        "subtle signs on CT), not on T1, and ASPECTS is a CT score this detector does not "
        f"compute. What it found: {lowered(plain_reading(t.case))}"
    )


def claim_names_a_kind(t: Turn, text: str) -> str:
    """ "draft: 'Focal T1 hyperintense lesion in the left hemisphere, likely subacute
    haemorrhage.' agree?": whatever part of the claim was answered, the kind it names is not
    something the detector can support."""
    claim = normalise(t.question)
    if not claim.endswith(", agree?") or t.outside is not None or "cannot be determined" in text:
        return text
    kind = findings.named_kind(claim)
    if kind is None:
        return text
    return text + (
        f" As for {findings.a_kind(kind.group(0))}: that cannot be determined by this detector, "
        "which measures deviation from healthy anatomy, not what the deviation is."
    )


def outside_the_analysed_part(t: Turn, text: str) -> str:
    """ "any lesion outside the slab u analysed?": of a volume analysed in part, the detector
    says nothing there ("I can't tell", and what was analysed); of a 2D image, there are no
    other slices."""
    if t.intent not in ("presence", "location", "count") or not _OUTSIDE_ANALYSED.search(t.q):
        return text
    if text.startswith("I can't tell"):
        return text  # said already ("I can't tell: the detector did not analyse the other slices")
    summary = t.evidence.scan_summary or {}
    if not scope.partial(summary):
        if not summary.get("source_shape"):
            return (
                "There are no other slices: this is a single 2D image, and the detector "
                f"analysed all of it. On it: {lowered(plain_reading(t.case))}"
            )
        return text
    return (
        "I can't tell: the detector says nothing about the parts of the volume it did not "
        f"analyse. {analysed_scope(summary)} What it found there: "
        f"{lowered(plain_reading(t.case))}"
    )


def acquisition_asked_too(t: Turn, text: str) -> str:
    """ "Anything abnormal on her scan, and did she move during it?": the reading, then what the
    detector can say of motion and other acquisition artefacts (nothing: it does not check them);
    not when the artefact is asked of a region ("could the bright spot be a motion artefact?")."""
    clauses = re.split(r"[?.!;]|,\s*(?:and|also|plus)\b|\balso\b", normalise(t.question))
    asked = any(IMAGE_ARTEFACT.search(c) and not _A_REGION.search(c) for c in clauses)
    if t.intent != "presence" or not asked or "acquisition artefacts" in text:
        return text
    return (
        f"{text} As for motion and other acquisition artefacts: the detector does not check the "
        "image for them; look at the images themselves."
    )


def child_scan(t: Turn, text: str) -> str:
    """ "10-month-old, is this normal?": the detector knows adult brains only, and a young
    child's T1 contrast differs: "I can't tell", with what it computed after. An older child's
    ("9-year-old, anything abnormal?"): the answer, then the caution."""
    if t.intent in ("out_of_scope", "unknown", "modality") or INFANT_NOTE in text:
        return text
    said = t.case.said_before
    if _ADULT.search(t.q) or _ADULT.search(said):
        return text  # "hallucinations of children in the garden" of an 80-year-old
    if _INFANT.search(t.q) or (_INFANT.search(said) and not _CHILD.search(t.q)):
        # (an infant named earlier in the conversation still is the patient)
        if t.intent == "presence":
            return f"{INFANT_NOTE} What it computed: {lowered(without_lead(text))}"
        return f"{text} {upper_first(INFANT_NOTE.removeprefix(_CANT_TELL))}"
    if (_CHILD.search(t.q) or _CHILD.search(said)) and CHILD_NOTE not in text:
        return f"{text} {CHILD_NOTE}"
    return text


# the image called post-contrast: "Is the contrast-enhanced T1 abnormal?", "on this post-gad slice"
_POST_CONTRAST_IMAGE = re.compile(
    r"\b((contrast|gad\w*|gadolinium)[- ]enhanced|post[- ]?(contrast|gad\w*)|with contrast|t1 ?c\b|"
    r"t1 ?\+ ?c|t1[- ]?gad\w*)"
)
POST_CONTRAST_NOTE = (
    "The detector was trained on T1 scans without contrast and was not measured on post-contrast "
    "ones: there, normally enhancing structures (vessels, dura, choroid plexus) can deviate from "
    "its training scans as well as a lesion can."
)


def post_contrast_image(t: Turn, text: str) -> str:
    """ "Is the contrast-enhanced T1 abnormal?": the reading, and that the detector learned
    non-contrast T1 scans only."""
    if t.intent not in ("presence", "location", "count", "confidence") or t.outside is not None:
        return text
    if not _POST_CONTRAST_IMAGE.search(t.question.lower()) or "without contrast" in text:
        return text
    return f"{text} {POST_CONTRAST_NOTE}"


def sign_off_of_a_whole_volume(t: Turn, text: str) -> str:
    """ "can I tell the patient her MRI is normal", "ok to discharge then", "so can i report it
    as a normal study" of a volume analysed at every brain level, nothing found: the reading,
    not a go-ahead (one T1-weighted volume, not the study)."""
    if not (
        t.intent == "presence"
        and t.outside is None
        and t.case.whole_brain()
        and text.startswith(_NORMAL_LEADS)
        and (
            _TELLS_OR_SIGNS_OFF.search(t.q)
            or scope.signs_off(t.case)
            or asks_for_a_clinical_act(t.question)
            or _WHOLE_STUDY.search(t.q)
        )
    ):
        return text
    return (
        "Nothing was found at any analysed level, yes, but not on this reading alone"
        + _without_normal_lead(text)
        + " Telling the patient, reporting the study as normal or discharging is a clinical "
        "decision that this reading can inform but not make: it compares one T1-weighted volume "
        "with healthy scans, not the study's other sequences, and small lesions are mostly missed."
    )


def side_and_display_convention(t: Turn, text: str) -> str:
    """ "right or left - radiological or neurological convention?": the side, then how the image
    is shown."""
    if (
        t.intent == "side"
        and t.outside is None
        and re.search(r"\b(convention|radiological|neurological)\b", t.q)
        and (frame := context.acquisition_detail(t.case))
        and frame not in text
    ):
        return text + " " + frame
    return text


def display_convention_and_side(t: Turn, text: str) -> str:
    """ "which side is the lesion, and is the image in radiological convention?": both (the side
    answer of an image without orientation already says both conventions)."""
    if (
        t.intent == "modality"
        and t.outside is None
        and t.found
        and re.search(r"\b(convention|radiological|neurological)\b", t.q)
        and re.search(r"\b(which|what) side\b.{0,30}\b(lesion|finding|abnormality|it|f\d)\b", t.q)
    ):
        sided = ANSWERS["side"](t.case).strip()
        return sided if "convention" in sided else sided + " " + text
    return text


def structure_normal(t: Turn, text: str) -> str:
    """ "is the thalamus normal?" with a region on the slice: not clearly, and whether the region
    is in the thalamus the detector cannot tell."""
    if (
        t.intent == "presence"
        and t.outside is None
        and t.found
        and (structure := _STRUCTURE.search(t.q))
        and yes_means_normal(t.question)
        and text.startswith("No, not normal")
        and not any(v.data.get("regions") for v in t.case.volume_findings())
    ):
        return (
            "No, not clearly: a region deviates from healthy anatomy on this slice, but I "
            f"can't tell whether it involves the {structure.group(0)}: the detector does not "
            "identify anatomical structures on a slice. " + without_lead(text, 60)
        )
    return text


def small_ones_missed(t: Turn, text: str) -> str:
    """ "Any lesions at all, even tiny ones?": a "No" here does not exclude small ones."""
    if (
        t.intent == "presence"
        and t.outside is None
        and text.startswith(("No", "Nothing was found", "Nothing clear was found"))
        and re.search(r"\b(tiny|small|subtle|little|minute|few mm|\d+ ?mm)\b", t.q)
        and "Small lesions are mostly missed" not in text
    ):
        return text + (
            " Small lesions are mostly missed by this detector (it found a third of small "
            "synthetic lesions on validation slices), so this does not exclude them."
        )
    return text


_DOCUMENTING = re.compile(DOCUMENTING)
_EXTENT_OF_RESECTION = re.compile(
    r"\b(complete|gross[- ]total|total|subtotal|sub-total|near[- ]total|partial|incomplete|full) "
    r"resection\b|\bextent of (the )?resection\b|\bresidual (tumou?r|disease|enhancement|mass)\b|"
    r"\b(tumou?r|disease) (left behind|left over|remaining)\b|\bgtr\b|\bstr\b"
)
_RECURRENCE = re.compile(r"\b(recurren(ce|t)\w*|regrowth|re-?growth|progressi(on|ve disease))\b")
_AFTER_SURGERY = re.compile(
    r"\b(gtr|str|resect\w*|operated|post-?op\w*|after (the )?(surgery|operation|resection|"
    r"debulking)|craniotomy|debulk\w*|surgical cavity|cavity)\b"
)


def written_into_the_notes(t: Turn, text: str) -> str:
    """ "Can I write 'left-sided lesion confirmed by AI' in the op note?", "OK to document 'no
    intracranial lesion' in the notes?": not a yes; the tool's output confirms nothing, and what
    goes into the record is the clinician's, from the images themselves."""
    if t.outside is not None or t.intent not in ("side", "location", "size"):
        return text  # (a presence question keeps its reading: `clinical_act` adds whose it is)
    if not _DOCUMENTING.search(t.q):
        return text
    found = re.sub(r"^(Yes|No)\. ", "", text)
    return (
        "Not as a confirmation: this is a research tool, not a medical device, and its output "
        "can't be cited as confirming anything in a patient's record. What goes into the notes "
        "(and a side before surgery above all) is yours to decide, from the images and the "
        f"clinical findings. What the detector found: {lowered(found)}"
    )
    # (a presence answer's lead, "Yes, as far as this detector can tell:", is dropped above)


def after_surgery(t: Turn, text: str) -> str:
    """ "Can I tell the patient it was a complete resection?", "FU after GTR of a GBM.
    Recurrence?": the extent of a resection and a recurrence are judged on post-contrast and
    FLAIR images against the earlier scans, which this detector has not got; what it found."""
    if t.outside is not None or t.intent in ("out_of_scope", "unknown", "modality", "report"):
        return text
    # (what is asked, not the history: "GTR 8 months ago ... Is this the resection cavity?")
    asked = " ".join(beyond.asked_sentences(t.q)) or t.q
    extent = _EXTENT_OF_RESECTION.search(asked)
    recurrence = _RECURRENCE.search(asked) and _AFTER_SURGERY.search(t.q + " " + t.case.said_before)
    if not (extent or recurrence):
        return text
    what = "whether the tumour has recurred" if recurrence else "whether the resection was complete"
    return (
        f"I can't tell {what}: that is judged on post-contrast T1 and FLAIR images compared with "
        "the pre-operative and earlier post-operative scans, and this detector reads one "
        "non-contrast T1 against healthy scans, with no prior. A resection cavity or "
        "post-operative change itself deviates from healthy anatomy. What it found: "
        f"{lowered(plain_reading(t.case))}"
    )


def clinical_act(t: Turn, text: str) -> str:
    """ "Can I sign this off as normal?": the detector reads one scan; the act is the user's
    (unless an earlier step said so already)."""
    targeting = t.intent in ("location", "side", "next_steps") and re.search(
        r"\b(biopsy|surg\w*)\b", t.q
    )
    if (
        (t.intent == "presence" or targeting)
        and asks_for_a_clinical_act(t.question)
        and "clinical decision that this reading can inform" not in text
    ):
        normality_asked = re.search(
            r"\b(is|are) (the |this |it |her |his |my )?(\w+ ){0,4}(normal|fine|clean|clear|"
            r"unremarkable|ok|okay|within normal limits)\b",
            t.q,
        )
        surgery = re.search(r"\b(surg\w*|operable|resect\w*|biopsy)\b", t.q)
        if surgery:
            # "is there a lesion that could be a surgical target?": not a bare yes
            if text.startswith("Yes. "):
                text = (
                    "A region deviates from healthy anatomy, yes, but whether it could be a "
                    "surgical target this detector cannot tell: "
                    + lowered(text.removeprefix("Yes. "))
                )
            return text + (
                " Whether a lesion is a surgical or biopsy target is for the surgical team (an "
                "epilepsy or neuro-oncology MDT) to decide, with the full imaging and work-up; "
                "this reading of one scan can inform that but not make it."
            )
        if text.startswith("No, not normal. ") and not normality_asked:
            # "can he go home?": not a No to the act; "is the MRI normal?" keeps its answer
            text = "No, this reading does not support it: " + lowered(
                text.removeprefix("No, not normal. ")
            )
        if re.search(r"\bdriv\w*", t.q):
            return text + (
                " Whether he or she may drive is a clinical (and licensing) decision that this "
                "reading of one scan can inform but not make."
            )
        if re.search(r"\bmanagement|treatment plan|plan of care|care plan\b", t.q):
            return text + (
                " How to manage the patient is a clinical decision that this reading of one scan "
                "can inform but not make."
            )
        if _DOCUMENTING.search(t.q):
            # "Can I write 'no haemorrhage' in the notes?": the reading, then whose the record is;
            # "Should I put any of this in my letter?" is not answered "Yes."
            # ("Are there findings? I must write it in the letter." keeps its yes: the record is
            # not what is asked)
            asked = [x for x in beyond.asked_sentences(t.q) if x.strip()]
            documenting_asked = not asked or any(_DOCUMENTING.search(x) for x in asked)
            # (a quoted claim put up for agreement keeps it: "'Normal MRI brain.' Agree?"; "Can I
            # quote 'left-sided lesion, confidence 0.9' in a report?" does not)
            if (
                text.startswith("Yes. ")
                and not normalise(t.question).endswith(", agree?")
                and documenting_asked
            ):
                text = text.removeprefix("Yes. ")
            return text + (
                " What goes into the notes is a clinical decision that this reading of one scan "
                "can inform but not make: this is a research tool, not a medical device, and its "
                "output can't be cited as confirming anything."
            )
        return text + (
            " Whether to sign off, discharge or reassure is a clinical decision that this "
            "reading of one scan can inform but not make."
        )
    return text


def telling_a_kind(t: Turn, text: str) -> str:
    """ "can I tell the pt it's probably a met", "sign this off as a solitary metastasis": no,
    because the kind is not something the detector tells (the reading's "No, not normal" answered
    a question about normality that was not asked), and telling or signing off is the user's
    decision."""
    if t.intent != "presence" or t.outside is not None or not t.found:
        return text
    if not (_TELLS_OR_SIGNS_OFF.search(t.q) or scope.signs_off(t.case)):
        return text
    m = _NOT_NORMAL_KIND.match(text)
    if m is None:
        return text
    text = (
        f"No, this reading cannot support that: {m.group('who')} from healthy anatomy, but I "
        f"can't tell whether {m.group('it')} {m.group('kind')}: the detector does not tell kinds "
        "of lesion apart. " + text[m.end() :]
    )
    if "clinical decision" not in text:
        text += (
            " Telling the patient, or signing the study off, is a clinical decision that this "
            "reading can inform but not make."
        )
    return text


def atlas_without_a_3d_finding(t: Turn, text: str) -> str:
    """ "which atlas region" with no 3D finding: atlas names belong to 3D findings only; then
    where on the displayed slice."""
    if (
        t.intent in ("location", "side")
        and t.outside is None
        and re.search(r"\batlas\b|\banatomical (region|label|name)s?\b", t.q)
        and not t.case.volume_findings()
    ):
        whole = "no 3D finding was made" if t.case.whole_brain() else "this scan has no 3D finding"
        return (
            f"No atlas region can be named: {whole}, and atlas names are given only for 3D "
            "findings of a volume analysed at several levels (an atlas registered to the volume); "
            "on a slice the detector reports the position in the image. " + text
        )
    return text


def report_of_a_scan_analysed_anyway(t: Turn, text: str) -> str:
    """ "can I put any of this in a report" of a scan analysed anyway: no, not as findings; the
    draft follows, as what the tool would write."""
    if (
        t.intent == "report"
        and t.outside is not None
        and t.evidence.unreliable
        and re.search(
            r"\b(can|could|should|may) (i|we) (put|include|use|write|report|quote)\b", t.q
        )
    ):
        return (
            f"No, not as findings: this scan is outside the detector's domain {cite(t.outside.id)} "
            "and was analysed anyway, so nothing it flagged is evidence about the scan; if it is "
            "recorded at all, it is as an unreliable research output. The draft it would write: "
            + text
        )
    return text


def map_completely_cold(t: Turn, text: str) -> str:
    """ "heatmap completely cold?" with weaker regions: mostly, but not completely (it answered
    "Yes, probably" and then described a region on the map)."""
    if (
        t.intent == "presence"
        and t.outside is None
        and t.weak
        and not t.found
        and re.search(r"\b(heat ?map|map|overlay)\b", t.q)
        and re.search(
            r"\b(completely|totally|entirely|all|fully) (cold|clean|blank|quiet|empty|clear)", t.q
        )
        and text.startswith("Yes, probably")
    ):
        return (
            "Mostly, yes: no region reached the detector's thresholds for a finding, but the map "
            "is not completely cold" + text.removeprefix("Yes, probably")
        )
    return text


def unreliable_warning(t: Turn, text: str) -> str:
    """Of a scan analysed anyway, an answer that cites its findings opens with the warning
    ("corpus callosum involved?" answered by the unassessed-structure answer had lost it)."""
    if (
        t.outside is not None
        and t.evidence.unreliable
        and re.search(r"\[[FWV]\d+\]", text)
        and "outside the detector's domain" not in text
    ):
        return domain.unreliable_prefix(t.outside) + text
    return text


AFTERWARDS: list[Callable[[Turn, str], str]] = [
    explanation_premise,
    cases_of_a_scan_analysed_anyway,
    anything_else,
    weak_regions_counted,
    weak_regions_asked,
    acquisition_of_a_refused_scan,
    volume_of_one_slice,
    count_and_volume,
    ordinal_not_on_this_scan,
    ids_not_on_this_scan,
    whole_head_of_part,
    part_of_a_volume,
    procedure_asked_permission,
    beyond.judgements_no_scan_makes,
    beyond.what_a_negative_leaves_out,
    seeing_things,
    anything_acute,
    explains_the_symptoms,
    beyond.organic_cause,
    how_serious,
    lesion_which_side,
    make_it_analysable,
    craniocaudal_of_one_slice,
    flagged_when_analysed_anyway,
    hemisphere_of_one_slice,
    acute_treatment,
    confidence_in_a_kind,
    t2_finding,
    whole_study_of_one_slice,
    sign_off_of_a_whole_volume,
    not_definitely,
    normal_for_age,
    child_scan,
    acquisition_asked_too,
    outside_the_analysed_part,
    claim_names_a_kind,
    early_ischaemia,
    beyond.not_on_this_image,
    beyond.not_excluded_on_t1,
    beyond.count_of_one_slice,
    beyond.claimed_confidence,
    vessels,
    was_a_lobe_looked_at,
    volume_loss,
    post_contrast_image,
    bone_not_read,
    in_3d_of_one_slice,
    how_sides_are_known,
    symptom_side,
    treatment_decision,
    side_and_display_convention,
    display_convention_and_side,
    structure_normal,
    small_ones_missed,
    after_surgery,
    written_into_the_notes,
    clinical_act,
    telling_a_kind,
    atlas_without_a_3d_finding,
    about_the_tool.another_input,
    about_the_tool.detector_figures,
    about_the_tool.where_region_names_come_from,
    about_the_tool.one_region_or_two,
    report_of_a_scan_analysed_anyway,
    map_completely_cold,
    unreliable_warning,
]


def _missing_ids(question: str, evidence: Evidence, intent: str) -> list[str]:
    """Finding ids the question names ("F2", "W1") that this scan's evidence does not have,
    so that an answer about the other findings says so first."""
    if intent in ("out_of_scope", "unknown", "modality", "report"):
        return []
    named = dict.fromkeys(m.upper() for m in re.findall(r"\b[FfWwVv]\d{1,3}\b", question))
    return [i for i in named if i not in evidence.ids()]


_WHOLE_HEAD = re.compile(
    r"\b(anywhere (in|on) (the|this) (head|brain|scan|volume|study)|(whole|entire|full) "
    r"(head|brain|volume|scan|study)|every (slice|level)|all (the )?(slices|levels)|"
    r"vertex to (the )?(foramen magnum|skull base)|top to bottom|anywhere|overall|globally|"
    # "No acute intracranial abnormality", "no abnormality detected": whole-head phrases of reports
    r"intracranial|(write|say|put|document|report|state|call)\w*\b.{0,20}\bno abnormalit\w* "
    r"(detected|seen|found|identified)|"
    # "so is the MRI normal or not?" of a volume analysed at a few levels
    r"(is )?(the |this |her |his )(mri|scan|study|brain) (normal|ok|okay|fine|clear)|"
    # "anything sinister on her MRI?": the MRI is the whole volume
    r"(on|in) (her|his|their|my|your|the patient'?s) (mri|mr|scan|study|imaging|head scan|brain "
    r"scan))\b"
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


# white matter hyperintensities and small white matter spots: a T2/FLAIR finding
_T2_FINDING = re.compile(
    r"\bwhite matter hyperintens\w*|\bwmhs?\b|\b(flair|t2)[- ](hyperintens\w*|bright\w*|signal|"
    r"lesions?)\b|\b(small|tiny|punctate) (\w+ )?(white matter|wm) (spots?|lesions?|foci|dots?|"
    r"changes?|hyperintens\w*)\b"
)
# structures of a slice the detector does not identify ("is the thalamus normal?")
_STRUCTURE = re.compile(
    r"\b(thalam(us|i)|caudate( nucle(us|i))?|putamen|basal ganglia|internal capsules?|corpus "
    r"callosum|insula|brain ?stem|pons|cerebellum|hippocamp(us|i))\b"
)
_CRANIOCAUDAL = re.compile(
    r"\b(cranio-?caudal\w*|superior[- ]inferior|through[- ]plane|top to bottom|z[- ]extent|vertical "
    r"extent|how many slices (does it|is it|it) (span|cover|extend)\w*)\b"
)
# the whole study called normal: "normal study then?", "report this as a normal brain MRI"
_WHOLE_STUDY = re.compile(
    r"\b(normal|clear|negative|unremarkable) (brain )?(study|mri|scan|exam|examination|head)\b|"
    r"\b(study|mri|scan|exam|head|ct) (is |was |looks? )?(normal|clear|negative|unremarkable|ok|"
    r"okay|fine|alright)\b|"
    # "is my patient definitely fine?", "normal for a 40 year old?"
    r"\b(patient|pt|he|she|they|him|her)( is| are|'s|s)? (definitely |completely |totally |all )?"
    r"(fine|ok|okay|alright|all right|healthy|normal)\b|"
    r"\bnormal for (a|an|his|her|their|the patient'?s?) (\d+[- ]?(year|yr)s?[- ]old|age)\b|"
    r"\breport (this|it) as (a )?normal\b|"
    # "happy for me to report as NAD?", "is the brain ok on this?" (a registrar's whole brain)
    r"\b(nad|no abnormality detected)\b|\breport (this |it )?as (nad|normal|negative|clear)\b|"
    r"\b(is )?(the|this|her|his|their|(my )?(patient|pt)'?s) brain (ok|okay|normal|fine|alright|"
    r"all right|clear)\b"
)
# a clinical act on the reading's strength: telling, reassuring, signing off, discharging (wider
# than `parse.asks_for_a_clinical_act`, which does not count telling the patient)
_DMT = re.compile(
    r"\b(dmts?|disease[- ]modifying|high[- ]efficacy (therapy|treatment|drug|dmt)|escalat\w* "
    r"(to|treatment|therapy)|(start|switch|change|stop) (the |her |his )?(treatment|therapy|"
    r"medication|dmt)|natalizumab|ocrelizumab|alemtuzumab|ofatumumab)\b"
)
_SIDED_SYMPTOM = re.compile(
    r"\b(?P<a>left|right)[- ]sided (hemiparesis|hemiplegia|weakness|numbness|sensory loss|"
    r"symptoms?|deficit|tingling)\b|\b(hemiparesis|hemiplegia|weakness|numbness|tingling) (on|of) "
    r"(the |her |his )?(?P<b>left|right)\b"
)
_IN_3D = re.compile(
    r"\b(in 3-?d|three[- ]dimension\w*|in the volume|through the volume|(in|across) (3|three|all "
    r"three) (planes|axes|directions)|cranio-?caudal\w*)\b"
)
_HOW_KNOWN = re.compile(
    r"\bhow (do|can|did|does) (you|it|the (tool|detector|model)) (know|tell|work out|decide)\b"
)
_DEFINITELY = re.compile(
    r"\b(definitely|for sure|for certain|certainly|guaranteed|without doubt|absolutely)\b|"
    r"\b(100 ?%|hundred per ?cent)"
)
# an older patient named in a question whether the scan is normal
_OLD = re.compile(
    r"\b([6-9]\d|1[01]\d)[- ]?(year|yr|y)s?[- ]?(old|o)\b|\b([6-9]\d)(m|f)\b|\baged ([6-9]\d)\b|"
    r"\b(is|was) ([6-9]\d|10\d)\b(?!\s*(mm|cm|%|months?|weeks?|days?|slices?|px|pixels?))|"
    r"\b(healthy |normal )?(older|elderly|ageing|aging|old) (brain|person|adult|patient|people|"
    r"man|woman|lady)\b"
)
_FOR_AGE = re.compile(
    r"\bfor (a|an|his|her|their|the patient'?s?|my patient'?s?) (\d+[- ]?(year|yr)s?[- ]old|age)\b|"
    r"\bfor (the |this |that )?((patient|child|man|woman|person|subject)'?s? )?age\b|"
    r"\bage[- ](appropriate|related)\b|\bfor (his|her|their) age\b"
)
_TELLS_OR_SIGNS_OFF = re.compile(
    r"\b(tell|inform|reassure|assure|discharg\w*|sign (\w+ ){0,2}off|send (\w+ )?home|"
    r"(go|be sent|leave) home)\b|"
    # "happy for me to report as NAD?", "can I report it as normal"
    r"\breport (this |it )?as (a )?(nad|normal|negative|clear|unremarkable)\b|"
    + scope.PASSING_IT_ON
)
_ELSE_ASK = re.compile(
    r"\b(else|other|another|additional|further)\b.{0,40}\b(apart from|besides|other than|except|"
    r"aside from|in addition to)\b|\b(apart from|besides|other than|except( for)?|aside from|"
    r"in addition to) (the |this |that |f\d)[^?]{0,40}\b(else|other|another|additional)\b|"
    # "can I rule out a lesion elsewhere in the brain"
    r"\b(lesions?|abnormalit\w*|findings?|something|anything) elsewhere\b|"
    # "any other lesion elsewhere on the slice?", "anything else?"
    r"\b(any|are there|is there)( \w+)? (other|further|additional|more) (lesions?|abnormalit\w*|"
    r"findings?|regions?|areas?|spots?|foci)\b|\b(anything|any lesions?|abnormalit\w*) (else|"
    r"elsewhere)\b|"
    # "is there a 2nd lesion anywhere", "anything hot outside the lesion?", "rest of the brain ok?"
    r"\b(is there|are there|any|see) (a |an )?(2nd|second|third|3rd) (lesion|abnormality|finding|"
    r"region|spot|focus)\b|"
    r"\b(outside|apart from|besides|beyond|other than|except( for)?|aside from) (the |this |that )?"
    r"(lesion|finding|abnormality|ring|spot|mass|f\d)\b|"
    r"\b(the )?rest of (the )?(brain|scan|image|slice|parenchyma)\b|"
    # "Is the heatmap hot anywhere apart from the left side?"
    r"\b(apart from|besides|other than|except( for)?|aside from|outside( of)?) the (left|right)"
    r"( side| hemisphere| half)?\b"
)
# "Is there an abnormality, and on which side?": a presence question, then its side
_PRESENCE_AND_SIDE = re.compile(
    r"^\W*(is there|are there|do you see|can you see|any)\s+(an? |any )?(\w+ )?(lesions?|"
    r"abnormalit\w*|anything|something|mass(es)?|findings?|tumou?rs?)\b[^?]{0,15}\b(and|&)\b"
    r"[^?]{0,10}\b(which|what) (side|hemisphere)\b"
)
# the lead of a presence answer read as "is it normal?" with a kind named (`findings.presence`)
_NOT_NORMAL_KIND = re.compile(
    r"^No, not normal: (?P<who>a region deviates|regions deviate) from healthy anatomy, but "
    r"whether (?P<it>it is|any of them is) (?P<kind>.+?) cannot be determined by this detector\. "
)
# the leads of a presence answer that calls the scan normal (`findings.presence`)
_NORMAL_LEADS = (
    "Yes, probably",
    "Yes, as far as this detector can tell",
    "Nothing abnormal was found",
    "No clear abnormality",
)


def _without_normal_lead(text: str) -> str:
    for lead in _NORMAL_LEADS:
        if text.startswith(lead):
            return text.removeprefix(lead)
    return text


_WHOLE_BRAIN_ASKED = re.compile(
    r"\b(in|of) the (whole |entire |rest of the )?(brain|head)\b|\banywhere\b|\bwhole (brain|head)\b|"
    r"\brest of (the |her |his )?(brain|head)\b"
)
_RULE_OUT = re.compile(r"\b(rule[sd]? out|r/o|exclud\w*)\b")
# "and the second one?", "what about the other one": a region by its place in the order only
_ORDINAL_ONLY = re.compile(
    r"^\W*(and |what about |how about |ok |so )?(the )?(?P<nth>second|2nd|third|3rd|fourth|4th|"
    r"other|next)( one| lesion| finding| region| spot| abnormality| area)?\W*$"
)
_ORDINAL_NUMBER = {"second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_ORDINAL_NUMBER |= {"other": 2, "next": 2}
# "anything that explains it?", "a lesion to explain this man's symptoms" (not "explained by a
# tissue boundary")
_EXPLAINS_SYMPTOMS = re.compile(
    r"\b(explains?|explain|account(s)? for|(could|might|would|can) cause)\b (it|this|that|them|"
    r"(an? |the |his |her |their |this man'?s |this woman'?s |the patient'?s |my patient'?s |the "
    r"pt'?s )?([\w-]+ ){0,2}(symptoms?|weakness|numbness|seizures?|fits?|headaches?|presentation|"
    r"deficits?|confusion))\b"
)
# "is it serious?", "should I worry?", "the patient wants to know if it's serious"
_SERIOUS = re.compile(
    r"\b(is (it|this|that) (serious|dangerous|bad|life[- ]threatening)|how (serious|bad|dangerous)|"
    r"should (i|we|she|he|they) (be )?worr(y|ied)|need (i|we|she|he|they) worry|"
    r"(know|asking|asks|wondering) (if|whether) (it'?s|it is|this is) (serious|dangerous|bad)|"
    # "is this going to kill him?", "will she die from this?": how serious, not a "Yes"
    r"(going to|gonna|will|could|can) (it |this |that )?(kill|be fatal|be terminal)|"
    r"(will|is) (he|she|they) (going to )?(die|survive)|fatal|life[- ]threatening)\b"
)
_WEAK_ASK = re.compile(
    r"\b(weak(er)?|borderline|sub-?threshold|below[- ]threshold|faint(er)?|equivocal) "
    r"(or [\w-]+ )?(regions?|areas?|findings?|spots?|ones?|signals?|foci|hits?|anomal\w*)\b"
)
# a procedure or treatment asked permission for ("safe to do an LP", "ok to give tPA")
_PROCEDURE = re.compile(
    r"(?i)\b(lp|lumbar puncture|tpa|alteplase|tenecteplase|thromboly\w*|lyse|thrombectom\w*|"
    r"anticoag\w*|apixaban|rivaroxaban|edoxaban|dabigatran|warfarin|heparin|doac|antiplatelets?|"
    r"aspirin|clopidogrel|biopsy|surgery|craniotomy|operate|ect|electroconvulsive( therapy)?|"
    r"general ana?esthe\w*|ana?esthe\w*|hypertonic saline|mannitol|osmotherapy|sedation|"
    r"extubat\w*|evd|external ventricular drain|decompressi\w*|craniectomy)\b"
)
# said after the procedure: "anything that would make ECT unsafe?", "is an LP contraindicated?"
_UNSAFE_AFTER = re.compile(
    r"^\W*((is|be|would be|be) )?(\w+ )?(unsafe|dangerous|risky|contraindicated|safe|a "
    r"contraindication|a risk)\b"
)
# asked right before the procedure: "safe to do an LP", "ok to restart her anticoag", "can we
# give tPA" (not "rule out a bleed before we thrombolyse", a presence question)
_PERMISSION = re.compile(
    r"\b(safe|ok|okay|alright|fine|go ahead|proceed|stop|prevent|against|contraindicat\w*|"
    r"(can|should|could|may) (i|we))\b( to)?"
    r"( \w+){0,3} \w$"
)
_SEEING_THINGS = re.compile(
    r"\b(am i|i am|i'm|im) (just )?(seeing things|imagining( it| things)?|hallucinating)\b"
)
_ACUTE_ASK = re.compile(
    r"\b(anything|any|something|nothing|is (it|this|that|there)\w*) (\w+ )?acute\b"
)
_MAKE_ANALYSABLE = re.compile(
    r"\b(make|get) (it|this|the (scan|image|file|volume)) (\w+ )?(analy[sz]able|analy[sz]ed|"
    r"accepted|readable|work)\b|\bwhat (do|would|should) (i|we) (need to )?(do|upload|send|change)\b"
)
_ACUTE_DECISION = re.compile(
    r"\b(thromboly\w*|lyse|tpa|alteplase|tenecteplase|thrombectom\w*|anticoagula\w*|"
    # reversing an anticoagulant: "pt on apixaban, do i need to reverse?"
    r"revers(e|al|ing)|andexanet|idarucizumab|praxbind|beriplex|octaplex|pcc)\b"
)
_VOLUME_ASK = re.compile(
    r"\b(?<!the )(?<!this )(volume|ml|millilit\w*|cc|cm3|cm³|mm3|mm³|cubic|in 3-?d|"
    r"three[- ]dimension\w*)\b"
)
