"""The eval runner, its metrics, its reports and the CI gate built on them."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest

from assistant import evaluate as ev
from assistant.cli import main
from assistant.report import format_table, latest_report_html, render_html
from conftest import ROOT

BASELINE = ROOT / "evals" / "baseline.json"
REFERENCE = ROOT / "evals" / "reference.jsonl"


# ------------------------------------------------------------- metrics, by hand


def test_hit_mrr_ndcg_by_hand() -> None:
    rels = [False, True, False, True, False]
    assert ev.hit_at(rels, 1) == 0.0
    assert ev.hit_at(rels, 3) == 1.0
    assert ev.mrr(rels) == 0.5
    assert ev.mrr([False] * 5) == 0.0
    assert ev.mrr([True]) == 1.0
    # DCG = 1/log2(3) + 1/log2(5); ideal with 2 relevant = 1 + 1/log2(3)
    import math

    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ev.ndcg_at(rels, 5, 2) == pytest.approx(expected)
    assert ev.ndcg_at([True, True], 5, 2) == pytest.approx(1.0)
    assert ev.ndcg_at([False, False], 5, 0) == 0.0


def test_relevance_is_span_overlap_in_the_same_source() -> None:
    gold = [ev.Span("a.txt", 100, 150)]
    assert ev.is_relevant(ev.Span("a.txt", 0, 101), gold)
    assert ev.is_relevant(ev.Span("a.txt", 120, 130), gold)
    assert not ev.is_relevant(ev.Span("a.txt", 0, 100), gold)  # touching is not overlapping
    assert not ev.is_relevant(ev.Span("b.txt", 100, 150), gold)
    assert ev.covered_fraction(ev.Span("a.txt", 0, 10), [ev.Span("a.txt", 0, 5), ev.Span("a.txt", 3, 8)]) == 0.8


def test_token_f1_by_hand() -> None:
    assert ev.token_f1("Kirby said Russia", "Kirby said Russia") == 1.0
    assert ev.token_f1("", "anything") == 0.0
    # tokens drop stopwords: {kirby, russia} vs {kirby, iran} -> P = R = 1/2
    assert ev.token_f1("Kirby Russia", "Kirby Iran") == pytest.approx(0.5)


def test_key_facts_numbers_names_dates_accent_folded() -> None:
    ref = "On 25 April 2019, Sergei Shoigu met Kim Jong Un. Millions of shells."
    facts = ev.key_facts(ref)
    assert {"25", "2019", "april", "sergei", "shoigu", "kim", "jong"} <= set(facts)
    assert "millions" not in facts and "on" not in facts
    # French text, accents, English->French names and months all count.
    assert ev.key_fact_recall(ref, "le 25 avril 2019, Sergueï Choïgu a rencontré Kim Jong Un") == 1.0
    assert ev.key_fact_recall(ref, "rien") == 0.0
    assert ev.key_fact_recall("yes.", "whatever") is None


class _FakeStore:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def list_articles(self):  # type: ignore[no-untyped-def]
        return [{"id": s, "source": s} for s in self.texts]

    def get_article(self, article_id):  # type: ignore[no-untyped-def]
        return self.texts[article_id], {}

    def all_chunks(self):  # type: ignore[no-untyped-def]
        return [{"id": "c1", "text": "", "meta": {"source": "a.txt", "start": 0, "end": 40}},
                {"id": "c2", "text": "", "meta": {"source": "a.txt", "start": 40, "end": 80}}]


def test_score_exactness_citations_and_retrieval() -> None:
    text = "Intro sentence here. " + "Kirby said 11 things about Russia. " + "Filler text goes on and on."
    corpus = ev.Corpus(_FakeStore({"a.txt": text}))
    ev_str = "Kirby said 11 things about Russia."
    start = text.index(ev_str)
    row = {"answerable": True, "reference_answer": "Kirby said 11.", "evidence": [ev_str], "sources": ["a.txt"]}
    good = ev.SystemResult(
        answer="« Kirby said 11 things » [1]", abstained=False,
        citations=[{"id": 1, "source": "a.txt", "title": "", "quote": ev_str, "start": start, "end": start + len(ev_str)},
                   {"id": 2, "source": "a.txt", "title": "", "quote": "WRONG", "start": 0, "end": 5}],
        retrieved=[{"source": "a.txt", "start": 60, "end": 80}, {"source": "a.txt", "start": 0, "end": 40}],
        timings_ms={"total": 1.0},
    )
    m = ev.score(row, good, corpus)
    assert m["quote_exact"] == 0.5  # "Intro" != "WRONG"
    assert m["citation_precision"] == 0.5
    assert m["citation_recall"] == 1.0
    assert m["hit@1"] == 0.0 and m["hit@3"] == 1.0 and m["mrr"] == 0.5
    assert m["key_fact_recall"] == 1.0
    abstained = ev.SystemResult("The articles don't say.", True, [], [], {})
    m = ev.score(row, abstained, corpus)
    assert m["answered"] == 0.0 and m["citation_recall"] == 0.0 and m["citation_precision"] is None
    unans = {"answerable": False, "reference_answer": "", "evidence": [], "sources": []}
    assert ev.score(unans, abstained, corpus)["hit@1"] is None


def test_floors_and_metric_paths() -> None:
    report = {"summary": {"pipeline": {"overall": {"hit@5": 0.8, "latency_ms": {"total": {"p95": 30.0}}},
                                       "by_lang": {"fr": {"mrr": 0.4}}, "by_category": {}},
                          "bm25": {"overall": {"hit@5": 0.5}, "by_lang": {}, "by_category": {}}}}
    assert ev.metric_value(report, "hit@5") == 0.8
    assert ev.metric_value(report, "bm25.hit@5") == 0.5
    assert ev.metric_value(report, "pipeline.by_lang.fr.mrr") == 0.4
    assert ev.check_floors(report, {"hit@5": 0.7, "latency_ms.total.p95": 100}) == []
    fails = ev.check_floors(report, {"hit@5": 0.9, "bm25.hit@5": 0.6, "latency_ms.total.p95": 10, "nope": 1})
    assert len(fails) == 4 and fails[0].startswith("hit@5")
    assert ev.parse_floors(["hit@1=0.5", "mrr=0.25"]) == {"hit@1": 0.5, "mrr": 0.25}


# ------------------------------------------------------------ in-process runs


def _rows(n_each: int = 3) -> list[dict]:
    rows = ev.load_dataset(REFERENCE)
    picked, seen = [], {}
    for r in rows:
        if seen.get(r["category"], 0) < n_each:
            picked.append(r)
            seen[r["category"]] = seen.get(r["category"], 0) + 1
    return picked


def _random_retrieve(store, seed: int = 0):  # type: ignore[no-untyped-def]
    """A deliberately broken retriever: random passages, whatever the question."""
    from assistant.retrieve import passage_from

    rows = store.all_chunks()
    rng = random.Random(seed)

    def retrieve(question, vector, filters=None, k=None):  # type: ignore[no-untyped-def]
        out = []
        for i, r in enumerate(rng.sample(rows, min(len(rows), k or 8))):
            p = passage_from(r)
            p.score, p.rank, p.dense = 0.0, i + 1, -1.0
            out.append(p)
        return out

    return retrieve


def test_broken_retriever_fails_the_gate(assistant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    floors = ev.load_floors(BASELINE)
    monkeypatch.setattr(assistant.retriever, "retrieve", _random_retrieve(assistant.store))
    report = ev.evaluate(assistant, ev.load_dataset(REFERENCE), systems=("pipeline",))
    failures = ev.check_floors(report, floors)
    assert any(f.startswith("hit@5 ") for f in failures), failures
    assert any(f.startswith("mrr ") for f in failures), failures


def test_cli_gate_exits_1_on_broken_retriever(writable_home: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from assistant.retrieve import Retriever

    def broken(self, question, vector, filters=None, k=None):  # type: ignore[no-untyped-def]
        return _random_retrieve(self.store, seed=len(question))(question, vector, filters, k)

    monkeypatch.setattr(Retriever, "retrieve", broken)
    code = main(["--home", str(writable_home), "eval", "--use-index", "--baseline", str(BASELINE),
                 "--report", str(tmp_path / "rep")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "FAIL hit@5" in err
    assert (tmp_path / "rep" / "report.json").exists()


def test_cli_gate_passes_on_the_real_pipeline(writable_home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["--home", str(writable_home), "eval", "--use-index", "--baseline", str(BASELINE),
                 "--report", str(tmp_path / "rep")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "all " in out and "floors met" in out
    assert "margin vs dense" in out and "margin vs bm25" in out


def test_html_is_self_contained_and_escaped(assistant) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(1)
    rows.append({"id": "xss", "question": "<script>alert('x')</script> What did Kirby say?", "history": [],
                 "answerable": False, "reference_answer": "", "evidence": [], "sources": [],
                 "category": "unanswerable", "lang": "en"})
    report = ev.evaluate(assistant, rows)
    html = render_html(report)
    assert "<svg" in html and "<rect" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "<link" not in html.lower() and "@import" not in html
    json.dumps(report)  # the JSON report is serialisable
    table = format_table(report)
    assert "pipeline" in table and "dense" in table and "bm25" in table


def test_compare_lists_changed_questions(writable_home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    dataset = tmp_path / "small.jsonl"
    rows = _rows(2)
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    first = tmp_path / "first"
    assert main(["--home", str(writable_home), "eval", str(dataset), "--use-index", "--report", str(first)]) == 0
    capsys.readouterr()
    old = json.loads((first / "report.json").read_text(encoding="utf-8"))
    doctored = copy.deepcopy(old)
    target = next(q for q in doctored["questions"] if not q["answerable"])
    target["systems"]["pipeline"]["abstained"] = not target["systems"]["pipeline"]["abstained"]
    doctored["summary"]["pipeline"]["overall"]["hit@5"] -= 0.25
    (tmp_path / "old.json").write_text(json.dumps(doctored), encoding="utf-8")
    code = main(["--home", str(writable_home), "eval", str(dataset), "--use-index",
                 "--report", str(tmp_path / "second"), "--compare", str(tmp_path / "old.json")])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "1 question(s) changed outcome" in out
    assert target["id"] in out
    assert re.search(r"hit@5\s+\S+\s+\S+\s+\+0\.250", out)
    # The latest report is what the web UI shows.
    html = latest_report_html(writable_home)
    assert html is not None and "<svg" in html
    assert latest_report_html(tmp_path / "nowhere") is None


def test_fail_under_names_each_metric(writable_home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    dataset = tmp_path / "small.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(1)), encoding="utf-8")
    code = main(["--home", str(writable_home), "eval", str(dataset), "--use-index", "--report", str(tmp_path / "r"),
                 "--fail-under", "hit@5=1.01", "mrr=1.01", "quote_exact=0"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "FAIL hit@5" in err and "FAIL mrr" in err and "quote_exact" not in err


def test_judge_column_only_when_configured(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.llm import FakeLLM
    from assistant.settings import Settings

    assert ev.make_judge(Settings(home=Path("/nonexistent"))) is None
    rows = [r for r in _rows(1) if r["answerable"]][:3]
    judge = FakeLLM(default="yes")
    report = ev.evaluate(assistant, rows, systems=("pipeline",), judge=judge)
    assert report["meta"]["judge"] is True and judge.calls
    assert report["summary"]["pipeline"]["overall"]["judge_correct"] is not None
    assert "judge" in format_table(report)
    plain = ev.evaluate(assistant, rows, systems=("pipeline",))
    assert "judge_correct" not in plain["summary"]["pipeline"]["overall"]
