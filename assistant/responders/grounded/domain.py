"""Answers about a scan outside the detector's domain (evidence item A1, `assistant.domain`).

Out of domain, the detector's output says nothing about this image: questions that rest on it
(is there an abnormality, where, how big, what the heatmap shows, how confident) are answered
with "I can't tell" and the reasons, cited to A1. Analysed anyway at the user's request, the
usual answer is given after a warning that it is unreliable.
"""

from __future__ import annotations

from assistant.evidence import EvidenceItem
from assistant.responders.grounded.case import CaseFacts

# intents that do not rest on the detector's output: answered as usual, out of domain or not
INDEPENDENT = ("modality", "out_of_scope", "similar_cases", "unknown", "report")

TRAINED_ON = (
    "The detector was trained on healthy axial T1-weighted brain MRI at one level (through the "
    "lateral ventricles); it can only say whether such a slice deviates from that."
)

# a level-aware (whole-brain) detector: volumes at every level, single images still at one
TRAINED_ON_WHOLE_BRAIN = (
    "The detector was trained on healthy T1-weighted brain MRI: whole 3D volumes, which it "
    "analyses at every axial brain level, and single 2D slices at one level only (through the "
    "lateral ventricles); it can only say whether such a scan deviates from that."
)


ANYWAY = '"Analyse anyway" runs the detector, with every result marked unreliable.'


def applicability_item(c: CaseFacts) -> EvidenceItem | None:
    """A1 when the scan is outside the detector's domain, else None."""
    items = c.evidence.by_kind("applicability")
    return items[0] if items else None


# checks read only on the right kind of slice at the right level: when one of them refuses it,
# the scan itself is what the detector needs, prepared otherwise (its reason says how to fix it;
# the upside-down, turned-head, thick-slice, noise, sequence, contrast-agent and tissue-contrast
# reasons also name "analyse anyway")
_PREPARATION = (
    ("orientation", "upside_down"),
    ("tilt", "tilted"),
    ("thickness", "too_thick"),
    ("noise", "too_noisy"),
    ("sequence", "other_weighting"),
    ("agent", "post_contrast"),
    ("contrast", "not_t1"),
    ("skull", "skull_stripped"),
    ("flat", "label_map"),
)
_NAMES_ANYWAY = _PREPARATION[:7]


def _refused(checks: dict, name: str, flag: str) -> bool:
    return bool((checks.get(name) or {}).get(flag))


def not_applicable(c: CaseFacts, item: EvidenceItem) -> str:
    """ "I can't tell": the detector does not apply to this image, and why [A1]."""
    reasons = " ".join(item.data.get("reasons") or [])
    checks = item.data.get("checks") or {}
    if any(_refused(checks, name, flag) for name, flag in _PREPARATION):
        advice = "" if any(_refused(checks, *check) for check in _NAMES_ANYWAY) else ANYWAY
    elif item.data.get("whole_brain"):
        advice = (
            f"{TRAINED_ON_WHOLE_BRAIN} Upload a 3D T1-weighted brain volume (analysed at every "
            'brain level) or an axial T1-weighted slice at that level, or choose "analyse '
            'anyway" for a result marked unreliable.'
        )
    else:
        advice = (
            f"{TRAINED_ON} Upload an axial T1-weighted brain MRI at that level (or a 3D T1 "
            'volume, which is registered and sliced at that level), or choose "analyse anyway" '
            "for a result marked unreliable."
        )
    return (
        (
            f"I can't tell. The anomaly detector does not apply to this image [{item.id}]: "
            f"{reasons} {advice}"
        )
        .replace("  ", " ")
        .strip()
    )


def unreliable_prefix(item: EvidenceItem) -> str:
    """The warning that opens every detector-based answer for a scan analysed anyway."""
    return (
        f"Unreliable: this image is outside the detector's domain [{item.id}], and it was "
        "analysed anyway at your request, so the following is not evidence about this scan. "
    )
