"""Issue 8, case 4: a bounded soak on loopback. 16 client threads (httpx) send mixed
requests to a real `assistant serve` process for RELIABILITY_SOAK_SECONDS (default 30;
the by-hand run in docs/reliability.md used 300). Checked: zero 5xx and zero transport
errors, the server's RSS flat (last-quarter mean within +15% of the first-quarter mean,
after a warm-up), p50/p95 reported."""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time

import httpx
import pytest

from procserver import ServerProcess, percentile, record_figure

pytestmark = pytest.mark.server
CLIENTS = 16
THINK_S = 0.5  # each client pauses between requests: a steady load, not a flood (2 shared cores)
TOKEN = "soak-token-not-secret"
MIX = [
    ("POST", "/api/ask", {"question": "What did Kirby say?"}),
    ("POST", "/api/ask", {"question": "Which Iranian drone models had technical problems?"}),
    ("POST", "/api/ask", {"question": "Combien d'obus la Russie achète-t-elle ?"}),
    ("POST", "/api/ask", {"question": "Is North Korea selling weapons to Russia?"}),
    ("POST", "/api/ask", {"question": "What else did he say?", "history": ["Who is John Kirby?"]}),
    ("POST", "/api/ask", {"question": "What does the site use cookies for?"}),  # abstains
    ("POST", "/api/ask", {"question": "Qu'a dit le ministère nord-coréen de la Défense ?",
                          "filters": {"outlet": "BBC"}}),
    ("POST", "/api/ask", {"question": "   "}),  # 400
    ("GET", "/api/sources", None),
    ("GET", "/api/health", None),
]


def test_soak(corpus_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seconds = float(os.environ.get("RELIABILITY_SOAK_SECONDS", "30"))
    assert 5 <= seconds <= 1800
    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    env = {"ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "ASSISTANT_API_TOKEN": TOKEN}
    results: list[tuple[float, int | str, float]] = []  # (start, status, seconds)
    lock = threading.Lock()
    rss: list[tuple[float, int]] = []
    with ServerProcess(home, env=env) as srv:
        t0 = time.monotonic()
        end = t0 + seconds
        stop = threading.Event()

        def client(i: int) -> None:
            with httpx.Client(base_url=srv.url, timeout=30, headers=srv.headers) as c:
                k = i
                while time.monotonic() < end and not stop.is_set():
                    method, path, body = MIX[k % len(MIX)]
                    k += 1
                    t = time.monotonic()
                    try:
                        r = c.request(method, path, json=body)
                        status: int | str = r.status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    with lock:
                        results.append((t, status, time.monotonic() - t))
                    time.sleep(THINK_S)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        while time.monotonic() < end:
            rss.append((time.monotonic() - t0, srv.rss_kb()))
            time.sleep(1.0)
        for t in threads:
            t.join(timeout=45)
        stop.set()
        assert not any(t.is_alive() for t in threads), "a client hung"
        assert srv.alive()
        health = httpx.get(srv.url + "/api/health", timeout=10)
        assert health.status_code == 200
    statuses = [r[1] for r in results]
    errors_5xx = sum(1 for s in statuses if isinstance(s, int) and s >= 500)
    transport = sum(1 for s in statuses if not isinstance(s, int))
    unexpected = sorted({s for s in statuses if s not in (200, 400)}, key=str)
    lat_ms = [r[2] * 1000 for r in results if r[1] == 200]
    # RSS after a warm-up (the first 10% or 10 s): first quarter vs last quarter.
    warm = max(10.0, 0.1 * seconds)
    steady = [kb for (t, kb) in rss if t >= warm]
    q = max(1, len(steady) // 4)
    first, last = statistics.mean(steady[:q]), statistics.mean(steady[-q:])
    figures = dict(seconds=seconds, clients=CLIENTS, requests=len(results),
                   rps=round(len(results) / seconds, 1), ok=statuses.count(200), e400=statuses.count(400),
                   e5xx=errors_5xx, transport_errors=transport,
                   p50_ms=round(percentile(lat_ms, 50), 1), p95_ms=round(percentile(lat_ms, 95), 1),
                   max_ms=round(max(lat_ms), 1), rss_first_mb=round(first / 1024, 1),
                   rss_last_mb=round(last / 1024, 1), rss_growth_pct=round(100 * (last / first - 1), 1),
                   rss_peak_mb=round(max(kb for _, kb in rss) / 1024, 1))
    record_figure("4 soak", **figures)
    assert errors_5xx == 0 and transport == 0, figures
    assert not unexpected, unexpected
    assert len(results) >= 5 * seconds / 10, figures  # it did serve a real load
    assert last <= 1.15 * first, figures
