"""Load benchmark of the reference service against a baseline built the usual way, in the same run.

Uploads N camera-sized JPEGs (12 MP, generated with Pillow) with 4 concurrent clients to each API of
``photoservice serve`` (up.photos.upload and uploadPhotos), and to a baseline service: Starlette
``request.form()`` + naive Pillow renditions (full decode, three resizes) + the same storage (LocalFileStore
and SQLite). Each server runs in its own process on 127.0.0.1 (a free port); peak RSS is the server
process's VmHWM. Prints uploads/s, p50/p99 latency, peak RSS, and the ratios to the baseline.

It also prints what the service costs beyond the image work: the server's CPU time (user + system, from
/proc) per uploadPhotos upload of one photo per request, sent one after the other, against the CPU time of
``imgpipe.process_image`` alone on the same photos (the same renditions, in a fresh process).

The service runs on the backends given (``--database``, ``--storage``, ``--s3-endpoint-url``, ``--workers``,
as for ``photoservice serve``); ``--scale`` instead measures, in one run, SQLite + folder and PostgreSQL + S3
(a throwaway PostgreSQL cluster and moto_server started here, the tests' helpers), each with 1 and 2
workers, through uploadPhotos, beside the baseline: uploads/s, p50/p99, the peak RSS of the largest service
process (a worker), and the CPU per upload of the service and of the PostgreSQL + moto_server processes.

    python benchmarks/service_load.py            # 200 x 12 MP
    python benchmarks/service_load.py --quick    # 24 x 2 MP, a smoke run
    python benchmarks/service_load.py --cpu-only # only the CPU comparison
    python benchmarks/service_load.py --scale    # 60 x 12 MP per configuration
    python benchmarks/service_load.py --database postgresql://... --storage s3://bucket/prefix --workers 4
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.photoservice.backends import free_port, stop_process  # noqa: E402 - the tests' server helpers

BASELINE = textwrap.dedent('''
    """Baseline: Starlette request.form() + naive Pillow + the same storage."""
    import io, json, os, secrets, sqlite3, threading
    from PIL import Image
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from photoservice.storage.files import new_file_key, new_stem
    from photoservice.storage.local import LocalFileStore

    DATA = os.environ["BASELINE_DATA"]
    files = LocalFileStore(os.path.join(DATA, "files"))
    local = threading.local()

    def db():
        if not hasattr(local, "c"):
            local.c = sqlite3.connect(os.path.join(DATA, "b.sqlite3"), timeout=30, isolation_level=None)
            local.c.execute("PRAGMA journal_mode=WAL")
            local.c.execute("CREATE TABLE IF NOT EXISTS photos (id TEXT, caption TEXT, keys TEXT)")
        return local.c

    def process(data, caption):
        im = Image.open(io.BytesIO(data))
        im.load()
        stem = new_stem()
        keys = []
        for name, box in (("src_small", (75, 225)), ("src", (130, 130)), ("src_big", (604, 604))):
            r = im.convert("RGB")
            r.thumbnail(box)
            out = io.BytesIO()
            r.save(out, "JPEG", quality=85)
            key = new_file_key(stem, name, "jpeg")
            files.put(key, io.BytesIO(out.getvalue()), out.tell())
            keys.append(key)
        db().execute("INSERT INTO photos VALUES (?, ?, ?)", (stem, caption, json.dumps(keys)))
        return stem

    async def upload(request):
        form = await request.form()
        data = await form["data"].read()
        pid = await run_in_threadpool(process, data, form.get("caption", ""))
        return JSONResponse({"pid": pid})

    app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
''')


def make_images(count: int, megapixels: float) -> list[bytes]:
    """Distinct camera-like JPEGs (noise over gradients, so they compress like photos)."""
    w = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    out = []
    rng = random.Random(7)
    for i in range(count):
        base = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        noise = Image.effect_noise((w, h), 40 + i).convert("RGB")
        im = Image.blend(base, noise, 0.5)
        tint = Image.new("RGB", (w, h), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        im = Image.blend(im, tint, 0.3)
        buf = io.BytesIO()
        exif = Image.Exif()
        exif[0x010F] = "Bench"
        exif[0x0110] = "Cam 12"
        im.save(buf, "JPEG", quality=90, exif=exif.tobytes())
        out.append(buf.getvalue())
    return out


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process (Linux), MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_load(n: int, clients: int, send) -> tuple[float, list[float], int]:  # type: ignore[no-untyped-def]
    """Run ``send(i, http)`` for i in range(n) on ``clients`` threads; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def worker(k: int) -> None:
        nonlocal failures
        with httpx.Client(timeout=300) as http:
            for i in range(k, n, clients):
                t0 = time.perf_counter()
                ok = send(i, http)
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    failures += 0 if ok else 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return time.perf_counter() - t0, latencies, failures


def report(name: str, seconds: float, lat: list[float], failures: int, rss: float, n: int) -> dict:
    lat = sorted(lat)
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    row = {
        "name": name,
        "uploads_per_s": n / seconds,
        "p50_ms": p50 * 1000,
        "p99_ms": p99 * 1000,
        "peak_rss_mb": rss,
        "failures": failures,
    }
    print(
        f"{name:<44} {row['uploads_per_s']:8.2f}/s  p50 {row['p50_ms']:8.1f} ms  p99 {row['p99_ms']:8.1f} ms"
        f"  peak RSS {rss:8.1f} MiB  failures {failures}"
    )
    return row


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User + system CPU time of a process so far (Linux /proc), seconds; ``reaped``: with that of its
    children that exited (a server's finished connection processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


PROCESS_ALONE = textwrap.dedent("""
    import sys, time, imgpipe
    images = [open(p, "rb").read() for p in sys.argv[1:]]
    for data in images:  # warm up: imports, allocator
        imgpipe.process_image(data, imgpipe.YAHOO_RENDITIONS)
    print("ready", flush=True)
    for line in sys.stdin:  # "N": process N images, answer the CPU seconds per image
        rounds = int(line)
        t0 = time.process_time()
        for i in range(rounds):
            imgpipe.process_image(images[i % len(images)], imgpipe.YAHOO_RENDITIONS)
        print((time.process_time() - t0) / rounds, flush=True)
""")


# The HTTP server's own cost of receiving an upload: uvicorn (same loop and parser as photoservice serve)
# with an app that reads the body and throws it away.
RECEIVE_ONLY = textwrap.dedent("""
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
""")


def receive_only_cpu(images: list[bytes], per_round: int, rounds: int, tmp: str, env: dict[str, str]) -> float:
    """Median CPU seconds per upload of uvicorn receiving the same uploadPhotos requests into a no-op app."""
    (Path(tmp) / "receive_only.py").write_text(RECEIVE_ONLY)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "receive_only:app", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=tmp,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    cpus = []
    try:
        wait_up(base + "/", proc)
        with httpx.Client(timeout=300) as http:

            def send(i: int) -> None:
                http.post(
                    base + "/V3.0/uploadPhotos",
                    params={"caption0": "x"},
                    files={"pic0": ("photo.jpg", images[i % len(images)], "image/jpeg")},
                )

            for i in range(len(images)):
                send(i)
            for _ in range(rounds):
                cpu0 = cpu_seconds(proc.pid)
                for i in range(per_round):
                    send(i)
                cpus.append((cpu_seconds(proc.pid) - cpu0) / per_round)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return statistics.median(cpus)


class ProcessAlone:
    """A process that runs ``imgpipe.process_image`` on the same images, on request, and reports its CPU."""

    def __init__(self, images: list[bytes], tmp: str, env: dict[str, str]) -> None:
        paths = []
        for i, data in enumerate(images):
            path = Path(tmp) / f"alone{i}.jpg"
            path.write_bytes(data)
            paths.append(str(path))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROCESS_ALONE, *paths],
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def cpu_per_image(self, rounds: int) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{rounds}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def sign(args: dict[str, str], secret: str) -> str:
    return hashlib.md5(("".join(f"{k}={args[k]}" for k in sorted(args)) + secret).encode()).hexdigest()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``serve --workers N``: the supervisor and its worker processes)."""
    found = [pid]
    for tid in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else ():
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(process_tree(int(child)))
    return found


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of these processes and all their descendants, living or exited."""
    total = 0.0
    for root in roots:
        for pid in process_tree(root):
            try:
                total += cpu_seconds(pid, reaped=True)
            except OSError:
                continue
    return total


@dataclass
class Backends:
    """Where ``photoservice serve`` keeps its data in one measurement."""

    label: str
    database: str | None = None
    storage: str | None = None
    s3_endpoint_url: str | None = None
    workers: int = 1

    def args(self) -> list[str]:
        out = []
        for option, value in (
            ("--database", self.database),
            ("--storage", self.storage),
            ("--s3-endpoint-url", self.s3_endpoint_url),
        ):
            if value:
                out += [option, value]
        return out


def measure_service(
    backends: Backends,
    images: list[bytes],
    n: int,
    clients: int,
    tmp: str,
    env: dict[str, str],
    apis: tuple[str, ...] = ("platform", "yahoo"),
    cpu_rounds: Callable[[int, Callable[[int, httpx.Client], bool]], None] | None = None,
    others: dict[str, int] | None = None,
) -> list[dict]:
    """Run ``photoservice serve`` on these backends under load; the report rows.

    ``cpu_rounds(pid, yahoo_send)`` then runs while the server is still up; ``others``: processes whose CPU
    time the run also reports (the database and storage servers)."""
    data = Path(tmp) / f"svc-{backends.label.replace(' ', '-')}"
    cli = [sys.executable, "-m", "photoservice"]

    def admin(*a: str) -> dict:
        out = subprocess.run(
            [*cli, *a, "--data", str(data), *backends.args()],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        ).stdout
        return json.loads(out.splitlines()[-1])

    app = admin("create-app", f"bench-{secrets.token_hex(3)}", "--permission", "photo_upload")
    user = f"bench-{secrets.token_hex(3)}"
    admin("create-user", user, "--password", "bench")
    community = f"bench-{secrets.token_hex(3)}"
    admin("create-community", community)
    port = free_port()
    proc = subprocess.Popen(
        [
            *cli,
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--log-level",
            "warning",
            "--application-album-limit",
            str(10 * n),
            "--workers",
            str(backends.workers),
            *backends.args(),
        ],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    rows = []
    others = others or {}
    try:
        wait_up(base + "/health", proc)
        login = {
            "method": "up.auth.login",
            "api_key": app["api_key"],
            "username": user,
            "password": "bench",
            "format": "JSON",
        }
        login["sig"] = sign(login, app["secret"])
        sessions = [httpx.post(base + "/restserver.php", data=login).json()["session_key"] for _ in range(clients)]
        counters = [time.time()] * clients

        def platform_send(i: int, http: httpx.Client) -> bool:
            k = i % clients
            counters[k] += 0.001
            a = {
                "method": "up.photos.upload",
                "api_key": app["api_key"],
                "session_key": sessions[k],
                "call_id": f"{counters[k]:.6f}",
                "community": community,
                "caption": f"photo {i}",
                "format": "JSON",
            }
            a["sig"] = sign(a, app["secret"])
            resp = http.post(
                base + "/restserver.php", data=a, files={"data": ("photo.jpg", images[i % len(images)], "image/jpeg")}
            )
            return resp.status_code == 200 and "pid" in resp.json()

        signed_in = httpx.post(
            base + "/V3.0/login",
            data={"appid": app["api_key"], "username": user, "password": "bench", "output": "json"},
        )
        y = {"WSSID": signed_in.json()["LoginResponse"]["WSSID"], "Cookie": signed_in.cookies["Y"]}

        def yahoo_send(i: int, http: httpx.Client) -> bool:
            resp = http.post(
                base + "/V3.0/uploadPhotos",
                params={"appid": app["api_key"], "WSSID": y["WSSID"], "caption0": f"photo {i}"},
                headers={"cookie": f"Y={y['Cookie']}"},
                files={"pic0": ("photo.jpg", images[i % len(images)], "image/jpeg")},
            )
            return resp.status_code == 200

        workers_note = f", {backends.workers} workers" if backends.workers > 1 else ""
        for api, send in (("platform", platform_send), ("yahoo", yahoo_send)):
            if api not in apis:
                continue
            others_cpu0, own_cpu0 = {name: tree_cpu([pid]) for name, pid in others.items()}, tree_cpu([proc.pid])
            secs, lat, fail = run_load(n, clients, send)
            own_cpu = (tree_cpu([proc.pid]) - own_cpu0) / n * 1000
            pids = process_tree(proc.pid)
            # the heaviest process: a worker (the supervisor of --workers N only watches them)
            rss = max(peak_rss_mb(pid) for pid in pids)
            name = f"{backends.label}{workers_note} {'up.photos.upload' if api == 'platform' else 'uploadPhotos'}"
            row = report(name, secs, lat, fail, rss, n)
            row["service_cpu_per_upload_ms"] = own_cpu
            note = f"{'':<44} CPU per upload: service {own_cpu:.0f} ms"
            for other, pid in others.items():
                row[f"{other}_cpu_per_upload_ms"] = spent = (tree_cpu([pid]) - others_cpu0[other]) / n * 1000
                note += f", {other} {spent:.0f} ms"
            print(note, flush=True)
            rows.append(row)
        if cpu_rounds is not None:
            cpu_rounds(proc.pid, yahoo_send)
    finally:
        stop_process(proc, timeout=30)
    return rows


def measure_baseline(images: list[bytes], n: int, clients: int, tmp: str, env: dict[str, str]) -> dict:
    """Starlette + naive Pillow + LocalFileStore/SQLite under the same load."""
    bdata = Path(tmp) / "baseline"
    bdata.mkdir()
    (Path(tmp) / "baseline_app.py").write_text(BASELINE)
    port = free_port()
    benv = dict(env, BASELINE_DATA=str(bdata), PYTHONPATH=tmp + os.pathsep + env["PYTHONPATH"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(port), "--log-level", "warning"],
        env=benv,
        cwd=tmp,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/", proc)

        def baseline_send(i: int, http: httpx.Client) -> bool:
            resp = http.post(
                base + "/upload",
                data={"caption": f"photo {i}"},
                files={"data": ("photo.jpg", images[i % len(images)], "image/jpeg")},
            )
            return resp.status_code == 200

        secs, lat, fail = run_load(n, clients, baseline_send)
        return report("baseline starlette+pillow", secs, lat, fail, peak_rss_mb(proc.pid), n)
    finally:
        stop_process(proc, timeout=30)


def scale_runs(images: list[bytes], n: int, clients: int, tmp: str, env: dict[str, str]) -> list[dict]:
    """sqlite+file and postgresql+s3, each with 1 and 2 workers (uploadPhotos), on servers started here."""
    from tests.photoservice.backends import PostgresCluster, S3Endpoint, ServerUnavailable

    rows = []
    try:
        cluster = PostgresCluster(os.environ.get("PHOTOSERVICE_TEST_POSTGRES_URL")).start()
    except ServerUnavailable as exc:
        raise SystemExit(f"--scale needs PostgreSQL: {exc}") from exc
    endpoint = S3Endpoint()
    try:
        endpoint.start()
        env = dict(
            env,
            **{
                k: os.environ[k]
                for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
                if k in os.environ
            },
        )
        others = {"moto_server": endpoint.pid} if endpoint.pid else {}
        if cluster.folder is not None:  # the postmaster (its connection processes are its children)
            others["PostgreSQL"] = int((cluster.folder / "data" / "postmaster.pid").read_text().split()[0])
        for workers in (1, 2):
            for kind in ("sqlite+file", "postgresql+s3"):
                if kind == "sqlite+file":
                    backends = Backends(kind, workers=workers)
                else:
                    backends = Backends(
                        kind,
                        database=cluster.new_schema(),
                        storage=endpoint.storage_url(),
                        s3_endpoint_url=endpoint.url,
                        workers=workers,
                    )
                got = measure_service(
                    backends,
                    images,
                    n,
                    clients,
                    tmp,
                    env,
                    apis=("yahoo",),
                    others=others if kind != "sqlite+file" else None,
                )
                rows.extend(got)
                if backends.storage:  # moto keeps objects in memory: empty the prefix before the next run
                    client = endpoint.client()
                    names = endpoint.objects(backends.storage)
                    for start in range(0, len(names), 1000):
                        client.delete_objects(
                            Bucket=endpoint.bucket,
                            Delete={"Objects": [{"Key": k} for k in names[start : start + 1000]]},
                        )
    finally:
        endpoint.stop()
        cluster.stop()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="24 uploads of 2 MP images (smoke run)")
    ap.add_argument("--uploads", type=int, default=None, help="uploads per service (default 200; quick 24)")
    ap.add_argument("--megapixels", type=float, default=None, help="image size (default 12; quick 2)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU per upload, service vs imgpipe alone")
    ap.add_argument("--cpu-uploads", type=int, default=None, help="uploads timed for CPU (default 40; quick 12)")
    ap.add_argument("--database", default=None, metavar="URL", help="photoservice's database (default: SQLite)")
    ap.add_argument("--storage", default=None, metavar="URL", help="photoservice's storage (default: a folder)")
    ap.add_argument("--s3-endpoint-url", default=None, metavar="URL", help="S3-compatible server of --storage")
    ap.add_argument("--workers", type=int, default=1, help="photoservice worker processes (default 1)")
    ap.add_argument(
        "--scale",
        action="store_true",
        help="sqlite+file and postgresql+s3 (a throwaway cluster and moto_server started here), each "
        "with 1 and 2 workers, uploadPhotos, beside the baseline",
    )
    args = ap.parse_args()
    n = args.uploads or (24 if args.quick else (60 if args.scale else 200))
    mp = args.megapixels or (2.0 if args.quick else 12.0)
    print(f"generating images ({mp} MP) ...", flush=True)
    images = make_images(min(8, n), mp)
    print(
        f"{n} uploads per service, {args.clients} clients, JPEG sizes "
        f"{min(map(len, images)) // 1024}-{max(map(len, images)) // 1024} KiB",
        flush=True,
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        if args.scale:
            rows = scale_runs(images, n, args.clients, tmp, env)
        else:
            label = "photoservice" if not (args.database or args.storage) else "photoservice (given backends)"
            backends = Backends(label, args.database, args.storage, args.s3_endpoint_url, args.workers)
            m = args.cpu_uploads or (12 if args.quick else 40)
            rounds, per_round = 5, max(2, m // 5)
            service_cpus: list[float] = []
            alone_cpus: list[float] = []

            def cpu_rounds(pid: int, yahoo_send: Callable[[int, httpx.Client], bool]) -> None:
                # CPU per upload: one photo per request, one request at a time, after a warm-up, in rounds
                # that alternate with imgpipe alone on the same photos (both see the same machine load).
                alone = ProcessAlone(images, tmp, env)
                try:
                    with httpx.Client(timeout=300) as http:
                        for i in range(len(images)):
                            assert yahoo_send(i, http)
                        for _ in range(rounds):
                            cpu0 = tree_cpu([pid])
                            for i in range(per_round):
                                assert yahoo_send(i, http)
                            service_cpus.append((tree_cpu([pid]) - cpu0) / per_round)
                            alone_cpus.append(alone.cpu_per_image(per_round))
                finally:
                    alone.close()

            rows = measure_service(
                backends,
                images,
                n,
                args.clients,
                tmp,
                env,
                apis=() if args.cpu_only else ("platform", "yahoo"),
                cpu_rounds=cpu_rounds,
            )
            service_cpu, alone_cpu = statistics.median(service_cpus), statistics.median(alone_cpus)
            ratios = sorted(sv / al for sv, al in zip(service_cpus, alone_cpus))
            receive_cpu = receive_only_cpu(images, per_round, rounds, tmp, env)
            print(
                f"\nserver CPU per uploadPhotos upload (1 photo, {mp} MP, {rounds} rounds of {per_round}, "
                f"medians):\n"
                f"  photoservice                        {service_cpu * 1000:7.1f} ms\n"
                f"  imgpipe.process_image alone         {alone_cpu * 1000:7.1f} ms  (alternating with the above)\n"
                f"  uvicorn receiving the same requests {receive_cpu * 1000:7.1f} ms  (into an app that drops them)\n"
                f"  the service adds {(statistics.median(ratios) - 1) * 100:+.0f}% to imgpipe alone (rounds: "
                f"{', '.join(f'{(r - 1) * 100:+.0f}%' for r in ratios)}); beyond what the HTTP server costs to "
                f"receive the bytes: {((service_cpu - receive_cpu) / alone_cpu - 1) * 100:+.0f}%",
                flush=True,
            )
            if args.cpu_only:
                return 0
        baseline = measure_baseline(images, n, args.clients, tmp, env)
    print()
    for row in rows:
        print(
            f"{row['name']:<44} throughput x{row['uploads_per_s'] / baseline['uploads_per_s']:.2f} of baseline, "
            f"peak RSS x{row['peak_rss_mb'] / baseline['peak_rss_mb']:.2f} of baseline"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
