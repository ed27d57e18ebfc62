"""What the app shows, as plain data: images (uint8 arrays), table rows, Markdown, JSON.

Nothing here imports gradio, so every view is tested without a server or a browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assistant.analysis import UNREGISTERED_NOTE, CaseState, unregistered_calibration
from assistant.chat import Answer
from assistant.detector.result import DetectionResult
from assistant.evidence import Evidence
from assistant.findings import Finding, position_words
from assistant.scan.dicom.series import loaded_series

FINDING_HEADERS = ["ID", "Kind", "Side", "Position", "Size", "Intensity", "Confidence"]
CASE_HEADERS = ["Ref", "Case", "Similarity", "Synthetic", "Findings", "Report excerpt"]
UNRELIABLE = "UNRELIABLE: outside the detector's domain"
NO_SCAN = "No scan loaded. Upload a scan or pick an example."
OVERLAY_LABEL = "Anomaly heatmap (cyan: calibrated findings)"
COMPARE_LABEL = "Original | pseudo-healthy (what the model repaired)"
DRAFT_LABEL = "Draft findings (editable; the Markdown and JSON downloads keep your edits)"
# images whose longer side is under this are shown enlarged by an integer factor (nearest
# neighbour: every scan pixel stays a visible square, the aspect ratio is kept)
DISPLAY_SIDE = 384


# ----------------------------------------------------------------------------- the domain
def file_label(filename: str | None) -> str:
    """The uploaded file's name as Markdown code (no backticks or line breaks), or a stand-in."""
    name = " ".join(str(filename or "").replace("`", "'").split())
    return f"`{name}`" if name else "this scan"


def plain_name(filename: str | None) -> str:
    """The file name on one line without backticks ("" when there is none)."""
    return " ".join(str(filename or "").replace("`", "'").split())


def where_text(state: CaseState | None) -> str:
    """Which slice of a volume was analysed: "axial slice 4 of 9" (registered: also the MNI
    level it was resampled at); "" for a 2D image."""
    if state is None:
        return ""
    series = loaded_series((state.scan_summary or {}).get("notes") or [])
    series = f"series {series}" if series else ""
    if state.slice_index is None:
        return series
    n = (state.scan_summary.get("source_shape") or [0])[0]
    where = f"{series} · " if series else ""
    where += f"axial slice {state.slice_index} of {n}"
    registered = state.scan_summary.get("registered")
    if registered:
        level = registered.get("level_mm")
        if getattr(state, "shown_level", None) is not None:
            kind = "one of the analysed levels"
        else:
            kind = "the detector's trained level"
        at = "" if level is None else f"MNI z = {level:+.0f} mm, "
        where += f" (registered; resampled at {at}{kind})"
    return where


def scan_title(filename: str | None, state: CaseState | None = None) -> str:
    """What a result belongs to, as plain text: "a.nii.gz · axial slice 4 of 9"."""
    where = where_text(state)
    name = plain_name(filename) or "scan"
    return f"{name} · {where}" if where else name


def size_note(state: CaseState | None) -> str:
    """What the sizes of this analysis are in: mm² (with the spacing and where it came from)
    or pixels of the original image (`assistant.scan.size_basis`)."""
    if state is None:
        return ""
    from assistant.scan import size_basis

    return size_basis(state.scan_summary or {})["note"]


def size_caption(state: CaseState | None) -> str:
    """`size_note` in a few words, for a table caption."""
    if state is None:
        return ""
    from assistant.scan import size_basis

    b = size_basis(state.scan_summary or {})
    if b["unit"] == "mm²":
        return "sizes in mm²" + (
            " (pixel spacing given by you)" if b["spacing_source"] == "user" else ""
        )
    dims = " × ".join(str(int(v)) for v in b["image_shape"])
    return f"sizes in pixels of the {dims} original (no pixel spacing)"


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
    series = loaded_series((state.scan_summary or {}).get("notes") or [])
    if series:  # a study's series chosen by its header or in the menu
        name += f" (series {series})"
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
    volume = getattr(state, "volume", None)
    if volume is not None and volume.levels:
        analysed = [i for i, s in enumerate(volume.slice_scores) if s is not None]
        return (
            f"Analysed: slices {slice_ranges(analysed)}, each shown as the analysed MNI level "
            f"nearest it (z = {min(volume.levels):+.0f} to {max(volume.levels):+.0f} mm); the "
            "others are outside the detector's domain."
        )
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
    caption = f"Findings · {scan_title(filename, state)}"
    if state is not None and state.result is not None:
        caption += f" · {size_caption(state)}"
    if getattr(state, "unreliable", False):
        return f"{caption} · {UNRELIABLE}"
    if out_of_domain(state) and state.result is None:
        return f"{caption} · none: the detector does not apply (outside its domain)"
    return caption


# ----------------------------------------------------------------------------- images
def display_scale(shape: tuple[int, ...], side: int = DISPLAY_SIDE) -> int:
    """The integer factor a (H, W) image is enlarged by for display: its longer side reaches
    at least about `side` / 2, at most `side` (1 for images that are large enough; 0: never)."""
    if side <= 0:
        return 1
    return max(1, int(side) // max(int(shape[0]), int(shape[1]), 1))


def enlarge(arr: np.ndarray, k: int) -> np.ndarray:
    """`arr` (H, W, ...) with each pixel repeated k x k times (nearest neighbour)."""
    if k <= 1:
        return arr
    return np.repeat(np.repeat(arr, k, axis=0), k, axis=1)


def display_range(result: DetectionResult) -> tuple[float, float]:
    """(vmin, vmax) of the heatmap colours: from half the pixel threshold (or 0) to the image
    score, at least the calibrated image threshold, so that a map below it is not painted like
    a lesion (`assistant.render.display_range`, shared with the CLI's overlay.png)."""
    from assistant.render import display_range as shared

    return shared(result)


def colorbar(rgb: np.ndarray, result: DetectionResult, vmin: float, vmax: float) -> np.ndarray:
    """Append a vertical colour bar to an (H, W, 3) image: vmax at the top, vmin at the bottom,
    a white tick at the image score ("score") and a cyan one at the calibrated image threshold
    ("thr") (`assistant.render.result_colorbar`, shared with the CLI's overlay.png)."""
    from assistant.render import result_colorbar

    return result_colorbar(rgb, result, vmin, vmax)


def overlay_image(result: DetectionResult, opacity: float = 0.5, side: int = 0) -> np.ndarray:
    """(H, W + bar, 3) uint8: the slice with the heatmap blended at `opacity` in [0, 1], the
    calibrated mask outlined in cyan, "L"/"R" in the top corners when the scan's orientation is
    known and a colour bar on the right (`assistant.render.overlay_figure`, the CLI's
    overlay.png). `side`: enlarge a small image for display (`display_scale`; 0: its own size,
    as the API returns it)."""
    from assistant.render import overlay_figure

    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    return overlay_figure(result, opacity, display_scale(result.image.shape, side))


def grey_rgb(img01: np.ndarray, side: int = 0, patient_left: str | None = None) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) uint8 (`side`: enlarged for display, `display_scale`;
    `patient_left`: the scan's orientation, lettered in the top corners when known,
    `assistant.render.side_marks`)."""
    from assistant.render import side_marks, to_uint8

    img = np.repeat(to_uint8(np.asarray(img01))[..., None], 3, axis=2)
    return side_marks(enlarge(img, display_scale(img.shape, side)), patient_left)


def comparison(result: DetectionResult, side: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(original, pseudo-healthy) as (H, W, 3) uint8, for the before/after slider (`side`:
    enlarged for display), both with the overlay's side letters when the orientation is
    known."""
    from assistant.render import patient_left_of

    left = patient_left_of(result)
    return grey_rgb(result.image, side, left), grey_rgb(result.pseudo_healthy, side, left)


def slider_position(result: DetectionResult | None) -> float:
    """Where the comparison slider starts, in percent of the slider's width from the left (the
    original is shown left of it, the pseudo-healthy image right of it): right of the top
    finding, so that the lesion is seen in the original at first (dragging left shows its
    repair); 50 when that finding lies in the left half or there is none. Never left of the
    middle: the page centres a narrower image in the slider, which moves every position
    but 50 further from the middle of the image, so a position right of the middle stays
    right of the finding."""
    if result is None or not result.findings:
        return 50.0
    width = max(int(result.image.shape[1]), 1)
    right = 100.0 * result.findings[0].bbox[3] / width + 3.0
    return float(round(min(97.0, max(50.0, right)), 1))


# ----------------------------------------------------------------------------- findings
def finding_row(f: Finding, weak: bool = False) -> list[Any]:
    """One row of `FINDING_HEADERS`: the id alone (F1, W1), then its kind (a finding or a weak
    region below the image threshold, UNRELIABLE when analysed anyway), side, position, size
    (mm² with a pixel spacing, else pixels of the original image), intensity, confidence."""
    ap, depth = position_words(f.to_dict())
    size = f"{f.area_mm2:.0f} mm²" if f.area_mm2 is not None else f"{f.area_px} px"
    side = f.side if f.side_frame == "patient" else f"{f.side} (image side)"
    kind = "weak: below the image threshold" if weak else "finding"
    if f.unreliable:
        kind += ", UNRELIABLE"
    return [f.id, kind, side, f"{ap}, {depth}", size, f.intensity, round(float(f.confidence), 2)]


def findings_rows(result: DetectionResult | None, volume=None) -> list[list[Any]]:
    """One row per finding, then the weaker regions (W1..) marked as such, then a volume's 3D
    findings (V1.., `volume`: `CaseState.volume`); `FINDING_HEADERS`."""
    if result is None:
        return []
    rows = [finding_row(f) for f in result.findings]
    rows += [finding_row(f, weak=True) for f in result.weak_findings]
    return rows + [volume_row(v) for v in getattr(volume, "findings", [])]


def volume_row(v) -> list[Any]:
    """A 3D finding (`assistant.volume.VolumeFinding`) as a row of `FINDING_HEADERS`: its
    native slice range in the kind, its anatomical region in the position, mm³."""
    lo, hi = v.slice_range
    side = v.side if v.side_frame == "patient" else f"{v.side} (image side)"
    place = v.where().split(", ", 1)[-1] if ", " in v.where() else ""
    size = f"{v.volume_mm3:.0f} mm³" if v.volume_mm3 is not None else f"{v.n_voxels} voxels"
    conf = None if v.confidence is None else round(float(v.confidence), 2)
    kind = f"3D finding, axial slices {lo}-{hi}"
    if v.weak:
        kind = f"weak 3D: one analysed level only, axial slices {lo}-{hi}"
    return [v.id, kind, side, place, size, v.intensity, conf]


STRIP_LABEL = (
    "Anomaly per axial slice (grey: not analysed; green, amber, red: below, near, above the "
    "threshold; black ticks: 3D findings; blue: the slice shown)"
)
STRIP_HEIGHT = 28  # pixels: a tick row of 6 above the score bar


def score_strip(state: CaseState | None, width: int = 600) -> np.ndarray | None:
    """The score strip of a volume analysed whole: one column per native axial slice, coloured
    by its highest anomaly against the threshold (`VolumeResult.slice_scores`; grey where not
    analysed), black ticks over the slices of 3D findings, the shown slice in blue; (H, W, 3)
    uint8, or None when the scan was not analysed as a volume."""
    volume = getattr(state, "volume", None)
    if volume is None or not volume.slice_scores:
        return None
    scores, thr = volume.slice_scores, volume.score_threshold
    n = len(scores)
    k = max(1, width // n)
    colours = np.empty((n, 3), np.uint8)
    for i, s in enumerate(scores):
        if s is None:
            colours[i] = (225, 225, 225)
        elif thr is None or s < 0.67 * thr:
            colours[i] = (80, 160, 90)
        elif s < thr:
            colours[i] = (230, 165, 40)
        else:
            colours[i] = (205, 45, 40)
    strip = np.full((STRIP_HEIGHT, n, 3), 255, np.uint8)
    strip[6:] = colours[None]
    for v in volume.findings:
        lo, hi = v.slice_range
        strip[:5, lo : hi + 1] = 0
    shown = getattr(state, "slice_index", None)
    if shown is not None and 0 <= shown < n:
        strip[6:, shown] = (40, 90, 220)  # under the ticks
    return np.repeat(strip, k, axis=1)


def jump_choices(state: CaseState | None) -> list[tuple[str, str]]:
    """(label, finding id) for each 3D finding of a volume analysed whole, for the "Go to a 3D
    finding" menu (`Callbacks.on_jump` shows the slice through its centroid, at an analysed
    level it lies on)."""
    volume = getattr(state, "volume", None)
    out = []
    for v in getattr(volume, "findings", []):
        lo, hi = v.slice_range
        centre = int(round(v.centroid_voxel[0]))
        weak = " (weak)" if v.weak else ""
        out.append((f"{v.id}{weak} · slice {centre} (slices {lo}-{hi}) · {v.where()}", v.id))
    return out


def volume_markdown(state: CaseState | None) -> str:
    """For a volume analysed at every level the detector knows: which levels and slices, and
    where its 3D findings lie (slices to move the slider to); "" otherwise."""
    volume = getattr(state, "volume", None)
    whole = (getattr(state, "scan_summary", None) or {}).get("volume_analysis")
    if volume is None or not whole:
        return ""
    levels = whole["levels_mm"]
    slices = whole.get("native_slices")
    span = f"MNI z {min(levels):+.0f} to {max(levels):+.0f} mm" + (
        f", native slices {slices[0]}-{slices[1]}" if slices else ""
    )
    found = "; ".join(
        f"**{v.id}**{' (weak: one level only)' if v.weak else ''} at slices "
        f"{v.slice_range[0]}-{v.slice_range[1]}"
        for v in volume.findings
    )
    rest = "" if whole.get("level_aware") else " The other levels were not analysed."
    return (
        f"Whole volume: {len(levels)} levels analysed ({span}): {found or 'no 3D finding'}.{rest}"
    )


def score_markdown(state: CaseState, filename: str | None = None) -> str:
    """The image-level verdict: score vs. the calibrated threshold, what was analysed (named
    by `filename` when given, and the slice of a volume; marked when outside the detector's
    domain) and what the sizes are in (mm² or pixels of the original image)."""
    r = state.result
    where = where_text(state)
    where = f" · {where}" if where else ""
    head = f"{file_label(filename)}: " if filename else ""
    if getattr(state, "unreliable", False):
        head += f"**{UNRELIABLE}.** "
    blanked = blanked_text_note(state)
    blanked = f"\n\n<small>{_capital(blanked)}.</small>" if blanked else ""
    if r is None and out_of_domain(state):
        return (
            f"{head}**The detector does not apply** (outside its domain): no anomaly score and "
            f"no findings{where}.{blanked}"
        )
    if r is None:
        return f"{head}**Detection is off**: no anomaly score{where}.{blanked}"
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
    took = f"analysed in {secs:.1f} s"
    if getattr(state, "shown_level", None) is not None:
        took = "shown from the whole-volume analysis (nothing detected again)"
    unregistered = ""
    if unregistered_calibration(r):
        unregistered = f"\n\n<small>{UNREGISTERED_NOTE}</small>"
    volume = volume_markdown(state)
    volume = f"\n\n{volume}" if volume else ""
    return (
        f'{head}Anomaly score **{r.score:.3g}** (the heatmap\'s maximum, marked "score" on '
        f"its colour bar), {verdict}. {n} finding(s){where}. Method {r.method}{sens_txt}; "
        f"{took}.{volume}\n\n<small>{_capital(size_note(state))}.</small>{unregistered}"
        f"{blanked}"
    )


def blanked_text_note(state: CaseState | None) -> str:
    """The loader's note that text burned into the image was blanked out
    (`assistant.scan.overlay`), or ""."""
    from assistant.scan.overlay import blanked_text_note as note_of

    return note_of(((state and state.scan_summary) or {}).get("notes"))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def pending_markdown(filename: str | None) -> str:
    """The score line while a new file is read and analysed (the previous results are gone)."""
    if not filename:
        return NO_SCAN
    return f"{file_label(filename)}: reading and analysing… (no results yet)"


def error_markdown(message: str) -> str:
    """The persistent error shown under the file box when a file could not be read or
    analysed (the toast goes after a few seconds; this stays until the file changes)."""
    return f"**⚠ {message}**\n\nNo results are shown; earlier results were cleared."


def no_scan_answer(filename: str | None, error: str, pending: bool, action: str = "answer") -> str:
    """What the chat says (or the draft button warns) when there is no analysis to `action`
    from: why, and never anything about an earlier scan."""
    if error:
        return (
            f"No scan is analysed, so I cannot {action}. {error.rstrip('.')}. Earlier scans are "
            "not used. Upload another file or pick an example."
        )
    if pending:
        return (
            f"{file_label(filename)} is still being analysed; try again when its results are shown."
        )
    return f"No scan is loaded, so I cannot {action}. Upload a scan or pick an example first."


ABOUT_PREFIX = "\n\n*About "


def answer_footer(filename: str | None, state: CaseState | None) -> str:
    """The line under every chat answer naming the file (and slice) it is about; removed again
    before the conversation goes back to the responder (`strip_footer`)."""
    where = where_text(state)
    return f"{ABOUT_PREFIX}{file_label(filename)}" + (f", {where}" if where else "") + ".*"


def strip_footer(text: str) -> str:
    """`text` without the `answer_footer` line."""
    i = text.rfind(ABOUT_PREFIX)
    return text[:i] if i >= 0 and text.rstrip().endswith(".*") else text


def download_stem(filename: str | None, state: CaseState | None) -> str:
    """A safe file-name stem for the downloads of this analysis: the upload's name without its
    extensions, the series chosen from a study and the slice of a volume
    ("mni_left_volume_slice4", "study_series3_slice2")."""
    import re

    name = plain_name(filename) or "scan"
    stem = re.sub(r"(\.(nii|dcm|png|jpe?g|tiff?|bmp|zip|gz))+$", "", name, flags=re.IGNORECASE)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "scan"
    series = loaded_series((getattr(state, "scan_summary", None) or {}).get("notes") or [])
    number = re.search(r"#(\d+)", series or "")
    if number:  # a series chosen from a study: its number
        stem += f"_series{number.group(1)}"
    if state is not None and state.slice_index is not None:
        stem += f"_slice{state.slice_index}"
    return stem[:80]


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


def evidence_markdown(answer: Answer, evidence: Evidence, about: str = "") -> str:
    """The evidence the last answer cites, one bullet per id, with the synthetic flag; `about`:
    the scan it belongs to (`scan_title`)."""
    about = f" · about {about}" if about else ""
    if not answer.evidence:
        return f"_The last answer cites no evidence{about}._"
    by_id = {i.id: i for i in evidence.items}
    lines = [f"**Evidence cited by the last answer**{about}", ""]
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


def analysis_dict(state: CaseState, n_slices: int = 0, filename: str | None = None) -> dict:
    """JSON-ready analysis (for the `/analyze` API): the file it belongs to, verdict, findings
    (with "sizes": mm² or pixels of the original image), cases, scan summary."""
    from assistant.scan import size_basis

    r = state.result
    det = {} if r is None else r.summary()
    det.pop("params", None)
    return {
        "file": plain_name(filename) or None,
        "scan": state.scan_summary,
        "sizes": size_basis(state.scan_summary or {}),
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
        # a volume analysed at every level the detector knows: levels, 3D findings, score strip
        "volume": None
        if getattr(state, "volume", None) is None
        else _no_server_paths(state.volume.to_dict()),
    }


def _no_server_paths(volume: dict) -> dict:
    """A volume's analysis for API callers without the server's folders: a custom checkpoint is
    named by its folder's name (a path leaks the install and makes `gradio_client` try to
    download it)."""
    model = dict(volume.get("model") or {})
    checkpoint = model.get("checkpoint")
    if isinstance(checkpoint, str) and checkpoint.startswith("/"):
        model["checkpoint"] = Path(checkpoint).name
    return {**volume, "model": model} if model else volume


def series_dict(series: list, position: int | None, asked: int | None = None) -> dict | None:
    """The `/analyze` JSON's "series": for an upload of several series, each one (number,
    description, modality, files, why its header rules it out) and the number of the one
    loaded; None for one series (with "ignored" when a series number was asked for)."""
    from assistant.domain.series import why_not

    if len(series) <= 1:
        if asked is None:
            return None
        return {"ignored": f"series {asked} was asked for, but the upload holds one series"}
    listed = [
        {
            "number": info.number,
            "description": info.description,
            "modality": info.modality,
            "files": info.n_files,
            "not_used_because": why_not(info),
        }
        for info in series
    ]
    loaded = next((info for info in series if info.position == position), None)
    return {
        "loaded": None if loaded is None else loaded.number,
        "loaded_description": None if loaded is None else loaded.describe(),
        "series": listed,
    }


def slice_unit(scan, slice_index: int | None = None) -> np.ndarray:
    """(H, W) in [0, 1]: the displayed slice of a scan (a volume: axial `slice_index`)."""
    from assistant.preprocess import to_unit

    sl = scan.slice2d(slice_index) if scan.is_volume else scan
    return to_unit(sl.pixels, window=sl.window)
