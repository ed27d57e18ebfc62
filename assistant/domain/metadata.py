"""What a scan's own metadata says about whether the detector applies (modality, plane, body part).

Only the de-identified fields a `Scan` keeps are read: `modality`, `format`, `notes` (which name
the plane of a slice cut from a volume) and the allow-listed technical tags in `metadata`
(BodyPartExamined, SeriesDescription, the sequence timings RepetitionTime, EchoTime and
InversionTime, ScanningSequence or EchoPulseSequence, AcquisitionContrast, ImageType, whether a
contrast agent was given (ContrastAgent, derived by the loader) and ImageOrientationPatient
where the loader keeps it).
Each check gives a verdict (True: fits, False: does not, None: not known) and, when it does
not fit, a sentence saying what is wrong and what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

MODALITY_NAMES = {
    "CT": "CT (computed tomography)",
    "CR": "CR (computed radiography, an X-ray)",
    "DX": "DX (digital radiography, an X-ray)",
    "MG": "MG (mammography)",
    "US": "US (ultrasound)",
    "PT": "PT (PET)",
    "NM": "NM (nuclear medicine)",
    "XA": "XA (X-ray angiography)",
    "RF": "RF (fluoroscopy)",
    "IO": "IO (intra-oral X-ray)",
    "PX": "PX (panoramic X-ray)",
    "OP": "OP (ophthalmic photography)",
    "XC": "XC (external camera photograph)",
    "SM": "SM (slide microscopy)",
}
UNKNOWN_MODALITIES = {"", "OT", "SC", "UNKNOWN"}  # no verdict from the modality
HEAD_PARTS = {"HEAD", "BRAIN", "SKULL", "HEADNECK", "HEAD_NECK", "NEURO", "CRANIUM", "CEREBRUM"}
_PLANE_NOTE = re.compile(r"^(axial|coronal|sagittal) slice \d+ of \d+$")
_NIFTI_PLANE_NOTE = re.compile(r"^2D NIfTI \((axial|coronal|sagittal) plane\)$")
_SEQUENCE_HINTS = (
    (re.compile(r"\bT2\b|T2W|T2[-_ ]", re.I), "T2-weighted"),
    (re.compile(r"FLAIR", re.I), "FLAIR"),
    (re.compile(r"\bDWI\b|DIFFUSION|\bDTI\b|\bADC\b|\bTRACE\b", re.I), "diffusion-weighted"),
    (re.compile(r"\bSWI\b|\bSWAN\b", re.I), "susceptibility-weighted"),
    (re.compile(r"\bPD\b|PDW", re.I), "proton-density"),
    (re.compile(r"\bTOF\b|ANGIO", re.I), "angiography"),
)
_PLANE_WORDS = (
    (re.compile(r"(?<![A-Z])SAG(ITTAL)?(?![A-Z])", re.I), "sagittal"),
    (re.compile(r"(?<![A-Z])COR(ONAL)?(?![A-Z])", re.I), "coronal"),
)


# Sequence timings that no T1-weighted MRI uses (ms). T1 weighting needs a short echo time
# (spin echo about 8-20 ms, gradient echo 2-10 ms) and, with an inversion pulse, an inversion
# time that does not null the fluid (MPRAGE, IR-SPGR, T1-FLAIR: about 400-1200 ms).
T2_MIN_ECHO_MS = 60.0  # spin echo at TE >= 60 ms: T2-weighted (T2 FSE: 80-120 ms)
FLAIR_MIN_INVERSION_MS = 1500.0  # T2-FLAIR nulls the fluid with TI of about 2000-2800 ms
STIR_MAX_INVERSION_MS = 300.0  # STIR nulls fat with TI of about 150-250 ms and a longer TE
STIR_MIN_ECHO_MS = 30.0
T2STAR_MIN_ECHO_MS = 15.0  # gradient echo without inversion at TE >= 15 ms: T2*/SWI
PD_MIN_REPETITION_MS = 1500.0  # spin echo, long TR and short TE without inversion: PD
_DIFFUSION_TYPES = ("DIFFUSION", "ADC", "TRACEW", "EADC", "TENSOR", "FA")
# Acquisition Contrast (0008,9209) of enhanced MR objects: coded terms that are not T1-weighted.
# FLUID_ATTENUATED is left to the inversion time (a T1-FLAIR nulls fluid at TI under 1500 ms).
_ACQUISITION_CONTRASTS = {
    "T2": "T2-weighted",
    "T2_STAR": "T2*-weighted (gradient echo, e.g. SWI)",
    "PROTON_DENSITY": "proton-density-weighted",
    "STIR": "STIR (short-tau inversion recovery)",
    "DIFFUSION": "diffusion-weighted (or diffusion-derived)",
    "PERFUSION": "perfusion",
    "FLOW_ENCODED": "flow-encoded (phase-contrast angiography)",
    "TOF": "time-of-flight angiography",
    "TAGGING": "tagged",
}
_ECHO_PULSE = {"SPIN": "SE", "GRADIENT": "GR", "BOTH": "SE,GR"}


@dataclass
class MetadataVerdict:
    ok: bool  # False when a check refuses the scan
    reasons: list[str] = field(default_factory=list)
    checks: dict = field(default_factory=dict)


def plane_of(scan) -> tuple[str | None, str]:
    """(plane or None, source) from the slice notes or ImageOrientationPatient."""
    for note in reversed(getattr(scan, "notes", []) or []):
        m = _PLANE_NOTE.match(note) or _NIFTI_PLANE_NOTE.match(note)
        if m:
            return m.group(1), "slice taken from a volume"
    iop = (getattr(scan, "metadata", {}) or {}).get("ImageOrientationPatient")
    if iop is not None:
        try:
            v = np.array([float(x) for x in str(iop).replace("\\", ",").split(",")], float)
        except ValueError:
            v = np.zeros(0)
        if v.size == 6 and np.linalg.norm(v[:3]) > 0 and np.linalg.norm(v[3:]) > 0:
            normal = np.abs(np.cross(v[:3], v[3:]))
            axis = int(np.argmax(normal))
            return ("sagittal", "coronal", "axial")[axis], "DICOM Image Orientation (Patient)"
    return None, ""


def check_metadata(scan, accepted: str) -> MetadataVerdict:
    """Modality (MR required when the DICOM header gives one), plane (axial), body part (head);
    the series description's sequence and plane words are kept as hints."""
    out = MetadataVerdict(ok=True)
    modality = str(getattr(scan, "modality", "") or "").upper().strip()
    fmt = getattr(scan, "format", "")
    out.checks["modality"] = modality or None
    if fmt == "dicom" and modality not in UNKNOWN_MODALITIES and modality != "MR":
        name = MODALITY_NAMES.get(modality, modality)
        out.ok = False
        out.reasons.append(
            f"The DICOM header gives the modality as {name}; the detector was trained only on "
            f"MRI (modality MR), so it does not apply ({accepted})."
        )
    plane, source = plane_of(scan)
    out.checks["plane"] = plane
    if plane is not None and plane != "axial":
        out.ok = False
        out.reasons.append(
            f"The image is a {plane} slice ({source}); the detector analyses axial slices "
            f"only ({accepted})."
        )
    meta = getattr(scan, "metadata", {}) or {}
    part = str(meta.get("BodyPartExamined", "") or "").upper().replace(" ", "").strip()
    out.checks["body_part"] = part or None
    if part and part not in HEAD_PARTS:
        out.ok = False
        out.reasons.append(
            f"The DICOM header names the body part {part.lower()}; the detector knows only "
            f"brain scans ({accepted})."
        )
    out.checks["hints"] = description_hints(str(meta.get("SeriesDescription", "") or ""))
    if modality == "MR" or modality in UNKNOWN_MODALITIES:
        name, evidence = sequence_weighting(meta)
        out.checks["sequence"] = {"weighting": name, "evidence": evidence, "other_weighting": False}
        if name is not None:
            out.checks["sequence"]["other_weighting"] = True
            out.ok = False
            out.reasons.append(
                f"The DICOM header describes a {name} series ({evidence}); the detector "
                "learned only T1-weighted MRI, on which white matter is brighter than grey "
                "matter and fluid is dark, and other contrasts make healthy tissue look "
                "abnormal to it. Upload the study's T1-weighted series (e.g. MPRAGE, SPGR or a "
                "T1 spin echo), or choose 'Analyse anyway' for a result marked unreliable; "
                f"{accepted}."
            )
        given = str(meta.get("ContrastAgent", "") or "") or None
        out.checks["agent"] = {"contrast": given, "post_contrast": given == "given"}
        if given == "given":
            out.ok = False
            out.reasons.append(
                "The DICOM header records that a contrast agent was given: this is a "
                "post-contrast series. The detector learned non-contrast T1-weighted MRI, on "
                "which vessels, dura and choroid plexus are not bright; on a post-contrast scan "
                "these normally enhancing structures can look abnormal to it, and how often has "
                "not been measured. Upload the study's pre-contrast T1-weighted series, or "
                f"choose 'Analyse anyway' for a result marked unreliable; {accepted}."
            )
    return out


def _ms(meta: dict, key: str) -> float | None:
    """A timing tag in ms (the first value of a multi-valued one), None when absent or 0."""
    raw = meta.get(key)
    if raw is None:
        return None
    try:
        value = float(str(raw).split(",")[0].strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def sequence_weighting(meta: dict) -> tuple[str | None, str]:
    """(name, evidence) when a DICOM header's own sequence timings or image type mark a
    sequence that is not T1-weighted; (None, "") when they do not or are not recorded. Only
    the timings and ImageType decide (the series description is free text: a hint, never a
    verdict)."""
    image_type = str(meta.get("ImageType", "") or "").upper().replace("\\", ",")
    kinds = {t.strip() for t in image_type.split(",")}
    hit = sorted(kinds & set(_DIFFUSION_TYPES))
    if hit:
        return "diffusion-weighted (or diffusion-derived)", f"image type {', '.join(hit)}"
    te, tr, ti = _ms(meta, "EchoTime"), _ms(meta, "RepetitionTime"), _ms(meta, "InversionTime")
    seq = str(meta.get("ScanningSequence", "") or "").upper()
    if not seq:  # enhanced MR objects give the echo pulse sequence instead
        seq = _ECHO_PULSE.get(str(meta.get("EchoPulseSequence", "") or "").upper().strip(), "")
    timing = ", ".join(
        f"{label} {value:g} ms"
        for label, value in (("TR", tr), ("TE", te), ("TI", ti))
        if value is not None
    )
    coded = str(meta.get("AcquisitionContrast", "") or "").upper().strip()
    if coded in _ACQUISITION_CONTRASTS:
        return _ACQUISITION_CONTRASTS[coded], f"acquisition contrast {coded}" + (
            f"; {timing}" if timing else ""
        )
    if coded == "FLUID_ATTENUATED" and (ti is None or ti >= FLAIR_MIN_INVERSION_MS):
        return "FLAIR (fluid-attenuated inversion recovery)", (
            "acquisition contrast FLUID_ATTENUATED" + (f"; {timing}" if timing else "")
        )
    if ti is not None and ti >= FLAIR_MIN_INVERSION_MS:
        return "FLAIR (fluid-attenuated inversion recovery)", (
            f"{timing}: an inversion time of {FLAIR_MIN_INVERSION_MS:g} ms or more nulls the fluid"
        )
    if ti is not None and ti <= STIR_MAX_INVERSION_MS and te is not None and te >= STIR_MIN_ECHO_MS:
        return "STIR (short-tau inversion recovery)", f"{timing}: a short inversion time nulls fat"
    if te is not None and te >= T2_MIN_ECHO_MS:
        return "T2-weighted", f"{timing}: T1-weighted MRI uses an echo time under 30 ms"
    gradient = "GR" in seq and "IR" not in seq and ti is None
    if gradient and te is not None and te >= T2STAR_MIN_ECHO_MS:
        return "T2*-weighted (gradient echo, e.g. SWI)", (
            f"{timing}: a T1-weighted gradient echo uses an echo time under "
            f"{T2STAR_MIN_ECHO_MS:g} ms"
        )
    spin_echo = "SE" in seq and "GR" not in seq and "IR" not in seq and ti is None
    if spin_echo and tr is not None and tr >= PD_MIN_REPETITION_MS and te is not None:
        return "proton-density-weighted", (
            f"{timing}: a long repetition time with a short echo time and no inversion; a "
            "T1-weighted spin echo uses a repetition time under 1000 ms"
        )
    return None, ""


def description_hints(description: str) -> list[str]:
    """Sequence or plane words in a series description (hints, never a verdict alone)."""
    hints = [f"sequence: {name}" for rx, name in _SEQUENCE_HINTS if rx.search(description)]
    hints += [f"plane: {name}" for rx, name in _PLANE_WORDS if rx.search(description)]
    return hints
