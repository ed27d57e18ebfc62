"""`assistant inspect`: summary text/JSON and the preview PNG."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from conftest import nifti_ras_volume
from PIL import Image

from assistant.cli import main
from assistant.commands.inspect import preview_image
from assistant.scan import Scan


def test_text_summary_and_preview(ct_small, tmp_path, capsys):
    out = tmp_path / "sub" / "preview.png"
    assert main(["inspect", ct_small, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "format:       dicom" in text and "modality:     CT" in text
    assert "128 x 128 (Y, X)" in text and "image right (radiological display)" in text
    assert "TransferSyntax: Explicit VR Little Endian" in text
    img = np.asarray(Image.open(out))
    assert img.shape == (128, 128) and img.dtype == np.uint8
    assert img.min() == 0 and img.max() == 255  # percentiles 1..99 stretch to the full range


def test_json_volume_sagittal(tmp_path, capsys):
    nib.save(
        nib.Nifti1Image(nifti_ras_volume((10, 12, 8)), np.diag([1.0, 2.0, 3.0, 1.0])),
        tmp_path / "v.nii",
    )
    out = tmp_path / "sag.png"
    assert (
        main(
            [
                "inspect",
                str(tmp_path / "v.nii"),
                "--plane",
                "sagittal",
                "--slice",
                "0",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    s = json.loads(capsys.readouterr().out)
    assert s["format"] == "nifti" and s["shape"] == [8, 12, 10]
    assert s["spacing_mm"] == [3.0, 2.0, 1.0] and s["patient_left"] == "image_left"
    assert s["preview"] == {
        "plane": "sagittal",
        "slice": 0,
        "of": 10,
        "shape": [8, 12],
        "path": str(out),
    }
    # rows are 3 mm, columns 2 mm: the preview is stretched to true proportions
    assert Image.open(out).size == (12, 12)


def test_window_used_for_preview():
    pixels = np.array([[-1000.0, 0.0, 40.0, 1000.0]], dtype=np.float32)
    img = np.asarray(preview_image(Scan(pixels=pixels, window=(40.0, 80.0))))
    assert img.tolist() == [[0, 0, 128, 255]]


def test_bad_file_exit_code(tmp_path, capsys):
    bad = tmp_path / "x.png"
    bad.write_text("not an image")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "accepted" in err


@pytest.mark.parametrize("plane", ["axial", "coronal"])
def test_out_of_range_slice(tmp_path, capsys, plane):
    nib.save(nib.Nifti1Image(nifti_ras_volume((4, 5, 6)), np.eye(4)), tmp_path / "v.nii")
    assert main(["inspect", str(tmp_path / "v.nii"), "--plane", plane, "--slice", "50"]) == 2
    assert "out of range" in capsys.readouterr().err
