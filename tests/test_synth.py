"""Lesion synthesiser: sizes, placement, polarity, determinism, data-set writing and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from assistant import findings
from assistant.findings import SIZE_BINS
from assistant.synth import KINDS, brain_mask_for, synthesize_dataset, synthesize_lesion

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def phantom(h: int = 112, w: int = 96, seed: int = 0) -> np.ndarray:
    """A head-like [0, 1] image: bright scalp ring, dark gap, textured mid-grey brain with two
    dark ventricles. (h, w) float32."""
    rows, cols = np.indices((h, w), dtype=np.float32)
    r = np.sqrt(((rows - h / 2) / (0.45 * h)) ** 2 + ((cols - w / 2) / (0.45 * w)) ** 2)
    img = np.zeros((h, w), np.float32)
    img[(r >= 0.92) & (r < 1.0)] = 0.9
    img[(r >= 0.85) & (r < 0.92)] = 0.05
    brain = r < 0.85
    pattern = 0.55 + 0.15 * np.sin(rows / 3.0) * np.cos(cols / 4.0)
    img[brain] = pattern[brain]
    for dc in (-6, 6):
        v = ((rows - h / 2) / 9.0) ** 2 + ((cols - w / 2 - dc) / 3.0) ** 2 < 1
        img[v] = 0.15
    noise = 0.01 * np.random.default_rng(seed).standard_normal((h, w))
    return np.clip(img + noise * (img > 0), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def head():
    img = phantom()
    return img, brain_mask_for(img)


def test_size_bins_follow_thor_scaled_to_the_image():
    assert findings.size_bin(71, (128, 128)) == "small"
    assert findings.size_bin(72, (128, 128)) == "medium"
    assert findings.size_bin(570, (128, 128)) == "medium"
    assert findings.size_bin(571, (128, 128)) == "large"
    # 256x256 has 4x the pixels: edges 284 and 2280
    assert findings.size_bin(284, (256, 256)) == "small"
    assert findings.size_bin(285, (256, 256)) == "medium"
    assert findings.size_bin(2281, (256, 256)) == "large"
    # with a pixel spacing the area in mm² decides: small <= 200 mm² < medium <= 1600 mm²
    assert findings.size_bin(10_000, (128, 128), area_mm2=200.0) == "small"
    assert findings.size_bin(1, None, area_mm2=1600.5) == "large"
    with pytest.raises(ValueError, match="shape"):
        findings.size_bin(10, None)


def test_brain_mask_excludes_scalp_and_fills_ventricles(head):
    img, brain = head
    h, w = img.shape
    assert brain[h // 2, w // 2]  # ventricle region (filled hole) is brain
    assert not brain[h // 2, int(w / 2 + 0.96 * 0.45 * w)]  # scalp ring
    assert not brain[0, 0]
    rows, cols = np.indices(img.shape)
    r = np.sqrt(((rows - h / 2) / (0.45 * h)) ** 2 + ((cols - w / 2) / (0.45 * w)) ** 2)
    true_brain = r < 0.85
    overlap = (brain & true_brain).sum() / (brain | true_brain).sum()
    assert overlap > 0.9


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size_bin", SIZE_BINS)
def test_every_kind_and_size(head, kind, size_bin):
    img, brain = head
    les = synthesize_lesion(img, brain, np.random.default_rng(3), kind=kind, size_bin=size_bin)
    assert les.image.shape == img.shape and les.image.dtype == np.float32
    assert 0.0 <= les.image.min() and les.image.max() <= 1.0
    assert les.kind == kind
    assert les.size_bin == size_bin == findings.size_bin(les.mask.sum(), img.shape)
    assert les.area_px == int(les.mask.sum()) > 0
    # fully inside the brain, off its border
    assert not (les.mask & ~ndimage.binary_erosion(brain, iterations=2)).any()
    # one connected lesion whose centroid and labels agree
    assert ndimage.label(les.mask)[1] == 1
    rows, cols = np.nonzero(les.mask)
    assert les.centroid == pytest.approx((rows.mean(), cols.mean()))
    assert les.side == ("left" if les.centroid[1] < img.shape[1] / 2 else "right")
    brain_row = np.nonzero(brain)[0].mean()
    assert les.ap == ("anterior" if les.centroid[0] < brain_row else "posterior")
    # the change is clearly visible inside, and (but for mass effect) local
    delta = les.image - img
    assert np.abs(delta[les.mask]).mean() > 0.12
    assert 0.25 - 1e-6 <= les.contrast <= 0.6
    assert np.all(delta[~brain] == 0)
    if kind != "mass_effect":
        far = ~ndimage.binary_dilation(les.mask, iterations=8)
        assert np.abs(delta[far]).max() < 1e-6
    if les.intensity == "hyperintense":
        assert delta[les.mask].mean() > 0.1
    elif les.intensity == "hypointense":
        assert delta[les.mask].mean() < -0.1
    else:
        assert kind == "ring"


def test_ring_has_bright_rim_and_dark_core(head):
    img, brain = head
    les = synthesize_lesion(img, brain, np.random.default_rng(1), kind="ring", size_bin="large")
    core = ndimage.binary_erosion(les.mask, iterations=5)
    rim = les.mask & ~ndimage.binary_erosion(les.mask, iterations=2)
    assert core.any()
    assert les.image[rim].mean() > les.image[core].mean() + 0.3


def test_mass_effect_displaces_tissue_around_the_lesion(head):
    img, brain = head
    les = synthesize_lesion(
        img, brain, np.random.default_rng(2), kind="mass_effect", size_bin="large"
    )
    around = ndimage.binary_dilation(les.mask, iterations=6) & ~ndimage.binary_dilation(
        les.mask, iterations=3
    )
    assert np.abs(les.image - img)[around].max() > 0.05  # tissue moved outside the mask
    assert np.all(les.image[~brain] == img[~brain])


def test_requested_side_and_determinism(head):
    img, brain = head
    for side in ("left", "right"):
        les = synthesize_lesion(img, brain, np.random.default_rng(5), side=side)
        assert les.side == side
    a = synthesize_lesion(img, brain, np.random.default_rng(7))
    b = synthesize_lesion(img, brain, np.random.default_rng(7))
    c = synthesize_lesion(img, brain, np.random.default_rng(8))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.labels() == b.labels()
    assert not np.array_equal(a.image, c.image)


def test_bad_input_is_refused(head):
    img, brain = head
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown lesion kind"):
        synthesize_lesion(img, brain, rng, kind="tumour")
    with pytest.raises(ValueError, match="size bin"):
        synthesize_lesion(img, brain, rng, size_bin="huge")
    with pytest.raises(ValueError, match="same shape"):
        synthesize_lesion(img, brain[:-1], rng)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        synthesize_lesion(img * 255, brain, rng)
    tiny = np.zeros_like(brain)
    tiny[50:56, 40:46] = True
    with pytest.raises(ValueError, match="no room"):
        synthesize_lesion(img, tiny, rng, size_bin="large")


def _write_sources(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(n):
        p = folder / f"case{i}.png"
        Image.fromarray(np.round(phantom(seed=i) * 255).astype(np.uint8)).save(p)
        paths.append(p)
    return paths


def test_dataset_writes_images_masks_and_labels(tmp_path):
    src = tmp_path / "src"
    sources = _write_sources(src, 6)
    out = tmp_path / "out"
    summary = synthesize_dataset(src, out, n_per_image=2, healthy_fraction=1 / 3, seed=4)
    assert (summary.n_healthy, summary.n_abnormal, summary.n_images) == (2, 8, 10)
    labels = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert len(labels) == 10
    images = sorted(p.name for p in (out / "images").iterdir())
    masks = sorted(p.name for p in (out / "masks").iterdir())
    assert images == sorted(r["name"] for r in labels)
    assert masks == sorted(r["name"] for r in labels if r["abnormal"])
    assert sum(summary.by_kind.values()) == 8 and max(summary.by_kind.values()) <= 2
    for r in labels:
        img = np.asarray(Image.open(out / "images" / r["name"]))
        src_img = np.asarray(Image.open(src / r["source"]))
        assert img.shape == src_img.shape
        if not r["abnormal"]:
            assert np.array_equal(img, src_img)  # healthy images are unchanged
            continue
        mask = np.asarray(Image.open(out / "masks" / r["name"]))
        assert set(np.unique(mask)) <= {0, 255}
        assert int((mask > 0).sum()) == r["area_px"]
        assert r["size_bin"] == findings.size_bin(r["area_px"], img.shape)
        assert r["kind"] in KINDS and r["side"] in ("left", "right")
        assert np.abs(img.astype(int) - src_img)[mask > 0].mean() > 20
    assert len(sources) == 6
    # same seed, same files
    out2 = tmp_path / "out2"
    synthesize_dataset(src, out2, n_per_image=2, healthy_fraction=1 / 3, seed=4)
    assert (out / "labels.jsonl").read_text() == (out2 / "labels.jsonl").read_text()
    for name in images:
        a = np.asarray(Image.open(out / "images" / name))
        assert np.array_equal(a, np.asarray(Image.open(out2 / "images" / name)))


def test_dataset_refuses_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        synthesize_dataset(tmp_path / "missing", tmp_path / "o")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        synthesize_dataset(tmp_path / "empty", tmp_path / "o")
    with pytest.raises(ValueError, match="healthy_fraction"):
        synthesize_dataset(tmp_path / "empty", tmp_path / "o", healthy_fraction=1.5)


def test_cli_synthesize_lesions(tmp_path, capsys):
    from assistant.cli import main

    src = tmp_path / "src"
    _write_sources(src, 3)
    out = tmp_path / "out"
    rc = main(
        ["synthesize-lesions", "--images", str(src), "--out", str(out), "--healthy-fraction", "0"]
    )
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n_abnormal"] == 3 and printed["n_healthy"] == 0
    assert len(list((out / "masks").glob("*.png"))) == 3


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "ixi-t1-midaxial").is_dir(), reason="needs ../shared/data")
def test_on_an_ixi_slice():
    from assistant.synth import load_image01

    path = sorted((SHARED / "ixi-t1-midaxial" / "val").glob("*.png"))[0]
    img = load_image01(path)
    brain = brain_mask_for(img)
    assert 0.3 < brain.mean() < 0.5  # brain, not the whole head (~0.6 of the image)
    les = synthesize_lesion(img, brain, np.random.default_rng(0), kind="hypointense")
    assert not (les.mask & ~brain).any()
    assert les.size_bin == findings.size_bin(les.area_px, img.shape)
