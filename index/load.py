"""Loading stage: turn files, folders and http(s) URLs into raw documents.

Every input yields either ``RawDocument`` objects or ``LoadError`` objects; nothing here
raises for bad input, so one broken file never stops an ingestion run.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import trafilatura
from charset_normalizer import from_bytes

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
USER_AGENT = "news-assistant/1.0 (document loader)"

_MB = 1_000_000  # ASSISTANT_MAX_FILE_MB counts decimal megabytes (20.0 -> 20_000_000 bytes)
_SUPPORTED_HINT = "supported: " + " ".join(SUPPORTED)
_SIZE_HINT = "raise ASSISTANT_MAX_FILE_MB"
_MAX_REDIRECTS = 5


@dataclass
class RawDocument:
    """A decoded document, before cleaning and chunking.

    ``source`` is the file name relative to the folder given (for a single file: its
    name; for a JSON Lines record: ``file#line`` or ``file#id``) or the final URL.
    ``text`` never contains the title; ``meta`` holds optional flat strings
    (title, url, date, author, outlet, lang). ``path`` is absolute for files, "" for URLs.
    """

    source: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    path: str = ""


@dataclass
class LoadError:
    """An input that could not be loaded; ``reason`` is one line the user can act on."""

    source: str
    reason: str


Item = RawDocument | LoadError


def load_sources(
    paths: Iterable[str],
    *,
    max_bytes: int = 20_000_000,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[RawDocument | LoadError]:
    """Yield documents and errors for files, folders and http(s) URLs.

    Folders are walked recursively in sorted order, skipping hidden files and unsupported
    extensions silently; an explicitly named unsupported file is reported as an error.

    ``max_bytes`` caps every file and response body; ``timeout`` (seconds) bounds each
    network phase and, as a whole, the download of one URL. ``transport`` is handed to
    ``httpx.Client`` (tests, custom networking). Never raises for a bad input.
    """
    # A lone string is a common slip; iterating it would load one path per character.
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    client: httpx.Client | None = None
    try:
        for raw in paths:
            spec = os.fspath(raw).strip()
            if not spec:
                yield LoadError(source=str(raw), reason="empty path")
                continue
            if _is_url(spec):
                if client is None:
                    client = _make_client(timeout, transport)
                yield from _guarded(spec, _load_url(client, spec, max_bytes, timeout))
            else:
                yield from _guarded(spec, _load_path(spec, max_bytes))
    finally:
        if client is not None:
            client.close()


# --------------------------------------------------------------------------- dispatch


def _guarded(source: str, items: Iterator[Item]) -> Iterator[Item]:
    # Last line of defence: a bug or a third-party parser crash on one input must become
    # a LoadError for that input, not abort the whole run.
    try:
        yield from items
    except Exception as exc:  # noqa: BLE001
        yield LoadError(source=source, reason=f"unexpected error: {_short_exc(exc)}")


def _load_path(spec: str, max_bytes: int) -> Iterator[Item]:
    path = Path(spec).expanduser()
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as exc:
        yield LoadError(source=spec, reason=f"cannot access path: {_os_reason(exc)}")
        return
    if not exists:
        yield LoadError(source=spec, reason="no such file or folder")
        return
    if not is_dir:
        ext = path.suffix.lower()
        if ext not in SUPPORTED:
            kind = f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"
            yield LoadError(source=spec, reason=f"{kind} ({_SUPPORTED_HINT})")
            return
        yield from _guarded(path.name, _load_file(path.resolve(), path.name, max_bytes))
        return

    root = path.resolve()
    files, unreadable = _walk(root)
    for file in files:
        source = file.relative_to(root).as_posix()
        yield from _guarded(source, _load_file(file, source, max_bytes))
    for folder, reason in unreadable:
        yield LoadError(source=folder, reason=f"cannot read folder: {reason}")
    if not files and not unreadable:
        yield LoadError(source=spec, reason=f"no supported files in folder ({_SUPPORTED_HINT})")


def _walk(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    files: list[Path] = []
    unreadable: list[tuple[str, str]] = []

    def on_error(exc: OSError) -> None:
        where = Path(os.path.relpath(exc.filename, root)).as_posix() if exc.filename else str(root)
        unreadable.append((where, _os_reason(exc)))

    # os.walk does not follow directory symlinks, which keeps loops out.
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED:
                files.append(Path(dirpath) / name)
    # Sorting on path parts (not the joined string) keeps a folder's files together.
    files.sort(key=lambda p: p.relative_to(root).parts)
    return files, unreadable


def _load_file(path: Path, source: str, max_bytes: int) -> Iterator[Item]:
    data = _read_capped(path, source, max_bytes)
    if isinstance(data, LoadError):
        yield data
        return
    ext = path.suffix.lower()
    if ext in (".html", ".htm"):
        yield _from_html(data, source=source, path=str(path), url=None, declared=None)
    elif ext == ".jsonl":
        yield from _from_jsonl(data, source=source, path=str(path))
    else:
        yield _from_text(data, source=source, path=str(path), markdown=ext in (".md", ".markdown"))


def _read_capped(path: Path, source: str, max_bytes: int) -> bytes | LoadError:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return LoadError(source=source, reason=_too_large(size, max_bytes))
        with path.open("rb") as fh:
            # Reading one byte past the cap catches files that grew since stat().
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return LoadError(source=source, reason=f"cannot read file: {_os_reason(exc)}")
    if len(data) > max_bytes:
        return LoadError(source=source, reason=_too_large(None, max_bytes))
    return data


# --------------------------------------------------------------------------- decoding

_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with FF FE too
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Declared "Latin-1" is cp1252 in practice (WHATWG maps it so): curly quotes live in 0x80-0x9F.
_CP1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii"}
_WESTERN = {"cp1252", "latin_1", "iso8859_15", "iso8859_1"}


class _Binary(Exception):
    pass


def _decode(data: bytes, declared: str | None = None) -> str:
    # Raises _Binary for data that is not text.
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _normalize(data.decode(codec))
            except UnicodeDecodeError:
                break
    if _looks_binary(data):
        raise _Binary
    try:
        return _normalize(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if declared:
        codec = "cp1252" if declared.lower() in _CP1252_ALIASES else declared
        try:
            return _normalize(data.decode(codec))
        except (LookupError, UnicodeDecodeError):
            pass
    return _normalize(data.decode(_guess_legacy(data), errors="replace"))


def _guess_legacy(data: bytes) -> str:
    results = from_bytes(data[:200_000])
    best = results.best()
    if best is None:
        return _cp1252_or_latin1(data)
    # charset_normalizer is unreliable on short samples (it calls "Café à" Cyrillic
    # cp1125), so a Western candidate that is no more chaotic than the best one wins:
    # this corpus is mostly French and English.
    for match in results:
        if match.encoding in _WESTERN and match.chaos <= best.chaos + 0.01:
            return _cp1252_or_latin1(data)
    # BOM-less UTF-16/32 would have NUL bytes and been rejected as binary already.
    if best.encoding.startswith(("utf_16", "utf_32")):
        return _cp1252_or_latin1(data)
    return best.encoding


def _cp1252_or_latin1(data: bytes) -> str:
    # cp1252 leaves five bytes undefined; Latin-1 decodes everything.
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if (b < 32 and b not in _ALLOWED_CONTROLS) or b == 127)
    return controls / len(sample) > 0.05


def _normalize(text: str) -> str:
    # NFC so that "é" typed two ways matches in search and in verbatim quotes.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- text and markdown


def _from_text(
    data: bytes, *, source: str, path: str, markdown: bool, declared: str | None = None
) -> Item:
    if not data.strip():
        return LoadError(source=source, reason="empty file")
    try:
        text = _decode(data, declared)
    except _Binary:
        return LoadError(source=source, reason="binary file, not text")
    meta: dict[str, str] = {}
    if markdown:
        text, meta = _strip_markdown(text)
    text = text.strip()
    if not text:
        reason = "no text left once markdown syntax is removed" if markdown else "empty file"
        return LoadError(source=source, reason=reason)
    return RawDocument(source=source, text=text, meta=meta, path=path)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HRULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]+\S+.*$")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# (url "title") with one level of parentheses inside the url
_URL_PART = r"\((?:[^()\s]|\([^()]*\))*(?:[ \t]+\"[^\"]*\")?\)"
_IMAGE = re.compile(r"[ \t]*!\[[^\]]*\](?:" + _URL_PART + r"|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]*)\]" + _URL_PART)
_LINK_REF = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_EMPH = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"
    r"|(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"  # not inside snake_case words
)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_ESCAPABLE = "\\`*_{}[]()#+-.!>~|"
_ESCAPED = re.compile(r"\\([" + re.escape(_ESCAPABLE) + r"])")
_PUA = 0xE000  # escaped characters are parked in the Private Use Area during inline rewriting
_FRONT_KEYS = {
    "title": "title", "date": "date", "author": "author", "url": "url", "lang": "lang",
    "language": "lang", "outlet": "outlet", "source": "outlet", "site": "outlet",
    "sitename": "outlet", "publisher": "outlet",
}  # fmt: skip


def _strip_markdown(text: str) -> tuple[str, dict[str, str]]:
    meta: dict[str, str] = {}
    front = _FRONT_MATTER.match(text)
    if front:
        meta.update(_front_matter(front.group(1)))
        text = text[front.end() :]
    text = _HTML_COMMENT.sub("", text)

    out: list[str] = []
    title_line: int | None = None  # index in `out` of the heading used as the title
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        prev = out[-1] if out else ""
        setext = _SETEXT.match(line)
        if setext and prev.strip() and not _HRULE.match(prev):
            # "Title\n=====" is a heading: drop the underline, keep the words.
            if setext.group(1)[0] == "=" and "title" not in meta:
                meta["title"], title_line = prev.strip(), len(out) - 1
            continue
        if _HRULE.match(line) or _LINK_DEF.match(line):
            continue
        heading = _ATX.match(line)
        if heading:
            words = _inline(heading.group(2) or "")
            if len(heading.group(1)) == 1 and "title" not in meta and words:
                meta["title"], title_line = words, len(out)
            out.append(words)
            continue
        line = _QUOTE.sub("", line)
        line = _BULLET.sub(r"\1", line)
        out.append(_inline(line))

    # The title lives in meta (as for HTML); drop it from the body only when it opens the
    # document, so a mid-document heading keeps its place in the prose.
    if title_line is not None and not any(s.strip() for s in out[:title_line]):
        del out[title_line]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return body, meta


def _inline(line: str) -> str:
    line = _ESCAPED.sub(lambda m: chr(_PUA + _ESCAPABLE.index(m.group(1))), line)
    without_images = _IMAGE.sub("", line)
    if without_images != line and line.lstrip().startswith("!["):
        without_images = without_images.lstrip()
    line = without_images
    line = _LINK.sub(r"\1", line)
    line = _LINK_REF.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _CODE.sub(r"\2", line)
    for _ in range(2):  # nested emphasis such as ***word***
        line = _STRONG.sub(lambda m: m.group(1) or m.group(2), line)
        line = _EMPH.sub(lambda m: m.group(1) or m.group(2), line)
    line = _STRIKE.sub(r"\1", line)
    return "".join(
        _ESCAPABLE[ord(c) - _PUA] if _PUA <= ord(c) < _PUA + len(_ESCAPABLE) else c for c in line
    )


def _front_matter(block: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line in block.split("\n"):
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().strip("\"'")
        if sep and value and key in _FRONT_KEYS and _FRONT_KEYS[key] not in meta:
            meta[_FRONT_KEYS[key]] = value
    return meta


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _from_html(
    data: bytes, *, source: str, path: str, url: str | None, declared: str | None
) -> Item:
    if not data.strip():
        return LoadError(source=source, reason="empty file")
    if not declared:
        found = _META_CHARSET.search(data[:4096])
        declared = found.group(1).decode("ascii") if found else None
    try:
        html = _decode(data, declared)
    except _Binary:
        return LoadError(source=source, reason="binary file, not text")

    tree = trafilatura.load_html(html)
    if tree is None and "<html" not in html[:2048].lower():
        # trafilatura rejects bare fragments ("<article>...</article>"); wrap them.
        tree = trafilatura.load_html(f"<html><body>{html}</body></html>")
    if tree is None:
        return LoadError(source=source, reason="no article text found in HTML")
    lang = (tree.get("lang") or "").strip()

    text = trafilatura.extract(
        tree,  # extract() copies a parsed tree, so the metadata pass below sees it intact
        url=url,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        output_format="txt",
        with_metadata=False,
    )
    if not text or not text.strip():
        return LoadError(source=source, reason="no article text found in HTML")

    # extensive=False: the extensive date search turns a stray "© 2021" into "2021-01-01";
    # no date is better than an invented one for a news assistant.
    found_meta = trafilatura.extract_metadata(tree, default_url=url, extensive=False)
    meta = _clean_meta(
        {
            "title": found_meta.title,
            "author": found_meta.author,
            "date": found_meta.date,
            "outlet": found_meta.sitename,
            "url": url or found_meta.url,
            "lang": lang.split("-")[0].split("_")[0].lower() if lang else "",
        }
    )
    text = _drop_leading_title(_normalize(text).strip(), meta.get("title", ""))
    if not text:
        return LoadError(source=source, reason="no article text found in HTML")
    return RawDocument(source=source, text=text, meta=meta, path=path)


def _drop_leading_title(text: str, title: str) -> str:
    # trafilatura keeps the article's <h1>; the title belongs in meta, not in the body.
    if not title:
        return text
    first, _, rest = text.partition("\n")
    if " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.strip()
    return text


# --------------------------------------------------------------------------- JSON Lines

_TEXT_KEYS = ("text", "content", "body")
_JSONL_META = {
    "title": ("title",),
    "url": ("url",),
    "date": ("date",),
    "author": ("author",),
    "outlet": ("outlet", "source", "site", "sitename"),
    "lang": ("lang", "language"),
}


def _from_jsonl(data: bytes, *, source: str, path: str) -> Iterator[Item]:
    if not data.strip():
        yield LoadError(source=source, reason="empty file")
        return
    try:
        content = _decode(data)
    except _Binary:
        yield LoadError(source=source, reason="binary file, not text")
        return
    any_record = False
    # split("\n"), not splitlines(): JSON strings may hold a raw U+2028, which
    # splitlines() would treat as a line break and so shift every line number.
    for line_no, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        any_record = True
        yield _jsonl_record(line, line_no, source, path)
    if not any_record:
        yield LoadError(source=source, reason="empty file")


def _jsonl_record(line: str, line_no: int, file_source: str, path: str) -> Item:
    where = f"{file_source}:{line_no}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        reason = f"line {line_no}: invalid JSON ({exc.msg} at column {exc.colno})"
        return LoadError(source=where, reason=reason)
    if not isinstance(record, dict):
        reason = f"line {line_no}: expected a JSON object, got {type(record).__name__}"
        return LoadError(source=where, reason=reason)
    text = _first(record, _TEXT_KEYS)
    if not text.strip():
        reason = f'line {line_no}: no "text" (or "content", "body") field'
        return LoadError(source=where, reason=reason)
    meta = _clean_meta({key: _first(record, keys) for key, keys in _JSONL_META.items()})
    record_id = _flat(record.get("id"))
    source = f"{file_source}#{record_id}" if record_id else f"{file_source}#{line_no}"
    return RawDocument(source=source, text=_normalize(text).strip(), meta=meta, path=path)


def _first(record: dict[str, object], keys: tuple[str, ...]) -> str:
    return next((_flat(record.get(k)) for k in keys if _flat(record.get(k)).strip()), "")


def _flat(value: object) -> str:
    # Flat strings only: numbers and booleans are coerced, nested values ignored.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return ""


# --------------------------------------------------------------------------- URLs

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_TEXT_TYPES = {"text/plain"}
_MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
_JSONL_TYPES = {
    "application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"
}


def _is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def _make_client(timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(
        follow_redirects=True,
        max_redirects=_MAX_REDIRECTS,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,text/plain;q=0.9,*/*;q=0.5"},
        transport=transport,
    )


def _load_url(client: httpx.Client, url: str, max_bytes: int, timeout: float) -> Iterator[Item]:
    fetched = _fetch(client, url, max_bytes, timeout)
    if isinstance(fetched, LoadError):
        yield fetched
        return
    final, ctype, charset, data = fetched
    kind = _url_kind(ctype, final, data)
    if kind is None:
        reason = f"unsupported content type {ctype} (expected HTML or plain text)"
        yield LoadError(source=final, reason=reason)
    elif kind == "html":
        yield _from_html(data, source=final, path="", url=final, declared=charset)
    elif kind == "jsonl":
        yield from _from_jsonl(data, source=final, path="")
    else:
        item = _from_text(data, source=final, path="", markdown=kind == "md", declared=charset)
        if isinstance(item, RawDocument):
            item.meta["url"] = final
        elif item.reason == "empty file":
            item.reason = "empty response"
        yield item


def _fetch(
    client: httpx.Client, url: str, max_bytes: int, timeout: float
) -> tuple[str, str, str | None, bytes] | LoadError:
    # httpx's timeout bounds each phase; this deadline bounds a server that trickles bytes.
    deadline = time.monotonic() + timeout
    try:
        with client.stream("GET", url) as resp:
            if not resp.is_success:
                return LoadError(source=url, reason=f"HTTP {resp.status_code}")
            length = resp.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                reason = _too_large(int(length), max_bytes, what="response")
                return LoadError(source=url, reason=reason)
            body = bytearray()
            for chunk in resp.iter_bytes():  # decompressed bytes, so the cap also stops gzip bombs
                body += chunk
                if len(body) > max_bytes:
                    reason = _too_large(None, max_bytes, what="response")
                    return LoadError(source=url, reason=reason)
                if time.monotonic() > deadline:
                    reason = f"unreachable URL: download took longer than {timeout:g} s"
                    return LoadError(source=url, reason=reason)
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            return str(resp.url), ctype, resp.charset_encoding, bytes(body)
    except httpx.TooManyRedirects:
        return LoadError(source=url, reason=f"too many redirects (more than {_MAX_REDIRECTS})")
    except httpx.TimeoutException as exc:
        return LoadError(source=url, reason=f"unreachable URL: {_timeout_reason(exc, timeout)}")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return LoadError(source=url, reason=f"invalid URL: {_short_exc(exc)}")
    except httpx.HTTPError as exc:
        return LoadError(source=url, reason=f"unreachable URL: {_network_reason(exc)}")


def _url_kind(ctype: str, final: str, data: bytes) -> str | None:
    if ctype in _HTML_TYPES:
        return "html"
    if ctype in _TEXT_TYPES:
        return "text"
    if ctype in _MARKDOWN_TYPES:
        return "md"
    if ctype in _JSONL_TYPES:
        return "jsonl"
    # Servers often send application/octet-stream (or nothing) for static files:
    # trust the URL's extension, then sniff for HTML.
    ext = os.path.splitext(urlsplit(final).path)[1].lower()
    if ext in (".html", ".htm"):
        return "html"
    if ext in (".md", ".markdown"):
        return "md"
    if ext == ".jsonl":
        return "jsonl"
    if ext == ".txt":
        return "text"
    if not ctype or ctype == "application/octet-stream":
        head = data[:1024].lstrip().lower()
        return "html" if head.startswith((b"<!doctype html", b"<html")) else "text"
    return None


_DNS_FAILURES = ("name or service not known", "nodename nor servname", "getaddrinfo", "no address")


def _timeout_reason(exc: httpx.TimeoutException, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out after {timeout:g} s"
    return f"no response within {timeout:g} s"


def _network_reason(exc: httpx.HTTPError) -> str:
    message = str(exc).lower()
    if "refused" in message:
        return "connection refused"
    if any(s in message for s in _DNS_FAILURES):
        return "host not found"
    if "ssl" in message or "certificate" in message:
        return f"TLS error ({_short_exc(exc)})"
    if "reset" in message:
        return "connection reset by server"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server closed the connection ({_short_exc(exc)})"
    return _short_exc(exc)


# --------------------------------------------------------------------------- small helpers


def _clean_meta(values: dict[str, str | None]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, str) and value.strip():
            meta[key] = " ".join(value.split())
    return meta


def _too_large(size: int | None, limit: int, what: str = "file") -> str:
    if size is None:
        return f"{what} too large (over the {_fmt_size(limit)} limit; {_SIZE_HINT})"
    return f"{what} too large ({_fmt_size(size)} > {_fmt_size(limit)} limit; {_SIZE_HINT})"


def _fmt_size(n: int) -> str:
    if n >= _MB:
        return f"{n / _MB:.1f}".removesuffix(".0") + " MB"
    if n >= 1000:
        return f"{n / 1000:.1f}".removesuffix(".0") + " KB"
    return f"{n} bytes"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def _short_exc(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    message = message[:120] + ("…" if len(message) > 120 else "")
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def count_inputs(paths: Iterable[str]) -> int:
    """How many files/URLs ``load_sources`` will read (for a progress bar; cheap)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    total = 0
    for raw in paths:
        spec = os.fspath(raw).strip()
        try:
            if spec and not _is_url(spec) and Path(spec).expanduser().is_dir():
                total += len(_walk(Path(spec).expanduser().resolve())[0])
                continue
        except OSError:
            pass
        total += 1
    return total
