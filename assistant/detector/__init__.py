"""Diffusion anomaly detector: learn the normal to detect the unknown."""

from assistant.detector.detector import Detector
from assistant.detector.methods import PRESETS, MethodConfig, get_config
from assistant.detector.model import DEFAULT_CHECKPOINT, DiffusionModel
from assistant.detector.postprocess import PostProcess
from assistant.detector.result import DetectionResult

__all__ = [
    "DEFAULT_CHECKPOINT",
    "PRESETS",
    "DetectionResult",
    "Detector",
    "DiffusionModel",
    "MethodConfig",
    "PostProcess",
    "get_config",
]
