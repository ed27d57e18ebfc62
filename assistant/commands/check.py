"""`assistant check SCAN`: is the scan inside what the detector knows (applicability check)?

Prints the verdict of `assistant.domain.check_applicability` as text (with, for a volume, the
axial slices at the trained level) or, with `--json`, as the JSON object
`{"in_domain": bool, "reasons": [...], "level": ..., ...}` that `assistant detect` writes under
"applicability" in findings.json. Exit code 0 either way (the verdict is the output); 2 for a
scan that cannot be read.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="is the scan inside what the detector knows (modality, plane, level)?",
        description="Applicability check: metadata (modality, plane, body part), how typical "
        "the slice is of the training slices, and its axial level (a volume is registered to "
        "MNI space first).",
    )
    p.add_argument("scan", help="PNG/JPEG/TIFF/BMP, DICOM file, folder or .zip, NIfTI")
    p.add_argument(
        "--slice",
        type=int,
        default=None,
        help="axial slice of a volume (default: the slice at the trained level, registered)",
    )
    p.add_argument("--model", default=None, help="checkpoint folder (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    from assistant.commands.ask import add_series_arg

    add_series_arg(p)
    p.set_defaults(func=run)


def format_verdict(d: dict) -> str:
    lines = [("IN DOMAIN: " if d["in_domain"] else "OUT OF DOMAIN: ") + d["summary"]]
    if d["level"] is not None:
        lines.append(
            f"level:      MNI z = {d['level']:+.1f} mm (trained {d['trained_level']:+.0f} mm, "
            f"tolerance {d['level_tolerance']:g} mm)"
        )
    if d["typicality"] is not None:
        lines.append(
            f"typicality: {d['typicality']:.2f} (accepted up to {d['typicality_threshold']:.2f})"
        )
    if d["slice_index"] is not None:
        lines.append(f"slice:      {d['slice_index']}")
    checks = d.get("checks") or {}
    if checks.get("analysable_slices") is not None:
        ok = checks["analysable_slices"]
        lines.append(f"analysable slices: {slice_ranges(ok) if ok else 'none'}")
    skipped = (checks.get("registration") or {}).get("skipped")
    if skipped:
        lines.append(f"registration: skipped ({skipped})")
    lines += [f"- {r}" for r in d["reasons"]]
    return "\n".join(lines)


def slice_ranges(indices: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9"."""
    runs: list[list[int]] = []
    for k in sorted(set(indices)):
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def run(args: argparse.Namespace) -> int:
    import json

    from assistant.commands.ask import load_for_cli
    from assistant.domain import check_applicability
    from assistant.scan import ScanError
    from assistant.scan.dicom.series import loaded_series

    scan = load_for_cli(args)
    if args.slice is not None and not scan.is_volume:
        raise ScanError("--slice applies to volumes only; the scan is a 2D image")
    verdict = check_applicability(scan, args.slice, model_dir=args.model).to_dict()
    # of a study's several series: the one checked (the scan's note says why)
    series = loaded_series(scan.notes)
    if args.json:
        print(json.dumps({**verdict, "series": series}, indent=2))
    else:
        text = format_verdict(verdict)
        if series:
            why = next(n for n in scan.notes if n.startswith("series "))
            text = f"{text}\n{why}"
        print(text)
    return 0
