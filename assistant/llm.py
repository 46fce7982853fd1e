"""Optional LLM client for an OpenAI-compatible chat-completions API.

The assistant works without an LLM (extractive mode); when one is configured it is
reached through `OpenAICompatibleLLM`, which speaks the `/v1/chat/completions`
protocol that OpenAI, vLLM, llama.cpp's server, Ollama, LM Studio and others share.

Contract of every client (`LLM` protocol):

* `stream(messages)` yields text deltas as they arrive;
* `complete(messages)` returns the whole text;
* every failure (unreachable, timed out, HTTP 4xx/5xx, malformed or empty response)
  raises `LLMError` with a one-line message saying what happened and what to check.
  The API key never appears in a message.

Timeouts: `timeout` is a hard deadline for the whole answer, measured from the
moment the request starts. The HTTP exchange runs in a short-lived worker thread
and the caller waits on it with the remaining time, so a server that stalls, or
trickles a byte now and then, cannot hold the caller past the deadline. The httpx
read timeout (also `timeout`) bounds how long the worker thread itself can linger
after the caller gave up.

`FakeLLM` is the test twin: scripted replies, streamed in a few chunks, with the
messages it received recorded.
"""

from __future__ import annotations

import copy
import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import httpx

from assistant.errors import AssistantError

__all__ = ["LLM", "LLMError", "OpenAICompatibleLLM", "FakeLLM", "normalize_base_url"]

_EXCERPT_CHARS = 200


class LLMError(AssistantError):
    """Raised for unreachable, timed-out, HTTP-error or malformed responses.

    An AssistantError, so the CLI shows it as one line. The message says what
    happened and what to check, e.g.
    'LLM at http://... timed out after 5.0 s; check ASSISTANT_LLM_URL or raise
    ASSISTANT_LLM_TIMEOUT'. It never contains the API key."""


@runtime_checkable
class LLM(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield text deltas of the reply."""
        ...

    def complete(self, messages: list[dict[str, str]]) -> str:
        """Return the whole reply text."""
        ...


def normalize_base_url(base_url: str) -> str:
    """Return the API base ending in `/v1` without a trailing slash.

    Accepts "http://host:port", "http://host:port/", "http://host:port/v1" and
    "http://host:port/v1/"; a path that does not end in /v1 gets /v1 appended
    ("http://host/openai" -> "http://host/openai/v1")."""
    url = (base_url or "").strip()
    if not url:
        raise LLMError("LLM base URL is empty; set ASSISTANT_LLM_URL (e.g. http://127.0.0.1:8000/v1)")
    try:
        parsed = httpx.URL(url)
    except Exception as exc:  # httpx.InvalidURL and friends
        raise LLMError(f"LLM base URL {url!r} is not a valid URL ({exc}); check ASSISTANT_LLM_URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise LLMError(
            f"LLM base URL {_display_url(url)!r} must be an http(s) URL with a host; check ASSISTANT_LLM_URL"
        )
    path = parsed.path.rstrip("/")
    if not path.endswith("/v1"):
        path = path + "/v1"
    return str(parsed.copy_with(path=path, query=None, fragment=None))


def _display_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    try:
        parsed = httpx.URL(url)
        if parsed.userinfo:
            return str(parsed.copy_with(username=None, password=None))
    except Exception:
        pass
    return url


def _one_line(text: str, limit: int = _EXCERPT_CHARS) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class _Deadline(Exception):
    """Internal: the worker noticed the caller gave up."""


class OpenAICompatibleLLM:
    """Client for POST {base}/chat/completions with streaming server-sent events.

    base_url: e.g. "http://127.0.0.1:8000/v1"; "/v1" is appended when the URL path
        does not already end in it, so "http://127.0.0.1:8000" works too.
    timeout: total deadline in seconds for one answer (connect + wait + stream).
    connect_timeout: TCP/TLS connect limit; defaults to min(timeout, 5.0).
    transport: optional httpx transport (tests, proxies).

    Servers that ignore "stream": true and send one JSON body
    (choices[0].message.content) are handled too."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        temperature: float = 0.0,
        max_tokens: int = 512,
        transport: httpx.BaseTransport | None = None,
        *,
        connect_timeout: float | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.base_url = normalize_base_url(base_url)
        self.model = model
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout) if connect_timeout else min(self.timeout, 5.0)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.name = f"openai-compatible:{model}"
        self._api_key = api_key or None
        self._where = _display_url(self.base_url)
        headers = {"Accept": "text/event-stream, application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            transport=transport,
            follow_redirects=False,
        )

    # -- public API ---------------------------------------------------------------

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleLLM(base_url={self._where!r}, model={self.model!r}, key={'set' if self._api_key else 'none'})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAICompatibleLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(self, messages: list[dict[str, str]]) -> str:
        return "".join(self.stream(messages))

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield text deltas; raise LLMError on any failure or when the deadline passes.

        The request is sent when iteration starts. Leaving the loop early cancels it."""
        payload = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        started = time.monotonic()
        deadline = started + self.timeout
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancel = threading.Event()
        worker = threading.Thread(
            target=self._run, args=(payload, events, cancel), name="llm-stream", daemon=True
        )
        worker.start()
        got_text = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error()
                try:
                    kind, value = events.get(timeout=remaining)
                except queue.Empty:
                    raise self._timeout_error() from None
                if kind == "delta":
                    if value:
                        got_text = got_text or bool(value.strip())
                        yield value
                elif kind == "error":
                    raise value
                elif kind == "done":
                    break
            if not got_text:
                raise self._error(
                    "returned an empty answer; check ASSISTANT_LLM_MODEL and that max_tokens is large enough"
                )
        finally:
            cancel.set()

    def models(self) -> list[str]:
        """Model ids from GET {base}/models (a cheap reachability check)."""
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=min(self.timeout, 10.0))
        except httpx.TimeoutException:
            raise self._timeout_error() from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.text)
        try:
            data = response.json()
            return [str(item["id"]) for item in data["data"]]
        except Exception:
            raise self._error(
                f"sent a malformed model list ({self._clip(response.text, 80)!r}); check ASSISTANT_LLM_URL"
            ) from None

    # -- worker -------------------------------------------------------------------

    def _run(self, payload: dict[str, Any], events: queue.Queue, cancel: threading.Event) -> None:
        """Worker thread: do the HTTP exchange and push ("delta", str) / ("done", None) /
        ("error", LLMError) onto `events`."""
        try:
            with self._client.stream("POST", f"{self.base_url}/chat/completions", json=payload) as response:
                if response.status_code >= 400:
                    body = self._read_limited(response, cancel, 2000)
                    raise self._status_error(response.status_code, body)
                content_type = response.headers.get("content-type", "").lower()
                if "event-stream" in content_type:
                    self._read_sse(response.iter_lines(), events, cancel)
                else:
                    body = self._read_limited(response, cancel, 10_000_000)
                    if "json" not in content_type and body.lstrip().startswith("data:"):
                        self._read_sse(iter(body.splitlines()), events, cancel)
                    else:
                        events.put(("delta", self._parse_whole_body(body)))
            events.put(("done", None))
        except _Deadline:
            pass
        except LLMError as exc:
            events.put(("error", exc))
        except httpx.TimeoutException:
            events.put(("error", self._timeout_error()))
        except httpx.HTTPError as exc:
            events.put(("error", self._transport_error(exc)))
        except Exception as exc:  # never let the caller hang on a worker bug
            events.put(("error", self._error(f"failed unexpectedly ({type(exc).__name__}: {self._clip(str(exc), 120)})")))

    def _read_limited(self, response: httpx.Response, cancel: threading.Event, limit: int) -> str:
        chunks: list[str] = []
        size = 0
        for text in response.iter_text():
            if cancel.is_set():
                raise _Deadline
            chunks.append(text)
            size += len(text)
            if size >= limit:
                break
        return "".join(chunks)

    def _read_sse(self, lines: Iterator[str], events: queue.Queue, cancel: threading.Event) -> None:
        data_lines: list[str] = []
        saw_done = False
        for line in lines:
            if cancel.is_set():
                raise _Deadline
            line = line.rstrip("\r")
            if line == "":
                if data_lines:
                    if self._dispatch("\n".join(data_lines), events):
                        saw_done = True
                        break
                    data_lines = []
                continue
            if line.startswith(":"):
                continue  # SSE comment / keep-alive
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                data_lines.append(value)
            elif field in ("event", "id", "retry"):
                continue
            else:
                raise self._malformed(f"unexpected line {line!r}")
        if not saw_done and data_lines:
            saw_done = self._dispatch("\n".join(data_lines), events)
        # A stream that ends without [DONE] is accepted (some servers omit it);
        # an empty answer is caught by the caller.

    def _dispatch(self, data: str, events: queue.Queue) -> bool:
        """Handle one SSE event's data; return True at [DONE]."""
        if data.strip() == "[DONE]":
            return True
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            raise self._malformed(f"event is not JSON: {data!r}") from None
        if not isinstance(chunk, dict):
            raise self._malformed(f"event is not a JSON object: {data!r}")
        if chunk.get("error"):
            raise self._error(f"reported an error mid-stream: {self._clip(json.dumps(chunk['error']), 160)}")
        choices = chunk.get("choices")
        if choices is None:
            raise self._malformed(f"event has no 'choices': {data!r}")
        if not isinstance(choices, list):
            raise self._malformed(f"'choices' is not a list: {data!r}")
        if not choices:
            return False  # e.g. a trailing usage-only chunk
        choice = choices[0]
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if delta is None and isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            delta = choice["message"]  # some servers stream whole messages
        if not isinstance(delta, dict):
            raise self._malformed(f"choice has no 'delta': {data!r}")
        content = delta.get("content")
        if content is None:
            return False
        if not isinstance(content, str):
            raise self._malformed(f"delta content is not text: {data!r}")
        if content:
            events.put(("delta", content))
        return False

    def _parse_whole_body(self, body: str) -> str:
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            raise self._malformed(f"response is neither SSE nor JSON: {body!r}") from None
        if isinstance(data, dict) and data.get("error"):
            raise self._error(f"reported an error: {self._clip(json.dumps(data['error']), 160)}")
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise self._malformed(f"JSON has no choices[0].message.content: {body!r}") from None
        if content is not None and not isinstance(content, str):
            raise self._malformed(f"message content is not text: {body!r}")
        return content or ""

    # -- errors -------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text

    def _clip(self, text: str, limit: int) -> str:
        """One line, key redacted *before* truncation so no fragment of it survives."""
        return _one_line(self._redact(text), limit)

    def _error(self, what: str) -> LLMError:
        return LLMError(self._clip(f"LLM at {self._where} {what}", 600))

    def _timeout_error(self) -> LLMError:
        return self._error(f"timed out after {self.timeout:g} s; check ASSISTANT_LLM_URL or raise ASSISTANT_LLM_TIMEOUT")

    def _malformed(self, detail: str) -> LLMError:
        return self._error(
            f"sent a malformed response ({self._clip(detail, 120)}); "
            "check that ASSISTANT_LLM_URL points at an OpenAI-compatible /v1 endpoint"
        )

    def _status_error(self, status: int, body: str) -> LLMError:
        if status in (401, 403):
            hint = "check the API key (ASSISTANT_LLM_API_KEY)"
        elif status == 404:
            hint = "check ASSISTANT_LLM_URL and ASSISTANT_LLM_MODEL"
        elif status == 429:
            hint = "the server is rate-limiting; retry later"
        elif status >= 500:
            hint = "check the LLM server's logs"
        else:
            hint = "check ASSISTANT_LLM_MODEL and the request settings"
        excerpt = self._clip(body, 160)
        return self._error(f"returned HTTP {status}: {excerpt or '(empty body)'}; {hint}")

    def _transport_error(self, exc: httpx.HTTPError) -> LLMError:
        detail = self._clip(str(exc), 120) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            return self._error(
                f"is unreachable ({detail}); check ASSISTANT_LLM_URL and that the server is running"
            )
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return self._error(f"dropped the connection ({type(exc).__name__}: {detail}); check the LLM server's logs")
        return self._error(f"request failed ({type(exc).__name__}: {detail}); check ASSISTANT_LLM_URL")


FakeReply = str | Callable[[list[dict[str, str]]], str] | BaseException


class FakeLLM:
    """Scripted LLM for tests.

    Each call to stream()/complete() takes the next scripted reply: a string, a
    callable(messages) -> str, or an exception instance (raised, e.g. LLMError to
    exercise fallbacks). The reply is yielded in a few chunks. When the script is
    used up, `default` is used if given, otherwise LLMError is raised.

    `calls` holds a deep copy of the messages of every call; `messages` the last."""

    def __init__(
        self,
        replies: list[FakeReply] | None = None,
        *,
        default: str | None = None,
        chunks: int = 3,
        name: str = "fake",
    ) -> None:
        self.name = name
        self._replies: list[FakeReply] = list(replies or [])
        self._default = default
        self._chunks = max(1, chunks)
        self._lock = threading.Lock()
        self.calls: list[list[dict[str, str]]] = []

    @property
    def messages(self) -> list[dict[str, str]] | None:
        return self.calls[-1] if self.calls else None

    def _next(self, messages: list[dict[str, str]]) -> str:
        with self._lock:
            self.calls.append(copy.deepcopy(messages))
            if self._replies:
                reply: FakeReply = self._replies.pop(0)
            elif self._default is not None:
                reply = self._default
            else:
                raise LLMError("FakeLLM has no scripted reply left; add one to its replies")
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            reply = reply(messages)
        return str(reply)

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        text = self._next(messages)
        yield from _split_chunks(text, self._chunks)

    def complete(self, messages: list[dict[str, str]]) -> str:
        return "".join(self.stream(messages))


def _split_chunks(text: str, n: int) -> list[str]:
    """Split text into about n non-empty pieces at word boundaries ("" -> [])."""
    if not text:
        return []
    words = re.findall(r"\S+\s*|\s+", text)
    if len(words) < n:
        size = max(1, -(-len(text) // n))
        return [text[i : i + size] for i in range(0, len(text), size)]
    per = -(-len(words) // n)
    return ["".join(words[i : i + per]) for i in range(0, len(words), per)]
