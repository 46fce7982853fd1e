"""The widget and the chat in a real headless Chromium (Debian's /usr/bin/chromium).

A host page served from another port embeds the widget with one script tag; the bubble
opens /embed in an iframe, an answer shows citations, and a citation opens the source
view with the quoted passage in a <mark>. An article carrying script payloads runs
nothing anywhere (widget, source view, Gradio chat)."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import make_settings
from servers import AppServer, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"),
]
PAYLOAD = """Kirby et les charges utiles
John Kirby a déclaré que <script>alert(1)</script> les livraisons d'armes nord-coréennes à la Russie continuaient.
Selon John Kirby, <img src=x onerror=alert(1)> la Russie a reçu des roquettes, a-t-il dit, voir <a href="javascript:alert(1)">ce lien</a>.
"""


@contextmanager
def host_site(tmp: Path, port: int, widget_src: str) -> Iterator[str]:
    """A plain static site on another port, like any newspaper page."""
    (tmp / "host.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Host</title><h1>The Daily Example</h1>"
        f'<p>Some article.</p><script src="{widget_src}"></script>', encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(tmp), **k)

        def log_message(self, *a):  # type: ignore[no-untyped-def]
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/host.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def served(assistant, home: Path, tmp: Path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    host_port = free_port()
    settings = make_settings(home, allowed_origins=f"http://127.0.0.1:{host_port}")
    with AppServer(create_app(assistant, settings)) as srv:
        srv.server.config.timeout_graceful_shutdown = 2
        with host_site(tmp, host_port, srv.url + "/widget.js") as host_url:
            yield srv.url, host_url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, timeout=30_000)
        yield b
        b.close()


def settled(page, locator, quiet_ms: int = 800, limit_ms: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until a streamed answer stops changing: a click on a link that the next
    streamed update re-renders can land on a detached node and open nothing."""
    last, still, waited = None, 0, 0
    while still < quiet_ms and waited < limit_ms:
        now = locator.inner_html()
        still = still + 100 if now == last else 0
        last = now
        page.wait_for_timeout(100)
        waited += 100
    assert still >= quiet_ms, f"the answer was still changing after {limit_ms} ms"


def open_citation(page, link):  # type: ignore[no-untyped-def]
    """Click a citation and return the page it opens."""
    with page.context.expect_page(timeout=20_000) as opened:
        link.click()
    source = opened.value
    source.wait_for_load_state()
    return source


def ask_in_widget(page, host_url: str, question: str):  # type: ignore[no-untyped-def]
    page.goto(host_url)
    page.click("#news-assistant-bubble")
    frame = page.frame_locator("#news-assistant-frame")
    frame.locator("#q").fill(question)
    frame.locator("#send").click()
    answer = frame.locator(".answer").last
    answer.locator("a.cite").first.wait_for(timeout=30_000)
    settled(page, answer)
    return frame, answer


def test_widget_on_another_origin_cites_and_highlights(browser, assistant, corpus_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with served(assistant, corpus_home, tmp_path) as (url, host_url):
        expected = httpx.post(url + "/api/ask", json={"question": "What did Kirby say?"}, timeout=30).json()
        page = browser.new_page()
        page.set_default_timeout(20_000)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        frame, answer = ask_in_widget(page, host_url, "What did Kirby say?")
        assert "Kirby" in answer.inner_text()
        first = answer.locator("a.cite").first
        assert first.inner_text() == "[1]"
        source = open_citation(page, first)
        mark = source.locator("mark#quote")
        assert mark.inner_text().strip() == expected["citations"][0]["quote"].strip()
        assert expected["citations"][0]["outlet"] in source.inner_text("body")
        assert not dialogs
        source.close()
        page.close()


def test_widget_refused_on_an_origin_not_allowed(browser, assistant, corpus_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """frame-ancestors lists only ASSISTANT_ALLOWED_ORIGINS: another site's iframe stays empty."""
    from assistant.server import create_app

    settings = make_settings(corpus_home, allowed_origins="http://127.0.0.1:9")
    with AppServer(create_app(assistant, settings)) as srv:
        srv.server.config.timeout_graceful_shutdown = 2
        with host_site(tmp_path, free_port(), srv.url + "/widget.js") as host_url:
            page = browser.new_page()
            page.goto(host_url)
            page.click("#news-assistant-bubble")
            page.wait_for_timeout(1500)
            assert page.frame_locator("#news-assistant-frame").locator("#q").count() == 0
            page.close()


def test_script_payloads_run_nowhere(browser, corpus_home, embedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.pipeline import Assistant
    from index.ingest import ingest

    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "payload.txt").write_text(PAYLOAD, encoding="utf-8")
    settings = make_settings(home)
    assistant = Assistant(settings, embedder=embedder)
    report = ingest([str(tmp_path / "docs" / "payload.txt")], settings, assistant.store, embedder)
    assert report.added == ["payload.txt"]

    site = tmp_path / "site"
    site.mkdir()
    with served(assistant, home, site) as (url, host_url):
        page = browser.new_page()
        page.set_default_timeout(20_000)
        dialogs: list[str] = []
        # On the context, so a dialog in any page it opens (source views) counts too,
        # even one raised while that page is still loading.
        page.context.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        injected = "img[src='x'], a[href^='javascript'], .answer script"

        # The widget: the payloads are visible as text, and nothing was injected.
        frame, answer = ask_in_widget(page, host_url, "What did Kirby say?")
        text = answer.inner_text()
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
        assert frame.locator(injected).count() == 0

        # The source view of the payload article.
        link = answer.locator("a.cite[title^='Kirby et les charges']").first
        source = open_citation(page, link)
        assert "alert(1)" in source.locator("mark#quote").inner_text()
        assert source.locator("img, script, a[href^='javascript']").count() == 0
        source.close()

        # The Gradio chat.
        page.goto(url + "/")
        page.locator("#question textarea").fill("What did Kirby say?")
        page.locator("#ask").click()
        page.locator("#chat").get_by_text("<script>alert(1)</script>", exact=False).first.wait_for(timeout=30_000)
        chat = page.locator("#chat")
        settled(page, chat)
        assert chat.locator("a.cite").count() >= 2
        assert chat.locator("img[src='x'], a[href^='javascript'], script").count() == 0
        # A citation in the chat opens the source view too, once the answer has
        # finished streaming.
        settled(page, chat)
        source = open_citation(page, chat.locator("a.cite").first)
        assert source.locator("mark#quote").inner_text().strip()
        source.close()
        page.wait_for_timeout(300)
        assert dialogs == []
        page.close()



def test_api_docs_render_offline(browser, assistant, corpus_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """/docs renders Swagger UI from the server itself: every script and style the page
    loads comes from the same origin, and the /api/ask operation is listed."""
    with served(assistant, corpus_home, tmp_path) as (url, _host_url):
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url + "/docs", wait_until="networkidle", timeout=30_000)
        page.get_by_text("/api/ask", exact=True).first.wait_for(timeout=15_000)
        assert requested and all(u.startswith(url) for u in requested), requested
