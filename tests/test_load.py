"""Tests for the loading stage (index/load.py). Offline: local files and a local HTTP server."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The project has no installed package; make `index` importable whatever the cwd.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index.load import SUPPORTED, LoadError, RawDocument, load_sources  # noqa: E402

PARAGRAPHS = [
    "Les nappes phréatiques du département ont atteint cet été leur niveau le plus bas depuis "
    "le début des relevés, selon le dernier bulletin publié lundi par le service géologique "
    "régional. Dans plusieurs communes de l’arrière-pays, les agriculteurs ont dû renoncer à "
    "irriguer leurs parcelles de maïs, tandis que les maires multiplient les arrêtés de "
    "restriction pour préserver l’eau potable destinée aux habitants.",
    "La préfecture a placé quarante-deux communes en situation de crise, ce qui interdit "
    "notamment le lavage des voitures, l’arrosage des jardins et le remplissage des piscines "
    "privées. Les contrevenants s’exposent à une amende pouvant atteindre mille cinq cents "
    "euros, a rappelé le sous-préfet lors d’une conférence de presse organisée mardi matin à "
    "la mairie, en présence des représentants des syndicats agricoles.",
    "Pour les hydrogéologues interrogés, la situation s’explique par un hiver particulièrement "
    "sec, suivi d’un printemps où les pluies sont restées très inférieures aux normales "
    "saisonnières. Ils estiment qu’il faudrait plusieurs mois de précipitations abondantes pour "
    "que les réserves souterraines retrouvent un niveau satisfaisant, et appellent les "
    "collectivités à investir durablement dans la réparation des canalisations qui fuient.",
]
TITLE = "Pénurie d’eau : les nappes phréatiques au plus bas"

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="fr-FR">
<head>
<meta charset="utf-8">
<title>{TITLE} | Le Quotidien du Sud</title>
<meta property="og:title" content="{TITLE}">
<meta property="og:site_name" content="Le Quotidien du Sud">
<meta name="author" content="Claire Dubois">
<meta property="article:published_time" content="2023-08-14T07:30:00+02:00">
<style>body {{ font-family: sans-serif; }} .cookie {{ position: fixed; }}</style>
<script>alert(1); var tracking = "NE_PAS_EXTRAIRE";</script>
</head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>Nous utilisons des cookies pour améliorer
votre expérience de navigation. Accepter ou refuser.</p><button>Accepter</button></div>
<header><nav><ul>
<li><a href="/">Accueil</a></li><li><a href="/politique">Politique</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/meteo">Météo régionale</a></li>
</ul></nav></header>
<main>
<article>
<h1>{TITLE}</h1>
<p>{PARAGRAPHS[0]}</p>
<p>{PARAGRAPHS[1]}</p>
<p>{PARAGRAPHS[2]}</p>
<script>document.write("alert(1)")</script>
</article>
</main>
<aside><h2>À lire aussi</h2><ul><li><a href="/a">Les dix plus belles plages</a></li></ul></aside>
<footer><p>© 2023 Le Quotidien du Sud — Mentions légales — Tous droits réservés</p></footer>
</body>
</html>
"""

PLAIN = "Le conseil municipal a voté mardi le budget de l’année. Le maire s’est dit « satisfait »."


def load(*paths: object, **kwargs: object) -> list[RawDocument | LoadError]:
    return list(load_sources([str(p) for p in paths], **kwargs))  # type: ignore[arg-type]


def only(items: list[RawDocument | LoadError]) -> RawDocument | LoadError:
    assert len(items) == 1, items
    return items[0]


# --------------------------------------------------------------------------- text files


def test_utf8_text_file(tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_bytes(b"\xef\xbb\xbf" + "Bonjour l’été à Orléans.\r\nDeuxième ligne.\r\n".encode())

    doc = only(load(f))

    assert isinstance(doc, RawDocument)
    assert doc.source == "note.txt"
    assert doc.path == str(f.resolve())
    assert doc.text == "Bonjour l’été à Orléans.\nDeuxième ligne."  # BOM and CRLF gone
    assert doc.meta == {}


@pytest.mark.parametrize(
    "sentence",
    [
        "Le café à l’Élysée : le président a déclaré qu’il était « très inquiet » de la situation.",
        "Café à Paris’",  # too short for charset detection to be sure: must still be cp1252
    ],
)
def test_cp1252_text_file_keeps_accents(tmp_path: Path, sentence: str) -> None:
    f = tmp_path / "legacy.txt"
    data = sentence.encode("cp1252")
    assert b"\xe9" in data and b"\xe0" in data and b"\x92" in data  # é à ’ as cp1252 bytes
    f.write_bytes(data)

    doc = only(load(f))

    assert isinstance(doc, RawDocument)
    assert doc.text == sentence
    assert "é" in doc.text and "à" in doc.text and "’" in doc.text


def test_utf16_with_bom_is_text(tmp_path: Path) -> None:
    f = tmp_path / "wide.txt"
    f.write_bytes("Dépêche de l’AFP.".encode("utf-16"))
    doc = only(load(f))
    assert isinstance(doc, RawDocument) and doc.text == "Dépêche de l’AFP."


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "empty.txt"
    f.write_bytes(content)
    assert only(load(f)) == LoadError(source="empty.txt", reason="empty file")


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + b"\x00" * 64,
        bytes(range(1, 32)) * 20,  # no NUL, but mostly control characters
    ],
)
def test_binary_file(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "image.txt"
    f.write_bytes(content)
    assert only(load(f)) == LoadError(source="image.txt", reason="binary file, not text")


def test_file_over_max_bytes(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    f.write_text("mot " * 500)

    err = only(load(f, max_bytes=1000))

    assert isinstance(err, LoadError) and err.source == "big.txt"
    assert err.reason == "file too large (2 KB > 1 KB limit; raise ASSISTANT_MAX_FILE_MB)"


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    with f.open("wb") as fh:  # sparse: 52.4 MB on paper, nothing on disk
        fh.truncate(52_400_000)

    start = time.monotonic()
    err = only(load(f))

    assert isinstance(err, LoadError)
    assert err.reason == "file too large (52.4 MB > 20 MB limit; raise ASSISTANT_MAX_FILE_MB)"
    assert time.monotonic() - start < 0.5


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.txt"
    assert only(load(missing)) == LoadError(source=str(missing), reason="no such file or folder")


def test_unsupported_file_named_explicitly_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "report.pdf"
    f.write_bytes(b"%PDF-1.4 ...")

    err = only(load(f))

    assert isinstance(err, LoadError)
    assert err.reason == "unsupported file type .pdf (supported: " + " ".join(SUPPORTED) + ")"


def test_single_string_is_one_path(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Une phrase.")
    items = list(load_sources(str(f)))  # not iterated character by character
    assert [i.source for i in items] == ["a.txt"]


# --------------------------------------------------------------------------- folders


def test_folder_recursion_sorted_and_skips(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "b.txt").write_text("Deuxième.")
    (tmp_path / "a.txt").write_text("Premier.")
    (tmp_path / "sub" / "c.md").write_text("# Titre\n\nTroisième.")
    (tmp_path / "sub" / "deeper" / "d.htm").write_text(ARTICLE_HTML)
    (tmp_path / "z.txt").write_text("Dernier.")
    (tmp_path / ".hidden.txt").write_text("Caché.")
    (tmp_path / ".git" / "notes.txt").write_text("Caché aussi.")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "photo.PNG").write_bytes(b"\x89PNG\r\n\x1a\n")

    items = load(tmp_path)

    assert all(isinstance(i, RawDocument) for i in items), items
    # Sorted on path parts, so a sub-folder's files stay together.
    assert [i.source for i in items] == ["a.txt", "b.txt", "sub/c.md", "sub/deeper/d.htm", "z.txt"]
    assert all(Path(i.path).is_absolute() and Path(i.path).is_file() for i in items)


def test_empty_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "only.pdf").write_bytes(b"%PDF")
    err = only(load(tmp_path))
    assert isinstance(err, LoadError) and err.reason.startswith("no supported files in folder")


def test_bad_file_does_not_stop_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Premier article.")
    (tmp_path / "b.txt").write_bytes(b"")
    (tmp_path / "c.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "d.txt").write_text("Dernier article.")

    items = load(tmp_path)

    assert [(type(i).__name__, i.source) for i in items] == [
        ("RawDocument", "a.txt"),
        ("LoadError", "b.txt"),
        ("LoadError", "c.txt"),
        ("RawDocument", "d.txt"),
    ]


def test_bundled_corpus() -> None:
    folder = Path(__file__).resolve().parents[1] / "data" / "articles"

    items = load(folder)

    assert len(items) == 5
    assert all(isinstance(i, RawDocument) for i in items), items
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".txt")
    assert [i.source for i in items] == names
    assert all(i.text.strip() and "\ufffd" not in i.text for i in items)


# --------------------------------------------------------------------------- markdown


def test_markdown_is_reduced_to_prose(tmp_path: Path) -> None:
    f = tmp_path / "article.md"
    f.write_text(
        "# Le *grand* titre\n"
        "\n"
        "Le ministre a annoncé un [plan d’urgence](https://example.org/plan_(2023) \"Plan\") "
        "lundi. ![Photo du ministre](img/ministre.jpg)\n"
        "\n"
        "## Les **mesures** clés\n"
        "\n"
        "- Une aide de _cinq cents_ euros par foyer.\n"
        "* Un `guichet` unique, voir [la note][note].\n"
        "\n"
        "> Il faut agir \\*vite\\*, a-t-il dit.\n"
        "\n"
        "Le fichier config_file_name reste inchangé et 2*3*4 vaut vingt-quatre.\n"
        "\n"
        "---\n"
        "[note]: https://example.org/note\n",
        encoding="utf-8",
    )

    doc = only(load(f))

    assert isinstance(doc, RawDocument)
    assert doc.meta == {"title": "Le grand titre"}
    assert doc.text == (
        "Le ministre a annoncé un plan d’urgence lundi.\n"
        "\n"
        "Les mesures clés\n"
        "\n"
        "Une aide de cinq cents euros par foyer.\n"
        "Un guichet unique, voir la note.\n"
        "\n"
        "Il faut agir *vite*, a-t-il dit.\n"
        "\n"
        "Le fichier config_file_name reste inchangé et 2*3*4 vaut vingt-quatre."
    )


def test_markdown_front_matter_and_setext_title(tmp_path: Path) -> None:
    f = tmp_path / "a.markdown"
    f.write_text("---\ntitle: \"Crue de la Loire\"\ndate: 2023-03-02\nsource: Ouest Matin\n---\n"
                 "Sous-titre\n=========\n\nLa Loire est sortie de son lit.\n")
    doc = only(load(f))
    assert isinstance(doc, RawDocument)
    assert doc.meta == {"title": "Crue de la Loire", "date": "2023-03-02", "outlet": "Ouest Matin"}
    assert doc.text == "Sous-titre\n\nLa Loire est sortie de son lit."


# --------------------------------------------------------------------------- HTML


def test_html_article_body_only(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(ARTICLE_HTML, encoding="utf-8")

    doc = only(load(f))

    assert isinstance(doc, RawDocument)
    for paragraph in PARAGRAPHS:
        assert paragraph in doc.text
    assert not doc.text.startswith(TITLE)  # the title is meta, not text
    for noise in ("alert(1)", "NE_PAS_EXTRAIRE", "font-family", "Accueil", "Politique",
                  "cookies", "Accepter", "Mentions légales", "Tous droits", "plus belles plages"):
        assert noise not in doc.text, noise


def test_html_metadata(tmp_path: Path) -> None:
    f = tmp_path / "page.htm"
    f.write_text(ARTICLE_HTML, encoding="utf-8")

    doc = only(load(f))

    assert isinstance(doc, RawDocument)
    assert doc.meta["title"] == TITLE
    assert doc.meta["outlet"] == "Le Quotidien du Sud"
    assert doc.meta["author"] == "Claire Dubois"
    assert doc.meta["date"] == "2023-08-14"
    assert doc.meta["lang"] == "fr"
    assert all(isinstance(v, str) for v in doc.meta.values())


def test_html_in_legacy_encoding(tmp_path: Path) -> None:
    f = tmp_path / "ancien.html"
    html = ARTICLE_HTML.replace('charset="utf-8"', 'charset="windows-1252"')
    f.write_bytes(html.encode("cp1252"))
    doc = only(load(f))
    assert isinstance(doc, RawDocument) and PARAGRAPHS[1] in doc.text


def test_html_without_article_text(tmp_path: Path) -> None:
    f = tmp_path / "vide.html"
    f.write_text(
        "<html><head><title>Rien</title><script>alert(1)</script></head><body></body></html>"
    )
    assert only(load(f)) == LoadError(source="vide.html", reason="no article text found in HTML")


# --------------------------------------------------------------------------- JSON Lines


def test_jsonl_records_and_malformed_line(tmp_path: Path) -> None:
    f = tmp_path / "feed.jsonl"
    f.write_text(
        '{"id": "dep-1", "text": "Premier article.", "title": "Un", "outlet": "AFP",'
        ' "date": "2023-01-02"}\n'
        '{"content": "Deuxième article.", "source": "Reuters", "author": 42, "tags": ["a"],'
        ' "url": null}\n'
        "\n"
        '{"text": "cassé", "title": \n'
        '{"body": "Troisième article.", "site": "Le Monde", "lang": "fr", "extra": {"k": 1}}\n',
        encoding="utf-8",
    )

    items = load(f)

    docs = [i for i in items if isinstance(i, RawDocument)]
    errors = [i for i in items if isinstance(i, LoadError)]
    assert [d.source for d in docs] == ["feed.jsonl#dep-1", "feed.jsonl#2", "feed.jsonl#5"]
    assert [d.text for d in docs] == ["Premier article.", "Deuxième article.", "Troisième article."]
    assert docs[0].meta == {"title": "Un", "outlet": "AFP", "date": "2023-01-02"}
    assert docs[1].meta == {"outlet": "Reuters", "author": "42"}
    assert docs[2].meta == {"outlet": "Le Monde", "lang": "fr"}
    assert all(d.path == str(f.resolve()) for d in docs)
    assert len(errors) == 1
    assert errors[0].source == "feed.jsonl:4"
    assert errors[0].reason.startswith("line 4: invalid JSON (")


def test_jsonl_record_without_text(tmp_path: Path) -> None:
    f = tmp_path / "feed.jsonl"
    f.write_text('{"title": "Sans texte"}\n[1, 2]\n')
    items = load(f)
    assert [i.source for i in items] == ["feed.jsonl:1", "feed.jsonl:2"]
    assert all(isinstance(i, LoadError) for i in items)
    assert items[0].reason.startswith('line 1: no "text"')


# --------------------------------------------------------------------------- URLs


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event
    user_agents: list[str]

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8",
              length: bool = True, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.user_agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/article.html":
            self._send(200, ARTICLE_HTML.encode(), "text/html; charset=utf-8")
        elif path == "/plain":
            self._send(200, PLAIN.encode())
        elif path == "/legacy":
            self._send(200, PLAIN.encode("cp1252"), "text/plain")
        elif path == "/old-article":
            self._send(301, headers={"Location": "/article.html"})
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif path == "/missing":
            self._send(404, b"not here")
        elif path == "/big":
            self._send(200, b"x" * 5000)
        elif path == "/big-unannounced":
            self._send(200, b"x" * 5000, length=False)  # HTTP/1.0: body ends at close
        elif path == "/image.png":
            self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")
        elif path == "/slow":
            self.release.wait(5)  # set at teardown so the thread never outlives the tests
            self._send(200, b"too late")
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(50):
                if self.release.wait(0.05):
                    break
                self.wfile.write(b"a")
                self.wfile.flush()
        else:
            self._send(500, b"unknown test route")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"release": threading.Event(), "user_agents": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval keeps shutdown() (and so the teardown) quick.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        handler.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment would intercept requests to the local test server.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_url_html(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    doc = only(load(f"{base}/article.html"))

    assert isinstance(doc, RawDocument)
    assert doc.source == f"{base}/article.html" and doc.path == ""
    assert all(p in doc.text for p in PARAGRAPHS)
    assert "alert(1)" not in doc.text and "Accueil" not in doc.text
    assert doc.meta["url"] == f"{base}/article.html"
    assert doc.meta["title"] == TITLE
    assert "news-assistant" in handler.user_agents[-1]


def test_url_plain_text(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    doc = only(load(f"{base}/plain"))
    url = f"{base}/plain"
    assert doc == RawDocument(source=url, text=PLAIN, meta={"url": url}, path="")


def test_url_plain_text_without_charset(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    doc = only(load(f"{base}/legacy"))
    assert isinstance(doc, RawDocument) and doc.text == PLAIN


def test_url_redirect_reports_final_url(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    doc = only(load(f"{base}/old-article"))
    assert isinstance(doc, RawDocument)
    assert doc.source == f"{base}/article.html"
    assert doc.meta["url"] == f"{base}/article.html"


def test_url_redirect_loop(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    err = only(load(f"{base}/loop"))
    assert err == LoadError(f"{base}/loop", "too many redirects (more than 5)")


def test_url_404(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    assert only(load(f"{base}/missing")) == LoadError(source=f"{base}/missing", reason="HTTP 404")


@pytest.mark.parametrize("route", ["/big", "/big-unannounced"])
def test_url_body_over_max_bytes(server: tuple[str, type[_Handler]], route: str) -> None:
    base, _ = server
    err = only(load(f"{base}{route}", max_bytes=1000))
    assert isinstance(err, LoadError)
    assert err.reason.startswith("response too large (")
    assert err.reason.endswith("1 KB limit; raise ASSISTANT_MAX_FILE_MB)")


def test_url_unsupported_content_type(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    err = only(load(f"{base}/image.png"))
    assert isinstance(err, LoadError)
    assert err.reason.startswith("unsupported content type image/png")


def test_url_slow_endpoint_times_out(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    start = time.monotonic()
    err = only(load(f"{base}/slow", timeout=0.3))
    elapsed = time.monotonic() - start
    assert err == LoadError(f"{base}/slow", "unreachable URL: no response within 0.3 s")
    assert elapsed < 2


def test_url_trickling_body_hits_the_deadline(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    start = time.monotonic()
    err = only(load(f"{base}/trickle", timeout=0.3))
    elapsed = time.monotonic() - start
    assert isinstance(err, LoadError)
    assert err.reason == "unreachable URL: download took longer than 0.3 s"
    assert elapsed < 2


def test_url_connection_refused() -> None:
    with socket.socket() as sock:  # grab a free port, then close it so nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article"
    err = only(load(url, timeout=2))
    assert err == LoadError(source=url, reason="unreachable URL: connection refused")


def test_errors_never_escape(tmp_path: Path) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    ok = tmp_path / "ok.txt"
    ok.write_text("Toujours chargé.")

    transport = httpx.MockTransport(explode)
    items = list(load_sources(["http://127.0.0.1:9/a", str(ok)], transport=transport))

    assert items[0] == LoadError("http://127.0.0.1:9/a", "unexpected error: RuntimeError: boom")
    assert isinstance(items[1], RawDocument) and items[1].text == "Toujours chargé."


def test_mixed_inputs_keep_going(tmp_path: Path, server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    good = tmp_path / "ok.txt"
    good.write_text("Un article.")
    items = load(tmp_path / "absent", f"{base}/missing", good, f"{base}/plain")
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["LoadError", "LoadError", "RawDocument", "RawDocument"]
