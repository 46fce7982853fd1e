"""The Chroma store: embedded (``PersistentClient``) or a server (``ASSISTANT_CHROMA_URL``).

Chunks go through llama-index's ``ChromaVectorStore`` (TextNodes with their spans);
articles and sentences are plain Chroma collections. We always pass our own
embeddings: Chroma's default embedding function would try to download a model.

Write order makes ingestion crash-safe: sentences, then chunks, then the article
record. Readers only see chunks whose article record exists, so a half-written
article is invisible, and re-running writes the same deterministic ids again.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import EmbedderMismatch, StoreUnavailable
from index import schema as S
from index.schema import Article, Chunk

_BATCH = 2000  # stay well under Chroma's max batch size
# Collection calls that only read: safe to retry once (a pooled connection to a Chroma
# server that was restarted fails on first reuse).
_READS = {"get", "count", "query", "peek"}
UNREACHABLE = "the Chroma index is unreachable; answers resume once it is back (retry shortly)"


def _unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the Chroma server cannot be reached (down, restarting,
    connection dropped mid-request), as opposed to a bad request."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        return isinstance(exc, ConnectionError)
    return isinstance(exc, (httpx.TransportError, ConnectionError))


class _Guarded:
    """A Chroma collection whose calls raise ``StoreUnavailable`` (one short message,
    503 in the API) instead of transport errors when the server is down; reads are
    retried once, and a failure asks the store to reconnect before the next call."""

    def __init__(self, store: "Store", name: str) -> None:
        self._store = store
        self._name = name

    @property
    def raw(self) -> Any:
        return getattr(self._store, f"_{self._name}")

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self.raw, attr)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self._store.reconnect()  # no-op unless an earlier call found the server gone
            tries = 2 if attr in _READS else 1
            for n in range(tries):
                try:
                    return getattr(self.raw, attr)(*args, **kwargs)
                except Exception as exc:
                    if not _unreachable(exc):
                        raise
                    self._store.mark_broken()
                    if n + 1 < tries:
                        time.sleep(0.2)
                        try:
                            self._store.reconnect()
                        except StoreUnavailable:
                            pass
            raise StoreUnavailable(
                UNREACHABLE
            )

        return call


def _connect(settings) -> Any:  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise StoreUnavailable(
                    f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not a URL like "
                    "http://127.0.0.1:8000"
                )
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except StoreUnavailable:
        raise
    except PermissionError:
        raise StoreUnavailable(
            f"cannot write the index in {settings.chroma_path}; check its permissions or "
            "set ASSISTANT_HOME"
        ) from None
    except Exception as exc:  # chromadb raises many types for an unreachable server
        where = settings.chroma_url or settings.chroma_path
        text = str(exc).lower()
        if not settings.chroma_url and ("readonly" in text or "read-only" in text or "permission" in text):
            raise StoreUnavailable(
                f"the index in {settings.chroma_path} is read-only (embedded Chroma must be "
                "able to write there, even to answer); fix its permissions or copy it to a "
                "writable ASSISTANT_HOME"
            ) from None
        raise StoreUnavailable(
            f"cannot open the Chroma index at {where} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); is the server running?"
        ) from None


class Store:
    def __init__(self, settings) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self._lock = threading.Lock()
        self._broken = False
        self._open()
        # Callers use these like Chroma collections; server outages become StoreUnavailable.
        self.articles = _Guarded(self, "articles")
        self.chunks = _Guarded(self, "chunks")
        self.sentences = _Guarded(self, "sentences")
        self._visible: set[str] | None = None
        self._visible_at = 0.0

    def _open(self) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = _connect(self.settings)
        prefix = self.settings.collection
        meta = {"hnsw:space": "cosine"}
        try:
            colls = [
                client.get_or_create_collection(f"{prefix}_{name}", metadata=meta, embedding_function=None)
                for name in ("articles", "chunks", "sentences")
            ]
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot open the Chroma collections ({type(exc).__name__}); "
                "is the Chroma server running and reachable?"
            ) from None
        self.client = client
        self._articles, self._chunks, self._sentences = colls
        self.vector_store = ChromaVectorStore(chroma_collection=self._chunks)

    def mark_broken(self) -> None:
        self._broken = True

    def reconnect(self) -> None:
        """After a Chroma server outage: a new client and fresh collection handles (the
        server may have been restarted; its collections keep their ids on the same path).
        Only for a server; the embedded client has no connection to lose."""
        if not self.settings.chroma_url or not self._broken:
            return
        with self._lock:
            if not self._broken:
                return
            try:
                self._open()
            except StoreUnavailable:
                raise StoreUnavailable(UNREACHABLE) from None  # one message, no address
            self._broken = False
            self._visible = None

    # ----- index-level facts -------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The articles collection's metadata as the store has it now (another process
        may have changed it since this one opened the collection)."""
        fresh = self.client.get_collection(f"{self.settings.collection}_articles")
        return dict(fresh.metadata or {})

    def check_embedder(self, name: str, *, for_writing: bool) -> None:
        """Refuse to mix vectors from two embedders in one index."""
        recorded = (self.articles.metadata or {}).get(S.EMBEDDER)
        if recorded and recorded != name:
            raise EmbedderMismatch(
                f"the index was built with embedder {recorded!r} but {name!r} is configured; "
                f"set ASSISTANT_EMBEDDER={recorded.split(':')[0]} or re-index: "
                "'assistant reset' then 'assistant ingest'"
            )
        if not recorded and for_writing:
            self._set_meta({S.EMBEDDER: name, "schema_version": S.SCHEMA_VERSION})

    def _set_meta(self, updates: dict[str, Any]) -> None:
        meta = {k: v for k, v in self.info().items() if not k.startswith("hnsw:")}
        meta.update(updates)
        self.articles.modify(metadata=meta)

    def set_flag(self, key: str, value: int) -> None:
        self._set_meta({key: value})

    def generation(self) -> int:
        """A counter bumped by every write; replicas use it to refresh derived indexes."""
        try:
            if self._broken:
                self.reconnect()
            coll = self.client.get_collection(f"{self.settings.collection}_articles")
        except StoreUnavailable:
            self.mark_broken()
            raise
        except Exception as exc:
            self.mark_broken()
            raise StoreUnavailable(
                f"the Chroma index is unreachable ({type(exc).__name__}); "
                "answers resume once it is back"
            ) from None
        return int((coll.metadata or {}).get("generation", 0))

    def bump_generation(self) -> None:
        self._set_meta({"generation": self.generation() + 1})
        with self._lock:
            self._visible = None

    # ----- write path ----------------------------------------------------------------
    def article_hashes(self) -> dict[str, dict[str, Any]]:
        """article_id -> metadata of every (fully written) article."""
        got = self.articles.get(include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"] or [])}

    def write_article(
        self,
        article: Article,
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        extra_meta: dict[str, Any] | None = None,
    ) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        base = {k: v for k, v in article.metadata().items() if k != S.CONTENT_HASH}
        if extra_meta:
            base.update(extra_meta)
        # 1. sentences
        sentences = [s for c in chunks for s in c.sentences]
        for i in range(0, len(sentences), _BATCH):
            batch = sentences[i : i + _BATCH]
            self.sentences.upsert(
                ids=[s.id for s in batch],
                embeddings=sentence_vectors[i : i + _BATCH].tolist(),
                documents=[s.text for s in batch],
                metadatas=[
                    {
                        **base,
                        S.START: s.start,
                        S.END: s.end,
                        S.SENTENCE_INDEX: s.index,
                        S.CHUNK_ID: f"{article.id}:c{s.chunk_index}",
                    }
                    for s in batch
                ],
            )
        # 2. chunks, as llama-index nodes (so a VectorStoreIndex can read the same store)
        nodes = []
        for chunk, vec in zip(chunks, chunk_vectors):
            node = TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=vec.tolist(),
                start_char_idx=chunk.start,
                end_char_idx=chunk.end,
                metadata={**base, S.START: chunk.start, S.END: chunk.end, S.CHUNK_INDEX: chunk.index},
                excluded_embed_metadata_keys=list(base) + [S.START, S.END, S.CHUNK_INDEX],
                excluded_llm_metadata_keys=list(base) + [S.START, S.END, S.CHUNK_INDEX],
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=article.id)
            nodes.append(node)
        # Same records as ChromaVectorStore.add() writes, but upserted: chunk ids are
        # deterministic, so a rerun after a killed write overwrites its partial chunks
        # without a delete-by-metadata scan (which grows with the whole collection).
        from llama_index.core.schema import MetadataMode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        for i in range(0, len(nodes), _BATCH):
            batch_nodes = nodes[i : i + _BATCH]
            metas = []
            for node in batch_nodes:
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.vector_store.flat_metadata)
                metas.append({k: ("" if v is None else v) for k, v in meta.items()})
            self.chunks.upsert(
                ids=[n.node_id for n in batch_nodes],
                embeddings=[n.get_embedding() for n in batch_nodes],
                metadatas=metas,
                documents=[n.get_content(metadata_mode=MetadataMode.NONE) for n in batch_nodes],
            )
        # 3. the article record last: from now on readers see it
        mean = chunk_vectors.mean(axis=0) if len(chunk_vectors) else np.zeros(sentence_vectors.shape[1])
        norm = float(np.linalg.norm(mean)) or 1.0
        self.articles.upsert(
            ids=[article.id],
            embeddings=[(mean / norm).tolist()],
            documents=[article.text],
            metadatas=[
                {
                    **base,
                    S.CONTENT_HASH: article.hash,
                    S.N_CHUNKS: len(chunks),
                    S.N_SENTENCES: len(sentences),
                    "ingested_at": time.time(),
                }
            ],
        )

    def delete_article(self, article_id: str) -> None:
        # The record first, so readers stop seeing the article before its parts go.
        self.articles.delete(ids=[article_id])
        self.chunks.delete(where={S.ARTICLE_ID: article_id})
        self.sentences.delete(where={S.ARTICLE_ID: article_id})

    def delete_orphans(self) -> int:
        """Remove chunks and sentences left by an ingestion that was killed half-way."""
        known = set(self.articles.get(include=[])["ids"])
        removed = 0
        for coll in (self.chunks, self.sentences):
            got = coll.get(include=["metadatas"])
            orphan_ids = [i for i, m in zip(got["ids"], got["metadatas"] or []) if m.get(S.ARTICLE_ID) not in known]
            for j in range(0, len(orphan_ids), _BATCH):
                coll.delete(ids=orphan_ids[j : j + _BATCH])
            removed += len(orphan_ids)
        return removed

    def update_article_meta(self, article_id: str, updates: dict[str, Any]) -> None:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return
        meta = dict(got["metadatas"][0])
        meta.update(updates)
        self.articles.update(ids=[article_id], metadatas=[meta])

    def update_articles_meta(self, updates: dict[str, dict[str, Any]]) -> None:
        """Set metadata keys on many article records in one round trip."""
        if not updates:
            return
        got = self.articles.get(ids=sorted(updates), include=["metadatas"])
        ids = got["ids"]
        metas = [dict(m, **updates[i]) for i, m in zip(ids, got["metadatas"])]
        if ids:
            self.articles.update(ids=ids, metadatas=metas)

    def update_meta_everywhere(
        self, article_id: str, updates: dict[str, Any], parts: dict[str, Any] | None = None,
        record: bool = True,
    ) -> None:
        """Set ``updates`` on an article record and ``parts`` (default: the same keys)
        on all its chunks and sentences; ``parts={}`` touches the record only."""
        import json

        if record:
            self.update_article_meta(article_id, updates)
        updates = updates if parts is None else parts
        if not updates:
            return
        for coll in (self.chunks, self.sentences):
            got = coll.get(where={S.ARTICLE_ID: article_id}, include=["metadatas"])
            metas = []
            for m in got["metadatas"] or []:
                m = dict(m, **updates)
                # llama-index rebuilds node.metadata from this JSON blob: keep it in step
                if "_node_content" in m:
                    try:
                        node = json.loads(m["_node_content"])
                        node.setdefault("metadata", {}).update(updates)
                        m["_node_content"] = json.dumps(node)
                    except (TypeError, ValueError):
                        pass
                metas.append(m)
            for i in range(0, len(metas), _BATCH):
                coll.update(ids=got["ids"][i : i + _BATCH], metadatas=metas[i : i + _BATCH])

    # ----- read path -----------------------------------------------------------------
    def visible_articles(self) -> set[str]:
        with self._lock:
            if self._visible is not None and time.monotonic() - self._visible_at < 1.0:
                return self._visible
        ids = set(self.articles.get(include=[])["ids"])
        with self._lock:
            self._visible, self._visible_at = ids, time.monotonic()
        return ids

    def count(self) -> dict[str, int]:
        return {
            "articles": self.articles.count(),
            "chunks": self.chunks.count(),
            "sentences": self.sentences.count(),
        }

    def list_articles(self) -> list[dict[str, Any]]:
        got = self.articles.get(include=["metadatas"])
        rows = [dict(m, id=i) for i, m in zip(got["ids"], got["metadatas"] or [])]
        return sorted(rows, key=lambda r: (r.get(S.SOURCE, ""), r["id"]))

    def get_article(self, article_id: str) -> tuple[str, dict[str, Any]] | None:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return got["documents"][0], got["metadatas"][0]

    def query_chunks(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[dict[str, Any]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        n = self.chunks.count()
        if n == 0:
            return []
        try:
            result = self.vector_store.query(
                VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=min(k, n)),
                **({"where": where} if where else {}),
            )
        except Exception as exc:
            if not _unreachable(exc):
                raise
            self.mark_broken()
            raise StoreUnavailable(
                UNREACHABLE
            ) from None
        visible = self.visible_articles()
        hits = []
        for node, sim in zip(result.nodes or [], result.similarities or []):
            meta = node.metadata
            if meta.get(S.ARTICLE_ID) not in visible:
                continue
            # ChromaVectorStore reports exp(-distance); with cosine space, cos = 1 - distance.
            cosine = 1.0 + float(np.log(max(sim, 1e-12)))
            hits.append({"id": node.node_id, "text": node.get_content(), "meta": meta, "cosine": cosine})
        return hits

    def query_sentences(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[dict[str, Any]]:
        n = self.sentences.count()
        if n == 0:
            return []
        got = self.sentences.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, n),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        visible = self.visible_articles()
        return [
            {"id": i, "text": d, "meta": m, "cosine": 1.0 - float(dist)}
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
            if m.get(S.ARTICLE_ID) in visible
        ]

    def sentences_of(self, where: dict, with_vectors: bool = True) -> list[dict[str, Any]]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = self.sentences.get(where=where, include=include)
        visible = self.visible_articles()
        vectors = got.get("embeddings") if with_vectors else None
        rows = []
        for n, (i, d, m) in enumerate(zip(got["ids"], got["documents"], got["metadatas"])):
            if m.get(S.ARTICLE_ID) not in visible:
                continue
            row = {"id": i, "text": d, "meta": m}
            if vectors is not None:
                row["vector"] = np.asarray(vectors[n], dtype=np.float32)
            rows.append(row)
        return rows

    def all_chunks(self) -> list[dict[str, Any]]:
        """Every visible chunk's text and metadata (to build the lexical index)."""
        visible = self.visible_articles()
        rows, offset = [], 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=5000, offset=offset)
            if not got["ids"]:
                break
            rows.extend(
                {"id": i, "text": d, "meta": m}
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
                if m.get(S.ARTICLE_ID) in visible
            )
            offset += len(got["ids"])
        return rows

    def reset(self) -> None:
        prefix = self.settings.collection
        for name in ("articles", "chunks", "sentences"):
            try:
                self.client.delete_collection(f"{prefix}_{name}")
            except Exception:
                pass
