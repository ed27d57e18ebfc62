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
    p.add_argument(
        "--model",
        "--detector",
        dest="model",
        default=None,
        help="checkpoint folder (default: the shipped one)",
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    from assistant.commands.ask import add_series_arg

    add_series_arg(p)
    p.set_defaults(func=run)


def format_verdict(d: dict) -> str:
    lines = [("IN DOMAIN: " if d["in_domain"] else "OUT OF DOMAIN: ") + d["summary"]]
    checks = d.get("checks") or {}
    analysed = checks.get("analysed_levels_mm") or (checks.get("level") or {}).get(
        "analysed_levels_mm"
    )
    if d["level"] is not None and analysed:
        lines.append(
            f"level:      MNI z = {d['level']:+.1f} mm (analysed {analysed[0]:+.0f} to "
            f"{analysed[1]:+.0f} mm)"
        )
    elif d["level"] is not None:
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
    if checks.get("analysable_slices") is not None and not d["in_domain"]:
        lines.append("analysable slices: none (the scan is outside the detector's domain)")
    elif checks.get("analysable_slices") is not None:
        ok = checks["analysable_slices"]
        lines.append(
            "analysable slices: "
            + (f"{slice_ranges(ok)} (their centre lies at the analysed levels)" if ok else "none")
        )
        crossed = checks.get("crossed_slices") or []
        if crossed and crossed != ok:
            # what `ask` / `detect` report as analysed: planes through the tilted head
            lines.append(
                f"planes analysed cross native slices {slice_ranges(crossed)} (the head is "
                "tilted in the scan: each of these only in part)"
            )
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


def verdict_for(scan, slice_index: int | None, model_dir: str | None):
    """The check `assistant detect`/`ask` make with the detector in `model_dir`: with a
    level-aware (whole-brain) checkpoint, what is accepted names the levels it analyses, and a
    volume's slice away from the trained level is checked like the plane those commands show
    for it (the volume's own check carries over: `check_analysed_plane`)."""
    from assistant.detector.levels import checkpoint_level_aware
    from assistant.domain import check_analysed_plane, check_applicability
    from assistant.domain.model import DOMAIN_JSON, domain_dir
    from assistant.volume.analyze import BRAIN_LEVELS_MM, brain_level_range

    level_aware = checkpoint_level_aware(model_dir)
    # a checkpoint without an applicability model of its own (the whole-brain one) is checked
    # with the shipped one, as `assistant detect` and `ask` do
    if model_dir is not None and not (domain_dir(model_dir) / DOMAIN_JSON).exists():
        model_dir = None
    if not level_aware:
        return check_applicability(scan, slice_index, model_dir=model_dir)
    levels = brain_level_range()
    kw = {"model_dir": model_dir, "levels": levels}
    whole = check_applicability(scan, None if scan.is_volume else slice_index, **kw)
    if slice_index is None or whole.registered is None:
        if slice_index is None or not scan.is_volume:
            return whole
        return check_applicability(scan, slice_index, **kw)
    registered = whole.registered
    z = registered.level_of_slice(slice_index)
    # the analysed level it is shown at (2 mm apart); one outside the range is refused there
    nearest = min(BRAIN_LEVELS_MM, key=lambda lv: abs(lv - z))
    z = nearest if abs(nearest - z) <= 1.0 else z
    shown = registered.at_level(scan, z, slice_index)
    return check_analysed_plane(scan, whole, shown, **kw)


def run(args: argparse.Namespace) -> int:
    import json

    from assistant.commands.ask import load_for_cli
    from assistant.scan import ScanError
    from assistant.scan.dicom.series import loaded_series

    scan = load_for_cli(args)
    if args.slice is not None and not scan.is_volume:
        raise ScanError("--slice applies to volumes only; the scan is a 2D image")
    from assistant.commands.detect import domain_model_dir, loader_notes

    verdict = verdict_for(scan, args.slice, args.model).to_dict()
    if args.model is not None:
        domain_model_dir(args.model)  # a note on stderr when the shipped check stands in
    # of a study's several series: the one checked (the scan's note says why)
    series = loaded_series(scan.notes)
    # what the loader changed that bears on what was checked ("4D NIfTI ...: the first volume of
    # 2 is used", "millimetres assumed")
    loaded = loader_notes(scan)
    if args.json:
        print(json.dumps({**verdict, "series": series, "loader_notes": loaded}, indent=2))
    else:
        text = format_verdict(verdict)
        if series:
            why = next(n for n in scan.notes if n.startswith("series "))
            text = f"{text}\n{why}"
        text += "".join(f"\nnote: {n}" for n in loaded)
        print(text)
    return 0
