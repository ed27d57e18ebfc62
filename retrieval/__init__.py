"""Case library and retrieval: embeddings (image, text, finding profile), FAISS index, knowledge
corpus and a langchain-core retriever. See docs/retrieval.md.

    from retrieval import CaseIndex, default_library
    hits = CaseIndex.load("my-index").search(image=img01, text="...", k=5)
    result = default_library().search(image=img01, findings=detection_result, text=question)
"""

from retrieval.cases import Case, ManifestProblem, read_manifest
from retrieval.hit import NO_MATCH_MESSAGE, Hit, SearchResult
from retrieval.index import CaseIndex
from retrieval.library import Library, build_default_library, build_index, default_library
from retrieval.profile import FindingProfile

__all__ = [
    "NO_MATCH_MESSAGE",
    "Case",
    "CaseIndex",
    "FindingProfile",
    "Hit",
    "Library",
    "ManifestProblem",
    "SearchResult",
    "build_default_library",
    "build_index",
    "default_library",
    "read_manifest",
]
