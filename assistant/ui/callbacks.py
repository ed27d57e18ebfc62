"""What the app does on each event: the methods of `Callbacks`, callable without a browser.

Every handler answers with a dict of outputs by NAME (`Callbacks.show`): the layout
(`assistant.ui.layout`) gives `Callbacks` its components, so the names become components and
Gradio updates those outputs and leaves the others as they are. Without components (tests, a
script) the keys stay the names. The `*_OUTPUTS` tuples list the names each event may update.

Failures never reach the page as tracebacks (`readable_errors`): an analysis that fails shows
a warning and leaves the page as it was; the scripted API raises a short `gr.Error` instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.analysis import CaseState
from assistant.chat import Answer
from assistant.scan import Scan, ScanError, load_scan
from assistant.ui import views
from assistant.ui.engine import Engine, Session, session_file

logger = logging.getLogger("assistant.app")

# what each event updates (component names of the layout)
ANALYSIS_OUTPUTS = (
    "session",
    "banner",
    "anyway",
    "slice",
    "overlay",
    "compare",
    "findings",
    "score",
    "gallery",
    "cases",
    "suggestions",
    "chat",
    "evidence",
    "draft",
    "dl_md",
    "dl_json",
    "dl_fhir",
)
CHAT_OUTPUTS = ("chat", "question", "evidence")
DRAFT_OUTPUTS = ("draft", "dl_md", "dl_json", "dl_fhir")
DRAFT_EDIT_OUTPUTS = ("dl_md", "dl_json")
# the scripted API (`/analyze`, `/ask`, `/draft`): gradio_client gets the values in this order
API_ANALYZE_OUTPUTS = ("session", "api_json", "api_overlay", "api_pseudo")
API_ASK_OUTPUTS = ("session", "api_answer", "api_evidence")
API_DRAFT_OUTPUTS = ("session", "api_md", "api_report", "api_fhir")


@contextmanager
def readable_errors(action: str):
    """Turn any failure into a `gr.Error` with a readable message (never a traceback)."""
    try:
        yield
    except gr.Error:
        raise
    except (ScanError, ValueError, FileNotFoundError, ImportError) as exc:
        raise gr.Error(f"{action}: {exc}", print_exception=False) from None
    except Exception as exc:  # a bug: log it for the operator, show a short message
        logger.error("%s failed with %s", action, type(exc).__name__, exc_info=True)
        raise gr.Error(
            f"{action} failed ({type(exc).__name__}). The app is still running; try again or "
            "another file.",
            print_exception=False,
        ) from None


def chat_text(content: Any) -> str:
    """The text of a Gradio chat message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return " ".join(chat_text(c) for c in content).strip()
    return ""


def plain_history(history: list | None) -> list[dict]:
    """The chatbot's messages as the role/content text dicts the assistant takes."""
    return [
        {"role": m["role"], "content": chat_text(m.get("content"))}
        for m in history or []
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]


def read_scan(path: str | None) -> Scan:
    """The uploaded file as a `Scan` (`ScanError` when there is none or it is not a scan)."""
    if not path:
        raise ScanError("no file was uploaded")
    return load_scan(path, filename=Path(path).name)


def close_session(session: Session | None) -> None:
    """When a client leaves: forget its scan, remove its download folder."""
    if session:
        session.close()


def _analysed(session: Session | None) -> bool:
    return session is not None and session.state is not None


def _shown_slice(session: Session) -> int | None:
    """The slice to analyse again: the one shown, except a registered volume's slice at the
    trained level (None: registered again), which is not a native slice."""
    st = session.state
    if st is None or st.scan_summary.get("registered"):
        return None
    return st.slice_index


class Callbacks:
    """The event handlers of the app on `engine` (shared models); per-client data lives in the
    `Session` every handler takes and returns.

    components: the layout's components by name (None: the returned dicts keep the names).
    """

    def __init__(self, engine: Engine, components: Mapping[str, Any] | None = None):
        self.engine = engine
        self.components = components

    def show(self, **outputs: Any) -> dict:
        """{component: value} for the named outputs; the outputs not named stay as they are."""
        if self.components is None:
            return outputs
        return {self.components[name]: value for name, value in outputs.items()}

    # --- analysis: upload, slice, re-analyse ---------------------------------------------
    def on_upload(
        self,
        path,
        method,
        preset,
        sensitivity,
        opacity,
        session,
        progress=gr.Progress(),  # noqa: B008
    ):
        """A file was chosen (or an example): read it, analyse the detector's slice (a new file
        is never analysed anyway: "Analyse anyway" starts unticked)."""
        if not path:  # the file was cleared
            return self.show(session=session)
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            "Could not analyse this file",
            session or Session(),
            settings,
            opacity,
            progress,
            path=path,
        )

    def on_slice(
        self,
        index,
        method,
        preset,
        sensitivity,
        opacity,
        anyway,
        session,
        progress=gr.Progress(),  # noqa: B008
    ):
        """Another axial slice of the volume was chosen: analyse it."""
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return gr.skip()
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            "Could not analyse this slice",
            session,
            settings,
            opacity,
            progress,
            slice_index=index,
            anyway=bool(anyway),
        )

    def on_reanalyse(
        self,
        method,
        preset,
        sensitivity,
        opacity,
        anyway,
        session,
        progress=gr.Progress(),  # noqa: B008
    ):
        """Analyse the shown slice again with the settings now chosen (also when "Analyse
        anyway" is ticked or unticked)."""
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return gr.skip()
        index = _shown_slice(session)
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            "Could not analyse the scan",
            session,
            settings,
            opacity,
            progress,
            slice_index=index,
            anyway=bool(anyway),
        )

    def _analyse_and_show(
        self,
        action: str,
        session: Session,
        settings: tuple,
        opacity: float,
        progress: Any,
        *,
        path: str | None = None,
        slice_index: Any = None,
        anyway: bool = False,
    ) -> dict:
        """Analyse the file at `path` (None: the session's scan) and show the result; a failure
        is shown as a warning and leaves the page as it was."""
        try:
            with readable_errors(action):
                if path is not None:
                    progress(0.05, desc="Reading the scan")
                    scan = read_scan(path)
                else:
                    scan = session.scan
                index = None if slice_index is None else int(slice_index)
                self._analyse(session, scan, index, settings, progress, anyway)
                session.scan = scan
                if path is not None:
                    session.filename = Path(path).name
                return self._analysis_view(session, opacity, anyway)
        except gr.Error as exc:
            gr.Warning(exc.message, duration=15)
            return self.show(session=session)

    def _analyse(
        self,
        session: Session,
        scan: Scan,
        slice_index: int | None,
        settings: tuple,
        progress: Any,
        anyway: bool = False,
    ) -> CaseState:
        """Analyse a slice of `scan` with (method, preset, sensitivity) (`anyway`: also when
        outside the detector's domain); a new analysis starts a new conversation and draft."""
        method, preset, sensitivity = settings[0], settings[1], float(settings[2])
        progress(0.3, desc="Checking the scan, detecting anomalies, searching similar cases")
        state = self.engine.analyze(
            scan, slice_index, method, preset, sensitivity, anyway=bool(anyway)
        )
        session.state, session.report, session.history = state, None, []
        session.settings = (method, preset, sensitivity)
        progress(0.95, desc="Rendering")
        return state

    def _analysis_view(self, session: Session, opacity: float, anyway: bool = False) -> dict:
        """Every output of ANALYSIS_OUTPUTS for the session's analysis; every result shown
        names the file, and a scan outside the detector's domain gets the banner."""
        st, n, name = session.state, session.n_slices, session.filename or "scan"
        r = st.result
        if r is not None:
            overlay = views.overlay_image(r, opacity)
        else:  # detection off, or not applicable: the slice itself
            overlay = views.grey_rgb(views.slice_unit(session.scan, st.slice_index))
        banner = views.domain_banner(st, session.filename)
        mark = f" · {views.UNRELIABLE}" if st.unreliable else ""
        return self.show(
            session=session,
            banner=gr.Markdown(banner, visible=bool(banner)),
            anyway=gr.Checkbox(value=bool(anyway), visible=views.out_of_domain(st)),
            slice=gr.Slider(
                minimum=0,
                maximum=max(n - 1, 1),
                value=st.slice_index or 0,
                step=1,
                visible=n > 1,
                label=f"Axial slice (0..{n - 1})" if n > 1 else "Axial slice",
                info=views.slice_info(st, n) if n > 1 else None,
            ),
            # updates as dicts: the images are encoded once, when sent
            overlay=gr.update(value=overlay, label=f"Anomaly heatmap · {name}{mark}"),
            compare=gr.update(
                value=views.comparison(r) if r is not None else None,
                label=f"Original | pseudo-healthy · {name}{mark}",
            ),
            findings=gr.update(
                value=views.findings_rows(r), label=views.findings_caption(st, session.filename)
            ),
            score=views.score_markdown(st, session.filename),
            gallery=views.gallery_items(st),
            cases=views.case_rows(st),
            suggestions=gr.Dataset(samples=[[q] for q in views.suggested_questions(st)]),
            chat=[],
            evidence="",
            draft="",
            dl_md=gr.DownloadButton(visible=False),
            dl_json=gr.DownloadButton(visible=False),
            dl_fhir=gr.DownloadButton(visible=False),
        )

    # --- display settings ----------------------------------------------------------------
    def on_opacity(self, opacity, session):
        """The heatmap opacity changed: redraw the overlay (the only output)."""
        if not _analysed(session) or session.state.result is None:
            return gr.skip()
        return views.overlay_image(session.state.result, float(opacity))

    def on_method(self, method):
        """Another detection method: its speed presets (the only output)."""
        presets = self.engine.methods.get(method, [])
        d_method, d_preset, _ = self.engine.default_settings()
        value = d_preset if method == d_method else ("fast" if "fast" in presets else presets[0])
        return gr.Dropdown(choices=presets, value=value)

    # --- chat ----------------------------------------------------------------------------
    @staticmethod
    def on_suggestion(sample: list) -> str:
        """A suggested question was clicked: it becomes the question (the only output)."""
        return sample[0]

    def on_ask(self, question, history, responder, model, quant, session) -> Iterator[dict]:
        """Answer `question` about the session's analysis, streaming into the chat."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield self.show(chat=history, question="")
            return
        if not _analysed(session):
            gr.Warning("Upload a scan (or pick an example) before asking about it.")
            yield self.show(chat=history, question=question)
            return
        with readable_errors("Could not answer"):
            bot = self.engine.asker(responder, model, quant)
            turns = plain_history(history)
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": ""},
            ]
            text = ""
            for part in bot.ask(session.state, question, turns):
                if isinstance(part, Answer):
                    history[-1]["content"] = part.text
                    evidence = views.evidence_markdown(part, session.state.evidence)
                    yield self.show(chat=history, question="", evidence=evidence)
                else:
                    text += part
                    history[-1]["content"] = text
                    yield self.show(chat=history, question="")

    # --- draft findings ------------------------------------------------------------------
    def on_draft(self, session):
        """Draft the findings of the analysed slice; offer them as downloads."""
        if not _analysed(session):
            gr.Warning("Upload a scan first: the draft is written from its analysis.")
            return gr.skip()
        with readable_errors("Could not draft the findings"):
            md, js, fhir = self._draft_files(session)
            return self.show(
                draft=session.report.to_markdown(),
                dl_md=gr.DownloadButton(value=md, visible=True),
                dl_json=gr.DownloadButton(value=js, visible=True),
                dl_fhir=gr.DownloadButton(value=fhir, visible=True),
            )

    def on_draft_edit(self, text, session):
        """The draft was edited: the Markdown and JSON downloads keep the edits."""
        if session is None or session.report is None:
            return gr.skip()
        with readable_errors("Could not save the edits"):
            md, js, _ = self._draft_files(session, text)
            return self.show(dl_md=gr.DownloadButton(value=md), dl_json=gr.DownloadButton(value=js))

    def _draft_files(self, session: Session, edited: str | None = None) -> list[str]:
        """The draft as Markdown, JSON and FHIR files in the session's folder (written from
        the analysis once per slice; `edited`: the user's Markdown, if changed)."""
        st = session.state
        if session.report is None:
            session.report = self.engine.asker().report(st)
        report = session.report
        data = report.to_dict()
        md = report.to_markdown()
        if edited is not None and edited.strip() != md.strip():
            md, data["edited_markdown"] = edited, edited
        return [
            session_file(session, "draft_findings.md", md),
            session_file(session, "draft_findings.json", json.dumps(data, indent=2)),
            session_file(
                session,
                "draft_findings.fhir.json",
                report.to_fhir_json(st.evidence.by_kind("finding")),
            ),
        ]

    # --- the scripted API ----------------------------------------------------------------
    def api_analyze(self, path, slice_index, anyway, session, progress=gr.Progress()):  # noqa: B008
        """Analyse a scan file (`anyway`: also outside the detector's domain, marked
        unreliable): returns (analysis JSON with "applicability" and "unreliable", overlay
        image, pseudo-healthy image); out of domain without `anyway`: no findings, no images."""
        session = Session() if session is None else session
        with readable_errors("Could not analyse this file"):
            scan = read_scan(path)
            idx = None if slice_index is None or int(slice_index) < 0 else int(slice_index)
            st = self._analyse(session, scan, idx, (None, None, 1.0), progress, bool(anyway))
            session.scan, session.filename = scan, Path(path).name
            r = st.result
            return self.show(
                session=session,
                api_json=views.analysis_dict(st, session.n_slices),
                api_overlay=views.overlay_image(r) if r is not None else None,
                api_pseudo=views.grey_rgb(r.pseudo_healthy) if r is not None else None,
            )

    def api_ask(self, question, session):
        """Ask about the last analysed scan of this client: streams (text, {}), then (text,
        answer JSON with the cited evidence)."""
        if not _analysed(session):
            raise gr.Error("No scan analysed in this session: call /analyze first.")
        with readable_errors("Could not answer"):
            bot = self.engine.asker()
            text = ""
            for part in bot.ask(session.state, question or "", session.history):
                if isinstance(part, Answer):
                    session.history += [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": part.text},
                    ]
                    evidence = views.evidence_dict(part, session.state.evidence)
                    yield self.show(session=session, api_answer=part.text, api_evidence=evidence)
                else:
                    text += part
                    yield self.show(session=session, api_answer=text, api_evidence={})

    def api_draft(self, session):
        """Draft findings of the last analysed slice: (Markdown, JSON, FHIR JSON)."""
        if not _analysed(session):
            raise gr.Error("No scan analysed in this session: call /analyze first.")
        with readable_errors("Could not draft the findings"):
            files = self._draft_files(session)
            return self.show(
                session=session,
                api_md=session.report.to_markdown(),
                api_report=session.report.to_dict(),
                api_fhir=json.loads(Path(files[2]).read_text()),
            )
