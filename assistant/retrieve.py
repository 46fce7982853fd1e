"""Hybrid retrieval: dense chunks, dense sentences (mapped to their chunk) and BM25 over
chunks, fused by reciprocal rank. Dense search carries English questions to French
text; BM25 catches names, numbers and places that embeddings blur."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.lexical import LexicalIndex
from assistant.types import Passage
from index import schema as S


@dataclass
class Filters:
    source: str = ""
    outlet: str = ""
    date_from: str = ""  # ISO date, inclusive
    date_to: str = ""

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.source:
            clauses.append({S.SOURCE: {"$eq": self.source}})
        if self.outlet:
            clauses.append({S.OUTLET: {"$eq": self.outlet}})
        # Chroma compares numbers only: dates are also stored as YYYYMMDD integers.
        if self.date_from:
            clauses.append({S.DATE_NUM: {"$gte": _date_num(self.date_from)}})
        if self.date_to:
            clauses.append({S.DATE_NUM: {"$lte": _date_num(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any]) -> bool:
        if self.source and meta.get(S.SOURCE) != self.source:
            return False
        if self.outlet and meta.get(S.OUTLET) != self.outlet:
            return False
        num = int(meta.get(S.DATE_NUM) or 0)
        if self.date_from and num < _date_num(self.date_from):
            return False
        if self.date_to and (not num or num > _date_num(self.date_to)):
            return False
        return True

    def active(self) -> bool:
        return bool(self.source or self.outlet or self.date_from or self.date_to)


def _date_num(iso: str) -> int:
    digits = iso.replace("-", "")[:8]
    return int(digits.ljust(8, "0")) if digits.isdigit() else 0


def passage_from(hit: dict[str, Any]) -> Passage:
    m = hit["meta"]
    return Passage(
        chunk_id=hit["id"],
        article_id=m.get(S.ARTICLE_ID, ""),
        source=m.get(S.SOURCE, ""),
        title=m.get(S.TITLE, ""),
        text=hit["text"],
        start=int(m.get(S.START, 0)),
        end=int(m.get(S.END, 0)),
        outlet=m.get(S.OUTLET, ""),
        date=m.get(S.DATE, ""),
        dup_group=m.get(S.DUP_GROUP, ""),
    )


class Retriever:
    def __init__(self, store, settings) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.settings = settings
        self._lexical: LexicalIndex | None = None
        self._generation = -1
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt when another process (or replica) changed the store."""
        now = time.monotonic()
        if self._lexical is not None and now - self._checked_at < 1.0:
            return self._lexical
        with self._lock:
            gen = self.store.generation()
            self._checked_at = time.monotonic()
            if self._lexical is None or gen != self._generation:
                self._lexical = LexicalIndex(self.store.all_chunks())
                self._generation = gen
            return self._lexical

    def retrieve(
        self, question: str, vector: np.ndarray, filters: Filters | None = None, k: int | None = None
    ) -> list[Passage]:
        k = k or self.settings.top_k
        ck = self.settings.candidate_k
        where = filters.where() if filters and filters.active() else None

        dense = self.store.query_chunks(vector, ck, where)
        sentence_hits = self.store.query_sentences(vector, ck, where)
        lexical = self.lexical
        lex_hits = lexical.search(question, ck)
        if filters and filters.active():
            lex_hits = [(i, s) for i, s in lex_hits if filters.accepts(lexical.rows[i]["meta"])]

        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        dense_cos: dict[str, float] = {}
        for rank, hit in enumerate(dense):
            fused[hit["id"]] = fused.get(hit["id"], 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
            by_id.setdefault(hit["id"], passage_from(hit))
            dense_cos[hit["id"]] = hit["cosine"]
        seen_chunks: set[str] = set()
        rank = 0
        for hit in sentence_hits:
            cid = hit["meta"].get(S.CHUNK_ID, "")
            if cid in seen_chunks:
                continue
            seen_chunks.add(cid)
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
            dense_cos[cid] = max(dense_cos.get(cid, -1.0), hit["cosine"])
            rank += 1
        visible = self.store.visible_articles()
        lex_score: dict[str, float] = {}
        for rank, (i, score) in enumerate(lex_hits):
            row = lexical.rows[i]
            if row["meta"].get(S.ARTICLE_ID) not in visible:
                continue
            fused[row["id"]] = fused.get(row["id"], 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
            by_id.setdefault(row["id"], passage_from(row))
            lex_score[row["id"]] = score

        missing = [cid for cid in fused if cid not in by_id]
        if missing:
            got = self.store.chunks.get(ids=missing, include=["documents", "metadatas"])
            rows = [{"id": i, "text": d, "meta": dict(m)} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
            for row in self.store.visible_rows(rows):
                by_id[row["id"]] = passage_from(row)

        ranked = sorted((cid for cid in fused if cid in by_id), key=lambda c: -fused[c])
        out = []
        for r, cid in enumerate(ranked[:k]):
            p = by_id[cid]
            p.score, p.rank = fused[cid], r + 1
            p.dense, p.lexical = dense_cos.get(cid), lex_score.get(cid)
            out.append(p)
        return out
