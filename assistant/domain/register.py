"""Volume registration to the detector's MNI frame (SimpleITK) and the slice at the trained level.

`register_volume(scan)` registers a 3D T1 head volume to the skull-on head template that
`assistant.domain.fit` builds in MNI space (affine, Mattes mutual information, two resolution
levels, random sampling), then resamples the volume on the training slices' grid at the
trained level and maps that slice's pixels back to native voxels. Rigid vs affine was measured
on the val volumes (`python -m assistant.domain.fit`, `registration` in the fit report).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain.geometry import (
    SliceGrid,
    sitk_from_template_zyx,
    sitk_from_zyx,
    trained_level_mm,
    training_grid,
)
from assistant.domain.model import DomainModel, load_domain_model
from assistant.scan import Scan, ScanError


@dataclass(frozen=True)
class RegConfig:
    """SimpleITK registration settings (`kind`: "rigid" or "affine")."""

    kind: str = "affine"
    shrink: tuple[int, ...] = (4, 2)
    sigmas: tuple[float, ...] = (2.0, 1.0)
    iterations: int = 60
    sampling: float = 0.1
    learning_rate: float = 2.0
    bins: int = 32
    seed: int = 1
    threads: int = 2
    sampling_per_level: tuple[float, ...] | None = None  # default: `sampling` at every level
    # optimisations from the same start with seeds seed, seed + 1, ... (their random metric
    # samples differ): the one whose result has the best NCC with the template is kept
    starts: int = 1
    # stop once a start reaches this similarity (None: always run all `starts`; one after another)
    retry_below: float | None = None
    # run all starts side by side, each on threads // starts threads (one thread each: the same
    # result on every run, which two threads sharing one optimisation do not give)
    parallel: bool = False
    # restrict the metric to the template's head (`HEAD_LEVEL`), dilated by this many template
    # voxels (None: the whole template box, background included)
    mask_dilation: int | None = None
    # at most this many optimiser iterations at each level (None: `iterations` at every level)
    iterations_per_level: tuple[int, ...] | None = None


# run time: a median 1.7 s per 2 mm volume on 2 cores. Three levels (8, 4, 2 x the 2 mm
# template) with dense sampling at the coarse ones: on 6 val volumes the median level error
# against the fitting registration fell from 1.2 to 0.8 mm and the worst from 11.3 to 2.6 mm (a
# nose-up head) at the same cost as two levels at 10% (runs/domain/exp_reg3.py). Denser
# sampling at the finer levels and the better of two starts (seeds): with one start at (1.0,
# 0.25, 0.05) the random metric samples alone moved a volume's similarity by up to 0.3 (e.g.
# 0.45 -> 0.76) and decided whether a healthy volume got a finding; a start can still fail
# (0.707 vs 0.773 on one volume). At most 60 iterations at the finest, costliest level (a
# typical volume needs 12-40 there; a failing start ran 150). The two starts run side by side
# on one thread each: one after another on two threads, the slowest volume (a steeply pitched
# head) took 4.3-4.8 s, and two threads summing one metric in varying order made the result
# differ from run to run. On the 167 train + val volumes (`python -m
# eval.registration_settings`, eval/results/registration_settings.json): the better of two
# starts gave 1-2 volumes with a finding, a second start only below similarity 0.8 gave 3.
FAST = RegConfig(
    shrink=(8, 4, 2),
    sigmas=(4.0, 2.0, 1.0),
    sampling_per_level=(1.0, 0.5, 0.25),
    iterations=150,
    iterations_per_level=(150, 150, 60),
    starts=2,
    parallel=True,
)
ACCURATE = RegConfig(iterations=100, sampling=0.1)  # fitting: skull-stripped train volumes


def _method(cfg: RegConfig, shrink, sigmas, iterations: int):
    import SimpleITK as sitk

    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(cfg.bins)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    per_level = list(cfg.sampling_per_level or [cfg.sampling] * len(shrink))
    reg.SetMetricSamplingPercentagePerLevel(per_level, cfg.seed)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(
        cfg.learning_rate, 1e-2, iterations, relaxationFactor=0.6
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel(list(shrink))
    reg.SetSmoothingSigmasPerLevel(list(sigmas))
    return reg


def affine_register(
    fixed, moving, cfg: RegConfig = FAST, fixed_mask=None
) -> tuple[np.ndarray, float]:
    """Register `moving` to `fixed` (SimpleITK images in the same RAS frame; `fixed_mask`: an
    optional uint8 image on `fixed`'s grid where the metric is sampled).

    Returns (4x4 matrix mapping fixed physical points to moving physical points, final Mattes
    MI metric value; lower is better). Initialised by aligning the intensity moments, then
    optimised (rigid or affine) over the `cfg.shrink` resolution levels.
    """
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(cfg.threads)
    start = sitk.CenteredTransformInitializer(
        fixed, moving, sitk.Euler3DTransform(), sitk.CenteredTransformInitializerFilter.MOMENTS
    )
    if cfg.kind == "rigid":
        init = start
    else:
        init = sitk.AffineTransform(3)
        init.SetCenter(start.GetCenter())
        init.SetMatrix(start.GetMatrix())
        init.SetTranslation(start.GetTranslation())
    reg = _method(cfg, cfg.shrink, cfg.sigmas, cfg.iterations)
    if fixed_mask is not None:
        reg.SetMetricFixedMask(fixed_mask)
    if cfg.iterations_per_level is not None:
        _cap_levels(reg, cfg.iterations_per_level)
    reg.SetInitialTransform(init, inPlace=False)
    out = reg.Execute(fixed, moving)
    return transform_matrix(out), float(reg.GetMetricValue())


def _cap_levels(reg, caps: tuple[int, ...]) -> None:
    """End each resolution level's optimisation after `caps[level]` iterations (the next level
    then starts from where it stopped)."""
    import SimpleITK as sitk

    count = [0]

    def new_level():
        count[0] = 0

    def iteration():
        count[0] += 1
        if count[0] >= caps[min(reg.GetCurrentLevel(), len(caps) - 1)]:
            reg.StopRegistration()

    reg.AddCommand(sitk.sitkMultiResolutionIterationEvent, new_level)
    reg.AddCommand(sitk.sitkIterationEvent, iteration)


def transform_matrix(tx) -> np.ndarray:
    """A SimpleITK affine-like (possibly composite) transform -> 4x4 homogeneous matrix."""
    pts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64) * 100.0
    mapped = np.array([tx.TransformPoint(tuple(p)) for p in pts])
    m = np.eye(4)
    m[:3, 3] = mapped[0]
    m[:3, :3] = ((mapped[1:] - mapped[0]) / 100.0).T
    return m


def physical_to_voxel(img) -> np.ndarray:
    """4x4 matrix: RAS physical mm of `img` -> scan-layout voxel (z, y, x) continuous index."""
    sp = np.array(img.GetSpacing())
    d = np.array(img.GetDirection()).reshape(3, 3)
    o = np.array(img.GetOrigin())
    to_ijk = np.eye(4)
    to_ijk[:3, :3] = np.linalg.inv(d * sp[None, :])
    to_ijk[:3, 3] = -to_ijk[:3, :3] @ o
    reorder = np.zeros((4, 4))
    reorder[0, 2] = reorder[1, 1] = reorder[2, 0] = reorder[3, 3] = 1.0  # (i, j, k) -> (k, j, i)
    return reorder @ to_ijk


@dataclass
class Registered:
    """A volume registered to MNI space, and its slice at the detector's trained level.

    scan: the 2D slice at the trained level on the training grid (233 x 197, 1 mm, row 0
        anterior, column 0 the patient's left), raw intensities, ready for the detector.
    mni_to_voxel: 4x4 matrix mapping MNI RAS mm to native (z, y, x) voxel indices.
    native_coords: (233, 197, 3) float native (z, y, x) voxel coordinates of each slice pixel.
    slice_index: the native axial slice nearest the trained level where it crosses the brain's
        centre line (`slice_levels`).
    level_mm: MNI z of the resampled slice. similarity: normalised cross-correlation of the
    registered volume with the head template (registration quality). metric: final Mattes MI.
    """

    scan: Scan
    mni_to_voxel: np.ndarray
    native_coords: np.ndarray
    slice_index: int
    level_mm: float
    similarity: float
    metric: float
    seconds: float
    kind: str = "affine"
    notes: list[str] = field(default_factory=list)

    @property
    def voxel_to_mni(self) -> np.ndarray:
        return np.linalg.inv(self.mni_to_voxel)

    def native_voxel(self, row: int, col: int) -> tuple[int, int, int]:
        """The native (z, y, x) voxel (rounded) under pixel (row, col) of the slice."""
        z, y, x = self.native_coords[int(row), int(col)]
        return int(round(z)), int(round(y)), int(round(x))

    def in_native_space(self, result):
        """A `DetectionResult` of this registered slice with each finding's native (z, y, x)
        voxel under its centroid and that voxel's axial slice; the result's slice: the nearest
        native slice."""

        def native(f):
            z, y, x = self.native_voxel(*(int(round(v)) for v in f.centroid))
            return replace(f, native_voxel=(z, y, x), slice_index=z)

        return replace(
            result,
            findings=[native(f) for f in result.findings],
            weak_findings=[native(f) for f in result.weak_findings],
            slice_index=self.slice_index,
        )

    def at_level(self, volume_scan: Scan, z_mm: float, slice_index: int) -> Registered:
        """The same registration cut at MNI z `z_mm` instead of the trained level (another of
        the levels a volume is analysed at), named after the native axial slice
        `slice_index` the user chose; `volume_scan`: the registered volume."""
        img, coords = sample_grid(volume_scan.pixels, self.mni_to_voxel, training_grid(z_mm))
        note = (
            f"registered to MNI ({self.kind}, mutual information); axial plane at MNI z = "
            f"{z_mm:+.0f} mm resampled on the 1 mm training grid, shown for native slice "
            f"{slice_index}"
        )
        view = replace(self.scan, pixels=img, notes=[*volume_scan.notes, note])
        return replace(
            self,
            scan=view,
            native_coords=coords,
            slice_index=int(slice_index),
            level_mm=float(z_mm),
            notes=[note],
        )

    def level_of_slice(self, index: int) -> float:
        """MNI z (mm) of native axial slice `index`, where it crosses the brain's centre line
        (`BRAIN_CENTRE_MNI`): a pitched head's slice is higher at the front than at the back."""
        return float(slice_levels(self.mni_to_voxel, [index], self.level_mm)[0])

    def to_dict(self) -> dict:
        return {
            "level_mm": round(self.level_mm, 2),
            "slice_index": self.slice_index,
            "similarity": round(self.similarity, 4),
            "metric": round(self.metric, 4),
            "seconds": round(self.seconds, 3),
            "kind": self.kind,
            "mni_to_voxel": np.round(self.mni_to_voxel, 6).tolist(),
            "notes": list(self.notes),
        }


BRAIN_CENTRE_MNI = (0.0, -18.0)  # (x, y) mm: centroid of the template's brain at the level


def slice_levels(mni_to_voxel: np.ndarray, indices, z_mm: float) -> np.ndarray:
    """MNI z (mm) of native axial slices `indices` at the native (y, x) under the brain's
    centre (`BRAIN_CENTRE_MNI`) at MNI z `z_mm`."""
    centre = mni_to_voxel @ np.array([*BRAIN_CENTRE_MNI, z_mm, 1.0])
    voxel_to_mni = np.linalg.inv(mni_to_voxel)
    pts = np.array([[k, centre[1], centre[2], 1.0] for k in indices], dtype=np.float64)
    return (voxel_to_mni @ pts.T)[2]


# the brain's front-back and left-right extent in MNI mm (y, x), about
BRAIN_EXTENT_MNI = ((-104.0, 72.0), (-70.0, 70.0))


def native_slice_spans(
    mni_to_voxel: np.ndarray, indices, z_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest MNI z (mm) that each native axial slice of `indices` reaches
    within the brain's extent (`BRAIN_EXTENT_MNI`, its corners taken at MNI z `z_mm`): one level
    for a head aligned with the template, a range for a tilted one."""
    corners = np.array(
        [[x, y, z_mm, 1.0] for y in BRAIN_EXTENT_MNI[0] for x in BRAIN_EXTENT_MNI[1]]
    )
    rows_cols = (mni_to_voxel @ corners.T)[1:3]  # the corners' native (y, x)
    z_row = np.linalg.inv(mni_to_voxel)[2]  # native voxel -> MNI z
    k = np.asarray(list(indices), dtype=np.float64)[:, None]
    z = z_row[0] * k + z_row[1] * rows_cols[0] + z_row[2] * rows_cols[1] + z_row[3]
    return z.min(axis=1), z.max(axis=1)


def native_slice_span(mni_to_voxel: np.ndarray, index: int, z_mm: float) -> tuple[float, float]:
    """`native_slice_spans` of one slice."""
    lo, hi = native_slice_spans(mni_to_voxel, [index], z_mm)
    return float(lo[0]), float(hi[0])


def normalise_volume(pixels: np.ndarray) -> np.ndarray:
    """Intensities / the 99th percentile of the non-zero voxels, clipped to [0, 1.5]."""
    vals = pixels[pixels > 0]
    hi = float(np.percentile(vals, 99)) if vals.size else 1.0
    return np.clip(pixels / max(hi, 1e-6), 0.0, 1.5).astype(np.float32)


def head_template(model: DomainModel):
    """The skull-on head template (SimpleITK image, MNI RAS frame) shipped with the model."""
    t = model.head_template
    return sitk_from_template_zyx(t["volume"], t["origin"], float(t["step"]))


HEAD_LEVEL = 0.05  # template intensity above which a voxel counts as head (mask, similarity)


def head_mask(model: DomainModel, dilation: int):
    """The template's head (> `HEAD_LEVEL`) dilated by `dilation` voxels: a uint8 SimpleITK
    image on the template's grid."""
    import SimpleITK as sitk

    t = model.head_template
    head = np.asarray(t["volume"], dtype=np.float32) > HEAD_LEVEL
    if dilation > 0:
        head = ndimage.binary_dilation(head, iterations=dilation)
    img = sitk_from_template_zyx(head.astype(np.float32), t["origin"], float(t["step"]))
    return sitk.Cast(img, sitk.sitkUInt8)


def sample_grid(volume: np.ndarray, mni_to_voxel: np.ndarray, grid: SliceGrid, order: int = 1):
    """Sample `volume` (Z, Y, X) on `grid` (MNI) -> (image, (rows, cols, 3) voxel coordinates)."""
    pts = grid.points().reshape(-1, 3)
    vox = (mni_to_voxel[:3, :3] @ pts.T + mni_to_voxel[:3, 3:4]).T
    img = ndimage.map_coordinates(volume, vox.T, order=order, mode="constant", cval=0.0)
    return img.reshape(grid.shape).astype(np.float32), vox.reshape(*grid.shape, 3)


def similarity(volume01: np.ndarray, mni_to_voxel: np.ndarray, model: DomainModel) -> float:
    """NCC between the volume resampled on the head template grid and the template (in head)."""
    t = model.head_template
    tv = np.asarray(t["volume"], dtype=np.float32)
    step = float(t["step"])
    k, j, i = np.mgrid[0 : tv.shape[0] : 2, 0 : tv.shape[1] : 2, 0 : tv.shape[2] : 2]
    pts = np.stack([i, j, k], -1).reshape(-1, 3) * step + np.asarray(t["origin"])
    vox = mni_to_voxel[:3, :3] @ pts.T + mni_to_voxel[:3, 3:4]
    moved = ndimage.map_coordinates(volume01, vox, order=1, mode="constant", cval=0.0)
    ref = tv[::2, ::2, ::2].ravel()
    keep = ref > HEAD_LEVEL
    a, b = moved[keep] - moved[keep].mean(), ref[keep] - ref[keep].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-9))


def register_matrix(
    volume_scan: Scan,
    *,
    model_dir: str | Path | None = None,
    config: RegConfig | None = None,
) -> tuple[np.ndarray, float, float, RegConfig]:
    """Register a 3D head volume (scan layout, with spacing) to the MNI head template.

    Returns (4x4 MNI RAS mm -> native (z, y, x) voxel matrix, final Mattes MI metric, NCC
    similarity with the template, the registration settings used)."""
    if not volume_scan.is_volume:
        raise ScanError("registration needs a 3D volume; a 2D image was given")
    if volume_scan.spacing is None or len(volume_scan.spacing) != 3:
        raise ScanError("the volume has no voxel spacing: it cannot be registered to MNI space")
    model = load_domain_model(model_dir)
    cfg = config or replace(FAST, kind=model.registration.get("kind", FAST.kind))
    vol01 = normalise_volume(volume_scan.pixels)
    return *register_to_template(vol01, volume_scan.spacing, model, cfg), cfg


def register_to_template(
    vol01: np.ndarray, spacing, model: DomainModel, cfg: RegConfig
) -> tuple[np.ndarray, float, float]:
    """Register a normalised volume (`normalise_volume`, scan layout) to `model`'s head
    template, once per start (`cfg.starts`; seeds `cfg.seed`, +1, ...), and keep the start with
    the best similarity (the earliest on a tie). With `cfg.parallel` all starts run side by
    side on threads (SimpleITK releases the GIL while it registers); otherwise one after
    another, and with `cfg.retry_below` only until a start reaches that similarity.
    Returns (MNI RAS mm -> native voxel matrix, its Mattes MI metric, its NCC similarity)."""
    import SimpleITK as sitk

    moving = sitk_from_zyx(vol01, spacing)
    fixed, to_voxel = head_template(model), physical_to_voxel(moving)
    mask = None if cfg.mask_dilation is None else head_mask(model, cfg.mask_dilation)
    starts = max(1, cfg.starts)
    threads = max(1, cfg.threads // starts) if cfg.parallel else cfg.threads
    runs = [replace(cfg, seed=cfg.seed + k, threads=threads) for k in range(starts)]

    def one(run: RegConfig) -> tuple[np.ndarray, float, float]:
        fixed_to_moving, metric = affine_register(fixed, moving, run, fixed_mask=mask)
        mni_to_voxel = to_voxel @ fixed_to_moving
        return mni_to_voxel, metric, similarity(vol01, mni_to_voxel, model)

    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    try:
        if cfg.parallel and starts > 1:
            with ThreadPoolExecutor(starts) as pool:
                results = list(pool.map(one, runs))
        else:
            results = []
            for run in runs:
                results.append(one(run))
                best = max(r[2] for r in results)
                if cfg.retry_below is not None and best >= cfg.retry_below:
                    break
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)
    return max(results, key=lambda r: r[2])


def register_volume(
    volume_scan: Scan,
    *,
    model_dir: str | Path | None = None,
    config: RegConfig | None = None,
) -> Registered:
    """Register a 3D head volume to the MNI head template and cut it at the trained level.

    Raises ScanError for a 2D scan or a volume without spacing. The slice is resampled on the
    training grid (`assistant.domain.geometry.training_grid`) with linear interpolation.
    """
    load_domain_model(model_dir)  # once per process (cached): not part of `seconds`
    t0 = time.perf_counter()
    mni_to_voxel, metric, sim, cfg = register_matrix(
        volume_scan, model_dir=model_dir, config=config
    )
    grid = training_grid()
    img, coords = sample_grid(volume_scan.pixels, mni_to_voxel, grid)
    index = _nearest_slice(mni_to_voxel, grid.z, volume_scan.pixels.shape[0])
    notes = [
        f"registered to MNI ({cfg.kind}, mutual information); axial slice at MNI z = "
        f"{grid.z:+.0f} mm resampled on the 1 mm training grid; nearest native slice {index}"
    ]
    view = Scan(
        pixels=img,
        spacing=(grid.step, grid.step),
        patient_left="image_left",
        modality=volume_scan.modality,
        window=None,
        format=volume_scan.format,
        notes=[*volume_scan.notes, *notes],
        metadata=dict(volume_scan.metadata),
    )
    seconds = time.perf_counter() - t0
    return Registered(
        view, mni_to_voxel, coords, index, trained_level_mm(), sim, metric, seconds, cfg.kind, notes
    )


def _nearest_slice(mni_to_voxel: np.ndarray, z_mm: float, n_slices: int) -> int:
    """The native axial slice whose level (`slice_levels`) is nearest `z_mm`."""
    levels = slice_levels(mni_to_voxel, range(n_slices), z_mm)
    return int(np.argmin(np.abs(levels - z_mm)))
