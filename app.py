"""The chat app (Gradio): upload a scan, see what the detector found, ask about it.

    python app.py                          # http://127.0.0.1:7860, offline grounded responder
    python app.py --responder transformers --model google/medgemma-4b-it --quantization 4bit
    python app.py --responder openai --model my-served-model   # OPENAI_BASE_URL=...

Flags and their `ASSISTANT_*` / `GRADIO_SERVER_*` variables: `assistant.ui.config`. The UI is
thin: every callback calls `assistant` (`assistant.ui.engine`, `assistant.ui.views`).

Named API endpoints (gradio_client), with per-client session state:
- `/analyze` (file, slice_index=-1 for the detector's choice) -> (analysis JSON, heatmap
  overlay image, pseudo-healthy image)
- `/ask` (question) -> (answer text, answer JSON with the cited evidence); streamed, and the
  conversation continues across calls of the same client
- `/draft` () -> (Markdown, JSON, FHIR DiagnosticReport JSON) of the analysed slice
"""

from __future__ import annotations

import os

# before gradio is imported: no analytics or version check, no hub access at start-up
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from assistant import DISCLAIMER  # noqa: E402
from assistant.chat import Answer  # noqa: E402
from assistant.examples import example_paths  # noqa: E402
from assistant.scan import ScanError, load_scan  # noqa: E402
from assistant.ui import views  # noqa: E402
from assistant.ui.config import AppConfig, parse_config  # noqa: E402
from assistant.ui.engine import Engine, Session, session_file  # noqa: E402

logger = logging.getLogger("assistant.app")

TITLE = "Scan assistant: explainable anomaly Q&A"
RESPONDERS = ["grounded", "transformers", "openai"]
# no web fonts: the page must work on an offline machine
THEME = gr.themes.Soft(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)
CSS = "#disclaimer {border-left: 4px solid #d97706; padding-left: 8px}"


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
    return [
        {"role": m["role"], "content": chat_text(m.get("content"))}
        for m in history or []
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]


def build_app(
    engine: Engine | None = None,
    *,
    detector: Any | None = None,
    index: Any | None = None,
    responder: Any | None = None,
    config: AppConfig | None = None,
) -> gr.Blocks:
    """The Gradio app on `engine` (or on the given detector / index / responder, e.g. tiny
    test models; with neither, everything `config` names is loaded)."""
    config = config or AppConfig()
    if engine is None:
        if detector is None and index is None and responder is None:
            engine = Engine.load(config)
        else:
            engine = Engine(detector, index, responder, config)
    methods = engine.methods
    d_method, d_preset, _ = engine.default_settings()

    # ------------------------------------------------------------------ callbacks
    def _analyze(session, scan, slice_index, method, preset, sensitivity, progress):
        progress(0.3, desc="Detecting anomalies and searching similar cases")
        state = engine.analyze(scan, slice_index, method, preset, float(sensitivity))
        session.state, session.report, session.history = state, None, []
        session.settings = (method, preset, float(sensitivity))
        progress(0.95, desc="Rendering")
        return state

    def _load(path: str | None) -> Any:
        if not path:
            raise ScanError("no file was uploaded")
        return load_scan(path, filename=Path(path).name)

    def _view(session: Session, opacity: float):
        """Outputs shared by every analysis event (see VIEW_OUTPUTS)."""
        st = session.state
        r = st.result
        n = session.n_slices
        slider = gr.Slider(
            minimum=0,
            maximum=max(n - 1, 1),
            value=st.slice_index or 0,
            step=1,
            visible=n > 1,
            label=f"Axial slice (0..{n - 1})" if n > 1 else "Axial slice",
        )
        if r is not None:
            overlay = views.overlay_image(r, opacity)
        else:  # detection off: the slice itself
            overlay = views.grey_rgb(views.slice_unit(session.scan, st.slice_index))
        compare = views.comparison(r) if r is not None else None
        qs = views.suggested_questions(st)
        return (
            session,
            slider,
            overlay,
            compare,
            views.findings_rows(r),
            views.score_markdown(st),
            views.gallery_items(st),
            views.case_rows(st),
            gr.Dataset(samples=[[q] for q in qs]),
            [],
            "",
            "",
            *(gr.DownloadButton(visible=False) for _ in range(3)),
        )

    def _warned(exc: gr.Error, session: Session | None):
        """Show the message as a warning and leave the page as it was (no error badges)."""
        gr.Warning(exc.message, duration=15)
        return (session, *(gr.skip() for _ in range(len(VIEW_OUTPUTS) - 1)))

    def _warned_nothing():
        return tuple(gr.skip() for _ in VIEW_OUTPUTS)

    def on_upload(path, method, preset, sensitivity, opacity, session, progress=gr.Progress()):  # noqa: B008
        if not path:  # the file was cleared
            return (session, *(gr.skip() for _ in range(len(VIEW_OUTPUTS) - 1)))
        session = session or Session()
        try:
            with readable_errors("Could not analyse this file"):
                progress(0.05, desc="Reading the scan")
                scan = _load(path)
                _analyze(session, scan, None, method, preset, sensitivity, progress)
                session.scan = scan
                return _view(session, opacity)
        except gr.Error as exc:
            return _warned(exc, session)

    def on_slice(index, method, preset, sensitivity, opacity, session, progress=gr.Progress()):  # noqa: B008
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return _warned_nothing()
        try:
            with readable_errors("Could not analyse this slice"):
                _analyze(session, session.scan, int(index), method, preset, sensitivity, progress)
                return _view(session, opacity)
        except gr.Error as exc:
            return _warned(exc, session)

    def on_reanalyse(method, preset, sensitivity, opacity, session, progress=gr.Progress()):  # noqa: B008
        if session is None or session.scan is None:
            gr.Warning("Upload a scan first.")
            return _warned_nothing()
        try:
            with readable_errors("Could not analyse the scan"):
                index = session.state.slice_index if session.state is not None else None
                _analyze(session, session.scan, index, method, preset, sensitivity, progress)
                return _view(session, opacity)
        except gr.Error as exc:
            return _warned(exc, session)

    def on_opacity(opacity, session):
        if session is None or session.state is None or session.state.result is None:
            return gr.skip()
        return views.overlay_image(session.state.result, float(opacity))

    def on_method(method):
        presets = methods.get(method, [])
        value = d_preset if method == d_method else ("fast" if "fast" in presets else presets[0])
        return gr.Dropdown(choices=presets, value=value)

    def on_ask(question, history, responder, model, quant, session) -> Iterator[tuple]:
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield history, "", gr.skip()
            return
        if session is None or session.state is None:
            gr.Warning("Upload a scan (or pick an example) before asking about it.")
            yield history, question, gr.skip()
            return
        with readable_errors("Could not answer"):
            bot = engine.asker(responder, model, quant)
            turns = plain_history(history)
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": ""},
            ]
            text = ""
            for part in bot.ask(session.state, question, turns):
                if isinstance(part, Answer):
                    history[-1]["content"] = part.text
                    yield history, "", views.evidence_markdown(part, session.state.evidence)
                else:
                    text += part
                    history[-1]["content"] = text
                    yield history, "", gr.skip()

    def on_draft(session):
        if session is None or session.state is None:
            gr.Warning("Upload a scan first: the draft is written from its analysis.")
            return tuple(gr.skip() for _ in range(4))
        with readable_errors("Could not draft the findings"):
            files = _draft_files(session)
            return (
                session.report.to_markdown(),
                *(gr.DownloadButton(value=f, visible=True) for f in files),
            )

    def _draft_files(session: Session, edited: str | None = None) -> list[str]:
        st = session.state
        if session.report is None:
            session.report = engine.asker().report(st)
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

    def on_draft_edit(text, session):
        if session is None or session.report is None:
            return gr.skip(), gr.skip()
        with readable_errors("Could not save the edits"):
            md, js, _ = _draft_files(session, text)
            return gr.DownloadButton(value=md), gr.DownloadButton(value=js)

    # --- API (scripted use) -----------------------------------------------------------
    def api_analyze(path, slice_index, session, progress=gr.Progress()):  # noqa: B008
        """Analyse a scan file: returns (analysis JSON, overlay image, pseudo-healthy image)."""
        session = Session() if session is None else session
        with readable_errors("Could not analyse this file"):
            scan = _load(path)
            idx = None if slice_index is None or int(slice_index) < 0 else int(slice_index)
            st = _analyze(session, scan, idx, None, None, 1.0, progress)
            session.scan = scan
            r = st.result
            return (
                session,
                views.analysis_dict(st, session.n_slices),
                views.overlay_image(r) if r is not None else None,
                views.grey_rgb(r.pseudo_healthy) if r is not None else None,
            )

    def api_ask(question, session):
        """Ask about the last analysed scan of this client: streams (text, {}), then (text,
        answer JSON with the cited evidence)."""
        if session is None or session.state is None:
            raise gr.Error("No scan analysed in this session: call /analyze first.")
        with readable_errors("Could not answer"):
            bot = engine.asker()
            text = ""
            for part in bot.ask(session.state, question or "", session.history):
                if isinstance(part, Answer):
                    session.history += [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": part.text},
                    ]
                    yield session, part.text, views.evidence_dict(part, session.state.evidence)
                else:
                    text += part
                    yield session, text, {}

    def api_draft(session):
        """Draft findings of the last analysed slice: (Markdown, JSON, FHIR JSON)."""
        if session is None or session.state is None:
            raise gr.Error("No scan analysed in this session: call /analyze first.")
        with readable_errors("Could not draft the findings"):
            files = _draft_files(session)
            fhir = json.loads(Path(files[2]).read_text())
            return session, session.report.to_markdown(), session.report.to_dict(), fhir

    # ------------------------------------------------------------------ layout
    with gr.Blocks(title=TITLE) as demo:
        # one Session per client; its download folder is removed when the session ends
        session = gr.State(None, delete_callback=lambda s: s.close() if s else None)
        gr.Markdown(f"# {TITLE}")
        gr.Markdown(f"**{DISCLAIMER}**", elem_id="disclaimer")
        gr.Markdown(f"<small>{engine.status()}</small>", elem_id="status")
        with gr.Row():
            with gr.Column(scale=2, min_width=300):
                upload = gr.File(
                    label="Scan: PNG / JPEG / TIFF, DICOM (file or .zip series), NIfTI",
                    type="filepath",
                    elem_id="upload",
                )
                slice_slider = gr.Slider(
                    0, 1, value=0, step=1, visible=False, label="Axial slice", elem_id="slice"
                )
                examples = example_paths()
                if examples:
                    gr.Examples(
                        [[str(p)] for p in examples],
                        inputs=[upload],
                        label="Examples (MNI152 template with synthetic lesions; not patients)",
                        example_labels=[p.name for p in examples],
                    )
                reanalyse = gr.Button("Re-analyse with the settings")
                with gr.Accordion("Settings", open=False):
                    method = gr.Dropdown(list(methods), value=d_method, label="Detection method")
                    preset = gr.Dropdown(
                        methods.get(d_method, []), value=d_preset, label="Speed preset"
                    )
                    sensitivity = gr.Slider(
                        0.5,
                        2.0,
                        value=1.0,
                        step=0.05,
                        label="Sensitivity (1 = calibrated thresholds; higher finds more and "
                        "raises false positives)",
                    )
                    default_name = getattr(engine.responder, "name", "grounded")
                    responder = gr.Dropdown(
                        RESPONDERS,
                        value=default_name if default_name in RESPONDERS else "grounded",
                        label="Responder",
                    )
                    model = gr.Textbox(
                        value=config.model or "",
                        label="Model id (transformers: a downloaded id or folder; openai: the "
                        "served name)",
                    )
                    quant = gr.Radio(
                        ["none", "8bit", "4bit"],
                        value=config.quantization or "none",
                        label="Quantization (transformers, bitsandbytes)",
                    )
            with gr.Column(scale=3):
                score = gr.Markdown("Upload a scan or pick an example.", elem_id="score")
                with gr.Tabs():
                    with gr.Tab("Heatmap overlay"):
                        overlay = gr.Image(
                            label="Anomaly heatmap (cyan: calibrated findings)",
                            type="numpy",
                            format="png",
                            interactive=False,
                            elem_id="overlay",
                        )
                        opacity = gr.Slider(0, 1, value=0.5, step=0.05, label="Heatmap opacity")
                    with gr.Tab("Original vs pseudo-healthy"):
                        compare = gr.ImageSlider(
                            label="Original | pseudo-healthy (what the model repaired)",
                            type="numpy",
                            format="png",
                            elem_id="compare",
                        )
                findings = gr.Dataframe(
                    headers=views.FINDING_HEADERS,
                    label="Findings",
                    interactive=False,
                    wrap=True,
                    column_widths=["8%", "20%", "26%", "16%", "16%", "14%"],
                    elem_id="findings",
                )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=360, elem_id="chat")
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask about the scan, e.g. Which side is it on?",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                    )
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                suggestions = gr.Dataset(
                    components=[question],
                    samples=[[q] for q in views.suggested_questions(None)],
                    label="Suggested questions",
                )
                evidence = gr.Markdown(elem_id="evidence")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label="Similar cases", columns=3, height=240)
                cases = gr.Dataframe(
                    headers=views.CASE_HEADERS, label="Similar cases", interactive=False, wrap=True
                )
        draft_btn = gr.Button("Draft findings", elem_id="draft-btn")
        draft = gr.Textbox(
            label="Draft findings (editable; the Markdown and JSON downloads keep your edits)",
            lines=10,
            interactive=True,
            elem_id="draft",
        )
        with gr.Row():
            dl_md = gr.DownloadButton("Markdown", visible=False)
            dl_json = gr.DownloadButton("JSON", visible=False)
            dl_fhir = gr.DownloadButton("FHIR DiagnosticReport", visible=False)

        # hidden components of the scripted API
        with gr.Group(visible=False):
            api_file = gr.File(type="filepath")
            api_slice = gr.Number(value=-1, precision=0)
            api_json = gr.JSON()
            api_overlay = gr.Image(type="numpy", format="png")
            api_pseudo = gr.Image(type="numpy", format="png")
            api_question = gr.Textbox()
            api_answer = gr.Textbox()
            api_evidence = gr.JSON()
            api_md = gr.Textbox()
            api_report = gr.JSON()
            api_fhir = gr.JSON()
            api_buttons = [gr.Button() for _ in range(3)]

        VIEW_OUTPUTS = [  # noqa: N806 (order of _view's tuple)
            session,
            slice_slider,
            overlay,
            compare,
            findings,
            score,
            gallery,
            cases,
            suggestions,
            chatbot,
            evidence,
            draft,
            dl_md,
            dl_json,
            dl_fhir,
        ]
        settings = [method, preset, sensitivity, opacity, session]
        ui = {"api_visibility": "undocumented"}
        # the analyses share one concurrency group: the detector already uses every core
        analysis = {"concurrency_id": "analysis", "concurrency_limit": config.analysis_concurrency}
        chat = {"concurrency_id": "chat", "concurrency_limit": config.chat_concurrency}
        upload.change(on_upload, [upload, *settings], VIEW_OUTPUTS, **analysis, **ui)
        slice_slider.release(on_slice, [slice_slider, *settings], VIEW_OUTPUTS, **analysis, **ui)
        reanalyse.click(on_reanalyse, settings, VIEW_OUTPUTS, **analysis, **ui)
        opacity.release(on_opacity, [opacity, session], overlay, **ui)
        method.change(on_method, method, preset, **ui)
        chat_inputs = [question, chatbot, responder, model, quant, session]
        chat_outputs = [chatbot, question, evidence]
        question.submit(on_ask, chat_inputs, chat_outputs, **chat, **ui)
        send.click(on_ask, chat_inputs, chat_outputs, **chat, **ui)
        suggestions.click(lambda s: s[0], suggestions, question, **ui).then(
            on_ask, chat_inputs, chat_outputs, **chat, **ui
        )
        draft_btn.click(on_draft, session, [draft, dl_md, dl_json, dl_fhir], **ui)
        draft.blur(on_draft_edit, [draft, session], [dl_md, dl_json], **ui)

        api_buttons[0].click(
            api_analyze,
            [api_file, api_slice, session],
            [session, api_json, api_overlay, api_pseudo],
            api_name="analyze",
            **analysis,
        )
        api_buttons[1].click(
            api_ask,
            [api_question, session],
            [session, api_answer, api_evidence],
            api_name="ask",
            **chat,
        )
        api_buttons[2].click(
            api_draft, session, [session, api_md, api_report, api_fhir], api_name="draft"
        )
    demo.engine = engine  # for tests and the benchmark
    demo.queue(default_concurrency_limit=config.chat_concurrency, max_size=config.max_queue)
    return demo


def launch(demo: gr.Blocks, config: AppConfig, **kwargs: Any):
    """Launch `demo` as `config` says (host, port, upload size limit); returns launch()'s
    (app, local_url, share_url)."""
    from assistant.examples import EXAMPLES_DIR

    return demo.launch(
        server_name=config.host,
        server_port=config.port,
        max_file_size=config.max_file_size,
        allowed_paths=[str(EXAMPLES_DIR)],
        show_error=False,
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        footer_links=["api"],
        **kwargs,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = parse_config(sys.argv[1:] if argv is None else argv)
    logger.info("loading the detector, case library and responder (once per process)")
    try:
        demo = build_app(config=config)
    except (OSError, ValueError, ImportError, RuntimeError) as exc:  # e.g. a model not downloaded
        logger.error("cannot start the app: %s", exc)
        return 2
    launch(demo, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
