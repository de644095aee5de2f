"""The WSGI entry point serves the same logic; the command line starts, refuses and administers."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .client import PlatformClient, YahooClient, make_jpeg, multipart


def wsgi_call(
    app: Any, method: str, path: str, query: str = "", body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    if "?" in path:
        path, query = path.split("?", 1)
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "wsgi.test",
        "SERVER_NAME": "wsgi.test",
        "SERVER_PORT": "80",
    }
    for k, v in (headers or {}).items():
        key = k.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = v
    got: dict[str, Any] = {}

    def start_response(status: str, hdrs: list) -> None:
        got["status"] = int(status.split()[0])
        got["headers"] = {k.lower(): v for k, v in hdrs}

    out = b"".join(app(environ, start_response))
    return got["status"], got["headers"], out


def test_wsgi_both_apis(service: Any, world: dict) -> None:
    from photoservice import WSGIApp

    app = WSGIApp(service)
    c = PlatformClient(world["app"].api_key, world["app"].secret)
    body, headers = c.form("up.auth.login", with_session=False, username="alice", password="wonderland", format="JSON")
    status, _, out = wsgi_call(app, "POST", "/restserver.php", body=body, headers=headers)
    c.session_key = json.loads(out)["session_key"]
    body, headers = c.upload(make_jpeg(), community="mycommunity", format="JSON")
    status, hdrs, out = wsgi_call(app, "POST", "/restserver.php", body=body, headers=headers)
    data = json.loads(out)
    assert status == 200 and data["src"].startswith("http://wsgi.test/media/")
    status, hdrs, img = wsgi_call(app, "GET", data["src"].replace("http://wsgi.test", ""))
    assert status == 200 and hdrs["content-type"] == "image/jpeg" and img[:2] == b"\xff\xd8"
    # uploadPhotos through WSGI
    y = YahooClient(world["app"].api_key)
    body, headers = y.login_form("alice", "wonderland")
    status, hdrs, out = wsgi_call(app, "POST", "/V3.0/login", body=body, headers=headers)
    y.take_login(type("R", (), {"content": out, "headers": hdrs})())
    body, ctype = multipart([], [("p", "a.jpg", make_jpeg())])
    q = "&".join(f"{k}={v}" for k, v in y.query(caption0="hi", output="json").items())
    status, _, out = wsgi_call(app, "POST", "/V3.0/uploadPhotos", q, body, {"content-type": ctype, **y.headers()})
    assert status == 200 and json.loads(out)["PhotoList"]["Photo"][0]["Caption"] == "hi"
    status, _, out = wsgi_call(app, "GET", "/health")
    assert status == 200 and json.loads(out)["status"] == "ok"


def run_cli(*args: str, data: Path, backends: Any = None) -> subprocess.CompletedProcess:
    extra = backends.cli_args() if backends is not None else []
    return subprocess.run(
        [sys.executable, "-m", "photoservice", *args, "--data", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(Path(__file__).resolve().parents[2]),
    )


def test_cli_admin_and_startup_errors(tmp_path: Path, backends: Any) -> None:
    data = tmp_path / "data"
    run = lambda *args, data=data: run_cli(*args, data=data, backends=backends)  # noqa: E731
    app = json.loads(run("create-app", "demo", "--permission", "photo_upload").stdout)
    assert len(app["api_key"]) == 32 and app["permissions"] == ["photo_upload"]
    assert json.loads(run("create-user", "alice", "--password", "pw").stdout)["username"] == "alice"
    assert run("create-user", "alice", "--password", "pw").returncode == 1
    assert json.loads(run("create-album", "alice", "Trip").stdout)["name"] == "Trip"
    fsck = run("fsck")
    assert fsck.returncode == 0, fsck.stderr
    if backends.shared:
        assert "postgresql://" in fsck.stderr and "photoservice: database" in fsck.stderr
    else:
        # data folder not writable (a path below a regular file)
        blocker = tmp_path / "file"
        blocker.write_text("x")
        res = run("serve", "--port", "0", data=blocker / "sub")
        assert res.returncode == 2 and "not writable" in res.stderr
    # port taken
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = run("serve", "--port", str(port))
    assert res.returncode == 2 and "already in use" in res.stderr
    assert (
        "--regular-album-limit"
        in subprocess.run(
            [sys.executable, "-m", "photoservice", "serve", "--help"], capture_output=True, text=True
        ).stdout
    )


def _libraries_ready() -> bool:
    """Whether a fresh interpreter can import the transports the service runs on."""
    probe = subprocess.run(
        [sys.executable, "-c", "import fastmime.asgi, fastmime.wsgi, imgpipe, photoservice; imgpipe.ImageHandler"],
        capture_output=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _libraries_ready(), reason="fastmime.asgi / imgpipe.ImageHandler not importable yet")
def test_cli_serve_subprocess(tmp_path: Path, backends: Any) -> None:
    """``python -m photoservice serve`` starts uvicorn, answers /health, logs JSON lines, stops on SIGTERM."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "photoservice",
            "serve",
            "--port",
            str(port),
            "--data",
            str(tmp_path / "data"),
            *backends.cli_args(),
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.json()["status"] == "ok"
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(rec.get("event") == "service.start" for rec in lines)
    assert any(rec.get("event") == "request" and rec.get("path") == "/health" for rec in lines)
