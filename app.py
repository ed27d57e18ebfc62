"""The chat app (Gradio): upload a scan, see what the detector found, ask about it.

    python app.py                          # http://127.0.0.1:7860, offline grounded responder
    python app.py --responder transformers --model google/medgemma-4b-it --quantization 4bit
    python app.py --responder openai --model my-served-model   # OPENAI_BASE_URL=...

Flags and their `ASSISTANT_*` / `GRADIO_SERVER_*` variables: `assistant.ui.config`. This file
only builds, launches and runs the app; the rest is in `assistant.ui`: `engine` (the models,
loaded once), `layout` (the page), `callbacks` (what each event does), `views` (what is shown).

Named API endpoints (gradio_client), with per-client session state:
- `/analyze` (file, slice_index=-1 for the detector's choice, anyway=False, series=-1) ->
  (analysis JSON, heatmap overlay image, pseudo-healthy image); the JSON carries the
  applicability check ("applicability", "in_domain"): a scan outside the detector's domain gets
  no findings (and no images) unless analysed with anyway=True, and then "unreliable" is true;
  "file" names the file, "sizes" says whether sizes are mm² or pixels of the original image.
  Of a study's several DICOM series (a .zip), the pre-contrast T1 one is read, or with series=N
  the one whose Series Number is N; "series" lists them, with why each header rules a series
  out, and which was loaded. A failed call forgets the client's previous analysis.
- `/ask` (question) -> (answer text, answer JSON with the cited evidence, "file" and
  "slice_index"); streamed, and the conversation continues across calls of the same client
- `/draft` () -> (Markdown, JSON, FHIR DiagnosticReport JSON) of the analysed slice
"""

from __future__ import annotations

import os

# before gradio is imported: no analytics or version check, no hub access at start-up
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import logging  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from assistant.examples import EXAMPLES_DIR  # noqa: E402
from assistant.ui.config import AppConfig, parse_config  # noqa: E402
from assistant.ui.engine import Engine  # noqa: E402
from assistant.ui.layout import CSS, JS, THEME, build_blocks  # noqa: E402

logger = logging.getLogger("assistant.app")


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
    demo = build_blocks(engine, config)
    demo.engine = engine  # for tests and the benchmark
    demo.queue(default_concurrency_limit=config.chat_concurrency, max_size=config.max_queue)
    return demo


def launch(demo: gr.Blocks, config: AppConfig, **kwargs: Any):
    """Launch `demo` as `config` says (host, port, upload size limit); returns launch()'s
    (app, local_url, share_url)."""
    return demo.launch(
        server_name=config.host,
        server_port=config.port,
        max_file_size=config.max_file_size,
        allowed_paths=[str(EXAMPLES_DIR)],
        show_error=False,
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        js=JS,
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
