"""What an answer may rest on: the `Evidence` bundle of one analysed scan slice, and chat turns.

The analysis (`assistant.analysis.build_evidence`) builds the bundle by code, never by a model;
every responder, the prompts, the draft report and the app read it. Each `EvidenceItem` has an id
that answers cite in square brackets:

    D1       the detector's image-level result (score against its calibrated threshold)
    F1, F2   findings: regions above the pixel threshold (`assistant.findings.Finding`)
    W1, W2   weaker regions below the image threshold (may be noise or normal variation)
    V1, V2   3D findings of a volume analysed at every level the detector knows
             (`assistant.volume`; the F and W items are then those of the displayed slice)
    C1, C2   similar cases retrieved from the case library (their text is data, never obeyed)
    K1, K2   knowledge passages retrieved for the findings (data as well)
    A1       the applicability check, present when the scan is outside what the detector knows
             (`assistant.domain`): why its results do not apply, or are unreliable
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

EvidenceKind = Literal[
    "detector", "finding", "weak_finding", "volume_finding", "case", "knowledge", "applicability"
]


def analysed_scope(scan_summary: dict | None) -> str:
    """For a volume: what of it was analysed (the same sentences in answers, the detector's
    evidence and the draft report); "" for a 2D image, which is analysed whole.
    `scan_summary` is the analysis' summary of the analysed slice: `source_shape`,
    `slice_index`, `registered`, and `volume_analysis` when the volume was analysed at every
    level the detector knows (`assistant.analysis.volume_summary`)."""
    s = scan_summary or {}
    shape = s.get("source_shape")
    if not shape or len(shape) < 3:
        return ""
    n, index = int(shape[0]), s.get("slice_index")
    level = (s.get("registered") or {}).get("level_mm")
    shown = f"slice {index} (numbered from 0)" if index is not None else "one slice"
    if level is not None:
        shown += f", resampled at about MNI z = {level:+.0f} mm"
    whole = s.get("volume_analysis")
    native = s.get("native_levels_mm")
    levels_done = (whole or {}).get("levels_mm") or []
    if (
        native
        and levels_done
        and (min(native) < min(levels_done) - 2.0 or max(native) > max(levels_done) + 2.0)
    ):
        # "ask --slice 78" of a tilted head: the plane shown is not the native slice, which
        # runs through levels that were not analysed
        shown += (
            f" (native slice {index} itself runs from about MNI z {min(native):+.0f} to "
            f"{max(native):+.0f} mm across the brain, as the head is tilted in the scan: only "
            "its part at the analysed levels was analysed, and a lesion elsewhere on it would "
            "not be seen)"
        )
    if whole and whole.get("levels_mm"):
        levels = whole["levels_mm"]
        span = f"MNI z {min(levels):+.0f} to {max(levels):+.0f} mm"
        first_last = whole.get("native_slices")
        if first_last:
            # the analysed planes are resampled at MNI levels: a tilted head's native slices
            # are each crossed only in part
            span += f"; planes crossing native slices {first_last[0]}-{first_last[1]}"
        ids = whole.get("findings") or []
        found = f"3D findings: {', '.join(ids)}" if ids else "no 3D finding"
        weak = whole.get("weak") or []
        if weak:
            found += f" (weak, on one level only: {', '.join(weak)})"
        if whole.get("level_aware"):
            steps = {round(b - a, 1) for a, b in zip(levels, levels[1:], strict=False)}
            every = (
                "every brain level"
                if not steps or max(steps) <= 2.0
                else f"every {max(steps):g} mm of the brain (the slices between interpolated)"
            )
            return (
                f"The whole volume ({n} axial slices) was analysed at {every} ({span}), "
                f"{found}; the displayed slice is {shown}."
            )
        return (
            f"Of this volume's {n} axial slices, the {len(levels)} levels the detector was "
            f"trained for were analysed ({span}), {found}; the displayed slice is "
            f"{shown}. The rest of the volume was not analysed, so nothing can be said about "
            "other levels."
        )
    if level is not None:
        shown += ", the level the detector was trained on"
    return (
        f"Only one of this volume's {n} axial slices was analysed: {shown}. The rest of the "
        "volume was not analysed, so nothing can be said about other levels."
    )


@dataclass
class EvidenceItem:
    """One citable piece of evidence. `text` is what a responder may quote; for cases and
    knowledge passages it is DATA, never instructions."""

    id: str  # "D1", "F1", "W1", "C2", "K3"
    kind: EvidenceKind
    text: str
    score: float | None = None  # confidence (findings) or similarity (cases/knowledge)
    data: dict = field(default_factory=dict)  # structured fields (e.g. Finding.to_dict(), Hit)


@dataclass
class Evidence:
    """Everything a responder may use to answer about one scan (one slice)."""

    items: list[EvidenceItem]
    detector_summary: dict  # DetectionResult.summary() (no arrays); {} when detection is off
    scan_summary: dict  # de-identified: format, modality, shape, spacing, orientation
    image: np.ndarray | None = None  # (H, W) float32 [0,1] slice shown to VLMs (None = no image)
    overlay: np.ndarray | None = None  # (H, W, 3) uint8 heatmap overlay shown to VLMs
    # `Applicability.to_dict()` of the scan (None: the check did not run)
    applicability: dict | None = None
    # True when the scan is outside the detector's domain and was analysed anyway: every
    # detector result in this bundle is unreliable
    unreliable: bool = False

    @property
    def out_of_domain(self) -> bool:
        """Whether the applicability check found the scan outside the detector's domain."""
        return self.applicability is not None and not self.applicability.get("in_domain", True)

    def ids(self) -> set[str]:
        return {item.id for item in self.items}

    def by_kind(self, kind: EvidenceKind) -> list[EvidenceItem]:
        return [i for i in self.items if i.kind == kind]


@dataclass
class Message:
    """One chat turn (the history a follow-up question is resolved against)."""

    role: Literal["user", "assistant"]
    content: str
