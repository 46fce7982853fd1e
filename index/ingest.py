"""The write path end to end: load -> clean -> chunk -> embed -> store.

Idempotent: an article's id is the hash of its cleaned text, so unchanged articles
are skipped without embedding, identical files under two names are stored once, and
a changed file replaces its old article (new one written first, old one removed).
An unchanged file is recognised before cleaning, by the hash of what was loaded
(``raw_hash``), so a re-run over a large folder mostly reads files.

Throughput: the embedder is the floor, so everything else is batched. New articles
are buffered until about ``settings.ingest_batch`` chunks + sentences, embedded in one call
and written with one upsert per collection; syndicated copies are grouped once at
the end of the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError, StoreUnavailable
from index import clean as clean_module
from index import dedup
from index import schema as S
from index.chunk import chunk_article
from index.clean import clean_article
from index.load import LoadError, RawDocument, count_inputs, load_sources
from index.schema import Article


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, same as)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged "
            f"{len(self.unchanged) + len(self.duplicates)}, removed {len(self.removed)}, "
            f"failed {len(self.failed)} in {self.seconds:.1f} s "
            f"({self.chunks_embedded} chunks embedded)"
        )


@lru_cache(maxsize=1)
def _cleaner_version() -> str:
    # The cleaned text depends on the cleaning rules: hashing their source means a
    # changed rule re-cleans every file on the next run, with nothing to remember.
    return hashlib.sha256(Path(clean_module.__file__).read_bytes()).hexdigest()[:12]


def raw_hash(doc: RawDocument) -> str:
    """What cleaning depends on: the loaded text, its metadata, the cleaning rules."""
    meta = json.dumps(doc.meta, sort_keys=True, ensure_ascii=False)
    return S.content_hash(f"{_cleaner_version()}\0{meta}\0{doc.text}")


def to_article(doc: RawDocument) -> tuple[Article, list]:
    """Clean a loaded document into an Article (metadata from the loader wins)."""
    cleaned = clean_article(doc.text, title=doc.meta.get("title") or None)
    meta = {**cleaned.metadata, **{k: v for k, v in doc.meta.items() if v}}
    article = Article(
        source=doc.source,
        text=cleaned.text,
        title=meta.get("title") or cleaned.title,
        outlet=meta.get("outlet", ""),
        author=meta.get("author", ""),
        date=meta.get("date", ""),
        lang=meta.get("lang", ""),
        url=meta.get("url", ""),
        raw_hash=raw_hash(doc),
    )
    return article, cleaned.dropped


def _write_failed(exc: Exception, settings) -> StoreUnavailable:  # type: ignore[no-untyped-def]
    where = settings.chroma_url or settings.chroma_path
    text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return StoreUnavailable(
        f"cannot write to the index at {where} ({text}); is the disk full or the folder "
        "read-only? Articles indexed before this one are intact; re-run 'assistant ingest' "
        "once fixed"
    )


def ingest(
    paths: Iterable[str],
    settings,  # type: ignore[no-untyped-def]
    store,
    embedder,
    progress: Callable[[str], None] | None = None,
    on_item: Callable[[int, int, str], None] | None = None,
) -> IngestReport:
    """Index ``paths``; ``progress`` gets one line per article, ``on_item(done, total,
    source)`` is called after every input (for a progress bar)."""
    started = time.perf_counter()
    report = IngestReport()
    paths = [paths] if isinstance(paths, str) else list(paths)
    total = count_inputs(paths) if on_item else 0
    try:
        store.check_embedder(embedder.name, for_writing=True)
        # A run that did not finish may have left chunks and sentences of an article it
        # never completed: clear them. The flag saves a scan of the whole store on the
        # (usual) clean re-run.
        unfinished = bool(store.info().get("ingesting", 1))
        if unfinished:
            store.delete_orphans()
        store.set_flag("ingesting", 1)
        store.backfill_leads()  # an index from before the leads collection
        existing = store.article_hashes()
        # articles written by a run killed before it grouped them
        pending = {a for a, m in existing.items() if not m.get(S.DUP_GROUP)}
        if pending:
            dedup.regroup(store, pending)
            existing = store.article_hashes()
    except AssistantError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb/sqlite raise many types
        raise _write_failed(exc, settings) from None
    # A killed update can leave two articles for one source: keep all of them in view
    by_source: dict[str, set[str]] = {}
    by_raw: dict[str, str] = {}
    for aid, meta in existing.items():
        by_source.setdefault(meta.get(S.SOURCE), set()).add(aid)
        if meta.get(S.RAW_HASH):
            by_raw[meta[S.RAW_HASH]] = aid
    run = _Run(settings, store, embedder, report, existing, by_source, by_raw, progress)
    done = 0

    for item in load_sources(
        paths, max_bytes=int(settings.max_file_mb * 1_000_000), timeout=settings.fetch_timeout
    ):
        done += 1
        try:
            run.add(item)
        except AssistantError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _write_failed(exc, settings) from None
        if on_item:
            on_item(min(done, max(total, done)), max(total, done), item.source)

    try:
        run.flush()
        # Group syndicated copies once per run: one batched lead query for the new
        # articles, and each touched group's records written once.
        if run.new_ids:
            dedup.regroup(store, set(run.new_ids))
        if run.raw_updates:  # records written before raw hashes existed
            store.update_articles_meta(run.raw_updates)
        # Readers refresh their view of the articles when the generation moves; also
        # after an unfinished run, whose last articles nobody has been shown yet.
        if report.added or report.updated or unfinished:
            store.bump_generation()
        store.set_flag("ingesting", 0)
    except AssistantError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _write_failed(exc, settings) from None
    report.seconds = time.perf_counter() - started
    return report


class _Run:
    """One ingestion run: classifies each loaded document and buffers new articles."""

    def __init__(self, settings, store, embedder, report, existing, by_source, by_raw, progress) -> None:  # type: ignore[no-untyped-def]
        self.settings, self.store, self.embedder, self.report = settings, store, embedder, report
        self.existing, self.by_source, self.by_raw, self.progress = existing, by_source, by_raw, progress
        self.seen_ids: set[str] = set()
        self.new_ids: list[str] = []
        self.raw_updates: dict[str, dict[str, str]] = {}
        self.pending: list[tuple[str, Article, list]] = []
        self.pending_records = 0

    def add(self, item) -> None:  # type: ignore[no-untyped-def]
        report, progress = self.report, self.progress
        if isinstance(item, LoadError):
            report.failed.append((item.source, item.reason))
            if progress:
                progress(f"failed  {item.source}: {item.reason}")
            return
        known = self.by_raw.get(raw_hash(item))
        if known is not None and known in self.existing:
            self._seen(item.source, known)
            return
        article, _dropped = to_article(item)
        if not article.text.strip():
            report.failed.append((item.source, "no article text left after cleaning"))
            return
        aid = article.id
        if aid in self.existing or aid in self.seen_ids:
            if aid in self.existing and self.existing[aid].get(S.RAW_HASH) != article.raw_hash:
                self.raw_updates[aid] = {S.RAW_HASH: article.raw_hash}
            self._seen(item.source, aid)
            return
        chunks = chunk_article(aid, article.text, self.settings.chunk_tokens)
        self.pending.append((item.source, article, chunks))
        self.pending_records += len(chunks) + sum(len(c.sentences) for c in chunks)
        self.seen_ids.add(aid)
        if self.pending_records >= self.settings.ingest_batch:
            self.flush()

    def _seen(self, source: str, aid: str) -> None:
        """An article already indexed (or met earlier in this run)."""
        report = self.report
        first = self.existing.get(aid, {}).get(S.SOURCE) or self._pending_source(aid) or source
        if first == source:
            report.unchanged.append(source)
            self._drop_stale(source, aid)
        else:
            report.duplicates.append((source, first))
            if self._drop_stale(source, aid):  # file now equals another
                report.updated.append(source)
        self.seen_ids.add(aid)

    def _pending_source(self, aid: str) -> str:
        return next((src for src, a, _ in self.pending if a.id == aid), "")

    def flush(self) -> None:
        """Embed the buffered articles in one call and write them in one batch; then,
        and only then, retire the files' older versions."""
        if not self.pending:
            return
        batch, self.pending, self.pending_records = self.pending, [], 0
        texts: list[str] = []
        for _src, _article, chunks in batch:
            texts += [c.text for c in chunks] + [s.text for c in chunks for s in c.sentences]
        vectors = self.embedder.embed(texts)
        items, pos = [], 0
        for _src, article, chunks in batch:
            n_c = len(chunks)
            n_s = sum(len(c.sentences) for c in chunks)
            items.append((article, chunks, vectors[pos : pos + n_c], np.asarray(vectors[pos + n_c : pos + n_c + n_s])))
            pos += n_c + n_s
        self.store.write_articles(items)
        for (source, article, chunks), item in zip(batch, items):
            aid = article.id
            self.report.chunks_embedded += len(chunks)
            self.report.sentences_embedded += len(item[3])
            self.existing[aid] = {S.SOURCE: source, S.RAW_HASH: article.raw_hash}
            self.by_raw[article.raw_hash] = aid
            if self._drop_stale(source, aid):
                self.report.updated.append(source)
            else:
                self.report.added.append(source)
            self.by_source[source] = {aid}
            self.new_ids.append(aid)
            if self.progress:
                self.progress(f"indexed {source} ({len(chunks)} chunks)")

    def _drop_stale(self, source: str, keep: str) -> bool:
        return _drop_stale(self.store, source, keep, self.by_source)


def _drop_stale(store, source: str, keep: str, by_source: dict[str, set[str]]) -> bool:  # type: ignore[no-untyped-def]
    """Delete older articles from ``source`` (a changed file); True if any."""
    stale = by_source.get(source, set()) - {keep}
    groups = set()
    for old in stale:
        got = store.get_article(old)
        if got and got[1].get(S.DUP_GROUP):
            groups.add(got[1][S.DUP_GROUP])
        store.delete_article(old)
    if stale:
        by_source[source] = {keep}
        if groups:
            dedup.regroup(store, set(), groups=groups)
    return bool(stale)


def remove(sources: Iterable[str], store) -> list[str]:  # type: ignore[no-untyped-def]
    """Delete the articles ingested from these sources (file names or URLs)."""
    wanted = set(sources)
    removed = []
    groups = set()
    for aid, meta in store.article_hashes().items():
        if meta.get(S.SOURCE) in wanted:
            store.delete_article(aid)
            removed.append(meta.get(S.SOURCE))
            if meta.get(S.DUP_GROUP):
                groups.add(meta[S.DUP_GROUP])
    if groups:
        dedup.regroup(store, set(), groups=groups)
    if removed:
        store.bump_generation()
    return removed
