"""Fit the applicability model and write its artifacts (reproducible from the shared data).

    python -m assistant.domain.fit --data ../shared/data \
        --out assistant/weights/ixi-t1-128/domain [--cache runs/domain] [--registration-only]

Uses only the train split to fit (features, reference slices, head template) and the val split
to choose and calibrate (typicality threshold, level tolerance, registration kind and its
quality threshold); never the holdout split or out-of-domain examples. Intermediate results
(registrations, slice descriptors) are cached under `--cache`. Steps:

1. register every train/val 2 mm volume, skull-stripped with its DLMUSE labels, to the nilearn
   MNI brain template (`fitdata`); this gives every native axial slice its MNI level;
2. head template: the mean of the registered, skull-on train volumes (2 mm, MNI space);
3. slice descriptors (`fitsets`): mid-axial slices, val slices with synthetic lesions, native
   axial slices of the volumes, volumes resampled at levels -40..+80 mm;
4. PCA of the head crops and k-nearest-neighbour references (typicality, level), train only;
5. calibration on val (`calibrate`), then run-time registration measured on val volumes.

`--registration-only` re-runs only the last measurement (rigid vs affine, the similarity
threshold) on the artifacts already in `--out`, e.g. after a change to the run-time
registration settings (`assistant.domain.register.FAST`); nothing else is refitted.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from assistant.domain.calibrate import (
    calibrate_level,
    calibrate_typicality,
    choose_registration,
)
from assistant.domain.features import CROP, STAT_NAMES
from assistant.domain.fitdata import load_volume, registered_matrices, stem, volume_paths
from assistant.domain.fitsets import SliceSet, slice_set
from assistant.domain.geometry import trained_level_mm
from assistant.domain.model import (
    DOMAIN_JSON,
    FEATURES_NPZ,
    TEMPLATE_NPZ,
    DomainModel,
    load_domain_model,
    template_from_npz,
)
from assistant.domain.register import normalise_volume

log = logging.getLogger(__name__)

# chosen on the train/val data (runs/domain/exp_feat.py): 24 components and statistics weighted
# 2x keep >= 99% of val mid-axial, lesion and native slices below the threshold and refuse 99.5%
# of sagittal/coronal slices of 15 TRAIN volumes (16: 99.5%, 32: 98.3%, 48: 84.5%; weight 0.5:
# 83.8%, 1: 96.8%); level error on native val slices: median 2.1 mm
PCA_K = 24
STAT_WEIGHT = 2.0  # weight of each standardised global statistic against the PCA coefficients
TYP_K = 10
LVL_K = 9
MAX_REF = 8000  # reference slices kept (float16): about 0.6 MB compressed
TEMPLATE_STEP = 2.0
TEMPLATE_BOX = ((-98.0, 98.0), (-134.0, 98.0), (-72.0, 116.0))  # the nilearn template's extent


def head_template(root: Path, cache: Path) -> dict[str, np.ndarray]:
    """Mean of the train volumes (each / its 99th percentile) resampled to MNI space at 2 mm."""
    from scipy import ndimage

    matrices = registered_matrices(root, "train", cache)
    axes = [np.arange(lo, hi + 1e-6, TEMPLATE_STEP) for lo, hi in TEMPLATE_BOX]
    zz, yy, xx = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    pts = np.stack([xx, yy, zz, np.ones_like(xx)], axis=-1).reshape(-1, 4).T
    total = np.zeros(xx.size, np.float64)
    paths = volume_paths(root, "train")
    for path in paths:
        pixels, _, _ = load_volume(root, "train", path)
        vox = (matrices[stem(path)] @ pts)[:3]
        total += ndimage.map_coordinates(normalise_volume(pixels), vox, order=1, cval=0.0)
    mean = (total / len(paths)).reshape(xx.shape)
    scale = max(float(mean.max()), 1e-6) / 255.0
    return {
        "volume": np.round(mean / scale).astype(np.uint8),
        "scale": np.float32(scale),
        "origin": np.array([TEMPLATE_BOX[0][0], TEMPLATE_BOX[1][0], TEMPLATE_BOX[2][0]]),
        "step": np.float32(TEMPLATE_STEP),
    }


def _pca(crops: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    mean = crops.mean(axis=0)
    _, _, vt = np.linalg.svd(crops - mean, full_matrices=False)
    return mean.astype(np.float32), vt[:k].astype(np.float32)


def reference_set(data: Path, cache: Path) -> SliceSet:
    """Train slices the model knows as axial T1 head slices: mid-axial (healthy and with
    synthetic lesions, skull on and stripped), native axial and MNI resampled slices of the
    train volumes (skull on and stripped), the MNI template."""
    names = ("mid", "lesion", "lesion_stripped", "native", "mni", "native_stripped")
    names += ("mni_stripped", "template", "template_lesion")
    sets = [slice_set(n, "train", data, cache) for n in names]
    return SliceSet(
        np.concatenate([s.vectors for s in sets]),
        np.concatenate([s.level for s in sets]),
        np.concatenate([s.group for s in sets]),
        np.concatenate([s.index for s in sets]),
    )


def fit_features(ref: SliceSet, seed: int = 0) -> dict[str, np.ndarray]:
    """PCA, statistics scaling and the kNN references from the train reference set."""
    n_pix = CROP * CROP
    crops, stats = ref.vectors[:, :n_pix], ref.vectors[:, n_pix:]
    mean, comps = _pca(crops, PCA_K)
    coef = (crops - mean) @ comps.T
    f = {
        "pca_mean": mean,
        "pca_components": comps,
        "stat_mean": stats.mean(axis=0).astype(np.float32),
        "stat_std": np.maximum(stats.std(axis=0), 1e-3).astype(np.float32),
        "stat_weight": np.float32(STAT_WEIGHT * np.sqrt(np.median(coef.var(axis=0)))),
        "residual_weight": np.float32(1.0),
        "typ_k": np.int64(TYP_K),
        "lvl_k": np.int64(LVL_K),
        "typ_scale": np.float32(1.0),
    }
    emb = DomainModel({}, f, {}).embed(ref.vectors)
    rng = np.random.default_rng(seed)
    keep = np.arange(len(ref))
    if len(keep) > MAX_REF:
        keep = np.sort(rng.choice(keep, MAX_REF, replace=False))
    f["ref"] = emb[keep].astype(np.float16)
    f["lvl_level"] = ref.level[keep].astype(np.float32)
    return f


def write_detector_limits(checkpoint: Path, config: dict) -> None:
    """Copy the fitted limits (`DOMAIN_KEYS`) into the checkpoint's detector.json, when there
    is one: the detector's applicability limits are stored with its thresholds."""
    from assistant.detector.model import DOMAIN_KEYS, DetectorConfig

    path = checkpoint / "detector.json"
    if not path.exists():
        return
    cfg = DetectorConfig.from_json(path.read_text())
    cfg.domain = {k: config[k] for k in DOMAIN_KEYS}
    path.write_text(cfg.to_json())


def write_artifacts(out: Path, config: dict, features: dict, template: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / DOMAIN_JSON).write_text(json.dumps(config, indent=2) + "\n")
    write_detector_limits(out.parent if out.name == "domain" else out, config)
    np.savez_compressed(out / FEATURES_NPZ, **features)
    np.savez_compressed(out / TEMPLATE_NPZ, **template)
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    log.info("artifacts in %s: %s", out, sizes)


def fit(data: Path, out: Path, cache: Path) -> dict:
    """Run every step; returns the config written to `domain.json`."""
    vols = data / "ixi-hh-t1-2mm"
    for split in ("train", "val"):
        registered_matrices(vols, split, cache)
    cached = cache / "head_template.npz"
    if not cached.exists():
        np.savez_compressed(cached, **head_template(vols, cache))
    with np.load(cached) as z:
        template = {k: z[k] for k in z.files}
    features = fit_features(reference_set(data, cache))
    config = {
        "version": 1,
        "trained_level_mm": trained_level_mm(),
        "trained_template_index": 95,
        "features": {"crop": CROP, "stats": list(STAT_NAMES), "pca": PCA_K, "k": TYP_K},
    }
    model = DomainModel(config, features, template_from_npz(template))
    val = {n: slice_set(n, "val", data, cache) for n in ("mid", "lesion", "native", "mni")}
    config.update(calibrate_typicality(model, val))
    mirrored = {f"{n}_mirror": slice_set(f"{n}_mirror", "val", data, cache) for n in val}
    config.update(calibrate_level(model, val, mirrored))
    config["registration"] = choose_registration(model, vols, cache)
    config["provenance"] = (
        "fitted by `python -m assistant.domain.fit` on the train split of IXI T1 mid-axial "
        "slices and of the IXI-HH 2 mm volumes (skull-stripped with NiChart DLMUSE label maps "
        "for registration); calibrated on the val split; IXI data CC BY-SA 3.0 "
        "(brain-development.org)"
    )
    write_artifacts(out, config, features, template)
    return config


def refit_registration(data: Path, out: Path, cache: Path) -> dict:
    """Step 5's registration measurement alone, on the model already in `out`; rewrites the
    `registration` block of its domain.json and returns the whole config."""
    path = out / DOMAIN_JSON
    config = json.loads(path.read_text())
    model = load_domain_model(out)
    config["registration"] = choose_registration(model, data / "ixi-hh-t1-2mm", cache)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return config


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.domain.fit", description=__doc__)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("assistant/weights/ixi-t1-128/domain"))
    p.add_argument("--cache", type=Path, default=Path("runs/domain"))
    p.add_argument(
        "--registration-only",
        action="store_true",
        help="re-measure only the run-time registration on val (kind, similarity threshold)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    run = refit_registration if args.registration_only else fit
    config = run(args.data, args.out, args.cache)
    print(json.dumps({k: v for k, v in config.items() if k != "provenance"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
