"""A whole 3D volume through the detector: every analysable axial level, findings in 3D.

    from assistant.detector import Detector
    from assistant.scan import load_scan
    from assistant.volume import analyze_volume

    result = analyze_volume(load_scan("head_t1.nii.gz"), Detector.from_pretrained())
    for f in result.findings:
        print(f.describe())     # V1: hypointense region, left, white matter, 412 mm³, ...

Steps (each timed into `VolumeResult.timings`):

1. **register** the volume once to the MNI head template (`assistant.domain.register`,
   affine, mutual information);
2. **levels**: a level-aware detector (`Detector.level_aware`) gets every level of
   `BRAIN_LEVELS_MM` (MNI z -50..+78 mm every 2 mm) whose slice holds brain; a level-unaware one
   (the shipped model, trained at MNI z = +23 mm only) gets only the levels within the domain
   model's `level_tolerance` of its trained level, every 2 mm (19, 21, 23, 25, 27 mm), because
   the applicability check refuses any other level;
3. **resample** each level on the training grid (233 x 197, 1 mm), as `assistant.domain.levelset`
   cuts the level sets the level-aware model trains on;
4. **detect** in batches of `batch` slices (`Detector.detect_batch`, with `levels`); when the
   checkpoint has thresholds for it (`Calibration.stack`), the levels' maps are then smoothed
   across levels and thresholded with them (`assistant.volume.smoothing`);
5. **map back** to the native voxels: for each native voxel inside the MNI brain mask (nilearn's,
   dilated by `brain_margin_mm`) whose MNI z lies within half a level step of an analysed level,
   its MNI point (the inverse of the registration) is looked up in the stack of analysed slices
   with `scipy.ndimage.map_coordinates`: the anomaly map and the input - pseudo-healthy
   difference trilinearly (bilinear in-plane, linear between levels), the calibrated mask and
   the 2D findings' ids by nearest neighbour. This is the exact inverse of how the slices were
   cut (one affine), costs one lookup per voxel, and keeps the 2D post-processing (hysteresis,
   minimum area, calibrated thresholds) as it was calibrated; the alternative, "nearest analysed
   slice per native slice", would mis-place a pitched head's voxels by up to a level;
6. **3D findings**: 26-connected components of the native mask (`find_components`), with
   volume in mm³, slice range, centroid (voxel, mm from the volume's centre, MNI), side,
   regions (from a label map of the volume when given, else from the packaged MNI atlas,
   `assistant.volume.regions`) and tissue class (MNI152 grey/white matter maps).

The native voxels that were looked up form `VolumeResult.analysed`: the evaluation's "brain
voxels of analysed slices". Voxels outside it (other levels, outside the brain mask) have
anomaly 0 and are never flagged: with the shipped model most of the brain is *not analysed*.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.detector.data import prepare_slice
from assistant.detector.detector import VOLUME
from assistant.domain import mni
from assistant.domain.geometry import training_grid
from assistant.domain.levelset import BRAIN_LEVELS_MM, MIN_FOREGROUND
from assistant.domain.model import load_domain_model
from assistant.domain.register import (
    BRAIN_CENTRE_MNI,
    register_matrix,
    sample_grid,
    slice_levels,
)
from assistant.findings import side_frame
from assistant.scan import Scan, ScanError
from assistant.volume.components import VolumeFinding, find_components
from assistant.volume.regions import MniAtlas
from assistant.volume.smoothing import applies as smoothing_applies
from assistant.volume.smoothing import smoothed_results

log = logging.getLogger(__name__)

DEFAULT_ATLAS = Path(__file__).resolve().parent / "data" / "muse_mni_2mm.npz"
LEVEL_STEP_MM = 2.0  # spacing of the analysed levels (BRAIN_LEVELS_MM's, the volumes' 2 mm)
BRAIN_MARGIN_MM = 2  # the MNI brain mask's dilation: room for an affine registration's error
MIN_BRAIN_MM2 = 500.0
# slices per detect_batch call: on 2 CPU cores, 2 slices (4 images with the default preset's two
# noise draws) ran 3.4-3.5 s per slice against 3.6-3.9 for 1, 3.8-4.0 for 4 and 4.3-4.5 for 8
# (eval/results/volumes_speed_bench.json); a GPU wants many (16: not measured, no GPU here)
# a 3D finding must lie on at least this many analysed levels (2 mm apart) to count as a
# finding of the volume; on one level only it is reported as weak. On val volumes with
# synthetic lesions in the slab both 3D findings that hit no lesion were single-level, and 1
# of 29 hit lesions was hit on one level only (docs/volumes.md)
MIN_LEVELS = 2
CPU_BATCH = 2
GPU_BATCH = 16  # a level is analysed when the MNI brain mask covers at least this area


@dataclass
class VolumeResult:
    """What `analyze_volume` returns. Native arrays are (Z, Y, X) on the scan's own grid.

    anomaly: float32 anomaly map (0 where not analysed); mask: the calibrated mask; analysed:
    the voxels that were looked up (inside the brain mask at an analysed level); brain: the MNI
    brain mask mapped to the volume. finding_map: i on the voxels of finding Vi. levels: the
    analysed MNI z (mm); level_results: the
    detector's 2D result per level (on the 233 x 197 MNI training grid), in the same order;
    native_slices: each level's nearest native axial slice. slice_scores: per native axial slice
    the highest anomaly over its analysed voxels (None: nothing analysed): the score strip.
    """

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float] | None
    patient_left: str | None
    mni_to_voxel: np.ndarray
    similarity: float | None
    levels: list[float]
    native_slices: list[int]
    level_results: list = field(repr=False)
    anomaly: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    analysed: np.ndarray = field(repr=False)
    brain: np.ndarray = field(repr=False)
    findings: list[VolumeFinding]
    finding_map: np.ndarray = field(repr=False)  # int32: i on the voxels of finding Vi
    slice_scores: list[float | None]
    timings: dict[str, float]
    model: dict
    level_aware: bool
    pixel_threshold: float | None = None
    score_threshold: float | None = None
    unreliable: bool = False  # registration below the domain model's similarity threshold
    notes: list[str] = field(default_factory=list)
    # the Gaussian (mm) the levels' maps were smoothed with across levels (None: not smoothed)
    z_smoothing_mm: float | None = None

    @property
    def score(self) -> float:
        """The volume's score: the highest 2D image score over the analysed levels."""
        return max((float(r.score) for r in self.level_results), default=0.0)

    @property
    def is_abnormal(self) -> bool | None:
        """Whether the volume has a 3D finding that is not weak (None when the detector is
        uncalibrated)."""
        if self.pixel_threshold is None:
            return None
        return any(not f.weak for f in self.findings)

    @property
    def side_frame(self) -> str:
        return side_frame(self.patient_left)

    @property
    def voxel_to_mni(self) -> np.ndarray:
        return np.linalg.inv(self.mni_to_voxel)

    def level_index(self, z_mm: float, tolerance: float = 0.5) -> int | None:
        """The index in `levels` of the analysed level at MNI z `z_mm` (within `tolerance` mm;
        levels are `LEVEL_STEP_MM` apart); None when none is that close."""
        if not self.levels:
            return None
        off = np.abs(np.asarray(self.levels, dtype=float) - float(z_mm))
        return int(off.argmin()) if off.min() < tolerance else None

    def level_of_slice(self, index: int) -> int | None:
        """The analysed level (an index into `levels`) to show native axial slice `index` at:
        of the levels its analysed voxels lie on (a pitched head's slice crosses several), the
        one nearest its level at the brain's centre line (`slice_levels`), so that the level
        rises with the slice; None when none of its voxels was analysed."""
        if not 0 <= int(index) < self.shape[0] or not self.levels:
            return None
        yy, xx = np.nonzero(self.analysed[int(index)])
        if not len(yy):
            return None
        levels = np.asarray(self.levels, dtype=float)
        v2m = self.voxel_to_mni
        z = v2m[2, 0] * int(index) + v2m[2, 1] * yy + v2m[2, 2] * xx + v2m[2, 3]
        touched = np.unique(np.abs(z[:, None] - levels[None, :]).argmin(axis=1))
        centre = float(slice_levels(self.mni_to_voxel, [int(index)], float(levels.mean()))[0])
        return int(min(touched, key=lambda j: (abs(levels[j] - centre), j)))

    def level_of_finding(self, finding: VolumeFinding) -> int | None:
        """The analysed level to show a 3D finding at: the one of its 2D findings' levels
        nearest its centroid (None: no 2D finding on an analysed level)."""
        levels = np.asarray(self.levels, dtype=float)
        found = (self.level_index(d["level_mm"]) for d in finding.slice_findings)
        on = sorted({j for j in found if j is not None})
        if not on:
            return None
        centre = finding.centroid_mni[2] if finding.centroid_mni else float(levels[on].mean())
        return min(on, key=lambda j: (abs(levels[j] - centre), j))

    def level_scores(self) -> list[dict]:
        return [
            {
                "level_mm": round(float(z), 1),
                "native_slice": int(k),
                "score": round(float(r.score), 5),
                "is_abnormal": r.is_abnormal,
                "n_findings": len(r.findings),
            }
            for z, k, r in zip(self.levels, self.native_slices, self.level_results, strict=True)
        ]

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "shape": list(self.shape),
            "spacing_mm": None if self.spacing is None else [round(s, 4) for s in self.spacing],
            "patient_left": self.patient_left,
            "side_frame": self.side_frame,
            "model": dict(self.model),
            "level_aware": self.level_aware,
            "levels_mm": [round(float(z), 1) for z in self.levels],
            "n_levels": len(self.levels),
            "analysed_voxels": int(self.analysed.sum()),
            "analysed_slices": [i for i, s in enumerate(self.slice_scores) if s is not None],
            "registration_similarity": None
            if self.similarity is None
            else round(float(self.similarity), 4),
            "mni_to_voxel": np.round(self.mni_to_voxel, 6).tolist(),
            "score": round(self.score, 5),
            "score_threshold": self.score_threshold,
            "pixel_threshold": self.pixel_threshold,
            "is_abnormal": self.is_abnormal,
            "unreliable": self.unreliable,
            "z_smoothing_mm": self.z_smoothing_mm,
            "findings": [f.to_dict() for f in self.findings],
            "level_scores": self.level_scores(),
            "slice_scores": [None if s is None else round(s, 5) for s in self.slice_scores],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": list(self.notes),
        }


def analysed_range(detector) -> tuple[float, float] | None:
    """The MNI z range (mm) at which a level-aware detector analyses a registered volume
    (`BRAIN_LEVELS_MM`'s ends); None for a one-level detector (or not a `Detector`)."""
    if not getattr(detector, "level_aware", False):
        return None
    return brain_level_range()


def brain_level_range() -> tuple[float, float]:
    """The MNI z range (mm) of `BRAIN_LEVELS_MM`: where a level-aware detector analyses."""
    return float(min(BRAIN_LEVELS_MM)), float(max(BRAIN_LEVELS_MM))


def level_step_for(detector, step_mm: float) -> float:
    """The level step a volume is analysed with: `step_mm` for a level-aware detector (every
    other level at 4 mm); a one-level detector keeps its 2 mm around the trained level."""
    return float(step_mm) if getattr(detector, "level_aware", False) else LEVEL_STEP_MM


def candidate_levels(
    level_aware: bool,
    trained_level: float,
    tolerance: float,
    step: float = LEVEL_STEP_MM,
) -> list[float]:
    """The MNI z (mm) a detector may analyse: every `BRAIN_LEVELS_MM` level for a level-aware
    one (every `step` mm of them from the lowest: a step of 4 mm halves the UNet passes, the
    native slices between two levels then taking their anomaly from both); the trained level
    and its neighbours every `step` mm within `tolerance` otherwise."""
    if level_aware:
        every = max(1, int(round(step / LEVEL_STEP_MM)))
        if not np.isclose(every * LEVEL_STEP_MM, step):
            raise ValueError(f"the level step must be a multiple of {LEVEL_STEP_MM:g} mm: {step}")
        return list(BRAIN_LEVELS_MM)[::every]
    k = int(np.floor(tolerance / step + 1e-9))
    return [float(trained_level + i * step) for i in range(-k, k + 1)]


def _brain_area_mm2(z_mm: float, margin: int) -> float:
    k = int(round(z_mm - mni.MNI_ORIGIN[2]))
    mask = mni.brain_mask(margin)
    return float(mask[:, :, k].sum()) if 0 <= k < mask.shape[2] else 0.0


def level_images(
    pixels: np.ndarray,
    mni_to_voxel: np.ndarray,
    levels: list[float],
    pre,
    brain_margin_mm: int = BRAIN_MARGIN_MM,
) -> tuple[list[np.ndarray], list[float]]:
    """The raw slices of a registered volume at the MNI levels that hold brain, each resampled
    on the training grid, as `analyze_volume` analyses them (and `calibrate_volumes` calibrates
    them): levels whose MNI brain mask covers less than `MIN_BRAIN_MM2`, or whose prepared
    slice has less than `MIN_FOREGROUND` foreground, are left out. Returns (images, levels)."""
    images, kept = [], []
    for z in levels:
        if _brain_area_mm2(z, brain_margin_mm) < MIN_BRAIN_MM2:
            continue
        raw, _ = sample_grid(pixels, mni_to_voxel, training_grid(z))
        if not np.any(raw > 0) or prepare_slice(raw, pre)[1].mean() < MIN_FOREGROUND:
            continue
        images.append(raw)
        kept.append(float(z))
    return images, kept


def _native_lookup(
    scan: Scan,
    mni_to_voxel: np.ndarray,
    levels: list[float],
    step: float,
    margin: int,
    only: int | None = None,
):
    """Per native voxel: inside the MNI brain mask? analysed? and the fractional stack
    coordinates (level index, row, col) of the analysed ones, processed slice by slice (only
    native slice `only` when it is given; the others stay False).

    Returns (brain (Z, Y, X) bool, analysed (Z, Y, X) bool, coords (3, N) float64 of the
    analysed voxels in C order, their MNI points (N, 3))."""
    nz, ny, nx = scan.pixels.shape
    v2m = np.linalg.inv(mni_to_voxel)
    grid = training_grid(levels[0])
    lo, hi = min(levels), max(levels)
    ok_level = np.zeros(int(round((hi - lo) / step)) + 1, dtype=bool)
    ok_level[[int(round((z - lo) / step)) for z in levels]] = True
    mask = mni.brain_mask(margin)
    yy, xx = np.mgrid[0:ny, 0:nx]
    yx = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float64)
    brain = np.zeros((nz, ny, nx), dtype=bool)
    analysed = np.zeros((nz, ny, nx), dtype=bool)
    coords, points = [], []
    for k in range(nz) if only is None else [int(only)]:
        pts = v2m[:3, 0] * k + yx @ v2m[:3, 1:3].T + v2m[:3, 3]  # (ny * nx, 3) MNI mm
        inside = mni.sample(mask, pts, order=0) > 0.5
        brain[k] = inside.reshape(ny, nx)
        li = (pts[:, 2] - lo) / step
        near = np.rint(li).astype(int)
        in_slab = (near >= 0) & (near < len(ok_level)) & (np.abs(li - near) <= 0.5 + 1e-9)
        sel = inside & in_slab
        sel[sel] = ok_level[near[sel]]
        if not sel.any():
            continue
        analysed[k] = sel.reshape(ny, nx)
        p = pts[sel]
        coords.append(
            np.stack(
                [
                    np.clip(li[sel], 0, len(ok_level) - 1),
                    (grid.y0 - p[:, 1]) / grid.step,
                    (p[:, 0] - grid.x0) / grid.step,
                ]
            )
        )
        points.append(p)
    if not coords:
        return brain, analysed, np.zeros((3, 0)), np.zeros((0, 3))
    return brain, analysed, np.concatenate(coords, axis=1), np.concatenate(points)


def slice_is_analysed(
    scan: Scan,
    detector,
    index: int,
    mni_to_voxel: np.ndarray,
    model_dir: str | Path | None = None,
    brain_margin_mm: int = BRAIN_MARGIN_MM,
    level_step_mm: float = LEVEL_STEP_MM,
) -> bool:
    """Whether `analyze_volume(scan, detector, mni_to_voxel=...)` would analyse any voxel of
    native axial slice `index` (`VolumeResult.level_of_slice` is then not None), found from the
    geometry alone, without running the detector (a fraction of a second)."""
    if not 0 <= int(index) < scan.pixels.shape[0]:
        return False
    domain = load_domain_model(domain_dir(detector, model_dir))
    wanted = candidate_levels(
        bool(detector.level_aware), domain.trained_level, domain.level_tolerance, level_step_mm
    )
    pre = detector.model.config.preprocess
    _, kept = level_images(scan.pixels, mni_to_voxel, wanted, pre, brain_margin_mm)
    if not kept:
        return False
    _, analysed, _, _ = _native_lookup(
        scan,
        np.asarray(mni_to_voxel, dtype=np.float64),
        kept,
        level_step_mm,
        brain_margin_mm,
        only=int(index),
    )
    return bool(analysed[int(index)].any())


def _stack(arrays: list[np.ndarray], levels: list[float], step: float, dtype, fill=0):
    """(L, H, W) stack on the regular grid of levels from min to max (missing levels: fill)."""
    lo, hi = min(levels), max(levels)
    n = int(round((hi - lo) / step)) + 1
    out = np.full((n, *arrays[0].shape), fill, dtype=dtype)
    for z, a in zip(levels, arrays, strict=True):
        out[int(round((z - lo) / step))] = a
    return out


def _slice_findings(level_results, levels) -> tuple[list[np.ndarray], list[dict]]:
    """Per level, an int map of its 2D findings (index into the returned list of
    {"level_mm", "id", "confidence", "confidence_level", "peak"}; -1 elsewhere)."""
    maps, flat = [], []
    for z, r in zip(levels, level_results, strict=True):
        ids = np.full(r.mask.shape, -1, dtype=np.int32)
        if r.findings:
            lab, _ = ndimage.label(r.mask, structure=np.ones((3, 3), bool))
            by_bbox = {f.bbox: f for f in r.findings}
            for k, sl in enumerate(ndimage.find_objects(lab), start=1):
                bbox = (sl[0].start, sl[1].start, sl[0].stop, sl[1].stop)
                f = by_bbox.get(bbox)
                if f is None:
                    continue
                ids[lab == k] = len(flat)
                flat.append(
                    {
                        "level_mm": round(float(z), 1),
                        "id": f.id,
                        "confidence": f.confidence,
                        "confidence_level": f.confidence_level,
                        "peak": float(f.peak_anomaly),
                    }
                )
        maps.append(ids)
    return maps, flat


@lru_cache(maxsize=2)
def _load_atlas(path: str) -> MniAtlas:
    return MniAtlas.load(path)


def _atlas(atlas) -> MniAtlas | None:
    """The atlas argument of `analyze_volume` resolved (module docstring of `regions`)."""
    if atlas is False:
        return None
    if atlas is None or atlas is True:
        return _load_atlas(str(DEFAULT_ATLAS)) if DEFAULT_ATLAS.is_file() else None
    if isinstance(atlas, MniAtlas):
        return atlas
    return _load_atlas(str(atlas))


def _native_slice(mni_to_voxel: np.ndarray, z_mm: float, n_slices: int) -> int:
    """The native axial slice through the brain's centre (`BRAIN_CENTRE_MNI`) at MNI z."""
    k = (mni_to_voxel @ np.array([*BRAIN_CENTRE_MNI, z_mm, 1.0]))[0]
    return int(np.clip(np.rint(k), 0, n_slices - 1))


def domain_dir(detector, model_dir=None):
    """The applicability model to use: `model_dir`; else the detector checkpoint's own when it
    has one (`domain/domain.json`); else the shipped one (None)."""
    if model_dir is not None:
        return model_dir
    path = getattr(detector.model, "path", None)
    if path is not None and any(
        (Path(path) / s / "domain.json").is_file() for s in ("domain", ".")
    ):
        return path
    return None


def _model_info(detector) -> dict:
    return {
        # "shipped:NAME" or a custom checkpoint's folder (`DiffusionModel.checkpoint`)
        "checkpoint": getattr(detector.model, "checkpoint", None),
        "method": detector.method.name,
        "preset": detector.preset,
        "level_aware": bool(detector.level_aware),
    }


def analyze_volume(
    scan: Scan,
    detector,
    *,
    batch: int | None = None,
    progress: bool = True,
    levels: list[float] | None = None,
    mni_to_voxel: np.ndarray | None = None,
    model_dir: str | Path | None = None,
    labels: np.ndarray | None = None,
    label_names: dict[int, str] | None = None,
    atlas: MniAtlas | str | Path | bool | None = None,
    brain_margin_mm: int = BRAIN_MARGIN_MM,
    level_step_mm: float = LEVEL_STEP_MM,
    sensitivity: float = 1.0,
    z_smoothing: bool = True,
) -> VolumeResult:
    """Analyse every analysable axial level of a 3D volume; 3D findings (module docstring).

    scan: a 3D `Scan` with spacing (the scan loader's layout). detector: a `Detector`.
    batch: slices per `detect_batch` call (None: `CPU_BATCH` on a CPU, `GPU_BATCH` on a GPU;
    on 2 CPU cores 2 was fastest, measured in `eval/results/volumes_speed_bench.json`). progress: a tqdm bar over the slices. levels: the MNI z to
    analyse (default: `candidate_levels` for the detector, those with brain); they must lie on
    a regular `level_step_mm` grid. mni_to_voxel: a known registration (4x4, MNI RAS mm ->
    native (z, y, x) voxel) instead of registering. model_dir: the checkpoint whose domain
    model (head template, level tolerance, similarity threshold) to use (None: the detector
    checkpoint's own when it has one, else the shipped one). labels / label_names: a label map
    on the volume's grid and its names (region names); atlas: an MNI label atlas (`MniAtlas`
    or its npz file) for region names when there is no label map; None: the packaged one
    (`DEFAULT_ATLAS`) when it is there; False: none. sensitivity: every level's thresholds
    divided by it (`DetectionResult.rethreshold`; the app's sensitivity setting), the volume's too.
    z_smoothing: smooth the levels' maps across levels when the checkpoint has thresholds for
    that at this level step (`assistant.volume.smoothing`); False: never.
    """
    if not scan.is_volume:
        raise ScanError("volume analysis needs a 3D volume; a 2D image was given")
    if scan.spacing is None or len(scan.spacing) != 3:
        raise ScanError("the volume has no voxel spacing: it cannot be registered to MNI space")
    if labels is not None and np.shape(labels) != scan.pixels.shape:
        raise ScanError(
            f"the label map {np.shape(labels)} is not on the volume's grid {scan.pixels.shape}"
        )
    atlas = _atlas(atlas)
    t0 = time.perf_counter()
    c0 = time.process_time()
    timings: dict[str, float] = {}
    notes: list[str] = []
    model_dir = domain_dir(detector, model_dir)
    domain = load_domain_model(model_dir)
    similarity = None
    if mni_to_voxel is None:
        mni_to_voxel, _, similarity, cfg = register_matrix(scan, model_dir=model_dir)
        notes.append(f"registered to MNI ({cfg.kind}, mutual information)")
    else:
        notes.append("registration given by the caller")
    mni_to_voxel = np.asarray(mni_to_voxel, dtype=np.float64)
    t1 = time.perf_counter()
    timings["register_s"] = t1 - t0
    min_sim = float(domain.registration.get("similarity_threshold", 0.0))
    unreliable = similarity is not None and similarity < min_sim
    if unreliable:
        notes.append(
            f"registration similarity {similarity:.2f} is below {min_sim:.2f}: the volume may "
            "not be a T1 head scan or the registration failed; everything below is unreliable"
        )

    level_aware = bool(detector.level_aware)
    if levels is None:
        wanted = candidate_levels(
            level_aware, domain.trained_level, domain.level_tolerance, level_step_mm
        )
        if not level_aware:
            notes.append(
                f"level-unaware detector: only MNI z {min(wanted):+.0f}..{max(wanted):+.0f} mm "
                f"(its trained level {domain.trained_level:+.0f} mm +- "
                f"{domain.level_tolerance:g} mm) is analysed; findings elsewhere cannot be made"
            )
    else:
        wanted = sorted(float(z) for z in levels)
        notes.append(f"levels chosen by the caller: {len(wanted)}")
        off = [z for z in wanted if abs(z - domain.trained_level) > domain.level_tolerance]
        if off and not level_aware:
            notes.append(
                f"{len(off)} of the levels lie outside what this level-unaware detector was "
                "trained on: its maps and findings there are unreliable"
            )
    if not level_aware and hasattr(detector, "in_space"):
        # one threshold for the levels of a volume (`calibrate_slab`), when the checkpoint has it
        detector = detector.in_space(VOLUME)
        if getattr(detector, "calibration_key", "").endswith("+" + VOLUME):
            notes.append(
                "thresholded for whole volumes: about 5% of healthy validation volumes get a "
                "finding over these levels"
            )
    pre = detector.model.config.preprocess
    images, kept = level_images(scan.pixels, mni_to_voxel, wanted, pre, brain_margin_mm)
    t2 = time.perf_counter()
    timings["resample_s"] = t2 - t1
    if not kept:
        raise ScanError(
            "no analysable axial level holds brain in this volume after registration "
            f"(levels tried: {min(wanted):+.0f}..{max(wanted):+.0f} mm)"
        )
    steps = np.diff(sorted(kept))
    if len(steps) and not np.allclose(np.round(steps / level_step_mm), steps / level_step_mm):
        raise ValueError(f"levels must lie on a regular {level_step_mm} mm grid: {kept}")

    nz = scan.pixels.shape[0]
    native_slices = [_native_slice(mni_to_voxel, z, nz) for z in kept]
    if batch is None:
        batch = CPU_BATCH if detector.model.device.type == "cpu" else GPU_BATCH
    results = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(kept), desc="Analysing the volume's levels", unit="level")
    stage = {"preprocess_s": 0.0, "method_s": 0.0, "postprocess_s": 0.0}
    for i in range(0, len(kept), max(1, int(batch))):
        part = slice(i, i + max(1, int(batch)))
        out = detector.detect_batch(
            images[part],
            spacings=[(1.0, 1.0)] * len(images[part]),
            patient_lefts=[scan.patient_left] * len(images[part]),
            slice_indices=native_slices[part],
            levels=kept[part],
        )
        for r in out:
            for key in stage:
                stage[key] += float(r.timings.get(key, 0.0))
        results.extend(out)
        if bar is not None:
            bar.update(len(out))
    if bar is not None:
        bar.close()
    cal = detector.calibration
    z_smoothing_mm = None
    if level_aware and z_smoothing and smoothing_applies(cal, level_step_mm, len(kept)):
        results = smoothed_results(results, kept, level_step_mm, cal)
        z_smoothing_mm = float(cal.stack["z_smoothing_mm"])
        notes.append(
            f"anomaly maps smoothed across levels (Gaussian, {z_smoothing_mm:g} mm) and "
            "thresholded with thresholds fitted on smoothed healthy validation volumes"
        )
    elif level_aware and z_smoothing and cal is not None and cal.stack:
        notes.append(
            f"maps not smoothed across levels: the checkpoint's thresholds for that were fitted "
            f"at a {cal.stack.get('level_step_mm')} mm level step, this volume is analysed at "
            f"{level_step_mm:g} mm"
        )
    if sensitivity != 1.0:
        results = [r.rethreshold(sensitivity) for r in results]
        notes.append(f"thresholds divided by the sensitivity setting {sensitivity:g}")
    t3 = time.perf_counter()
    timings["detect_s"] = t3 - t2
    timings["detect_prepare_s"] = stage["preprocess_s"]
    timings["detect_unet_s"] = stage["method_s"]
    timings["detect_postprocess_s"] = stage["postprocess_s"]

    brain, analysed, coords, points = _native_lookup(
        scan, mni_to_voxel, kept, level_step_mm, brain_margin_mm
    )
    amap_stack = _stack([r.anomaly_map for r in results], kept, level_step_mm, np.float32)
    mask_stack = _stack([r.mask for r in results], kept, level_step_mm, np.uint8)
    delta_stack = _stack(
        [r.image - r.pseudo_healthy for r in results], kept, level_step_mm, np.float32
    )
    id_maps, flat = _slice_findings(results, kept)
    id_stack = _stack(id_maps, kept, level_step_mm, np.int32, fill=-1)
    nearest = np.rint(coords)
    anomaly = np.zeros(scan.pixels.shape, dtype=np.float32)
    mask = np.zeros(scan.pixels.shape, dtype=bool)
    delta = np.zeros(scan.pixels.shape, dtype=np.float32)
    ids = np.full(scan.pixels.shape, -1, dtype=np.int32)
    if coords.shape[1]:
        lin = dict(order=1, mode="nearest")
        anomaly[analysed] = np.clip(ndimage.map_coordinates(amap_stack, coords, **lin), 0, None)
        delta[analysed] = ndimage.map_coordinates(delta_stack, coords, **lin)
        near = dict(order=0, mode="constant", cval=0)
        mask[analysed] = ndimage.map_coordinates(mask_stack, nearest, **near) > 0
        ids[analysed] = ndimage.map_coordinates(
            id_stack, nearest, order=0, mode="constant", cval=-1
        )
    t4 = time.perf_counter()
    timings["map_back_s"] = t4 - t3

    findings, finding_map = find_components(
        mask,
        anomaly,
        spacing=tuple(float(s) for s in scan.spacing),
        patient_left=scan.patient_left,
        voxel_to_mni=np.linalg.inv(mni_to_voxel),
        delta=delta,
        slice_finding=ids,
        slice_findings=flat,
        labels=None if labels is None else np.asarray(labels),
        label_names=label_names,
        atlas=atlas,
        return_labels=True,
    )
    if len(kept) >= MIN_LEVELS:
        for f in findings:
            f.weak = f.n_levels < MIN_LEVELS
    slice_scores: list[float | None] = []
    for k in range(nz):
        sel = analysed[k]
        slice_scores.append(float(anomaly[k][sel].max()) if sel.any() else None)
    t5 = time.perf_counter()
    timings["components_s"] = t5 - t4
    timings["total_s"] = t5 - t0
    timings["cpu_s"] = time.process_time() - c0  # all threads: about 2 x total on 2 idle cores
    if labels is not None:
        notes.append("regions from the label map of this volume")
    elif atlas is not None:
        notes.append(f"regions from an MNI atlas, approximate (a few mm): {atlas.provenance}")
    else:
        notes.append(
            "no label map or atlas: findings are named by side and tissue class (MNI152 grey/"
            "white matter maps) only"
        )
    scale = 1.0 / sensitivity if cal is not None else 1.0
    return VolumeResult(
        shape=tuple(int(s) for s in scan.pixels.shape),
        spacing=tuple(float(s) for s in scan.spacing),
        patient_left=scan.patient_left,
        mni_to_voxel=mni_to_voxel,
        similarity=similarity,
        levels=kept,
        native_slices=native_slices,
        level_results=results,
        anomaly=anomaly,
        mask=mask,
        analysed=analysed,
        brain=brain,
        findings=findings,
        finding_map=finding_map,
        slice_scores=slice_scores,
        timings=timings,
        model=_model_info(detector),
        level_aware=level_aware,
        pixel_threshold=None if cal is None else cal.pixel_threshold * scale,
        score_threshold=None if cal is None else cal.score_threshold * scale,
        unreliable=unreliable,
        notes=notes,
        z_smoothing_mm=z_smoothing_mm,
    )
