"""What the app loads once per process (`Engine`) and what it keeps per browser tab (`Session`).

The detector, the case library and the responders are shared by every session; an `Assistant`
per detection setting (method, preset, sensitivity) holds the per-slice analysis cache, and one
per responder answers questions. A `Session` (kept in `gr.State`, one per client) holds the
loaded scan, its analysis, the chat turns of the API and the draft report: two clients never
see each other's scans or chats.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.analysis import Analyzer, CaseState
from assistant.chat import Assistant
from assistant.config import Settings, build_responder, load_detector, load_library, make_responder
from assistant.detector.postprocess import PostProcess, min_area_for
from assistant.detector.result import DetectionResult
from assistant.responders.base import Responder
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
    """`DetectionResult.rethreshold` with the post-processing rebuilt from the scan's `spacing`
    and `patient_left` and the model's `grid_size` (the smallest region in scan pixels follows
    from it), e.g. for a result built by hand."""
    post = PostProcess(
        pixel_threshold=result.pixel_threshold or 0.0,
        min_area=min_area_for(grid_size / max(result.image.shape)),
        spacing=spacing,
        patient_left=patient_left,
        slice_index=result.slice_index,
        healthy_scores=result.postprocess.healthy_scores if result.postprocess else (),
    )
    return result.rethreshold(sensitivity, postprocess=post)


class SensitiveDetector:
    """A detector whose thresholds are scaled by `sensitivity` (`DetectionResult.rethreshold`)."""

    def __init__(self, detector: Any, sensitivity: float):
        self.detector = detector
        self.sensitivity = float(sensitivity)

    def __call__(self, scan: Scan, slice_index: int | None = None) -> DetectionResult:
        return self.detector(scan, slice_index).rethreshold(self.sensitivity)

    def in_space(self, space: str) -> SensitiveDetector:
        """The wrapped detector's calibration for `space` (`Detector.in_space`), same scaling."""
        in_space = getattr(self.detector, "in_space", None)
        return self if in_space is None else SensitiveDetector(in_space(space), self.sensitivity)


@dataclass
class Session:
    """One client's state (kept in `gr.State`).

    Whenever the file changes (a new upload, an example, a replaced or cleared file, a failed
    upload) `reset` forgets the previous scan, its analysis, chat turns and draft at once and
    counts up `generation`: an analysis of an earlier file that finishes later is dropped.
    """

    scan: Scan | None = None  # as loaded (a user-given pixel spacing is applied per analysis)
    filename: str = ""  # the uploaded file's name: every result shown names it
    path: str | None = None  # the file now in the file box (None: none)
    state: CaseState | None = None
    settings: tuple = ()  # (method, preset, sensitivity) the analysis was made with
    history: list[dict] = field(default_factory=list)  # API chat turns (role/content dicts)
    report: Any = None  # DraftReport of the current slice
    error: str = ""  # why the current file (or slice) could not be analysed; "" when none
    generation: int = 0  # counts file changes
    # the file box's value as of the last file change (`Callbacks.on_file`; "": cleared; None:
    # no file change seen, e.g. a script): an analysis event for another value is stale
    chosen: str | None = None
    # a study (an upload of several DICOM series): its series (`SeriesInfo`, empty for one
    # series) and the position of the one loaded, chosen by its headers or in the series menu
    series: list = field(default_factory=list)
    series_position: int | None = None
    folder: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="assistant-session-"))

    @property
    def n_slices(self) -> int:
        return (
            int(self.scan.pixels.shape[0]) if self.scan is not None and self.scan.is_volume else 0
        )

    def reset(self, path: str | None = None) -> None:
        """Another file (`path`; None: the file was cleared): nothing of the previous one stays."""
        self.generation += 1
        self.path = str(path) if path else None
        self.filename = Path(path).name if path else ""
        self.scan = self.state = self.report = None
        self.settings, self.history, self.error = (), [], ""
        self.series, self.series_position = [], None

    def choose_series(self, position: int) -> None:
        """Another series of the same upload was chosen: like a new file, nothing of the
        previous series' analysis stays (the file and its list of series do)."""
        self.generation += 1
        self.scan = self.state = self.report = None
        self.settings, self.history, self.error = (), [], ""
        self.series_position = int(position)

    def keep_upload(self, path: str) -> str:
        """The uploaded file at `path`, moved out of Gradio's file cache (from which anyone with
        its URL can fetch it again, header identifiers included) into this session's own
        folder, removed when the session ends; its new path. Only files in Gradio's upload
        folder are moved (a path given by a script or a test is the caller's own file); the
        app's example files, which Gradio caches once for everybody, stay. A file already moved
        (the same event seen again) is found in the session's folder."""
        from gradio.utils import get_upload_folder

        from assistant.examples import EXAMPLES_DIR

        src = Path(path)
        kept = Path(self.folder) / "uploads" / src.name
        if not src.exists():
            return str(kept) if kept.exists() else str(src)
        cache = Path(get_upload_folder()).resolve()
        if (EXAMPLES_DIR / src.name).is_file() or cache not in src.resolve().parents:
            return str(src)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), kept)
        try:
            src.parent.rmdir()  # Gradio's per-upload folder, now empty
        except OSError:
            pass
        return str(kept)

    def close(self) -> None:
        """Forget the scan and remove the session's download folder."""
        import shutil

        self.reset(None)
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
        self.config = config or AppConfig()
        self.detector = detector
        self.index = index
        self.responder: Responder = responder or make_responder("grounded")
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
        settings = Settings(
            detector=config.detector,
            method=config.method,
            preset=config.preset,
            library=config.index or None,
            use_retrieval=config.retrieval,
            responder=config.responder,
            model=config.model,
            quantization=config.quantization,
            audit_log=config.audit_log,
        )
        detector, det_note = None, ""
        try:
            detector = load_detector(settings)
        except FileNotFoundError as exc:
            det_note = f"No detector checkpoint: {exc}. Detection is off."
            logger.warning(det_note)
        index, idx_note = None, ""
        try:
            index = load_library(settings)
        except Exception as exc:  # a broken library must not stop the app
            idx_note = f"Similar-case search is off ({type(exc).__name__}: {exc})."
            logger.warning(idx_note)
        return cls(detector, index, build_responder(settings), config, det_note, idx_note)

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
                analyzer = Analyzer(
                    detector=det,
                    library=self.index,
                    use_detector=det is not None,
                    use_retrieval=self.index is not None,
                    level_step_mm=self.config.level_step_mm,
                )
                bot = Assistant(responder=self.responder, analyzer=analyzer)
                self._analyzers[key] = (bot, threading.Lock())
            return self._analyzers[key]

    def analyze(
        self,
        scan: Scan,
        slice_index: int | None = None,
        method: str | None = None,
        preset: str | None = None,
        sensitivity: float = 1.0,
        anyway: bool = False,
        level_mm: float | None = None,
    ) -> CaseState:
        """Analyse a slice of `scan` with these detection settings; `anyway`: also a scan
        outside the detector's domain (its results are then marked unreliable); `level_mm`:
        the analysed level to show a volume's slice at (`Analyzer.analyze`)."""
        bot, lock = self.analyzer(method, preset, sensitivity)
        with lock:  # the per-slice cache is not thread-safe
            return bot.analyze(scan, slice_index, anyway=anyway, level_mm=level_mm)

    # --- responders --------------------------------------------------------------------
    def asker(
        self, name: str | None = None, model: str | None = None, quantization: str | None = None
    ) -> Assistant:
        """The assistant answering with responder `name` (None/"": the app's default)."""
        name = (name or "").strip().lower()
        model = (model or "").strip() or None
        quantization = quantization if quantization not in ("", None) else None
        default = self.responder.name
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
                elif key == ("grounded",):
                    responder = make_responder("grounded")
                else:
                    responder = make_responder(name, model, quantization)
                # answers only: its analyzer is never used, so nothing more is loaded
                self._askers[key] = Assistant(responder=responder, audit_log=self.config.audit_log)
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
        name, model = self.responder.name, self.responder.model
        parts.append(f"responder {name}" + (f" ({model})" if model and model != "rules" else ""))
        return " · ".join(parts)


def session_image(session: Session, name: str, pixels) -> str:
    """Write an RGB or grey image to the session's own folder as PNG; returns the path, so that
    the image shown downloads under a name that says which file and slice it is of (an array
    would download as "image.png")."""
    import numpy as np
    from PIL import Image

    path = Path(session.folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels)).save(path)
    return str(path)


def session_file(session: Session, name: str, text: str) -> str:
    """Write `text` to the session's own folder; returns the path (for downloads)."""
    path = Path(session.folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)
