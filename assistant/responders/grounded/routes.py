"""The answers that take the place of the intent's own: the first of `ROUTES` that applies to a
question writes the answer ("Can you analyse it anyway?", "Would you pick up a 3 mm lesion?",
"Anything in the cerebellum?" above the cerebellum, a scan outside the detector's domain, a sign
it does not assess); `first_answer` falls back to the intent's own answer, with its notes on 3D
findings and anatomical structures. `afterwards` then adds the caveats."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import assistant.responders.grounded.answers_context as context
import assistant.responders.grounded.answers_findings as findings
import assistant.responders.grounded.answers_scope as scope
import assistant.responders.grounded.domain as domain
import assistant.responders.grounded.glossary as glossary
from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.turn import (
    Turn,
    lowered,
    plain_reading,
    premise,
    then,
    without_lead,
)
from assistant.responders.grounded.wording import (
    BONE_NOT_READ,
    CLOSED,
    DEVELOPMENT,
    FRACTURE,
    TISSUE,
    WEAK_INTENTS,
    cite,
)
from assistant.responders.intents import (
    Resolved,
    existential,
    yes_means_normal,
    yes_no_question,
)
from assistant.responders.intents.parse import (
    ANALYSE_THIS,
    CAPABILITIES,
    FINDING_TERMS,
    SENSITIVITY,
    WHAT_TO_UPLOAD,
    parse,
)
from assistant.responders.intents.text import normalise


def first_answer(t: Turn) -> str:
    """The answer before the caveats: the first route's that applies (its name kept in
    `t.route`), else the intent's own."""
    for route in ROUTES:
        if (text := route(t)) is not None:
            t.route = route.__name__
            return text
    return intents_own(t)


def analysed_anyway_as_asked(t: Turn) -> str | None:
    """ "ok analyse it anyway. what do you see" of a scan analysed anyway: it is, and what it
    flagged, with the warning."""
    if t.outside is None or not _ANYWAY.search(t.q) or not t.evidence.unreliable:
        return None
    return (
        domain.unreliable_prefix(t.outside)
        + "It is analysed anyway, as asked. What the detector flagged: "
        + lowered(plain_reading(t.case))
    )


def how_to_analyse_anyway(t: Turn) -> str | None:
    """ "Can you analyse it anyway?": yes, marked unreliable, and what that means here."""
    if t.outside is None or not _ANYWAY.search(t.q):
        return None
    return (
        'Yes: choose "analyse anyway" in the app (`--anyway` in the CLI) and the detector '
        "runs on it, but every result is then marked unreliable: the detector does not "
        f"apply to this image {cite(t.outside.id)}, so its heatmap and findings say nothing "
        "reliable about it."
    )


def another_body_part(t: Turn) -> str | None:
    """ "Is this chest X-ray normal?" about the uploaded image: the reason is A1, not a refusal of
    personal medical advice."""
    if t.outside is None or t.intent != "out_of_scope":
        return None
    ask = parse(t.question)
    if ask is None:
        return None
    if ask.cue != "another body part" and not _ON_THE_IMAGE.search(t.q):
        return None
    return domain.not_applicable(t.case, t.outside)


# "Staging CXR - any lung primary visible?": about what the uploaded image shows
_ON_THE_IMAGE = re.compile(
    r"\b(visible|seen|see|shows?|showing|on (this|the|that|my) (image|film|x-?ray|scan|picture|"
    r"study|slice)|cxr|x-?rays?|films?|radiographs?)\b"
)


def why_refused(t: Turn) -> str | None:
    """ "Why can't you analyse this?": the reasons are the answer [A1]."""
    if t.outside is None or not _WHY_REFUSED.search(t.q):
        return None
    return "Because t" + domain.not_applicable(t.case, t.outside).removeprefix("I can't tell. T")


def capabilities(t: Turn) -> str | None:
    """ "what can you do then": what the assistant answers, and of a scan it refused, that this
    one is outside what it reads and what it accepts."""
    if not CAPABILITIES.search(normalise(t.question)):
        return None
    text = (
        "This is a research tool: an anomaly detector, trained on healthy T1-weighted brain MRI "
        "only, marks the regions of an uploaded scan that deviate from them, and I answer "
        f"questions about what it found. I can tell you about {context.ANSWERABLE}."
    )
    if t.outside is not None and not t.evidence.unreliable:
        text += (
            " This scan, though, is outside what the detector reads, so about it I can only say "
            "why: " + lowered(context.what_to_upload(t.case))
        )
    return text


def meaning_of_a_term(t: Turn) -> str | None:
    """ "What does 'anomaly detector' mean in plain English?", "what does skull-stripped mean?":
    the term's meaning (not the scan's reading); for the words of a reading (score, threshold,
    weaker region, hyper/hypointense), then what this scan's reading says."""
    term = glossary.term_asked(t.question)
    if term is None:
        return None
    text = glossary.meaning(t.case, term)
    if t.analysed and term.name in (
        "anomaly score",
        "threshold",
        "weaker region",
        "hyperintense / hypointense",
    ):
        text += " On this scan: " + lowered(plain_reading(t.case))
        if t.outside is not None:
            text = domain.unreliable_prefix(t.outside) + text
    return text


def research_use_only(t: Turn) -> str | None:
    """ "Why does it say research use only? Can I still use it for my patient?": what that means
    for a clinician (not an explanation of the findings)."""
    if not _RESEARCH_USE.search(t.q):
        return None
    return (
        "Because it is a research tool, not a medical device: it has not been validated or "
        "approved for clinical use. Its detector learned from healthy adults' research scans and "
        "was tested on those and on synthetic lesions, not proven on patients in a clinical "
        "setting. So don't base decisions about your patient on it: act on the formal radiology "
        "report and your own assessment. You can use it alongside them, to look at the scan and "
        "discuss it, knowing that its reading may be wrong either way."
    )


def ventricles(t: Turn) -> str | None:
    """ "What are the dark butterfly shapes in the middle?": at the analysed level, the lateral
    ventricles (normal anatomy), and whether the detector flagged anything there."""
    if _WHERE_VENTRICLES.search(t.q) and t.outside is None and t.case.detection_ran:
        return (
            "The detector does not label anatomy, so it cannot point them out; in general terms: "
            "the brain has four ventricles, the two lateral ventricles (one in each hemisphere), "
            "the third ventricle in the midline between the thalami and the fourth in front of "
            "the cerebellum. At this axial level (about MNI z = +23 mm, through the bodies of the "
            "lateral ventricles) the lateral ventricles are the two dark, CSF-filled shapes either "
            "side of the midline in the middle of the brain; the third and fourth lie lower and "
            "are not on this slice."
        )
    if t.outside is not None or not _DARK_MIDDLE.search(t.q) or not t.case.detection_ran:
        return None
    if not re.search(r"\bwhat (is|are|'s|s)\b|\bwhat (do|does) .{0,40}\b(show|mean)\b", t.q):
        return None  # "Is there a dark area in the middle?": whether there is a finding
    text = (
        "Most likely the lateral ventricles: at this axial level (through the bodies of the "
        "lateral ventricles) the two dark shapes in the middle of the brain are these "
        "fluid-filled spaces, dark on a T1-weighted image because they hold CSF. They are "
        "normal anatomy, and the detector, which compares the slice with healthy scans that "
        "all have them, does not flag them for being there."
    )
    central = [f for f in t.found if re.search(r"\bhypointense\b.*\bdeep\b", t.case.describe(f))]
    if central:
        text += (
            " It did flag a dark region in the middle of the image, though, which you may mean: "
            + "; ".join(t.case.describe(f) for f in central)
            + "."
        )
    else:
        text += " What it found on this slice: " + lowered(plain_reading(t.case))
    return text


def dissemination(t: Turn) -> str | None:
    """ "Would this scan help with dissemination in space for McDonald criteria?": not from this
    tool's reading, and why."""
    if not _MCDONALD.search(t.q):
        return None
    return (
        "Not this tool's reading: dissemination in space (McDonald criteria) is judged from "
        "T2/FLAIR lesions counted in at least two of four areas (periventricular, cortical or "
        "juxtacortical, infratentorial, spinal cord), and dissemination in time from new or "
        "enhancing lesions. This detector reads one T1-weighted scan at a few levels, does not "
        "place regions in those areas or tell MS lesions from others, and cannot compare with "
        "earlier scans; a radiologist's read of the full study can."
    )


def ms_or_small_vessel(t: Turn) -> str | None:
    """ "How do you tell MS lesions from small vessel disease?": in general terms, and that
    this detector cannot."""
    if not _MS_OR_SVD.search(t.q):
        return None
    return (
        "In general terms, on MRI the pattern helps: MS lesions tend to be periventricular "
        "(often ovoid, at right angles to the ventricles), juxtacortical or cortical, "
        "infratentorial and in the spinal cord, and active ones may enhance; small vessel "
        "disease tends to affect the deep and subcortical white matter and the basal ganglia, "
        "spares the corpus callosum and the U-fibres, and comes with age and vascular risk "
        "factors. Both are read on FLAIR and T2 with the clinical picture. This detector "
        "cannot tell them apart: it reads one T1-weighted scan and does not tell kinds of "
        "lesion apart."
    )


def ring_differential(t: Turn) -> str | None:
    """ "what's the differential for a ring lesion? (MAGIC DR)": in general terms, and that a
    ring seen here is not enhancement."""
    if not _RING_DIFFERENTIAL.search(t.q):
        return None
    text = (
        "In general terms, the differential of a ring-enhancing lesion (the 'MAGIC DR' "
        "mnemonic) is metastasis, abscess, glioblastoma (high-grade glioma), a subacute infarct, "
        "a contusion, demyelination (tumefactive) and radiation necrosis or a resolving "
        "haematoma; lymphoma and toxoplasmosis in the immunocompromised. It applies to a ring "
        "that enhances after contrast: on one T1 image without contrast, as here, a ring of "
        "signal is not enhancement, and this detector does not tell kinds of lesion apart."
    )
    if t.analysed and t.found:
        text += " What it found: " + lowered(plain_reading(t.case))
        if t.outside is not None:
            text = domain.unreliable_prefix(t.outside) + text
    return text


def teaching(t: Turn) -> str | None:
    """ "Can you quiz me on this scan?", "teach me the anatomy on this slice": not what this
    tool does; what it can do instead."""
    if not _TEACH.search(t.q):
        return None
    return (
        "I can't teach or quiz: this research tool answers questions about what its anomaly "
        "detector found on this scan, and does not label anatomy. I can tell you about "
        f"{context.ANSWERABLE}. An anatomy atlas or a radiology teaching file is the place for "
        "the anatomy of a slice."
    )


def t1_contrast(t: Turn) -> str | None:
    """ "Why is white matter brighter on T1?": how T1 weighting shows tissue, in general terms."""
    if not _T1_CONTRAST.search(t.q):
        return None
    return (
        "In general terms: a T1-weighted image is bright where tissue recovers its "
        "magnetisation quickly (a short T1). White matter's myelin is rich in lipid, which "
        "shortens T1, so white matter is brighter than grey matter; water has a long T1, so "
        "CSF (in the ventricles and sulci) is dark; fat is bright. The detector itself does not "
        "measure tissue contrast: it compares the scan with healthy scans of the same kind."
    )


def another_sequence(t: Turn) -> str | None:
    """ "How would it look on T2?", "would it be bright on FLAIR?": there is no such image."""
    if not _OTHER_SEQUENCE.search(t.q):
        return None
    text = (
        "I can't tell: there is no T2, FLAIR or other sequence here, only this T1-weighted "
        "image, and the detector reads only that. In general terms many lesions that are dark "
        "on T1 are bright on T2 and FLAIR (they hold more water), while blood products, "
        "calcification and some other tissue vary; the other sequences of the study would show "
        "it."
    )
    if t.analysed and t.found:
        text += " On this T1 image: " + lowered(plain_reading(t.case))
    return text


def how_it_works(t: Turn) -> str | None:
    """ "Why was the model only trained on healthy people?", "so how would you find MS lesions
    then?": the normative idea, in brief."""
    if not _HOW_IT_WORKS.search(t.q):
        return None
    text = (
        "It learns what normal looks like, not what disease looks like: trained on healthy "
        "scans only, it rebuilds any scan as a healthy-looking version and flags where the scan "
        "differs (the anomaly map). That needs no labelled lesions and can flag a kind of "
        "lesion it never saw, but it cannot say what a flagged region is, and anything unlike "
        "its training scans (another sequence, a skull-stripped or tilted image) deviates too, "
        "which is why such scans are refused."
    )
    if t.outside is not None and not t.evidence.unreliable:
        text += " This scan was refused: " + lowered(
            domain.not_applicable(t.case, t.outside).removeprefix("I can't tell. ")
        )
    return text


def why_unreliable(t: Turn) -> str | None:
    """ "Why is the result marked unreliable?" of a scan analysed anyway: the check's reasons."""
    if t.outside is None or not t.evidence.unreliable or not _WHY_UNRELIABLE.search(t.q):
        return None
    reasons = " ".join(t.outside.data.get("reasons") or [])
    return (
        f"Because the scan is outside the detector's domain {cite(t.outside.id)} and was "
        f"analysed anyway at your request: {reasons} What the detector flags on such a scan is "
        "not evidence either way."
    )


def analyse_this(t: Turn) -> str | None:
    """ "analyse this pls": what the detector found (no yes/no to an imperative); of a scan it
    refused, that it can't, and why."""
    if not (ANALYSE_THIS.search(normalise(t.question)) or _LOOKING_AT.search(t.q)) or (
        _CAN_YOU_READ.search(t.q)
    ):
        return None
    if t.outside is None:
        return plain_reading(t.case)
    if t.evidence.unreliable:
        return None  # analysed anyway: the warning, then what it flagged (outside_the_domain)
    return "I can't analyse it: t" + domain.not_applicable(t.case, t.outside).removeprefix(
        "I can't tell. T"
    )


def is_it_a_brain_scan(t: Turn) -> str | None:
    """ "so is it a brain scan or not": whether the applicability check took it for the brain MRI
    the detector reads."""
    if not _IS_IT_A_BRAIN.search(t.q) or (t.outside is not None and t.evidence.unreliable):
        return None
    if t.term is not None or t.resolved.intent in ("next_steps", "similar_cases"):
        return None
    if re.search(
        r"\b(thickness|spacing|resolution|voxels?|pixels?|noise|contrast|sequence|field "
        r"strength|format)\b",
        t.q,
    ):
        return None  # "Is the slice thickness OK for this detector?": the property's own answer
    if t.outside is not None:
        return "Not one this detector can read: t" + domain.not_applicable(
            t.case, t.outside
        ).removeprefix("I can't tell. T")
    ask = "did the scan pass the applicability check?"
    return context.modality(replace(t.case, question=ask, q=ask))


# "Would a post-contrast T1 be accepted?", "Would you accept a FLAIR?", "Can I send a zipped
# DICOM folder instead?", "What file format should I export?", "Does a JPEG work as well as a
# DICOM?", "Should I send the whole series instead of this one slice?"
_INPUT = (
    r"(flair|t2|t1|dwi|diffusion|ct|jpe?gs?|pngs?|tiffs?|dicoms?|niftis?|zip\w*|post-?contrast|"
    r"contrast|series|volumes?|folders?|files?|formats?|\d+(\.\d+)? ?mm|sequences?|exports?|"
    r"screenshots?|photos?|slices?|children|child'?s?|paediatric)"
)
_WOULD_IT_ACCEPT = re.compile(
    r"\b(would|will|does|do|can|could) (you|it|the (tool|detector|model|app|assistant)) (\w+ )?"
    r"(accept|take|read|handle|analy[sz]e|work (with|on)) (an? |the |my |our )?([\w-]+ ){0,3}"
    rf"{_INPUT}\b|"
    r"\b(would|will|is|are|does|do|can|could) (an? |the |my |our )?([\w+.-]+ ){0,8}(be )?(accepted|"
    r"refused|rejected|allowed|supported)( (by|for|with) (you|it|the (tool|"
    r"detector|model|app)))?\s*[?.!]*$|"
    r"\b(can|could|should|may) (i|we) (send|upload|give you|export|provide) (\w+ ){0,6}"
    r"(instead|next time|rather|as well|too)\b|"
    r"\b(what|which) (file )?(format|file type|kind of file|resolution|export)\b.{0,40}\b(should|"
    r"do|can|must|to) (i|we)?\b|\b(should|can) (i|we) send (the )?(whole|entire|full) (series|"
    r"volume|study|scan)\b|\b(does|do|would|will) (an? )?(jpe?g|png|tiff?|dicom|nifti)s? work\b"
)
_SEQUENCE_NAMED = re.compile(
    r"\b(flair|t2|t2[- ]weighted|dwi|diffusion|adc|swi|gre|t2\*|ct|cat scan|pet)\b"
)
_CONTRAST_NAMED = re.compile(
    r"\b(post[- ]?(contrast|gad\w*)|contrast[- ]enhanced|with contrast|gadolinium|gad|t1 ?c|"
    r"t1 ?\+ ?c)\b"
)


def would_it_accept(t: Turn) -> str | None:
    """ "Would a post-contrast T1 be accepted?", "Would you accept a FLAIR?", "Would a 5 mm axial
    T1 be accepted?", "Can I send a zipped DICOM folder instead?", "What format should I export?":
    what the detector accepts, for the input named (not "a clinical decision")."""
    q = t.q
    if not _WOULD_IT_ACCEPT.search(q) or re.search(r"\b[fwv]\d+\b", q) or WHAT_TO_UPLOAD.search(q):
        return None  # ("What should I upload instead?": the scan's own answer, `what_to_upload`)
    thick = re.search(r"\b(\d+(?:\.\d+)?) ?mm\b", q)
    if thick and float(thick.group(1)) > 3:
        return (
            f"No: a volume (or a DICOM series) with slices thicker than 3 mm is refused, with the "
            f"thickness in the reason ({thick.group(1)} mm here); the detector learned from volumes "
            'with 1-2 mm voxels. A thin-slice 3D T1 (1-1.5 mm) is what it needs; "analyse '
            'anyway" still runs a thick one, marked unreliable.'
        )
    if _CONTRAST_NAMED.search(q):
        return (
            "Not as a rule: a series whose header records a contrast agent is refused (the "
            "detector learned non-contrast T1 scans, and normally enhancing vessels, dura and "
            "choroid plexus could look abnormal to it; how often was not measured). A "
            "post-contrast scan whose header does not say so passes as T1. Send the pre-contrast "
            "T1 when there is one."
        )
    if _SEQUENCE_NAMED.search(q) and not re.search(r"\bt1\b", q):
        return (
            "No: the detector reads T1-weighted brain MRI only; a FLAIR, T2, diffusion or other "
            "sequence (or a CT) is refused by its applicability check (in a study, the T1 series "
            "is picked). Send the T1-weighted series, ideally a 3D volume with the skull on."
        )
    lead = ""
    if re.search(r"\b(jpe?g|png|tiff?)s?\b.{0,30}\b(as well as|as good as|instead of)\b", q):
        lead = "It works, but not as well: "
    elif CLOSED.search(q) or re.search(r"(^\W*|[.?!]\s+)(can|could|should|may) (i|we)\b", q):
        lead = "Yes: "
    body = (
        "It accepts a T1-weighted brain MRI with the skull on, as a DICOM series (a folder or a "
        ".zip, one series or a whole study, from which the T1 series is picked), a NIfTI volume "
        "(.nii, .nii.gz), or a PNG, JPEG or TIFF export of one axial slice. A 3D volume (DICOM or "
        "NIfTI) works best: it is registered to the template and analysed at the levels the "
        "detector knows, and it records the pixel spacing and orientation, which a PNG or JPEG "
        "does not (sizes and sides are then in image terms); send the whole series rather than "
        "one slice, at its own resolution, not resized or skull-stripped."
    )
    return lead + (lowered(body) if lead else body)


# "Does this tool work on children's scans at all?", "Were any paediatric scans used to train
# the detector?", "Can I use this on a 10-year-old's scan, or is it only for adults?"
_CHILDREN = re.compile(
    r"\b(children|child'?s?|paediatric|pediatric|paeds|peds|kids?|infants?|babies|baby|"
    r"adolescents?|teenagers?|teens|minors|under[- ]18s?|young (people|patients)|([0-9]|1[0-5])[- ]"
    r"year[- ]olds?'?s?)\b"
)
_TOOL_FOR = re.compile(
    r"\b(works? (on|with|for)|used?|trained|train|training|apply|applies|suitable|validated|tested|"
    r"evaluated|designed|meant|intended|only for adults|adults only|adult[- ]only|good for)\b"
)


def children_and_the_detector(t: Turn) -> str | None:
    """ "Does this tool work on children's scans at all?", "Were any paediatric scans used in
    training?": adults only, and what that means for a child's or an infant's scan."""
    q = t.q
    if not (_CHILDREN.search(q) and _TOOL_FOR.search(q)) or re.search(
        r"\b(is there|are there|any (lesion|abnormalit|tumou?r|bleed)|normal\?|abnormal\?)|"
        r"\b(show|shows|see|find|found)\b.{0,25}\b(lesion|abnormal\w*|tumou?r|bleed|mass)",
        q,
    ):
        return None
    if not re.search(
        r"\b(tool|detector|model|assistant|app|this|it|ai|algorithm|system|scans?)\b", q
    ):
        return None
    return (
        "No, not for children: the detector learned normal anatomy from adults only (the IXI "
        "scans, about 20 to 86 years), and no child's scan was in its training or its "
        "evaluation. A child's brain differs from an adult's in size and proportions, so on a "
        "child's scan its reading needs extra caution; an infant's or toddler's (up to about 2 "
        "years, still myelinating, so grey and white matter look different on T1) it cannot "
        "read reliably at all. It is a research tool, not a medical device, for adults or "
        "children."
    )


def showing_the_images(t: Turn) -> str | None:
    """ "can the family see a picture of it?": the app's images, and that showing them is the
    clinician's decision (not a "Yes" about a finding)."""
    if not _SHOW_SOMEONE.search(t.q):
        return None
    return (
        "The app shows the scan, the anomaly heatmap and the pseudo-healthy image, and the draft "
        "findings can be downloaded; whether and how to show them to the patient or the family is "
        "your decision. The heatmap shows where the scan deviates from healthy scans, not a "
        "diagnosis, and these are a research tool's images, not clinical images."
    )


def instead_of_a_report(t: Turn) -> str | None:
    """ "is this as good as the radiologist's report?", "can I use this instead of waiting for
    the formal report?": no."""
    if not _INSTEAD_OF_A_REPORT.search(t.q):
        return None
    return (
        "No: this is a research tool, not a medical device. Its reading compares one T1-weighted "
        "scan with healthy scans and is not a radiologist's report; it cannot replace one or "
        "stand in for it while you wait. Use it, if at all, alongside the formal report."
    )


def what_to_tell(t: Turn) -> str | None:
    """ "What should I say to the patient?", "what do I tell the family?", "how do I explain this
    to him?", "what should I put in my referral letter?": what this reading supports saying, and
    that it is the clinician's to say (not a list of tests, not a yes/no)."""
    letter = _WHAT_TO_WRITE.search(t.q)
    tell = _WHAT_TO_TELL.search(t.q)
    if not (letter or tell):
        return None
    if re.search(
        r"\b(if|whether|asking|asks|wants to know)\b|['\"‘“?]", t.q[: (letter or tell).start()]
    ):
        return None  # "pt wants to know if her brain is normal, what do i say": that is asked
    if t.outside is not None and not t.evidence.unreliable:
        return (
            "Only that this research tool could not read the scan: t"
            + domain.not_applicable(t.case, t.outside).removeprefix("I can't tell. T")
            + " The formal radiology report is what to go on."
        )
    reading = lowered(plain_reading(t.case))
    if t.outside is not None:
        reading = "nothing reliable: it was analysed anyway, outside what the detector reads"
    if letter:
        return (
            "Quote the formal radiology report; this reading is not one. If you mention it, keep "
            "to what it is: a research anomaly detector, not a medical device, compared the scan "
            "with healthy scans and found the following (not a diagnosis): "
            + reading
            + " The clinical question and what you want from the referral are yours to write."
        )
    if t.found:
        gist = (
            "a research tool that compares scans with healthy ones marked an area that looks "
            "different; it cannot say what it is, it may or may not matter, and the formal "
            "report (and, where needed, further imaging) is what will tell. Avoid naming a "
            "diagnosis, or calling it nothing, on the strength of this reading."
        )
    else:
        gist = (
            "a research tool that compares scans with healthy ones found nothing unusual in "
            "what it analysed, but it looks only at part of the scan and can miss things, so "
            "this is not an all-clear: the formal report is what counts."
        )
    # the reading's yes/no first, as for "can I tell her it's normal?": nothing found is not
    # an all-clear, a finding is not a diagnosis
    lead = (
        "Not that the scan is normal, no: what to say is yours to decide"
        if t.found
        else "That nothing was found, yes, but not that all is well: what to say is yours to decide"
    )
    return f"{lead}, and this reading supports no more than this: {gist} What it found: {reading}"


def one_slice_enough(t: Turn) -> str | None:
    """ "Is one picture enough to say it's normal?": no (one slice, or part of a volume), then
    what it shows."""
    if t.outside is not None or not _ONE_ENOUGH.search(t.q):
        return None
    summary = t.evidence.scan_summary or {}
    if t.case.whole_brain():
        return None
    what = (
        "only part of this volume was analysed"
        if summary.get("source_shape")
        else "this is one 2D slice, and the rest of the head is not in it"
    )
    return (
        f"No: {what}, and a T1-weighted image shows only some kinds of lesion, so one slice "
        "cannot show that a brain is normal; a normal study needs every slice and the other "
        "sequences, read by a radiologist. What this slice shows: " + lowered(plain_reading(t.case))
    )


def can_you_read_it(t: Turn) -> str | None:
    """ "Can you read this one?": whether the detector applies to it, and its reading."""
    if not _CAN_YOU_READ.search(t.q):
        return None
    denied = re.search(r"\b(can'?t|cannot|won'?t|wont|cant|couldn'?t)\b", t.q)
    if t.outside is None:
        here = without_lead(findings.presence(t.case).strip(), 90)
        return (
            ("No, it can: t" if denied else "Yes: t")
            + "he applicability check accepted it, and the detector analysed it. "
            + here[:1].upper()
            + here[1:]
        )
    if t.evidence.unreliable:
        return (
            "Not reliably: the detector does not apply to this image "
            f"{cite(t.outside.id)}, and it was analysed anyway at your request, so its "
            "heatmap and findings say nothing reliable about it. "
            + " ".join(t.outside.data.get("reasons") or [])
        )
    return ("That's right: t" if denied else "No: t") + domain.not_applicable(
        t.case, t.outside
    ).removeprefix("I can't tell. T")


def prior_comparison(t: Turn) -> str | None:
    """ "Compare with the prior scan": there is none; "Anything new?": and what this scan shows,
    or that it was not analysed either."""
    text = context.prior_comparison(t.case)
    if text is None:
        return None
    if context.asks_what_is_new(t.case) and t.analysed:
        here = without_lead(findings.presence(t.case).strip(), 90)
        text += " What this scan shows: " + here[:1].lower() + here[1:]
        if t.outside is not None:
            text = domain.unreliable_prefix(t.outside) + text
    elif context.asks_what_is_new(t.case) and t.outside is not None:
        # "Any new lesions?" of a scan the detector refused: and nothing was read on it
        text += " Nor was this scan analysed: t" + domain.not_applicable(
            t.case, t.outside
        ).removeprefix("I can't tell. T")
    return text


def side_comparison(t: Turn) -> str | None:
    """ "Which side has more lesion load?": the flagged area on each side."""
    if not t.analysed or (by_side := scope.side_comparison(t.case)) is None:
        return None
    return by_side if t.outside is None else domain.unreliable_prefix(t.outside) + by_side


def cannot_tell(t: Turn) -> str | None:
    """ "Is the ring lesion enhancing?", "Does the scan fit?", "Does it cross the midline?": not
    settled by this reading; then what the detector did find."""
    if not t.analysed or (particular := scope.cannot_tell(t.case)) is None:
        return None
    text = f"{particular} {plain_reading(t.case)}"
    if t.outside is not None:
        text = domain.unreliable_prefix(t.outside) + text
    return text


def clinical_diagnosis(t: Turn) -> str | None:
    """ "Can you tell if he has had a concussion?", "is it migraine?": a diagnosis made
    clinically, which a structural scan usually neither shows nor excludes."""
    if not t.analysed or (m := _CLINICAL_ONLY.search(t.q)) is None:
        return None
    if _ANYTHING_ELSE_ASKED.search(t.q[: m.start()] + " " + t.q[m.end() :]):
        return None  # "migraine or something sinister?": the rest is asked, and answered
    before = re.split(r"[.!?;]\s", t.q[: m.start()])[-1]
    after = re.split(r"[.!;]\s", t.q[m.end() :])[0]
    if not _ASKS_IT.search(before) or ("?" not in after and m.end() < len(t.q.rstrip()) - 1):
        return None  # "known migraineur, any bleed?": a history, not what is asked
    text = (
        f"I can't tell: {re.sub('^concussed$', 'concussion', m.group(0))} is diagnosed "
        "clinically and usually shows nothing on a "
        "structural MRI, so neither this reading nor a normal scan confirms or excludes it. "
        "What the detector found: " + lowered(plain_reading(t.case))
    )
    return text if t.outside is None else domain.unreliable_prefix(t.outside) + text


def which_test(t: Turn) -> str | None:
    """ "would a CT have been better?", "should I have ordered a CT?": what each test shows in
    general terms; the choice is the clinician's."""
    if not _WHICH_TEST.search(t.q):
        return None
    return (
        "That depends on the clinical question, and the choice is yours; in general terms: CT is "
        "the usual first test after head injury or a sudden neurological event, being quick and "
        "good at showing fresh blood and fractures, while MRI shows most other brain lesions "
        "better (with sequences such as FLAIR, diffusion and SWI beside T1) and is how early "
        "infarcts, demyelination and small lesions are looked for. This tool reads only "
        "T1-weighted brain MRI, so it cannot say what a CT would have shown."
    )


def bone(t: Turn) -> str | None:
    """ "any skull fracture?": the detector reads the brain, not bone."""
    fracture = FRACTURE.search(t.q)
    if not fracture or (t.outside is not None and not t.evidence.unreliable):
        return None
    if _ANYTHING_ELSE_ASKED.search(t.q[: fracture.start()] + " " + t.q[fracture.end() :]):
        if t.intent != "out_of_scope" or t.outside is not None:
            return None  # "any bleed or fracture?" read as presence: `bone_not_read` adds bone
        # read as off-topic for the fracture: the rest is answered, then that bone is not read
        rest = re.sub(r"\s*\b(or|and|/|,)?\s*(a |any |skull |bony )*" + re.escape(fracture.group(0)),
                      "", t.question, flags=re.IGNORECASE)  # fmt: skip
        there = findings.presence(replace(t.case, question=rest, q=normalise(rest))).strip()
        return there + BONE_NOT_READ
    if re.search(
        r"\b(wrists?|ankles?|hips?|ribs?|arms?|legs?|spine|spinal|lumbar|cervical|knees?|hands?|"
        r"feet|foot|shoulders?|chest|pelvi\w*|femur|neck|clavicle|x-?rays?)\b",
        t.q,
    ):
        return None  # "can you read this wrist X-ray for a fracture?": another body part
    text = (
        "I can't tell: the detector looks for deviations of the brain and does not assess bone, "
        "and a T1-weighted MRI slice is not how a fracture is looked for (CT with bone windows "
        "is). What the detector found in the brain: " + lowered(plain_reading(t.case))
    )
    return text if t.outside is None else domain.unreliable_prefix(t.outside) + text


def sensitivity(t: Turn) -> str | None:
    """ "Would you pick up a 3 mm lesion?": what is known of its sensitivity to small ones."""
    if t.outside is not None or not SENSITIVITY.search(normalise(t.question)):
        return None
    missed = re.search(r"\bmiss(ed)?\b", t.q)  # "Could you miss a small lesion?"
    lead = "Yes, quite possibly. " if missed else "Probably not reliably. "
    if not yes_no_question(t.question):
        lead = ""  # "what size lesion could you have missed?"
    return (
        lead + "Small lesions are mostly missed by this detector: on "
        "validation slices with one small synthetic lesion (up to about 200 mm² on a "
        "slice) it said so in a third of them, and regions smaller than a few pixels of "
        "its 128 x 128 grid are dropped as noise; lesions of a few millimetres were not "
        "measured at all. On this scan: "
        + lowered(without_lead(findings.presence(t.case).strip(), 90))
    )


def look_at_a_place_not_analysed(t: Turn) -> str | None:
    """ "Could you look at the orbits?": not on the analysed levels."""
    if t.outside is not None or not _LOOK_AT.search(t.q):
        return None
    return findings.place_not_analysed(t.case)


def fitness(t: Turn) -> str | None:
    """ "The patient asks if they can go back to work": not a question this tool can answer."""
    if not _FITNESS.search(t.q):
        return None
    text = (
        "That is a clinical decision for you and the patient: this research tool reads one "
        "scan for regions that deviate from healthy anatomy, and cannot judge fitness for "
        "work, driving or other activities."
    )
    if t.outside is None:
        reading = findings.presence(t.case).strip()
        text += " What the reading of this scan found: " + without_lead(reading, 90)
    return text


def result_meaning(t: Turn) -> str | None:
    """ "Does a negative result mean this person is healthy?": no, and this scan's result."""
    if t.outside is not None or (meaning := scope.result_meaning(t.case)) is None:
        return None
    here = without_lead(findings.presence(t.case).strip())
    return f"{meaning} On this scan: {here[:1].lower() + here[1:]}"


def slices_not_analysed(t: Turn) -> str | None:
    """ "Is there a lesion on slice 7?" when only slice 4 was analysed; "did you look at the
    whole head or just one bit?", whatever the intent read."""
    if t.outside is not None:
        return None
    if (whole := scope.whole_asked(t.case)) is not None:
        return whole
    if t.intent not in ("presence", "side", "location", "count", "unknown"):
        return None
    return scope.slices_not_analysed(t.case)


def named_regions(t: Turn) -> str | None:
    """ "What are the weaker regions W1 and W2?", "Tell me about W2.": those regions."""
    if t.outside is not None or t.intent not in ("count", "out_of_scope", "unknown"):
        return None
    named = _named_regions(t.question, t.found + t.weak)
    return findings.describe_named(t.case, named) if named else None


def is_a_3d_finding_real(t: Turn) -> str | None:
    """ "Is V1 real?": about V1, weak or not."""
    if t.outside is not None or t.intent not in ("presence", "confidence", "explanation"):
        return None
    return findings.is_a_3d_finding_real(t.case)


def place_on_a_whole_volume(t: Turn) -> str | None:
    """ "Anything in the posterior fossa?", "and the brainstem?", "pituitary ok?" of a volume
    analysed at every brain level with no 3D finding: those levels were analysed, and nothing
    was found there (not "the detector does not assess that")."""
    if t.outside is not None or not t.case.whole_brain() or t.case.volume_findings():
        return None
    if _SIGN_OF_A_STRUCTURE.search(t.q):
        return None  # "hippocampi symmetric?", "tonsils ok? ?chiari": a sign, not assessed
    if not (
        t.intent == "presence"
        or (t.resolved.follow_up and t.intent not in ("out_of_scope", "report"))
        or (t.intent in ("out_of_scope", "unknown", "location") and yes_no_question(t.question))
    ):
        return None
    places = findings.places_asked(t.q)
    levels = findings.analysed_levels(t.case)
    if not places or levels is None:
        return None
    lo, hi = min(p[1] for p in places), max(p[2] for p in places)
    if any(p[1] > levels[1] or p[2] < levels[0] for p in places):
        return None  # one is not at an analysed level: `place_not_analysed` says so
    name = " and the ".join(p[0] for p in places)
    normal = yes_no_question(t.question) and yes_means_normal(t.question)
    plural = len(places) > 1 or name.endswith(
        ("i", "lobes", "poles", "orbits", "globes", "nerves", "tonsils")
    )
    weak = [v for v in t.evidence.by_kind("volume_finding") if v.data.get("weak")]
    text = (
        f"{'Yes, nothing was found there' if normal else 'No'}: the whole volume was analysed at "
        f"every brain level, {'those' if plural else 'the levels'} of the {name} included (about "
        f"MNI z {max(lo, levels[0]):+.0f} to {min(hi, levels[1]):+.0f} mm), and the detector made "
        "no 3D finding there or anywhere else. It does not identify anatomical structures, and "
        "small lesions are mostly missed."
    )
    if weak:
        text += (
            " Weak regions, on one analysed level only (most likely noise): "
            + "; ".join(f"{v.text} {cite(v.id)}" for v in weak)
            + "."
        )
    return text


def place_not_analysed_anyway(t: Turn) -> str | None:
    """ "Any lesions in the posterior fossa?" of a scan analysed anyway at one level."""
    if (
        t.outside is None
        or not t.evidence.unreliable
        or t.intent not in ("presence", "out_of_scope", "unknown")
        or (off_levels := findings.place_not_analysed(t.case)) is None
    ):
        return None
    return domain.unreliable_prefix(t.outside) + off_levels


def place_not_analysed(t: Turn) -> str | None:
    """ "Anything in the cerebellum?" about a slice above it: not assessed, neither yes nor no
    (also "and the cerebellum?" after another question, whatever it asked)."""
    resolved = t.resolved
    if t.outside is not None or not (
        t.intent == "presence"
        or (resolved.follow_up and t.intent not in ("out_of_scope", "report"))
        or (t.intent in ("out_of_scope", "unknown") and yes_no_question(t.question))
    ):
        return None
    return findings.place_not_analysed(t.case)


def presence_at_a_place(t: Turn) -> str | None:
    """ "Any abnormality in the brainstem?" with 3D findings elsewhere: no, and where they lie."""
    if t.outside is not None or t.intent != "presence" or t.found:
        return None
    return findings.presence_at_a_place(t.case)


def outside_the_domain(t: Turn) -> str | None:
    """A scan outside the detector's domain, asked about what the detector would say: refused
    with the reasons [A1]; analysed anyway, the answer with the warning and without a yes/no
    for presence or count."""
    if t.outside is None or t.intent in domain.INDEPENDENT:
        return None
    case, term = t.case, t.term
    if not t.evidence.unreliable:
        text = domain.not_applicable(case, t.outside)
        if t.intent == "next_steps" and _TREATMENT.search(t.q):
            # "Should we start disease-modifying therapy?": not a question of the scan
            text += (
                " Whether to start, stop or change a treatment is a clinical decision "
                "that no reading of this scan by this tool can make."
            )
        return text
    lead = premise(case) if t.intent == "explanation" else ""
    body = t.handler(case).strip()
    qualifies = term and _qualifies_a_lesion(t.question, t.q, term.group(0), t.resolved)
    if qualifies and body.startswith("Yes. "):
        body = then(_qualified_yes(term.group(0)), body.removeprefix("Yes. "))
    elif term and not qualifies and t.intent in ("presence", "unknown"):
        # "Is there brain atrophy?" analysed anyway: not assessed, as for any scan
        body = context.unassessable(case, term.group(0)).strip()
    elif term and t.intent == "location" and yes_no_question(t.question):
        # "Are the lesions periventricular or juxtacortical?" analysed anyway
        body = structure_question(case, term.group(0), body)
    sided = t.intent == "side" and yes_no_question(t.question)  # "is the left side worse?"
    if (t.intent in ("presence", "count") or sided) and re.match(_YES_NO_LEAD, body):
        # "Anything abnormal?", "How many lesions?", "Periventricular lesions?" of a scan
        # analysed anyway: its output is not evidence either way, so no yes/no
        what = f" whether there are {term.group(0)} lesions" if qualifies else ""
        how_many = " how many lesions there are" if t.intent == "count" else ""
        body = (
            f"I can't tell{what or how_many}: on a scan outside its domain what the "
            "detector flags is not evidence either way"
            + (", and it does not identify anatomical structures" if qualifies else "")
            + ". What it flagged: "
            + lowered(plain_reading(case))
        )
    return domain.unreliable_prefix(t.outside) + lead + body


def qualified_lesion(t: Turn) -> str | None:
    """ "Any white matter lesions?": whether a lesion is there, and what is not assessed."""
    term = t.term
    if not term or not _qualifies_a_lesion(t.question, t.q, term.group(0), t.resolved):
        return None
    if DEVELOPMENT.search(t.q):
        return None  # "Is the corpus callosum there? ... agenesis": not a lesion, not assessed
    text = t.handler(t.case).strip()
    named_3d = any(v.data.get("regions") for v in t.case.volume_findings())
    if text.startswith("Yes. ") and not named_3d:
        # "Is there a ring-enhancing lesion?", "Any periventricular plaques?": something
        # deviates; what the word qualifies it by is not seen, said in the lead
        place = findings.structure_phrase(t.q) or term.group(0)
        text = then(_qualified_yes(place), text.removeprefix("Yes. "))
    elif "does not identify anatomical structures" not in text:
        text += findings.unassessed_note(term.group(0))
    return text


def placed_by_a_structure(t: Turn) -> str | None:
    """ "Is the bright area in the left frontal lobe a tumour?", "... bright or dark relative to
    white matter?": the structure only places or compares the finding; the question asked is
    answered, with what the detector does not identify."""
    if not t.term or t.intent not in ("explanation", "intensity"):
        return None
    if (place := _PLACE_PHRASE.search(t.q)) is None:
        return None
    return (
        t.handler(t.case).strip()
        + f" The detector does not identify the {place.group('place')} or other "
        "anatomical structures on a slice; it reports the position in the image, and "
        "signal relative to its pseudo-healthy reconstruction."
    )


def not_assessed(t: Turn) -> str | None:
    """ "Is there a midline shift?", "Are the ventricles enlarged?": a sign the detector does not
    assess."""
    if not t.term or (
        t.resolved.source == "rule"
        and t.intent not in ("presence", "unknown", "explanation", "intensity")
    ):
        return None
    return context.unassessable(t.case, t.term.group(0)).strip()


def from_the_volume(t: Turn) -> str | None:
    """Nothing on the displayed slice, 3D findings at other levels of the volume."""
    if t.intent not in (*WEAK_INTENTS, "count") or t.found or not t.case.volume_findings():
        return None
    return findings.from_volume(t.case)


def about_the_volume(t: Turn) -> str | None:
    """ "How confident are you?", "What could it be?" with 3D findings at other levels: about
    them, not "no finding"."""
    if (
        t.intent not in ("confidence", "explanation", "next_steps")
        or t.found
        or not t.case.volume_findings()
    ):
        return None
    return context.about_volume(t.case)


def weaker_regions(t: Turn) -> str | None:
    """No finding, weaker regions below the image threshold: about them."""
    if t.intent not in WEAK_INTENTS or t.found or not t.weak:
        return None
    return findings.weak(t.case, t.handler)


ROUTES: list[Callable[[Turn], str | None]] = [
    analysed_anyway_as_asked,
    how_to_analyse_anyway,
    children_and_the_detector,
    another_body_part,
    why_refused,
    capabilities,
    meaning_of_a_term,
    dissemination,
    ms_or_small_vessel,
    ring_differential,
    teaching,
    t1_contrast,
    another_sequence,
    how_it_works,
    why_unreliable,
    ventricles,
    research_use_only,
    analyse_this,
    is_it_a_brain_scan,
    showing_the_images,
    instead_of_a_report,
    what_to_tell,
    one_slice_enough,
    can_you_read_it,
    would_it_accept,
    prior_comparison,
    side_comparison,
    cannot_tell,
    clinical_diagnosis,
    which_test,
    bone,
    sensitivity,
    look_at_a_place_not_analysed,
    fitness,
    result_meaning,
    slices_not_analysed,
    named_regions,
    is_a_3d_finding_real,
    place_on_a_whole_volume,
    place_not_analysed_anyway,
    place_not_analysed,
    presence_at_a_place,
    outside_the_domain,
    qualified_lesion,
    placed_by_a_structure,
    not_assessed,
    from_the_volume,
    about_the_volume,
    weaker_regions,
]


def intents_own(t: Turn) -> str:
    """The answer of the question's intent, with where the anatomical names come from on a
    volume analysed whole, and what the detector does not identify."""
    text = t.handler(t.case).strip()
    term = t.term
    named_3d = any(v.data.get("regions") for v in t.case.volume_findings())
    if t.intent in ("location", "size") and "In 3D" not in text:
        text += findings.in_3d(t.case)  # a volume analysed whole: regions, slices, mm³
    if term and t.intent in ("location", "side") and named_3d:
        text += (
            " Anatomical names come from the 3D analysis (an atlas registered to the "
            "volume, right to a few mm); on the displayed slice the detector reports the "
            "position in the image only."
        )
    elif term and t.intent == "location" and yes_no_question(t.question):
        # "Is the lesion in the frontal lobe?": neither yes nor no
        text = structure_question(t.case, term.group(0), text)
    elif (
        term
        and t.intent in ("location", "side")
        and "does not identify anatomical structures" not in text
    ):
        text += (
            " The detector does not identify lobes or other anatomical structures; it "
            "reports the position in the image only."
        )
    return text


def _named_regions(question: str, items) -> list:
    """The findings / weaker regions a question names by id ("W1 and W2"), in evidence order."""
    ids = {m.upper() for m in re.findall(r"\b[fw]\d{1,3}\b", question.lower())}
    return [i for i in items if i.id in ids]


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


def structure_question(case: CaseFacts, term: str, where: str) -> str:
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
    elif pair := re.match(
        r"^\W*((cortical|superficial|subcortical|deep|juxtacortical|periventricular)(?: or |/| vs\.? )"
        r"(cortical|superficial|subcortical|deep|juxtacortical|periventricular))\b",
        case.q,
    ):
        lies, the, place = "is", "", pair.group(1).replace("/", " or ")  # "Cortical or deep?"
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


_LESION_WORD = re.compile(
    r"\b(lesions?|abnormalit\w*|anomal\w*|tumou?rs?|masse?s?(?! effect)|diffusion|plaques?|foci|focus|spots?|"
    r"hyperintensit\w*|hypointensit\w*|infarcts?|bleeds?|nodules?|regions?|areas?|"
    rf"changes?|findings?|pathology|anything|something|{FINDING_TERMS})\b"
)


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
    if re.match(r"a?symmetr|any shift|pushing|pressing|compress", term):
        return False  # "Anything asymmetric L vs R?", "any shift?": the sign itself, not assessed
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


# an answer's yes/no lead, in the words `answers_findings` writes it ("Yes.", "No:", "3 regions",
# "A region deviates from healthy anatomy, yes, but ...", "Nothing was found, yes, but ...")
# "why does it say research use only?", "what does 'not a medical device' mean?"
_RESEARCH_USE = re.compile(
    r"\bwhy\b.{0,40}\b(research[- ](use[- ])?only|not an? (medical|clinical) device|(only )?for "
    r"research( use)?)\b|"
    r"\bwhat (does|do) .{0,15}(research[- ](use[- ])?only|not an? (medical|clinical) device).{0,15}"
    r"\bmean\b|"
    r"\bcan i (still )?(use|rely on|trust) (it|this|this tool|the tool|this thing|the app)( \w+){0,2} "
    r"(for|on|with|in) (my |a |the )?(patients?|clinical|clinic|practice|real patients)\b"
)
# "what should I say to the patient?", "what do I tell the family?", "how do I explain this to
# him?" (not "can I tell her it's normal?", a yes/no about the reading)
_WHAT_TO_TELL = re.compile(
    r"\bwhat (do|should|can|shall|would|could) (i|we) (say|tell|explain)( to)?( the| my| our| this|"
    r" his| her| their)?"
    r"( patient| pt| family| relatives?| parents?| husband| wife| son| daughter| him| her| them)?"
    r"( (in|at) (clinic|the clinic|clinic today|the appointment|follow[- ]up)( today| tomorrow)?| "
    r"today| tomorrow| now)?\W*$|\bhow (do|should|can|would) (i|we) (explain|break|put|describe) (this|it|that|the "
    r"(scan|result|findings?|reading))\b( \w+){0,3} to (the |my |our )?(patient|pt|family|him|her|"
    r"them|relatives?|parents?)\b"
)
# "what should I put in my referral letter (to neurology)?"
_WHAT_TO_WRITE = re.compile(
    r"\bwhat (do|should|can|shall|would) (i|we) (put|write|say|include|mention)\b.{0,30}\b(referral|"
    r"letter|discharge summary|notes?|handover|email)\b|"
    # "one-line summary for my clinic letter"
    r"\b(summary|line|sentence|paragraph)\b.{0,25}\b(for|into|in) (my|the|a) (\w+ )?(letter|referral|"
    r"notes?|discharge summary|handover)\b"
)
# "Is one picture enough to say it's normal?", "is a single slice enough?"
_ONE_ENOUGH = re.compile(
    r"\b(one|a single|1|just one|only one|this one|a) (picture|pic|image|slice|view|section|cut)\b"
    r".{0,25}\b(enough|sufficient|adequate)\b"
)
# diagnoses made clinically, which structural imaging usually neither shows nor excludes
_CLINICAL_ONLY = re.compile(
    r"\b(concussion|concussed|post[- ]concussion\w*( syndrome)?|mild (traumatic )?brain injury|mtbi|"
    r"migraines?|"
    r"functional neurological disorder|tension[- ]type headache)\b"
)
_ASKS_IT = re.compile(
    r"\b(is (it|this|that)|could (it|this|that)|tell|had|has|have|sign|signs|evidence|show|shows|"
    r"see|detect|diagnos\w*|rule out|exclude|due to|caused by|from|is there|any|be|been)\b"
)
# "would a CT have been better?", "should I have ordered a CT instead?", "CT or MRI, which is
# better for this?"
_WHICH_TEST = re.compile(
    r"\b(would|will|is|was) (a |an )?(ct|mri|mr|cta|mra|ct angio\w*)( scan| head| brain)? (have "
    r"been |be )?(better|more useful|preferable|more sensitive)\b|"
    r"\bshould (i|we) have (done|ordered|requested|got|gotten) (a |an )?(ct|mri)\b|"
    r"\b(ct|mri) (or|vs\.?|versus|rather than) (a |an )?(ct|mri)\b.{0,30}\b(better|preferable|"
    r"more useful)\b"
)
# "What are the dark butterfly shapes in the middle?", "the black bits in the centre?"
_WHERE_VENTRICLES = re.compile(
    r"\bwhere( is| are|'s) (the |a )?(lateral |third |fourth |3rd |4th )?ventricles?\b|"
    r"\b(what|which) are the (four|4) ventricles\b|\bwhich ventricles? (can|do) (i|we|you) see\b"
)
_DARK_MIDDLE = re.compile(
    r"\b(dark|black|darker)\b[\w\s,'-]{0,30}\b(shapes?|areas?|bits?|spaces?|things?|holes?|"
    r"patch(es)?|butterfl\w*|wings?|structures?|regions?)\b[\w\s,'-]{0,30}\b(middle|centre|center|"
    r"central|midline)\b|\bbutterfl(y|ies)\b"
)
# a question about the scan besides the one a special answer is for ("any bleed or fracture?",
# "migraine or something worse?"): left to the reading's answer
_ANYTHING_ELSE_ASKED = re.compile(
    r"\b(bleed\w*|ha?emorrhag\w*|blood|lesions?|abnormal\w*|anything|something|tumou?rs?|mass\w*|"
    r"stroke|infarct\w*|injur\w*|contusions?|damage|sinister|serious|worse|worrying|normal|clear|"
    r"fine|ok|okay|mets?|metasta\w*|ms|plaques?|cancer|haematoma\w*|hematoma\w*|sdh|sah|wrong)\b"
)
_MCDONALD = re.compile(r"\bdissemination in (space|time)\b|\bmcdonald\b|\b(dis|dit) criteri\w*\b")
_MS_OR_SVD = re.compile(
    r"\b(tell|distinguish|differentiate|separate|difference between)\b.{0,40}\b(ms|multiple "
    r"sclerosis|demyelinat\w*)\b.{0,40}\b(small[- ]vessel|microvascular|ischa?emic|vascular)\b|"
    r"\b(tell|distinguish|differentiate|separate|difference between)\b.{0,40}\b(small[- ]vessel|"
    r"microvascular|ischa?emic)\b.{0,40}\b(ms|multiple sclerosis|demyelinat\w*)\b"
)
_RING_DIFFERENTIAL = re.compile(
    r"\b(differential|ddx|d/?dx|causes?|possibilities)\b.{0,40}\bring\b|\bring\b.{0,40}\b("
    r"differential|ddx|causes)\b|\bmagic ?dr\b"
)
# "Hi! What am I looking at here?" (not "explain the overlay ... what am I looking at?")
_LOOKING_AT = re.compile(r"^\W*(hi|hello|hey|ok|so)?\W*what am i looking at( here)?\W*$")
_TEACH = re.compile(
    r"\b(quiz|test) me\b|\bteach me\b|\b(give|ask) me (a |some )?(quiz|questions)\b|"
    r"\bexplain the (anatomy|structures)\b|\blabel the (anatomy|structures)\b"
)
_T1_CONTRAST = re.compile(
    r"\bwhy (is|are|does|do) (the )?(white matter|grey matter|gray matter|csf|fat|fluid|water)\b"
    r".{0,30}\b(bright|brighter|dark|darker|white|black)\b"
)
_OTHER_SEQUENCE = re.compile(
    r"\b(how|what) (would|will|does|might) (it|this|that|the (lesion|region|finding|spot|area)|f\d)"
    r" (\w+ ){0,2}look (like )?(on|in) (a |the )?(t2|flair|dwi|diffusion|swi|t2\*|gre|contrast|"
    r"post[- ]contrast|adc)\b|\b(would|will) (it|this|that) be (bright|dark|hyperintense|"
    r"hypointense|white|black) (on|in) (t2|flair|dwi|swi|adc)\b"
)
_HOW_IT_WORKS = re.compile(
    r"\bwhy (was|is|were|are) (it|the (model|detector|ai|tool)|this) (only )?(trained|taught) "
    r"(only )?on (healthy|normal)\b|\bhow (would|will|do|does|can|could) (you|it|the (model|"
    r"detector|tool)) (find|detect|spot|pick up|see) (\w+ ){0,2}(lesions?|tumou?rs?|disease|"
    r"abnormalit\w*|ms)\b( then)?\W*$"
)
_WHY_UNRELIABLE = re.compile(r"\bwhy\b.{0,40}\b(unreliable|not reliable|marked|flagged as)\b")
_YES_NO_LEAD = re.compile(
    r"(Yes|No|\d+)\b|(A (low-confidence )?region deviates|Regions deviate)[^.:]*, yes\b|Nothing (clear )?was found, yes\b"
)
_ANYWAY = re.compile(
    r"\b(analy[sz]e|anali[sz]e|run|process|check|detect|look at) (it|this|the (scan|image|x-?ray|"
    r"picture))? ?"
    r"(anyway|regardless|all the same)\b|\b(force|override) (the )?(analysis|check|detector)\b"
)
_WHY_REFUSED = re.compile(
    r"(^|[,.;:!?]\s+)\W*(but |so |and )?(why|how come)\b.{0,50}\b(not|n't|cannot|can't|unable|refus\w*|"
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
# a sign of a structure's shape, size or position, which the detector does not assess
_SIGN_OF_A_STRUCTURE = re.compile(
    r"\b(a?symmetr\w*|atroph\w*|volume loss|enlarg\w*|dilat\w*|swollen|swelling|shift\w*|"
    r"hydroceph\w*|chiari|herniat\w*|descent|ectopi\w*|displac\w*|compress\w*|effac\w*|size)\b"
)
# "can the family see a picture of it?", "can I show her the image?"
_SHOW_SOMEONE = re.compile(
    r"\b(can|could|may|should) (the )?(family|patient|pt|relatives?|wife|husband|parents?|he|she|"
    r"they) (see|have|get|look at|take)\b.{0,20}\b(picture|image|copy|photo|print\w*|screenshot)s?\b|"
    r"\b(show|send|give) (the )?(family|patient|pt|relatives?|him|her|them) (a |the |an )?(picture|"
    r"image|copy|photo|print\w*|screenshot)s?\b"
)
# "is this as good as the radiologist's report?", "can I use this instead of the formal report?"
_INSTEAD_OF_A_REPORT = re.compile(
    r"\b(as good as|instead of|replace|substitute for|in place of|rather than wait\w*( for)?)\b"
    r".{0,40}\b(radiologist|formal report|radiology report|official report|the report|a report)\b"
)
# "so is it a brain scan or not", "is this even a brain?"
_IS_IT_A_BRAIN = re.compile(
    r"^\W*(so |but |and |ok |wait )?(is (it|this|that)|it'?s) (even |actually |really )?(an? )?"
    r"(brain|head)( mri| mr| scan| image| ct| study)?( (at all|or not|then))*\W*$|"
    # "Is this slice at the right level for the detector?", "suitable for the model?"
    r"\b(suitable|appropriate|usable|acceptable|adequate|valid|good enough|fit|ok|okay|at the "
    r"right (level|levels|height|plane)|the right (level|slice|kind|type|sort)( of (scan|image|"
    r"slice))?) (input |enough )?for (the |this |your )?(detector|model|tool|assistant|analysis|"
    r"ai|algorithm)\b"
)
_LOOK_AT = re.compile(
    r"\b(look|looking|check|examine|assess|review|comment) (at |on )?(the )?(\w+ )?"
    r"(orbits?|globes?|optic nerves?|pineal|cerebell\w*|posterior fossa|brain ?stem|pons|"
    r"medulla|midbrain|pituitary|sella|vertex|hippocamp\w*|temporal poles?|craniocervical|"
    r"foramen magnum|tonsils?)\b"
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
# a structure that places or serves as reference for what is asked about ("the spot near the
# ventricle", "relative to white matter"), not the subject of the question
_PLACE_PHRASE = re.compile(
    r"\b(in|at|near|next to|adjacent to|around|within|by|close to|beside|along|of|"
    r"relative to|compared (to|with)|than) (the |this |that |a |an )?([\w-]+ ){0,2}"
    r"(?P<place>lobes?|ventric\w*|white matter|gr[ae]y matter|cortex|thalam\w*|cerebell\w*|"
    r"brain ?stem|basal ganglia|gyr\w*|sulc\w*)\b"
)
