"""NIfTI-1/2 images (.nii, .nii.gz) read with nibabel and reoriented to RAS+.

Pixels are laid out (Z, Y, X) as described in `assistant.scan.pixels` (Z inferior -> superior,
row 0 anterior, column 0 the patient's left). gzip-compressed files are unpacked by the caller.
"""

from __future__ import annotations

import io
import logging

import numpy as np

from assistant.scan.pixels import canonical_zyx
from assistant.scan.types import ACCEPTED, LoadLimits, Scan, ScanError

logger = logging.getLogger(__name__)

_UNIT_TO_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}


def _header_class(data: bytes):
    """The nibabel image class for a NIfTI header in `data`, or ScanError."""
    import nibabel as nib

    size_le = int(np.frombuffer(data[:4], dtype="<i4")[0])
    size = size_le if size_le in (348, 540) else int(np.frombuffer(data[:4], dtype=">i4")[0])
    if len(data) < size:
        raise ScanError(f"the NIfTI header is truncated ({len(data)} of {size} bytes)")
    if size == 348:
        magic = data[344:348]
        if magic == b"ni1\x00":
            raise ScanError(
                "this is the .hdr half of a NIfTI .hdr/.img pair; convert it to a single "
                ".nii or .nii.gz file (e.g. nibabel.save(nibabel.load('x.hdr'), 'x.nii.gz'))"
            )
        if magic != b"n+1\x00":
            raise ScanError(
                "the file has a 348-byte Analyze/NIfTI-like header without the NIfTI-1 magic; "
                "Analyze 7.5 images are not accepted (orientation is undefined); " + ACCEPTED
            )
        return nib.Nifti1Image
    if data[4:8] != b"n+2\x00":
        raise ScanError("the file has a 540-byte header without the NIfTI-2 magic; " + ACCEPTED)
    return nib.Nifti2Image


# a 3x3 part whose smallest singular value is below this fraction of its largest is singular (a
# zero row or column, or axes that coincide): no orientation or voxel size can be read from it
SINGULAR_RATIO = 1e-6


def _invertible(affine) -> bool:
    """Whether a 4x4 voxel-to-world affine is finite with an invertible 3x3 part."""
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4) or not np.isfinite(affine).all():
        return False
    sv = np.linalg.svd(affine[:3, :3], compute_uv=False)
    return bool(sv[0] > 0 and sv[-1] > SINGULAR_RATIO * sv[0])


def _form(header, which: str):
    """The header's sform or qform as a 4x4 array, or None when it cannot be computed (nibabel
    raises for an invalid quaternion)."""
    try:
        return header.get_sform() if which == "sform" else header.get_qform()
    except Exception:  # noqa: BLE001 - any failure: this transform is unusable
        return None


def usable_affine(header) -> tuple[np.ndarray, str | None]:
    """The voxel-to-world affine to read a NIfTI header with, and a note when it is not the one
    the header prefers: its sform (sform_code > 0), else its qform (qform_code > 0), else the
    Analyze default from the voxel size; a degenerate (singular or non-finite) sform or qform
    gives way to the other one when that one is valid. ScanError when every transform the
    header sets is degenerate, or the voxel size is."""
    codes = {"sform": int(header["sform_code"]), "qform": int(header["qform_code"])}
    coded = [w for w in ("sform", "qform") if codes[w] > 0]
    bad = []
    for which in coded:
        affine = _form(header, which)
        if affine is not None and _invertible(affine):
            if not bad:
                return affine, None
            return affine, (
                f"the header's {bad[0]} is degenerate (its 3x3 part is singular); orientation "
                f"and voxel size are read from its {which} ({which}_code {codes[which]})"
            )
        bad.append(which)
    if bad:
        what = " and ".join(f"{w} ({w}_code {codes[w]})" for w in bad)
        other = {"sform": "qform", "qform": "sform"}[bad[0]]
        missing = "" if len(bad) > 1 else f" and it sets no {other} to fall back on"
        raise ScanError(
            f"the NIfTI header's {what} {'are' if len(bad) > 1 else 'is'} degenerate (the 3x3 "
            f"part is singular or not finite, e.g. a row or column of zeros){missing}, so the "
            "image's orientation and voxel size cannot be read; accepted: a NIfTI whose sform "
            "or qform is an invertible transform (fix the header, e.g. with nibabel's "
            "set_sform/set_qform), or one that sets neither (orientation unknown)"
        )
    affine = header.get_base_affine()
    if not _invertible(affine):
        raise ScanError(
            "the NIfTI header sets no sform or qform and its voxel size (pixdim) is zero or not "
            "finite, so the image's geometry cannot be read; accepted: a NIfTI with positive "
            "voxel sizes"
        )
    return affine, None


def load_nifti_bytes(data: bytes, limits: LoadLimits, note: str | None = None) -> Scan:
    """Load an uncompressed single-file NIfTI image held in `data`."""
    from nibabel.spatialimages import HeaderDataError

    klass = _header_class(data)
    try:
        header = klass.header_class.from_fileobj(io.BytesIO(data))
        shape = tuple(int(s) for s in header.get_data_shape())
        dtype = header.get_data_dtype()
    except (HeaderDataError, ValueError, TypeError) as exc:
        raise ScanError(f"the NIfTI header is invalid ({type(exc).__name__}); {ACCEPTED}") from None
    if not 2 <= len(shape) <= 7:
        raise ScanError(f"NIfTI data with {len(shape)} dimensions {shape}; 2D-4D are accepted")
    if dtype.fields is not None or dtype.kind == "c":
        raise ScanError(
            f"NIfTI data type {dtype} (RGB or complex) is not supported; save a real-valued "
            "gray image (e.g. the magnitude)"
        )
    spatial = (*shape[:3], 1, 1)[:3]
    limits.check_shape((spatial[2], spatial[1], spatial[0]), "NIfTI")  # (z, y, x), pre-decoding
    offset = int(header["vox_offset"])
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) < needed:
        raise ScanError(
            f"the NIfTI file is truncated: the header announces {needed:,} bytes, the file "
            f"has {len(data):,}"
        )
    try:
        img = klass.from_bytes(data)
    except Exception as exc:  # nibabel raises a variety of errors for inconsistent headers
        raise ScanError(f"the NIfTI file could not be read ({type(exc).__name__})") from None

    notes = [note + " NIfTI"] if note else []
    if len(shape) > 3:
        extra = shape[3:]
        notes.append(
            f"{len(shape)}D NIfTI {shape}: the first volume of {int(np.prod(extra))} is used"
        )
    index = (slice(None), slice(None)) + ((slice(None),) if len(shape) > 2 else ())
    volume = np.asanyarray(img.dataobj[index + (0,) * (len(shape) - 3)])
    if volume.ndim == 2:
        volume = volume[..., None]
    qcode, scode = int(header["qform_code"]), int(header["sform_code"])
    import nibabel as nib

    affine, affine_note = usable_affine(header)
    if affine_note:
        notes.append(affine_note)
    axcodes = "".join(str(c) for c in nib.aff2axcodes(affine))
    pixels, spacing = canonical_zyx(nib.Nifti1Image(volume, affine))
    unit = header.get_xyzt_units()[0]
    if unit in _UNIT_TO_MM:
        spacing = tuple(s * _UNIT_TO_MM[unit] for s in spacing)
    else:
        notes.append(f"spatial unit {unit!r} in the header; millimetres assumed")
    patient_left = "image_left"
    if qcode == 0 and scode == 0:
        patient_left = None
        notes.append("no qform/sform in the header: orientation unknown (Analyze default used)")
    elif axcodes != "RAS":
        notes.append(f"reoriented from {axcodes} to RAS+ (column 0 = patient left)")
    scan = Scan(
        pixels=pixels,
        spacing=spacing,
        patient_left=patient_left,
        format="nifti",
        notes=notes,
        metadata={
            "Format": "NIfTI-1" if klass.__name__ == "Nifti1Image" else "NIfTI-2",
            "DataType": str(dtype),
            "Dimensions": "x".join(str(s) for s in shape),
            "VoxelSize": "x".join(f"{float(z):g}" for z in header.get_zooms()[:3]),
            "SpatialUnit": str(unit),
            "StoredOrientation": axcodes,
            "QFormCode": qcode,
            "SFormCode": scode,
        },
    )
    logger.debug("decoded NIfTI %s stored %s", shape, axcodes)
    return _flatten_2d(scan)


def _flatten_2d(scan: Scan) -> Scan:
    """A volume with one slice in some plane -> the 2D image of that plane (see Scan.slice2d)."""
    for axis, plane in enumerate(("axial", "coronal", "sagittal")):
        if scan.pixels.shape[axis] == 1 and scan.pixels.ndim == 3:
            flat = scan.slice2d(0, plane)
            flat.notes[-1] = f"2D NIfTI ({plane} plane)"
            return flat
    return scan
