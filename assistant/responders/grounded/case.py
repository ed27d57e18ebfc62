"""`CaseFacts`: one question with the evidence it is answered from, and the sentences several
answers share (where a finding is, how big, how sure the detector is, why there is nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.evidence import Evidence, EvidenceItem, analysed_scope
from assistant.findings import (
    confidence_level,
    confidence_meaning,
    lean_of,
    position_words,
    signal_parts,
)
from assistant.responders.grounded.wording import CLOSED, cite
from assistant.responders.intents import Resolved


def threshold_band(score: float, threshold: float) -> str:
    """Where an image score lies against its calibrated threshold, in the words every answer
    uses: "well above" (at least 1.5x), "just above", "just below" (over 0.67x) or "well below"."""
    ratio = score / threshold if threshold > 0 else float("inf")
    if ratio >= 1.5:
        return "well above"
    if ratio > 1.0:
        return "just above"
    if ratio > 0.67:
        return "just below"
    return "well below"


@dataclass
class CaseFacts:
    """The evidence for one question, with the helpers every intent needs."""

    question: str
    q: str  # lower-cased question
    evidence: Evidence
    resolved: Resolved
    findings: list[EvidenceItem]  # all findings, detector order
    targets: list[EvidenceItem]  # the findings the question is about
    weak: list[EvidenceItem] = field(default_factory=list)  # W1..: below the image threshold
    # the user's earlier messages of this conversation, lower-cased ("a 9-month-old ..." said
    # two turns ago still holds)
    said_before: str = ""

    @property
    def closed(self) -> bool:
        return bool(CLOSED.search(self.q))

    @property
    def detector(self) -> dict:
        return self.evidence.detector_summary or {}

    @property
    def detection_ran(self) -> bool:
        return bool(self.detector)

    def spacing(self) -> tuple[float, float] | None:
        sp = (self.evidence.scan_summary or {}).get("spacing_mm")
        if not sp or len(sp) < 2:
            return None
        return float(sp[-2]), float(sp[-1])

    # --- sentences reused by several intents --------------------------------------------
    def side_phrase(self, f: dict) -> str:
        if f["side"] == "midline":
            lean = lean_of(f, "side")
            if not lean:
                return "at the midline"
            frame = "the patient's" if f.get("side_frame") == "patient" else "the image's"
            return f"at the midline (slightly to {frame} {lean})"
        if f.get("side_frame") == "patient":
            return f"on the patient's {f['side']}"
        return f"on the {f['side']} side of the image"

    def orientation_note(self, items: list[EvidenceItem]) -> str:
        if any(i.data.get("side_frame") != "patient" for i in items):
            return (
                " Left and right refer to the image as displayed, because the scan does not "
                "record the patient's orientation."
            )
        return ""

    def size_phrase(self, f: dict) -> str:
        if f.get("area_mm2") is None:
            return f"{f['area_px']} pixels (the scan has no pixel spacing, so no size in mm)"
        ext = self.extent_mm(f)
        across = f", about {ext[0]:.0f} × {ext[1]:.0f} mm across" if ext else ""
        return f"about {f['area_mm2']:.0f} mm²{across}"

    def extent_mm(self, f: dict) -> tuple[float, float] | None:
        sp = self.spacing()
        if sp is None:
            return None
        r0, c0, r1, c1 = f["bbox"]
        return (r1 - r0) * sp[0], (c1 - c0) * sp[1]

    def confidence_word(self, f: dict) -> str:
        """ "low" / "moderate" / "high" (or "uncalibrated") for a finding's confidence, the
        estimated probability that it is a true lesion: `assistant.findings.confidence_level`
        (never "high" just above the image threshold)."""
        return confidence_level(f, self.detector.get("score_threshold"))

    def confidence_meaning(self, f: dict) -> str:
        """ "an estimated 62% probability of being a true lesion" (or the fallback's meaning)."""
        return confidence_meaning(f)

    def describe(self, item: EvidenceItem) -> str:
        f = item.data
        parts = signal_parts(f)
        return (
            f"{item.id} is a {f['intensity']} region{parts}{',' if parts else ''} "
            f"{self.side_phrase(f)} "
            f"({', '.join(position_words(f))}), {self.size_phrase(f)}, "
            f"detector confidence {f['confidence']:.2f} ({self.confidence_word(f)}) "
            f"{cite(item.id)}"
        )

    def d1(self) -> str:
        """The citation of the detector's image-level result, when the evidence has it."""
        return " [D1]" if any(i.id == "D1" for i in self.evidence.items) else ""

    def uncertainty(self) -> str:
        """One sentence on how sure the detector is, from the image score vs its threshold."""
        d = self.detector
        score, thr = d.get("score"), d.get("score_threshold")
        if score is None:
            return ""
        if thr is None:
            return (
                f" The detector is not calibrated for this kind of scan (image score "
                f"{score:.3g}, no threshold), so treat this result as uncertain{self.d1()}."
            )
        where = threshold_band(score, thr)
        sure = {
            "well above": "the detector is fairly confident that the image is abnormal",
            # the score says the image as a whole is far from the threshold, not that no
            # lesion is there (small ones mostly stay below it): not "confident it is normal"
            "well below": "the image as a whole is well within the range of the healthy scans",
        }.get(where, "this result is uncertain")
        return (
            f" The image anomaly score is {score:.3g}, {where} the calibrated threshold of "
            f"{thr:.3g}, so {sure}{self.d1()}." + self.unregistered()
        )

    def unregistered(self) -> str:
        """For a slice thresholded as an unregistered 2D slice: what that costs (one
        sentence), else ""."""
        params = self.detector.get("params") or {}
        if not str(params.get("calibration", "")).endswith("+unregistered"):
            return ""
        return (
            " This slice is not registered to the detector's training space, so it was judged "
            "with stricter thresholds that include real native-space slices: fewer false "
            f"alarms, but it misses more lesions{self.d1()}; a whole volume (NIfTI or DICOM "
            "series) is registered first and judged with the training slices' thresholds."
        )

    def volume_findings(self) -> list[EvidenceItem]:
        """A volume's 3D findings (V1..) that are not weak (weak: on one analysed level only)."""
        return [v for v in self.evidence.by_kind("volume_finding") if not v.data.get("weak")]

    def crossing(self, volume: list[EvidenceItem]) -> str:
        """For 3D findings reported off the displayed slice: which of them nonetheless span its
        native slice number (the displayed image is that slice's plane resampled at one MNI
        level, which they miss), so that "slices 76-80" and "not on slice 78" do not read as a
        contradiction; "" when none does."""
        summary = self.evidence.scan_summary or {}
        shown = summary.get("slice_index")
        level = (summary.get("registered") or {}).get("level_mm")
        if shown is None or level is None:
            return ""
        spans = [
            v
            for v in volume
            if v.data.get("slice_range")
            and v.data["slice_range"][0] <= shown <= v.data["slice_range"][1]
        ]
        if not spans:
            return ""
        ids = " and ".join(v.id for v in spans)
        verb = "spans" if len(spans) == 1 else "span"
        return (
            f" {ids} {verb} native slice {shown} too, but not the displayed plane through it "
            f"(resampled at MNI z {level:+.0f} mm), where the detector found nothing."
        )

    def whole_brain(self) -> bool:
        """A volume analysed at every brain level (a level-aware, whole-brain detector), where
        "only the analysed slice" caveats do not hold."""
        whole = (self.evidence.scan_summary or {}).get("volume_analysis") or {}
        return bool(whole.get("level_aware") and whole.get("levels_mm"))

    def compared(self) -> str:
        """What was compared with healthy scans, and so what a negative does not cover: "only
        the analysed slice of a T1-weighted scan was compared with healthy scans, and many lesions
        show only on other slices or sequences", or for a volume analysed whole, on other
        sequences."""
        if self.whole_brain():
            return (
                "only this T1-weighted volume was compared with healthy scans, level by level, "
                "and many lesions show only on other sequences (FLAIR, DWI, SWI, contrast) or are "
                "too small for the detector"
            )
        return (
            "only the analysed slice of a T1-weighted scan was compared with healthy scans, and "
            "many lesions show only on other slices or sequences"
        )

    def scope(self) -> str:
        """For a slice of a volume: " Only one slice of this volume was analysed: ..." (which
        one, and that nothing can be said about the other levels); "" for a 2D image."""
        text = analysed_scope(self.evidence.scan_summary)
        return f" {text}" if text else ""

    def nothing_found(self, open_lead: str) -> str:
        """The answer to a where / how big / how bright question when there is no finding: "No"
        to a closed question when the detector ran and found nothing, "I can't tell" when it
        did not run (no evidence either way)."""
        if not self.detection_ran:
            lead = "I can't tell"
        else:
            lead = "No" if self.closed else open_lead
        return f"{lead}: {self.no_findings()}." + self.scope()

    def no_findings(self) -> str:
        """Why there is nothing to describe (detection not run, or nothing above threshold)."""
        if not self.detection_ran:
            return "anomaly detection was not run for this scan, so there is no finding to describe"
        return (
            "the detector found no region that deviates from the healthy training distribution "
            f"above its threshold{self.d1()}"
        )
