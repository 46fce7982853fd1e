"""One server process: FastAPI with the REST API under /api, the source view, the
embeddable widget (/widget.js, /embed) and the Gradio chat at /.

Security at the edge (``WebGuard``, a plain ASGI middleware, so it also covers Gradio's
own routes and streams):
- ``ASSISTANT_API_TOKEN``: when set, every route except /api/health, /login and
  /widget.js needs the token (``Authorization: Bearer``, ``X-API-Key`` or the cookie set
  by ``/login?token=``).
- ``ASSISTANT_ALLOWED_ORIGINS``: CORS on /api/* and CSP ``frame-ancestors`` on pages;
  other origins get no CORS headers and cannot frame the pages.
- per-client rate limit on /api/ask and Gradio's event routes (429), request bodies over
  32 KB on /api/* and over 1 MB on every other route, Gradio's included (413),
  short JSON errors, never tracebacks.

/docs is Swagger UI served from the fastapi-offline package (no CDN), /openapi.json the schema.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import sys
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from assistant.errors import AssistantError, StoreUnavailable

WEB_DIR = Path(__file__).resolve().parent / "web"
MAX_BODY_BYTES = 32 * 1024
MAX_UI_BODY_BYTES = 1024 * 1024  # Gradio's routes (chat history included)
COOKIE = "assistant_token"
OPEN_PATHS = {"/api/health", "/login", "/widget.js"}
STORE_DOWN = "index unavailable, retry shortly"
GRADIO_SUBMIT = {"/gradio_api/queue/join"}
GRADIO_SUBMIT_PREFIXES = ("/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
log = logging.getLogger("assistant.server")


class FiltersBody(BaseModel):
    source: str = Field(default="", description="Only this source file.")
    outlet: str = Field(default="", description="Only this outlet.")
    date_from: str = Field(default="", description="Only articles dated on or after (YYYY-MM-DD).")
    date_to: str = Field(default="", description="Only articles dated on or before (YYYY-MM-DD).")


class AskBody(BaseModel):
    question: str = Field(max_length=2000, description="The question, in English or French.")
    history: list[str] = Field(default_factory=list, max_length=20, description="Earlier questions.")
    filters: FiltersBody | None = Field(default=None, description="Restrict the articles searched.")
    # The same filters as flat fields (kept for older clients).
    source: str = Field(default="", description="Only this source file.")
    outlet: str = Field(default="", description="Only this outlet.")
    date_from: str = Field(default="", description="Only articles dated on or after (YYYY-MM-DD).")
    date_to: str = Field(default="", description="Only articles dated on or before (YYYY-MM-DD).")


def parse_origins(value: str) -> list[str]:
    return [o.strip().rstrip("/") for o in (value or "").split(",") if o.strip()]


class RateLimiter:
    """Sliding one-minute window per client key."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.monotonic()
        with self.lock:
            q = self.hits[key]
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            return True


class WebGuard:
    """ASGI middleware: auth, CORS, frame-ancestors, rate limit and body size."""

    def __init__(self, app: Any, settings: Any) -> None:
        self.app = app
        self.token = settings.api_token or ""
        self.origins = parse_origins(settings.allowed_origins)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        ancestors = "*" if "*" in self.origins else " ".join(["'self'", *self.origins])
        self.csp = f"frame-ancestors {ancestors}".encode()

    def origin_allowed(self, origin: str) -> bool:
        return bool(origin) and ("*" in self.origins or origin.rstrip("/") in self.origins)

    def authorized(self, headers: dict[str, str]) -> bool:
        if not self.token:
            return True
        auth = headers.get("authorization", "")
        candidates = [headers.get("x-api-key", "")]
        if auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                candidates.append(value)
        return any(c and hmac.compare_digest(c.encode(), self.token.encode()) for c in candidates)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and self.token:
            hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not self.authorized(hdrs):
                await send({"type": "websocket.close", "code": 1008})
                return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin", "")
        is_api = path.startswith("/api/")
        cors = is_api and self.origin_allowed(origin)
        extra: list[tuple[bytes, bytes]] = []
        if cors:
            extra += [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]

        async def reply(status: int, body: dict[str, Any], more: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
            data = json.dumps(body).encode()
            hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                    *extra, *more]
            await send({"type": "http.response.start", "status": status, "headers": hdrs})
            await send({"type": "http.response.body", "body": data})

        if is_api and scope["method"] == "OPTIONS":
            if not cors:
                await reply(403, {"error": "origin not allowed"})
                return
            await reply(200, {}, [
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", b"Authorization, Content-Type, X-API-Key"),
                (b"access-control-max-age", b"600"),
            ])
            return

        # Open paths are open for reading only (Gradio has its own POST /login).
        is_open = path in OPEN_PATHS and scope["method"] in ("GET", "HEAD")
        if not is_open and not self.authorized(headers):
            if is_api or "text/html" not in headers.get("accept", ""):
                await reply(401, {"error": "missing or wrong API token"},
                            [(b"www-authenticate", b"Bearer")])
            else:
                page = (b"<!doctype html><meta charset=utf-8><title>Log in</title>"
                        b"<p>This assistant needs a token: open <code>/login?token=YOUR_TOKEN</code>.</p>")
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"text/html; charset=utf-8"), (b"content-security-policy", self.csp)]})
                await send({"type": "http.response.body", "body": page})
            return

        if scope["method"] in ("POST", "PUT", "PATCH"):
            # /api/* bodies are small; Gradio's own routes carry the chat history, so
            # they get a larger (still bounded) limit. The chat has no file uploads.
            limit = MAX_BODY_BYTES if is_api else MAX_UI_BODY_BYTES
            too_big = {"error": f"request body over {limit // 1024} KB"}
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await reply(413, too_big)
                return
            body = b""
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    await reply(413, too_big)
                    return
            if path == "/api/ask" or path in GRADIO_SUBMIT or path.startswith(GRADIO_SUBMIT_PREFIXES):
                # One budget per client for questions, however they are sent: /api/ask
                # or Gradio's own event routes (the chat's /chat API, the UI's queue).
                client = scope.get("client") or ("?", 0)
                if not self.limiter.allow(client[0]):  # per client address
                    await reply(429, {"error": "too many requests; try again in a minute"},
                                [(b"retry-after", b"60")])
                    return
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = replay

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                hdrs = list(message.get("headers", []))
                if is_api:
                    hdrs += extra
                elif not any(k.lower() == b"content-security-policy" for k, _ in hdrs):
                    hdrs.append((b"content-security-policy", self.csp))
                hdrs.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": hdrs}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def source_page(text: str, meta: dict[str, Any], start: int | None, end: int | None) -> str:
    """The article as escaped text with [start:end] in a <mark id="quote">."""
    e = html.escape
    n = len(text)
    if start is not None and end is not None and 0 <= start < end <= n:
        body = f'{e(text[:start])}<mark id="quote">{e(text[start:end])}</mark>{e(text[end:])}'
    else:
        body = e(text)
    title = meta.get("title") or meta.get("source") or "Article"
    facts = " · ".join(e(str(x)) for x in (meta.get("outlet"), meta.get("date"), meta.get("source")) if x)
    url = meta.get("url", "")
    link = f'<p><a href="{e(url)}" rel="noopener noreferrer">{e(url)}</a></p>' if url.startswith(("http://", "https://")) else ""
    return f"""<!doctype html>
<html lang="{e(meta.get('lang') or 'fr')}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font: 16px/1.6 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.4rem; line-height: 1.3; }} .meta {{ color: #666; }}
.text {{ white-space: pre-wrap; }} mark {{ background: #ffe066; padding: .1em 0; }}
</style></head><body>
<h1>{e(title)}</h1><p class="meta">{facts}</p>{link}
<div class="text">{body}</div>
</body></html>"""


def create_app(assistant, settings=None) -> Any:  # type: ignore[no-untyped-def]
    import gradio as gr
    from fastapi import HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from assistant.retrieve import Filters
    from assistant.ui import build_ui

    settings = settings or assistant.settings
    # FastAPI's /docs page loads Swagger UI from a CDN; fastapi-offline serves the same
    # page with its scripts from the package, so the API docs open with no network.
    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(
        title="News archive assistant", version="0.1.0",
        description="Answers from the indexed articles only; every claim is a verbatim, cited quote.",
    )
    frame_csp = "frame-ancestors " + (
        "*" if "*" in parse_origins(settings.allowed_origins)
        else " ".join(["'self'", *parse_origins(settings.allowed_origins)])
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse({"error": detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        msg = f"invalid request: {where + ': ' if where else ''}{first.get('msg', 'bad input')}"
        return JSONResponse({"error": msg[:200]}, status_code=422)

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> Any:
        # The Chroma server is down or restarting: a short, retryable error, not a 500.
        return JSONResponse({"error": STORE_DOWN}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

    @app.post("/api/ask", summary="Ask a question; the answer quotes and cites the articles")
    def ask(body: AskBody) -> Any:
        f = body.filters or FiltersBody()
        filters = Filters(
            source=f.source or body.source, outlet=f.outlet or body.outlet,
            date_from=f.date_from or body.date_from, date_to=f.date_to or body.date_to,
        )
        try:
            ans = assistant.ask(body.question, body.history, filters)
        except StoreUnavailable:
            return JSONResponse({"error": STORE_DOWN}, status_code=503, headers={"Retry-After": "5"})
        except AssistantError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return ans.to_dict()

    @app.get("/api/health", summary="Index counts, or 503 when the store is unreachable")
    def health() -> Any:
        try:
            counts = assistant.store.count()
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return {"status": "ok", **counts}

    @app.get("/api/sources", summary="The indexed articles")
    def sources() -> Any:
        return assistant.store.list_articles()

    @app.get("/source/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def source_view(article_id: str, start: int | None = Query(None), end: int | None = Query(None)) -> Any:
        got = assistant.store.get_article(article_id)
        if got is None:
            raise HTTPException(404, "no such article")
        text, meta = got
        page = source_page(text, meta or {}, start, end)
        # The page is static text: no script may run in it, whatever the article holds.
        csp = f"default-src 'none'; style-src 'unsafe-inline'; {frame_csp}"
        return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    @app.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
    def widget() -> Any:
        return FileResponse(WEB_DIR / "widget.js", media_type="application/javascript",
                            headers={"Cache-Control": "no-cache"})

    @app.api_route("/embed", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def embed() -> Any:
        csp = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               f"connect-src 'self'; {frame_csp}")
        return FileResponse(WEB_DIR / "embed.html", media_type="text/html",
                            headers={"Content-Security-Policy": csp})

    @app.get("/embed.js", include_in_schema=False)
    def embed_js() -> Any:
        return FileResponse(WEB_DIR / "embed.js", media_type="application/javascript")

    @app.get("/login", include_in_schema=False)
    def login(token: str = "") -> Any:
        expected = settings.api_token or ""
        if expected and not hmac.compare_digest(token.encode(), expected.encode()):
            return JSONResponse({"error": "wrong token"}, status_code=401)
        resp = RedirectResponse("/", status_code=303)
        if expected:
            resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=7 * 24 * 3600)
        return resp

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def no_such_api(rest: str) -> Any:
        raise HTTPException(404, "Not Found")

    app = gr.mount_gradio_app(app, build_ui(assistant, settings), path="/", footer_links=["api"])
    app.add_middleware(WebGuard, settings=settings)
    return app


def serve(settings, host: str = "127.0.0.1", port: int = 7860, ingest_if_empty: bool = True) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from assistant.pipeline import Assistant

    assistant = Assistant(settings)
    if ingest_if_empty and assistant.store.articles.count() == 0:
        from index.ingest import ingest

        print("the index is empty: indexing the bundled corpus...", file=sys.stderr)
        report = ingest([str(settings.corpus_dir)], settings, assistant.store, assistant.embedder)
        print(report.summary(), file=sys.stderr)
    assistant.warm()
    app = create_app(assistant)
    print(f"serving on http://{host}:{port} (widget: <script src=\"http://{host}:{port}/widget.js\"></script>)",
          file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
