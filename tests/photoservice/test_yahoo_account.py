"""The V3.0 calls the page needs beside uploadPhotos: getSession, logout, approvePhoto / rejectPhoto, the
``status`` filter of listPhotos and the album covers of listAlbums. Each is authenticated like the others
(appid + WSSID + the ``Y`` cookie), through the in-process ASGI app."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from http.cookies import SimpleCookie
from typing import Any

import pytest

from .client import PlatformClient, YahooClient, make_jpeg, multipart
from .conftest import stored_keys

NS = "{urn:yahoo:photo}"


def sign_in(http: Any, appid: str, username: str = "alice", password: str = "wonderland") -> YahooClient:
    """Sign in as a browser does: the WSSID from the body, the cookie from Set-Cookie only."""
    y = YahooClient(appid)
    body, headers = y.login_form(username, password)
    resp = http.post("/V3.0/login", content=body, headers=headers)
    assert resp.status_code == 200, resp.content
    y.wssid = json.loads(resp.content)["LoginResponse"]["WSSID"]
    y.cookie = SimpleCookie(resp.headers["set-cookie"])["Y"].value
    return y


def call(http: Any, y: YahooClient, method: str, call_name: str, **query: Any) -> Any:
    return http.request(method, f"/V3.0/{call_name}", params=y.query(**query), headers=y.headers())


def json_of(resp: Any) -> Any:
    return json.loads(resp.content)


def messages(resp: Any) -> list[str]:
    data = json_of(resp)
    return data["Error"]["Message"]


def upload(http: Any, y: YahooClient, **query: Any) -> dict[str, Any]:
    body, ctype = multipart([], [("pic0", "a.jpg", make_jpeg())])
    resp = http.post(
        "/V3.0/uploadPhotos",
        params=y.query(caption0="c", output="json", **query),
        content=body,
        headers={"content-type": ctype, **y.headers()},
    )
    assert resp.status_code == 200, resp.content
    photo: dict[str, Any] = json_of(resp)["PhotoList"]["Photo"][0]
    return photo


def pending_photo(http: Any, world: dict[str, Any], caption: str = "from the phone") -> int:
    """A pending photo of alice, uploaded by an up.photos.upload application without photo_upload."""
    app = world["plain"]
    c = PlatformClient(app.api_key, app.secret)
    body, headers = c.form("up.auth.login", with_session=False, username="alice", password="wonderland", format="JSON")
    c.session_key = json.loads(http.post("/restserver.php", content=body, headers=headers).content)["session_key"]
    body, headers = c.upload(make_jpeg(), community="mycommunity", caption=caption, format="JSON")
    data = json.loads(http.post("/restserver.php", content=body, headers=headers).content)
    assert data.get("pid"), data
    return int(data["pid"])


def test_get_session_and_logout(http: Any, world: dict[str, Any]) -> None:
    y = sign_in(http, world["app"].api_key)
    resp = call(http, y, "GET", "getSession", output="json")
    assert resp.status_code == 200
    session = json_of(resp)["Session"]
    assert session["User"] == "alice" and session["Premium"] == "false" and session["Expires"].endswith("Z")
    root = ET.fromstring(call(http, y, "GET", "getSession").content)
    assert root.tag == f"{NS}Session" and root.findtext(f"{NS}User") == "alice"

    other = sign_in(http, world["app"].api_key)  # a second sign-in (another browser) is not affected
    out = call(http, y, "POST", "logout", output="json")
    assert out.status_code == 200 and json_of(out) == {"LogoutResponse": {"User": "alice"}}
    cleared = SimpleCookie(out.headers["set-cookie"])["Y"]
    assert cleared.value == "" and cleared["max-age"] == "0" and cleared["httponly"]
    # revoked server-side: the same cookie and WSSID no longer work anywhere, even if a client kept them
    for name, method in (("getSession", "GET"), ("listAlbums", "GET"), ("logout", "POST")):
        again = call(http, y, method, name, output="json")
        assert again.status_code == 401, name
        assert messages(again) == ["Invalid or expired credentials: sign in again."]
    assert call(http, other, "GET", "getSession", output="json").status_code == 200


def test_new_calls_are_authenticated_like_the_others(http: Any, world: dict[str, Any]) -> None:
    y = sign_in(http, world["app"].api_key)
    bob = sign_in(http, world["app"].api_key, "bob", "builder")
    for name, method in (("getSession", "GET"), ("logout", "POST"), ("approvePhoto", "POST"), ("rejectPhoto", "POST")):
        no_cookie = http.request(method, f"/V3.0/{name}", params=y.query(output="json", pid="1"))
        assert no_cookie.status_code == 401 and messages(no_cookie) == ["Missing auth cookie."], name
        no_wssid = http.request(
            method, f"/V3.0/{name}", params={"appid": y.appid, "output": "json", "pid": "1"}, headers=y.headers()
        )
        assert no_wssid.status_code == 401 and messages(no_wssid) == ["Missing parameter WSSID."], name
        crossed = http.request(method, f"/V3.0/{name}", params=bob.query(output="json", pid="1"), headers=y.headers())
        assert crossed.status_code == 401, name  # alice's cookie with bob's WSSID
        other_app = http.request(
            method,
            f"/V3.0/{name}",
            params={**y.query(output="json", pid="1"), "appid": world["plain"].api_key},
            headers=y.headers(),
        )
        assert other_app.status_code == 403, name
    # a GET never signs out (an <img src=".../logout"> on another site must not end the session)
    assert call(http, y, "GET", "logout", output="json").status_code in (404, 405)
    assert call(http, y, "GET", "getSession", output="json").status_code == 200


def test_approve_and_reject_pending_photos(http: Any, world: dict[str, Any], service: Any) -> None:
    keep, drop = pending_photo(http, world, "keep me"), pending_photo(http, world, "drop me")
    visible = upload(http, sign_in(http, world["app"].api_key))
    y = sign_in(http, world["app"].api_key)
    listed = json_of(call(http, y, "GET", "listPhotos", status="pending", output="json"))["PhotoList"]["Photo"]
    assert [(p["id"], p["Caption"]) for p in listed] == [(str(keep), "keep me"), (str(drop), "drop me")]
    # up.photos.upload's renditions are listed under their own names (they used to be left out)
    assert [i["type"] for i in listed[0]["ImageList"]] == ["src_big", "src", "src_small"]
    shown = json_of(call(http, y, "GET", "listPhotos", status="visible", output="json"))["PhotoList"]["Photo"]
    assert [p["id"] for p in shown] == [visible["id"]]
    everything = json_of(call(http, y, "GET", "listPhotos", output="json"))["PhotoList"]["Photo"]
    assert len(everything) == 3  # without status: every photo of the owner, as before
    bad = call(http, y, "GET", "listPhotos", status="deleted", output="json")
    assert bad.status_code == 400 and "Invalid status" in messages(bad)[0]

    # bob can neither see nor act on alice's pending photos; the answer does not tell them apart from none
    bob = sign_in(http, world["app"].api_key, "bob", "builder")
    for name in ("approvePhoto", "rejectPhoto"):
        refused = call(http, bob, "POST", name, pid=keep, output="json")
        assert refused.status_code == 400 and messages(refused) == [f"Invalid pid '{keep}': no such photo."]
    assert service.catalog.photo(keep).status == "pending"

    files_before = set(stored_keys(service))
    approved = call(http, y, "POST", "approvePhoto", pid=keep, output="json")
    assert approved.status_code == 200, approved.content
    assert json_of(approved)["PhotoList"]["Photo"][0]["id"] == str(keep)
    assert service.catalog.photo(keep).status == "visible"
    again = call(http, y, "POST", "approvePhoto", pid=keep, output="json")
    assert again.status_code == 400 and messages(again) == [f"Photo {keep} is not pending."]
    assert call(http, y, "POST", "rejectPhoto", pid=visible["id"], output="json").status_code == 400

    # reject: parameters in a urlencoded body work as for createAlbum; rows go, then the files
    drop_keys = {r.file_key for r in service.catalog.photo(drop).renditions}
    rejected = http.post(
        "/V3.0/rejectPhoto",
        params={"appid": y.appid},
        headers={**y.headers(), "content-type": "application/x-www-form-urlencoded"},
        content=f"WSSID={y.wssid}&pid={drop}".encode(),
    )
    assert rejected.status_code == 200, rejected.content
    assert ET.fromstring(rejected.content).findtext(f"{NS}PhotoId") == str(drop)
    assert service.catalog.photo(drop) is None
    assert set(stored_keys(service)) == files_before - drop_keys
    for pid in ("", "abc", "²", str(drop)):
        gone = call(http, y, "POST", "rejectPhoto", pid=pid, output="json")
        assert gone.status_code == 400, pid
    assert messages(call(http, y, "POST", "rejectPhoto", output="json")) == ["Missing parameter pid."]
    assert json_of(call(http, y, "GET", "listPhotos", status="pending", output="json"))["PhotoList"]["Photo"] == []


def test_album_covers_and_counts(http: Any, world: dict[str, Any]) -> None:
    y = sign_in(http, world["app"].api_key)
    made = json_of(call(http, y, "POST", "createAlbum", name="Trip", output="json"))["AlbumList"][0]
    assert made["cover"] == "" and made["size"] == 0
    empty = json_of(call(http, y, "POST", "createAlbum", name="Empty", output="json"))["AlbumList"][0]
    upload(http, y, aid=made["id"])
    latest = upload(http, y, aid=made["id"])
    upload(http, y)  # no album: counts for no album, covers none
    pending_photo(http, world)  # lands in the application's album, pending: counted, never a cover
    albums = {a["name"]: a for a in json_of(call(http, y, "GET", "listAlbums", output="json"))["AlbumList"]}
    thumb = next(i["url"] for i in latest["ImageList"] if i["type"] == "thumb")
    assert albums["Trip"]["size"] == 2 and albums["Trip"]["cover"] == thumb
    assert albums["Empty"]["size"] == 0 and albums["Empty"]["cover"] == ""
    app_album = albums["plain Photos"]
    assert app_album["size"] == 1 and app_album["cover"] == ""
    assert http.get(thumb.replace("http://testserver", ""), headers=y.headers()).status_code == 200
    root = ET.fromstring(call(http, y, "GET", "listAlbums").content)
    covers = {a.get("{urn:yahoo:photo:album}id"): a.findtext(f"{NS}Cover") for a in root.iter(f"{NS}Album")}
    assert covers[made["id"]] == thumb and covers[empty["id"]] is None


@pytest.mark.parametrize("output", ["json", "xml"])
def test_control_characters_in_the_new_documents(http: Any, world: dict[str, Any], service: Any, output: str) -> None:
    service.catalog.create_user("x\x01y", "pw")
    y = sign_in(http, world["app"].api_key, "x\x01y", "pw")
    for method, name in (("GET", "getSession"), ("POST", "logout")):
        resp = call(http, y, method, name, output=output)
        assert resp.status_code == 200
        if output == "xml":
            ET.fromstring(resp.content)
        else:
            json_of(resp)
