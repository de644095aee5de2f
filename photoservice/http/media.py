"""``GET /media/<key>?exp=...&sig=...``: stored image files, to holders of a signed URL, with ETag and Range.

Every photo is private to its owner, so a file is served only with a valid, unexpired signature
(:mod:`photoservice.apis.links`) handed out in its owner's answers: 403 otherwise, whatever the key.
Only keys of the server's own shape that a photo names are served; anything else is 404. A ``Range:
bytes=a-b`` request gets 206 with that part (one range; several ranges get the whole file, as RFC 9110
allows), an unsatisfiable one 416; ``If-None-Match`` with the current entity tag gets 304. Responses may be
cached privately until the URL expires, and are never sent with a Referer to other sites.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..apis.links import MediaSigner
from ..storage import Catalog, FileStore
from ..storage.files import MEDIA_TYPES, valid_key
from .messages import Request, Response

__all__ = ["serve_media"]


class _Unsatisfiable(Exception):
    """The range lies outside the file (416)."""


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(offset, length) of a single byte range, None when there is none to honour; :class:`_Unsatisfiable`."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    if not ((first.isascii() and first.isdigit()) or first == "") or not (
        (last.isascii() and last.isdigit()) or last == ""
    ):
        return None
    if first == "":
        if not last or int(last) == 0:
            raise _Unsatisfiable
        start = max(0, size - int(last))
        return start, size - start
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise _Unsatisfiable
    end = min(end, size - 1)
    return start, end - start + 1


def serve_media(request: Request, key: str, signer: MediaSigner, catalog: Catalog, files: FileStore) -> Response:
    """The response for one media request."""
    query = dict(parse_qsl(request.query_string))
    left = signer.check(key, query.get("exp", ""), query.get("sig", ""))
    if left is None:
        return Response.text("forbidden: media URLs are signed and expire; ask the API for a fresh one\n", 403)
    if not valid_key(key) or not catalog.file_key_known(key):
        return Response.text("not found\n", 404)
    try:
        stored = files.stat(key)
    except (FileNotFoundError, OSError):
        return Response.text("not found\n", 404)
    headers = [
        ("content-type", MEDIA_TYPES[key.rsplit(".", 1)[1]]),
        ("cache-control", f"private, max-age={int(left)}"),
        ("etag", stored.etag),
        ("accept-ranges", "bytes"),
        ("referrer-policy", "no-referrer"),
    ]
    if request.header("if-none-match") == stored.etag:
        return Response(304, headers)
    try:
        wanted = _range(request.header("range"), stored.size)
    except _Unsatisfiable:
        return Response(416, [("content-range", f"bytes */{stored.size}")])
    if wanted is not None:
        offset, length = wanted
        headers.append(("content-range", f"bytes {offset}-{offset + length - 1}/{stored.size}"))
        return Response(206, headers, file_key=key, file_offset=offset, file_length=length)
    return Response(200, headers, file_key=key, file_length=stored.size)
