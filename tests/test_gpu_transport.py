"""eval.gpu_transport: the level set and the PNG slices survive the two-part transport exactly."""

import numpy as np
from PIL import Image

from eval.gpu_transport import pack, unpack


def test_pack_then_unpack_gives_identical_arrays_and_pixels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 16, 16), dtype=np.uint8)
    images[:, :4] = 0  # background, as in a head slice
    levels = np.arange(7, dtype=np.float32) * 2 - 50
    np.savez_compressed(
        tmp_path / "levels.npz",
        images=images,
        levels=levels,
        volumes=np.asarray(["a.nii.gz"] * 4 + ["b.nii.gz"] * 3),
        names=np.asarray(["a.nii.gz", "b.nii.gz"]),
        matrices=rng.normal(size=(2, 4, 4)),
    )
    (tmp_path / "png").mkdir()
    pngs = {f"s{i}.png": rng.integers(0, 256, size=(9, 11), dtype=np.uint8) for i in range(3)}
    for name, a in pngs.items():
        Image.fromarray(a).save(tmp_path / "png" / name)

    parts = pack(tmp_path / "levels.npz", tmp_path / "png", tmp_path / "parts", share=0.6)
    out = unpack(parts, tmp_path / "out" / "levels_train.npz", tmp_path / "out" / "png")

    with np.load(tmp_path / "levels.npz") as a, np.load(out) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    for name, a in pngs.items():
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "png" / name)), a)
