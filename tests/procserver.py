"""`assistant serve` as a real child process on 127.0.0.1, for the reliability suite:
its stdout/stderr go to a file (to look for secrets), its RSS can be sampled, and every
wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class ServerProcess:
    def __init__(self, home: Path, env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or home.parent / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            **(env or {}),
        }
        for var in ("ASSISTANT_CHROMA_URL", "ASSISTANT_LLM_URL", "ASSISTANT_EMBEDDER"):
            if var not in (env or {}):
                self.env.pop(var, None)
        self.proc: subprocess.Popen | None = None
        self.headers: dict[str, str] = {}
        token = (env or {}).get("ASSISTANT_API_TOKEN")
        if token:
            self.headers["X-API-Key"] = token

    def start(self, timeout: float = 120.0) -> "ServerProcess":
        out = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "--home", str(self.home), "serve",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-ingest"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=str(ROOT),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server did not become healthy: {self.output()[-2000:]}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self) -> int:
        assert self.proc is not None
        return rss_kb(self.proc.pid)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


def record_figure(case: str, **values: Any) -> None:
    """Append one JSON line of measured figures to $RELIABILITY_REPORT (when set): the
    numbers in docs/reliability.md come from such a run."""
    import json

    path = os.environ.get("RELIABILITY_REPORT")
    line = json.dumps({"case": case, **values}, ensure_ascii=False)
    print(f"[reliability] {line}")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
