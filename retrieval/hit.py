"""What a search returns: `Hit` (one retrieved case or passage) and `SearchResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

NO_MATCH_MESSAGE = "no similar case found"


@dataclass
class Hit:
    """One retrieved entry; `similarity` is the weighted cosine in [-1, 1] (see `CaseIndex`)."""

    id: str
    similarity: float
    kind: Literal["case", "knowledge"] = "case"
    findings: str = ""
    impression: str = ""
    excerpt: str = ""  # the start of the report (or passage), for display and prompts
    labels: list[str] = field(default_factory=list)
    synthetic: bool = False
    source: str = ""
    license: str = ""
    image_path: str | None = None
    modality: str = ""
    parts: dict[str, float] = field(default_factory=dict)  # per-part cosine, e.g. {"image": .8}
    profile: list[dict] | None = None  # the case's finding profiles (FindingProfile dicts)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line for the CLI and for prompts."""
        flag = " [synthetic]" if self.synthetic else ""
        text = self.findings or self.excerpt
        return f"{self.id} ({self.kind}, similarity {self.similarity:.2f}){flag}: {text}"


@dataclass
class SearchResult:
    """Hits plus why there may be none.

    no_match: True when no entry reached the minimum similarity; `message` then says
    "no similar case found" (and `best_similarity` how close the best one came).
    """

    hits: list[Hit]
    no_match: bool = False
    message: str = ""
    best_similarity: float | None = None
    weights: dict[str, float] = field(default_factory=dict)  # the weights actually used

    def to_dict(self) -> dict:
        return asdict(self)
