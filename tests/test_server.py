"""The web chat and REST API against a real server on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from servers import AppServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(assistant):  # type: ignore[no-untyped-def]
    from assistant.server import create_app

    with AppServer(create_app(assistant)) as srv:
        yield srv


def test_gradio_client_chat(server) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    reply = client.predict("What did Kirby say?", api_name="/chat")
    assert "Kirby" in reply
    # The cited passages are shown under the answer with their article titles.
    assert "Sources" in reply and "Les forces ennemies répandent des rumeurs" in reply
    assert "[1]" in reply and "[2]" in reply


def test_rest_ask_and_health(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/api/ask", json={"question": "What did Kirby say?"}, timeout=30)
    assert r.status_code == 200
    data = r.json()
    assert data["abstained"] is False and len(data["citations"]) >= 5
    h = httpx.get(server.url + "/api/health", timeout=10).json()
    assert h["status"] == "ok" and h["articles"] == 5


def test_rest_bad_question_is_short_error(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/api/ask", json={"question": "  "}, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"error": "the question is empty; type a question about the articles"}
