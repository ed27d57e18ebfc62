"""A VLM served elsewhere through an OpenAI-compatible chat-completions API.

Works with vLLM (`vllm serve google/medgemma-4b-it`), TGI, Ollama (`http://localhost:11434/v1`),
llama.cpp's server and OpenAI itself: `POST {base_url}/chat/completions` with the system prompt,
the history and a user turn whose content parts are the text and the images as `data:` URLs;
answers stream as server-sent events (`data: {...}` lines, ended by `data: [DONE]`).

Configuration: `base_url` (default `$OPENAI_BASE_URL`, else `http://localhost:8000/v1`), the model
name (default `$ASSISTANT_MODEL`, else the first model listed by `GET {base_url}/models`) and the
API key from an environment variable (`OPENAI_API_KEY` unless `api_key_env` names another; local
servers usually need none). Connection errors, timeouts, HTTP 429 and 5xx are retried with
exponential backoff (honouring `Retry-After`) as long as no text has been yielded; 401/403/404
and other 4xx fail at once with a message that says what to fix.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import requests

from assistant.evidence import Evidence, Message
from assistant.prompts import ChatPrompt, Task, build_prompt
from assistant.responders.intents import Resolved
from assistant.responders.llm_common import (
    GenerationSettings,
    LLMResponder,
    ResponderError,
    evidence_images,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:8000/v1"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def image_data_url(image: Any) -> str:
    """A PIL image as a `data:image/png;base64,...` URL."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def openai_messages(prompt: ChatPrompt, images: list[Any]) -> list[dict]:
    """Chat-completions messages: system, history, then text + image parts in the last turn."""
    messages: list[dict] = [{"role": "system", "content": prompt.system}]
    messages += [{"role": m.role, "content": m.content} for m in prompt.turns]
    parts: list[dict] = [{"type": "text", "text": prompt.user}]
    parts += [{"type": "image_url", "image_url": {"url": image_data_url(im)}} for im in images]
    return messages + [{"role": "user", "content": parts}]


def _server_message(response: requests.Response) -> str:
    """The server's error message (OpenAI style `{"error": {"message": ...}}`) or raw text."""
    try:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        return str(error.get("message", error) if isinstance(error, dict) else error)[:300]
    except ValueError:
        return response.text[:300]


class OpenAICompatResponder(LLMResponder):
    """Answers with a VLM behind an OpenAI-compatible `/chat/completions` endpoint."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        session: requests.Session | None = None,
        **generation: Any,
    ) -> None:
        """connect_timeout / read_timeout: seconds to connect and between received bytes;
        max_retries: extra attempts after a retryable failure, waiting backoff * 2**attempt s;
        generation: GenerationSettings fields (max_new_tokens, do_sample, temperature, top_p)."""
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        if max_retries < 0 or backoff < 0:
            raise ValueError(f"max_retries and backoff must be >= 0, got {max_retries}, {backoff}")
        self.api_key_env = api_key_env
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.settings = GenerationSettings(**generation)
        self.session = session or requests.Session()
        self.model = model or os.environ.get("ASSISTANT_MODEL") or self._first_model()

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (no key) for answers and audit logs."""
        return {
            "responder": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "generation": asdict(self.settings),
        }

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _request(
        self, method: str, path: str, body: dict | None, stream: bool
    ) -> requests.Response:
        """Send with retries for connection errors, timeouts, 429 and 5xx; raise on other errors."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            wait = self.backoff * 2**attempt
            try:
                response = self.session.request(
                    method,
                    url,
                    json=body,
                    headers=self._headers(),
                    timeout=self.timeout,
                    stream=stream,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUS:
                    self._raise_for(response)
                problem = f"HTTP {response.status_code}: {_server_message(response)}"
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    wait = max(wait, float(retry_after))
                response.close()
            if attempt == self.max_retries:
                raise ResponderError(
                    f"{method} {url} failed after {attempt + 1} attempt(s): {problem}; is the "
                    "server running and reachable (OPENAI_BASE_URL)?"
                )
            logger.warning("%s %s: %s; retrying in %.1f s", method, url, problem, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _raise_for(self, response: requests.Response) -> None:
        status, message = response.status_code, _server_message(response)
        if status in (401, 403):
            hint = (
                f"the server rejected the API key (HTTP {status}): set ${self.api_key_env} "
                "to a valid key for this server"
            )
            if not os.environ.get(self.api_key_env):
                hint += f" (${self.api_key_env} is not set)"
        elif status == 404:
            hint = (
                f"HTTP 404 from {response.url}: check OPENAI_BASE_URL (it usually ends in "
                f"/v1) and the model name {self.model or None!r}"
            )
        else:
            hint = f"HTTP {status} from {response.url}"
        raise ResponderError(f"{hint}; server said: {message}")

    def _first_model(self) -> str:
        response = self._request("GET", "/models", None, stream=False)
        models = [m.get("id") for m in response.json().get("data", []) if m.get("id")]
        if not models:
            raise ResponderError(
                f"{self.base_url}/models lists no model; pass model= (--model or ASSISTANT_MODEL)"
            )
        logger.info("using the server's first model %s", models[0])
        return models[0]

    def _body(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None,
        task: Task,
        stream: bool,
    ) -> dict[str, Any]:
        prompt = build_prompt(question, evidence, history, task)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": openai_messages(prompt, evidence_images(evidence)),
            "max_tokens": self.settings.max_new_tokens,
            "stream": stream,
        }
        if self.settings.do_sample:
            body.update(temperature=self.settings.temperature, top_p=self.settings.top_p)
        else:
            body["temperature"] = 0.0
        return body

    def stream(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
        *,
        resolved: Resolved | None = None,
    ) -> Iterator[str]:
        """Yield answer text chunks from the server's SSE stream (citations not yet validated);
        `resolved` is not needed (the model reads the question itself)."""
        body = self._body(question, evidence, history, task, stream=True)
        response = self._request("POST", "/chat/completions", body, stream=True)
        with response:
            try:
                for line in response.iter_lines(decode_unicode=True):
                    if not line or not line.startswith("data:"):
                        continue  # blank separators, comments (": ping"), event: lines
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if "error" in chunk:
                        raise ResponderError(
                            f"the server reported an error mid-stream: {chunk['error']}"
                        )
                    for choice in chunk.get("choices", []):
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            yield text
            except (requests.ConnectionError, requests.Timeout) as exc:
                # Text was (possibly) yielded already, so a retry would duplicate it.
                raise ResponderError(f"the stream from {self.base_url} broke off: {exc}") from exc
            except json.JSONDecodeError as exc:
                raise ResponderError(f"the server sent a malformed SSE chunk: {exc}") from exc

    def complete(
        self,
        question: str,
        evidence: Evidence,
        history: list[Message] | None = None,
        task: Task = "answer",
    ) -> str:
        """One non-streaming answer (retried as a whole on retryable failures)."""
        body = self._body(question, evidence, history, task, stream=False)
        response = self._request("POST", "/chat/completions", body, stream=False)
        try:
            return response.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ResponderError(
                f"unexpected chat-completions response: {response.text[:300]}"
            ) from exc

    def generate_batch(
        self,
        questions: list[str],
        evidences: list[Evidence],
        histories: list[list[Message]] | None = None,
        task: Task = "answer",
        batch_size: int = 8,
    ) -> list[str]:
        """Answer many questions with sequential requests (the server batches concurrent work,
        so `batch_size` is not used here)."""
        if len(questions) != len(evidences):
            raise ValueError(f"got {len(questions)} questions but {len(evidences)} evidences")
        histories = histories or [[] for _ in questions]
        return [
            self.complete(q, e, h, task).strip()
            for q, e, h in zip(questions, evidences, histories, strict=True)
        ]
