"""The vocabulary of scan loading: `Scan`, `ScanError`, `LoadLimits` and the accepted formats.

Every other module of `assistant.scan` builds on this one, and it imports none of them: the
bottom layer of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ACCEPTED = (
    "accepted: PNG (8/16-bit), JPEG, TIFF, BMP, DICOM (a file, a folder or a .zip of one series) "
    "and NIfTI (.nii, .nii.gz)"
)
SERIES_ACCEPTED = "accepted: a folder or .zip holding the DICOM files of exactly one image series"


class ScanError(ValueError):
    """The one exception users see for bad input: says what was wrong and what is accepted."""


@dataclass(frozen=True)
class SeriesInfo:
    """One image series of a folder or .zip that holds several (`load_scan`'s `choose_series`
    gets a list of them). Never an identifier or UID: the series number, description and
    allow-listed technical tags only."""

    position: int  # 1-based, in the listed order (by series number)
    number: int | None  # Series Number
    description: str
    modality: str
    n_files: int
    metadata: dict = field(default_factory=dict)  # allow-listed tags of its first file

    def describe(self) -> str:
        """'AX T1' #3 MR (24 files)."""
        number = f" #{self.number}" if self.number is not None else ""
        modality = f" {self.modality}" if self.modality else ""
        return f"'{self.description or 'no description'}'{number}{modality} ({self.n_files} files)"


# Picks one series of several: (its `position`, a note saying why); raises ScanError when none
SeriesChooser = Callable[[list[SeriesInfo]], tuple[int, str]]
# how a chooser's note starts when the user named the series (`--series N`, the app's menu)
CHOSEN_BY_HAND = "chosen by hand"

Plane = Literal["axial", "sagittal", "coronal"]
PatientLeft = Literal["image_left", "image_right"]


@dataclass(frozen=True)
class LoadLimits:
    """Guards checked against headers before any pixel data is decoded."""

    max_bytes: int = 1 << 30  # size of the file, folder or decompressed stream (1 GiB)
    max_pixels_per_side: int = 16384  # rows, columns or slices claimed by a header
    max_total_voxels: int = 512**3  # rows x columns x slices (x frames)
    max_slices: int = 2048  # frames of a multi-frame file or files of a series

    def check_shape(self, shape: tuple[int, ...], what: str) -> None:
        """Raise ScanError when a header's claimed `shape` exceeds the limits (a pixel bomb)."""
        dims = [int(s) for s in shape]
        if any(s <= 0 for s in dims):
            raise ScanError(f"the {what} header claims an empty image of shape {tuple(dims)}")
        if max(dims[-2:]) > self.max_pixels_per_side:
            raise ScanError(
                f"the {what} header claims {dims[-2]} x {dims[-1]} pixels; at most "
                f"{self.max_pixels_per_side} per side are accepted (decompression bomb guard; "
                "a limit whoever runs this tool can raise: LoadLimits.max_pixels_per_side)"
            )
        if len(dims) > 2 and int(np.prod(dims[:-2])) > self.max_slices:
            raise ScanError(
                f"the {what} header claims {int(np.prod(dims[:-2]))} slices/frames; at most "
                f"{self.max_slices} are accepted (a limit whoever runs this tool can raise: "
                "LoadLimits.max_slices)"
            )
        total = int(np.prod(dims, dtype=np.int64))
        if total > self.max_total_voxels:
            raise ScanError(
                f"the {what} header claims {total:,} voxels; at most {self.max_total_voxels:,} "
                f"are accepted (about {int(self.max_total_voxels**0.5):,} x "
                f"{int(self.max_total_voxels**0.5):,} pixels for one image; a limit whoever runs "
                "this tool can raise: LoadLimits.max_total_voxels)"
            )


@dataclass
class Scan:
    """A de-identified scan.

    pixels: float32, (Y, X) for a 2D image or (Z, Y, X) for a volume. Volumes whose patient
        orientation is known (NIfTI, DICOM series with Image Position/Orientation) are
        reoriented so that Z runs inferior -> superior, Y anterior (row 0) -> posterior and X
        patient left (column 0) -> right (neurological convention, `patient_left="image_left"`).
        2D DICOM images keep the stored pixel order. Values are physical where known (CT in HU).
    spacing: mm per pixel in the same axis order as `pixels` (None when unknown).
    patient_left: which image side (of an axial/2D display: column 0 is "image_left") shows
        the patient's left; None when the orientation is unknown (plain images).
    modality: DICOM modality code ("CT", "MR", ...; "OT" when unknown).
    window: (center, width) default display window in pixel units, e.g. the DICOM VOI window.
    format: "png", "jpeg", "tiff", "bmp", "dicom" or "nifti".
    notes: what the loader changed or noticed (conversions, replaced values, ...).
    metadata: allow-listed technical tags only (see `assistant.scan.dicom.tags.ALLOWED_TAGS`).
    """

    pixels: np.ndarray
    spacing: tuple[float, ...] | None = None
    patient_left: PatientLeft | None = None
    modality: str = "OT"
    window: tuple[float, float] | None = None  # (center, width) default display window
    format: str = "unknown"  # "png", "jpeg", "tiff", "bmp", "dicom", "nifti"
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, str | int | float] = field(default_factory=dict)  # allow-listed tags

    @property
    def is_volume(self) -> bool:
        return self.pixels.ndim == 3

    def slice2d(self, index: int | None = None, plane: Plane = "axial") -> Scan:
        """A 2D Scan of one slice (middle slice when index is None); a 2D scan returns itself.

        With the (Z, Y, X) convention of `pixels` (Z inferior -> superior, Y anterior ->
        posterior), the returned (rows, columns) are:
        - axial, index along Z: rows Y (row 0 anterior), columns X; `patient_left` kept.
        - coronal, index along Y: rows Z flipped (row 0 superior), columns X; `patient_left` kept.
        - sagittal, index along X: rows Z flipped (row 0 superior), columns Y (column 0
          anterior); `patient_left` is None (left/right is the slice axis).
        Spacing follows the same (rows, columns) order.
        """
        if plane not in ("axial", "coronal", "sagittal"):
            raise ScanError(f"unknown plane {plane!r}; accepted: axial, coronal, sagittal")
        if not self.is_volume:
            return self
        axis = {"axial": 0, "coronal": 1, "sagittal": 2}[plane]
        n = self.pixels.shape[axis]
        i = n // 2 if index is None else int(index)
        if not 0 <= i < n:
            raise ScanError(f"slice {i} is out of range for the {plane} plane: 0..{n - 1}")
        img = np.take(self.pixels, i, axis=axis)
        if plane != "axial":
            img = img[::-1]  # row 0 = superior, as coronal/sagittal views are displayed
        spacing = None
        if self.spacing is not None:
            spacing = tuple(s for k, s in enumerate(self.spacing) if k != axis)
        return Scan(
            pixels=np.ascontiguousarray(img, dtype=np.float32),
            spacing=spacing,
            patient_left=self.patient_left if plane in ("axial", "coronal") else None,
            modality=self.modality,
            window=self.window,
            format=self.format,
            notes=[*self.notes, f"{plane} slice {i} of {n}"],
            metadata=dict(self.metadata),
        )

    def summary(self) -> dict[str, object]:
        """A JSON-serialisable, de-identified description (no pixel values)."""
        return {
            "format": self.format,
            "shape": list(self.pixels.shape),
            "spacing_mm": None if self.spacing is None else [round(s, 4) for s in self.spacing],
            "patient_left": self.patient_left,
            "modality": self.modality,
            "window": None if self.window is None else [round(w, 3) for w in self.window],
            "value_range": [float(self.pixels.min()), float(self.pixels.max())],
            "notes": list(self.notes),
            "metadata": dict(self.metadata),
        }
