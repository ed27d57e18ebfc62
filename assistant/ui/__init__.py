"""The Gradio app (`app.py` builds and launches it), one concern per module:

- `assistant.ui.config`: `AppConfig` from command-line flags and `ASSISTANT_*` variables.
- `assistant.ui.engine`: `Engine`, the detector / case library / responders loaded once per
  process, and the per-session `Session`.
- `assistant.ui.layout`: the page (components by name) and which event calls which callback.
- `assistant.ui.callbacks`: what each event does (`Callbacks`; outputs returned by name),
  failures turned into readable messages; callable without a browser.
- `assistant.ui.views`: images, tables and texts the app shows (no gradio; plain data).

Only `layout` and `callbacks` import gradio; this package's top level does not.
"""

from assistant.ui.config import AppConfig, parse_config
from assistant.ui.engine import Engine, Session

__all__ = ["AppConfig", "Engine", "Session", "parse_config"]
