"""Answers a demo host's trial (2026-12-05) found wrong, asked through the grounded responder
with constructed evidence: the sequence of a DICOM whose header codes it, the scan's date and
hospital, a size-and-cause question, what a confidence number was calibrated on."""

from __future__ import annotations

import pydicom
from assistant_fixtures import finding_evidence, grounded_ask

from assistant.analysis import _acquisition
from assistant.examples import EXAMPLES_DIR
from assistant.findings import confidence_meaning
from assistant.responders.intents import resolve
from assistant.scan import load_scan

SPIN_ECHO = {
    "ScanningSequence": "SE",
    "MRAcquisitionType": "2D",
    "RepetitionTime": 500.0,
    "EchoTime": 10.0,
    "MagneticFieldStrength": 1.5,
}


def test_the_sequence_and_timings_a_dicom_header_codes(tmp_path):
    """ "Which sequence is this?" said the DICOM does not record it (SE, TR 500, TE 10)."""
    ds = pydicom.dcmread(EXAMPLES_DIR / "mni_right_hypointense.dcm")
    ds.ScanningSequence, ds.MRAcquisitionType = "SE", "2D"
    ds.RepetitionTime, ds.EchoTime, ds.MagneticFieldStrength = 500, 10, 1.5
    ds.SeriesDescription = "Jane Doe AX T1"  # free text: never reaches the summary
    path = tmp_path / "seq.dcm"
    ds.save_as(path)
    acquisition = _acquisition(load_scan(path))
    assert acquisition == SPIN_ECHO
    ev = finding_evidence(format="dicom", acquisition=acquisition)
    sequence = grounded_ask("Which sequence is this?", ev)
    assert sequence.startswith(
        "The DICOM header records a 2D spin echo sequence (ScanningSequence SE), TR 500 ms, "
        "TE 10 ms. Short TR and TE: T1-weighted"
    )
    assert "Jane" not in sequence
    assert grounded_ask("TR and TE?", ev).startswith("The DICOM header records TR 500 ms, TE 10 ms")
    assert "1.5 T" in grounded_ask("what field strength?", ev)


def test_the_scans_date_and_hospital_are_removed_identifiers():
    for q in ("When was this scan taken and at which hospital?", "What is the date of the scan?"):
        assert resolve(q).intent == "out_of_scope", q
        assert grounded_ask(q, finding_evidence()).startswith("I have no patient identifiers"), q


def test_size_and_cause_together_and_what_confidence_was_calibrated_on():
    both = grounded_ask("How big is it and what could it be?", finding_evidence())
    assert "F1 covers" in both and "This cannot be determined from the detector's output" in both
    meaning = confidence_meaning({"confidence": 0.98})
    assert meaning.endswith("as calibrated on healthy and synthetic-lesion validation scans")
