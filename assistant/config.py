"""One place that turns settings into a working assistant: used by the app, the CLI and the
evaluation alike.

    from assistant.config import Settings, build_assistant

    bot = build_assistant(Settings(responder="transformers", quantization="4bit"))

`Settings` lists everything that can be chosen, each with a working default (the shipped detector,
the default case library, the offline grounded responder). The builders:

- `build_analyzer(settings)`: the `Analyzer` (detection + retrieval); a named checkpoint or
  library is loaded now, the shared defaults on the first analysis;
- `build_responder(settings)` / `make_responder(name, model, quantization, **generation)`: the
  responder (names, options and environment fallbacks: `assistant.responders.registry`);
- `build_assistant(settings)`: both, as an `assistant.chat.Assistant`;
- `load_detector(settings)` / `load_library(settings)`: the detector / case library, loaded now
  (for the app, which shows what is loaded and turns a missing part off with a note).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.analysis import Analyzer, default_detector, default_index
from assistant.chat import Assistant
from assistant.detector import Detector
from assistant.responders.base import Responder
from assistant.responders.grounded import GroundedResponder
from assistant.responders.registry import choose_responder
from retrieval.index import CaseIndex
from retrieval.library import Library


@dataclass
class Settings:
    """What the assistant loads and how it answers; the defaults work offline."""

    # --- analysis: detection ----------------------------------------------------------------
    detector: str | Path | None = None  # detector checkpoint folder; None: the shipped one
    method: str | None = None  # anomaly method ("thor", "autoddpm", "anoddpm"); None: the
    #                            checkpoint's default
    preset: str | None = None  # speed preset of the method; None: the checkpoint's default
    use_detector: bool = True  # False: no detection (answers say there is no evidence)
    # --- analysis: retrieval ----------------------------------------------------------------
    library: str | Path | None = None  # case library folder (cases/ + knowledge/) or a single
    #                                    case index folder; None: the default library
    use_retrieval: bool = True  # False: no similar cases and no knowledge passages
    k_cases: int = 3  # at most this many similar cases per slice
    k_knowledge: int = 3  # at most this many knowledge passages per slice
    check_domain: bool = True  # applicability check before detection (assistant.domain); off:
    #                            every scan is analysed as if it were in the detector's domain
    whole_volume: bool = True  # a registered volume: also every level the detector knows, as
    #                            3D findings (assistant.volume); off: the trained level's slice
    level_step_mm: float = 2.0  # mm between a volume's levels with a whole-brain detector
    #                             (4: every other level, about half the time)
    # --- answers ----------------------------------------------------------------------------
    responder: str | None = None  # registry.RESPONDERS; None: $ASSISTANT_RESPONDER, else grounded
    model: str | None = None  # model id / folder (transformers) or served name (openai); None:
    #                           $ASSISTANT_MODEL, else the responder's default
    quantization: str | None = None  # registry.QUANTIZATIONS (transformers only); None:
    #                                  $ASSISTANT_QUANTIZATION, else "none"
    generation: dict[str, Any] = field(default_factory=dict)  # LLM options, e.g.
    #                                  {"max_new_tokens": 256} (GenerationSettings fields)
    audit_log: str | Path | None = None  # JSONL audit log of the answers; None: no log

    @property
    def custom_detector(self) -> bool:
        """Whether a checkpoint, method or preset other than the shipped defaults is named."""
        return any(v is not None for v in (self.detector, self.method, self.preset))


# ----------------------------------------------------------------------- analysis


def open_library(path: str | Path) -> Library:
    """A library folder (cases/ + knowledge/), or a single case index folder searched as a
    library without knowledge passages."""
    path = Path(path)
    if (path / "cases" / "index.json").is_file():
        return Library.load(path)
    if (path / "index.json").is_file():
        return Library(CaseIndex.load(path), None, path)
    raise FileNotFoundError(
        f"{path} is neither a case library (cases/index.json) nor a case index (index.json); "
        "build one with `assistant index build`"
    )


def load_detector(settings: Settings) -> Detector | None:
    """The detector, loaded now (None when detection is off). Without a named checkpoint,
    method or preset: the shipped checkpoint, shared by every assistant of the process."""
    if not settings.use_detector:
        return None
    if not settings.custom_detector:
        return default_detector()
    return Detector.from_pretrained(settings.detector, settings.method, settings.preset)


def load_library(settings: Settings) -> Library | None:
    """The case library, loaded now (None when retrieval is off). Without a named folder: the
    default library (built on first use), shared by every assistant of the process."""
    if not settings.use_retrieval:
        return None
    if settings.library is None:
        return default_index()
    return open_library(settings.library)


def build_analyzer(settings: Settings) -> Analyzer:
    """The Analyzer for `settings`: a named checkpoint or library is loaded now, the shipped
    defaults on the first analysis."""
    detector = load_detector(settings) if settings.custom_detector else None
    library = load_library(settings) if settings.library is not None else None
    return Analyzer(
        detector=detector,
        library=library,
        use_detector=settings.use_detector,
        use_retrieval=settings.use_retrieval,
        k_cases=settings.k_cases,
        k_knowledge=settings.k_knowledge,
        check_domain=settings.check_domain,
        whole_volume=settings.whole_volume,
        level_step_mm=settings.level_step_mm,
    )


# ----------------------------------------------------------------------- answers


def make_responder(
    name: str | None = None,
    model: str | None = None,
    quantization: str | None = None,
    **generation: Any,
) -> Responder:
    """The responder `name` (validated, with the environment fallbacks of
    `assistant.responders.registry.choose_responder`); heavy modules are imported only for the
    responder asked for."""
    choice = choose_responder(name, model, quantization, **generation)
    if choice.name == "grounded":
        return GroundedResponder()
    if choice.name == "transformers":
        from assistant.responders.transformers_vlm import TransformersResponder  # torch

        return TransformersResponder(
            choice.model, quantization=choice.quantization, **choice.generation
        )
    from assistant.responders.openai_compat import OpenAICompatResponder

    return OpenAICompatResponder(choice.model, **choice.generation)


def build_responder(settings: Settings) -> Responder:
    return make_responder(
        settings.responder, settings.model, settings.quantization, **settings.generation
    )


def build_assistant(settings: Settings, with_responder: bool = True) -> Assistant:
    """The Assistant for `settings`. with_responder=False: the analysis only (e.g. for a draft
    report), answering with the default grounded responder if asked."""
    return Assistant(
        responder=build_responder(settings) if with_responder else None,
        audit_log=settings.audit_log,
        analyzer=build_analyzer(settings),
    )
