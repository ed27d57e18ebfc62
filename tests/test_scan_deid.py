"""Planted DICOM identifiers never reach a Scan, its repr, the CLI output or the log."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
from conftest import PLANTED, write_series

from assistant.cli import main
from assistant.scan import load_scan
from assistant.scan.dicom.tags import ALLOWED_TAGS, DERIVED_TAGS, NEVER_VRS

# fragments that would give an identifier away even when reformatted
FRAGMENTS = [
    "Plantedname",
    "Jane",
    "PLANTED",
    "Planted",
    "19010203",
    "1999123",
    "555-0199",
    "3680043.9999",
    "Referrer",
    "Performer",
    "Operator",
    "CompressedSamples",
    "1CT1",
]


def leaks(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f.lower() in text.lower()]


def test_identifiers_absent_from_scan_and_log(planted_dicom, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning could quote a value: there must be none
        scan = load_scan(planted_dicom)
    texts = [
        repr(scan),
        str(scan.summary()),
        json.dumps(scan.metadata),
        " ".join(scan.notes),
        caplog.text,
    ]
    for text in texts:
        assert leaks(text) == [], text
    assert set(scan.metadata) - {"TransferSyntax"} <= set(ALLOWED_TAGS) | set(DERIVED_TAGS)
    assert scan.metadata["ContrastAgent"] == "given"  # CT_small's agent text is not copied
    assert "ISOVUE" not in json.dumps(scan.metadata)
    assert scan.metadata["SeriesDescription"] == "Head CT axial"  # allow-listed tags do survive
    assert scan.pixels.shape == (128, 128) and np.isfinite(scan.pixels).all()
    assert caplog.records, "the loader should log a (de-identified) debug summary"


def test_identifiers_absent_from_cli_output(planted_dicom, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    out_png = tmp_path / "p.png"
    assert main(["-v", "inspect", str(planted_dicom), "--out", str(out_png)]) == 0
    assert main(["inspect", str(planted_dicom), "--json"]) == 0
    captured = capsys.readouterr()
    assert "Head CT axial" in captured.out
    for text in (captured.out, captured.err, caplog.text):
        assert leaks(text) == [], text
    assert "scan.dcm" not in captured.out  # the file name is never echoed
    assert out_png.read_bytes()[:4] == b"\x89PNG"


def test_series_listing_and_volume_are_clean(tmp_path, caplog):
    import pydicom

    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "s"
    write_series(folder, n=3)
    for p in folder.iterdir():
        ds = pydicom.dcmread(p)
        for key, value in PLANTED.items():
            if key not in ("SOPInstanceUID",):
                setattr(ds, key, value)
        ds.save_as(p)
    scan = load_scan(folder)
    for text in (repr(scan), str(scan.summary()), caplog.text):
        assert leaks(text) == [], text


def test_allow_list_has_no_identifying_tags():
    from pydicom.datadict import dictionary_VR

    forbidden = {
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "InstitutionName",
        "ReferringPhysicianName",
        "AccessionNumber",
        "StudyDate",
        "ImageComments",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "StudyDescription",
    }
    assert not forbidden & set(ALLOWED_TAGS)
    assert all(dictionary_VR(tag) not in NEVER_VRS for tag in ALLOWED_TAGS)


def test_images_with_burned_in_text_are_never_decoded(tmp_path):
    """A DICOM image marked Burned In Annotation YES (its pixels may show the patient's name)
    is refused on its own; in a folder it is left out with a note, and the rest loads; NO or
    no tag loads as usual."""
    import pydicom
    import pytest
    from conftest import pydicom_file

    from assistant.scan import ScanError

    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    for value in ("NO", None):
        if value is not None:
            ds.BurnedInAnnotation = value
        ds.save_as(tmp_path / "ok.dcm")
        assert load_scan(tmp_path / "ok.dcm").pixels.shape == (64, 64)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "burned.dcm")
    with pytest.raises(ScanError, match=r"text burned into its pixels .*not shown or analysed"):
        load_scan(tmp_path / "burned.dcm")

    folder = tmp_path / "series"
    write_series(folder, n=4)
    shot = pydicom.dcmread(next(folder.iterdir()))
    shot.BurnedInAnnotation = "YES"
    shot.SOPInstanceUID = shot.SOPInstanceUID + ".9"
    shot.ImagePositionPatient = [0.0, 0.0, 500.0]
    shot.save_as(folder / "screenshot.dcm")
    scan = load_scan(folder)
    assert scan.pixels.shape[0] == 4  # the marked image is not one of the slices
    assert any("1 DICOM image(s) marked as having text burned" in n for n in scan.notes)
    for f in folder.iterdir():
        if f.name != "screenshot.dcm":
            f.unlink()
    with pytest.raises(ScanError, match="holds no DICOM image .*burned into their pixels"):
        load_scan(folder)
