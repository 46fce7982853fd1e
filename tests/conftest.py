"""Shared fixtures. Every test gets its own ASSISTANT_HOME, so no test touches a user's
index; the bundled corpus is indexed once per session with the real offline embedder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "articles"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    for var in ("ASSISTANT_CHROMA_URL", "ASSISTANT_LLM_URL", "ASSISTANT_EMBEDDER"):
        monkeypatch.delenv(var, raising=False)
    return home


def make_settings(home: Path, **overrides):  # type: ignore[no-untyped-def]
    from assistant.settings import Settings

    return Settings(home=home, **overrides)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real offline multilingual embedder, loaded once."""
    from index.embed import CachedEmbedder, USEEmbedder

    return CachedEmbedder(USEEmbedder())


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """A home with the bundled corpus indexed (built once; copy it before writing)."""
    from index.ingest import ingest
    from index.store import Store

    home = tmp_path_factory.mktemp("corpus-home")
    settings = make_settings(home)
    report = ingest([str(CORPUS)], settings, Store(settings), embedder)
    assert len(report.added) == 5 and not report.failed
    return home


@pytest.fixture(scope="session")
def assistant(corpus_home: Path, embedder):  # type: ignore[no-untyped-def]
    """A read-only Assistant over the indexed bundled corpus."""
    from assistant.pipeline import Assistant

    return Assistant(make_settings(corpus_home), embedder=embedder)


@pytest.fixture
def writable_home(corpus_home: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the indexed corpus that a test may change."""
    home = tmp_path / "home-copy"
    shutil.copytree(corpus_home, home)
    yield home


def article_text(assistant, source: str) -> str:  # type: ignore[no-untyped-def]
    for row in assistant.store.list_articles():
        if row["source"] == source:
            got = assistant.store.get_article(row["id"])
            assert got is not None
            return got[0]
    raise AssertionError(f"{source} not indexed")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real `chroma run` server on 127.0.0.1, shared by the session."""
    from chroma_server import ChromaServer

    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "data").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings for an empty index, embedded or on the Chroma server (own collections)."""
    import uuid

    collection = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        return make_settings(tmp_path / "home", chroma_url=server.url, collection=collection)
    return make_settings(tmp_path / "home", collection=collection)
