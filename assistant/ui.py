"""The Gradio web chat. Article text and user input are escaped before display:
an article carrying <script> or onerror= must run nothing in the page."""

from __future__ import annotations

import html
from typing import Any

from assistant.errors import AssistantError
from assistant.types import Answer

EXAMPLES = [
    "What did Kirby say?",
    "Qu'a dit le ministère nord-coréen de la Défense ?",
    "Which drones did Russia get from Iran?",
    "Combien de séries de sanctions l'ONU a-t-elle approuvées contre la Corée du Nord ?",
]


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


def render_markdown(ans: Answer) -> str:
    """The answer, then the cited passages with their article titles; all escaped."""
    def esc(s: str) -> str:
        return html.escape(s, quote=False)

    parts = [esc(ans.answer).replace("\n", "  \n")]
    if ans.notice:
        parts.append(f"\n_{esc(ans.notice)}_")
    if ans.citations:
        parts.append("\n**Sources**")
        for c in ans.citations:
            meta = ", ".join(esc(x) for x in (c.outlet, c.date) if x)
            head = esc(c.title or c.source) + (f" ({meta})" if meta else "")
            parts.append(f"\n[{c.id}] **{head}** — `{esc(c.source)}` [{c.start}:{c.end}]  \n> {esc(c.quote)}")
    if ans.closest:
        parts.append("\n**Closest sources (not an answer)**")
        for c in ans.closest:
            parts.append(f"\n- {esc(c.title or c.source)}: “{esc(c.quote)}”")
    return "\n".join(parts)


def build_ui(assistant) -> Any:  # type: ignore[no-untyped-def]
    import gradio as gr

    def chat(message: str, history: list[Any]) -> str:
        try:
            ans = assistant.ask(message, history_questions(history))
        except AssistantError as exc:
            return f"⚠️ {html.escape(str(exc))}"
        return render_markdown(ans)

    with gr.Blocks(title="News archive assistant") as demo:
        gr.Markdown("## News archive assistant\nAnswers come from the indexed articles only, each claim with a verbatim, cited passage.")
        gr.ChatInterface(
            fn=chat,
            examples=EXAMPLES,
            api_name="chat",
            concurrency_limit=8,
            chatbot=gr.Chatbot(height=560, sanitize_html=True, render_markdown=True),
        )
    return demo
