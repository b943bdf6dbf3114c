"""A real local HTTP server that speaks the OpenAI chat API, with scripted faults.

Used by opto's fault-injection tests and overhead benchmarks; handy for testing your own code's
behaviour against a flaky server without a model. Faults are consumed one per request, in order;
when none are queued the server answers normally.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FaultKind = Literal["status", "hang", "truncated", "non_json", "bad_json", "no_choices"]


@dataclasses.dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour. Build with the classmethods."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0

    @classmethod
    def http(cls, status: int, retry_after: float | str | None = None) -> Fault:
        return cls("status", status=status, retry_after=None if retry_after is None else str(retry_after))

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncated")

    @classmethod
    def non_json(cls) -> Fault:
        return cls("non_json")

    @classmethod
    def bad_json(cls) -> Fault:
        return cls("bad_json")

    @classmethod
    def no_choices(cls) -> Fault:
        return cls("no_choices")


def completion_body(text: str, model: str = "stub", prompt_tokens: int = 5, completion_tokens: int = 3) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class StubServer:
    """``with StubServer(reply="hi") as s: OpenAICompatible("m", base_url=s.base_url)``.

    reply: the text, or a function of the request body. latency_s: delay before every answer.
    reject_json_schema: answer this status (e.g. 422, or 500 like llama-cpp-python) to
    ``response_format.type == "json_schema"``; None accepts it.
    ``bodies`` records each request body; headers are not kept (they carry the API key).
    """

    def __init__(
        self,
        reply: str | Callable[[dict], str] = "ok",
        latency_s: float = 0.0,
        reject_json_schema: int | None = None,
    ) -> None:
        self.reply = reply
        self.latency_s = latency_s
        self.reject_json_schema = reject_json_schema
        self.faults: deque[Fault] = deque()
        self.bodies: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def queue(self, *faults: Fault) -> StubServer:
        with self._lock:
            self.faults.extend(faults)
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the StubServer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> StubServer:
        stub = self

        class Handler(_Handler):
            owner = stub

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits ~40 ms for the client's
    # delayed ACK, which would swamp the overheads the benchmarks measure.
    disable_nagle_algorithm = True
    owner: StubServer

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            body = {"object": "list", "data": [{"id": "stub", "object": "model", "created": 0, "owned_by": "opto"}]}
            self._send(200, json.dumps(body).encode())
        else:
            self._send(404, b'{"error": {"message": "not found"}}')

    def do_POST(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        with owner._lock:
            owner.bodies.append(body)
        fault = owner._next_fault()
        if owner.latency_s:
            time.sleep(owner.latency_s)
        if fault is not None and fault.kind == "hang":
            owner._stop.wait(fault.seconds)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            msg = json.dumps({"error": {"message": f"stub fault {fault.status}", "type": "stub"}}).encode()
            self._send(fault.status, msg, headers=headers)
            return
        if fault is not None and fault.kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl-stub", "choi')
            self.wfile.flush()
            self.close_connection = True
            return
        if fault is not None and fault.kind == "non_json":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", ctype="text/html")
            return
        if fault is not None and fault.kind == "bad_json":
            self._send(200, b'{"id": "chatcmpl-stub", "choices": [')
            return
        if fault is not None and fault.kind == "no_choices":
            self._send(200, json.dumps({**completion_body(""), "choices": []}).encode())
            return
        fmt = body.get("response_format") or {}
        if owner.reject_json_schema is not None and fmt.get("type") == "json_schema":
            detail = {"detail": [{"loc": ["body", "response_format", "type"], "msg": "Input should be 'text' or 'json_object'"}]}
            self._send(owner.reject_json_schema, json.dumps(detail).encode())
            return
        text = owner.reply(body) if callable(owner.reply) else owner.reply
        self._send(200, json.dumps(completion_body(text, model=body.get("model", "stub"))).encode())
