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
from index import heap
from index import schema as S
from index.schema import Article, Chunk

_BATCH = 2000  # stay well under Chroma's max batch size
# Collection calls that only read: safe to retry once (a pooled connection to a Chroma
# server that was restarted fails on first reuse).
_READS = {"get", "count", "query", "peek"}
# llama-index's bookkeeping keys in chunk metadata (besides ``_node_content``/``_node_type``)
_NODE_KEYS = {"document_id", "doc_id", "ref_doc_id"}
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


def _upsert(coll: Any, ids: list[str], vectors: np.ndarray, documents: list[str],
            metadatas: list[dict[str, Any]]) -> None:
    """Upsert records ``_BATCH`` at a time (Chroma refuses calls over its max batch size)."""
    for i in range(0, len(ids), _BATCH):
        coll.upsert(ids=ids[i : i + _BATCH], embeddings=vectors[i : i + _BATCH],
                    documents=documents[i : i + _BATCH], metadatas=metadatas[i : i + _BATCH])


def _connect(settings) -> Any:  # type: ignore[no-untyped-def]
    heap.limit_arenas()  # before Chroma's threads allocate their own arenas
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
        self.leads = _Guarded(self, "leads")
        self._dir: dict[str, str] | None = None
        self._dir_gen = -1
        self._dir_checked = 0.0

    def _open(self) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = _connect(self.settings)
        prefix = self.settings.collection
        meta = {"hnsw:space": "cosine"}
        try:
            colls = [
                client.get_or_create_collection(f"{prefix}_{name}", metadata=meta, embedding_function=None)
                for name in ("articles", "chunks", "sentences", "leads")
            ]
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot open the Chroma collections ({type(exc).__name__}); "
                "is the Chroma server running and reachable?"
            ) from None
        self.client = client
        self._articles, self._chunks, self._sentences, self._leads = colls
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
            self._dir = None

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
            self._dir = None

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
        self.write_articles([(article, chunks, chunk_vectors, sentence_vectors)], extra_meta)

    def write_articles(
        self,
        items: list[tuple[Article, list[Chunk], np.ndarray, np.ndarray]],
        extra_meta: dict[str, Any] | None = None,
    ) -> None:
        """Write many articles with a few large Chroma calls: each call costs a round
        trip (and an index update) whatever its size, so one upsert per collection per
        batch, not three per article. The crash-safe order holds for the whole batch:
        every sentence, then every chunk, then the article records."""
        from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        bases = []
        for article, *_ in items:
            base = {k: v for k, v in article.metadata().items() if k != S.CONTENT_HASH}
            if extra_meta:
                base.update(extra_meta)
            bases.append(base)

        # 1. sentences
        s_ids: list[str] = []
        s_vecs: list[np.ndarray] = []
        s_docs: list[str] = []
        s_metas: list[dict[str, Any]] = []
        for (article, chunks, _cv, sent_vecs), base in zip(items, bases):
            sentences = [s for c in chunks for s in c.sentences]
            s_ids += [s.id for s in sentences]
            s_docs += [s.text for s in sentences]
            s_vecs.append(np.asarray(sent_vecs, dtype=np.float32).reshape(len(sentences), -1))
            s_metas += [
                {**base, S.START: s.start, S.END: s.end, S.SENTENCE_INDEX: s.index,
                 S.CHUNK_ID: f"{article.id}:c{s.chunk_index}"}
                for s in sentences
            ]
        all_s = np.vstack(s_vecs) if s_vecs else np.zeros((0, 0), dtype=np.float32)
        _upsert(self.sentences, s_ids, all_s, s_docs, s_metas)
        lead = [n for n, m in enumerate(s_metas) if m[S.SENTENCE_INDEX] < S.LEAD_SENTENCES]
        _upsert(self.leads, [s_ids[n] for n in lead], all_s[lead], [s_docs[n] for n in lead],
                [{S.ARTICLE_ID: s_metas[n][S.ARTICLE_ID]} for n in lead])

        # 2. chunks, in llama-index's node format (so a VectorStoreIndex can read the
        # same store). The same records ChromaVectorStore.add() writes, but upserted:
        # chunk ids are deterministic, so a rerun after a killed write overwrites its
        # partial chunks without a delete-by-metadata scan.
        c_ids: list[str] = []
        c_vecs: list[np.ndarray] = []
        c_docs: list[str] = []
        c_metas: list[dict[str, Any]] = []
        for (article, chunks, chunk_vecs, _sv), base in zip(items, bases):
            skip = list(base) + [S.START, S.END, S.CHUNK_INDEX]
            for chunk in chunks:
                node = TextNode(
                    id_=chunk.id,
                    text=chunk.text,
                    start_char_idx=chunk.start,
                    end_char_idx=chunk.end,
                    metadata={**base, S.START: chunk.start, S.END: chunk.end, S.CHUNK_INDEX: chunk.index},
                    excluded_embed_metadata_keys=skip,
                    excluded_llm_metadata_keys=skip,
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=article.id)
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.vector_store.flat_metadata)
                c_ids.append(node.node_id)
                c_docs.append(node.get_content(metadata_mode=MetadataMode.NONE))
                c_metas.append({k: ("" if v is None else v) for k, v in meta.items()})
            c_vecs.append(np.asarray(chunk_vecs, dtype=np.float32).reshape(len(chunks), -1))
        all_c = np.vstack(c_vecs) if c_vecs else np.zeros((0, 0), dtype=np.float32)
        _upsert(self.chunks, c_ids, all_c, c_docs, c_metas)

        # 3. the article records last: from now on readers can see them
        a_ids, a_vecs, a_docs, a_metas = [], [], [], []
        now = time.time()
        for n, ((article, chunks, chunk_vecs, sent_vecs), base) in enumerate(zip(items, bases)):
            chunk_vecs = np.asarray(chunk_vecs, dtype=np.float32)
            dim = chunk_vecs.shape[1] if chunk_vecs.ndim == 2 and len(chunk_vecs) else np.asarray(sent_vecs).shape[-1]
            mean = chunk_vecs.mean(axis=0) if len(chunk_vecs) else np.zeros(dim, dtype=np.float32)
            norm = float(np.linalg.norm(mean)) or 1.0
            a_ids.append(article.id)
            a_vecs.append(mean / norm)
            a_docs.append(article.text)
            a_metas.append({
                **base,
                S.CONTENT_HASH: article.hash,
                S.RAW_HASH: article.raw_hash,
                S.N_CHUNKS: len(chunks),
                S.N_SENTENCES: sum(len(c.sentences) for c in chunks),
                # distinct and in batch order: "earliest" breaks ties on ingestion order
                "ingested_at": now + n * 1e-6,
            })
        _upsert(self.articles, a_ids, np.asarray(a_vecs, dtype=np.float32), a_docs, a_metas)
        heap.trim()

    def backfill_leads(self) -> int:
        """Fill the leads collection of an index written before it existed (once)."""
        if self.leads.count() or not self.sentences.count():
            return 0
        done, offset = 0, 0
        where = {S.SENTENCE_INDEX: {"$lt": S.LEAD_SENTENCES}}
        while True:
            got = self.sentences.get(where=where, include=["documents", "metadatas", "embeddings"],
                                     limit=_BATCH, offset=offset)
            if not got["ids"]:
                return done
            _upsert(self.leads, got["ids"], np.asarray(got["embeddings"], dtype=np.float32), got["documents"],
                    [{S.ARTICLE_ID: m[S.ARTICLE_ID]} for m in got["metadatas"]])
            done += len(got["ids"])
            offset += len(got["ids"])

    def delete_article(self, article_id: str) -> None:
        # The record first, so readers stop seeing the article before its parts go.
        self.articles.delete(ids=[article_id])
        self.chunks.delete(where={S.ARTICLE_ID: article_id})
        self.sentences.delete(where={S.ARTICLE_ID: article_id})
        self.leads.delete(ids=[f"{article_id}:s{i}" for i in range(S.LEAD_SENTENCES)])

    def delete_orphans(self) -> int:
        """Remove chunks and sentences left by an ingestion that was killed half-way."""
        known = set(self.articles.get(include=[])["ids"])
        removed = 0
        for coll in (self.chunks, self.sentences, self.leads):
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
        """Set metadata keys on many article records, ``_BATCH`` records per round trip
        (Chroma refuses larger calls: a syndicated group of 18,855 articles did)."""
        wanted = sorted(updates)
        for i in range(0, len(wanted), _BATCH):
            got = self.articles.get(ids=wanted[i : i + _BATCH], include=["metadatas"])
            ids = got["ids"]
            metas = [dict(m, **updates[a]) for a, m in zip(ids, got["metadatas"])]
            if ids:
                self.articles.update(ids=ids, metadatas=metas)

    # ----- read path -----------------------------------------------------------------
    def directory(self) -> dict[str, str]:
        """article id -> syndicated group id, for every visible article.

        Readers only see chunks and sentences whose article record exists (a half-written
        article stays invisible), and take ``dup_group`` from the record, so regrouping
        never rewrites chunk or sentence metadata. Listing every record costs O(articles):
        it is done once per store generation (every ingestion run bumps it at its end),
        checked at most once a second, not per question.
        """
        now = time.monotonic()
        with self._lock:
            if self._dir is not None and now - self._dir_checked < 1.0:
                return self._dir
        gen = self.generation()
        with self._lock:
            if self._dir is not None and gen == self._dir_gen:
                self._dir_checked = time.monotonic()
                return self._dir
        got = self.articles.get(include=["metadatas"])
        directory = {i: str((m or {}).get(S.DUP_GROUP) or i) for i, m in zip(got["ids"], got["metadatas"] or [])}
        del got
        heap.trim()
        with self._lock:
            self._dir, self._dir_gen, self._dir_checked = directory, gen, time.monotonic()
        return directory

    def visible_articles(self) -> set[str]:
        return self.directory().keys()  # type: ignore[return-value]

    def visible_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep rows of visible articles; set their ``dup_group`` from the directory."""
        directory = self.directory()
        out = []
        for row in rows:
            meta = row["meta"]
            group = directory.get(meta.get(S.ARTICLE_ID))
            if group is None:
                continue
            meta[S.DUP_GROUP] = group
            out.append(row)
        return out

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
        hits = []
        for node, sim in zip(result.nodes or [], result.similarities or []):
            # ChromaVectorStore reports exp(-distance); with cosine space, cos = 1 - distance.
            cosine = 1.0 + float(np.log(max(sim, 1e-12)))
            hits.append({"id": node.node_id, "text": node.get_content(), "meta": dict(node.metadata), "cosine": cosine})
        return self.visible_rows(hits)

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
        return self.visible_rows([
            {"id": i, "text": d, "meta": dict(m), "cosine": 1.0 - float(dist)}
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ])

    def sentences_of(self, where: dict, with_vectors: bool = True) -> list[dict[str, Any]]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = self.sentences.get(where=where, include=include)
        vectors = got.get("embeddings") if with_vectors else None
        rows = []
        for n, (i, d, m) in enumerate(zip(got["ids"], got["documents"], got["metadatas"])):
            row = {"id": i, "text": d, "meta": dict(m)}
            if vectors is not None:
                row["vector"] = np.asarray(vectors[n], dtype=np.float32)
            rows.append(row)
        return self.visible_rows(rows)

    def all_chunks(self) -> list[dict[str, Any]]:
        """Every visible chunk's text and metadata (to build the lexical index), without
        llama-index's node fields: the ``_node_content`` JSON alone would double the
        memory the lexical index keeps for a large archive."""
        rows, offset = [], 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=2000, offset=offset)
            if not got["ids"]:
                break
            rows.extend(
                self.visible_rows([
                    {"id": i, "text": d, "meta": {k: v for k, v in m.items() if k not in _NODE_KEYS and k[0] != "_"}}
                    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
                ])
            )
            offset += len(got["ids"])
            del got
            heap.trim()  # each page's transient buffers, before the next page allocates its own
        return rows

    def reset(self) -> None:
        prefix = self.settings.collection
        for name in ("articles", "chunks", "sentences", "leads"):
            try:
                self.client.delete_collection(f"{prefix}_{name}")
            except Exception:
                pass
