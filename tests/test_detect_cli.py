"""`assistant detect` with the applicability check (issue 13), on a tiny detector checkpoint.

The check is the shipped one (`assistant.domain`); the tiny checkpoint has no applicability
model of its own, so `detect` says so and uses the shipped one.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from assistant.cli import main

pytest.importorskip("SimpleITK")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    from assistant.detector.testing import tiny_checkpoint

    return str(tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt"))


def chest_xray_like() -> np.ndarray:
    """(256, 256) uint8: a frontal chest radiograph's layout: bright body, dark lungs, ribs,
    spine, with a radiograph's noise (seeded; without it the drawing is made of flat patches,
    which the check takes for a label map)."""
    yy, xx = np.mgrid[:256, :256]
    img = np.full((256, 256), 0.05, np.float32)
    body = ((yy - 140) / 110) ** 2 + ((xx - 128) / 115) ** 2 < 1
    img[body] = 0.7
    for cx in (80, 176):
        img[((yy - 130) / 80) ** 2 + ((xx - cx) / 38) ** 2 < 1] = 0.2
    ribs = (((yy - 130) / 80) ** 2 + ((np.abs(xx - 128) - 48) / 38) ** 2 < 1.2) & (yy % 18 < 4)
    img[ribs & (yy > 60)] = 0.5
    img[:, 120:136][body[:, 120:136]] = 0.9
    img += np.random.default_rng(0).normal(0, 0.02, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def gradient() -> np.ndarray:
    return np.tile(np.linspace(0, 255, 256), (256, 1)).astype(np.uint8)


def detect(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["detect", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("make", [chest_xray_like, gradient])
def test_out_of_domain_is_not_detected(tmp_path, ckpt, capsys, make):
    path = tmp_path / f"{make.__name__}.png"
    Image.fromarray(make()).save(path)
    out = tmp_path / "out"
    rc, stdout, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(out))
    assert rc == 0
    assert "OUT OF DOMAIN" in stderr and "--anyway" in stderr
    assert "does not look like" in stderr  # the reason, in words
    data = json.loads((out / "findings.json").read_text())
    assert data["detected"] is False and data["findings"] == [] and data["weak_findings"] == []
    verdict = data["applicability"]
    assert verdict["in_domain"] is False and verdict["reasons"]
    assert verdict["reasons"][0] in stderr
    assert not (out / "overlay.png").exists()  # nothing detected, nothing drawn
    assert "out of domain" in stdout


def test_anyway_marks_everything_unreliable(tmp_path, ckpt, capsys):
    path = tmp_path / "gradient.png"
    Image.fromarray(gradient()).save(path)
    out = tmp_path / "out"
    rc, stdout, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(out), "--anyway")
    assert rc == 0 and "UNRELIABLE" in stderr and "UNRELIABLE" in stdout
    data = json.loads((out / "findings.json").read_text())
    assert data["detected"] is True and data["unreliable"] is True
    assert data["applicability"]["in_domain"] is False
    assert data["findings"], "the tiny detector flags the gradient"
    assert all(f["unreliable"] is True for f in data["findings"] + data["weak_findings"])
    assert (out / "overlay.png").is_file()


def test_in_domain_slice_is_detected_with_the_verdict(tmp_path, ckpt, capsys):
    from assistant.domain.align2d import template_slice  # skull on, like the training slices

    path = tmp_path / "mni.png"
    Image.fromarray(np.clip(template_slice() * 255, 0, 255).astype(np.uint8)).save(path)
    out = tmp_path / "out"
    rc, _, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(out))
    assert rc == 0 and "no applicability model" in stderr  # the tiny checkpoint has none
    data = json.loads((out / "findings.json").read_text())
    assert data["applicability"]["in_domain"] is True and data["unreliable"] is False
    assert not any(f["unreliable"] for f in data["findings"])
    assert (out / "overlay.png").is_file()
    rc, _, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(out), "--slice", "3")
    assert rc == 2 and "volumes only" in stderr


def test_volume_level_is_chosen_by_registration(tmp_path, ckpt, capsys):
    """The MNI head template as a NIfTI volume: detect picks the slice at the trained level;
    findings carry their native voxel; a --slice far from that level is refused."""
    nib = pytest.importorskip("nibabel")
    from assistant.domain import load_domain_model

    t = load_domain_model().head_template
    vol = np.asarray(t["volume"], np.float32)  # MNI (z, y, x), 2 mm
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = t["origin"]
    path = tmp_path / "head.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(vol.transpose(2, 1, 0)) * 1000, affine), path)

    out = tmp_path / "out"
    rc, stdout, _ = detect(capsys, str(path), "--model", ckpt, "--out", str(out))
    assert rc == 0 and "registered slice" in stdout
    data = json.loads((out / "findings.json").read_text())
    verdict = data["applicability"]
    assert verdict["in_domain"] is True, verdict["reasons"]
    index = verdict["slice_index"]
    assert data["slice_index"] == index == data["registered"]["slice_index"]
    assert abs(index * 2.0 + t["origin"][2] - 23.0) <= 4.0  # native slice at MNI z ~ +23 mm
    assert data["findings"], "the tiny detector flags the template"
    for f in data["findings"]:
        z, y, x = f["native_voxel"]
        assert 0 <= z < vol.shape[0] and 0 <= y < vol.shape[1] and 0 <= x < vol.shape[2]
        assert f["slice_index"] == z and abs(z - index) <= 3

    far = tmp_path / "far"
    rc, _, stderr = detect(
        capsys, str(path), "--model", ckpt, "--out", str(far), "--slice", str(index - 20)
    )
    assert rc == 0 and "OUT OF DOMAIN" in stderr and "below the level" in stderr
    # known from the geometry: the volume's levels were not analysed first
    assert "holds no voxel of the analysed levels" in stderr
    assert "Analysing the volume's levels" not in stderr
    data = json.loads((far / "findings.json").read_text())
    assert data["findings"] == [] and data["applicability"]["slice_index"] == index - 20


def test_spacing_gives_sizes_in_mm_and_is_refused_for_a_scan_with_its_own(tmp_path, ckpt, capsys):
    """Without a spacing a PNG's sizes are pixels of the original image (findings.json says
    so); --spacing 0.5 turns them into mm²; a DICOM with a different spacing refuses it."""
    from assistant.domain.align2d import template_slice  # skull on, like the training slices

    path = tmp_path / "mni.png"
    Image.fromarray(np.clip(template_slice() * 255, 0, 255).astype(np.uint8)).save(path)
    rc, stdout, _ = detect(capsys, str(path), "--model", ckpt, "--out", str(tmp_path / "px"))
    px = json.loads((tmp_path / "px" / "findings.json").read_text())
    assert rc == 0 and px["findings"], "the tiny detector flags the template"
    h, w = template_slice().shape
    assert px["sizes"]["unit"] == "px" and px["sizes"]["image_shape"] == [h, w]
    assert "depend on its resolution" in px["sizes"]["note"] and "sizes in pixels" in stdout
    assert all(f["area_mm2"] is None for f in px["findings"])

    out = tmp_path / "mm"
    rc, stdout, _ = detect(
        capsys, str(path), "--spacing", "0.5", "--model", ckpt, "--out", str(out)
    )
    mm = json.loads((out / "findings.json").read_text())
    assert rc == 0 and mm["sizes"]["unit"] == "mm²" and mm["sizes"]["spacing_source"] == "user"
    assert mm["sizes"]["spacing_mm"] == [0.5, 0.5] and "given by the user" in stdout
    assert [f["area_px"] for f in mm["findings"]] == [f["area_px"] for f in px["findings"]]
    for f in mm["findings"]:
        assert f["area_mm2"] == pytest.approx(f["area_px"] * 0.25, abs=0.05)

    from pydicom.data import get_testdata_file  # CT_small: its own spacing 0.661 mm

    dicom = get_testdata_file("CT_small.dcm")
    rc, _, stderr = detect(capsys, dicom, "--spacing", "0.5", "--out", str(tmp_path / "ct"))
    assert rc == 2 and "carries its own pixel spacing (0.661468 × 0.661468 mm)" in stderr
    with pytest.raises(SystemExit):
        main(["detect", str(path), "--spacing", "-2", "--out", str(tmp_path / "bad")])
    assert "pixel spacing -2 mm is out of range" in capsys.readouterr().err


def test_a_volume_is_detected_at_every_level_the_detector_knows(tmp_path, ckpt, capsys):
    """`assistant detect VOLUME`: the trained level's slice (findings.json) and every level the
    detector knows (volume.json: levels, 3D findings, the score strip); `--slice-only` skips
    the volume."""
    from test_volume import template_volume, write_nifti

    scan, _, origin, step = template_volume()
    path = write_nifti(tmp_path / "head.nii.gz", scan.pixels, origin, step)
    out = tmp_path / "out"
    rc, stdout, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(out))
    assert rc == 0, stderr
    volume = json.loads((out / "volume.json").read_text())
    assert volume["levels_mm"] == [19.0, 21.0, 23.0, 25.0, 27.0]
    assert len(volume["slice_scores"]) == scan.pixels.shape[0]
    assert volume["analysed_slices"] and len(volume["level_scores"]) == 5
    assert "the 5 levels the detector was trained for were analysed" in stdout
    assert all(f["id"] in stdout for f in volume["findings"])
    assert "volume.json" in stdout
    found = json.loads((out / "findings.json").read_text())
    assert found["registered"]["level_mm"] == 23.0
    # the trained level's slice is the volume analysis' result at that level (detected once)
    at_23 = next(row for row in volume["level_scores"] if row["level_mm"] == 23.0)
    assert found["score"] == pytest.approx(at_23["score"], abs=1e-5)

    only = tmp_path / "only"
    rc, stdout, _ = detect(capsys, str(path), "--model", ckpt, "--out", str(only), "--slice-only")
    assert rc == 0 and (only / "findings.json").exists() and not (only / "volume.json").exists()


def test_a_chosen_slice_of_a_volume_is_shown_at_its_analysed_level(tmp_path, ckpt, capsys):
    """`detect VOLUME --slice K`, K crossing an analysed level: the registered plane at that
    level with the volume analysis' own result (as `ask --slice K` and the app's slider show
    it); `--slice-only` analyses native slice K on its own."""
    from test_volume import template_volume, write_nifti

    scan, _, origin, step = template_volume()
    path = write_nifti(tmp_path / "head.nii.gz", scan.pixels, origin, step)
    first = tmp_path / "first"
    rc, _, stderr = detect(capsys, str(path), "--model", ckpt, "--out", str(first))
    assert rc == 0, stderr
    trained = json.loads((first / "findings.json").read_text())["registered"]["slice_index"]
    k = trained + 1
    out = tmp_path / "k"
    rc, stdout, stderr = detect(
        capsys, str(path), "--model", ckpt, "--out", str(out), "--slice", str(k)
    )
    assert rc == 0, stderr
    assert f"on native slice {k}, shown at the analysed level" in stdout
    found = json.loads((out / "findings.json").read_text())
    volume = json.loads((out / "volume.json").read_text())
    level = found["registered"]["level_mm"]
    assert found["registered"]["slice_index"] == k and level in volume["levels_mm"]
    assert level > 23.0  # a slice above the trained level's lies on a higher level
    assert found["applicability"]["in_domain"] is True
    at_level = next(row for row in volume["level_scores"] if row["level_mm"] == level)
    assert found["score"] == pytest.approx(at_level["score"], abs=1e-5)

    alone = tmp_path / "alone"
    rc, stdout, _ = detect(
        capsys, str(path), "--model", ckpt, "--out", str(alone), "--slice", str(k), "--slice-only"
    )
    assert rc == 0 and f"on axial slice {k}" in stdout
    data = json.loads((alone / "findings.json").read_text())
    assert "registered" not in data and not (alone / "volume.json").exists()
