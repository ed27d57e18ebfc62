"""Tiny random VLMs with real processors, saved like a hub checkpoint (tests and benchmarks).

`tiny_vlm(path, "gemma3")` writes a `Gemma3ForConditionalGeneration` (MedGemma's class) and
`tiny_vlm(path, "llava")` a `LlavaForConditionalGeneration`, each with a word-level tokenizer
(with the model's image tokens and a chat template) and the model's own image processor class at
32x32 pixels, so that `AutoModelForImageTextToText.from_pretrained(path)` and
`AutoProcessor.from_pretrained(path)` load them exactly like a downloaded checkpoint. Widths are
at least 64 because bitsandbytes 4-bit fails on narrower linear layers. The weights are random:
the text they generate is meaningless (special tokens are suppressed in the generation config, so
it is always `max_new_tokens` words), only the code path is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

Architecture = Literal["gemma3", "llava"]

# Words of the prompts and answers, so that tokenization is not all <unk>.
_WORDS = (
    "the a an is are of and or in on to what where how big which side left right lesion scan "
    "image finding findings evidence question answer not enough no yes region area mm confidence "
    "detector similar case cases knowledge hyperintense hypointense anterior posterior central "
    "peripheral draft report technique impression research assistant USER ASSISTANT SYSTEM "
    "BEGIN END EVIDENCE QUOTED DATA Ignore previous instructions . , ? : ; ( ) [ ] = F1 F2 C1 "
    "C2 K1 K2"
).split()

_GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>"
    "{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<start_of_image>{% elif c['type'] == 'text' %}{{ c['text'] }}"
    "{% endif %}{% endfor %}{% endif %}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
# Llava-style template without a system role: the responder folds the system prompt in.
_LLAVA_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{{ m['role'].upper() }}: {% if m['content'] is string %}{{ m['content'] }}{% else %}"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>\n{% elif c['type'] == 'text' %}"
    "{{ c['text'] }}{% endif %}{% endfor %}{% endif %}{{ eos_token if m['role'] == 'assistant' }}\n"
    "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


@dataclass
class TinyVLM:
    """Where a tiny model was saved and the numbers tests check against."""

    path: Path
    architecture: Architecture
    image_token_id: int
    image_tokens_per_image: int  # placeholder tokens one image expands to in input_ids
    vocab_size: int


def _tokenizer(specials: list[str], extra: dict[str, str], template: str, vocab_words: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = list(dict.fromkeys(_WORDS + [f"w{i}" for i in range(max(0, vocab_words))]))
    vocab = {tok: i for i, tok in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tok.decoder = decoders.WordPiece(prefix="##")  # joins tokens with spaces
    tok.add_special_tokens(specials)  # split out of words, skipped when decoding
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_special_tokens=extra,
        chat_template=template,
    )
    return fast, vocab


def tiny_vlm(
    path: str | Path,
    architecture: Architecture = "gemma3",
    hidden_size: int = 64,
    num_layers: int = 2,
    vocab_words: int = 0,
    seed: int = 0,
) -> TinyVLM:
    """Build, save and describe a tiny random VLM + processor in `path` (~1 MB at width 64).

    hidden_size: text and vision width (>= 64 for 4-bit); num_layers: text decoder layers;
    vocab_words: extra filler words to enlarge the vocabulary (benchmarks).
    """
    if hidden_size < 64:
        raise ValueError(f"hidden_size must be >= 64 (bitsandbytes 4-bit), got {hidden_size}")
    builders = {"gemma3": _gemma3, "llava": _llava}
    path = Path(path)
    torch.manual_seed(seed)
    vision = dict(
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    text = dict(
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=hidden_size // 2,
        max_position_embeddings=4096,
    )
    if architecture not in builders:
        raise ValueError(f"architecture must be 'gemma3' or 'llava', got {architecture!r}")
    built = builders[architecture](vision, text, num_layers, vocab_words)
    model, processor, vocab = built.model, built.processor, built.vocab
    model.generation_config.pad_token_id = vocab["<pad>"]
    model.generation_config.eos_token_id = vocab["<eos>"]
    # A random model would emit special tokens (invisible after decoding) or stop at once:
    # suppress them so that it always writes max_new_tokens visible words.
    model.generation_config.suppress_tokens = [vocab[t] for t in built.specials]
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return TinyVLM(path, architecture, vocab[built.image_token], built.tokens_per_image, len(vocab))


@dataclass
class _Built:
    """A freshly initialised tiny model with its processor and vocabulary."""

    model: Any
    processor: Any
    vocab: dict[str, int]
    specials: list[str]
    image_token: str
    tokens_per_image: int


def _gemma3(vision: dict, text: dict, num_layers: int, vocab_words: int) -> _Built:
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessorPil,
        Gemma3Processor,
    )

    specials = [
        "<pad>",
        "<eos>",
        "<bos>",
        "<unk>",
        "<start_of_turn>",
        "<end_of_turn>",
        "<start_of_image>",
        "<end_of_image>",
        "<image_soft_token>",
    ]
    extra = {
        "boi_token": "<start_of_image>",
        "eoi_token": "<end_of_image>",
        "image_token": "<image_soft_token>",
    }
    tokenizer, vocab = _tokenizer(specials, extra, _GEMMA_TEMPLATE, vocab_words)
    tokens_per_image = 4  # 32 px / 8 px patches = 4x4, average-pooled to 2x2
    processor = Gemma3Processor(
        image_processor=Gemma3ImageProcessorPil(size={"height": 32, "width": 32}),
        tokenizer=tokenizer,
        chat_template=_GEMMA_TEMPLATE,
        image_seq_length=tokens_per_image,
    )
    layer_types = ["sliding_attention", "full_attention"] * ((num_layers + 1) // 2)
    config = Gemma3Config(
        text_config=dict(
            text,
            vocab_size=len(vocab),
            sliding_window=128,
            layer_types=layer_types[:num_layers],
        ),
        vision_config=vision,
        mm_tokens_per_image=tokens_per_image,
        boi_token_index=vocab["<start_of_image>"],
        eoi_token_index=vocab["<end_of_image>"],
        image_token_index=vocab["<image_soft_token>"],
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<eos>"],
        bos_token_id=vocab["<bos>"],
    )
    model = Gemma3ForConditionalGeneration(config)
    return _Built(model, processor, vocab, specials, "<image_soft_token>", tokens_per_image)


def _llava(vision: dict, text: dict, num_layers: int, vocab_words: int) -> _Built:
    from transformers import (
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaImageProcessorPil,
        LlavaProcessor,
    )

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
    tokenizer, vocab = _tokenizer(
        specials, {"image_token": "<image>"}, _LLAVA_TEMPLATE, vocab_words
    )
    tokens_per_image = (32 // 8) ** 2  # CLS dropped by the "default" feature strategy
    processor = LlavaProcessor(
        image_processor=LlavaImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
        chat_template=_LLAVA_TEMPLATE,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    config = LlavaConfig(
        vision_config=dict(
            vision, model_type="clip_vision_model", projection_dim=text["hidden_size"]
        ),
        text_config=dict(text, model_type="llama", vocab_size=len(vocab)),
        image_token_index=vocab["<image>"],
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        image_seq_length=tokens_per_image,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<eos>"],
        bos_token_id=vocab["<bos>"],
    )
    model = LlavaForConditionalGeneration(config)
    return _Built(model, processor, vocab, specials, "<image>", tokens_per_image)
