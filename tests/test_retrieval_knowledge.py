"""Knowledge corpus (HPO + ICD-10-CM + the project's own reference notes) and the langchain-core
adapter."""

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
    assert len({c.id for c in corpus}) == len(corpus)
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


# The reference notes written for this project (ids "SA:"): what a focal T1 finding can represent
# and what clarifies it. The grounded responder cites them (answers_context.REFERENCE_NOTES).
NOTES = {
    "SA:focal-t1-hypointense": ("resection cavity", "oedema", "FLAIR", "DWI", "contrast-enhanced"),
    "SA:focal-t1-hyperintense": ("methaemoglobin", "fat", "gadolinium", "pre-contrast T1", "SWI"),
    "SA:focal-lesion-mimics": ("perivascular spaces", "partial-volume", "adjacent slices"),
    "SA:focal-lesion-workup": ("prior imaging", "FLAIR", "ADC", "SWI", "contrast-enhanced T1"),
}
# the ontology passages that compete with the notes for a finding's description
RIVALS = (
    "HP:6001083", "HP:0012749", "HP:0012748", "HP:6000286", "HP:0012752", "HP:0012691",
    "HP:6000416", "HP:0007103", "ICD10CM:I61.0",
)  # fmt: skip


def test_reference_notes_are_written_for_this_project(corpus):
    from assistant.responders.grounded.answers_context import CAN_REPRESENT, REFERENCE_NOTES

    notes = {c.id: c for c in corpus if c.id.startswith("SA:")}
    assert set(notes) == set(NOTES) == set(REFERENCE_NOTES)
    for pid, words in NOTES.items():
        c = notes[pid]
        assert c.source.startswith("written for this project") and "Apache-2.0" in c.license
        assert c.findings and c.impression and c.text.startswith(c.findings)
        for w in words:
            assert w in c.text, (pid, w)
        # the evidence item shows findings + impression, and prompts quote 300 characters of it
        assert len(c.findings) + len(c.impression) < 600
    # what the answers say in general terms is what the notes say
    for pid, statement in CAN_REPRESENT.values():
        for term in ("cyst", "resection cavity", "old infarct", "demyelination", "fat", "melanin"):
            if term in statement:
                assert term in notes[pid].text, (pid, term)


@pytest.mark.parametrize(
    "description, note",
    [
        ("small hypointense lesion in the left cerebral hemisphere, anterior, peripheral",
         "SA:focal-t1-hypointense"),
        ("large hypointense lesion in the right cerebral hemisphere, posterior, deep (central)",
         "SA:focal-t1-hypointense"),
        ("medium hyperintense lesion in the left cerebral hemisphere, mid, peripheral",
         "SA:focal-t1-hyperintense"),
        ("large hyperintense lesion in the midline, mid, deep (central)",
         "SA:focal-t1-hyperintense"),
        ("small hypointense lesion in the midline, mid, deep (central)", "SA:focal-lesion-mimics"),
    ],
)  # fmt: skip
def test_a_findings_description_retrieves_its_note(corpus, notes_index, description, note):
    """The analysis searches the knowledge by the findings' description (`findings_text`) and
    keeps the top 3: the note for the finding's intensity must be among them."""
    hits = notes_index.search(text=description, k=3)
    assert note in [h.id for h in hits], [(h.id, round(h.similarity, 3)) for h in hits]


@pytest.fixture(scope="module")
def notes_index(corpus):
    wanted = set(NOTES) | set(RIVALS)
    idx = CaseIndex(parts=("text",), min_similarity=0.35)
    idx.add([c for c in corpus if c.id in wanted])
    return idx


def test_rebuilding_the_corpus_keeps_the_projects_reference_notes():
    from retrieval.knowledge import load_corpus, note_passages

    notes = {c.id for c in note_passages()}
    assert notes and all(n.startswith("SA:") for n in notes)
    assert notes <= {c.id for c in load_corpus()}
