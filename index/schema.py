"""The store's schema: where the write path (index/) and the read path (assistant/) meet.

Three Chroma collections share one prefix:
- ``<prefix>_articles``: one record per article; the document is the cleaned text that
  every citation offset points into; the embedding is the mean of its chunk embeddings.
- ``<prefix>_chunks``: token-bounded, sentence-aligned passages (written via llama-index's
  ChromaVectorStore, so the llama-index node fields ride along in the metadata).
- ``<prefix>_sentences``: one record per sentence, embedded at ingestion so that
  evidence selection never embeds article text at question time.
- ``<prefix>_leads``: copies of the first ``LEAD_SENTENCES`` sentence records of each
  article (same ids), for syndicated-copy grouping only.

Chroma metadata must be flat (str, int, float, bool, None); list-like values are
joined with ``|``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SCHEMA_VERSION = 1

# Metadata keys, defined once.
ARTICLE_ID = "article_id"
SOURCE = "source"  # file name (or URL) the article came from
TITLE = "title"
OUTLET = "outlet"
AUTHOR = "author"
DATE = "date"  # ISO 8601 (YYYY-MM-DD) or ""
DATE_NUM = "date_num"  # the same date as YYYYMMDD (Chroma range filters need numbers), 0 if unknown
LANG = "lang"
URL = "url"
CONTENT_HASH = "content_hash"
# hash of the loaded document (text + metadata) before cleaning, with the cleaner's
# version: an unchanged file is recognised without being cleaned again
RAW_HASH = "raw_hash"
START = "start"
END = "end"
CHUNK_ID = "chunk_id"
CHUNK_INDEX = "chunk_index"
SENTENCE_INDEX = "sentence_index"
N_CHUNKS = "n_chunks"
N_SENTENCES = "n_sentences"
DUP_GROUP = "dup_group"  # article id of the first article of a syndicated group
DUP_COUNT = "dup_count"  # number of articles in that group (1: no syndicated copy)
EMBEDDER = "embedder"

ARTICLE_META_KEYS = (TITLE, OUTLET, AUTHOR, DATE, LANG, URL)

# The first sentences of an article, its "lead": syndicated copies share it (dedup.py).
# They are also kept in their own collection, ``<prefix>_leads``, so matching a lead
# against every other lead is a plain vector query, not one filtered on sentence_index
# (measured at 200k sentences: the filter made each query ~6x slower).
LEAD_SENTENCES = 3


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id_for(text: str) -> str:
    """A stable id derived from the cleaned text, so identical copies collapse."""
    return "a" + content_hash(text)[:16]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Article:
    """A cleaned article: ``text`` is what citations point into."""

    source: str
    text: str
    title: str = ""
    outlet: str = ""
    author: str = ""
    date: str = ""
    lang: str = ""
    url: str = ""
    raw_hash: str = ""

    @property
    def id(self) -> str:
        return article_id_for(self.text)

    @property
    def hash(self) -> str:
        return content_hash(self.text)

    def metadata(self) -> dict[str, str | int]:
        return {
            ARTICLE_ID: self.id,
            SOURCE: self.source,
            TITLE: self.title,
            OUTLET: self.outlet,
            AUTHOR: self.author,
            DATE: self.date,
            DATE_NUM: int(self.date.replace("-", "")[:8].ljust(8, "0")) if self.date[:4].isdigit() else 0,
            LANG: self.lang,
            URL: self.url,
            CONTENT_HASH: self.hash,
        }


@dataclass
class Sentence:
    article_id: str
    index: int
    start: int
    end: int
    text: str
    chunk_index: int = 0

    @property
    def id(self) -> str:
        return f"{self.article_id}:s{self.index}"


@dataclass
class Chunk:
    article_id: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.article_id}:c{self.index}"
