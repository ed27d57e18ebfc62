"""Image noise: when does the applicability check refuse a noisier scan, and what would the
detector say about it?

    python -m eval.noise --healthy ../shared/data/ixi-t1-midaxial/val \
        --json eval/results/noise_val.json [--levels 0 0.015 0.03 0.06] [--seed 1]

Scanners and sequences differ in signal-to-noise ratio; the detector learned from IXI scans.
The healthy slices in `--healthy` (MNI-registered mid-axial slices) are written once more with a
synthetic lesion in half of them (`assistant.synth.synthesize_dataset`, `--seed`). Each image
then gets Rician noise, the noise of a magnitude MR image: sigma = level x the head's bright
tissue intensity (the 90th percentile of its pixels above their median). At each level:
how many healthy and lesion images the applicability check accepts, and, running the detector
on every image regardless of the check (as "analyse anyway" does), how many healthy images get
a finding, how many lesion images get a finding that overlaps the lesion, and the median image
score as a fraction of its calibrated threshold.

`--volumes DIR` also checks the first `--volume-limit` NIfTI volumes of DIR (healthy, e.g. the
val 2 mm whole-head volumes) with the same noise added to every voxel (sigma from the volume's
bright voxels the same way): how many the check accepts (registered, their plane at the
trained level) and their median typicality. With `--volume-detect`, every noisy volume is
also analysed whole as an accepted volume would be (registered, every level the detector knows,
3D findings; `assistant.volume.analyze_volume`) whatever the check says, and `--lesion-volumes
DIR --lesion-masks DIR` (e.g. `assistant.volume.synth3d --mni-z 19 27`, lesions where the
detector looks) adds volumes with lesions: how many healthy volumes get a 3D finding (weak ones,
on one level only, not counted) and how many lesions (3D components) are hit (more than 10% of
their voxels flagged), so that the noise a volume may carry is chosen from what the detector
does at that noise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from assistant.detector import Detector
from assistant.domain import check_applicability
from assistant.domain.noise import bright_level
from assistant.scan import Scan
from assistant.synth import synthesize_dataset
from eval import portable_path

LEVELS = (0.0, 0.015, 0.03, 0.06)


def rician(pixels: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """`pixels` with Rician noise of sigma `level` x the bright tissue intensity."""
    img = np.asarray(pixels, dtype=np.float32)
    if level <= 0:
        return img
    bright = bright_level(img)  # what the check's noise estimate divides by
    if bright <= 0:
        return img
    sigma = level * bright
    real = img + rng.normal(0.0, sigma, img.shape)
    imag = rng.normal(0.0, sigma, img.shape)
    return np.sqrt(real**2 + imag**2).astype(np.float32)


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.float32)


def evaluate(data: Path, levels, seed: int, batch: int = 2) -> dict:
    labels = [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines()]
    detector = Detector.from_pretrained()
    out = {}
    for level in levels:
        rng = np.random.default_rng([seed, int(round(level * 1e4))])
        rows = []
        for i in tqdm(range(0, len(labels), batch), desc=f"noise {level:g}", unit="batch"):
            chunk = labels[i : i + batch]
            images = [rician(_load(data / "images" / r["name"]), level, rng) for r in chunk]
            results = detector.detect_batch(images)
            for rec, img, res in zip(chunk, images, results, strict=True):
                verdict = check_applicability(Scan(pixels=img, format="png"))
                hit = None
                if rec["abnormal"]:
                    mask = _load(data / "masks" / rec["name"]) > 0
                    hit = bool((res.mask & mask).any())
                rows.append(
                    {
                        "name": rec["name"],
                        "abnormal": rec["abnormal"],
                        "size_bin": rec.get("size_bin"),
                        "in_domain": bool(verdict.in_domain),
                        "typicality": round(float(verdict.typicality or np.nan), 3),
                        "noise": (verdict.checks.get("noise") or {}).get("sigma_fraction"),
                        "reasons": list(verdict.reasons),
                        "n_findings": len(res.findings),
                        "lesion_hit": hit,
                        "score_over_threshold": round(res.score / res.score_threshold, 4),
                    }
                )
        healthy = [r for r in rows if not r["abnormal"]]
        lesion = [r for r in rows if r["abnormal"]]
        out[f"{level:g}"] = {
            "noise_sigma_fraction": level,
            "n_healthy": len(healthy),
            "n_lesion": len(lesion),
            "healthy_in_domain": sum(r["in_domain"] for r in healthy),
            "lesion_in_domain": sum(r["in_domain"] for r in lesion),
            "median_typicality": statistics.median(r["typicality"] for r in rows),
            "forced_healthy_with_findings": sum(r["n_findings"] > 0 for r in healthy),
            "forced_lesions_hit": sum(bool(r["lesion_hit"]) for r in lesion),
            "median_score_over_threshold_healthy": statistics.median(
                r["score_over_threshold"] for r in healthy
            ),
            "median_score_over_threshold_lesion": statistics.median(
                r["score_over_threshold"] for r in lesion
            ),
            "rows": rows,
        }
    return out


def check_volumes(paths: list[Path], levels, seed: int) -> dict:
    """The applicability check on each volume with noise at each level (module docstring)."""

    from assistant.scan import load_scan

    out = {}
    for level in levels:
        rng = np.random.default_rng([seed, 7, int(round(level * 1e4))])
        rows = []
        for path in tqdm(paths, desc=f"volumes, noise {level:g}", unit="vol"):
            with tempfile.TemporaryDirectory() as tmp:
                verdict = check_applicability(load_scan(_noisy_copy(path, level, rng, tmp)))
            rows.append(
                {
                    "volume": path.name,
                    "in_domain": bool(verdict.in_domain),
                    "typicality": None
                    if verdict.typicality is None
                    else round(float(verdict.typicality), 3),
                    "reasons": list(verdict.reasons),
                }
            )
        typ = [r["typicality"] for r in rows if r["typicality"] is not None]
        out[f"{level:g}"] = {
            "n": len(rows),
            "in_domain": sum(r["in_domain"] for r in rows),
            "median_typicality": statistics.median(typ) if typ else None,
            "rows": rows,
        }
    return out


def _noisy_copy(path: Path, level: float, rng, tmp: str):
    """A NIfTI copy of `path` with Rician noise at `level` (its grid and affine kept)."""
    import nibabel as nib

    img = nib.load(path)
    noisy = rician(np.asanyarray(img.dataobj, dtype=np.float32), level, rng)
    copy = Path(tmp) / path.name
    nib.save(nib.Nifti1Image(noisy, img.affine), copy)
    return copy


def detect_volumes(
    paths: list[Path], lesion_paths: list[Path], masks: Path | None, levels, seed: int
) -> dict:
    """Check and whole-volume analysis of each noisy volume, whatever the check says (module
    docstring): `paths` are healthy, `lesion_paths` hold lesions (their masks of the same name
    in `masks`)."""
    from scipy import ndimage

    from assistant.analysis import default_detector
    from assistant.domain.register import register_volume
    from assistant.scan import load_scan
    from assistant.volume import analyze_volume
    from eval.levels3d import HIT_FRACTION

    detector = default_detector()
    out = {}
    for level in levels:
        rng = np.random.default_rng([seed, 11, int(round(level * 1e4))])
        rows = []
        todo = [(p, None) for p in paths] + [(p, masks / p.name) for p in lesion_paths]
        for path, mask_path in tqdm(todo, desc=f"detect, noise {level:g}", unit="vol"):
            with tempfile.TemporaryDirectory() as tmp:
                scan = load_scan(_noisy_copy(path, level, rng, tmp))
            verdict = check_applicability(scan)
            reg = verdict.registered or register_volume(scan)
            v = analyze_volume(scan, detector, mni_to_voxel=reg.mni_to_voxel, progress=False)
            row = {
                "volume": path.name,
                "in_domain": bool(verdict.in_domain),
                "typicality": None
                if verdict.typicality is None
                else round(float(verdict.typicality), 3),
                "noise": verdict.checks.get("noise"),
                "findings": sum(not f.weak for f in v.findings),
                "weak_findings": sum(f.weak for f in v.findings),
            }
            if mask_path is not None:
                truth = load_scan(mask_path).pixels > 0
                lab, n = ndimage.label(truth, structure=np.ones((3, 3, 3)))
                row["lesions"] = n
                row["lesions_hit"] = sum(
                    bool(((lab == k) & v.mask).sum() / (lab == k).sum() > HIT_FRACTION)
                    for k in range(1, n + 1)
                )
                row["false_findings"] = sum(
                    not f.weak and not (truth & (v.finding_map == i)).any()
                    for i, f in enumerate(v.findings, start=1)
                )
            rows.append(row)
        healthy = [r for r in rows if "lesions" not in r]
        lesion = [r for r in rows if "lesions" in r]
        out[f"{level:g}"] = {
            "n_healthy": len(healthy),
            "n_lesion_volumes": len(lesion),
            "healthy_in_domain": sum(r["in_domain"] for r in healthy),
            "lesion_in_domain": sum(r["in_domain"] for r in lesion),
            "healthy_with_findings": sum(r["findings"] > 0 for r in healthy),
            "lesions": sum(r["lesions"] for r in lesion),
            "lesions_hit": sum(r["lesions_hit"] for r in lesion),
            "lesion_volumes_with_a_false_finding": sum(r["false_findings"] > 0 for r in lesion),
            "rows": rows,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--healthy", type=Path, required=True, help="folder of healthy slices")
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--levels", type=float, nargs="+", default=list(LEVELS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--volumes", type=Path, help="also check noisy copies of these volumes")
    p.add_argument("--volume-limit", type=int, default=8, help="the first N volumes (sorted)")
    p.add_argument("--no-slices", action="store_true", help="volumes only")
    p.add_argument(
        "--volume-detect", action="store_true", help="also analyse the noisy volumes whole"
    )
    p.add_argument("--lesion-volumes", type=Path, help="with --volume-detect: volumes with lesions")
    p.add_argument("--lesion-masks", type=Path, help="their masks (same file names)")
    args = p.parse_args(argv)
    figures = {}
    if not args.no_slices:
        with tempfile.TemporaryDirectory() as tmp:
            synthesize_dataset(args.healthy, tmp, healthy_fraction=0.5, seed=args.seed)
            figures = evaluate(Path(tmp), args.levels, args.seed)
    result = {"healthy_dir": portable_path(args.healthy), "seed": args.seed, "levels": figures}
    if args.volumes is not None and not args.volume_detect:  # detection checks them too
        paths = sorted(args.volumes.glob("*.nii*"))[: args.volume_limit]
        result["volumes_dir"] = portable_path(args.volumes)
        result["volumes"] = check_volumes(paths, args.levels, args.seed)
        for key, f in result["volumes"].items():
            print(
                f"volumes, noise {key}: {f['in_domain']}/{f['n']} in domain, median "
                f"typicality {f['median_typicality']}"
            )
    if args.volume_detect:
        if args.volumes is None:
            p.error("--volume-detect needs --volumes")
        paths = sorted(args.volumes.glob("*.nii*"))[: args.volume_limit]
        lesion_paths = []
        if args.lesion_volumes is not None:
            if args.lesion_masks is None:
                p.error("--lesion-volumes needs --lesion-masks")
            lesion_paths = sorted(args.lesion_volumes.glob("*.nii*"))[: args.volume_limit]
            result["lesion_volumes_dir"] = portable_path(args.lesion_volumes)
        result["detect"] = detect_volumes(
            paths, lesion_paths, args.lesion_masks, args.levels, args.seed
        )
        for key, f in result["detect"].items():
            print(
                f"detect, noise {key}: in domain {f['healthy_in_domain']}/{f['n_healthy']} "
                f"healthy, {f['lesion_in_domain']}/{f['n_lesion_volumes']} lesion volumes; "
                f"healthy with 3D findings {f['healthy_with_findings']}; lesions hit "
                f"{f['lesions_hit']}/{f['lesions']}; lesion volumes with a false finding "
                f"{f['lesion_volumes_with_a_false_finding']}"
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, f in figures.items():
        print(
            f"noise {key}: in domain {f['healthy_in_domain']}/{f['n_healthy']} healthy, "
            f"{f['lesion_in_domain']}/{f['n_lesion']} lesion; forced: healthy with findings "
            f"{f['forced_healthy_with_findings']}, lesions hit {f['forced_lesions_hit']}; "
            f"median score/threshold {f['median_score_over_threshold_healthy']:.2f} healthy, "
            f"{f['median_score_over_threshold_lesion']:.2f} lesion"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
