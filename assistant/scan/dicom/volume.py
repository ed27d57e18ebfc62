"""Decoded DICOM frames -> `Scan`: slice sorting, reorientation, MONOCHROME1, patient side.

Shared by single files (one multi-frame dataset) and series (many single-frame datasets). A
volume is sorted by Image Position (Patient) projected on the slice normal and reoriented like
NIfTI (see `assistant.scan.pixels`), so that every volume with a known geometry is
(Z inferior->superior, Y anterior->posterior, X patient left->right).
"""

from __future__ import annotations

import numpy as np

from assistant.scan.dicom.decode import Decoded
from assistant.scan.pixels import COLOURED_PIXELS, canonical_zyx
from assistant.scan.types import Scan, ScanError


def patient_left_from_rows(orientation: np.ndarray | None) -> str | None:
    """Image side showing the patient's left, from the row direction cosine (LPS: +x = left)."""
    if orientation is None:
        return None
    rx = orientation[0] / (np.linalg.norm(orientation[:3]) or 1.0)
    if rx > 0.7:
        return "image_right"  # columns run towards the patient's left
    if rx < -0.7:
        return "image_left"
    return None


def invert_monochrome1(pixels: np.ndarray, window):
    """MONOCHROME1 (low = white) -> MONOCHROME2, mirroring the window centre too."""
    lo, hi = float(pixels.min()), float(pixels.max())
    if window is not None:
        window = (lo + hi - window[0], window[1])
    return (lo + hi) - pixels, window


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
    coloured = [d.coloured for d in items if d.coloured is not None]
    if coloured:  # read before the conversion to gray: the domain check refuses coloured marks
        metadata = {**metadata, COLOURED_PIXELS: round(max(coloured), 5)}
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
