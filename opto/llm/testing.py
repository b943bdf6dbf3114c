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

FaultKind = Literal["status", "hang", "truncated", "non_json", "bad_json", "no_choices", "body"]


@dataclasses.dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour. Build with the classmethods."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    raw: str = ""

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

    @classmethod
    def body(cls, raw: str) -> Fault:
        """A 200 JSON answer with exactly this body (e.g. a completion whose usage is ``1e400``)."""
        return cls("body", raw=raw)


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
    ``bodies`` records each request body. Headers are not kept (they carry the API key) unless
    ``record_auth=True``, for tests of where keys go: then ``auth_headers`` lists each Authorization.
    ``max_in_flight`` is the most POSTs the server was answering at once (a concurrency probe).
    """

    def __init__(
        self,
        reply: str | Callable[[dict], str] = "ok",
        latency_s: float = 0.0,
        reject_json_schema: int | None = None,
        record_auth: bool = False,
    ) -> None:
        self.reply = reply
        self.latency_s = latency_s
        self.reject_json_schema = reject_json_schema
        self.record_auth = record_auth
        self.faults: deque[Fault] = deque()
        self.bodies: list[dict] = []
        self.auth_headers: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
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

        server = _Server(("127.0.0.1", 0), Handler)
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


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops simultaneous connects past it when the accept
    # thread is slow to run (a loaded machine); the client then retries only after 1 s.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits ~40 ms for the client's
    # delayed ACK, which would swamp the overheads the benchmarks measure.
    disable_nagle_algorithm = True
    owner: StubServer

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None) -> None:
        self._leave()
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
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        self._counted = True
        try:
            self._answer(owner)
        finally:
            self._leave()

    def _leave(self) -> None:
        # Leave the in-flight count *before* the answer goes out: once the client has it, it may send
        # its next request, which must not find this one still counted.
        if getattr(self, "_counted", False):
            self._counted = False
            with self.owner._lock:
                self.owner.in_flight -= 1

    def _answer(self, owner: StubServer) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        with owner._lock:
            owner.bodies.append(body)
            if owner.record_auth:
                owner.auth_headers.append(self.headers.get("Authorization"))
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
            self._leave()
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
        if fault is not None and fault.kind == "body":
            self._send(200, fault.raw.encode())
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
