"""Packaging: the wheel that `pip install .` builds holds everything the installed assistant
reads at run time (prompt files, shipped weights, examples)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_prompt_files_link_to_the_top_level_prompts():
    link = ROOT / "assistant" / "prompt_files"
    assert link.is_symlink() and link.resolve() == (ROOT / "prompts").resolve()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # a copy of the sources: setuptools writes build/ and *.egg-info beside them, and a stale
    # build/ could leak deleted files into later wheels
    src = out / "src"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "runs", "build", "data_local", ".whl", "*.egg-info", "__pycache__", "tests"
    )
    shutil.copytree(ROOT, src, ignore=skip, symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run(
        [*cmd, "-w", str(out), str(src)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_wheel_holds_prompts_weights_and_examples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for prompt in ("system", "answer", "draft_findings", "refusal"):
        assert f"assistant/prompt_files/{prompt}.md" in names
    assert "assistant/weights/ixi-t1-128/detector.json" in names
    assert "assistant/examples/examples.json" in names
    assert "assistant/responders/intents/intent_classifier.npz" in names  # the learned reader
    assert not any(n.startswith(("tests/", "prompts/")) for n in names)


def test_installed_copy_reads_its_own_prompts(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import assistant.prompts as p; d = p.prompts_dir(); print(d); "
        "print(p.load_prompt('system').version)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("ASSISTANT_PROMPTS_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, version = proc.stdout.split()
    assert Path(where) == site / "assistant" / "prompt_files"
    assert version == (ROOT / "prompts" / "system.md").read_text().split("version:")[1].split()[0]
