"""DICOM series (a folder or a .zip of one series) and the geometry shared with multi-frame files.

A volume is sorted by Image Position (Patient) projected on the slice normal (falling back to
Instance Number) and reoriented like NIfTI (see `assistant.scan_nifti.canonical_zyx`), so that
every volume with a known geometry is (Z inferior->superior, Y anterior->posterior, X patient
left->right). Mixed series are refused with a list of their descriptions and file counts
(never UIDs).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.scan import LoadLimits, Scan, ScanError, sniff_format
from assistant.scan_dicom import (
    Decoded,
    decode,
    has_pixels,
    invert_monochrome1,
    patient_left_from_rows,
    plausible_dicom_without_preamble,
    quiet,
    read_dataset,
)
from assistant.scan_dicom_tags import allowed_metadata, sop_kind

logger = logging.getLogger(__name__)

SERIES_ACCEPTED = "accepted: a folder or .zip holding the DICOM files of exactly one image series"


def geometric_volume(
    frames: np.ndarray,
    positions: np.ndarray,
    orientation: np.ndarray,
    pixel_spacing: tuple[float, float],
) -> tuple[np.ndarray, tuple[float, float, float], list[str]]:
    """Sort (N, H, W) frames along the slice normal and reorient them to (Z, Y, X) RAS+ layout.

    positions: (N, 3) Image Position (Patient) in LPS mm; orientation: (6,) row and column
    direction cosines (LPS); pixel_spacing: (row spacing dy, column spacing dx) in mm.
    Returns pixels (Z, Y, X), spacing (z, y, x) in mm and notes.
    """
    import nibabel as nib

    from assistant.scan_nifti import canonical_zyx

    row = orientation[:3] / np.linalg.norm(orientation[:3])
    col = orientation[3:] / np.linalg.norm(orientation[3:])
    normal = np.cross(row, col)
    proj = positions @ normal
    order = np.argsort(proj, kind="stable")
    proj, frames = proj[order], frames[order]
    gaps = np.diff(proj)
    n = len(frames)
    if (gaps < 1e-3).any():
        distinct = len(np.unique(np.round(proj, 2)))
        raise ScanError(
            f"the {n} images lie at only {distinct} distinct slice positions (several echoes, "
            "phases or time points in one series?); export one of them at a time"
        )
    notes: list[str] = []
    dz = float(np.median(gaps))
    if (np.abs(gaps - dz) > 0.1 * dz).any():
        notes.append(
            f"slice spacing varies from {gaps.min():.3g} to {gaps.max():.3g} mm; "
            f"the median {dz:.3g} mm is used"
        )
    dy, dx = pixel_spacing
    lps_to_ras = np.diag([-1.0, -1.0, 1.0])
    affine = np.eye(4)
    affine[:3, :3] = lps_to_ras @ np.column_stack([row * dx, col * dy, normal * dz])
    affine[:3, 3] = lps_to_ras @ positions[order[0]]
    axcodes = "".join(nib.aff2axcodes(affine))
    # nibabel arrays are indexed (i, j, k) = (column, row, slice)
    pixels, spacing = canonical_zyx(nib.Nifti1Image(frames.transpose(2, 1, 0), affine))
    if max(np.abs(row).max(), np.abs(col).max()) < 0.99:
        notes.append("oblique slices: reoriented to the closest canonical axes")
    notes.append(
        f"volume of {n} slices sorted by position; reoriented from {axcodes} to RAS+ "
        "(Z inferior->superior, row 0 anterior, column 0 = patient left)"
    )
    return pixels, spacing, notes


def scan_from_decoded(items: list[Decoded], modality: str, metadata: dict) -> Scan:
    """Build a Scan from one multi-frame dataset or a series of single-frame datasets."""
    first = items[0]
    notes = list(first.notes)
    frames = first.frames if len(items) == 1 else np.concatenate([d.frames for d in items])
    positions = first.positions
    if len(items) > 1:
        ok = all(d.positions is not None for d in items)
        positions = np.concatenate([d.positions for d in items]) if ok else None
    window = next((d.window for d in items if d.window is not None), None)
    orientation = first.orientation
    if frames.shape[0] == 1:
        pixels, spacing = frames[0], first.pixel_spacing
        patient_left = patient_left_from_rows(orientation)
    elif positions is not None and orientation is not None and first.pixel_spacing:
        pixels, spacing, geo_notes = geometric_volume(
            frames, positions, orientation, first.pixel_spacing
        )
        notes += geo_notes
        patient_left = "image_left"
    else:
        pixels = frames
        spacing = None
        if first.pixel_spacing and first.slice_spacing:
            spacing = (first.slice_spacing, *first.pixel_spacing)
        patient_left = patient_left_from_rows(orientation)
        notes.append(
            f"{frames.shape[0]} frames stacked in instance/stored order (no slice positions): the stack "
            "axis may be time or space"
        )
    if first.monochrome1:
        pixels, window = invert_monochrome1(pixels, window)
        notes.append("MONOCHROME1 inverted so that higher values are brighter")
    if spacing is not None:
        spacing = tuple(float(s) for s in spacing)
    return Scan(
        pixels=pixels,
        spacing=spacing,
        patient_left=patient_left,
        modality=modality or "OT",
        window=window,
        format="dicom",
        notes=notes,
        metadata=metadata,
    )


def load_dicom_folder(path: Path, limits: LoadLimits) -> Scan:
    """All DICOM files under `path` (recursively; hidden files skipped) as one series."""
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise ScanError(f"the folder contains no files; {SERIES_ACCEPTED}")
    _check_count(len(files), sum(p.stat().st_size for p in files), limits)
    try:
        blobs = [p.read_bytes() for p in files]
    except OSError as exc:
        raise ScanError(f"a file in the folder cannot be read ({type(exc).__name__})") from None
    return load_dicom_items(blobs, limits, "folder")


def load_dicom_zip(data: bytes, limits: LoadLimits) -> Scan:
    """The DICOM files inside a .zip archive held in `data` as one series."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [
            i
            for i in archive.infolist()
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not Path(i.filename).name.startswith(".")
        ]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ScanError("the .zip archive is corrupt or truncated; " + SERIES_ACCEPTED) from None
    if not infos:
        raise ScanError("the .zip archive is empty; " + SERIES_ACCEPTED)
    if any(i.flag_bits & 0x1 for i in infos):
        raise ScanError("the .zip archive is encrypted; " + SERIES_ACCEPTED)
    _check_count(len(infos), sum(i.file_size for i in infos), limits)  # zip-bomb guard
    blobs = []
    for info in infos:
        try:
            with archive.open(info) as fh:
                blob = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError):
            raise ScanError("a member of the .zip archive is corrupt or truncated") from None
        if len(blob) > info.file_size:
            raise ScanError("a .zip member expands beyond its declared size (zip-bomb guard)")
        blobs.append(blob)
    return load_dicom_items(blobs, limits, ".zip archive")


def _check_count(n_files: int, n_bytes: int, limits: LoadLimits) -> None:
    if n_files > limits.max_slices:
        raise ScanError(
            f"{n_files} files; at most {limits.max_slices} are accepted (LoadLimits.max_slices)"
        )
    if n_bytes > limits.max_bytes:
        raise ScanError(
            f"{n_bytes:,} bytes in all; at most {limits.max_bytes:,} are accepted "
            "(LoadLimits.max_bytes)"
        )


def load_dicom_items(blobs: list[bytes], limits: LoadLimits, where: str) -> Scan:
    """Group the DICOM files in `blobs` by series; exactly one image series is accepted."""
    with quiet():
        return _load_items(blobs, limits, where)


def _load_items(blobs: list[bytes], limits: LoadLimits, where: str) -> Scan:
    datasets, not_dicom, no_pixels = [], 0, Counter()
    for blob in blobs:
        if sniff_format(blob) != "dicom" and not plausible_dicom_without_preamble(blob, False):
            not_dicom += 1
            continue
        try:
            ds = read_dataset(blob)
        except ScanError:
            not_dicom += 1
            continue
        if has_pixels(ds):
            datasets.append(ds)
        else:
            no_pixels[sop_kind(ds)] += 1
    skipped = []
    if not_dicom:
        skipped.append(f"{not_dicom} non-DICOM or unreadable file(s)")
    if no_pixels:
        kinds = ", ".join(f"{k} x{v}" for k, v in no_pixels.most_common())
        skipped.append(f"{sum(no_pixels.values())} DICOM object(s) without pixel data ({kinds})")
    if not datasets:
        raise ScanError(
            f"the {where} holds no DICOM image ({'; '.join(skipped) or 'no files'}); "
            + SERIES_ACCEPTED
        )
    try:
        groups = _group_series(datasets)
        if len(groups) > 1:
            listing = "; ".join(_describe(g) for g in groups.values())
            raise ScanError(
                f"the {where} mixes {len(groups)} series ({listing}); {SERIES_ACCEPTED}"
            )
        scan = _series_scan(datasets, limits)
    except ScanError:
        raise
    except Exception as exc:  # malformed element values surface lazily in pydicom
        raise ScanError(
            f"a DICOM file of the {where} has malformed elements ({type(exc).__name__})"
        ) from None
    if skipped:
        scan.notes.append("ignored " + " and ".join(skipped))
    return scan


def _group_series(datasets: list) -> dict:
    groups: dict = {}
    for ds in datasets:
        key = str(ds.get("SeriesInstanceUID", "")) or (
            ds.get("SeriesNumber"),
            ds.get("Rows"),
            ds.get("Columns"),
        )
        groups.setdefault(key, []).append(ds)
    return groups


def _describe(group: list) -> str:
    """'description' #number MODALITY (n files): never a UID."""
    ds = group[0]
    text = str(ds.get("SeriesDescription", "") or "").strip()[:48] or "no description"
    number = ds.get("SeriesNumber")
    number = f" #{number}" if number not in (None, "") else ""
    modality = str(ds.get("Modality", "") or "").strip()
    return f"'{text}'{number}{' ' + modality if modality else ''} ({len(group)} files)"


def _series_scan(datasets: list, limits: LoadLimits) -> Scan:
    """Decode one series (single-frame files) into a volume, or one file into its Scan."""
    first = datasets[0]
    modality = str(first.get("Modality", "") or "OT").strip()[:16]
    metadata = allowed_metadata(first)
    if len(datasets) == 1:
        return scan_from_decoded([decode(first, limits)], modality, metadata)
    shapes = {(int(d.get("Rows", 0)), int(d.get("Columns", 0))) for d in datasets}
    if len(shapes) > 1:
        raise ScanError(f"the series mixes image sizes {sorted(shapes)}; {SERIES_ACCEPTED}")
    if any(int(d.get("NumberOfFrames", 1) or 1) > 1 for d in datasets):
        raise ScanError(
            "multi-frame files inside a multi-file series are not supported; "
            "load each multi-frame file on its own"
        )
    rows, cols = shapes.pop()
    limits.check_shape((len(datasets), rows, cols), "DICOM series")  # before decoding
    numbers = [d.get("InstanceNumber") for d in datasets]
    if all(n not in (None, "") for n in numbers):
        order = np.argsort([int(n) for n in numbers], kind="stable")
        datasets = [datasets[i] for i in order]
    decoded = [decode(d, limits) for d in datasets]
    orientations = [d.orientation for d in decoded if d.orientation is not None]
    if any(np.abs(o - orientations[0]).max() > 1e-3 for o in orientations):
        raise ScanError(
            "the series mixes slice orientations (a multi-plane localizer?); export the images "
            "of one orientation as a series, or load one file"
        )
    scan = scan_from_decoded(decoded, modality, metadata)
    scan.metadata["NumberOfSlices"] = len(datasets)
    return scan
