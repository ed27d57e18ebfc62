"""The responder contract: what writes the text of an answer.

A responder receives the question, the `Evidence` bundle built by code (never by a model), the
chat history and the question's resolved intent, and streams text chunks. The orchestration
(`assistant.chat.Assistant.ask`) resolves the intent once, picks the task, checks the cited ids
against the evidence and builds the final `Answer`.

    class EchoResponder(Responder):
        name = "echo"

        def stream(self, question, evidence, history=None, task="answer", *, resolved=None):
            yield f"You asked: {question}"

The responders there are, with the names and options the CLI, the app and the evaluation offer,
are listed in `assistant.responders.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from assistant.evidence import Evidence, Message
from assistant.prompts import Task, prompt_versions
from assistant.responders.intents import Resolved


class Responder(ABC):
    """Writes answers from the evidence. Subclasses set `name` and `model`, implement `stream`.

    name: the registry name ("grounded", "transformers", "openai"), written into every Answer
        and audit record.
    model: the model id, local folder or served name ("rules+..." for the grounded responder).
    prompt_version: the versions of the prompts the answer was written with (logged); by
        default those of the prompt files (`assistant.prompts.prompt_versions`).
    writes_own_refusal: True when the responder answers out-of-scope questions itself with a
        fixed refusal; otherwise the orchestration refuses questions an exact rule marks out of
        scope without calling the responder.
    """

    name: ClassVar[str] = ""
    model: str = ""
    writes_own_refusal: ClassVar[bool] = False

    @property
    def prompt_version(self) -> str:
        """e.g. "system-1.1.0,answer-1.0.0,draft_findings-1.0.0,refusal-1.0.0"."""
        return ",".join(f"{k}-{v}" for k, v in prompt_versions().items())

    @abstractmethod
    def stream(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
        *,
        resolved: Resolved | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text chunks (citations are checked by the caller).

        task: "answer" a question, or "draft_findings" (the orchestration asks for a draft when
            the question's intent is "report").
        resolved: the question's intent and target findings, as resolved by the caller
            (`assistant.responders.intents.resolve`); None: resolved here if needed.
        """

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (no secrets) for answers, audit logs and run records."""
        return {"responder": self.name, "model": self.model}
