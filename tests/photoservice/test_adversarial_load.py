"""A bounded adversarial load (issue 11): unauthenticated stalled uploads, trickling clients and very large
images at the same time as legitimate uploads through both APIs, against ``photoservice serve`` (a real
uvicorn process on 127.0.0.1) with small budgets. Legitimate uploads succeed; the spool space of requests
not yet authorized and the process's memory stay within their budgets; nothing is left afterwards."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from .client import PlatformClient, YahooClient, error_code, make_jpeg, multipart
from .conftest import free_port

pytestmark = pytest.mark.backends("sqlite+file")

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
BUDGET = 16 * MiB


def spooled_bytes(pid: int, tmp: Path) -> int:
    """Bytes of the files the server holds open in its temporary folder (spools have no name: only /proc
    still sees them)."""
    total = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith(str(tmp)):
                total += os.stat(fd).st_size
        except OSError:
            continue
    return total


def vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes], Path]]:
    data, spool = tmp_path / "data", tmp_path / "spool"
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool), "PHOTOSERVICE_DATA": str(data)}
    cli = [sys.executable, "-m", "photoservice"]

    def admin(*args: str) -> dict[str, Any]:
        out = subprocess.run([*cli, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return json.loads(out.splitlines()[-1])

    app = admin("create-app", "trusted", "--permission", "photo_upload")
    admin("create-user", "alice", "--password", "wonderland")
    admin("create-community", "mycommunity")
    port = free_port()
    proc = subprocess.Popen(
        [
            *cli,
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--unauthorized-budget-bytes",
            str(BUDGET),
            "--uploads-per-address",
            "4",
            "--body-idle-timeout",
            "2",
            "--body-min-rate",
            "4096",
            "--body-rate-grace",
            "2",
            "--decode-budget-pixels",
            "40000000",
            "--max-image-pixels",
            "40000000",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "photoservice serve did not start"
            time.sleep(0.1)
        (tmp_path / "app.json").write_text(json.dumps(app))
        yield base, spool, proc, data
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stalled_upload(port: int, source: str, sent_bytes: int) -> str:
    """No credentials, a 45 MB Content-Length, ``sent_bytes`` of an image part, then silence."""
    head = b'--b\r\nContent-Disposition: form-data; name="data"; filename="x.jpg"\r\n\r\n'
    with socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=30) as s:
        s.sendall(
            b"POST /restserver.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            b"boundary=b\r\nContent-Length: 45000000\r\n\r\n" + head
        )
        try:
            s.sendall(os.urandom(sent_bytes))
        except OSError:
            pass
        return s.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")


def trickle(port: int, source: str) -> str:
    """A body at 40 bytes/s."""
    with socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=30) as s:
        s.sendall(
            b"POST /restserver.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            b"boundary=b\r\nContent-Length: 100000\r\n\r\n"
        )
        s.settimeout(0.1)
        for _ in range(300):
            try:
                s.sendall(b"x" * 4)
                line = s.recv(200)
                if line:
                    return line.split(b"\r\n", 1)[0].decode(errors="replace")
            except TimeoutError:
                continue
            except OSError:
                return "closed"
        return "still open"


def big_png() -> bytes:
    im = Image.new("RGB", (6000, 6000), (30, 60, 90))
    draw = ImageDraw.Draw(im)
    for i in range(0, 6000, 300):
        draw.line((0, i, 6000, 6000 - i), fill=(250, 200, 0), width=7)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_legitimate_uploads_succeed_under_attack(
    server: tuple[str, Path, subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    base, spool, proc, data = server
    port = int(base.rsplit(":", 1)[1])
    app = json.loads((tmp_path / "app.json").read_text())
    results: dict[str, list[Any]] = {"stalled": [], "trickle": [], "yahoo": [], "platform": [], "big": []}
    peaks = {"spool": 0, "rss": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peaks["spool"] = max(peaks["spool"], spooled_bytes(proc.pid, spool))
            time.sleep(0.05)

    y = YahooClient(app["api_key"])
    body, headers = y.login_form("alice", "wonderland")
    y.take_login(httpx.post(base + "/V3.0/login", content=body, headers=headers))
    photo = make_jpeg(1600, 1200)
    png = big_png()

    def client(address: str) -> httpx.Client:  # each legitimate user has an address of their own
        return httpx.Client(timeout=120, transport=httpx.HTTPTransport(local_address=address))

    def yahoo(files: list, key: str, address: str) -> None:
        form, ctype = multipart([], files)
        with client(address) as http:
            resp = http.post(
                base + "/V3.0/uploadPhotos",
                params=y.query(caption0="x"),
                content=form,
                headers={"content-type": ctype, **y.headers()},
            )
        results[key].append(resp.status_code)

    def platform(address: str) -> None:
        c = PlatformClient(app["api_key"], app["secret"])
        with client(address) as http:
            login, headers = c.form(
                "up.auth.login", with_session=False, username="alice", password="wonderland", format="JSON"
            )
            c.session_key = http.post(base + "/restserver.php", content=login, headers=headers).json()["session_key"]
            form, headers = c.upload(photo, community="mycommunity", format="JSON")
            results["platform"].append(error_code(http.post(base + "/restserver.php", content=form, headers=headers)))

    threads = [threading.Thread(target=watch)]
    threads += [
        threading.Thread(
            target=lambda i=i: results["stalled"].append(stalled_upload(port, f"127.0.0.{2 + i % 4}", 2 * MiB))
        )
        for i in range(12)
    ]
    threads += [
        threading.Thread(target=lambda i=i: results["trickle"].append(trickle(port, f"127.0.1.{1 + i}")))
        for i in range(6)
    ]
    threads += [
        threading.Thread(target=yahoo, args=([("p", "big.png", png)], "big", f"127.0.2.{1 + i}")) for i in range(2)
    ]
    threads += [
        threading.Thread(target=yahoo, args=([("p", "a.jpg", photo)], "yahoo", f"127.0.3.{1 + i}")) for i in range(3)
    ]
    threads += [threading.Thread(target=platform, args=(f"127.0.4.{1 + i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join(90)
    stop.set()
    threads[0].join()
    peaks["rss"] = vm(proc.pid, "VmHWM")
    print(
        f"adversarial load: results {results}, peak unauthorized+legit spool {peaks['spool'] // 1024} KiB, "
        f"peak RSS {peaks['rss'] // MiB} MiB"
    )

    assert results["yahoo"] == [200] * 3 and results["platform"] == [None] * 3
    assert results["big"] == [200, 200]
    # 12 x 2 MiB without credentials against a 16 MiB budget: some refused at once (503), the rest cut by the
    # idle timeout (408) -- none held on to
    assert len(results["stalled"]) == 12 and all(" 503 " in r or " 408 " in r for r in results["stalled"])
    assert any(" 503 " in r for r in results["stalled"])
    assert len(results["trickle"]) == 6 and all(" 408 " in r for r in results["trickle"]), results["trickle"]
    # unauthorized spool within its budget, plus the legitimate uploads' spools (5 pictures, 2 of them PNG)
    assert peaks["spool"] <= BUDGET + 3 * len(photo) + 2 * len(png) + MiB, peaks
    # two 36 MP PNGs decode one after the other within a 40 MP budget (about 3.5 bytes per pixel)
    assert peaks["rss"] < 400 * MiB, peaks
    time.sleep(0.5)
    assert spooled_bytes(proc.pid, spool) == 0 and list(spool.iterdir()) == []
    fsck = subprocess.run(
        [sys.executable, "-m", "photoservice", "fsck", "--grace", "0", "--data", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
