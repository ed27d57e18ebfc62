"""The default library: synthetic-lesion cases on the MNI152 template plus the knowledge corpus.

`default_library()` opens it from the cache folder (`$SCAN_ASSISTANT_CACHE`, else
`~/.cache/scan-assistant`) and builds it there on first use (about a minute on 2 CPU cores, with
progress bars): `MNI_LEVELS` axial template slices x 6 lesion kinds x 3 sizes x 2 sides + one
normal case per slice, every report marked synthetic, and the ~1,600 knowledge passages of
`retrieval.knowledge`. The same `build_index` path indexes any user manifest.

Layout of a library folder:
    cases/       CaseIndex of the cases (image + text + findings)
    knowledge/   CaseIndex of the knowledge passages (text only)
    data/        images/, masks/ and manifest.jsonl of the generated cases
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from retrieval.cases import Case, ManifestProblem, read_manifest
from retrieval.embedders import TextEmbedder, profiles_of
from retrieval.hit import SearchResult
from retrieval.index import AddReport, CaseIndex

log = logging.getLogger(__name__)

LIBRARY_VERSION = "4"  # bump when the default library's recipe changes (forces a rebuild)
KNOWLEDGE_MIN_SIMILARITY = 0.35  # MiniLM cosine below which a passage is not relevant


def cache_dir() -> Path:
    """`$SCAN_ASSISTANT_CACHE`, else `~/.cache/scan-assistant`."""
    env = os.environ.get("SCAN_ASSISTANT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "scan-assistant"


def default_library_dir() -> Path:
    return cache_dir() / f"library-v{LIBRARY_VERSION}"


@dataclass
class BuildReport:
    """What `build_index` did: problems carry manifest line numbers."""

    out: Path
    problems: list[ManifestProblem]
    added: AddReport
    total: int


def build_index(
    manifest: str | Path | list[Case],
    out: str | Path,
    *,
    index: CaseIndex | None = None,
    parts: tuple[str, ...] | None = None,
    backend: str = "auto",
    progress: bool = True,
) -> BuildReport:
    """Embed the cases of a manifest (or a list of `Case`) into the index at `out`.

    An index already at `out` is extended (ids it holds are skipped); otherwise a new one is
    created (`parts`: default image + text + findings). Broken manifest lines are reported and
    skipped.
    """
    out = Path(out)
    problems: list[ManifestProblem] = []
    if isinstance(manifest, (str, Path)):
        cases, problems = read_manifest(manifest)
    else:
        cases = list(manifest)
    if index is None:
        if (out / "index.json").is_file():
            index = CaseIndex.load(out, mmap=False)
        else:
            index = CaseIndex(parts=parts or ("image", "text", "findings"), backend=backend)
    added = index.add(cases, progress=progress)
    if len(index) == 0:
        raise ValueError(
            "no case could be indexed: "
            + "; ".join([str(p) for p in problems[:5]] + list(added.failed.values())[:5])
        )
    index.save(out)
    return BuildReport(out, problems, added, len(index))


@dataclass
class LibraryResult:
    cases: SearchResult
    knowledge: SearchResult


class Library:
    """The cases index and the knowledge index of one library folder, searched together."""

    def __init__(self, cases: CaseIndex, knowledge: CaseIndex | None, root: Path | None = None):
        self.cases = cases
        self.knowledge = knowledge
        self.root = root

    @classmethod
    def load(cls, root: str | Path, mmap: bool | None = None) -> Library:
        root = Path(root)
        text = TextEmbedder()  # one MiniLM instance for both indexes
        cases = CaseIndex.load(root / "cases", embedders={"text": text}, mmap=mmap)
        knowledge = None
        if (root / "knowledge" / "index.json").is_file():
            knowledge = CaseIndex.load(root / "knowledge", embedders={"text": text}, mmap=mmap)
        return cls(cases, knowledge, root)

    def search(
        self, image=None, text: str | None = None, findings=None, k: int = 5, k_knowledge: int = 3
    ) -> LibraryResult:
        """Similar cases and knowledge passages, by the one rule the chat, the app and
        `assistant index search` share:

        - cases: by whatever of image / text / findings is given (parts the cases index does not
          hold are left out; with none left, no case is searched). Without a text, the findings'
          description (`findings_text`) is the text, in the words the library's reports use.
        - knowledge passages: by the text, else by the findings' description when there is at
          least one finding (a scan without findings has nothing to explain: no passage).

        findings: a `DetectionResult`, a list of `Finding` or of `FindingProfile` ([] = normal).
        """
        described = findings_text(findings)
        query = {"image": image, "text": text or described or None, "findings": findings}
        held = [p for p in self.cases.parts if query[p] is not None]
        if held:
            cases = self.cases.query(**{p: query[p] for p in held}, k=k)
        else:
            parts = ", ".join(self.cases.parts)
            cases = SearchResult([], True, f"nothing to search this case index by ({parts})")
        ktext = text or (described if _has_findings(findings) else "")
        if self.knowledge is not None and ktext:
            knowledge = self.knowledge.query(text=ktext, k=k_knowledge)
        else:
            knowledge = SearchResult([], True, "no text or finding to search the knowledge with")
        return LibraryResult(cases, knowledge)


NORMAL_TEXT = "normal brain MRI, no focal lesion"  # the findings text of a scan without findings


def findings_text(findings) -> str:
    """The findings described in the words of the library's reports
    (`retrieval.profile.FindingProfile.describe`); `NORMAL_TEXT` without findings, "" for None."""
    if findings is None:
        return ""
    profiles = profiles_of(findings)
    if not profiles:
        return NORMAL_TEXT
    return "; ".join(p.describe() for p in profiles)


def _has_findings(findings) -> bool:
    return findings is not None and bool(profiles_of(findings))


def build_default_library(
    out: str | Path | None = None, levels=None, progress: bool = True
) -> Path:
    """Build the default library into `out` (default: `default_library_dir()`).

    Written to a temporary sibling folder and renamed at the end, so an interrupted build never
    leaves a half library behind.
    """
    from retrieval.knowledge import load_corpus
    from retrieval.synthetic import MNI_LEVELS, make_synthetic_cases, template_slices

    out = Path(out) if out is not None else default_library_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".building-", dir=out.parent))
    try:
        slices = template_slices(levels or MNI_LEVELS)
        cases = make_synthetic_cases(slices, tmp / "data", progress=progress)
        text = TextEmbedder()
        idx = CaseIndex(embedders={"text": text})
        build_index(cases, tmp / "cases", index=idx, progress=progress)
        kidx = CaseIndex(
            parts=("text",), embedders={"text": text}, min_similarity=KNOWLEDGE_MIN_SIMILARITY
        )
        build_index(load_corpus(), tmp / "knowledge", index=kidx, progress=progress)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("default library built in %s", out)
    return out


def default_library(build: bool = True, progress: bool = True) -> Library:
    """Open the default library, building it first when it is missing and `build` is True."""
    root = default_library_dir()
    if not (root / "cases" / "index.json").is_file():
        if not build:
            raise FileNotFoundError(
                f"no default library in {root}; build it with `assistant index build --default`"
            )
        log.info("building the default case library in %s (first use, about a minute)", root)
        build_default_library(root, progress=progress)
    return Library.load(root)
