"""Evaluation and benchmark scripts (`python -m eval.<name>`)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def portable_path(path: str | os.PathLike) -> str:
    """`path` as it should be stored in a results file: relative to the project root when it
    lies inside it or in the `shared/` folder beside it (../shared/data), otherwise as given, so
    that committed figures do not carry this machine's absolute paths."""
    p = Path(path).resolve()
    for base, prefix in ((ROOT, ""), (ROOT.parent / "shared", "../shared/")):
        try:
            return prefix + p.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def write_figures(path: str | os.PathLike, figures: dict) -> None:
    """Write an evaluation's figures as indented JSON (creating the folder) and print them."""
    import json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def photo_paths() -> list[Path]:
    """scikit-image's bundled sample images (photographs, drawings, a phantom): inputs that are
    not scans, available offline."""
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def pydicom_test_scans():
    """(file name, `Scan`) of each of pydicom's bundled test files (offline) that loads."""
    from pydicom.data import get_testdata_files

    from assistant.scan import ScanError, load_scan

    for path in get_testdata_files():
        if not path.lower().endswith(".dcm"):
            continue
        try:
            scan = load_scan(path)
        except (ScanError, OSError):
            continue
        yield Path(path).name, scan
