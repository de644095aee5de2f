"""Real servers on 127.0.0.1 for the adapter tests: uvicorn (ASGI), gunicorn and waitress (WSGI).

Each server is a subprocess on a free port, started once per test session, with ``TMPDIR`` and the
app's file folder pointed at a fresh temporary directory, and always stopped (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running server: its kind, base URL, process and the folder its handlers write to."""

    kind: str
    url: str
    port: int
    process: subprocess.Popen[bytes]
    files_dir: Path
    tmp_dir: Path
    log: Path

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/stats", timeout=10) as response:
            return json.loads(response.read())

    def wait_idle(self, timeout: float = 10.0) -> dict[str, Any]:
        """The stats once no handler is open (a disconnect is noticed asynchronously by the server)."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["open"] == 0 or time.monotonic() > deadline:
                return stats
            time.sleep(0.05)


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen within {STARTUP_TIMEOUT}s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def command(kind: str, port: int, target: str) -> list[str]:
    """The command line that serves ``module:attribute`` with a server of this kind."""
    if kind == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            target,
        ]
    if kind == "gunicorn":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "--log-level",
            "warning",
            target,
        ]
    if kind == "waitress":
        return [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4", target]
    raise ValueError(kind)


def start(kind: str, target: str, workdir: Path, *, cwd: Path = ROOT, extra_path: Path | None = None) -> Server:
    port = free_port()
    files_dir = workdir / "files"
    tmp = workdir / "tmp"
    files_dir.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(extra_path or ""), str(ROOT), env.get("PYTHONPATH", "")] if p)
    env["TMPDIR"] = str(tmp)
    env["FASTMIME_TEST_DIR"] = str(files_dir)
    log = workdir / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command(kind, port, target), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_listening(port, process, log)
    except BaseException:
        stop(process)
        raise
    return Server(kind, f"http://127.0.0.1:{port}", port, process, files_dir, tmp, log)


TARGETS = {
    "uvicorn": "tests.servers.app:asgi_app",
    "gunicorn": "tests.servers.app:wsgi_app",
    "waitress": "tests.servers.app:wsgi_app",
}


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """All three servers, started once per session.

    gunicorn runs 3 sync workers: a sync worker serves one connection at a time, and Chromium keeps
    speculative idle connections open, which would leave a single worker unable to answer /stats.
    """
    started: dict[str, Server] = {}
    try:
        for kind, target in TARGETS.items():
            started[kind] = start(kind, target, tmp_path_factory.mktemp(kind))
        yield started
    finally:
        for server in started.values():
            stop(server.process)


@pytest.fixture(params=list(TARGETS))
def server(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Server:
    srv = servers[request.param]
    assert srv.process.poll() is None, f"{srv.kind} died:\n{srv.log.read_text(errors='replace')}"
    return srv
