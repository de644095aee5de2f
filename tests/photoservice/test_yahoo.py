"""uploadPhotos and the V3.0 reads, end to end through the in-process ASGI app."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from .client import YahooClient, make_jpeg, multipart
from .conftest import stored_keys

pytestmark = pytest.mark.usefixtures("each_parser")
NS = "{urn:yahoo:photo}"


def signed_in(http: Any, world: dict, username: str = "alice", password: str = "wonderland") -> YahooClient:
    y = YahooClient(world["app"].api_key)
    body, headers = y.login_form(username, password)
    resp = http.post("/V3.0/login", content=body, headers=headers)
    assert resp.status_code == 200, resp.content
    assert "Y=" in resp.headers["set-cookie"] and "HttpOnly" in resp.headers["set-cookie"]
    y.take_login(resp)
    return y


def send(http: Any, y: YahooClient, files: list, **query: Any) -> Any:
    body, ctype = multipart([], files, boundary="----UPBND-df0a35ee191e44568244d69ebb5d03c1-")
    return http.post(
        "/V3.0/uploadPhotos", params=y.query(**query), content=body, headers={"content-type": ctype, **y.headers()}
    )


def test_upload_two_photos_photolist(http: Any, world: dict, service: Any) -> None:
    y = signed_in(http, world)
    files = [
        ("pic0", r"c:\images\abcd.jpg", make_jpeg(800, 600)),
        ("note", None, b"ignored field"),
        ("pic1", "b.jpg", make_jpeg(50, 90, (0, 0, 255))),
    ]
    resp = send(http, y, files, caption0="first", caption1="second", desc1="blue", tag=" a, b ,a", tag1="c,b")
    assert resp.status_code == 200, resp.content
    assert resp.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<PhotoList xmlns="urn:yahoo:photo"')
    root = ET.fromstring(resp.content)
    photos = root.findall(f"{NS}Photo")
    assert [p.findtext(f"{NS}Caption").strip() for p in photos] == ["first", "second"]
    assert photos[0].get(f"{NS}hrWidth") == "800" and photos[0].get(f"{NS}owner") == "alice"
    images = photos[0].find(f"{NS}ImageList").findall(f"{NS}Image")
    assert [i.get("type") for i in images] == ["screen", "thumb"]  # full only for premium
    assert int(images[0].get("width")) == 480 and int(images[1].get("width")) == 96
    for img in images:
        got = http.get(img.text.strip().replace("http://testserver", ""))
        assert got.status_code == 200 and len(got.content) == int(img.get("size"))
    stored = service.catalog.photos(world["user"].id)
    assert [p.tags for p in stored] == [("a", "b"), ("a", "b", "c")]
    assert stored[1].description == "blue"
    # the reads
    listed = http.get("/V3.0/listPhotos", params=y.query(), headers=y.headers())
    assert len(ET.fromstring(listed.content).findall(f"{NS}Photo")) == 2
    data = json.loads(http.get("/V3.0/listPhotos", params=y.query(output="json"), headers=y.headers()).content)
    assert len(data["PhotoList"]["Photo"]) == 2


def test_albums_and_premium_full(http: Any, world: dict, service: Any) -> None:
    service.catalog.create_user("carol", "pw", premium=True)
    y = signed_in(http, world, "carol", "pw")
    made = http.post("/V3.0/createAlbum", params=y.query(name="Trip", output="json"), headers=y.headers())
    aid = json.loads(made.content)["AlbumList"][0]["id"]
    resp = send(http, y, [("p", "a.jpg", make_jpeg())], caption0="x", aid=aid, output="json")
    photo = json.loads(resp.content)["PhotoList"]["Photo"][0]
    assert {i["type"] for i in photo["ImageList"]} == {"thumb", "screen", "full"}
    albums = json.loads(http.get("/V3.0/listAlbums", params=y.query(output="json"), headers=y.headers()).content)
    assert albums["AlbumList"][0]["size"] == 1
    root = ET.fromstring(http.get("/V3.0/listAlbums", params=y.query(), headers=y.headers()).content)
    assert root.tag == f"{NS}AlbumList"


def errors(resp: Any) -> list[str]:
    root = ET.fromstring(resp.content)
    assert root.tag == "{urn:yahoo:api}Error"
    return [m.text for m in root.iter("{urn:yahoo:api}Message")]


def test_auth_errors_and_expiry(http: Any, world: dict, clock: Any, service: Any) -> None:
    y = signed_in(http, world)
    files = [("p", "a.jpg", make_jpeg())]
    assert send(http, YahooClient(""), files, caption0="x").status_code == 400
    bad_app = YahooClient("unknown")
    bad_app.cookie, bad_app.wssid = y.cookie, y.wssid
    assert send(http, bad_app, files, caption0="x").status_code == 403
    other = YahooClient(world["plain"].api_key)
    other.cookie, other.wssid = y.cookie, y.wssid
    assert send(http, other, files, caption0="x").status_code == 403  # credentials of another appid
    no_cookie = YahooClient(y.appid)
    no_cookie.wssid = y.wssid
    assert send(http, no_cookie, files, caption0="x").status_code == 401
    wrong = YahooClient(y.appid)
    wrong.cookie, wrong.wssid = y.cookie, "forged"
    assert send(http, wrong, files, caption0="x").status_code == 401
    bad = http.post(
        "/V3.0/login",
        content=YahooClient(y.appid).login_form("alice", "nope")[0],
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert bad.status_code == 401
    clock.advance(3601)
    resp = send(http, y, files, caption0="x")
    assert resp.status_code == 401 and errors(resp)
    service.catalog.set_maintenance(True)
    assert send(http, y, files, caption0="x").status_code == 503
    assert service.catalog.photos(world["user"].id) == []


def test_validation_before_storing(http: Any, world: dict, service: Any) -> None:
    y = signed_in(http, world)
    good = make_jpeg()
    # missing caption for the second picture: 400 naming caption1
    resp = send(http, y, [("a", "a.jpg", good), ("b", "b.jpg", good)], caption0="x")
    assert resp.status_code == 400 and any("caption1" in m for m in errors(resp))
    # batid without batcount
    resp = send(http, y, [("a", "a.jpg", good)], caption0="x", batid="123")
    assert resp.status_code == 400 and any("batcount" in m for m in errors(resp))
    # a bad image among good ones: nothing stored, every bad picture named
    resp = send(
        http,
        y,
        [("a", "a.jpg", good), ("b", "b.jpg", b"not a jpeg"), ("c", "c.jpg", good)],
        caption0="x",
        caption1="y",
        caption2="z",
    )
    assert resp.status_code == 400 and any("Picture 1" in m for m in errors(resp))
    # no picture at all
    assert send(http, y, [("note", None, b"x")], caption0="x").status_code == 400
    assert service.catalog.photos(world["user"].id) == []
    assert stored_keys(service) == []


def test_batches(http: Any, world: dict, clock: Any, service: Any) -> None:
    y = signed_in(http, world)
    one = [("a", "a.jpg", make_jpeg())]
    assert send(http, y, one, caption0="x", batid="1700000000abc", batcount=2).status_code == 200
    assert send(http, y, one, caption0="x", batch_id="1700000000abc", batcount=2).status_code == 200
    resp = send(http, y, one, caption0="x", batid="1700000000abc", batcount=2)
    assert resp.status_code == 400 and any("batcount" in m for m in errors(resp))
    assert send(http, y, one, caption0="x", batid="other", batcount=3).status_code == 200
    clock.advance(301)
    resp = send(http, y, one, caption0="x", batid="other", batcount=3)
    assert resp.status_code == 400 and any("expired" in m for m in errors(resp))
    assert len(service.catalog.photos(world["user"].id)) == 3


def test_disconnect_mid_upload_stores_nothing(asgi: Any, world: dict, service: Any, http: Any) -> None:
    import asyncio

    y = signed_in(http, world)
    body, ctype = multipart([], [("a", "a.jpg", make_jpeg()), ("b", "b.jpg", make_jpeg(300, 300))])
    query = "&".join(f"{k}={v}" for k, v in y.query(caption0="a", caption1="b").items()).encode()
    messages = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send_(msg: dict) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/V3.0/uploadPhotos",
        "query_string": query,
        "headers": [
            (b"content-type", ctype.encode()),
            (b"cookie", f"Y={y.cookie}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
    }
    asyncio.run(asgi(scope, receive, send_))
    assert sent == []
    assert service.catalog.photos(world["user"].id) == []
    assert stored_keys(service) == []
