"""Access control at the edge: token, rate limit, body size, CORS and frame-ancestors."""

from __future__ import annotations

import httpx
import pytest

from conftest import make_settings
from servers import AppServer

pytestmark = pytest.mark.server
HOST = "http://127.0.0.1:9"  # an allowed embedding origin
OTHER = "http://evil.example"
Q = {"question": "What did Kirby say?"}


@pytest.fixture(scope="module")
def guarded(assistant, corpus_home):  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    settings = make_settings(corpus_home, api_token="s3cret", rate_limit_per_minute=4, allowed_origins=HOST)
    with AppServer(create_app(assistant, settings)) as srv:
        srv.server.config.timeout_graceful_shutdown = 2
        yield srv


def test_token_required_for_api_and_ui(guarded) -> None:  # type: ignore[no-untyped-def]
    url = guarded.url
    r = httpx.post(url + "/api/ask", json=Q, timeout=30)
    assert r.status_code == 401 and r.json() == {"error": "missing or wrong API token"}
    assert httpx.post(url + "/api/ask", json=Q, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.post(url + "/api/ask", json=Q, headers={"Authorization": "Bearer s3cret"}, timeout=30).status_code == 200
    assert httpx.get(url + "/api/sources", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert httpx.get(url + "/api/health").status_code == 200  # probes stay open
    # The UI, Gradio's own routes and the embed page need the cookie set by /login.
    for path in ("/", "/embed", "/gradio_api/info", "/config"):
        assert httpx.get(url + path, headers={"accept": "text/html"}).status_code == 401, path
    assert httpx.get(url + "/login", params={"token": "wrong"}).status_code == 401
    with httpx.Client(base_url=url, follow_redirects=True) as browser:
        r = browser.get("/login", params={"token": "s3cret"})
        assert r.status_code == 200 and "News archive assistant" in r.text
        assert browser.get("/embed").status_code == 200


def test_rate_limit_is_429_json(guarded) -> None:  # type: ignore[no-untyped-def]
    key = {"X-API-Key": "s3cret"}
    codes = [httpx.post(guarded.url + "/api/ask", json={"question": "x"}, headers=key, timeout=30).status_code
             for _ in range(6)]
    assert 429 in codes and codes[0] != 429
    r = httpx.post(guarded.url + "/api/ask", json=Q, headers=key, timeout=30)
    assert r.status_code == 429 and r.json() == {"error": "too many requests; try again in a minute"}


def test_oversized_body_is_413(guarded) -> None:  # type: ignore[no-untyped-def]
    big = {"question": "x" * 40_000}
    r = httpx.post(guarded.url + "/api/ask", json=big, headers={"X-API-Key": "s3cret"})
    assert r.status_code == 413 and r.json()["error"].startswith("request body over")

    def chunks():  # no Content-Length: counted while reading
        for _ in range(40):
            yield b"x" * 1024

    r = httpx.post(guarded.url + "/api/ask", content=chunks(), headers={"X-API-Key": "s3cret"})
    assert r.status_code == 413


def test_cors_allowed_vs_refused_origin(guarded) -> None:  # type: ignore[no-untyped-def]
    url = guarded.url + "/api/sources"
    ok = httpx.get(url, headers={"Origin": HOST, "X-API-Key": "s3cret"})
    assert ok.headers.get("access-control-allow-origin") == HOST
    bad = httpx.get(url, headers={"Origin": OTHER, "X-API-Key": "s3cret"})
    assert "access-control-allow-origin" not in bad.headers
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    p_ok = httpx.options(guarded.url + "/api/ask", headers={"Origin": HOST, **pre})
    assert p_ok.status_code == 200 and p_ok.headers["access-control-allow-origin"] == HOST
    p_bad = httpx.options(guarded.url + "/api/ask", headers={"Origin": OTHER, **pre})
    assert p_bad.status_code == 403 and "access-control-allow-origin" not in p_bad.headers


def test_frame_ancestors_lists_only_allowed_origins(guarded) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=guarded.url, follow_redirects=True) as browser:
        browser.get("/login", params={"token": "s3cret"})
        for path in ("/", "/embed"):
            csp = browser.get(path).headers["content-security-policy"]
            assert f"frame-ancestors 'self' {HOST}" in csp and OTHER not in csp
        widget = browser.get("/widget.js")
        assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
