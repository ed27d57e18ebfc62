"""Answers about the findings themselves: is there one, where, which side, how big, how many,
how bright.

Each function takes the question's `CaseFacts` and returns the answer text, starting with a word a
QA benchmark can score ("Yes", "No", "Left", "Image left", "Medium", "Hyperintense", a number).
When nothing reached the image threshold, `weak` answers where / which side / how big / how bright
from the strongest weaker region (W1..), saying that it is weak evidence.

Sides: a finding's side is in the patient's frame when the scan records its orientation
(NIfTI, DICOM, registered volumes: `side_frame` "patient") and in the image's frame otherwise
(PNG, JPEG: "image"). Without a known orientation an answer never says a bare "Left": it says
"Image left", that the patient's side is unknown, and what it would be under the radiological
display convention (image left = the patient's right).
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.evidence import EvidenceItem
from assistant.findings import (
    ORIENTATIONS,
    SIZE_EDGES_MM2,
    lean_of,
    position_words,
    signal_parts,
    size_bin,
    size_edges_px,
)
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import (
    ARTEFACT,
    CLOSED,
    REALITY,
    SIZE_WORDS,
    SPECIFIC,
    ap_phrase,
    cite,
    count_word,
    leaning,
    upper_first,
)
from assistant.responders.intents import (
    existential,
    side_question,
    yes_means_normal,
    yes_no_question,
)
from assistant.responders.intents.parse import asks_which_slice, side_structure

_LEADING_PHRASE = re.compile(
    r"^\s*(on|in|for|from|at|looking at|based on|regarding|as for|about)\b[^,?]{0,40},\s*"
)


def _closed(c: CaseFacts) -> bool:
    """A yes/no question, also after a leading phrase ("On FLAIR, is the abnormality
    bright?", "For F1, is it large?")."""
    return c.closed or bool(CLOSED.search(_LEADING_PHRASE.sub("", c.q)))


def weak(c: CaseFacts, handler) -> str:
    """A location/intensity/size answer about the strongest region below the image
    threshold (or the W ids asked about), saying that it is weak evidence."""
    ids = set(c.resolved.finding_ids)
    targets = [w for w in c.weak if w.id in ids] or c.weak[:1]
    text = handler(replace(c, findings=targets, targets=targets)).strip()
    lead, sep, rest = text.partition(". ")
    names = ", ".join(t.id for t in targets)
    if c.resolved.intent == "side" and yes_no_question(c.question):
        normal = yes_means_normal(c.question)
        if normal or existential(c.question):
            # "Any abnormality in the left hemisphere?", "Is the right side normal?": whether
            # something is there, which a region below the threshold is not ("Yes (weak
            # evidence)" read as a finding, against the image-level "no")
            verdict = "Yes, as far as this detector can tell" if normal else "No, not clearly"
            return (
                f"{verdict}: no region reached the detector's image threshold{c.d1()}. The "
                f"strongest deviation below it: {rest} {names} may be noise or normal "
                "variation." + c.scope()
            )
    if (
        c.resolved.intent == "side"
        and not ids
        and re.search(r"\b(problem|issue|trouble|wrong)\b", c.q)
    ):
        # "is it a left or right sided problem?" with nothing found: no side, rather than a
        # weak region's side leading as if it were the problem ("Is the lesion on the left or
        # right?" asks where the region seen is: its side, as weak evidence)
        return (
            f"Neither side clearly: no region reached the detector's image threshold{c.d1()}. "
            f"The strongest deviation below it: {rest or text} {names} may be noise or normal "
            "variation." + c.scope()
        )
    scope = c.scope()
    if scope.strip() and scope.strip() in text:  # the handler said it ("which slice")
        scope = ""
    one = len(targets) == 1
    if targets == c.weak[: len(targets)]:
        what = "the strongest deviation" if one else "the strongest deviations"
    else:  # "the second one": W2, not the strongest
        what = "a deviation" if one else "deviations"
    return (
        f"{lead} (weak evidence){sep}{rest} No region reached the detector's image "
        f"threshold{c.d1()}: {names} {'is' if one else 'are'} only {what} below it and may "
        "be noise or normal variation." + scope
    )


def describe_named(c: CaseFacts, items: list) -> str:
    """A description of the findings / weaker regions a question names ("What are W1 and W2?"),
    saying which of them are below the image threshold."""
    text = "; ".join(c.describe(i) for i in items) + "."
    weak = [i.id for i in items if i.kind == "weak_finding"]
    if weak:
        one = len(weak) == 1
        text += (
            f" {' and '.join(weak)} {'lies' if one else 'lie'} below the detector's image "
            f"threshold{c.d1()}, so {'it is' if one else 'they are'} not reported as "
            f"{'a finding' if one else 'findings'}: weak evidence that may be noise or normal "
            "variation."
        )
    return text + c.scope()


def presence(c: CaseFacts) -> str:
    """Is there an abnormality: "Yes" / "No" first for a yes/no question (flipped when "yes"
    means normal: "Is this a normal brain?"), a description for an open one ("What is abnormal
    here?"). A named kind of lesion ("Is there a stroke?") is answered about the region the
    detector found, saying that it cannot tell what kind it is. For a slice of a volume the
    answer ends by saying which slice was analysed and that the rest was not (`CaseFacts.scope`)."""
    text = _presence(c)
    if not c.detection_ran:
        return text
    volume = c.volume_findings()
    if not volume:
        return text + c.scope()
    listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
    n = len(volume)
    if c.findings:
        return f"{text}{c.scope()} In 3D: {listing}."
    # nothing on the displayed slice, but at another analysed level: the answer is about the scan
    lead = ""
    if yes_no_question(c.question):
        lead = "No, not normal. " if yes_means_normal(c.question) else "Yes. "
    kind = _kind_caveat(named_kind(c.q), n)
    return (
        f"{lead}The detector found {count_word(n, 'region')} in 3D at the analysed levels of "
        f"the volume, not on the displayed slice: {listing}.{c.crossing(volume)}{kind}{c.scope()}"
    )


def named_kind(q: str) -> re.Match | None:
    """The kind of lesion a question names (`SPECIFIC`), from its last sentence when that names
    one: "71M, hx of stroke. old infarct?" asks about an infarct, not the stroke of the history."""
    sentences = re.split(r"(?<=[.?!;:])\s+", q.strip())
    asked = [t for t in sentences if t.rstrip().endswith("?") and SPECIFIC.search(t)]
    text = asked[-1] if asked else q  # the last question that names a kind, else the whole text
    # "trauma pt fall from stairs, no bleed?": a history clause, then the clause that asks
    clauses = re.split(r",\s+|\s+-\s+", text)
    last = clauses[-1]
    if (
        len(clauses) > 1
        and last.rstrip().endswith("?")
        and SPECIFIC.search(last)
        and all(len(c.split()) >= 2 and not c.rstrip().endswith("?") for c in clauses[:-1])
    ):
        return SPECIFIC.search(q, q.rfind(last))
    found = SPECIFIC.search(text)
    if found is not None and found.group(0).endswith(("ar", "al", "ic", "ous", "ive")):
        # an adjective ("lacunar infarct"): with the noun it qualifies, else another kind named
        noun = SPECIFIC.search(text, found.end())
        if noun is not None and noun.start() - found.end() <= 1:
            return re.compile(re.escape(text[found.start() : noun.end()])).search(text)
        return SPECIFIC.search(q)
    return found


def kinds_asked(q: str, term: re.Match) -> str:
    """The kind named, with its article, or the two of an either/or ("toxo or lymphoma?" ->
    "toxoplasmosis or a lymphoma")."""
    first = _a(_singular(term.group(0)))
    m = re.match(r"\s*(,? or|/|vs\.?|versus)\s+(an? |the )?", q[term.end() :])
    other = SPECIFIC.match(q, term.end() + m.end()) if m else None
    if other is None:
        return first
    second = other.group(0)
    noun = re.match(r"\s+([a-z][a-z-]+)", q[other.end() :])
    if second.endswith(("ive", "al", "ic", "ous", "ar")) and noun:
        second += " " + noun.group(1)  # "post-operative change", not "a post-operative"
    return f"{first} or {_a(_singular(second))}"


def a_kind(term: str) -> str:
    """ "a tumour" for "tumours": a named kind, singular, with its article."""
    return _a(_singular(term))


def _kind_caveat(term: re.Match | None, n: int) -> str:
    """ "Whether it is a plaque cannot be determined by this detector ..." for a question that
    names a kind of lesion (`SPECIFIC`), else ""."""
    if term is None:
        return ""
    return (
        f" Whether {'it is' if n == 1 else 'any of them is'} {_a(_singular(term.group(0)))} "
        "cannot be determined by this detector: it measures deviation from healthy anatomy, not "
        "what the deviation is."
    )


_LOBES = ("frontal", "temporal", "parietal", "occipital")

# a structure named in a question -> words of the atlas region names (`assistant.volume.atlas`,
# DLMUSE) that belong to it
STRUCTURES: dict[str, tuple[str, ...]] = {
    "brainstem": ("brain stem",),
    "brain stem": ("brain stem",),
    "pons": ("brain stem",),
    "medulla": ("brain stem",),
    "midbrain": ("brain stem", "ventral diencephalon"),
    "cerebellum": ("cerebell",),
    "cerebellar": ("cerebell",),
    "posterior fossa": ("cerebell", "brain stem", "4th ventricle"),
    "frontal": ("frontal", "precentral", "orbital gyrus", "gyrus rectus", "supplementary motor"),
    "temporal": ("temporal", "hippocamp", "amygdala", "fusiform", "entorhinal", "planum"),
    "parietal": ("parietal", "postcentral", "angular", "supramarginal", "precuneus"),
    "occipital": ("occipital", "calcarine", "cuneus", "lingual"),
    "thalamus": ("thalamus",),
    "thalami": ("thalamus",),
    "basal ganglia": ("caudate", "putamen", "pallidum", "accumbens"),
    "caudate": ("caudate",),
    "putamen": ("putamen",),
    "corpus callosum": ("corpus callosum",),
    "ventricle": ("ventricle",),
    "ventricles": ("ventricle",),
    "insula": ("insula",),
    "hippocampus": ("hippocamp",),
    "hippocampi": ("hippocamp",),
    "internal capsule": ("internal capsule",),
    "cingulate": ("cingulate",),
}
_STRUCTURE = re.compile(r"\b(" + "|".join(sorted(STRUCTURES, key=len, reverse=True)) + r")\b")


def named_place(question: str) -> tuple[str | None, str | None]:
    """(side, structure) a question names: ("right", "frontal") for "Anything in the right
    frontal lobe?", (None, "brainstem") for "Any abnormality in the brainstem?"."""
    q = question.lower()
    m = _STRUCTURE.search(q)
    return side_structure(q), (m.group(1) if m else None)


# MNI z extent (mm) of structures that lie wholly below or above the level a slice or a few levels
# may show; rounded outwards (the MNI152 template; a structure is said to be off the analysed
# levels only when it ends at least `_OFF_MARGIN_MM` from them)
Z_EXTENT_MM: dict[str, tuple[float, float]] = {
    "cerebellum": (-72.0, 2.0),
    # "anything near his ears or balance nerves?": the inner ear canals and the nerves there
    "balance nerves": (-45.0, -20.0),
    "balance nerve": (-45.0, -20.0),
    "internal auditory": (-45.0, -20.0),
    "cerebellopontine": (-45.0, -20.0),
    "vestibular": (-45.0, -20.0),
    # a lay name: "the back of the brain, the balance bit"
    "balance bit": (-72.0, 2.0),
    "balance part": (-72.0, 2.0),
    "balance centre": (-72.0, 2.0),
    "cerebellar": (-72.0, 2.0),
    "posterior fossa": (-75.0, 2.0),
    "brainstem": (-65.0, 5.0),
    "brain stem": (-65.0, 5.0),
    "pons": (-48.0, -12.0),
    "medulla": (-65.0, -35.0),
    "midbrain": (-28.0, 5.0),
    "fourth ventricle": (-50.0, -15.0),
    "4th ventricle": (-50.0, -15.0),
    "foramen magnum": (-80.0, -55.0),
    "temporal pole": (-50.0, -10.0),
    "temporal poles": (-50.0, -10.0),
    "pituitary": (-35.0, -5.0),
    "sella": (-35.0, -5.0),
    "hippocampus": (-30.0, 8.0),
    "hippocampi": (-30.0, 8.0),
    "hippocampal": (-30.0, 8.0),
    "mesial temporal": (-35.0, 0.0),
    "vertex": (60.0, 85.0),
    "centrum semiovale": (30.0, 50.0),
    "thalami": (-8.0, 20.0),
    "thalamus": (-8.0, 20.0),
    "temporal lobes": (-48.0, 18.0),
    "temporal lobe": (-48.0, 18.0),
    "above the ventricles": (32.0, 85.0),
    "above the lateral ventricles": (32.0, 85.0),
    "supraventricular": (32.0, 85.0),
    "below the ventricles": (-75.0, 8.0),
    "below the lateral ventricles": (-75.0, 8.0),
    "pineal": (-4.0, 6.0),
    "chiari": (-80.0, -45.0),
    "tonsils": (-70.0, -45.0),
    "tonsillar": (-70.0, -45.0),
    "craniocervical": (-85.0, -55.0),
    "infratentorial": (-75.0, 2.0),
    "orbits": (-45.0, -5.0),
    "orbit": (-45.0, -5.0),
    "globes": (-45.0, -10.0),
    "optic nerves": (-30.0, -5.0),
    "optic nerve": (-30.0, -5.0),
    # the high convexity: the hand and leg areas of the motor strip, the supplementary motor area
    "hand knob": (40.0, 70.0),
    "hand area": (40.0, 70.0),
    "leg area": (55.0, 80.0),
    "paracentral lobule": (50.0, 80.0),
    "supplementary motor area": (45.0, 75.0),
}
_OFF_MARGIN_MM = 3.0
_PLACE_NAMES = {
    "cerebellar": "cerebellum",
    "balance bit": "cerebellum",
    "balance nerve": "balance nerves",
    "internal auditory": "internal auditory canals",
    "cerebellopontine": "cerebellopontine angles",
    "vestibular": "vestibular nerves",
    "balance part": "cerebellum",
    "balance centre": "cerebellum",
    "hippocampal": "hippocampi",
    "mesial temporal": "mesial temporal lobes",
    "temporal poles": "temporal poles",
    "pineal": "pineal region",
    "above the ventricles": "levels above the lateral ventricles",
    "above the lateral ventricles": "levels above the lateral ventricles",
    "supraventricular": "levels above the lateral ventricles",
    "below the ventricles": "levels below the lateral ventricles",
    "below the lateral ventricles": "levels below the lateral ventricles",
    "chiari": "craniocervical junction (cerebellar tonsils)",
    "tonsils": "cerebellar tonsils",
    "tonsillar": "cerebellar tonsils",
    "craniocervical": "craniocervical junction",
    "infratentorial": "infratentorial compartment",
    "orbit": "orbits",
    "globes": "globes",
    "hand knob": "hand area of the motor cortex",
    "hand area": "hand area of the motor cortex",
    "leg area": "leg area of the motor cortex",
}
_OFF_PLACE = re.compile(r"\b(" + "|".join(sorted(Z_EXTENT_MM, key=len, reverse=True)) + r")\b")
# "seizures starting in the right hand ... the left motor cortex": the hand area is meant
_MOTOR_STRIP = re.compile(r"\b(primary )?motor (cortex|strip|area|gyrus)\b|\bprecentral gyrus\b")
_LIMB = re.compile(r"\b(hand|fingers?|arm|thumb|(leg|foot|toes?))\b")


def _with_motor_area(q: str) -> str:
    """The question, with "hand area" / "leg area" added when it names the motor strip and the
    limb it is asked about (the motor strip as a whole spans most levels; its limb areas do not)."""
    limb = _LIMB.search(q)
    if limb is None or not _MOTOR_STRIP.search(q) or _OFF_PLACE.search(q):
        return q
    return f"{q} ({'leg' if limb.group(2) else 'hand'} area)"


def places_asked(q: str) -> list[tuple[str, float, float]]:
    """The structures off the trained level a question names ("the cerebellum and brainstem"),
    each with its MNI z extent (mm): (name, lowest, highest), in the question's order."""
    named: dict[str, tuple[str, float, float]] = {}
    for m in _OFF_PLACE.finditer(_with_motor_area(q)):
        name = _PLACE_NAMES.get(m.group(1), m.group(1))
        named.setdefault(name, (name, *Z_EXTENT_MM[m.group(1)]))
    return list(named.values())


def analysed_levels(c: CaseFacts) -> tuple[float, float] | None:
    """The MNI z range (mm) the detector analysed: a volume's analysed levels, or the level of
    the displayed slice (registered, or estimated by the applicability check); None unknown."""
    summary = c.evidence.scan_summary or {}
    levels = (summary.get("volume_analysis") or {}).get("levels_mm")
    if levels:
        return float(min(levels)), float(max(levels))
    level = (summary.get("registered") or {}).get("level_mm", summary.get("level_mm"))
    return None if level is None else (float(level), float(level))


def place_not_analysed(c: CaseFacts) -> str | None:
    """ "Anything in the cerebellum?" about a slice at the level of the lateral ventricles (or a
    volume analysed only there): the structure is not at any analysed level, so neither "yes"
    nor "no" can be said; what was analysed and what it found are. None when the question names
    no such structure, or it lies (partly) at an analysed level, or the level is unknown."""
    m = _OFF_PLACE.search(_with_motor_area(c.q))
    levels = analysed_levels(c)
    if m is None or levels is None:
        return None
    lo, hi = Z_EXTENT_MM[m.group(1)]
    name = _PLACE_NAMES.get(m.group(1), m.group(1))
    if lo <= levels[1] and hi >= levels[0]:
        return None  # at an analysed level: answered from it
    # ending within the margin of the analysed levels: only its edge may be there
    edge = lo - _OFF_MARGIN_MM <= levels[1] and hi + _OFF_MARGIN_MM >= levels[0]
    where = "below" if hi < levels[0] else "above"
    span = (
        f"MNI z = {levels[0]:+.0f} mm"
        if levels[0] == levels[1]
        else f"MNI z = {levels[0]:+.0f} to {levels[1]:+.0f} mm"
    )
    volume = bool((c.evidence.scan_summary or {}).get("volume_analysis"))
    what = "the levels the detector analysed" if volume else "the analysed slice"
    there = "At those levels" if volume else "On that slice"
    found = (
        f"{there} it found: " + "; ".join(c.describe(t) for t in c.targets) + "."
        if c.findings
        else f"{there} {c.no_findings()}."
    )
    plural = name.endswith(
        ("i", "lobes", "poles", "orbits", "globes", "nerves", "tonsils", "ventricles")
    )
    if edge:
        return (
            f"I can't tell for {'most of them' if plural else 'most of it'}: the {name} "
            f"{'lie' if plural else 'lies'} {where} {what} ({span}), at about MNI z = {lo:+.0f} "
            f"to {hi:+.0f} mm, and at most {'their' if plural else 'its'} edge reaches "
            f"{'them' if volume else 'it'}, so the detector says nothing about the rest. "
            f"{found}{c.scope()}"
        )
    return (
        f"I can't tell: the {name} {'are' if plural else 'is'} not on {what} ({span}); "
        f"{'they lie' if plural else 'it lies'} {where} {'them' if volume else 'it'} (about MNI "
        f"z = {lo:+.0f} to {hi:+.0f} mm), so the detector says nothing about "
        f"{'them' if plural else 'it'}. {found}{c.scope()}"
    )


def presence_at_a_place(c: CaseFacts) -> str | None:
    """ "Anything in the brainstem?" / "... in the right frontal lobe?" when the displayed slice has
    no finding and the volume analysis found 3D findings with atlas region names: whether any of
    them lies there ("No" when none does, naming where they lie). None when the question names
    no place, or a finding has no region names (then the plain presence answer stands)."""
    volume = c.volume_findings()
    side, structure = named_place(c.question)
    if not volume or not (side or structure):
        return None
    words = STRUCTURES.get(structure or "", ())

    def lies_there(d: dict) -> bool | None:
        if side and d.get("side_frame") != "patient":
            return None
        names = [str(r.get("name", "")) for r in d.get("regions") or [] if r.get("label") != 0]
        if structure and not names:
            return None
        on_side = (
            not side or d.get("side") in (side, "midline") or any(n.startswith(side) for n in names)
        )
        in_it = not structure or any(w in n for n in names for w in words)
        return on_side and in_it

    there = [lies_there(v.data) for v in volume]
    if any(t is None for t in there) or any(there):
        return None
    named = f"{structure}{' lobe' if structure in _LOBES else ''}" if structure else "side"
    place = f"the patient's {side} {named}" if side else f"the {named}"
    lead = "No"
    if yes_no_question(c.question) and yes_means_normal(c.question):
        lead = "Yes, nothing was found there"
    listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
    return (
        f"{lead}: at the analysed levels of the volume the detector found no region in {place} "
        "(anatomical names from an atlas registered to the volume, right to a few mm). It found "
        f"{count_word(len(volume), 'region')} in 3D elsewhere: {listing}.{c.scope()}"
    )


def is_a_3d_finding_real(c: CaseFacts) -> str | None:
    """ "Is V1 real?" / "Is V2 just noise?" about 3D findings the question names (weak ones
    included): a weak one (one analysed level only) is "probably not"; a finding with a
    calibrated confidence is "probably" / "probably not" by it; with an uncalibrated number, "I
    can't put a probability on it" and why. None when the question names no 3D finding."""
    named = {m.upper() for m in re.findall(r"\b[vV]\d{1,3}\b", c.question)}
    items = [v for v in c.evidence.by_kind("volume_finding") if v.id in named]
    if not items or not (REALITY.search(c.q) or ARTEFACT.search(c.q)):
        return None
    negative = bool(ARTEFACT.search(c.q)) or yes_means_normal(c.question)
    no, yes = (
        ("Yes, possibly", "No, probably not") if negative else ("No, probably not", "Yes, probably")
    )
    parts = []
    for v in items:
        d = v.data
        if d.get("weak"):
            parts.append(
                f"{no}: {v.id} was seen on one analysed level only, which the detector counts as "
                "weak evidence (it does not make the volume abnormal); regions on one level are "
                f"often noise, partial-volume effects or normal variation. {v.text} {cite(v.id)}."
            )
        elif d.get("confidence_level") in (None, "uncalibrated"):
            parts.append(
                f"I can't put a probability on {v.id}: this detector setting has no fitted "
                "confidence, so its number is only how its peak compares with healthy "
                f"validation scans, and the detector cannot confirm that a region is a true "
                f"lesion. {v.text} {cite(v.id)}."
            )
        else:
            p = float(d.get("confidence") or 0.0)
            parts.append(
                f"{yes if p >= 0.5 else no}: {v.id}'s confidence, the estimated probability "
                f"that a region like it is a true lesion, is {p:.2f}. {v.text} {cite(v.id)}."
            )
    return " ".join(parts) + c.scope()


def from_volume(c: CaseFacts) -> str:
    """Where / which side / how big / how bright / how many, when the displayed slice has no
    finding but the volume analysis found 3D findings (V1..) at other analysed levels: answered
    from those, with the first word a benchmark scores and the scope of the analysis."""
    volume = c.volume_findings()
    data = [v.data for v in volume]
    intent = c.resolved.intent
    if intent == "location" and asks_which_slice(c.question):
        return which_slices(c)
    closed = yes_no_question(c.question)
    lead = ""
    if intent == "count":
        lead = ("Yes" if len(volume) > 1 else "No") if closed else str(len(volume))
    elif intent == "side":
        ask = side_question(c.question)
        sides = [d.get("side") for d in data]
        if ask.sides and not ask.choice:
            lead = "Yes" if ask.sides[0] in sides else "No"
        elif len(set(sides)) == 1 and sides[0]:
            patient = data[0].get("side_frame") == "patient"
            lead = sides[0].capitalize() if patient else f"Image {sides[0]}"
        else:
            lead = "Both sides"
    elif intent == "intensity":
        kinds = {d.get("intensity") for d in data}
        hyper, hypo = re.search(r"hyper|bright|white", c.q), re.search(r"hypo|dark|black", c.q)
        if closed and bool(hyper) != bool(hypo):
            lead = "Yes" if ("hyperintense" if hyper else "hypointense") in kinds else "No"
        elif len(kinds) == 1:
            lead = str(next(iter(kinds))).capitalize()
    elif intent == "size" and len(data) == 1 and data[0].get("volume_mm3") is not None:
        lead = f"About {data[0]['volume_mm3']:.0f} mm³"
    elif intent == "location" and len(volume) == 1:
        d = data[0]
        names = [r["name"] for r in d.get("regions") or [] if r.get("label") != 0]
        if not names and d.get("tissue"):
            names = [d["tissue"]["tissue"]]
        lead = ", ".join([str(d.get("side")), " / ".join(names)] if names else [str(d.get("side"))])
        lead = upper_first(lead)
    listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
    n = len(volume)
    return (
        f"{lead + '. ' if lead else ''}Nothing was found on the displayed slice, but the "
        f"detector found {count_word(n, 'region')} in 3D at other analysed levels of the volume: "
        f"{listing}.{c.crossing(volume)}{c.scope()}"
    )


# what a negative reading does not cover, with the measured figure (the README's "Small
# lesions": presence on validation slices with one small synthetic lesion, 0.33)
SMALL_ONES_MISSED = (
    " It misses most small lesions (of validation slices with one small synthetic lesion, up "
    "to about 200 mm², it flagged a third) and can miss subtle ones"
)


def _presence(c: CaseFacts) -> str:
    negative = yes_means_normal(c.question)
    closed = yes_no_question(c.question)
    term = named_kind(c.q)
    if not c.detection_ran:
        return (
            "I can't tell: anomaly detection was not run for this scan, so there is no "
            "evidence about abnormalities."
        )
    below = c.findings or c.weak
    if below and c.detector.get("is_abnormal") is False:
        # regions above the pixel threshold, but the image as a whole is within the range
        # of healthy scans: report them without calling the scan abnormal
        lead = (
            ("Yes, probably" if negative else "No, not clearly")
            if closed
            else ("No clear abnormality")
        )
        if closed and negative and term is not None:
            # "r/o mets": nothing clear, but that does not exclude the kind named
            lead = f"Nothing clear was found, yes, but that does not rule out {_a(_singular(term.group(0)))}"
        n = len(below)
        return (
            f"{lead}: the image score is below the detector's calibrated threshold, so the "
            "analysed image as a whole looks like the healthy training scans. "
            f"{count_word(n, 'weaker region').capitalize()} exceeded the pixel threshold "
            "without reaching the image threshold and may be noise or normal variation: "
            + "; ".join(c.describe(f) for f in below[:3])
            + "."
            + c.uncertainty()
            + (SMALL_ONES_MISSED + "." if not term else "")
            + _not_excluded(term, c)
        )
    if c.findings:
        # "There's no bleed, is there?": a bare "No." could be read as agreeing, so say which way
        lead = ("No, not normal. " if negative else "Yes. ") if closed else ""
        best_found = max(f.data.get("confidence") or 0.0 for f in c.findings)
        calibrated = all(f.data.get("confidence_level") != "uncalibrated" for f in c.findings)
        if closed and calibrated and best_found < 0.5:
            # a region more likely false than true (confidence 0.38): not a plain "Yes"
            lead = (
                "No, not clearly normal: only a low-confidence region was found. "
                if negative
                else "Yes, but only a low-confidence region, more likely a false positive than not. "
            )
        asks_real = closed and bool(REALITY.search(c.q) or ARTEFACT.search(c.q))
        if asks_real:
            # "Is the red blob a real lesion?", "Is F1 just artefact?": the detector cannot
            # confirm that; its confidence is the estimated probability that a region like
            # this is a true lesion
            best = max(f.data.get("confidence") or 0.0 for f in c.findings)
            if negative:
                lead = "No, probably not. " if best >= 0.5 else "Yes, possibly. "
            else:
                lead = "Yes, probably. " if best >= 0.5 else "No, probably not. "
            if _NOISE_OR_LESION.search(c.q):
                # "noise vs lesion?": an either/or, answered with one of the two
                lead = (
                    "More likely a true lesion than noise or an artefact, going by its confidence. "
                    if best >= 0.5
                    else "More likely noise or a false alarm than a true lesion, going by its "
                    "confidence. "
                )
        n = len(c.findings)
        kind = _kind_caveat(term, n)
        if term is not None and lead == "No, not normal. ":
            # "No haemorrhage, correct?": not confirmed, and not a finding of haemorrhage either
            kind = " The detector measures deviation from healthy anatomy, not what it is."
            lead = (
                f"No, not normal: {'a region deviates' if n == 1 else 'regions deviate'} from "
                f"healthy anatomy, but whether {'it is' if n == 1 else 'any of them is'} "
                f"{_a(_singular(term.group(0)))} cannot be determined by this detector. "
            )
        if term is not None and lead == "Yes. ":
            # "Haemorrhage?", "lacunar infarct in the R?": something deviates, but a leading
            # "Yes" would read as the kind named; what it is, this detector cannot tell
            kind = " The detector measures deviation from healthy anatomy, not what it is."
            lead = (
                f"{'A region deviates' if n == 1 else 'Regions deviate'} from healthy anatomy, "
                f"yes, but I can't tell whether {'it is' if n == 1 else 'any of them is'} "
                f"{kinds_asked(term.string, term)}: the detector does not tell kinds of lesion "
                "apart. "
            )
        if term is not None and lead.startswith("Yes, but only a low-confidence region"):
            # "febrile pt, abscess??" with a region more likely false than true: what it is, the
            # detector cannot tell either
            kind = ""
            lead = (
                "A low-confidence region deviates from healthy anatomy, yes, but I can't tell "
                f"whether it is {_a(_singular(term.group(0)))}: the detector does not tell kinds "
                "of lesion apart, and this region is more likely a false positive than not. "
            )
        if term is not None and c.evidence.unreliable and lead.startswith(_A_YES):
            # "Any MS plaques?" of a scan analysed anyway: its regions are not evidence of a kind
            kind = ""
            name = "MS" if term.group(0) in ("ms", "ms lesion", "ms lesions") else term.group(0)
            lead = (
                f"I can't tell whether what it flagged here is {_a(_singular(name))}: on a scan "
                "outside its domain what the detector flags is not evidence of any kind "
                "of lesion, and it does not tell kinds of lesion apart even on scans it accepts. "
            )
        text = (
            f"{lead}The detector found {count_word(n, 'region')} that "
            f"{'deviates' if n == 1 else 'deviate'} from the healthy training distribution: "
            + "; ".join(c.describe(f) for f in c.findings)
            + "."
        )
        if asks_real:
            text += (
                " The detector cannot confirm that a region is a true lesion: its confidence is "
                "the estimated probability that a region like this is one."
            )
        return text + kind + c.uncertainty()
    if c.detector.get("is_abnormal"):
        lead = "No, not clearly" if negative else "Yes, but only weakly"
        return (
            f"{lead}: the image as a whole scores above the detector's threshold, but no "
            "localised region exceeded the pixel threshold." + c.uncertainty()
        )
    if c.detection_ran and c.detector.get("score_threshold") is None:
        # a checkpoint trained but never calibrated (`assistant train` without --val): no
        # thresholds, so no regions and no call either way
        score = c.detector.get("score")
        scored = f"; its image anomaly score is {score:.3g}" if score is not None else ""
        params = c.detector.get("params") or {}
        setting = "/".join(str(params[k]) for k in ("method", "preset") if params.get(k))
        which = f" for this setting ({setting})" if setting else ""
        return (
            f"I can't tell: the detector has no thresholds{which}, so it marks no regions and "
            f"calls the image neither normal nor abnormal{scored}{c.d1()}. Either the checkpoint "
            "was never calibrated, or this method/preset was not: a calibrated preset (the CLI "
            "names them), or calibrating this one on healthy scans it was not trained on "
            "(`assistant calibrate --detector DIR --healthy FOLDER`), gives the thresholds."
        )
    if not closed:
        text = f"Nothing abnormal was found: {c.no_findings()}."
    elif negative and term is not None:
        # "pls confirm no MS lesions", "can you exclude a met?": none found, but not excluded
        text = (
            f"Nothing was found, yes, but that does not rule out {_a(_singular(term.group(0)))}: "
            f"{c.no_findings()}."
        )
    else:
        lead = "Yes, as far as this detector can tell" if negative else "No"
        text = f"{lead}: {c.no_findings()}."
    if c.detector.get("score_threshold") is None:
        text += " The detector is uncalibrated, so this is not a reliable negative."
    else:
        text += c.uncertainty()
    miss = SMALL_ONES_MISSED
    if closed and negative and term is not None:  # the lead said it is not ruled out: why
        return f"{text}{miss}, and {c.compared()}."
    return text + miss + "." + _not_excluded(term, c)


# "noise vs lesion?", "real lesion or artefact?": which of the two, not yes/no
_NOISE_OR_LESION = re.compile(
    r"\b(noise|artefact\w*|artifact\w*)\s*(vs\.?|versus|or)\s*(a |an |the )?(real |true )?"
    r"(lesion|finding|abnormality)\b|\b(lesion|finding|abnormality)\s*(vs\.?|versus|or)\s*"
    r"(a |an |just )?(noise|artefact\w*|artifact\w*)\b"
)
# the leads of a "yes" to a named kind or a qualified lesion: "Yes, ...", "A region deviates
# from healthy anatomy, yes, but I can't tell whether it is ..."
_A_YES = ("Yes", "A region deviates", "Regions deviate", "A low-confidence region deviates")


def _not_excluded(term, c: CaseFacts) -> str:
    """For a negative answer about a named kind of lesion ("Any sign of a bleed?"): what the
    negative does not exclude."""
    if not term:
        return ""
    return (
        f" On its own, this reading cannot rule out {_a(_singular(term.group(0)))}: {c.compared()}."
    )


def _singular(term: str) -> str:
    """ "plaques" -> "plaque", "masses" -> "mass", "metastases" -> "metastasis", "ms lesions"
    -> "MS lesion"."""
    words = term.split()
    last = words[-1]
    if last.endswith("ases") and last.startswith("metast"):
        last = last[:-4] + "asis"
    elif last.endswith("sses"):
        last = last[:-2]
    elif last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"  # "secondaries" -> "secondary"
    elif last == "emboli":
        last = "embolus"
    elif last.endswith("s") and not last.endswith(("ss", "sis", "us", "itis")) and last != "ms":
        last = last[:-1]
    words = [*words[:-1], last]
    if words == ["sol"]:
        return "space-occupying lesion"
    if words in (["met"], ["mets"]):
        return "metastasis"
    if words == ["sah"]:
        return "subarachnoid haemorrhage"
    if words[-1].startswith("toxo"):  # "toxo", "toxoplasmosis": the infection, uncountable
        return "toxoplasmosis"
    acronyms = {"ms": "MS", "avm": "AVM", "avms": "AVM", "gbm": "GBM", "sah": "SAH", "sdh": "SDH"}
    return " ".join(acronyms.get(w, w) for w in words)


def _a(noun: str) -> str:
    """The noun with its indefinite article ("a tumour", "an infarct"); uncountable and
    proper names without one."""
    uncountable = ("multiple sclerosis", "oedema", "edema", "cancer", "haemorrhage", "hemorrhage")
    uncountable += ("blood", "blood products", "ischaemia", "ischemia", "demyelination", "gliosis")
    uncountable += ("bleeding", "haemorrhaging", "hemorrhaging", "toxoplasmosis")
    if (
        noun in uncountable
        or noun == "MS"
        or noun.endswith(" disease")
        or noun.startswith(("haemorrhagic ", "hemorrhagic "))
        or noun.endswith("itis")  # "encephalitis", "cerebritis"
    ):
        return noun
    first = noun.split()[0] if noun.split() else noun
    if first.isupper():  # an acronym, said letter by letter: "an MS lesion", "an AVM", "a GBM"
        vowel = first[:1] in "AEFHILMNORSX"
    else:
        vowel = noun[:1] in "aeiou"
    return ("an " if vowel else "a ") + noun


def unassessed_note(term: str) -> str:
    """The note added to a presence answer that names something the detector does not assess
    ("Any white matter lesions?", "Is there an enhancing lesion?")."""
    return (
        f" The detector does not assess {term} specifically: it reports regions that deviate "
        "from healthy anatomy, not which structures they involve or how they look after "
        "contrast."
    )


# ----------------------------------------------------------------------------- sides
def _mirror(side: str) -> str:
    return {"left": "right", "right": "left"}.get(side, side)


def _image_side(c: CaseFacts, f: dict) -> str | None:
    """The side of the IMAGE (as displayed) a finding is on: its side in the image frame, or
    converted from the patient's frame with the scan's orientation; None when unknown."""
    if f.get("side_frame") != "patient":
        return f["side"]
    patient_left = (c.evidence.scan_summary or {}).get("patient_left")
    if patient_left not in ORIENTATIONS:
        return None
    return f["side"] if patient_left == "image_left" else _mirror(f["side"])


def _known(items: list[EvidenceItem]) -> bool:
    """Whether every finding's side is in the patient's frame (the orientation is known)."""
    return all(i.data.get("side_frame") == "patient" for i in items)


def _side_detail(c: CaseFacts, f: dict) -> str:
    """ "on the patient's left (the image left)" / "on the left side of the image"."""
    phrase = c.side_phrase(f)
    if f.get("side_frame") == "patient" and f["side"] != "midline":
        shown = _image_side(c, f)
        if shown is not None:
            phrase += f" (shown on the image {shown})"
    return phrase


def _side_word(c: CaseFacts, f: dict, frame: str) -> str:
    """The one-word side of a finding in `frame` ("patient": "left"; "image": "image left");
    a midline finding says which way it leans."""
    lean = lean_of(f, "side")
    if frame == "image":
        side = _image_side(c, f) or f["side"]
        if f["side"] == "midline":
            lean = _image_side(c, {**f, "side": lean}) if lean else None
            return f"midline, slightly to the image {lean}" if lean else "midline"
        return f"image {side}" if f.get("side_frame") != "patient" else side
    return leaning(f, "side")


def _unknown_note(sides: set[str]) -> str:
    """Why the patient's side is unknown, and what it would be under either display
    convention."""
    text = " The patient's side is unknown: this file does not record the patient's orientation."
    if len(sides) == 1 and (s := next(iter(sides))) in ("left", "right"):
        return text + (
            f" In the radiological display convention (image left = the patient's right) the "
            f"image {s} is the patient's {_mirror(s)}; in the neurological convention it is "
            f"the patient's {s}."
        )
    return text + (
        " In the radiological display convention image left is the patient's right; in the "
        "neurological convention it is the patient's left."
    )


_WHICH_FRAME = re.compile(
    r"\b(patient'?s?|pts?'?s?) (left|right) or (just |only |merely |simply )?(the |on the )?image'?s?"
    r" (left|right)\b|"
    r"\bimage'?s? (left|right) or (the )?(patient'?s?|pts?'?s?) (left|right)\b"
)


def side(c: CaseFacts) -> str:
    """Left or right: "Left" / "Right" (the patient's side) when the scan records its
    orientation, "Image left" / "Image right" with the patient's side unknown otherwise; "Yes"
    / "No" to a question about one side, "I can't tell" when it names the patient's side of a
    scan without orientation."""
    ask = side_question(c.question)
    if not c.findings:
        if c.detection_ran and ask.sides and not ask.choice and yes_no_question(c.question):
            # "Is the right hemisphere clear?", "tumour left side?", "left frontal lobe ok?":
            # a yes/no about one side, with nothing found anywhere
            lead = "Yes, nothing was found" if yes_means_normal(c.question) else "No"
            return f"{lead}: {c.no_findings()}." + c.scope()
        return c.nothing_found("There is nothing to lateralise")
    known = _known(c.targets)
    if not known and _WHICH_FRAME.search(c.q):
        # "Is it the patient's left or the image left?": the image's; the patient's is unknown
        sides = {
            s for t in c.targets if t.data["side"] != "midline" and (s := _image_side(c, t.data))
        }
        where = " and ".join(f"image {s}" for s in sorted(sides)) or "the midline"
        details = "; ".join(
            f"{t.id} lies {_side_detail(c, t.data)} {cite(t.id)}" for t in c.targets
        )
        return f"{upper_first(where)}; the patient's side is unknown. {details}." + _unknown_note(
            sides
        )
    details = "; ".join(f"{t.id} lies {_side_detail(c, t.data)} {cite(t.id)}" for t in c.targets)
    image_sides = {_image_side(c, t.data) for t in c.targets if t.data["side"] != "midline"}
    note = "" if known else _unknown_note({s for s in image_sides if s})
    if not ask.choice and ask.sides:  # "Is the lesion on the left (of the image)?"
        asked = ask.sides[0]
        # a named structure ("the right frontal lobe") is on the patient's side
        frame = ask.frame or ("patient" if known or side_structure(c.question) else "image")
        if frame == "patient" and not known:
            shown = "; ".join(f"{t.id} is {c.side_phrase(t.data)}" for t in c.targets)
            if image_sides >= {"left", "right"}:
                # regions on both sides of the image: one is on the patient's asked side,
                # whichever way the image is displayed
                lead = "No" if yes_means_normal(c.question) else "Yes"
                place = (
                    " (the detector does not tell which structure a region is in)"
                    if structure_phrase(c.q)
                    else ""
                )
                return (
                    f"{lead}, whichever way the image is displayed: regions lie on both sides of "
                    f"the image, so one of them is on the patient's {asked}{place}, but which one "
                    f"is unknown. {shown} {_cites(c)}." + note
                )
            return f"I can't tell which side of the patient it is on: {shown} {_cites(c)}." + note
        values = [
            t.data["side"] if frame == "patient" else _image_side(c, t.data) for t in c.targets
        ]
        if any(v is None for v in values):
            return f"I can't tell which side of the image it is shown on: {details}."
        invert = bool(re.search(r"\bnot (on|in|to) (the )?(left|right|patient)", c.q))
        # "Is the right hemisphere clear?": yes when nothing is on that side
        invert ^= yes_means_normal(c.question)
        hit = any(v == asked for v in values)
        place = structure_phrase(c.q)
        if hit and not invert and place and not c.volume_findings():
            # "Is there a lesion in the right basal ganglia?": yes on that side, but the
            # detector does not tell the structure (nor the kind of lesion, if one is named)
            kind = named_kind(c.q)
            what = f" or whether it is {_a(_singular(kind.group(0)))}" if kind else ""
            where = c.side_phrase(
                next(t.data for t, v in zip(c.targets, values, strict=True) if v == asked)
            )
            return (
                f"Yes, {where}, but whether it lies in the {place}{what} I can't tell: the "
                "detector does not identify anatomical structures on a slice"
                + (" or what a region is" if kind else "")
                + f". {details}."
                + note
            )
        lead = "Yes" if hit != invert else "No"
        if frame == "image" and not ask.frame and not known:
            # "Is it on the left?", "The right side is normal, isn't it?" of an image without
            # orientation: the image's side, said so
            if not invert and re.search(rf"\b(on|to|in|at) the {asked}\b", c.q):
                lead += f", {'' if hit else 'not '}on the image's {asked}"
            elif invert and re.search(rf"\bthe {asked}( side| half| hemisphere)?\b", c.q):
                lead += f" for the image's {asked} side"
        return f"{lead}. {details}." + note
    frame = "image" if (ask.frame == "image" or not known) else "patient"
    words = [_side_word(c, t.data, frame) for t in c.targets]
    if len(set(words)) == 1:
        lead = words[0]
    elif _singular_question(c) and not c.resolved.finding_ids:
        # "Is the lesion on the left or right?" with regions on both sides: the strongest
        # region (F1) first, then the others
        lead = f"{words[0]} for {c.targets[0].id}, the strongest region"
    else:
        lead = "both sides of the image" if frame == "image" else "both sides"
    also = ""
    if known and re.search(
        r"\b(sure|certain|confident|trust|orientation|header|flipped|mirrored)\b", c.q
    ):
        # "How sure are you about the side, given NIfTI orientation issues?"
        also += (
            " The side comes from the file's header (its orientation): if the header is wrong, as "
            "in a flipped or mislabelled export, the sides are wrong too."
        )
    if frame == "image" and known and not ask.both_frames:
        also = " The scan records the patient's orientation, so the sides are also the patient's."
    return f"{upper_first(lead)}. {details}." + note + also


# a named structure a question places something in ("the right basal ganglia", "the left MCA
# territory", "the frontal lobe"): not a hemisphere or side, which the detector does tell
_STRUCTURE_PHRASE = re.compile(
    r"\b(?:in|within|of|involving|at) the ((?:(?:left|right) )?(?:(?:frontal|parietal|temporal|"
    r"occipital|insular|limbic) lobes?|basal ganglia|thalam\w*|internal capsule|corona radiata|"
    r"centrum semiovale|insula|caudate|putamen|periventricular (?:white matter|region)|"
    r"(?:deep |subcortical )?white matter|cortex|(?:mca|aca|pca|middle cerebral|anterior "
    r"cerebral|posterior cerebral|watershed)(?: artery)? territory|(?:frontal|parietal|temporal|"
    r"occipital) (?:region|cortex|white matter)))\b"
)


def structure_phrase(q: str) -> str | None:
    """ "right basal ganglia" for "Is there a lesion in the right basal ganglia?": a named
    structure (not a hemisphere) that a question places a finding in, else None."""
    m = _STRUCTURE_PHRASE.search(q)
    if m is None:
        return None
    return re.sub(r"\b(mca|aca|pca)\b", lambda a: a.group(1).upper(), m.group(1))


def _singular_question(c: CaseFacts) -> bool:
    return bool(
        re.search(
            r"\b(the|this|that) (lesion|abnormality|anomaly|finding|region|mass|tumou?r|"
            r"spot|area|hyperintensity)\b|\bit\b",
            c.q,
        )
    )


def _cites(c: CaseFacts) -> str:
    return "".join(cite(t.id) for t in c.targets)


def in_3d(c: CaseFacts) -> str:
    """After a where / how big answer about the displayed slice of a volume analysed whole: its
    3D findings with their anatomical regions, native slices and volumes; "" otherwise."""
    volume = c.volume_findings()
    if not volume:
        return ""
    listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
    return f" In 3D, over the analysed levels of the volume: {listing}."


def which_slices(c: CaseFacts) -> str:
    """ "Which slice is the lesion on?": each 3D finding's native axial slices (a volume analysed
    whole), else the displayed slice's findings, saying what was analysed."""
    volume = c.volume_findings()
    shown = (c.evidence.scan_summary or {}).get("slice_index")
    if volume:
        ranges = [f"{v.data['slice_range'][0]}-{v.data['slice_range'][1]} ({v.id})" for v in volume]
        lead = f"Axial slice{'s' if len(ranges) > 1 or '-' in ranges[0] else ''} " + (
            ", ".join(ranges[:-1]) + " and " + ranges[-1] if len(ranges) > 1 else ranges[0]
        )
        here = ""
        if c.findings and shown is not None:
            here = (
                f" On the displayed slice, {shown}: "
                + "; ".join(f"{t.id} {cite(t.id)}" for t in c.findings)
                + "."
            )
        listing = "; ".join(f"{v.text} {cite(v.id)}" for v in volume)
        return f"{lead}.{here} In 3D: {listing}.{c.scope()}"
    if not c.findings:
        here = "" if shown is None else f" The displayed slice is slice {shown}."
        return c.nothing_found("There is nothing to locate") + here
    ids = ", ".join(t.id for t in c.targets)
    if shown is None:
        verb = "lies" if len(c.targets) == 1 else "lie"
        lead = f"This image is a single 2D slice, and {ids} {verb} on it"
    else:
        lead = f"Slice {shown}, the displayed slice, holds {ids}"
    details = "; ".join(
        f"{t.id} lies {_side_detail(c, t.data)}, {ap_phrase(t.data)}, "
        f"{position_words(t.data)[1]} {cite(t.id)}"
        for t in c.targets
    )
    return f"{lead}. {details}.{c.scope()}"


def location(c: CaseFacts) -> str:
    """Where: side (in the frame the scan allows), front/back and depth; "Yes"/"No" to a
    question about one of them; "Anterior"/"Posterior" first to a front-or-back question;
    "which slice" with the slices of a volume's 3D findings."""
    if asks_which_slice(c.q):
        return which_slices(c)
    if not c.findings:
        return c.nothing_found("There is nothing to locate")
    words = set(re.findall(r"[a-z]+", c.q))
    ap_map = {"anterior": "anterior", "front": "anterior", "posterior": "posterior"}
    ap_map["back"] = "posterior"
    ap_asked = {ap_map[w] for w in words if w in ap_map}
    invert = bool(re.search(r"\bnot (in|at|on|towards?) the\b", c.q))
    details = "; ".join(
        f"{t.id} lies {_side_detail(c, t.data)}, {ap_phrase(t.data)}, "
        f"{position_words(t.data)[1]} {cite(t.id)}"
        for t in c.targets
    )
    known = _known(c.targets)
    note = (
        ""
        if known
        else _unknown_note(
            {s for t in c.targets if t.data["side"] != "midline" and (s := _image_side(c, t.data))}
        )
    )
    if _closed(c) and len(ap_asked) == 1 and not ({"left", "right"} & words):
        return _yes_no(c, "anterior_posterior", ap_asked.pop(), invert) + details + "."
    if ap_asked:
        values = {leaning(t.data, "anterior_posterior") for t in c.targets}
        lead = values.pop().capitalize() if len(values) == 1 else "Both"
        return f"{lead}. {details}." + note
    frame = "patient" if known else "image"
    leads = {
        f"{_side_word(c, t.data, frame)}, {position_words(t.data)[0]}, {position_words(t.data)[1]}"
        for t in c.targets
    }
    lead = upper_first(leads.pop()) if len(leads) == 1 else "Several places"
    return f"{lead}. {details}." + note


def _yes_no(c: CaseFacts, key: str, value: str, invert: bool) -> str:
    hit = any(t.data[key] == value for t in c.targets)
    return "Yes. " if hit != invert else "No. "


_DIAMETER = re.compile(
    r"\b(diameters?|across|widest|longest|length|width|dimensions?|axis|axes|cm|centimet\w*|"
    r"how (long|wide))\b"
)


# how the flagged area compares with a lesion's, measured on val slices with synthetic lesions
# (`eval/results/detection_val_area_ratio.json`: median 4.0x small, 1.3x medium, 0.72x large)
def size_caveat(c: CaseFacts) -> str:
    """How far a size measured on the flagged region is from the lesion's, as measured."""
    small = "a small lesion's area" + (" (up to about 200 mm²)" if c.spacing() else "")
    return (
        " Sizes are measured on this slice, on the thresholded anomaly region, not on the "
        "lesion's boundary: on validation slices with synthetic lesions that region was a "
        f"median 4 times {small}, 1.3 times a medium one's and 0.7 times a large one's, so "
        "small lesions come out too big and large ones too small."
    )


def size(c: CaseFacts) -> str:
    if not c.findings:
        return c.nothing_found("There is nothing to measure")
    details = "; ".join(f"{t.id} covers {c.size_phrase(t.data)} {cite(t.id)}" for t in c.targets)
    caveat = size_caveat(c)
    m = re.search(
        r"\b(larger|bigger|greater|more|wider|longer|over|smaller|less|shorter|under)\b"
        r"(?:\s+than)?\s+(\d+(?:\.\d+)?)\s*(mm|millimet\w*|cm|centimet\w*)",
        c.q,
    )
    if m:
        limit = float(m.group(2)) * (10.0 if m.group(3).startswith("c") else 1.0)
        larger = m.group(1) in (
            "larger",
            "bigger",
            "greater",
            "more",
            "wider",
            "longer",
            "over",
        )
        extents = [c.extent_mm(t.data) for t in c.targets]
        if any(e is None for e in extents):
            return (
                "I can't tell: the scan has no pixel spacing, so sizes are known only in "
                f"pixels. {details}."
            )
        biggest = max(max(e) for e in extents)  # type: ignore[arg-type]
        hit = biggest > limit if larger else biggest < limit
        return (
            f"{'Yes' if hit else 'No'}. The largest extent is about {biggest:.0f} mm "
            f"(limit {limit:.0f} mm): {details}." + caveat
        )
    asked = {SIZE_WORDS[w] for w in re.findall(r"\b(" + "|".join(SIZE_WORDS) + r")\b", c.q)}
    if _closed(c) and asked:
        bins = {t.id: _size_bin(c, t.data) for t in c.targets}
        named = "; ".join(f"{i} is {b}" for i, b in bins.items())
        if len(asked) > 1:  # "small, medium or large?": answer with the class
            found = list(dict.fromkeys(bins.values()))
            lead = " and ".join(found).capitalize()
        elif asked & set(bins.values()):  # "Is the lesion large?"
            lead = "Yes"
        elif set(bins.values()) == {"medium"}:  # "Is it big?" of a medium one: not a bare No
            lead = "Medium-sized, neither small nor large by these classes"
        else:
            lead = "No"
        return f"{lead}. {named} ({_size_classes(c, c.targets)}): {details}." + caveat
    volume_asked = re.search(r"\b(volume|cubic|ml|millilit\w*|cc|cm3|cm³|mm3|mm³)\b", c.q)
    if len(c.targets) == 1 and _DIAMETER.search(c.q) and not volume_asked:
        # "What's the maximum diameter in cm?": a length, in the unit asked
        f = c.targets[0].data
        ext = c.extent_mm(f)
        if ext is None:
            r0, c0, r1, c1 = f["bbox"]
            lead = f"About {max(r1 - r0, c1 - c0)} pixels across at its widest (no pixel spacing)."
        elif re.search(r"\b(cm|centimet\w*)\b", c.q):
            lead = f"About {max(ext) / 10:.1f} cm at its widest along the image axes."
        else:
            lead = f"About {max(ext):.0f} mm at its widest along the image axes."
        return f"{lead} {details}." + caveat
    if len(c.targets) == 1:
        f = c.targets[0].data
        lead = (
            f"About {f['area_mm2']:.0f} mm²."
            if f.get("area_mm2") is not None
            else f"{f['area_px']} pixels."
        )
        return f"{lead} {details}." + caveat
    return f"{details}." + caveat


def _size_classes(c: CaseFacts, targets: list[EvidenceItem]) -> str:
    """What the size classes mean for these findings: mm² edges when their area in mm² is
    known, else THOR's edges scaled from 128x128 to this image's pixels."""
    lo, hi = SIZE_EDGES_MM2
    shape = (c.evidence.scan_summary or {}).get("shape") or None
    if all(t.data.get("area_mm2") is not None for t in targets) or not shape:
        return (
            f"size classes: small up to {lo:.0f} mm², large above {hi:.0f} mm², as for brain "
            "lesions in THOR's protocol"
        )
    h, w = shape[-2:]
    small, medium = size_edges_px((h, w))
    return (
        f"size classes without a pixel spacing: small up to {small:.0f} "
        f"pixels, large above {medium:.0f} pixels on this {h}x{w} image "
        "(THOR's brain-lesion classes scaled from 128x128)"
    )


def _size_bin(c: CaseFacts, f: dict) -> str:
    shape = (c.evidence.scan_summary or {}).get("shape") or None
    return size_bin(f["area_px"], tuple(shape[-2:]) if shape else None, f.get("area_mm2"))


def count(c: CaseFacts) -> str:
    """How many regions (for a slice of a volume: on that slice, `CaseFacts.scope`)."""
    text = _count(c)
    return text + c.scope() if c.detection_ran else text


def _count(c: CaseFacts) -> str:
    n = len(c.findings)
    if not c.detection_ran:
        return f"I can't tell: {c.no_findings()}."
    listing = "".join(f" {c.describe(f)}." for f in c.findings)
    either = re.search(
        r"\b(single|one|solitary|isolated)\b.{0,20}\bor\b.{0,20}\b(multiple|several|more|many)\b|"
        r"\b(multiple|several|many)\b.{0,20}\bor\b.{0,20}\b(single|one|solitary)\b",
        c.q,
    )
    if either and n:
        # "Is it a single lesion or multiple?": which, not a yes/no
        lead = "Single" if n == 1 else "Multiple"
        return f"{lead}: the detector found {count_word(n, 'region')}.{listing}" + c.uncertainty()
    if _closed(c) and re.search(r"more than one|multiple|several", c.q):
        lead = "Yes" if n > 1 else "No"
        return f"{lead}. The detector found {count_word(n, 'region')}.{listing}" + (c.uncertainty())
    if n == 0:
        return f"0. {upper_first(c.no_findings())}." + c.uncertainty()
    return (
        f"{n}. The detector found {count_word(n, 'region')} that "
        f"{'deviates' if n == 1 else 'deviate'} from the healthy training distribution."
        f"{listing}" + c.uncertainty()
    )


_MIXED_ASK = re.compile(
    r"\b(heterogen\w*|mixed|inhomogen\w*|variegated|both (bright|dark|hyper|hypo)\w*|rim|ring|"
    r"(dark|bright|hypo\w*|hyper\w*) (centre|center|core|rim)|(?P<uniform>homogen\w*|uniform\w*))\b"
)


def intensity(c: CaseFacts) -> str:
    if not c.findings:
        return c.nothing_found("There is no region to characterise")
    hyper = re.search(r"hyper|bright|white|light", c.q)
    hypo = re.search(r"hypo|dark|black", c.q)
    details = "; ".join(
        f"{t.id} is {t.data['intensity']}: "
        + (
            f"{'brighter' if t.data['intensity_delta'] > 0 else 'darker'} than the "
            f"pseudo-healthy reconstruction by {abs(t.data['intensity_delta']):.2f} on a 0-1 "
            f"intensity scale{' on average' if signal_parts(t.data) else ''}{signal_parts(t.data)}"
            if t.data["intensity"] != "mixed"
            else "both brighter and darker parts"
        )
        + f" {cite(t.id)}"
        for t in c.targets
    )
    caveat = (
        " Intensity is relative to the detector's pseudo-healthy reconstruction of the same "
        "image, not an absolute signal measurement."
    )
    parted = [bool(signal_parts(t.data)) or t.data["intensity"] == "mixed" for t in c.targets]
    if _closed(c) and (ask := _MIXED_ASK.search(c.q)):
        # "Is the signal heterogeneous?", "Is it homogeneous?": whether it has parts of both
        uniform = bool(ask.group("uniform"))
        lead = ("No" if any(parted) else "Yes") if uniform else ("Yes" if any(parted) else "No")
        if not any(parted):
            details += ", without a clear part of the opposite signal"
        return f"{lead}. {details}." + caveat
    if _closed(c) and bool(hyper) != bool(hypo):
        want = "hyperintense" if hyper else "hypointense"
        hit = [t.data["intensity"] == want for t in c.targets]
        lead = "Yes" if any(hit) else "No"
        if any(h and p for h, p in zip(hit, parted, strict=True)):
            lead = "Yes, mostly"
        return f"{lead}. {details}." + caveat
    values = {t.data["intensity"] for t in c.targets}
    lead = values.pop().capitalize() if len(values) == 1 else "Both hyper- and hypointense"
    return f"{lead}. {details}." + caveat
