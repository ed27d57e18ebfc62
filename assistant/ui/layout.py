"""The page: its components, by name, and the events that connect them to `Callbacks`.

    build_blocks(engine, config)     the whole app (a gr.Blocks, not yet queued or launched)
      build_page(engine, config)     the components: {"upload": gr.File, "overlay": ..., ...}
      connect(page, callbacks, config)  which event calls which callback, with what

The components' names are the names the callbacks return their outputs under
(`assistant.ui.callbacks`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant import DISCLAIMER
from assistant.examples import example_paths
from assistant.responders.registry import QUANTIZATIONS, RESPONDERS
from assistant.ui import views
from assistant.ui.callbacks import (
    ANALYSIS_OUTPUTS,
    API_ANALYZE_OUTPUTS,
    API_ASK_OUTPUTS,
    API_DRAFT_OUTPUTS,
    CHAT_OUTPUTS,
    DRAFT_EDIT_OUTPUTS,
    DRAFT_OUTPUTS,
    Callbacks,
    close_session,
)
from assistant.ui.config import AppConfig
from assistant.ui.engine import Engine

TITLE = "Scan assistant: explainable anomaly Q&A"
# no web fonts: the page must work on an offline machine
THEME = gr.themes.Soft(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)
CSS = (
    "#disclaimer {border-left: 4px solid #d97706; padding-left: 8px}\n"
    "#domain-banner, #scan-error {border: 2px solid #b91c1c; border-radius: 6px; "
    "padding: 4px 12px; background: rgba(185, 28, 28, 0.08)}\n"
    # table cells (Gradio's virtual rows: [role=gridcell]) wrap between words, never every
    # letter on its own line; the columns have widths in px (the table scrolls sideways when
    # narrow), and the ids (F1, W1, C1) stay on one line
    "#findings [role=gridcell] *, #findings [role=columnheader] *, #cases [role=gridcell] *, "
    "#cases [role=columnheader] * {word-break: normal !important; overflow-wrap: normal "
    "!important}\n"
    "#findings [data-col='0'] *, #cases [data-col='0'] * {white-space: nowrap !important}"
)
# run on page load: Enter in the slice slider's number box commits the number (Gradio's slider
# sends its "release" event, which shows the slice, only when that box loses focus or on a drag)
JS = """
() => {
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key === "Enter" && box instanceof HTMLInputElement && box.type === "number"
        && box.closest("#slice")) {
      box.blur();
    }
  });
}
"""
# px, so that no column gets too narrow for its words (views.FINDING_HEADERS, CASE_HEADERS)
FINDING_WIDTHS = ["44px", "104px", "96px", "150px", "92px", "108px", "108px"]
CASE_WIDTHS = ["52px", "112px", "112px", "104px", "200px", "260px"]

Page = dict[str, Any]  # component name -> Gradio component


# what a visitor must know before uploading: DICOM header identifiers are dropped, but the file
# name is shown and used for downloads (it names the results, against a wrong-patient mix-up)
NO_IDENTIFIABLE_DATA = (
    "Do not upload identifiable patient data: header identifiers are removed on loading, but "
    "the file's name is shown with every result and names the downloads, so rename a file "
    "that carries a name or an ID."
)


def build_blocks(engine: Engine, config: AppConfig) -> gr.Blocks:
    """The app's page with its events connected to `Callbacks(engine)`."""
    # files Gradio keeps to serve (the drafts offered for download, examples) are deleted
    # once an hour when older than `upload_retention_s`; uploads are moved out of its cache
    # when read (`Session.keep_upload`)
    retention = config.upload_retention_s
    with gr.Blocks(title=TITLE, delete_cache=(max(60, retention // 4), retention)) as demo:
        page = build_page(engine, config)
        connect(page, Callbacks(engine, page), config)
    return demo


def build_page(engine: Engine, config: AppConfig) -> Page:
    """Create every component, top to bottom (inside a gr.Blocks); returns them by name."""
    # one Session per client; its download folder is removed when the session ends
    page: Page = {"session": gr.State(None, delete_callback=close_session)}
    gr.Markdown(f"# {TITLE}")
    gr.Markdown(f"**{DISCLAIMER}** {NO_IDENTIFIABLE_DATA}", elem_id="disclaimer")
    gr.Markdown(f"<small>{engine.status()}</small>", elem_id="status")
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            page |= _scan_inputs()
            with gr.Accordion("Settings", open=False):
                page |= _settings(engine, config)
        with gr.Column(scale=3):
            page |= _results()
    with gr.Row():
        page |= _chat()
    page |= _draft()
    with gr.Group(visible=False):
        page |= _api()
    return page


def _scan_inputs() -> Page:
    upload = gr.File(
        label="Scan: PNG / JPEG / TIFF, DICOM (file or .zip series), NIfTI",
        type="filepath",
        elem_id="upload",
    )
    # an upload of several series (a whole study): which one is analysed (hidden otherwise)
    series = gr.Dropdown(
        choices=[],
        value=None,
        visible=False,
        label="Series of the study (the detector fits the pre-contrast T1-weighted one)",
        elem_id="series",
    )
    slice_slider = gr.Slider(
        0, 1, value=0, step=1, visible=False, label="Axial slice", elem_id="slice"
    )
    # a volume analysed whole: its score per slice, and a menu that moves the slider to a 3D
    # finding (both hidden otherwise)
    strip = gr.Image(
        value=None,
        visible=False,
        interactive=False,
        label=views.STRIP_LABEL,
        height=60,
        elem_id="strip",
    )
    jump = gr.Dropdown(
        choices=[], value=None, visible=False, label="Go to a 3D finding", elem_id="jump"
    )
    examples = example_paths()
    if examples:
        gr.Examples(
            [[str(p)] for p in examples],
            inputs=[upload],
            label="Examples (the average IXI head with synthetic lesions; not patients)",
            example_labels=[p.name for p in examples],
        )
    reanalyse = gr.Button("Re-analyse with the settings", elem_id="reanalyse")
    return {
        "upload": upload,
        "series": series,
        "slice": slice_slider,
        "strip": strip,
        "jump": jump,
        "reanalyse": reanalyse,
    }


def _settings(engine: Engine, config: AppConfig) -> Page:
    methods = engine.methods
    d_method, d_preset, _ = engine.default_settings()
    return {
        "method": gr.Dropdown(list(methods), value=d_method, label="Detection method"),
        "preset": gr.Dropdown(methods.get(d_method, []), value=d_preset, label="Speed preset"),
        "spacing": gr.Number(
            value=None,
            label="Pixel spacing (mm), for images without one",
            info="PNG, JPEG, TIFF and BMP carry no spacing: with one given here, sizes are in "
            "mm² (press Enter or Re-analyse). Empty: sizes in pixels of the original image. A "
            "DICOM or NIfTI file's own spacing is always used.",
            elem_id="spacing",
        ),
        "sensitivity": gr.Slider(
            0.5,
            2.0,
            value=1.0,
            step=0.05,
            label="Sensitivity (1 = calibrated thresholds; higher finds more and raises false "
            "positives)",
        ),
        "responder": gr.Dropdown(
            list(RESPONDERS),
            value=engine.responder.name,
            label="Responder",
        ),
        "model": gr.Textbox(
            value=config.model or "",
            label="Model id (transformers: a downloaded id or folder; openai: the served name)",
        ),
        "quant": gr.Radio(
            list(QUANTIZATIONS),
            value=config.quantization or "none",
            label="Quantization (transformers, bitsandbytes)",
        ),
    }


def _results() -> Page:
    # shown when the analysed scan is outside the detector's domain (views.domain_banner)
    page: Page = {
        # a file that could not be read or analysed: stays until the file changes
        "error": gr.Markdown(visible=False, elem_id="scan-error"),
        "banner": gr.Markdown(visible=False, elem_id="domain-banner"),
        "anyway": gr.Checkbox(
            value=False,
            visible=False,
            label="Analyse anyway (the detector does not apply: every result is marked UNRELIABLE)",
            elem_id="analyse-anyway",
        ),
        "score": gr.Markdown(views.NO_SCAN, elem_id="score"),
    }
    with gr.Tabs():
        with gr.Tab("Heatmap overlay"):
            page["overlay"] = gr.Image(
                label=views.OVERLAY_LABEL,
                type="numpy",
                format="png",
                interactive=False,
                elem_id="overlay",
            )
            page["opacity"] = gr.Slider(0, 1, value=0.5, step=0.05, label="Heatmap opacity")
        with gr.Tab("Original vs pseudo-healthy"):
            page["compare"] = gr.ImageSlider(
                label=views.COMPARE_LABEL,
                type="numpy",
                format="png",
                elem_id="compare",
            )
    page["findings"] = gr.Dataframe(
        headers=views.FINDING_HEADERS,
        label="Findings",
        interactive=False,
        wrap=True,
        column_widths=FINDING_WIDTHS,
        elem_id="findings",
    )
    return page


def _chat() -> Page:
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
        gallery = gr.Gallery(label="Similar cases", columns=3, height=240, elem_id="gallery")
        cases = gr.Dataframe(
            headers=views.CASE_HEADERS,
            label="Similar cases",
            interactive=False,
            wrap=True,
            column_widths=CASE_WIDTHS,
            elem_id="cases",
        )
    return {
        "chat": chatbot,
        "question": question,
        "send": send,
        "suggestions": suggestions,
        "evidence": evidence,
        "gallery": gallery,
        "cases": cases,
    }


def _draft() -> Page:
    page: Page = {
        "draft_btn": gr.Button("Draft findings", elem_id="draft-btn"),
        "draft": gr.Textbox(
            label=views.DRAFT_LABEL,
            lines=10,
            interactive=True,
            elem_id="draft",
        ),
    }
    with gr.Row():
        page["dl_md"] = gr.DownloadButton("Markdown", visible=False, elem_id="dl-md")
        page["dl_json"] = gr.DownloadButton("JSON", visible=False, elem_id="dl-json")
        page["dl_fhir"] = gr.DownloadButton(
            "FHIR DiagnosticReport", visible=False, elem_id="dl-fhir"
        )
    return page


def _api() -> Page:
    """Hidden components of the scripted API (`/analyze`, `/ask`, `/draft`)."""
    return {
        "api_file": gr.File(type="filepath"),
        "api_slice": gr.Number(value=-1, precision=0),
        "api_anyway": gr.Checkbox(value=False),
        "api_series": gr.Number(value=-1, precision=0),
        "api_json": gr.JSON(),
        "api_overlay": gr.Image(type="numpy", format="png"),
        "api_pseudo": gr.Image(type="numpy", format="png"),
        "api_question": gr.Textbox(),
        "api_answer": gr.Textbox(),
        "api_evidence": gr.JSON(),
        "api_md": gr.Textbox(),
        "api_report": gr.JSON(),
        "api_fhir": gr.JSON(),
        "api_analyze": gr.Button(),
        "api_ask": gr.Button(),
        "api_draft": gr.Button(),
    }


def connect(page: Page, cb: Callbacks, config: AppConfig) -> None:
    """Connect the page's events to the callbacks (inside the gr.Blocks of the page)."""

    def named(*names: str) -> list:
        return [page[name] for name in names]

    undocumented = {"api_visibility": "undocumented"}  # the page's own events: not in the API
    # the analyses share one concurrency group: the detector already uses every core. An
    # analysis asked for while another of the same kind runs is sent when that one ends, the
    # last one asked for (Gradio's default for a `.then` or a release is "once", which drops
    # it: a file replaced during an analysis then stayed "reading and analysing" for good)
    analysis = {
        "concurrency_id": "analysis",
        "concurrency_limit": config.analysis_concurrency,
        "trigger_mode": "always_last",
    }
    chat = {"concurrency_id": "chat", "concurrency_limit": config.chat_concurrency}

    settings = ("method", "preset", "sensitivity", "spacing", "opacity", "session")
    checked = ("method", "preset", "sensitivity", "spacing", "opacity", "anyway", "session")
    shown = named(*ANALYSIS_OUTPUTS)
    # a file change clears every result at once (outside the analysis queue), then analyses
    page["upload"].change(
        cb.on_file, named("upload", "session"), shown, queue=False, **undocumented
    ).then(cb.on_upload, named("upload", *settings), shown, **analysis, **undocumented)
    # another series of the study: cleared at once too, then read and analysed
    page["series"].input(
        cb.on_series_chosen, named("series", "session"), shown, queue=False, **undocumented
    ).then(cb.on_series, named("series", *settings), shown, **analysis, **undocumented)
    page["slice"].release(cb.on_slice, named("slice", *checked), shown, **analysis, **undocumented)
    page["jump"].input(cb.on_jump, named("jump", *checked), shown, **analysis, **undocumented)
    page["reanalyse"].click(cb.on_reanalyse, named(*checked), shown, **analysis, **undocumented)
    page["spacing"].submit(cb.on_reanalyse, named(*checked), shown, **analysis, **undocumented)
    # the user ticked or unticked it (not when an analysis resets it)
    page["anyway"].input(cb.on_reanalyse, named(*checked), shown, **analysis, **undocumented)
    page["opacity"].release(
        cb.on_opacity, named("opacity", "session"), page["overlay"], **undocumented
    )
    page["method"].change(cb.on_method, page["method"], page["preset"], **undocumented)

    asked = named("question", "chat", "responder", "model", "quant", "session")
    answered = named(*CHAT_OUTPUTS)
    page["question"].submit(cb.on_ask, asked, answered, **chat, **undocumented)
    page["send"].click(cb.on_ask, asked, answered, **chat, **undocumented)
    page["suggestions"].click(
        cb.on_suggestion, page["suggestions"], page["question"], **undocumented
    ).then(cb.on_ask, asked, answered, **chat, **undocumented)

    page["draft_btn"].click(cb.on_draft, page["session"], named(*DRAFT_OUTPUTS), **undocumented)
    page["draft"].blur(
        cb.on_draft_edit, named("draft", "session"), named(*DRAFT_EDIT_OUTPUTS), **undocumented
    )

    page["api_analyze"].click(
        cb.api_analyze,
        named("api_file", "api_slice", "api_anyway", "api_series", "session"),
        named(*API_ANALYZE_OUTPUTS),
        api_name="analyze",
        **analysis,
    )
    page["api_ask"].click(
        cb.api_ask,
        named("api_question", "session"),
        named(*API_ASK_OUTPUTS),
        api_name="ask",
        **chat,
    )
    page["api_draft"].click(
        cb.api_draft, page["session"], named(*API_DRAFT_OUTPUTS), api_name="draft"
    )
