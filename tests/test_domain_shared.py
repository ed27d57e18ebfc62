"""Applicability check on the shared IXI / out-of-domain data (skipped when ../shared is missing)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.domain import check_applicability, load_domain_model, register_volume
from assistant.scan import Scan, load_scan

pytest.importorskip("SimpleITK")
pytestmark = pytest.mark.shared


def _val_slices(shared_data, n: int):
    return sorted((shared_data / "ixi-t1-midaxial" / "val").glob("*.png"))[:n]


def test_healthy_val_slices_accepted(shared_data):
    for path in _val_slices(shared_data, 6):
        verdict = check_applicability(load_scan(path))
        assert verdict.in_domain, (path.name, verdict.reasons)


def test_large_synthetic_lesions_not_rejected(shared_data):
    from assistant.synth import KINDS, brain_mask_for, load_image01, synthesize_lesion

    rng = np.random.default_rng(3)
    for i, path in enumerate(_val_slices(shared_data, len(KINDS))):
        img = load_image01(path)
        lesion = synthesize_lesion(img, brain_mask_for(img), rng, kind=KINDS[i], size_bin="large")
        verdict = check_applicability(Scan(pixels=lesion.image, format="png"))
        assert verdict.in_domain, (KINDS[i], verdict.reasons)


def test_chest_xrays_rejected(shared_data):
    for path in sorted((shared_data / "ood" / "cxr-kermany").glob("*.png"))[:6]:
        verdict = check_applicability(load_scan(path))
        assert not verdict.in_domain, path.name
        assert "does not look like" in " ".join(verdict.reasons)


@pytest.fixture(scope="module")
def val_volume():
    """The first val 2 mm volume and its registration (registered once for the module)."""
    from conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is missing (shared IXI/MSLUB data not available)")
    path = sorted((SHARED_DATA / "ixi-hh-t1-2mm" / "val").glob("*_T1.nii.gz"))[0]
    scan = load_scan(path)
    return scan, register_volume(scan)


def test_volume_registered_at_trained_level(val_volume):
    scan, reg = val_volume
    model = load_domain_model()
    assert reg.scan.pixels.shape == (233, 197)
    assert reg.similarity >= model.registration["similarity_threshold"]
    verdict = check_applicability(scan, registered=reg)
    assert verdict.in_domain, verdict.reasons
    assert verdict.slice_index in verdict.checks["analysable_slices"]
    native = check_applicability(scan, reg.slice_index, registered=reg)
    assert native.in_domain, native.reasons


def test_far_axial_and_other_planes_rejected(val_volume):
    scan, reg = val_volume
    model = load_domain_model()
    shape = scan.pixels.shape
    levels = np.array([reg.level_of_slice(k) for k in range(shape[0])])
    far = int(np.argmin(np.abs(levels - (model.trained_level + 30.0))))
    verdict = check_applicability(scan, far, registered=reg)
    assert not verdict.in_domain and verdict.level_ok is False
    bare = check_applicability(scan.slice2d(far).pixels)  # as a plain image, level from pixels
    assert not bare.in_domain
    for plane, axis in (("sagittal", 2), ("coronal", 1)):
        view = scan.slice2d(shape[axis] // 2, plane)
        assert not check_applicability(view).in_domain
        assert not check_applicability(view.pixels).in_domain, plane  # image only


def test_rigid_moved_val_volume_selects_same_anatomy(val_volume):
    """A real volume moved by a known rigid motion: the same anatomy is chosen."""
    from test_domain import _rigid_moved

    scan, reg0 = val_volume
    moved, moved_to_orig = _rigid_moved(scan, -10.0, (0.0, 8.0, -12.0))
    reg = register_volume(moved)
    r, c = np.array(reg.scan.pixels.shape) // 2
    mapped = (moved_to_orig @ np.array([*reg.native_coords[r, c], 1.0]))[:3]
    assert np.abs(mapped - reg0.native_coords[r, c]).max() <= 2.5  # voxels (2 mm)


def test_registration_only_refit_rewrites_only_the_registration(shared_data, tmp_path, monkeypatch):
    """`python -m assistant.domain.fit --registration-only` on a copy of the shipped model: the
    registration block is re-measured with the run-time settings (their starts included) and
    nothing else in domain.json changes."""
    import json
    import shutil

    import assistant.domain.calibrate as cal
    from assistant.domain.fit import main
    from assistant.domain.model import domain_dir
    from assistant.domain.register import FAST

    out = tmp_path / "domain"
    shutil.copytree(domain_dir(None), out)
    before = json.loads((out / "domain.json").read_text())
    monkeypatch.setattr(cal, "MAX_REG_VOLUMES", 2)  # two val volumes keep it quick
    args = ["--data", str(shared_data), "--out", str(out), "--cache", str(tmp_path / "cache")]
    assert main([*args, "--registration-only"]) == 0
    after = json.loads((out / "domain.json").read_text())
    reg = after.pop("registration")
    before.pop("registration")
    assert after == before
    assert reg["val_volumes"] == 2
    assert reg["settings"]["starts"] == FAST.starts
    assert reg["settings"]["sampling"] == list(FAST.sampling_per_level)
    assert reg["settings"]["iterations_per_level"] == list(FAST.iterations_per_level or [])
    kept = reg["val_comparison"][reg["kind"]]["min_similarity"]
    assert reg["similarity_threshold"] == pytest.approx(cal.SIM_MARGIN * kept, abs=1e-3)
    assert 0.5 < kept <= 1.0
