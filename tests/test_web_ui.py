"""The chat's rendering, feedback log and evaluation tab, without a server."""

from __future__ import annotations

import json

from assistant.types import Answer, Citation


def _answer(quote: str) -> Answer:
    c = Citation(id=1, source="x.txt", title="<b>T</b>", quote=quote, start=3, end=9, article_id="a1",
                 outlet="O[u]t", date="2022-01-01")
    return Answer(question="q", answer=f"“{quote}” [1]", abstained=False, citations=[c])


def test_render_escapes_html_and_markdown() -> None:
    from assistant.ui import render_markdown

    md = render_markdown(_answer('<script>alert(1)</script> <img src=x onerror=alert(1)> [a](javascript:alert(1))'))
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;" in md and "\\[a\\](javascript:alert(1))" in md
    assert '<a class="cite" href="/source/a1?start=3&amp;end=9#quote" target="_blank" rel="noopener">[1]</a>' in md


def test_feedback_is_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.ui import record_feedback

    ans = _answer("quoted").to_dict()
    record_feedback(tmp_path, True, ans)
    record_feedback(tmp_path, False, ans)
    rows = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert [r["liked"] for r in rows] == [True, False]
    assert rows[0]["question"] == "q" and rows[0]["citations"][0]["quote"] == "quoted"


def test_like_event_records_question_answer_and_citations(assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Drive the Blocks' own like handler as Gradio would."""
    import gradio as gr

    from assistant.ui import build_ui
    from conftest import make_settings

    demo = build_ui(assistant, make_settings(tmp_path))
    like = next(f for f in demo.fns.values() if f.api_name == "feedback")
    ans = _answer("quoted").to_dict()
    like.fn(gr.LikeData(None, {"index": 1, "value": "…", "liked": False}), {"1": ans})
    row = json.loads((tmp_path / "feedback.jsonl").read_text())
    assert row["liked"] is False and row["answer"] == ans["answer"] and row["citations"]


def test_eval_tab_without_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.ui import eval_html

    got = eval_html(tmp_path)
    assert "No evaluation run yet" in got or "<" in got


class _Streaming:
    """The pipeline with ``ask_stream`` (LLM mode): cumulative partial text, then the Answer."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.store, self.settings = inner, inner.store, inner.settings

    def ask(self, question, history=None, filters=None):  # type: ignore[no-untyped-def]
        return self.inner.ask(question, history, filters)

    def ask_stream(self, question, history=None, filters=None):  # type: ignore[no-untyped-def]
        yield "Kirby <b>said</b>"
        yield "Kirby <b>said</b> things"
        yield self.inner.ask(question, history, filters)


def _chat_fn(demo, name):  # type: ignore[no-untyped-def]
    return next(f for f in demo.fns.values() if f.api_name == name).fn


def test_chat_streams_with_and_without_ask_stream(assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.ui import ALL, build_ui
    from conftest import make_settings

    settings = make_settings(tmp_path)
    for pipeline in (assistant, _Streaming(assistant)):
        demo = build_ui(pipeline, settings)
        steps = list(_chat_fn(demo, "chat_ui")("What did Kirby say?", [], {}, ALL, "", ""))
        texts = [h[-1]["content"] for h, _answers, _box in steps]
        assert len(texts) >= 3 and all(len(a) <= len(b) for a, b in zip(texts[1:], texts[2:]))
        history, answers, box = steps[-1]
        assert box == "" and answers["1"]["citations"] and 'class="cite"' in texts[-1]
        if pipeline is not assistant:
            assert "Kirby &lt;b&gt;said&lt;/b&gt; things" in texts
        # A follow-up keeps the conversation; its answer is recorded under its own index.
        steps = list(_chat_fn(demo, "chat_ui")("What else did he say?", history, answers, ALL, "", ""))
        assert set(steps[-1][1]) == {"1", "3"}


def test_eval_tab_shows_latest_report_sandboxed(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys
    import types

    from assistant.ui import eval_html

    fake = types.ModuleType("assistant.report")
    fake.latest_report_html = lambda home: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "assistant.report", fake)
    assert eval_html(tmp_path) == "<p>No evaluation run yet — run 'assistant eval'</p>"
    fake.latest_report_html = lambda home: "<html><body><h1>Eval</h1><script>x()</script></body></html>"  # type: ignore[attr-defined]
    got = eval_html(tmp_path)
    assert got.startswith("<iframe") and " sandbox " in got and "<script>" not in got and "&lt;h1&gt;Eval" in got
