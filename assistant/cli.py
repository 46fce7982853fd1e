"""The ``assistant`` command: ingest, ask, serve, sources, remove, inspect, reset.

Errors the user can act on print as one line on stderr with exit code 1; set
ASSISTANT_DEBUG=1 to see tracebacks instead."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import AssistantError, UsageError


def _env_defaults() -> None:
    # Offline by default: no analytics, no hub look-ups, no telemetry.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see 'assistant --help')")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="assistant", description="Question answering over news articles, with cited passages.")
    p.add_argument("--home", help="folder holding the index (default: $ASSISTANT_HOME or ~/.news-assistant)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("ingest", help="index articles (files, folders or URLs; default: the bundled corpus)")
    s.add_argument("paths", nargs="*")
    s.add_argument("--quiet", action="store_true", help="print only the summary")

    s = sub.add_parser("ask", help="ask a question")
    s.add_argument("question", nargs="?")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin, answer each")
    s.add_argument("--history", action="append", default=[], help="an earlier question (repeatable)")
    s.add_argument("--source", default="", help="only this source file")
    s.add_argument("--outlet", default="", help="only this outlet")
    s.add_argument("--date-from", default="", help="only articles dated on or after (YYYY-MM-DD)")
    s.add_argument("--date-to", default="", help="only articles dated on or before (YYYY-MM-DD)")

    s = sub.add_parser("serve", help="serve the web chat")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--no-ingest", action="store_true", help="do not index the bundled corpus when empty")

    sub.add_parser("sources", help="list indexed articles")
    s = sub.add_parser("remove", help="remove indexed articles by source name")
    s.add_argument("sources", nargs="+")
    s = sub.add_parser("inspect", help="show what cleaning keeps and drops for a file or URL")
    s.add_argument("source")
    sub.add_parser("reset", help="delete the whole index")

    s = sub.add_parser("eval", help="evaluate on a reference set; write report.json and report.html")
    s.add_argument("dataset", nargs="?", help="JSONL reference set (default: evals/reference.jsonl)")
    s.add_argument("--report", help="output folder (default: $ASSISTANT_HOME/reports/<timestamp>/)")
    s.add_argument("--compare", help="an earlier report.json: print deltas and changed questions")
    s.add_argument("--fail-under", nargs="+", metavar="METRIC=VALUE", default=[], help="exit 1 below a floor")
    s.add_argument("--baseline", help="JSON file of floors, e.g. evals/baseline.json")
    s.add_argument("--use-index", action="store_true", help="use the existing index, not a fresh one")

    s = sub.add_parser("bench", help="measure speed and scale; write docs/benchmarks.md")
    s.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in chunks, comma-separated")
    s.add_argument("--source", default="", help="folder of articles to recombine (default: the bundled corpus)")
    s.add_argument("--out", default="docs/benchmarks.md", help="markdown report")
    s.add_argument("--workdir", default="", help="scratch folder (default: $ASSISTANT_HOME/bench)")
    s.add_argument("--clients", type=int, default=32, help="concurrent clients in the load phase")
    s.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    s.add_argument("--embed-sample", type=int, default=2000, help="chunks embedded for the embedding-only rate (0 = all)")
    s.add_argument("--no-scaleout", action="store_true", help="skip the Chroma server + replicas phase")
    s.add_argument("--note", default="", help="a sentence added under the machine line")
    s.add_argument("--naive-from", default="", help="an earlier run's results.json: reuse its naive-pipeline figures")
    return p


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from assistant.settings import Settings

    try:
        overrides = {"home": Path(args.home)} if args.home else {}
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise UsageError(f"invalid setting ASSISTANT_{field.upper()}: {err['msg']}") from None


def _print_answer(ans, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False))
        return
    print(ans.answer)
    if ans.notice:
        print(f"\n({ans.notice})")
    if ans.citations:
        print()
        for c in ans.citations:
            print(f"[{c.id}] {c.title or c.source} — {c.source} [{c.start}:{c.end}]")
    if ans.closest:
        from assistant.answer import templates

        print()
        print(templates(Path(__file__).resolve().parents[1] / "prompts", "fr" if ans.answer.startswith("Les") else "en")["closest_intro"])
        for c in ans.closest:
            print(f"  · “{c.quote}” — {c.title or c.source}")


class _ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal; when stderr is not a
    terminal, one plain line every 10% for long runs (MIN_FILES inputs or more)."""

    MIN_FILES = 20
    WIDTH = 30

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        import time

        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last_decile = -1
        self.drawn = False

    def __call__(self, done: int, total: int, source: str) -> None:
        import time

        if not self.tty and total < self.MIN_FILES:
            return
        frac = done / total if total else 1.0
        elapsed = time.monotonic() - self.started
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        filled = int(self.WIDTH * frac)
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} files "
            f"{elapsed:.0f} s elapsed, ~{eta:.0f} s left"
        )
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
            self.drawn = True
        else:
            decile = int(frac * 10)
            if decile == self.last_decile:
                return
            self.last_decile = decile
            self.stream.write("progress " + line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def cmd_ingest(args, settings) -> int:  # type: ignore[no-untyped-def]
    from index.embed import make_embedder
    from index.ingest import ingest
    from index.store import Store

    paths = args.paths or [str(settings.corpus_dir)]
    store = Store(settings)
    embedder = make_embedder(settings)
    def progress(msg: str) -> None:
        if not msg.startswith("failed"):  # failures get their one "error:" line below
            print(msg, file=sys.stderr, flush=True)

    progress = None if args.quiet else progress  # type: ignore[assignment]
    bar = None if args.quiet else _ProgressBar(sys.stderr)
    report = ingest(paths, settings, store, embedder, progress=progress, on_item=bar)
    if bar:
        bar.close()
    for source, reason in report.failed:
        print(f"error: {source}: {reason}", file=sys.stderr)
    for source, first in report.duplicates:
        print(f"note: {source} has the same text as {first}; indexed once", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def _filters(args):  # type: ignore[no-untyped-def]
    from assistant.retrieve import Filters

    return Filters(source=args.source, outlet=args.outlet, date_from=args.date_from, date_to=args.date_to)


def cmd_ask(args, settings) -> int:  # type: ignore[no-untyped-def]
    from assistant.pipeline import Assistant

    if args.jsonl:
        assistant = Assistant(settings)
        failures = 0
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                    raise ValueError("expected an object with a 'question' string")
                history = row.get("history") or []
                if not isinstance(history, list):
                    raise ValueError("'history' must be a list of earlier questions")
                ans = assistant.ask(row["question"], [str(h) for h in history], _filters(args))
                print(json.dumps(ans.to_dict(), ensure_ascii=False), flush=True)
            except (ValueError, AssistantError) as exc:
                failures += 1
                msg = str(exc) if isinstance(exc, AssistantError) else f"line {n}: {exc}"
                print(json.dumps({"error": msg, "line": n}, ensure_ascii=False), flush=True)
        return 1 if failures else 0
    if args.question is None or not args.question.strip():
        raise UsageError("the question is empty; usage: assistant ask \"What did Kirby say?\"")
    assistant = Assistant(settings)
    ans = assistant.ask(args.question, args.history, _filters(args))
    _print_answer(ans, args.json)
    return 0


def cmd_sources(args, settings) -> int:  # type: ignore[no-untyped-def]
    from index.store import Store

    rows = Store(settings).list_articles()
    if not rows:
        print("the index is empty; run 'assistant ingest'")
        return 0
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        group = ""
        if int(r.get("dup_count") or 1) > 1:
            head = by_id.get(r.get("dup_group"), {}).get("source", r.get("dup_group"))
            group = f"\tsyndicated: group of {r['dup_count']} (first: {head})"
        print(f"{r.get('source')}\t{r.get('title') or '-'}\t{r.get('outlet') or '-'}\t{r.get('date') or '-'}\t{r.get('n_chunks')} chunks{group}")
    return 0


def cmd_remove(args, settings) -> int:  # type: ignore[no-untyped-def]
    from index.ingest import remove
    from index.store import Store

    removed = remove(args.sources, Store(settings))
    missing = sorted(set(args.sources) - set(removed))
    for m in missing:
        print(f"error: {m}: not in the index (see 'assistant sources')", file=sys.stderr)
    print(f"removed {len(removed)} article(s)")
    return 1 if missing else 0


def cmd_inspect(args, settings) -> int:  # type: ignore[no-untyped-def]
    from index.clean import clean_article
    from index.load import LoadError, load_sources

    status = 0
    for item in load_sources([args.source], max_bytes=int(settings.max_file_mb * 1_000_000), timeout=settings.fetch_timeout):
        if isinstance(item, LoadError):
            print(f"error: {item.source}: {item.reason}", file=sys.stderr)
            status = 1
            continue
        cleaned = clean_article(item.text, title=item.meta.get("title") or None)
        meta = {**cleaned.metadata, **{k: v for k, v in item.meta.items() if v}}
        print(f"== {item.source}")
        print(f"title: {meta.get('title') or cleaned.title or '-'}")
        for key in ("outlet", "author", "date", "lang", "url"):
            print(f"{key}: {meta.get(key) or '-'}")
        print(f"\n-- kept ({len(cleaned.text)} characters)")
        print(cleaned.text)
        print(f"\n-- dropped ({len(cleaned.dropped)} lines)")
        for d in cleaned.dropped:
            print(f"line {d.line_no}: [{d.reason}] {d.line}")
    return status


def cmd_reset(args, settings) -> int:  # type: ignore[no-untyped-def]
    from index.store import Store

    Store(settings).reset()
    print("index deleted")
    return 0


def cmd_serve(args, settings) -> int:  # type: ignore[no-untyped-def]
    from assistant.server import serve

    serve(settings, host=args.host, port=args.port, ingest_if_empty=not args.no_ingest)
    return 0


def cmd_eval(args, settings) -> int:  # type: ignore[no-untyped-def]
    from assistant.evaluate import cmd_eval as run_eval

    return run_eval(args, settings)


COMMANDS = {
    "ingest": cmd_ingest, "ask": cmd_ask, "serve": cmd_serve, "sources": cmd_sources,
    "remove": cmd_remove, "inspect": cmd_inspect, "reset": cmd_reset,
}
COMMANDS["eval"] = cmd_eval


def cmd_bench(args, settings) -> int:  # type: ignore[no-untyped-def]
    import shlex

    from assistant.bench import run_bench

    try:
        sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sizes takes numbers of chunks, e.g. 1000,10000; got {args.sizes!r}") from None
    src = Path(args.source) if args.source else settings.corpus_dir
    workdir = Path(args.workdir) if args.workdir else settings.home / "bench"
    command = "PYTHONPATH=. .venv/bin/python -m assistant " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if "bench" in sys.argv[1:] else "assistant bench"
    run_bench(sizes, Path(args.out), workdir, src.resolve(), clients=args.clients, seconds=args.seconds,
              embed_sample=args.embed_sample, scaleout=not args.no_scaleout, command=command, note=args.note,
              log=lambda m: print(m, file=sys.stderr, flush=True),
              naive_from=Path(args.naive_from) if args.naive_from else None)
    print(f"wrote {args.out}")
    return 0


COMMANDS["bench"] = cmd_bench


def main(argv: Sequence[str] | None = None) -> int:
    _env_defaults()
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            build_parser().print_help()
            return 2
        settings = _settings(args)
        return COMMANDS[args.command](args, settings)
    except AssistantError as exc:
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
