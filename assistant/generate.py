"""Optional LLM answers: generate from numbered evidence passages, then validate.

The extractive answer is always computed first (abstention is decided before any LLM
call). Its cited sentences become numbered passages; the model's reply is checked:

* every ``[n]`` must name a given passage (unknown markers are removed);
* every sentence must cite at least one passage and share enough content words
  (accent-folded, prefix-matched so "Russia"/"Russie" count) with what it cites;
  unsupported sentences are dropped and counted in ``notice``;
* when nothing valid remains, or the LLM fails (``LLMError``: unreachable, timed out,
  HTTP error, garbage), the extractive answer is returned with an ``llm_fallback`` notice.

Citations of an LLM answer are the cited passages: verbatim quotes with exact spans.
Article text is data: passages are delimited in ``<passage>`` tags, and bracketed
numbers or tag-like text inside them are neutralised before they reach the model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from assistant.answer import cannot_answer_phrases, neutralise_markers, templates
from assistant.lexical import fold, tokens
from assistant.llm import LLMError
from assistant.types import Answer, Citation

LANGUAGES = {"en": "English", "fr": "French"}
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?…]+[\"”»']?|$)(?:\s*\[\d+\])*", re.S)
_TAG = re.compile(r"</?\s*passages?\b[^>]*>", re.I)
SUPPORT_MIN = 0.5  # share of a sentence's content words found in what it cites
PREFIX = 5  # letters compared, so cognates across French and English match


@lru_cache(maxsize=8)
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _passage_text(text: str) -> str:
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), neutralise_markers(text))


def build_messages(question: str, passages: list[Citation], lang: str, prompts_dir: Path) -> list[dict[str, str]]:
    t = templates(prompts_dir, lang)
    language = LANGUAGES.get(lang, "English")
    system = _read(str(prompts_dir / "llm_system.txt")).format(cannot_answer=t["cannot_answer"], language=language)
    blocks = []
    for i, p in enumerate(passages, 1):
        title = _passage_text(p.title or p.source).replace('"', "'")
        blocks.append(f'<passage id="{i}" title="{title}">\n{_passage_text(p.quote)}\n</passage>')
    user = _read(str(prompts_dir / "llm_user.txt")).format(
        passages="\n".join(blocks), question=question, language=language
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _stems(text: str) -> set[str]:
    return {tok[:PREFIX] for tok in tokens(text) if not tok.isdigit() or len(tok) > 1}


def supported(sentence: str, cited: list[Citation], min_share: float = SUPPORT_MIN) -> bool:
    """Lexical support: enough of the sentence's content words appear in the cited passages."""
    words = _stems(_MARKER.sub(" ", sentence))
    if not words:
        return False
    have: set[str] = set()
    for c in cited:
        have |= _stems(c.quote) | _stems(c.title)
    return len(words & have) / len(words) >= min_share


@dataclasses.dataclass
class Validated:
    text: str
    citations: list[Citation]
    dropped: int
    removed_markers: int


def validate(reply: str, passages: list[Citation]) -> Validated:
    n = len(passages)
    book: dict[int, int] = {}  # passage number -> citation id
    citations: list[Citation] = []
    kept: list[str] = []
    dropped = removed = 0
    for raw in _SENTENCE.findall(reply or ""):
        sentence = raw.strip()
        if not sentence or not re.search(r"\w", _MARKER.sub("", sentence)):
            continue
        nums = [int(m) for m in _MARKER.findall(sentence)]
        valid = [k for k in dict.fromkeys(nums) if 1 <= k <= n]
        removed += len(nums) - len([k for k in nums if 1 <= k <= n])
        if not valid or not supported(sentence, [passages[k - 1] for k in valid]):
            dropped += 1
            continue
        for k in valid:
            if k not in book:
                book[k] = len(citations) + 1
                citations.append(dataclasses.replace(passages[k - 1], id=book[k]))

        def renumber(m: re.Match) -> str:
            k = int(m.group(1))
            return f"[{book[k]}]" if k in book else ""

        sentence = _MARKER.sub(renumber, sentence)
        kept.append(re.sub(r"\s{2,}", " ", re.sub(r"\s+(?=[.,;:!?])", "", sentence)).strip())
    return Validated(" ".join(kept), citations, dropped, removed)


def _reason(exc: Exception) -> str:
    msg = str(exc)
    low = msg.lower()
    for key, reason in (("timed out", "timed out"), ("http ", "HTTP error"), ("status", "HTTP error"),
                        ("unreachable", "unreachable"), ("connect", "unreachable"),
                        ("malformed", "malformed reply"), ("empty", "empty reply")):
        if key in low:
            return reason
    return msg[:120] or type(exc).__name__


def fallback(extractive: Answer, reason: str, lang: str, prompts_dir: Path) -> Answer:
    t = templates(prompts_dir, lang)
    extractive.mode = "extractive"
    notice = t["llm_fallback"].format(reason=reason)
    extractive.notice = f"{extractive.notice} {notice}".strip() if extractive.notice else notice
    return extractive


def generate_stream(
    llm, question: str, extractive: Answer, lang: str, prompts_dir: Path  # type: ignore[no-untyped-def]
) -> Iterator[str | Answer]:
    """Yield the growing reply text, then the final validated Answer (or the extractive
    one with a fallback notice)."""
    passages = extractive.citations
    messages = build_messages(question, passages, lang, prompts_dir)
    parts: list[str] = []
    try:
        for delta in llm.stream(messages):
            parts.append(delta)
            yield "".join(parts)
    except LLMError as exc:
        yield fallback(extractive, _reason(exc), lang, prompts_dir)
        return
    reply = "".join(parts).strip()
    t = templates(prompts_dir, lang)
    if reply in cannot_answer_phrases(prompts_dir):
        yield fallback(extractive, t["llm_no_answer"], lang, prompts_dir)
        return
    v = validate(reply, passages)
    if not v.citations:
        yield fallback(extractive, t["llm_no_support"], lang, prompts_dir)
        return
    notes = []
    if v.dropped:
        notes.append(t["llm_dropped"].format(n=v.dropped))
    if v.removed_markers:
        notes.append(t["llm_markers"].format(n=v.removed_markers))
    text = v.text
    if extractive.conflict:
        text = f"{t['conflict_intro']} {text}"
    yield dataclasses.replace(
        extractive, answer=text, citations=v.citations, mode="llm", notice=" ".join(notes)
    )
