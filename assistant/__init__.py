"""Explainable anomaly Q&A assistant for medical scans.

Research use only: this software is not a medical device and must not be used for diagnosis.
"""

import logging

__version__ = "0.1.0"


class _DropKernelsHubHint(logging.Filter):
    """bitsandbytes logs, at import (which diffusers and transformers trigger whether or not a
    model is quantized), that it could not load an optional faster CPU 4-bit kernel and that
    `pip install kernels` would fix it; that package fetches kernels from the Hugging Face Hub
    at run time, which this project never does. 4-bit/8-bit inference works without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to load CPU gemm_4bit_forward")


logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_DropKernelsHubHint())

DISCLAIMER = (
    "Research use only: not a medical device. Findings are produced by an anomaly detector "
    "trained on healthy scans and must be reviewed by a qualified clinician."
)
