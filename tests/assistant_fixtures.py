"""Constructed detector results for the chat, grounded-responder and report tests.

`synthetic_result` builds a DetectionResult for a synthetic scan (an ellipse "brain" with square
lesions of known side, size and intensity) whose findings are measured from the lesion masks.
"""

from __future__ import annotations

import re

import numpy as np

from assistant.detector.result import DetectionResult
from assistant.findings import Finding

H, W = 64, 80  # a non-square grid so that rows and columns cannot be confused


def synthetic_result(
    lesions: list[dict],
    spacing: tuple[float, float] | None = (0.9, 1.2),
    frame: str = "patient",
    score: float | None = None,
    threshold: float | None = 0.4,
) -> DetectionResult:
    """A detection result for a synthetic scan: a grey ellipse (the "brain") plus square lesions.

    Each lesion dict: row, col (top-left), size (pixels per side), delta (+ bright, - dark).
    The pseudo-healthy image is the scan without the lesions; the anomaly map is the absolute
    difference; findings are measured from the mask exactly as a detector would report them.
    """
    yy, xx = np.mgrid[0:H, 0:W]
    healthy = np.where(
        ((yy - H / 2) / (H * 0.45)) ** 2 + ((xx - W / 2) / (W * 0.45)) ** 2 < 1, 0.5, 0.0
    ).astype(np.float32)
    image = healthy.copy()
    findings = []
    for k, les in enumerate(lesions, start=1):
        r, c, s, d = les["row"], les["col"], les["size"], les["delta"]
        image[r : r + s, c : c + s] += d
        mask = np.zeros((H, W), bool)
        mask[r : r + s, c : c + s] = True
        rows, cols = np.nonzero(mask)
        cy, cx = rows.mean(), cols.mean()
        side = "left" if cx < W / 2 else "right"  # neurological display: image left = patient left
        findings.append(
            Finding(
                id=f"F{k}",
                area_px=int(mask.sum()),
                area_mm2=None if spacing is None else float(mask.sum() * spacing[0] * spacing[1]),
                bbox=(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1),
                centroid=(float(cy), float(cx)),
                side=side,
                side_frame=frame,
                anterior_posterior="anterior"
                if cy < H / 3
                else "posterior"
                if cy > 2 * H / 3
                else "central",
                central_peripheral="peripheral",
                intensity="hyperintense" if d > 0 else "hypointense",
                intensity_delta=float(d),
                peak_anomaly=abs(d),
                mean_anomaly=abs(d),
                confidence=les.get("confidence", 0.8),
            )
        )
    amap = np.abs(image - healthy)
    if score is None:
        score = 0.9 if lesions else 0.1
    return DetectionResult(
        anomaly_map=amap,
        pseudo_healthy=healthy,
        image=np.clip(image, 0, 1),
        foreground=healthy > 0,
        mask=amap > 0.1,
        score=score,
        score_threshold=threshold,
        pixel_threshold=0.1,
        findings=findings,
        method="thor",
        side_frame=frame,  # type: ignore[arg-type]
    )


def scan_summary(spacing=(0.9, 1.2), modality="MR") -> dict:
    return {
        "format": "nifti",
        "shape": [H, W],
        "spacing_mm": None if spacing is None else list(spacing),
        "patient_left": "image_left",
        "modality": modality,
        "notes": [],
    }


def cited(text: str) -> list[str]:
    return re.findall(r"\[([A-Z]\d+)\]", text)


LEFT_BRIGHT = {"row": 10, "col": 12, "size": 8, "delta": 0.4}
RIGHT_DARK = {"row": 48, "col": 58, "size": 5, "delta": -0.3, "confidence": 0.3}


def grounded_ask(question: str, ev, history=None) -> str:
    """The grounded responder's answer (no disclaimer line), checking that it cites only
    evidence the scan has."""
    from assistant.responders.grounded import GroundedResponder

    text = GroundedResponder(disclaimer=False).answer(question, ev, history or [])
    assert set(cited(text)) <= ev.ids(), (cited(text), ev.ids())
    return text


def finding_evidence(lesions=(LEFT_BRIGHT,), **summary):
    """Evidence of a synthetic NIfTI-like scan with `lesions`, its summary updated by `summary`."""
    from assistant.analysis import build_evidence

    return build_evidence(synthetic_result(list(lesions)), {**scan_summary(), **summary})


# a volume analysed at the five levels the shipped detector knows
FIVE_LEVELS = {
    "source_shape": [120, 64, 80],
    "slice_index": 75,
    "notes": ["reoriented from PSR to RAS+ (column 0 = patient left)"],
    "registered": {"level_mm": 23.0, "slice_index": 75, "similarity": 0.86, "kind": "affine"},
    "volume_analysis": {"levels_mm": [19.0, 21.0, 23.0, 25.0, 27.0], "native_slices": [70, 80]},
}


def weak_five_level_volume():
    """Evidence of a healthy volume analysed at `FIVE_LEVELS`: a weaker region (W1) only."""
    from dataclasses import replace

    from assistant.analysis import build_evidence

    r = synthetic_result([LEFT_BRIGHT], score=0.2, threshold=0.4)
    r = replace(r, findings=[], weak_findings=[replace(f, id="W1") for f in r.findings])
    return build_evidence(r, {**scan_summary(), **FIVE_LEVELS})


def png_evidence(lesions=(LEFT_BRIGHT,)):
    """Evidence of a PNG-like slice with `lesions`: no spacing, no recorded orientation."""
    from assistant.analysis import build_evidence

    summary = {**scan_summary(spacing=None), "format": "png", "patient_left": None}
    return build_evidence(synthetic_result(list(lesions), spacing=None, frame="image"), summary)


def healthy_five_level_volume():
    """Evidence of a healthy volume analysed at `FIVE_LEVELS`, with nothing found."""
    from assistant.analysis import build_evidence

    return build_evidence(synthetic_result([]), {**scan_summary(), **FIVE_LEVELS})


def healthy_evidence():
    """Evidence of a synthetic slice where the detector found nothing."""
    from assistant.analysis import build_evidence

    return build_evidence(synthetic_result([]), scan_summary())


def skull_stripped_volume(analysed_anyway: bool = False):
    """Evidence of a volume the applicability check refused as skull-stripped: not analysed, or
    (`analysed_anyway`) analysed anyway with one region (LEFT_BRIGHT), marked unreliable."""
    from assistant.analysis import build_evidence
    from assistant.domain import Applicability

    stripped = Applicability(in_domain=False, reasons=["The slice looks skull-stripped."])
    summary = {**scan_summary(), "source_shape": [182, 218, 182], "slice_index": 117}
    if not analysed_anyway:
        return build_evidence(None, summary, applicability=stripped)
    return build_evidence(
        synthetic_result([LEFT_BRIGHT]), summary, applicability=stripped, unreliable=True
    )
