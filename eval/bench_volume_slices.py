"""Benchmark moving through a volume analysed whole: the upload, another slice, a 3D finding.

    python -m eval.bench_volume_slices --volumes DIR [--limit 4] --json OUT

For each NIfTI volume in `--volumes` (sorted, the first `--limit`), side by side in one run
and one process, with the same detector:

- **upload**: `Analyzer.analyze(scan)` (check, registration, the whole-volume analysis; the
  trained level's slice is taken from it) and, beside it, what the trained level's slice costs
  when it is detected again on its own (`detect_again_s`: what every upload paid before the
  slice was taken from the volume analysis);
- **another slice** (the app's slider, `ask --slice`): for up to `--slices` native slices
  with analysed voxels, spread over them, `analyze(scan, k)` now (the analysed level's plane
  and result from the volume analysis) against the native slice analysed on its own, as it was
  before (`Analyzer(whole_volume=False)`: the check on that slice, then the detector on it when
  in domain);
- **a slice off the analysed levels, asked for first** (`ask --slice K` on a fresh process):
  a fresh `Analyzer` asked for one native slice without analysed voxels (a quarter of the way
  up those slices) now (its geometry is read from the registration, `slice_is_analysed`, and the
  slice is checked on its own) against what it cost before (a fresh `Analyzer` that analyses the
  volume whole first, then the slice: `analyze(scan)`, then `analyze(scan, K)`), with whether
  the two verdicts agree;
- **"Go to a 3D finding"**: for each 3D finding, its centre slice shown now (`level_mm`: the
  level of its 2D findings nearest its centre) against that native slice analysed on its own:
  whether the check accepts the slice and whether the detector finds anything on it (before),
  and whether the finding's own 2D findings are on the plane shown (now).

Reported: medians of each time, the median ratios (before / now; for another slice over the
slices that were analysed before: a slice the check refused took no time and showed nothing),
the counts, and a row per volume. Use volumes with lesions (`python -m assistant.volume.synth3d`) for the 3D
finding rows: healthy ones rarely have 3D findings.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.analysis import Analyzer, default_detector
from assistant.scan import load_scan
from eval import portable_path, write_figures

logger = logging.getLogger(__name__)


def _spread(items: list[int], n: int) -> list[int]:
    """`n` items spread evenly over `items` (all when there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[int(round(i))] for i in np.linspace(0, len(items) - 1, n)]


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def bench_volume(path: Path, now: Analyzer, before: Analyzer, n_slices: int) -> dict:
    """One volume's row (module docstring)."""
    scan = load_scan(path)
    state, upload_s = _timed(now.analyze, scan)
    row: dict = {
        "volume": path.name,
        "in_domain": bool(state.applicability and state.applicability.in_domain),
        "upload_s": round(upload_s, 3),
    }
    volume = state.volume
    registered = state.applicability.registered if state.applicability else None
    if volume is None or registered is None:
        row["note"] = "not analysed whole (outside the domain or not registered)"
        return row
    _, again_s = _timed(now._detect, scan, None, registered)
    row["detect_again_s"] = round(again_s, 3)
    before.analyze(scan)  # its own upload (not timed): the registration is then known to it
    analysed = [k for k, s in enumerate(volume.slice_scores) if s is not None]
    slices = []
    for k in _spread(analysed, n_slices):
        shown, now_s = _timed(now.analyze, scan, k)
        alone, before_s = _timed(before.analyze, scan, k)
        slices.append(
            {
                "slice": k,
                "now_s": round(now_s, 4),
                "before_s": round(before_s, 3),
                "shown_level_mm": shown.shown_level,
                "before_in_domain": bool(alone.applicability.in_domain),
            }
        )
    row["slices"] = slices
    row["off_levels_first"] = _off_levels_first(scan, volume, now.detector)
    jumps = []
    for f in volume.findings:
        j = volume.level_of_finding(f)
        k = int(round(f.centroid_voxel[0]))
        level = None if j is None else volume.levels[j]
        shown = now.analyze(scan, k, level_mm=level)
        alone = before.analyze(scan, k)
        own = {d["id"] for d in f.slice_findings if level is not None and d["level_mm"] == level}
        on_plane = {g.id for g in shown.result.findings} if shown.result is not None else set()
        jumps.append(
            {
                "finding": f.id,
                "weak": f.weak,
                "slice": k,
                "level_mm": level,
                "now_shows_it": bool(own) and own <= on_plane,
                "before_in_domain": bool(alone.applicability.in_domain),
                "before_any_finding": bool(alone.result is not None and alone.result.findings),
            }
        )
    row["jumps"] = jumps
    return row


def _off_levels_first(scan, volume, detector) -> dict | None:
    """A slice off the analysed levels asked for first, now and as before (module docstring)."""
    off = [k for k, s in enumerate(volume.slice_scores) if s is None]
    if not off:
        return None
    k = off[len(off) // 4]
    fresh = Analyzer(detector=detector, use_retrieval=False)
    state, now_s = _timed(fresh.analyze, scan, k)
    old = Analyzer(detector=detector, use_retrieval=False)
    t0 = time.perf_counter()
    old.analyze(scan)
    alone = old.analyze(scan, k)
    before_s = time.perf_counter() - t0
    return {
        "slice": k,
        "now_s": round(now_s, 3),
        "before_s": round(before_s, 3),
        "now_volume_analysed": state.volume is not None,
        "same_verdict": state.applicability.in_domain == alone.applicability.in_domain
        and state.applicability.reasons == alone.applicability.reasons,
    }


def summarise(rows: list[dict]) -> dict:
    whole = [r for r in rows if "detect_again_s" in r]
    slices = [s for r in whole for s in r["slices"]]
    jumps = [j for r in whole for j in r["jumps"]]
    firsts = [r["off_levels_first"] for r in whole if r.get("off_levels_first")]

    def med(values):
        values = list(values)
        return round(statistics.median(values), 4) if values else None

    # before, a slice the check refused took no detection (and showed nothing): the ratio is
    # over the slices that were analysed before
    analysed = [s for s in slices if s["before_in_domain"]]
    upload_ratio = [(r["upload_s"] + r["detect_again_s"]) / r["upload_s"] for r in whole]
    return {
        "n_volumes": len(rows),
        "n_analysed_whole": len(whole),
        "median_upload_s": med(r["upload_s"] for r in whole),
        "median_detect_again_s": med(r["detect_again_s"] for r in whole),
        "median_upload_ratio_before_over_now": med(upload_ratio),
        "n_slices": len(slices),
        "median_slice_now_s": med(s["now_s"] for s in slices),
        "slices_before_in_domain": len(analysed),
        "median_slice_before_s": med(s["before_s"] for s in analysed),
        "median_slice_ratio_before_over_now": med(
            s["before_s"] / max(s["now_s"], 1e-6) for s in analysed
        ),
        "n_off_levels_first": len(firsts),
        "median_off_levels_first_now_s": med(f["now_s"] for f in firsts),
        "median_off_levels_first_before_s": med(f["before_s"] for f in firsts),
        "median_off_levels_first_ratio_before_over_now": med(
            f["before_s"] / max(f["now_s"], 1e-6) for f in firsts
        ),
        "off_levels_first_same_verdict": sum(f["same_verdict"] for f in firsts),
        "off_levels_first_volume_analysed_now": sum(f["now_volume_analysed"] for f in firsts),
        "n_jumps": len(jumps),
        "jumps_now_show_the_finding": sum(j["now_shows_it"] for j in jumps),
        "jumps_before_in_domain": sum(j["before_in_domain"] for j in jumps),
        "jumps_before_any_finding": sum(j["before_any_finding"] for j in jumps),
        "volumes": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--volumes", type=Path, required=True, help="folder of NIfTI volumes")
    p.add_argument("--json", type=Path, required=True, help="write the figures here")
    p.add_argument("--limit", type=int, default=4, help="the first N volumes (sorted)")
    p.add_argument("--slices", type=int, default=3, help="other slices timed per volume")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    volumes = sorted(args.volumes.glob("*.nii*"))[: args.limit]
    if not volumes:
        p.error(f"no NIfTI volumes in {args.volumes}")
    detector = default_detector()
    now = Analyzer(detector=detector, use_retrieval=False)
    before = Analyzer(detector=detector, use_retrieval=False, whole_volume=False)
    rows = [bench_volume(v, now, before, args.slices) for v in tqdm(volumes, unit="vol")]
    out = summarise(rows)
    out["volumes_dir"] = portable_path(args.volumes)
    write_figures(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
