"""Against a real uvicorn on 127.0.0.1 with a random free port (in a thread; always stopped)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from .client import PlatformClient, YahooClient, error_code, make_jpeg, multipart
from .conftest import stored_keys


def login(base: str, app: Any) -> PlatformClient:
    c = PlatformClient(app.api_key, app.secret)
    body, headers = c.form("up.auth.login", with_session=False, username="alice", password="pw", format="JSON")
    c.session_key = httpx.post(f"{base}/restserver.php", content=body, headers=headers).json()["session_key"]
    return c


def test_health_and_page(server: tuple[str, Any]) -> None:
    base, _ = server
    assert httpx.get(f"{base}/health").json()["status"] == "ok"
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and b"<html" in page.content.lower()


def test_race_for_the_last_album_slots(server: tuple[str, Any]) -> None:
    """66 uploads by 12 threads into one empty regular album: exactly 60 succeed, the rest get 321."""
    base, service = server
    catalog = service.catalog
    app = catalog.create_application("racer", ["photo_upload"])
    user = catalog.create_user("alice", "pw")
    catalog.create_community("mycommunity")
    album = catalog.create_album(user.id, "race")
    jpeg = make_jpeg(32, 24)
    clients = [login(base, app) for _ in range(12)]  # one session per thread: call_ids stay ordered

    def worker(i: int) -> list[int | None]:
        c = clients[i]
        out = []
        with httpx.Client(timeout=60) as http:
            for _ in range(i, 66, 12):
                body, headers = c.upload(jpeg, community="mycommunity", aid=str(album.id), format="JSON")
                resp = http.post(f"{base}/restserver.php", content=body, headers=headers)
                out.append(error_code(resp))
        return out

    with ThreadPoolExecutor(12) as pool:
        results = [code for codes in pool.map(worker, range(12)) for code in codes]
    assert results.count(None) == 60 and results.count(321) == 6
    assert catalog.album(album.id).size == 60
    assert len(stored_keys(service)) == 60 * 3


def test_yahoo_upload_over_http(server: tuple[str, Any]) -> None:
    base, service = server
    app = service.catalog.create_application("web")
    service.catalog.create_user("alice", "pw")
    y = YahooClient(app.api_key)
    body, headers = y.login_form("alice", "pw")
    with httpx.Client(base_url=base) as http:
        resp = http.post("/V3.0/login", content=body, headers=headers)
        y.take_login(resp)
        assert http.cookies.get("Y") == y.cookie
        body, ctype = multipart([], [("a", "a.jpg", make_jpeg()), ("b", "b.jpg", make_jpeg())])
        resp = http.post(
            "/V3.0/uploadPhotos",
            params=y.query(caption0="one", caption1="two", output="json"),
            content=body,
            headers={"content-type": ctype},
        )
        assert resp.status_code == 200, resp.text
        photos = resp.json()["PhotoList"]["Photo"]
        assert [p["Caption"] for p in photos] == ["one", "two"]
        for p in photos:
            for img in p["ImageList"]:
                assert http.get(img["url"]).status_code == 200


def test_disconnect_mid_upload_over_tcp(server: tuple[str, Any]) -> None:
    """A client that closes its socket halfway through the body leaves nothing stored."""
    base, service = server
    app = service.catalog.create_application("web", ["photo_upload"])
    service.catalog.create_user("alice", "pw")
    service.catalog.create_community("mycommunity")
    c = login(base, app)
    body, headers = c.upload(make_jpeg(400, 300), community="mycommunity")
    port = int(base.rsplit(":", 1)[1])
    head = (
        f"POST /restserver.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {headers['content-type']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head + body[: len(body) // 2])
        time.sleep(0.3)
    # the server notices the disconnect; give it a moment, then check nothing was stored
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if not stored_keys(service):
            break
    assert stored_keys(service) == []
    assert service.catalog.photos(service.catalog.user_by_name("alice").id) == []
    # and the session still works: the interrupted call never reached call_id checking
    assert (
        error_code(
            httpx.post(
                f"{base}/restserver.php",
                **dict(zip(("content", "headers"), c.upload(make_jpeg(), community="mycommunity"))),
            )
        )
        is None
    )
