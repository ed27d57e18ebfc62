"""A vision-language model run in-process with transformers (optionally quantized with bitsandbytes).

Any `AutoModelForImageTextToText` checkpoint with an `AutoProcessor` works: a hub id already in
the local cache or a local folder. Recommended: `google/medgemma-4b-it` (Gemma 3, 4B, medical;
about 3 GB of GPU memory in 4-bit). Gemma3, Llava, Idefics3 and PaliGemma processors work
without extras; Qwen2-VL/Qwen2.5-VL (and Lingshu) processors need torchvision.

Nothing is downloaded at run time (`local_files_only=True`); fetch a model ahead of time with
`hf download google/medgemma-4b-it` (older hubs: `huggingface-cli download ...`; MedGemma is
gated: accept its licence on the hub and `hf auth login` first).

Quantization (`BitsAndBytesConfig`):
- "none": bf16 on a GPU that supports it (else fp16), float32 on CPU.
- "4bit": NF4 with double quantization; compute dtype bf16 where the GPU/CPU supports it, else
  fp16 on GPUs and float32 on CPUs (see `compute_dtype`, measured by eval/bench_responders.py).
- "8bit": LLM.int8() with the model loaded in float16 (float32 modules make bitsandbytes warn
  about a cast on every matmul).
The vision tower, the multimodal projector and `lm_head` stay unquantized
(`llm_int8_skip_modules` with full module paths derived from the model class, see
`unquantized_modules`): MedGemma is reported to produce gibberish with a quantized vision tower.

The model is loaded once per process and shared (`load_vlm` caches by (model, quantization,
device)). The scan slice and the anomaly-heatmap overlay reach the model as PIL images through the
processor's chat template; `stream` yields text from a `TextIteratorStreamer` fed by `generate`
in a thread, and `generate_batch` answers many questions at once for evaluation.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from assistant.evidence import Evidence, Message
from assistant.prompts import ChatPrompt, Task, build_prompt
from assistant.responders.intents import Resolved
from assistant.responders.llm_common import (
    GenerationSettings,
    LLMResponder,
    ResponderError,
    evidence_images,
)
from assistant.responders.registry import QUANTIZATIONS, Quantization

logger = logging.getLogger(__name__)

RECOMMENDED_MODEL = "google/medgemma-4b-it"

# Last path component of modules that stay unquantized: vision encoders, multimodal projectors /
# connectors and the output head (names used by Gemma3, PaliGemma, Llava, Idefics3, Qwen2-VL).
UNQUANTIZED_NAMES = frozenset(
    {
        "vision_tower",
        "vision_model",
        "visual",
        "vision_encoder",
        "image_encoder",
        "multi_modal_projector",
        "mm_projector",
        "connector",
        "lm_head",
    }
)


@dataclass
class LoadedVLM:
    """A model and its processor, loaded once per (model, quantization, device)."""

    model: Any  # transformers PreTrainedModel (AutoModelForImageTextToText)
    processor: Any  # transformers ProcessorMixin
    model_id: str
    quantization: Quantization
    device: str
    dtype: torch.dtype
    unquantized: list[str]
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)  # one generate at a time


_CACHE: dict[tuple[str, str, str, str], LoadedVLM] = {}  # (model, quantization, device, dtype)
_CACHE_LOCK = threading.Lock()


def resolve_device(device: str | None = None) -> str:
    """ "auto"/None -> "cuda" when available, else "cpu"; a CUDA request without CUDA fails."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ResponderError(
            f"device {device!r} requested but CUDA is not available (torch {torch.__version__}); "
            "use device='cpu' or 'auto'"
        )
    return device


def compute_dtype(device: str) -> torch.dtype:
    """Compute dtype for 4-bit layers: bf16 where the hardware supports it, else fp16 (GPU) or
    float32 (CPU). Both bf16 and float32 run on this CPU (avx512_bf16) at the same speed within
    noise (eval/bench_responders.py), so bf16 is kept wherever oneDNN reports bf16 support."""
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if _cpu_bf16_supported() else torch.float32


def _cpu_bf16_supported() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # private op; absent in some builds
        return False


def model_dtype(quantization: Quantization, device: str) -> torch.dtype:
    """dtype of the (unquantized) weights for each mode (see the module docstring)."""
    if quantization == "8bit":
        return torch.float16
    if quantization == "4bit":
        return compute_dtype(device)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def unquantized_modules(config: Any) -> list[str]:
    """Full paths of the modules to keep unquantized, read from the model class built on `meta`.

    Returns the top-most modules named like a vision encoder, projector or `lm_head` (see
    `UNQUANTIZED_NAMES`), e.g. Gemma3 -> ["model.vision_tower", "model.multi_modal_projector",
    "lm_head"], Idefics3 -> ["model.vision_model", "model.connector", "lm_head"].
    """
    from accelerate import init_empty_weights
    from transformers import AutoModelForImageTextToText

    with init_empty_weights():
        skeleton = AutoModelForImageTextToText.from_config(config)
    names = [n for n, _ in skeleton.named_modules() if n.rsplit(".", 1)[-1] in UNQUANTIZED_NAMES]
    top = [n for n in names if not any(n.startswith(o + ".") for o in names if o != n)]
    if not any(n.rsplit(".", 1)[-1] != "lm_head" for n in top):
        logger.warning(
            "found no vision tower/projector in %s; only %s stays unquantized",
            type(skeleton).__name__,
            top,
        )
    return top


def check_quantization(quantization: str, device: str) -> None:
    """Raise ResponderError when `quantization` cannot run on `device` with this bitsandbytes.

    Besides the import, one tiny quantized layer is built and run on `device` (cached per
    (quantization, device)), so a platform without support fails here with a clear message
    instead of deep inside `from_pretrained` or `generate`.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if quantization == "none":
        return
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ResponderError(
            f"{quantization} quantization needs bitsandbytes: pip install bitsandbytes "
            "(or use quantization='none')"
        ) from exc
    _probe_bitsandbytes(quantization, device)


@functools.lru_cache(maxsize=8)
def _probe_bitsandbytes(quantization: str, device: str) -> None:
    import bitsandbytes as bnb

    try:
        if quantization == "8bit":
            layer = bnb.nn.Linear8bitLt(64, 64, has_fp16_weights=False).to(torch.float16)
            x = torch.randn(2, 64, dtype=torch.float16)
        else:
            dtype = compute_dtype(device)
            layer = bnb.nn.Linear4bit(64, 64, compute_dtype=dtype, quant_type="nf4")
            x = torch.randn(2, 64, dtype=dtype)
        layer = layer.to(device)  # quantizes the weight on the target device
        layer(x.to(device))
    except Exception as exc:  # any backend failure means: this mode cannot run here
        raise ResponderError(
            f"bitsandbytes {bnb.__version__} cannot run {quantization} quantization on "
            f"{device} ({type(exc).__name__}: {exc}); use quantization='none', another "
            "mode, or a CUDA GPU"
        ) from exc


def _load_error_hint(model_id: str) -> str:
    return (
        f"model {model_id!r} is not a local folder and is not in the Hugging Face cache "
        "(nothing is downloaded at run time). Download it ahead of time, e.g. "
        f"`hf download {model_id}` (older hubs: `huggingface-cli download {model_id}`; gated "
        "models such as google/medgemma-4b-it need `hf auth login` and an accepted licence), "
        "or pass a local folder with config.json, the weights and the processor files"
    )


def bnb_config(quantization: Quantization, dtype: torch.dtype, skip: list[str]) -> Any:
    """The `BitsAndBytesConfig` of a quantization mode ("4bit": NF4 with double quantization and
    compute dtype `dtype`; "8bit": LLM.int8()); the modules in `skip` stay unquantized."""
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
            llm_int8_skip_modules=skip,
        )
    return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)


def load_vlm(
    model_id: str = RECOMMENDED_MODEL,
    quantization: Quantization = "none",
    device: str | None = None,
    dtype: torch.dtype | None = None,
) -> LoadedVLM:
    """Load (once per process) a VLM and its processor from a local folder or the local cache.

    device: "auto"/None (CUDA when available, else CPU), "cpu", "cuda", "cuda:1", ...; on
    CUDA the weights are placed with `device_map="auto"`. dtype: overrides `model_dtype` (and,
    for 4-bit, the compute dtype), e.g. torch.float32 to compare 4-bit compute dtypes on CPU.
    """
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    device = resolve_device(device)
    check_quantization(quantization, device)
    key = (str(model_id), quantization, device, str(dtype))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        looks_local = Path(model_id).is_absolute() or str(model_id).startswith((".", "~"))
        if looks_local and not Path(model_id).expanduser().is_dir():
            raise ResponderError(f"model folder {model_id!r} does not exist")
        source = str(Path(model_id).expanduser()) if looks_local else str(model_id)
        start = time.perf_counter()
        try:
            config = AutoConfig.from_pretrained(source, local_files_only=True)
            processor = AutoProcessor.from_pretrained(source, local_files_only=True)
        except OSError as exc:
            raise ResponderError(_load_error_hint(model_id)) from exc
        dtype = dtype or model_dtype(quantization, device)
        kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
        kwargs["device_map"] = "auto" if device == "cuda" else device
        skip: list[str] = []
        if quantization != "none":
            skip = unquantized_modules(config)
            kwargs["quantization_config"] = bnb_config(quantization, dtype, skip)
        try:
            model = AutoModelForImageTextToText.from_pretrained(source, **kwargs)
        except OSError as exc:
            raise ResponderError(_load_error_hint(model_id)) from exc
        except (RuntimeError, ValueError, ImportError, NotImplementedError) as exc:
            if quantization == "none":
                raise
            raise ResponderError(
                f"loading {model_id!r} in {quantization} on {device} failed: {exc}; "
                "use quantization='none' or a CUDA GPU"
            ) from exc
        model.eval()
        tokenizer = getattr(processor, "tokenizer", processor)
        tokenizer.padding_side = "left"  # decoder-only batches are padded on the left
        loaded = LoadedVLM(
            model,
            processor,
            str(model_id),
            quantization,
            device,
            dtype,
            skip,
            time.perf_counter() - start,
        )
        logger.info(
            "loaded %s (%s, %s, %s) in %.1f s; unquantized: %s",
            type(model).__name__,
            quantization,
            device,
            dtype,
            loaded.load_seconds,
            skip,
        )
        _CACHE[key] = loaded
        return loaded


def clear_cache() -> None:
    """Forget all loaded models (tests, or to free memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def chat_messages(prompt: ChatPrompt, images: list[Image.Image]) -> list[dict]:
    """Role/content messages for `processor.apply_chat_template`; images in the last user turn."""
    text = lambda s: [{"type": "text", "text": s}]  # noqa: E731
    messages = [{"role": "system", "content": text(prompt.system)}]
    messages += [{"role": m.role, "content": text(m.content)} for m in prompt.turns]
    last = [{"type": "image", "image": im} for im in images] + text(prompt.user)
    return messages + [{"role": "user", "content": last}]


def _without_system(messages: list[dict]) -> list[dict]:
    """Fold the system prompt into the first user turn (templates without a system role)."""
    system, rest = messages[0], [dict(m) for m in messages[1:]]
    first = next(m for m in rest if m["role"] == "user")
    first["content"] = system["content"] + list(first["content"])
    return rest


class _StopOnEvent:
    """A StoppingCriteria that ends generation when the consumer stops reading the stream."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


class TransformersResponder(LLMResponder):
    """Answers with an in-process VLM; see the module docstring for models and quantization."""

    name = "transformers"

    def __init__(
        self,
        model: str | None = None,
        quantization: Quantization = "none",
        device: str | None = None,
        dtype: torch.dtype | None = None,
        stream_timeout: float | None = 600.0,
        **generation: Any,
    ) -> None:
        """Load (or reuse) the model; device and dtype as in `load_vlm`. `generation`:
        GenerationSettings fields (max_new_tokens, do_sample, temperature, top_p);
        `stream_timeout`: seconds to wait for the next token."""
        self.model = model or RECOMMENDED_MODEL
        self.settings = GenerationSettings(**generation)
        self.stream_timeout = stream_timeout
        self.vlm = load_vlm(self.model, quantization, device, dtype)
        self.quantization = quantization

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for answers and audit logs."""
        return {
            "responder": self.name,
            "model": self.model,
            "quantization": self.quantization,
            "device": self.vlm.device,
            "dtype": str(self.vlm.dtype),
            "generation": asdict(self.settings),
        }

    def _inputs(self, conversations: list[list[dict]]) -> Any:
        """Tokenize conversations (and their images) with the processor's chat template."""
        import jinja2

        processor = self.vlm.processor
        kwargs: dict[str, Any] = dict(
            add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        params = inspect.signature(processor.apply_chat_template).parameters
        if "sanitize_control_tokens" in params:  # transformers 5: text can't write control tokens
            kwargs["sanitize_control_tokens"] = True
        if "processor_kwargs" in params:
            kwargs["processor_kwargs"] = {"padding": len(conversations) > 1}
        else:
            kwargs["padding"] = len(conversations) > 1
        batch = conversations if len(conversations) > 1 else conversations[0]
        try:
            inputs = processor.apply_chat_template(batch, **kwargs)
        except jinja2.TemplateError as exc:  # e.g. "System role not supported"
            logger.debug("chat template rejected the system role (%s); folding it in", exc)
            folded = [_without_system(c) for c in conversations]
            inputs = processor.apply_chat_template(
                folded if len(folded) > 1 else folded[0], **kwargs
            )
        return inputs.to(self.vlm.model.device, dtype=self.vlm.dtype)

    def _generate_kwargs(self) -> dict[str, Any]:
        tokenizer = getattr(self.vlm.processor, "tokenizer", self.vlm.processor)
        pad = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        return {**self.settings.generate_kwargs(), "pad_token_id": pad}

    def stream(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
        *,
        resolved: Resolved | None = None,
    ) -> Iterator[str]:
        """Yield answer text chunks as they are generated (citations not yet validated);
        `resolved` is not needed (the model reads the question itself)."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        prompt = build_prompt(question, evidence, history, task)
        inputs = self._inputs([chat_messages(prompt, evidence_images(evidence))])
        tokenizer = getattr(self.vlm.processor, "tokenizer", self.vlm.processor)
        streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.stream_timeout
        )
        stop = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self.vlm.lock, torch.inference_mode():
                    self.vlm.model.generate(
                        **inputs,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_StopOnEvent(stop)]),
                        **self._generate_kwargs(),
                    )
            except BaseException as exc:  # re-raised in the consumer thread below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, name="vlm-generate", daemon=True)
        thread.start()
        try:
            for chunk in streamer:
                if chunk:
                    yield chunk
        finally:
            stop.set()  # the consumer stopped early or finished: end generation
            thread.join()
        if errors:
            raise ResponderError(f"generation with {self.model} failed: {errors[0]}") from errors[0]

    def generate_batch(
        self,
        questions: list[str],
        evidences: list[Evidence],
        histories: list[list[Message]] | None = None,
        task: Task = "answer",
        batch_size: int = 8,
    ) -> list[str]:
        """Answer many questions (one evidence each) in padded batches; returns raw texts."""
        if len(questions) != len(evidences):
            raise ValueError(f"got {len(questions)} questions but {len(evidences)} evidences")
        histories = histories or [[] for _ in questions]
        tokenizer = getattr(self.vlm.processor, "tokenizer", self.vlm.processor)
        answers: list[str] = []
        for start in range(0, len(questions), batch_size):
            chunk = range(start, min(start + batch_size, len(questions)))
            conversations = [
                chat_messages(
                    build_prompt(questions[i], evidences[i], histories[i], task),
                    evidence_images(evidences[i]),
                )
                for i in chunk
            ]
            inputs = self._inputs(conversations)
            with self.vlm.lock, torch.inference_mode():
                out = self.vlm.model.generate(**inputs, **self._generate_kwargs())
            new = out[:, inputs["input_ids"].shape[1] :]  # left padding: prompts end together
            answers += tokenizer.batch_decode(new, skip_special_tokens=True)
        return [a.strip() for a in answers]
