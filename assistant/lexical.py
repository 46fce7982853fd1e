"""Lexical analysis and the BM25 index (bm25s).

Accent folding and light French/English normalisation let "defense" match "Défense"
and "Kirby's" match "Kirby". The BM25 index is derived data: it is rebuilt from the
store whenever the store's generation changes, so replicas sharing one Chroma server
all answer from the same index.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[\w]+(?:[-'][\w]+)*", re.UNICODE)

STOP_FR = set(
    """a à au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les
    leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que
    qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y été
    être est sont ont avait était sera ai as avons avez a-t-il qu'il qu'elle dont ainsi aussi
    plus moins très tout tous toute toutes autre autres alors comme donc car si sans sous
    entre vers chez depuis pendant après avant lors quel quelle quels quelles quoi comment
    pourquoi combien est-ce ce-que qu'est-ce quand""".split()
)
STOP_EN = set(
    """a an the and or but if of to in on at by for with about from into over after before
    is are was were be been being do does did done have has had having it its this that these
    those he she they them his her their we us our you your i me my what which who whom whose
    when where why how not no nor so than too very can could should would will shall may might
    must just also as there here any some all each both more most other such only own same
    say said says tell told""".split()
)
STOPWORDS = {w for w in STOP_FR | STOP_EN}


def fold(text: str) -> str:
    """Lowercase and strip accents; typographic apostrophes become plain ones."""
    text = text.replace("’", "'").replace("‘", "'").lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'")


def _stem(word: str) -> str:
    # Plural and possessive endings only: enough for names and most nouns, and
    # harmless across the two languages.
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith(("s", "x")) and not word.endswith("ss"):
        word = word[:-1]
    return word


@lru_cache(maxsize=20000)
def _norm_token(tok: str) -> str:
    tok = _ELISION.sub("", tok)
    return _stem(tok)


def tokens(text: str, *, keep_stopwords: bool = False) -> list[str]:
    out = []
    for raw in _WORD.findall(fold(text)):
        tok = _norm_token(raw)
        if not tok or (not keep_stopwords and (tok in STOPWORDS or raw in STOPWORDS)):
            continue
        out.append(tok)
    return out


_FR_HINTS = set("le la les des du une est que qui quoi quel quelle quels quelles a-t-il "
                "qu'a qu'est-ce comment pourquoi combien où dit sur avec pour dans et "
                "selon russie corée".split())
_EN_HINTS = set("the what who whom which when where why how did does is are was were "
                "say said about and of to in with from".split())


def question_language(text: str) -> str:
    """'fr' or 'en' for a short question (English when unsure)."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    fr = sum(w in _FR_HINTS or w.startswith(("qu'", "l'", "d'")) for w in words)
    en = sum(w in _EN_HINTS for w in words)
    if re.search(r"[éèêàùçôî]", text.lower()):
        fr += 1
    return "fr" if fr > en else "en"


class LexicalIndex:
    """BM25 over chunk texts. Empty results are dropped: BM25 gives 0 to a French
    chunk for an English question unless they share names or numbers."""

    def __init__(self, rows: list[dict]) -> None:
        import bm25s

        self.rows = rows
        corpus = [tokens(r["text"]) or ["\u2205"] for r in rows]
        self._df: dict[str, int] = {}
        for toks in corpus:
            for t in set(toks):
                self._df[t] = self._df.get(t, 0) + 1
        self.model = bm25s.BM25()
        if rows:
            self.model.index(corpus, show_progress=False)
        self.vocab = set(self._df)
        self._sorted_vocab = sorted(self.vocab)

    def has_prefix(self, prefix: str) -> bool:
        """Does some indexed word start with ``prefix``? (binary search, any archive size)"""
        i = bisect.bisect_left(self._sorted_vocab, prefix)
        return i < len(self._sorted_vocab) and self._sorted_vocab[i].startswith(prefix)

    def idf(self, token: str) -> float:
        n = max(len(self.rows), 1)
        df = self._df.get(token, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[int, float]]:
        q = [t for t in tokens(query) if t in self.vocab]
        if not q or not self.rows:
            return []
        scores = self.model.get_scores(q)
        # Only chunks sharing a term score above 0: sort those, not the whole archive.
        nonzero = np.flatnonzero(scores > 0)
        order = nonzero[np.argsort(-scores[nonzero], kind="stable")]
        hits = []
        for i in order:
            s = float(scores[i])
            if allowed is not None and self.rows[i]["meta"].get("article_id") not in allowed:
                continue
            hits.append((int(i), s))
            if len(hits) >= k:
                break
        return hits
