"""OpenAICompatibleLLM against a real local OpenAI-compatible server, plus FakeLLM."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so `pytest tests/...` works from any directory
    sys.path.insert(0, str(ROOT))

from assistant.llm import LLM, FakeLLM, LLMError, OpenAICompatibleLLM, normalize_base_url  # noqa: E402
from tests.openai_server import MODEL_ID, OpenAITestServer, Reply  # noqa: E402

KEY = "sk-test-SECRET-4f9c2a7b"
MESSAGES = [
    {"role": "system", "content": "Answer from the passages."},
    {"role": "user", "content": "Who won?"},
]
TEXT = "The home team won the final 3-1, according to the match report."


@pytest.fixture(autouse=True)
def _no_proxy_for_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's HTTP(S)_PROXY must not route 127.0.0.1 through a proxy.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def openai_server() -> Iterator[OpenAITestServer]:
    with OpenAITestServer() as server:
        yield server


def make_llm(url: str, **kw) -> OpenAICompatibleLLM:
    kw.setdefault("timeout", 5.0)
    return OpenAICompatibleLLM(url, MODEL_ID, **kw)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- happy paths ----------------------------------------------------------------------


def test_streaming_deltas_join_to_scripted_text(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(TEXT))
    with make_llm(openai_server.url) as llm:
        deltas = list(llm.stream(MESSAGES))
    assert len(deltas) > 3  # really streamed, word by word
    assert "".join(deltas) == TEXT
    sent = openai_server.requests[-1]
    assert sent["model"] == MODEL_ID
    assert sent["messages"] == MESSAGES
    assert sent["stream"] is True
    assert sent["temperature"] == 0.0
    assert sent["max_tokens"] == 512


def test_complete_returns_whole_text_and_unicode_survives(openai_server: OpenAITestServer) -> None:
    text = "Zürich — «naïve» café 東京 ✓"
    openai_server.script(Reply(text))
    with make_llm(openai_server.url, temperature=0.3, max_tokens=64) as llm:
        assert llm.complete(MESSAGES) == text
    assert openai_server.requests[-1]["temperature"] == 0.3
    assert openai_server.requests[-1]["max_tokens"] == 64


def test_authorization_only_when_key_given(openai_server: OpenAITestServer) -> None:
    with make_llm(openai_server.url) as llm:
        llm.complete(MESSAGES)
    assert openai_server.requests[-1]["auth"] is None
    with make_llm(openai_server.url, api_key=KEY) as llm:
        llm.complete(MESSAGES)
        assert KEY not in repr(llm)
    assert openai_server.requests[-1]["auth"] == f"Bearer {KEY}"
    with make_llm(openai_server.url, api_key="") as llm:  # empty key = no key
        llm.complete(MESSAGES)
    assert openai_server.requests[-1]["auth"] is None


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "", "/"])
def test_base_url_with_or_without_v1(openai_server: OpenAITestServer, suffix: str) -> None:
    root = openai_server.url.removesuffix("/v1")
    openai_server.script(Reply("ok then"))
    with make_llm(root + suffix) as llm:
        assert llm.base_url == openai_server.url
        assert llm.complete(MESSAGES) == "ok then"


def test_normalize_base_url() -> None:
    assert normalize_base_url("http://h:1") == "http://h:1/v1"
    assert normalize_base_url("http://h:1/openai/") == "http://h:1/openai/v1"
    assert normalize_base_url(" https://h/v1/ ") == "https://h/v1"
    with pytest.raises(LLMError, match="ASSISTANT_LLM_URL"):
        normalize_base_url("")
    with pytest.raises(LLMError, match="ASSISTANT_LLM_URL"):
        normalize_base_url("ftp://h/v1")


def test_non_streamed_json_body_is_handled(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(TEXT, stream=False), Reply("second", stream=False))
    with make_llm(openai_server.url) as llm:
        assert list(llm.stream(MESSAGES)) == [TEXT]
        assert llm.complete(MESSAGES) == "second"


def test_models_endpoint(openai_server: OpenAITestServer) -> None:
    with make_llm(openai_server.url) as llm:
        assert llm.models() == [MODEL_ID]
    with make_llm(f"http://127.0.0.1:{closed_port()}") as llm, pytest.raises(LLMError, match="unreachable"):
        llm.models()


def test_custom_transport_is_used() -> None:
    body = b'data: {"choices":[{"delta":{"content":"via "}}]}\n\ndata: {"choices":[{"delta":{"content":"mock"}}]}\n\ndata: [DONE]\n\n'
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with make_llm("http://llm.invalid", transport=httpx.MockTransport(handler)) as llm:
        assert llm.complete(MESSAGES) == "via mock"
    assert str(seen[0].url) == "http://llm.invalid/v1/chat/completions"


# -- failures -------------------------------------------------------------------------


def test_http_500_raises_with_status_and_body_excerpt(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(status=500, text="model crashed: CUDA out of memory"))
    with make_llm(openai_server.url) as llm, pytest.raises(LLMError) as err:
        llm.complete(MESSAGES)
    msg = str(err.value)
    assert "HTTP 500" in msg and "CUDA out of memory" in msg and openai_server.url in msg
    assert "\n" not in msg


def test_http_401_hints_at_key_without_leaking_it(openai_server: OpenAITestServer) -> None:
    # A server that echoes the key back in its error body must not leak it through us.
    openai_server.script(Reply(status=401, text=f"Incorrect API key provided: {KEY}"))
    with make_llm(openai_server.url, api_key=KEY) as llm, pytest.raises(LLMError) as err:
        llm.complete(MESSAGES)
    msg = str(err.value)
    assert "HTTP 401" in msg and "API key" in msg
    assert KEY not in msg and KEY[:12] not in msg


@pytest.mark.parametrize("stream", [True, False])
def test_garbage_raises(openai_server: OpenAITestServer, stream: bool) -> None:
    openai_server.script(Reply("ignored", garbage=True, stream=stream))
    with make_llm(openai_server.url) as llm, pytest.raises(LLMError, match="malformed"):
        llm.complete(MESSAGES)


def test_empty_answer_raises(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(""), Reply("", stream=False))
    with make_llm(openai_server.url) as llm:
        for _ in range(2):
            with pytest.raises(LLMError, match="empty"):
                llm.complete(MESSAGES)


def test_server_delay_longer_than_timeout(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(TEXT, delay_s=5.0))
    timeout = 0.5
    with make_llm(openai_server.url, api_key=KEY, timeout=timeout) as llm:
        start = time.monotonic()
        with pytest.raises(LLMError) as err:
            llm.complete(MESSAGES)
        elapsed = time.monotonic() - start
    assert timeout * 0.9 <= elapsed < timeout + 1.0
    msg = str(err.value)
    assert "timed out after 0.5 s" in msg and "ASSISTANT_LLM_TIMEOUT" in msg
    assert KEY not in msg


def test_slow_trickle_exceeding_total_timeout(openai_server: OpenAITestServer) -> None:
    # 12 words at 0.15 s each = ~1.8 s: every gap is far below the 1 s timeout,
    # so only the total deadline can stop it.
    text = " ".join(f"word{i}" for i in range(12))
    openai_server.script(Reply(text, chunk_delay_s=0.15))
    timeout = 1.0
    got: list[str] = []
    with make_llm(openai_server.url, timeout=timeout) as llm:
        start = time.monotonic()
        with pytest.raises(LLMError, match="timed out"):
            for delta in llm.stream(MESSAGES):
                got.append(delta)
        elapsed = time.monotonic() - start
    assert timeout * 0.9 <= elapsed < timeout + 1.0
    assert got and "".join(got) != text  # partial answer, then the deadline


def test_slow_but_within_deadline_succeeds(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply("a b c d", delay_s=0.2, chunk_delay_s=0.05))
    with make_llm(openai_server.url, timeout=3.0) as llm:
        assert llm.complete(MESSAGES) == "a b c d"


def test_connection_refused(openai_server: OpenAITestServer) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with make_llm(url, api_key=KEY, timeout=2.0) as llm:
        start = time.monotonic()
        with pytest.raises(LLMError) as err:
            llm.complete(MESSAGES)
        elapsed = time.monotonic() - start
    msg = str(err.value)
    assert "unreachable" in msg and url in msg and "ASSISTANT_LLM_URL" in msg
    assert KEY not in msg
    assert elapsed < 2.5


def test_key_never_in_any_error(openai_server: OpenAITestServer) -> None:
    openai_server.script(
        Reply(status=500, text=f"boom {KEY}"),
        Reply(garbage=True),
        Reply(""),
        Reply("x", delay_s=3.0),
    )
    with make_llm(openai_server.url, api_key=KEY, timeout=0.4) as llm:
        for _ in range(4):
            with pytest.raises(LLMError) as err:
                llm.complete(MESSAGES)
            assert KEY not in str(err.value)
            assert KEY not in repr(err.value)


def test_abandoning_a_stream_early_is_fine(openai_server: OpenAITestServer) -> None:
    openai_server.script(Reply(TEXT, chunk_delay_s=0.02), Reply("next one"))
    with make_llm(openai_server.url) as llm:
        stream = llm.stream(MESSAGES)
        assert next(stream)
        stream.close()
        assert llm.complete(MESSAGES) == "next one"


def test_server_listens_on_loopback_and_stops_cleanly() -> None:
    server = OpenAITestServer().start()
    assert server.host == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")
    server.script(Reply("slow", delay_s=30))
    llm = make_llm(server.url, timeout=0.3)
    with pytest.raises(LLMError):
        llm.complete(MESSAGES)  # leaves a handler sleeping in its delay
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 2.0
    llm.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("openai-test-server")]
    with pytest.raises(LLMError, match="unreachable"):
        make_llm(server.url).complete(MESSAGES)


# -- FakeLLM --------------------------------------------------------------------------


def test_fake_llm_scripted_replies_and_recording() -> None:
    fake = FakeLLM(["The answer is 42 [1].", lambda msgs: f"echo: {msgs[-1]['content']}"])
    assert isinstance(fake, LLM)
    chunks = list(fake.stream(MESSAGES))
    assert len(chunks) > 1 and "".join(chunks) == "The answer is 42 [1]."
    assert fake.complete(MESSAGES) == "echo: Who won?"
    assert fake.calls == [MESSAGES, MESSAGES] and fake.messages == MESSAGES
    MESSAGES_COPY = [dict(m) for m in MESSAGES]
    assert fake.calls[0] is not MESSAGES and fake.calls[0] == MESSAGES_COPY
    with pytest.raises(LLMError, match="no scripted reply"):
        fake.complete(MESSAGES)


def test_fake_llm_default_and_scripted_error() -> None:
    fake = FakeLLM([LLMError("LLM at fake timed out")], default="fallback")
    with pytest.raises(LLMError, match="timed out"):
        fake.complete(MESSAGES)
    assert fake.complete(MESSAGES) == "fallback"
    assert fake.complete(MESSAGES) == "fallback"
    assert len(fake.calls) == 3
    assert list(FakeLLM([""]).stream(MESSAGES)) == []
    assert "".join(FakeLLM(["ab"]).stream(MESSAGES)) == "ab"


def test_stall_after_first_bytes_is_bounded_by_total_deadline(openai_server: OpenAITestServer) -> None:
    # Headers and a first event arrive at once, then nothing: the read timeout alone
    # would allow ~2x the timeout; the total deadline must still hold.
    openai_server.script(Reply("never finished", chunk_delay_s=5.0))
    timeout = 0.5
    with make_llm(openai_server.url, timeout=timeout) as llm:
        start = time.monotonic()
        with pytest.raises(LLMError, match="timed out"):
            llm.complete(MESSAGES)
        elapsed = time.monotonic() - start
    assert timeout * 0.9 <= elapsed < timeout + 1.0
