"""Take docs/chat.png and docs/widget.png with headless Chromium (run once, by hand):

    PYTHONPATH=. python docs/screenshots.py

Indexes the bundled corpus into a temporary home, serves the app on 127.0.0.1 and the
example host page from another port, then photographs the chat and the widget."""

from __future__ import annotations

import http.server
import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers import AppServer, free_port  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "What did Kirby say?"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from assistant.pipeline import Assistant
    from assistant.server import create_app
    from assistant.settings import Settings
    from index.ingest import ingest

    home = Path(tempfile.mkdtemp(prefix="shots-"))
    host_port = free_port()
    settings = Settings(home=home, allowed_origins=f"http://127.0.0.1:{host_port}")
    assistant = Assistant(settings)
    ingest([str(settings.corpus_dir)], settings, assistant.store, assistant.embedder)
    with AppServer(create_app(assistant, settings)) as srv:
        site = home / "site"
        site.mkdir()
        host = (ROOT / "examples" / "host.html").read_text(encoding="utf-8")
        (site / "host.html").write_text(host.replace("http://127.0.0.1:7860", srv.url), encoding="utf-8")
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(site), **k)  # noqa: E731
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(srv.url + "/")
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#ask").click()
            page.locator("#chat a.cite").nth(2).wait_for()
            page.wait_for_timeout(800)
            page.evaluate("document.querySelectorAll('#chat *').forEach(e => {"
                          " if (e.scrollHeight > e.clientHeight + 5) e.scrollTop = 0; })")
            page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / "chat.png"))

            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.goto(f"http://127.0.0.1:{host_port}/host.html")
            page.click("#news-assistant-bubble")
            frame = page.frame_locator("#news-assistant-frame")
            frame.locator("#q").fill(QUESTION)
            frame.locator("#send").click()
            frame.locator(".answer a.cite").first.wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ROOT / "docs" / "widget.png"))
            browser.close()
        httpd.shutdown()
        srv.server.config.timeout_graceful_shutdown = 2
    print("wrote docs/chat.png and docs/widget.png")


if __name__ == "__main__":
    main()
