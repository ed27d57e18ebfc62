"""2D alignment of an axial slice to the detector's training grid (similarity transform).

The detector learned MNI-registered slices: the head at one position, size and angle on a
233 x 197 grid at 1 mm. A 2D upload (PNG, JPEG, a single DICOM) keeps its own framing. Here the
slice is registered in 2D to the shipped skull-on head template's slice at the trained level
(SimpleITK `Similarity2DTransform`: rotation, isotropic scale, translation; Mattes mutual
information, three resolution levels) and resampled on the training grid, as a volume's
registered slice is. Whether the analysis uses it is decided by measurement
(`python -m eval.align2d`, see the README): it is applied only where it lowers the false
positives on real healthy slices without losing lesions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.domain.geometry import trained_level_mm, training_grid
from assistant.domain.model import load_domain_model
from assistant.domain.register import normalise_volume
from assistant.scan import Scan, ScanError


@dataclass
class Aligned2D:
    """A 2D slice resampled on the training grid.

    scan: the aligned slice (233 x 197, 1 mm, raw intensities). to_original: 3 x 3 matrix mapping
    a training-grid pixel (row, col, 1) to the original image's (row, col). scale: original pixels
    per training-grid mm; angle_deg: the rotation; metric: final Mattes MI (lower is better).
    """

    scan: Scan
    to_original: np.ndarray
    scale: float
    angle_deg: float
    metric: float
    seconds: float

    def original_pixel(self, row: float, col: float) -> tuple[int, int]:
        r, c, _ = self.to_original @ np.array([row, col, 1.0])
        return int(round(r)), int(round(c))

    def to_dict(self) -> dict:
        return {
            "scale": round(self.scale, 4),
            "angle_deg": round(self.angle_deg, 2),
            "metric": round(self.metric, 4),
            "seconds": round(self.seconds, 3),
            "to_original": np.round(self.to_original, 5).tolist(),
        }


@lru_cache(maxsize=2)
def template_slice(model_dir: str | None = None) -> np.ndarray:
    """The head template at the trained level on the training grid (233 x 197, [0, ~1])."""
    t = load_domain_model(model_dir).head_template
    vol, origin, step = np.asarray(t["volume"]), np.asarray(t["origin"]), float(t["step"])
    pts = training_grid(trained_level_mm()).points().reshape(-1, 3)  # (x, y, z) mm
    idx = ((pts - origin) / step)[:, ::-1].T  # (k, j, i) = (z, y, x) indices
    img = ndimage.map_coordinates(vol, idx, order=1, mode="constant", cval=0.0)
    return img.reshape(training_grid().shape).astype(np.float32)


def align_slice(scan: Scan, model_dir: str | Path | None = None) -> Aligned2D:
    """Register a 2D axial slice to the template slice (similarity) and resample it."""
    import SimpleITK as sitk

    if scan.is_volume:
        raise ScanError("2D alignment takes one slice; a volume is registered in 3D")
    t0 = time.perf_counter()
    fixed_arr = template_slice(None if model_dir is None else str(model_dir))
    moving_arr = normalise_volume(np.asarray(scan.pixels, dtype=np.float32))
    fixed = sitk.GetImageFromArray(fixed_arr)  # index (x, y) = (col, row), 1 unit a pixel
    moving = sitk.GetImageFromArray(moving_arr)
    # start: match the heads' centres of mass and areas (the moving image's unit is its pixel)
    fm, mm = fixed_arr > 0.1, moving_arr > 0.1
    if mm.sum() < 50:
        raise ScanError("the image has almost no foreground to align")
    scale0 = float(np.sqrt(mm.sum() / max(fm.sum(), 1)))
    cf = np.array(ndimage.center_of_mass(fm))[::-1]  # (x, y)
    cm = np.array(ndimage.center_of_mass(mm))[::-1]
    init = sitk.Similarity2DTransform()
    init.SetCenter(tuple(float(v) for v in cf))
    init.SetScale(scale0)
    init.SetTranslation(tuple(float(v) for v in cm - cf))
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(32)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(0.25, 1)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(1.0, 1e-3, 200, relaxationFactor=0.6)
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([4, 2, 1])
    reg.SetSmoothingSigmasPerLevel([2.0, 1.0, 0.0])
    reg.SetInitialTransform(init, inPlace=False)
    tx = reg.Execute(fixed, moving)
    # fixed (x, y) -> moving (x, y) as a matrix, then in (row, col) order
    p0 = np.array(tx.TransformPoint((0.0, 0.0)))
    px = np.array(tx.TransformPoint((1.0, 0.0))) - p0
    py = np.array(tx.TransformPoint((0.0, 1.0))) - p0
    m = np.array([[py[1], px[1], p0[1]], [py[0], px[0], p0[0]], [0.0, 0.0, 1.0]])
    rows, cols = np.mgrid[0 : fixed_arr.shape[0], 0 : fixed_arr.shape[1]].astype(np.float64)
    r = m[0, 0] * rows + m[0, 1] * cols + m[0, 2]
    c = m[1, 0] * rows + m[1, 1] * cols + m[1, 2]
    raw = np.asarray(scan.pixels, dtype=np.float32)
    img = ndimage.map_coordinates(raw, [r, c], order=1, mode="constant", cval=float(raw.min()))
    scale = float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))
    angle = float(np.degrees(np.arctan2(px[1], px[0])))
    note = (
        f"aligned in 2D to the training grid (similarity: scale {scale:.2f} image pixels per "
        f"mm, rotation {angle:+.1f} degrees)"
    )
    # a training-grid pixel spans `scale` original pixels: physical only if the original had
    # a spacing (a PNG has none, and the template's 1 mm would be a guess)
    spacing = None
    if scan.spacing is not None and len(scan.spacing) == 2:
        spacing = (float(scan.spacing[0]) * scale, float(scan.spacing[1]) * scale)
    view = Scan(
        pixels=img.astype(np.float32),
        spacing=spacing,
        patient_left=scan.patient_left,
        modality=scan.modality,
        window=None,
        format=scan.format,
        notes=[*scan.notes, note],
        metadata=dict(scan.metadata),
    )
    return Aligned2D(view, m, scale, angle, float(reg.GetMetricValue()), time.perf_counter() - t0)


# a slice on the training grid aligns to the head template with nearly the identity: the 58
# healthy mid-axial val slices at scale 0.96-1.00 (10 looked at), rotation within 2 degrees;
# skull-stripped slices on the grid (the shipped examples, from nilearn's MNI152 brain) at scale
# 0.81, since only the brain, smaller than the head, is matched to the head
GRID_SCALE_RANGE = (0.75, 1.08)
GRID_ANGLE_TOL_DEG = 4.0
GRID_SHIFT_TOL_PX = 8.0


def on_training_grid(scan: Scan, model_dir: str | Path | None = None) -> bool:
    """Whether a 2D slice is already on the detector's training grid (an MNI-registered
    slice, like the training slices): the grid's shape, and a 2D alignment to the template
    slice that is nearly the identity. A native slice (a clinician's PNG) is not."""
    if scan.is_volume or scan.pixels.shape != training_grid().shape:
        return False
    try:
        m = align_slice(scan, model_dir).to_original
    except ScanError:
        return False
    scale = float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    centre = np.array([(scan.pixels.shape[0] - 1) / 2, (scan.pixels.shape[1] - 1) / 2, 1.0])
    shift = float(np.hypot(*(m @ centre - centre)[:2]))  # where the grid's centre lands
    return (
        GRID_SCALE_RANGE[0] <= scale <= GRID_SCALE_RANGE[1]
        and abs(angle) <= GRID_ANGLE_TOL_DEG
        and shift <= GRID_SHIFT_TOL_PX
    )
