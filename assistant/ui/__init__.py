"""Non-UI helpers of the Gradio app (`app.py`): configuration, process-wide models, views.

- `assistant.ui.config`: `AppConfig` from command-line flags and `ASSISTANT_*` variables.
- `assistant.ui.engine`: `Engine`, the detector / case library / responders loaded once per
  process, and the per-session `Session`.
- `assistant.ui.views`: images, tables and texts the app shows (testable without a browser).
"""

from assistant.ui.config import AppConfig, parse_config
from assistant.ui.engine import Engine, Session

__all__ = ["AppConfig", "Engine", "Session", "parse_config"]
