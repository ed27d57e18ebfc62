"""`assistant detect`: anomaly heatmap, pseudo-healthy image and findings for one scan.

The applicability check (`assistant.domain.check_applicability`) runs first and its verdict is
written under "applicability" in findings.json. Out of the detector's domain, nothing is
detected and no findings are written (exit code 0, the reasons on stderr) unless `--anyway` is
given: then the detector runs and findings.json and every finding carry "unreliable": true.

A volume without `--slice` is registered to MNI space by the check and the detector runs on its
slice at the trained level, resampled on the training grid; each finding then carries the
native voxel (z, y, x) under its centroid ("native_voxel") and that voxel's axial slice
("slice_index").

`--slice N` on such a volume shows native axial slice N as the analysed level it lies on (the
level it crosses nearest the brain's centre line, `VolumeResult.level_of_slice`): that level's
registered plane, checked, with the whole-volume analysis' own result there, as `assistant ask
--slice N` and the app's slider show it. A slice that holds no analysed voxel, a volume that
is not registered or not inside the domain, and `--slice-only` analyse native slice N on its
own (still checked).

A registered volume inside the domain is also analysed at every axial level the detector knows
(`assistant.volume.analyze_volume`, with the check's registration; the shipped model: the five
2 mm levels MNI z +19..+27 mm): volume.json holds its 3D findings (V1.., volume in mm³, native
slice range, centroid, side, anatomical region), the per-level and per-slice scores (the score
strip) and which levels were analysed. `--slice-only` skips it.

`--spacing MM` (or `ROW,COL`) gives an image without a pixel spacing (PNG, JPEG, ...) one, so
that sizes are in mm² (`assistant.scan.with_spacing`; refused when the scan's own spacing
differs). findings.json's "sizes" says what the sizes are in: mm² (and the spacing's source) or
pixels of the original image, which depend on its resolution.
"""

from __future__ import annotations

import argparse
import sys

from assistant.commands.presets import missing_thresholds

OUTPUTS = ("overlay.png", "heatmap.png", "pseudo_healthy.png")


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.commands.ask import add_series_arg, add_slice_only_arg, add_spacing_arg

    p = sub.add_parser(
        "detect",
        help="detect anomalies in a scan (after the applicability check)",
        description="Applicability check, then anomaly detection: heatmap, pseudo-healthy "
        "image and findings. Out of the detector's domain nothing is detected unless "
        "--anyway is given (the results are then marked unreliable).",
    )
    p.add_argument("scan", help="scan file, DICOM folder/.zip or NIfTI")
    p.add_argument(
        "--slice",
        type=int,
        help="axial slice of a volume (default: the slice at the trained level, found by "
        "registering the volume to MNI space)",
    )
    add_spacing_arg(p)
    add_series_arg(p)
    p.add_argument(
        "--model", "--detector", dest="model", help="checkpoint folder (default: the shipped model)"
    )
    p.add_argument("--method", choices=["thor", "autoddpm", "anoddpm"])
    p.add_argument("--preset", help="method preset, e.g. fast, reference")
    p.add_argument("--out", required=True, help="folder for overlay.png, heatmap.png, ...")
    add_slice_only_arg(p)
    p.add_argument(
        "--anyway",
        action="store_true",
        help="run the detector even when the scan is outside its domain (every result is "
        "then marked unreliable)",
    )
    p.set_defaults(func=run)


def loader_notes(scan) -> list[str]:
    """What the loader changed that bears on what is analysed (a 4D file's first volume, an
    assumed unit, replaced values), for the commands to say."""
    import re

    return [n for n in scan.notes if re.search(r"first volume|assumed|replaced|degenerate", n)]


def domain_model_dir(model: str | None) -> str | None:
    """The checkpoint whose applicability model to use: `model` when it has one (a `domain/`
    folder or `domain.json`), else None (the shipped one, with a note on stderr)."""

    from assistant.detector.model import require_checkpoint

    if model is None:
        return None
    base = require_checkpoint(model)  # not a checkpoint: that error first, not this note
    if (base / "domain" / "domain.json").is_file() or (base / "domain.json").is_file():
        return model
    print(
        f"note: {model} has no applicability model (domain/domain.json); the shipped "
        "detector's is used for the check",
        file=sys.stderr,
    )
    return None


def refusal_text(verdict: dict) -> str:
    """What stderr says when the scan is outside the detector's domain (no --anyway)."""
    lines = [f"OUT OF DOMAIN: {verdict['summary']}"]
    lines += [f"- {r}" for r in verdict["reasons"]]
    lines += [
        "The detector was not run and no findings are reported (findings.json holds the "
        "applicability verdict only).",
        "To run it anyway, add --anyway: every result is then marked unreliable.",
    ]
    return "\n".join(lines)


def detect_checked(detector, scan, slice_index, verdict):
    """Run `detector` on what the check chose: for a volume without `slice_index`, the
    registered slice at the trained level (when registration worked); otherwise the scan (its
    axial `slice_index`). Returns (DetectionResult, Registered | None)."""
    from assistant.analysis import detector_for_slice

    reg = verdict.registered
    if scan.is_volume and slice_index is None and reg is not None:
        return detector(reg.scan), reg
    detector = detector_for_slice(detector, scan, slice_index)
    return detector(scan, slice_index=slice_index), None


def marked(result, verdict, registered):
    """The result as reported: a registered slice's findings in native space, and every
    finding marked unreliable when the scan is out of domain."""
    if registered is not None:
        result = registered.in_native_space(result)
    return result if verdict.in_domain else result.as_unreliable()


def findings_json(
    result, verdict, registered, sizes: dict | None = None, series: str | None = None
) -> dict:
    """findings.json: the (`marked`) result's summary, "sizes" (mm² or pixels of the original
    image, `assistant.scan.size_basis`), "applicability", for a registered volume what the
    maps are on, and of a study's several series the one analysed ("series", as in `ask
    --json`)."""
    data = {"detected": True, **result.summary()}
    if series is not None:
        data["series"] = series
    if sizes is not None:
        data["sizes"] = sizes
    if registered is not None:
        data["registered"] = {
            "level_mm": round(registered.level_mm, 1),
            "slice_index": registered.slice_index,
            "note": "maps and findings are on the volume's axial plane at MNI z = level_mm "
            "(the trained level, or the analysed level the chosen slice lies on), resampled "
            "on the training grid; native_voxel is (z, y, x) in the volume",
        }
    data["applicability"] = verdict.to_dict()
    return data


def no_findings_json(verdict, series: str | None = None) -> dict:
    """findings.json when the scan is out of domain and nothing was detected (`series`: as in
    `findings_json`)."""
    data = {
        "detected": False,
        "unreliable": False,
        "findings": [],
        "weak_findings": [],
        "slice_index": verdict.slice_index,
        "applicability": verdict.to_dict(),
    }
    if series is not None:
        data["series"] = series
    return data


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from assistant.commands.ask import load_with_spacing, series_note
    from assistant.detector import Detector
    from assistant.domain import check_applicability
    from assistant.scan import ScanError

    scan = load_with_spacing(args)
    if args.slice is not None and not scan.is_volume:
        raise ScanError("--slice applies to volumes only; the scan is a 2D image")
    for note in loader_notes(scan):  # "4D NIfTI ...: the first volume of 2 is used"
        print(f"note: {note}", file=sys.stderr)
    series = series_note(scan.notes)
    if series:  # of a study's several series: the one analysed, as `check` says it
        print(series)
    out = Path(args.out)
    model_dir = domain_model_dir(args.model)
    # loaded before the check: a preset without thresholds is said before the (long) run
    det = Detector.from_pretrained(args.model, method=args.method, preset=args.preset)
    missing = missing_thresholds(det)
    if missing:
        print(f"note: {missing}", file=sys.stderr)
    registered = None
    if args.slice is not None and not args.slice_only:
        shown, registered = _slice_at_level(args, scan, out, model_dir, det)
        if shown is not None:
            return shown
    # a volume registered above is not registered again
    verdict = check_applicability(scan, args.slice, model_dir=model_dir, registered=registered)
    out.mkdir(parents=True, exist_ok=True)
    if not verdict.in_domain and not args.anyway:
        return _refuse(verdict, out, scan)
    return _detect(args, scan, verdict, out, det)


def _refuse(verdict, out, scan) -> int:
    """Out of the domain (no --anyway): findings.json holds the verdict only; the reasons on
    stderr."""
    import json

    from assistant.scan.dicom.series import loaded_series

    data = no_findings_json(verdict, loaded_series(scan.notes))
    (out / "findings.json").write_text(json.dumps(data, indent=2))
    print(refusal_text(verdict.to_dict()), file=sys.stderr)
    print(f"wrote {out}/findings.json (applicability only: out of domain)")
    return 0


def _slice_at_level(
    args: argparse.Namespace, scan, out, model_dir, det
) -> tuple[int | None, object]:
    """Native slice `args.slice` of a volume shown as the analysed level it lies on (see the
    module docstring), its outputs written to `out`: (exit code, the volume's registration or
    None). The exit code is None when the slice is to be analysed on its own (the volume is not
    registered or not in the domain, or the slice holds no analysed voxel). `model_dir`: the
    applicability model's checkpoint (`domain_model_dir`); `det`: the Detector."""
    from assistant.domain import check_analysed_plane, check_applicability
    from assistant.volume import analyze_volume
    from assistant.volume.analyze import analysed_range, level_step_for, slice_is_analysed

    whole = check_applicability(scan, None, model_dir=model_dir)
    reg = whole.registered
    if not whole.in_domain or reg is None:
        return None, reg
    note = (
        f"note: native slice {args.slice} holds no voxel of the analysed levels; it is "
        "analysed on its own"
    )
    # from the geometry first: a slice off the analysed levels does not wait for the volume
    step = level_step_for(det, args.level_step)
    if not slice_is_analysed(scan, det, args.slice, reg.mni_to_voxel, level_step_mm=step):
        print(note, file=sys.stderr)
        return None, reg
    vol = analyze_volume(
        scan, det, mni_to_voxel=reg.mni_to_voxel, progress=True, level_step_mm=step
    )
    j = vol.level_of_slice(args.slice)
    if j is None:
        print(note, file=sys.stderr)
        return None, reg
    shown = reg.at_level(scan, vol.levels[j], args.slice)
    # a level-aware detector: the volume's own check carries over to its other levels
    verdict = check_analysed_plane(
        scan, whole, shown, levels=analysed_range(det), model_dir=model_dir
    )
    out.mkdir(parents=True, exist_ok=True)
    if not verdict.in_domain and not args.anyway:
        return _refuse(verdict, out, scan), reg
    return _write(args, scan, verdict, out, vol.level_results[j], shown, vol, det), reg


def _detect(args: argparse.Namespace, scan, verdict, out, det) -> int:
    from assistant.detector.detector import VOLUME

    # a registered volume in the domain is analysed whole (unless --slice-only): its displayed
    # slice is then judged as one of its levels
    whole = (
        scan.is_volume
        and args.slice is None
        and verdict.registered is not None
        and verdict.in_domain
        and not args.slice_only
    )
    vol = None
    if whole:  # the trained level's slice is one of the analysed levels: detected once
        from assistant.volume import analyze_volume
        from assistant.volume.analyze import level_step_for

        reg = verdict.registered
        step = level_step_for(det, args.level_step)
        vol = analyze_volume(
            scan, det, mni_to_voxel=reg.mni_to_voxel, progress=True, level_step_mm=step
        )
        j = vol.level_index(reg.level_mm, tolerance=0.05)
        res = (
            vol.level_results[j]
            if j is not None
            else detect_checked(det.in_space(VOLUME), scan, None, verdict)[0]
        )
    else:
        res, reg = detect_checked(det, scan, args.slice, verdict)
    return _write(args, scan, verdict, out, res, reg, vol, det)


def _write(args: argparse.Namespace, scan, verdict, out, res, reg, vol, det) -> int:
    """Write the outputs of `res` (on the registered plane `reg`, or None: on the scan) and,
    for a volume analysed whole (`vol`), volume.json; a summary on stdout. `det`: the
    Detector that made `res`."""
    import json

    from assistant.analysis import UNREGISTERED_NOTE, unregistered_calibration
    from assistant.render import save_outputs
    from assistant.scan import size_basis
    from assistant.scan.dicom.series import loaded_series

    res = marked(res, verdict, reg)
    save_outputs(res, out)
    analysed = reg.scan if reg is not None else scan.slice2d(res.slice_index)
    sizes = size_basis(analysed.summary())
    series = loaded_series(scan.notes)
    data = findings_json(res, verdict, reg, sizes, series)
    (out / "findings.json").write_text(json.dumps(data, indent=2))
    mark = ""
    if res.unreliable:
        mark = "UNRELIABLE (outside the detector's domain): "
        print(f"UNRELIABLE: {verdict.summary} Analysed anyway (--anyway).", file=sys.stderr)
        print("\n".join(f"- {r}" for r in verdict.reasons), file=sys.stderr)
    where = ""
    if reg is not None and args.slice is not None:
        where = (
            f" on native slice {reg.slice_index}, shown at the analysed level it lies on: "
            f"the registered plane at MNI z = {reg.level_mm:+.0f} mm"
        )
    elif reg is not None:
        where = (
            f" on the registered slice at MNI z = {reg.level_mm:+.0f} mm "
            f"(nearest native slice {reg.slice_index})"
        )
    elif res.slice_index is not None:
        where = f" on axial slice {res.slice_index}"
    threshold = (
        "none: uncalibrated" if res.score_threshold is None else f"{res.score_threshold:.4f}"
    )
    print(
        f"{mark}score {res.score:.4f} (threshold {threshold}){where}; "
        f"{len(res.findings)} finding(s); {res.unet_calls} UNet calls; {sizes['note']}"
    )
    print(f"checkpoint {res.params.get('checkpoint', '?')}, preset {res.params.get('preset')}")
    missing = missing_thresholds(det) if res.score_threshold is None else None
    if missing:  # the checkpoint has thresholds, for other presets
        print(f"note: {missing}", file=sys.stderr)
    elif res.score_threshold is None:
        print(
            "note: this checkpoint is uncalibrated (no thresholds), so it marks no regions and "
            "calls the scan neither normal nor abnormal; calibrate it on healthy scans it was not "
            "trained on: assistant calibrate --model DIR --healthy FOLDER",
            file=sys.stderr,
        )
    if unregistered_calibration(res):
        print(UNREGISTERED_NOTE)
    for f in res.findings:
        # indices of the volume as reoriented on loading (not the file's own voxel order)
        voxel = (
            f" [voxel (z, y, x) {f.native_voxel} of the volume reoriented to z inferior->superior,"
            " y anterior->posterior, x patient left->right, from 0]"
            if f.native_voxel
            else ""
        )
        print(f"  {f.describe()}{voxel}")
    written = [*OUTPUTS, "findings.json"]
    if vol is not None:
        _whole_volume(vol, scan, reg, out, series)
        written.append("volume.json")
    print(f"wrote {out}/{', '.join(written)}")
    return 0


def _whole_volume(vol, scan, reg, out, series: str | None = None) -> None:
    """The registered volume analysed at every level the detector knows (`vol`, its
    `VolumeResult`): volume.json (with "series", of a study's several series the one
    analysed) and a summary of its 3D findings on stdout."""
    import json

    from assistant.analysis import volume_summary
    from assistant.evidence import analysed_scope

    data = vol.to_dict()
    if series is not None:
        data["series"] = series
    (out / "volume.json").write_text(json.dumps(data, indent=2))
    summary = {"source_shape": list(scan.pixels.shape), "slice_index": reg.slice_index}
    summary["registered"] = {"level_mm": reg.level_mm}
    summary["volume_analysis"] = volume_summary(vol)
    print(f"volume: {analysed_scope(summary)}")
    for f in vol.findings:
        print(f"  {f.describe()}")
