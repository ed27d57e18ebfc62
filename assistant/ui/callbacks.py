"""What the app does on each event: the methods of `Callbacks`, callable without a browser.

Every handler answers with a dict of outputs by NAME (`Callbacks.show`): the layout
(`assistant.ui.layout`) gives `Callbacks` its components, so the names become components and
Gradio updates those outputs and leaves the others as they are. Without components (tests, a
script) the keys stay the names. The `*_OUTPUTS` tuples list the names each event may update.

A change of file (upload, example, replaced or cleared file) first clears every result at once
(`on_file`: overlay, comparison, findings, score, cases, chat, evidence, draft, downloads and
the session's analysis), then analyses the new file (`on_upload`); an analysis of an earlier
file that finishes after the change is dropped. Failures never reach the page as tracebacks
(`readable_errors`): a file that cannot be read or analysed leaves no results on the page, a
persistent error under the file box (besides the toast) and a chat that says so; the scripted
API raises a short `gr.Error` instead. Every result, answer and download names the file (and
the slice of a volume) it belongs to.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.analysis import CaseState
from assistant.chat import Answer
from assistant.scan import Scan, ScanError, load_scan, with_spacing
from assistant.ui import views
from assistant.ui.engine import Engine, Session, session_file, session_image

logger = logging.getLogger("assistant.app")

# what each event updates (component names of the layout)
ANALYSIS_OUTPUTS = (
    "session",
    "banner",
    "error",
    "anyway",
    "series",
    "slice",
    "strip",
    "jump",
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
        # where it failed, without the file's name or the exception's message (either may
        # carry a patient's name: file names often do)
        logger.error(
            "%s failed with %s (message withheld: it may name the file)\n%s",
            action.split("`")[0].strip(),
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
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
    """The chatbot's messages as the role/content text dicts the assistant takes (without the
    line naming the file under each answer)."""
    return [
        {"role": m["role"], "content": views.strip_footer(chat_text(m.get("content")))}
        for m in history or []
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]


def read_scan(
    path: str | None,
    position: int | None = None,
    study: dict | None = None,
    number: int | None = None,
) -> Scan:
    """The uploaded file as a `Scan` (`ScanError` when there is none or it is not a scan).

    A whole study exported (a folder or .zip of several series) loads its pre-contrast T1
    series, the series at `position` of its list when the user chose one in the series menu, or
    the one whose Series Number is `number` (the API's `series`); `study` (a dict) then gets its
    "series" (`SeriesInfo` list, also when none fits) and the "position" of the one loaded."""
    if not path:
        raise ScanError("no file was uploaded")
    from assistant.domain.series import choose_t1_series, series_at, series_by_number

    chooser = choose_t1_series
    if position is not None:
        chooser = series_at(position)
    elif number is not None:
        chooser = series_by_number(number)

    def choose(infos: list) -> tuple[int, str]:
        if study is not None:
            study["series"] = list(infos)
        chosen, why = chooser(infos)
        if study is not None:
            study["position"] = int(chosen)
        return chosen, why

    return load_scan(path, filename=Path(path).name, choose_series=choose)


def series_menu(session: Session) -> dict:
    """The series menu: shown for an upload of several series, each named with why it is not
    used when its header rules it out, the one loaded selected."""
    from assistant.domain.series import series_choices

    choices = series_choices(session.series) if len(session.series) > 1 else []
    return gr.update(
        choices=choices,
        value=session.series_position if choices else None,
        visible=bool(choices),
    )


def spacing_setting(value: Any) -> float | None:
    """The app's "Pixel spacing (mm)" field: None when empty or 0 (not set)."""
    if value in (None, ""):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ScanError(
            f"the pixel spacing setting {value!r} is not a number; give it in mm, e.g. 0.5, "
            "or leave it empty"
        ) from None
    return value or None


def close_session(session: Session | None) -> None:
    """When a client leaves: forget its scan, remove its download folder."""
    if session:
        session.close()


def _fresh_conversation() -> dict:
    """The outputs of a new analysis or a cleared one: no chat, evidence, draft or downloads
    (they belonged to the previous slice)."""
    return {
        "chat": [],
        "evidence": "",
        "draft": gr.update(value="", label=views.DRAFT_LABEL),
        "dl_md": gr.DownloadButton(value=None, visible=False),
        "dl_json": gr.DownloadButton(value=None, visible=False),
        "dl_fhir": gr.DownloadButton(value=None, visible=False),
    }


def _analysed(session: Session | None) -> bool:
    return session is not None and session.state is not None


def _shown_slice(session: Session) -> tuple[int | None, float | None]:
    """(slice, level) to analyse again: the slice shown (and the analysed level it was shown
    at, for a volume analysed whole), except a registered volume's slice at the trained level
    ((None, None): registered again), which is not a native slice."""
    st = session.state
    if st is None:
        return None, None
    if st.shown_level is not None:
        return st.slice_index, st.shown_level
    if st.scan_summary.get("registered"):
        return None, None
    return st.slice_index, None


class Callbacks:
    """The event handlers of the app on `engine` (shared models); per-client data lives in the
    `Session` every handler takes and returns. The analysing handlers' progress bars also track
    tqdm (`track_tqdm`): a volume's levels as they are analysed.

    components: the layout's components by name (None: the returned dicts keep the names).
    """

    def __init__(self, engine: Engine, components: Mapping[str, Any] | None = None):
        self.engine = engine
        self.components = components
        # why a client's /analyze failed before it had any session (Gradio keeps no state
        # from a call that raises), by the client's session hash, for /ask to say so
        self.failed_first: dict[str, str] = {}

    def show(self, **outputs: Any) -> dict:
        """{component: value} for the named outputs; the outputs not named stay as they are."""
        if self.components is None:
            return outputs
        return {self.components[name]: value for name, value in outputs.items()}

    # --- the file changed: clear at once, then analyse -------------------------------------
    def on_file(self, path, session):
        """The file box changed (upload, example, replaced or cleared file): forget the previous
        scan and clear every result at once, before the new file is analysed (`on_upload`)."""
        session = session or Session()
        session.reset(path)
        session.chosen = str(path) if path else ""
        return self._cleared(session, views.pending_markdown(session.filename))

    def on_upload(
        self,
        path,
        method,
        preset,
        sensitivity,
        spacing,
        opacity,
        session,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        """Read the chosen file and analyse the detector's slice (a new file is never analysed
        anyway: "Analyse anyway" starts unticked). A failure leaves no results and a persistent
        error; an analysis overtaken by another file change is dropped."""
        session = session or Session()
        if session.chosen is not None and session.chosen != (str(path) if path else ""):
            # another file was chosen (or the box cleared) after the change this event follows:
            # that change's own event shows it; this one must not clear or replace it
            return gr.skip()
        if not path:  # the file was cleared
            if session.path is not None or session.scan is not None or session.error:
                session.reset(None)
            return self._cleared(session, views.NO_SCAN)
        if session.path != str(path) or session.scan is not None:
            session.reset(path)  # called without `on_file` first (a script, a test)
        path = session.path = session.keep_upload(path)  # out of Gradio's public cache
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            f"Could not analyse {views.file_label(session.filename)}",
            session,
            settings,
            spacing,
            opacity,
            progress,
            path=path,
        )

    def on_series_chosen(self, position, session):
        """Another series of the study was chosen in the menu: clear every result of the
        previous series at once, before the chosen one is read and analysed (`on_series`)."""
        if position is None or session is None or session.path is None:
            return gr.skip()
        session.choose_series(position)
        return self._cleared(session, views.pending_markdown(session.filename))

    def on_series(
        self,
        position,
        method,
        preset,
        sensitivity,
        spacing,
        opacity,
        session,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        """Read the chosen series of the uploaded study and analyse it; it is checked like any
        upload ("Analyse anyway" starts unticked). Dropped when another series or file was
        chosen meanwhile."""
        if position is None or session is None or session.path is None:
            return gr.skip()
        if session.series_position != int(position) or session.scan is not None:
            return gr.skip()  # another choice followed: its own events show it
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            f"Could not analyse series {int(position)} of {views.file_label(session.filename)}",
            session,
            settings,
            spacing,
            opacity,
            progress,
            path=session.path,
            position=int(position),
        )

    def on_slice(
        self,
        index,
        method,
        preset,
        sensitivity,
        spacing,
        opacity,
        anyway,
        session,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        """Another axial slice of the volume was chosen (the slider): analyse it, or show it at
        its analysed level when the volume was analysed whole (`Analyzer.analyze`)."""
        if index is None:
            return gr.skip()
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return gr.skip()
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            f"Could not analyse slice {index} of {views.file_label(session.filename)}",
            session,
            settings,
            spacing,
            opacity,
            progress,
            slice_index=index,
            anyway=bool(anyway),
        )

    def on_jump(
        self,
        finding_id,
        method,
        preset,
        sensitivity,
        spacing,
        opacity,
        anyway,
        session,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        """ "Go to a 3D finding": show the axial slice through the finding's centroid, at the
        analysed level of its 2D findings nearest its centre (the level a pitched head's native
        slice is shown at could miss it)."""
        if not finding_id:  # the menu was reset
            return gr.skip()
        volume = getattr(getattr(session, "state", None), "volume", None)
        found = [v for v in getattr(volume, "findings", []) if v.id == finding_id]
        if session is None or session.scan is None or not found:
            gr.Warning("Analyse a volume first; then choose one of its 3D findings.")
            return gr.skip()
        finding = found[0]
        j = volume.level_of_finding(finding)
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            f"Could not show {finding.id} of {views.file_label(session.filename)}",
            session,
            settings,
            spacing,
            opacity,
            progress,
            slice_index=int(round(finding.centroid_voxel[0])),
            level_mm=None if j is None else volume.levels[j],
            anyway=bool(anyway),
        )

    def on_reanalyse(
        self,
        method,
        preset,
        sensitivity,
        spacing,
        opacity,
        anyway,
        session,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008
    ):
        """Analyse the shown slice again with the settings now chosen (also when "Analyse
        anyway" is ticked or unticked, or the pixel spacing was entered)."""
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return gr.skip()
        index, level = _shown_slice(session)
        settings = (method, preset, sensitivity)
        return self._analyse_and_show(
            f"Could not analyse {views.file_label(session.filename)}",
            session,
            settings,
            spacing,
            opacity,
            progress,
            slice_index=index,
            level_mm=level,
            anyway=bool(anyway),
        )

    def _analyse_and_show(
        self,
        action: str,
        session: Session,
        settings: tuple,
        spacing: Any,
        opacity: float,
        progress: Any,
        *,
        path: str | None = None,
        position: int | None = None,
        slice_index: Any = None,
        level_mm: float | None = None,
        anyway: bool = False,
    ) -> dict:
        """Analyse the file at `path` (None: the session's scan; `position`: the series of a
        study chosen in the menu) and show the result. A failure clears the results and shows
        the error (a toast and the persistent error element); when the file changed meanwhile
        (`Session.generation`), nothing is shown."""
        generation = session.generation
        study: dict = {}
        try:
            with readable_errors(action):
                if path is not None:
                    progress(0.05, desc="Reading the scan")
                    try:
                        scan = read_scan(path, position, study)
                    finally:  # a study none of whose series fits still lists them in the menu
                        if session.generation == generation and "series" in study:
                            session.series = study["series"]
                            session.series_position = study.get("position")
                else:
                    scan = session.scan
                index = None if slice_index is None else int(slice_index)
                state = self._analyse(scan, index, settings, spacing, progress, anyway, level_mm)
        except gr.Error as exc:
            if session.generation != generation:
                return gr.skip()  # another file was chosen meanwhile: its own event shows it
            # the error stays on the page; a short toast does not outlast the file it is about
            gr.Warning(exc.message, duration=6)
            return self._failed(session, exc.message, keep_slice=path is None)
        if session.generation != generation:
            return gr.skip()
        session.scan, session.state, session.report, session.history = scan, state, None, []
        session.settings, session.error = tuple(settings), ""
        return self._analysis_view(session, opacity, anyway)

    def _analyse(
        self,
        scan: Scan,
        slice_index: int | None,
        settings: tuple,
        spacing: Any,
        progress: Any,
        anyway: bool = False,
        level_mm: float | None = None,
    ) -> CaseState:
        """Analyse a slice of `scan` with (method, preset, sensitivity) (`anyway`: also when
        outside the detector's domain; `level_mm`: the analysed level to show a volume's slice
        at), the settings' pixel spacing applied to an image without one
        (`with_spacing(keep_own=True)`: a scan's own spacing is kept, with a note)."""
        method, preset, sensitivity = settings[0], settings[1], float(settings[2])
        scan = with_spacing(scan, spacing_setting(spacing), keep_own=True)
        progress(0.3, desc="Checking the scan, detecting anomalies, searching similar cases")
        state = self.engine.analyze(
            scan, slice_index, method, preset, sensitivity, anyway=bool(anyway), level_mm=level_mm
        )
        progress(0.95, desc="Rendering")
        return state

    def _cleared(self, session: Session, score: str, error: str = "", keep_slice=False) -> dict:
        """Every output of ANALYSIS_OUTPUTS emptied (`score`: the line shown instead of a
        result; `error`: shown in the persistent error element; `keep_slice`: the slice slider
        stays as it is)."""
        outputs = dict(
            session=session,
            banner=gr.Markdown("", visible=False),
            error=gr.Markdown(views.error_markdown(error) if error else "", visible=bool(error)),
            anyway=gr.Checkbox(value=False, visible=False),
            slice=gr.Slider(value=0, minimum=0, maximum=1, visible=False, label="Axial slice"),
            strip=gr.update(value=None, visible=False),
            jump=gr.update(choices=[], value=None, visible=False),
            overlay=gr.update(value=None, label=views.OVERLAY_LABEL),
            compare=gr.update(value=None, label=views.COMPARE_LABEL, slider_position=50),
            findings=gr.update(value=[], label="Findings"),
            score=score,
            gallery=gr.update(value=[], label="Similar cases"),
            cases=gr.update(value=[], label="Similar cases"),
            suggestions=gr.Dataset(samples=[[q] for q in views.suggested_questions(None)]),
            **_fresh_conversation(),
        )
        if keep_slice:
            del outputs["slice"], outputs["strip"], outputs["jump"]
        else:
            outputs["series"] = series_menu(session)
        return self.show(**outputs)

    def _failed(self, session: Session, message: str, keep_slice: bool = False) -> dict:
        """The page after a failed analysis: no results (of this or any earlier file), the
        error in the persistent element; the scan stays loaded when only a slice failed."""
        session.state, session.report, session.history = None, None, []
        session.error = message
        if not keep_slice:
            session.scan = None
        score = f"{views.file_label(session.filename)}: **no results** (the error is shown above)."
        return self._cleared(session, score, error=message, keep_slice=keep_slice)

    def _analysis_view(self, session: Session, opacity: float, anyway: bool = False) -> dict:
        """Every output of ANALYSIS_OUTPUTS for the session's analysis; every result shown
        names the file (and slice), and a scan outside the detector's domain gets the banner."""
        st, n = session.state, session.n_slices
        title = views.scan_title(session.filename, st)
        side = views.DISPLAY_SIDE
        r = st.result
        if r is not None:
            overlay = views.overlay_image(r, opacity, side)
        else:  # detection off, or not applicable: the slice itself
            overlay = views.grey_rgb(
                views.slice_unit(session.scan, st.slice_index), side, session.scan.patient_left
            )
        overlay = self._named_image(session, overlay, heatmap=r is not None)
        banner = views.domain_banner(st, session.filename)
        mark = f" · {views.UNRELIABLE}" if st.unreliable else ""
        strip, jumps = views.score_strip(st), views.jump_choices(st)
        return self.show(
            session=session,
            banner=gr.Markdown(banner, visible=bool(banner)),
            error=gr.Markdown("", visible=False),
            anyway=gr.Checkbox(value=bool(anyway), visible=views.out_of_domain(st)),
            series=series_menu(session),
            slice=gr.Slider(
                minimum=0,
                maximum=max(n - 1, 1),
                value=st.slice_index or 0,
                step=1,
                visible=n > 1,
                label=f"Axial slice (0..{n - 1})" if n > 1 else "Axial slice",
                info=views.slice_info(st, n) if n > 1 else None,
            ),
            strip=gr.update(
                value=strip,
                visible=strip is not None,
                label=f"{views.STRIP_LABEL} · {title}",
            ),
            jump=gr.update(choices=jumps, value=None, visible=bool(jumps)),
            # updates as dicts: the images are encoded once, when sent
            overlay=gr.update(value=overlay, label=f"Anomaly heatmap · {title}{mark}"),
            compare=gr.update(
                value=views.comparison(r, side) if r is not None else None,
                label=f"Original | pseudo-healthy · {title}{mark}",
                slider_position=views.slider_position(r),
            ),
            findings=gr.update(
                value=views.findings_rows(r, getattr(st, "volume", None)),
                label=views.findings_caption(st, session.filename),
            ),
            score=views.score_markdown(st, session.filename),
            gallery=gr.update(value=views.gallery_items(st), label=f"Similar cases · {title}"),
            cases=gr.update(value=views.case_rows(st), label=f"Similar cases · {title}"),
            suggestions=gr.Dataset(samples=[[q] for q in views.suggested_questions(st)]),
            **_fresh_conversation(),
        )

    # --- display settings ----------------------------------------------------------------
    def on_opacity(self, opacity, session):
        """The heatmap opacity changed: redraw the overlay (the only output)."""
        if not _analysed(session) or session.state.result is None:
            return gr.skip()
        overlay = views.overlay_image(session.state.result, float(opacity), views.DISPLAY_SIDE)
        return self._named_image(session, overlay)

    def _named_image(self, session: Session, pixels, heatmap: bool = True) -> str | None:
        """The image shown, as a PNG in the session's folder named after the file and slice
        ("mni_left_volume_slice4_heatmap.png"), so that its download says what it is of."""
        if pixels is None:
            return None
        stem = views.download_stem(session.filename, session.state)
        return session_image(session, f"{stem}_{'heatmap' if heatmap else 'image'}.png", pixels)

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
        """Answer `question` about the session's analysis, streaming into the chat; each answer
        ends with a line naming the file (and slice) it is about. Without an analysis (none
        yet, or the file failed) the chat says so and never answers about an earlier scan."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield self.show(chat=history, question="")
            return
        if not _analysed(session):
            s = session or Session()
            text = views.no_scan_answer(s.filename, s.error, pending=bool(s.path))
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": text},
            ]
            yield self.show(chat=history, question="", evidence="")
            return
        state = session.state
        footer = views.answer_footer(session.filename, state)
        about = views.scan_title(session.filename, state)
        with readable_errors("Could not answer"):
            bot = self.engine.asker(responder, model, quant)
            turns = plain_history(history)
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": ""},
            ]
            text = ""
            for part in bot.ask(state, question, turns):
                if session.state is not state:  # the file or slice changed meanwhile
                    return
                if isinstance(part, Answer):
                    history[-1]["content"] = part.text + footer
                    evidence = views.evidence_markdown(part, state.evidence, about)
                    yield self.show(chat=history, question="", evidence=evidence)
                else:
                    text += part
                    history[-1]["content"] = text
                    yield self.show(chat=history, question="")

    # --- draft findings ------------------------------------------------------------------
    def on_draft(self, session):
        """Draft the findings of the analysed slice; offer them as downloads named after the
        file (and slice)."""
        if not _analysed(session):
            s = session or Session()
            gr.Warning(views.no_scan_answer(s.filename, s.error, bool(s.path), "draft findings"))
            return gr.skip()
        with readable_errors("Could not draft the findings"):
            md, js, fhir = self._draft_files(session)
            title = views.scan_title(session.filename, session.state)
            return self.show(
                draft=gr.update(
                    value=session.report.to_markdown(), label=f"{views.DRAFT_LABEL} · {title}"
                ),
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
        """The draft as Markdown, JSON and FHIR files in the session's folder, named after the
        file and slice (`views.download_stem`); the Markdown starts with a line naming them
        and the JSON carries "scan_file" and "slice_index" (written from the analysis once per
        slice; `edited`: the user's Markdown, if changed)."""
        st = session.state
        if session.report is None:
            session.report = self.engine.asker().report(st)
        report = session.report
        data = report.to_dict()
        md = report.to_markdown()
        if edited is not None and edited.strip() != md.strip():
            md, data["edited_markdown"] = edited, edited
        title = views.scan_title(session.filename, st)
        md = f"<!-- draft findings for {title} -->\n{md}"
        data["scan_file"] = views.plain_name(session.filename) or None
        data["slice_index"] = st.slice_index
        stem = views.download_stem(session.filename, st)
        return [
            session_file(session, f"{stem}_draft_findings.md", md),
            session_file(session, f"{stem}_draft_findings.json", json.dumps(data, indent=2)),
            session_file(
                session,
                f"{stem}_draft_findings.fhir.json",
                report.to_fhir_json(st.evidence.by_kind("finding")),
            ),
        ]

    # --- the scripted API ----------------------------------------------------------------
    def api_analyze(
        self,
        path,
        slice_index,
        anyway,
        series,
        session,
        progress=gr.Progress(),  # noqa: B008
        request: gr.Request | None = None,
    ):
        """Analyse a scan file (`anyway`: also outside the detector's domain, marked
        unreliable; `series`: of a study's several series, the one with this Series Number,
        -1 or None for the pre-contrast T1 one): returns (analysis JSON with "file", "sizes",
        "applicability", "unreliable" and "series", overlay image, pseudo-healthy image); out
        of domain without `anyway`: no findings, no images. The session's previous analysis is
        forgotten first, so that a failed call leaves none for `/ask`."""
        session = Session() if session is None else session
        session.reset(path)
        if path:
            path = session.path = session.keep_upload(path)  # out of Gradio's public cache
        study: dict = {}
        number = None if series is None or int(series) < 0 else int(series)
        try:
            with readable_errors(f"Could not analyse {views.file_label(session.filename)}"):
                try:
                    scan = read_scan(path, study=study, number=number)
                finally:  # a study none of whose series fits still lists them
                    session.series = study.get("series", [])
                    session.series_position = study.get("position")
                idx = None if slice_index is None or int(slice_index) < 0 else int(slice_index)
                st = self._analyse(scan, idx, (None, None, 1.0), None, progress, bool(anyway))
        except gr.Error as exc:
            session.error = exc.message
            if request is not None and request.session_hash:
                if len(self.failed_first) >= 1000:  # a bound: the oldest reason goes
                    self.failed_first.pop(next(iter(self.failed_first)))
                self.failed_first[request.session_hash] = exc.message
            raise
        if request is not None:
            self.failed_first.pop(request.session_hash, None)
        session.scan, session.state = scan, st
        r = st.result
        return self.show(
            session=session,
            api_json=views.analysis_dict(st, session.n_slices, session.filename)
            | {"series": views.series_dict(session.series, session.series_position, number)},
            api_overlay=views.overlay_image(r) if r is not None else None,
            api_pseudo=views.grey_rgb(r.pseudo_healthy) if r is not None else None,
        )

    def api_ask(self, question, session, request: gr.Request | None = None):
        """Ask about the last analysed scan of this client: streams (text, {}), then (text,
        answer JSON with the cited evidence and "file")."""
        if not _analysed(session):
            failed = ""
            error = session.error if session is not None else ""
            if not error and session is None and request is not None:
                error = self.failed_first.get(request.session_hash or "", "")
            if error:
                failed = f" (the last /analyze failed: {error})"
            raise gr.Error(
                f"No scan analysed in this session{failed}: call /analyze first.",
                print_exception=False,  # a traceback in the log would name the file
            )
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
                    evidence["file"] = views.plain_name(session.filename) or None
                    evidence["slice_index"] = session.state.slice_index
                    yield self.show(session=session, api_answer=part.text, api_evidence=evidence)
                else:
                    text += part
                    yield self.show(session=session, api_answer=text, api_evidence={})

    def api_draft(self, session):
        """Draft findings of the last analysed slice: (Markdown, JSON, FHIR JSON)."""
        if not _analysed(session):
            raise gr.Error(
                "No scan analysed in this session: call /analyze first.", print_exception=False
            )
        with readable_errors("Could not draft the findings"):
            files = self._draft_files(session)
            return self.show(
                session=session,
                api_md=session.report.to_markdown(),
                api_report=json.loads(Path(files[1]).read_text()),
                api_fhir=json.loads(Path(files[2]).read_text()),
            )
