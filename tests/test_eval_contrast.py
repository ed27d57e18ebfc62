"""eval.contrast: real T1 volumes turned into other contrasts by their tissue labels."""

from __future__ import annotations

import numpy as np
import pytest

from eval.contrast import (
    WEIGHTINGS,
    label_classes,
    recontrast,
    recontrast_by_labels,
    tissue_levels,
)

ORDER = {  # brightest first
    "t2": ("csf", "gm", "wm"),
    "flair": ("gm", "wm", "csf"),
    "pd": ("gm", "csf", "wm"),
}


@pytest.fixture
def phantom(tmp_path):
    """A 3-tissue T1 phantom: ventricle (dark), cortex (mid), white matter (bright) in a dark
    skull, a slab of bright scalp, with DLMUSE-style labels and names."""
    names = tmp_path / "muse_rois.csv"
    names.write_text(
        "Index,Code,Name\n51,MUSE_51,LateralVentricle_R\n81,MUSE_81,Frontal_WM_R\n"
        "100,MUSE_100,PrecentralGyrus_R\n"
    )
    rng = np.random.default_rng(0)
    labels = np.zeros((20, 30, 30), np.int16)
    labels[4:16, 6:24, 6:24] = 100  # cortex shell
    labels[6:14, 9:21, 9:21] = 81  # white matter
    labels[8:12, 13:17, 13:17] = 51  # ventricle
    t1 = {0: 120.0, 100: 600.0, 81: 900.0, 51: 150.0}  # 0: dark skull around the brain
    vol = np.zeros(labels.shape, np.float32)
    for k, v in t1.items():
        vol[labels == k] = v
    vol[2, :, :] = 1000.0  # scalp fat, outside the brain
    vol += rng.normal(0, 10, vol.shape).astype(np.float32)
    return vol, labels, label_classes(names)


def _medians(out, labels):
    return {
        "csf": float(np.median(out[labels == 51])),
        "gm": float(np.median(out[labels == 100])),
        "wm": float(np.median(out[labels == 81])),
    }


def test_label_names_map_to_tissue_classes(phantom):
    _, _, classes = phantom
    assert classes == {51: "csf", 81: "wm", 100: "gm"}


@pytest.mark.parametrize("generator", ["lut", "labels"])
def test_each_contrast_has_its_tissue_order_and_t1_is_unchanged(phantom, generator):
    vol, labels, classes = phantom
    tissue = tissue_levels(vol, labels, classes)
    assert tissue["csf"] < tissue["gm"] < tissue["wm"]
    for weighting in WEIGHTINGS:
        if generator == "lut":
            out = recontrast(vol, tissue, weighting)
        else:
            out = recontrast_by_labels(vol, labels, classes, weighting)
        assert out.shape == vol.shape and out.dtype == np.float32
        if weighting == "t1":
            np.testing.assert_allclose(out, vol)
            continue
        m = _medians(out, labels)
        assert m["gm"] > m["wm"], (weighting, m)  # grey above white: what T1 never has
        if generator == "labels":  # its CSF level takes in the dark skull: crude (see module)
            continue
        first, second, third = ORDER[weighting]
        assert m[first] > m[second] > m[third], (weighting, m)
        for name in ("csf", "gm", "wm"):  # each level as WEIGHTINGS says, against T1 white
            assert m[name] == pytest.approx(WEIGHTINGS[weighting][name] * 900.0, rel=0.05)
        scalp = out[2] / np.maximum(vol[2], 1)  # outside the brain: scaled as a whole
        assert np.median(scalp) == pytest.approx(WEIGHTINGS[weighting]["outside"], rel=0.05)
