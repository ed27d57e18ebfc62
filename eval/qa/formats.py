"""Loaders for medical VQA benchmarks in their published formats, into one `QAItem` list.

Accepted formats (`load_benchmark(path, fmt)`):

- ``vqa-rad``: VQA-RAD's ``VQA_RAD Dataset Public.json`` (OSF, Lau et al. 2018) or the derived
  ``trainset.json``/``testset.json``: a JSON list of records with ``qid``, ``image_name``,
  ``question``, ``answer`` (a string or a number), ``answer_type`` (``CLOSED``/``OPEN``) and
  ``question_type`` (``PRES``, ``POS``, ``SIZE``, ``ATTRIB``, ... or several joined by commas,
  e.g. ``"PRES, POS"``). Images live in one folder (``VQA_RAD Image Folder``).
- ``slake``: SLAKE 1.0's ``train.json``/``validation.json``/``test.json``: a JSON list of records
  with ``qid``, ``img_name`` (``xmlab102/source.jpg``, relative to ``imgs/``), ``question``,
  ``answer``, ``q_lang`` (``en``/``zh``; only English is kept), ``answer_type``
  (``CLOSED``/``OPEN``) and ``content_type`` (``Organ``, ``Abnormality``, ``Position``, ...).
- ``pathvqa``: PathVQA's released question/answer files (github.com/UCSD-AI4H/PathVQA). The
  release ships Python pickles, which this loader never opens (unpickling runs arbitrary code);
  it reads the same records as JSON or CSV:
  * ``{split}_qa`` records ``{"image": "test_0001", "question": ..., "answer": ...}``;
  * ``{split}_vqa`` records ``{"img_id", "question_id", "sent", "label": {answer: score},
    "answer_type": "yes/no" | "other", ...}`` (the LXMERT-style files);
  * a CSV with the columns ``image,question,answer`` (optionally ``id``, ``answer_type``).
  Images are ``images/{train,val,test}/{image}.jpg``; `resolve_image` finds them from the id.
- ``jsonl``: one JSON object per line with ``id``, ``image``, ``question``, ``answer`` and
  optionally ``answer_type`` (``CLOSED``/``OPEN``; inferred from yes/no answers otherwise) and
  ``question_type`` (a string or a list of strings).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

AnswerType = Literal["CLOSED", "OPEN"]
FORMATS = ("vqa-rad", "slake", "pathvqa", "jsonl")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".dcm", ".nii", ".nii.gz")
PICKLE_HINT = (
    "pickle files are never loaded (unpickling can run arbitrary code). Convert the file once, "
    'with a Python you trust, e.g. python -c "import json, pickle; json.dump(pickle.load('
    "open('test_qa.pkl', 'rb')), open('test_qa.json', 'w'))\", and pass the .json"
)


@dataclass
class QAItem:
    """One benchmark question about one image.

    id: unique within the benchmark (the data set's own id where it has one).
    image: the image's path relative to the images folder (or a bare id, see `resolve_image`).
    answer_type: "CLOSED" (a fixed set of answers such as yes/no, left/right) or "OPEN".
    question_type: one or more categories (VQA-RAD ``PRES``/``POS``/...; SLAKE content type;
        PathVQA the question word). An item counts towards each of its types.
    meta: other fields of the record (organ, modality, phrase type, ...), kept for reports.
    """

    id: str
    image: str
    question: str
    answer: str
    answer_type: AnswerType
    question_type: tuple[str, ...] = ("OTHER",)
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["question_type"] = list(self.question_type)
        return d


def infer_answer_type(answer: str) -> AnswerType:
    """CLOSED for yes/no answers, OPEN otherwise (the convention of PathVQA and of VQA-RAD's
    yes/no subset) — used only where a record does not say."""
    return "CLOSED" if answer.strip().lower() in ("yes", "no") else "OPEN"


def _answer_type(value: object, answer: str, where: str) -> AnswerType:
    if value is None or str(value).strip() == "":
        return infer_answer_type(answer)
    v = str(value).strip().upper()
    if v in ("CLOSED", "YES/NO", "CLOSE"):
        return "CLOSED"
    if v in ("OPEN", "OTHER", "NUMBER"):
        return "OPEN"
    raise ValueError(
        f"{where}: answer_type {value!r} is not one of CLOSED, OPEN (or yes/no, other)"
    )


def _question_types(value: object) -> tuple[str, ...]:
    """ "PRES, POS" -> ("PRES", "POS"); a list stays a list; empty -> ("OTHER",)."""
    if value is None:
        return ("OTHER",)
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = tuple(dict.fromkeys(str(p).strip().upper() for p in parts if str(p).strip()))
    return out or ("OTHER",)


def _read_json_list(path: Path, what: str) -> list[dict]:
    _refuse_pickle(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path.name} is not valid JSON ({exc}); {what} expects a JSON list"
        ) from None
    if isinstance(data, dict):  # some redistributions wrap the list, e.g. {"data": [...]}
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError(f"{path.name}: {what} expects a JSON list of objects (records)")
    return data


def _refuse_pickle(path: Path) -> None:
    with path.open("rb") as fh:
        first = fh.read(1)
    if path.suffix.lower() in (".pkl", ".pickle") or first == b"\x80":  # pickle protocol >= 2
        raise ValueError(f"{path.name}: {PICKLE_HINT}")


def _require(rec: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in rec or rec[k] is None]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}; present: {sorted(rec)}")


def _text(value: object) -> str:
    """Answers may be numbers in the JSON (VQA-RAD); 2.0 -> "2"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def load_vqa_rad(path: Path) -> list[QAItem]:
    """VQA-RAD JSON (see the module docstring)."""
    items = []
    for i, rec in enumerate(_read_json_list(path, "vqa-rad")):
        where = f"{path.name} record {i}"
        _require(rec, ("qid", "image_name", "question", "answer"), where)
        answer = _text(rec["answer"])
        keep = (
            "image_organ",
            "phrase_type",
            "qid_linked_id",
            "question_relation",
            "evaluation",
            "question_subtype",  # written by eval.anomaly_qa
            "lesion_size",  # written by eval.anomaly_qa
        )
        items.append(
            QAItem(
                id=str(rec["qid"]),
                image=str(rec["image_name"]).strip(),
                question=str(rec["question"]).strip(),
                answer=answer,
                answer_type=_answer_type(rec.get("answer_type"), answer, where),
                question_type=_question_types(rec.get("question_type")),
                meta={k: rec[k] for k in keep if k in rec},
            )
        )
    return items


def load_slake(path: Path) -> list[QAItem]:
    """SLAKE JSON, English questions only (see the module docstring)."""
    items, skipped = [], 0
    for i, rec in enumerate(_read_json_list(path, "slake")):
        where = f"{path.name} record {i}"
        _require(rec, ("qid", "img_name", "question", "answer", "q_lang"), where)
        if str(rec["q_lang"]).strip().lower() != "en":
            skipped += 1
            continue
        answer = _text(rec["answer"])
        items.append(
            QAItem(
                id=str(rec["qid"]),
                image=str(rec["img_name"]).strip(),
                question=str(rec["question"]).strip(),
                answer=answer,
                answer_type=_answer_type(rec.get("answer_type"), answer, where),
                question_type=_question_types(rec.get("content_type")),
                meta={
                    k: rec[k] for k in ("img_id", "location", "modality", "base_type") if k in rec
                },
            )
        )
    logger.info("SLAKE: %d English questions kept, %d other-language skipped", len(items), skipped)
    return items


def pathvqa_question_type(question: str) -> str:
    """PathVQA has no type field: categorise by the question word, as its baseline code reports
    (what, where, how, how many/how much, when, why, who/whose, yes/no, other)."""
    q = question.strip().lower()
    words = q.split()
    if q.startswith(("how many", "how much")):
        return "HOW MANY/HOW MUCH"
    if not words:
        return "OTHER"
    if words[0] in ("who", "whose"):
        return "WHO/WHOSE"
    if words[0] in ("what", "where", "how", "when", "why"):
        return words[0].upper()
    aux = (
        "am",
        "is",
        "are",
        "was",
        "were",
        "have",
        "has",
        "had",
        "does",
        "do",
        "did",
        "can",
        "could",
    )
    if words[0] in aux:
        return "YES/NO"
    return "OTHER"


def _pathvqa_record(rec: dict, i: int, stem: str, where: str) -> QAItem:
    if "sent" in rec or "label" in rec:  # the {split}_vqa records
        _require(rec, ("img_id", "sent", "label"), where)
        label = rec["label"]
        if not isinstance(label, dict) or not label:
            raise ValueError(f"{where}: 'label' must be a non-empty {{answer: score}} object")
        answer = _text(max(label.items(), key=lambda kv: float(kv[1]))[0])
        question, image = str(rec["sent"]).strip(), str(rec["img_id"]).strip()
        qid = str(rec.get("question_id", f"{stem}-{i}"))
    else:  # the {split}_qa records and the CSV rows
        _require(rec, ("image", "question", "answer"), where)
        answer = _text(rec["answer"])
        question, image = str(rec["question"]).strip(), str(rec["image"]).strip()
        qid = str(rec.get("id") or rec.get("question_id") or f"{stem}-{i}")
    return QAItem(
        id=qid,
        image=image,
        question=question,
        answer=answer,
        answer_type=_answer_type(rec.get("answer_type"), answer, where),
        question_type=(pathvqa_question_type(question),),
    )


def load_pathvqa(path: Path) -> list[QAItem]:
    """PathVQA question/answer records as JSON or CSV (see the module docstring)."""
    _refuse_pickle(path)
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            records = list(csv.DictReader(fh))
        if records and not {"image", "question", "answer"} <= set(records[0]):
            raise ValueError(
                f"{path.name}: a PathVQA CSV needs the columns image, question, answer; "
                f"found {sorted(records[0])}"
            )
    else:
        records = _read_json_list(path, "pathvqa")
    return [
        _pathvqa_record(rec, i, path.stem, f"{path.name} record {i}")
        for i, rec in enumerate(records)
    ]


def load_jsonl(path: Path) -> list[QAItem]:
    """Plain JSONL: {"id", "image", "question", "answer", "answer_type"?, "question_type"?}."""
    _refuse_pickle(path)
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} is not valid JSON ({exc})") from None
        if not isinstance(rec, dict):
            raise ValueError(f"{where}: expected a JSON object per line")
        _require(rec, ("id", "image", "question", "answer"), where)
        answer = _text(rec["answer"])
        extra = {"id", "image", "question", "answer", "answer_type", "question_type"}
        items.append(
            QAItem(
                id=str(rec["id"]),
                image=str(rec["image"]).strip(),
                question=str(rec["question"]).strip(),
                answer=answer,
                answer_type=_answer_type(rec.get("answer_type"), answer, where),
                question_type=_question_types(rec.get("question_type")),
                meta={k: v for k, v in rec.items() if k not in extra},
            )
        )
    return items


LOADERS: dict[str, Callable[[Path], list[QAItem]]] = {
    "vqa-rad": load_vqa_rad,
    "slake": load_slake,
    "pathvqa": load_pathvqa,
    "jsonl": load_jsonl,
}


def load_benchmark(path: str | Path, fmt: str) -> list[QAItem]:
    """Load the benchmark file `path` in format `fmt` (one of `FORMATS`).

    Raises ValueError for an unknown format, a missing file, malformed records or duplicate ids.
    """
    if fmt not in LOADERS:
        raise ValueError(f"unknown benchmark format {fmt!r}; accepted: {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"benchmark file not found: {path}")
    items = LOADERS[fmt](path)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{path.name}: duplicate question id {item.id!r}; ids must be unique")
        if not item.question:
            raise ValueError(f"{path.name}: question {item.id!r} is empty")
        seen.add(item.id)
    if not items:
        raise ValueError(f"{path.name}: no questions found (format {fmt})")
    return items


def resolve_image(images_dir: str | Path, name: str) -> Path:
    """The file for an item's `image` under `images_dir`.

    Tries the name as given, then with a known image suffix, then inside a folder named by the
    prefix before the first underscore (PathVQA ids such as ``test_0001`` ->
    ``test/test_0001.jpg``). Raises FileNotFoundError naming what was tried.
    """
    root = Path(images_dir)
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"image name {name!r} must be a path relative to the images folder")
    folders = [root]
    prefix = rel.name.split("_")[0]
    if prefix and prefix != rel.name:
        folders.append(root / prefix)
    tried = []
    for folder in folders:
        for cand in [folder / rel, *(folder / (str(rel) + s) for s in IMAGE_SUFFIXES)]:
            tried.append(cand)
            if cand.is_file():
                return cand
    raise FileNotFoundError(
        f"image {name!r} not found under {root} (tried {', '.join(str(t.relative_to(root)) for t in tried[:4])}, ...)"
    )
