"""Applicability check (issue 13) on inputs that need no shared data: shipped artifacts only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import pydicom_file

from assistant.domain import Applicability, check_applicability, load_domain_model
from assistant.domain.geometry import sitk_from_zyx, template_slice, trained_level_mm
from assistant.domain.metadata import check_metadata, description_hints, plane_of
from assistant.scan import Scan, ScanError, load_scan

pytest.importorskip("SimpleITK")


@pytest.fixture(scope="module")
def model():
    return load_domain_model()


def test_artifacts_are_small_and_calibrated(model):
    from assistant.domain.model import domain_dir

    folder = domain_dir()
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 2 * 1024 * 1024
    cfg = json.loads((folder / "domain.json").read_text())
    assert cfg["trained_level_mm"] == pytest.approx(trained_level_mm()) == pytest.approx(23.0)
    assert 0 < cfg["level_tolerance_mm"] <= 10
    assert cfg["typicality_threshold"] > 1
    assert cfg["registration"]["kind"] in ("rigid", "affine")


def test_template_grid_constants_match_nilearn():
    from assistant.domain.geometry import TEMPLATE_ORIGIN, TEMPLATE_SHAPE, template_array

    data, aff = template_array()
    assert data.shape == TEMPLATE_SHAPE
    assert tuple(aff[:3, 3]) == TEMPLATE_ORIGIN
    assert np.allclose(np.diag(aff)[:3], 1.0)


def test_head_template_slice_in_domain_and_json_ready(model):
    from assistant.domain.align2d import template_slice as head_slice

    verdict = check_applicability(head_slice() * 255.0)
    assert isinstance(verdict, Applicability)
    d = verdict.to_dict()
    json.dumps(d)
    assert {"in_domain", "reasons", "level", "level_ok", "typicality"} <= set(d)
    assert verdict.in_domain, verdict.reasons
    assert verdict.reasons == []
    assert abs(verdict.level - model.trained_level) <= model.level_tolerance
    assert d["checks"]["skull"]["skull_stripped"] is False
    assert d["checks"]["contrast"]["not_t1"] is False  # aligned in 2D, read as T1


def test_skull_stripped_slices_are_refused_with_the_reason(model):
    # nilearn's MNI152 template is skull-stripped: typical and at the right level, but the
    # detector, trained with the skull on, reads the bare brain edge as abnormal
    from assistant.domain.align2d import template_slice as head_slice
    from assistant.domain.skull import RIM_ON_BRAIN_THRESHOLD, rim_on_brain

    verdict = check_applicability(template_slice() * 255.0)
    assert not verdict.in_domain
    assert len(verdict.reasons) == 1 and "skull-stripped" in verdict.reasons[0]
    assert "with the skull and scalp on" in verdict.reasons[0]
    assert verdict.to_dict()["checks"]["skull"]["skull_stripped"] is True
    # the outline of the skull-on average head lies on scalp, the template's on the brain
    assert rim_on_brain(head_slice()) <= RIM_ON_BRAIN_THRESHOLD
    assert rim_on_brain(template_slice()) > 0.5
    assert rim_on_brain(np.zeros((64, 64))) is None  # no head: no measure


def test_upside_down_slices_are_refused_with_the_reason(model):
    # typical and at the right level when turned, but the detector learned the front at the top
    from assistant.domain.orientation import UPSIDE_DOWN_THRESHOLD, upside_down_score
    from assistant.examples import EXAMPLES_DIR

    head = load_scan(EXAMPLES_DIR / "mni_normal.png").pixels  # the average head, 2 mm low
    upright = check_applicability(head)
    assert upright.in_domain and upright.checks["orientation"]["upside_down"] is False
    assert upside_down_score(head) < UPSIDE_DOWN_THRESHOLD - 0.2
    assert upside_down_score(head[:, ::-1]) < UPSIDE_DOWN_THRESHOLD  # mirrored: still upright
    for turned in (head[::-1], head[::-1, ::-1]):  # upside-down, and turned by 180 degrees
        assert upside_down_score(turned) > UPSIDE_DOWN_THRESHOLD + 0.2
        verdict = check_applicability(np.ascontiguousarray(turned))
        assert not verdict.in_domain
        assert verdict.checks["orientation"]["upside_down"] is True
        assert len(verdict.reasons) == 1 and "upside-down" in verdict.reasons[0]
        assert "front of the head is at the top" in verdict.reasons[0]
    assert upside_down_score(np.zeros((64, 64))) is None  # no head: no measure


def test_turned_heads_are_refused_with_the_reason(model):
    # the detector learned slices with a vertical midline; a head turned in the image plane is
    # refused for that (before its image-estimated level, which the turn would also throw off)
    from scipy import ndimage

    from assistant.domain.orientation import TILT_TOLERANCE_DEG, tilt_degrees
    from assistant.examples import EXAMPLES_DIR

    head = load_scan(EXAMPLES_DIR / "mni_normal.png").pixels.astype(np.float32)
    assert abs(tilt_degrees(head)) <= 2
    assert abs(tilt_degrees(head[:, ::-1].copy())) <= 2  # mirrored: still upright
    for degrees, way in ((20, "counter-clockwise"), (-25, "clockwise")):
        turned = ndimage.rotate(head, degrees, reshape=False, order=1)
        assert tilt_degrees(turned) == pytest.approx(degrees, abs=2)
        verdict = check_applicability(turned)
        assert not verdict.in_domain and verdict.checks["tilt"]["tilted"] is True
        assert (
            len(verdict.reasons) == 1 and f"degrees {way} in the image plane" in verdict.reasons[0]
        )
        assert "level" not in verdict.checks  # not estimated on a turned head
        assert not check_applicability(turned, tilt=False).checks.get("tilt")
    slight = check_applicability(ndimage.rotate(head, 6, reshape=False, order=1))
    assert slight.in_domain and slight.checks["tilt"]["tilted"] is False
    assert abs(slight.checks["tilt"]["degrees"]) < TILT_TOLERANCE_DEG
    assert tilt_degrees(np.zeros((64, 64))) is None  # no head: no measure


@pytest.mark.parametrize(
    "name",
    [
        "mni_normal.png",
        "mni_left_hyperintense.png",
        "mni_right_hypointense.dcm",
        "mni_left_volume.nii.gz",  # a 9-slice slab: checked slice by slice in 2D
        "mni_right_ring.png",  # drawn 2 mm below the trained level
    ],
)
def test_shipped_examples_in_domain(name):
    from pathlib import Path

    import assistant.examples

    folder = Path(assistant.examples.__file__).parent
    verdict = check_applicability(load_scan(folder / name))
    assert verdict.in_domain, (name, verdict.reasons)


def test_far_template_level_rejected(model):
    top = check_applicability(template_slice(95 + 40) * 255.0)  # 40 mm above
    assert not top.in_domain
    assert any("lies at about" in r or "does not look like" in r for r in top.reasons)


def test_blank_and_noise_images_rejected():
    blank = check_applicability(np.zeros((128, 128), np.float32))
    assert not blank.in_domain and "No head outline" in blank.reasons[0]
    rng = np.random.default_rng(0)
    noise = check_applicability(rng.random((200, 200)).astype(np.float32))
    assert not noise.in_domain


def test_gradient_rejected():
    grad = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (256, 1))
    assert not check_applicability(grad).in_domain


def test_dicom_ct_refused_from_metadata(ct_small):
    verdict = check_applicability(load_scan(ct_small))
    assert not verdict.in_domain
    assert verdict.checks["metadata"]["modality"] == "CT"
    assert "modality as CT" in verdict.reasons[0]
    assert "accepted:" in verdict.reasons[0]


def test_ct_volume_refused_without_registration():
    vol = Scan(pixels=np.zeros((20, 64, 64), np.float32), spacing=(2.0, 1.0, 1.0))
    vol.modality, vol.format = "CT", "dicom"
    verdict = check_applicability(vol)
    assert not verdict.in_domain
    assert "registration" not in verdict.checks


@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "ExplVR_BigEnd.dcm", "JPEG2000.dcm"])
def test_other_modalities_refused(name):
    scan = load_scan(pydicom_file(name))
    verdict = check_applicability(scan if not scan.is_volume else scan.slice2d())
    assert not verdict.in_domain


def test_plane_from_notes_and_orientation():
    vol = Scan(pixels=np.zeros((10, 12, 14), np.float32), spacing=(1.0, 1.0, 1.0))
    assert plane_of(vol.slice2d(5, "sagittal"))[0] == "sagittal"
    assert plane_of(vol.slice2d(5, "coronal"))[0] == "coronal"
    assert plane_of(vol.slice2d(5, "axial"))[0] == "axial"
    cor = Scan(pixels=np.zeros((4, 4)), metadata={"ImageOrientationPatient": "1, 0, 0, 0, 0, -1"})
    assert plane_of(cor)[0] == "coronal"
    verdict = check_metadata(vol.slice2d(5, "sagittal"), "accepted: axial")
    assert not verdict.ok and "sagittal slice" in verdict.reasons[0]


def test_body_part_and_description_hints():
    chest = Scan(pixels=np.zeros((4, 4)), modality="MR", format="dicom")
    chest.metadata = {"BodyPartExamined": "CHEST", "SeriesDescription": "t2_tse_sag"}
    verdict = check_metadata(chest, "accepted: brain")
    assert not verdict.ok and "chest" in verdict.reasons[0]
    assert "sequence: T2-weighted" in verdict.checks["hints"]
    assert "plane: sagittal" in verdict.checks["hints"]
    assert description_hints("T1 MPRAGE AX") == []


def test_photograph_rejected():
    data = pytest.importorskip("skimage.data")
    for name in ("camera", "astronaut", "coffee"):
        img = np.asarray(getattr(data, name)(), dtype=np.float32)
        if img.ndim == 3:
            img = img[..., :3].mean(axis=-1)
        assert not check_applicability(img).in_domain, name


def test_register_volume_refuses_2d():
    from assistant.domain import register_volume

    with pytest.raises(ScanError):
        register_volume(Scan(pixels=np.zeros((8, 8), np.float32)))


def test_registration_keeps_the_best_of_several_starts(model, monkeypatch):
    """`RegConfig.starts` > 1: one optimisation per seed; the result with the best NCC wins."""
    from dataclasses import replace

    import assistant.domain.register as reg

    seeds, sims = [], iter([0.62, 0.88, 0.75])

    def fake_register(fixed, moving, cfg, fixed_mask=None):
        seeds.append(cfg.seed)
        m = np.eye(4)
        m[0, 3] = cfg.seed  # tag the matrix with its seed
        return m, -0.1 * cfg.seed

    monkeypatch.setattr(reg, "affine_register", fake_register)
    monkeypatch.setattr(reg, "similarity", lambda vol, m, model: next(sims))
    scan = _template_volume(model)
    config = replace(reg.FAST, seed=5, starts=3, retry_below=None, parallel=False)
    m2v, metric, sim, cfg = reg.register_matrix(scan, config=config)
    assert seeds == [5, 6, 7]
    assert sim == pytest.approx(0.88) and metric == pytest.approx(-0.6)
    moving = reg.sitk_from_zyx(reg.normalise_volume(scan.pixels), scan.spacing)
    kept = np.eye(4)
    kept[0, 3] = 6  # the second start's matrix
    assert np.allclose(m2v, reg.physical_to_voxel(moving) @ kept)


@pytest.mark.parametrize(
    ("sims", "seeds_run", "kept"),
    [
        ([0.62, 0.88, 0.75], [5, 6], 0.88),  # the second start reaches the cutoff: stop
        ([0.85, 0.60, 0.99], [5], 0.85),  # the first is good enough: no second start
        ([0.62, 0.70, 0.75], [5, 6, 7], 0.75),  # none reaches it: all starts, the best kept
    ],
)
def test_registration_retries_only_below_the_cutoff(model, monkeypatch, sims, seeds_run, kept):
    """`RegConfig.retry_below`: further starts only while the best similarity is below it."""
    from dataclasses import replace

    import assistant.domain.register as reg

    seeds, it = [], iter(sims)

    def fake_register(fixed, moving, cfg, fixed_mask=None):
        seeds.append(cfg.seed)
        return np.eye(4), 0.0

    monkeypatch.setattr(reg, "affine_register", fake_register)
    monkeypatch.setattr(reg, "similarity", lambda vol, m, model: next(it))
    config = replace(reg.FAST, seed=5, starts=3, retry_below=0.8, parallel=False)
    _, _, sim, _ = reg.register_matrix(_template_volume(model), config=config)
    assert seeds == seeds_run and sim == pytest.approx(kept)


def test_parallel_starts_run_all_on_one_thread_each_and_keep_the_best(model, monkeypatch):
    """`RegConfig.parallel`: every start runs (side by side, threads // starts threads each), the
    best similarity wins whatever order they finish in, and the global thread count is put
    back."""
    from dataclasses import replace

    import SimpleITK as sitk

    import assistant.domain.register as reg

    runs = []

    def fake_register(fixed, moving, cfg, fixed_mask=None):
        runs.append((cfg.seed, cfg.threads))
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(cfg.threads)
        m = np.eye(4)
        m[0, 3] = cfg.seed
        return m, 0.0

    scan = _template_volume(model)
    moving = reg.sitk_from_zyx(reg.normalise_volume(scan.pixels), scan.spacing)
    to_voxel = reg.physical_to_voxel(moving)
    by_seed = {5: 0.70, 6: 0.90, 7: 0.90, 8: 0.60}  # a tie: the earlier seed (6) is kept

    def fake_similarity(vol, m2v, model):
        return by_seed[int(round((np.linalg.inv(to_voxel) @ m2v)[0, 3]))]

    monkeypatch.setattr(reg, "affine_register", fake_register)
    monkeypatch.setattr(reg, "similarity", fake_similarity)
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    config = replace(reg.FAST, seed=5, starts=4, threads=8, parallel=True, retry_below=0.5)
    m2v, _, sim, _ = reg.register_matrix(scan, config=config)
    assert sorted(runs) == [(5, 2), (6, 2), (7, 2), (8, 2)]  # all ran, retry_below ignored
    assert sim == pytest.approx(0.90)
    kept = np.eye(4)
    kept[0, 3] = 6  # seed 6's matrix
    assert np.allclose(m2v, to_voxel @ kept)
    assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == before


def test_shipped_registration_gives_the_same_result_every_run(model):
    """The shipped settings (parallel starts, one thread each) are deterministic: the same
    volume gives the same matrix twice (two threads sharing one optimisation do not)."""
    from dataclasses import replace

    import assistant.domain.register as reg

    moved, _ = _rigid_moved(_template_volume(model), 10.0, (4.0, -6.0, 8.0))
    vol01 = reg.normalise_volume(moved.pixels)
    config = replace(reg.FAST, iterations_per_level=(30, 20, 10))
    a = reg.register_to_template(vol01, moved.spacing, model, config)
    b = reg.register_to_template(vol01, moved.spacing, model, config)
    assert reg.FAST.parallel and reg.FAST.threads // reg.FAST.starts == 1
    assert np.array_equal(a[0], b[0]) and a[2] == b[2]


@pytest.mark.parametrize("dilation", [None, 2])
def test_every_start_gets_the_metric_mask(model, monkeypatch, dilation):
    """`RegConfig.mask_dilation`: the template head mask reaches every start; None: no mask."""
    from dataclasses import replace

    import assistant.domain.register as reg

    masks, it = [], iter([0.62, 0.88, 0.75])

    def fake_register(fixed, moving, cfg, fixed_mask=None):
        masks.append(fixed_mask)
        return np.eye(4), 0.0

    monkeypatch.setattr(reg, "affine_register", fake_register)
    monkeypatch.setattr(reg, "similarity", lambda vol, m, model: next(it))
    config = replace(reg.FAST, starts=3, parallel=False, mask_dilation=dilation)
    _, _, sim, _ = reg.register_matrix(_template_volume(model), config=config)
    assert len(masks) == 3 and sim == pytest.approx(0.88)
    if dilation is None:
        assert masks == [None, None, None]
    else:
        size = reg.head_template(model).GetSize()
        assert all(m is not None and m.GetSize() == size for m in masks)


def test_iterations_per_level_cap_each_level(model, monkeypatch):
    """`RegConfig.iterations_per_level`: each resolution level stops after its cap (a real
    SimpleITK registration of the template volume; iterations counted per level)."""
    from dataclasses import replace

    import SimpleITK as sitk

    import assistant.domain.register as reg

    levels: list[int] = []
    method = reg._method

    def counting(*args):
        r = method(*args)
        r.AddCommand(sitk.sitkMultiResolutionIterationEvent, lambda: levels.append(0))
        r.AddCommand(sitk.sitkIterationEvent, lambda: levels.__setitem__(-1, levels[-1] + 1))
        return r

    monkeypatch.setattr(reg, "_method", counting)
    moved, _ = _rigid_moved(_template_volume(model), 20.0, (10.0, -12.0, 8.0))
    config = replace(reg.FAST, starts=1, iterations_per_level=(4, 3, 2))
    reg.register_matrix(moved, config=config)
    assert levels == [4, 3, 2]
    levels.clear()
    reg.register_matrix(moved, config=replace(config, iterations_per_level=(5,)))  # last: all
    assert levels == [5, 5, 5]


def test_head_mask_covers_the_template_head(model):
    """The metric mask: the template's head voxels, grown by the dilation, on its grid."""
    import SimpleITK as sitk

    from assistant.domain.register import HEAD_LEVEL, head_mask, head_template

    head = np.asarray(model.head_template["volume"]) > HEAD_LEVEL
    tight, grown = head_mask(model, 0), head_mask(model, 3)
    assert tight.GetSize() == head_template(model).GetSize()
    assert tight.GetPixelID() == sitk.sitkUInt8
    t, g = sitk.GetArrayFromImage(tight).astype(bool), sitk.GetArrayFromImage(grown).astype(bool)
    assert t.shape == head.shape and (t == head).all()
    assert g[head].all() and g.sum() > t.sum() and not g.all()


def _template_volume(model) -> Scan:
    t = model.head_template
    vol = np.asarray(t["volume"], np.float32)[:, ::-1, :]  # MNI (z, y, x) -> scan rows anterior
    return Scan(pixels=np.ascontiguousarray(vol) * 1000.0, spacing=(2.0, 2.0, 2.0))


def _rigid_moved(scan: Scan, angle_deg: float, shift_mm: tuple[float, float, float]) -> tuple:
    """`scan` resampled after a known rigid motion (pitch about the left-right axis + shift).

    Returns (moved scan, 4x4 matrix mapping moved voxel (z, y, x) -> original voxel)."""
    import SimpleITK as sitk

    img = sitk_from_zyx(scan.pixels, scan.spacing)
    tx = sitk.Euler3DTransform()
    tx.SetCenter((0.0, 0.0, 0.0))
    tx.SetRotation(np.deg2rad(angle_deg), 0.0, 0.0)
    tx.SetTranslation(shift_mm)
    moved = sitk.Resample(img, img, tx, sitk.sitkLinear, 0.0)
    from assistant.domain.register import physical_to_voxel, transform_matrix

    p2v = physical_to_voxel(img)
    moved_to_orig = p2v @ transform_matrix(tx) @ np.linalg.inv(p2v)
    pixels = sitk.GetArrayFromImage(moved)
    return Scan(pixels=pixels, spacing=scan.spacing), moved_to_orig


def test_rigid_moved_volume_level_selection(model):
    """Registration finds the trained level in a volume moved by a known rigid transform."""
    from assistant.domain import register_volume

    original = _template_volume(model)
    moved, moved_to_orig = _rigid_moved(original, 12.0, (6.0, -10.0, 14.0))
    reg0 = register_volume(original)
    reg = register_volume(moved)
    assert reg.seconds < 30
    # the resampled slices agree (the same anatomy at the trained level)
    a, b = reg0.scan.pixels.ravel(), reg.scan.pixels.ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    # the native voxel under the slice centre maps (through the known motion) onto the
    # original's voxel under the same pixel, within 2 voxels (4 mm)
    r, c = np.array(reg.scan.pixels.shape) // 2
    p_moved = np.array([*reg.native_coords[r, c], 1.0])
    p_orig = reg0.native_coords[r, c]
    assert np.abs((moved_to_orig @ p_moved)[:3] - p_orig).max() <= 2.0
    # the slice chosen in the moved volume sits at the trained level
    level = reg.level_of_slice(reg.slice_index)
    assert abs(level - model.trained_level) <= 4.0
    verdict = check_applicability(moved, registered=reg)
    assert verdict.in_domain, verdict.reasons
    assert verdict.slice_index == reg.slice_index
    far = check_applicability(moved, reg.slice_index + 12, registered=reg)  # 24 mm away
    assert not far.in_domain and far.level_ok is False


def test_cli_check_json(tmp_path, capsys):
    from PIL import Image

    from assistant.cli import main
    from assistant.domain.align2d import template_slice as head_slice

    path = tmp_path / "slice.png"  # the skull-on head template (nilearn's is skull-stripped)
    Image.fromarray(np.clip(head_slice() * 255, 0, 255).astype(np.uint8)).save(path)
    assert main(["check", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["in_domain"] is True and out["reasons"] == [] and out["level"] is not None
    assert main(["check", str(path)]) == 0
    assert "IN DOMAIN" in capsys.readouterr().out


def test_cli_check_ct(ct_small, capsys):
    from assistant.cli import main

    assert main(["check", ct_small, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["in_domain"] is False and "CT" in out["reasons"][0]


def test_the_level_tolerance_is_stored_in_detector_json(tmp_path):
    import json
    import shutil

    from assistant.detector.model import DEFAULT_CHECKPOINT, DOMAIN_KEYS
    from assistant.domain.model import load_domain_model

    shipped = json.loads((DEFAULT_CHECKPOINT / "detector.json").read_text())["domain"]
    fitted = json.loads((DEFAULT_CHECKPOINT / "domain" / "domain.json").read_text())
    assert set(shipped) == set(DOMAIN_KEYS)
    assert all(shipped[k] == fitted[k] for k in DOMAIN_KEYS)  # one set of limits
    # detector.json's block is what the check applies
    ck = tmp_path / "ck"
    shutil.copytree(DEFAULT_CHECKPOINT / "domain", ck / "domain")
    cfg = json.loads((DEFAULT_CHECKPOINT / "detector.json").read_text())
    cfg["domain"]["level_tolerance_mm"] = 2.0
    (ck / "detector.json").write_text(json.dumps(cfg))
    assert load_domain_model(ck).level_tolerance == 2.0
    assert load_domain_model().level_tolerance == shipped["level_tolerance_mm"]


def test_thick_slices_are_refused_with_the_reason(model):
    """A volume whose slices are thicker than MAX_SLICE_THICKNESS_MM is refused (registered
    all the same, for "analyse anyway"); the template at 2 mm is not. A 2D DICOM's
    SliceThickness counts; a PNG records none."""
    from assistant.domain.check import MAX_SLICE_THICKNESS_MM, slice_thickness

    thin = _template_volume(model)
    verdict = check_applicability(thin)
    assert verdict.in_domain, verdict.reasons
    assert verdict.checks["thickness"] == {
        "slice_mm": 2.0,
        "threshold": MAX_SLICE_THICKNESS_MM,
        "too_thick": False,
    }
    px = thin.pixels
    n = px.shape[0] // 3
    slabs = px[: 3 * n].reshape(n, 3, *px.shape[1:]).mean(axis=1)  # 6 mm axial slices
    thick = Scan(pixels=np.ascontiguousarray(slabs), spacing=(6.0, 2.0, 2.0))
    verdict = check_applicability(thick)
    assert not verdict.in_domain and verdict.checks["thickness"]["too_thick"] is True
    assert verdict.registered is not None  # "analyse anyway" has its plane
    reason = next(r for r in verdict.reasons if "mm thick" in r)
    assert "The slices are 6 mm thick (voxels 6 x 2 x 2 mm)" in reason
    assert f"voxels up to {MAX_SLICE_THICKNESS_MM:g} mm" in reason
    assert "Analyse anyway" in reason

    assert slice_thickness(Scan(pixels=np.zeros((8, 8)), format="png")) is None
    dicom2d = Scan(pixels=np.zeros((8, 8)), metadata={"SliceThickness": "5.0"})
    assert slice_thickness(dicom2d) == 5.0
    overlapping = Scan(
        pixels=np.zeros((4, 8, 8)), spacing=(1.0, 0.5, 0.5), metadata={"SliceThickness": 5}
    )
    assert slice_thickness(overlapping) == 5.0  # thick slices, reconstructed 1 mm apart
    assert (
        slice_thickness(Scan(pixels=np.zeros((4, 8, 8)), metadata={"SliceThickness": "n/a"}))
        is None
    )


def test_a_noisy_slice_gets_a_second_look_without_its_noise(model):
    """A T1 slice with Rician noise of 3% of its tissue signal looks atypical as it is; read
    again after a median filter it is accepted. A clean slice keeps its own read; a chest
    X-ray stays refused after the second look."""
    from assistant.domain.align2d import template_slice  # skull on, like the training slices

    clean = (np.clip(template_slice(), 0, 1) * 255).astype(np.float32)
    verdict = check_applicability(clean)
    assert verdict.in_domain and "denoised_typicality" not in verdict.checks["image"]
    rng = np.random.default_rng(0)
    sigma = 0.03 * float(np.percentile(clean[clean > np.median(clean[clean > 0])], 90))
    noisy = np.sqrt(
        (clean + rng.normal(0, sigma, clean.shape)) ** 2 + rng.normal(0, sigma, clean.shape) ** 2
    )
    verdict = check_applicability(noisy.astype(np.float32))
    image = verdict.checks["image"]
    assert verdict.in_domain, verdict.reasons
    assert image["read_denoised"] is True
    assert verdict.typicality == pytest.approx(image["denoised_typicality"])
    assert verdict.typicality <= model.typicality_threshold
    from test_detect_cli import chest_xray_like

    xray = check_applicability(chest_xray_like())
    assert not xray.in_domain and xray.typicality > model.typicality_threshold


def _rician(img: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """`img` with Rician noise of sigma `fraction` x its bright tissue intensity."""
    from assistant.domain.noise import bright_level

    rng = np.random.default_rng(seed)
    sigma = fraction * bright_level(img)
    real = img + rng.normal(0, sigma, img.shape)
    return np.sqrt(real**2 + rng.normal(0, sigma, img.shape) ** 2).astype(np.float32)


def test_a_noisy_volume_is_read_without_its_noise_and_a_very_noisy_one_is_refused(model):
    """A whole volume with 2% noise passes (its registered plane read again without the noise
    floor); with 8% it is still registered and read as a T1 head, but refused for its noise,
    with the measured figure and "Analyse anyway". The clean template records its noise."""
    from assistant.domain.check import MAX_NOISE_FRACTION

    clean = _template_volume(model)
    verdict = check_applicability(clean)
    assert verdict.in_domain and verdict.checks["noise"]["too_noisy"] is False
    mild = Scan(pixels=_rician(clean.pixels, 0.02), spacing=clean.spacing)
    verdict = check_applicability(mild)
    assert verdict.in_domain, verdict.reasons
    assert verdict.checks["noise"]["sigma_fraction"] == pytest.approx(0.02, abs=0.008)
    noisy = Scan(pixels=_rician(clean.pixels, 0.08), spacing=clean.spacing)
    verdict = check_applicability(noisy)
    assert not verdict.in_domain and verdict.registered is not None
    assert verdict.checks["image"]["typical"] is True
    noise = verdict.checks["noise"]
    assert noise["too_noisy"] is True and noise["threshold"] == MAX_NOISE_FRACTION
    assert noise["sigma_fraction"] == pytest.approx(0.08, abs=0.015)
    (reason,) = verdict.reasons
    assert reason.startswith("The image is too noisy") and "Analyse anyway" in reason
    assert f"up to {MAX_NOISE_FRACTION:.0%} is accepted" in reason


def test_an_image_refused_for_its_estimated_level_is_told_to_upload_the_volume(model):
    """A 2D image's level is an estimate: a refusal within 3x the tolerance suggests the whole
    volume, whose level registration measures; one far off, or a volume's slice refused for
    its (registered) level, does not."""
    from assistant.domain.check import IMAGE_LEVEL, Applicability, _set_level

    for how, off, hint in (
        (IMAGE_LEVEL, 12.0, True),
        (IMAGE_LEVEL, 28.0, False),  # far off: not a misread level
        ("from the registration", 12.0, False),
    ):
        out = Applicability(in_domain=False)
        _set_level(out, model.trained_level + off, model, "accepted: axial T1", how)
        assert out.level_ok is False and len(out.reasons) == 1
        z = f"{model.trained_level + off:+.0f}"
        assert out.reasons[0].startswith(
            f"The slice lies at about MNI z = {z} mm ({how}), {off:.0f}"
        )
        assert ("upload the whole volume (NIfTI or the DICOM series)" in out.reasons[0]) == hint


def test_eval_applicability_records_how_far_level_refusals_read(model):
    """`eval.applicability`'s per-class tally keeps the offsets of slices refused for their
    level (nearest first), which the README quotes for native 2D slices."""
    from assistant.domain.check import IMAGE_LEVEL, Applicability, _set_level
    from eval.applicability import Tally

    tally = Tally()
    for off in (-12.3, 1.0, 5.3):
        out = Applicability(in_domain=False)
        _set_level(out, model.trained_level + off, model, "accepted: axial T1", IMAGE_LEVEL)
        out.in_domain = bool(out.level_ok)
        tally.add(out, 0.1)
    summary = tally.summary("native_at_level_2d")
    assert summary["accept_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["reasons"] == {"level": 2}
    assert summary["refused_level_offsets_mm"] == [5.3, -12.3]
