"""What the app shows, as plain data: images (uint8 arrays), table rows, Markdown, JSON.

Nothing here imports gradio, so every view is tested without a server or a browser.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assistant.analysis import CaseState
from assistant.chat import Answer
from assistant.detector.result import DetectionResult
from assistant.evidence import Evidence
from assistant.findings import Finding, position_words

FINDING_HEADERS = ["ID", "Side", "Position", "Size", "Intensity", "Confidence"]
CASE_HEADERS = ["Ref", "Case", "Similarity", "Synthetic", "Findings", "Report excerpt"]
UNRELIABLE = "UNRELIABLE: outside the detector's domain"


# ----------------------------------------------------------------------------- the domain
def file_label(filename: str | None) -> str:
    """The uploaded file's name as Markdown code (no backticks or line breaks), or a stand-in."""
    name = " ".join(str(filename or "").replace("`", "'").split())
    return f"`{name}`" if name else "this scan"


def out_of_domain(state: CaseState | None) -> bool:
    """Whether the applicability check found the analysed scan outside the detector's domain."""
    a = getattr(state, "applicability", None)
    return a is not None and not a.in_domain


def domain_banner(state: CaseState | None, filename: str | None = None) -> str:
    """Markdown banner for a scan outside the detector's domain: why, and either that nothing
    was detected or that the results are unreliable; "" when in domain (or not checked)."""
    if not out_of_domain(state):
        return ""
    name, a = file_label(filename), state.applicability
    reasons = "\n".join(f"- {r}" for r in a.reasons) or f"- {a.summary}"
    if getattr(state, "unreliable", False):
        return (
            f"### ⚠ {UNRELIABLE} · {name}\n\n{name} was analysed anyway, at your request. "
            "The detector does not apply to it, so every result shown for it (score, heatmap, "
            f"findings, answers, draft) is **unreliable**:\n\n{reasons}"
        )
    return (
        f"### ⚠ Outside the detector's domain · {name}\n\nThe anomaly detector does not apply "
        f"to this image, so no findings are shown:\n\n{reasons}\n\nTo run it regardless, tick "
        "**Analyse anyway**: its results are then marked UNRELIABLE."
    )


def slice_ranges(indices: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9"."""
    parts: list[tuple[int, int]] = []
    for k in sorted(set(int(i) for i in indices)):
        if parts and k == parts[-1][1] + 1:
            parts[-1] = (parts[-1][0], k)
        else:
            parts.append((k, k))
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in parts)


def slice_info(state: CaseState | None, n_slices: int = 0) -> str:
    """Which axial slices of a volume the detector applies to (the check's level of each
    slice), for the slice slider; "" without a check."""
    a = getattr(state, "applicability", None)
    if a is None:
        return ""
    ok = a.checks.get("analysable_slices")
    level = "its trained level"
    if a.trained_level is not None and a.level_tolerance is not None:
        level = f"MNI z = {a.trained_level:+.0f} ± {a.level_tolerance:.0f} mm"
    if ok:
        which = "all slices" if len(ok) == n_slices else f"slices {slice_ranges(ok)}"
        return (
            f"Analysable: {which} (at the detector's trained level, {level}); the others are "
            "outside its domain."
        )
    if ok is not None:
        return f"No slice of this volume lies at the detector's trained level ({level})."
    if not a.in_domain:
        return "No slice is analysable: the volume is outside the detector's domain (see above)."
    return ""


def findings_caption(state: CaseState | None, filename: str | None = None) -> str:
    """The findings table's label: the file it belongs to, and UNRELIABLE or "not applicable"
    when the scan is outside the detector's domain."""
    caption = f"Findings · {file_label(filename).strip('`')}"
    if getattr(state, "unreliable", False):
        return f"{caption} · {UNRELIABLE}"
    if out_of_domain(state) and state.result is None:
        return f"{caption} · none: the detector does not apply (outside its domain)"
    return caption


# ----------------------------------------------------------------------------- images
def display_range(result: DetectionResult) -> tuple[float, float]:
    """(vmin, vmax) of the heatmap colours: from half the pixel threshold (or 0) to the
    99.9th percentile of the map (at least twice the threshold)."""
    vmin = 0.5 * (result.pixel_threshold or 0.0)
    vmax = max(float(np.quantile(result.anomaly_map, 0.999)), 2 * vmin, 1e-6)
    return vmin, vmax


def overlay_image(result: DetectionResult, opacity: float = 0.5) -> np.ndarray:
    """(H, W + bar, 3) uint8: the slice with the heatmap blended at `opacity` in [0, 1], the
    calibrated mask outlined in cyan and a colour bar on the right."""
    from assistant.render import overlay_rgb, with_colorbar

    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    vmin, vmax = display_range(result)
    rgb = overlay_rgb(result.image, result.anomaly_map, opacity, vmin, vmax, result.mask)
    return with_colorbar(rgb, vmin, vmax)


def grey_rgb(img01: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) uint8."""
    from assistant.render import to_uint8

    return np.repeat(to_uint8(np.asarray(img01))[..., None], 3, axis=2)


def comparison(result: DetectionResult) -> tuple[np.ndarray, np.ndarray]:
    """(original, pseudo-healthy) as (H, W, 3) uint8, for the before/after slider."""
    return grey_rgb(result.image), grey_rgb(result.pseudo_healthy)


# ----------------------------------------------------------------------------- findings
def finding_row(f: Finding, weak: bool = False) -> list[Any]:
    ap, depth = position_words(f.to_dict())
    size = f"{f.area_mm2:.0f} mm²" if f.area_mm2 is not None else f"{f.area_px} px"
    side = f.side if f.side_frame == "patient" else f"{f.side} (image side)"
    label = f"{f.id} (weak: below the image threshold)" if weak else f.id
    if f.unreliable:
        label += " (UNRELIABLE)"
    return [label, side, f"{ap}, {depth}", size, f.intensity, round(float(f.confidence), 2)]


def findings_rows(result: DetectionResult | None) -> list[list[Any]]:
    """One row per finding, then the weaker regions (W1..) marked as such; `FINDING_HEADERS`."""
    if result is None:
        return []
    rows = [finding_row(f) for f in result.findings]
    return rows + [finding_row(f, weak=True) for f in result.weak_findings]


def score_markdown(state: CaseState, filename: str | None = None) -> str:
    """The image-level verdict: score vs. the calibrated threshold, and what was analysed
    (named by `filename` when given; marked when outside the detector's domain)."""
    r = state.result
    where = ""
    if state.slice_index is not None:
        n = (state.scan_summary.get("source_shape") or [0])[0]
        where = f" · axial slice {state.slice_index} of {n}"
        if state.scan_summary.get("registered"):
            where += " (registered; resampled at the detector's trained level)"
    head = f"{file_label(filename)}: " if filename else ""
    if getattr(state, "unreliable", False):
        head += f"**{UNRELIABLE}.** "
    if r is None and out_of_domain(state):
        return (
            f"{head}**The detector does not apply** (outside its domain): no anomaly score and "
            f"no findings{where}."
        )
    if r is None:
        return f"{head}**Detection is off**: no anomaly score{where}."
    n = len(r.findings)
    if r.score_threshold is None:
        verdict = "the detector is **not calibrated** for this method: no verdict"
    elif r.is_abnormal:
        verdict = f"**above** the calibrated threshold {r.score_threshold:.3g} → anomalous"
    else:
        verdict = f"**not above** the calibrated threshold {r.score_threshold:.3g}"
    sens = r.params.get("sensitivity")
    sens_txt = f", sensitivity ×{sens:g}" if sens else ""
    secs = state.timings.get("total_s", 0.0)
    return (
        f"{head}Anomaly score **{r.score:.3g}**, {verdict}. {n} finding(s){where}. "
        f"Method {r.method}{sens_txt}; analysed in {secs:.1f} s."
    )


# ----------------------------------------------------------------------------- cases
def _excerpt(text: str, n: int = 160) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def case_rows(state: CaseState | None) -> list[list[Any]]:
    """One row per similar case (C1..), columns `CASE_HEADERS`."""
    if state is None:
        return []
    rows = []
    for i, h in enumerate(state.hits, start=1):
        rows.append(
            [
                f"C{i}",
                str(getattr(h, "id", "")),
                round(float(getattr(h, "similarity", 0.0)), 3),
                "yes" if getattr(h, "synthetic", False) else "no",
                _excerpt(getattr(h, "findings", ""), 120),
                _excerpt(getattr(h, "excerpt", "") or getattr(h, "impression", "")),
            ]
        )
    return rows


def gallery_items(state: CaseState | None, max_side: int = 256) -> list[tuple[np.ndarray, str]]:
    """(image, caption) per similar case that has a readable image; captions carry the
    reference, id, similarity and the synthetic flag."""
    from PIL import Image

    items = []
    if state is None:
        return items
    for i, h in enumerate(state.hits, start=1):
        path = getattr(h, "image_path", None)
        if not path:
            continue
        try:
            with Image.open(path) as im:
                im = im.convert("RGB")
                im.thumbnail((max_side, max_side))
                arr = np.asarray(im)
        except OSError:
            continue
        flag = " · SYNTHETIC" if getattr(h, "synthetic", False) else ""
        items.append((arr, f"C{i} {h.id} · similarity {h.similarity:.2f}{flag}"))
    return items


# ----------------------------------------------------------------------------- chat
def suggested_questions(state: CaseState | None) -> list[str]:
    """Questions worth asking about this analysis."""
    base = ["Is there an abnormality?", "Which side is it on?", "How big is it?"]
    if state is None or state.result is None:
        return ["Is there an abnormality?", "What can you tell from this scan?"]
    findings = state.result.findings
    qs = list(base) if findings else ["Is there an abnormality?", "Is this a normal brain?"]
    if len(findings) > 1:
        qs.append("How many lesions are there?")
    qs += ["What did the model change in the pseudo-healthy image?"]
    if state.hits:
        qs.append("Are there similar cases?")
    qs.append("Draft the findings.")
    return qs


def evidence_markdown(answer: Answer, evidence: Evidence) -> str:
    """The evidence the last answer cites, one bullet per id, with the synthetic flag."""
    if not answer.evidence:
        return "_The last answer cites no evidence._"
    by_id = {i.id: i for i in evidence.items}
    lines = ["**Evidence cited by the last answer**", ""]
    for eid in answer.evidence:
        item = by_id[eid]
        flag = " (synthetic case)" if item.data.get("synthetic") else ""
        case = f" `{item.data['case_id']}`" if item.data.get("case_id") else ""
        lines.append(f"- **[{eid}]**{case}{flag}: {_excerpt(item.text, 240)}")
    lines += ["", f"_Responder: {answer.responder} {answer.model}; intent {answer.intent}._"]
    return "\n".join(lines)


def evidence_dict(answer: Answer, evidence: Evidence) -> dict:
    """JSON-ready answer with the cited evidence items (for the `/ask` API)."""
    by_id = {i.id: i for i in evidence.items}
    return {
        "answer": answer.text,
        "evidence": [
            {
                "id": eid,
                "kind": by_id[eid].kind,
                "text": by_id[eid].text,
                "score": by_id[eid].score,
                "synthetic": bool(by_id[eid].data.get("synthetic", False)),
            }
            for eid in answer.evidence
        ],
        "removed_ids": answer.removed_ids,
        "responder": answer.responder,
        "model": answer.model,
        "intent": answer.intent,
        "follow_up": answer.follow_up,
        "timings": answer.timings,
    }


def analysis_dict(state: CaseState, n_slices: int = 0) -> dict:
    """JSON-ready analysis (for the `/analyze` API): verdict, findings, cases, scan summary."""
    r = state.result
    det = {} if r is None else r.summary()
    det.pop("params", None)
    return {
        "scan": state.scan_summary,
        "slice_index": state.slice_index,
        "n_slices": n_slices,
        "score": det.get("score"),
        "score_threshold": det.get("score_threshold"),
        "is_abnormal": det.get("is_abnormal"),
        "method": det.get("method"),
        "findings": det.get("findings", []),
        "cases": [
            dict(zip(CASE_HEADERS, row, strict=True)) | {"id": row[1]} for row in case_rows(state)
        ],
        "evidence_ids": sorted(state.evidence.ids()),
        "timings": state.timings,
        "in_domain": None if state.applicability is None else state.applicability.in_domain,
        "unreliable": bool(state.unreliable),
        "applicability": None if state.applicability is None else state.applicability.to_dict(),
    }


def slice_unit(scan, slice_index: int | None = None) -> np.ndarray:
    """(H, W) in [0, 1]: the displayed slice of a scan (a volume: axial `slice_index`)."""
    from assistant.preprocess import to_unit

    sl = scan.slice2d(slice_index) if scan.is_volume else scan
    return to_unit(sl.pixels, window=sl.window)
