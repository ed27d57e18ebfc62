"""Single DICOM files: modality LUT, MONOCHROME1, window, spacing, side, compressed syntaxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import pydicom_file
from pydicom.pixels import apply_modality_lut

from assistant.scan import load_scan


def test_ct_in_hounsfield_units(ct_small):
    ds = pydicom.dcmread(ct_small)
    scan = load_scan(ct_small)
    assert scan.format == "dicom" and scan.modality == "CT"
    expected = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(
        ds.RescaleIntercept
    )
    np.testing.assert_array_equal(scan.pixels, expected)
    assert scan.pixels.min() < -500  # air/background in HU, not raw stored values
    assert scan.spacing == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))
    # IOP rows along +x (LPS): columns run towards the patient's left -> radiological display
    assert scan.patient_left == "image_right"
    assert scan.metadata["Modality"] == "CT"
    assert scan.metadata["Rows"] == 128 and scan.metadata["TransferSyntax"] == (
        "Explicit VR Little Endian"
    )


def test_window_first_value_and_mr(tmp_path):
    scan = load_scan(pydicom_file("MR_small.dcm"))
    assert scan.window == (600.0, 1600.0)
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    ds.WindowCenter, ds.WindowWidth = [40, 400], [80, 2000]  # multi-valued: first is default
    ds.save_as(tmp_path / "w.dcm")
    assert load_scan(tmp_path / "w.dcm").window == (40.0, 80.0)


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
    ],
)
def test_lossless_syntaxes_equal_uncompressed(name):
    reference = load_scan(pydicom_file("MR_small.dcm")).pixels
    np.testing.assert_array_equal(load_scan(pydicom_file(name)).pixels, reference)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "SC_rgb_jpeg.dcm", "JPEG2000.dcm"])
def test_lossy_syntaxes_decode(name):
    scan = load_scan(pydicom_file(name))
    assert scan.pixels.ndim == 2 and scan.pixels.std() > 0


def test_monochrome1_inverted():
    path = pydicom_file("dicomdirtests/77654033/CR1/6154")
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    raw = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    scan = load_scan(path)
    np.testing.assert_allclose(scan.pixels, raw.min() + raw.max() - raw)
    assert any("MONOCHROME1 inverted" in n for n in scan.notes)
    center = float(ds.WindowCenter[0] if ds["WindowCenter"].VM > 1 else ds.WindowCenter)
    assert scan.window[0] == pytest.approx(raw.min() + raw.max() - center)


def test_rgb_dicom_to_gray_and_multiframe():
    scan = load_scan(pydicom_file("SC_rgb_rle_2frame.dcm"))
    assert scan.pixels.shape == (2, 100, 100)
    assert any("converted to gray" in n for n in scan.notes)
    assert any("stacked in instance/stored order" in n for n in scan.notes)


def test_rtdose_multiframe_volume_from_grid_offsets():
    ds = pydicom.dcmread(pydicom_file("rtdose.dcm"))
    scan = load_scan(pydicom_file("rtdose.dcm"))
    assert scan.pixels.shape == (15, 10, 10)
    offsets = np.asarray(ds.GridFrameOffsetVector, dtype=float)
    assert scan.spacing[0] == pytest.approx(abs(np.median(np.diff(offsets))))
    assert scan.spacing[1:] == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))
    assert scan.patient_left == "image_left"


def test_dicom_without_preamble_or_file_meta(tmp_path, ct_small):
    raw = Path(ct_small).read_bytes()
    assert load_scan(raw).pixels.shape == (128, 128)
    ds = pydicom.dcmread(ct_small)
    ds.file_meta = pydicom.dataset.FileMetaDataset()  # no transfer syntax: guessed on reading
    ds.preamble = None
    ds.save_as(tmp_path / "bare", enforce_file_format=False, implicit_vr=True, little_endian=True)
    stripped = (tmp_path / "bare").read_bytes()
    assert stripped[128:132] != b"DICM" and stripped[:2] == b"\x08\x00"
    for hint in (None, "x.dcm"):
        scan = load_scan(stripped, filename=hint)
        np.testing.assert_array_equal(scan.pixels, load_scan(ct_small).pixels)


def test_enhanced_multiframe_functional_groups(tmp_path, ct_small):
    """Geometry, rescale and window read from shared/per-frame functional groups."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = pydicom.dcmread(ct_small)
    origin = [float(v) for v in ds.ImagePositionPatient]
    frames = np.stack([np.full((128, 128), 10 * (k + 1), np.int16) for k in range(3)])
    frames[:, 0, 0] = 500  # right-anterior corner marker
    z_of_frame = [4.0, 0.0, 2.0]  # stored out of order
    for key in (
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "RescaleSlope",
        "RescaleIntercept",
        "SliceThickness",
        "SpacingBetweenSlices",
    ):
        if key in ds:
            delattr(ds, key)
    ds.NumberOfFrames = 3
    ds.PixelData = frames.tobytes()

    def item(**kw):
        d = Dataset()
        for k, v in kw.items():
            setattr(d, k, v)
        return d

    shared = item(
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
        PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.5, 0.8], SliceThickness=2.0)]),
        PixelValueTransformationSequence=Sequence(
            [item(RescaleSlope=2, RescaleIntercept=-100, RescaleType="HU")]
        ),
        FrameVOILUTSequence=Sequence([item(WindowCenter=40, WindowWidth=400)]),
    )
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [
            item(
                PlanePositionSequence=Sequence(
                    [item(ImagePositionPatient=[origin[0], origin[1], origin[2] + z])]
                )
            )
            for z in z_of_frame
        ]
    )
    ds.save_as(tmp_path / "enh.dcm")
    scan = load_scan(tmp_path / "enh.dcm")
    assert scan.pixels.shape == (3, 128, 128)
    # frames sorted inferior -> superior: z 0, 2, 4 = stored frames 1, 2, 0; value*2 - 100
    np.testing.assert_array_equal(scan.pixels[:, 64, 64], [40 - 100, 60 - 100, 20 - 100])
    assert (scan.pixels[:, 0, -1] == 900).all()  # marker: anterior row, patient right = last col
    assert scan.spacing == pytest.approx((2.0, 0.5, 0.8))
    assert scan.window == (40.0, 400.0) and scan.patient_left == "image_left"
