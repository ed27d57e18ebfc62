"""The default library: built from the MNI template + knowledge corpus, found without arguments."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_default_library_builds_on_first_use(tmp_path, monkeypatch):
    from retrieval import library

    monkeypatch.setenv("SCAN_ASSISTANT_CACHE", str(tmp_path))
    monkeypatch.setattr("retrieval.synthetic.MNI_LEVELS", (95,))
    lib = library.default_library(progress=False)
    assert library.default_library_dir().parent == tmp_path
    assert len(lib.cases) == 37 and len(lib.knowledge) > 1000  # 36 lesions + 1 normal
    res = lib.search(text="ring-like lesion with a bright rim and a dark core", k=3)
    assert res.cases.hits and "ring" in res.cases.hits[0].id
    assert all(h.synthetic for h in res.cases.hits if "normal" not in h.id)
    assert res.knowledge.hits and res.knowledge.hits[0].kind == "knowledge"
    again = library.default_library(build=False)  # found without building
    assert len(again.cases) == len(lib.cases)
