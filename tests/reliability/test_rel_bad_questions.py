"""Issue 8, case 1: hostile and malformed questions against a running server, through
POST /api/ask and Gradio's /chat API. Each gets an answer or a short 4xx JSON refusal,
the server stays up, and the chat output shows user input as text (escaped)."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from conftest import make_settings
from servers import AppServer

pytestmark = pytest.mark.server
TIMEOUT = 30.0

BAD_QUESTIONS = {
    "empty": "",
    "whitespace": " \t\n  \r\n ",
    "20000 chars": "Kirby " * 3334,
    "control chars": "What did\x01 Kirby\x07 say?\x1b[31m\x7f",
    "NUL bytes": "What\x00 did Kirby\x00 say?\x00",
    "only NUL": "\x00\x00\x00",
    "emoji": "🚀💣🇰🇵🇷🇺 What did Kirby say? 🤔",
    "arabic (RTL)": "ماذا قال كيربي عن كوريا الشمالية؟",
    "hebrew (RTL)": "מה אמר קירבי על צפון קוריאה?",
    "RTL override": "What did \u202eyas ybriK\u202c say?",
    "CJK": "柯比对朝鲜和俄罗斯说了什么？北朝鮮はロシアに何を売ったのか？",
    "html script": "<script>alert('xss')</script> What did Kirby say?",
    "html img onerror": '<img src=x onerror="alert(1)"> Who is Kirby?',
    "markdown link js": "[click](javascript:alert(1)) What did Kirby say?",
    "sql injection": "'; DROP TABLE articles; -- What did Kirby say?",
    "sql union": "1' OR '1'='1' UNION SELECT * FROM news_articles --",
    "chroma where": '{"$where": {"article_id": {"$ne": ""}}}',
    "lone surrogate-ish": "What did Kirby say? \ufffd\ufeff\u200b",
}
# Payload fragments that must never come back as live markup in the chat output.
LIVE_MARKUP = ("<script", "<img")
MD_JS_LINK = re.compile(r"(?<!\\)\]\(javascript:")  # an unescaped Markdown link to javascript:


def check_api_reply(r: httpx.Response, name: str) -> dict:
    assert r.status_code < 500, (name, r.status_code, r.text[:300])
    data = r.json()
    if r.status_code == 200:
        assert isinstance(data["answer"], str) and isinstance(data["citations"], list), name
        assert isinstance(data["abstained"], bool), name
    else:
        assert 400 <= r.status_code < 500, name
        assert set(data) == {"error"} and isinstance(data["error"], str), (name, data)
        assert 0 < len(data["error"]) <= 300 and "Traceback" not in data["error"], (name, data)
    return data


@pytest.fixture(scope="module")
def server(assistant, corpus_home):  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    settings = make_settings(corpus_home, rate_limit_per_minute=0)
    with AppServer(create_app(assistant, settings)) as srv:
        srv.server.config.timeout_graceful_shutdown = 2
        yield srv


def test_bad_questions_over_rest(server) -> None:  # type: ignore[no-untyped-def]
    outcomes = {}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        for name, question in BAD_QUESTIONS.items():
            t = time.monotonic()
            r = client.post("/api/ask", json={"question": question})
            assert time.monotonic() - t < TIMEOUT, name
            data = check_api_reply(r, name)
            outcomes[name] = r.status_code
            # The same text as conversation history is handled as well.
            r2 = client.post("/api/ask", json={"question": "What did Kirby say?", "history": [question]})
            check_api_reply(r2, name + " (history)")
            if r.status_code == 200:
                assert data["question"].replace("\x00", "") != "" or name == "only NUL"
        assert client.get("/api/health").status_code == 200
    # Clear refusals where the input is unusable; answers otherwise.
    assert outcomes["empty"] == 400 and outcomes["whitespace"] == 400 and outcomes["only NUL"] == 400
    assert outcomes["20000 chars"] == 422
    for name in ("emoji", "arabic (RTL)", "CJK", "html script", "sql injection", "NUL bytes"):
        assert outcomes[name] == 200, (name, outcomes[name])


def test_malformed_bodies_are_short_4xx(server) -> None:  # type: ignore[no-untyped-def]
    bodies = [b"", b"{", b"not json", b"\xff\xfe\x00garbage", b'{"question": 123}', b'{"question": null}',
              b'{"question": ["a", "b"]}', b'{"question": "Kirby?", "history": "not a list"}',
              b'{"question": "Kirby?", "history": [' + b'"x",' * 30 + b'"x"]}', b"[]", b'"just a string"']
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        for body in bodies:
            r = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
            assert 400 <= r.status_code < 500, (body[:40], r.status_code, r.text[:200])
            assert set(r.json()) == {"error"} and len(r.json()["error"]) <= 300, body[:40]
        assert client.get("/api/health").status_code == 200


def test_bad_questions_over_gradio_chat(server) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    for name, question in BAD_QUESTIONS.items():
        job = client.submit(question, api_name="/chat")
        out = job.result(timeout=TIMEOUT)
        assert isinstance(out, str) and out.strip(), name
        low = out.lower()
        for bad in LIVE_MARKUP:
            assert bad not in low, (name, bad, out[:300])
        assert not MD_JS_LINK.search(low), (name, out[:300])
        if name in ("empty", "whitespace", "only NUL", "20000 chars"):
            assert out.startswith("⚠️") and len(out) < 300, (name, out[:300])
    assert httpx.get(server.url + "/api/health", timeout=5).status_code == 200


def test_chat_output_escapes_echoed_markup(server, assistant) -> None:  # type: ignore[no-untyped-def]
    """Rendering an answer whose text and quotes hold markup shows it as text."""
    from assistant.types import Answer, Citation
    from assistant.ui import render_markdown

    evil = "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3))"
    ans = Answer(question=evil, answer=f"According to the articles: {evil} [1]", abstained=False,
                 citations=[Citation(1, "x.txt", evil, evil, 0, len(evil), article_id="abc")])
    out = render_markdown(ans).lower()
    for bad in LIVE_MARKUP:
        assert bad not in out, bad
    assert not MD_JS_LINK.search(out)
    assert "&lt;script&gt;" in out
