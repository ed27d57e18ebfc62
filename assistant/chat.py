"""The assistant: analyse a scan once, then answer any number of questions about it.

    from assistant.chat import Assistant
    from assistant.scan import load_scan

    bot = Assistant()                          # default detector, case library, grounded responder
    state = bot.analyze(load_scan("scan.dcm"))  # detection + retrieval, cached per slice
    for part in bot.ask(state, "Is there an abnormality?"):
        print(part if isinstance(part, str) else part.evidence)   # text chunks, then an Answer

`Assistant.analyze(scan, slice_index)` is `assistant.analysis.Analyzer.analyze`: detection and
retrieval once per scan slice, and the `Evidence` every responder receives (D1, F1.., W1.., C1..,
K1..). `Assistant.ask(state, question, history)` resolves the question's intent once
(`assistant.responders.intents.resolve`; follow-ups such as "and how big is it?" from the
history), streams the responder's text with citations of ids that do not exist removed on the
fly, then yields a final `Answer`. Questions an exact rule marks out of scope get a fixed refusal
whatever the responder. `assistant.config` builds an Assistant from settings (app, CLI, eval).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.analysis import Analyzer, CaseState
from assistant.audit import AuditLog
from assistant.evidence import Evidence, Message
from assistant.prompts import Task, load_prompt, refusal_text, validate_citations
from assistant.report import DraftReport, draft_report
from assistant.responders.base import Responder
from assistant.responders.grounded import GroundedResponder
from assistant.responders.intents import Resolved, resolve

MAX_QUESTION_CHARS = 4000


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


@functools.lru_cache(maxsize=1)
def default_responder() -> Responder:
    """The offline grounded responder, shared by every Assistant built without one."""
    return GroundedResponder()


# ----------------------------------------------------------------------- citations


class _CitationStream:
    """Removes citations of unknown ids from a text stream as soon as a bracket closes."""

    def __init__(self, evidence: Evidence, hold_chars: int = 24):
        self.evidence = evidence
        self.hold_chars = hold_chars  # an unclosed "[" longer than this is not a citation
        self.pending = ""

    def feed(self, chunk: str) -> str:
        self.pending += chunk
        cut = len(self.pending)
        start = self.pending.rfind("[")
        if start >= 0 and "]" not in self.pending[start:]:
            if len(self.pending) - start <= self.hold_chars:
                cut = start
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return validate_citations(out, self.evidence).clean_text if out else ""

    def flush(self) -> str:
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


def _messages(history: Iterable[Any] | None) -> list[Message]:
    """Accept Message objects or {"role", "content"} dicts (e.g. Gradio's chat history)."""
    out: list[Message] = []
    for m in history or []:
        role = m.role if isinstance(m, Message) else m.get("role")
        content = m.content if isinstance(m, Message) else m.get("content")
        if role in ("user", "assistant") and isinstance(content, str):
            out.append(Message(role, content))
    return out


@dataclass
class _Reply:
    """Who answers one question, and the text stream they answer with."""

    stream: Iterator[str]
    responder: str
    model: str
    prompt_version: str


def _reply(
    responder: Responder, question: str, evidence: Evidence, turns: list[Message], r: Resolved
) -> _Reply:
    """The guard's fixed refusal for a question an exact rule marks out of scope (unless the
    responder writes its own), else the responder's stream: a draft for a "report" question."""
    if r.intent == "out_of_scope" and r.source == "rule" and not responder.writes_own_refusal:
        refusal = " ".join(refusal_text().split())
        version = f"refusal-{load_prompt('refusal').version}"
        return _Reply(iter([refusal]), "guard", "rules", version)
    task: Task = "draft_findings" if r.intent == "report" else "answer"
    stream = responder.stream(question, evidence, turns, task, resolved=r)
    return _Reply(stream, responder.name, responder.model, responder.prompt_version)


# ----------------------------------------------------------------------- the assistant


class Assistant:
    """Analyse scans and answer questions about them (see the module docstring).

    detector: a `Detector` (default: the shipped checkpoint, loaded on first analysis).
    index: a `retrieval.library.Library` or `CaseIndex` (default: the default library, loaded on
        first analysis).
    responder: any `Responder` (default: the offline grounded responder).
    use_detector / use_retrieval: switch detection or retrieval off (ablations, no-image runs).
    audit_log: path of a JSONL audit log (None = no audit log).
    cache_size, k_cases, k_knowledge, check_domain, whole_volume: see
        `assistant.analysis.Analyzer`.
    analyzer: a ready `Analyzer` to share (then leave detector, index and the analysis options
        at their defaults). Nothing is loaded for the analysis until `analyze` is called.
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
        *,
        check_domain: bool = True,
        whole_volume: bool = True,
        analyzer: Analyzer | None = None,
    ):
        analysis = dict(
            detector=detector,
            library=index,
            use_detector=use_detector,
            use_retrieval=use_retrieval,
            cache_size=cache_size,
            k_cases=k_cases,
            k_knowledge=k_knowledge,
            check_domain=check_domain,
            whole_volume=whole_volume,
        )
        if analyzer is not None and (detector is not None or index is not None):
            raise ValueError("give either an analyzer or a detector / index, not both")
        if responder is not None and not isinstance(responder, Responder):
            raise TypeError(
                f"responder must be an assistant.responders.base.Responder, got "
                f"{type(responder).__name__}"
            )
        self._analyzer = analyzer
        self._analysis = analysis
        self._responder = responder
        self.audit = AuditLog(audit_log) if audit_log is not None else None

    @property
    def analyzer(self) -> Analyzer:
        """The Analyzer behind `analyze` (built on first use; it loads its models lazily)."""
        if self._analyzer is None:
            self._analyzer = Analyzer(**self._analysis)
        return self._analyzer

    @property
    def detector(self):
        return self.analyzer.detector

    @property
    def index(self):
        return self.analyzer.library

    @property
    def responder(self) -> Responder:
        if self._responder is None:
            self._responder = default_responder()
        return self._responder

    def analyze(
        self,
        scan,
        slice_index: int | None = None,
        *,
        anyway: bool = False,
        level_mm: float | None = None,
    ) -> CaseState:
        """Applicability check, detection and retrieval for one slice of `scan` (see
        `Analyzer.analyze`; `anyway`: analyse a scan outside the detector's domain, marked
        unreliable; `level_mm`: the analysed level to show a volume's slice at)."""
        return self.analyzer.analyze(scan, slice_index, anyway=anyway, level_mm=level_mm)

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
        if len(question) > MAX_QUESTION_CHARS:
            raise ValueError(
                f"the question has {len(question)} characters; at most {MAX_QUESTION_CHARS}"
            )
        turns = _messages(history)
        evidence = state.evidence
        t0 = time.perf_counter()
        regions = evidence.by_kind("finding") + evidence.by_kind("weak_finding")
        resolved = resolve(question, turns, [i.id for i in regions])
        reply = _reply(self.responder, question, evidence, turns, resolved)
        filt = _CitationStream(evidence)
        raw: list[str] = []
        first = None
        for chunk in reply.stream:
            raw.append(chunk)
            out = filt.feed(chunk)
            if out:
                first = first or time.perf_counter()
                yield out
        tail = filt.flush()
        if tail:
            first = first or time.perf_counter()
            yield tail
        text, removed = validate_citations("".join(raw), evidence)
        end = time.perf_counter()
        answer = Answer(
            text=text.strip(),
            evidence=cited_ids(text, evidence),
            removed_ids=list(removed),
            responder=reply.responder,
            model=reply.model,
            prompt_version=reply.prompt_version,
            intent=resolved.intent,
            timings={"first_token_s": (first or end) - t0, "total_s": end - t0},
            follow_up=resolved.follow_up,
        )
        self._audit(state, answer)
        yield answer

    def _audit(self, state: CaseState, answer: Answer) -> None:
        if self.audit is None:
            return
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

    def report(self, state: CaseState) -> DraftReport:
        """Draft findings (`assistant.report.DraftReport`) for an analysed slice."""
        return draft_report(state.evidence, scan_hash=state.scan_hash)
