"""Offline example scans for the app and the docs (MNI152 template + synthetic lesions).

Rebuild with `python -m assistant.examples.build`; `examples.json` holds each example's truth
(lesion kind, image side, size bin). All of them are synthetic: no real patient.
"""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent
SUFFIXES = (".png", ".dcm", ".nii.gz")


def example_paths() -> list[Path]:
    """The example files (PNG, DICOM, NIfTI), in a stable order; [] when not built."""
    return sorted(p for p in EXAMPLES_DIR.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))


def example_truth() -> dict[str, dict]:
    """{file name: truth dict} from examples.json ({} when not built)."""
    path = EXAMPLES_DIR / "examples.json"
    return json.loads(path.read_text()) if path.is_file() else {}
