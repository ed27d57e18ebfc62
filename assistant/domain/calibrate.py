"""Calibration of the applicability model on the val split (never holdout, never OOD examples).

- Typicality threshold: the largest of the 99th percentiles of the healthy val mid-axial
  slices, the val slices with synthetic lesions and the val volumes' native axial slices (every
  level: they are axial T1 head slices too), times `TYP_MARGIN`.
- Level tolerance: 10 mm (the issue's limit) minus the 90th percentile of the image-estimated
  level's error on native val slices within 20 mm of the trained level (so that a slice 10 mm
  away is refused at that error), but at least the 99th percentile of the estimate's distance
  from the trained level on the val mid-axial and lesion slices (so that in-domain slices are
  accepted), rounded up to 0.5 mm, within [`MIN_TOL`, 10 mm - the median native error].
- Registration: rigid and affine run-time registration (`FAST`) on the val volumes, compared
  with the fitting registration (skull-stripped, `ACCURATE`) by the MNI level they give the
  native slices; the kind with the smaller median error is kept (ties: the faster); the
  similarity threshold is `SIM_MARGIN` times the lowest val similarity.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.domain.fitdata import load_volume, registered_matrices, stem, volume_paths
from assistant.domain.fitsets import SliceSet
from assistant.domain.model import DomainModel
from assistant.domain.register import FAST, normalise_volume, register_to_template

log = logging.getLogger(__name__)

TYP_QUANTILE = 0.99
TYP_MARGIN = 1.1
LEVEL_LIMIT_MM = 10.0  # the issue: slices more than 10 mm from the trained level are refused
LEVEL_QUANTILE = 0.99
LEVEL_ERR_QUANTILE = 0.9
MIN_TOL = 3.0
SIM_MARGIN = 0.8
MAX_REG_VOLUMES = 21  # val volumes used to compare rigid and affine (all of them)


def _rate(x: np.ndarray) -> float:
    return round(float(np.mean(x)), 4) if len(x) else float("nan")


def calibrate_typicality(model: DomainModel, val: dict[str, SliceSet]) -> dict:
    """Set `typ_scale` (median raw score of healthy val slices) and pick the threshold."""
    model.features["typ_scale"] = np.float32(1.0)
    raw = {n: model.typicality(model.embed(s.vectors)) for n, s in val.items()}
    scale = float(np.median(raw["mid"]))
    model.features["typ_scale"] = np.float32(scale)
    scores = {n: r / scale for n, r in raw.items()}
    q = {n: float(np.quantile(scores[n], TYP_QUANTILE)) for n in ("mid", "lesion", "native")}
    threshold = max(q.values()) * TYP_MARGIN
    accepted = {n: _rate(s <= threshold) for n, s in scores.items()}
    log.info("typicality: quantiles %s threshold %.3f accepted %s", q, threshold, accepted)
    return {
        "typicality_threshold": round(threshold, 4),
        "typicality_calibration": {
            "quantile": TYP_QUANTILE,
            "margin": TYP_MARGIN,
            "val_quantiles": {k: round(v, 4) for k, v in q.items()},
            "val_accepted": accepted,
            "val_n": {n: len(s) for n, s in val.items()},
        },
    }


def calibrate_level(
    model: DomainModel, val: dict[str, SliceSet], mirrored: dict[str, SliceSet]
) -> dict:
    """Pick the level tolerance (see the module docstring) from the image-estimated level
    (`DomainModel.robust_level` where `mirrored` has the set's mirrored halves) on the val
    mid-axial and lesion slices and on the val volumes' native axial slices."""
    z0 = model.trained_level
    est = {n: model.level(model.embed(s.vectors)) for n, s in val.items()}
    for n, s in val.items():
        if f"{n}_mirror" in mirrored:
            est[n] = model.robust_level(s.vectors, mirrored[f"{n}_mirror"].vectors)[0]
    at_level = np.abs(np.concatenate([est["mid"], est["lesion"]]) - z0)
    q_in = float(np.quantile(at_level, LEVEL_QUANTILE))
    native = val["native"]
    near = np.abs(native.level - z0) <= 20.0
    err = np.abs(est["native"][near] - native.level[near])
    q_native = float(np.quantile(err, LEVEL_ERR_QUANTILE))
    upper = LEVEL_LIMIT_MM - float(np.median(err))
    tol = max(np.ceil(q_in * 2.0) / 2.0, np.ceil((LEVEL_LIMIT_MM - q_native) * 2.0) / 2.0)
    tol = float(np.clip(tol, MIN_TOL, upper))
    acc = {n: _rate(np.abs(e - z0) <= tol) for n, e in est.items() if n in ("mid", "lesion")}
    far = np.abs(native.level - z0) > LEVEL_LIMIT_MM
    mae = {
        n: round(float(np.median(np.abs(est[n] - val[n].level))), 2)
        for n in ("mid", "lesion", "native", "mni")
    }
    log.info(
        "level: q_in %.2f q_native %.2f -> tolerance %.1f mm; mae %s", q_in, q_native, tol, mae
    )
    return {
        "level_tolerance_mm": round(tol, 1),
        "level_calibration": {
            "val_at_level_error_q99_mm": round(q_in, 2),
            "val_native_error_q90_mm": round(q_native, 2),
            "upper_bound_mm": round(upper, 2),
            "median_abs_error_mm": mae,
            "val_accepted_by_level": acc,
            "val_native_far_refused_by_level": _rate(np.abs(est["native"][far] - z0) > tol),
        },
    }


def _runtime_register(model: DomainModel, pixels, spacing, kind: str):
    """The run-time registration (`FAST`, all its starts) of one volume as `kind`."""
    vol01 = normalise_volume(pixels)
    t0 = time.perf_counter()
    c0 = time.process_time()
    m2v, _, sim = register_to_template(vol01, spacing, model, replace(FAST, kind=kind))
    secs = (time.perf_counter() - t0, time.process_time() - c0)
    return m2v, sim, secs


def _level_error(m2v: np.ndarray, ref_m2v: np.ndarray, brain: np.ndarray, z0: float) -> float:
    """|MNI z| difference at the brain centres of native slices within 15 mm of `z0`."""
    v2m, ref = np.linalg.inv(m2v), np.linalg.inv(ref_m2v)
    errs = []
    for k in np.flatnonzero(brain.sum(axis=(1, 2)) > 50):
        ys, xs = np.nonzero(brain[k])
        p = np.array([k, ys.mean(), xs.mean(), 1.0])
        z_ref = (ref @ p)[2]
        if abs(z_ref - z0) <= 15.0:
            errs.append(abs((v2m @ p)[2] - z_ref))
    return float(np.median(errs)) if errs else float("nan")


def choose_registration(model: DomainModel, root: Path, cache: Path) -> dict:
    """Rigid vs affine run-time registration on val volumes; the kept kind and its threshold."""
    ref = registered_matrices(root, "val", cache)
    rows: dict[str, list] = {"rigid": [], "affine": []}
    for path in volume_paths(root, "val")[:MAX_REG_VOLUMES]:
        pixels, brain, spacing = load_volume(root, "val", path)
        for kind in rows:
            m2v, sim, (wall, cpu) = _runtime_register(model, pixels, spacing, kind)
            err = _level_error(m2v, ref[stem(path)], brain, model.trained_level)
            rows[kind].append((err, sim, wall, cpu))
            log.info("%s %s: level error %.2f mm, similarity %.3f", stem(path), kind, err, sim)
    summary = {
        kind: {
            "median_level_error_mm": round(float(np.nanmedian([r[0] for r in v])), 2),
            "max_level_error_mm": round(float(np.nanmax([r[0] for r in v])), 2),
            "min_similarity": round(float(min(r[1] for r in v)), 4),
            "median_seconds": round(float(np.median([r[2] for r in v])), 2),
            "median_cpu_seconds": round(float(np.median([r[3] for r in v])), 2),
        }
        for kind, v in rows.items()
    }
    a, r = summary["affine"], summary["rigid"]
    gap = a["median_level_error_mm"] - r["median_level_error_mm"]
    if abs(gap) <= 0.25:  # as accurate: the faster one
        kind = "affine" if a["median_cpu_seconds"] <= r["median_cpu_seconds"] else "rigid"
    else:
        kind = "affine" if gap < 0 else "rigid"
    threshold = SIM_MARGIN * summary[kind]["min_similarity"]
    return {
        "kind": kind,
        "similarity_threshold": round(threshold, 4),
        "settings": {
            "shrink": list(FAST.shrink),
            "sigmas": list(FAST.sigmas),
            "iterations": FAST.iterations,
            "iterations_per_level": list(FAST.iterations_per_level or []),
            "sampling": list(FAST.sampling_per_level or [FAST.sampling] * len(FAST.shrink)),
            "starts": FAST.starts,
            "retry_below": FAST.retry_below,
            "mask_dilation": FAST.mask_dilation,
            "metric": f"Mattes mutual information ({FAST.bins} bins)",
        },
        "val_comparison": summary,
        "val_volumes": len(rows["affine"]),
    }
