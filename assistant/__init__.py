"""Explainable anomaly Q&A assistant for medical scans.

Research use only: this software is not a medical device and must not be used for diagnosis.
"""

import logging
import os

__version__ = "0.1.0"

# Nothing is fetched from the Hugging Face Hub at run time: models load from files that ship in
# packages or that the user downloaded (`local_files_only`). bitsandbytes, which diffusers and
# transformers import, asks the Hub at import (on CPUs with AVX512-BF16) for an optional CPU
# 4-bit kernel through the `kernels` package; offline it looks in the local cache only. Set
# before any Hugging Face library is imported; an explicit HF_HUB_OFFLINE=0 is kept.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _DropKernelsHubHint(logging.Filter):
    """bitsandbytes logs, at import (which diffusers and transformers trigger whether or not a
    model is quantized), that it could not load an optional faster CPU 4-bit kernel and that
    `pip install kernels` would fix it; that package fetches kernels from the Hugging Face Hub
    at run time, which this project never does. 4-bit/8-bit inference works without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to load CPU gemm_4bit_forward")


class _DropOfflineTrustNote(logging.Filter):
    """`kernels` warns, offline, that it skips the Hub's publisher check for that kernel: it is
    not used (not in the cache), so the warning says nothing about this project's run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Skipping publisher trust check for 'kernels-")


logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_DropKernelsHubHint())
logging.getLogger("kernels._internals.hf_hub").addFilter(_DropOfflineTrustNote())

DISCLAIMER = (
    "Research use only: not a medical device. Findings are produced by an anomaly detector "
    "trained on healthy scans and must be reviewed by a qualified clinician."
)
