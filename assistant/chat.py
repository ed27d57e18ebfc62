"""Orchestration: analyse a scan once, then answer any number of questions about it.

    from assistant.chat import Assistant
    from assistant.scan import load_scan

    bot = Assistant()                          # default detector, case library, grounded responder
    state = bot.analyze(load_scan("scan.dcm"))  # detection + retrieval, cached per slice
    for part in bot.ask(state, "Is there an abnormality?"):
        print(part if isinstance(part, str) else part.evidence)   # text chunks, then an Answer

`Assistant.analyze(scan, slice_index)` runs the detector and the retrieval once per scan slice
(cached by the pixel hash and slice) and builds the `Evidence` every responder receives: the
detector's image-level result (D1), its findings (F1..), similar cases (C1..) and knowledge
passages (K1..). `Assistant.ask(state, question, history)` streams the responder's text, with
citations of ids that do not exist removed on the fly, then yields a final `Answer`. Follow-ups
("and how big is it?") are resolved from the history (`assistant.responders.intents`).

The heavy defaults (detector checkpoint, case library, sentence-embedding model) are loaded
lazily, once per process, and shared by every `Assistant`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.detector.result import DetectionResult
from assistant.responders.base import Evidence, EvidenceItem, Message, Responder
from assistant.responders.intents import resolve
from assistant.scan import Scan, ScanError

logger = logging.getLogger(__name__)

_CASE_TEXT_CHARS = 600  # retrieved report text kept per case (it is quoted, never obeyed)


@dataclass
class Answer:
    """The final, structured answer to one question (yielded after the text chunks)."""

    text: str  # the answer with unknown citations removed
    evidence: list[str]  # ids cited in `text`, in order of first citation (all exist)
    removed_ids: list[str]  # ids the responder cited that do not exist (flagged and removed)
    responder: str  # "grounded", "transformers", "openai" (or "guard" for a rule refusal)
    model: str
    prompt_version: str
    intent: str
    timings: dict[str, float] = field(default_factory=dict)  # first_token_s, total_s
    follow_up: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CaseState:
    """Everything computed once per scan slice and reused by every question.

    scan_summary: de-identified summary of the analysed 2D slice (`Scan.summary()` without
        metadata) plus `source_shape`, `slice_index` and `plane` for volumes.
    result: the DetectionResult (None when detection is off).
    hits / knowledge: retrieval results (None-free lists; empty when retrieval is off).
    evidence: the Evidence bundle responders receive.
    scan_hash: SHA-256 of the pixel data, shape and dtype (no metadata).
    """

    scan_hash: str
    slice_index: int | None
    scan_summary: dict
    result: DetectionResult | None
    hits: list[Any]
    knowledge: list[Any]
    evidence: Evidence
    timings: dict[str, float] = field(default_factory=dict)  # detect_s, retrieve_s, total_s


def scan_hash(scan: Scan) -> str:
    """SHA-256 over the pixels (float32, C order), their shape and the spacing; no metadata."""
    h = hashlib.sha256()
    px = np.ascontiguousarray(scan.pixels, dtype=np.float32)
    h.update(str(px.shape).encode())
    h.update(str(scan.spacing).encode())
    h.update(px.tobytes())
    return h.hexdigest()


def heatmap_overlay(
    image01: np.ndarray, anomaly_map: np.ndarray, threshold: float | None
) -> np.ndarray:
    """(H, W, 3) uint8: the grey image with the anomaly map blended in red.

    image01: (H, W) in [0, 1]; anomaly_map: (H, W) >= 0. The red opacity is the map divided by
    twice the pixel threshold (or by its 99th percentile when uncalibrated), clipped to [0, 0.7].
    """
    grey = np.clip(np.asarray(image01, dtype=np.float32), 0.0, 1.0)
    amap = np.asarray(anomaly_map, dtype=np.float32)
    scale = 2.0 * threshold if threshold else float(np.percentile(amap, 99)) or 1.0
    alpha = np.clip(amap / max(scale, 1e-8), 0.0, 0.7)[..., None]  # (H, W, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    red = np.array([1.0, 0.1, 0.0], dtype=np.float32)
    return np.round((rgb * (1 - alpha) + red * alpha) * 255).astype(np.uint8)


# ----------------------------------------------------------------------- shared defaults


@functools.lru_cache(maxsize=1)
def default_detector():
    """The shipped detector checkpoint (`Detector.from_pretrained()`), loaded once."""
    from assistant.detector import Detector

    return Detector.from_pretrained()


@functools.lru_cache(maxsize=1)
def default_index():
    """The default case library with its knowledge corpus, loaded (or built) once."""
    from retrieval.library import default_library

    return default_library()


@functools.lru_cache(maxsize=1)
def default_responder() -> Responder:
    from assistant.responders.grounded import GroundedResponder

    return GroundedResponder()


# ----------------------------------------------------------------------- evidence


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """First present attribute (or key) of `obj` among `names`."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


def _hit_item(hit: Any, eid: str, kind: str) -> EvidenceItem:
    """An EvidenceItem from a retrieval hit (the case text is data, kept short)."""
    case = _get(hit, "case", default=hit)
    parts = [
        _get(case, "findings", default=""),
        _get(case, "impression", default=""),
    ]
    text = " ".join(str(p).strip() for p in parts if p) or str(
        _get(case, "text", "report", "excerpt", default="")
    )
    data = {
        "case_id": str(_get(case, "id", default="")),
        "source": str(_get(case, "source", default="")),
        "license": str(_get(case, "license", default="")),
        "synthetic": bool(_get(case, "synthetic", default=False)),
        "labels": list(_get(case, "labels", default=[]) or []),
        "modality": str(_get(case, "modality", default="")),
    }
    if data["labels"]:
        data["label"] = ", ".join(str(x) for x in data["labels"])
    score = _get(hit, "similarity", "score")
    return EvidenceItem(
        eid, kind, text[:_CASE_TEXT_CHARS], None if score is None else float(score), data
    )  # type: ignore[arg-type]


def build_evidence(
    result: DetectionResult | None,
    scan_summary: dict,
    hits: Iterable[Any] = (),
    knowledge: Iterable[Any] = (),
) -> Evidence:
    """The Evidence bundle: D1 (image-level result), F1.. findings, W1.. weaker regions below
    the image threshold, C1.. cases, K1.. knowledge."""
    items: list[EvidenceItem] = []
    detector_summary: dict = {}
    image = overlay = None
    if result is not None:
        detector_summary = result.summary()
        n = len(result.findings)
        if result.score_threshold is None:
            verdict = "no calibrated threshold (uncalibrated detector)"
        else:
            rel = "above" if result.is_abnormal else "not above"
            verdict = f"{rel} the calibrated threshold {result.score_threshold:.3g}"
        items.append(
            EvidenceItem(
                "D1",
                "detector",
                f"image anomaly score {result.score:.3g}, {verdict}; "
                f"{n} finding(s); {len(result.weak_findings)} weaker region(s) below the image "
                "threshold",
                score=float(result.score),
                data={k: detector_summary[k] for k in ("score", "score_threshold", "is_abnormal")},
            )
        )
        for f in result.findings:
            items.append(EvidenceItem(f.id, "finding", f.describe(), f.confidence, f.to_dict()))
        for f in result.weak_findings:
            text = f"below the image threshold, may be noise or normal variation: {f.describe()}"
            items.append(EvidenceItem(f.id, "weak_finding", text, f.confidence, f.to_dict()))
        image = result.image
        overlay = heatmap_overlay(result.image, result.anomaly_map, result.pixel_threshold)
    items += [_hit_item(h, f"C{i}", "case") for i, h in enumerate(hits, start=1)]
    items += [_hit_item(h, f"K{i}", "knowledge") for i, h in enumerate(knowledge, start=1)]
    return Evidence(items, detector_summary, scan_summary, image=image, overlay=overlay)


def _findings_query(result: DetectionResult) -> str:
    """The text query for a detection result, in the words the library's reports use
    (`retrieval.profile.FindingProfile.describe`)."""
    from retrieval.embedders import profiles_of

    profiles = profiles_of(result)
    if not profiles:
        return "normal brain MRI, no focal lesion"
    return "; ".join(p.describe() for p in profiles)


def _unit(scan2d: Scan) -> np.ndarray:
    """The slice in [0, 1] display units (for image retrieval without a detector)."""
    from assistant.preprocess import to_unit

    return to_unit(scan2d.pixels, window=scan2d.window)


def _summary(scan2d: Scan, full: Scan, slice_index: int | None) -> dict:
    summary = scan2d.summary()
    summary.pop("metadata", None)  # allow-listed already, but nothing free-text goes further
    if full.is_volume:
        summary["source_shape"] = list(full.pixels.shape)
        summary["slice_index"] = slice_index
        summary["plane"] = "axial"
    return summary


# ----------------------------------------------------------------------- citations


class _CitationStream:
    """Removes citations of unknown ids from a text stream as soon as a bracket closes."""

    def __init__(self, evidence: Evidence, hold_chars: int = 24):
        self.evidence = evidence
        self.hold_chars = hold_chars  # an unclosed "[" longer than this is not a citation
        self.pending = ""

    def feed(self, chunk: str) -> str:
        from assistant.prompts import validate_citations

        self.pending += chunk
        cut = len(self.pending)
        start = self.pending.rfind("[")
        if start >= 0 and "]" not in self.pending[start:]:
            if len(self.pending) - start <= self.hold_chars:
                cut = start
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return validate_citations(out, self.evidence).clean_text if out else ""

    def flush(self) -> str:
        from assistant.prompts import validate_citations

        out, self.pending = self.pending, ""
        return validate_citations(out, self.evidence).clean_text if out else ""


def cited_ids(text: str, evidence: Evidence) -> list[str]:
    """Evidence ids cited in `text` ([F1], [F1, C2]), in order of first citation."""
    known = evidence.ids()
    ids = [
        i.strip()
        for group in re.findall(r"\[([A-Z]{1,2}\d+(?:\s*[,;]\s*[A-Z]{1,2}\d+)*)\]", text)
        for i in re.split(r"[,;]", group)
    ]
    return [i for i in dict.fromkeys(ids) if i in known]


def _takes_task(responder: Any) -> bool:
    """Whether `responder.stream` accepts `task=` (the LLM responders do)."""
    import inspect

    try:
        return "task" in inspect.signature(responder.stream).parameters
    except (TypeError, ValueError):
        return False


def _messages(history: Iterable[Any] | None) -> list[Message]:
    """Accept Message objects or {"role", "content"} dicts (e.g. Gradio's chat history)."""
    out: list[Message] = []
    for m in history or []:
        role = m.role if isinstance(m, Message) else m.get("role")
        content = m.content if isinstance(m, Message) else m.get("content")
        if role in ("user", "assistant") and isinstance(content, str):
            out.append(Message(role, content))
    return out


# ----------------------------------------------------------------------- the assistant


class Assistant:
    """Analyse scans and answer questions about them (see the module docstring).

    detector: a `Detector` (default: the shipped checkpoint, loaded on first use).
    index: a case index with knowledge (default: the default library, loaded on first use).
    responder: any `Responder` (default: the offline grounded responder).
    use_detector / use_retrieval: switch detection or retrieval off (ablations, no-image runs).
    audit_log: path of a JSONL audit log (None = no audit log).
    """

    def __init__(
        self,
        detector: Any | None = None,
        index: Any | None = None,
        responder: Responder | None = None,
        use_detector: bool = True,
        use_retrieval: bool = True,
        audit_log: str | Path | None = None,
        cache_size: int = 16,
        k_cases: int = 3,
        k_knowledge: int = 3,
    ):
        self._detector = detector
        self._index = index
        self._responder = responder
        self.use_detector = use_detector
        self.use_retrieval = use_retrieval
        self.audit = None
        if audit_log is not None:
            from assistant.audit import AuditLog

            self.audit = AuditLog(audit_log)
        self.cache_size = cache_size
        self.k_cases = k_cases  # at most this many similar cases (adaptive k may cut)
        self.k_knowledge = k_knowledge
        self._cache: OrderedDict[tuple[str, int | None], CaseState] = OrderedDict()

    @property
    def detector(self):
        if self._detector is None:
            self._detector = default_detector()
        return self._detector

    @property
    def index(self):
        if self._index is None:
            self._index = default_index()
        return self._index

    @property
    def responder(self) -> Responder:
        if self._responder is None:
            self._responder = default_responder()
        return self._responder

    # --- analysis ----------------------------------------------------------------------
    def analyze(self, scan: Scan, slice_index: int | None = None) -> CaseState:
        """Detection and retrieval for one slice of `scan` (cached per scan hash and slice).

        slice_index: axial slice of a volume (None: the detector's choice, else the middle);
        ignored for 2D scans.
        """
        if not isinstance(scan, Scan):
            raise ScanError(
                f"analyze() needs an assistant.scan.Scan, got {type(scan).__name__}; load files "
                "with assistant.scan.load_scan(path)"
            )
        if scan.is_volume and slice_index is not None:
            n = scan.pixels.shape[0]
            if not 0 <= int(slice_index) < n:
                raise ScanError(f"slice {slice_index} is out of range for this volume: 0..{n - 1}")
        key = (scan_hash(scan), None if not scan.is_volume else slice_index)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        t0 = time.perf_counter()
        result = None
        if self.use_detector:
            result = self.detector(scan, slice_index) if scan.is_volume else self.detector(scan)
        t1 = time.perf_counter()
        index = slice_index
        if scan.is_volume:
            if result is not None and result.slice_index is not None:
                index = result.slice_index
            elif index is None:
                index = scan.pixels.shape[0] // 2
        scan2d = scan.slice2d(index) if scan.is_volume else scan
        summary = _summary(scan2d, scan, index)
        hits, knowledge = self._retrieve(scan2d, result) if self.use_retrieval else ([], [])
        t2 = time.perf_counter()
        evidence = build_evidence(result, summary, hits, knowledge)
        state = CaseState(
            scan_hash=key[0],
            slice_index=index if scan.is_volume else None,
            scan_summary=summary,
            result=result,
            hits=list(hits),
            knowledge=list(knowledge),
            evidence=evidence,
            timings={
                "detect_s": t1 - t0,
                "retrieve_s": t2 - t1,
                "total_s": time.perf_counter() - t0,
            },
        )
        self._cache[key] = state
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        logger.info(
            "analysed scan %s slice %s: %d finding(s), %d case(s), %d passage(s) in %.2f s",
            key[0][:12],
            state.slice_index,
            len(evidence.by_kind("finding")),
            len(state.hits),
            len(state.knowledge),
            state.timings["total_s"],
        )
        return state

    def _retrieve(self, scan2d: Scan, result: DetectionResult | None) -> tuple[list, list]:
        """(similar cases, knowledge passages) for this slice and its findings.

        `index` is a `retrieval.CaseIndex` of cases, or a library object with `.cases` and
        `.knowledge` indexes (the default library). Cases are searched with the image, the
        finding profile and the findings text; knowledge with the findings text only.
        """
        library = self.index
        if library is None:
            return [], []
        cases_index = getattr(library, "cases", library)
        knowledge_index = getattr(library, "knowledge", None)
        text = None if result is None else _findings_query(result)
        image = result.image if result is not None else _unit(scan2d)
        given = {"image": image, "text": text, "findings": result}
        parts = getattr(cases_index, "parts", tuple(given))
        hits: list = []
        if cases_index is not None and any(given.get(p) is not None for p in parts):
            query = {p: given[p] for p in ("image", "text", "findings") if p in parts}
            hits = cases_index.search(**query, k=self.k_cases)
        knowledge: list = []
        if knowledge_index is not None and result is not None and result.findings:
            knowledge = knowledge_index.search(text=text, k=self.k_knowledge)
        return list(hits), list(knowledge)

    # --- questions ---------------------------------------------------------------------
    def ask(
        self, state: CaseState, question: str, history: Iterable[Any] | None = None
    ) -> Iterator[str | Answer]:
        """Stream the answer to `question`: text chunks (str), then one final `Answer`.

        history: earlier turns as `Message`s or {"role", "content"} dicts, oldest first.
        Citations of ids that are not in the evidence are removed from the stream and listed
        in `Answer.removed_ids`. Out-of-scope questions caught by an exact rule get the fixed
        refusal whatever the responder.
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is empty; ask something about the scan")
        if len(question) > 4000:
            raise ValueError(f"the question has {len(question)} characters; at most 4000")
        turns = _messages(history)
        evidence = state.evidence
        t0 = time.perf_counter()
        resolved = resolve(question, turns, [i.id for i in evidence.by_kind("finding")])
        responder = self.responder
        name = getattr(responder, "name", type(responder).__name__)
        model = getattr(responder, "model", "")
        version = str(getattr(responder, "prompt_version", ""))
        if resolved.intent == "out_of_scope" and resolved.source == "rule" and name != "grounded":
            from assistant.prompts import load_prompt, refusal_text

            stream: Iterator[str] = iter([" ".join(refusal_text().split())])
            name, model = "guard", "rules"
            version = f"refusal-{load_prompt('refusal').version}"
        elif resolved.intent == "report" and _takes_task(responder):
            # LLM responders draft findings with their own prompt (prompts/draft_findings.md)
            stream = responder.stream(question, evidence, turns, task="draft_findings")
        else:
            stream = responder.stream(question, evidence, turns)
        if not version:
            from assistant.prompts import prompt_versions

            version = ",".join(f"{k}-{v}" for k, v in prompt_versions().items())
        filt = _CitationStream(evidence)
        raw: list[str] = []
        first = None
        for chunk in stream:
            raw.append(chunk)
            out = filt.feed(chunk)
            if out:
                first = first or time.perf_counter()
                yield out
        tail = filt.flush()
        if tail:
            first = first or time.perf_counter()
            yield tail
        from assistant.prompts import validate_citations

        text, removed = validate_citations("".join(raw), evidence)
        end = time.perf_counter()
        answer = Answer(
            text=text.strip(),
            evidence=cited_ids(text, evidence),
            removed_ids=list(removed),
            responder=name,
            model=model,
            prompt_version=version,
            intent=resolved.intent,
            timings={"first_token_s": (first or end) - t0, "total_s": end - t0},
            follow_up=resolved.follow_up,
        )
        if self.audit is not None:
            self.audit.write(
                scan_hash=state.scan_hash,
                slice_index=state.slice_index,
                responder=answer.responder,
                model=answer.model,
                prompt_version=answer.prompt_version,
                intent=answer.intent,
                evidence=answer.evidence,
                removed_ids=answer.removed_ids,
                answer=answer.text,
                timings=answer.timings,
            )
        yield answer

    def answer(
        self, state: CaseState, question: str, history: Iterable[Any] | None = None
    ) -> Answer:
        """`ask` without streaming: the final Answer."""
        final = None
        for part in self.ask(state, question, history):
            if isinstance(part, Answer):
                final = part
        assert final is not None  # ask() always ends with an Answer
        return final

    def report(self, state: CaseState):
        """Draft findings (`assistant.report.DraftReport`) for an analysed slice."""
        from assistant.report import draft_report

        return draft_report(state.evidence, scan_hash=state.scan_hash)
