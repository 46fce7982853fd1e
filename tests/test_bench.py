"""The benchmark end to end at a tiny size: every section written, every figure a number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SECTIONS = ["# Benchmarks", "## Corpora", "## Ingestion", "## Query latency per stage",
            "## End to end through POST /api/ask", "## Concurrency", "## Memory, disk, cold start",
            "## Retrieval quality against the naive pipeline", "## Scale-out", "## Precompute and warm-up",
            "## Targets"]


def _table_rows(md: str, heading: str) -> list[list[str]]:
    """The rows of the first table under ``heading``."""
    part = md.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = part.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("| "))
    table = []
    for ln in lines[first:]:
        if not ln.startswith("| "):
            break
        table.append(ln)
    rows = [ln for ln in table if not ln.startswith("| ---")]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows[1:]]  # skip the header


_NUM = re.compile(r"^-?[\d,]+(\.\d+)?")


def test_bench_tiny(tmp_path: Path) -> None:
    from assistant.cli import main

    out = tmp_path / "bench.md"
    rc = main(["--home", str(tmp_path / "home"), "bench", "--sizes", "60", "--out", str(out),
               "--workdir", str(tmp_path / "work"), "--clients", "2", "--seconds", "5", "--embed-sample", "0"])
    assert rc == 0
    check_markdown(out.read_text())

    # A second run reusing the naive pipeline's figures (when only our code changed):
    # the naive columns are copied, not measured again, and the file says so.
    again = tmp_path / "again.md"
    rc = main(["--home", str(tmp_path / "home2"), "bench", "--sizes", "60", "--out", str(again),
               "--workdir", str(tmp_path / "work2"), "--clients", "2", "--seconds", "2", "--embed-sample", "0",
               "--no-scaleout", "--naive-from", str(tmp_path / "work" / "results.json")])
    assert rc == 0
    first, second = out.read_text(), again.read_text()
    naive = lambda md: [(r[0], r[3], r[5]) for r in _table_rows(md, "## Retrieval quality against the naive pipeline")]  # noqa: E731
    assert naive(first) == naive(second)
    assert not (tmp_path / "work2" / "naive-60.json").exists()
    assert second.count("figures are reused from the run of") == 2


def check_markdown(md: str) -> None:
    for s in SECTIONS:
        assert s in md, s
    assert "```sh\n" in md and "assistant bench" in md
    # Every measured cell of the per-size tables is a number (both sizes: bundled and 60 chunks).
    for heading in ("## Ingestion", "## Query latency per stage", "## End to end through POST /api/ask",
                    "## Concurrency", "## Memory, disk, cold start", "## Retrieval quality against the naive pipeline"):
        rows = _table_rows(md, heading)
        assert len(rows) == 2, (heading, rows)
        for row in rows:
            for cell in row[1:]:
                if row[0] == "bundled" and cell == "n/a" and heading == "## Retrieval quality against the naive pipeline":
                    continue  # copies per pool sentence: no synthetic articles at that size
                for part in cell.replace("(", " ").replace(")", " ").split("/"):
                    assert _NUM.match(part.strip()), (heading, row, cell)
    # API and concurrency ran without errors.
    for heading, col in (("## End to end through POST /api/ask", 2), ("## Concurrency", 4)):
        for row in _table_rows(md, heading):
            assert row[col] == "0", (heading, row)
    so = dict(_table_rows(md, "## Scale-out"))
    q = so["replicas A and B identical"].split("/")
    assert q[0] == q[1] and int(q[0]) > 0
    late = so["replica C started later identical to A"].split("/")
    assert late[0] == late[1]
    assert so["errors"] == "0"
    assert "| cold start to first answer <= 6 s (bundled)" in md
    assert "RSS after each phase" in md
