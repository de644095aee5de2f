"""up.photos.upload and the up.* calls, end to end through the in-process ASGI app."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from photoservice.storage.records import NewPhoto, RenditionRecord

from .client import PlatformClient, error_code, find_text, multipart, sign
from .conftest import stored_keys

pytestmark = pytest.mark.usefixtures("each_parser")


def login(http: Any, app: Any, username: str = "alice", password: str = "wonderland") -> PlatformClient:
    c = PlatformClient(app.api_key, app.secret)
    body, headers = c.form("up.auth.login", with_session=False, username=username, password=password, format="JSON")
    resp = http.post("/restserver.php", content=body, headers=headers)
    data = json.loads(resp.content)
    assert "session_key" in data, data
    c.session_key = data["session_key"]
    return c


def stored_files(service: Any) -> list[str]:
    return stored_keys(service)


def upload(http: Any, c: PlatformClient, image: bytes | None, **kw: Any) -> Any:
    extra = {"community": "mycommunity", "caption": "Under the sunset"}
    extra.update(kw.pop("extra", {}))
    body, headers = c.upload(image, **dict(extra.items()), **kw)
    return http.post("/restserver.php", content=body, headers=headers)


def test_upload_xml_visible_with_permission(http: Any, world: dict, service: Any, jpeg: bytes) -> None:
    c = login(http, world["app"])
    resp = upload(http, c, jpeg)
    assert resp.status_code == 200
    root = ET.fromstring(resp.content)
    assert root.tag == "photos_upload_response"
    assert [el.tag for el in root] == ["pid", "aid", "owner", "src", "src_big", "src_small", "link", "caption"]
    assert find_text(root, "caption") == "Under the sunset"
    assert int(find_text(root, "owner")) == world["user"].id
    photo = service.catalog.photo(int(find_text(root, "pid")))
    assert photo.status == "visible" and {r.type for r in photo.renditions} == {"src", "src_big", "src_small"}
    album = service.catalog.album(photo.album_id)
    assert album.kind == "application" and album.app_id == world["app"].id
    for tag, box in (("src_small", (75, 225)), ("src", (130, 130)), ("src_big", (604, 604))):
        url = find_text(root, tag)
        got = http.get(url.replace("http://testserver", ""))
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        import io

        from PIL import Image

        im = Image.open(io.BytesIO(got.content))
        assert im.width <= box[0] and im.height <= box[1]


def test_upload_json_pending_and_unnamed_part(http: Any, world: dict, service: Any, jpeg: bytes) -> None:
    c = login(http, world["plain"])
    resp = upload(http, c, jpeg, image_name=None, extra={"format": "JSON"})
    data = json.loads(resp.content)
    assert isinstance(data["pid"], str) and isinstance(data["aid"], str) and isinstance(data["owner"], int)
    photo = service.catalog.photo(int(data["pid"]))
    assert photo.status == "pending"
    # the default album is created once
    resp2 = json.loads(upload(http, c, jpeg, extra={"format": "JSON"}).content)
    assert resp2["aid"] == data["aid"]
    # approve / reject by the owner
    body, headers = c.form("up.photos.approve", pid=data["pid"], format="JSON")
    assert json.loads(http.post("/restserver.php", content=body, headers=headers).content)["status"] == "visible"
    keys = {r.file_key for r in service.catalog.photo(int(resp2["pid"])).renditions}
    body, headers = c.form("up.photos.reject", pid=resp2["pid"], format="JSON")
    assert json.loads(http.post("/restserver.php", content=body, headers=headers).content)["rejected"] is True
    assert service.catalog.photo(int(resp2["pid"])) is None
    assert not keys & set(stored_files(service))


def test_supporting_calls(http: Any, world: dict, jpeg: bytes) -> None:
    c = login(http, world["app"])
    body, headers = c.form("up.community.getList", format="JSON")
    assert json.loads(http.post("/restserver.php", content=body, headers=headers).content) == [
        {"name": "mycommunity", "title": "My Community"}
    ]
    body, headers = c.form("up.photos.createAlbum", name="Holidays", description="sea", format="JSON")
    album = json.loads(http.post("/restserver.php", content=body, headers=headers).content)
    assert album["name"] == "Holidays" and album["size"] == 0
    up = json.loads(upload(http, c, jpeg, extra={"aid": album["aid"], "format": "JSON"}).content)
    assert up["aid"] == album["aid"]
    body, headers = c.form("up.photos.getAlbums")
    root = ET.fromstring(http.post("/restserver.php", content=body, headers=headers).content)
    assert root.tag == "photos_getAlbums_response" and root.get("list") == "true"
    assert [find_text(a, "name") for a in root] == ["Holidays"]
    body, headers = c.form("up.photos.get", aid=album["aid"], format="JSON")
    photos = json.loads(http.post("/restserver.php", content=body, headers=headers).content)
    assert [p["pid"] for p in photos] == [up["pid"]]


def test_signature_is_over_raw_sorted_args(http: Any, world: dict, jpeg: bytes) -> None:
    c = login(http, world["app"])
    args = c.args("up.photos.upload", community="mycommunity", caption="Ünïcode & spaces=ok")
    expected = sign({k: v for k, v in args.items() if k != "sig"}, world["app"].secret)
    assert args["sig"] == expected
    body, headers = c.upload(jpeg, args=args)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) is None
    # upper-case hex is a different signature
    args = c.args("up.photos.upload", community="mycommunity")
    args["sig"] = args["sig"].upper()
    body, headers = c.upload(jpeg, args=args)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 104


def codes(http: Any, c: PlatformClient, jpeg: bytes, **extra: Any) -> int | None:
    return error_code(upload(http, c, jpeg, extra=extra))


def test_error_codes(http: Any, world: dict, service: Any, jpeg: bytes, clock: Any) -> None:
    c = login(http, world["app"])
    bob = login(http, world["app"], "bob", "builder")
    # 100: missing/invalid parameters
    assert codes(http, c, jpeg, community="") == 100
    assert codes(http, c, jpeg, community="nope") == 100
    assert codes(http, c, jpeg, format="YAML") == 100
    body, headers = c.form("up.photos.nonexistent")
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 100
    # 101: unknown api key
    assert error_code(upload(http, PlatformClient("0" * 32, "x", c.session_key), jpeg)) == 101
    # 104: bad signature
    assert error_code(upload(http, PlatformClient(c.api_key, "wrong", c.session_key), jpeg)) == 104
    # 102: bad session key
    assert error_code(upload(http, PlatformClient(c.api_key, c.secret, "nope"), jpeg)) == 102
    # 103: replayed call_id
    args = c.args("up.photos.upload", community="mycommunity")
    body, headers = c.upload(jpeg, args=args)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) is None
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 103
    # 120: unknown album; 200: another user's album
    assert codes(http, c, jpeg, aid="123456789") == 120
    assert codes(http, c, jpeg, aid="abc") == 120
    bobs = service.catalog.create_album(world["bob"].id, "bob's")
    assert codes(http, c, jpeg, aid=str(bobs.id)) == 200
    # 200: approving someone else's photo
    pid = json.loads(upload(http, c, jpeg, extra={"format": "JSON"}).content)["pid"]
    body, headers = bob.form("up.photos.approve", pid=pid)
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 200
    # 321: full album
    full = service.catalog.create_album(world["user"].id, "full")
    fake = [
        NewPhoto(
            "",
            "",
            (),
            1,
            1,
            "jpg",
            1,
            "0" * 64,
            (),
            None,
            (RenditionRecord("src", 1, 1, 1, "jpg", f"00/{i:032x}_src.jpg"),),
        )
        for i in range(60)
    ]
    service.catalog.add_photos(world["user"], None, fake, album_id=full.id, default_album=False, pending=False)
    before = set(stored_files(service))
    assert codes(http, c, jpeg, aid=str(full.id)) == 321
    assert set(stored_files(service)) == before  # the rejected upload left no file
    # 324: missing or invalid image
    assert codes(http, c, None) == 324
    assert codes(http, c, b"this is not an image") == 324
    assert codes(http, c, jpeg[: len(jpeg) // 3]) == 324
    # 2: maintenance
    service.catalog.set_maintenance(True)
    assert codes(http, c, jpeg) == 2
    service.catalog.set_maintenance(False)
    # 102: expired session
    clock.advance(service.config.session_ttl + 1)
    assert codes(http, c, jpeg) == 102


def test_error_codes_needing_settings(make_service: Any, jpeg: bytes) -> None:
    svc, http = make_service(pending_limit=1)
    catalog = svc.catalog
    catalog.create_user("alice", "wonderland")
    catalog.create_community("mycommunity")
    # 325: too many pending photos
    plain = catalog.create_application("plain")
    c = login(http, plain)
    assert codes(http, c, jpeg) is None
    assert codes(http, c, jpeg) == 325
    # 4: the application's upload limit
    limited = catalog.create_application("limited", ["photo_upload"], daily_upload_limit=1)
    c = login(http, limited)
    assert codes(http, c, jpeg) is None
    assert codes(http, c, jpeg) == 4
    # 5: source address not allowed (the test client is 127.0.0.1)
    fenced = catalog.create_application("fenced", ["photo_upload"], allowed_addresses=["192.0.2.0/24"])
    c = PlatformClient(fenced.api_key, fenced.secret, "whatever")
    assert codes(http, c, jpeg) == 5
    # 1: anything unexpected
    c = login(http, catalog.create_application("x", ["photo_upload"]))
    original = catalog.add_photos
    catalog.add_photos = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    before = set(stored_keys(svc))
    try:
        assert codes(http, c, jpeg) == 1
    finally:
        catalog.add_photos = original
    assert set(stored_keys(svc)) == before


def test_error_response_shape_and_no_image_bytes(http: Any, world: dict, jpeg: bytes) -> None:
    c = PlatformClient(world["app"].api_key, "wrong-secret", "k")
    resp = upload(http, c, jpeg)
    assert resp.status_code == 200
    root = ET.fromstring(resp.content)
    assert root.tag == "error_response" and find_text(root, "error_code") == "104"
    keys = [find_text(arg, "key") for arg in root.iter("arg")]
    assert "method" in keys and "sig" in keys and "data" not in keys
    assert b"JFIF" not in resp.content and jpeg[:64] not in resp.content


def test_http_error_statuses_option(make_service: Any, jpeg: bytes) -> None:
    svc, http = make_service(platform_http_errors=True)
    app = svc.catalog.create_application("a")
    c = PlatformClient(app.api_key, "wrong", "k")
    resp = upload(http, c, jpeg, extra={"format": "JSON"})
    assert resp.status_code == 401 and json.loads(resp.content)["error_code"] == 104


def test_fields_after_image_and_query_args(http: Any, world: dict, jpeg: bytes) -> None:
    c = login(http, world["app"])
    args = c.args("up.photos.upload", community="mycommunity", format="JSON")
    items = list(args.items())
    body, ctype = multipart([], [("data", "x.jpg", jpeg)])
    # image first, then the fields: rebuild by hand
    head, _tail = body.rsplit(b"--SoMeTeXtWeWiLlNeVeRsEe--", 1)
    fields_body, _ = multipart(items)
    body = head + fields_body
    resp = json.loads(http.post("/restserver.php", content=body, headers={"content-type": ctype}).content)
    assert "pid" in resp, resp


def test_duplicate_argument_is_100(http: Any, world: dict, jpeg: bytes) -> None:
    c = login(http, world["app"])
    args = c.args("up.photos.upload", community="mycommunity")
    body, ctype = multipart(list(args.items()) + [("community", "again")], [("data", "x.jpg", jpeg)])
    assert error_code(http.post("/restserver.php", content=body, headers={"content-type": ctype})) == 100


def test_images_are_decoded_only_after_the_request_is_authorized(
    http: Any, world: dict, jpeg: bytes, monkeypatch: Any
) -> None:
    import imgpipe

    decoded: list[int] = []
    real = imgpipe.ImageHandler.on_end

    def on_end(self: Any) -> None:  # the pipeline runs when the gate lets the submitted job through
        real(self)
        if self.future is not None:
            self.future.add_done_callback(lambda f: decoded.append(self.size) if not f.cancelled() else None)

    monkeypatch.setattr(imgpipe.ImageHandler, "on_end", on_end)
    c = login(http, world["app"])
    # A wrong signature, a session that does not exist, a replayed call_id: refused, nothing decoded.
    assert error_code(upload(http, PlatformClient(c.api_key, "wrong", c.session_key), jpeg)) == 104
    assert error_code(upload(http, PlatformClient(c.api_key, c.secret, "nope"), jpeg)) == 102
    assert decoded == []
    assert error_code(upload(http, c, jpeg)) is None
    assert decoded == [len(jpeg)]
