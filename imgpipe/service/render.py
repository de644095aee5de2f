"""The bridge to the libraries: image handlers, error classification, and every response body.

PhotoList, photos_upload_response, error_response and the Yahoo error come from imgpipe's response classes
(the library is the one place that knows those shapes). The small bodies of the supporting calls
(login, album lists, up.* results) are written here with the same conventions.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from concurrent.futures import Executor, Future
from typing import Any, Callable, Sequence
from xml.etree import ElementTree as ET

import fastmime
import imgpipe

from .config import Config
from .core import Request, Response, Service
from .store import Album, PhotoRecord

__all__ = ["image_handler", "DeferredExecutor", "handler_outcome", "close_handler", "multipart_limits", "is_image_error",
           "is_multipart_error", "is_file_too_large", "multipart_status", "photolist", "yahoo_error",
           "yahoo_login", "album_list", "platform_result", "platform_error", "platform_photo", "album_dict",
           "UploadResult"]

_XML_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


# ----------------------------------------------------------------------------------------- images
def _image_limits(config: Config) -> Any:
    return imgpipe.ImageLimits(max_pixels=config.max_image_pixels, max_bytes=config.max_file_bytes)


def image_handler(part: Any, kind: str, config: Config, executor: Executor | None = None) -> imgpipe.ImageHandler:
    """An ``imgpipe.ImageHandler`` making the renditions of one API (``"yahoo"`` or ``"platform"``).

    With ``executor`` (e.g. a :class:`DeferredExecutor`), the pipeline runs there instead of when the
    part ends.
    """
    renditions = imgpipe.YAHOO_RENDITIONS if kind == "yahoo" else imgpipe.PLATFORM_RENDITIONS
    return imgpipe.ImageHandler(part, renditions=renditions, limits=_image_limits(config), executor=executor)


class DeferredExecutor(Executor):
    """Holds submitted work until :meth:`run`: images are decoded only once the request is authorized.

    The platform API learns whether a request is signed and in session only after the whole body
    (the image included) has arrived; decoding before that would let anyone make the server decode
    images. An image handler given this executor spools and hashes as the part arrives; ``run()``
    (after the checks) makes the renditions; a request that fails its checks is closed unprocessed.
    """

    def __init__(self) -> None:
        self._jobs: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.append((future, fn, args, kwargs))
        return future

    def run(self) -> None:
        """Run every job not cancelled, in order, in the calling thread."""
        jobs, self._jobs = self._jobs, []
        for future, fn, args, kwargs in jobs:
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - the future carries it to the caller
                future.set_exception(exc)


def handler_outcome(handler: imgpipe.ImageHandler) -> tuple[imgpipe.ProcessedImage | None, BaseException | None]:
    """(ProcessedImage or None, error or None) of a finished image handler."""
    error = handler.error
    if error is None and handler.result is None:
        error = imgpipe.ImageError("the image part was not completed")
    return handler.result, error


def close_handler(handler: imgpipe.ImageHandler) -> None:
    """Release whatever an image handler still holds (spool files)."""
    try:
        handler.close()
    except Exception:  # noqa: BLE001 - cleanup only: the request's own outcome matters more
        pass


def multipart_limits(config: Config) -> Any:
    """fastmime limits for one upload request (text fields are bounded again by the service)."""
    return fastmime.Limits(max_parts=config.max_parts + 32, max_file_size=config.max_file_bytes,
                           max_field_size=max(config.max_file_bytes, config.max_field_bytes),
                           max_body_size=config.max_body_bytes)


def is_image_error(error: BaseException) -> bool:
    """Whether ``error`` is imgpipe's verdict on an image."""
    return isinstance(error, imgpipe.ImageError)


def is_multipart_error(error: BaseException) -> bool:
    """Whether ``error`` is a fastmime parse or limit error."""
    return isinstance(error, fastmime.MultipartError)


def is_file_too_large(error: BaseException) -> bool:
    """Whether ``error`` says a file part was too large (platform: an invalid image file)."""
    return isinstance(error, (fastmime.FileTooLarge, fastmime.FieldTooLarge))


def multipart_status(error: BaseException) -> int:
    """HTTP status fastmime suggests for its error (400, 413, 415)."""
    return int(getattr(error, "http_status", 400))


# ----------------------------------------------------------------------------------------- Yahoo
def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _yahoo_photo(service: Service, request: Request, p: PhotoRecord, premium: bool) -> Any:
    images = []
    for type_ in ("screen", "thumb", "full"):
        r = p.rendition(type_)
        if r is None or (type_ == "full" and not premium):
            continue
        images.append(imgpipe.PhotoImage(type=r.type, width=r.width, height=r.height, size=r.size, format=r.format,
                                         url=service.media_url(request, r.file_key)))
    return imgpipe.Photo(
        id=str(p.id), hr_width=p.width, hr_height=p.height, owner=p.owner_name, caption=p.caption,
        description=p.description, tags=list(p.tags), create_time=p.create_time or _iso(p.upload_time),
        upload_time=_iso(p.upload_time), mod_time=_iso(p.mod_time), images=images, exif=dict(p.exif) or None)


def photolist(service: Service, request: Request, photos: Sequence[PhotoRecord], premium: bool,
              output: str) -> Response:
    """A PhotoList (XML exactly in the sample's shape, or JSON) of stored photos with their real URLs."""
    plist = imgpipe.PhotoList([_yahoo_photo(service, request, p, premium) for p in photos])
    if output == "json":
        return Response(200, [("content-type", "application/json; charset=utf-8")], _bytes(plist.to_json()))
    return Response.xml(_bytes(plist.to_xml()))


def _bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def yahoo_error(status: int, messages: Sequence[str], output: str) -> Response:
    """The Yahoo web-services error body with its HTTP status."""
    err = imgpipe.YahooError(list(messages), status)
    if output == "json":
        return Response(status, [("content-type", "application/json; charset=utf-8")], _bytes(err.to_json()))
    return Response.xml(_bytes(err.to_xml()), status)


def yahoo_login(username: str, wssid: str, cookie: str, expires: float, premium: bool, output: str) -> Response:
    """Answer of ``/V3.0/login``: the WSSID, the auth cookie (also set as a cookie) and the expiry."""
    data = {"User": username, "WSSID": wssid, "Cookie": cookie, "Expires": _iso(expires),
            "Premium": "true" if premium else "false"}
    if output == "json":
        return Response.json({"LoginResponse": data})
    root = ET.Element("LoginResponse", {"xmlns": "urn:yahoo:photo"})
    for k, v in data.items():
        ET.SubElement(root, k).text = v
    return Response.xml(_XML_DECL + ET.tostring(root))


def album_list(albums: Sequence[Album], output: str) -> Response:
    """AlbumList of ``listAlbums`` / ``createAlbum``."""
    if output == "json":
        return Response.json({"AlbumList": [{"id": str(a.id), "name": a.name, "description": a.description,
                                             "kind": a.kind, "size": a.size, "created": _iso(a.created)}
                                            for a in albums]})
    root = ET.Element("AlbumList", {"xmlns": "urn:yahoo:photo", "xmlns:album": "urn:yahoo:photo:album"})
    for a in albums:
        el = ET.SubElement(root, "Album", {"album:id": str(a.id), "album:kind": a.kind, "album:size": str(a.size)})
        ET.SubElement(el, "Name").text = a.name
        ET.SubElement(el, "Description").text = a.description
        ET.SubElement(el, "CreateTime").text = _iso(a.created)
    return Response.xml(_XML_DECL + ET.tostring(root))


# ----------------------------------------------------------------------------------------- platform
@dataclass
class UploadResult:
    """Marks the up.photos.upload result, rendered by imgpipe.UploadResponse."""

    photo: dict[str, Any]


def platform_photo(service: Service, request: Request, p: PhotoRecord) -> dict[str, Any]:
    """A photo as the up.* calls return it (pid, aid, owner, src, src_big, src_small, link, caption, ...)."""
    def url(*types: str) -> str:
        for t in types:
            r = p.rendition(t)
            if r is not None:
                return service.media_url(request, r.file_key)
        return ""
    return {"pid": str(p.id), "aid": str(p.album_id) if p.album_id is not None else "", "owner": p.owner_id,
            "src": url("src", "thumb"), "src_big": url("src_big", "screen"), "src_small": url("src_small", "thumb"),
            "link": f"{service.base_url(request)}/#photo={p.id}", "caption": p.caption,
            "created": int(p.upload_time), "status": p.status}


def album_dict(service: Service, request: Request, a: Album) -> dict[str, Any]:
    """An album as up.photos.getAlbums / createAlbum return it."""
    return {"aid": str(a.id), "owner": a.owner_id, "name": a.name, "description": a.description,
            "size": a.size, "type": "app" if a.kind == "application" else "normal", "created": int(a.created),
            "link": f"{service.base_url(request)}/#album={a.id}"}


_LIST_ITEM = {"up.community.getList": "community", "up.photos.getAlbums": "album", "up.photos.get": "photo"}


def _to_xml(parent: ET.Element, value: Any, item: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _to_xml(ET.SubElement(parent, k), v, item)
    elif isinstance(value, list):
        parent.set("list", "true")
        for v in value:
            _to_xml(ET.SubElement(parent, item), v, item)
    elif isinstance(value, bool):
        parent.text = "1" if value else "0"
    else:
        parent.text = str(value)


def platform_result(method: str, data: Any, fmt: str, http_errors: bool) -> Response:
    """A successful up.* answer: ``<method_response>`` XML or the bare JSON value."""
    if isinstance(data, UploadResult):
        p = data.photo
        resp = imgpipe.UploadResponse(pid=p["pid"], aid=p["aid"], owner=p["owner"], src=p["src"],
                                      src_big=p["src_big"], src_small=p["src_small"], link=p["link"],
                                      caption=p["caption"])
        if fmt == "json":
            return Response(200, [("content-type", "application/json; charset=utf-8")], _bytes(resp.to_json()))
        return Response.xml(_bytes(resp.to_xml()))
    if fmt == "json":
        return Response.json(data)
    root = ET.Element(method.replace("up.", "", 1).replace(".", "_") + "_response")
    _to_xml(root, data, _LIST_ITEM.get(method, "item"))
    return Response.xml(_XML_DECL + ET.tostring(root))


def platform_error(code: int, message: str, args: Sequence[tuple[str, str]], fmt: str, status: int) -> Response:
    """``error_response`` with every received argument (the image is never an argument)."""
    err = imgpipe.ErrorResponse(error_code=code, error_msg=message, request_args=[(k, v) for k, v in args])
    if fmt == "json":
        return Response(status, [("content-type", "application/json; charset=utf-8")], _bytes(err.to_json()))
    return Response.xml(_bytes(err.to_xml()), status)
