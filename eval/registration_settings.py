"""Run-time registration settings compared on real healthy volumes: similarity, findings, time.

    python -m eval.registration_settings --volumes ../shared/data/ixi-hh-t1-2mm/train \
        ../shared/data/ixi-hh-t1-2mm/val --json eval/results/registration_settings.json

A run may compare some settings only (`--settings capped`) and `--merge` the rows of earlier
outputs for the others (each setting from one run; every row names its run); the committed
figures merge three runs of seeds 1-2 (sparse from the first, dense and masked side by side
from the second, capped from the third), so compare seconds within one run only.

Why: the registration's metric is estimated on random voxel samples, and with the earlier
settings the seed alone could move a volume's similarity with the template by 0.3 and decide
whether a healthy volume got a finding. Each volume is registered with each setting of
`SETTINGS`, once per seed 1..`--seeds`; the slice at the trained level then goes through the
applicability check and the shipped detector as an upload does (`assistant.analysis.Analyzer`
hands a registered slice to `default_detector()`). A setting run with `starts` = K keeps the
best similarity of seeds 1..K, which is what `register_matrix` does, so it is read from the
same runs; so is a setting whose second start runs only when the first start's similarity is
below a cutoff (`RETRY_BELOW`; seconds: the first start's, plus the second's when it ran).
Reported per setting and start count: volumes in domain, volumes with a finding, mean and
minimum similarity, median and maximum seconds (summed over its starts). Use train and val
volumes only: this chooses settings.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from assistant.analysis import default_detector
from assistant.domain import check_applicability
from assistant.domain.register import FAST, RegConfig, register_volume
from assistant.scan import load_scan
from eval import portable_path

SETTINGS = {
    # before: dense sampling at the coarse level only, 100 iterations, one start
    "sparse": RegConfig(
        shrink=(8, 4, 2),
        sigmas=(4.0, 2.0, 1.0),
        sampling_per_level=(1.0, 0.25, 0.05),
        iterations=100,
    ),
    # denser samples at the finer levels, 150 iterations
    "dense": replace(
        FAST, starts=1, retry_below=None, mask_dilation=None, iterations_per_level=None
    ),
    # the same with the metric sampled in the template's head (dilated 3 voxels) only
    "masked": replace(FAST, starts=1, retry_below=None, mask_dilation=3, iterations_per_level=None),
    # dense, at most 60 iterations at the finest (most costly) level
    "capped": replace(
        FAST, starts=1, retry_below=None, mask_dilation=None, iterations_per_level=(150, 150, 60)
    ),
}
RETRY_BELOW = (0.75, 0.8, 0.85)  # second start only when the first's similarity is below


def run_volume(path: Path, detector, seeds: int, settings=tuple(SETTINGS)) -> list[dict]:
    """One row per (setting, seed): similarity, seconds, in domain, number of findings."""
    scan = load_scan(path)
    rows = []
    for name in settings:
        cfg = SETTINGS[name]
        for seed in range(1, seeds + 1):
            reg = register_volume(scan, config=replace(cfg, seed=seed))
            app = check_applicability(scan, registered=reg)
            n = len(detector(reg.scan).findings) if app.in_domain else 0
            rows.append(
                {"volume": path.name, "setting": name, "seed": seed,
                 "similarity": round(reg.similarity, 4), "seconds": round(reg.seconds, 3),
                 "in_domain": bool(app.in_domain), "n_findings": n}
            )  # fmt: skip
    return rows


def _retry(cutoff: float):
    """Seeds run for a volume: seed 2 only when seed 1's similarity is below `cutoff`."""
    return lambda runs: runs[:1] if runs[0]["similarity"] >= cutoff else runs[:2]


def summarise(rows: list[dict], seeds: int) -> dict:
    """Per setting: each single seed, the best-similarity of seeds 1..K for K >= 2, and seed 2
    only where seed 1 is below each `RETRY_BELOW` cutoff."""
    out = {}
    volumes = sorted({r["volume"] for r in rows})
    for name in dict.fromkeys(r["setting"] for r in rows):
        per = {(r["volume"], r["seed"]): r for r in rows if r["setting"] == name}
        variants = {f"seed {s}": lambda runs, s=s: runs[s - 1 : s] for s in range(1, seeds + 1)}
        variants |= {f"best of {k} starts": lambda runs, k=k: runs[:k] for k in range(2, seeds + 1)}
        if seeds >= 2:
            variants |= {f"seed 2 if seed 1 < {c}": _retry(c) for c in RETRY_BELOW}
        for label, chosen in variants.items():
            picked, secs = [], []
            for v in volumes:
                runs = chosen([per[(v, s)] for s in range(1, seeds + 1)])
                picked.append(max(runs, key=lambda r: r["similarity"]))
                secs.append(sum(r["seconds"] for r in runs))
            kept = [r for r in picked if r["in_domain"]]
            out[f"{name}, {label}"] = {
                "n_volumes": len(picked),
                "n_in_domain": len(kept),
                "with_findings": sum(r["n_findings"] > 0 for r in kept),
                "mean_similarity": round(statistics.mean(r["similarity"] for r in picked), 4),
                "min_similarity": min(r["similarity"] for r in picked),
                "median_seconds": round(statistics.median(secs), 2),
                "max_seconds": round(max(secs), 2),
            }
    return out


def merged_rows(files: list[Path], rows: list[dict], seeds: int) -> list[dict]:
    """`rows` and the rows of earlier runs (`files`, seeds 1..`seeds`) of other settings: each
    setting from this run if it ran now, else from the first file that has it; all on the same
    volumes. Each row keeps the run it came from (`run`: "now" or the file's name)."""
    out, volumes = [{**r, "run": r.get("run", "now")} for r in rows], {r["volume"] for r in rows}
    for f in files:
        earlier = [
            r for r in json.loads(f.read_text(encoding="utf-8"))["rows"] if r["seed"] <= seeds
        ]
        if volumes and {r["volume"] for r in earlier} != volumes:
            raise SystemExit(f"{f}: its volumes differ from this run's; not merged")
        volumes, have = {r["volume"] for r in earlier}, {r["setting"] for r in out}
        out += [{**r, "run": f.name} for r in earlier if r["setting"] not in have]
    return out


def shipped_label() -> str:
    """The shipped run-time settings (`FAST`) in the summary's terms."""
    single = replace(FAST, starts=1, retry_below=None)
    name = next(n for n, c in SETTINGS.items() if c == single)
    if FAST.starts == 1:
        return f"{name}, seed 1"
    if FAST.retry_below is not None:
        return f"{name}, seed 2 if seed 1 < {FAST.retry_below}"
    side_by_side = " (run side by side on one thread each)" if FAST.parallel else ""
    return f"{name}, best of {FAST.starts} starts{side_by_side}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--volumes", type=Path, nargs="+", required=True, help="folders of volumes")
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--seeds", type=int, default=3, help="seeds per setting (default 3)")
    p.add_argument("--limit", type=int, default=None, help="only the first N volumes per folder")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="*",
        default=[],
        help="earlier outputs of this script: their rows of settings not run now join the summary",
    )
    p.add_argument(
        "--settings",
        nargs="*",
        choices=list(SETTINGS),
        default=list(SETTINGS),
        help="compare these",
    )
    args = p.parse_args(argv)
    paths = [v for d in args.volumes for v in sorted(d.glob("*.nii*"))[: args.limit]]
    if not paths:
        p.error("no NIfTI volumes in " + ", ".join(map(str, args.volumes)))
    detector = default_detector() if args.settings else None
    rows = [r for path in tqdm(paths if args.settings else [], desc="volumes", unit="vol")
            for r in run_volume(path, detector, args.seeds, args.settings)]  # fmt: skip
    rows = merged_rows(args.merge, rows, args.seeds)
    out = {
        "settings": {
            n: {
                "sampling_per_level": list(c.sampling_per_level or []),
                "iterations": c.iterations,
                "mask_dilation": c.mask_dilation,
                "iterations_per_level": list(c.iterations_per_level or []),
            }
            for n, c in SETTINGS.items()
            if n in {r["setting"] for r in rows}
        },
        "runs": {
            run: sorted({r["setting"] for r in rows if r["run"] == run})
            for run in dict.fromkeys(r["run"] for r in rows)
        },
        "shipped": shipped_label(),
        "summary": summarise(rows, args.seeds),
        "volumes_dirs": [portable_path(d) for d in args.volumes],
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for label, s in out["summary"].items():
        print(f"{label:28s} {s['with_findings']}/{s['n_in_domain']} with a finding "
              f"({s['n_volumes']} volumes), similarity mean {s['mean_similarity']} min "
              f"{s['min_similarity']}, {s['median_seconds']} s (max {s['max_seconds']})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
