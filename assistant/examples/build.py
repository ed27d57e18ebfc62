"""Build the offline example scans of the app: `python -m assistant.examples.build`.

Every example is made from the skull-on head template that ships with the detector (the mean
of the 146 IXI train T1 volumes registered to MNI space, `assistant/weights/ixi-t1-128/domain/
head_template.npz`), resampled on the 1 mm grid of nilearn's MNI152 2009 template, with a
synthetic lesion painted by `assistant.synth.synthesize_lesion` (or none, for the normal one).
They are never real patients, and, being an average, smoother than any real scan. The skull and
scalp are on, like the detector's training scans: nilearn's template itself is skull-stripped,
which the applicability check refuses (`assistant.domain.skull`). Axial slices are taken as
`template[:, :, k].T[::-1]`: row 0 anterior, column 0 the patient's left (neurological
convention, like the IXI slices).

Written into this folder (see `assistant.examples.EXAMPLES` for what each one holds):
- three 8-bit PNG slices (one normal, a left and a right lesion);
- one 16-bit MR DICOM slice (pydicom; no patient identifiers, generated UIDs only);
- one small NIfTI volume (9 axial 1 mm slices around the mid-axial level, uint8, gzip) with
  a lesion spanning several slices;
- `examples.json`: the truth of each example (kind, side, slice) for tests and the README.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.examples import EXAMPLES_DIR

logger = logging.getLogger(__name__)

MID_LEVEL = 95  # the IXI mid-axial level of the 1 mm template (MNI z = +23 mm)
# the 2D examples' level: 2 mm below it. The level estimated from the image (`assistant.domain`)
# reads the smooth average head 2-4 mm high (more with a lesion drawn), so at MID_LEVEL itself a
# lesioned example would sit at the edge of the 4.5 mm tolerance
EXAMPLE_LEVEL = MID_LEVEL - 2
VOLUME_LEVELS = range(89, 98)  # 9 slices for the NIfTI example, the middle one 2 mm below
SEED = 20240611


SOURCE = "IXI average head (the detector's skull-on head template), on the MNI152 1 mm grid"


def template() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(volume (x, y, z) float32, brain mask (x, y, z) bool, affine (4, 4)): the skull-on head
    template resampled (linear) on the 1 mm grid of nilearn's MNI152 template; the brain mask
    of each axial slice from its intensities (`assistant.preprocess.brain_mask`)."""
    from nilearn.datasets import load_mni152_template

    from assistant.domain.model import load_domain_model
    from assistant.preprocess import brain_mask, to_unit

    grid = load_mni152_template(resolution=1)
    affine, shape = np.asarray(grid.affine), grid.shape[:3]
    head = load_domain_model().head_template
    hvol, origin, step = np.asarray(head["volume"]), np.asarray(head["origin"]), float(head["step"])
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1).reshape(-1, 3)
    mm = ijk @ affine[:3, :3].T + affine[:3, 3]
    idx = ((mm - origin) / step)[:, ::-1].T  # (z, y, x) indices of the head template
    vol = ndimage.map_coordinates(hvol.astype(np.float32), idx, order=1, cval=0.0)
    vol = vol.reshape(shape)
    brain = np.zeros(shape, dtype=bool)
    for k in range(shape[2]):
        if vol[:, :, k].max() > 0:
            brain[:, :, k] = unaxial(brain_mask(to_unit(axial(vol, k))))
    return vol, brain, affine


def axial(vol: np.ndarray, k: int) -> np.ndarray:
    """The (Y, X) axial slice k: row 0 anterior, column 0 patient left."""
    return np.ascontiguousarray(vol[:, :, k].T[::-1])


def unaxial(img: np.ndarray) -> np.ndarray:
    """Inverse of `axial` for one slice: (Y, X) -> (x, y)."""
    return np.ascontiguousarray(img[::-1].T)


def _lesion(img01, brain, seed, kind, size_bin, side):
    from assistant.synth import synthesize_lesion

    return synthesize_lesion(img01, brain, np.random.default_rng(seed), kind, size_bin, side)


def write_png(path: Path, img01: np.ndarray) -> None:
    from PIL import Image

    from assistant.render import to_uint8

    Image.fromarray(to_uint8(img01), mode="L").save(path, optimize=True)


def write_dicom(path: Path, img01: np.ndarray, spacing=(1.0, 1.0)) -> None:
    """A de-identified 16-bit MR slice: orientation (patient left on the image left), spacing
    and a display window; generated UIDs; no name, ID, date or institution."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    pixels = np.round(np.clip(img01, 0, 1) * 1000).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.Modality = "MR"
    ds.SeriesDescription = "Synthetic example: IXI average head T1 with a synthetic lesion"
    ds.PatientName = ""
    ds.PatientID = ""
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelSpacing = [float(spacing[0]), float(spacing[1])]
    ds.SliceThickness = 1.0
    # rows run patient left -> right (LPS -x), columns anterior -> posterior (LPS +y)
    ds.ImageOrientationPatient = [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.WindowCenter = 500
    ds.WindowWidth = 1000
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)


def write_nifti(path: Path, vol_xyz: np.ndarray, affine: np.ndarray) -> None:
    import nibabel as nib

    data = np.round(np.clip(vol_xyz, 0, 1) * 255).astype(np.uint8)
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))


def build(out: Path = EXAMPLES_DIR) -> dict:
    """Write every example into `out`; returns the truth dict written to examples.json."""
    from assistant.preprocess import to_unit

    out.mkdir(parents=True, exist_ok=True)
    vol, brain, affine = template()
    truth: dict[str, dict] = {}

    def note(name, les, **extra):
        d = {"kind": None, "side": None, "size_bin": None, "area_px": 0}
        if les is not None:
            d = {k: les.labels()[k] for k in ("kind", "side", "size_bin", "intensity", "area_px")}
            d["centroid"] = [round(float(c), 1) for c in les.centroid]
        truth[name] = {**d, **extra, "synthetic": True, "source": SOURCE}

    mid = to_unit(axial(vol, EXAMPLE_LEVEL))
    mid_brain = axial(brain, EXAMPLE_LEVEL)
    write_png(out / "mni_normal.png", mid)
    note("mni_normal.png", None, format="png", level=EXAMPLE_LEVEL)

    left = _lesion(mid, mid_brain, SEED, "hyperintense", "medium", "left")
    write_png(out / "mni_left_hyperintense.png", left.image)
    note("mni_left_hyperintense.png", left, format="png", level=EXAMPLE_LEVEL)

    lvl = EXAMPLE_LEVEL - 1  # 3 mm below: inside the level tolerance (4.5 mm)
    right = _lesion(to_unit(axial(vol, lvl)), axial(brain, lvl), SEED + 1, "ring", "large", "right")
    write_png(out / "mni_right_ring.png", right.image)
    note("mni_right_ring.png", right, format="png", level=lvl)

    dcm = _lesion(mid, mid_brain, SEED + 2, "hypointense", "medium", "right")
    write_dicom(out / "mni_right_hypointense.dcm", dcm.image)
    note("mni_right_hypointense.dcm", dcm, format="dicom", level=EXAMPLE_LEVEL)

    # volume: one lesion painted at the middle slice, shrinking over the slices around it
    levels = list(VOLUME_LEVELS)
    sub = vol[:, :, levels[0] : levels[-1] + 1]
    lo, hi = float(np.percentile(sub[sub > 0], 0.5)), float(np.percentile(sub, 99.5))
    unit = np.clip((sub - lo) / (hi - lo), 0, 1)  # one window for the whole volume
    c = len(levels) // 2
    base = axial(unit, c)
    # SEED + 4: the lesion SEED + 3 drew scored at the threshold itself (0.226 against 0.225), so
    # the one volume example read as "more likely a false positive than not" (a demo host's trial)
    les = _lesion(base, axial(brain, levels[c]), SEED + 4, "hyperintense", "medium", "left")
    delta = les.image - base
    for j in range(len(levels)):
        dz = abs(j - c)
        if dz > 3:
            continue
        m = ndimage.binary_erosion(les.mask, iterations=3 * dz) if dz else les.mask
        soft = ndimage.gaussian_filter(m.astype(np.float32), 1.0)
        unit[:, :, j] = np.clip(unaxial(axial(unit, j) + delta * soft), 0, 1)
    aff = affine.copy()
    aff[:3, 3] += aff[:3, 2] * levels[0]  # the crop starts at template slice levels[0]
    write_nifti(out / "mni_left_volume.nii.gz", unit, aff)
    note("mni_left_volume.nii.gz", les, format="nifti", slice_index=c, n_slices=len(levels))

    (out / "examples.json").write_text(json.dumps(truth, indent=2) + "\n")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.suffix != ".py"}
    logger.info("wrote %d examples to %s: %s", len(truth), out, sizes)
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="output folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
