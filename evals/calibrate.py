"""Calibrate ``abstain_below`` on evals/reference.jsonl.

Ingests data/articles into a temporary home (or uses --home), runs every reference row
through the Assistant once with abstention disabled (threshold -inf) to record the best
evidence score, then sweeps thresholds: a row abstains when its best score is below the
threshold. Prints, per threshold:

* answerable-correct: answerable rows answered (not abstained) with some citation whose
  quote contains, is contained in, or overlaps (>= 60% of folded tokens) an evidence string;
* unanswerable-abstained: unanswerable rows that abstained.

    PYTHONPATH=. python evals/calibrate.py [--home DIR] [--failures] [--threshold 0.42]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.lexical import fold, tokens  # noqa: E402


def evidence_hit(quote: str, evidence: str) -> bool:
    q, e = fold(quote).strip(), fold(evidence).strip()
    if not q or not e:
        return False
    if e in q or q in e:
        return True
    et, qt = set(tokens(e)), set(tokens(q))
    return bool(et) and len(et & qt) / len(et) >= 0.6


def correct(answer, row) -> bool:  # type: ignore[no-untyped-def]
    if answer.abstained:
        return False
    return any(evidence_hit(c.quote, ev) for c in answer.citations for ev in row["evidence"])


def best_score(answer) -> float:  # type: ignore[no-untyped-def]
    return float(getattr(answer, "best_score", 0.0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default="")
    ap.add_argument("--reference", default=str(ROOT / "evals" / "reference.jsonl"))
    ap.add_argument("--failures", action="store_true", help="list failing rows at --threshold")
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args()

    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from index.embed import CachedEmbedder, USEEmbedder
    from index.ingest import ingest
    from index.store import Store

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="calibrate-"))
    settings = Settings(home=home)
    embedder = CachedEmbedder(USEEmbedder())
    store = Store(settings)
    if store.articles.count() == 0:
        ingest([str(settings.corpus_dir)], settings, store, embedder)
    chosen = settings.abstain_below if args.threshold is None else args.threshold
    rows = [json.loads(line) for line in open(args.reference, encoding="utf-8") if line.strip()]

    # One pass with abstention off; each answer remembers its best evidence score.
    open_settings = Settings(home=home, abstain_below=-1.0)
    asst = Assistant(open_settings, store=store, embedder=embedder)
    results = []
    t0 = time.perf_counter()
    for row in rows:
        ans = asst.ask(row["question"], row.get("history") or [])
        results.append((row, ans, best_score(ans), correct(ans, row)))
    per_q = (time.perf_counter() - t0) * 1000 / max(len(rows), 1)

    answerable = [r for r in results if r[0]["answerable"]]
    unanswerable = [r for r in results if not r[0]["answerable"]]
    print(f"{len(rows)} rows ({len(answerable)} answerable, {len(unanswerable)} unanswerable); "
          f"{per_q:.1f} ms per question")
    print("threshold  answerable-correct  unanswerable-abstained")
    for th in [round(0.30 + 0.02 * i, 2) for i in range(16)] + ([chosen] if chosen else []):
        ok = sum(1 for _, _, s, c in answerable if c and s >= th)
        ab = sum(1 for _, a, s, _ in unanswerable if a.abstained or s < th)
        print(f"{th:9.2f}  {ok:3d}/{len(answerable)} {100*ok/len(answerable):5.1f}%    "
              f"{ab:3d}/{len(unanswerable)} {100*ab/len(unanswerable):5.1f}%")

    if args.failures:
        print(f"\nfailures at threshold {chosen}:")
        for row, ans, s, c in results:
            abstains = ans.abstained or s < chosen
            if row["answerable"] and (c and not abstains):
                continue
            if not row["answerable"] and abstains:
                continue
            print(f"- {row['id']} [{row['category']}] score={s:.3f} {row['question']}")
            print(f"    evidence: {(row['evidence'] or [''])[0][:110]}")
            for cit in ans.citations[:3]:
                print(f"    cited {cit.source[:3]}: {cit.quote[:110]}")


if __name__ == "__main__":
    main()
