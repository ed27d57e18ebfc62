"""Afterwards steps (`afterwards.AFTERWARDS`) for questions about the tool rather than about this
scan's reading: what another input would give ("What if this were a FLAIR image?", "If I
flipped it and uploaded a PNG?"), its measured performance ("false-positive rate on healthy
volumes?", "AUPRC on held-out data?", "which checkpoint?") and where region names come from.
A twentieth trial found each of them answered with this scan's reading ("Nothing abnormal was
found", "460 pixels")."""

from __future__ import annotations

import re

from assistant.responders.grounded.beyond_the_reading import asked_sentences
from assistant.responders.grounded.turn import Turn, lowered, plain_reading

_WHAT_IF = re.compile(
    r"\b(what if|what happens if|what would happen if|how would (the|your|its|this) (answer|result|"
    r"reading|output|finding)s? (change|differ|look)|would (the|your|its) (answer|result|reading|"
    r"output|finding)s? (change|differ|be different)|if (i|we|you|someone) (had )?(sent|send|"
    r"uploaded|upload|gave|give|used|use|flipped|flip|mirrored|mirror)|would (it|you|the "
    r"(detector|model|tool|assistant|check)) (\w+ )?(notice|detect|catch|know|tell|spot))\b"
)
_ORIENTATION = re.compile(
    r"\b(flip\w*|mirror\w*|orientation (tags?|header|information|fields?)|wrong (orientation|side|"
    r"header|tags?)|left[- ]right (swap\w*|flip\w*|revers\w*)|swapped|reversed)\b"
)
_OTHER_INPUT = re.compile(
    r"\b(flair|t2|dwi|diffusion|swi|ct|post-?contrast|contrast[- ]enhanced|with contrast|"
    r"sagittal|coronal|reformat\w*|another (sequence|plane|modality)|other (sequence|plane|"
    r"modality))\b"
)


def another_input(t: Turn, text: str) -> str:
    """ "What if this were a FLAIR image?", "Would the answer change with the sagittal
    reformat?": the check would refuse it; "Would you notice wrong orientation tags?": no."""
    if not _WHAT_IF.search(t.q):
        return text
    here = lowered(plain_reading(t.case)) if t.outside is None else ""
    if _ORIENTATION.search(t.q):
        return (
            "The detector would not notice a mirrored image or wrong orientation tags: a mirrored "
            "brain looks as normal to it as the original, so the sides it reports come from the file's orientation header (NIfTI, "
            "DICOM), and wrong tags or a flipped image give the wrong patient side. A PNG or JPEG "
            "records no orientation: its sides are the image's (with what they would be under "
            "the display conventions), so a flipped PNG reports the mirrored image side. Check a "
            "side against the images themselves before it is used."
            + (f" On this scan, {here}" if here else "")
        )
    if _OTHER_INPUT.search(t.q):
        return (
            "It would most likely not be read at all: the applicability check refuses images that "
            "do not look like the axial T1-weighted brain slices the detector was trained on "
            "(another contrast such as FLAIR or T2, another plane such as a sagittal or coronal "
            "reformat, another modality), and says why. Analysed anyway, its result is marked "
            "unreliable and is not evidence either way: the detector knows only what healthy "
            "axial T1 looks like. (A 3D T1 volume is accepted: it is registered and analysed at "
            "the levels the detector was trained for.)" + (f" This reading: {here}" if here else "")
        )
    return text


_PERFORMANCE = re.compile(
    r"\b(false[- ]positive (rate|fraction)|false[- ]alarm rate|specificity|auprc|auroc|auc|dice|"
    r"hit rate|refusal rate|false[- ]refusal\w*|false[- ]reject\w*|(what|which) (fraction|proportion|"
    r"percentage|share) of (healthy|normal)|how often (does|do|would|will) (it|the (detector|model|"
    r"tool|check)) (flag|refuse|report|miss|reject)|(which|what) (checkpoint|model version|"
    r"detector version|version of the (model|detector)|weights)|checkpoint|sensitivity (on|for|in) "
    r"(real|ms|mslub|patients?)|(performance|results?|accuracy|auprc|auroc|sensitivity|hit rate) "
    r"(on|with) real (ms|mslub|patients?|lesions|data|scans))\b"
)


def detector_figures(t: Turn, text: str) -> str:
    """ "In what fraction of healthy volumes does it report a finding?", "pixel-level AUPRC on
    held-out data?", "sensitivity on real MS data?", "which checkpoint produced this?": where the
    measured figures are, not this scan's reading."""
    if t.intent in ("report", "similar_cases"):
        return text
    # the question asked, not its preamble ("We're measuring specificity on healthy slices. Is
    # this one healthy?"), nor a reading asked after a colon ("... AUROC and I need a reference
    # call: does this subject have a brain abnormality?")
    asked = " ".join(asked_sentences(t.q)) or t.q
    last = re.split(r"[:;]\s*", asked)[-1]
    if not _PERFORMANCE.search(last):
        return text
    method = t.case.detector.get("method")
    threshold = t.case.detector.get("score_threshold")
    this = ""
    if method and threshold is not None:
        this = (
            f" This result came from the {method} method with an image threshold of "
            f"{float(threshold):.3g}, calibrated on healthy validation scans."
        )
    named = (
        "The answers do not name the checkpoint: the app and the `assistant` command use the "
        "packaged detector unless another is chosen (`--detector`, `ASSISTANT_DETECTOR`), and "
        "its model card (MODEL_CARD.md beside its weights) says how it was trained and measured."
    )
    if re.search(r"\b(checkpoint|version|weights)\b", t.q) and not re.search(
        r"\b(rate|auprc|auroc|auc|dice|sensitivity|specificity|fraction|proportion|how often)\b",
        t.q,
    ):
        return named + this  # "Which checkpoint and detector version produced this result?"
    return (
        "That is a measured property of the detector, not of this scan. The figures are in the "
        "detector's model card (MODEL_CARD.md beside its weights) and the README's evaluation: "
        "pixel AUPRC and lesion hit rate on held-out slices and volumes with synthetic lesions, "
        "the share of healthy slices and volumes with a finding, sensitivity to small lesions "
        "(mostly missed), how often the applicability check accepts healthy scans and refuses "
        "other images, and, for the shipped detector, its result on real MS lesions (three "
        "patients: it does not find them)." + this
    )


_REGION_NAMES = re.compile(
    r"\b(region|anatomical|structure) (names?|labels?)\b.{0,60}\b(atlas|segmentation|label ?maps?|"
    r"derived|come from|based on)\b|\b(atlas|segmentation|label ?maps?)\b.{0,60}\b(region|"
    r"anatomical|structure) (names?|labels?)\b|\b(own|its) segmentation or (an |the )?atlas\b"
)


def where_region_names_come_from(t: Turn, text: str) -> str:
    """ "Are the region names from this scan's own segmentation or from an atlas?"."""
    if not _REGION_NAMES.search(t.q):
        return text
    return (
        "A 3D finding's anatomical regions come from the volume's own label map when one is "
        "given beside it (a NIfTI on the same grid), otherwise from a packaged atlas built from "
        "the IXI training volumes' label maps (DLMUSE), registered to the volume; when the "
        "orientation is unknown the atlas names no hemisphere. A 2D image, or a finding on one "
        "analysed slice, gets no region names, only its position in the image."
    )


_PART_OF_A_FINDING = re.compile(
    r"\b(part of|counted (as|in|with)|included in|belongs? to|inside) (f\d+|the (finding|region|"
    r"lesion))\b.{0,40}\bor (as )?(a |an )?(separate|different|another|its own|second)\b"
)


def one_region_or_two(t: Turn, text: str) -> str:
    """ "Is the rim counted as part of F1 or as a separate region?": how findings are formed."""
    if t.outside is not None or not t.found or not _PART_OF_A_FINDING.search(t.q):
        return text
    listing = ", ".join(f.id for f in t.found)
    return (
        "A finding is one connected region of the thresholded anomaly map, so parts that touch "
        "(a rim and what it encloses, a brighter and a darker part) are one finding, described "
        'together ("with a brighter part"); a part that does not touch is listed as a finding '
        f"of its own. This scan's findings: {listing}. " + plain_reading(t.case)
    )
