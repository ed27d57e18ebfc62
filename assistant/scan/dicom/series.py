"""A DICOM series: the files of a folder or a .zip archive assembled into one volume.

Files that are not DICOM, and DICOM objects without pixels (reports, structure sets, ...), are
skipped with a note. Several image series of one study (a whole study exported) are handed to
the caller's `choose_series` (which gets their numbers, descriptions and allow-listed tags) and
the chosen one is loaded with a note naming it; without a chooser they are refused with a list
of their descriptions and file counts (never UIDs). Series of more than one study or patient
are always refused. Slices are ordered by Instance Number, then sorted by position in
`assistant.scan.dicom.volume`.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from assistant.scan.dicom.decode import burned_in, decode, has_pixels, quiet, read_dataset
from assistant.scan.dicom.tags import allowed_metadata, modality_code, sop_kind
from assistant.scan.dicom.volume import scan_from_decoded
from assistant.scan.sniff import plausible_dicom_without_preamble, sniff_format
from assistant.scan.types import (
    CHOSEN_BY_HAND,
    SERIES_ACCEPTED,
    LoadLimits,
    Scan,
    ScanError,
    SeriesChooser,
    SeriesInfo,
)


def load_dicom_items(
    blobs: list[bytes], limits: LoadLimits, where: str, choose_series: SeriesChooser | None = None
) -> Scan:
    """Group the DICOM files in `blobs` by series: one image series is loaded; of several
    series of one study, the one `choose_series` picks (module docstring)."""
    with quiet():
        return _load_items(blobs, limits, where, choose_series)


def _load_items(
    blobs: list[bytes], limits: LoadLimits, where: str, choose_series: SeriesChooser | None
) -> Scan:
    datasets, not_dicom, no_pixels, burned = [], 0, Counter(), 0
    for blob in blobs:
        if sniff_format(blob) != "dicom" and not plausible_dicom_without_preamble(blob, False):
            not_dicom += 1
            continue
        try:
            ds = read_dataset(blob)
        except ScanError:
            not_dicom += 1
            continue
        if not has_pixels(ds):
            no_pixels[sop_kind(ds)] += 1
        elif burned_in(ds):
            burned += 1  # never decoded: its pixels may show the patient's name (`BURNED_IN`)
        else:
            datasets.append(ds)
    skipped = []
    if not_dicom:
        skipped.append(f"{not_dicom} non-DICOM or unreadable file(s)")
    if no_pixels:
        kinds = ", ".join(f"{k} x{v}" for k, v in no_pixels.most_common())
        skipped.append(f"{sum(no_pixels.values())} DICOM object(s) without pixel data ({kinds})")
    if burned:
        skipped.append(
            f"{burned} DICOM image(s) marked as having text burned into their pixels (Burned In "
            "Annotation: YES), which may identify the patient and are never shown or analysed"
        )
    if not datasets:
        raise ScanError(
            f"the {where} holds no DICOM image ({'; '.join(skipped) or 'no files'}); "
            + SERIES_ACCEPTED
        )
    chosen = None
    try:
        groups = _group_series(datasets)
        if len(groups) > 1:
            datasets, chosen = _choose(groups, where, choose_series)
        scan = _series_scan(datasets, limits)
    except ScanError:
        raise
    except Exception as exc:  # malformed element values surface lazily in pydicom
        raise ScanError(
            f"a DICOM file of the {where} has malformed elements ({type(exc).__name__})"
        ) from None
    if chosen:
        scan.notes.append(chosen)
    if skipped:
        scan.notes.append("ignored " + " and ".join(skipped))
    return scan


def _choose(groups: dict, where: str, choose_series: SeriesChooser | None) -> tuple[list, str]:
    """The datasets of the series `choose_series` picks among `groups`, and the note naming it
    (module docstring); ScanError for series of several studies or patients, or no chooser."""
    studies = {str(g[0].get("StudyInstanceUID", "") or "") for g in groups.values()} - {""}
    patients = {str(g[0].get("PatientID", "") or "") for g in groups.values()} - {""}
    if len(studies) > 1 or len(patients) > 1:  # compared, never shown
        raise ScanError(
            f"the {where} holds series of {max(len(studies), len(patients))} different studies "
            "or patients; load the series of one study only (results are never shown for a "
            f"mix of patients' scans); {SERIES_ACCEPTED}"
        )
    ordered = sorted(groups.values(), key=_series_order)
    infos = [_info(position, g) for position, g in enumerate(ordered, 1)]
    listing = "; ".join(info.describe() for info in infos)
    if choose_series is None:
        raise ScanError(f"the {where} mixes {len(groups)} series ({listing}); {SERIES_ACCEPTED}")
    position, why = choose_series(infos)
    info = infos[int(position) - 1]
    return ordered[int(position) - 1], (
        f"series {info.describe()} was loaded of the {len(infos)} series in the {where} "
        f"({listing}): {why}"
    )


_LOADED = re.compile(r"^series (.+?) was loaded of the \d+ series in the ")


def loaded_series_sentence(notes: list[str]) -> str:
    """ "It is series 'AX T1' #3 MR (24 files), loaded from an upload of several series (...)."
    for a scan chosen from several series; "" otherwise."""
    series = loaded_series(notes)
    if series is None:
        return ""
    how = "chosen from their headers as the pre-contrast T1-weighted one"
    if any(f"): {CHOSEN_BY_HAND}" in str(n) for n in notes):
        how = CHOSEN_BY_HAND
    return f"It is series {series}, loaded from an upload of several series ({how})."


def loaded_series(notes: list[str]) -> str | None:
    """The series chosen from several (its description, "'AX T1' #3 MR (24 files)") from a
    scan's notes; None when the input held one series."""
    for note in notes or []:
        m = _LOADED.match(str(note))
        if m:
            return m.group(1)
    return None


def _series_order(group: list) -> tuple:
    number = group[0].get("SeriesNumber")
    try:
        return (0, int(number))
    except (TypeError, ValueError):
        return (1, 0)


def _info(position: int, group: list) -> SeriesInfo:
    ds = group[0]
    number = _series_order(group)
    return SeriesInfo(
        position=position,
        number=number[1] if number[0] == 0 else None,
        description=str(ds.get("SeriesDescription", "") or "").strip()[:48],
        modality=str(ds.get("Modality", "") or "").strip()[:16],
        n_files=len(group),
        metadata=allowed_metadata(ds),
    )


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


def _series_scan(datasets: list, limits: LoadLimits) -> Scan:
    """Decode one series (single-frame files) into a volume, or one file into its Scan."""
    first = datasets[0]
    modality = modality_code(first)
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
