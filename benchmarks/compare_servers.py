#!/usr/bin/env python
"""Compare fastmime's server adapters with the frameworks' own form parsers under real servers.

``--server uvicorn`` (the default): one uvicorn process (one worker; httptools and uvloop when
installed) serves every ASGI contender, each on its own path:

* ``floor``: ``receive()`` until the end of the body and nothing else: what the server itself costs.
* ``fastmime``: ``fastmime.asgi.stream_request``, file parts streamed to a ``HashingHandler`` (SHA-256),
  fields kept in a ``ValueHandler``; both are ``event_loop_safe``, so they run on the event loop.
  Nothing is written to disk.
* ``fastmime-thread``: the same handlers without the ``event_loop_safe`` declaration (what any handler
  of yours gets by default): every feed runs in a worker thread.
* ``fastmime-form``: ``fastmime.asgi.parse_form`` (spooled like Starlette's, 1 MiB in memory), then each
  file read back (``await upload.aread()``, a worker thread once on disk, as Starlette's
  ``UploadFile.read``) and hashed, and closed with ``async with`` (files on disk removed from a worker
  thread, as Starlette's ``form.close()`` does): the same work as ``starlette``, for a like-for-like row.
* ``starlette``: ``await request.form()`` (python-multipart; files spooled to ``SpooledTemporaryFile``,
  on disk past 1 MiB), then each file read back and hashed (SHA-256), as an application would.

``--server gunicorn``: one gunicorn worker process (gthread, as many threads as the client's
concurrency) serves the WSGI contenders: ``floor`` (read ``wsgi.input`` in pieces of
``fastmime.wsgi.CHUNK_SIZE`` and drop them; Werkzeug reads 64 KiB at a time), ``fastmime``
(``fastmime.wsgi.stream_request`` + hashing handlers), ``fastmime-form`` (``fastmime.wsgi.parse_form``,
files read back and hashed) and ``werkzeug`` (``request.form`` / ``request.files``, the same).

The client is this script, a separate process, using aiohttp with several requests in flight; it
checks every response (the server returns the SHA-256 of every file, the client knows the expected
ones), so a wrong result is reported instead of being timed. A second client in its own process pings
a trivial endpoint of the same server (GET, one connection, every 5 ms) during each run: its latency
percentiles say how responsive the server stays while it parses uploads. They include the time the
pinger waits for a core, which depends on how hard the client pushes (a faster contender makes the
client send more bytes per second on the same 2 cores), so under uvicorn the server also watches its
own event loop: a thread posts a callback to it every 5 ms and records how long each waits to run
(the loop lag, what any other request on the server waits at that moment; ``/lag``), printed as
``lag p99``. Workloads:

1. ``photos``: 3 MiB photo-sized files, one per request plus two small fields, 8 in flight.
   ``photos-paced``: the same requests started at a fixed rate (``PACED_INTERVAL``: 25 a second, at
   most 8 in flight) that every contender sustains, so that its ping and loop lag are compared at the
   same offered load.
2. ``big``: one 1 GiB file (``--quick``: 128 MiB), streamed from a generator (never in client memory),
   with Content-Length.
3. ``fields``: 200 small text fields per request.

Contenders run round-robin, ``--repeats`` times (3; ``--quick``: 1); the run with the median wall time
is reported (with its CPU and ping latency), and the largest peak RSS of all runs. Per contender and
workload: requests/s, MB/s (10**6 body bytes per second, wall time), server CPU (user + system of the
server process) per request, the pinger's p50 and p99 latency, the loop lag p99, and peak server RSS
above the RSS at the start of the run (the kernel's VmHWM, reset through /proc/PID/clear_refs, checked
against sampled VmRSS).
On a shared machine wall-time figures move with the neighbours' load; CPU per request and the ratios
between contenders of the same repeat are the steadier figures, so each target is judged on the median
of the same-repeat ratios (printed with their range under the table).

Usage (from the repository root)::

    python benchmarks/compare_servers.py                      # uvicorn, full run
    python benchmarks/compare_servers.py --only photos        # issue 15's photos rows
    python benchmarks/compare_servers.py --server gunicorn --only photos
    python benchmarks/compare_servers.py --quick              # smaller counts, 128 MiB big file

Targets (issues 4 and 15): on ``photos``, fastmime >= 2x Starlette's MB/s and fastmime-form >= 1.5x,
both with at least 1.5x less CPU per request, and a ping p99 no higher than Starlette's; on ``big``
>= 1.5x and server peak RSS under 64 MiB above idle; >= 2x requests/s on ``fields``; under gunicorn,
fastmime-form >= 1.5x Werkzeug's MB/s on ``photos``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
BOUNDARY = "benchBoundary0123456789abcdefXYZ"
#: photos-paced: one 3 MiB upload starts every this many seconds (25 a second, 79 MB/s), for every
#: contender alike: a load all of them sustain on 2 shared cores, so that ping and loop lag compare at
#: the same offered load (in ``photos`` a faster contender makes the client push more bytes per second).
PACED_INTERVAL = 0.04
#: How often the server's loop monitor (``/lag``, uvicorn only) sets a timer and measures how late it fires.
LAG_INTERVAL = 0.005
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"
CONTENDERS = {
    "uvicorn": ["floor", "fastmime", "fastmime-thread", "fastmime-form", "starlette"],
    "gunicorn": ["floor", "fastmime", "fastmime-form", "werkzeug"],
}
BASELINE = {"uvicorn": "starlette", "gunicorn": "werkzeug"}
#: Contenders whose responses carry no digests to check.
UNCHECKED = {"floor"}

# --------------------------------------------------------------------------------------------------
# Server side (imported by the server process as ``compare_servers:app`` or ``compare_servers:wsgi_app``)
# --------------------------------------------------------------------------------------------------


def _server_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import fastmime
    import fastmime.asgi
    from fastmime.handlers import HashingHandler, ValueHandler, event_loop_safe

    limits = fastmime.Limits(max_file_size=1 << 40, max_body_size=1 << 40)

    class ThreadHashing(HashingHandler):
        event_loop_safe = False  # a handler that does not declare itself cheap: fed in worker threads

    class ThreadValue(ValueHandler):
        __slots__ = ()
        event_loop_safe = False

    async def _json(send: Any, payload: Any, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _streaming(hashing: Any, value: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            parts: list[tuple[Any, Any]] = []

            @event_loop_safe  # it only makes handlers
            def handler_for(part: Any) -> Any:
                handler = hashing(algorithms=("sha256",)) if part.is_file else value()
                parts.append((part, handler))
                return handler

            await fastmime.asgi.stream_request(scope, receive, handler_for, limits=limits)
            await _json(
                send,
                {
                    "files": [h.sha256 for p, h in parts if p.is_file],
                    "fields": sum(1 for p, _ in parts if not p.is_file),
                },
            )

        return app

    async def floor(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body", False):
            pass
        await _json(send, {"files": [], "fields": 0})

    async def _hash_upload(read: Any) -> str:
        digest = hashlib.sha256()
        while True:
            block = await read(MiB)
            if not block:
                return digest.hexdigest()
            digest.update(block)

    async def fastmime_form(scope: Any, receive: Any, send: Any) -> None:
        async with await fastmime.asgi.parse_form(scope, receive, limits=limits) as form:
            hashes = [await _hash_upload(upload.aread) for _, upload in form.files.multi_items()]
            fields = len(form.fields.multi_items())
        await _json(send, {"files": hashes, "fields": fields})  # closed first, as Starlette's endpoint does

    async def starlette_form(request: Request) -> JSONResponse:
        async with request.form(max_files=10_000, max_fields=10_000) as form:
            hashes = []
            fields = 0
            for _, value in form.multi_items():
                if isinstance(value, str):
                    fields += 1
                else:
                    hashes.append(await _hash_upload(value.read))
            return JSONResponse({"files": hashes, "fields": fields})

    starlette = Starlette(routes=[Route("/starlette", starlette_form, methods=["POST"])])
    routes = {
        "/floor": floor,
        "/fastmime": _streaming(HashingHandler, ValueHandler),
        "/fastmime-thread": _streaming(ThreadHashing, ThreadValue),
        "/fastmime-form": fastmime_form,
    }

    lag_samples: list[float] = []
    monitors: list[Any] = []

    def _watch_loop(loop: Any) -> None:
        # A thread posts a callback to the loop every LAG_INTERVAL and the callback notes how long it
        # waited: how long the loop was busy with something else, i.e. what any other request on this
        # server waits at that moment. Not a timer on the loop: uvloop's timers fire on whole milliseconds.
        def arrived(posted: float) -> None:
            lag_samples.append(time.perf_counter() - posted)

        while not loop.is_closed():
            try:
                loop.call_soon_threadsafe(arrived, time.perf_counter())
            except RuntimeError:  # the loop closed meanwhile
                return
            time.sleep(LAG_INTERVAL)

    async def lag(scope: Any, receive: Any, send: Any) -> None:
        """The loop lag samples since the last call (p50, p99 in ms), and a fresh start."""
        if not monitors:
            monitors.append(threading.Thread(target=_watch_loop, args=(asyncio.get_running_loop(),), daemon=True))
            monitors[0].start()
        values = sorted(lag_samples)
        lag_samples.clear()
        await _json(send, _percentiles(values))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in routes:
            await routes[scope["path"]](scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/lag":
            await lag(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/ping":
            await _json(send, "pong")
        elif scope["type"] == "http" and scope["path"] == "/pid":
            await _json(send, os.getpid())
        else:
            await starlette(scope, receive, send)

    return app


def _wsgi_server_app() -> Any:
    from werkzeug.wrappers import Request

    import fastmime
    import fastmime.wsgi
    from fastmime.handlers import HashingHandler, ValueHandler

    limits = fastmime.Limits(max_file_size=1 << 40, max_body_size=1 << 40)

    def _hash_file(f: Any) -> str:
        digest = hashlib.sha256()
        while block := f.read(MiB):
            digest.update(block)
        return digest.hexdigest()

    def floor(environ: Any) -> Any:
        read = environ["wsgi.input"].read
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
        while remaining > 0:
            block = read(min(remaining, fastmime.wsgi.CHUNK_SIZE))  # the read size fastmime uses
            if not block:
                break
            remaining -= len(block)
        return {"files": [], "fields": 0}

    def streaming(environ: Any) -> Any:
        parts: list[tuple[Any, Any]] = []

        def handler_for(part: Any) -> Any:
            handler = HashingHandler(algorithms=("sha256",)) if part.is_file else ValueHandler()
            parts.append((part, handler))
            return handler

        fastmime.wsgi.stream_request(environ, handler_for, limits=limits)
        return {"files": [h.sha256 for p, h in parts if p.is_file], "fields": sum(1 for p, _ in parts if not p.is_file)}

    def fastmime_form(environ: Any) -> Any:
        with fastmime.wsgi.parse_form(environ, limits=limits) as form:
            return {
                "files": [_hash_file(upload.file) for _, upload in form.files.multi_items()],
                "fields": len(form.fields.multi_items()),
            }

    def werkzeug_form(environ: Any) -> Any:
        request = Request(environ)
        request.max_form_parts = 100_000
        try:
            return {
                "files": [_hash_file(upload.stream) for _, upload in request.files.items(multi=True)],
                "fields": len(list(request.form.items(multi=True))),
            }
        finally:
            request.close()

    routes = {
        "/floor": floor,
        "/fastmime": streaming,
        "/fastmime-form": fastmime_form,
        "/werkzeug": werkzeug_form,
        "/ping": lambda environ: "pong",
        "/pid": lambda environ: os.getpid(),
    }

    def app(environ: Any, start_response: Any) -> Any:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        body = json.dumps(route(environ)).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


if os.environ.get("FASTMIME_BENCH_SERVER") == "uvicorn":
    app = _server_app()
elif os.environ.get("FASTMIME_BENCH_SERVER") == "gunicorn":
    wsgi_app = _wsgi_server_app()

# --------------------------------------------------------------------------------------------------
# Client side
# --------------------------------------------------------------------------------------------------


def _pattern(seed: int, size: int = MiB) -> bytes:
    """Incompressible-looking bytes with CR, LF and dashes in them (boundary look-alikes)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
        if counter % 97 == 0:
            out += b"\r\n--" + BOUNDARY[:10].encode()
    return bytes(out[:size])


def _part_header(name: str, filename: str | None = None, ctype: str | None = None) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    head += "\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return (head + "\r\n").encode()


CLOSE = f"--{BOUNDARY}--\r\n".encode()


@dataclass
class Workload:
    name: str
    requests: int
    concurrency: int
    body_size: int
    expected_files: list[str]
    expected_fields: int
    make_body: Any  # () -> bytes | async iterator of bytes
    interval: float | None = None  # seconds between request starts (paced); None: as fast as they finish


def photos_workload(count: int, name: str = "photos", interval: float | None = None) -> Workload:
    photo = _pattern(1, 3 * MiB)
    body = (
        _part_header("title")
        + b"holiday\r\n"
        + _part_header("tags")
        + b"sea beach\r\n"
        + _part_header("photo", "IMG_0001.jpg", "image/jpeg")
        + photo
        + b"\r\n"
        + CLOSE
    )
    return Workload(name, count, 8, len(body), [hashlib.sha256(photo).hexdigest()], 2, lambda: body, interval)


def fields_workload(count: int) -> Workload:
    body = b"".join(_part_header(f"field{i}") + f"value number {i} ok".encode() + b"\r\n" for i in range(200)) + CLOSE
    return Workload("fields", count, 16, len(body), [], 200, lambda: body)


def big_workload(size: int) -> Workload:
    block = _pattern(2, MiB)
    head = _part_header("video", "big.bin", "application/octet-stream")
    tail = b"\r\n" + CLOSE
    digest = hashlib.sha256()
    for _ in range(size // MiB):
        digest.update(block)

    async def stream() -> Any:
        yield head
        for _ in range(size // MiB):
            for i in range(0, MiB, 256 * 1024):
                yield block[i : i + 256 * 1024]
        yield tail

    return Workload("big", 1, 1, len(head) + size + len(tail), [digest.hexdigest()], 0, stream)


class Sampler:
    """Peak RSS of a process during a run: VmHWM after a reset, and sampled VmRSS as a check."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.hwm_reset = False

    def _status(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def rss(self) -> int:
        return self._status("VmRSS")

    def cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def start(self) -> None:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")  # reset VmHWM to the current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.peak_sampled = self.rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak_sampled = max(self.peak_sampled, self.rss())
            except OSError:
                return

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        peak = self.peak_sampled
        if self.hwm_reset:
            peak = max(peak, self._status("VmHWM"))
        return peak


@dataclass
class Result:
    contender: str
    workload: str
    requests: int
    seconds: float
    body_bytes: int
    cpu_seconds: float
    peak_rss_above_start: int
    ping_ms: tuple[float, float] | None = None  # the pinger's (p50, p99), milliseconds
    lag_ms: tuple[float, float] | None = None  # the server's event loop lag (p50, p99), milliseconds
    error: str | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def mbps(self) -> float:
        return self.body_bytes / self.seconds / 1e6 if self.seconds else 0.0


def _ping_loop(url: str, stop: Any, results: Any) -> None:
    """The pinger (its own process): GET /ping on one keep-alive connection every 5 ms until ``stop``."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        connection.request("GET", "/ping")
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        stop.wait(0.005)
    connection.close()
    results.put(latencies)


class Pinger:
    """Runs :func:`_ping_loop` in a separate process for the duration of a ``with`` block."""

    def __init__(self, url: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results = context.Queue()
        self._process = context.Process(target=_ping_loop, args=(url, self._stop, self._results), daemon=True)
        self.latencies: list[float] = []

    def __enter__(self) -> Pinger:
        self._process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        try:
            self.latencies = sorted(self._results.get(timeout=60))
        finally:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()

    def percentiles(self) -> tuple[float, float] | None:
        return _percentiles(self.latencies)


def _percentiles(values: list[float]) -> tuple[float, float] | None:
    """(p50, p99) in milliseconds of sorted ``values`` in seconds; None when there are none."""
    if not values:
        return None
    return (values[len(values) // 2] * 1000, values[min(len(values) - 1, int(len(values) * 0.99))] * 1000)


async def _run_workload(url: str, contender: str, work: Workload, sampler: Sampler, watch_loop: bool) -> Result:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=3600)
    connector = aiohttp.TCPConnector(limit=work.concurrency)
    errors: list[str] = []
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        sem = asyncio.Semaphore(work.concurrency)

        async def one() -> None:
            async with sem:
                data = work.make_body()
                headers = {"Content-Type": CTYPE, "Content-Length": str(work.body_size)}
                async with session.post(f"{url}/{contender}", data=data, headers=headers) as response:
                    text = await response.text()
                    if response.status != 200:
                        errors.append(f"HTTP {response.status}: {text[:200]}")
                        return
                    got = json.loads(text)
                    if contender in UNCHECKED:
                        return
                    if got["files"] != work.expected_files or got["fields"] != work.expected_fields:
                        errors.append(f"WRONG result: {text[:200]}")

        # one warm-up request outside the measurement (imports, first connections)
        if work.name != "big":
            await one()
            errors.clear()

        async def loop_lag() -> tuple[float, float] | None:
            if not watch_loop:
                return None
            async with session.get(f"{url}/lag") as response:
                got = await response.json()
            return (got[0], got[1]) if got else None

        with Pinger(url) as pinger:
            await asyncio.sleep(0.3)  # the pinger's process has started and connected
            await loop_lag()  # starts the server's loop monitor on the first call; drops older samples
            rss_start = sampler.rss()
            cpu_start = sampler.cpu()
            sampler.start()
            started = time.perf_counter()
            if work.interval is None:
                await asyncio.gather(*(one() for _ in range(work.requests)))
            else:  # the same offered load for every contender: request i starts at started + i * interval
                tasks = []
                for i in range(work.requests):
                    await asyncio.sleep(max(0.0, started + i * work.interval - time.perf_counter()))
                    tasks.append(asyncio.ensure_future(one()))
                await asyncio.gather(*tasks)
                if work.requests / (time.perf_counter() - started) < 0.95 / work.interval:
                    errors.append(f"fell behind the pace of {1 / work.interval:.0f}/s: loads are not equal")
            seconds = time.perf_counter() - started
            peak = sampler.stop()
            cpu = sampler.cpu() - cpu_start
            lag_ms = await loop_lag()
    return Result(
        contender,
        work.name,
        work.requests,
        seconds,
        work.body_size * work.requests,
        cpu,
        max(0, peak - rss_start),
        pinger.percentiles(),
        lag_ms,
        "; ".join(sorted(set(errors))[:3]) or None,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(server: str, tmpdir: str, threads: int) -> tuple[subprocess.Popen[bytes], str, int]:
    """Start the server; returns the process, its URL and the pid of the process that runs the app."""
    port = _free_port()
    env = dict(os.environ, FASTMIME_BENCH_SERVER=server, TMPDIR=tmpdir)
    here = Path(__file__).resolve().parent
    env["PYTHONPATH"] = os.pathsep.join([str(here), str(here.parent), env.get("PYTHONPATH", "")])
    if server == "uvicorn":
        cmd = [
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
            "--workers",
            "1",
            "compare_servers:app",
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--timeout",
            "600",
            "compare_servers:wsgi_app",
        ]
    process = subprocess.Popen(cmd, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            time.sleep(0.05)
            continue
        import urllib.request

        with urllib.request.urlopen(f"{url}/pid", timeout=30) as response:  # gunicorn: the worker's pid
            return process, url, int(json.loads(response.read()))
    process.kill()
    raise SystemExit("the server did not listen within 30 s")


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _median(runs: list[Result]) -> Result:
    """The run with the median wall time (its CPU and ping with it); the worst RSS of all runs; any error."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    middle = ordered[len(ordered) // 2]
    errors = [r.error for r in runs if r.error]
    return Result(
        middle.contender,
        middle.workload,
        middle.requests,
        middle.seconds,
        middle.body_bytes,
        middle.cpu_seconds,
        max(r.peak_rss_above_start for r in runs),
        middle.ping_ms,
        middle.lag_ms,
        errors[0] if errors else None,
    )


def _table(results: list[Result]) -> str:
    lines = [
        (
            f"{'workload':<8} {'contender':<16} {'req':>5} {'req/s':>9} {'MB/s':>9} {'CPU ms/req':>11} "
            f"{'ping p50':>9} {'ping p99':>9} {'lag p99':>8} {'peak RSS +MiB':>14}  note"
        )
    ]
    for r in results:
        note = r.error or ""
        p50, p99 = (f"{r.ping_ms[0]:.1f}", f"{r.ping_ms[1]:.1f}") if r.ping_ms else ("-", "-")
        lag99 = f"{r.lag_ms[1]:.1f}" if r.lag_ms else "-"
        lines.append(
            f"{r.workload:<8} {r.contender:<16} {r.requests:>5} {r.rps:>9.1f} {r.mbps:>9.1f} "
            f"{r.cpu_seconds / r.requests * 1000:>11.2f} {p50:>9} {p99:>9} {lag99:>8} "
            f"{r.peak_rss_above_start / MiB:>14.1f}  {note}"
        )
    return "\n".join(lines)


def _verdicts(runs: dict[str, dict[str, list[Result]]], server: str) -> list[str]:
    """Each target as the median of the ratios of the same repeat (contenders interleaved round-robin, so
    each repeat's pair saw the same machine load): steadier than a ratio of medians on a shared machine."""
    baseline = BASELINE[server]
    out = []

    def pairs(workload: str, contender: str) -> list[tuple[Result, Result]]:
        mine, theirs = runs.get(workload, {}).get(contender, []), runs.get(workload, {}).get(baseline, [])
        return [(a, b) for a, b in zip(mine, theirs) if not a.error and not b.error]

    def check(label: str, values: list[float], target: float, higher_is_better: bool = True) -> None:
        if not values:
            return
        values = sorted(values)
        middle = statistics.median(values)
        met = middle >= target if higher_is_better else middle <= target
        out.append(
            f"{label} = {middle:.2f}x (median of {len(values)} same-repeat ratios, "
            f"{values[0]:.2f}-{values[-1]:.2f}; target {'>=' if higher_is_better else '<='} {target}x): "
            f"{'MET' if met else 'NOT MET'}"
        )

    if server == "uvicorn":
        speed_targets = [
            ("photos", "fastmime", "mbps", 2.0),
            ("photos", "fastmime-form", "mbps", 1.5),
            ("big", "fastmime", "mbps", 1.5),
            ("fields", "fastmime", "rps", 2.0),
        ]
        cpu_targets = [("photos", "fastmime", 1.5), ("photos", "fastmime-form", 1.5)]
    else:
        speed_targets = [("photos", "fastmime-form", "mbps", 1.5)]
        cpu_targets = [("photos", "fastmime-form", 1.5)]
    for workload, contender, attr, target in speed_targets:
        unit = "MB/s" if attr == "mbps" else "req/s"
        check(
            f"{workload}: {contender}/{baseline} {unit}",
            [getattr(a, attr) / getattr(b, attr) for a, b in pairs(workload, contender) if getattr(b, attr)],
            target,
        )
    for workload, contender, target in cpu_targets:
        check(
            f"{workload}: {baseline}/{contender} CPU per request",
            [b.cpu_seconds / a.cpu_seconds for a, b in pairs(workload, contender) if a.cpu_seconds],
            target,
        )
    if server == "uvicorn":
        for workload in ("photos", "photos-paced"):
            for contender in ("fastmime", "fastmime-form"):
                check(
                    f"{workload}: ping p99 during {contender} / during {baseline}",
                    [a.ping_ms[1] / b.ping_ms[1] for a, b in pairs(workload, contender) if a.ping_ms and b.ping_ms],
                    1.0,
                    higher_is_better=False,
                )
                check(
                    f"{workload}: event loop lag p99 during {contender} / during {baseline}",
                    [a.lag_ms[1] / b.lag_ms[1] for a, b in pairs(workload, contender) if a.lag_ms and b.lag_ms],
                    1.0,
                    higher_is_better=False,
                )
    bigs = [r for r in runs.get("big", {}).get("fastmime", []) if not r.error]
    if bigs:
        mib = max(r.peak_rss_above_start for r in bigs) / MiB
        out.append(
            f"big: fastmime server peak RSS +{mib:.1f} MiB above the start of the run, worst of "
            f"{len(bigs)} (target < 64 MiB): {'MET' if mib < 64 else 'NOT MET'}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts and a 128 MiB big file")
    parser.add_argument(
        "--server",
        choices=sorted(CONTENDERS),
        default="uvicorn",
        help="uvicorn (ASGI contenders) or gunicorn (WSGI contenders)",
    )
    parser.add_argument("--only", default="photos,photos-paced,big,fields", help="workloads, comma-separated")
    parser.add_argument("--contenders", default=None, help="contenders, comma-separated (default: all of the server's)")
    parser.add_argument("--big-mib", type=int, default=None, help="size of the big file in MiB")
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per contender (median kept; default 3, --quick 1)"
    )
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()

    big_mib = args.big_mib or (128 if args.quick else 1024)
    repeats = args.repeats or (1 if args.quick else 3)
    makers = {
        "photos": lambda: photos_workload(48 if args.quick else 160),
        "photos-paced": lambda: photos_workload(48 if args.quick else 120, "photos-paced", PACED_INTERVAL),
        "big": lambda: big_workload(big_mib * MiB),
        "fields": lambda: fields_workload(300 if args.quick else 1500),
    }
    workloads = [makers[name]() for name in args.only.split(",")]
    contenders = args.contenders.split(",") if args.contenders else CONTENDERS[args.server]
    unknown = set(contenders) - set(CONTENDERS[args.server])
    if unknown:
        parser.error(f"unknown contenders for {args.server}: {', '.join(sorted(unknown))}")

    import fastmime

    server = (
        "uvicorn, one worker"
        if args.server == "uvicorn"
        else f"gunicorn, one gthread worker, {max(w.concurrency for w in workloads)} threads"
    )
    print(
        f"fastmime {fastmime.__version__} ({fastmime.IMPLEMENTATION}), python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; {server}; client aiohttp in this process, pinger in another"
    )
    with tempfile.TemporaryDirectory(prefix="fastmime-bench-") as tmpdir:
        process, url, pid = _start_server(args.server, tmpdir, max(w.concurrency for w in workloads))
        sampler = Sampler(pid)
        results: list[Result] = []
        all_runs: dict[str, dict[str, list[Result]]] = {}
        try:
            time.sleep(0.5)
            print(
                f"server pid {pid}, idle RSS {sampler.rss() / MiB:.1f} MiB, "
                f"VmHWM reset {'available' if os.path.exists(f'/proc/{pid}/clear_refs') else 'unavailable'}"
            )
            for work in workloads:
                runs: dict[str, list[Result]] = {c: [] for c in contenders}
                for repeat in range(repeats):  # round-robin: machine noise hits every contender alike
                    for contender in contenders:
                        result = asyncio.run(_run_workload(url, contender, work, sampler, args.server == "uvicorn"))
                        runs[contender].append(result)
                        print(
                            f"  [{repeat + 1}/{repeats}] {work.name:<7} {contender:<16} {result.rps:8.1f} req/s "
                            f"{result.mbps:8.1f} MB/s  CPU {result.cpu_seconds / result.requests * 1000:6.2f} ms/req"
                            f"{f'  loop lag p99 {result.lag_ms[1]:5.1f} ms' if result.lag_ms else ''}"
                            f"{'  ' + result.error if result.error else ''}",
                            flush=True,
                        )
                for contender in contenders:
                    results.append(_median(runs[contender]))
                all_runs[work.name] = runs
        finally:
            _stop_server(process)
    print()
    print(_table(results))
    print()
    for line in _verdicts(all_runs, args.server):
        print(line)
    if args.json:
        with open(args.json, "w") as out:
            json.dump([r.__dict__ for r in results], out, indent=2)


if __name__ == "__main__":
    main()
