"""The whole pipeline on real healthy head volumes: how many get a finding?

    python -m eval.real_volumes --volumes ../shared/data/ixi-hh-t1-2mm/val \
        --json eval/results/real_volumes_val.json

Every NIfTI volume in `--volumes` is taken as healthy. Each one goes through what a user's upload
goes through (`assistant.analysis.Analyzer`, retrieval off): the applicability check registers it
to MNI space and picks the slice at the detector's trained level, and the detector runs on that
slice resampled to its training grid; then (unless `--slice-only`) every level the detector
knows is analysed and joined into 3D findings (`assistant.volume`, what `ask`, `report` and
`detect` do for a volume). Reported: how many volumes were in domain, the fraction with at least
one finding on the trained level's slice (`healthy_with_findings`) and with at least one 3D
finding over the analysed levels (`healthy_with_volume_findings`: the false-positive rate a
clinician sees for a volume), the analysed levels,
the registered level and similarity per volume, the median seconds of the check, of the
whole-volume analysis and of the detection (about 0 for a volume analysed whole: its trained
level's slice is the volume analysis' result there), and the most seconds of a check and of a
registration (a check's seconds include
loading the applicability model, once per process, on the first volume; a registration's do
not).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from pathlib import Path

from tqdm import tqdm

from assistant.analysis import Analyzer, default_detector
from assistant.detector import Detector
from assistant.scan import load_scan
from eval import portable_path

logger = logging.getLogger(__name__)


def _finding_row(f) -> dict:
    """A 3D finding's extent and strength (for studying false alarms on healthy volumes)."""
    levels = sorted({d["level_mm"] for d in f.slice_findings})
    return {
        "id": f.id,
        "n_levels": len(levels),
        "weak": f.weak,
        "levels_mm": levels,
        "n_slices": f.n_slices,
        "volume_mm3": None if f.volume_mm3 is None else round(f.volume_mm3, 1),
        "peak_anomaly": round(f.peak_anomaly, 5),
        "confidence": None if f.confidence is None else round(f.confidence, 3),
        "regions": [r["name"] for r in f.regions],
    }


def evaluate(volumes: list[Path], analyzer: Analyzer) -> dict:
    """Per-volume rows and the summary (see the module docstring)."""
    rows = []
    for path in tqdm(volumes, desc="volumes", unit="vol"):
        state = analyzer.analyze(load_scan(path))
        app = state.applicability
        rows.append(
            {
                "volume": path.name,
                "in_domain": bool(app.in_domain),
                "reasons": list(app.reasons),
                "level_mm": None if app.level is None else round(float(app.level), 1),
                "slice_index": state.slice_index,
                "registration": app.checks.get("registration", {}).get("similarity"),
                "n_findings": 0 if state.result is None else len(state.result.findings),
                "check_s": round(state.timings["check_s"], 3),
                "registration_s": app.checks.get("registration", {}).get("seconds"),
                "detect_s": round(state.timings["detect_s"], 3),
                # weak 3D findings (one analysed level only) not counted
                "n_volume_findings": None
                if state.volume is None
                else sum(not f.weak for f in state.volume.findings),
                "volume_levels_mm": None
                if state.volume is None
                else [round(float(z), 1) for z in state.volume.levels],
                "volume_s": round(state.timings.get("volume_s", 0.0), 3),
                "volume_findings": None
                if state.volume is None
                else [_finding_row(f) for f in state.volume.findings],
            }
        )
    analysed = [r for r in rows if r["in_domain"]]
    whole = [r for r in analysed if r["n_volume_findings"] is not None]
    return {
        "n_volumes": len(rows),
        "n_in_domain": len(analysed),
        "healthy_with_findings": (
            sum(r["n_findings"] > 0 for r in analysed) / len(analysed) if analysed else None
        ),
        "healthy_with_volume_findings": (
            sum(bool(r["n_volume_findings"]) for r in whole) / len(whole) if whole else None
        ),
        "n_volume_analysed": len(whole),
        "median_volume_s": statistics.median(r["volume_s"] for r in whole) if whole else None,
        "median_check_s": statistics.median(r["check_s"] for r in rows) if rows else None,
        "max_check_s": max(r["check_s"] for r in rows) if rows else None,
        "max_registration_s": max(
            (r["registration_s"] for r in rows if r["registration_s"] is not None), default=None
        ),
        "median_detect_s": (
            statistics.median(r["detect_s"] for r in analysed) if analysed else None
        ),
        "volumes": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--volumes", type=Path, required=True, help="folder of healthy NIfTI volumes")
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--limit", type=int, default=None, help="only the first N volumes (sorted)")
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="detector checkpoint folder (default: the shipped one)",
    )
    p.add_argument(
        "--slice-only",
        action="store_true",
        help="only the trained level's slice, no whole-volume analysis",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    volumes = sorted(args.volumes.glob("*.nii*"))[: args.limit]
    if not volumes:
        p.error(f"no NIfTI volumes in {args.volumes}")
    detector = Detector.from_pretrained(args.model) if args.model else None
    analyzer = Analyzer(detector=detector, use_retrieval=False, whole_volume=not args.slice_only)
    out = evaluate(volumes, analyzer)
    out["volumes_dir"] = portable_path(args.volumes)
    out["checkpoint"] = (detector or default_detector()).model.checkpoint
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(
        f"{out['n_in_domain']}/{out['n_volumes']} in domain; healthy_with_findings "
        f"{out['healthy_with_findings']}, with 3D findings {out['healthy_with_volume_findings']} "
        f"({out['n_volume_analysed']} analysed whole); check {out['median_check_s']} s, detect "
        f"{out['median_detect_s']} s (medians); registration at most "
        f"{out['max_registration_s']} s, check at most {out['max_check_s']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
