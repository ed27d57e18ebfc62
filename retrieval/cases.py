"""The case manifest: one case per line of a JSONL file or per row of a CSV file.

Fields (only `id` and at least one of `image` / `findings` / `impression` / `text` are required):

| field        | type                  | meaning                                                    |
|--------------|-----------------------|------------------------------------------------------------|
| id           | str                   | unique case id (a later duplicate is skipped)              |
| image        | str                   | image path (any format `assistant.scan.load_scan` reads);  |
|              |                       | relative paths are relative to the manifest's folder       |
| images       | list[str] / "a;b"     | several images (their embeddings are averaged)             |
| mask         | str                   | optional lesion mask (non-zero = lesion) -> finding profile|
| modality     | str                   | e.g. "MR", "CT" (default "OT")                             |
| findings     | str                   | findings text of the report                                |
| impression   | str                   | impression / conclusion                                    |
| report       | str                   | full report text (optional; excerpts are shown)            |
| text         | str                   | free text (knowledge passages)                             |
| labels       | list[str] / "a;b"     | diagnosis labels                                           |
| profile      | list[dict] / JSON     | finding profiles (`retrieval.profile.FindingProfile` keys)  |
| normal       | bool                  | true for a normal scan (empty profile)                     |
| source       | str                   | where the case comes from                                  |
| license      | str                   | its licence                                                |
| synthetic    | bool                  | true for generated cases                                   |
| kind         | "case" / "knowledge"  | default "case"                                             |

Broken lines (bad JSON, missing id, a type error, an image or mask path that does not exist) are
collected as `ManifestProblem`s with their line numbers; the rest are returned.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.profile import FindingProfile

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


@dataclass
class Case:
    """One entry of the library (a case or a knowledge passage)."""

    id: str
    images: list[str] = field(default_factory=list)  # absolute paths
    mask: str | None = None
    modality: str = "OT"
    findings: str = ""
    impression: str = ""
    report: str = ""
    text: str = ""
    labels: list[str] = field(default_factory=list)
    profile: list[FindingProfile] | None = None  # None = unknown, [] = normal scan
    source: str = ""
    license: str = ""
    synthetic: bool = False
    kind: str = "case"

    @property
    def embed_text(self) -> str:
        """The text the text embedder sees."""
        parts = [self.findings, self.impression] if (self.findings or self.impression) else []
        if not parts:
            parts = [self.text or self.report]
        return " ".join(p.strip() for p in parts if p and p.strip())

    def to_row(self) -> dict:
        d = asdict(self)
        d["profile"] = None if self.profile is None else [p.to_dict() for p in self.profile]
        return d

    @classmethod
    def from_row(cls, d: dict) -> Case:
        d = dict(d)
        prof = d.get("profile")
        d["profile"] = None if prof is None else [FindingProfile.from_dict(p) for p in prof]
        d["images"] = list(d.get("images") or [])
        d["labels"] = list(d.get("labels") or [])
        return cls(**d)


@dataclass
class ManifestProblem:
    line: int  # 1-based line number in the file (CSV: the header is line 1)
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_manifest(path: str | Path) -> tuple[list[Case], list[ManifestProblem]]:
    """Parse a JSONL (`.jsonl`, `.json`) or CSV (`.csv`) manifest.

    Returns (cases, problems). Raises FileNotFoundError for a missing file and ValueError for an
    unknown suffix; everything line-level is a `ManifestProblem`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"case manifest not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _jsonl_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise ValueError(f"case manifest {path.name}: use a .jsonl or .csv file, not {suffix!r}")
    cases, problems, seen = [], [], set()
    for line, row in rows:
        if isinstance(row, ManifestProblem):
            problems.append(row)
            continue
        try:
            case = parse_case(row, base=path.parent)
        except (ValueError, TypeError) as exc:
            problems.append(ManifestProblem(line, str(exc)))
            continue
        if case.id in seen:
            problems.append(ManifestProblem(line, f"duplicate id {case.id!r}; skipped"))
            continue
        seen.add(case.id)
        cases.append(case)
    for p in problems:
        log.warning("%s: %s", path.name, p)
    return cases, problems


def _jsonl_rows(path: Path):
    with open(path, encoding="utf-8") as fh:
        for i, raw in enumerate(fh, start=1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield i, ManifestProblem(i, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(row, dict):
                yield i, ManifestProblem(i, f"expected a JSON object, got {type(row).__name__}")
                continue
            yield i, row


def _csv_rows(path: Path):
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            line = reader.line_num
            if None in row:
                yield line, ManifestProblem(line, "more fields than the header has")
                continue
            yield line, {k: v for k, v in row.items() if v not in (None, "")}


def _str(row: dict, key: str, default: str = "") -> str:
    v = row.get(key, default)
    if v is None:
        return default
    if not isinstance(v, (str, int, float)):
        raise ValueError(f"field {key!r} must be text, got {type(v).__name__}")
    return str(v)


def _list(row: dict, key: str) -> list[str]:
    v = row.get(key)
    if v is None or v == "":
        return []
    if isinstance(v, str):
        return [s.strip() for s in v.split(";") if s.strip()]
    if isinstance(v, list) and all(isinstance(s, str) for s in v):
        return list(v)
    raise ValueError(f"field {key!r} must be a list of strings or 'a;b' text, got {v!r}")


def _bool(row: dict, key: str) -> bool:
    v = row.get(key, False)
    if isinstance(v, bool):
        return v
    if str(v).strip().lower() in _TRUE:
        return True
    if str(v).strip().lower() in _FALSE:
        return False
    raise ValueError(f"field {key!r} must be true/false, got {v!r}")


def _path(base: Path, p: str, what: str) -> str:
    full = (base / p).expanduser() if not Path(p).expanduser().is_absolute() else Path(p)
    full = full.expanduser().resolve()
    if not full.is_file():
        raise ValueError(f"{what} not found: {p} (looked for {full})")
    return str(full)


def parse_case(row: dict, base: Path) -> Case:
    """One manifest row (dict) -> `Case`; raises ValueError naming the broken field."""
    cid = _str(row, "id").strip()
    if not cid:
        raise ValueError("missing 'id'")
    kind = _str(row, "kind", "case")
    if kind not in ("case", "knowledge"):
        raise ValueError(f"kind must be 'case' or 'knowledge', got {kind!r}")
    images = _list(row, "images") + ([_str(row, "image")] if row.get("image") else [])
    images = [_path(base, p, "image") for p in images]
    mask = _path(base, _str(row, "mask"), "mask") if row.get("mask") else None
    profile = _profile(row)
    case = Case(
        id=cid,
        images=images,
        mask=mask,
        modality=_str(row, "modality", "OT"),
        findings=_str(row, "findings"),
        impression=_str(row, "impression"),
        report=_str(row, "report"),
        text=_str(row, "text"),
        labels=_list(row, "labels"),
        profile=profile,
        source=_str(row, "source"),
        license=_str(row, "license"),
        synthetic=_bool(row, "synthetic"),
        kind=kind,
    )
    if not case.images and not case.embed_text:
        raise ValueError("a case needs an image or some text (findings, impression, report, text)")
    return case


def _profile(row: dict) -> list[FindingProfile] | None:
    if _bool(row, "normal"):
        return []
    prof = row.get("profile")
    if prof is None or prof == "":
        return None
    if isinstance(prof, str):
        try:
            prof = json.loads(prof)
        except json.JSONDecodeError as exc:
            raise ValueError(f"field 'profile' is not valid JSON ({exc.msg})") from None
    if isinstance(prof, dict):
        prof = [prof]
    if not isinstance(prof, list):
        raise ValueError("field 'profile' must be a list of finding objects")
    return [FindingProfile.from_dict(p) for p in prof]
