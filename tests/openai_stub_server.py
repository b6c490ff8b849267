"""A scriptable local OpenAI-compatible HTTP server for the overseer's tests and benchmark.

Real HTTP on 127.0.0.1 (an ephemeral port), spoken to by the real ``openai`` client. Each
request to ``POST /chat/completions`` takes the next scripted :class:`Reply` (or the default
one): a valid answer, any text (malformed JSON, missing fields, out-of-range numbers), an HTTP
error with headers (429 with ``retry-after``, 500), a delay before answering (timeouts, very
slow answers), a 400 refusal of ``json_schema`` response formats, or a raw body sent as is
(an HTML proxy page, JSON that is no chat completion). Answers report ``usage`` like the real
API: when not scripted, ``prompt_tokens`` is (the characters of the request's messages and of
its ``response_format`` schema) / 4 and ``completion_tokens`` the answer's characters / 4 --
an estimate (about 4 characters per token), labelled as such here. A scripted ``usage`` may
be any JSON value (a malformed one too), or :data:`NO_USAGE` to leave the field out.

Every request is recorded (body and whether an ``Authorization`` header came) for assertions.
Delays wait on an event that :meth:`StubServer.stop` sets, so tearing down never waits out a
long scripted delay. :class:`StubProcess` runs one in a child process (latency benchmarks).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.process
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

#: A scripted ``usage`` that leaves the field out of the answer.
NO_USAGE = object()


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    delay_s: float = 0.0
    usage: tuple[int, int] | Any = None
    reject_json_schema: bool = False
    #: Sent as the whole body of a 200, with ``content_type``, instead of a chat completion.
    raw: str | None = None
    content_type: str = "application/json"

    @classmethod
    def answer(cls, data: dict[str, Any] | str, **kw: Any) -> Reply:
        """A 200 answer whose message content is ``data`` (dict -> JSON text)."""
        text = data if isinstance(data, str) else json.dumps(data)
        return cls(content=text, **kw)

    @classmethod
    def error(cls, status: int, message: str = "error", **kw: Any) -> Reply:
        """An HTTP error with an OpenAI-style error body."""
        body = {"error": {"message": message, "type": "stub_error", "code": status}}
        return cls(status=status, body=body, **kw)


def _estimate(chars: int) -> int:
    return max(1, chars // 4)


def _usage(prompt_tokens: Any, completion_tokens: Any) -> dict[str, Any]:
    total = (
        prompt_tokens + completion_tokens
        if isinstance(prompt_tokens, int) and isinstance(completion_tokens, int)
        else None
    )
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": total,
    }


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its last value.

    For tests and the benchmark, e.g. until the overseer's worker is idle.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return condition()
        time.sleep(step)
    return True


class StubServer:
    """Start with :meth:`start`, script with :meth:`push`, stop with :meth:`stop`."""

    def __init__(
        self,
        default: Reply | None = None,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.default = default
        #: Called with the request body when the script is empty (before ``default``).
        self.responder = responder
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def push(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self.script.extend(replies)

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.default

    def start(self) -> StubServer:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with stub._lock:
                    stub.requests.append(
                        {
                            "path": self.path,
                            "body": body,
                            "authorized": bool(self.headers.get("authorization")),
                            "time": time.monotonic(),
                        }
                    )
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                reply = stub._next(body)
                if reply is None:
                    self._send(500, {"error": {"message": "no scripted reply"}})
                    return
                if reply.delay_s > 0 and stub.release.wait(reply.delay_s):
                    self.close_connection = True
                    return
                fmt = (body.get("response_format") or {}).get("type")
                if reply.reject_json_schema and fmt == "json_schema":
                    self._send(
                        400,
                        {"error": {"message": "response_format json_schema is not supported"}},
                    )
                    return
                if reply.status != 200:
                    self._send(reply.status, reply.body or {}, reply.headers)
                    return
                if reply.raw is not None:
                    self._send(200, reply.raw, reply.headers, reply.content_type)
                    return
                content = reply.content or ""
                payload: dict[str, Any] = {
                    "id": f"chatcmpl-stub-{len(stub.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                }
                if isinstance(reply.usage, tuple):
                    prompt_tokens, completion_tokens = reply.usage
                    payload["usage"] = _usage(prompt_tokens, completion_tokens)
                elif reply.usage is None:
                    chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
                    # a JSON schema in response_format is input too (providers bill it)
                    chars += len(json.dumps(body.get("response_format") or "")) - 2
                    payload["usage"] = _usage(_estimate(chars), _estimate(len(content)))
                elif reply.usage is not NO_USAGE:
                    payload["usage"] = reply.usage  # any value, as scripted
                self._send(200, payload, reply.headers)

            def _send(
                self,
                status: int,
                payload: dict[str, Any] | str,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                data = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release held answers and shut the server down."""
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(2.0)

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_on_pipe(conn: Connection, default: Reply) -> None:
    """Entry point of a child process: serve ``default`` until told to stop over ``conn``.

    Sends the base URL once serving, waits for any message, then releases held answers,
    sends the number of requests served and stops. For measurements where the server's own
    work must not compete with the client process for its interpreter lock.
    """
    with StubServer(default=default) as stub:
        conn.send(stub.base_url)
        conn.recv()
        stub.release.set()
        conn.send(len(stub.requests))


class StubProcess:
    """A :class:`StubServer` answering ``default`` in a child process (a context manager).

    ``base_url`` while running; ``requests`` (how many it served) once stopped (``stop``
    or leaving the ``with`` block).
    """

    def __init__(self, default: Reply) -> None:
        self.default = default
        self.base_url = ""
        self.requests = 0
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def __enter__(self) -> StubProcess:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=serve_on_pipe, args=(child, self.default), daemon=True)
        self._process.start()
        if not parent.poll(60):
            self._process.kill()
            raise RuntimeError("stub server process did not start within 60 s")
        self.base_url = parent.recv()
        self._conn = parent
        return self

    def stop(self) -> None:
        """Release held answers, count the requests and end the process (idempotent)."""
        if self._conn is None or self._process is None:
            return
        conn, process = self._conn, self._process
        self._conn = self._process = None
        try:
            conn.send("stop")
            if conn.poll(10):
                self.requests = conn.recv()
        finally:
            process.join(5)
            if process.is_alive():
                process.kill()

    def __exit__(self, *exc: object) -> None:
        self.stop()
