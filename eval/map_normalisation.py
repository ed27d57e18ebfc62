"""Would a per-position normalisation of the anomaly map, or another slice score, help the
whole-brain detector? Measured on cached maps of val level images, never on holdout.

    python -m eval.map_normalisation --maps runs/band_confidence/maps --json OUT.json

`--maps` is the cache `python -m eval.band_confidence fit --cache DIR` writes: `fit_healthy/`
and `fit_lesions/` hold one `.npz` per level image (NAME_z{level}: `anomaly`, `foreground`,
`truth`, `level`) of the val volumes, healthy and with one synthetic lesion, every image of one
level on the same MNI grid. For each subject in turn (leave one subject out), the mean and
standard deviation of the healthy maps of the other subjects at the same level (smoothed) give
the map variants:

- `raw`: the detector's map;
- `minus_mean`: the map minus the healthy mean at that position, clipped at 0;
- `z`: (map - mean) / (sd + the median sd inside the brain);
- `ratio`: map / (mean + the median mean inside the brain).

Reported per variant: pixel AUPRC and AUROC over the foreground of the lesion images, and the
image AUROC of the map's maximum (lesion image against healthy image of the same levels); and,
for the raw map, the image AUROC of other slice scores (the mean of the top k pixels, the
summed excess over the pixel threshold).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.metrics import average_precision_score, roc_auc_score

VARIANTS = ("raw", "minus_mean", "z", "ratio")
_LEVEL = re.compile(r"_z[+-]?\d+(?:\.\d+)?$")


def load(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("*.npz")):
        with np.load(path) as d:
            out.append(
                {
                    "subject": _LEVEL.sub("", path.stem),
                    "level": float(d["level"]),
                    "anomaly": d["anomaly"].astype(np.float32),
                    "foreground": d["foreground"].astype(bool),
                    "truth": d["truth"].astype(bool),
                    "pixel_threshold": float(d["pixel_threshold"]),
                }
            )
    return out


def healthy_stats(healthy: list[dict], level: float, leave_out: str, sigma: float):
    """Smoothed mean and sd of the healthy maps at `level`, without subject `leave_out`."""
    same = [h for h in healthy if h["level"] == level and h["subject"] != leave_out]
    stack = np.stack([h["anomaly"] * h["foreground"] for h in same])
    return gaussian_filter(stack.mean(0), sigma), gaussian_filter(stack.std(0), sigma)


def variants(image: dict, mean: np.ndarray, sd: np.ndarray) -> dict[str, np.ndarray]:
    a, fg = image["anomaly"], image["foreground"]
    sd_floor = float(np.median(sd[fg])) if fg.any() else 1e-3
    mean_floor = float(np.median(mean[fg])) if fg.any() else 1e-3
    return {
        "raw": a,
        "minus_mean": np.clip(a - mean, 0, None),
        "z": (a - mean) / (sd + sd_floor),
        "ratio": a / (mean + mean_floor),
    }


def slice_scores(image: dict) -> dict[str, float]:
    vals = np.sort(image["anomaly"][image["foreground"]])[::-1]
    excess = np.clip(vals - image["pixel_threshold"], 0, None).sum()
    return {"max": float(vals[0]), "top50": float(vals[:50].mean()),
            "top200": float(vals[:200].mean()), "excess": float(excess)}  # fmt: skip


def measure(healthy: list[dict], lesions: list[dict], sigma: float = 4.0) -> dict:
    cache: dict = {}
    pixels = defaultdict(list)
    truth: list[np.ndarray] = []
    image_scores = {v: {"healthy": [], "lesion": []} for v in VARIANTS}
    other = defaultdict(lambda: {"healthy": [], "lesion": []})
    for kind, images in (("healthy", healthy), ("lesion", lesions)):
        for im in images:
            key = (im["level"], im["subject"])
            if key not in cache:
                cache[key] = healthy_stats(healthy, *key, sigma)
            fg = im["foreground"]
            for name, m in variants(im, *cache[key]).items():
                image_scores[name][kind].append(float(m[fg].max()))
                if kind == "lesion":
                    pixels[name].append(m[fg])
            for name, value in slice_scores(im).items():
                other[name][kind].append(value)
            if kind == "lesion":
                truth.append(im["truth"][fg])
    t = np.concatenate(truth)

    def image_auroc(s: dict) -> float:
        y = np.r_[np.zeros(len(s["healthy"])), np.ones(len(s["lesion"]))]
        return round(float(roc_auc_score(y, np.r_[s["healthy"], s["lesion"]])), 4)

    out = {
        "variants": {
            name: {
                "pixel_auprc": round(float(average_precision_score(t, np.concatenate(p))), 4),
                "pixel_auroc": round(float(roc_auc_score(t, np.concatenate(p))), 4),
                "image_auroc_max": image_auroc(image_scores[name]),
            }
            for name, p in pixels.items()
        },
        "slice_scores_raw_map": {name: image_auroc(s) for name, s in other.items()},
        "n_healthy_images": len(healthy),
        "n_lesion_images": len(lesions),
        "n_subjects": len({h["subject"] for h in healthy}),
        "smoothing_sigma_px": sigma,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--maps", required=True, type=Path, help="eval.band_confidence's cache")
    ap.add_argument("--json", required=True, type=Path)
    ap.add_argument("--sigma", type=float, default=4.0)
    args = ap.parse_args(argv)
    res = measure(load(args.maps / "fit_healthy"), load(args.maps / "fit_lesions"), args.sigma)
    res["maps"] = str(args.maps)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    for name, v in res["variants"].items():
        print(f"{name:11s} pixel AUPRC {v['pixel_auprc']:.3f} AUROC {v['pixel_auroc']:.3f} "
              f"image AUROC {v['image_auroc_max']:.3f}")  # fmt: skip
    print("slice scores (raw map):", res["slice_scores_raw_map"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
