"""The settings of one QA evaluation run (`QARunConfig`) and the ablation variants."""

from __future__ import annotations

from dataclasses import asdict, dataclass

VARIANTS = {  # name -> (no_image, no_retrieval, no_detector)
    "full": (False, False, False),
    "no-image": (True, False, False),
    "no-retrieval": (False, True, False),
    "no-detector": (False, False, True),
}
# keys of run.json that must match for a rerun to resume into the same folder
_IDENTITY = (
    "benchmark",
    "format",
    "images",
    "responder",
    "model",
    "quantization",
    "max_new_tokens",
    "no_image",
    "no_retrieval",
    "no_detector",
    "no_domain_check",
    "detector",
    "method",
    "preset",
)


@dataclass
class QARunConfig:
    """One evaluation run. Paths are stored as given (strings) so run.json stays portable."""

    benchmark: str
    format: str
    images: str
    out: str
    responder: str = "grounded"
    model: str | None = None  # model id/path for transformers and openai responders
    quantization: str | None = None  # "none", "8bit", "4bit" (transformers); None: environment
    max_new_tokens: int | None = None  # generation length (model responders; None: default)
    limit: int | None = None  # the first N questions of the benchmark (in file order)
    no_image: bool = False
    no_retrieval: bool = False
    no_detector: bool = False
    # analyse every image even when the applicability check (assistant.domain) refuses it
    no_domain_check: bool = False
    detector: str | None = None  # detector checkpoint (None: the assistant's default)
    method: str | None = None  # anomaly method (thor, autoddpm, anoddpm; None: checkpoint's)
    preset: str | None = None  # the method's preset (None: the checkpoint's default)
    batch_size: int = 8  # questions per batched generation call (transformers responders)
    n_boot: int = 1000  # bootstrap resamples for the 95% intervals
    seed: int = 0  # bootstrap seed

    @property
    def variant(self) -> str:
        flags = [
            name
            for name, on in (
                ("no-image", self.no_image),
                ("no-retrieval", self.no_retrieval),
                ("no-detector", self.no_detector),
            )
            if on
        ]
        return "+".join(flags) or "full"

    def identity(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in _IDENTITY}
