"""Whole volumes end to end: voxel-, slice- and lesion-level figures of `analyze_volume`.

    python -m eval.volumes --volumes DIR [--masks DIR] --json OUT [--limit N] [--model DIR] \\
        [--labels DIR] [--batch N] [--method NAME] [--preset NAME] [--all-levels]
    python -m eval.volumes --volumes DIR --bench N --json OUT   # seconds per slice by setting

Every NIfTI volume in --volumes is abnormal when --masks holds a NIfTI of the same file name on
the same grid (non-zero = lesion), healthy otherwise (`python -m assistant.volume.synth3d` writes
such folders). A folder of patient folders (the MSLUB layout, `patientNN/T1.nii.gz` +
`patientNN/lesion_mask.nii.gz`) is read too: each patient's T1 is a volume, its `*mask*` NIfTI
(in --masks/patientNN/ when --masks is given, else beside it) its mask.

Each volume goes through `assistant.volume.analyze_volume` (registration, every analysable
level, 3D findings). Keys (the contract):

- voxel_auprc, voxel_auroc: the native anomaly map against the truth, pooled over the analysed
  voxels of every volume (`VolumeResult.analysed`: brain voxels at the analysed levels);
- dice_calibrated: mean Dice of the calibrated native mask and the truth over abnormal volumes
  (the whole volume: lesions at levels that were not analysed count as missed);
- slice_auroc: native axial slices with analysed voxels; a slice is abnormal when its analysed
  voxels hold lesion voxels; its score is their highest anomaly;
- lesion_hit_rate: 3D lesions (26-connected components of the truth) with more than 10% of
  their voxels flagged, over all lesions of the abnormal volumes;
- healthy_volumes_with_findings: the fraction of healthy volumes with at least one 3D finding;
- seconds_per_volume: median wall time of `analyze_volume` per volume; n_volumes.

Beside them: the same restricted to what was analysed (`dice_calibrated_analysed`,
`lesion_hit_rate_analysed` over lesions with at least half their voxels analysed), the volume
score's AUROC, where the time goes (median seconds per stage), and two naive baselines scored on
the same voxels: `intensity_z` (|z-score| of the voxel's intensity against the volume's own
analysed brain voxels, median / MAD) and `template_residual` (|intensity - the shipped MNI head
template| after the registration, intensities matched by the median).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from eval import portable_path
from eval.detection import HIT_FRACTION
from eval.metrics import average_precision, dice, roc_auc

# the analysed levels' spacing by default (`assistant.volume.analyze.LEVEL_STEP_MM`, the volumes'
# 2 mm), here without importing the detector at module load
LEVEL_STEP_MM = 2.0

logger = logging.getLogger(__name__)

MAX_VOXELS = 5_000_000  # pooled voxel metrics subsample (deterministically) above this
ANALYSED_LESION = 0.5  # a lesion counts as analysed when this fraction of it was analysed
BASELINES = ("intensity_z", "template_residual")
CONTRACT_KEYS = (
    "voxel_auprc",
    "voxel_auroc",
    "dice_calibrated",
    "slice_auroc",
    "lesion_hit_rate",
    "healthy_volumes_with_findings",
    "seconds_per_volume",
    "n_volumes",
)


@dataclass
class Case:
    """One volume and its truth mask (None = healthy) and label map (None = none)."""

    name: str
    volume: Path
    mask: Path | None
    labels: Path | None = None


@dataclass
class CaseResult:
    """What the evaluation keeps of one volume (arrays restricted to the analysed voxels)."""

    name: str
    abnormal: bool
    scores: np.ndarray
    truth: np.ndarray
    baselines: dict[str, np.ndarray]
    n_missed: int  # lesion voxels outside the analysed voxels
    dice: float | None
    dice_analysed: float | None
    slice_scores: list[float]
    slice_truth: list[bool]
    n_lesions: int
    n_hit: int
    n_lesions_analysed: int
    n_hit_analysed: int
    n_findings: int
    volume_score: float
    seconds: float
    timings: dict[str, float]
    levels: list[float]
    similarity: float | None
    findings: list[dict] = field(default_factory=list)
    lesion_voxels: int = 0
    z_smoothing_mm: float | None = None  # the smoothing across levels applied (None: none)


def _nifti(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.endswith((".nii", ".nii.gz"))
    )


def _labels_for(name: str, labels_dir: Path | None) -> Path | None:
    if labels_dir is None:
        return None
    stem = name.split(".nii")[0]
    for cand in (f"{stem}_DLMUSE.nii.gz", name):
        if (labels_dir / cand).is_file():
            return labels_dir / cand
    return None


def find_cases(
    volumes_dir: str | Path, masks_dir: str | Path | None, labels_dir: str | Path | None = None
) -> list[Case]:
    """The volumes of a folder with their masks (module docstring), sorted by name."""
    vdir = Path(volumes_dir)
    mdir = Path(masks_dir) if masks_dir is not None else None
    ldir = Path(labels_dir) if labels_dir is not None else None
    if not vdir.is_dir():
        raise FileNotFoundError(f"{vdir} is not a folder of volumes")
    if mdir is not None and not mdir.is_dir():
        raise FileNotFoundError(f"mask folder not found: {mdir}")
    files = _nifti(vdir)
    if files:
        out = []
        for p in files:
            mask = mdir / p.name if mdir is not None and (mdir / p.name).is_file() else None
            out.append(Case(p.name, p, mask, _labels_for(p.name, ldir)))
        return out
    cases = []
    for sub in sorted(d for d in vdir.iterdir() if d.is_dir()):
        niftis = _nifti(sub)
        images = [p for p in niftis if "mask" not in p.name.lower()]
        if not images:
            continue
        image = next((p for p in images if p.name.lower().startswith("t1")), images[0])
        where = mdir / sub.name if mdir is not None else sub
        masks = [p for p in _nifti(where) if "mask" in p.name.lower()] if where.is_dir() else []
        cases.append(Case(sub.name, image, masks[0] if masks else None, None))
    if not cases:
        raise FileNotFoundError(f"no NIfTI volumes (.nii, .nii.gz) in {vdir} or its folders")
    return cases


def lesions_hit_3d(
    truth: np.ndarray, mask: np.ndarray, analysed: np.ndarray
) -> tuple[int, int, int, int]:
    """(lesions, hit, analysed lesions, analysed hit): 26-connected components of `truth`; hit:
    more than `HIT_FRACTION` of the voxels in `mask`; analysed: at least `ANALYSED_LESION` of
    them in `analysed`."""
    lab, n = ndimage.label(truth, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return 0, 0, 0, 0
    sizes = np.bincount(lab.ravel(), minlength=n + 1)[1:]
    flagged = np.bincount(lab[np.asarray(mask, bool)], minlength=n + 1)[1:]
    seen = np.bincount(lab[np.asarray(analysed, bool)], minlength=n + 1)[1:]
    hit = flagged > HIT_FRACTION * sizes
    ok = seen >= ANALYSED_LESION * sizes
    return int(n), int(hit.sum()), int(ok.sum()), int((hit & ok).sum())


def baseline_scores(pixels: np.ndarray, result) -> dict[str, np.ndarray]:
    """The naive baselines' scores at the analysed voxels (module docstring)."""
    from assistant.domain.model import load_domain_model
    from assistant.domain.register import normalise_volume
    from assistant.volume.components import voxel_points

    sel = result.analysed
    vals = np.asarray(pixels, dtype=np.float32)[sel]
    out = {}
    if vals.size == 0:
        return {k: np.zeros(0, np.float32) for k in BASELINES}
    med = float(np.median(vals))
    mad = float(np.median(np.abs(vals - med))) * 1.4826
    out["intensity_z"] = (np.abs(vals - med) / max(mad, 1e-6)).astype(np.float32)
    t = load_domain_model().head_template
    tv = np.asarray(t["volume"], dtype=np.float32)
    pts = voxel_points(result.voxel_to_mni, np.argwhere(sel))
    idx = ((pts - np.asarray(t["origin"], dtype=np.float64)) / float(t["step"]))[:, ::-1].T
    ref = ndimage.map_coordinates(tv, idx, order=1, mode="constant", cval=0.0)
    v01 = normalise_volume(np.asarray(pixels, dtype=np.float32))[sel]
    scale = float(np.median(ref)) / max(float(np.median(v01)), 1e-6)
    out["template_residual"] = np.abs(v01 * scale - ref).astype(np.float32)
    return out


def run_case(
    case: Case,
    detector,
    *,
    batch: int | None = None,
    levels=None,
    label_names=None,
    level_step_mm: float = LEVEL_STEP_MM,
    z_smoothing: bool = True,
) -> CaseResult:
    """Analyse one volume (timed) and compare it with its truth."""
    from assistant.scan import load_scan
    from assistant.volume import analyze_volume

    scan = load_scan(case.volume)
    truth = np.zeros(scan.pixels.shape, dtype=bool)
    if case.mask is not None:
        truth = load_scan(case.mask).pixels > 0
        if truth.shape != scan.pixels.shape:
            raise ValueError(
                f"{case.name}: mask {truth.shape} is not on the volume's grid {scan.pixels.shape}"
            )
    labels = None
    if case.labels is not None:
        labels = np.rint(load_scan(case.labels).pixels).astype(np.int32)
    start = time.perf_counter()
    res = analyze_volume(
        scan,
        detector,
        batch=batch,
        progress=False,
        levels=levels,
        labels=labels,
        label_names=label_names,
        level_step_mm=level_step_mm,
        z_smoothing=z_smoothing,
    )
    seconds = time.perf_counter() - start
    sel = res.analysed
    abnormal = bool(truth.any())
    n, hit, n_an, hit_an = lesions_hit_3d(truth, res.mask, sel)
    slice_scores, slice_truth = [], []
    for k, s in enumerate(res.slice_scores):
        if s is not None:
            slice_scores.append(float(s))
            slice_truth.append(bool(truth[k][sel[k]].any()))
    return CaseResult(
        name=case.name,
        abnormal=abnormal,
        scores=res.anomaly[sel],
        truth=truth[sel],
        baselines=baseline_scores(scan.pixels, res),
        n_missed=int((truth & ~sel).sum()),
        dice=dice(res.mask, truth) if abnormal else None,
        dice_analysed=dice(res.mask & sel, truth & sel) if (truth & sel).any() else None,
        slice_scores=slice_scores,
        slice_truth=slice_truth,
        n_lesions=n,
        n_hit=hit,
        n_lesions_analysed=n_an,
        n_hit_analysed=hit_an,
        n_findings=sum(not f.weak for f in res.findings),  # weak (one level only) not counted
        volume_score=res.score,
        seconds=seconds,
        timings=dict(res.timings),
        levels=[float(z) for z in res.levels],
        similarity=res.similarity,
        z_smoothing_mm=res.z_smoothing_mm,
        findings=[
            {
                "id": f.id,
                "where": f.where(),
                "volume_mm3": f.volume_mm3,
                "slice_range": list(f.slice_range),
                "peak_anomaly": f.peak_anomaly,
                "overlaps_truth": bool(truth[res.finding_map == i].any()),
            }
            for i, f in enumerate(res.findings[:10], start=1)
        ],
        lesion_voxels=int(truth.sum()),
    )


def _subsample(scores: np.ndarray, truth: np.ndarray, max_voxels: int, notes: list[str], what: str):
    if scores.size <= max_voxels:
        return scores, truth
    keep = np.sort(np.random.default_rng(0).choice(scores.size, max_voxels, replace=False))
    notes.append(f"{what}: a fixed random subsample of {max_voxels:,} of {scores.size:,} voxels")
    return scores[keep], truth[keep]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def _median(xs) -> float | None:
    return float(statistics.median(xs)) if xs else None


def summarize(results: list[CaseResult], max_voxels: int = MAX_VOXELS) -> dict:
    """The figures (JSON-ready) of a set of per-volume results: the contract keys first."""
    notes: list[str] = []
    abn = [r for r in results if r.abnormal]
    healthy = [r for r in results if not r.abnormal]
    empty = np.zeros(0, np.float32)
    scores = np.concatenate([r.scores for r in results]) if results else empty
    truth = np.concatenate([r.truth for r in results]) if results else np.zeros(0, bool)
    s_sub, t_sub = _subsample(scores, truth, max_voxels, notes, "voxel AUROC/AUPRC")
    baselines = {}
    for name in BASELINES:
        b = np.concatenate([r.baselines[name] for r in results]) if results else empty
        b_sub, bt = _subsample(b, truth, max_voxels, [], name)
        baselines[name] = {
            "voxel_auprc": average_precision(b_sub, bt) if bt.any() else None,
            "voxel_auroc": roc_auc(b_sub, bt),
        }
    slice_s = np.array([s for r in results for s in r.slice_scores], dtype=np.float64)
    slice_t = np.array([t for r in results for t in r.slice_truth], dtype=bool)
    vol_s = np.array([r.volume_score for r in results], dtype=np.float64)
    vol_t = np.array([r.abnormal for r in results], dtype=bool)
    missed = sum(r.n_missed for r in abn)
    if missed:
        notes.append(
            f"{missed:,} of {sum(r.lesion_voxels for r in abn):,} lesion voxels lie outside the "
            "analysed voxels (other levels, or outside the brain mask): missed in Dice and in "
            "lesion_hit_rate, not part of the voxel metrics"
        )
    if not healthy:
        notes.append("no healthy volumes: healthy_volumes_with_findings and volume_auroc null")
    if not abn:
        notes.append("no abnormal volumes: voxel metrics, Dice and hit rates null")
    stages = sorted({k for r in results for k in r.timings})
    return {
        "voxel_auprc": average_precision(s_sub, t_sub) if t_sub.any() else None,
        "voxel_auroc": roc_auc(s_sub, t_sub) if scores.size else None,
        "dice_calibrated": _mean([r.dice for r in abn]),
        "slice_auroc": roc_auc(slice_s, slice_t) if slice_s.size else None,
        "lesion_hit_rate": _ratio(sum(r.n_hit for r in abn), sum(r.n_lesions for r in abn)),
        "healthy_volumes_with_findings": _ratio(
            sum(r.n_findings > 0 for r in healthy), len(healthy)
        ),
        "seconds_per_volume": _median([r.seconds for r in results]),
        "n_volumes": len(results),
        "n_abnormal": len(abn),
        "n_healthy": len(healthy),
        "voxel_prevalence": float(truth.mean()) if truth.size else None,
        "n_voxels": int(scores.size),
        "dice_calibrated_analysed": _mean([r.dice_analysed for r in abn]),
        "lesion_hit_rate_analysed": _ratio(
            sum(r.n_hit_analysed for r in abn), sum(r.n_lesions_analysed for r in abn)
        ),
        "n_lesions": sum(r.n_lesions for r in abn),
        "n_lesions_analysed": sum(r.n_lesions_analysed for r in abn),
        "lesion_voxels_analysed_fraction": _ratio(
            sum(r.lesion_voxels - r.n_missed for r in abn), sum(r.lesion_voxels for r in abn)
        ),
        "n_slices": int(slice_s.size),
        "n_abnormal_slices": int(slice_t.sum()),
        "volume_auroc": roc_auc(vol_s, vol_t) if results else None,
        "findings_per_healthy_volume": _mean([r.n_findings for r in healthy]),
        "baselines": baselines,
        "levels_per_volume": _median([len(r.levels) for r in results]),
        "z_smoothing_mm": sorted({r.z_smoothing_mm for r in results}, key=lambda s: s or 0.0),
        "seconds_by_stage": {k: _median([r.timings.get(k, 0.0) for r in results]) for k in stages},
        "notes": notes,
        "per_volume": [
            {
                "name": r.name,
                "abnormal": r.abnormal,
                "lesion_voxels": r.lesion_voxels,
                "lesion_voxels_analysed": r.lesion_voxels - r.n_missed,
                "n_lesions": r.n_lesions,
                "n_hit": r.n_hit,
                "n_findings": r.n_findings,
                "dice": None if r.dice is None else round(r.dice, 4),
                "volume_score": round(r.volume_score, 5),
                "levels_mm": [min(r.levels), max(r.levels)] if r.levels else None,
                "n_levels": len(r.levels),
                "registration_similarity": None
                if r.similarity is None
                else round(float(r.similarity), 4),
                "seconds": round(r.seconds, 2),
                "timings": {k: round(v, 3) for k, v in r.timings.items()},
                "findings": r.findings,
            }
            for r in results
        ],
    }


def evaluate(
    detector,
    volumes_dir,
    masks_dir=None,
    *,
    labels_dir=None,
    label_names=None,
    limit: int | None = None,
    batch: int | None = None,
    levels=None,
    progress: bool = False,
    level_step_mm: float = LEVEL_STEP_MM,
    z_smoothing: bool = True,
) -> dict:
    """`summarize` of every volume of a folder (see the module docstring); `z_smoothing`:
    as `analyze_volume`'s."""
    cases = find_cases(volumes_dir, masks_dir, labels_dir)[: limit if limit is not None else None]
    it = cases
    if progress:
        from tqdm import tqdm

        it = tqdm(cases, desc="volumes", unit="vol")
    results = []
    for case in it:
        results.append(
            run_case(
                case,
                detector,
                batch=batch,
                levels=levels,
                label_names=label_names,
                level_step_mm=level_step_mm,
                z_smoothing=z_smoothing,
            )
        )
        logger.info(
            "%s: %.1f s, %d findings", case.name, results[-1].seconds, results[-1].n_findings
        )
    return summarize(results)


def bench(detector, volume: Path, n: int = 8) -> dict:
    """Seconds per slice of the detector on `n` levels of one registered volume, by batch size,
    memory format and preset (wall and process CPU time: CPU time is less sensitive to other
    processes on a shared machine)."""
    import torch

    from assistant.domain.geometry import training_grid
    from assistant.domain.register import register_matrix, sample_grid
    from assistant.scan import load_scan

    scan = load_scan(volume)
    t0, c0 = time.perf_counter(), time.process_time()
    m2v = register_matrix(scan)[0]
    reg = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    levels = [float(z) for z in np.linspace(-30, 60, n).round()]
    t0 = time.perf_counter()
    images = [sample_grid(scan.pixels, m2v, training_grid(z))[0] for z in levels]
    resample = (time.perf_counter() - t0) / n
    rows = []

    def run(name: str, det, batch: int) -> None:
        det.detect_batch(images[:1])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            det.detect_batch(images[i : i + batch])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append(
            {
                "config": name,
                "batch": batch,
                "wall_s_per_slice": round(wall / n, 3),
                "cpu_s_per_slice": round(cpu / n, 3),
            }
        )
        logger.info("%s", rows[-1])

    unet = detector.model.unet
    for b in (1, 2, 4, 8):
        run(f"{detector.preset} channels_last", detector, b)
    unet.to(memory_format=torch.contiguous_format)
    run(f"{detector.preset} contiguous", detector, 2)
    unet.to(memory_format=torch.channels_last)
    run("faster channels_last", detector.with_method("thor", "faster"), 2)
    return {
        "slices": n,
        "volume": portable_path(volume),
        "registration": {k: round(v, 3) for k, v in reg.items()},
        "resample_s_per_slice": round(resample, 4),
        "torch_threads": torch.get_num_threads(),
        "autocast_bf16": bool(detector.autocast),
        "rows": rows,
    }


def compare_level_steps(detector, volumes: list[Path], steps: list[float]) -> dict:
    """Seconds per volume of `analyze_volume` at each level step, side by side in one run: each
    volume is registered once, then analysed at every step in turn (the order reversed on every
    other volume, so neither step always runs first); medians over volumes and their ratio to
    the first step's."""
    from assistant.domain.register import register_matrix
    from assistant.scan import load_scan
    from assistant.volume import analyze_volume

    runs: dict[float, list[dict]] = {s: [] for s in steps}
    for i, path in enumerate(volumes):
        scan = load_scan(path)
        m2v = register_matrix(scan)[0]
        for step in steps if i % 2 == 0 else steps[::-1]:
            t0, c0 = time.perf_counter(), time.process_time()
            res = analyze_volume(
                scan, detector, mni_to_voxel=m2v, progress=False, level_step_mm=step
            )
            runs[step].append(
                {
                    "volume": path.name,
                    "wall_s": round(time.perf_counter() - t0, 2),
                    "cpu_s": round(time.process_time() - c0, 2),
                    "levels": len(res.levels),
                    "findings": len(res.findings),
                }
            )
            logger.info("step %g mm: %s", step, runs[step][-1])
    first = statistics.median(r["wall_s"] for r in runs[steps[0]])
    return {
        "volumes": [portable_path(p) for p in volumes],
        "order": "each volume at every step in turn, reversed on every other volume",
        "by_step": {
            f"{s:g}": {
                "median_wall_s": round(statistics.median(r["wall_s"] for r in runs[s]), 2),
                "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs[s]), 2),
                "wall_ratio_to_first": round(
                    statistics.median(r["wall_s"] for r in runs[s]) / first, 3
                ),
                "runs": runs[s],
            }
            for s in steps
        },
    }


def machine() -> dict:
    """The CPU the figures were measured on: seconds per volume depend on it (a CPU with
    bfloat16 instructions, avx512_bf16 or amx_bf16, runs the detector's bf16 autocast about twice
    as fast as one without)."""
    import os

    import torch

    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux
        pass
    import platform

    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "bf16_instructions": sorted(flags & {"avx512_bf16", "amx_bf16"}),
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval.volumes",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--volumes", required=True, help="folder of NIfTI volumes (or patient folders)")
    p.add_argument(
        "--masks", default=None, help="folder of masks, same file names (missing = healthy)"
    )
    p.add_argument("--json", required=True, help="where to write the figures (JSON)")
    p.add_argument("--limit", type=int, default=None, help="only the first N volumes (sorted)")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint folder (default: the shipped model)",
    )
    p.add_argument("--method", default=None, help="anomaly method (default: the model's)")
    p.add_argument("--preset", default=None, help="method configuration (default: the model's)")
    p.add_argument("--labels", default=None, help="label maps NAME_DLMUSE.nii.gz: region names")
    p.add_argument(
        "--label-names", default=None, help="Index,Code,Name CSV (default: beside --labels)"
    )
    p.add_argument(
        "--batch", type=int, default=None, help="slices per UNet pass (default: 2 on a CPU)"
    )
    p.add_argument(
        "--level-step",
        type=float,
        default=LEVEL_STEP_MM,
        help="mm between analysed levels (a multiple of 2; 4 halves the UNet passes of a "
        "whole-brain model)",
    )
    p.add_argument(
        "--compare-level-steps",
        default=None,
        metavar="2,4",
        help="instead: seconds per volume at each level step, side by side on the first "
        "--limit volumes (default 2)",
    )
    p.add_argument(
        "--no-z-smoothing",
        action="store_true",
        help="do not smooth a level-aware model's maps across levels, even when its checkpoint "
        "has thresholds for that",
    )
    p.add_argument(
        "--all-levels",
        action="store_true",
        help="analyse every brain level even with a level-unaware model (outside its domain: "
        "for timing only)",
    )
    p.add_argument(
        "--bench",
        type=int,
        default=None,
        metavar="N",
        help="instead: time the detector on N levels of the first volume by batch size, memory "
        "format and preset",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from assistant.detector import Detector
    from assistant.domain.levelset import BRAIN_LEVELS_MM
    from assistant.volume import read_label_names
    from assistant.volume.analyze import CPU_BATCH, GPU_BATCH

    detector = Detector.from_pretrained(args.model, method=args.method, preset=args.preset)
    if args.compare_level_steps:
        import torch

        steps = [float(s) for s in args.compare_level_steps.split(",")]
        files = [c.volume for c in find_cases(args.volumes, None)][: args.limit or 2]
        fig = {
            "model": portable_path(detector.model.path),
            "preset": detector.preset,
            "torch_threads": torch.get_num_threads(),
            "machine": machine(),
            **compare_level_steps(detector, files, steps),
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
        print(json.dumps({k: v for k, v in fig.items() if k != "by_step"}, indent=2))
        for s, v in fig["by_step"].items():
            print(f"step {s} mm: median {v['median_wall_s']} s, x{v['wall_ratio_to_first']}")
        return 0
    if args.bench:
        volume = find_cases(args.volumes, None)[0].volume
        fig = {
            "model": portable_path(detector.model.path),
            "machine": machine(),
            **bench(detector, volume, args.bench),
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
        print(json.dumps(fig, indent=2))
        return 0
    names = None
    if args.labels:
        csv = (
            Path(args.label_names)
            if args.label_names
            else Path(args.labels).parent / "muse_rois.csv"
        )
        names = read_label_names(csv) if csv.is_file() else None
    every = max(1, int(round(args.level_step / LEVEL_STEP_MM)))
    levels = list(BRAIN_LEVELS_MM)[::every] if args.all_levels else None
    figures = evaluate(
        detector,
        args.volumes,
        args.masks,
        labels_dir=args.labels,
        label_names=names,
        limit=args.limit,
        batch=args.batch,
        levels=levels,
        progress=True,
        level_step_mm=args.level_step,
        z_smoothing=not args.no_z_smoothing,
    )
    model_path = getattr(detector.model, "path", None)
    figures = {
        **{k: figures[k] for k in CONTRACT_KEYS},
        "model": portable_path(model_path) if model_path else "default (shipped)",
        "method": detector.method.name,
        "preset": detector.preset,
        "level_aware": bool(detector.level_aware),
        "all_levels_forced": bool(args.all_levels),
        "level_step_mm": args.level_step,
        "batch": args.batch or (CPU_BATCH if detector.model.device.type == "cpu" else GPU_BATCH),
        "machine": machine(),
        "volumes_dir": portable_path(args.volumes),
        "masks_dir": portable_path(args.masks) if args.masks else None,
        **{k: v for k, v in figures.items() if k not in CONTRACT_KEYS},
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    brief = {k: v for k, v in figures.items() if k not in ("per_volume", "notes")}
    print(json.dumps(brief, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
