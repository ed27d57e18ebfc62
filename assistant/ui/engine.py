"""What the app loads once per process (`Engine`) and what it keeps per browser tab (`Session`).

The detector, the case library and the responders are shared by every session; an `Assistant`
per detection setting (method, preset, sensitivity) holds the per-slice analysis cache, and one
per responder answers questions. A `Session` (kept in `gr.State`, one per client) holds the
loaded scan, its analysis, the chat turns of the API and the draft report: two clients never
see each other's scans or chats.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.chat import Assistant, CaseState
from assistant.detector.result import DetectionResult
from assistant.scan import Scan
from assistant.ui.config import AppConfig

logger = logging.getLogger(__name__)


def rethreshold(
    result: DetectionResult,
    sensitivity: float,
    spacing: tuple[float, ...] | None,
    patient_left: str | None,
    grid_size: int,
) -> DetectionResult:
    """The result with its pixel and image thresholds divided by `sensitivity` (> 1: more
    sensitive, more false positives; 1: the calibrated thresholds), mask and findings redone.

    Uses the detector's own post-processing (`describe_regions`) on the maps it
    returned; an uncalibrated result is returned unchanged.
    """
    if sensitivity <= 0:
        raise ValueError(f"sensitivity must be > 0, got {sensitivity}")
    if result.pixel_threshold is None or sensitivity == 1.0:
        return result
    from assistant.detector.detector import MIN_AREA_GRID, describe_regions

    thr = result.pixel_threshold / sensitivity
    score_thr = None if result.score_threshold is None else result.score_threshold / sensitivity
    scale = grid_size / max(result.image.shape)  # model grid pixels per scan pixel
    min_area = int(round(MIN_AREA_GRID / scale**2))
    mask, findings, weak = describe_regions(
        result.anomaly_map,
        result.foreground,
        result.image,
        result.pseudo_healthy,
        thr,
        score_thr,
        min_area,
        spacing,
        patient_left,
        result.slice_index,
        result.healthy_scores,
    )
    params = {**result.params, "sensitivity": sensitivity}
    return replace(
        result,
        mask=mask,
        findings=findings,
        weak_findings=weak,
        pixel_threshold=thr,
        score_threshold=score_thr,
        params=params,
    )


class SensitiveDetector:
    """A detector whose thresholds are scaled by `sensitivity` (see `rethreshold`)."""

    def __init__(self, detector: Any, sensitivity: float):
        self.detector = detector
        self.sensitivity = float(sensitivity)

    def __call__(self, scan: Scan, slice_index: int | None = None) -> DetectionResult:
        result = self.detector(scan, slice_index)
        sl = scan.slice2d(result.slice_index) if scan.is_volume else scan
        size = self.detector.model.config.preprocess.size
        return rethreshold(result, self.sensitivity, sl.spacing, sl.patient_left, size)


@dataclass
class Session:
    """One client's state (kept in `gr.State`)."""

    scan: Scan | None = None
    state: CaseState | None = None
    settings: tuple = ()  # (method, preset, sensitivity) the analysis was made with
    history: list[dict] = field(default_factory=list)  # API chat turns (role/content dicts)
    report: Any = None  # DraftReport of the current slice
    folder: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="assistant-session-"))

    @property
    def n_slices(self) -> int:
        return (
            int(self.scan.pixels.shape[0]) if self.scan is not None and self.scan.is_volume else 0
        )

    def close(self) -> None:
        """Forget the scan and remove the session's download folder."""
        import shutil

        self.scan = self.state = self.report = None
        self.history = []
        shutil.rmtree(self.folder, ignore_errors=True)


class Engine:
    """Process-wide models: detector, case library, responders; assistants built on them.

    detector: a `Detector` (None: detection off, `detector_note` says why).
    index: a case library / `CaseIndex` (None: retrieval off).
    responder: the default responder (None: the grounded one).
    """

    def __init__(
        self,
        detector: Any | None = None,
        index: Any | None = None,
        responder: Any | None = None,
        config: AppConfig | None = None,
        detector_note: str = "",
        index_note: str = "",
    ):
        from assistant.responders.grounded import GroundedResponder

        self.config = config or AppConfig()
        self.detector = detector
        self.index = index
        self.responder = responder or GroundedResponder()
        self.detector_note = detector_note
        self.index_note = index_note
        self._lock = threading.Lock()
        self._analyzers: dict[tuple, tuple[Assistant, threading.Lock]] = {}
        self._askers: dict[tuple, Assistant] = {}

    # --- loading -----------------------------------------------------------------------
    @classmethod
    def load(cls, config: AppConfig) -> Engine:
        """Load everything the config names; a missing detector or library turns that part
        off with a note shown in the app instead of stopping it."""
        from assistant.detector import Detector
        from assistant.responders.registry import make_responder

        detector, det_note = None, ""
        try:
            detector = Detector.from_pretrained(config.detector, config.method, config.preset)
        except FileNotFoundError as exc:
            det_note = f"No detector checkpoint: {exc}. Detection is off."
            logger.warning(det_note)
        index, idx_note = None, ""
        if config.retrieval:
            try:
                if config.index:
                    from retrieval.library import Library

                    index = Library.load(config.index)
                else:
                    from assistant.chat import default_index

                    index = default_index()
            except Exception as exc:  # a broken library must not stop the app
                idx_note = f"Similar-case search is off ({type(exc).__name__}: {exc})."
                logger.warning(idx_note)
        responder = make_responder(config.responder, config.model, config.quantization)
        return cls(detector, index, responder, config, det_note, idx_note)

    # --- detection settings ------------------------------------------------------------
    @property
    def methods(self) -> dict[str, list[str]]:
        from assistant.detector import PRESETS

        return {m: list(p) for m, p in PRESETS.items()}

    def default_settings(self) -> tuple[str, str, float]:
        if self.detector is None:
            return ("thor", "fast", 1.0)
        return (self.detector.method.name, self.detector.preset, 1.0)

    def analyzer(
        self, method: str | None = None, preset: str | None = None, sensitivity: float = 1.0
    ) -> tuple[Assistant, threading.Lock]:
        """The assistant (and its lock) that analyses scans with these settings (cached)."""
        base = self.default_settings()
        method, preset = method or base[0], preset or base[1]
        key = (method, preset, float(sensitivity))
        with self._lock:
            if key not in self._analyzers:
                det = self.detector
                if det is not None and (method, preset) != base[:2]:
                    det = det.with_method(method, preset)
                if det is not None and float(sensitivity) != 1.0:
                    det = SensitiveDetector(det, sensitivity)
                bot = Assistant(
                    detector=det,
                    index=self.index,
                    responder=self.responder,
                    use_detector=det is not None,
                    use_retrieval=self.index is not None,
                )
                self._analyzers[key] = (bot, threading.Lock())
            return self._analyzers[key]

    def analyze(
        self,
        scan: Scan,
        slice_index: int | None = None,
        method: str | None = None,
        preset: str | None = None,
        sensitivity: float = 1.0,
    ) -> CaseState:
        bot, lock = self.analyzer(method, preset, sensitivity)
        with lock:  # the per-slice cache is not thread-safe
            return bot.analyze(scan, slice_index)

    # --- responders --------------------------------------------------------------------
    def asker(
        self, name: str | None = None, model: str | None = None, quantization: str | None = None
    ) -> Assistant:
        """The assistant answering with responder `name` (None/"": the app's default)."""
        name = (name or "").strip().lower()
        model = (model or "").strip() or None
        quantization = quantization if quantization not in ("", None) else None
        default = getattr(self.responder, "name", "grounded")
        if not name or (name == default and model is None and quantization in (None, "none")):
            key: tuple = ("default",)
        elif name == "grounded":
            key = ("grounded",)
        else:
            key = (name, model, quantization)
        with self._lock:
            if key not in self._askers:
                if key == ("default",):
                    responder = self.responder
                else:
                    from assistant.responders.registry import make_responder

                    if key == ("grounded",):
                        responder = make_responder("grounded")
                    else:
                        responder = make_responder(name, model, quantization)
                self._askers[key] = Assistant(
                    responder=responder,
                    use_detector=False,
                    use_retrieval=False,
                    audit_log=self.config.audit_log,
                )
            return self._askers[key]

    def status(self) -> str:
        """One line about what is loaded (shown under the title)."""
        parts = []
        if self.detector is not None:
            cal = "calibrated" if self.detector.calibration else "uncalibrated"
            parts.append(f"detector {self.detector.key} ({cal})")
        else:
            parts.append(self.detector_note or "detection off")
        if self.index is not None:
            parts.append("case library loaded")
        elif self.index_note:
            parts.append(self.index_note)
        name = getattr(self.responder, "name", "grounded")
        model = getattr(self.responder, "model", "")
        parts.append(f"responder {name}" + (f" ({model})" if model and model != "rules" else ""))
        return " · ".join(parts)


def session_file(session: Session, name: str, text: str) -> str:
    """Write `text` to the session's own folder; returns the path (for downloads)."""
    path = Path(session.folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)
