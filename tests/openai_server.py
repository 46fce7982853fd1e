"""A real local HTTP server speaking the OpenAI chat-completions protocol, for tests.

    with OpenAITestServer() as server:
        server.script(Reply("Hello there."), Reply(status=500))
        llm = OpenAICompatibleLLM(server.url, "test-model")
        ...
        server.requests[-1]  # JSON body of the last POST plus "auth" (the Authorization header or None)

It is a `ThreadingHTTPServer` bound to 127.0.0.1 on an ephemeral port. Endpoints:

* POST /v1/chat/completions: takes the next scripted `Reply` (or `DEFAULT_REPLY`);
  streams SSE ("data: {chunk}" ... "data: [DONE]", chunked transfer encoding) when
  both the request and the reply want streaming, else one JSON body;
* GET /v1/models: {"object": "list", "data": [{"id": "test-model", ...}]}.

Every response closes its connection, so no handler thread idles on keep-alive;
sleeps wait on a stop event, so `stop()` interrupts delayed or trickling replies and
joins every thread it started.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "test-model"


@dataclass
class Reply:
    """One scripted behaviour of the server for one chat-completions request."""

    text: str = ""  # content to stream; for status != 200, the error message (if given)
    delay_s: float = 0.0  # sleep before first byte
    chunk_delay_s: float = 0.0  # sleep between SSE chunks (to simulate a slow trickle)
    status: int = 200  # non-200 returns an error JSON body
    garbage: bool = False  # send invalid SSE/JSON
    stream: bool = True  # False: return a single non-streamed JSON body


DEFAULT_REPLY = Reply(text="Hello from the test server.")


def _pieces(text: str) -> list[str]:
    """Split text into word-sized deltas (whitespace kept), as real servers do."""
    return re.findall(r"\S+\s*|\s+", text)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True
    allow_reuse_address = True

    owner: OpenAITestServer

    def process_request(self, request: Any, client_address: Any) -> None:
        # Same as ThreadingMixIn.process_request, with a recognisable thread name.
        if self.block_on_close:
            vars(self).setdefault("_threads", _Threads())
        t = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="openai-test-server-handler",
        )
        t.daemon = self.daemon_threads
        self._threads.append(t)  # type: ignore[attr-defined]
        t.start()


class _Threads(list):
    """Like socketserver._Threads: a list of threads that forgets finished ones."""

    def append(self, thread: threading.Thread) -> None:  # type: ignore[override]
        self[:] = [t for t in self if t.is_alive()]
        super().append(thread)

    def join(self) -> None:
        while self:
            self.pop().join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OpenAITestServer/1.0"
    timeout = 10  # socket timeout: a stuck client cannot pin a handler thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        pass

    # -- helpers ------------------------------------------------------------------

    @property
    def owner(self) -> OpenAITestServer:
        return self.server.owner

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; return False when stopping."""
        if seconds > 0:
            return not self.owner._stopping.wait(seconds)
        return not self.owner._stopping.is_set()

    def _send_json(self, status: int, obj: Any = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # -- endpoints ----------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "tests"}],
                },
            )
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"null")
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError as exc:
            self._send_json(400, {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request"}})
            return
        reply = self.owner._take(body, self.headers.get("Authorization"))

        if not self._sleep(reply.delay_s):
            self.close_connection = True
            return
        if reply.status != 200:
            message = reply.text or f"scripted failure with status {reply.status}"
            self._send_json(
                reply.status, {"error": {"message": message, "type": "server_error", "code": reply.status}}
            )
            return
        model = body.get("model") or MODEL_ID
        if not (reply.stream and body.get("stream")):
            if reply.garbage:
                self._send_json(200, raw=b"<html>this is not JSON")
                return
            self._send_json(
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.text},
                            "finish_reason": "stop",
                        }
                    ],
                },
            )
            return
        self._stream(reply, model)

    def _stream(self, reply: Reply, model: str) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        created = int(time.time())

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        try:
            if reply.garbage:
                events = [b"data: {this is not json\n\n", b"data: [DONE]\n\n"]
            else:
                events = [event({"role": "assistant", "content": ""})]
                events += [event({"content": piece}) for piece in _pieces(reply.text)]
                events += [event({}, "stop"), b"data: [DONE]\n\n"]
            for i, data in enumerate(events):
                if i and not self._sleep(reply.chunk_delay_s):
                    return  # stopping: drop the connection mid-stream
                self._chunk(data)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client went away (e.g. it timed out); nothing to do


class OpenAITestServer:
    """OpenAI-compatible chat-completions server on 127.0.0.1:<ephemeral port>."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.url: str = ""
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def host(self) -> str:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[0]

    def script(self, *replies: Reply) -> None:
        """Queue behaviours for the next requests (FIFO); when empty, DEFAULT_REPLY is used."""
        with self._lock:
            self._script.extend(replies)

    def _take(self, body: dict, auth: str | None) -> Reply:
        with self._lock:
            self.requests.append({**body, "auth": auth})
            return self._script.popleft() if self._script else DEFAULT_REPLY

    def start(self) -> OpenAITestServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes delayed / trickling handlers
        httpd.shutdown()  # stops serve_forever
        httpd.server_close()  # closes the socket and joins handler threads
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # manual poking: python tests/openai_server.py
    with OpenAITestServer() as server:
        print(f"listening on {server.url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
