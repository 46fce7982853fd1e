"""Issue 8, case 5: the token and origin allow-list on every route the app serves
(enumerated from the app itself, Gradio's own routes included), request size limits on
every route, and no secret in logs, even on failures.

Already covered elsewhere (not repeated here): token/cookie on /api and the UI, the 429
rate limit, 413 on /api, CORS and frame-ancestors for one route each: tests/test_web_guard.py."""

from __future__ import annotations

import logging
import re
import shutil

import httpx
import pytest

from conftest import make_settings
from openai_server import OpenAITestServer, Reply
from procserver import ServerProcess, record_figure
from servers import AppServer

pytestmark = pytest.mark.server
TOKEN = "tok-Zq81vXr4LmN0pW"
LLM_KEY = "sk-live-5fG7hJ2kL9mN3pQ8"
ALLOWED = "http://allowed.example"
EVIL = "http://evil.example"
OPEN = {"/api/health", "/widget.js"}  # documented as open


def all_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every HTTP route: FastAPI's, the Gradio mount's, and the
    routers Gradio includes (its /gradio_api/* API)."""
    out: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix)
            elif type(r).__name__ == "Mount":
                walk(r.routes, prefix + r.path)
            elif hasattr(r, "path"):
                for m in getattr(r, "methods", None) or {"GET"}:
                    out.add((m, prefix + r.path))
            elif hasattr(r, "routes"):
                walk(r.routes, prefix)

    walk(app.routes, "")
    return sorted(out)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)




@pytest.fixture(scope="module")
def guarded(assistant, corpus_home):  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    settings = make_settings(corpus_home, api_token=TOKEN, allowed_origins=ALLOWED, rate_limit_per_minute=0)
    app = create_app(assistant, settings)
    with AppServer(app) as srv:
        srv.server.config.timeout_graceful_shutdown = 2
        yield srv, app


def test_every_route_refuses_without_token(guarded) -> None:  # type: ignore[no-untyped-def]
    srv, app = guarded
    routes = all_routes(app)
    assert len(routes) > 60 and ("POST", "/gradio_api/queue/join") in routes and ("POST", "/api/ask") in routes
    opened, refused = [], []
    with httpx.Client(base_url=srv.url, timeout=20) as client:
        for method, path in routes:
            url = concrete(path)
            for headers in ({"accept": "application/json"}, {"accept": "text/html"},
                            {"accept": "application/json", "X-API-Key": "wrong", "Authorization": "Bearer wrong",
                             "cookie": "assistant_token=wrong"}):
                r = client.request(method, url, headers=headers, content=b"{}" if method in ("POST", "PUT", "PATCH") else None)
                if path in OPEN and method in ("GET", "HEAD"):
                    assert r.status_code == 200, (method, path, r.status_code)
                    opened.append((method, path))
                else:
                    assert r.status_code == 401, (method, path, headers, r.status_code, r.text[:200])
                    assert TOKEN not in r.text
                    refused.append((method, path))
    record_figure("5 token on every route", routes=len(routes), refused=len(set(refused)),
                  open=sorted({p for _, p in opened}))


def test_origin_allow_list_on_every_route(guarded) -> None:  # type: ignore[no-untyped-def]
    srv, app = guarded
    key = {"X-API-Key": TOKEN}
    checked = 0
    with httpx.Client(base_url=srv.url, timeout=20) as client:
        for method, path in all_routes(app):
            if method not in ("GET", "HEAD") or "{" in path or path.startswith(("/gradio_api/queue", "/gradio_api/dev")):
                continue
            r = client.request(method, path, headers={**key, "Origin": EVIL})
            acao = r.headers.get("access-control-allow-origin")
            assert acao is None, (path, acao)  # never reflected, never "*"
            if not path.startswith("/api/") and "text/html" in r.headers.get("content-type", ""):
                csp = r.headers.get("content-security-policy", "")
                assert "frame-ancestors" in csp and EVIL not in csp and "*" not in csp.split("frame-ancestors")[1], (path, csp)
            checked += 1
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        for path in ("/api/ask", "/gradio_api/queue/join", "/gradio_api/call/chat"):
            bad = client.options(path, headers={"Origin": EVIL, **pre})
            assert bad.headers.get("access-control-allow-origin") is None, path
        ok = client.get("/api/sources", headers={**key, "Origin": ALLOWED})
        assert ok.headers.get("access-control-allow-origin") == ALLOWED
    assert checked > 20


def test_body_limit_on_gradio_routes(guarded) -> None:  # type: ignore[no-untyped-def]
    srv, _ = guarded
    key = {"X-API-Key": TOKEN, "content-type": "application/json"}
    big = b'{"data": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        for path in ("/gradio_api/call/chat", "/gradio_api/queue/join", "/gradio_api/run/chat"):
            r = client.post(path, content=big, headers=key)
            assert r.status_code == 413 and r.json()["error"].startswith("request body over"), path

            def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: counted while reading
                for _ in range(40):
                    yield b"x" * 65536

            r = client.post(path, content=chunks(), headers=key)
            assert r.status_code == 413, path
        # A normal Gradio call still works, and the server is up.
        r = client.post("/gradio_api/call/chat", json={"data": ["What did Kirby say?"]}, headers=key)
        assert r.status_code == 200 and "event_id" in r.json()
        assert client.get("/api/health").status_code == 200


def test_no_secrets_in_logs_or_responses(corpus_home, tmp_path, embedder, assistant, caplog) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    with OpenAITestServer() as llm:
        llm.script(Reply(status=500, text=f"upstream said: bad key"), Reply(garbage=True),
                   Reply(text="late", delay_s=4.0), Reply(status=401, text="invalid api key"))
        env = {"ASSISTANT_API_TOKEN": TOKEN, "ASSISTANT_LLM_API_KEY": LLM_KEY, "ASSISTANT_LLM_URL": llm.url,
               "ASSISTANT_LLM_MODEL": "test-model", "ASSISTANT_LLM_TIMEOUT": "1", "ASSISTANT_DEBUG": "1",
               "ASSISTANT_RATE_LIMIT_PER_MINUTE": "3"}
        bodies: list[str] = []
        with ServerProcess(home, env=env) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
            key = {"X-API-Key": TOKEN}
            q = {"question": "Which Iranian drone models had technical problems?"}
            from gradio_client import Client

            out = Client(srv.url + "/", headers=key, verbose=False).predict("What did Kirby say?", api_name="/chat")
            bodies.append(out)
            for _ in range(4):  # LLM failures -> extractive fallback; then 429
                r = c.post("/api/ask", json=q, headers=key)
                bodies.append(r.text)
            assert 429 in [c.post("/api/ask", json=q, headers=key).status_code for _ in range(3)]
            for req in (dict(method="POST", url="/api/ask", json=q, headers={"Authorization": "Bearer nope"}),
                        dict(method="GET", url="/login", params={"token": "nope"}),
                        dict(method="POST", url="/api/ask", content=b"x" * 40_000, headers=key),
                        dict(method="POST", url="/api/ask", content=b"{bad json", headers=key),
                        dict(method="GET", url="/api/nothing", headers=key),
                        dict(method="GET", url="/source/none", headers=key),
                        dict(method="GET", url="/config", headers=key),
                        dict(method="GET", url="/gradio_api/info", headers=key),
                        dict(method="GET", url="/openapi.json", headers=key),
                        dict(method="GET", url="/api/health")):
                r = c.request(**req)
                assert r.status_code < 500, (req, r.status_code)
                bodies.append(r.text)
            srv.stop()
            log = srv.output()
        auth_seen = {r["auth"] for r in llm.requests}
    assert auth_seen == {f"Bearer {LLM_KEY}"}  # the key was really in use
    for secret in (TOKEN, LLM_KEY):
        assert secret not in log, secret
        assert not any(secret in b for b in bodies), secret
    # The same in-process, with every logger at DEBUG (httpx, httpcore, chromadb, ...).
    from assistant.pipeline import Assistant

    with OpenAITestServer() as llm2:
        llm2.script(Reply(status=500), Reply(garbage=True))
        settings = make_settings(corpus_home, llm_url=llm2.url, llm_model="m", llm_api_key=LLM_KEY,
                                 llm_timeout=1, api_token=TOKEN)
        a = Assistant(settings, store=assistant.store, embedder=embedder)
        with caplog.at_level(logging.DEBUG):
            logging.getLogger().setLevel(logging.DEBUG)
            for _ in range(2):
                a.ask("Which Iranian drone models had technical problems?")
            assert LLM_KEY not in repr(a.llm) and LLM_KEY not in str(settings)
            logging.getLogger("assistant").debug("settings: %s", settings)
    assert caplog.records, "nothing was logged: the check would be vacuous"
    assert LLM_KEY not in caplog.text and TOKEN not in caplog.text
    record_figure("5 secrets", server_log_bytes=len(log), responses=len(bodies),
                  debug_records=len(caplog.records), secrets_found=0)


def test_rate_limit_covers_gradio_event_routes(assistant, corpus_home) -> None:  # type: ignore[no-untyped-def]
    """/api/ask's limit cannot be sidestepped through Gradio's /chat API or queue: one
    budget per client (the 429 on /api/ask itself: tests/test_web_guard.py)."""
    from assistant.server import create_app

    settings = make_settings(corpus_home, api_token=TOKEN, rate_limit_per_minute=3)
    key = {"X-API-Key": TOKEN}
    with AppServer(create_app(assistant, settings)) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        srv.server.config.timeout_graceful_shutdown = 2
        codes = [c.post("/gradio_api/call/chat", json={"data": ["What did Kirby say?"]}, headers=key).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 200]
        for path, body in (("/gradio_api/call/chat", {"data": ["x"]}), ("/gradio_api/run/chat", {"data": ["x"]}),
                           ("/gradio_api/queue/join", {"data": ["x"], "fn_index": 0, "session_hash": "abc"}),
                           ("/api/ask", {"question": "What did Kirby say?"})):
            r = c.post(path, json=body, headers=key)
            assert r.status_code == 429 and r.json() == {"error": "too many requests; try again in a minute"}, path
        assert c.get("/gradio_api/info", headers=key).status_code == 200  # reading is not limited
