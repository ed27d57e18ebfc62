"""Fit and measure a level-aware (whole-brain) detector's confidence, per band of MNI levels.

    python -m eval.band_confidence export --volumes DIR --labels DIR --out DIR \\
        [--level-step 8] [--seed 0]
    python -m eval.band_confidence fit --model DIR --fit DIR --test DIR --json OUT \\
        [--cache DIR] [--write-checkpoint]

export: every NIfTI volume of --volumes is registered to MNI space as at run time
(`register_matrix`) and cut at every --level-step mm of `BRAIN_LEVELS_MM` that holds brain,
exactly as `analyze_volume` cuts it (`level_images`: the raw slice on the 1 mm training grid).
Each level is written as an 8-bit PNG, `healthy/NAME_z{level}.png`, and again with one synthetic
lesion (`assistant.synth.synthesize_lesion`, kinds and size bins balanced, seeded per image) in
`lesions/images/` with its mask in `lesions/masks/`. The lesion lies inside the brain, which is
read from the volume's own label map (--labels: `NAME_DLMUSE.nii.gz`, non-zero = brain)
resampled on the same plane. A set is then half healthy, half lesion images, like the mid-axial
sets of `eval.confidence`.

fit: the detector (--model, its default method and preset) runs once on every image at the
image's level, so each image gets its band's thresholds (`Calibration.for_level`); the candidate
regions and their labels are `eval.confidence`'s (a region is a true lesion when it overlaps
the lesion by more than 10% of its own pixels or of the lesion's; every region of a healthy
image is false). In each band of the detector's calibration, the map from a region's peak to
the probability that it is a true lesion is chosen and fitted on the --fit set alone
(`calibrate.choose_confidence`, `fit_confidence`: grouped cross-validation by volume, the
one-standard-error rule) and measured on the --test set alone: expected calibration error,
Brier score, AUROC, per band and pooled over the bands, beside the old fallback (the fraction
of the band's healthy calibration scores below the peak). --write-checkpoint stores each band's
map in the model's detector.json (`bands[i]["confidence"]`), where a slice at that band's
levels, and so a volume's 3D findings (the highest of their 2D findings), take it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from assistant.detector.calibrate import choose_confidence, fit_confidence, reliability
from assistant.detector.postprocess import ConfidenceMap
from eval import portable_path
from eval.confidence import (
    OVERLAP,
    collect,
    evaluate_test,
    measured,
    regions_of,
    scores_for,
    set_summary,
)

logger = logging.getLogger(__name__)

BRAIN_EROSION_PX = 2  # the lesion keeps this far inside the label map's brain (1 mm pixels)


# ----------------------------------------------------------------------------- export
def level_name(stem: str, z_mm: float) -> str:
    """NAME_z{level}: the name `eval.confidence.level_of` reads the level from."""
    return f"{stem}_z{z_mm:+.0f}"


def to_unit(raw: np.ndarray) -> np.ndarray:
    """A raw slice scaled to [0, 1] by its 99.9th percentile of non-zero pixels (the detector
    normalises by percentiles itself, so only the 8-bit quantisation remains of this)."""
    pos = raw[raw > 0]
    top = float(np.percentile(pos, 99.9)) if pos.size else 1.0
    return np.clip(raw / max(top, 1e-6), 0.0, 1.0).astype(np.float32)


def _write_png(path: Path, arr01: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(np.round(np.clip(arr01, 0, 1) * 255).astype(np.uint8)).save(path)


def export(
    volumes: str | Path,
    labels: str | Path,
    out: str | Path,
    level_step: float = 8.0,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Write the healthy and lesion level images of every volume (see the module docstring);
    returns counts and what was skipped."""
    from scipy import ndimage

    from assistant.detector.model import PreprocessConfig
    from assistant.domain.geometry import training_grid
    from assistant.domain.levelset import BRAIN_LEVELS_MM, volume_files
    from assistant.domain.register import register_matrix, sample_grid
    from assistant.findings import SIZE_BINS
    from assistant.scan import load_scan
    from assistant.synth.lesion import KINDS, synthesize_lesion
    from assistant.volume.analyze import level_images

    out = Path(out)
    for sub in ("healthy", "lesions/images", "lesions/masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    step = max(1, int(round(level_step / 2.0)))
    wanted = list(BRAIN_LEVELS_MM)[::step]
    files = volume_files(volumes)
    if progress:
        from tqdm.auto import tqdm

        files = tqdm(files, desc="export", unit="volume")
    n_img, skipped, plan_i, records = 0, [], 0, []
    for path in files:
        stem = path.name.removesuffix(".nii.gz").removesuffix(".nii")
        label_path = Path(labels) / f"{stem}_DLMUSE.nii.gz"
        if not label_path.is_file():
            skipped.append(f"{path.name}: no label map {label_path.name}")
            continue
        scan = load_scan(path)
        lab = load_scan(label_path).pixels
        if lab.shape != scan.pixels.shape:
            skipped.append(f"{path.name}: label map on another grid")
            continue
        m, *_ = register_matrix(scan)
        images, kept = level_images(scan.pixels, m, wanted, PreprocessConfig())
        for raw, z in zip(images, kept, strict=True):
            name = level_name(stem, z)
            img = to_unit(raw)
            brain = sample_grid((lab > 0).astype(np.float32), m, training_grid(z), order=0)[0]
            brain = ndimage.binary_erosion(brain > 0.5, iterations=BRAIN_EROSION_PX)
            kind = KINDS[plan_i % len(KINDS)]
            size_bin = SIZE_BINS[(plan_i % len(KINDS) + plan_i // len(KINDS)) % len(SIZE_BINS)]
            rng = np.random.default_rng([seed, n_img])
            lesion = None
            for size in SIZE_BINS[: SIZE_BINS.index(size_bin) + 1][::-1]:
                try:
                    lesion = synthesize_lesion(img, brain, rng, kind=kind, size_bin=size)
                    break
                except ValueError:
                    continue
            if lesion is None:
                skipped.append(f"{name}: no room for a lesion in the brain")
                continue
            _write_png(out / "healthy" / f"{name}.png", img)
            _write_png(out / "lesions" / "images" / f"{name}.png", lesion.image)
            _write_png(out / "lesions" / "masks" / f"{name}.png", lesion.mask.astype(np.float32))
            records.append({"name": f"{name}.png", "level_mm": z, **lesion.labels()})
            plan_i += 1
            n_img += 1
    summary = {
        "volumes": portable_path(volumes),
        "labels": portable_path(labels),
        "level_step_mm": 2.0 * step,
        "seed": seed,
        "n_level_images": n_img,
        "skipped": skipped,
    }
    (out / "export.json").write_text(json.dumps({**summary, "lesions": records}, indent=2) + "\n")
    return summary


# ----------------------------------------------------------------------------- fit
def in_band(reg: dict[str, np.ndarray], band: dict) -> np.ndarray:
    lv = reg["level"]
    return (lv >= band["lo_mm"]) & (lv <= band["hi_mm"])


def band_part(cases: list, reg: dict[str, np.ndarray], band: dict) -> tuple[list, dict]:
    """The images whose level lies in `band`, and their regions."""
    keep = in_band(reg, band)
    inside = [c for c in cases if c.level is not None and band["lo_mm"] <= c.level <= band["hi_mm"]]
    return inside, {k: v[keep] for k, v in reg.items()}


def fit_bands(fit_reg: dict, bands: list[dict], data: dict) -> tuple[list[ConfidenceMap], list]:
    """Per band: the kind chosen by cross-validation on the fit set, and its fitted map."""
    maps, choices = [], []
    for b in bands:
        keep = in_band(fit_reg, b)
        sub = {k: v[keep] for k, v in fit_reg.items()}
        if sub["true"].sum() < 5 or (~sub["true"]).sum() < 5:
            raise ValueError(
                f"band {b['lo_mm']:+g}..{b['hi_mm']:+g} mm has too few regions to fit "
                f"({int(sub['true'].sum())} true, {int((~sub['true']).sum())} false)"
            )
        choice = choose_confidence(sub["peak"], sub["true"], sub["subject"], sub["area"])
        briers = ", ".join(f"{k} {v['brier']:.4f}" for k, v in choice["kinds"].items())
        maps.append(
            fit_confidence(
                sub["peak"],
                sub["true"],
                kind=choice["chosen"],
                area=sub["area"],
                data=data,
                band_mm=[b["lo_mm"], b["hi_mm"]],
                label=f"overlap > {OVERLAP:g} of the region's or the lesion's pixels",
                pixel_threshold=float(b["pixel_threshold"]),
                score_threshold=float(b["score_threshold"]),
                chosen_by=(
                    f"{choice['folds']}-fold cross-validation on the fit set's regions in the "
                    "band, folds by volume, one-standard-error rule (Brier "
                    f"{briers})"
                ),
                measured="python -m eval.band_confidence fit",
            )
        )
        choices.append(choice)
    return maps, choices


def pooled(
    maps: list[ConfidenceMap], bands: list[dict], reg: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Each region's probability from its band's map, and whether it lies in a band."""
    prob = np.full(reg["peak"].size, np.nan)
    for cmap, b in zip(maps, bands, strict=True):
        keep = in_band(reg, b)
        prob[keep] = scores_for(cmap, {k: v[keep] for k, v in reg.items()})
    return prob, ~np.isnan(prob)


def fit_main(args: argparse.Namespace, argv: list[str] | None) -> int:
    from assistant.detector import Detector

    det = Detector.from_pretrained(args.model)
    cal = det.calibration
    if cal is None or not cal.bands:
        raise SystemExit(f"{args.model}: no per-band calibration for {det.key}")
    bands = cal.bands
    cache = Path(args.cache)
    t0 = time.perf_counter()
    fit_cases = collect(det, Path(args.fit) / "healthy", False, cache, "fit_healthy") + collect(
        det, Path(args.fit) / "lesions", True, cache, "fit_lesions"
    )
    test_cases = collect(det, Path(args.test) / "healthy", False, cache, "test_healthy") + (
        collect(det, Path(args.test) / "lesions", True, cache, "test_lesions")
    )
    logger.info("collected in %.0f s", time.perf_counter() - t0)
    fit_reg, test_reg = regions_of(fit_cases), regions_of(test_cases)
    data = {"fit": portable_path(args.fit)}
    maps, choices = fit_bands(fit_reg, bands, data)
    per_band = []
    for cmap, choice, b in zip(maps, choices, bands, strict=True):
        thr = float(b["score_threshold"])
        f_cases, f_sub = band_part(fit_cases, fit_reg, b)
        t_cases, t_sub = band_part(test_cases, test_reg, b)
        per_band.append(
            {
                "band_mm": [b["lo_mm"], b["hi_mm"]],
                "score_threshold": thr,
                "fit_set": set_summary(f_cases, f_sub, thr),
                "test_set": set_summary(t_cases, t_sub, thr),
                "model_selection_on_fit_set": choice,
                "fitted": cmap.to_dict(),
                "curve": [
                    {"peak_over_threshold": r, "probability": round(cmap.probability(r * thr), 3)}
                    for r in (0.5, 1.0, 1.25, 1.5, 2.0, 3.0)
                ],
                "test": evaluate_test(cmap, t_sub, thr),
            }
        )
    prob, inside = pooled(maps, bands, test_reg)
    sub = {k: v[inside] for k, v in test_reg.items()}
    thr_of = np.full(test_reg["peak"].size, np.nan)
    for b in bands:
        thr_of[in_band(test_reg, b)] = float(b["score_threshold"])
    finding = inside & (test_reg["peak"] >= np.nan_to_num(thr_of, nan=np.inf))
    f_sub = {k: v[finding] for k, v in test_reg.items()}
    figures = {
        "what": (
            "confidence of a level-aware detector = per band of MNI levels, the estimated "
            "probability that a candidate region (a finding F or a weak region W) is a true "
            "lesion; fitted on the fit set (val volumes' level images), measured on the test "
            "set (holdout volumes' level images)"
        ),
        "command": "python -m eval.band_confidence "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "detector": {"model": portable_path(args.model), "key": det.key},
        "label_rule": (
            f"a region is a true lesion when the lesion mask covers more than {OVERLAP:g} of its "
            f"pixels, or it covers more than {OVERLAP:g} of a lesion's pixels; every region of a "
            "healthy image is false"
        ),
        "bins": "ECE: 10 equal-width bins on [0, 1] (ece) and 10 equal-count bins (ece_equal_count)",
        "fit_set": {"folder": portable_path(args.fit), "n_images": len(fit_cases)},
        "test_set": {"folder": portable_path(args.test), "n_images": len(test_cases)},
        "pooled_test": {
            "all_regions": {
                "n_regions": int(inside.sum()),
                "n_true": int(sub["true"].sum()),
                "new": measured(prob[inside], sub, np.random.default_rng(0)),
                "old": measured(sub["old"], sub, np.random.default_rng(0)),
            },
            "findings": {
                "n_regions": int(finding.sum()),
                "n_true": int(f_sub["true"].sum()),
                "new": reliability(prob[finding], f_sub["true"], table=False),
                "old": reliability(f_sub["old"], f_sub["true"], table=False),
            },
        },
        "bands": per_band,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    for b in per_band:
        t = b["test"]["all_regions"]
        print(
            f"band {b['band_mm'][0]:+g}..{b['band_mm'][1]:+g}: {b['fitted']['kind']} "
            f"test n={t['n_regions']} true={t['n_true']} ECE new {t['new']['ece']:.4f} "
            f"old {t['old']['ece']:.4f}  Brier new {t['new']['brier']:.4f} "
            f"old {t['old']['brier']:.4f}"
        )
    p = figures["pooled_test"]["all_regions"]
    print(
        f"pooled: n={p['n_regions']} true={p['n_true']} ECE new {p['new']['ece']:.4f} "
        f"old {p['old']['ece']:.4f}  Brier new {p['new']['brier']:.4f} old {p['old']['brier']:.4f}"
    )
    if args.write_checkpoint:
        from assistant.detector.model import DetectorConfig

        path = Path(args.model) / "detector.json"
        text = path.read_text()
        config = DetectorConfig.from_json(text)
        for b, cmap in zip(config.calibration[det.key].bands, maps, strict=True):
            b["confidence"] = cmap.to_dict()
        path.write_text(config.to_json() + ("\n" if text.endswith("\n") else ""))
        logger.info("wrote %d band confidence maps into %s", len(maps), path)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval.band_confidence", description=__doc__.split("\n")[0]
    )
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write healthy and lesion level images of volumes")
    e.add_argument("--volumes", required=True, help="folder of healthy NIfTI head volumes")
    e.add_argument("--labels", required=True, help="their label maps (NAME_DLMUSE.nii.gz)")
    e.add_argument("--out", required=True)
    e.add_argument("--level-step", type=float, default=8.0, help="mm between levels (even)")
    e.add_argument("--seed", type=int, default=0)
    f = sub.add_parser("fit", help="fit per band on --fit, measure on --test")
    f.add_argument("--model", required=True, help="a level-aware checkpoint, band-calibrated")
    f.add_argument("--fit", required=True, help="an export folder (val volumes)")
    f.add_argument("--test", required=True, help="an export folder (holdout volumes)")
    f.add_argument("--json", required=True)
    f.add_argument("--cache", default="runs/band_confidence/maps")
    f.add_argument(
        "--write-checkpoint",
        action="store_true",
        help="store each band's map in the model's detector.json",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "export":
        print(
            json.dumps(
                export(args.volumes, args.labels, args.out, args.level_step, args.seed),
                indent=2,
            )
        )
        return 0
    return fit_main(args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
