"""Check the detector on real multiple-sclerosis lesions (MSLUB, 3 patients, MNI space).

    python -m eval.mslub --data ../shared/data/mslub-mni --json OUT [--model DIR] [--slices 5]

For each patient the axial slices with the most lesion voxels are analysed (NIfTI loaded and
reoriented by the scan loader, so image and mask stay aligned). Pixel AUPRC/AUROC are pooled
over the detector's foreground; Dice uses the calibrated threshold. This is a check on real
pathology, never a tuning set: the shipped model was trained on non-skull-stripped IXI slices,
while MSLUB is skull-stripped, on another MNI grid, with subtle T1-hypointense lesions.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from assistant.detector import Detector
from assistant.scan import load_scan
from eval import portable_path
from eval.metrics import average_precision, dice, roc_auc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.mslub", description=__doc__)
    p.add_argument("--data", required=True, help="folder with patientNN/T1.nii.gz + lesion_mask")
    p.add_argument("--json", required=True)
    p.add_argument("--model", "--detector", dest="model", default=None)
    p.add_argument("--slices", type=int, default=5, help="slices per patient (most lesion)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    det = Detector.from_pretrained(args.model)
    scores, truths, rows = [], [], []
    for pdir in sorted(Path(args.data).glob("patient*")):
        t1 = load_scan(pdir / "T1.nii.gz")
        mask = load_scan(pdir / "lesion_mask.nii.gz").pixels > 0.5
        per_slice = mask.reshape(mask.shape[0], -1).sum(1)
        for z in np.argsort(per_slice)[::-1][: args.slices]:
            res = det(t1, slice_index=int(z))
            truth = mask[z]
            fg = res.foreground
            scores.append(res.anomaly_map[fg])
            truths.append(truth[fg])
            rows.append(
                {
                    "patient": pdir.name,
                    "slice": int(z),
                    "lesion_px": int(truth.sum()),
                    "dice": round(dice(res.mask, truth), 4),
                    "findings": len(res.findings),
                    "score": round(res.score, 4),
                    "is_abnormal": res.is_abnormal,
                }
            )
    s, t = np.concatenate(scores), np.concatenate(truths)
    out = {
        "model": portable_path(det.model.path),
        "method": det.method.name,
        "preset": det.preset,
        "pixel_auprc": average_precision(s, t),
        "pixel_auroc": roc_auc(s, t),
        "pixel_prevalence": float(t.mean()),
        "dice_mean": float(np.mean([r["dice"] for r in rows])),
        "flagged_abnormal_fraction": float(np.mean([bool(r["is_abnormal"]) for r in rows])),
        "n_slices": len(rows),
        "slices": rows,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k != "slices"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
