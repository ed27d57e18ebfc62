"""The applicability check over a folder of healthy scans given to `train --data` or `calibrate
--healthy`: the files it would refuse are named (a chest X-ray or a patient's scan in the set
that defines normal shifts the model or the thresholds without a word), and so are volumes, which
such a folder reads at their middle native slice, unregistered. Warnings only: the files are
still used, as given."""

from __future__ import annotations

import sys
from pathlib import Path

SHOWN = 5  # files named per warning


def audit_healthy_folder(folder: str | Path, role: str, model: str | None = None) -> list[str]:
    """Check every file of `folder` as the app would (`model`: a checkpoint with its own
    applicability model, else the shipped one); print and return the warnings. `role` names
    what the folder is for ("training scans", "calibration scans")."""
    from assistant.commands.detect import domain_model_dir
    from assistant.detector.data import list_scans
    from assistant.domain import check_applicability
    from assistant.scan import ScanError, load_scan

    model_dir = domain_model_dir(model) if model is not None else None
    files = list_scans(folder)
    refused: list[tuple[str, str]] = []
    volumes: list[str] = []
    for path in files:
        try:
            scan = load_scan(path)
        except ScanError:
            continue  # the loader of the folder skips it with its own warning
        if scan.is_volume:
            volumes.append(path.name)
            continue
        verdict = check_applicability(scan, model_dir=model_dir)
        if not verdict.in_domain:
            reason = verdict.reasons[0].split(";")[0] if verdict.reasons else "refused"
            refused.append((path.name, reason))
    warnings = []
    if refused:
        named = "; ".join(f"{name} ({reason})" for name, reason in refused[:SHOWN])
        more = f"; and {len(refused) - SHOWN} more" if len(refused) > SHOWN else ""
        warnings.append(
            f"warning: {len(refused)} of {len(files)} files in {folder} are outside the "
            f"detector's domain by its applicability check, yet are used as healthy {role}: "
            f"{named}{more}. Remove them unless they are healthy axial T1-weighted brain slices."
        )
    if volumes:
        named = ", ".join(volumes[:SHOWN]) + (" ..." if len(volumes) > SHOWN else "")
        warnings.append(
            f"warning: {len(volumes)} file(s) in {folder} are volumes ({named}): a folder of "
            f"{role} reads each at its middle native slice, unregistered and at whatever level "
            "that is; give head volumes with --volumes instead (registered, at every level)."
        )
    for line in warnings:
        print(line, file=sys.stderr)
    return warnings
