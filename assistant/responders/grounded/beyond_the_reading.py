"""Afterwards steps (`afterwards.AFTERWARDS`) for questions that no reading of this scan by this
detector can answer, however it reads the scan: a molecular marker ("IDH mutant?"), a treatment
effect ("radionecrosis vs recurrence?", "RANO category?"), a sign seen only on other sequences
("leptomeningeal disease?", "T2-FLAIR mismatch?"), whether a person has capacity or a
psychiatric illness, whether "organic causes" are excluded, and a count of lesions in the whole
brain from one 2D slice. Each says why ("I can't tell: ..."), then what the detector found; a
bare "Yes" or "No" there would read as an answer to what was asked."""

from __future__ import annotations

import re

from assistant.responders.grounded.turn import Turn, lowered, plain_reading, without_lead
from assistant.responders.intents import yes_means_normal

# the question sentences of a message ("known EGFR+ NSCLC. Solitary met or multiple?": the
# history names a marker, the question does not)
# (a decimal point does not end a sentence: "confidence 0.9")
_QUESTION = re.compile(r"(?:[^.?!]|\.(?=\d))*\?")


def asked_sentences(q: str) -> list[str]:
    """The question sentences of a message."""
    return [x for x in _QUESTION.findall(q) if x.strip()]


def _asked(q: str) -> str:
    return " ".join(asked_sentences(q)) or q


_MOLECULAR = re.compile(
    r"\b(idh[- ]?[12]?|mgmt|1p/?19q|h3[- ]?k27m?|atrx|tert promoter)\b|\bmolecular (markers?|"
    r"status|profile|subtype|diagnosis|classification)\b|\b(un)?methylat\w*\b|\bcodelet\w*\b"
)
_TREATMENT_EFFECT = re.compile(
    r"\b(rano|pseudo-?progression|pseudo-?response|radio-?necrosis|radiation necrosis|treatment"
    r"[- ](effect|response|related change)s?|response (category|criteria|assessment))\b"
)
_STEROIDS = re.compile(
    r"\b(steroids?|dexamethasone|dex|corticosteroids?)\b.{0,60}\b(chang\w*|affect\w*|alter\w*|"
    r"mask\w*|hid\w*|reduc\w*|shrink\w*|effect)\b|\b(chang\w*|affect\w*|alter\w*|mask\w*|hid\w*)\b"
    r".{0,40}\b(steroids?|dexamethasone|dex|corticosteroids?)\b"
)
# signs read on other sequences than a non-contrast T1 (each with why)
_OTHER_SEQUENCES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\bt2[- /]?flair mismatch\b"),
        "the T2-FLAIR mismatch sign is read on T2-weighted and FLAIR images of the lesion",
    ),
    (
        re.compile(
            # ("Any FLAIR hyperintensities?": a named kind, hedged by `afterwards.t2_finding`)
            r"\b(non-?enhancing )?(flair|t2) (abnormalit\w*|signal( abnormalit\w*| change\w*)?|"
            r"change\w*|extension)\b|\bnon-?enhancing (disease|tumou?r|component|"
            r"abnormalit\w*)\b"
        ),
        "FLAIR and T2 signal is read on T2-weighted and FLAIR images, not on this T1-weighted one",
    ),
    (
        re.compile(
            r"\blepto-?mening\w*|\bmeningeal (disease|enhancement|spread|deposits?|metasta\w*|"
            r"carcinomatosis)\b|\bcarcinomatous meningitis\b|\bpachymening\w*"
        ),
        "leptomeningeal disease shows on contrast-enhanced T1 and FLAIR images (and in the "
        "CSF), rarely on a non-contrast T1-weighted image",
    ),
    (
        # (after treatment: a leukoencephalopathy such as PML can be dark on T1)
        re.compile(
            r"^(?=.*\b(radiation|radiotherapy|wbrt|chemo\w*|methotrexate|toxic|post-?treatment)\b)"
            r".*\bleu[ck]o-?encephalopath\w*|\b(radiation|chemotherapy)[- ]induced white matter"
        ),
        "a leukoencephalopathy (after radiotherapy or chemotherapy, or toxic) is a white-matter "
        "change seen on T2-weighted and FLAIR images, often not on T1",
    ),
]


_DEMENTIA = re.compile(
    r"\b(fronto-?temporal (dementia|lobar degeneration)|ftd|alzheimer\w*|dementias?|lewy( body)?|"
    r"vascular (dementia|cognitive impairment)|cognitive decline)\b"
)
# a named lesion or abnormality in the question asked ("She has dementia. Any bleed?" asks it)
_LESION_ASKED = re.compile(
    r"\b(bleed\w*|lesions?|tumou?rs?|mass|stroke|infarct\w*|ha?emorrhag\w*|abnormal\w*|"
    r"subdural|haematoma|hematoma|plaques?)\b"
)
# a follow-up about a place only: "What about the frontal lobes specifically?"
_A_PLACE_ONLY = re.compile(r"^\W*(and |so |but )?(what|how) about\b|^\W*and the\b")
_SUBSTANCE_EFFECT = re.compile(
    r"\b(cannabis|weed|marijuana|skunk|alcohol|drink\w*|cocaine|drugs?|ketamine|spice|mdma|"
    r"ecstasy|amphetamines?|meth|solvents?|lithium|clozapine|antipsychotics?)\b.{0,40}\b(damag\w*|"
    r"harm\w*|affect\w*|chang\w*|done to|effects?|injur\w*|hurt)\b|\b(damag\w*|harm\w*|"
    r"effects? of)\b.{0,40}\b(cannabis|weed|marijuana|alcohol|cocaine|drugs|ketamine|mdma|"
    r"amphetamines?|solvents?)\b"
)


def _dementia_name(term: str) -> str:
    if term.startswith("alzheimer"):
        return "Alzheimer's disease"
    if term.startswith("lewy"):
        return "Lewy body dementia"
    if term in ("dementia", "dementias"):
        return "a dementia"
    return {"ftd": "frontotemporal dementia"}.get(term, term)


# kinds of injury a T1 slice mostly does not show: the reading stands ("Any DAI?": "No", "Yes"
# hedged), with why it does not exclude them (a "No" alone reads as an all-clear)
_NOT_EXCLUDED: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"\b(hypoxic|anoxic|hypoxic[- ]ischa?emic)( brain)? (injur\w*|damage|change\w*|"
            r"encephalopath\w*)|\bhie\b|\bhypoxic\w*\b"
        ),
        "hypoxic-ischaemic injury",
        "it shows first on diffusion-weighted imaging (in the first days) and as cortical or deep "
        "grey matter signal on FLAIR, often not on T1, and this detector does not assess the grey "
        "matter pattern",
    ),
    (
        re.compile(
            r"\bdai\b|\bdiffuse axonal\b|\baxonal (injur\w*|shear\w*)|\bshear(ing)? injur\w*"
        ),
        "diffuse axonal injury",
        "it shows as microhaemorrhages on SWI or T2* and on diffusion imaging, rarely on a T1 slice",
    ),
]
# what one T1 reading does not measure at all (each with why): "I can't tell"
_NOT_MEASURED: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\b(raised|high|increased|elevated) (icp|intracranial pressure)\b|\bicp\b"),
        "raised intracranial pressure is judged clinically, by a monitor, or from signs (effaced "
        "sulci and cisterns, small ventricles, herniation) that this detector does not measure",
    ),
]


def not_excluded_on_t1(t: Turn, text: str) -> str:
    """ "Any hypoxic brain injury?" on day 3 after an arrest, "DAI?": the reading, and why it
    does not exclude them (they got "No" with only the small-lesion caveat)."""
    if t.intent != "presence" or t.outside is not None or text.startswith("I can't tell"):
        return text
    asked = _asked(t.q)
    for rx, name, why in _NOT_EXCLUDED:
        if rx.search(asked):
            if text.startswith("Yes. "):  # a bare yes would confirm the kind named
                text = (
                    f"A region deviates from healthy anatomy, yes, but I can't tell whether it is "
                    f"{name}: the detector does not tell kinds of lesion apart. "
                    + text.removeprefix("Yes. ")
                )
            return text + f" As for {name}: {why}, so this reading does not exclude it."
    return text


def not_on_this_image(t: Turn, text: str) -> str:
    """ "IDH mutant? any T2-FLAIR mismatch?", "radionecrosis vs recurrence?", "RANO - PD, SD or
    PR?", "Leptomeningeal disease?", "does the dex change what you're seeing?": not a "Yes" or a
    "No" from the detector's reading (they got "Yes." and "No:"), but why it can't tell."""
    if t.outside is not None or t.intent in ("report", "similar_cases", "heatmap"):
        return text
    asked = _asked(t.q)
    why = []
    if marker := _MOLECULAR.search(asked):
        term = marker.group(0).strip(" -")
        name = term.upper() if len(term) <= 6 and "methyl" not in term else "A molecular marker's"
        why.append(
            f"{name} status is a molecular marker, determined from tumour tissue (biopsy or "
            "resection); imaging can at most suggest it, and this detector does not tell kinds "
            "of lesion apart"
        )
    measured = t.intent in ("size", "count", "location", "side", "intensity", "modality")
    if _TREATMENT_EFFECT.search(asked) and not measured:
        # ("Two perpendicular diameters in mm for RANO": the measurement is what is asked)
        why.append(
            "telling treatment effects (radiation necrosis, pseudoprogression) from tumour, or a "
            "response category (RANO), needs contrast-enhanced T1 and FLAIR images compared "
            "with earlier scans, often with perfusion, diffusion, spectroscopy or PET; this "
            "detector reads one non-contrast T1 against healthy scans, with no prior"
        )
    if _STEROIDS.search(asked):
        why.append(
            "steroids mainly reduce oedema and contrast enhancement (and can make a lymphoma "
            "shrink), which this detector does not measure, and with no earlier scan it cannot "
            "say what changed"
        )
    if t.intent in ("presence", "unknown", "explanation", "location", "count", "modality"):
        why += [w for rx, w in _OTHER_SEQUENCES if rx.search(asked)]
        why += [w for rx, w in _NOT_MEASURED if rx.search(asked)]
    if t.intent in ("presence", "unknown", "explanation", "location") and _SUBSTANCE_EFFECT.search(
        t.q
    ):
        why.append(
            "the detector finds regions that deviate from healthy anatomy, not the effects of a "
            "drug or of alcohol, most of which a structural T1-weighted scan does not show"
        )
    dementia = _DEMENTIA.search(t.q)
    judged = (
        f"{_dementia_name(dementia.group(0))} is judged from atrophy in a typical pattern, with "
        "the clinical picture (and often FDG-PET or other tests), and this detector does not "
        "measure atrophy or compare with norms for age"
        if dementia
        else ""
    )
    asked_about = t.intent in ("presence", "unknown", "explanation", "location")
    if asked_about and dementia and (_DEMENTIA.search(asked) or _A_PLACE_ONLY.search(asked)):
        why.append(judged)  # "Is it Alzheimer's?", "What about the frontal lobes? thinking FTD"
    elif t.intent == "presence" and dementia and not _LESION_ASKED.search(asked) and not why:
        # "... family worried about dementia. Is there anything on the MRI?": the reading stands
        return text + f" As for dementia: {judged}, so this reading does not exclude it."
    if not why:
        return text
    return f"I can't tell: {'; '.join(why)}. On this scan, " + lowered(plain_reading(t.case))


_CAPACITY = re.compile(
    r"\b(capacity|competen\w*) (to|for) (consent|refus\w*|decid\w*|make|understand|manage|"
    r"treatment|decisions?)\b|\b(lacks?|lacking|has|have|had|lost|loses?|retain\w*) (\w+ ){0,2}"
    r"capacity\b|\bcapacity assessment\b|\bmental health act\b|\bfit to (plead|stand trial)\b|"
    r"\btestamentary\b"
)
_PSYCHIATRIC = (
    r"(schizo\w*|bipolar( disorder)?|(a )?psychosis|(a )?psychotic (illness|disorder)|depression|"
    r"(an? )?personality disorder|ptsd|ocd|autism|adhd|anorexia|(an? )?anxiety disorder|"
    r"(a )?functional (neurological )?disorder|fnd|conversion disorder)"
)
_HAS_A_PSYCHIATRIC_ILLNESS = re.compile(
    r"^(so |and |but )?(does|do|has|have|is|could|might|can|would) (he|she|they|the patient|the "
    r"pt|patient|my patient|this patient|her|him|it|this|that) (\w+ ){0,2}(have|has|got|be|"
    rf"suffer\w*( from)?|mean|show|prove|confirm|rule out|exclude)? ?(\w+ ){{0,2}}"
    rf"(?P<illness>{_PSYCHIATRIC})\b"
)


_BRAIN_DEATH = re.compile(
    r"\bbrain ?(stem )?death\b|\bbrain ?(stem )?dead\b|\bdeath by neurolog\w* criteria\b|"
    r"\borgan donation\b|\bdonat\w* (his |her |their |the )?organs\b|\bdonor\b|"
    r"\bwithdraw\w* (of )?(life[- ]sustaining |active )?(treatment|care|support|therapy)\b|\bwlst\b|"
    r"\b(palliative|terminal|compassionate) extubation\b|\bredirect\w* (of )?care\b"
)
_OUTCOME = re.compile(
    r"\b(will|would|is|does|do|can|could) (he|she|they|the patient|pt|patient) (\w+ ){0,2}(wake|"
    r"waking|recover\w*|survive|make it|regain\w*|walk again|talk again|be (ok|okay|alright))\b|"
    r"\b(he|she|they|the patient) (will|would|is going to|can|could) (\w+ ){0,2}(wake|recover\w*|"
    r"survive|regain\w*|walk again|talk again)\b|\b(wake|waking) up\b|\bprognos\w*\b|\b(neurolog\w*|functional|clinical|long-term|his|her|"
    r"their|the patient'?s) outcome\b"
)


_JUDGEMENTS: list[tuple[re.Pattern[str], str, str]] = [
    (
        _BRAIN_DEATH,
        "No scan by this tool can establish that, and such a decision must never rest on it",
        "death by neurological criteria (brain-stem death) is a clinical diagnosis made by two "
        "senior clinicians with the formal brain-stem tests, with ancillary tests (such as a study "
        "of cerebral blood flow) only where those cannot be done; organ donation and withdrawing "
        "treatment follow that process, not a research tool's reading of a T1 scan",
    ),
    (
        _OUTCOME,
        "I can't tell",
        "whether and how the patient recovers is a clinical judgement, made over time from the "
        "examination and tests such as EEG, evoked potentials, MRI with diffusion and blood "
        "markers; this detector reads one T1 scan for deviations from healthy anatomy and says "
        "nothing about outcome",
    ),
    (
        _CAPACITY,
        "No scan can decide that",
        "capacity is a clinical (and legal) judgement of whether the person can understand, "
        "retain and weigh the information and communicate a decision, made for each decision at "
        "the time by the clinician who assesses them; a finding on a scan neither establishes nor "
        "excludes it",
    ),
]


def judgements_no_scan_makes(t: Turn, text: str) -> str:
    """ "Does this scan mean he lacks capacity to refuse treatment?" (it got "Yes."), "Is this
    scan compatible with brain death?" ("Yes, probably"), "will he wake up?", "Does he have
    schizophrenia?" (a generic refusal): no scan decides these. Named only around a question
    that asks for a reading ("brain death testing tomorrow - any bleed?"), the reading stands and
    the judgement is added."""
    asked = _asked(t.q)
    if t.outside is not None:
        # a refused scan: the judgement first ("Is this CT compatible with brain death?"), then
        # why the detector does not apply
        for rx, lead, why in _JUDGEMENTS:
            if rx is not _OUTCOME and rx.search(asked):
                return f"{lead}: {why}. " + text
        return text
    if t.intent in ("report", "similar_cases", "heatmap", "modality"):
        return text
    found = "On this scan, " + lowered(plain_reading(t.case))
    helps = re.search(
        r"\b(does|will|would|can|could) (the |this )?(scan|mri|it|this) help\b", asked
    )
    for rx, lead, why in _JUDGEMENTS:
        if t.intent == "next_steps" and rx is _OUTCOME and not helps:
            continue  # "would you repeat the MRI at 72h for prognostication?": a next step
        if (rx.search(asked) or (helps and rx.search(t.q))) and not _LESION_ASKED.search(asked):
            # (also "family keep asking if he'll wake up. does the scan help?")
            return f"{lead}: {why}. {found}"
        if rx.search(t.q) and t.intent == "presence":
            return text + f" {why[:1].upper() + why[1:]}."
    if (m := _HAS_A_PSYCHIATRIC_ILLNESS.search(asked.strip())) is not None:
        illness = re.sub(r"^(a|an) ", "", m.group("illness"))
        return (
            f"No scan makes or excludes that diagnosis: {illness} is a clinical diagnosis, from "
            "the history and the mental state examination. A structural scan is done to look "
            "for other (organic) causes of the symptoms, and this reading of one T1-weighted "
            f"scan is only part of that. {found}"
        )
    return text


_ORGANIC = re.compile(
    r"\b(organic|structural|neurological|medical|physical) (causes?|basis|explanations?|"
    r"aetiology|etiology)\b|\borganic (disease|illness|pathology|process|lesions?|problems?)\b|"
    r"\b(nothing|anything|something) organic\b|\borganic\W*$"
)
_NOTHING_FOUND_LEADS = (
    "Yes, as far as this detector can tell",
    "Yes at the analysed levels",
    "Yes on the analysed slice",
    "No:",
    "No, not at the analysed levels",
    "No, not on the analysed slice",
    "No, not clearly",
    "Nothing was found",
)


def organic_cause(t: Turn, text: str) -> str:
    """ "So can I say organic causes have been excluded?", "nothing organic then?" with nothing
    found: not "Yes" (they got "Yes, as far as this detector can tell"): nothing was found, but a
    structural T1 reading does not exclude an organic cause."""
    if t.intent != "presence" or t.outside is not None or t.found:
        return text
    if not _ORGANIC.search(_asked(t.q)) or not text.startswith(_NOTHING_FOUND_LEADS):
        return text
    lead = "Nothing was found, yes" if yes_means_normal(t.question) else "No, nothing was found"
    return (
        f"{lead}, but that does not exclude an organic cause: "
        + lowered(without_lead(text, 60))
        + " This reading is only part of an organic screen: encephalitis, metabolic, "
        "autoimmune, toxic and epileptic causes, and lesions that show only on other sequences "
        "or are too small for the detector, are not excluded by it."
    )


_WHAT_AM_I_MISSING = re.compile(
    r"\bwhat (am i|are we|could i be|could we be|might i be|might we be) (\w+ )?missing\b|"
    r"\bwhat else (could|might|can) (it|this|explain|be going on)\b|\bwhat (else )?(should|could) "
    r"(i|we) (consider|look for|think about)\b"
)


def what_a_negative_leaves_out(t: Turn, text: str) -> str:
    """ "scan says normal but she's still not waking up day 5. what am I missing?": not a "Yes"
    (it got "Yes at the analysed levels"), but what this negative reading does not cover."""
    if t.outside is not None or t.found or not _WHAT_AM_I_MISSING.search(t.q):
        return text
    return (
        "Nothing was found on this reading, but that neither explains the picture nor excludes a "
        "cause: lesions at levels or in places that were not analysed, findings that show only "
        "on other sequences (diffusion for hypoxic injury or an early infarct, SWI for diffuse "
        "axonal injury or microbleeds, FLAIR for encephalitis or small vessel disease, contrast "
        "for meningitis), changes too small or subtle for the detector, and causes no structural "
        "scan shows (drugs and sedation, metabolic, septic or autoimmune encephalopathy, "
        "non-convulsive seizures, which an EEG looks for) are all outside what it reads. Which of "
        "these to pursue is a clinical decision. On this scan, " + lowered(without_lead(text, 60))
    )


_CLAIMED_CONFIDENCE = re.compile(r"\bconfidence (of |=|:|is )?\s*(?P<x>0?\.\d+|1\.0|\d{1,3} ?%)")


def claimed_confidence(t: Turn, text: str) -> str:
    """ "Can I quote 'left-sided hyperintense lesion, confidence 0.9' in a report?": a confidence
    quoted that no finding has is corrected (it was 0.80)."""
    if t.outside is not None or not t.found or not (m := _CLAIMED_CONFIDENCE.search(t.q)):
        return text
    x = m.group("x").replace(" ", "")
    claimed = float(x[:-1]) / 100 if x.endswith("%") else float(x)
    named = [f for f in t.found if f.id in t.ids] or t.found
    have = [(f.id, f.data.get("confidence")) for f in named if f.data.get("confidence") is not None]
    if not have or any(abs(float(c) - claimed) <= 0.05 for _, c in have):
        return text
    said = ", ".join(f"{i} {float(c):.2f}" for i, c in have)
    return text + f" The detector's confidence is not {m.group('x')}: {said}."


_WHOLE_BRAIN_COUNT = re.compile(
    r"\b(solitary|single|multiple|several|multifocal|unifocal|oligo-?met\w*|mets|metasta\w*|"
    r"in total|total|whole brain|burden|load)\b"
)


def count_of_one_slice(t: Turn, text: str) -> str:
    """ "Solitary met or multiple?" of one 2D image: "Single" counts this slice only (it got a
    bare "Single: the detector found 1 region.")."""
    summary = t.evidence.scan_summary or {}
    if (
        t.intent != "count"
        or t.outside is not None
        or summary.get("source_shape")
        or not _WHOLE_BRAIN_COUNT.search(t.q)
        or "other levels" in text
    ):
        return text
    return text + (
        " This counts regions on this one 2D slice only: lesions at other levels of the brain "
        "are not in the image, so it cannot tell a solitary lesion from one of several."
    )
