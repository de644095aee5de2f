"""Real clients against real servers: every part must arrive exactly (SHA-256 compared at the server).

Servers (see conftest): uvicorn (fastmime.asgi), gunicorn sync workers (stream ``wsgi.input``) and
waitress (buffers bodies itself), both through fastmime.wsgi. Clients: curl, requests, httpx (sync and
async, bodies streamed from generators), aiohttp, and raw sockets for disconnects and keep-alive.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..adapters._util import body as make_body
from ._bodies import EMPTY, PHOTO, SMALL, blob, sha256, write
from .conftest import Server

UNICODE_NAME = "фото ü 写真.jpg"


def files_of(report: dict[str, Any]) -> list[tuple[str, str | None, int, str]]:
    return [(p["name"], p["filename"], p["size"], p["sha256"]) for p in report["parts"] if p["filename"] is not None]


def fields_of(report: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in report["parts"] if p["filename"] is None}


def assert_clean(server: Server) -> dict[str, Any]:
    stats = server.wait_idle()
    assert stats["open"] == 0
    assert stats["files"] == []
    return stats


# -- curl ---------------------------------------------------------------------------------------------


def _curl() -> str:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("the Debian package curl is not installed (apt-get install -y curl)")
    return path


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_curl_form(server: Server, tmp_path: Path, chunked: bool) -> None:
    curl = _curl()
    a = write(tmp_path / "a.jpg", PHOTO)
    b = write(tmp_path / "b.bin", SMALL)
    u = write(tmp_path / UNICODE_NAME, SMALL[:333])
    e = write(tmp_path / "empty.txt", EMPTY)
    args = [
        curl,
        "-sS",
        "--fail-with-body",
        "-F",
        "title=héllo wörld",
        "-F",
        f"photos=@{a};type=image/jpeg",
        "-F",
        f"photos=@{b}",
        "-F",
        f"unicode=@{u}",
        "-F",
        f"empty=@{e}",
    ]
    if chunked:
        args += ["-H", "Transfer-Encoding: chunked"]
    out = subprocess.run(args + [server.url + "/upload"], capture_output=True, timeout=60, check=True)
    report = json.loads(out.stdout)
    assert fields_of(report) == {"title": "héllo wörld"}
    assert files_of(report) == [
        ("photos", "a.jpg", len(PHOTO), sha256(PHOTO)),
        ("photos", "b.bin", len(SMALL), sha256(SMALL)),
        ("unicode", UNICODE_NAME, 333, sha256(SMALL[:333])),
        ("empty", "empty.txt", 0, sha256(b"")),
    ]
    assert report["parts"][1]["content_type"] == "image/jpeg"
    assert_clean(server)


# -- requests -----------------------------------------------------------------------------------------


def test_requests_files_and_fields(server: Server) -> None:
    import requests

    response = requests.post(
        server.url + "/upload",
        data={"title": "hi", "tags": "a b"},
        files=[
            ("photos", ("one.jpg", PHOTO, "image/jpeg")),
            ("photos", ("two.jpg", SMALL, "image/jpeg")),
            ("unicode", (UNICODE_NAME, SMALL)),
        ],
        timeout=60,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert fields_of(report) == {"title": "hi", "tags": "a b"}
    got = files_of(report)
    assert got[:2] == [
        ("photos", "one.jpg", len(PHOTO), sha256(PHOTO)),
        ("photos", "two.jpg", len(SMALL), sha256(SMALL)),
    ]
    # requests encodes a non-ASCII filename as RFC 2231 filename*=utf-8''...; fastmime decodes it
    assert got[2] == ("unicode", UNICODE_NAME, len(SMALL), sha256(SMALL))


def test_requests_nameless_file_part_and_parse_form(server: Server) -> None:
    """A file part with a filename and no name (old API clients) arrives, under the name ""."""
    import requests

    data = make_body(("title", None, b"x"), (None, "nameless.jpg", PHOTO, "image/jpeg"))
    headers = {"Content-Type": "multipart/form-data; boundary=fastmimeTestBoundary9x7"}
    report = requests.post(server.url + "/upload", data=data, headers=headers, timeout=60).json()
    assert files_of(report) == [("", "nameless.jpg", len(PHOTO), sha256(PHOTO))]
    form = requests.post(server.url + "/form", data=data, headers=headers, timeout=60).json()
    assert form == {
        "fields": {"title": "x"},
        "files": [{"name": "", "filename": "nameless.jpg", "size": len(PHOTO), "sha256": sha256(PHOTO)}],
    }
    assert_clean(server)


# -- httpx --------------------------------------------------------------------------------------------

BIG = blob(8 * 1024 * 1024 + 5, 3)
STREAMED = make_body(("title", None, b"streamed"), ("video", "big.bin", BIG), ("small", "s.txt", SMALL))
CTYPE = "multipart/form-data; boundary=fastmimeTestBoundary9x7"


def _pieces(size: int = 100_003) -> Iterator[bytes]:
    for i in range(0, len(STREAMED), size):
        yield STREAMED[i : i + size]


def _check_streamed(report: dict[str, Any]) -> None:
    assert fields_of(report) == {"title": "streamed"}
    assert files_of(report) == [
        ("video", "big.bin", len(BIG), sha256(BIG)),
        ("small", "s.txt", len(SMALL), sha256(SMALL)),
    ]


@pytest.mark.parametrize("with_length", [False, True], ids=["chunked", "content-length"])
def test_httpx_sync_streamed_body(server: Server, with_length: bool) -> None:
    import httpx

    headers = {"Content-Type": CTYPE}
    if with_length:
        headers["Content-Length"] = str(len(STREAMED))
    with httpx.Client(timeout=60) as client:
        response = client.post(server.url + "/upload", content=_pieces(), headers=headers)
    assert response.status_code == 200, response.text
    _check_streamed(response.json())


def test_httpx_async_streamed_body(server: Server) -> None:
    import httpx

    async def pieces() -> AsyncIterator[bytes]:
        for piece in _pieces(65_537):
            await asyncio.sleep(0)
            yield piece

    async def main() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=60) as client:
            first = client.post(server.url + "/upload", content=pieces(), headers={"Content-Type": CTYPE})
            second = client.post(server.url + "/upload", content=pieces(), headers={"Content-Type": CTYPE})
            responses = await asyncio.gather(first, second)
        return [r.json() for r in responses]

    for report in asyncio.run(main()):
        _check_streamed(report)


# -- aiohttp ------------------------------------------------------------------------------------------


def test_aiohttp_percent_encoded_filename(server: Server) -> None:
    """aiohttp percent-encodes a non-ASCII filename in ``filename=`` (RFC 7578 4.2) and sends no
    ``filename*``: fastmime reports it as sent; ``urllib.parse.unquote`` gives the name back. With
    ``quote_fields=False`` aiohttp sends the UTF-8 name as is."""
    import aiohttp

    async def send(quote: bool) -> dict[str, Any]:
        form = aiohttp.FormData(quote_fields=quote)
        form.add_field("title", "héllo")
        form.add_field("photo", PHOTO, filename=UNICODE_NAME, content_type="image/jpeg")
        async with aiohttp.ClientSession() as session:
            async with session.post(server.url + "/upload", data=form) as response:
                assert response.status == 200, await response.text()
                return await response.json()

    quoted = asyncio.run(send(True))
    assert fields_of(quoted) == {"title": "héllo"}
    [(name, filename, size, digest)] = files_of(quoted)
    assert (name, size, digest) == ("photo", len(PHOTO), sha256(PHOTO))
    assert filename == urllib.parse.quote(UNICODE_NAME, safe="")  # what aiohttp actually sends
    assert urllib.parse.unquote(filename) == UNICODE_NAME
    raw = asyncio.run(send(False))
    assert files_of(raw) == [("photo", UNICODE_NAME, len(PHOTO), sha256(PHOTO))]


# -- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, ctype, data, status, error",
    [
        ("/upload", "application/json", b"{}", 415, "NotMultipart"),
        ("/upload", "multipart/form-data", b"--x--\r\n", 400, "MissingBoundary"),
        ("/upload?max_body=1000", CTYPE, make_body(("f", "x", b"z" * 5000)), 413, "BodyTooLarge"),
        ("/upload", CTYPE, make_body(("f", "x", b"z"))[:-30], 400, "IncompleteBody"),
        (
            "/upload",
            CTYPE,
            b"--fastmimeTestBoundary9x7\r\nNo-Colon\r\n\r\nx\r\n--fastmimeTestBoundary9x7--",
            400,
            "InvalidHeader",
        ),
        ("/form", "text/plain", b"hello", 415, "NotMultipart"),
    ],
)
def test_errors_map_to_statuses(server: Server, path: str, ctype: str, data: bytes, status: int, error: str) -> None:
    import requests

    response = requests.post(server.url + path, data=data, headers={"Content-Type": ctype}, timeout=30)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert_clean(server)


# -- disconnects and keep-alive -----------------------------------------------------------------------


def test_client_disconnects_halfway(server: Server) -> None:
    """The client sends the first part and half of the second, then goes away: the server aborts the
    open handler, removes its file, stays healthy, and the next request is served."""
    data = make_body(("done", "first.bin", SMALL), ("cut", "second.bin", PHOTO))
    before = server.wait_idle()
    head = (
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CTYPE}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + data[: len(data) // 2])
        if server.kind != "waitress":  # waitress buffers the body: the app never sees this request
            deadline = time.monotonic() + 10
            while server.stats()["started"] < before["started"] + 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.stats()["open"] == 1  # the second part's handler is receiving
        sock.shutdown(socket.SHUT_RDWR)
    # The open handler's file goes with its abort; the finished first part's file goes when the app's
    # request handling unwinds, a moment later: wait for both (no file may stay behind).
    deadline = time.monotonic() + 10
    while True:
        stats = server.stats()
        aborted = server.kind == "waitress" or stats["aborted"] > before["aborted"]
        if stats["open"] == 0 and aborted and stats["files"] == []:
            break
        assert time.monotonic() < deadline, stats
        time.sleep(0.05)
    if server.kind == "waitress":
        assert stats["started"] == before["started"] and stats["aborted"] == before["aborted"]
    else:
        assert stats["started"] == before["started"] + 2
        assert stats["ended"] == before["ended"] + 1
        assert stats["aborted"] == before["aborted"] + 1
    # still healthy
    import requests

    report = requests.post(server.url + "/upload", files={"f": ("x.bin", SMALL)}, timeout=30).json()
    assert files_of(report) == [("f", "x.bin", len(SMALL), sha256(SMALL))]


def test_parse_form_disconnect_leaves_no_temp_file(server: Server) -> None:
    """parse_form spools files past 1 MiB to temporary files in TMPDIR: a client that goes away
    mid-body leaves none behind, and the server answers the next request."""
    data = make_body(("a", "one.bin", PHOTO), ("b", "two.bin", PHOTO))
    head = (
        f"POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CTYPE}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + data[: len(PHOTO) + len(PHOTO) // 2])
        time.sleep(0.2)
        sock.shutdown(socket.SHUT_RDWR)
    import requests

    form = requests.post(server.url + "/form", files={"f": ("x.bin", PHOTO)}, timeout=30).json()
    assert form["files"] == [{"name": "f", "filename": "x.bin", "size": len(PHOTO), "sha256": sha256(PHOTO)}]
    deadline = time.monotonic() + 10
    while list(server.tmp_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(server.tmp_dir.iterdir()) == []


def test_keep_alive_next_request_is_not_consumed(server: Server) -> None:
    """Two uploads on one connection: the adapter reads exactly Content-Length bytes of the first."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for i in range(2):
            data = make_body(("n", None, str(i).encode()), ("f", f"{i}.bin", SMALL))
            conn.request("POST", "/upload", body=data, headers={"Content-Type": CTYPE})
            response = conn.getresponse()
            report = json.loads(response.read())
            assert response.status == 200
            assert fields_of(report) == {"n": str(i)}
    finally:
        conn.close()
