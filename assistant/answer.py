"""Turn ranked evidence into an answer: verbatim quotes with [n] markers, or the fixed
"cannot answer" phrase with the closest passages shown apart, never as an answer."""

from __future__ import annotations

import json
import re

import numpy as np
from functools import lru_cache
from pathlib import Path

from assistant.lexical import fold, tokens
from assistant.types import Answer, Citation, Evidence


@lru_cache(maxsize=4)
def _templates(path: str) -> dict[str, dict[str, str]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def templates(prompts_dir: Path, lang: str) -> dict[str, str]:
    all_t = _templates(str(prompts_dir / "templates.json"))
    return all_t.get(lang) or all_t["en"]


def cannot_answer_phrases(prompts_dir: Path) -> set[str]:
    return {t["cannot_answer"] for t in _templates(str(prompts_dir / "templates.json")).values()}


class CitationBook:
    """Numbers citations in order of first use; the same span gets the same number."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._by_span: dict[tuple[str, int, int], int] = {}

    def cite(self, ev: Evidence) -> int:
        key = (ev.article_id, ev.start, ev.end)
        if key not in self._by_span:
            cid = len(self.citations) + 1
            self._by_span[key] = cid
            self.citations.append(
                Citation(
                    id=cid, source=ev.source, title=ev.title, quote=ev.text, start=ev.start,
                    end=ev.end, article_id=ev.article_id, outlet=ev.outlet, date=ev.date,
                    speaker=ev.speaker,
                )
            )
        return self._by_span[key]


_MARKER = re.compile(r"\[(\d+)\]")
# Denial cues (accent-folded): "nie", "dément", "n'a jamais", "rumeurs", "denied", "never",
# "aucune preuve" / "no evidence" (a claim disputed as unproven)...
_DENIAL = re.compile(
    r"(?<![\w'])(?:nie|nient|niait|nier|dement|dementent|dementi|dementi|jamais|rumeurs?|"
    r"deny|denies|denied|denial|never|rejects?|rejected|dismissed|"
    r"aucune preuve|pas de preuve|sans preuve|no evidence|no proof)(?![\w])"
)


_POLAR = re.compile(
    r"^\s*(?:is|are|was|were|does|do|did|has|have|had|will|would|can|could|est-ce|est il vrai)\b"
    r"|^\s*[\w' ]*?\b\w+-(?:t-)?(?:il|elle|ils|elles|on)\b",
    re.I,
)


_ASKS_TRUTH = re.compile(r"\b(?:confirm\w*|contradict\w*|disagree\w*|dispute\w*|vrai|true|conflict\w*)\b")
_WH = re.compile(r"^(?:qu'|que\b|quoi|quand|comment|pourquoi|combien|ou\b|quel|qui\b|what|when|who|why|how|which|where)")


def is_polar(question: str) -> bool:
    """A yes/no question ("Is North Korea selling...?", "La Corée du Nord vend-elle...?")."""
    f = fold(question).strip()
    if _WH.match(f):
        return False
    return _POLAR.search(f) is not None


def neutralise_markers(text: str) -> str:
    """Article text is data: a "[7]" inside a quote must never read as one of our
    citation markers. In the answer string, bracketed numbers inside quoted article
    text are rendered with full-width brackets ("［7］"); citation quotes stay verbatim."""
    return _MARKER.sub(lambda m: f"［{m.group(1)}］", text)


def is_denial(text: str) -> bool:
    return _DENIAL.search(fold(text)) is not None


def _words(text: str) -> set[str]:
    return set(tokens(text))


def near_duplicate(a: set[str], b: set[str], threshold: float = 0.6) -> bool:
    """Token Jaccard on folded content words (syndicated copies of one report)."""
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


def _group_copies(evidence: list[Evidence]) -> list[tuple[Evidence, list[Evidence]]]:
    """Drop repeated spans; fold near-identical sentences (syndicated copies) into the
    first (best-ranked) one, keeping the copies so the answer can say how many
    outlets carried it."""
    seen_spans: set[tuple[str, int, int]] = set()
    groups: list[tuple[Evidence, list[Evidence], set[str]]] = []
    for ev in evidence:
        key = (ev.article_id, ev.start, ev.end)
        if key in seen_spans:
            continue
        seen_spans.add(key)
        words = _words(ev.text)
        for head, copies, hw in groups:
            if near_duplicate(words, hw) or (
                head.article_id != ev.article_id
                and near_duplicate(words, hw, 0.3)
                and (_cosine(head, ev) >= COPY_COSINE or (ev.dup_group and ev.dup_group == head.dup_group))
            ):
                copies.append(ev)
                break
        else:
            groups.append((ev, [], words))
    return [(h, c) for h, c, _ in groups]


COPY_COSINE = 0.8  # stored sentence vectors of two retellings of one report


def _cosine(a: Evidence, b: Evidence) -> float:
    if a.vector is None or b.vector is None:
        return 0.0
    return float(np.dot(a.vector, b.vector))


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    return [h for h, _ in _group_copies(evidence)]


def _outlets(head: Evidence, copies: list[Evidence]) -> int:
    return len({(e.outlet or e.article_id) for e in [head, *copies]})


def _heading(ev: Evidence, t: dict[str, str]) -> str:
    bits = [b for b in (ev.outlet, ev.date) if b]
    title = ev.title or ev.source
    return f"{title} ({', '.join(bits)})" if bits else title


def quoted(text: str) -> str:
    """Wrap a verbatim sentence in quotes, unless it already opens with one."""
    body = neutralise_markers(text)
    if body[:1] in "“«\"":
        return body
    return f"“{body}”"


def _bullet(ev: Evidence, cid: int, copies: list[Evidence], t: dict[str, str]) -> str:
    line = f"- {quoted(ev.text)} [{cid}]"
    n = _outlets(ev, copies)
    if n > 1:
        line += f" ({t['reported_by'].format(n=n)})"
    return line


def find_conflict(
    pool: list[tuple[Evidence, list[Evidence]]], min_shared: int = 2
) -> tuple[list[Evidence], list[Evidence]] | None:
    """Both sides of a disagreement: denials (nie, dément, jamais, rumeurs, denied...)
    and affirming evidence on the same topic from a different article or speaker.
    Returns (affirming, denying) or None."""
    denials = [h for h, _ in pool if is_denial(h.text)]
    if not denials:
        return None
    affirm = []
    for h, _ in pool:
        if h in denials:
            continue
        hw = _words(h.text)
        for d in denials:
            other = d.article_id != h.article_id or (d.speaker and d.speaker != h.speaker)
            if other and len(hw & _words(d.text)) >= min_shared:
                affirm.append(h)
                break
    if not affirm:
        return None
    denials = [d for d in denials if any(
        (d.article_id != a.article_id) and len(_words(a.text) & _words(d.text)) >= min_shared for a in affirm
    )]
    return (affirm, denials) if denials else None


def compose_extractive(
    question: str,
    evidence: list[Evidence],
    *,
    lang: str,
    prompts_dir: Path,
    threshold: float,
    max_citations: int,
    margin: float = 0.12,
    conflict_margin: float = 0.2,
) -> Answer:
    t = templates(prompts_dir, lang)
    grouped = _group_copies(evidence)
    heads = [h for h, _ in grouped]
    if not heads or heads[0].score < threshold:
        ans = abstain(question, heads, t)
        ans.best_score = heads[0].score if heads else 0.0
        return ans
    best = heads[0].score
    copies = {id(h): c for h, c in grouped}
    # Disagreement matters when the question asks whether something is true (a yes/no
    # question, or one about denials/confirmation): then look for both sides.
    sides = None
    if is_polar(question) or _DENIAL.search(fold(question)) or _ASKS_TRUTH.search(fold(question)):
        pool = [(h, c) for h, c in grouped if h.score >= max(threshold, best - conflict_margin)][:8]
        sides = find_conflict(pool)
    book = CitationBook()
    if sides:
        affirm, deny = sides
        half = max(1, max_citations // 2)
        lines = [t["conflict_intro"]]
        for ev in affirm[:half] + deny[:max(half, max_citations - min(half, len(affirm)))]:
            lines.append(_bullet(ev, book.cite(ev), copies.get(id(ev), []), t))
        return Answer(question=question, answer="\n".join(lines), abstained=False,
                      citations=book.citations, conflict=True, best_score=best)
    chosen = [h for h in heads if h.score >= max(threshold, best - margin)][:max_citations]
    lines = [t["answer_intro"]]
    for ev in chosen:
        lines.append(_bullet(ev, book.cite(ev), copies.get(id(ev), []), t))
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=book.citations,
                  best_score=best)


def compose_statements(
    question: str,
    statements: list[Evidence],
    *,
    speaker: str,
    topic: str,
    lang: str,
    prompts_dir: Path,
    max_citations: int,
) -> Answer:
    """List a speaker's statements grouped by article, oldest article first."""
    t = templates(prompts_dir, lang)
    if not statements:
        return abstain(question, [], t)
    statements = _dedupe(statements)[:max_citations]
    groups: dict[str, list[Evidence]] = {}
    for ev in statements:
        groups.setdefault(ev.article_id, []).append(ev)
    # Oldest first where dates are known; undated articles after, in a stable order.
    order = sorted(groups, key=lambda a: (groups[a][0].date or "9999", groups[a][0].source))
    book = CitationBook()
    intro = t["speech_topic_intro"] if topic else t["speech_intro"]
    lines = [intro.format(speaker=speaker, topic=topic)]
    for aid in order:
        evs = sorted(groups[aid], key=lambda e: e.start)
        lines.append("")
        lines.append(f"{_heading(evs[0], t)}:")
        for ev in evs:
            lines.append(f"- {quoted(ev.text)} [{book.cite(ev)}]")
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=book.citations,
                  best_score=1.0)


def abstain(question: str, closest: list[Evidence], t: dict[str, str], n: int = 3) -> Answer:
    book = CitationBook()
    for ev in closest[:n]:
        book.cite(ev)
    return Answer(
        question=question, answer=t["cannot_answer"], abstained=True, citations=[],
        closest=book.citations,
    )
