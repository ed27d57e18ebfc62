"""Analysis: run the detector and the case-library search once per scan slice, build the evidence.

    from assistant.analysis import Analyzer
    from assistant.scan import load_scan

    analyzer = Analyzer()                            # shipped detector, default case library
    state = analyzer.analyze(load_scan("scan.dcm"))  # cached per pixel hash and slice
    state.evidence.items                             # D1, F1.., W1.., C1.., K1..

`Analyzer.analyze(scan, slice_index)` returns a `CaseState`: the detector's result, the similar
cases and knowledge passages (`retrieval.library.Library.search`, the same search as
`assistant index search`) and the `Evidence` bundle every responder answers from
(`build_evidence`). The heavy defaults (detector checkpoint, case library with its
sentence-embedding model) are loaded on first use, once per process, and shared.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.detector import DetectionResult, Detector
from assistant.detector.detector import REGISTERED, UNREGISTERED, VOLUME
from assistant.domain import Applicability, Registered, check_analysed_plane, check_applicability
from assistant.domain.align2d import on_training_grid
from assistant.evidence import Evidence, EvidenceItem, analysed_scope
from assistant.preprocess import to_unit
from assistant.scan import Scan, ScanError
from assistant.scan.dicom.tags import ACQUISITION_TAGS
from retrieval.index import CaseIndex
from retrieval.library import Library, default_library

logger = logging.getLogger(__name__)

CASE_TEXT_CHARS = 600  # retrieved report text kept per case (it is quoted, never obeyed)


@dataclass
class CaseState:
    """Everything computed once per scan slice and reused by every question.

    scan_summary: de-identified summary of the analysed 2D slice (`Scan.summary()` without
        metadata) plus `source_shape`, `slice_index` and `plane` for volumes.
    result: the DetectionResult (None when detection is off).
    hits / knowledge: retrieval results (None-free lists; empty when retrieval is off).
    evidence: the Evidence bundle responders receive.
    scan_hash: SHA-256 of the pixel data, shape and spacing (no metadata).
    """

    scan_hash: str
    slice_index: int | None
    scan_summary: dict
    result: DetectionResult | None
    hits: list[Any]
    knowledge: list[Any]
    evidence: Evidence
    timings: dict[str, float] = field(default_factory=dict)  # detect_s, retrieve_s, total_s
    # the applicability check (None: switched off); out of domain -> no detection unless
    # analysed anyway, and then `unreliable` is True
    applicability: Applicability | None = None
    unreliable: bool = False
    # a registered volume analysed at every level the detector knows (`Analyzer.whole_volume`):
    # `assistant.volume.VolumeResult`, its 3D findings V1.. also in the evidence; else None
    volume: Any | None = None
    # a chosen native slice of a volume analysed whole, shown as one of its analysed levels:
    # that level's MNI z (mm); None otherwise
    shown_level: float | None = None


def scan_hash(scan: Scan) -> str:
    """SHA-256 over the pixels (float32, C order), their shape and the spacing; no metadata."""
    h = hashlib.sha256()
    px = np.ascontiguousarray(scan.pixels, dtype=np.float32)
    h.update(str(px.shape).encode())
    h.update(str(scan.spacing).encode())
    h.update(px.tobytes())
    return h.hexdigest()


def _header_key(scan: Scan) -> str:
    """The allow-listed header values the applicability check reads (sequence timings, contrast
    agent, body part...), as part of the cache keys: the same pixels under another header are
    checked again."""
    meta = getattr(scan, "metadata", {}) or {}
    return hashlib.sha256(
        repr(sorted((str(k), str(v)) for k, v in meta.items())).encode()
    ).hexdigest()


def heatmap_overlay(
    image01: np.ndarray, anomaly_map: np.ndarray, threshold: float | None
) -> np.ndarray:
    """(H, W, 3) uint8: the grey image with the anomaly map blended in red.

    image01: (H, W) in [0, 1]; anomaly_map: (H, W) >= 0. The red opacity is the map divided by
    twice the pixel threshold (or by its 99th percentile when uncalibrated), clipped to [0, 0.7].
    """
    grey = np.clip(np.asarray(image01, dtype=np.float32), 0.0, 1.0)
    amap = np.asarray(anomaly_map, dtype=np.float32)
    scale = 2.0 * threshold if threshold else float(np.percentile(amap, 99)) or 1.0
    alpha = np.clip(amap / max(scale, 1e-8), 0.0, 0.7)[..., None]  # (H, W, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    red = np.array([1.0, 0.1, 0.0], dtype=np.float32)
    return np.round((rgb * (1 - alpha) + red * alpha) * 255).astype(np.uint8)


# ----------------------------------------------------------------------- shared defaults


@functools.lru_cache(maxsize=1)
def default_detector() -> Detector:
    """The shipped detector checkpoint (`Detector.from_pretrained()`), loaded once."""
    return Detector.from_pretrained()


@functools.lru_cache(maxsize=1)
def default_index() -> Library:
    """The default case library with its knowledge corpus, loaded (or built) once."""
    return default_library()


# ----------------------------------------------------------------------- evidence


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """First present attribute (or key) of `obj` among `names`."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


def _hit_item(hit: Any, eid: str, kind: str) -> EvidenceItem:
    """An EvidenceItem from a retrieval hit (the case text is data, kept short)."""
    case = _get(hit, "case", default=hit)
    parts = [
        _get(case, "findings", default=""),
        _get(case, "impression", default=""),
    ]
    text = " ".join(str(p).strip() for p in parts if p) or str(
        _get(case, "text", "report", "excerpt", default="")
    )
    data = {
        "case_id": str(_get(case, "id", default="")),
        "source": str(_get(case, "source", default="")),
        "license": str(_get(case, "license", default="")),
        "synthetic": bool(_get(case, "synthetic", default=False)),
        "labels": list(_get(case, "labels", default=[]) or []),
        "modality": str(_get(case, "modality", default="")),
    }
    if data["labels"]:
        data["label"] = ", ".join(str(x) for x in data["labels"])
    score = _get(hit, "similarity", "score")
    return EvidenceItem(
        eid, kind, text[:CASE_TEXT_CHARS], None if score is None else float(score), data
    )  # type: ignore[arg-type]


UNREGISTERED_NOTE = (
    "This slice is not on the detector's training grid (not registered to MNI space), so the "
    "detector used thresholds calibrated on real native-space slices as well as the training "
    "slices: fewer false alarms on such uploads, but lower sensitivity. A whole volume (NIfTI "
    "or DICOM series) is registered first and analysed with the training slices' thresholds."
)


def detector_for_slice(detector, scan: Scan, slice_index: int | None = None):
    """`detector` with the calibration for a slice that was not registered: the training
    slices' own thresholds when the slice is on the training grid (an MNI-registered slice),
    else the thresholds that include real native-space slices (`in_space("unregistered")`;
    `python -m eval.native2d`). A detector without `in_space` (a plain callable) is returned
    as it is."""
    in_space = getattr(detector, "in_space", None)
    if in_space is None:
        return detector
    view = scan.slice2d(slice_index) if scan.is_volume else scan
    return in_space(REGISTERED if on_training_grid(view) else UNREGISTERED)


def unregistered_calibration(result: DetectionResult) -> bool:
    """Whether `result` was thresholded with the calibration for unregistered 2D slices."""
    return str(result.params.get("calibration", "")).endswith("+" + UNREGISTERED)


def _detector_items(result: DetectionResult, summary: dict, scope: str = "") -> list[EvidenceItem]:
    """D1 (the image-level result; `scope`: for a slice of a volume, that only this slice was
    analysed), then F1.. findings and W1.. weaker regions."""
    n = len(result.findings)
    mark = "UNRELIABLE (outside the detector's domain, analysed anyway): " * result.unreliable
    if result.score_threshold is None:
        verdict = "no calibrated threshold (uncalibrated detector)"
    else:
        rel = "above" if result.is_abnormal else "not above"
        verdict = f"{rel} the calibrated threshold {result.score_threshold:.3g}"
        if unregistered_calibration(result):
            verdict += " (for unregistered 2D slices)"
    items = [
        EvidenceItem(
            "D1",
            "detector",
            f"{mark}image anomaly score {result.score:.3g}, {verdict}; "
            f"{n} finding(s); {len(result.weak_findings)} weaker region(s) below the image "
            "threshold" + (f". {scope}" if scope else ""),
            score=float(result.score),
            data={k: summary[k] for k in ("score", "score_threshold", "is_abnormal")},
        )
    ]
    for f in result.findings:
        items.append(EvidenceItem(f.id, "finding", f.describe(), f.confidence, f.to_dict()))
    for f in result.weak_findings:
        text = f"below the image threshold, may be noise or normal variation: {f.describe()}"
        items.append(EvidenceItem(f.id, "weak_finding", text, f.confidence, f.to_dict()))
    return items


def _applicability_item(
    applicability: Applicability, unreliable: bool, whole_brain: bool = False
) -> EvidenceItem:
    """A1: why the detector does not apply to this scan (and, analysed anyway, that every
    detector result is unreliable). `whole_brain`: the detector analyses a volume at every brain
    level (a level-aware model), which its data records for the answers' advice."""
    text = "The anomaly detector does not apply to this image: " + " ".join(
        applicability.reasons or ["it is outside the detector's training domain."]
    )
    if unreliable:
        text += (
            " It was analysed anyway at the user's request: every detector result for it "
            "(score, findings, heatmap) is unreliable."
        )
    data = applicability.to_dict()
    if whole_brain:
        data["whole_brain"] = True
    return EvidenceItem("A1", "applicability", text, data=data)


def build_evidence(
    result: DetectionResult | None,
    scan_summary: dict,
    hits: Iterable[Any] = (),
    knowledge: Iterable[Any] = (),
    applicability: Applicability | None = None,
    unreliable: bool = False,
    volume: Any | None = None,
    whole_brain: bool = False,
) -> Evidence:
    """The Evidence bundle: A1 (only when the scan is outside the detector's domain; with
    `whole_brain` when the detector analyses volumes at every brain level), D1
    (image-level result), V1.. a volume's 3D findings (`volume`: its `VolumeResult`, when it was
    analysed whole), F1.. findings, W1.. weaker regions below the image threshold, C1.. cases,
    K1.. knowledge."""
    items: list[EvidenceItem] = []
    if applicability is not None and not applicability.in_domain:
        items.append(_applicability_item(applicability, unreliable, whole_brain))
    detector_summary: dict = {}
    image = overlay = None
    if result is not None:
        detector_summary = result.summary()
        found = _detector_items(result, detector_summary, analysed_scope(scan_summary))
        if volume is not None:  # after D1, before the displayed slice's findings
            found[1:1] = volume_items(volume)
        items += found
        image = result.image
        overlay = heatmap_overlay(result.image, result.anomaly_map, result.pixel_threshold)
    items += [_hit_item(h, f"C{i}", "case") for i, h in enumerate(hits, start=1)]
    items += [_hit_item(h, f"K{i}", "knowledge") for i, h in enumerate(knowledge, start=1)]
    return Evidence(
        items,
        detector_summary,
        scan_summary,
        image=image,
        overlay=overlay,
        applicability=None if applicability is None else applicability.to_dict(),
        unreliable=unreliable,
    )


def volume_summary(volume) -> dict:
    """What the answers and the report say about a whole-volume analysis (no arrays): the
    analysed MNI levels, the native slices they cover and the 3D findings' ids."""
    analysed = [i for i, v in enumerate(volume.slice_scores) if v is not None]
    return {
        "levels_mm": [round(float(z), 1) for z in volume.levels],
        "native_slices": [min(analysed), max(analysed)] if analysed else None,
        "n_slices": int(volume.shape[0]),
        "findings": [f.id for f in volume.findings if not f.weak],
        "weak": [f.id for f in volume.findings if f.weak],  # on one analysed level only
        "is_abnormal": volume.is_abnormal,
        "score": round(volume.score, 5),
        "level_aware": volume.level_aware,
    }


def volume_items(volume) -> list[EvidenceItem]:
    """V1.. : the volume's 3D findings as evidence (text: `VolumeFinding.describe`)."""
    return [
        EvidenceItem(f.id, "volume_finding", f.describe(), f.confidence, f.to_dict())
        for f in volume.findings
    ]


def _header_thickness(scan: Scan) -> float | None:
    """The slice thickness (mm) a scan's header records (DICOM SliceThickness), else None."""
    raw = (getattr(scan, "metadata", None) or {}).get("SliceThickness")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return round(value, 3) if np.isfinite(value) and value > 0 else None


def _acquisition(scan: Scan) -> dict:
    """The header's `ACQUISITION_TAGS` that are set, as plain str/float values (the first three
    are codes, the others numbers)."""
    meta = getattr(scan, "metadata", None) or {}
    out: dict = {}
    for key in ACQUISITION_TAGS:
        value = meta.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list | tuple):  # a multi-valued code: "SE\\IR"
            value = "\\".join(str(v) for v in value)
        try:
            out[key] = round(float(value), 3) if key not in ACQUISITION_TAGS[:3] else str(value)
        except (TypeError, ValueError):
            continue
    return out


def _summary(scan2d: Scan, full: Scan, slice_index: int | None) -> dict:
    summary = scan2d.summary()
    summary.pop("metadata", None)  # allow-listed already, but nothing free-text goes further
    acquisition = _acquisition(full)
    if acquisition:
        summary["acquisition"] = acquisition  # coded and numeric tags only
    thickness = _header_thickness(full)
    if thickness is not None:
        summary["slice_thickness_mm"] = thickness  # a DICOM header's SliceThickness
    if full.is_volume:
        summary["source_shape"] = list(full.pixels.shape)
        summary["slice_index"] = slice_index
        summary["plane"] = "axial"
        if full.spacing is not None:  # (slice, row, column) mm of the volume as loaded
            summary["source_spacing_mm"] = [round(float(v), 3) for v in full.spacing]
    return summary


# ----------------------------------------------------------------------- the analyzer


VOLUME_CACHE = 4  # whole-volume analyses kept (native-grid maps: tens of MB per volume)


class Analyzer:
    """Detection and retrieval for scan slices, cached (see the module docstring).

    detector: a `Detector` or any callable `(scan, slice_index=None) -> DetectionResult`
        (default: the shipped checkpoint, loaded on first use).
    library: a `retrieval.library.Library` (a bare `CaseIndex` is searched as a library without
        knowledge passages; default: the default library, loaded on first use).
    use_detector / use_retrieval: switch detection or retrieval off (ablations, no-image runs).
    cache_size: analysed slices kept (least recently used first out).
    k_cases / k_knowledge: at most this many similar cases / knowledge passages (the library's
        adaptive cut may keep fewer).
    check_domain: run the applicability check (`assistant.domain`) before detection; a scan
        outside the detector's domain gets no detection unless analysed with `anyway=True`.
    whole_volume: a volume registered to MNI space and inside the detector's domain is also
        analysed at every axial level the detector knows (`assistant.volume.analyze_volume`,
        the registration reused): its 3D findings (V1..) join the evidence and the answers say
        which levels were analysed. It runs with the volume's first analysis at the trained
        level (what an upload gets) and is kept for the volume's other slices (a slider), which
        then carry the same 3D findings. Off: only the slice at the trained level.
    progress: a progress bar (tqdm, on stderr; the app shows it) over the volume's levels.
    level_step_mm: mm between a volume's analysed levels with a level-aware (whole-brain)
    detector (`analyze_volume`): 2, every level; 4, every other one, about half the time.
    """

    def __init__(
        self,
        detector: Any | None = None,
        library: Library | CaseIndex | None = None,
        use_detector: bool = True,
        use_retrieval: bool = True,
        cache_size: int = 16,
        k_cases: int = 3,
        k_knowledge: int = 3,
        check_domain: bool = True,
        whole_volume: bool = True,
        progress: bool = True,
        level_step_mm: float = 2.0,
    ):
        self._detector = detector
        self.progress = progress
        self.level_step_mm = float(level_step_mm)
        self.whole_volume = whole_volume
        self.check_domain = check_domain
        self._library = Library(library, None) if isinstance(library, CaseIndex) else library
        self.use_detector = use_detector
        self.use_retrieval = use_retrieval
        self.cache_size = cache_size
        self.k_cases = k_cases
        self.k_knowledge = k_knowledge
        self._cache: OrderedDict[tuple, CaseState] = OrderedDict()
        # a volume's registration, reused when another of its slices is analysed (seconds each)
        self._registrations: OrderedDict[str, Registered] = OrderedDict()
        # a volume's own check (no slice given), by scan hash, modality and orientation
        self._whole_checks: OrderedDict[tuple, Applicability] = OrderedDict()
        # a volume's whole-volume analysis (`whole_volume`), shared by all its slices
        self._volumes: OrderedDict[str, Any] = OrderedDict()

    @property
    def detector(self):
        if self._detector is None:
            self._detector = default_detector()
        return self._detector

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = default_index()
        return self._library

    def analyze(
        self,
        scan: Scan,
        slice_index: int | None = None,
        *,
        anyway: bool = False,
        level_mm: float | None = None,
    ) -> CaseState:
        """Applicability check, detection and retrieval for one slice of `scan` (cached per scan
        hash, slice, `anyway` and `level_mm`).

        slice_index: axial slice of a volume (None: the slice at the detector's trained level,
            found by registering the volume; without the check, the detector's choice);
            ignored for 2D scans. In a volume analysed whole (`whole_volume`), a slice with
            analysed voxels is shown as one of the analysed levels it crosses
            (`VolumeResult.level_of_slice`): that level's registered plane and the detector's
            result there (`CaseState.shown_level`).
        anyway: analyse a scan that the check finds outside the detector's domain; every
            detector result is then marked unreliable (`CaseState.unreliable`).
        level_mm: with `slice_index`, the analysed level (MNI z, mm) to show instead (the
            app's "Go to a 3D finding": a level the finding lies on).
        """
        _check(scan, slice_index)
        # the modality and orientation change the applicability check: part of the key
        index = None if not scan.is_volume else slice_index
        level = None if index is None or level_mm is None else round(float(level_mm), 1)
        key = (
            scan_hash(scan),
            index,
            scan.modality,
            scan.patient_left,
            bool(anyway),
            level,
            _header_key(scan),
        )
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        t0 = time.perf_counter()
        checked = self.check_domain and self.use_detector  # no detector: nothing to apply
        if index is not None and checked and self.whole_volume:
            state = self._volume_slice(scan, key, int(index), level, t0)
            if state is not None:
                self._remember(key, state)
                return state
        applicability = self._applicability(scan, key[0], slice_index) if checked else None
        in_domain = applicability is None or applicability.in_domain
        registered = None
        if applicability is not None and scan.is_volume and slice_index is None:
            # the level found by the check: the registered slice, or a slab's native slice
            registered = applicability.registered
            slice_index = applicability.slice_index
        t1 = time.perf_counter()
        result = volume = None
        if self.use_detector and (in_domain or anyway):
            if in_domain and self.whole_volume and scan.is_volume:
                volume = self._volume(scan, key[0], registered)
            tv = time.perf_counter()
            # the registered slice at the trained level is one of the volume's analysed levels
            result = _level_result(volume, registered) or self._detect(
                scan, slice_index, registered
            )
            if not in_domain:
                result = result.as_unreliable()
        else:
            tv = t1
        t2 = time.perf_counter()
        scan2d, index = self._analysed_slice(scan, slice_index, result, registered)
        state = self._state(scan, key, scan2d, index, result, applicability, registered, volume)
        # volume_s: the whole-volume analysis (its trained level's result is the slice's)
        state.timings = {
            "check_s": t1 - t0,
            "volume_s": tv - t1,
            "detect_s": t2 - tv,
            **state.timings,
        }
        state.timings["total_s"] = time.perf_counter() - t0
        self._remember(key, state)
        return state

    def _state(
        self,
        scan: Scan,
        key: tuple,
        scan2d: Scan,
        index: int | None,
        result: DetectionResult | None,
        applicability: Applicability | None,
        registered: Registered | None,
        volume: Any | None,
        shown_level: float | None = None,
        native_span: tuple[float, float] | None = None,
    ) -> CaseState:
        """The CaseState of an analysed slice: its summary, retrieval and evidence (timings:
        `retrieve_s` only; the caller adds the rest). `native_span`: the MNI z range the native
        slice `index` spans across the brain, when it is shown as an analysed level's plane."""
        in_domain = applicability is None or applicability.in_domain
        summary = _summary(scan2d, scan, index)
        if native_span is not None:
            summary["native_levels_mm"] = [round(float(z), 1) for z in native_span]
        if registered is not None:
            summary["registered"] = registered.to_dict()
        elif applicability is not None and applicability.level is not None:
            # the displayed slice's MNI level as the check estimated it (what it can show)
            summary["level_mm"] = round(float(applicability.level), 1)
        if result is not None and unregistered_calibration(result):
            summary["notes"] = [*summary.get("notes", []), UNREGISTERED_NOTE]
        if volume is not None:
            summary["volume_analysis"] = volume_summary(volume)
        t0 = time.perf_counter()
        hits, knowledge = self._retrieve(scan2d, result) if self.use_retrieval else ([], [])
        unreliable = not in_domain and result is not None
        detector = self._volume_detector()[0] if self.whole_volume else None
        evidence = build_evidence(
            result,
            summary,
            hits,
            knowledge,
            applicability,
            unreliable,
            volume=volume,
            whole_brain=bool(detector is not None and detector.level_aware),
        )
        return CaseState(
            scan_hash=key[0],
            slice_index=index if scan.is_volume else None,
            scan_summary=summary,
            result=result,
            hits=hits,
            knowledge=knowledge,
            evidence=evidence,
            timings={"retrieve_s": time.perf_counter() - t0},
            applicability=applicability,
            unreliable=unreliable,
            volume=volume,
            shown_level=shown_level,
        )

    def _volume_slice(
        self, scan: Scan, key: tuple, index: int, level_mm: float | None, t0: float
    ) -> CaseState | None:
        """Native slice `index` of a volume analysed whole, shown as one of the analysed levels
        it crosses (`VolumeResult.level_of_slice`, or `level_mm`): that level's registered plane and the
        detector's result there, taken from the volume's analysis (nothing is detected again);
        the plane gets the applicability check. None when the volume is not analysed whole (2D
        image, outside the detector's domain, not registered) or the slice holds no analysed
        voxel: the slice is then analysed on its own."""
        if not scan.is_volume:
            return None
        if key[0] not in self._volumes and level_mm is None and self._off_levels(scan, key, index):
            return None  # known from the geometry: the volume's analysis is not waited for
        base = self.analyze(scan, None)  # registers the volume and analyses it whole (cached)
        volume = base.volume
        registered = None if base.applicability is None else base.applicability.registered
        if volume is None or registered is None:
            return None
        j = volume.level_of_slice(index) if level_mm is None else volume.level_index(level_mm)
        if j is None:
            return None
        shown = registered.at_level(scan, volume.levels[j], index)
        applicability = check_analysed_plane(
            scan, base.applicability, shown, levels=self._analysed_range()
        )
        t1 = time.perf_counter()
        result = None
        if applicability.in_domain or key[4]:  # key[4]: analysed anyway
            result = shown.in_native_space(volume.level_results[j])
            if not applicability.in_domain:
                result = result.as_unreliable()
        from assistant.domain.register import native_slice_span

        # the MNI levels the native slice itself spans from the front of the brain to the back:
        # a tilted head's slice crosses the analysed levels only in part
        native = native_slice_span(volume.mni_to_voxel, index, float(volume.levels[j]))
        state = self._state(
            scan,
            key,
            shown.scan,
            index,
            result,
            applicability,
            shown,
            volume,
            volume.levels[j],
            native_span=native,
        )
        state.timings = {"check_s": t1 - t0, "volume_s": 0.0, "detect_s": 0.0, **state.timings}
        state.timings["total_s"] = time.perf_counter() - t0
        return state

    def _off_levels(self, scan: Scan, key: tuple, index: int) -> bool:
        """Whether native slice `index` of a volume in the domain, not yet analysed, holds no
        voxel of the levels its analysis would cover (`slice_is_analysed`, from the check's
        registration and the geometry alone)."""
        detector, _ = self._volume_detector()
        if detector is None:
            return False
        base = self._applicability(scan, key[0], None)  # registers once (kept)
        if not base.in_domain or base.registered is None:
            return False
        from assistant.volume.analyze import level_step_for, slice_is_analysed

        return not slice_is_analysed(
            scan,
            detector,
            index,
            base.registered.mni_to_voxel,
            level_step_mm=level_step_for(detector, self.level_step_mm),
        )

    def _analysed_range(self) -> tuple[float, float] | None:
        """The MNI z range a level-aware detector analyses volumes at (None: one level)."""
        from assistant.volume.analyze import analysed_range

        return analysed_range(self._volume_detector()[0])

    def _volume_detector(self) -> tuple[Detector | None, float]:
        """The `Detector` that analyses volumes and its sensitivity: the detector itself, or the
        one inside a wrapper with a `sensitivity` (the app's setting, applied to every level);
        None when there is none (a test's callable)."""
        detector, sensitivity = self.detector, 1.0
        inner = getattr(detector, "detector", None)
        if not isinstance(detector, Detector) and isinstance(inner, Detector):
            detector, sensitivity = inner, float(getattr(self.detector, "sensitivity", 1.0))
        return (detector if isinstance(detector, Detector) else None), sensitivity

    def _applicability(self, scan: Scan, hash_: str, slice_index: int | None) -> Applicability:
        """The applicability check, registering a volume once per scan (kept like the cache);
        a volume's own check (`slice_index` None) is kept too."""
        whole = (
            (hash_, scan.modality, scan.patient_left, _header_key(scan))
            if slice_index is None
            else None
        )
        if whole in self._whole_checks:
            self._whole_checks.move_to_end(whole)
            return self._whole_checks[whole]
        known = self._registrations.get(hash_)
        out = check_applicability(
            scan, slice_index, registered=known, levels=self._analysed_range()
        )
        if out.registered is not None and known is None:
            self._registrations[hash_] = out.registered
            while len(self._registrations) > self.cache_size:
                self._registrations.popitem(last=False)
        if whole is not None:
            self._whole_checks[whole] = out
            while len(self._whole_checks) > self.cache_size:
                self._whole_checks.popitem(last=False)
        return out

    def _detect(
        self, scan: Scan, slice_index: int | None, registered: Registered | None
    ) -> DetectionResult:
        """The detector on the registered slice at the trained level (findings carry their
        native voxel and slice), else on the scan (a volume: at `slice_index`)."""
        if registered is None:
            detector = self._for_slice(scan, slice_index)
            return detector(scan, slice_index) if scan.is_volume else detector(scan)
        detector = self.detector
        if self.whole_volume and hasattr(detector, "in_space"):
            # judged as one of the volume's analysed levels, with their threshold
            detector = detector.in_space(VOLUME)
        result = detector(registered.scan)
        return registered.in_native_space(result)

    def _volume(self, scan: Scan, hash_: str, registered: Registered | None):
        """The volume's analysis at every level the detector knows: kept from an earlier slice,
        else run with the check's registration when the check registered it (the trained
        level's slice); None otherwise, or when the detector is not a `Detector` (a test's
        callable) or a wrapper of one with a `sensitivity` (the app's setting, applied to every
        level)."""
        if hash_ in self._volumes:
            self._volumes.move_to_end(hash_)
            return self._volumes[hash_]
        detector, sensitivity = self._volume_detector()
        if registered is None or detector is None:
            return None
        from assistant.volume import analyze_volume
        from assistant.volume.analyze import level_step_for

        volume = analyze_volume(
            scan,
            detector,
            mni_to_voxel=registered.mni_to_voxel,
            progress=self.progress,
            sensitivity=sensitivity,
            level_step_mm=level_step_for(detector, self.level_step_mm),
        )
        self._volumes[hash_] = volume
        while len(self._volumes) > VOLUME_CACHE:
            self._volumes.popitem(last=False)
        return volume

    def _for_slice(self, scan: Scan, slice_index: int | None):
        return detector_for_slice(self.detector, scan, slice_index)

    @staticmethod
    def _analysed_slice(
        scan: Scan, slice_index: int | None, result, registered: Registered | None
    ) -> tuple[Scan, int | None]:
        """The 2D slice the evidence is about and its index in the volume (None for 2D)."""
        if not scan.is_volume:
            return scan, None
        if registered is not None:
            return registered.scan, registered.slice_index
        index = slice_index
        if result is not None and result.slice_index is not None:
            index = result.slice_index
        elif index is None:
            index = scan.pixels.shape[0] // 2
        return scan.slice2d(index), index

    def _retrieve(self, scan2d: Scan, result: DetectionResult | None) -> tuple[list, list]:
        """(similar cases, knowledge passages) for this slice: `Library.search` with the
        detector's image and findings (without a detector: the slice in display units)."""
        image = result.image if result is not None else to_unit(scan2d.pixels, window=scan2d.window)
        found = self.library.search(
            image=image, findings=result, k=self.k_cases, k_knowledge=self.k_knowledge
        )
        return list(found.cases.hits), list(found.knowledge.hits)

    def _remember(self, key: tuple, state: CaseState) -> None:
        self._cache[key] = state
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        logger.info(
            "analysed scan %s slice %s: %d finding(s), %d case(s), %d passage(s) in %.2f s",
            key[0][:12],
            state.slice_index,
            len(state.evidence.by_kind("finding")),
            len(state.hits),
            len(state.knowledge),
            state.timings["total_s"],
        )


def _level_result(volume, registered: Registered | None) -> DetectionResult | None:
    """The volume analysis' result at the registered slice's level (the same image, detector
    and thresholds as detecting that slice again), mapped to native voxels; None without one."""
    if volume is None or registered is None:
        return None
    j = volume.level_index(registered.level_mm, tolerance=0.05)
    return None if j is None else registered.in_native_space(volume.level_results[j])


def _check(scan: Scan, slice_index: int | None) -> None:
    """Raise ScanError for anything but a Scan, or a slice outside the volume."""
    if not isinstance(scan, Scan):
        raise ScanError(
            f"analyze() needs an assistant.scan.Scan, got {type(scan).__name__}; load files "
            "with assistant.scan.load_scan(path)"
        )
    if scan.is_volume and slice_index is not None:
        n = scan.pixels.shape[0]
        if not 0 <= int(slice_index) < n:
            raise ScanError(f"slice {slice_index} is out of range for this volume: 0..{n - 1}")
