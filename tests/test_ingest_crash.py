"""Ingestion killed half-way (SIGKILL) and storage failures (disk full, read-only):
the index keeps answering, shows no half-written article, and a re-run completes."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT, make_settings
from index import schema as S
from test_ingest_stores import assert_consistent, expected_counts

ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "ASSISTANT_EMBEDDER": "hash",  # the write path is what is under test: keep it quick
    # about two articles per write batch, so a kill lands between (and inside) batches
    "ASSISTANT_INGEST_BATCH": "50",
}
ENV.pop("ASSISTANT_CHROMA_URL", None)
KIRBY_SOURCE = "002_cd1684a615374415.txt"


def cli(home: Path, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "assistant", "--home", str(home), *args],
        env=ENV, capture_output=True, text=True, timeout=timeout, **kw,
    )


def big_folder(dest: Path, copies: int = 7) -> Path:
    """The 5 bundled articles plus ``copies`` variants of each (a distinct sentence
    appended), 40 files in all."""
    shutil.copytree(CORPUS, dest)
    for n in range(copies):
        for src in sorted(CORPUS.iterdir()):
            text = src.read_text(encoding="utf-8")
            extra = f"\nCette copie numéro {n + 1} du texte {src.stem[:3]} sert au test d'interruption.\n"
            (dest / f"v{n + 1:02d}_{src.name}").write_text(text + extra, encoding="utf-8")
    return dest


def visible_articles_are_whole(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from index.store import Store

    store = Store(settings)
    for aid, meta in store.article_hashes().items():
        chunks = store.chunks.get(where={S.ARTICLE_ID: aid}, include=[])["ids"]
        sentences = store.sentences.get(where={S.ARTICLE_ID: aid}, include=[])["ids"]
        assert len(chunks) == meta[S.N_CHUNKS], meta[S.SOURCE]
        assert len(sentences) == meta[S.N_SENTENCES], meta[S.SOURCE]
    return store.count()


def _kill_mid_article(home: Path, folder: Path, store, after: int) -> int:  # type: ignore[no-untyped-def]
    """Start an ingestion, let it write ``after`` articles (its progress lines), then poll
    the store until sentences of an article without a record exist -- the next article
    is half-written -- and SIGKILL it there. Returns the orphan sentences seen."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--home", str(home), "ingest", str(folder)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    orphans = 0
    try:
        assert proc.stderr is not None
        indexed = 0
        for line in proc.stderr:
            if line.startswith("indexed "):
                indexed += 1
                if indexed == after:
                    break
        assert indexed == after, "ingestion ended before it could be killed"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            whole = sum(m[S.N_SENTENCES] for m in store.articles.get(include=["metadatas"])["metadatas"])
            orphans = store.sentences.count() - whole
            if orphans > 0:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingestion finished before it could be killed"
    return orphans


def test_sigkill_half_way_then_resume(tmp_path: Path) -> None:
    from index.store import Store

    home = tmp_path / "home"
    folder = big_folder(tmp_path / "big")
    assert len(list(folder.iterdir())) == 40

    first = cli(home, "ingest", "--quiet", str(CORPUS))
    assert first.returncode == 0, first.stderr
    before = cli(home, "ask", "What did Kirby say?", "--json", "--source", KIRBY_SOURCE)
    assert before.returncode == 0, before.stderr
    answer_before = json.loads(before.stdout)
    assert answer_before["citations"]
    strip = lambda a: [(c["source"], c["quote"], c["start"], c["end"]) for c in a["citations"]]  # noqa: E731

    settings = make_settings(home, embedder="hash")
    store = Store(settings)  # a reader in this process, while the ingester writes
    articles = 5
    for round_ in range(2):  # two kills; every re-run first clears the leftovers
        orphans = _kill_mid_article(home, folder, store, after=8)
        assert orphans > 0, "the kill did not land inside an article"
        counts = visible_articles_are_whole(settings)  # no half-ingested article visible
        assert counts["articles"] >= articles + 8 and counts["articles"] < 40
        articles = counts["articles"]
        # previously indexed articles answer exactly as before
        after = cli(home, "ask", "What did Kirby say?", "--json", "--source", KIRBY_SOURCE)
        assert after.returncode == 0, after.stderr
        assert strip(json.loads(after.stdout)) == strip(answer_before), round_

    resumed = cli(home, "ingest", "--quiet", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert "added" in resumed.stdout and "unchanged" in resumed.stdout
    store = Store(settings)
    assert_consistent(store, folder, settings)  # counts match the sources: no orphans, no duplicates
    keys = [(m[S.ARTICLE_ID], m[S.CHUNK_INDEX]) for m in store.chunks.get(include=["metadatas"])["metadatas"]]
    assert len(keys) == len(set(keys)) == store.count()["chunks"]
    assert all(m.get(S.DUP_GROUP) for m in store.article_hashes().values())


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_is_one_line_error_and_index_intact(tmp_path: Path) -> None:
    """Disk full, simulated with RLIMIT_FSIZE: no file of the index may grow."""
    home = tmp_path / "home"
    assert cli(home, "ingest", "--quiet", str(CORPUS)).returncode == 0
    settings = make_settings(home, embedder="hash")
    counts = visible_articles_are_whole(settings)
    folder = big_folder(tmp_path / "big", copies=2)
    biggest = max(p.stat().st_size for p in home.rglob("*") if p.is_file())
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "--home", str(home), "ingest", str(folder)],
        env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(biggest),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "cannot write to the index" in errors[0], proc.stderr
    # the index still answers, with nothing half-written visible
    after = visible_articles_are_whole(settings)
    assert after["articles"] >= counts["articles"]
    ask = cli(home, "ask", "What did Kirby say?")
    assert ask.returncode == 0 and "[1]" in ask.stdout, ask.stderr


def _without_root_overrides() -> list[str]:
    """As root, chmod does not stop writes; dropping the capabilities that bypass file
    permissions (CAP_DAC_OVERRIDE...) from the child makes them count again."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: chmod would not stop writes")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
    probe = subprocess.run(prefix + ["true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE: {probe.stderr.decode()[:100]}")
    return prefix


def _snapshot(root: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_read_only_index_is_one_line_error_and_left_intact(tmp_path: Path) -> None:
    prefix = _without_root_overrides()
    home = tmp_path / "home"
    assert cli(home, "ingest", "--quiet", str(CORPUS)).returncode == 0
    copy = tmp_path / "ro"
    shutil.copytree(home, copy)
    before = _snapshot(copy)
    for p in [copy, *copy.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        extra = tmp_path / "new.txt"
        extra.write_text("Un nouvel article sur un sujet quelconque. " * 5, encoding="utf-8")
        proc = subprocess.run(
            prefix + [sys.executable, "-m", "assistant", "--home", str(copy), "ingest", str(extra)],
            env=ENV, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error:"), proc.stderr
        assert "read-only" in proc.stderr
    finally:
        for p in [copy, *copy.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert _snapshot(copy) == before  # nothing written
    ask = cli(copy, "ask", "What did Kirby say?")
    assert ask.returncode == 0 and "[1]" in ask.stdout, ask.stderr
