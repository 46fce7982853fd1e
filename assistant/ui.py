"""The Gradio web chat. Article text and user input are escaped before display:
an article carrying <script> or onerror= must run nothing in the page.

Citation markers [n] in an answer are links to the source view
(``/source/{article_id}?start=&end=#quote``), which shows the article with the quoted
span in a <mark>."""

import html
import importlib
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from assistant.errors import AssistantError
from assistant.types import Answer

EXAMPLES = [
    "What did Kirby say?",
    "Qu'a dit le ministère nord-coréen de la Défense ?",
    "Which drones did Russia get from Iran?",
    "Combien de séries de sanctions l'ONU a-t-elle approuvées contre la Corée du Nord ?",
]
ALL = "(all outlets)"
_MARKER = re.compile(r"\[(\d+)\]")
# Characters that Markdown (marked, as used by Gradio) would read as syntax.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_FEEDBACK_LOCK = threading.Lock()


def _text_of(content: Any) -> str:
    """Gradio 6 history content is a list of blocks, older code passes strings."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content or "")


def history_questions(history: list[Any]) -> list[str]:
    out = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") == "user":
            text = _text_of(turn.get("content")).strip()
            if text:
                out.append(text)
    return out


def esc(s: str) -> str:
    """Text -> Markdown that displays exactly that text (no HTML, no Markdown syntax)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(s or "", quote=False))


def source_url(article_id: str, start: int, end: int) -> str:
    return f"/source/{quote(article_id, safe='')}?{urlencode({'start': start, 'end': end})}#quote"


def cite_link(c) -> str:  # type: ignore[no-untyped-def]
    """[n] as a link to the highlighted passage (raw HTML: our markup, escaped values)."""
    if not c.article_id:
        return f"\\[{c.id}\\]"
    href = html.escape(source_url(c.article_id, c.start, c.end), quote=True)
    return f'<a class="cite" href="{href}" target="_blank" rel="noopener">[{c.id}]</a>'


def render_markdown(ans: Answer) -> str:
    """The answer with clickable [n] markers, then the cited passages; all escaped."""
    by_id = {c.id: c for c in ans.citations}
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(ans.answer):
        out.append(esc(ans.answer[pos : m.start()]))
        c = by_id.get(int(m.group(1)))
        if c is not None and c.article_id:
            out.append(cite_link(c))
        else:
            out.append(esc(m.group(0)))
        pos = m.end()
    out.append(esc(ans.answer[pos:]))
    parts = ["".join(out).replace("\n", "  \n")]
    if ans.notice:
        parts.append(f"\n_{esc(ans.notice)}_")
    if ans.citations:
        parts.append("\n**Sources**")
        for c in ans.citations:
            meta = ", ".join(esc(x) for x in (c.outlet, c.date) if x)
            head = esc(c.title or c.source) + (f" ({meta})" if meta else "")
            where = f" — {esc(c.source)}" if c.title else ""
            parts.append(f"\n{cite_link(c)} **{head}**{where} \\[{c.start}:{c.end}\\]  \n> {esc(c.quote)}")
    if ans.closest:
        parts.append("\n**Closest sources (not an answer)**")
        for c in ans.closest:
            parts.append(f"\n- {esc(c.title or c.source)}: “{esc(c.quote)}”")
    return "\n".join(parts)


def _progressive(text: str) -> Iterator[str]:
    """Yield growing prefixes of the rendered answer, cut at line ends so a link is
    never shown half-written."""
    lines = text.split("\n")
    for i in range(1, len(lines) + 1):
        yield "\n".join(lines[:i])


def answer_stream(assistant, question: str, history: list[str], filters) -> Iterator[str | Answer]:  # type: ignore[no-untyped-def]
    """Partial text strings, then the final Answer. Uses ``ask_stream`` when the
    pipeline has it, else ``ask`` (the caller renders the answer progressively)."""
    if hasattr(assistant, "ask_stream"):
        yield from assistant.ask_stream(question, history, filters)
    else:
        yield assistant.ask(question, history, filters)


def record_feedback(home: Path, liked: Any, answer: dict[str, Any]) -> None:
    row = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "liked": liked,
        "question": answer.get("question", ""),
        "answer": answer.get("answer", ""),
        "citations": answer.get("citations", []),
        "settings_hash": answer.get("settings_hash", ""),
    }
    home.mkdir(parents=True, exist_ok=True)
    with _FEEDBACK_LOCK, open(home / "feedback.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def eval_html(home: Path) -> str:
    try:
        report = importlib.import_module("assistant.report")
    except ImportError:
        report = None
    if report is not None and hasattr(report, "latest_report_html"):
        try:
            got = report.latest_report_html(home)
        except Exception as exc:  # noqa: BLE001 - the tab must render anyway
            return f"<p>The evaluation report could not be read: {html.escape(str(exc))}</p>"
        if got:
            # The report is a whole HTML document: show it sandboxed (no scripts, no
            # styles leaking into the chat page).
            return (f'<iframe title="Evaluation report" sandbox srcdoc="{html.escape(got, quote=True)}" '
                    'style="width:100%;height:900px;border:0"></iframe>')
    return "<p>No evaluation run yet — run 'assistant eval'</p>"


def sources_rows(assistant) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    rows = []
    for a in assistant.store.list_articles():
        rows.append([a.get("title", ""), a.get("outlet", ""), a.get("date", ""), a.get("n_chunks", 0), a.get("source", "")])
    return rows


def filter_choices(assistant) -> tuple[list[str], str, str]:  # type: ignore[no-untyped-def]
    arts = assistant.store.list_articles()
    outlets = sorted({a.get("outlet", "") for a in arts if a.get("outlet")})
    dates = sorted(a.get("date", "") for a in arts if a.get("date"))
    return [ALL, *outlets], (dates[0] if dates else ""), (dates[-1] if dates else "")


def build_ui(assistant, settings=None) -> Any:  # type: ignore[no-untyped-def]
    import gradio as gr

    from assistant.retrieve import Filters

    settings = settings or assistant.settings
    home = Path(settings.home)
    outlets, first_date, last_date = filter_choices(assistant)

    def run(message: str, history: list[str], filters) -> Iterator[tuple[str, dict | None]]:  # type: ignore[no-untyped-def]
        """(markdown so far, final answer dict or None)."""
        try:
            final: Answer | None = None
            streamed = False
            partial = ""
            for part in answer_stream(assistant, message, history, filters):
                if isinstance(part, Answer):
                    final = part
                else:
                    streamed = True
                    partial = str(part) if str(part).startswith(partial) else partial + str(part)
                    yield esc(partial), None
            if final is None:
                return
            rendered = render_markdown(final)
            if streamed:
                yield rendered, final.to_dict()
            else:  # extractive answers arrive whole: show them line by line
                chunks = list(_progressive(rendered))
                for text in chunks[:-1]:
                    yield text, None
                yield chunks[-1], final.to_dict()
        except AssistantError as exc:
            yield f"⚠️ {esc(str(exc))}", None

    def chat(message, history, answers, outlet, date_from, date_to):  # type: ignore[no-untyped-def]
        history = list(history or [])
        answers = dict(answers or {})
        message = (message or "").strip()
        if not message:
            yield history, answers, ""
            return
        questions = history_questions(history)
        filters = Filters(outlet="" if outlet in ("", ALL, None) else outlet,
                          date_from=(date_from or "").strip(), date_to=(date_to or "").strip())
        history.append({"role": "user", "content": message})
        history.append({"role": "assistant", "content": "…"})
        yield list(history), dict(answers), ""
        for text, final in run(message, questions, filters):
            history[-1] = {"role": "assistant", "content": text}
            if final is not None:
                answers[str(len(history) - 1)] = final
            yield list(history), dict(answers), ""

    def chat_api(message: str) -> Iterator[str]:
        """One question, no conversation: the rendered answer (streams)."""
        for text, _final in run(message, [], None):
            yield text

    def on_like(data: gr.LikeData, answers):  # type: ignore[no-untyped-def]
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        ans = (answers or {}).get(str(index))
        if ans is None:
            return
        record_feedback(home, data.liked, ans)

    def new_conversation():  # type: ignore[no-untyped-def]
        return [], {}, ""

    with gr.Blocks(title="News archive assistant") as demo:
        gr.Markdown(
            "## News archive assistant\nAnswers come from the indexed articles only, each claim "
            "with a verbatim, cited passage. Click a citation [n] to read it in its article."
        )
        with gr.Tab("Chat"):
            with gr.Row():
                outlet = gr.Dropdown(outlets, value=ALL, label="Outlet", scale=2)
                date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder=first_date, scale=1)
                date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder=last_date, scale=1)
            chatbot = gr.Chatbot(
                height=520, sanitize_html=True, render_markdown=True, latex_delimiters=[],
                feedback_options=("Like", "Dislike"), label="Answers", elem_id="chat",
            )
            answers = gr.State({})
            with gr.Row():
                box = gr.Textbox(placeholder="Ask about the articles (English or French)",
                                 show_label=False, scale=6, elem_id="question")
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                new = gr.Button("New conversation", scale=1, elem_id="new")
            gr.Examples(EXAMPLES, inputs=box, label="Example questions")
        with gr.Tab("Sources"):
            table = gr.Dataframe(
                headers=["title", "outlet", "date", "chunks", "source"],
                value=sources_rows(assistant), interactive=False, wrap=True,
            )
        with gr.Tab("Evaluation"):
            report = gr.HTML(eval_html(home))

        inputs = [box, chatbot, answers, outlet, date_from, date_to]
        outputs = [chatbot, answers, box]
        send.click(chat, inputs, outputs, api_name="chat_ui", concurrency_limit=8)
        box.submit(chat, inputs, outputs, api_name="chat_submit", api_visibility="private", concurrency_limit=8)
        new.click(new_conversation, None, outputs, api_name="new_conversation")
        chatbot.like(on_like, [answers], None, api_name="feedback", api_visibility="private")
        gr.api(chat_api, api_name="chat", concurrency_limit=8)
        demo.load(lambda: (sources_rows(assistant), eval_html(home)), None, [table, report],
                  api_name="refresh", api_visibility="private")
    return demo
