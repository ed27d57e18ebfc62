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


def test_importing_the_detector_never_reaches_the_network():
    """Without HF_HUB_OFFLINE in the environment, importing the package and the detector
    (diffusers, which imports bitsandbytes, which asks the Hub for an optional CPU kernel on
    AVX512-BF16 CPUs) looks up no host and opens no connection, sets HF_HUB_OFFLINE and logs no kernel warning; an
    explicit HF_HUB_OFFLINE=0 is kept."""
    code = (
        "import logging, os, socket\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "calls = []\n"
        "def connect(self, address):\n"
        "    calls.append(address)\n"
        "    raise OSError('no network in this test')\n"
        "def lookup(host, *args, **kwargs):\n"
        "    calls.append(host)\n"
        "    raise OSError('no network in this test')\n"
        "socket.socket.connect = connect\n"
        "socket.getaddrinfo = lookup\n"
        "import assistant\n"
        "from assistant.detector import Detector\n"
        "import transformers\n"
        "print(len(calls), os.environ.get('HF_HUB_OFFLINE'), calls)\n"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["0", "1", "[]"]  # unset before: ['huggingface.co', ...]
    assert "kernels-community" not in run.stderr and "publisher trust" not in run.stderr
    env["HF_HUB_OFFLINE"] = "0"
    code = "import os, assistant\nprint(os.environ['HF_HUB_OFFLINE'])\n"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "0"
