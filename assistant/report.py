"""Eval reports: a terminal table, and one self-contained HTML page (inline CSS and SVG,
no script or asset from anywhere else, so it opens offline) with metric bars per
category, the baselines side by side, a latency histogram and a per-question
drill-down. Every piece of text from the dataset or the answers is HTML-escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

TABLE_METRICS = ("hit@1", "hit@5", "mrr", "ndcg@5", "evidence_recall", "citation_precision",
                 "citation_recall", "quote_exact", "key_fact_recall", "token_f1", "answered",
                 "abstain_precision", "abstain_recall")
SHORT = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr": "MRR", "ndcg@5": "nDCG@5",
         "evidence_recall": "evR", "citation_precision": "citP", "citation_recall": "citR",
         "quote_exact": "exact", "key_fact_recall": "facts", "token_f1": "F1", "answered": "ans",
         "abstain_precision": "absP", "abstain_recall": "absR", "judge_correct": "judge"}
COLORS = {"pipeline": "#2b6cb0", "dense": "#dd6b20", "bm25": "#38a169"}


def _f(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _metrics(report: dict[str, Any]) -> list[str]:
    names = list(TABLE_METRICS)
    if report.get("meta", {}).get("judge"):
        names.append("judge_correct")
    return names


def format_table(report: dict[str, Any]) -> str:
    """Plain-text tables: systems overall, then the pipeline per category and language."""
    systems = report["meta"]["systems"]
    names = _metrics(report)
    head = f"{'':<22}" + "".join(f"{SHORT[n]:>8}" for n in names)
    lines = [f"{report['meta']['n_questions']} questions · settings {report['meta']['settings_hash']}", "", head]
    for s in systems:
        o = report["summary"][s]["overall"]
        lines.append(f"{s:<22}" + "".join(f"{_f(o.get(n)):>8}" for n in names))
    for s, cells in _margins(report, names):
        lines.append(f"{'margin vs ' + s:<22}" + "".join(f"{'—' if c is None else f'{c:+.3f}':>8}" for c in cells))
    if "pipeline" in systems:
        lines += ["", "pipeline by category / language", head]
        for group in ("by_category", "by_lang"):
            for key, agg in report["summary"]["pipeline"][group].items():
                lines.append(f"{key + ' (' + str(agg['n']) + ')':<22}" + "".join(f"{_f(agg.get(n)):>8}" for n in names))
        lat = report["summary"]["pipeline"]["overall"].get("latency_ms", {})
        if lat:
            lines += ["", "pipeline latency ms  " + "  ".join(
                f"{st} p50 {_f(v['p50'], 1)} p95 {_f(v['p95'], 1)}" for st, v in lat.items())]
    return "\n".join(lines)


# ------------------------------------------------------------------------- SVG


def _bar_chart(title: str, groups: list[str], series: dict[str, list[float | None]], width: int = 720) -> str:
    """Grouped horizontal bars in [0, 1]: one group per label, one bar per series."""
    bar_h, gap, left, top = 11, 10, 150, 28
    n_series = max(len(series), 1)
    height = top + len(groups) * (n_series * bar_h + gap) + 30
    plot_w = width - left - 60
    out = [f'<svg width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title)}"><text x="4" y="16" class="t">{escape(title)}</text>']
    for x in (0, 0.25, 0.5, 0.75, 1.0):
        xx = left + x * plot_w
        out.append(f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 24}" stroke="#ddd"/>'
                   f'<text x="{xx:.1f}" y="{height - 10}" class="ax" text-anchor="middle">{x:g}</text>')
    y = top
    for gi, g in enumerate(groups):
        out.append(f'<text x="{left - 6}" y="{y + n_series * bar_h / 2 + 4:.1f}" class="lb" text-anchor="end">{escape(g)}</text>')
        for si, (name, vals) in enumerate(series.items()):
            v = vals[gi]
            w = 0 if v is None else max(0.0, min(1.0, v)) * plot_w
            color = COLORS.get(name, "#718096")
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}">'
                       f'<title>{escape(name)} {escape(g)}: {_f(v)}</title></rect>'
                       f'<text x="{left + w + 3:.1f}" y="{y + bar_h - 3}" class="v">{_f(v, 2)}</text>')
            y += bar_h
        y += gap
    out.append("</svg>")
    return "".join(out)


def _histogram(title: str, values: list[float], bins: int = 20, width: int = 720, height: int = 200) -> str:
    if not values:
        return ""
    lo, hi = 0.0, max(values) or 1.0
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step)) if step else 0] += 1
    left, top, bottom = 40, 24, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    cmax = max(counts)
    bw = plot_w / bins
    out = [f'<svg width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title)}"><text x="4" y="16" class="t">{escape(title)}</text>']
    for i, c in enumerate(counts):
        h = plot_h * c / cmax if cmax else 0
        x = left + i * bw
        out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="#2b6cb0">'
                   f'<title>{lo + i * step:.0f}–{lo + (i + 1) * step:.0f} ms: {c}</title></rect>')
    for i in range(0, bins + 1, 5):
        x = left + i * bw
        out.append(f'<text x="{x:.1f}" y="{height - 12}" class="ax" text-anchor="middle">{lo + i * step:.0f}</text>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" class="ax" text-anchor="end">{cmax}</text>'
               f'<text x="{width - 10}" y="{height - 1}" class="ax" text-anchor="end">ms</text></svg>')
    return "".join(out)


# ------------------------------------------------------------------------ HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1a202c;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e2e8f0;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f7fafc}
.pos{color:#276749}.neg{color:#c53030}.t{font:bold 13px sans-serif}.lb{font:12px sans-serif}
.ax,.v{font:10px sans-serif;fill:#4a5568}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
details{border:1px solid #e2e8f0;border-radius:4px;margin:4px 0;padding:4px 8px}summary{cursor:pointer}
.ok{color:#276749}.bad{color:#c53030}blockquote{margin:4px 0 4px 12px;color:#2d3748;border-left:3px solid #cbd5e0;padding-left:8px}
.sys{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:8px}.small{color:#718096;font-size:12px}
"""


def _margins(report: dict[str, Any], names: list[str]) -> list[tuple[str, list[float | None]]]:
    """The pipeline's margin over each baseline, metric by metric (None where unmeasured)."""
    systems = report["meta"]["systems"]
    if "pipeline" not in systems:
        return []
    p = report["summary"]["pipeline"]["overall"]
    out = []
    for s in systems:
        if s == "pipeline":
            continue
        o = report["summary"][s]["overall"]
        out.append((s, [p[n] - o[n] if p.get(n) is not None and o.get(n) is not None else None for n in names]))
    return out


def _summary_table(report: dict[str, Any]) -> str:
    names = _metrics(report)
    systems = report["meta"]["systems"]
    rows = ["<table><tr><th>system</th>" + "".join(f'<th title="{escape(report["metrics"].get(n, n))}">{escape(SHORT[n])}</th>' for n in names) + "</tr>"]
    for s in systems:
        o = report["summary"][s]["overall"]
        rows.append(f"<tr><td>{escape(s)}</td>" + "".join(f"<td>{_f(o.get(n))}</td>" for n in names) + "</tr>")
    for s, margins in _margins(report, names):
        cells = [
            "<td>—</td>" if d is None else f'<td class="{"pos" if d > 0 else "neg" if d < 0 else ""}">{d:+.3f}</td>'
            for d in margins
        ]
        rows.append(f"<tr><td>pipeline margin vs {escape(s)}</td>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "".join(rows)


def _group_table(report: dict[str, Any], group: str) -> str:
    names = _metrics(report)
    out = []
    for s in report["meta"]["systems"]:
        out.append(f"<h3>{escape(s)}</h3><table><tr><th>{'category' if group == 'by_category' else 'language'}</th><th>n</th>"
                   + "".join(f"<th>{escape(SHORT[n])}</th>" for n in names) + "</tr>")
        for key, agg in report["summary"][s][group].items():
            out.append(f"<tr><td>{escape(key)}</td><td>{agg['n']}</td>" + "".join(f"<td>{_f(agg.get(n))}</td>" for n in names) + "</tr>")
        out.append("</table>")
    return "".join(out)


def _latency_table(report: dict[str, Any]) -> str:
    out = ["<table><tr><th>system</th><th>stage</th><th>p50 ms</th><th>p95 ms</th></tr>"]
    for s in report["meta"]["systems"]:
        for st, v in report["summary"][s]["overall"].get("latency_ms", {}).items():
            out.append(f"<tr><td>{escape(s)}</td><td>{escape(st)}</td><td>{_f(v['p50'], 1)}</td><td>{_f(v['p95'], 1)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _question(q: dict[str, Any]) -> str:
    from assistant.evaluate import outcome

    pipe = outcome(q, "pipeline")
    good = pipe.startswith(("abstained (correct)", "answered, cites gold"))
    head = (f'<summary><b>{escape(q["id"])}</b> [{escape(q["category"])}/{escape(q["lang"])}] '
            f'{escape(q["question"])} — <span class="{"ok" if good else "bad"}">{escape(pipe)}</span></summary>')
    body = []
    if q.get("history"):
        body.append("<p class=small>history: " + " · ".join(escape(h) for h in q["history"]) + "</p>")
    if q["answerable"]:
        body.append(f"<p><b>reference:</b> {escape(q['reference_answer'])}</p><p><b>gold evidence</b> ({escape(', '.join(q['sources']))}):</p>")
        body += [f"<blockquote>{escape(e)}</blockquote>" for e in q["evidence"]]
    else:
        body.append("<p><b>unanswerable</b>: the right behaviour is to abstain.</p>")
    body.append('<div class="sys">')
    for s, r in q["systems"].items():
        m = r["metrics"]
        figures = ", ".join(f"{SHORT.get(k, k)} {_f(v, 2)}" for k, v in m.items() if v is not None)
        cits = "".join(
            f"<blockquote>[{c['id']}] {escape(c['quote'])}<br><span class=small>{escape(c['source'])} "
            f"[{c['start']}:{c['end']}]</span></blockquote>" for c in r["citations"])
        err = f"<p class=bad>error: {escape(r['error'])}</p>" if r.get("error") else ""
        body.append(f"<div><h4>{escape(s)}{' (abstained)' if r['abstained'] else ''}</h4>{err}"
                    f"<p>{escape(r['answer'])}</p>{cits}<p class=small>{escape(figures)}</p></div>")
    body.append("</div>")
    return f"<details>{head}{''.join(body)}</details>"


def render_html(report: dict[str, Any]) -> str:
    meta = report["meta"]
    systems = meta["systems"]
    cats = list(report["summary"][systems[0]]["by_category"])
    langs = list(report["summary"][systems[0]]["by_lang"])
    charts = []
    for metric in ("hit@5", "mrr", "citation_precision", "key_fact_recall", "token_f1"):
        charts.append(_bar_chart(
            f"{metric} per category",
            ["overall"] + cats + [f"lang {g}" for g in langs],
            {s: [report["summary"][s]["overall"].get(metric)]
                + [report["summary"][s]["by_category"][c].get(metric) for c in cats]
                + [report["summary"][s]["by_lang"][g].get(metric) for g in langs] for s in systems},
        ))
    side = _bar_chart("all systems, overall", [SHORT[n] for n in _metrics(report)],
                      {s: [report["summary"][s]["overall"].get(n) for n in _metrics(report)] for s in systems})
    totals = [q["systems"]["pipeline"]["timings_ms"].get("total") for q in report["questions"] if "pipeline" in q["systems"]]
    hist = _histogram("pipeline total latency per question (ms)", [t for t in totals if t is not None])
    legend = '<p class="legend">' + "".join(f'<span style="background:{COLORS.get(s, "#718096")}"></span>{escape(s)}' for s in systems) + "</p>"
    metric_list = "".join(f"<li><b>{escape(SHORT.get(k, k))}</b> ({escape(k)}): {escape(v)}</li>" for k, v in report["metrics"].items())
    questions = "".join(_question(q) for q in report["questions"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title><style>{_CSS}</style></head>
<body><h1>Evaluation report</h1>
<p class=small>{meta['n_questions']} questions from {escape(str(meta['dataset']))} · settings {escape(meta['settings_hash'])} ·
embedder {escape(str(meta['embedder']))} · {escape(meta['created'])} · {meta['duration_s']} s · articles: {escape(', '.join(meta.get('articles', [])))}</p>
<h2>Pipeline vs baselines</h2>{_summary_table(report)}{legend}{side}
<h2>Per category and language</h2>{legend}{''.join(charts)}
<details><summary>tables per category</summary>{_group_table(report, 'by_category')}</details>
<details><summary>tables per language</summary>{_group_table(report, 'by_lang')}</details>
<h2>Latency</h2>{hist}{_latency_table(report)}
<h2>Questions</h2>{questions}
<h2>Metrics</h2><ul>{metric_list}</ul>
</body></html>
"""


def latest_report_html(home: Path) -> str | None:
    """The HTML of the latest eval report under ``home`` (for the web UI's Evaluation
    tab), or None when no eval has run yet."""
    path = Path(home) / "reports" / "latest" / "report.html"
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
