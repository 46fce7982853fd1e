"""Turn ranked evidence into an answer: verbatim quotes with [n] markers, or the fixed
"cannot answer" phrase with the closest passages shown apart, never as an answer."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from assistant.lexical import fold
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


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    """Drop repeated spans and near-identical sentences (syndicated copies)."""
    seen_spans: set[tuple[str, int, int]] = set()
    seen_text: list[set[str]] = []
    out = []
    for ev in evidence:
        key = (ev.article_id, ev.start, ev.end)
        if key in seen_spans:
            continue
        words = set(fold(ev.text).split())
        if any(len(words & w) / max(len(words | w), 1) > 0.8 for w in seen_text):
            continue
        seen_spans.add(key)
        seen_text.append(words)
        out.append(ev)
    return out


def _heading(ev: Evidence, t: dict[str, str]) -> str:
    bits = [b for b in (ev.outlet, ev.date) if b]
    title = ev.title or ev.source
    return f"{title} ({', '.join(bits)})" if bits else title


def compose_extractive(
    question: str,
    evidence: list[Evidence],
    *,
    lang: str,
    prompts_dir: Path,
    threshold: float,
    max_citations: int,
    margin: float = 0.12,
) -> Answer:
    t = templates(prompts_dir, lang)
    evidence = _dedupe(evidence)
    if not evidence or evidence[0].score < threshold:
        ans = abstain(question, evidence, t)
        ans.best_score = evidence[0].score if evidence else 0.0
        return ans
    best = evidence[0].score
    chosen = [e for e in evidence if e.score >= max(threshold, best - margin)][:max_citations]
    book = CitationBook()
    lines = [t["answer_intro"]]
    for ev in chosen:
        lines.append(f"- “{ev.text}” [{book.cite(ev)}]")
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
            lines.append(f"- “{ev.text}” [{book.cite(ev)}]")
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
