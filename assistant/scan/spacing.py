"""A pixel spacing given by the user, for scans whose file carries none (PNG, JPEG, ...).

`with_spacing(scan, spacing)` returns the scan with that spacing and a note saying where it
came from (`USER_SPACING`); sizes are then in mm² on every path (detector findings, answers,
reports). The app (setting "Pixel spacing (mm), for images without one") and the CLI
(`--spacing MM` or `ROW,COL`, for a volume `SLICE,ROW,COL`) both call it.

A scan that carries its own spacing (DICOM, NIfTI) keeps it: a different user value is refused
with a `ScanError` (the CLI), or ignored with a note (`keep_own=True`: the app's setting, which
is only meant for images without one). A value equal to the file's (to 0.1%) changes nothing.

`size_basis(summary)` says what the sizes of an analysis are measured in: mm² (with the spacing
and its source) or pixels of the original image, which depend on its resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from assistant.scan.types import Scan, ScanError

USER_SPACING = "pixel spacing given by the user"
MIN_SPACING_MM, MAX_SPACING_MM = 0.001, 100.0
ACCEPTED_SPACING = (
    f"accepted: one value in mm (square pixels), ROW,COL for rectangular pixels, or "
    f"SLICE,ROW,COL for a volume; each between {MIN_SPACING_MM:g} and {MAX_SPACING_MM:g} mm"
)

SpacingInput = float | int | str | Sequence[float] | None


def parse_spacing(value: SpacingInput) -> tuple[float, ...] | None:
    """A spacing as given ("0.5", "0.5,0.6", "2x0.5x0.5", 0.5, (0.5, 0.6)) -> 1 to 3 floats in
    mm; None or "" (or 0: an empty number field) -> None. Raises ScanError otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower().replace("mm", "")
        if not text:
            return None
        parts = [p for p in text.replace("x", ",").replace(" ", ",").split(",") if p]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ScanError(
                f"pixel spacing {value!r} is not a number; {ACCEPTED_SPACING}"
            ) from None
    elif isinstance(value, (int, float)):
        if value == 0:
            return None
        values = [float(value)]
    else:
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            raise ScanError(
                f"pixel spacing {value!r} is not a number; {ACCEPTED_SPACING}"
            ) from None
    if not 1 <= len(values) <= 3:
        raise ScanError(f"pixel spacing {value!r} has {len(values)} values; {ACCEPTED_SPACING}")
    for v in values:
        if not (math.isfinite(v) and MIN_SPACING_MM <= v <= MAX_SPACING_MM):
            raise ScanError(f"pixel spacing {v:g} mm is out of range; {ACCEPTED_SPACING}")
    return tuple(values)


def spacing_text(spacing: Sequence[float]) -> str:
    """(0.5, 0.5) -> "0.5 × 0.5 mm"."""
    return " × ".join(f"{float(s):g}" for s in spacing) + " mm"


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-3) for x, y in zip(a, b, strict=True)
    )


def with_spacing(scan: Scan, spacing: SpacingInput, *, keep_own: bool = False) -> Scan:
    """`scan` with the user's pixel `spacing` (see `parse_spacing`; None: `scan` unchanged).

    A 2D image without spacing gets (row, col) (one value: square pixels); a volume without
    spacing needs (slice, row, col). The note "pixel spacing given by the user: ..." is added.
    A scan with its own spacing keeps it: an equal value changes nothing; a different one
    raises ScanError, or with `keep_own` (the app's setting) is ignored with a note. Also
    raises ScanError for a bad value or a volume given an in-plane spacing only (unless
    `keep_own`: then ignored with a note).
    """
    values = parse_spacing(spacing)
    if values is None:
        return scan
    ndim = scan.pixels.ndim
    if len(values) == 3 and ndim == 2:
        raise ScanError(
            f"pixel spacing {spacing_text(values)} has 3 values but the scan is a 2D image; "
            + ACCEPTED_SPACING
        )
    own = scan.spacing
    if own is not None:
        compare = tuple(own[-len(values) :]) if len(values) > 1 else tuple(own[-2:])
        given = values if len(values) > 1 else (values[0], values[0])
        if _same(compare, given):
            return scan
        if keep_own:
            note = (
                f"the scan's own pixel spacing ({spacing_text(own)}) is used; the pixel spacing "
                f"in the settings ({spacing_text(values)}) applies only to images without one"
            )
            return replace(scan, notes=[*scan.notes, note])
        raise ScanError(
            f"the scan carries its own pixel spacing ({spacing_text(own)}), which differs from "
            f"the given {spacing_text(values)}; a user-given spacing is only for images "
            "without one (PNG, JPEG, TIFF, BMP): leave it out"
        )
    if ndim == 3 and len(values) < 3:
        if keep_own:
            note = (
                f"the pixel spacing in the settings ({spacing_text(values)}) is not used: this "
                "volume has no spacing at all and its slice spacing is unknown"
            )
            return replace(scan, notes=[*scan.notes, note])
        raise ScanError(
            "the volume has no spacing: give all three as SLICE,ROW,COL in mm; " + ACCEPTED_SPACING
        )
    full = values if len(values) > 1 else (values[0], values[0])
    note = f"{USER_SPACING}: {spacing_text(full)} (the file carries none)"
    return replace(scan, spacing=tuple(full), notes=[*scan.notes, note])


def size_basis(summary: dict) -> dict:
    """What the sizes of an analysed slice are in, from its `Scan.summary()`: {"unit": "mm²" or
    "px", "spacing_mm", "spacing_source" ("file", "user", "registration" for a volume registered to MNI, or None), "image_shape" (rows, cols),
    "note"}."""
    spacing = summary.get("spacing_mm")
    shape = list(summary.get("shape") or [])[-2:]
    notes = summary.get("notes") or []
    if spacing:
        user = any(str(n).startswith(USER_SPACING) for n in notes)
        registered = any(str(n).startswith("registered to MNI") for n in notes)
        inplane = list(spacing)[-2:]
        source = "user" if user else "registration" if registered else "file"
        where = "given by the user" if user else "from the file"
        if registered and not user:
            # a volume registered to MNI: its slice is resampled on the 1 mm training grid,
            # whatever the file's voxels
            where = "of the registered MNI grid the slice is resampled on"
        return {
            "unit": "mm²",
            "spacing_mm": inplane,
            "spacing_source": source,
            "image_shape": shape,
            "note": f"sizes in mm² (pixel spacing {spacing_text(inplane)}, {where})",
        }
    dims = " × ".join(str(int(s)) for s in shape) if shape else "original"
    return {
        "unit": "px",
        "spacing_mm": None,
        "spacing_source": None,
        "image_shape": shape,
        "note": (
            f"sizes in pixels of the original {dims} image: it has no pixel spacing, so they "
            "depend on its resolution and are not physical sizes (give a pixel spacing for mm²)"
        ),
    }
