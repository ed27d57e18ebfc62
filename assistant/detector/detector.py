"""`Detector`: scan in, `DetectionResult` out."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from assistant.detector.data import prepare_slice
from assistant.detector.levels import is_level_aware
from assistant.detector.methods import MethodConfig, get_config, run_method
from assistant.detector.model import Calibration, DiffusionModel, cpu_has_bf16
from assistant.detector.postprocess import (
    ConfidenceMap,
    PostProcess,
    describe_regions,
    min_area_for,
)
from assistant.detector.result import DetectionResult
from assistant.findings import side_frame
from assistant.preprocess import GridInfo

log = logging.getLogger(__name__)


# the calibration spaces (`Detector.space`): slices on the training grid (MNI-registered), and
# 2D slices as uploaded (native space: not registered, often tilted against the training plane)
REGISTERED = "registered"
UNREGISTERED = "unregistered"
VOLUME = "volume"  # every analysable level of a registered volume, judged as one volume
SPACES = (REGISTERED, UNREGISTERED, VOLUME)


class Detector:
    """A trained diffusion model, an anomaly method and its calibrated thresholds.

    Post-processing (part of the method): maps are smoothed (method `sigma`) and zeroed outside
    the foreground. The image score is the map's maximum over the foreground. The mask is a
    hysteresis thresholding with both calibrated thresholds: connected regions above the pixel
    threshold are kept when their peak reaches the image-score threshold and they cover at least
    `MIN_AREA_GRID` model-grid pixels; so an image has findings exactly when its score is above
    the image threshold (unless the region is too small). Each region is trimmed to where the
    map reaches `RELATIVE_CORE` of its own peak (`assistant.detector.postprocess`). Chosen on
    validation data (eval/sweep_detector.py): median healthy flagged fraction 0 instead of 0.05 at the same
    Dice, and max-score image AUROC at least that of the 99.5% quantile.
    """

    def __init__(
        self,
        model: DiffusionModel,
        method: MethodConfig,
        preset: str = "custom",
        autocast: bool | None = None,
        space: str = REGISTERED,
    ):
        self.model = model
        self.method = method
        self.preset = preset
        if space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got {space!r}")
        self.space = space
        if autocast is None:
            autocast = model.device.type == "cuda" or cpu_has_bf16()
        self.autocast = autocast
        if model.device.type == "cpu":  # measured: about 20% faster convolutions on CPU
            model.unet.to(memory_format=torch.channels_last)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        method: str | None = None,
        preset: str | None = None,
        device: str = "cpu",
        autocast: bool | None = None,
        **overrides,
    ) -> Detector:
        """Load a checkpoint folder (None: the shipped default) with a method and preset
        (None: the checkpoint's default). `overrides` replace MethodConfig fields."""
        model = DiffusionModel.load(path, device=device)
        name = method or model.config.default_method
        preset = preset or (
            model.config.default_preset if name == model.config.default_method else "fast"
        )
        label = preset if not overrides else f"{preset}+custom"
        if name == model.config.default_method and preset == model.config.default_preset:
            overrides = {**model.config.default_overrides, **overrides}
        if "guidance_ts" in overrides:
            overrides["guidance_ts"] = tuple(overrides["guidance_ts"])
        cfg = get_config(name, preset, **overrides)
        return cls(model, cfg, preset=label, autocast=autocast)

    @property
    def level_aware(self) -> bool:
        """Whether the UNet is conditioned on the slice's MNI level (`detect_batch(levels=)`)."""
        return is_level_aware(self.model.unet)

    @property
    def key(self) -> str:
        return f"{self.method.name}/{self.preset}"

    @property
    def calibration_key(self) -> str:
        """The calibration this detector applies: "method/preset" for slices on the training
        grid (registered to MNI space), "method/preset+unregistered" for other 2D slices when
        the checkpoint has one (thresholds that include real native-space slices, see
        `eval.native2d`), "method/preset+volume" for the levels of a registered volume when the
        checkpoint has one (the score threshold on each healthy volume's highest score over those
        levels, `assistant.volume.calibrate.calibrate_slab`), else "method/preset"."""
        if self.space in (UNREGISTERED, VOLUME):
            own = f"{self.key}+{self.space}"
            if own in self.model.config.calibration:
                return own
        return self.key

    @property
    def calibration(self) -> Calibration | None:
        return self.model.config.calibration.get(self.calibration_key)

    def in_space(self, space: str) -> Detector:
        """The same detector (model, method, preset) applying the calibration of `space`:
        "registered" (on the training grid), "unregistered" (a native 2D slice) or "volume"
        (the levels of a registered volume)."""
        return Detector(self.model, self.method, self.preset, self.autocast, space=space)

    def with_method(self, method: str, preset: str = "fast", **overrides) -> Detector:
        cfg = get_config(method, preset, **overrides)
        return Detector(
            self.model,
            cfg,
            preset=preset if not overrides else f"{preset}+custom",
            autocast=self.autocast,
            space=self.space,
        )

    def __call__(self, scan, slice_index: int | None = None) -> DetectionResult:
        """Detect on a `Scan` (a volume: the given axial slice, by default the middle one)."""
        idx = slice_index
        if scan.is_volume and idx is None:
            idx = scan.pixels.shape[0] // 2
        sl = scan.slice2d(idx) if scan.is_volume else scan
        return self.detect_array(
            sl.pixels, spacing=sl.spacing, patient_left=sl.patient_left, slice_index=idx
        )

    def detect_array(
        self,
        img: np.ndarray,
        spacing: tuple[float, ...] | None = None,
        patient_left: str | None = None,
        slice_index: int | None = None,
    ) -> DetectionResult:
        """Detect on one raw (Y, X) slice (any intensity range)."""
        return self.detect_batch([img], [spacing], [patient_left], [slice_index])[0]

    def detect_batch(
        self,
        images: list[np.ndarray],
        spacings: list | None = None,
        patient_lefts: list | None = None,
        slice_indices: list | None = None,
        levels: list[float | None] | None = None,
    ) -> list[DetectionResult]:
        """Detect on several raw (Y, X) slices in one batched pass through the UNet.

        levels: each slice's MNI z (mm), for a level-aware model (`assistant.detector.levels`;
        None: the mid-axial level the shipped model learned). An unconditional model ignores it.
        """
        n = len(images)
        spacings = spacings or [None] * n
        patient_lefts = patient_lefts or [None] * n
        slice_indices = slice_indices or [None] * n
        pre = self.model.config.preprocess
        t0 = time.perf_counter()
        prepared = [prepare_slice(np.asarray(im, dtype=np.float32), pre) for im in images]
        grid = torch.from_numpy(np.stack([p[0] for p in prepared]))[:, None]
        fg = torch.from_numpy(np.stack([p[1] for p in prepared]))[:, None]
        t1 = time.perf_counter()
        out = run_method(self.model, grid, self.method, fg, autocast=self.autocast, levels=levels)
        t2 = time.perf_counter()
        cal = self.calibration
        results = []
        for i, prep in enumerate(prepared):
            amap = out.anomaly_map[i, 0].float().cpu().numpy()
            rec = out.pseudo_healthy[i, 0].float().cpu().numpy()
            where = {"spacing": spacings[i], "patient_left": patient_lefts[i]}
            cal_i = cal.for_level(levels[i]) if cal is not None and levels else cal
            result = self._result(amap, rec, prep, cal_i, **where, slice_index=slice_indices[i])
            result.unet_calls = out.unet_calls
            results.append(result)
        t3 = time.perf_counter()
        for r in results:
            r.timings = {
                "preprocess_s": (t1 - t0) / n,
                "method_s": (t2 - t1) / n,
                "postprocess_s": (t3 - t2) / n,
                "total_s": (t3 - t0) / n,
            }
        return results

    def _result(
        self,
        amap: np.ndarray,
        rec: np.ndarray,
        prepared: tuple[np.ndarray, np.ndarray, GridInfo, np.ndarray],
        cal: Calibration | None,
        *,
        spacing: tuple[float, ...] | None,
        patient_left: str | None,
        slice_index: int | None,
    ) -> DetectionResult:
        """The result of one image: its model-grid map `amap` and pseudo-healthy `rec`, the
        output of `prepare_slice` for it, and the calibration (None: no mask, no findings)."""
        _, fg_grid, info, unit = prepared
        # back to the scan's own grid; the pseudo-healthy image keeps the input outside the
        # foreground so that the comparison view only differs where the model changed anatomy
        fg_s = info.back(fg_grid, order=0).astype(bool)
        amap_s = (np.clip(info.back(amap, order=1), 0, None) * fg_s).astype(np.float32)
        rec_s = info.back(rec, order=1)
        rec_s = np.where(fg_s, rec_s, unit).astype(np.float32)
        score = float(amap_s[fg_s].max()) if fg_s.any() else 0.0
        post = None
        mask, findings, weak = np.zeros_like(fg_s), [], []
        if cal is not None and cal.pixel_threshold is not None:
            post = PostProcess(
                pixel_threshold=cal.pixel_threshold,
                seed_threshold=cal.score_threshold,
                min_area=min_area_for(info.scale),
                spacing=spacing,
                patient_left=patient_left,
                slice_index=slice_index,
                healthy_scores=tuple(cal.healthy_scores),
                confidence=ConfidenceMap.from_dict(cal.confidence),
            )
            mask, findings, weak = describe_regions(amap_s, fg_s, unit, rec_s, post)
        return DetectionResult(
            anomaly_map=amap_s,
            pseudo_healthy=rec_s,
            image=unit.astype(np.float32),
            foreground=fg_s,
            mask=mask,
            score=score,
            score_threshold=cal.score_threshold if cal else None,
            pixel_threshold=cal.pixel_threshold if cal else None,
            findings=findings,
            weak_findings=weak,
            method=self.method.name,
            params={
                "checkpoint": self.model.checkpoint,
                "preset": self.preset,
                "calibration": self.calibration_key,
                **self.method.to_dict(),
            },
            side_frame=side_frame(patient_left),
            slice_index=slice_index,
            postprocess=post,
        )
