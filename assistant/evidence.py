"""Evidence at the sentence level: rank the sentences of the retrieved passages against
the question, using sentence embeddings computed at ingestion (no embedding of article
text at question time), plus a lexical bonus for the question's rarer words."""

from __future__ import annotations

import numpy as np

from assistant import speech
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


def lexical_overlap(question: str, sentence: str, lexical: LexicalIndex) -> float:
    """Share of the question's idf mass found in the sentence (0..1)."""
    q = set(tokens(question))
    if not q:
        return 0.0
    s = set(tokens(sentence))
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
) -> list[Evidence]:
    if not passages:
        return []
    chunk_ids = [p.chunk_id for p in passages]
    rows = store.sentences_of({S.CHUNK_ID: {"$in": chunk_ids}}, with_vectors=True)
    rank_of = {p.chunk_id: p.rank for p in passages}
    scored: list[Evidence] = []
    for row in rows:
        cos = float(np.dot(row["vector"], vector))
        lex = lexical_overlap(question, row["text"], lexical)
        # A small nudge for sentences in higher-ranked passages; cosine dominates.
        prior = 0.02 / rank_of.get(row["meta"].get(S.CHUNK_ID), 10)
        # A headline is short and on-topic, so it scores high, but the body sentence that
        # carries the facts answers better: headlines yield to it.
        headline = 0.1 if row["text"].strip() == (row["meta"].get(S.TITLE) or "").strip() else 0.0
        ev = evidence_from(row, cos + lexical_weight * lex + prior - headline, "dense+lexical")
        ev.vector = row["vector"]
        scored.append(ev)
    scored.sort(key=lambda e: -e.score)
    return scored


def statements_by(speaker_obj: speech.Speaker, store, max_statements: int = 30) -> list[Evidence]:  # type: ignore[no-untyped-def]
    """All statements attributed to a speaker across the index, in article order."""
    # Find candidate articles through Chroma's document search on the rarest cue we
    # have (a surname, or one word of the role), then read those articles' sentences.
    needles: list[str] = []
    for name in speaker_obj.names:
        needles.append(name.split()[-1])
    for parts in speaker_obj.roles:
        # the longest alternative of the most specific part
        best = max(parts, key=lambda alts: max(len(a) for a in alts))
        needles.extend(best)
    article_ids: set[str] = set()
    for needle in needles:
        for variant in {needle, needle.capitalize(), needle.title()}:
            got = store.sentences.get(where_document={"$contains": variant}, include=["metadatas"])
            article_ids.update(m.get(S.ARTICLE_ID) for m in got["metadatas"] or [])
    # Accent-folded needles cannot match accented text through $contains: fall back to
    # scanning sentences of articles whose metadata is cheap to list.
    if not article_ids and speaker_obj.roles:
        article_ids = set(store.visible_articles())
    article_ids &= store.visible_articles()
    if not article_ids:
        return []

    rows = store.sentences_of({S.ARTICLE_ID: {"$in": sorted(article_ids)}}, with_vectors=False)
    by_article: dict[str, list[dict]] = {}
    for row in rows:
        by_article.setdefault(row["meta"][S.ARTICLE_ID], []).append(row)

    found: list[Evidence] = []
    for aid, sents in by_article.items():
        sents.sort(key=lambda r: r["meta"][S.SENTENCE_INDEX])
        extra = speech.Speaker(label=speaker_obj.label, names=list(speaker_obj.names), roles=speaker_obj.roles)
        # First pass: a role sentence naming the holder adds the holder's name.
        for row in sents:
            if speaker_obj.roles and speech.is_attributed(row["text"], speaker_obj):
                extra.names.extend(n for n in speech.aliases_from(row["text"], speaker_obj) if n not in extra.names)
        i = 0
        while i < len(sents):
            row = sents[i]
            if speech.is_attributed(row["text"], extra):
                found.append(evidence_from(row, 1.0, "speech", speaker_obj.label))
                j = i + 1
                while j < len(sents) and speech.continues(sents[j]["text"]) and not _names_other(sents[j]["text"], extra):
                    found.append(evidence_from(sents[j], 0.9, "speech-continued", speaker_obj.label))
                    j += 1
                i = j
            else:
                i += 1
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
