"""Bad inputs through the CLI, the embedders (OpenAI-compatible endpoint on a real
local server, embedder mismatch, optional sentence-transformers) and the progress bar."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from conftest import CORPUS, make_settings
from servers import free_port

G000 = sorted(p.name for p in CORPUS.iterdir())[0]
LATIN = "L'été dernier, à Montréal, les élèves ont déjà œuvré pour la fête de Noël ; ça coûte cher."


def test_bad_inputs_each_one_line_others_ingested(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "hash")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes((CORPUS / G000).read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "latin1.txt").write_bytes((LATIN + "\n\n" + LATIN.replace("été", "hiver") + "\n").encode("cp1252"))
    with open(folder / "huge.txt", "wb") as f:  # 50 MB, sparse: nothing to read
        f.truncate(50 * 1024 * 1024)
    (folder / "feed.jsonl").write_text(
        json.dumps({"title": "Une dépêche", "text": "Une dépêche valide sur la Corée du Nord et ses obus."}) + "\n{not json\n",
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{free_port()}/article.html"  # nothing listens there

    started = time.monotonic()
    code = main(["--home", str(tmp_path / "home"), "ingest", str(folder), url])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err and elapsed < 20
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 5, err
    expect = {
        "empty.txt": "empty",
        "binary.txt": "binary",
        "huge.txt": "too large",
        "feed.jsonl": "line 2",
        url: "unreachable",
    }
    for name, reason in expect.items():
        hits = [e for e in errors if name in e]
        assert len(hits) == 1 and reason in hits[0].lower(), (name, errors)
    assert not [line for line in err.splitlines() if line.startswith("failed")]
    assert "added 3" in out and "failed 5" in out

    from index.store import Store

    store = Store(make_settings(tmp_path / "home"))
    rows = {r["source"]: r for r in store.list_articles()}
    assert "good.txt" in rows and "latin1.txt" in rows and any(s.startswith("feed.jsonl") for s in rows)
    text, _ = store.get_article(rows["latin1.txt"]["id"])  # type: ignore[misc]
    assert LATIN in text  # accents intact


class _Embeddings(BaseHTTPRequestHandler):
    calls: list[dict] = []
    fail = False

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        if type(self).fail:
            self.send_response(500)
            self.end_headers()
            return
        data = []
        for i, text in enumerate(body["input"]):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            vec = np.random.default_rng(seed).standard_normal(16).round(4).tolist()
            data.append({"object": "embedding", "index": i, "embedding": vec})
        payload = json.dumps({"object": "list", "data": data[::-1], "model": body["model"]}).encode()  # out of order on purpose
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def embeddings_server():  # type: ignore[no-untyped-def]
    _Embeddings.calls, _Embeddings.fail = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_openai_embedder_against_local_server(embeddings_server: str) -> None:
    from assistant.errors import AssistantError
    from index.embed import OpenAIEmbedder

    emb = OpenAIEmbedder(embeddings_server, "tiny", batch_size=2)
    texts = ["un", "deux", "trois"]
    a = emb.embed(texts)
    assert a.shape == (3, 16) and emb.dim == 16 and emb.name == "openai:tiny"
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.allclose(emb.embed(["trois"])[0], a[2])  # order restored, deterministic
    assert [c["input"] for c in _Embeddings.calls[:2]] == [["un", "deux"], ["trois"]]
    _Embeddings.fail = True
    with pytest.raises(AssistantError, match="HTTP 500"):
        emb.embed(["x"])


def test_cli_with_openai_embedder(embeddings_server: str, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "openai")
    monkeypatch.setenv("ASSISTANT_EMBED_URL", embeddings_server + "/v1")
    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "tiny")
    home = str(tmp_path / "home")
    assert main(["--home", home, "ingest", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert "added 5" in out
    from index.store import Store

    assert Store(make_settings(tmp_path / "home")).info()["embedder"] == "openai:tiny"
    assert main(["--home", home, "ask", "Qu'a dit Kirby ?", "--json"]) == 0
    capsys.readouterr()
    _Embeddings.fail = True
    assert main(["--home", home, "ask", "Autre question ?"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "HTTP 500" in err


def test_querying_with_another_embedder_says_reindex(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    home = str(tmp_path / "home")
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "hash")
    assert main(["--home", home, "ingest", "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "usem3")
    assert main(["--home", home, "ask", "What did Kirby say?"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "re-index" in err and "'hash'" in err and "Traceback" not in err
    # writing with another embedder is refused too, nothing mixed in
    assert main(["--home", home, "ingest", "--quiet"]) == 1
    _, err = capsys.readouterr()
    assert "re-index" in err


def test_sentence_transformers_missing_is_clear(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    # the package is not installed here: this tests the error path
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("sentence-transformers is installed")
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "st")
    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "some-model")
    assert main(["--home", str(tmp_path / "home"), "ingest", "--quiet"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "pip install 'news-assistant[st]'" in err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_tty_and_long_runs() -> None:
    from assistant.cli import _ProgressBar

    tty = _Tty()
    bar = _ProgressBar(tty)
    for i in range(1, 6):
        bar(i, 5, f"f{i}")
    bar.close()
    assert tty.getvalue().count("\r") == 5 and "5/5 files" in tty.getvalue() and tty.getvalue().endswith("\n")

    short = io.StringIO()
    bar = _ProgressBar(short)
    for i in range(1, 6):
        bar(i, 5, f"f{i}")
    assert short.getvalue() == ""  # few files, not a terminal: no bar

    long = io.StringIO()
    bar = _ProgressBar(long)
    for i in range(1, 41):
        bar(i, 40, f"f{i}")
    lines = long.getvalue().splitlines()
    assert 5 <= len(lines) <= 11 and all(x.startswith("progress [") for x in lines) and "40/40" in lines[-1]


def test_unchanged_files_are_not_cleaned_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A re-run recognises an unchanged file by the hash of what was loaded (before
    cleaning); an index written before raw hashes existed gets them on its next run;
    a file whose metadata changed is cleaned again."""
    import index.ingest as ingest_mod
    from index import schema as S
    from index.embed import HashEmbedder
    from index.store import Store

    folder = tmp_path / "in"
    folder.mkdir()
    for src in sorted(CORPUS.iterdir())[:3]:
        (folder / src.name).write_bytes(src.read_bytes())
    settings = make_settings(tmp_path / "home", embedder="hash", ingest_batch=40)
    store, embedder = Store(settings), HashEmbedder()
    first = ingest_mod.ingest([str(folder)], settings, store, embedder)
    assert len(first.added) == 3
    assert all(m[S.RAW_HASH] for m in store.article_hashes().values())

    cleaned: list[str] = []
    real = ingest_mod.to_article
    monkeypatch.setattr(ingest_mod, "to_article", lambda doc: (cleaned.append(doc.source), real(doc))[1])
    again = ingest_mod.ingest([str(folder)], settings, store, embedder)
    assert len(again.unchanged) == 3 and cleaned == [] and again.chunks_embedded == 0

    # an index from before raw hashes: cleaned once more, then recognised
    ids = sorted(store.article_hashes())
    store.update_articles_meta({a: {S.RAW_HASH: ""} for a in ids})
    third = ingest_mod.ingest([str(folder)], settings, store, embedder)
    assert len(third.unchanged) == 3 and len(cleaned) == 3 and third.chunks_embedded == 0
    assert all(m[S.RAW_HASH] for m in store.article_hashes().values())
    cleaned.clear()
    ingest_mod.ingest([str(folder)], settings, store, embedder)
    assert cleaned == []

    # the same text under a new front-matter title: cleaned (the hash covers metadata)
    name = sorted(p.name for p in folder.iterdir())[0]
    text = (folder / name).read_text(encoding="utf-8")
    (folder / (name[:-4] + ".md")).write_text("---\ntitle: Un autre titre\n---\n" + text, encoding="utf-8")
    ingest_mod.ingest([str(folder)], settings, store, embedder)
    assert cleaned == [name[:-4] + ".md"]
