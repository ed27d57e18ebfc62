"""The OpenAI-compatible responder against a local server speaking chat completions (SSE too)."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from assistant.config import make_responder
from assistant.evidence import Evidence, EvidenceItem, Message
from assistant.prompts import EVIDENCE_BEGIN
from assistant.responders.llm_common import ResponderError
from assistant.responders.openai_compat import OpenAICompatResponder


class FakeServer:
    """A chat-completions server on 127.0.0.1:<free port> that plays scripted replies.

    `script` is a list of actions, one per request (the last one repeats):
    ("stream", [chunks]), ("json", text), ("status", code, message, headers),
    ("sleep", seconds), ("stream_error", message).
    """

    def __init__(self):
        self.script: list[tuple] = [("stream", ["Hello"])]
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, code, body: dict, headers=None):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                server.requests.append(
                    {"method": "GET", "path": self.path, "headers": dict(self.headers)}
                )
                self._send(200, {"object": "list", "data": [{"id": "served-vlm"}, {"id": "other"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "body": body,
                        "headers": dict(self.headers),
                    }
                )
                action = server.script[min(self._n_posts() - 1, len(server.script) - 1)]
                kind = action[0]
                if kind == "sleep":
                    time.sleep(action[1])
                    self._send(200, {"choices": [{"message": {"content": "late"}}]})
                elif kind == "status":
                    self._send(
                        action[1],
                        {"error": {"message": action[2]}},
                        action[3] if len(action) > 3 else None,
                    )
                elif kind == "json":
                    self._send(
                        200, {"choices": [{"message": {"role": "assistant", "content": action[1]}}]}
                    )
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b": keep-alive\n\n")
                    for chunk in action[1] if kind == "stream" else ["partial"]:
                        event = {"choices": [{"index": 0, "delta": {"content": chunk}}]}
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                    if kind == "stream_error":
                        self.wfile.write(f"data: {json.dumps({'error': action[1]})}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")

            def _n_posts(self):
                return sum(r["method"] == "POST" for r in server.requests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.close()


@pytest.fixture
def evidence() -> Evidence:
    return Evidence(
        items=[EvidenceItem("F1", "finding", "F1: hyperintense region, left", 0.8)],
        detector_summary={"score": 0.5, "score_threshold": 0.3, "is_abnormal": True},
        scan_summary={"modality": "MR", "PatientName": "Doe^Jane"},
        image=np.linspace(0, 1, 12 * 10, dtype=np.float32).reshape(12, 10),
        overlay=np.full((12, 10, 3), 200, np.uint8),
    )


def responder(server, **kwargs) -> OpenAICompatResponder:
    kwargs = {"model": "served-vlm", "base_url": server.url, "backoff": 0.01, **kwargs}
    return OpenAICompatResponder(**kwargs)


def test_streams_sse_with_images_history_and_key(server, evidence, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server.script = [("stream", ["The region", " is on the left", " [F1]."])]
    history = [Message("user", "Is there a lesion?"), Message("assistant", "Yes [F1].")]
    chunks = list(responder(server, max_new_tokens=50).stream("Which side?", evidence, history))
    assert chunks == ["The region", " is on the left", " [F1]."]
    (request,) = server.posts()
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "served-vlm" and body["stream"] is True
    assert body["max_tokens"] == 50 and body["temperature"] == 0.0
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert body["messages"][2]["content"] == "Yes [F1]."
    text, *images = body["messages"][-1]["content"]
    assert text["type"] == "text" and text["text"].startswith(EVIDENCE_BEGIN)
    assert "Which side?" in text["text"] and "Doe" not in json.dumps(body)
    assert [p["type"] for p in images] == ["image_url", "image_url"]
    url = images[0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size == (10, 12) and decoded.mode == "RGB"
    assert decoded.getpixel((9, 11)) == (255, 255, 255)  # the slice's brightest pixel


def test_complete_batch_and_sampling_settings(server, evidence):
    server.script = [("json", " Left [F1]. ")]
    resp = responder(server, do_sample=True, temperature=0.4, top_p=0.9)
    assert resp.generate_batch(["Which side?", "Where?"], [evidence, evidence]) == [
        "Left [F1].",
        "Left [F1].",
    ]
    body = server.posts()[0]["body"]
    assert body["stream"] is False and body["temperature"] == 0.4 and body["top_p"] == 0.9


def test_no_key_sends_no_authorization(server, evidence, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MY_KEY", "k2")
    list(responder(server).stream("Where?", evidence, []))
    assert "Authorization" not in server.posts()[0]["headers"]
    list(responder(server, api_key_env="MY_KEY").stream("Where?", evidence, []))
    assert server.posts()[1]["headers"]["Authorization"] == "Bearer k2"


def test_retries_5xx_and_429_then_succeeds(server, evidence):
    server.script = [
        ("status", 500, "boom"),
        ("status", 429, "slow down", {"Retry-After": "0"}),
        ("stream", ["ok"]),
    ]
    assert list(responder(server, max_retries=3).stream("Where?", evidence, [])) == ["ok"]
    assert len(server.posts()) == 3


def test_gives_up_after_max_retries(server, evidence):
    server.script = [("status", 503, "overloaded")]
    with pytest.raises(ResponderError, match="after 3 attempt\\(s\\): HTTP 503: overloaded"):
        list(responder(server, max_retries=2).stream("Where?", evidence, []))
    assert len(server.posts()) == 3


def test_401_is_a_clear_error_without_retry(server, evidence, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.script = [("status", 401, "invalid api key")]
    with pytest.raises(ResponderError, match="rejected the API key.*OPENAI_API_KEY is not set"):
        list(responder(server).stream("Where?", evidence, []))
    assert len(server.posts()) == 1


def test_404_names_the_base_url(server, evidence):
    server.script = [("status", 404, "model 'x' not found")]
    with pytest.raises(ResponderError, match="check OPENAI_BASE_URL.*not found"):
        responder(server).complete("Where?", evidence)


def test_read_timeout_is_retried_then_reported(server, evidence):
    server.script = [("sleep", 1.0)]
    start = time.perf_counter()
    with pytest.raises(ResponderError, match="after 2 attempt\\(s\\): ReadTimeout"):
        responder(server, read_timeout=0.2, max_retries=1).complete("Where?", evidence)
    assert time.perf_counter() - start < 1.0  # did not wait for the slow server
    assert len(server.posts()) == 2


def test_timeout_then_success(server, evidence):
    server.script = [("sleep", 1.0), ("json", "fine")]
    assert responder(server, read_timeout=0.3, max_retries=2).complete("Where?", evidence) == "fine"


def test_connection_refused(evidence):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resp = OpenAICompatResponder(
        model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff=0.01
    )
    with pytest.raises(ResponderError, match="ConnectionError.*is the server running"):
        list(resp.stream("Where?", evidence, []))


def test_error_event_mid_stream(server, evidence):
    server.script = [("stream_error", {"message": "context length exceeded"})]
    stream = responder(server).stream("Where?", evidence, [])
    assert next(stream) == "partial"
    with pytest.raises(ResponderError, match="context length exceeded"):
        next(stream)


def test_model_from_env_or_server(server, monkeypatch):
    monkeypatch.delenv("ASSISTANT_MODEL", raising=False)
    assert OpenAICompatResponder(base_url=server.url).model == "served-vlm"
    monkeypatch.setenv("ASSISTANT_MODEL", "medgemma")
    assert OpenAICompatResponder(base_url=server.url).model == "medgemma"
    with pytest.raises(ValueError, match="http://"):
        OpenAICompatResponder(model="m", base_url="localhost:8000")


def test_registry(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("ASSISTANT_RESPONDER", "openai")
    monkeypatch.setenv("ASSISTANT_MODEL", "medgemma")
    resp = make_responder(max_new_tokens=20, read_timeout=5)
    assert (resp.name, resp.model, resp.base_url) == ("openai", "medgemma", server.url)
    assert resp.settings.max_new_tokens == 20 and resp.timeout == (10.0, 5)
    with pytest.raises(ValueError, match="transformers responder only"):
        make_responder("openai", quantization="4bit")
    with pytest.raises(ValueError, match="unknown responder"):
        make_responder("gpt")
    with pytest.raises(ValueError, match="takes no model"):
        make_responder("grounded", model="x")
    monkeypatch.delenv("ASSISTANT_RESPONDER")
    grounded = make_responder()
    assert grounded.name == "grounded"
