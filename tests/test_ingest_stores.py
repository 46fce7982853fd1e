"""Ingestion against both stores (embedded Chroma and a real `chroma run` server):
idempotency, changes, removals, identical copies, syndicated-copy groups, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS
from index import schema as S

G000, G001, G002, G003, G004 = sorted(p.name for p in CORPUS.iterdir())


def expected_counts(folder: Path, chunk_tokens: int) -> dict[str, int]:
    """What the sources produce: cleaned text -> chunk_article, identical texts once."""
    from index.chunk import chunk_article
    from index.ingest import to_article
    from index.load import RawDocument, load_sources

    seen: dict[str, tuple[int, int]] = {}
    for item in load_sources([str(folder)]):
        assert isinstance(item, RawDocument), item
        art, _ = to_article(item)
        chunks = chunk_article(art.id, art.text, chunk_tokens)
        seen[art.id] = (len(chunks), sum(len(c.sentences) for c in chunks))
    return {
        "articles": len(seen),
        "chunks": sum(c for c, _ in seen.values()),
        "sentences": sum(s for _, s in seen.values()),
    }


def assert_consistent(store, folder: Path, settings) -> None:  # type: ignore[no-untyped-def]
    assert store.count() == expected_counts(folder, settings.chunk_tokens)
    # and per article: every record has exactly its chunks and sentences
    for aid, meta in store.article_hashes().items():
        assert len(store.chunks.get(where={S.ARTICLE_ID: aid}, include=[])["ids"]) == meta[S.N_CHUNKS]
        assert len(store.sentences.get(where={S.ARTICLE_ID: aid}, include=[])["ids"]) == meta[S.N_SENTENCES]
        leads = store.leads.get(where={S.ARTICLE_ID: aid}, include=[])["ids"]
        assert sorted(leads) == sorted(f"{aid}:s{i}" for i in range(min(S.LEAD_SENTENCES, meta[S.N_SENTENCES])))
    # nothing in the leads collection outlives its article
    assert {i.rpartition(":s")[0] for i in store.leads.get(include=[])["ids"]} <= set(store.article_hashes())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "articles"
    shutil.copytree(CORPUS, dest)
    return dest


def test_incremental_and_idempotent(store_settings, embedder, folder: Path) -> None:  # type: ignore[no-untyped-def]
    from index.ingest import ingest, remove
    from index.store import Store

    store = Store(store_settings)
    first = ingest([str(folder)], store_settings, store, embedder)
    assert len(first.added) == 5 and not first.failed
    assert_consistent(store, folder, store_settings)
    gen = store.generation()

    again = ingest([str(folder)], store_settings, store, embedder)
    assert again.chunks_embedded == 0 and again.sentences_embedded == 0
    assert len(again.unchanged) == 5 and not again.added and not again.updated
    assert store.generation() == gen  # nothing written, readers keep their caches

    # a changed file replaces its old article
    old_ids = {m[S.SOURCE]: a for a, m in store.article_hashes().items()}
    path = folder / G002
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase ajoutée pour le test de mise à jour.\n", encoding="utf-8")
    changed = ingest([str(folder)], store_settings, store, embedder)
    assert changed.updated == [G002] and len(changed.unchanged) == 4 and changed.chunks_embedded > 0
    ids = {m[S.SOURCE]: a for a, m in store.article_hashes().items()}
    assert ids[G002] != old_ids[G002] and old_ids[G002] not in store.article_hashes()
    assert not store.chunks.get(where={S.ARTICLE_ID: old_ids[G002]}, include=[])["ids"]
    assert_consistent(store, folder, store_settings)

    # two identical files under different names are indexed once
    shutil.copy(folder / G003, folder / "zz_copy_of_003.txt")
    dup = ingest([str(folder)], store_settings, store, embedder)
    assert dup.duplicates == [("zz_copy_of_003.txt", G003)] and dup.chunks_embedded == 0
    assert_consistent(store, folder, store_settings)

    # remove deletes one article (and the file goes too, so the sources match)
    assert remove([G001], store) == [G001]
    (folder / G001).unlink()
    assert_consistent(store, folder, store_settings)
    assert G001 not in {m[S.SOURCE] for m in store.article_hashes().values()}

    # and after the whole sequence a re-ingest embeds nothing
    final = ingest([str(folder)], store_settings, store, embedder)
    assert final.chunks_embedded == 0 and not final.failed
    assert_consistent(store, folder, store_settings)


def _groups(store) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    metas = store.article_hashes()
    src = {a: m[S.SOURCE] for a, m in metas.items()}
    return {m[S.SOURCE]: (src.get(m[S.DUP_GROUP], m[S.DUP_GROUP]), m[S.DUP_COUNT]) for m in metas.values()}


def test_syndicated_copies_grouped(store_settings, embedder, folder: Path) -> None:  # type: ignore[no-untyped-def]
    from index.ingest import ingest, remove
    from index.store import Store

    store = Store(store_settings)
    ingest([str(folder)], store_settings, store, embedder)
    groups = _groups(store)
    assert groups[G000] == groups[G001] == groups[G004] == (G000, 3)
    assert groups[G002] == (G002, 1) and groups[G003] == (G003, 1)
    gid = next(a for a, m in store.article_hashes().items() if m[S.SOURCE] == G000)
    member = next(a for a, m in store.article_hashes().items() if m[S.SOURCE] == G004)
    # The group lives on the article records only (a new head never rewrites chunks);
    # readers get it from there, on chunks and sentences alike.
    for coll in (store.chunks, store.sentences):
        metas = coll.get(where={S.ARTICLE_ID: member}, include=["metadatas"])["metadatas"]
        assert metas and not any(S.DUP_GROUP in m for m in metas)
    vector = embedder.embed(["La Russie achète des obus à la Corée du Nord"])[0]
    hits = store.query_chunks(vector, 10) + store.query_sentences(vector, 10)
    assert hits and all(h["meta"][S.DUP_GROUP] == store.directory()[h["meta"][S.ARTICLE_ID]] for h in hits)
    assert any(h["meta"][S.ARTICLE_ID] == member and h["meta"][S.DUP_GROUP] == gid for h in hits)

    # removing the group's first article: the other two stay a group, headed by 001
    remove([G000], store)
    groups = _groups(store)
    assert groups[G001] == groups[G004] == (G001, 2)
    # adding it back (incremental: one query on its lead vectors) regroups all three
    ingest([str(folder / G000)], store_settings, store, embedder)
    groups = _groups(store)
    assert groups[G001][1] == groups[G004][1] == groups[G000][1] == 3
    assert groups[G002] == (G002, 1) and groups[G003] == (G003, 1)


def test_every_cli_command_with_chroma_url(chroma_server, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("ASSISTANT_COLLECTION", f"cli{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))

    assert main(["ingest", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert "added 5" in out
    assert main(["ask", "What did Kirby say?"]) == 0
    out, _ = capsys.readouterr()
    assert "Kirby" in out and "[1]" in out
    assert main(["sources"]) == 0
    out, _ = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 5
    assert sum("syndicated: group of 3" in line for line in lines) == 3
    assert main(["remove", G002]) == 0
    out, _ = capsys.readouterr()
    assert "removed 1" in out
    assert main(["sources"]) == 0
    out, _ = capsys.readouterr()
    assert len(out.strip().splitlines()) == 4
    # nothing was written to the embedded store
    assert not (tmp_path / "home" / "chroma").exists()


def test_unreachable_chroma_server_is_one_line_error(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from assistant.cli import main
    from servers import free_port

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    code = main(["sources"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


def test_update_killed_between_new_and_old_is_healed(store_settings, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """A run killed after writing a changed file's new article but before deleting the
    old one leaves two articles for one source; the next run removes the stale one."""
    import numpy as np

    from index.chunk import chunk_article
    from index.embed import HashEmbedder
    from index.ingest import ingest, to_article
    from index.load import load_sources
    from index.store import Store

    settings = store_settings.model_copy(update={"embedder": "hash"})
    emb = HashEmbedder()
    store = Store(settings)
    ingest([str(folder)], settings, store, emb)
    path = folder / G002
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    (doc,) = list(load_sources([str(path)]))
    art, _ = to_article(doc)
    chunks = chunk_article(art.id, art.text, settings.chunk_tokens)
    sents = [s.text for c in chunks for s in c.sentences]
    store.write_article(art, chunks, emb.embed([c.text for c in chunks]), np.asarray(emb.embed(sents)))
    assert sum(m[S.SOURCE] == G002 for m in store.article_hashes().values()) == 2  # the crash state

    report = ingest([str(folder)], settings, store, emb)
    assert report.chunks_embedded == 0 and report.unchanged.count(G002) == 1
    assert [m[S.SOURCE] for m in store.article_hashes().values()].count(G002) == 1
    assert_consistent(store, folder, settings)


def test_leads_backfilled_for_an_older_index(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """An index written before the leads collection existed gets it on its next run,
    and grouping then works as on a new index."""
    from conftest import make_settings
    from index.ingest import ingest
    from index.store import Store

    folder = tmp_path / "articles"
    shutil.copytree(CORPUS, folder)
    settings = make_settings(tmp_path / "home")
    store = Store(settings)
    ingest([str(folder)], settings, store, embedder)
    before = _groups(store)
    n = store.leads.count()
    assert n == sum(min(S.LEAD_SENTENCES, m[S.N_SENTENCES]) for m in store.article_hashes().values())
    store.client.delete_collection(f"{settings.collection}_leads")  # as an older index had it
    store.update_articles_meta({a: {S.DUP_GROUP: "", S.DUP_COUNT: 0} for a in store.article_hashes()})
    store = Store(settings)
    assert store.leads.count() == 0
    report = ingest([str(folder)], settings, store, embedder)
    assert report.chunks_embedded == 0
    assert store.leads.count() == n
    assert _groups(store) == before


def test_record_updates_in_batches(tmp_path: Path, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Group changes touch every member's record: a large group must be written in
    calls Chroma accepts (it refuses more than its max batch size in one call)."""
    import index.store as store_mod
    from conftest import make_settings
    from index.ingest import ingest
    from index.store import Store

    folder = tmp_path / "articles"
    shutil.copytree(CORPUS, folder)
    settings = make_settings(tmp_path / "home")
    store = Store(settings)
    ingest([str(folder)], settings, store, embedder)
    calls: list[int] = []
    real = store.articles.raw.update
    monkeypatch.setattr(store_mod, "_BATCH", 2)
    monkeypatch.setattr(store.articles.raw, "update", lambda ids, metadatas: (calls.append(len(ids)), real(ids=ids, metadatas=metadatas)))
    ids = sorted(store.article_hashes())
    store.update_articles_meta({a: {S.DUP_COUNT: 7} for a in ids})
    assert calls == [2, 2, 1]
    assert all(m[S.DUP_COUNT] == 7 for m in store.article_hashes().values())
