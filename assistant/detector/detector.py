"""`Detector`: scan in, `DetectionResult` out."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from assistant.detector.data import prepare_slice
from assistant.detector.findings import (
    extract_findings,
    peak_cores,
    remove_small,
    seeded_components,
)
from assistant.detector.methods import MethodConfig, get_config, run_method
from assistant.detector.model import Calibration, DiffusionModel, cpu_has_bf16
from assistant.detector.result import DetectionResult, Finding
from assistant.preprocess import GridInfo

log = logging.getLogger(__name__)

MIN_AREA_GRID = 6  # components smaller than this on the model grid are noise (post-processing)
MAX_WEAK = 3  # sub-threshold regions kept for questions about an image without findings
# a region is trimmed to where the map reaches this fraction of the region's peak (and the
# pixel threshold): chosen on validation data (eval/sweep_detector.py, `seeded.by_core`): Dice
# 0.37 -> 0.53 and size-bin accuracy 0.42 -> 0.68 at 0.3 (0.2: 0.51, 0.4: 0.52, 0.5: 0.49)
RELATIVE_CORE = 0.3


def flag_mask(
    anomaly: np.ndarray,
    foreground: np.ndarray,
    pixel_threshold: float,
    seed_threshold: float | None,
    min_area: int,
    core: float = RELATIVE_CORE,
) -> tuple[np.ndarray, np.ndarray]:
    """(regions, mask): the foreground regions above `pixel_threshold` with at least
    `min_area` pixels, each trimmed to its core (`peak_cores` at `core` of its peak), and the
    mask of those whose peak reaches `seed_threshold` (hysteresis; None: all of them)."""
    regions = remove_small((anomaly > pixel_threshold) & foreground, min_area)
    regions = peak_cores(regions, anomaly, pixel_threshold, core)
    return regions, seeded_components(regions, anomaly, seed_threshold, 1)


def describe_regions(
    anomaly: np.ndarray,
    foreground: np.ndarray,
    image01: np.ndarray,
    pseudo01: np.ndarray,
    pixel_threshold: float,
    seed_threshold: float | None,
    min_area: int,
    spacing: tuple[float, ...] | None = None,
    patient_left: str | None = None,
    slice_index: int | None = None,
    healthy_scores: list[float] | None = None,
) -> tuple[np.ndarray, list[Finding], list[Finding]]:
    """The detector's post-processing of a map on the scan grid: (mask, findings, weak).

    Regions and mask as in `flag_mask`; the mask's regions (peak at least `seed_threshold`,
    the calibrated image threshold) are the findings F1... The other regions, at most
    `MAX_WEAK` of them by decreasing peak, are the weak findings W1...: deviations below the
    image threshold that may be noise or normal variation, reported apart so that nothing
    calls them findings.
    """
    regions, mask = flag_mask(anomaly, foreground, pixel_threshold, seed_threshold, min_area)
    args = (anomaly, image01, pseudo01, foreground, pixel_threshold, spacing, patient_left)
    kw = {"slice_index": slice_index, "healthy_scores": healthy_scores}
    findings = extract_findings(mask, *args, **kw)
    weak = extract_findings(regions & ~mask, *args, **kw, id_prefix="W")[:MAX_WEAK]
    return mask, findings, weak


class Detector:
    """A trained diffusion model, an anomaly method and its calibrated thresholds.

    Post-processing (part of the method): maps are smoothed (method `sigma`) and zeroed outside
    the foreground. The image score is the map's maximum over the foreground. The mask is a
    hysteresis thresholding with both calibrated thresholds: connected regions above the pixel
    threshold are kept when their peak reaches the image-score threshold and they cover at least
    `MIN_AREA_GRID` model-grid pixels; so an image has findings exactly when its score is above
    the image threshold (unless the region is too small). Each region is trimmed to where the
    map reaches `RELATIVE_CORE` of its own peak (see `flag_mask`). Chosen on validation data
    (eval/sweep_detector.py): median healthy flagged fraction 0 instead of 0.05 at the same
    Dice, and max-score image AUROC at least that of the 99.5% quantile.
    """

    def __init__(
        self,
        model: DiffusionModel,
        method: MethodConfig,
        preset: str = "custom",
        autocast: bool | None = None,
    ):
        self.model = model
        self.method = method
        self.preset = preset
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
    def key(self) -> str:
        return f"{self.method.name}/{self.preset}"

    @property
    def calibration(self) -> Calibration | None:
        return self.model.config.calibration.get(self.key)

    def with_method(self, method: str, preset: str = "fast", **overrides) -> Detector:
        cfg = get_config(method, preset, **overrides)
        return Detector(
            self.model,
            cfg,
            preset=preset if not overrides else f"{preset}+custom",
            autocast=self.autocast,
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
    ) -> list[DetectionResult]:
        """Detect on several raw (Y, X) slices in one batched pass through the UNet."""
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
        out = run_method(self.model, grid, self.method, fg, autocast=self.autocast)
        t2 = time.perf_counter()
        cal = self.calibration
        results = []
        for i, (g, f, info, unit) in enumerate(prepared):
            amap = out.anomaly_map[i, 0].float().cpu().numpy()
            rec = out.pseudo_healthy[i, 0].float().cpu().numpy()
            results.append(
                self._result(
                    amap,
                    rec,
                    g,
                    f,
                    info,
                    unit,
                    cal,
                    spacings[i],
                    patient_lefts[i],
                    slice_indices[i],
                    out.unet_calls,
                )
            )
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
        amap,
        rec,
        grid,
        fg_grid,
        info: GridInfo,
        unit,
        cal,
        spacing,
        patient_left,
        slice_index,
        calls,
    ) -> DetectionResult:
        # back to the scan's own grid; the pseudo-healthy image keeps the input outside the
        # foreground so that the comparison view only differs where the model changed anatomy
        fg_s = info.back(fg_grid, order=0).astype(bool)
        amap_s = (np.clip(info.back(amap, order=1), 0, None) * fg_s).astype(np.float32)
        rec_s = info.back(rec, order=1)
        rec_s = np.where(fg_s, rec_s, unit).astype(np.float32)
        score = float(amap_s[fg_s].max()) if fg_s.any() else 0.0
        pixel_thr = cal.pixel_threshold if cal else None
        if pixel_thr is not None:
            min_area = int(round(MIN_AREA_GRID / info.scale**2))
            mask, findings, weak = describe_regions(
                amap_s,
                fg_s,
                unit,
                rec_s,
                pixel_thr,
                cal.score_threshold,
                min_area,
                spacing,
                patient_left,
                slice_index,
                cal.healthy_scores,
            )
        else:
            mask = np.zeros_like(fg_s)
            findings, weak = [], []
        return DetectionResult(
            anomaly_map=amap_s,
            pseudo_healthy=rec_s,
            image=unit.astype(np.float32),
            foreground=fg_s,
            mask=mask,
            score=score,
            score_threshold=cal.score_threshold if cal else None,
            pixel_threshold=pixel_thr,
            findings=findings,
            weak_findings=weak,
            method=self.method.name,
            params={"preset": self.preset, **self.method.to_dict()},
            unet_calls=calls,
            side_frame="patient" if patient_left in ("image_left", "image_right") else "image",
            slice_index=slice_index,
            healthy_scores=list(cal.healthy_scores) if cal else [],
        )
