"""A DICOM series: the files of a folder or a .zip archive assembled into one volume.

Files that are not DICOM, and DICOM objects without pixels (reports, structure sets, ...), are
skipped with a note. Exactly one image series is accepted: mixed series are refused with a list
of their descriptions and file counts (never UIDs). Slices are ordered by Instance Number, then
sorted by position in `assistant.scan.dicom.volume`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from assistant.scan.dicom.decode import decode, has_pixels, quiet, read_dataset
from assistant.scan.dicom.tags import allowed_metadata, modality_code, sop_kind
from assistant.scan.dicom.volume import scan_from_decoded
from assistant.scan.sniff import plausible_dicom_without_preamble, sniff_format
from assistant.scan.types import SERIES_ACCEPTED, LoadLimits, Scan, ScanError


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
