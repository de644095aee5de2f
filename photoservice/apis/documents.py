"""The response documents of both APIs, in XML and JSON (the photo list itself comes from imgpipe).

uploadPhotos (Yahoo! V3.0 style): the ``<Error xmlns="urn:yahoo:api">`` document with one ``<Message>`` per
problem, ``LoginResponse``, ``AlbumList``, and the PhotoList (:class:`imgpipe.PhotoList`).
up.* (REST): ``photos_upload_response``, ``error_response`` with every received argument, and the other
methods' ``<method_response>`` documents (lists marked ``list="true"``). JSON mirrors each document.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from .messages import Reply
from .xml import XMLWriter, xml_safe

__all__ = [
    "iso_time",
    "yahoo_error",
    "yahoo_login",
    "yahoo_session",
    "yahoo_logout",
    "yahoo_rejected",
    "album_list",
    "method_response",
    "upload_response",
    "error_response",
]

NS_PHOTO = "urn:yahoo:photo"
NS_ALBUM = "urn:yahoo:photo:album"
NS_YAHOO_API = "urn:yahoo:api"
_LIST_ITEM = {"up.community.getList": "community", "up.photos.getAlbums": "album", "up.photos.get": "photo"}
_UPLOAD_FIELDS = ("pid", "aid", "owner", "src", "src_big", "src_small", "link", "caption")


def iso_time(ts: float) -> str:
    """ISO 8601 UTC time like the PhotoList sample (``2006-09-28T15:06:30Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _clean_json(value: Any) -> Any:
    """The same text in JSON as in XML: strings without the characters XML cannot carry."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def _json(data: Any, status: int = 200) -> Reply:
    return Reply.json(_clean_json(data), status)


# ------------------------------------------------------------------------------------------ uploadPhotos
def yahoo_error(status: int, messages: Sequence[str], output: str) -> Reply:
    """The Yahoo web-services error document, with its HTTP status."""
    if output == "json":
        return _json({"Error": {"Message": list(messages)}}, status)
    w = XMLWriter()
    w.start("Error", {"xmlns": NS_YAHOO_API})
    w.text("The following errors were detected:")
    for message in messages:
        w.element("Message", message)
    w.end("Error")
    return Reply.xml(w.document(), status)


def _flat(root: str, data: dict[str, str], output: str) -> Reply:
    """A flat document: ``<root xmlns="urn:yahoo:photo"><Name>value</Name>...</root>``, or ``{root: data}``."""
    if output == "json":
        return _json({root: data})
    w = XMLWriter()
    w.start(root, {"xmlns": NS_PHOTO})
    for name, value in data.items():
        w.element(name, value)
    w.end(root)
    return Reply.xml(w.document())


def yahoo_login(username: str, wssid: str, expires: float, premium: bool, output: str) -> Reply:
    """The answer of ``/V3.0/login``: the user, the WSSID, the expiry and whether the account is premium.

    The auth cookie travels only in ``Set-Cookie`` (HttpOnly): never in the body, where a script could read it.
    """
    return _flat(
        "LoginResponse",
        {"User": username, "WSSID": wssid, "Expires": iso_time(expires), "Premium": "true" if premium else "false"},
        output,
    )


def yahoo_session(username: str, expires: float, premium: bool, output: str) -> Reply:
    """The answer of ``/V3.0/getSession``: whose credentials these are, until when, and whether premium."""
    return _flat(
        "Session", {"User": username, "Expires": iso_time(expires), "Premium": "true" if premium else "false"}, output
    )


def yahoo_logout(username: str, output: str) -> Reply:
    """The answer of ``/V3.0/logout``: who was signed out."""
    return _flat("LogoutResponse", {"User": username}, output)


def yahoo_rejected(photo_id: str, output: str) -> Reply:
    """The answer of ``/V3.0/rejectPhoto``: the id of the photo that was deleted."""
    return _flat("RejectResponse", {"PhotoId": photo_id}, output)


def album_list(albums: Sequence[Any], output: str, covers: Mapping[int, str] | None = None) -> Reply:
    """The AlbumList of ``listAlbums`` and ``createAlbum``; ``covers``: album id -> URL of its cover image."""
    covers = covers or {}
    if output == "json":
        return _json(
            {
                "AlbumList": [
                    {
                        "id": str(a.id),
                        "name": a.name,
                        "description": a.description,
                        "kind": a.kind,
                        "size": a.size,
                        "created": iso_time(a.created),
                        "cover": covers.get(a.id, ""),
                    }
                    for a in albums
                ]
            }
        )
    w = XMLWriter()
    w.start("AlbumList", {"xmlns": NS_PHOTO, "xmlns:album": NS_ALBUM})
    for a in albums:
        w.start("Album", {"album:id": a.id, "album:kind": a.kind, "album:size": a.size})
        w.element("Name", a.name)
        w.element("Description", a.description)
        w.element("CreateTime", iso_time(a.created))
        if covers.get(a.id):
            w.element("Cover", covers[a.id])
        w.end("Album")
    w.end("AlbumList")
    return Reply.xml(w.document())


# ------------------------------------------------------------------------------------------ up.*
def _value(w: XMLWriter, name: str, value: Any, item: str) -> None:
    if isinstance(value, dict):
        w.start(name)
        for k, v in value.items():
            _value(w, k, v, item)
        w.end(name)
    elif isinstance(value, list):
        w.start(name, {"list": "true"})
        for v in value:
            _value(w, item, v, item)
        w.end(name)
    elif isinstance(value, bool):
        w.element(name, "1" if value else "0")
    else:
        w.element(name, value)


def method_response(method: str, data: Any, fmt: str) -> Reply:
    """A successful up.* answer: ``<photos_getAlbums_response>``-style XML, or the bare JSON value."""
    if fmt == "json":
        return _json(data)
    w = XMLWriter()
    _value(w, method.replace("up.", "", 1).replace(".", "_") + "_response", data, _LIST_ITEM.get(method, "item"))
    return Reply.xml(w.document())


def upload_response(photo: dict[str, Any], fmt: str) -> Reply:
    """``photos_upload_response`` in the spec sample's order; JSON: the bare object, ids as strings."""
    fields = {name: photo[name] for name in _UPLOAD_FIELDS}
    if fmt == "json":
        return _json({**{k: str(v) for k, v in fields.items()}, "owner": int(fields["owner"])})
    w = XMLWriter()
    w.start("photos_upload_response")
    for name, value in fields.items():
        w.element(name, value)
    w.end("photos_upload_response")
    return Reply.xml(w.document())


def error_response(code: int, message: str, args: Sequence[tuple[str, str]], fmt: str, status: int) -> Reply:
    """``error_response`` with the code, the message and every received argument (never the image)."""
    if fmt == "json":
        return _json(
            {"error_code": code, "error_msg": message, "request_args": [{"key": k, "value": v} for k, v in args]},
            status,
        )
    w = XMLWriter()
    w.start("error_response")
    w.element("error_code", code)
    w.element("error_msg", message)
    w.start("request_args", {"list": "true"})
    for key, value in args:
        w.start("arg")
        w.element("key", key)
        w.element("value", value)
        w.end("arg")
    w.end("request_args")
    w.end("error_response")
    return Reply.xml(w.document(), status)
