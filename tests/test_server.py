"""The web chat and REST API against a real server on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures as cf

import httpx
import pytest

from servers import AppServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(assistant):  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    with AppServer(create_app(assistant)) as srv:
        srv.server.config.timeout_graceful_shutdown = 2  # Gradio clients keep streams open
        yield srv


def test_gradio_client_chat(server) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    reply = client.predict("What did Kirby say?", api_name="/chat")
    assert "Kirby" in reply
    # The cited passages are shown under the answer with their article titles.
    assert "Sources" in reply and "Les forces ennemies répandent des rumeurs" in reply
    assert "[1]" in reply and "[2]" in reply
    # Each marker links to the source view with the quoted span.
    assert 'class="cite" href="/source/a' in reply and "start=1578&amp;end=1807#quote" in reply


def test_gradio_chat_ui_streams_with_filters_and_history(server) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    job = client.submit("What did Kirby say?", [], "BBC", "", "", api_name="/chat_ui")
    history, *_ = job.result(timeout=60)
    updates = job.outputs()
    assert len(updates) >= 3, "the answer should arrive in several steps"
    assert history[0]["role"] == "user" and history[-1]["role"] == "assistant"
    text = history[-1]["content"]
    text = text if isinstance(text, str) else " ".join(b.get("text", "") for b in text)
    assert "BBC" in text and "002_cd1684a615374415.txt" not in text
    cleared = client.predict(api_name="/new_conversation")
    assert cleared[0] == []


def test_rest_ask_and_health(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/api/ask", json={"question": "What did Kirby say?"}, timeout=30)
    assert r.status_code == 200
    data = r.json()
    assert data["abstained"] is False and len(data["citations"]) >= 5
    assert set(data) >= {"question", "answer", "abstained", "citations", "closest", "conflict", "mode",
                         "notice", "timings_ms"}
    c = data["citations"][0]
    assert set(c) >= {"id", "source", "title", "quote", "start", "end", "article_id", "outlet", "date"}
    h = httpx.get(server.url + "/api/health", timeout=10).json()
    assert h["status"] == "ok" and h["articles"] == 5


def test_rest_filters_outlet_and_dates(server) -> None:  # type: ignore[no-untyped-def]
    q = "What did Kirby say?"
    bbc = httpx.post(server.url + "/api/ask", json={"question": q, "filters": {"outlet": "BBC"}}, timeout=30).json()
    assert bbc["citations"] and {c["outlet"] for c in bbc["citations"]} == {"BBC"}
    flat = httpx.post(server.url + "/api/ask", json={"question": q, "date_from": "2022-09-01"}, timeout=30).json()
    assert flat["citations"] and {c["date"] for c in flat["citations"]} == {"2022-09-22"}
    before = httpx.post(server.url + "/api/ask", json={"question": q, "filters": {"date_to": "2021-12-31"}},
                        timeout=30).json()
    assert before["citations"] == []


def test_rest_sources_and_openapi(server) -> None:  # type: ignore[no-untyped-def]
    rows = httpx.get(server.url + "/api/sources", timeout=10).json()
    assert len(rows) == 5 and all({"id", "source", "title", "outlet", "date", "n_chunks"} <= set(r) for r in rows)
    spec = httpx.get(server.url + "/openapi.json", timeout=10).json()
    assert {"/api/ask", "/api/health", "/api/sources"} <= set(spec["paths"])
    assert "question" in spec["components"]["schemas"]["AskBody"]["properties"]
    assert httpx.get(server.url + "/docs", timeout=10).status_code == 200


def test_rest_bad_question_is_short_error(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/api/ask", json={"question": "  "}, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"error": "the question is empty; type a question about the articles"}
    r = httpx.post(server.url + "/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and list(r.json()) == ["error"] and "Traceback" not in r.text
    r = httpx.get(server.url + "/api/nothing-here")
    assert r.status_code == 404 and r.json() == {"error": "Not Found"}


def test_source_view_highlights_the_quote(server) -> None:  # type: ignore[no-untyped-def]
    data = httpx.post(server.url + "/api/ask", json={"question": "What did Kirby say?"}, timeout=30).json()
    c = data["citations"][0]
    r = httpx.get(f"{server.url}/source/{c['article_id']}", params={"start": c["start"], "end": c["end"]})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    import html

    assert f'<mark id="quote">{html.escape(c["quote"])}</mark>' in r.text
    assert html.escape(c["title"]) in r.text and "BBC" in r.text and "2022-09-22" in r.text
    assert httpx.get(server.url + "/source/nope").status_code == 404


def test_parallel_users(server) -> None:  # type: ignore[no-untyped-def]
    """Several users at once: REST and Gradio requests in parallel all succeed."""
    from gradio_client import Client

    questions = ["What did Kirby say?", "Which drones did Russia get from Iran?",
                 "Qu'a dit le ministère nord-coréen de la Défense ?", "What did Kirby say?"]

    def rest(q: str) -> int:
        return httpx.post(server.url + "/api/ask", json={"question": q}, timeout=60).status_code

    def gradio(q: str) -> str:
        return Client(server.url + "/", verbose=False).predict(q, api_name="/chat")

    with cf.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(rest, questions))
        replies = list(pool.map(gradio, questions))
    assert codes == [200] * 4
    assert all(r and not r.startswith("⚠️") for r in replies)
