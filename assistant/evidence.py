"""Evidence at the sentence level: rank the sentences of the retrieved passages against
the question, using sentence embeddings computed at ingestion (no embedding of article
text at question time), plus a lexical bonus for the question's rarer words and one for
its content words found in the sentence in either language (focus.py)."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from assistant import speech
from assistant.focus import Term, content_terms, coverage
from assistant.lexical import LexicalIndex, fold, tokens
from assistant.types import Evidence, Passage
from index import schema as S


def evidence_from(row: dict, score: float, reason: str, speaker: str = "") -> Evidence:
    m = row["meta"]
    return Evidence(
        article_id=m.get(S.ARTICLE_ID, ""),
        source=m.get(S.SOURCE, ""),
        title=m.get(S.TITLE, ""),
        text=row["text"],
        start=int(m.get(S.START, 0)),
        end=int(m.get(S.END, 0)),
        score=score,
        outlet=m.get(S.OUTLET, ""),
        date=m.get(S.DATE, ""),
        speaker=speaker,
        reason=reason,
        dup_group=m.get(S.DUP_GROUP, ""),
        sentence_id=row.get("id", ""),
    )


@lru_cache(maxsize=8192)
def _token_set(text: str) -> frozenset[str]:
    # The question is scored against dozens of sentences per query, and the same
    # sentences come back across queries: tokenise each text once.
    return frozenset(tokens(text))


def lexical_overlap(question: str, sentence: str, lexical: LexicalIndex) -> float:
    """Share of the question's idf mass found in the sentence (0..1)."""
    q = _token_set(question)
    if not q:
        return 0.0
    s = _token_set(sentence)
    weights = {t: lexical.idf(t) if t in lexical.vocab else 0.0 for t in q}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in s) / total


def rank_sentences(
    question: str,
    vector: np.ndarray,
    passages: list[Passage],
    store,  # type: ignore[no-untyped-def]
    lexical: LexicalIndex,
    lexical_weight: float = 0.25,
    focus_weight: float = 0.15,
    terms: list[Term] | None = None,
) -> list[Evidence]:
    if not passages:
        return []
    chunk_ids = [p.chunk_id for p in passages]
    rows = store.sentences_of({S.CHUNK_ID: {"$in": chunk_ids}}, with_vectors=True)
    rank_of = {p.chunk_id: p.rank for p in passages}
    terms = content_terms(question) if terms is None else terms
    scored: list[Evidence] = []
    for row in rows:
        cos = float(np.dot(row["vector"], vector))
        lex = lexical_overlap(question, row["text"], lexical)
        # A small nudge for sentences in higher-ranked passages; cosine dominates.
        prior = 0.02 / rank_of.get(row["meta"].get(S.CHUNK_ID), 10)
        # A headline is short and on-topic, so it scores high, but the body sentence that
        # carries the facts answers better: headlines yield to it.
        headline = 0.1 if row["text"].strip() == (row["meta"].get(S.TITLE) or "").strip() else 0.0
        # BM25-style overlap scores only the question's own words, so an English
        # question gets nothing from a French sentence beyond names: the share of its
        # content words found through the vocabulary table counts too (no bonus for
        # anyone when there are none: a uniform bonus would only inflate the score).
        focus = focus_weight * coverage(terms, row["text"]) if terms else 0.0
        ev = evidence_from(row, cos + lexical_weight * lex + focus + prior - headline, "dense+lexical")
        ev.vector = row["vector"]
        scored.append(ev)
    _inherit_context(scored, rows)
    scored.sort(key=lambda e: -e.score)
    return scored


_PRONOUN_START = re.compile(r"^[\s“«\"]*(?:il|elle|ils|elles|he|she|they)\s", re.I)


def _inherit_context(scored: list[Evidence], rows: list[dict], share: float = 0.5) -> None:
    """"Il a accusé les États-Unis..." says who only through the sentence before it: a
    sentence opening on a subject pronoun gets part of its predecessor's lead."""
    index = {(r["meta"].get(S.ARTICLE_ID), int(r["meta"].get(S.SENTENCE_INDEX, -1))): ev
             for r, ev in zip(rows, scored)}
    before = {key: ev.score for key, ev in index.items()}
    for (aid, i), ev in index.items():
        prev = before.get((aid, i - 1))
        if prev is not None and prev > before[(aid, i)] and _PRONOUN_START.match(ev.text):
            ev.score += share * (prev - before[(aid, i)])


MAX_SPEECH_CANDIDATES = 400  # sentences read per needle
MAX_SPEECH_ARTICLES = 40  # articles searched for one speaker's statements


def _rows(got: dict) -> list[dict]:
    return [
        {"id": i, "text": d, "meta": m}
        for i, d, m in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [])
    ]


def statements_by(speaker_obj: speech.Speaker, store, max_statements: int = 30, lexical: LexicalIndex | None = None) -> list[Evidence]:  # type: ignore[no-untyped-def]
    """Statements attributed to a speaker, in article order.

    Reads are bounded whatever the archive's size: candidate sentences come from
    Chroma's document search on the speaker's surname (or from BM25 over the role's
    words), at most ``MAX_SPEECH_ARTICLES`` articles are searched, and continuations are
    read by id (the next sentences of a statement), never whole articles."""
    cands: dict[str, dict] = {}
    for name in speaker_obj.names:
        last = name.split()[-1]
        for variant in {last, last.capitalize(), last.title()}:
            got = store.sentences.get(where_document={"$contains": variant}, include=["documents", "metadatas"],
                                      limit=MAX_SPEECH_CANDIDATES)
            cands.update({r["id"]: r for r in _rows(got)})
    for parts in speaker_obj.roles:
        if lexical is not None:
            # BM25 tokens are whole folded words: a "prefix*" alternative stands for the
            # vocabulary words it starts.
            terms: list[str] = []
            for alts in parts:
                alt = alts[0]
                if alt.endswith("*"):
                    terms.extend(sorted(v for v in lexical.vocab if v.startswith(alt[:-1]))[:20])
                else:
                    terms.append(alt)
            words = " ".join(terms)
            chunk_ids = [lexical.rows[i]["id"] for i, _ in lexical.search(words, 60)]
            if chunk_ids:
                got = store.sentences.get(where={S.CHUNK_ID: {"$in": chunk_ids}}, include=["documents", "metadatas"])
                cands.update({r["id"]: r for r in _rows(got)})
        for alts in parts:
            for alt in alts:
                if "*" in alt or len(alt) < 5:
                    continue
                for variant in {alt, alt.title()}:
                    got = store.sentences.get(where_document={"$contains": variant},
                                              include=["documents", "metadatas"], limit=MAX_SPEECH_CANDIDATES)
                    cands.update({r["id"]: r for r in _rows(got)})
    rows = store.visible_rows(list(cands.values()))
    if not rows:
        return []

    by_article: dict[str, list[dict]] = {}
    for row in rows:
        by_article.setdefault(row["meta"][S.ARTICLE_ID], []).append(row)
    # The articles that mention the speaker most are searched first.
    articles = sorted(by_article, key=lambda a: -len(by_article[a]))[:MAX_SPEECH_ARTICLES]

    found: list[Evidence] = []
    for aid in articles:
        sents = by_article[aid]
        extra = speech.Speaker(label=speaker_obj.label, names=list(speaker_obj.names), roles=speaker_obj.roles)
        # A role sentence naming the holder ("le porte-parole ..., John Kirby") makes the
        # holder's other sentences in this article count too.
        for row in list(sents):
            if speaker_obj.roles and speech.is_attributed(row["text"], speaker_obj):
                for alias in speech.aliases_from(row["text"], speaker_obj):
                    if alias in extra.names:
                        continue
                    extra.names.append(alias)
                    last = alias.split()[-1]
                    for variant in {last.capitalize(), last.title()}:
                        got = store.sentences.get(where={S.ARTICLE_ID: aid}, where_document={"$contains": variant},
                                                  include=["documents", "metadatas"])
                        sents.extend(r for r in store.visible_rows(_rows(got)) if r["id"] not in {x["id"] for x in sents})
        sents.sort(key=lambda r: r["meta"][S.SENTENCE_INDEX])
        taken: set[str] = set()
        for row in sents:
            if row["id"] in taken or not speech.is_attributed(row["text"], extra):
                continue
            taken.add(row["id"])
            found.append(evidence_from(row, 1.0, "speech", speaker_obj.label))
            # Following sentences that carry on the same words ("Il a affirmé que...").
            idx = int(row["meta"][S.SENTENCE_INDEX])
            nxt = store.sentences.get(ids=[f"{aid}:s{idx + k}" for k in (1, 2, 3)], include=["documents", "metadatas"])
            following = sorted(store.visible_rows(_rows(nxt)), key=lambda r: r["meta"][S.SENTENCE_INDEX])
            for cont in following:
                if cont["id"] in taken or not speech.continues(cont["text"]) or _names_other(cont["text"], extra):
                    break
                taken.add(cont["id"])
                found.append(evidence_from(cont, 0.9, "speech-continued", speaker_obj.label))
        if len(found) >= max_statements:
            break
    return found[:max_statements]


def _names_other(sentence: str, speaker_obj: speech.Speaker) -> bool:
    """A continuation that names someone else with a reporting verb is theirs, not ours."""
    f = fold(sentence)
    if speech.names_in(f, speaker_obj):
        return False
    # "..., a déclaré Ignat" after a Kirby sentence
    return bool(speech._NAME.search(sentence.split("”")[-1].split("»")[-1])) and bool(
        speech._CUE.search(f.split("”")[-1].split("»")[-1])
    ) and not f.lstrip(" “«\"").startswith(("il ", "elle "))
