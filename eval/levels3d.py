"""How many analysed levels a volume's 3D findings span, on true lesions and on false alarms.

    python -m assistant.volume.synth3d --volumes ../shared/data/ixi-hh-t1-2mm/val \\
        --labels ../shared/data/ixi-hh-t1-2mm/labels/val --limit 21 --mni-z 19 27 --seed 3 \\
        --out /tmp/val_slab21   # this run: /tmp/s/val_slab21
    python -m eval.levels3d --volumes /tmp/val_slab21/volumes --masks /tmp/val_slab21/masks \\
        --json eval/results/levels3d_val.json

Every volume goes through what an upload gets (`assistant.analysis.Analyzer`, retrieval off:
the check, registration, every level the detector knows). For each 3D lesion (a connected
component of the mask, 26-connected) it records whether it is hit (more than 10% of its
voxels in the calibrated mask) and by which 3D findings; for each 3D finding, whether it
touches a lesion, how many analysed levels it lies on (`VolumeFinding.n_levels`) and whether it
is weak (one level only, `assistant.volume.analyze.MIN_LEVELS`). This chose the single-level
rule on val; never point it at holdout volumes to choose anything.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import ndimage

from assistant.analysis import Analyzer
from assistant.scan import load_scan
from eval import portable_path

HIT_FRACTION = 0.1


def study(volumes: list[Path], masks: Path, analyzer: Analyzer) -> dict:
    rows = []
    for path in volumes:
        state = analyzer.analyze(load_scan(path))
        v = state.volume
        if v is None:
            rows.append({"volume": path.name, "analysed": False})
            continue
        truth = load_scan(masks / path.name).pixels > 0
        lab, n = ndimage.label(truth, structure=np.ones((3, 3, 3)))
        lesions = []
        for k in range(1, n + 1):
            comp = lab == k
            ids = sorted(int(i) for i in np.unique(v.finding_map[comp]) if i > 0)
            lesions.append(
                {
                    "voxels": int(comp.sum()),
                    "analysed_fraction": round(float((comp & v.analysed).sum() / comp.sum()), 3),
                    "hit": bool((comp & v.mask).sum() / comp.sum() > HIT_FRACTION),
                    "findings": [f"V{i}" for i in ids],
                }
            )
        findings = [
            {
                "id": f.id,
                "true": bool((truth & (v.finding_map == i)).any()),
                "n_levels": f.n_levels,
                "weak": f.weak,
                "peak_anomaly": round(f.peak_anomaly, 4),
                "volume_mm3": None if f.volume_mm3 is None else round(f.volume_mm3, 1),
            }
            for i, f in enumerate(v.findings, start=1)
        ]
        rows.append(
            {"volume": path.name, "analysed": True, "lesions": lesions, "findings": findings}
        )
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    done = [r for r in rows if r["analysed"]]
    lesions = [(r, les) for r in done for les in r["lesions"]]
    by_id = {(r["volume"], f["id"]): f for r in done for f in r["findings"]}
    hit = [(r, les) for r, les in lesions if les["hit"]]
    weak_only = [
        1
        for r, les in hit
        if les["findings"] and all(by_id[(r["volume"], i)]["weak"] for i in les["findings"])
    ]
    findings = [f for r in done for f in r["findings"]]
    return {
        "n_volumes": len(rows),
        "n_analysed": len(done),
        "n_lesions": len(lesions),
        "n_lesions_hit": len(hit),
        "n_lesions_hit_only_by_weak_findings": len(weak_only),
        "true_findings_by_levels": dict(
            sorted(Counter(f["n_levels"] for f in findings if f["true"]).items())
        ),
        "false_findings_by_levels": dict(
            sorted(Counter(f["n_levels"] for f in findings if not f["true"]).items())
        ),
        "volumes_with_a_false_finding": sum(
            any(not f["true"] for f in r["findings"]) for r in done
        ),
        "volumes_with_a_false_finding_not_weak": sum(
            any(not f["true"] and not f["weak"] for f in r["findings"]) for r in done
        ),
        "volumes": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--volumes", type=Path, required=True, help="NIfTI volumes with lesions")
    p.add_argument("--masks", type=Path, required=True, help="their lesion masks (same names)")
    p.add_argument("--json", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    volumes = sorted(args.volumes.glob("*.nii*"))
    if not volumes:
        p.error(f"no NIfTI volumes in {args.volumes}")
    out = study(volumes, args.masks, Analyzer(use_retrieval=False))
    out["volumes_dir"] = portable_path(args.volumes)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print({k: v for k, v in out.items() if k != "volumes"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
