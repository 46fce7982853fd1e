"""One server process: FastAPI with the REST API under /api and the Gradio chat at /."""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel, Field

from assistant.errors import AssistantError


class AskBody(BaseModel):
    question: str = Field(max_length=2000, description="The question, in English or French.")
    history: list[str] = Field(default_factory=list, max_length=20, description="Earlier questions.")
    source: str = Field(default="", description="Only this source file.")
    outlet: str = Field(default="", description="Only this outlet.")
    date_from: str = Field(default="", description="Only articles dated on or after (YYYY-MM-DD).")
    date_to: str = Field(default="", description="Only articles dated on or before (YYYY-MM-DD).")


def create_app(assistant) -> Any:  # type: ignore[no-untyped-def]
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from assistant.retrieve import Filters
    from assistant.ui import build_ui

    app = FastAPI(title="News archive assistant", version="0.1.0")

    @app.post("/api/ask")
    def ask(body: AskBody) -> Any:
        try:
            ans = assistant.ask(
                body.question, body.history,
                Filters(source=body.source, outlet=body.outlet, date_from=body.date_from, date_to=body.date_to),
            )
        except AssistantError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return ans.to_dict()

    @app.get("/api/health")
    def health() -> Any:
        try:
            counts = assistant.store.count()
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return {"status": "ok", **counts}

    @app.get("/api/sources")
    def sources() -> Any:
        return assistant.store.list_articles()

    return gr.mount_gradio_app(app, build_ui(assistant), path="/")


def serve(settings, host: str = "127.0.0.1", port: int = 7860, ingest_if_empty: bool = True) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from assistant.pipeline import Assistant

    assistant = Assistant(settings)
    if ingest_if_empty and assistant.store.articles.count() == 0:
        from index.ingest import ingest

        print("the index is empty: indexing the bundled corpus...", file=sys.stderr)
        report = ingest([str(settings.corpus_dir)], settings, assistant.store, assistant.embedder)
        print(report.summary(), file=sys.stderr)
    assistant.warm()
    app = create_app(assistant)
    print(f"serving on http://{host}:{port}", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
