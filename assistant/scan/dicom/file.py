"""A single DICOM file (single- or multi-frame) held in bytes.

Only allow-listed technical tags (`assistant.scan.dicom.tags.ALLOWED_TAGS`) are copied out of
the dataset. Folders and .zip series are assembled in `assistant.scan.dicom.series`.
"""

from __future__ import annotations

from assistant.scan.dicom.decode import BURNED_IN, burned_in, decode, quiet, read_dataset
from assistant.scan.dicom.tags import allowed_metadata, modality_code
from assistant.scan.dicom.volume import scan_from_decoded
from assistant.scan.types import ACCEPTED, LoadLimits, Scan, ScanError


def load_dicom_bytes(data: bytes, limits: LoadLimits) -> Scan:
    """One DICOM file (single- or multi-frame) held in `data`."""
    with quiet():
        ds = read_dataset(data)
        if burned_in(ds):
            raise ScanError(f"the DICOM file {BURNED_IN}; {ACCEPTED}")
        try:
            decoded = decode(ds, limits)
            metadata = allowed_metadata(ds)
            modality = modality_code(ds)
        except ScanError:
            raise
        except Exception as exc:  # malformed element values surface lazily in pydicom
            raise ScanError(
                f"the DICOM file has malformed elements ({type(exc).__name__}); {ACCEPTED}"
            ) from None
    return scan_from_decoded([decoded], modality, metadata)
