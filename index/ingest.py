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

from index import schema as S
from index.chunk import chunk_article
from index.clean import clean_article
from index.load import LoadError, RawDocument, load_sources
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


def ingest(
    paths: Iterable[str],
    settings,  # type: ignore[no-untyped-def]
    store,
    embedder,
    progress: Callable[[str], None] | None = None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    store.check_embedder(embedder.name, for_writing=True)
    store.delete_orphans()  # leftovers of a run that was killed half-way

    existing = store.article_hashes()
    by_source = {m.get(S.SOURCE): aid for aid, m in existing.items()}
    seen_ids: set[str] = set()

    for item in load_sources(
        paths, max_bytes=int(settings.max_file_mb * 1_000_000), timeout=settings.fetch_timeout
    ):
        if isinstance(item, LoadError):
            report.failed.append((item.source, item.reason))
            if progress:
                progress(f"failed  {item.source}: {item.reason}")
            continue
        article, _dropped = to_article(item)
        if not article.text.strip():
            report.failed.append((item.source, "no article text left after cleaning"))
            continue
        aid = article.id
        if aid in existing or aid in seen_ids:
            first = existing.get(aid, {}).get(S.SOURCE) or item.source
            if first == item.source:
                report.unchanged.append(item.source)
            else:
                report.duplicates.append((item.source, first))
            seen_ids.add(aid)
            continue

        chunks = chunk_article(aid, article.text, settings.chunk_tokens)
        sentences = [s.text for c in chunks for s in c.sentences]
        vectors = embedder.embed([c.text for c in chunks] + sentences)
        chunk_vecs, sent_vecs = vectors[: len(chunks)], vectors[len(chunks) :]
        store.write_article(article, chunks, chunk_vecs, np.asarray(sent_vecs))
        report.chunks_embedded += len(chunks)
        report.sentences_embedded += len(sentences)
        seen_ids.add(aid)

        old = by_source.get(item.source)
        if old and old != aid:
            store.delete_article(old)
            report.updated.append(item.source)
        else:
            report.added.append(item.source)
        if progress:
            progress(f"indexed {item.source} ({len(chunks)} chunks)")

    if report.added or report.updated:
        store.bump_generation()
    report.seconds = time.perf_counter() - started
    return report


def remove(sources: Iterable[str], store) -> list[str]:  # type: ignore[no-untyped-def]
    """Delete the articles ingested from these sources (file names or URLs)."""
    wanted = set(sources)
    removed = []
    for aid, meta in store.article_hashes().items():
        if meta.get(S.SOURCE) in wanted:
            store.delete_article(aid)
            removed.append(meta.get(S.SOURCE))
    if removed:
        store.bump_generation()
    return removed
