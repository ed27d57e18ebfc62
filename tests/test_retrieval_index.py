"""CaseIndex: build, save, load, search, de-duplication, embedder checks, no pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.cases import Case
from retrieval.embedders import EmbedderSpec, FindingEmbedder, TextEmbedder
from retrieval.index import CaseIndex, adaptive_cut
from retrieval.profile import FindingProfile
from retrieval.store import VectorStore


@pytest.fixture(scope="module")
def text_embedder():
    return TextEmbedder()


@pytest.fixture(scope="module")
def tiny_cases(tmp_path_factory):
    """One MNI slice, one normal case + 8 synthetic-lesion cases."""
    from retrieval.synthetic import make_synthetic_cases, template_slices

    out = tmp_path_factory.mktemp("cases")
    return make_synthetic_cases(template_slices([95]), out, per_slice=8, seed=1)


@pytest.fixture(scope="module")
def saved_index(tiny_cases, text_embedder, tmp_path_factory):
    idx = CaseIndex(embedders={"text": text_embedder})
    report = idx.add(tiny_cases)
    assert report.added == len(tiny_cases) and not report.failed
    return idx.save(tmp_path_factory.mktemp("index") / "idx")


def _image(case: Case) -> np.ndarray:
    from assistant.synth import load_image01

    return load_image01(case.images[0])


def test_build_save_load_search(saved_index, tiny_cases, text_embedder):
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder})
    assert len(idx) == len(tiny_cases) and idx.store.kind == "flat"
    q = tiny_cases[3]
    hits = idx.search(image=_image(q), text=q.embed_text, findings=q.profile, k=5, adaptive=False)
    assert hits[0].id == q.id
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-3)  # same image, text and profile
    assert hits[0].parts["image"] == pytest.approx(1.0, abs=1e-3)
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True) and len(hits) == 5
    assert hits[0].synthetic and "SYNTHETIC" in hits[0].excerpt
    assert Path(hits[0].image_path).is_file()  # relative paths resolved against the index


def test_weights_combine_parts_exactly(saved_index, tiny_cases, text_embedder):
    """similarity = sum_p w_p cos_p / W, with the per-part cosines reported on the hit."""
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder})
    q = tiny_cases[5]
    w = {"image": 1.0, "text": 2.0, "findings": 1.0}
    res = idx.query(image=_image(q), text="dark lesion", findings=q.profile, k=9, weights=w,
                    adaptive=False, min_similarity=-1)  # fmt: skip
    assert res.weights == pytest.approx({"image": 0.25, "text": 0.5, "findings": 0.25})
    for h in res.hits:
        expect = sum(res.weights[p] * h.parts.get(p, 0.0) for p in res.weights)
        assert h.similarity == pytest.approx(expect, abs=2e-3)


def test_findings_only_query_ranks_same_profile_first(saved_index, tiny_cases, text_embedder):
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder})
    normal = [c for c in tiny_cases if c.profile == []][0]
    hits = idx.search(findings=[], k=3, adaptive=False, min_similarity=0.5)
    assert [h.id for h in hits] == [normal.id]  # a normal query finds the normal case only
    prof = tiny_cases[2].profile[0]
    hits = idx.search(findings=[prof], k=9, adaptive=False, min_similarity=-1)
    top = FindingProfile.from_dict(hits[0].profile[0])
    assert (top.side, top.intensity) == (prof.side, prof.intensity)


def test_min_similarity_and_adaptive_k(saved_index, text_embedder):
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder})
    res = idx.query(text="recipe for blueberry pancakes", k=5)
    assert res.hits == [] and res.no_match and "no similar case found" in res.message
    assert res.best_similarity is not None and res.best_similarity < idx.min_similarity
    assert idx.search(text="recipe for blueberry pancakes") == []
    assert adaptive_cut([0.9, 0.88, 0.85, 0.6, 0.58], 0.1) == [0.9, 0.88, 0.85]
    assert adaptive_cut([0.9, 0.85, 0.8], 0.1) == [0.9, 0.85, 0.8]
    full = idx.search(findings=[], k=5, adaptive=False, min_similarity=-1)
    cut = idx.search(findings=[], k=5, adaptive=True, min_similarity=-1)
    # normal case at 1.0, all lesion cases at 0.0 for a normal query: cut after the first
    assert len(full) == 5 and [h.id for h in cut] == [full[0].id]


def test_mismatched_embedder_is_refused(saved_index):
    class OtherText(TextEmbedder):
        def __init__(self):
            super().__init__()
            self.name = "some-other-model"

        @property
        def spec(self):
            return EmbedderSpec("text", self.name, self.version, 384)

    with pytest.raises(ValueError, match="query with the index's embedder"):
        CaseIndex.load(saved_index, embedders={"text": OtherText()})


def test_changed_embedder_version_is_refused_at_query(saved_index, tmp_path, text_embedder):
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(saved_index, copy)
    meta = json.loads((copy / "index.json").read_text())
    meta["embedders"]["findings"]["version"] = "0"
    (copy / "index.json").write_text(json.dumps(meta))
    idx = CaseIndex.load(copy, embedders={"text": text_embedder})
    with pytest.raises(ValueError, match="finding-profile"):
        idx.search(findings=[])


def test_incremental_add_deduplicates_by_id(saved_index, tiny_cases, text_embedder, tmp_path):
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder}, mmap=False)
    n = len(idx)
    again = idx.add(tiny_cases[:3])
    assert again.added == 0 and again.duplicates == [c.id for c in tiny_cases[:3]]
    extra = Case(id="note-1", findings="Small hyperintense focus in the left frontal lobe.")
    assert idx.add([extra, extra]).added == 1
    idx.save(tmp_path / "grown")
    grown = CaseIndex.load(tmp_path / "grown", embedders={"text": text_embedder})
    assert len(grown) == n + 1 and "note-1" in grown
    hits = grown.search(text="hyperintense focus left frontal lobe", k=1)
    assert hits[0].id == "note-1" and "image" not in hits[0].parts


def test_saved_index_has_no_pickle(saved_index):
    names = sorted(p.name for p in Path(saved_index).iterdir())
    assert names == ["cases.parquet", "index.faiss", "index.json"]
    for p in Path(saved_index).iterdir():
        head = p.read_bytes()[:2]
        assert not (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"), p
    assert (Path(saved_index) / "cases.parquet").read_bytes()[:4] == b"PAR1"


def test_mmap_load_searches_but_refuses_add(saved_index, text_embedder):
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder}, mmap=True)
    assert idx.store.mmapped and idx.search(findings=[], k=1)
    with pytest.raises(ValueError, match="mmap=False"):
        idx.add([Case(id="x", findings="text")])


def test_backend_auto_switches_to_hnsw_and_overrides():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = VectorStore(16, "auto", hnsw_min=200)
    store.add(x[:150])
    assert store.kind == "flat"
    store.add(x[150:])
    assert store.kind == "hnsw" and store.ntotal == 300
    _, ids = store.search(x[:5], 1)
    assert ids[:, 0].tolist() == [0, 1, 2, 3, 4]
    ivf = VectorStore(16, "ivf")
    ivf.add(x)
    assert ivf.kind == "ivf" and ivf.search(x[7:8], 1)[1][0, 0] == 7
    with pytest.raises(ValueError, match="backend"):
        VectorStore(16, "annoy")


def test_finding_embedder_geometry():
    emb = FindingEmbedder()
    a = FindingProfile("left", "anterior", "central", "hyperintense", "small")
    b = FindingProfile("right", "anterior", "central", "hyperintense", "small")
    c = FindingProfile("left", "posterior", "peripheral", "hyperintense", "large")
    va, vb, vc, vn = (emb.vector([a]), emb.vector([b]), emb.vector([c]), emb.vector([]))
    assert np.linalg.norm(va) == pytest.approx(1.0)
    assert va @ vn == pytest.approx(0.0)  # normal vs any finding
    assert va @ vc > va @ vb  # same side and intensity beats same position, other side
    assert emb.vector([a, b]) @ va > emb.vector([a, b]) @ vb  # the first finding dominates


def test_mask_in_manifest_gives_a_profile(tiny_cases, text_embedder, tmp_path):
    """A user's case with a mask but no profile is profiled from the mask at indexing time."""
    lesion = next(c for c in tiny_cases if c.profile and c.profile[0].side != "midline")
    user = Case(id="u1", images=lesion.images, mask=lesion.mask, findings="a lesion")
    idx = CaseIndex(embedders={"text": text_embedder})
    assert idx.add([user]).added == 1
    prof = FindingProfile.from_dict(idx.rows[0]["profile"][0])
    assert prof.side == lesion.profile[0].side
    assert prof.anterior_posterior == lesion.profile[0].anterior_posterior


def test_detection_result_findings_are_accepted(saved_index, text_embedder):
    from assistant.detector.result import DetectionResult
    from assistant.findings import Finding

    f = Finding(id="F1", area_px=300, area_mm2=None, bbox=(10, 10, 30, 30), centroid=(20, 20),
                side="left", side_frame="image", anterior_posterior="anterior",
                central_peripheral="peripheral", intensity="hypointense", intensity_delta=-0.3,
                peak_anomaly=0.5, mean_anomaly=0.3, confidence=0.9)  # fmt: skip
    z = np.zeros((233, 197), np.float32)
    result = DetectionResult(z, z, z, z > 0, z > 0, 1.0, 0.5, 0.1, findings=[f])
    idx = CaseIndex.load(saved_index, embedders={"text": text_embedder})
    hits = idx.search(findings=result, k=3, adaptive=False, min_similarity=-1)
    assert hits and all(h.parts.keys() == {"findings"} for h in hits)
    with pytest.raises(ValueError, match="DetectionResult"):
        idx.search(findings=["left lesion"])


def test_a_case_id_names_the_side_its_text_gives(tiny_cases):
    """A CLI trial found `...-large-right` whose text read "left cerebral hemisphere": the id had
    the side the synthesiser was asked for, the text the lesion's measured side."""
    lesions = [c for c in tiny_cases if not c.id.endswith("normal")]
    assert lesions and len({c.id for c in tiny_cases}) == len(tiny_cases)
    for c in lesions:
        side = c.profile[0].side
        assert f"-{side}" in c.id and side in c.impression, (c.id, c.impression)
