"""What the commands say about a detector setting the checkpoint has no thresholds for (shared by
`detect` and `ask`/`chat`/`report`, which import each other's helpers otherwise)."""

from __future__ import annotations


def missing_thresholds(detector) -> str | None:
    """What to say when `detector`'s method/preset has no thresholds in a checkpoint calibrated
    for others ("no thresholds for thor/reference in this checkpoint (calibrated: thor/faster,
    ...): ..."); None when it has them, or when the checkpoint has none at all (uncalibrated:
    the commands say so after the run)."""
    config = getattr(getattr(detector, "model", None), "config", None)
    calibration = getattr(config, "calibration", None) or {}
    if not calibration or detector.key in calibration:
        return None
    keys = list(dict.fromkeys(k.split("+")[0] for k in calibration))  # "+volume" etc. folded
    own = detector.method.name + "/"
    keys.sort(key=lambda k: not k.startswith(own))  # the same method's presets first
    return (
        f"no thresholds for {detector.key} in this checkpoint (calibrated: {', '.join(keys)}): "
        "its anomaly map is made, but no region is marked and the scan is called neither "
        "normal nor abnormal; choose a calibrated preset for findings"
    )
