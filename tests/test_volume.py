"""assistant.volume and eval.volumes: 3D findings, the volume pipeline, 3D synthetic lesions.

The volumes are built from the shipped MNI head template (2 mm), so that their registration
to MNI space is known exactly; the detector is the tiny random one of
`assistant.detector.testing` (its maps are noise: the tests check structure and arithmetic, not
detection quality).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.detector.testing import tiny_checkpoint, tiny_detector
from assistant.domain.levelset import BRAIN_LEVELS_MM
from assistant.domain.model import load_domain_model
from assistant.scan import Scan, ScanError
from assistant.volume import (
    analyze_volume,
    candidate_levels,
    find_components,
    read_label_names,
)
from assistant.volume.components import MIDLINE_MM, voxel_points
from assistant.volume.regions import humanize, region_fractions

# ----------------------------------------------------------------------------- helpers


def template_volume():
    """The shipped head template as a scan-layout volume (Z, Y, X), and its exact MNI -> voxel
    matrix (the registration's answer)."""
    t = load_domain_model().head_template
    tv = np.asarray(t["volume"], dtype=np.float32)  # (z, y, x) in MNI index order
    origin, step = np.asarray(t["origin"], dtype=np.float64), float(t["step"])
    ny = tv.shape[1]
    pixels = np.ascontiguousarray(tv[:, ::-1, :])  # row 0 anterior
    m = np.zeros((4, 4))
    m[3, 3] = 1.0
    m[0, 2], m[0, 3] = 1 / step, -origin[2] / step  # z index from MNI z
    m[1, 1], m[1, 3] = -1 / step, ny - 1 + origin[1] / step  # row from MNI y (anterior first)
    m[2, 0], m[2, 3] = 1 / step, -origin[0] / step  # column from MNI x (left first)
    scan = Scan(pixels=pixels, spacing=(step,) * 3, patient_left="image_left", format="nifti")
    return scan, m, origin, step


def write_nifti(path, zyx: np.ndarray, origin, step: float, dtype=np.float32):
    """A scan-layout (Z, Y, X) array as a RAS NIfTI that `load_scan` reads back unchanged."""
    import nibabel as nib

    xyz = np.ascontiguousarray(zyx[:, ::-1, :].transpose(2, 1, 0)).astype(dtype)
    aff = np.diag([step, step, step, 1.0])
    aff[:3, 3] = origin  # stored (x, y, z) index order of the template: MNI index order
    nib.save(nib.Nifti1Image(xyz, aff), str(path))
    return path


@pytest.fixture(scope="module")
def tiny():
    return tiny_detector()


@pytest.fixture(scope="module")
def unaware_result(tiny):
    scan, m, _, _ = template_volume()
    return scan, m, analyze_volume(scan, tiny, mni_to_voxel=m, progress=False)


# ----------------------------------------------------------------------------- components


def test_components_volume_slices_centroid_and_side():
    mask = np.zeros((20, 30, 40), bool)
    mask[4:7, 10:14, 30:35] = True  # 3 x 4 x 5 = 60 voxels, patient's right (high columns)
    mask[10:12, 5:7, 2:4] = True  # 8 voxels, patient's left
    anomaly = np.where(mask, 0.5, 0.0).astype(np.float32)
    anomaly[10, 5, 2] = 0.9  # the small one has the higher peak: it is V1
    spacing = (2.0, 1.0, 1.5)  # (z, y, x) mm
    # voxel (z, y, x) -> MNI: x from the column (0 at the middle column), y from the row
    # (anterior first), z from the slice
    v2m = np.array([[0, 0, 1.5, -1.5 * 19.5], [0, -1.0, 0, 0], [2.0, 0, 0, 0], [0, 0, 0, 1.0]])
    fs, labels = find_components(
        mask,
        anomaly,
        spacing=spacing,
        patient_left="image_left",
        voxel_to_mni=v2m,
        tissue=False,
        return_labels=True,
    )
    assert [f.id for f in fs] == ["V1", "V2"]
    small, big = fs
    assert big.n_voxels == 60 and big.volume_mm3 == pytest.approx(60 * 2.0 * 1.0 * 1.5)
    assert small.volume_mm3 == pytest.approx(8 * 3.0)
    assert big.slice_range == (4, 6) and big.n_slices == 3
    assert big.centroid_voxel == pytest.approx((5.0, 11.5, 32.0))
    # mm from the volume's centre: x right, y anterior, z superior
    expected = ((32 - 19.5) * 1.5, (14.5 - 11.5) * 1.0, (5 - 9.5) * 2.0)
    assert big.centroid_mm == pytest.approx(expected, abs=0.06)  # rounded to 0.1 mm
    assert big.side == "right" and small.side == "left"
    assert big.side_frame == "patient"
    assert small.peak_anomaly == pytest.approx(0.9)
    assert int((labels == 2).sum()) == 60 and int((labels == 1).sum()) == 8
    # a mirrored scan ("image_right") swaps the sides; an unknown orientation is the image's
    mirrored = find_components(
        mask, anomaly, spacing=spacing, patient_left="image_right", voxel_to_mni=v2m, tissue=False
    )
    assert [f.side for f in mirrored] == ["right", "left"]
    unknown = find_components(
        mask, anomaly, spacing=spacing, patient_left=None, voxel_to_mni=v2m, tissue=False
    )
    assert unknown[1].side == "right" and unknown[1].side_frame == "image"
    # at the midline
    mid = np.zeros_like(mask)
    mid[5, 5, 19:21] = True
    (f,) = find_components(
        mid,
        mid.astype(np.float32),
        spacing=spacing,
        patient_left="image_left",
        voxel_to_mni=v2m,
        tissue=False,
    )
    assert abs(f.centroid_mni[0]) < MIDLINE_MM and f.side == "midline"
    assert find_components(np.zeros_like(mask), anomaly, spacing=spacing, patient_left=None) == []


def test_regions_from_labels_and_names(tmp_path):
    assert humanize("Frontal_WM_R") == "right frontal white matter"
    assert humanize("ThalamusProper_L") == "left thalamus proper"
    assert humanize("3rdVentricle") == "3rd ventricle"
    assert humanize("VentralDC_R") == "right ventral diencephalon"
    assert humanize("InfLatVentricle_L") == "left inferior lateral ventricle"
    csv = tmp_path / "rois.csv"
    csv.write_text("Index,Code,Name\n59,MUSE_59,ThalamusProper_R\n82,MUSE_82,Frontal_WM_L\n")
    names = read_label_names(csv)
    assert names == {59: "right thalamus proper", 82: "left frontal white matter"}
    regions = region_fractions(np.array([59] * 7 + [82] * 3 + [0] + [1]), names)
    assert [r["name"] for r in regions] == [
        "right thalamus proper",
        "left frontal white matter",
        "outside the named regions",  # 0 and the unnamed label 1 together
    ]
    assert regions[0]["fraction"] == pytest.approx(7 / 12, abs=1e-3)
    assert regions[2]["fraction"] == pytest.approx(2 / 12, abs=1e-3)
    mask = np.zeros((6, 6, 6), bool)
    mask[1:3, 1:3, 1:3] = True
    labels = np.where(mask, 59, 0)
    (f,) = find_components(
        mask,
        mask.astype(np.float32),
        spacing=(1.0, 1.0, 1.0),
        patient_left="image_left",
        labels=labels,
        label_names=names,
    )
    assert f.regions[0]["name"] == "right thalamus proper" and f.region_source == "labels"
    assert "right thalamus proper" in f.describe()


def test_an_atlas_region_has_no_hemisphere_when_the_orientation_is_unknown():
    """A cli trial: a volume without qform/sform got "right (image side; orientation unknown),
    right frontal white matter" for a lesion in the patient's left frontal white matter: the
    atlas was registered to the image read as RAS, so its hemisphere is as unknown as the side."""
    from assistant.volume.regions import MniAtlas

    names = {59: "right thalamus proper", 82: "left frontal white matter"}
    atlas = MniAtlas(np.full((8, 8, 8), 82, np.int32), (-1, -1, -1), 1.0, names, "test")
    mask = np.zeros((6, 6, 6), bool)
    mask[1:3, 1:3, 1:3] = True
    common = dict(spacing=(1.0, 1.0, 1.0), voxel_to_mni=np.eye(4), tissue=False, atlas=atlas)
    (known,) = find_components(mask, mask.astype(np.float32), patient_left="image_left", **common)
    assert known.regions[0]["name"] == "left frontal white matter"
    (unknown,) = find_components(mask, mask.astype(np.float32), patient_left=None, **common)
    assert unknown.regions[0]["name"] == "frontal white matter (hemisphere unknown)"
    assert "left frontal" not in unknown.describe() and "right frontal" not in unknown.describe()


# ----------------------------------------------------------------------------- pipeline


def test_candidate_levels():
    assert candidate_levels(True, 23.0, 4.5) == list(BRAIN_LEVELS_MM)
    assert candidate_levels(False, 23.0, 4.5) == [19.0, 21.0, 23.0, 25.0, 27.0]
    assert candidate_levels(False, 23.0, 1.0) == [23.0]


def test_analyze_volume_level_unaware(unaware_result):
    scan, m, res = unaware_result
    assert not res.level_aware
    assert res.levels == [19.0, 21.0, 23.0, 25.0, 27.0]
    assert len(res.level_results) == 5 and all(
        r.anomaly_map.shape == (233, 197) for r in res.level_results
    )
    # analysed voxels: in the brain mask and within 1 mm of an analysed level
    zyx = np.argwhere(res.analysed)
    z_mni = voxel_points(res.voxel_to_mni, zyx)[:, 2]
    assert res.analysed.sum() > 1000
    assert z_mni.min() >= 18.0 - 1e-6 and z_mni.max() <= 28.0 + 1e-6
    assert not (res.analysed & ~res.brain).any()
    assert not (res.mask & ~res.analysed).any()
    assert np.all(res.anomaly[~res.analysed] == 0)
    # the 2 mm template: MNI z 18..28 mm are native slices (z + 72) / 2 = 45..50
    assert [i for i, s in enumerate(res.slice_scores) if s is not None] == list(range(45, 51))
    # every flagged voxel belongs to one finding; volumes add up
    assert sum(f.n_voxels for f in res.findings) == int(res.mask.sum())
    assert sum(f.volume_mm3 for f in res.findings) == pytest.approx(res.mask.sum() * 8.0, rel=1e-3)
    for f in res.findings:
        lo, hi = f.slice_range
        assert 45 <= lo <= hi <= 50
        assert f.side in ("left", "right", "midline") and f.side_frame == "patient"
        assert f.tissue is not None and f.tissue["tissue"]
        assert f.region_source.startswith("atlas")  # the packaged MNI atlas, by default
    d = json.loads(json.dumps(res.to_dict()))
    assert d["n_levels"] == 5 and d["levels_mm"] == res.levels
    assert set(d["timings"]) >= {
        "register_s",
        "resample_s",
        "detect_unet_s",
        "map_back_s",
        "components_s",
        "total_s",
    }


def test_analyze_volume_level_aware_gets_all_levels(monkeypatch):
    from assistant.detector.levels import with_level_embedding
    from assistant.volume import analyze as analyze_mod

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    assert det.level_aware
    seen = []
    real = det.detect_batch

    def spy(images, *args, levels=None, **kw):
        seen.extend(levels)
        return real(images, *args, levels=levels, **kw)

    monkeypatch.setattr(det, "detect_batch", spy)
    # a shorter level list keeps the test fast; -70 mm lies below the brain: left out
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (-70.0, 0.0, 2.0, 40.0))
    scan, m, _, _ = template_volume()
    res = analyze_volume(scan, det, mni_to_voxel=m, progress=False, batch=2)
    assert res.level_aware and res.levels == [0.0, 2.0, 40.0] and seen == [0.0, 2.0, 40.0]
    assert [r.slice_index for r in res.level_results] == res.native_slices
    # the missing levels between 2 and 40 mm are not analysed
    z_mni = voxel_points(res.voxel_to_mni, np.argwhere(res.analysed))[:, 2]
    assert not np.any((z_mni > 3.0 + 1e-6) & (z_mni < 39.0 - 1e-6))


def test_analyze_volume_refuses_bad_input(tiny):
    with pytest.raises(ScanError):
        analyze_volume(Scan(pixels=np.zeros((8, 8), np.float32)), tiny)
    with pytest.raises(ScanError):
        analyze_volume(Scan(pixels=np.zeros((8, 8, 8), np.float32)), tiny)
    scan, m, _, _ = template_volume()
    with pytest.raises(ScanError):
        analyze_volume(scan, tiny, mni_to_voxel=m, labels=np.zeros((3, 3, 3)))


# ----------------------------------------------------------------------------- synthetic lesions


def _toy_folder(tmp_path):
    """Two small 'head' NIfTI volumes with DLMUSE-style label maps (brain = an ellipsoid)."""
    import nibabel as nib

    vols, labs = tmp_path / "vols", tmp_path / "labels"
    vols.mkdir()
    labs.mkdir()
    rng = np.random.default_rng(0)
    shape = (40, 48, 40)  # stored (x, y, z), RAS, 2 mm
    g = np.mgrid[: shape[0], : shape[1], : shape[2]].astype(np.float32)
    c = (np.asarray(shape, np.float32) - 1)[:, None, None, None] / 2
    r = np.sqrt((((g - c) / np.array([15, 19, 15])[:, None, None, None]) ** 2).sum(0))
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    for i in range(2):
        brain = r < 1.0
        data = np.where(r < 1.2, 40.0, 0.0) + np.where(brain, 60.0, 0.0)
        data = (data + rng.normal(0, 2, shape)).clip(0).astype(np.float32)
        nib.save(nib.Nifti1Image(data, aff), str(vols / f"toy{i}_T1.nii.gz"))
        nib.save(
            nib.Nifti1Image(brain.astype(np.int16) * 82, aff),
            str(labs / f"toy{i}_T1_DLMUSE.nii.gz"),
        )
    return vols, labs


def test_synth3d_deterministic_and_inside_brain(tmp_path):
    import nibabel as nib
    from scipy import ndimage

    from assistant.volume.synth3d import synthesize_volume_set

    vols, labs = _toy_folder(tmp_path)
    a = synthesize_volume_set(vols, tmp_path / "a", seed=3, labels_dir=labs, limit=1, healthy=1)
    b = synthesize_volume_set(vols, tmp_path / "b", seed=3, labels_dir=labs, limit=1, healthy=1)
    c = synthesize_volume_set(vols, tmp_path / "c", seed=4, labels_dir=labs, limit=1)
    name = "toy0_T1.nii.gz"

    def load(folder, sub):
        return np.asarray(nib.load(str(folder / sub / name)).dataobj)

    assert np.array_equal(load(tmp_path / "a", "volumes"), load(tmp_path / "b", "volumes"))
    assert np.array_equal(load(tmp_path / "a", "masks"), load(tmp_path / "b", "masks"))
    assert a.lesions == b.lesions and a.lesions != c.lesions
    mask = load(tmp_path / "a", "masks") > 0
    brain = np.asarray(nib.load(str(labs / "toy0_T1_DLMUSE.nii.gz")).dataobj) > 0
    assert mask.any() and not (mask & ~brain).any()
    # one connected component per recorded lesion; the voxel counts add up
    lesions = a.lesions[name]
    assert 1 <= len(lesions) <= 3
    assert ndimage.label(mask, np.ones((3, 3, 3)))[1] == len(lesions)
    assert sum(les["n_voxels"] for les in lesions) == int(mask.sum())
    # the tissue only changes around the lesions; the masks share the volume's grid
    orig = np.asarray(nib.load(str(vols / name)).dataobj)
    changed = np.abs(load(tmp_path / "a", "volumes") - orig) > 1e-3
    near = ndimage.binary_dilation(mask, iterations=3)
    assert changed.any() and not (changed & ~near).any()
    img = nib.load(str(tmp_path / "a" / "masks" / name))
    assert img.shape == orig.shape and np.allclose(img.affine, nib.load(str(vols / name)).affine)
    # the healthy copy has no mask
    assert (tmp_path / "a" / "volumes" / "toy1_T1.nii.gz").is_file()
    assert not (tmp_path / "a" / "masks" / "toy1_T1.nii.gz").exists()


def test_synth3d_spreads_over_levels():
    """Lesion centres are drawn level by level: across seeds they cover the brain's height."""
    from assistant.volume.synth3d import paint_lesions

    shape = (30, 30, 40)
    g = np.mgrid[: shape[0], : shape[1], : shape[2]].astype(np.float32)
    c = (np.asarray(shape, np.float32) - 1)[:, None, None, None] / 2
    brain = np.sqrt((((g - c) / np.array([13, 13, 18])[:, None, None, None]) ** 2).sum(0)) < 1
    data = np.where(brain, 100.0, 0.0).astype(np.float32)
    aff = np.diag([2.0, 2.0, 2.0, 1.0])  # axis 2 is superior
    fractions = []
    for seed in range(12):
        _, _, lesions = paint_lesions(data, aff, brain, np.random.default_rng(seed), n_lesions=1)
        fractions += [les.level_fraction for les in lesions]
    assert min(fractions) < 0.35 and max(fractions) > 0.65


def test_atlas_build_lookup_and_sides(tmp_path):
    """An atlas built from label maps whose left / right halves carry left / right labels puts
    them on the MNI left / right: orientation is kept from label map to MNI to the finding."""
    from assistant.volume.atlas import build_atlas
    from assistant.volume.regions import MniAtlas

    scan, m, origin, step = template_volume()
    vols, labs = tmp_path / "vols", tmp_path / "labels"
    vols.mkdir()
    labs.mkdir()
    lab = np.zeros(scan.pixels.shape, np.int16)
    head = scan.pixels > 0.2 * scan.pixels.max()
    half = scan.pixels.shape[2] // 2
    lab[:, :, :half][head[:, :, :half]] = 82  # columns 0.. = the patient's left
    lab[:, :, half + 1 :][head[:, :, half + 1 :]] = 81
    names = {}
    for i in range(2):
        write_nifti(vols / f"v{i}_T1.nii.gz", scan.pixels, origin, step)
        write_nifti(labs / f"v{i}_T1_DLMUSE.nii.gz", lab, origin, step, dtype=np.int16)
        names[f"v{i}_T1.nii.gz"] = m
    csv = tmp_path / "rois.csv"
    csv.write_text("Index,Code,Name\n81,MUSE_81,Frontal_WM_R\n82,MUSE_82,Frontal_WM_L\n")
    mats = tmp_path / "levels.npz"
    np.savez(mats, names=np.array(list(names)), matrices=np.stack(list(names.values())))
    atlas = build_atlas(vols, labs, csv, matrices=mats, step=4.0)
    path = atlas.save(tmp_path / "atlas.npz")
    back = MniAtlas.load(path)
    assert back.names == {81: "right frontal white matter", 82: "left frontal white matter"}
    assert back.provenance.startswith("majority vote of 2 label maps")
    got = back.lookup(np.array([[-30.0, 0.0, 20.0], [30.0, 0.0, 20.0], [0.0, 0.0, 500.0]]))
    assert got.tolist() == [82, 81, 0]


# ----------------------------------------------------------------------------- evaluation


def test_lesions_hit_3d():
    from eval.volumes import lesions_hit_3d

    truth = np.zeros((10, 10, 10), bool)
    truth[1:3, 1:3, 1:3] = True  # 8 voxels
    truth[6:9, 6:9, 6:9] = True  # 27 voxels
    mask = np.zeros_like(truth)
    mask[1, 1, 1] = True  # 1/8 > 10%: hit
    mask[6, 6, 6:8] = True  # 2/27 < 10%: missed
    analysed = np.zeros_like(truth)
    analysed[:5] = True  # the first lesion only
    assert lesions_hit_3d(truth, mask, analysed) == (2, 1, 1, 1)


def test_find_cases_layouts(tmp_path):
    from eval.volumes import find_cases

    flat, masks = tmp_path / "flat", tmp_path / "masks"
    flat.mkdir()
    masks.mkdir()
    for n in ("a.nii.gz", "b.nii.gz"):
        (flat / n).write_bytes(b"")
    (masks / "a.nii.gz").write_bytes(b"")
    cases = find_cases(flat, masks)
    assert [(c.name, c.mask is not None) for c in cases] == [
        ("a.nii.gz", True),
        ("b.nii.gz", False),
    ]
    mslub = tmp_path / "mslub"
    for p in ("patient07", "patient19"):
        (mslub / p).mkdir(parents=True)
        (mslub / p / "T1.nii.gz").write_bytes(b"")
        (mslub / p / "lesion_mask.nii.gz").write_bytes(b"")
    cases = find_cases(mslub, None)
    assert [c.name for c in cases] == ["patient07", "patient19"]
    assert all(c.volume.name == "T1.nii.gz" and c.mask.name == "lesion_mask.nii.gz" for c in cases)


def test_eval_contract_on_two_volumes(tmp_path):
    """The CLI on a toy set: one template volume with a lesion at the analysed levels (mask),
    one healthy; the registration is real."""
    from eval.volumes import CONTRACT_KEYS, main

    scan, m, origin, step = template_volume()
    vols, masks = tmp_path / "vols", tmp_path / "masks"
    vols.mkdir()
    masks.mkdir()
    lesion = scan.pixels.copy()
    truth = np.zeros(lesion.shape, np.uint8)
    k = int(round((23.0 - origin[2]) / step))  # native slice at MNI z = +23 mm
    truth[k - 2 : k + 3, 40:48, 30:38] = 1  # the patient's left, mid-brain
    lesion[truth > 0] *= 0.3
    write_nifti(vols / "sick.nii.gz", lesion, origin, step)
    write_nifti(masks / "sick.nii.gz", truth, origin, step, dtype=np.uint8)
    write_nifti(vols / "well.nii.gz", scan.pixels, origin, step)
    ckpt = tiny_checkpoint(tmp_path / "tiny")
    out = tmp_path / "volumes.json"
    args = ["--volumes", str(vols), "--masks", str(masks), "--json", str(out)]
    assert main([*args, "--model", str(ckpt)]) == 0
    fig = json.loads(out.read_text())
    assert list(fig)[: len(CONTRACT_KEYS)] == list(CONTRACT_KEYS)
    assert fig["n_volumes"] == 2 and fig["n_abnormal"] == 1 and fig["n_healthy"] == 1
    for key in ("voxel_auprc", "voxel_auroc", "slice_auroc"):
        assert 0.0 <= fig[key] <= 1.0
    assert 0.0 <= fig["dice_calibrated"] <= 1.0
    assert fig["lesion_hit_rate"] in (0.0, 1.0) and fig["n_lesions"] == 1
    assert fig["n_lesions_analysed"] == 1  # the lesion lies at the analysed levels
    assert fig["healthy_volumes_with_findings"] in (0.0, 1.0)
    assert fig["seconds_per_volume"] > 0 and fig["levels_per_volume"] == 5
    assert set(fig["baselines"]) == {"intensity_z", "template_residual"}
    # the baseline sees a 70% darker lesion on a copy of the template: near perfect
    assert fig["baselines"]["template_residual"]["voxel_auroc"] > 0.9
    assert [v["name"] for v in fig["per_volume"]] == ["sick.nii.gz", "well.nii.gz"]
    # seconds depend on the CPU (its bfloat16 instructions above all): the file says which
    import os

    assert fig["machine"]["cpu"] and fig["machine"]["cpu_count"] == os.cpu_count()
    assert set(fig["machine"]["bf16_instructions"]) <= {"avx512_bf16", "amx_bf16"}
    reg = fig["per_volume"][1]["registration_similarity"]
    assert reg is not None and reg > 0.9


# ----------------------------------------------------------------------------- in the analysis


def test_a_volume_upload_is_analysed_at_every_level_the_detector_knows(tiny):
    """`Analyzer` (ask, report, chat, the app) on a registered volume: besides the slice at the
    trained level, every level the detector knows is analysed with the check's registration; its
    3D findings are evidence V1.., and answers and the report say which levels were analysed.
    `whole_volume=False` keeps the one slice and says that only it was analysed."""
    from assistant.chat import Assistant
    from assistant.report import draft_report
    from assistant.responders.grounded import GroundedResponder

    scan, _, _, _ = template_volume()
    bot = Assistant(detector=tiny, responder=GroundedResponder(), use_retrieval=False)
    state = bot.analyze(scan)
    assert state.applicability.in_domain, state.applicability.reasons
    assert state.volume is not None and state.volume.levels == [19.0, 21.0, 23.0, 25.0, 27.0]
    whole = state.scan_summary["volume_analysis"]
    assert whole["levels_mm"] == state.volume.levels and whole["n_slices"] == scan.pixels.shape[0]
    lo, hi = whole["native_slices"]
    assert lo <= state.slice_index <= hi
    ids = [i.id for i in state.evidence.items if i.kind == "volume_finding"]
    assert ids == [f.id for f in state.volume.findings]
    assert sorted(whole["findings"] + whole["weak"]) == sorted(ids)
    assert whole["weak"] == [f.id for f in state.volume.findings if f.weak]
    strong = whole["findings"]
    said = "the 5 levels the detector was trained for were analysed (MNI z +19 to +27 mm"
    answer = bot.answer(state, "Is there anything abnormal in this brain?").text
    assert said in answer and "nothing can be said about other levels" in answer
    assert all(f"[{i}]" in answer for i in strong)
    report = draft_report(state.evidence).to_markdown()
    assert said in report and all(f"In 3D, over the analysed levels: {i}:" in report for i in ids)
    # the app: 3D findings in the findings table, the levels and their slices in the score line
    from assistant.ui import views

    rows = views.findings_rows(state.result, state.volume)
    assert [r[0] for r in rows if r[0].startswith("V")] == ids
    assert all(r[1].startswith("3D finding, axial slices") for r in rows if r[0] in strong)
    assert all(
        r[1].startswith("weak 3D: one analysed level only") for r in rows if r[0] in whole["weak"]
    )
    line = views.score_markdown(state, "head.nii.gz")
    assert "Whole volume: 5 levels analysed (MNI z +19 to +27 mm" in line
    assert all(f"**{i}** at slices" in line for i in strong)
    assert all(f"**{i}** (weak: one level only) at slices" in line for i in whole["weak"])
    assert views.analysis_dict(state)["volume"]["levels_mm"] == state.volume.levels
    from assistant.commands.ask import analysis_summary

    cli = json.loads(json.dumps(analysis_summary(state)))  # `ask --json`'s "analysis"
    assert [f["id"] for f in cli["volume"]["findings"]] == ids
    assert cli["volume"]["levels_mm"] == state.volume.levels
    # another slice of the same volume (the app's slider) keeps the volume's 3D findings
    k = state.slice_index + 1
    other = bot.analyze(scan, k)
    assert other.applicability.in_domain and other.result is not None
    assert other.volume is state.volume
    assert [i.id for i in other.evidence.items if i.kind == "volume_finding"] == ids
    assert f"the displayed slice is slice {k} (numbered from 0)" in other.evidence.items[0].text

    # where in the volume: each 3D finding's slices, its regions in where / how big answers
    slices = bot.answer(state, "Which slice is the lesion on?").text
    if strong:
        v1 = state.volume.findings[0]
        lo, hi = v1.slice_range
        assert slices.startswith(f"Axial slices {lo}-{hi} (V1)") and said in slices
        for q in ("How many slices does it span?", "Show me the slice with the lesion"):
            assert bot.answer(state, q).text.startswith(f"Axial slices {lo}-{hi} (V1)"), q
        where = bot.answer(state, "Where is it?").text
        if state.result.findings:
            assert "In 3D, over the analysed levels of the volume: V1:" in where
        lobe = bot.answer(state, "Which lobe is it in?").text
        assert "Anatomical names come from the 3D analysis" in lobe
        assert "does not identify lobes" not in lobe
    shown = bot.answer(state, "Which slice number is this?").text
    assert shown.startswith(
        f"Axial slice {state.slice_index} of this volume's {scan.pixels.shape[0]} (numbered from "
        "0), resampled at about MNI z = +23 mm."
    )

    one = Assistant(
        detector=tiny, responder=GroundedResponder(), use_retrieval=False, whole_volume=False
    )
    single = one.analyze(scan)
    assert single.volume is None and "volume_analysis" not in single.scan_summary
    assert not [i for i in single.evidence.items if i.kind == "volume_finding"]
    answer = one.answer(single, "Is there anything abnormal in this brain?").text
    assert f"Only one of this volume's {scan.pixels.shape[0]} axial slices was analysed" in answer


def test_a_slice_of_a_volume_analysed_whole_is_shown_at_its_analysed_level(tiny):
    """Another slice of a volume analysed whole (the app's slider, `ask --slice`) is shown as
    an analysed level's registered plane with the volume analysis' own result there: the maps
    and 2D findings its 3D findings are made of, nothing detected again. The levels rise with
    the slices; a slice without analysed voxels is checked on its own. "Go to a 3D finding"
    (`level_mm`) shows a level the finding lies on. The trained level's slice of the upload is
    the volume's result at that level (detected once)."""
    from assistant.chat import Assistant
    from assistant.commands.ask import analysis_summary
    from assistant.responders.grounded import GroundedResponder

    scan, _, _, _ = template_volume()
    bot = Assistant(detector=tiny, responder=GroundedResponder(), use_retrieval=False)
    state = bot.analyze(scan)
    volume = state.volume
    at_trained = volume.level_results[volume.levels.index(23.0)]
    assert state.result.score == at_trained.score and state.shown_level is None
    np.testing.assert_array_equal(state.result.anomaly_map, at_trained.anomaly_map)
    analysed = [k for k, s in enumerate(volume.slice_scores) if s is not None]
    shown = []
    for k in analysed:
        other = bot.analyze(scan, k)
        assert other.slice_index == k and other.volume is volume
        assert other.shown_level in volume.levels and other.timings["detect_s"] == 0.0
        level = volume.level_results[volume.levels.index(other.shown_level)]
        np.testing.assert_array_equal(other.result.anomaly_map, level.anomaly_map)
        assert [f.id for f in other.result.findings] == [f.id for f in level.findings]
        assert other.scan_summary["registered"]["level_mm"] == other.shown_level
        assert "tilt" not in other.applicability.checks  # a registered plane is upright
        assert analysis_summary(other)["level_mm"] == other.shown_level  # `ask --json`
        text = other.evidence.items[0].text
        assert (
            f"the displayed slice is slice {k} (numbered from 0), resampled at about MNI z = "
            f"{other.shown_level:+.0f} mm" in text
        )
        shown.append(other.shown_level)
    assert shown == sorted(shown) and set(shown) == set(volume.levels)
    far = bot.analyze(scan, 2)  # near the bottom of the head: no analysed voxel
    assert far.shown_level is None and not far.applicability.in_domain and far.result is None
    for f in volume.findings:
        j = volume.level_of_finding(f)
        there = bot.analyze(scan, round(f.centroid_voxel[0]), level_mm=volume.levels[j])
        assert there.shown_level == volume.levels[j]
        ids = {d["id"] for d in f.slice_findings if abs(d["level_mm"] - there.shown_level) < 0.05}
        assert ids and ids <= {g.id for g in there.result.findings}


def test_a_slice_off_the_analysed_levels_is_known_without_analysing_the_volume(
    tiny, unaware_result, monkeypatch
):
    """`slice_is_analysed` reads from the geometry alone what the volume's analysis would give
    (`level_of_slice` not None) for every native slice; a slice off the analysed levels, asked
    for first, is then checked on its own without the volume being analysed (seconds on a
    CPU); an analysed slice still waits for it."""
    import assistant.volume
    from assistant.analysis import Analyzer
    from assistant.volume.analyze import slice_is_analysed

    scan, m, volume = unaware_result
    got = [slice_is_analysed(scan, tiny, k, m) for k in range(scan.pixels.shape[0])]
    assert got == [volume.level_of_slice(k) is not None for k in range(scan.pixels.shape[0])]
    assert any(got) and not all(got)
    assert not slice_is_analysed(scan, tiny, scan.pixels.shape[0], m)  # out of range

    calls = []
    real = assistant.volume.analyze_volume

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(assistant.volume, "analyze_volume", counted)
    analyzer = Analyzer(detector=tiny, use_retrieval=False)
    far = analyzer.analyze(scan, 2)
    assert far.volume is None and far.shown_level is None and not far.applicability.in_domain
    assert calls == []
    near = analyzer.analyze(scan, got.index(True))
    assert near.volume is not None and near.shown_level in near.volume.levels
    assert calls == [1]


def test_the_apps_sensitivity_setting_keeps_the_whole_volume_analysis(tiny):
    """The app's sensitivity setting wraps the detector (`SensitiveDetector`): a volume is still
    analysed whole, every level's thresholds and the volume's divided by the sensitivity, and the
    displayed slice is the volume's result at the trained level, thresholded the same way."""
    from assistant.analysis import Analyzer
    from assistant.ui.engine import SensitiveDetector

    scan, _, _, _ = template_volume()
    base = Analyzer(detector=tiny, use_retrieval=False).analyze(scan).volume
    state = Analyzer(detector=SensitiveDetector(tiny, 2.0), use_retrieval=False).analyze(scan)
    volume = state.volume
    assert volume is not None and volume.levels == base.levels
    assert volume.pixel_threshold == pytest.approx(base.pixel_threshold / 2.0)
    assert volume.score_threshold == pytest.approx(base.score_threshold / 2.0)
    assert all(r.params.get("sensitivity") == 2.0 for r in volume.level_results)
    assert volume.mask.sum() >= base.mask.sum() and len(volume.findings) >= 1
    assert state.result.pixel_threshold == pytest.approx(base.pixel_threshold / 2.0)
    assert "thresholds divided by the sensitivity setting 2" in volume.notes


def test_bench_volume_slices_times_and_counts_side_by_side(tmp_path, tiny):
    """`eval.bench_volume_slices`: per volume the upload, other slices (now: shown at an
    analysed level; before: analysed on their own) and each 3D finding's jump; the summary's
    counts and ratios come from those rows."""
    from assistant.analysis import Analyzer
    from eval.bench_volume_slices import bench_volume, summarise

    scan, _, origin, step = template_volume()
    path = write_nifti(tmp_path / "head.nii.gz", scan.pixels, origin, step)
    now = Analyzer(detector=tiny, use_retrieval=False)
    before = Analyzer(detector=tiny, use_retrieval=False, whole_volume=False)
    row = bench_volume(path, now, before, 3)
    assert row["in_domain"] and row["detect_again_s"] > 0 and len(row["slices"]) == 3
    assert all(s["shown_level_mm"] in (19.0, 21.0, 23.0, 25.0, 27.0) for s in row["slices"])
    assert [j["finding"] for j in row["jumps"]] == ["V1"]  # the tiny detector's noise
    assert all(j["now_shows_it"] for j in row["jumps"])
    first = row["off_levels_first"]
    assert first["same_verdict"] and not first["now_volume_analysed"]
    assert first["slice"] not in [s["slice"] for s in row["slices"]]
    out = summarise([row])
    assert out["n_off_levels_first"] == 1 and out["off_levels_first_same_verdict"] == 1
    assert out["median_off_levels_first_ratio_before_over_now"] == pytest.approx(
        first["before_s"] / first["now_s"], rel=1e-2
    )
    assert out["n_slices"] == 3 and out["n_jumps"] == out["jumps_now_show_the_finding"] == 1
    assert out["slices_before_in_domain"] == sum(s["before_in_domain"] for s in row["slices"])
    ratio = (row["upload_s"] + row["detect_again_s"]) / row["upload_s"]
    assert out["median_upload_ratio_before_over_now"] == pytest.approx(ratio, abs=1e-3)


def test_a_level_unaware_checkpoint_gets_a_threshold_for_whole_volumes(tmp_path):
    """`assistant calibrate --volumes` on a level-unaware checkpoint: the score threshold is
    the 95% quantile of each healthy volume's highest score over the levels `analyze_volume`
    gives it ("method/preset+volume", pixel threshold and confidence of the slice calibration);
    `analyze_volume` and the volume's displayed slice (`Detector.in_space("volume")`) apply it,
    other slices keep theirs."""
    from assistant.cli import main
    from assistant.detector import Detector
    from assistant.detector.detector import VOLUME

    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    scan, _, origin, step = template_volume()
    folder = tmp_path / "healthy"
    folder.mkdir()
    for k, gain in enumerate((1.0, 0.9, 1.1)):
        write_nifti(folder / f"v{k}.nii.gz", scan.pixels * gain, origin, step)
    assert main(["calibrate", "--model", str(ckpt), "--volumes", str(folder)]) == 0
    det = Detector.from_pretrained(ckpt)
    slice_cal = det.calibration
    whole = det.in_space(VOLUME)
    assert whole.calibration_key == f"{det.key}+{VOLUME}" and det.calibration_key == det.key
    cal = whole.calibration
    assert cal.n_images == 3 and len(cal.healthy_scores) == 3
    assert cal.score_threshold == pytest.approx(np.quantile(cal.healthy_scores, 0.95), abs=1e-5)
    assert cal.pixel_threshold == slice_cal.pixel_threshold
    assert det.in_space("unregistered").calibration_key == det.key  # none of its own here
    result = analyze_volume(scan, det, mni_to_voxel=template_volume()[1], progress=False)
    assert result.score_threshold == cal.score_threshold
    assert any("thresholded for whole volumes" in n for n in result.notes)


def test_a_3d_finding_knows_its_levels_and_says_when_it_is_weak():
    from assistant.volume.components import VolumeFinding

    f = VolumeFinding(
        id="V1",
        n_voxels=10,
        volume_mm3=80.0,
        slice_range=(81, 82),
        n_slices=2,
        centroid_voxel=(81.5, 10.0, 10.0),
        centroid_mm=None,
        centroid_mni=None,
        side="right",
        side_frame="patient",
        side_lean="right",
        intensity="mixed",
        peak_anomaly=0.3,
        mean_anomaly=0.2,
        slice_findings=[{"level_mm": 23.0, "id": "F1"}],
    )
    assert f.n_levels == 1 and not f.weak and "weak" not in f.describe()
    f.weak = True
    assert "weak: seen on one analysed level only" in f.describe()
    assert f.to_dict()["n_levels"] == 1 and f.to_dict()["weak"] is True


def test_levels3d_counts_hits_false_alarms_and_weak_ones():
    from eval.levels3d import summarise

    rows = [
        {
            "volume": "a.nii.gz",
            "analysed": True,
            "lesions": [
                {"voxels": 50, "analysed_fraction": 1.0, "hit": True, "findings": ["V1"]},
                {"voxels": 20, "analysed_fraction": 1.0, "hit": True, "findings": ["V3"]},
                {"voxels": 20, "analysed_fraction": 0.5, "hit": False, "findings": []},
            ],
            "findings": [
                {"id": "V1", "true": True, "n_levels": 3, "weak": False},
                {"id": "V2", "true": False, "n_levels": 1, "weak": True},
                {"id": "V3", "true": True, "n_levels": 1, "weak": True},
            ],
        },
        {
            "volume": "b.nii.gz",
            "analysed": True,
            "lesions": [],
            "findings": [{"id": "V1", "true": False, "n_levels": 2, "weak": False}],
        },
        {"volume": "c.nii.gz", "analysed": False},
    ]
    out = summarise(rows)
    assert (out["n_analysed"], out["n_lesions"], out["n_lesions_hit"]) == (2, 3, 2)
    assert out["n_lesions_hit_only_by_weak_findings"] == 1
    assert out["true_findings_by_levels"] == {1: 1, 3: 1}
    assert out["false_findings_by_levels"] == {1: 1, 2: 1}
    assert out["volumes_with_a_false_finding"] == 2
    assert out["volumes_with_a_false_finding_not_weak"] == 1


def test_a_whole_brain_detector_shows_every_analysed_level_of_a_volume(monkeypatch):
    """With a level-aware detector, a native slice shown as one of the volume's analysed
    levels far from the trained one (MNI z -36 mm) is in the domain and shows that level's
    result: the volume's own check (at the trained level, where the checks are calibrated)
    carries over. Before, the plane was checked against the trained level alone and refused
    ("59 mm below the level the detector was trained on") although the volume was analysed
    there. A slice above the analysed levels is refused, and the reason names their range."""
    from assistant.chat import Assistant
    from assistant.detector.levels import with_level_embedding
    from assistant.responders.grounded import GroundedResponder
    from assistant.volume import analyze as analyze_mod
    from assistant.volume.analyze import analysed_range

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (-36.0, 0.0, 24.0, 36.0))
    assert analysed_range(det) == (-36.0, 36.0) and analysed_range(tiny_detector()) is None
    scan, m, _, _ = template_volume()
    bot = Assistant(detector=det, responder=GroundedResponder(), use_retrieval=False)
    state = bot.analyze(scan)
    volume = state.volume
    assert state.applicability.in_domain and volume.levels == [-36.0, 0.0, 24.0, 36.0]
    k = volume.native_slices[0]  # the slice of the lowest level
    low = bot.analyze(scan, k)
    assert low.shown_level == -36.0 and low.applicability.in_domain and not low.unreliable
    assert low.applicability.level == pytest.approx(-36.0) and low.applicability.level_ok
    level = low.applicability.checks["level"]
    assert level["analysed_levels_mm"] == [-36.0, 36.0] and level["volume_checked_at_mm"] == 23.0
    assert "MNI z = -36 mm, one of the levels the detector analyses" in low.applicability.summary
    np.testing.assert_array_equal(low.result.anomaly_map, volume.level_results[0].anomaly_map)
    assert not bot.answer(low, "Is there an abnormality?").text.startswith("I can't tell")
    # the top of the head: no analysed level; refused, with the analysed range said
    top = bot.analyze(scan, scan.pixels.shape[0] - 20)
    assert top.shown_level is None and not top.applicability.in_domain
    reasons = " ".join(top.applicability.reasons)
    assert "above the highest level the detector analyses (MNI z = +36 mm)" in reasons
    assert "analysed at every axial level from MNI z = -36 to +36 mm" in reasons


def test_a_whole_brain_volume_at_every_other_level_is_analysed_without_gaps(monkeypatch):
    """`level_step_mm=4` with a level-aware detector: every other level of `BRAIN_LEVELS_MM`
    (half the UNet passes), and the native slices between two analysed levels are analysed
    too (their anomaly interpolated from both), so no brain voxel between them is left out."""
    from assistant.detector.levels import with_level_embedding
    from assistant.volume import analyze as analyze_mod

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (0.0, 2.0, 4.0, 6.0, 8.0))
    scan, m, _, _ = template_volume()
    res = analyze_volume(scan, det, mni_to_voxel=m, progress=False, level_step_mm=4.0)
    assert res.levels == [0.0, 4.0, 8.0] and len(res.level_results) == 3
    z_mni = voxel_points(res.voxel_to_mni, np.argwhere(res.analysed))[:, 2]
    # the template's 2 mm slices between the analysed levels (z = 2 and 6 mm) are analysed,
    # and every slice from the lowest to the highest level
    assert {0.0, 2.0, 4.0, 6.0, 8.0} <= set(np.round(z_mni, 3).tolist())
    with pytest.raises(ValueError, match="multiple of 2 mm"):
        analyze_volume(scan, det, mni_to_voxel=m, progress=False, level_step_mm=3.0)


def test_the_level_step_reaches_the_volume_analysis_from_the_cli_the_app_and_python(monkeypatch):
    """`--level-step 4` (`assistant ask/report/chat/detect`, the app's flag or
    ASSISTANT_LEVEL_STEP, `Settings.level_step_mm`, `Analyzer(level_step_mm=)`): a whole-brain
    detector analyses every other level; anything but a multiple of 2 mm is refused with what
    is accepted."""
    from assistant.analysis import Analyzer
    from assistant.cli import build_parser
    from assistant.commands.ask import settings_of
    from assistant.config import build_analyzer
    from assistant.detector.levels import with_level_embedding
    from assistant.ui.config import parse_config
    from assistant.volume import analyze as analyze_mod

    parser = build_parser()
    for argv in (["ask", "x.nii.gz", "q"], ["report", "x.nii.gz"]):
        args = parser.parse_args([*argv, "--level-step", "4"])
        assert settings_of(args).level_step_mm == 4.0
    assert build_analyzer(settings_of(args)).level_step_mm == 4.0
    assert (
        parser.parse_args(["detect", "x.nii.gz", "--out", "o", "--level-step", "4"]).level_step
        == 4.0
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["ask", "x.nii.gz", "q", "--level-step", "3"])
    assert parse_config(["--level-step", "4"], {}).level_step_mm == 4.0
    assert parse_config([], {"ASSISTANT_LEVEL_STEP": "4"}).level_step_mm == 4.0
    assert parse_config([], {}).level_step_mm == 2.0

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (16.0, 18.0, 20.0, 22.0, 24.0))
    scan, _, _, _ = template_volume()
    state = Analyzer(detector=det, use_retrieval=False, level_step_mm=4.0).analyze(scan)
    assert state.volume.levels == [16.0, 20.0, 24.0]
    said = " ".join(item.text for item in state.evidence.items)
    assert "analysed at every 4 mm of the brain (the slices between interpolated)" in said
    # a one-level detector keeps its 2 mm levels around the trained one
    plain = Analyzer(detector=tiny_detector(), use_retrieval=False, level_step_mm=4.0)
    assert plain.analyze(scan).volume.levels == [19.0, 21.0, 23.0, 25.0, 27.0]


def test_level_steps_are_timed_side_by_side(tmp_path, monkeypatch):
    """`python -m eval.volumes --compare-level-steps 2,4`: each volume analysed at both steps
    in one run, medians and the ratio to the first step; the whole-brain detector analyses
    half the levels at 4 mm."""
    import nibabel as nib

    from assistant.detector.levels import with_level_embedding
    from assistant.domain import load_domain_model
    from assistant.volume import analyze as analyze_mod
    from eval.volumes import compare_level_steps

    t = load_domain_model().head_template
    data = np.ascontiguousarray(np.asarray(t["volume"], np.float32).transpose(2, 1, 0)) * 1000
    affine = np.diag([float(t["step"])] * 3 + [1.0])
    affine[:3, 3] = np.asarray(t["origin"])
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "S1_T1.nii.gz")
    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (16.0, 18.0, 20.0, 22.0, 24.0))
    fig = compare_level_steps(det, [tmp_path / "S1_T1.nii.gz"], [2.0, 4.0])
    two, four = fig["by_step"]["2"], fig["by_step"]["4"]
    assert two["runs"][0]["levels"] == 5 and four["runs"][0]["levels"] == 3
    assert two["wall_ratio_to_first"] == 1.0
    assert four["wall_ratio_to_first"] == pytest.approx(
        four["median_wall_s"] / two["median_wall_s"], abs=2e-3
    )


def test_assistant_check_with_a_whole_brain_checkpoint_accepts_its_analysed_levels(
    tmp_path, monkeypatch, capsys
):
    """`assistant check VOLUME --model WHOLEBRAIN` checks as `detect`/`ask` do with that
    checkpoint: the shipped applicability model (the checkpoint has none of its own; before,
    the command stopped with "no applicability model"), the analysable slices and the accepted
    text name the analysed levels, and a slice far from the trained level is accepted when the
    detector analyses its level, refused with the range said when it does not."""
    from assistant.cli import main
    from assistant.commands.check import verdict_for
    from assistant.detector.levels import checkpoint_level_aware, with_level_embedding
    from assistant.volume import analyze as analyze_mod

    det = tiny_detector()
    det.model.unet = with_level_embedding(det.model.unet)
    folder = det.model.save(tmp_path / "wholebrain")
    assert checkpoint_level_aware(folder) and not checkpoint_level_aware(None)
    monkeypatch.setattr(analyze_mod, "BRAIN_LEVELS_MM", (-36.0, 0.0, 24.0, 36.0))
    scan, _, origin, step = template_volume()
    whole = verdict_for(scan, None, str(folder))
    assert whole.in_domain and whole.checks["analysed_levels_mm"] == [-36.0, 36.0]
    assert "at every level it analyses (MNI z = -36 to +36 mm)" in whole.summary
    reg = whole.registered
    at = [reg.level_of_slice(k) for k in whole.checks["analysable_slices"]]
    assert min(at) >= -37.0 and max(at) <= 37.0 and max(at) - min(at) > 60
    one_level = verdict_for(scan, None, None)
    assert len(one_level.checks["analysable_slices"]) < len(whole.checks["analysable_slices"])
    k = min(whole.checks["analysable_slices"], key=lambda j: abs(reg.level_of_slice(j) + 30))
    low = verdict_for(scan, k, str(folder))
    assert low.in_domain and low.level == pytest.approx(-30.0, abs=1.0)
    assert not verdict_for(scan, k, None).in_domain  # the shipped detector: 53 mm below
    top = verdict_for(scan, scan.pixels.shape[0] - 20, str(folder))
    assert not top.in_domain
    assert "outside the levels the detector analyses" in " ".join(top.reasons)
    path = tmp_path / "head.nii.gz"
    write_nifti(path, scan.pixels, origin, step)
    assert main(["check", str(path), "--model", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("IN DOMAIN: T1-weighted brain MRI volume") and "analysed -36 to +36" in out
    )


def test_a_native_slice_of_a_tilted_head_is_said_to_be_analysed_only_in_part():
    """A cli trial: `ask --slice 78` of a pitched head showed the registered plane at MNI z +23
    mm and answered "No ... fairly confident normal", while a lesion on native slice 78 lay at
    MNI z +14 mm, never analysed. The native slice's own span across the brain is now said."""
    from assistant.domain.register import native_slice_span
    from assistant.evidence import analysed_scope

    # aligned with the template: native slice k at MNI z = 2k - 100 everywhere
    v2m = np.array([[0, 0, 2, -80], [0, -2, 0, 60], [2, 0, 0, -100], [0, 0, 0, 1.0]])
    aligned = np.linalg.inv(v2m)
    lo, hi = native_slice_span(aligned, 61, 22.0)
    assert lo == pytest.approx(22.0) and hi == pytest.approx(22.0)
    # pitched 10 degrees about the left-right axis: the slice climbs from front to back
    t = np.radians(10)
    pitch = np.array(
        [[1, 0, 0, 0], [0, np.cos(t), -np.sin(t), 0], [0, np.sin(t), np.cos(t), 0], [0, 0, 0, 1]]
    )
    lo, hi = native_slice_span(np.linalg.inv(pitch @ v2m), 61, 22.0)
    assert hi - lo == pytest.approx(176 * np.tan(t), rel=0.1)
    summary = {
        "source_shape": [120, 64, 80],
        "slice_index": 70,
        "registered": {"level_mm": 19.0},
        "volume_analysis": {"levels_mm": [19.0, 21.0, 23.0, 25.0, 27.0]},
    }
    assert "runs from about" not in analysed_scope(summary)
    tilted = analysed_scope({**summary, "native_levels_mm": [-15.9, 24.2]})
    assert "native slice 70 itself runs from about MNI z -16 to +24 mm" in tilted
    assert "a lesion elsewhere on it would not be seen" in tilted
    within = analysed_scope({**summary, "native_levels_mm": [18.0, 27.5]})
    assert "runs from about" not in within


def test_a_weaker_piece_of_a_slice_finding_does_not_inherit_its_confidence():
    """A cli trial: weak 3D regions shared one confidence (0.44) whatever their peak (0.241,
    0.166, 0.053): each 3D component took the confidence of any 2D finding it touched. Only the
    component that holds the 2D finding's peak takes it now."""
    mask = np.zeros((6, 10, 10), bool)
    mask[2, 1:3, 1:3] = True  # the piece with the 2D finding's peak
    mask[2, 6:8, 6:8] = True  # a weaker piece of the same 2D finding, not 3D-connected
    anomaly = np.where(mask, 0.05, 0.0).astype(np.float32)
    anomaly[2, 1, 1] = 0.24
    ids = np.where(mask, 0, -1).astype(np.int32)
    meta = [{"level_mm": 23.0, "id": "F1", "confidence": 0.44, "confidence_level": "low",
             "peak": 0.24}]  # fmt: skip
    strong, weak = find_components(
        mask, anomaly, spacing=(1.0, 1.0, 1.0), patient_left="image_left", tissue=False,
        slice_finding=ids, slice_findings=meta,
    )  # fmt: skip
    assert strong.confidence == pytest.approx(0.44) and weak.confidence is None
    assert "no confidence of its own" in weak.describe()
