"""Shared fixtures: real scan files (DICOM from pydicom's test data, NIfTI, images) in tmp_path."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pydicom_file(name: str) -> str:
    """Path of a DICOM file shipped in the pydicom wheel (skip when it is not available)."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not available offline")
    return str(path)


@pytest.fixture
def ct_small() -> str:
    return pydicom_file("CT_small.dcm")


# Values planted into a DICOM file; none of them may ever leave the loader.
PLANTED = {
    "PatientName": "Doe^Jane^Plantedname",
    "PatientID": "PID-PLANTED-4242",
    "OtherPatientIDs": "OTHER-PLANTED-99",
    "PatientBirthDate": "19010203",
    "PatientAddress": "12 Planted Street",
    "InstitutionName": "Planted General Hospital",
    "InstitutionAddress": "Planted Avenue 1",
    "ReferringPhysicianName": "Referrer^Planted^Dr",
    "PerformingPhysicianName": "Performer^Planted",
    "OperatorsName": "Operator^Planted",
    "AccessionNumber": "ACC-PLANTED-77",
    "StudyDate": "19991231",
    "SeriesDate": "19991230",
    "AcquisitionDate": "19991229",
    "StudyTime": "235959.123",
    "StudyID": "STUDY-PLANTED-5",
    "ImageComments": "planted comment: call Jane at 555-0199",
    "StudyDescription": "Planted study description",
    "StudyInstanceUID": "1.2.826.0.1.3680043.9999.111",
    "SeriesInstanceUID": "1.2.826.0.1.3680043.9999.222",
    "SOPInstanceUID": "1.2.826.0.1.3680043.9999.333",
    "FrameOfReferenceUID": "1.2.826.0.1.3680043.9999.444",
}


@pytest.fixture
def planted_dicom(tmp_path, ct_small) -> Path:
    """CT_small rewritten with planted identifiers (see PLANTED)."""
    import pydicom

    ds = pydicom.dcmread(ct_small)
    for key, value in PLANTED.items():
        setattr(ds, key, value)
    ds.file_meta.MediaStorageSOPInstanceUID = PLANTED["SOPInstanceUID"]
    ds.SeriesDescription = "Head CT axial"  # allow-listed: may be shown
    path = tmp_path / "scan.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def write_series(
    folder: Path,
    n: int = 5,
    description: str = "AX T1",
    series_uid: str | None = None,
    dz: float = 2.5,
    seed: int = 0,
) -> list[float]:
    """Write an axial series of `n` CT_small-based slices in shuffled file order.

    Slice k (0 = most inferior) holds the constant stored value 100 * (k + 1) plus a marker of
    4000 at row 0, column 0 (the patient's right-anterior corner for IOP [1,0,0, 0,1,0]).
    Instance Numbers run in the opposite direction, so only Image Position sorts correctly.
    Returns the slice z positions in mm (inferior -> superior).
    """
    import pydicom
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    base = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    series_uid = series_uid or generate_uid()
    z0 = float(base.ImagePositionPatient[2])
    order = list(range(n))
    random.Random(seed).shuffle(order)
    for file_index, k in enumerate(order):
        ds = base.copy()
        arr = np.full((ds.Rows, ds.Columns), 100 * (k + 1), dtype=np.int16)
        arr[0, 0] = 4000
        ds.PixelData = arr.tobytes()
        ds.ImagePositionPatient = [
            base.ImagePositionPatient[0],
            base.ImagePositionPatient[1],
            z0 + dz * k,
        ]
        ds.InstanceNumber = n - k
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesDescription = description
        ds.save_as(folder / f"f{file_index:03d}.dcm", enforce_file_format=True)
    return [z0 + dz * k for k in range(n)]


def nifti_ras_volume(shape=(10, 12, 8)) -> np.ndarray:
    """A RAS+ volume (x: left->right, y: posterior->anterior, z: inferior->superior) with a
    marker of 9 in the patient's left-anterior-superior corner and 1 elsewhere in a ramp."""
    x, y, z = shape
    data = np.ones(shape, dtype=np.float32)
    data[:2, -2:, -2:] = 9.0  # low x = left, high y = anterior, high z = superior
    return data


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is missing (shared IXI/MSLUB data not available)")
    return SHARED_DATA
