"""What the tool's own words mean: "What does 'anomaly detector' mean in plain English?", "What
does skull-stripped mean?", "what is a weak region?". A question that asks for the meaning of a
term is answered with the term's meaning (and, where the scan bears on it, how), not with the
scan's reading; a question asking for a value ("what is the anomaly score?") is not one of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.responders.grounded.case import CaseFacts
from assistant.responders.grounded.wording import cite


@dataclass(frozen=True)
class Term:
    name: str
    pattern: str  # the term's spellings (a regex, matched on the lower-cased question)
    meaning: str
    value: bool = False  # "what is the anomaly score?" asks its value, not its meaning


TERMS = (
    Term(
        "anomaly detector",
        r"(an? |the )?anomaly (detector|detection|detecting model|model)|(an? |the )?anomal(y|ies)",
        "In plain words: an anomaly detector is a computer model that has learned what healthy "
        "brain scans look like (here, T1-weighted MRI of healthy adults) and marks the parts of a "
        "new scan that look different from them. It has never been shown a disease, so it cannot "
        'say what a marked region is: "anomalous" means "unlike the healthy scans it learned '
        'from", which can be a lesion but also a normal variant or an artefact, and "nothing '
        'found" means nothing different enough at the levels it analysed, not that the brain is '
        "healthy.",
    ),
    Term(
        "skull-stripped",
        r"skull[- ]?strip(ped|ping)?|(brain[- ])?extract(ed|ion)|stripped",
        "A skull-stripped scan is one that image-processing software has cut down to the brain "
        "alone: the skull, scalp and other tissue around the brain were removed from the image, a "
        "common step in research pipelines. It describes how the file was prepared, not anything "
        "about the patient. This detector learned from scans with the skull on, so it does not "
        "read skull-stripped ones.",
    ),
    Term(
        "hyperintense / hypointense",
        r"hyper-?intense|hypo-?intense|hyper-?intensity|hypo-?intensity|iso-?intense",
        "Hyperintense means brighter, and hypointense darker, than the tissue would normally be "
        "on this kind of image; here the detector compares the scan with its own pseudo-healthy "
        "reconstruction of the same slice. On a T1-weighted MRI fluid is dark, white matter is "
        "brighter than grey matter, and fat, some blood products and contrast agent are bright. "
        "The words describe the signal, not what the tissue is.",
    ),
    Term(
        "weaker region",
        r"(an? |the )?(weak|weaker) (regions?|areas?|spots?|findings?)",
        "A weaker region (W1, W2, ...) is an area whose pixels passed the detector's pixel "
        "threshold while the image as a whole stayed below its score threshold: too weak to be "
        "called a finding. On healthy scans such regions are common; most are noise or normal "
        "variation, and they are listed so that nothing the detector saw is hidden.",
    ),
    Term(
        "anomaly score",
        r"(an? |the )?(image |anomaly )+score",
        "The anomaly score is one number for the analysed image: the highest value of its anomaly "
        "map, that is, how far the most unusual part of the image deviates from the detector's "
        "pseudo-healthy reconstruction. Above the calibrated threshold, which about 5% of the "
        "healthy validation scans reach, the image is called abnormal. It is not a probability "
        "of disease.",
        value=True,
    ),
    Term(
        "threshold",
        r"(an? |the )?(calibrated |pixel |score )?threshold",
        "The calibrated threshold is the level of the anomaly score above which the detector "
        "calls an image abnormal, set on healthy validation scans so that about 5% of them pass "
        "it (a 5% false-positive rate on healthy scans like those); a pixel threshold, set the "
        "same way, decides which pixels make up a flagged region.",
        value=True,
    ),
    Term(
        "typicality",
        r"(the )?typicality",
        "Typicality is the applicability check's measure of how much an image looks like the "
        "axial T1-weighted brain slices the detector was trained on: the distance of the image's "
        "description to the nearest training slices. Below the calibrated limit (which 98% or "
        "more of healthy and lesion validation slices meet) the image is accepted; above it, the "
        "detector is not run, because its reading would mean nothing.",
        value=True,
    ),
    Term(
        "MNI space",
        r"(the )?mni( space| template| z| coordinates?| level)?|(a |the )?registration|registered",
        "MNI space is a standard coordinate system for the brain (from the Montreal Neurological "
        "Institute's template): a scan is aligned (registered) to it so that every brain sits in "
        "the same position and size, and MNI z is the height of an axial level in millimetres "
        "(z = +23 mm passes through the bodies of the lateral ventricles). The detector was "
        "trained on scans registered this way.",
    ),
    Term(
        "false positive",
        r"(an? )?false (positive|alarm)s?",
        "A false positive is a region the detector flags that is not a lesion: normal anatomy, a "
        "normal variant or an artefact that happens to look unlike the healthy scans it learned "
        "from. A false negative is the reverse: a lesion it does not flag.",
    ),
    Term(
        "false positive rate",
        r"(a |the )?false[- ]positive rate|fpr",
        "The false-positive rate is the share of healthy scans (or pixels) that the detector "
        "would flag although nothing is wrong. Its thresholds were set so that about 5% of "
        "healthy validation scans reach the image threshold: a 5% false-positive rate on scans "
        "like those.",
    ),
    Term(
        "DICOM",
        r"dicom( files?| format| header)?",
        "DICOM is the standard file format of medical images from scanners and PACS: each file "
        "holds one image (or a series of them) with a header of details (the patient, the "
        "scanner, the sequence, the pixel spacing and orientation). This tool drops the "
        "patient's identifiers from the header as it reads the file.",
    ),
    Term(
        "NIfTI",
        r"nifti( files?| format)?|\.nii(\.gz)?( files?)?",
        "NIfTI (.nii, .nii.gz) is a file format for 3D (or 4D) brain images used in research: "
        "one file holds the whole volume with its voxel size and its orientation in space, "
        "without the patient details a DICOM header carries.",
    ),
    Term(
        "IXI",
        r"(the )?ixi( dataset| data| data set)?",
        "IXI is a public research dataset of about 600 MRI scans of healthy adults (roughly 20 "
        "to 86 years old) from three London hospitals (brain-development.org, CC BY-SA 3.0). "
        "This detector learned what healthy T1-weighted brains look like from its training "
        "split, and was checked and calibrated on other IXI scans.",
    ),
    Term(
        "diffusion model",
        r"(an? |the )?(denoising )?diffusion (model|probabilistic model)s?|ddpm",
        "A diffusion model is a kind of generative neural network: it learns to remove noise "
        "from images step by step, and so learns what the images it was trained on look like. "
        "Here it was trained on healthy brain slices only: given a scan, it makes a healthy-"
        "looking version of it (the pseudo-healthy image), and where the scan differs from that "
        "version is what the anomaly map shows. (It has nothing to do with diffusion-weighted "
        "MRI.)",
    ),
    Term(
        "ring-enhancing lesion",
        r"(an? )?ring[- ]enhancing (lesion|mass)s?|rim[- ]enhancing (lesion|mass)s?",
        "A ring-enhancing lesion is one whose rim takes up contrast agent, so that it shows as "
        "a bright ring on T1-weighted images taken after a gadolinium injection. Enhancement can "
        "only be judged by comparing images before and after contrast; on one T1 image without "
        "contrast, as here, whether anything enhances cannot be told.",
    ),
    Term(
        "black hole",
        r"(an? |t1 )?black holes?",
        "In MS, a T1 'black hole' is a lesion that looks dark on T1-weighted images (darker "
        "than grey matter) and stays so on later scans: it is thought to reflect more severe "
        "tissue damage, with axonal loss. This detector does not say whether a dark region is "
        "one: it reports deviations from healthy scans, not what they are, and one scan cannot "
        "show that a lesion persists.",
    ),
    Term(
        "T1-weighted",
        r"t1(-weighted| weighted| w)?|(a |the )?t1 (scan|sequence|image)",
        "T1-weighted is a kind of MRI sequence: fluid (such as the CSF in the ventricles) is "
        "dark, white matter is brighter than grey matter, and fat is bright. It shows anatomy "
        "well, and it is the only kind of scan this detector reads; many lesions show better on "
        "other sequences (FLAIR, T2, diffusion).",
    ),
)

_QUOTE = "[\"'‘’“”`]?"
_TERMS = "(?:" + "|".join(f"(?:{t.pattern})" for t in TERMS) + ")"
# "what does 'anomaly detector' mean (in plain English)?", "what is meant by skull stripping",
# "what's a weak region?", "explain typicality", "define hypointense", "meaning of MNI?"
_MEANING = re.compile(
    rf"\bwhat (does|do|did) (the )?((word|term|phrase|bit|label) )?{_QUOTE}{_TERMS}{_QUOTE}"
    rf"( \w+){{0,2}} (mean|stand for)\b|"
    rf"\bwhat( is| are|'s| s) (meant by|the meaning of) {_QUOTE}{_TERMS}{_QUOTE}\W|"
    rf"\b(meaning of|define|definition of|explain( what)?( the (word|term))?) (an? |the )?"
    rf"{_QUOTE}{_TERMS}{_QUOTE}( (means|is))?( (in|on) [a-z0-9 ]{{1,20}})?\W*$|"
    rf"^\W*(and |so |ok |sorry,? )?what( is| are|'s| s) (an? |the )?{_QUOTE}{_TERMS}{_QUOTE}"
    rf"( (exactly|again|then))?(,? in (plain|simple|layman'?s?|lay) (english|words|terms|language))?"
    # "what's a ring enhancing lesion and is this one?": the meaning answers the second part
    rf"(,? and (is|are) (this|it|that|these) (one|ones)?)?\W*$|"
    rf"^\W*{_QUOTE}{_TERMS}{_QUOTE}\s*(=|means|meaning)\W*$"
)


def term_asked(question: str) -> Term | None:
    """The tool's term whose meaning the question asks; None when it asks something else (its
    value: "what is the anomaly score?")."""
    q = question.lower().strip()
    m = _MEANING.search(q)
    if m is None:
        return None
    asked = m.group(0)
    best, longest = None, 0
    for term in TERMS:  # the term whose spelling covers most of the question's words
        for hit in re.finditer(term.pattern, asked):
            if hit.end() - hit.start() > longest:
                best, longest = term, hit.end() - hit.start()
    if best is not None and best.value and re.search(r"\bwhat( is| are|'s| s) the\b", asked):
        return None
    return best


def meaning(c: CaseFacts, term: Term) -> str:
    """The term's meaning, and where this scan bears on it, how."""
    text = term.meaning
    refused = [i for i in c.evidence.by_kind("applicability") if not c.evidence.unreliable]
    if term.name == "skull-stripped" and refused:
        reasons = " ".join(refused[0].data.get("reasons") or [])
        if re.search(r"skull-stripped", reasons):
            text += (
                f" That is why it did not analyse this scan {cite(refused[0].id)}: it looks "
                "skull-stripped. The original images, with the skull on, can be analysed."
            )
    return text
