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
_QUESTION = re.compile(r"[^.?!]*\?")


def _asked(q: str) -> str:
    return " ".join(_QUESTION.findall(q)) or q


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


def judgements_no_scan_makes(t: Turn, text: str) -> str:
    """ "Does this scan mean he lacks capacity to refuse treatment?" (it got "Yes."), "Does he
    have schizophrenia?" (a generic refusal): no scan decides these."""
    if t.outside is not None:
        return text
    found = "On this scan, " + lowered(plain_reading(t.case))
    if _CAPACITY.search(t.q):
        return (
            "No scan can decide that: capacity is a clinical (and legal) judgement of whether "
            "the person can understand, retain and weigh the information and communicate a "
            "decision, made for each decision at the time by the clinician who assesses them. "
            f"A finding on a scan neither establishes nor excludes it. {found}"
        )
    if (m := _HAS_A_PSYCHIATRIC_ILLNESS.search(_asked(t.q).strip())) is not None:
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
