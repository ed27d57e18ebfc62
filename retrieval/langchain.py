"""A langchain-core retriever over a `CaseIndex` (no langchain-community needed).

    retriever = CaseRetriever(index=CaseIndex.load("lib/cases"), k=4)
    docs = retriever.invoke("ring-like lesion with a dark core")

Each `Document` holds the case's findings + impression (or the passage text) as `page_content`
and the `Hit` fields as metadata (id, similarity, kind, source, license, synthetic, image_path,
labels, per-part similarities). Image and findings parts of a query can be fixed on the
retriever (`image=`, `findings=`) so that a chain's text question is combined with the scan.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.hit import Hit
from retrieval.index import CaseIndex


def hit_to_document(hit: Hit) -> Document:
    text = " ".join(t for t in (hit.findings, hit.impression) if t) or hit.excerpt
    if hit.kind == "knowledge":
        text = hit.excerpt or text
    meta = hit.to_dict()
    meta["profile"] = hit.profile or []
    return Document(page_content=text, metadata=meta, id=hit.id)


class CaseRetriever(BaseRetriever):
    """Retrieves similar cases (or knowledge passages) as langchain `Document`s."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: CaseIndex
    k: int = 5
    image: Any = None  # (H, W) array in [0, 1] combined with every text query
    findings: Any = None  # DetectionResult / Findings / FindingProfiles
    weights: dict[str, float] | None = None
    min_similarity: float | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        text = query if "text" in self.index.parts and query.strip() else None
        hits = self.index.search(
            image=self.image if "image" in self.index.parts else None,
            text=text,
            findings=self.findings if "findings" in self.index.parts else None,
            k=self.k,
            weights=self.weights,
            min_similarity=self.min_similarity,
        )
        return [hit_to_document(h) for h in hits]
