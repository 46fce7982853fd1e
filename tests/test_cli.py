"""The CLI through its runner: exit codes, one-line errors, JSON schemas."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from conftest import CORPUS, ROOT

CITATION_KEYS = {"id", "source", "title", "quote", "start", "end"}


def run(argv: list[str], capsys, stdin: str | None = None, monkeypatch=None):  # type: ignore[no-untyped-def]
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_schema(writable_home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(["--home", str(writable_home), "ask", "What did Kirby say?", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(data)
    assert data["abstained"] is False
    assert {"retrieve", "answer", "total"} <= set(data["timings_ms"])
    for c in data["citations"]:
        assert CITATION_KEYS <= set(c)
        assert f"[{c['id']}]" in data["answer"]


def test_ask_jsonl_with_history(writable_home: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lines = "\n".join([
        json.dumps({"question": "Who is John Kirby?"}),
        json.dumps({"question": "What did he say about Pyongyang's assurances?", "history": ["Who is John Kirby?"]}),
        json.dumps({"question": "Comment recevoir les nouvelles sur Telegram ?"}),
    ])
    code, out, err = run(["--home", str(writable_home), "ask", "--jsonl"], capsys, lines, monkeypatch)
    assert code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 3
    assert any("assurances" in c["quote"] for c in rows[1]["citations"])
    assert rows[2]["abstained"] is True and rows[2]["citations"] == []


def test_jsonl_bad_line_reports_and_continues(writable_home: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lines = "not json\n" + json.dumps({"question": "What did Kirby say?"}) + "\n"
    code, out, err = run(["--home", str(writable_home), "ask", "--jsonl"], capsys, lines, monkeypatch)
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 1
    assert "error" in rows[0] and rows[0]["line"] == 1
    assert rows[1]["abstained"] is False


def test_empty_question_is_one_line_error(writable_home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(["--home", str(writable_home), "ask", "   "], capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: the question is empty")


def test_unknown_file_is_one_line_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(["--home", str(tmp_path / "h"), "ingest", str(tmp_path / "nope.txt")], capsys)
    assert code == 1
    assert "nope.txt" in err and "Traceback" not in err


def test_ask_on_empty_index_says_what_to_do(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(["--home", str(tmp_path / "empty"), "ask", "What did Kirby say?"], capsys)
    assert code == 1
    assert "assistant ingest" in err


def test_unknown_option_is_one_line_error(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(["ask", "--frobnicate"], capsys)
    assert code == 1 and "unrecognized arguments" in err and err.count("\n") == 1


def test_sources_and_remove(writable_home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(["--home", str(writable_home), "sources"], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 5
    code, out, _ = run(["--home", str(writable_home), "remove", "004_f2ff9de1deb97694.txt"], capsys)
    assert code == 0 and "removed 1" in out
    code, out, _ = run(["--home", str(writable_home), "sources"], capsys)
    assert len(out.strip().splitlines()) == 4
    code, _, err = run(["--home", str(writable_home), "remove", "nope.txt"], capsys)
    assert code == 1 and "not in the index" in err


def test_reingest_unchanged_embeds_nothing(writable_home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(["--home", str(writable_home), "ingest", "--quiet"], capsys)
    assert code == 0
    assert "added 0, updated 0, unchanged 5" in out and "(0 chunks embedded)" in out


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `assistant` command, as a user runs it: ingest then ask."""
    exe = Path(sys.executable).with_name("assistant")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant"]
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")}
    ing = subprocess.run(cmd + ["ingest", str(CORPUS)], env=env, capture_output=True, text=True, timeout=120)
    assert ing.returncode == 0, ing.stderr
    ask = subprocess.run(cmd + ["ask", "Qu'a dit Kirby ?"], env=env, capture_output=True, text=True, timeout=120)
    assert ask.returncode == 0, ask.stderr
    assert "Kirby" in ask.stdout and "[1]" in ask.stdout
    bad = subprocess.run(cmd + ["ingest", str(tmp_path / "missing.txt")], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr and "missing.txt" in bad.stderr
