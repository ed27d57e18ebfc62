"""What a scan's own metadata says about whether the detector applies (modality, plane, body part).

Only the de-identified fields a `Scan` keeps are read: `modality`, `format`, `notes` (which name
the plane of a slice cut from a volume) and the allow-listed technical tags in `metadata`
(BodyPartExamined, SeriesDescription, and ImageOrientationPatient where the loader keeps it).
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
    return out


def description_hints(description: str) -> list[str]:
    """Sequence or plane words in a series description (hints, never a verdict alone)."""
    hints = [f"sequence: {name}" for rx, name in _SEQUENCE_HINTS if rx.search(description)]
    hints += [f"plane: {name}" for rx, name in _PLANE_WORDS if rx.search(description)]
    return hints
