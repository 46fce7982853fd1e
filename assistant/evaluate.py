"""Evaluation runner and metrics: the pipeline and two baselines on the same questions.

No judge model is needed. A retrieved passage (or a citation) is *relevant* when it
overlaps the character span of a gold evidence string, located in the cleaned article
text stored in the index (``store.get_article``), in one of the row's gold sources.

Systems compared on every question of one run:

- ``pipeline``: ``Assistant.ask`` (its retrieval ranked by ``assistant.retriever``);
- ``dense``: the top chunk of a dense-only query (``store.query_chunks``), cited whole;
- ``bm25``: the top chunk of a BM25-only query (``retriever.lexical.search``), cited
  whole (abstains when BM25 finds nothing).

Per question, each system gets a dict of metric values (``None`` when a metric does not
apply, e.g. retrieval metrics on an unanswerable question); ``aggregate`` averages them
over any subset (overall, per category, per language) and adds the set-level figures
(abstention precision/recall, latency percentiles).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.lexical import fold, tokens

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO_ROOT / "evals" / "reference.jsonl"
SYSTEMS = ("pipeline", "dense", "bm25")
K_VALUES = (1, 3, 5)
STAGES = ("embed", "retrieve", "evidence", "answer", "total")

# Metric name -> (label, higher is better). The order is the report's column order.
METRICS: dict[str, str] = {
    "hit@1": "retrieval: a gold passage ranked first",
    "hit@3": "retrieval: a gold passage in the top 3",
    "hit@5": "retrieval: a gold passage in the top 5",
    "mrr": "retrieval: mean reciprocal rank of the first gold passage",
    "ndcg@5": "retrieval: nDCG@5, binary relevance",
    "evidence_recall": "retrieval: share of gold evidence spans touched by a retrieved passage",
    "citation_precision": "citations overlapping a gold evidence span",
    "citation_recall": "share of gold evidence characters covered by citations",
    "quote_exact": "citations whose quote equals article text[start:end]",
    "key_fact_recall": "numbers, names and dates of the reference found in answer+quotes",
    "token_f1": "token F1 of the answer against the reference answer",
    "answered": "answerable questions answered (not abstained)",
    "abstain_precision": "abstentions that were on unanswerable questions",
    "abstain_recall": "unanswerable questions abstained on",
}
HEADLINE = ("hit@1", "hit@5", "mrr", "ndcg@5", "citation_precision", "citation_recall",
            "quote_exact", "key_fact_recall", "token_f1", "abstain_precision", "abstain_recall")


# ----------------------------------------------------------------------------- data


def load_dataset(path: Path | str) -> list[dict[str, Any]]:
    rows = []
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
    return rows


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


class Corpus:
    """The stored cleaned text of every indexed article, by source name."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        self.text: dict[str, str] = {}
        for row in store.list_articles():
            got = store.get_article(row["id"])
            if got is not None:
                self.text[row.get("source", "")] = got[0]
        self._chunks: list[Span] | None = None
        self._store = store

    def chunks(self) -> list[Span]:
        if self._chunks is None:
            self._chunks = [
                Span(r["meta"].get("source", ""), int(r["meta"].get("start", 0)), int(r["meta"].get("end", 0)))
                for r in self._store.all_chunks()
            ]
        return self._chunks

    def gold_spans(self, row: dict[str, Any]) -> list[Span]:
        """Every occurrence of every evidence string in the row's gold sources."""
        return [span for group in self.evidence_groups(row) for span in group]

    def evidence_groups(self, row: dict[str, Any]) -> list[list[Span]]:
        """Per evidence string, its occurrences (an empty list when it is not found)."""
        out = []
        for ev in row.get("evidence") or []:
            occ = []
            for src in row.get("sources") or []:
                text = self.text.get(src, "")
                i = text.find(ev)
                while i >= 0:
                    occ.append(Span(src, i, i + len(ev)))
                    i = text.find(ev, i + 1)
            out.append(occ)
        return out


def is_relevant(span: Span, gold: Sequence[Span]) -> bool:
    return any(g.source == span.source and overlap(span.start, span.end, g.start, g.end) > 0 for g in gold)


# -------------------------------------------------------------------------- metrics


def hit_at(rels: Sequence[bool], k: int) -> float:
    return 1.0 if any(rels[:k]) else 0.0


def mrr(rels: Sequence[bool]) -> float:
    for i, r in enumerate(rels):
        if r:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at(rels: Sequence[bool], k: int, n_relevant: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rels[:k]) if r)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    return dcg / ideal if ideal else 0.0


def covered_fraction(span: Span, covers: Iterable[Span]) -> float:
    """Share of ``span``'s characters inside the union of ``covers``."""
    pieces = sorted((max(c.start, span.start), min(c.end, span.end)) for c in covers
                    if c.source == span.source and overlap(c.start, c.end, span.start, span.end) > 0)
    got, cur = 0, span.start
    for a, b in pieces:
        a = max(a, cur)
        if b > a:
            got += b - a
            cur = b
    length = span.end - span.start
    return got / length if length else 0.0


def token_f1(prediction: str, reference: str) -> float:
    p, r = tokens(prediction), tokens(reference)
    if not p or not r:
        return 0.0
    common: dict[str, int] = {}
    rc: dict[str, int] = {}
    for t in r:
        rc[t] = rc.get(t, 0) + 1
    same = 0
    for t in p:
        if rc.get(t, 0) > 0:
            rc[t] -= 1
            same += 1
            common[t] = common.get(t, 0) + 1
    if not same:
        return 0.0
    prec, rec = same / len(p), same / len(r)
    return 2 * prec * rec / (prec + rec)


_MONTHS_EN_FR = {
    "january": "janvier", "february": "fevrier", "march": "mars", "april": "avril", "may": "mai",
    "june": "juin", "july": "juillet", "august": "aout", "september": "septembre",
    "october": "octobre", "november": "novembre", "december": "decembre",
    "monday": "lundi", "tuesday": "mardi", "wednesday": "mercredi", "thursday": "jeudi",
    "friday": "vendredi", "saturday": "samedi", "sunday": "dimanche",
}
# English names whose French form differs (accent-folded, lowercase). The glossary in
# prompts/ adds role words; this covers the proper nouns of the reference answers.
_NAMES_EN_FR = {
    "russia": ["russie", "moscou", "kremlin"], "russian": ["russe"], "ukraine": ["ukraine"],
    "korea": ["coree"], "north": ["nord"], "united": ["unis"], "states": ["etats"],
    "us": ["etats-unis", "americain"], "u.s": ["etats-unis", "americain"],
    "shoigu": ["choigu"], "sergei": ["serguei"], "syria": ["syrie"], "china": ["chine"],
    "luhansk": ["lougansk"], "donetsk": ["donetsk"], "iranian": ["iranien"],
    "iran": ["iran"], "white": ["blanche"], "house": ["maison"], "kim": ["kim"],
    "putin": ["poutine"], "yuriy": ["iouri", "yuriy"], "ignat": ["ignat", "ihnat"],
    "slovak": ["slovaque"], "slovakia": ["slovaquie"], "dprk": ["rpdc"], "un": ["onu"],
    "turkish": ["turc"], "wagner": ["wagner"], "pyongyang": ["pyongyang"],
    "council": ["conseil"], "security": ["securite"], "national": ["national", "nationale"],
    "treasury": ["tresor"], "defence": ["defense"], "ministry": ["ministere"],
    "crimea": ["crimee"], "europe": ["europe"], "american": ["americain"],
}
_FACT_STOP = {
    "the", "a", "an", "on", "in", "only", "and", "or", "of", "it", "its", "he", "she", "they",
    "this", "that", "these", "those", "there", "yes", "no", "not", "le", "la", "les", "un", "une",
    "des", "du", "de", "en", "au", "aux", "oui", "non", "il", "elle", "ils", "elles", "ce", "cet",
    "cette", "selon", "according", "after", "before", "après", "avant", "since", "depuis", "but",
    "mais", "by", "par", "at", "à", "with", "avec", "for", "pour", "as", "comme", "when", "quand",
    "about", "while", "then", "also", "both", "his", "her", "their", "we", "i", "l", "d", "so",
}
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_CAPITAL = re.compile(r"(?<![\w’'])([A-ZÀ-ÖØ-Þ][\w’'.-]*\w|[A-ZÀ-ÖØ-Þ])")


def key_facts(reference: str, evidence: Sequence[str] = ()) -> list[str]:
    """Numbers, capitalised names and month/day names of a reference answer, folded.

    A capitalised word that starts a sentence counts only when it is a known name, an
    acronym, or appears capitalised in the gold evidence ("Kirby said" yes, "Millions of
    rockets" no)."""
    named_in_evidence = {fold(w) for e in evidence for w in re.findall(r"[A-ZÀ-ÖØ-Þ][\w-]+", e)}
    facts: list[str] = []
    for m in _NUMBER.finditer(reference):
        facts.append(m.group())
    for m in _CAPITAL.finditer(reference):
        raw = m.group(1)
        before = reference[: m.start()].rstrip(" «\"“(")
        sentence_start = not before or before[-1] in ".!?:—–"
        word = fold(raw).strip(".'-")
        # A capital at the start of a sentence is a name only if it is one we know or an
        # acronym ("Millions of rockets" gives no fact; "Kirby said" and "UN" do).
        if sentence_start and word not in _NAMES_EN_FR and word not in named_in_evidence and not raw.isupper():
            continue
        word = re.sub(r"^(?:l|d|qu)'", "", word)
        if len(word) < 2 or word in _FACT_STOP or word.isdigit():
            continue
        facts.append(word)
    for w in re.findall(r"[a-z]+", fold(reference)):
        if w in _MONTHS_EN_FR or w in _MONTHS_EN_FR.values():
            facts.append(w)
    seen: list[str] = []
    for f in facts:
        if f not in seen:
            seen.append(f)
    return seen


def _variants(fact: str) -> list[str]:
    out = [fact]
    out += _NAMES_EN_FR.get(fact, [])
    if fact in _MONTHS_EN_FR:
        out.append(_MONTHS_EN_FR[fact])
    if len(fact) > 3 and fact.endswith("s") and not fact.isdigit():  # UAVs -> UAV
        out.append(fact[:-1])
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", fact):  # 1,000 -> 1000 / 1 000
        out += [fact.replace(",", ""), fact.replace(",", " ")]
    return out


def key_fact_recall(reference: str, answer_text: str, evidence: Sequence[str] = ()) -> float | None:
    facts = key_facts(reference, evidence)
    if not facts:
        return None
    hay = fold(answer_text).replace("\u00a0", " ").replace("\u202f", " ")
    found = 0
    for f in facts:
        for v in _variants(f):
            if re.search(rf"(?<![\w]){re.escape(v)}", hay):
                found += 1
                break
    return found / len(facts)


# -------------------------------------------------------------------------- systems


@dataclass
class SystemResult:
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    retrieved: list[dict[str, Any]]  # {source, start, end, chunk_id}
    timings_ms: dict[str, float]
    error: str = ""


def _embed(assistant, text: str):  # type: ignore[no-untyped-def]
    emb = assistant.embedder
    return emb.embed_query(text) if hasattr(emb, "embed_query") else emb.embed([text])[0]


def _cit(c) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"id": c.id, "source": c.source, "title": c.title, "quote": c.quote, "start": c.start, "end": c.end}


def run_pipeline(assistant, row: dict[str, Any], top_k: int = 5) -> SystemResult:  # type: ignore[no-untyped-def]
    try:
        ans = assistant.ask(row["question"], row.get("history") or [])
    except Exception as exc:  # one failing question must not sink the whole run
        return SystemResult("", True, [], [], {}, error=f"{type(exc).__name__}: {exc}")
    resolved = getattr(ans, "resolved_question", "") or row["question"]
    passages = assistant.retriever.retrieve(resolved, _embed(assistant, resolved))
    retrieved = [{"source": p.source, "start": p.start, "end": p.end, "chunk_id": p.chunk_id}
                 for p in passages[:top_k]]
    return SystemResult(ans.answer, bool(ans.abstained), [_cit(c) for c in ans.citations],
                        retrieved, dict(ans.timings_ms or {}))


def _chunk_result(hits: list[dict[str, Any]], timings: dict[str, float]) -> SystemResult:
    retrieved = [{"source": h["meta"].get("source", ""), "start": int(h["meta"].get("start", 0)),
                  "end": int(h["meta"].get("end", 0)), "chunk_id": h["id"]} for h in hits]
    if not hits:
        return SystemResult("", True, [], [], timings)
    top = hits[0]
    cit = {"id": 1, "source": retrieved[0]["source"], "title": top["meta"].get("title", ""),
           "quote": top["text"], "start": retrieved[0]["start"], "end": retrieved[0]["end"]}
    return SystemResult(f"{top['text']} [1]", False, [cit], retrieved, timings)


def run_dense(assistant, row: dict[str, Any], top_k: int = 5) -> SystemResult:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    vec = _embed(assistant, row["question"])
    t1 = time.perf_counter()
    hits = assistant.store.query_chunks(vec, top_k)
    t2 = time.perf_counter()
    return _chunk_result(hits[:top_k], {"embed": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000,
                                        "total": (t2 - t0) * 1000})


def run_bm25(assistant, row: dict[str, Any], top_k: int = 5) -> SystemResult:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    lexical = assistant.retriever.lexical
    hits = [dict(lexical.rows[i]) for i, _ in lexical.search(row["question"], top_k)]
    t1 = time.perf_counter()
    return _chunk_result(hits, {"retrieve": (t1 - t0) * 1000, "total": (t1 - t0) * 1000})


RUNNERS: dict[str, Callable[..., SystemResult]] = {"pipeline": run_pipeline, "dense": run_dense, "bm25": run_bm25}


# -------------------------------------------------------------------- scoring


def score(row: dict[str, Any], res: SystemResult, corpus: Corpus) -> dict[str, float | None]:
    m: dict[str, float | None] = dict.fromkeys(METRICS)
    # Quote exactness applies to every question with citations.
    if res.citations:
        exact = [corpus.text.get(c["source"], "")[c["start"]:c["end"]] == c["quote"] for c in res.citations]
        m["quote_exact"] = sum(exact) / len(exact)
    if not row["answerable"]:
        return m
    groups = corpus.evidence_groups(row)
    gold = [span for group in groups for span in group]
    rels = [is_relevant(Span(p["source"], p["start"], p["end"]), gold) for p in res.retrieved]
    n_relevant = sum(is_relevant(c, gold) for c in corpus.chunks()) or len(groups)
    for k in K_VALUES:
        m[f"hit@{k}"] = hit_at(rels, k)
    m["mrr"] = mrr(rels)
    m["ndcg@5"] = ndcg_at(rels, 5, n_relevant)
    spans = [Span(p["source"], p["start"], p["end"]) for p in res.retrieved]
    m["evidence_recall"] = (sum(any(is_relevant(s, g) for s in spans) for g in groups) / len(groups)) if groups else None
    m["answered"] = 0.0 if res.abstained else 1.0
    cits = [Span(c["source"], c["start"], c["end"]) for c in res.citations]
    if not res.abstained:
        m["citation_precision"] = (sum(is_relevant(c, gold) for c in cits) / len(cits)) if cits else 0.0
    m["citation_recall"] = (
        sum(max((covered_fraction(s, cits) for s in g), default=0.0) for g in groups) / len(groups)
        if groups and not res.abstained else (0.0 if groups else None)
    )
    text = "" if res.abstained else res.answer + "\n" + "\n".join(c["quote"] for c in res.citations)
    m["key_fact_recall"] = key_fact_recall(row["reference_answer"], text, row.get("evidence") or ())
    m["token_f1"] = token_f1(text, row["reference_answer"])
    return m


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def aggregate(items: Sequence[dict[str, Any]], system: str) -> dict[str, Any]:
    """Averages over the given question records for one system, plus set-level figures."""
    out: dict[str, Any] = {"n": len(items)}
    for name in METRICS:
        if name in ("abstain_precision", "abstain_recall"):
            continue
        out[name] = _mean(q["systems"][system]["metrics"].get(name) for q in items)
    abstained = [q for q in items if q["systems"][system]["abstained"]]
    unans = [q for q in items if not q["answerable"]]
    out["abstain_precision"] = (sum(not q["answerable"] for q in abstained) / len(abstained)) if abstained else (None if not unans else 0.0)
    out["abstain_recall"] = (sum(q["systems"][system]["abstained"] for q in unans) / len(unans)) if unans else None
    lat: dict[str, dict[str, float | None]] = {}
    for stage in STAGES:
        vals = [q["systems"][system]["timings_ms"][stage] for q in items if stage in q["systems"][system]["timings_ms"]]
        if vals:
            lat[stage] = {"p50": percentile(vals, 0.5), "p95": percentile(vals, 0.95)}
    out["latency_ms"] = lat
    for name in ("judge_correct",):
        vals = [q["systems"][system]["metrics"].get(name) for q in items]
        if any(v is not None for v in vals):
            out[name] = _mean(vals)
    return out


def summarise(questions: list[dict[str, Any]], systems: Sequence[str]) -> dict[str, Any]:
    cats = sorted({q["category"] for q in questions})
    langs = sorted({q["lang"] for q in questions})
    out = {}
    for s in systems:
        out[s] = {
            "overall": aggregate(questions, s),
            "by_category": {c: aggregate([q for q in questions if q["category"] == c], s) for c in cats},
            "by_lang": {g: aggregate([q for q in questions if q["lang"] == g], s) for g in langs},
        }
    return out


# ---------------------------------------------------------------------- judge


def _judge(llm, row: dict[str, Any], res: SystemResult) -> float | None:  # type: ignore[no-untyped-def]
    """1.0 when an LLM judge says the answer states the reference's facts (optional)."""
    if not row["answerable"] or res.abstained:
        return None if not row["answerable"] else 0.0
    prompt = (
        "Reference answer:\n" + row["reference_answer"] + "\n\nCandidate answer (may be in French):\n"
        + res.answer + "\n\nDoes the candidate state the facts of the reference answer? Reply yes or no."
    )
    try:
        reply = llm.complete([{"role": "user", "content": prompt}])
    except Exception:
        return None
    return 1.0 if reply.strip().lower().startswith(("yes", "oui")) else 0.0


def make_judge(settings):  # type: ignore[no-untyped-def]
    if not getattr(settings, "llm_url", ""):
        return None
    from assistant.llm import OpenAICompatibleLLM

    return OpenAICompatibleLLM(settings.llm_url, settings.llm_model, settings.llm_api_key or None,
                               timeout=settings.llm_timeout)


# ------------------------------------------------------------------------ runner


def evaluate(
    assistant, rows: Sequence[dict[str, Any]], *, systems: Sequence[str] = SYSTEMS,  # type: ignore[no-untyped-def]
    judge=None, progress: Callable[[str], None] | None = None, dataset: str = "",  # type: ignore[no-untyped-def]
) -> dict[str, Any]:
    """Run every system on every row; return the report (JSON-serialisable dict)."""
    t0 = time.perf_counter()
    corpus = Corpus(assistant.store)
    questions = []
    for n, row in enumerate(rows, 1):
        rec: dict[str, Any] = {
            k: row.get(k) for k in ("id", "question", "history", "answerable", "reference_answer",
                                    "evidence", "sources", "category", "lang")
        }
        rec["gold_spans"] = [s.__dict__ for s in corpus.gold_spans(row)] if row["answerable"] else []
        rec["systems"] = {}
        for s in systems:
            res = RUNNERS[s](assistant, row)
            metrics = score(row, res, corpus)
            if judge is not None:
                metrics["judge_correct"] = _judge(judge, row, res)
            rec["systems"][s] = {
                "answer": res.answer, "abstained": res.abstained, "citations": res.citations,
                "retrieved": res.retrieved, "timings_ms": {k: round(v, 2) for k, v in res.timings_ms.items()},
                "metrics": metrics, "error": res.error,
            }
        questions.append(rec)
        if progress and n % 20 == 0:
            progress(f"{n}/{len(rows)} questions")
    settings = assistant.settings
    return {
        "meta": {
            "dataset": dataset, "n_questions": len(questions), "systems": list(systems),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "settings_hash": settings.settings_hash(),
            "embedder": getattr(assistant.embedder, "name", ""), "duration_s": round(time.perf_counter() - t0, 2),
            "judge": bool(judge), "articles": sorted(corpus.text),
        },
        "metrics": METRICS,
        "summary": summarise(questions, systems),
        "questions": questions,
    }


# --------------------------------------------------------------- floors / compare


def metric_value(report: dict[str, Any], name: str) -> float | None:
    """``hit@5`` (pipeline, overall), ``bm25.hit@5``, ``pipeline.by_lang.fr.mrr``,
    ``latency_ms.total.p95``."""
    parts = name.split(".")
    system = parts[0] if parts[0] in report["summary"] else "pipeline"
    if parts[0] == system:
        parts = parts[1:]
    node: Any = report["summary"][system]
    if parts and parts[0] in ("by_category", "by_lang"):
        node = node[parts[0]].get(parts[1], {})
        parts = parts[2:]
    else:
        node = node["overall"]
    for p in parts[:-1]:
        node = (node or {}).get(p, {})
    return (node or {}).get(parts[-1]) if parts else None


def check_floors(report: dict[str, Any], floors: dict[str, float]) -> list[str]:
    """One message per metric below its floor (latency floors are ceilings)."""
    failures = []
    for name, floor in floors.items():
        value = metric_value(report, name)
        ceiling = "latency_ms" in name
        if value is None:
            failures.append(f"{name}: not measured (floor {floor})")
        elif (value > floor) if ceiling else (value < floor):
            rel = "above its ceiling" if ceiling else "below its floor"
            failures.append(f"{name} = {value:.3f} is {rel} {floor:.3f}")
    return failures


def parse_floors(items: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            from assistant.errors import UsageError

            raise UsageError(f"--fail-under expects METRIC=VALUE, got {item!r}") from None
    return out


def load_floors(path: Path | str) -> dict[str, float]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    floors = data.get("floors", data)
    return {k: float(v) for k, v in floors.items()}


def outcome(q: dict[str, Any], system: str = "pipeline") -> str:
    s = q["systems"].get(system)
    if s is None:
        return "missing"
    if not q["answerable"]:
        return "abstained (correct)" if s["abstained"] else "answered (should abstain)"
    if s["abstained"]:
        return "abstained (should answer)"
    prec = s["metrics"].get("citation_precision") or 0.0
    return "answered, cites gold" if prec > 0 else "answered, cites no gold"


def compare(new: dict[str, Any], old: dict[str, Any], system: str = "pipeline") -> dict[str, Any]:
    deltas = {}
    a, b = new["summary"][system]["overall"], old["summary"].get(system, {}).get("overall", {})
    for name in METRICS:
        if a.get(name) is not None and b.get(name) is not None:
            deltas[name] = {"new": a[name], "old": b[name], "delta": a[name] - b[name]}
    old_q = {q["id"]: q for q in old["questions"]}
    changed = []
    for q in new["questions"]:
        o = old_q.get(q["id"])
        if o is None:
            changed.append({"id": q["id"], "old": "absent", "new": outcome(q, system), "question": q["question"]})
        elif outcome(q, system) != outcome(o, system):
            changed.append({"id": q["id"], "old": outcome(o, system), "new": outcome(q, system), "question": q["question"]})
    return {"deltas": deltas, "changed": changed}


def format_compare(cmp: dict[str, Any]) -> str:
    lines = ["metric                 old     new     delta"]
    for name, d in cmp["deltas"].items():
        lines.append(f"{name:<20} {d['old']:7.3f} {d['new']:7.3f} {d['delta']:+8.3f}")
    lines.append("")
    if cmp["changed"]:
        lines.append(f"{len(cmp['changed'])} question(s) changed outcome:")
        for c in cmp["changed"]:
            lines.append(f"  {c['id']}: {c['old']} -> {c['new']}  ({c['question']})")
    else:
        lines.append("no question changed outcome")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def build_fresh_index(settings, embedder, home: Path):  # type: ignore[no-untyped-def]
    """Index the bundled corpus into ``home`` and return an Assistant over it."""
    from assistant.pipeline import Assistant
    from index.ingest import ingest
    from index.store import Store

    fresh = settings.model_copy(update={"home": home, "chroma_url": ""})
    store = Store(fresh)
    report = ingest([str(fresh.corpus_dir)], fresh, store, embedder)
    if report.failed:
        from assistant.errors import AssistantError

        raise AssistantError(f"indexing the bundled corpus failed: {report.failed[0]}")
    return Assistant(fresh, store=store, embedder=embedder)


def write_report(report: dict[str, Any], out_dir: Path, home: Path | None = None) -> Path:
    from assistant.report import render_html

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(report), encoding="utf-8")
    if home is not None:
        latest = Path(home) / "reports" / "latest"
        if latest.resolve() != out_dir.resolve():
            if latest.is_symlink() or latest.is_file():
                latest.unlink()
            elif latest.exists():
                shutil.rmtree(latest)
            latest.mkdir(parents=True)
            for name in ("report.json", "report.html"):
                shutil.copyfile(out_dir / name, latest / name)
    return out_dir


def cmd_eval(args, settings) -> int:  # type: ignore[no-untyped-def]
    """``assistant eval``: run, write the report, print the table; exit 1 under a floor."""
    from assistant.errors import UsageError
    from assistant.report import format_table
    from index.embed import make_embedder

    dataset = Path(args.dataset) if args.dataset else DEFAULT_DATASET
    if not dataset.exists():
        raise UsageError(f"no such dataset: {dataset}")
    rows = load_dataset(dataset)
    floors = load_floors(args.baseline) if args.baseline else {}
    floors.update(parse_floors(args.fail_under or []))
    old = json.loads(Path(args.compare).read_text(encoding="utf-8")) if args.compare else None

    embedder = make_embedder(settings)
    tmp = None
    try:
        if args.use_index:
            from assistant.pipeline import Assistant

            assistant = Assistant(settings, embedder=embedder)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
            print("indexing the bundled corpus into a temporary index ...", file=sys.stderr)
            assistant = build_fresh_index(settings, embedder, tmp)
        report = evaluate(assistant, rows, judge=make_judge(settings), dataset=str(dataset),
                          progress=lambda m: print(m, file=sys.stderr))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    home = Path(settings.home)
    out_dir = Path(args.report) if args.report else home / "reports" / time.strftime("%Y%m%d-%H%M%S")
    write_report(report, out_dir, home)
    print(format_table(report))
    print(f"\nreport: {out_dir / 'report.html'}  ({report['meta']['duration_s']} s)")
    if old is not None:
        print("\ncompared with " + str(args.compare) + ":")
        print(format_compare(compare(report, old)))
    failures = check_floors(report, floors)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if floors and not failures:
        print(f"all {len(floors)} floors met")
    return 1 if failures else 0
