"""HTTP hygiene and client mistakes (issue 11, findings 7 and 8): each of these was wrong before."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from .client import PlatformClient, YahooClient, error_code, make_jpeg, multipart
from .test_platform import login, upload
from .test_yahoo import send, signed_in


def test_the_login_answer_does_not_carry_the_httponly_cookie(http: Any, world: dict) -> None:
    y = YahooClient(world["app"].api_key)
    body, headers = y.login_form("alice", "wonderland")
    resp = http.post("/V3.0/login", content=body, headers=headers)
    cookie = resp.headers["set-cookie"].split(";", 1)[0][2:]
    assert len(cookie) > 20 and cookie.encode() not in resp.content
    xml = http.post("/V3.0/login", content=body.replace(b"&output=json", b""), headers=headers)
    assert xml.status_code == 200 and b"Cookie" not in xml.content


def test_an_unknown_host_is_refused_without_a_public_url(make_service: Any) -> None:
    _svc, http = make_service(allowed_hosts=None)
    assert http.get("/health").status_code == 400  # "testserver" is not a default allowed host
    assert http.get("/health", headers={"host": "127.0.0.1:8080"}).status_code == 200
    assert http.get("/health", headers={"host": "[::1]:8080"}).status_code == 200
    assert http.get("/health", headers={"host": "evil.example"}).status_code == 400


def test_with_a_public_url_links_never_come_from_the_host(make_service: Any) -> None:
    svc, http = make_service(allowed_hosts=None, public_url="https://photos.example.org/")
    catalog = svc.catalog
    app = catalog.create_application("a", ["photo_upload"])
    catalog.create_user("alice", "wonderland")
    catalog.create_community("mycommunity")
    c = login(http, app)
    resp = upload(
        http,
        c,
        make_jpeg(),
        extra={"format": "JSON"},
    )
    data = json.loads(resp.content)
    assert data["src"].startswith("https://photos.example.org/media/") and "testserver" not in resp.text


def test_transfer_encoding_with_content_length_is_refused(asgi: Any) -> None:
    import asyncio

    sent: list = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send_(msg: dict) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/V3.0/login",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", b"5"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
    }
    asyncio.run(asgi(scope, receive, send_))
    assert sent[0]["status"] == 400


def test_upload_photos_accepts_only_multipart_form_data(http: Any, world: dict) -> None:
    y = signed_in(http, world)
    body, ctype = multipart([], [("p", "a.jpg", make_jpeg())])
    resp = http.post(
        "/V3.0/uploadPhotos",
        params=y.query(caption0="x"),
        content=body,
        headers={"content-type": ctype.replace("form-data", "mixed"), **y.headers()},
    )
    assert resp.status_code == 400 and b"multipart/form-data" in resp.content


def test_a_wsgi_body_without_content_length_is_411(service: Any, world: dict) -> None:
    from photoservice import WSGIApp

    app = WSGIApp(service)
    y = YahooClient(world["app"].api_key)
    body, headers = y.login_form("alice", "wonderland")
    environ_extra = {"CONTENT_LENGTH": ""}
    status, _, _ = _wsgi_without_length(app, "/V3.0/login", body, headers["content-type"], environ_extra)
    assert status == 411
    form, ctype = multipart([("method", "up.photos.upload")], [("data", "a.jpg", make_jpeg())])
    status, _, _ = _wsgi_without_length(app, "/restserver.php", form, ctype, environ_extra)
    assert status == 411
    # a server that marks the end of the body (gunicorn, waitress) needs no length
    status, _, out = _wsgi_without_length(
        app, "/V3.0/login", body, headers["content-type"], {"CONTENT_LENGTH": "", "wsgi.input_terminated": True}
    )
    assert status == 200 and b"WSSID" in out
    # a body shorter than its Content-Length is a disconnected client, not a truncated form
    status, _, out = _wsgi_without_length(
        app, "/V3.0/login", body, headers["content-type"], {"CONTENT_LENGTH": str(len(body) + 10)}
    )
    assert status == 400 and b"disconnected" in out


def _wsgi_without_length(app: Any, path: str, body: bytes, ctype: str, extra: dict) -> tuple[int, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "wsgi.test",
        "CONTENT_TYPE": ctype,
        **extra,
    }
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list) -> None:
        got["status"] = int(status.split()[0])
        got["headers"] = dict(headers)

    out = b"".join(app(environ, start_response))
    return got["status"], got["headers"], out


@pytest.mark.backends("sqlite+file")  # the SQLite file's mode; PostgreSQL guards its own files
def test_the_database_and_data_folder_are_private(service: Any) -> None:
    db = Path(service.config.data_dir) / "photoservice.sqlite3"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    service.catalog.create_user("x", "y")  # the WAL and shared-memory files follow the database's mode
    for extra in ("-wal", "-shm"):
        path = Path(str(db) + extra)
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_the_page_cannot_be_framed(http: Any) -> None:
    page = http.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("value", ["²", "٣", "1²", "-1", "１２"])
def test_non_ascii_digits_are_client_errors(http: Any, world: dict, value: str) -> None:
    y = signed_in(http, world)
    assert send(http, y, [("p", "a.jpg", make_jpeg())], caption0="x", aid=value).status_code == 400
    assert http.get("/V3.0/listPhotos", params=y.query(aid=value), headers=y.headers()).status_code == 400
    c = login(http, world["app"])
    body, headers = c.form("up.photos.get", aid=value)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 120
    body, headers = c.form("up.photos.approve", pid=value)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 100


@pytest.mark.parametrize(
    "charset, raw, stored",
    [
        ("idna", "caf\u00e9".encode("utf-8"), "caf\u00e9"),  # the idna codec raises on decoding: UTF-8 instead
        ("utf-7", b"+2D0-", "\ufffd"),  # decodes to a lone surrogate
        ("rot13", b"abc", "abc"),  # not a text encoding
        ("no-such-charset", b"abc", "abc"),
    ],
)
def test_field_charsets_never_make_a_server_error(
    http: Any, world: dict, service: Any, caplog: Any, charset: str, raw: bytes, stored: str
) -> None:
    c = login(http, world["app"])
    args = c.args("up.photos.upload", community="mycommunity", format="JSON")
    # caption is not signed here (it is sent with a charset the signer cannot know): sign without it
    boundary = "XyZ"
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in args.items()
    )
    parts += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="caption"\r\n'
            f"Content-Type: text/plain; charset={charset}\r\n\r\n"
        ).encode()
        + raw
        + b"\r\n"
    )
    body = parts + f"--{boundary}--\r\n".encode()
    with caplog.at_level(logging.WARNING):
        resp = http.post(
            "/restserver.php", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )
    assert error_code(resp) == 104  # the caption was not signed: a client error, not error 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "request_args" in json.loads(resp.content)
    sent = {a["key"]: a["value"] for a in json.loads(resp.content)["request_args"]}
    assert sent["caption"] == stored


def test_a_refused_upload_with_an_image_logs_no_error(http: Any, world: dict, caplog: Any) -> None:
    c = login(http, world["app"])
    with caplog.at_level(logging.INFO):
        assert error_code(upload(http, PlatformClient(c.api_key, "wrong", c.session_key), make_jpeg())) == 104
        assert error_code(upload(http, PlatformClient("0" * 32, "x", c.session_key), make_jpeg())) == 101
        args = c.args("up.photos.upload", community="mycommunity")
        body, headers = c.upload(make_jpeg(), args=args)
        assert error_code(http.post("/restserver.php", content=body, headers=headers)) is None
        assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 103
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert not [r for r in caplog.records if r.exc_info]


def test_large_images_wait_for_each_other_within_the_pixel_budget(make_service: Any) -> None:
    """Concurrent uploads decode within --decode-budget-pixels: 3 pictures of 1 MP, a budget of 1.5 MP."""
    import threading

    from .client import make_jpeg as jpeg

    svc, http = make_service(decode_budget_pixels=1_500_000, image_workers=3)
    budget = svc.images.budget
    peak: list[int] = []
    real = type(budget).reserve

    def reserve(self: Any, pixels: Any) -> Any:
        manager = real(self, pixels)

        class Watch:
            def __enter__(self_inner) -> None:
                manager.__enter__()
                peak.append(budget.in_use)

            def __exit__(self_inner, *exc: Any) -> None:
                manager.__exit__(*exc)

        return Watch()

    import types

    budget.reserve = types.MethodType(reserve, budget)  # type: ignore[method-assign]
    svc.catalog.create_user("alice", "wonderland")
    app = svc.catalog.create_application("web")
    y = signed_in(http, {"app": app})
    codes: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: codes.append(send(http, y, [("p", "a.jpg", jpeg(1000, 1000))], caption0="x").status_code)
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200, 200, 200]
    assert len(peak) == 3 and max(peak) == 1_000_000  # never two at once
    assert budget.in_use == 0


def test_a_known_call_with_another_method_is_405(http: Any) -> None:
    for path, allowed in (("/V3.0/logout", "POST"), ("/V3.0/uploadPhotos", "POST"), ("/V3.0/listPhotos", "GET")):
        resp = http.request("PUT" if allowed == "GET" else "GET", path)
        assert resp.status_code == 405 and allowed in resp.headers["allow"], path
    assert http.get("/V3.0/noSuchCall").status_code == 404
