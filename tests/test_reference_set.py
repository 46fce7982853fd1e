"""Validator for the reference Q&A evaluation set (evals/reference.jsonl)."""
import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "evals" / "reference.jsonl"
ARTICLES = ROOT / "data" / "articles"

KEYS = {
    "id": str,
    "question": str,
    "history": list,
    "answerable": bool,
    "reference_answer": str,
    "evidence": list,
    "sources": list,
    "category": str,
    "lang": str,
}
CATEGORIES = {
    "factoid", "date", "quote", "multi_source", "conflict",
    "metadata", "followup", "unanswerable",
}
BOILERPLATE = [
    "cookies", "google news", "laisser un commentaire", "publicité",
    "crédit photo", "légende des photos", "telegram", "spécialiste de la culture pop",
]


def _load_rows():
    rows = []
    with REFERENCE.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                rows.append((lineno, json.loads(line)))
    return rows


ROWS = _load_rows()
ARTICLE_TEXT = {p.name: p.read_text(encoding="utf-8") for p in ARTICLES.glob("*.txt")}
# Optional keys: "kind" marks why an unanswerable row is unanswerable ("boilerplate":
# the fact exists only in page furniture that cleaning drops, e.g. a photo caption).
OPTIONAL_KEYS = {"kind": {"boilerplate"}}


def _cleaned() -> dict[str, str]:
    from index.clean import clean_article

    return {name: clean_article(raw).text for name, raw in ARTICLE_TEXT.items()}


CLEANED_TEXT = _cleaned()


def _ids():
    return [row.get("id", f"line{n}") for n, row in ROWS]


def test_articles_present():
    assert len(ARTICLE_TEXT) == 5


@pytest.mark.parametrize("row", [r for _, r in ROWS], ids=_ids())
def test_row_schema(row):
    assert set(KEYS) <= set(row) <= set(KEYS) | set(OPTIONAL_KEYS)
    for key, allowed in OPTIONAL_KEYS.items():
        if key in row:
            assert row[key] in allowed, key
            assert not row["answerable"], f"{key} is only for unanswerable rows"
    for key, typ in KEYS.items():
        assert isinstance(row[key], typ), f"{key} should be {typ.__name__}"
    for key in ("history", "evidence", "sources"):
        assert all(isinstance(x, str) and x for x in row[key]), key
    assert row["category"] in CATEGORIES
    assert row["lang"] in {"en", "fr"}
    assert row["question"].strip()
    if row["category"] == "followup":
        assert row["history"], "followup rows need a history"


@pytest.mark.parametrize("row", [r for _, r in ROWS], ids=_ids())
def test_row_evidence(row):
    if row["answerable"]:
        assert row["category"] != "unanswerable"
        assert row["reference_answer"].strip()
        assert row["evidence"] and row["sources"]
        assert len(set(row["sources"])) == len(row["sources"])
        for src in row["sources"]:
            assert src in ARTICLE_TEXT, f"unknown source file {src}"
        for ev in row["evidence"]:
            assert any(ev in ARTICLE_TEXT[s] for s in row["sources"]), f"not an exact substring: {ev!r}"
            # Citations point into the cleaned text: evidence that only exists in dropped
            # furniture (captions, credits, bylines) can never be cited.
            assert any(ev in CLEANED_TEXT[s] for s in row["sources"]), (
                f"evidence not in the cleaned text (dropped as furniture?): {ev!r}"
            )
            low = ev.lower()
            for marker in BOILERPLATE:
                assert marker not in low, f"boilerplate marker {marker!r} in evidence {ev!r}"
        for src in row["sources"]:
            assert any(ev in ARTICLE_TEXT[src] for ev in row["evidence"]), f"{src} supports no evidence"
    else:
        assert row["category"] == "unanswerable"
        assert row["reference_answer"] == ""
        assert row["evidence"] == [] and row["sources"] == []


def test_ids_unique():
    ids = [r["id"] for _, r in ROWS]
    assert len(ids) == len(set(ids))


def test_coverage_counts():
    rows = [r for _, r in ROWS]
    cats = Counter(r["category"] for r in rows)
    langs = Counter(r["lang"] for r in rows)
    assert len(rows) >= 60
    assert sum(not r["answerable"] for r in rows) >= 12
    assert langs["en"] >= 25 and langs["fr"] >= 25
    assert cats["followup"] >= 5
    assert cats["quote"] >= 8
    assert cats["conflict"] >= 4
    assert cats["multi_source"] >= 5
    assert set(cats) == CATEGORIES, f"missing categories: {CATEGORIES - set(cats)}"
