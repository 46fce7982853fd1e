"""A real Chroma server (``chroma run``) on 127.0.0.1 for tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from servers import free_port


def chroma_executable() -> Path:
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        raise FileNotFoundError(f"no 'chroma' executable next to {sys.executable}")
    return exe


class ChromaServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / "chroma-server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "ChromaServer":
        log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [str(chroma_executable()), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**__import__("os").environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("chroma server did not answer /api/v2/heartbeat")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
