"""Sentence-aware, token-bounded chunking that keeps exact character spans.

Every sentence and every chunk records ``start``/``end`` offsets into the cleaned
article text, so a citation can always be checked: ``text[start:end] == quote``.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from index.schema import Chunk, Sentence

# Abbreviations after which a period does not end a sentence (fr + en).
_ABBREV = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "mr", "mrs", "ms", "prof",
    "gen", "gén", "col", "lt", "sgt", "jr", "sr", "etc", "vs", "env", "av", "apr", "j.-c",
    "no", "n°", "p", "pp", "vol", "fig", "inc", "ltd", "co", "corp", "u.s", "u.k", "jan",
    "feb", "fév", "mar", "aug", "sept", "oct", "nov", "dec", "déc",
}
# A sentence ends at . ! ? … (possibly several, possibly followed by closing quotes)
# when whitespace and an opening quote, capital letter or digit follow.
_BOUNDARY = re.compile(r"[.!?…]+[\"”»’)]*(?=\s+[\"“«‘(\[]?[A-ZÀ-ÖØ-Þ0-9])")
_PARA = re.compile(r"[^\n]+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of ``text``; lines never merge."""
    spans: list[tuple[int, int]] = []
    for para in _PARA.finditer(text):
        p_start, p_text = para.start(), para.group()
        cursor = 0
        for m in _BOUNDARY.finditer(p_text):
            before = p_text[cursor : m.start()]
            last_word = re.findall(r"[\w.°-]+$", before)
            token = last_word[0].lower() if last_word else ""
            # "J." initials and known abbreviations are not sentence ends.
            if m.group().startswith(".") and (
                token in _ABBREV or (len(token) == 1 and token.isalpha())
            ):
                continue
            _add_span(spans, p_start, p_text, cursor, m.end())
            cursor = m.end()
        _add_span(spans, p_start, p_text, cursor, len(p_text))
    return spans


def _add_span(spans: list[tuple[int, int]], base: int, para: str, a: int, b: int) -> None:
    piece = para[a:b]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append((base + a + lead, base + a + lead + len(stripped)))


@lru_cache(maxsize=1)
def _encoding():  # type: ignore[no-untyped-def]
    # tiktoken would download its BPE file; llama-index ships it. Point tiktoken there
    # before its first use, unless the user already chose a cache.
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        import llama_index.core

        cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at whitespace so each piece fits the token bound."""
    pieces: list[tuple[int, int]] = []
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    cur_start, cur_end, cur_tokens = None, None, 0
    for ws, we in words:
        t = count_tokens(text[ws:we]) + 1
        if cur_start is not None and cur_tokens + t > max_tokens:
            pieces.append((cur_start, cur_end))  # type: ignore[arg-type]
            cur_start, cur_tokens = None, 0
        if cur_start is None:
            cur_start = ws
        cur_end, cur_tokens = we, cur_tokens + t
    if cur_start is not None:
        pieces.append((cur_start, cur_end))  # type: ignore[arg-type]
    return pieces


def chunk_article(article_id: str, text: str, max_tokens: int = 160) -> list[Chunk]:
    """Group consecutive sentences into chunks of at most ``max_tokens`` tokens."""
    spans: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if count_tokens(text[s:e]) > max_tokens:
            spans.extend(_split_long(text, s, e, max_tokens))
        else:
            spans.append((s, e))

    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []
    current_tokens = 0
    sentence_index = 0

    def flush() -> None:
        nonlocal current, current_tokens, sentence_index
        if not current:
            return
        c_start, c_end = current[0][0], current[-1][1]
        chunk = Chunk(article_id, len(chunks), c_start, c_end, text[c_start:c_end])
        for s, e in current:
            chunk.sentences.append(
                Sentence(article_id, sentence_index, s, e, text[s:e], chunk_index=chunk.index)
            )
            sentence_index += 1
        chunks.append(chunk)
        current, current_tokens = [], 0

    for s, e in spans:
        t = count_tokens(text[s:e])
        if current and current_tokens + t > max_tokens:
            flush()
        current.append((s, e))
        current_tokens += t
    flush()
    return chunks
