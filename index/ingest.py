"""The write path end to end: load -> clean -> chunk -> embed -> store.

Idempotent: an article's id is the hash of its cleaned text, so unchanged articles
are skipped without embedding, identical files under two names are stored once, and
a changed file replaces its old article (new one written first, old one removed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from assistant.errors import AssistantError, StoreUnavailable
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
        if store.info().get("ingesting", 1):
            store.delete_orphans()
        store.set_flag("ingesting", 1)
        # articles written by a run killed before it grouped them
        pending = dedup.ungrouped(store)
        if pending:
            dedup.regroup(store, pending)
        existing = store.article_hashes()
    except AssistantError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb/sqlite raise many types
        raise _write_failed(exc, settings) from None
    # A killed update can leave two articles for one source: keep all of them in view
    by_source: dict[str, set[str]] = {}
    for aid, meta in existing.items():
        by_source.setdefault(meta.get(S.SOURCE), set()).add(aid)
    seen_ids: set[str] = set()
    new_ids: list[str] = []
    done = 0

    for item in load_sources(
        paths, max_bytes=int(settings.max_file_mb * 1_000_000), timeout=settings.fetch_timeout
    ):
        done += 1
        try:
            _one(item, settings, store, embedder, report, existing, by_source, seen_ids, progress, new_ids)
        except AssistantError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _write_failed(exc, settings) from None
        if on_item:
            on_item(min(done, max(total, done)), max(total, done), item.source)

    try:
        # Group syndicated copies once per run: one lead query per new article, and
        # each touched group's records written once (not once per arriving copy).
        if new_ids:
            dedup.regroup(store, set(new_ids))
        if report.added or report.updated:
            store.bump_generation()
        store.set_flag("ingesting", 0)
    except AssistantError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _write_failed(exc, settings) from None
    report.seconds = time.perf_counter() - started
    return report


def _one(item, settings, store, embedder, report, existing, by_source, seen_ids, progress, new_ids) -> None:  # type: ignore[no-untyped-def]
    if isinstance(item, LoadError):
        report.failed.append((item.source, item.reason))
        if progress:
            progress(f"failed  {item.source}: {item.reason}")
        return
    article, _dropped = to_article(item)
    if not article.text.strip():
        report.failed.append((item.source, "no article text left after cleaning"))
        return
    aid = article.id
    if aid in existing or aid in seen_ids:
        first = existing.get(aid, {}).get(S.SOURCE) or item.source
        if first == item.source:
            report.unchanged.append(item.source)
            _drop_stale(store, item.source, aid, by_source)
        else:
            report.duplicates.append((item.source, first))
            if _drop_stale(store, item.source, aid, by_source):  # file now equals another
                report.updated.append(item.source)
        seen_ids.add(aid)
        return

    chunks = chunk_article(aid, article.text, settings.chunk_tokens)
    sentences = [s.text for c in chunks for s in c.sentences]
    vectors = embedder.embed([c.text for c in chunks] + sentences)
    chunk_vecs, sent_vecs = vectors[: len(chunks)], vectors[len(chunks) :]
    store.write_article(article, chunks, chunk_vecs, np.asarray(sent_vecs))
    report.chunks_embedded += len(chunks)
    report.sentences_embedded += len(sentences)
    seen_ids.add(aid)
    existing[aid] = {S.SOURCE: item.source}

    if _drop_stale(store, item.source, aid, by_source):
        report.updated.append(item.source)
    else:
        report.added.append(item.source)
    by_source[item.source] = {aid}
    new_ids.append(aid)
    if progress:
        progress(f"indexed {item.source} ({len(chunks)} chunks)")


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
