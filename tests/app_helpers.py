"""Launch the chat app on tiny models (a tiny random detector, a 3-case library) for tests."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the top level, outside the package
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_library(folder: Path):
    """A Library of 3 synthetic cases (with PNG images) and 2 knowledge passages."""
    from PIL import Image

    from retrieval.cases import Case
    from retrieval.index import CaseIndex
    from retrieval.library import Library
    from retrieval.profile import FindingProfile

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:64, :64]
    disc = ((yy - 32) ** 2 + (xx - 32) ** 2 < 26**2) * 120

    def image(name: str, col: int | None) -> str:
        img = disc.copy()
        if col is not None:
            img[26:36, col : col + 10] = 250
        path = folder / f"{name}.png"
        Image.fromarray(img.astype(np.uint8)).save(path)
        return str(path)

    def profile(side, intensity):
        return [FindingProfile(side, "anterior", "peripheral", intensity, "small")]

    cases = [
        Case(
            "case-left",
            images=[image("case-left", 14)],
            findings="Small hyperintense lesion in the left hemisphere.",
            impression="Synthetic lesion, left.",
            profile=profile("left", "hyperintense"),
            synthetic=True,
            source="test",
        ),
        Case(
            "case-right",
            images=[image("case-right", 40)],
            findings="Small hypointense lesion in the right hemisphere.",
            impression="Synthetic lesion, right.",
            profile=profile("right", "hypointense"),
            synthetic=True,
            source="test",
        ),
        Case(
            "case-normal",
            images=[image("case-normal", None)],
            findings="Normal brain MRI, no focal lesion.",
            profile=[],
            synthetic=True,
            source="test",
        ),
    ]
    cidx = CaseIndex(parts=("text", "findings"), min_similarity=-1.0, max_drop=2.0)
    cidx.add(cases)
    passages = [
        Case("K-hyper", kind="knowledge", text="Hyperintensity: increased signal.", source="t"),
        Case("K-hypo", kind="knowledge", text="Hypointensity: decreased signal.", source="t"),
    ]
    kidx = CaseIndex(
        parts=("text",),
        embedders={"text": cidx.embedders["text"]},
        min_similarity=-1.0,
        max_drop=2.0,
    )
    kidx.add(passages)
    return Library(cidx, kidx)


def launch_tiny_app(folder: Path, retrieval: bool = True):
    """(demo, url) of the app on a tiny detector (+ a tiny library), on a free port."""
    import app
    from assistant.detector.testing import tiny_detector
    from assistant.ui.config import AppConfig

    config = AppConfig(port=free_port(), analysis_concurrency=2, chat_concurrency=4)
    index = tiny_library(folder / "library") if retrieval else None
    demo = app.build_app(detector=tiny_detector(folder), index=index, config=config)
    _, url, _ = app.launch(demo, config, prevent_thread_lock=True, quiet=True)
    return demo, url
