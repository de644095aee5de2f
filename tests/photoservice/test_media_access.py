"""Private media stay private (issue 11, finding 3): signed, expiring URLs; `full` only where handed out;
no GPS in stored originals unless the operator keeps it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import imgpipe
from tests.imgpipe._jpegs import make_jpeg as make_exif_jpeg

from .client import make_jpeg
from .test_platform import login, upload
from .test_yahoo import send, signed_in


def local(url: str) -> str:
    return url.replace("http://testserver", "")


def listed_images(http: Any, y: Any) -> list[dict]:
    resp = http.get("/V3.0/listPhotos", params=y.query(output="json"), headers=y.headers())
    data = json.loads(resp.content)
    assert "PhotoList" in data, data
    return [image for photo in data["PhotoList"]["Photo"] for image in photo["ImageList"]]


def test_media_need_a_valid_unexpired_signature(http: Any, world: dict, clock: Any, service: Any) -> None:
    y = signed_in(http, world)
    assert send(http, y, [("p", "a.jpg", make_jpeg(800, 600))], caption0="x").status_code == 200
    thumb = next(i for i in listed_images(http, y) if i["type"] == "thumb")["url"]
    ok = http.get(local(thumb))
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
    assert ok.headers["cache-control"].startswith("private, max-age=")
    path = urlsplit(thumb).path
    assert http.get(path).status_code == 403  # the bare file name is not enough
    assert http.get(local(thumb)[:-1] + ("0" if thumb[-1] != "0" else "1")).status_code == 403  # tampered
    query = parse_qs(urlsplit(thumb).query)
    later = int(query["exp"][0]) + 1000
    assert http.get(f"{path}?exp={later}&sig={query['sig'][0]}").status_code == 403  # a longer life is not signed
    clock.advance(service.config.media_url_ttl * 1.5 + 1)
    assert http.get(local(thumb)).status_code == 403  # expired
    y = signed_in(http, world)  # the sign-in expired too
    fresh = next(i for i in listed_images(http, y) if i["type"] == "thumb")["url"]
    assert fresh != thumb and http.get(local(fresh)).status_code == 200  # clients ask again


def test_the_original_is_reachable_only_where_it_was_handed_out(http: Any, world: dict, service: Any) -> None:
    y = signed_in(http, world)  # alice is not premium: `full` is stored, never listed
    send(http, y, [("p", "a.jpg", make_jpeg(800, 600))], caption0="x")
    images = listed_images(http, y)
    assert {i["type"] for i in images} == {"thumb", "screen"}
    thumb = next(i for i in images if i["type"] == "thumb")["url"]
    guessed = local(thumb).replace("_thumb.jpg", "_full.jpg")
    assert http.get(guessed).status_code == 403
    service.catalog.create_user("carol", "pw", premium=True)
    carol = signed_in(http, world, "carol", "pw")
    send(http, carol, [("p", "a.jpg", make_jpeg(800, 600))], caption0="x")
    full = next(i for i in listed_images(http, carol) if i["type"] == "full")["url"]
    assert http.get(local(full)).status_code == 200


def test_pending_photos_are_served_only_through_their_owners_urls(http: Any, world: dict) -> None:
    c = login(http, world["plain"])  # no photo_upload: pending
    data = json.loads(upload(http, c, make_jpeg(), extra={"format": "JSON"}).content)
    assert http.get(local(data["src"])).status_code == 200
    assert http.get(urlsplit(data["src"]).path).status_code == 403


def test_stored_originals_lose_their_gps_unless_the_operator_keeps_it(make_service: Any) -> None:
    photo = make_exif_jpeg(640, 480, gps=(48.8584, 2.2945), exif={0x010F: "Maker"})
    assert imgpipe.read_exif(photo).gps is not None
    for keep in (False, True):
        svc, http = make_service(keep_gps=keep)
        svc.catalog.create_user("alice", "wonderland", premium=True)
        app = svc.catalog.create_application("web")
        y = signed_in(http, {"app": app})
        assert send(http, y, [("p", "a.jpg", photo)], caption0="x").status_code == 200
        full = next(i for i in listed_images(http, y) if i["type"] == "full")["url"]
        stored = http.get(local(full)).content
        exif = imgpipe.read_exif(stored)
        assert exif.make == "Maker"
        assert (exif.gps is not None) is keep
        assert len(stored) == len(photo)  # a byte-level edit of the EXIF block, nothing re-encoded
