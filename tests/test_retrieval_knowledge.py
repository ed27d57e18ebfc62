"""Knowledge corpus (HPO + ICD-10-CM) and the langchain-core adapter."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from retrieval.index import CaseIndex
from retrieval.knowledge import load_corpus
from retrieval.langchain import CaseRetriever


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def small_knowledge_index(corpus):
    wanted = {"HP:0000238", "HP:0025738", "ICD10CM:G35", "ICD10CM:R90.82", "ICD10CM:I63.9"}
    subset = [c for c in corpus if c.id in wanted] + corpus[:40]
    idx = CaseIndex(parts=("text",), min_similarity=0.35)
    idx.add(subset)
    return idx


def test_corpus_has_sources_licenses_and_both_vocabularies(corpus):
    assert len(corpus) > 1000
    ids = {c.id for c in corpus}
    assert {"HP:0000238", "ICD10CM:G35", "ICD10CM:R90.82"} <= ids
    for c in corpus:
        assert c.kind == "knowledge" and c.text and c.source and c.license
    hpo = [c for c in corpus if c.id.startswith("HP:")]
    assert all("Human Phenotype Ontology" in c.source for c in hpo)
    assert len(hpo) > 500 and len(corpus) - len(hpo) > 300


def test_knowledge_is_retrievable_by_text(small_knowledge_index):
    hits = small_knowledge_index.search(text="hydrocephalus", k=3)
    assert hits and hits[0].id == "HP:0000238" and hits[0].kind == "knowledge"
    assert hits[0].license and "hpo" in hits[0].license.lower()
    hits = small_knowledge_index.search(text="multiple sclerosis", k=3)
    assert "ICD10CM:G35" in [h.id for h in hits]
    with pytest.raises(ValueError, match="text="):
        small_knowledge_index.search(findings=[])  # a text-only index


def test_langchain_retriever_returns_documents(small_knowledge_index):
    retriever = CaseRetriever(index=small_knowledge_index, k=2)
    docs = retriever.invoke("ring-enhancing lesion")
    assert docs and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert top.metadata["id"] == "HP:0025738" and top.id == "HP:0025738"
    assert top.metadata["kind"] == "knowledge" and top.metadata["similarity"] > 0.35
    assert "Ring-enhancing" in top.page_content
    assert retriever.invoke("blueberry pancake recipe") == []  # below the minimum similarity
