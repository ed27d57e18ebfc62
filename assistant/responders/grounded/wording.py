"""The grounded responder's vocabulary: the question patterns it reacts to and the phrases it
builds answers from (finding positions, citations, counts, quotable excerpts)."""

from __future__ import annotations

import re

from assistant.findings import lean_of
from assistant.prompts import REMOVED, quote_data
from assistant.responders.intents.parse import FINDING_TERMS

CAPABILITIES = (
    "whether the detector found a region that deviates from healthy anatomy, where it is "
    "(side, front/back), its size, how many regions there are, whether they are hyper- or "
    "hypointense, what the heatmap and the pseudo-healthy reconstruction show, similar cases, "
    "possible explanations from retrieved reference text, the imaging modality, and a draft report"
)
DISCLAIMER_LINE = "Research use only, not a medical device: a clinician must review this."

# intents answered from the weaker regions (W1..) when there is no finding, with that caveat
WEAK_INTENTS = ("location", "side", "intensity", "size")
# words for the size classes of `assistant.findings.size_bin` in closed size questions
SIZE_WORDS = {
    "small": "small",
    "tiny": "small",
    "medium": "medium",
    "moderate": "medium",
    "large": "large",
    "big": "large",
    "huge": "large",
}
CLOSED = re.compile(
    r"^\s*(?:and\s+|so\s+|but\s+)?(is|are|does|do|did|was|were|can|could|has|have|will|would|"
    r"should|shall|isn't|aren't|doesn't)\b"
)
# whether the question asks if a region is a true lesion ("Is the red blob a real lesion?")
REALITY = re.compile(
    r"\b(real|actual|actually|genuine|genuinely|true|truly|really|bona fide)\b|"
    r"\bproper (lesion|finding|abnormality|pathology)\b"
)
# "Is F1 just artefact?", "Is the red spot noise?": whether a region is real, asked the other way
ARTEFACT = re.compile(
    r"\b(artefact|artifact|noise|normal (variant|variation|anatomy|tissue|brain|structure))\b|"
    r"\bfalse[- ](positive|alarm)s?\b|"
    # "F2 fake?", "just a reconstruction error?", "the model seeing ghosts?" (as `text.PARSER_ONLY`
    # reads them)
    r"\b(fake|bogus|phon(e)?y|sham|spurious|meaningless|non-?patholog\w*|mis-?registration|"
    r"an? (reconstruction|registration|alignment) (error|failure|mismatch|glitch)\w*)\b|"
    r"\b(computer|model|detector|algorithm|tool|ai|map|heatmap|software|network|machine|system|"
    r"program)( is| was)?( being)? (wrong|mistaken|jumpy|twitchy|trigger-happy|over-?sensitive|"
    r"over-?calling|hallucinating|confused|seeing (things|ghosts)|over-?react\w*)\b|"
    # "could it just be nothing?"
    r"\b(be|is it|it'?s) (just |simply |merely )?nothing\b(?! (abnormal|wrong|there|to|of|else))"
)
# a signal said in words: "dark spot", "hypointense", "low signal" / "bright", "high signal"
DARK_WORDS = re.compile(r"\b(dark\w*|hypo-?intens\w*|black|low signal)\b")
BRIGHT_WORDS = re.compile(r"\b(bright\w*|hyper-?intens\w*|white(?! matter)|high signal)\b")
NORMAL = re.compile(r"\b(normal|healthy|unremarkable|fine|okay|ok|clear|clean|intact)\b")
SPECIFIC = re.compile(
    r"\b(tumou?rs?|mass(?:es)?(?! effect)|sols?|cancer|metasta\w+|mets?|sah|bleed\w*|"
    r"ha?emorrhagic (?:transformation|conversion)|ha?emorrhage|infarcts?|stroke|"
    r"cysts?|abscess\w*|plaques?|multiple sclerosis|ms lesions?|ms|glioma\w*|edema|oedema|"
    r"contusions?|ha?ematomas?|hemosiderin|meningioma\w*|lymphoma\w*|"
    r"space[- ]occupying lesions?|demyelinat\w*|black holes?|toxoplasm\w*|toxo|"
    rf"{FINDING_TERMS})\b"
)
# development, which the detector does not assess: "agenesis", "myelination", "head size"
DEVELOPMENT_TERMS = (
    r"myelinat\w*|(brain|head) size|right size|microcephal\w*|macrocephal\w*|agenesis|"
    r"dysgenesis|hypoplas\w*|head circumference"
)
DEVELOPMENT = re.compile(rf"\b({DEVELOPMENT_TERMS})\b")
# Signs and structures the detector does not assess: asked about them, it says so.
UNASSESSABLE = re.compile(
    r"\b(mass effect|midline shift|any shift|pushing on|pressing on|compress\w*|"
    # ("the contrast-enhanced T1": the image, not whether something enhances)
    r"ventric\w*|atroph\w*|enhanc\w*(?! (t1|t2|image|scan|study|mri|mr|sequence|slice|series|"
    r"view|ct|images|scans)\b)|contrast agent|o?edema|"
    r"calcif\w*|margins?|borders?|well[- ]defined|ill[- ]defined|lobes?|gyr\w*|sulc\w*|"
    r"herniat\w*|hydroceph\w*|nph|white matter|gr[ae]y matter|cortex|cortical|thalam\w*|"
    r"cerebell\w*|brain ?stem|basal ganglia|symmetr\w*|asymmetr\w*|volume loss|"
    r"alzheimer\w*|dementia|aneurysm\w*|septum pellucidum|axonal loss|axonal damage|"
    r"irreversib\w*|permanent (damage|disability)|prognos\w*|dissemination in (space|time)|"
    r"mcdonald( criteria)?|"
    r"corpus callosum|callosal|caudate|putamen|globus pallidus|internal capsule|juxtacortical|"
    r"periventricular|restrict\w* diffusion|diffusion restriction|insula|insular|"
    r"sinus disease|sinusitis|sinuses|paranasal\w*|mastoid\w*|"
    r"hippocampal sclerosis|mesial temporal sclerosis|"
    r"gr[ae]y[- ]white|(brain|parenchymal|cerebral) volume|brain age|shrunk\w*|shrink\w*|"
    r"shrivel\w*|microbleed\w*|micro-bleed\w*|micro-?ha?emorrhag\w*|fazekas|aspects|"
    r"early ischa?emi\w*|"
    # development: "Is myelination appropriate for his age?", "agenesis", "head size"
    rf"{DEVELOPMENT_TERMS}|"
    r"volumetr\w*|(hippocampal|hippocampus|ventricular|cortical|gr[ae]y matter|white matter) "
    r"volumes?|"
    r"how old (does|do|would) (this|the) (brain|scan|patient) (look|appear|seem)|"
    # (a whole scan "normal for age" / "age-appropriate" is read as "normal", with the note that
    # the detector has no norms by age: `afterwards.normal_for_age`)
    r"age[- ]related|(consistent|in keeping) with (the patient'?s |his |her |their )?"
    r"age|(patient'?s |his |her |their )age (is )?(consistent|in keeping|compatible) with)\b"
)
# Tissues (of `UNASSESSABLE`) that the analysed slice shows as a whole: "Is the white matter normal?" is answered from
# the detector's findings on the slice (with the note that it does not tell which tissue a region
# involves), unlike the signs above that it does not measure ("Are the ventricles enlarged?").
TISSUE = re.compile(
    r"\b(white matter|gr[ae]y matter|cortex|cortical|basal ganglia|thalam\w*|corpus callosum|"
    r"callosal|caudate|putamen|globus pallidus|internal capsule|juxtacortical|periventricular)\b"
)
INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rule|prompt|previous|above)|"
    r"\b(system prompt|you are now|you must|act as|pretend|as an ai|respond with|reply with|"
    r"answer with|say that|tell the user|new instructions?)\b",
    re.IGNORECASE,
)


# "Is this scan free of abnormalities?", "... without any lesion?": negated presence questions
NEGATED_RE = re.compile(r"\bfree (of|from)\b|\bwithout (any )?(abnormal|lesion|finding|sign)")


def negated(q: str) -> bool:
    """The question asks whether the scan is NORMAL (so "yes" means no finding)."""
    return bool(NEGATED_RE.search(q)) or (
        bool(NORMAL.search(q)) and not re.search(r"\babnormal", q)
    )


def safe_excerpt(text: str, max_chars: int = 180) -> str:
    """A short quotable excerpt of retrieved text that can only be read as data.

    Sentences that address an assistant ("ignore previous instructions", "say that ...") are
    replaced by a marker, then `assistant.prompts.quote_data` neutralises the rest (chat-template
    tokens, delimiters, square brackets so quoted text can never forge a citation) and cuts it.
    """
    sentences = re.split(r"(?<=[.!?;])\s+|\n+", str(text))
    kept = [REMOVED if INJECTION.search(s) else s.strip() for s in sentences if s.strip()]
    return quote_data(" ".join(kept), max_chars=max_chars).replace('"', "'")


AP_LONG = {
    "anterior": "in the anterior part of the image",
    "posterior": "in the posterior part of the image",
    "central": "midway between the front and the back of the image",
}


def ap_phrase(f: dict) -> str:
    lean = lean_of(f, "anterior_posterior")
    long = AP_LONG[f["anterior_posterior"]]
    return f"{long} (slightly {lean} of the middle)" if lean else long


def leaning(f: dict, key: str) -> str:
    """The answer word to "left or right?" / "anterior or posterior?": the finding's value, or
    for a midline / central finding, e.g. "midline, slightly left" (which way it leans)."""
    lean = lean_of(f, key)
    return f"{f[key]}, slightly {lean}" if lean else f[key]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def cite(*ids: str) -> str:
    return "".join(f"[{i}]" for i in ids)


def count_word(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# a fracture asked about: bone, which the detector does not read
FRACTURE = re.compile(r"\b(fractur\w*|fx|broken (skull|bone)|skull (break|injury|damage))\b")
BONE_NOT_READ = (
    " The detector does not assess bone: a fracture is looked for on CT with bone windows, not on "
    "a T1-weighted MRI slice."
)
