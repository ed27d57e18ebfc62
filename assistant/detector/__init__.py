"""Diffusion anomaly detector: learn the normal to detect the unknown."""

from assistant.detector.detector import Detector
from assistant.detector.methods import PRESETS, MethodConfig, get_config
from assistant.detector.model import DEFAULT_CHECKPOINT, DiffusionModel
from assistant.detector.result import DetectionResult, Finding

__all__ = [
    "DEFAULT_CHECKPOINT",
    "PRESETS",
    "DetectionResult",
    "Detector",
    "DiffusionModel",
    "Finding",
    "MethodConfig",
    "get_config",
]
