"""`assistant detect`: anomaly heatmap, pseudo-healthy image and findings for one scan."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="detect anomalies in a scan")
    p.add_argument("scan", help="scan file, DICOM folder/.zip or NIfTI")
    p.add_argument("--slice", type=int, help="axial slice of a volume (default: middle)")
    p.add_argument("--model", help="checkpoint folder (default: the shipped model)")
    p.add_argument("--method", choices=["thor", "autoddpm", "anoddpm"])
    p.add_argument("--preset", help="method preset, e.g. fast, reference")
    p.add_argument("--out", required=True, help="folder for overlay.png, heatmap.png, ...")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from assistant.detector import Detector
    from assistant.render import save_outputs
    from assistant.scan import load_scan

    scan = load_scan(args.scan)
    det = Detector.from_pretrained(args.model, method=args.method, preset=args.preset)
    res = det(scan, slice_index=args.slice)
    out = Path(args.out)
    save_outputs(res, out)
    (out / "findings.json").write_text(json.dumps(res.summary(), indent=2))
    print(
        f"score {res.score:.4f} (threshold {res.score_threshold}); "
        f"{len(res.findings)} finding(s); {res.unet_calls} UNet calls"
    )
    for f in res.findings:
        print("  " + f.describe())
    print(f"wrote {out}/overlay.png, heatmap.png, pseudo_healthy.png, findings.json")
    return 0
