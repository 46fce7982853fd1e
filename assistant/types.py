"""Read-path types. Each step keeps where its text came from: a passage points at its
chunk and article, a piece of evidence at its sentence span, a citation is data
(source, span, verbatim quote), and an answer holds its citations and the settings
hash that produced it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Passage:
    """A retrieved chunk with the scores that got it there."""

    chunk_id: str
    article_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float = 0.0
    dense: float | None = None  # cosine similarity to the question
    lexical: float | None = None  # BM25 score (None when the lexical retriever missed it)
    rank: int = 0
    outlet: str = ""
    date: str = ""
    dup_group: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evidence:
    """A sentence chosen to answer a question, with why it was chosen."""

    article_id: str
    source: str
    title: str
    text: str  # verbatim article text[start:end]
    start: int
    end: int
    score: float
    outlet: str = ""
    date: str = ""
    speaker: str = ""  # who the sentence attributes the words to, when it does
    reason: str = ""  # "dense", "speech", "lexical", ...
    dup_group: str = ""
    sentence_id: str = ""
    # The stored sentence vector, when the ranking read it (used to fold syndicated copies).
    vector: Any = field(default=None, repr=False, compare=False)


@dataclass
class Citation:
    id: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    article_id: str = ""
    outlet: str = ""
    date: str = ""
    speaker: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    closest: list[Citation] = field(default_factory=list)
    conflict: bool = False
    mode: str = "extractive"
    notice: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    settings_hash: str = ""
    resolved_question: str = ""
    best_score: float = 0.0  # score of the best evidence (calibration; not serialised)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "closest": [c.to_dict() for c in self.closest],
            "conflict": self.conflict,
            "mode": self.mode,
            "notice": self.notice,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "settings_hash": self.settings_hash,
            "resolved_question": self.resolved_question,
        }
