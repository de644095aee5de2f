"""Parse a multipart/form-data request body under any WSGI server (PEP 3333).

:func:`stream_request` reads ``wsgi.input`` in bounded chunks (``CHUNK_SIZE``, 1 MiB) and feeds the parser; each part's
body goes to the handler your ``handler_for(part)`` returns, so a large upload never sits in memory.
:func:`parse_form` is the convenience on top: fields and (spooled) files in a :class:`~fastmime.Form`.

How the body's end is found:

* With a Content-Length, exactly that many bytes are read, never one more (the next request on a
  keep-alive connection may follow). If the input ends earlier, the client went away:
  :class:`~fastmime.ClientDisconnected`. A read that raises ``OSError`` (gunicorn's ``NoMoreData``,
  Django's ``UnreadablePostError``) means the same.
* Without one (``Transfer-Encoding: chunked``), the body is read to EOF, but only when the server
  says that EOF is the body's end (``environ["wsgi.input_terminated"]``, which gunicorn, waitress
  and Werkzeug's dev server set). Otherwise the request is refused with :class:`LengthRequired`
  before any read: reading an unterminated input could block for ever.

Before reading anything, a Content-Type that is not multipart gives :class:`~fastmime.NotMultipart`
(HTTP 415), a missing or bad boundary :class:`~fastmime.MissingBoundary` /
:class:`~fastmime.InvalidBoundary` (400), and a Content-Length over ``limits.max_body_size``
:class:`~fastmime.BodyTooLarge` (413). ``fastmime.http.http_error(exc)`` maps all of them to a
status and a short message.

The parser runs in the calling thread (WSGI servers run each request in a thread or process of its
own). On any error every open handler gets ``on_abort(error)`` before the error propagates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import _pull
from ._adapter import (
    CHUNK_SIZE,
    HandlerFor,
    InvalidContentLength,
    LengthRequired,
    Progress,
    announced_length,
    prepare,
    short_body,
)
from ._errors import ClientDisconnected
from ._form import Form, _FormBuilder, read_urlencoded
from ._limits import Limits
from ._pull import StreamedPart
from ._transfer import decode_parts
from ._urlencoded import is_urlencoded

__all__ = [
    "stream_request",
    "stream_body",
    "parse_form",
    "iter_parts",
    "body_chunks",
    "LengthRequired",
    "InvalidContentLength",
    "CHUNK_SIZE",
]


def stream_request(
    environ: Mapping[str, Any],
    handler_for: HandlerFor,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> None:
    """Stream the request body of ``environ`` through the parser to the handlers ``handler_for`` returns.

    Returns once the close delimiter was parsed and every part's handler got ``on_end()``. Raises a
    :class:`~fastmime.MultipartError` (see the module docs) after calling ``on_abort`` on the open
    part's handler. Parts that had already ended are the caller's to discard: ``handler_for`` made
    their handlers. ``progress(received, expected)`` is called after each chunk with the body bytes
    received so far and the Content-Length (``None`` when the body is chunked).
    """
    stream_body(
        environ["wsgi.input"].read,
        environ.get("CONTENT_TYPE"),
        handler_for,
        content_length=environ.get("CONTENT_LENGTH"),
        terminated=bool(environ.get("wsgi.input_terminated", False)),
        limits=limits,
        progress=progress,
    )


def stream_body(
    read: Callable[[int], bytes],
    content_type: str | bytes | None,
    handler_for: HandlerFor,
    *,
    content_length: str | int | None = None,
    terminated: bool = False,
    limits: Limits | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """:func:`stream_request` for any blocking ``read(n)`` (a WSGI input, Django's ``request.read``).

    ``terminated`` says that ``read`` returns ``b""`` at the end of the body, which makes a missing
    ``content_length`` acceptable.
    """
    from . import MultipartParser

    boundary, expected = prepare(content_type, content_length, limits)
    chunks = body_chunks(read, expected, terminated, chunk_size)
    parser = MultipartParser(boundary, decode_parts(handler_for), limits)
    try:
        for data in chunks:
            parser.feed(data)
            if progress is not None:
                progress(parser.received, expected)
        parser.close()
    except BaseException as exc:
        parser.abort(exc)  # no-op when the parser already failed or finished
        raise


def body_chunks(
    read: Callable[[int], bytes], expected: int | None, terminated: bool, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The body as ``read`` gives it, in pieces of at most ``chunk_size``, never past ``expected``.

    Raises :class:`LengthRequired` at once when the length is unknown and the input not terminated,
    and :class:`~fastmime.ClientDisconnected` when the input ends early or a read fails.
    """
    if expected is None and not terminated:
        raise LengthRequired(
            "the request has no Content-Length and the server does not mark the end of the body (wsgi.input_terminated)"
        )
    return _read_chunks(read, expected, chunk_size)


def _read_chunks(read: Callable[[int], bytes], expected: int | None, chunk_size: int) -> Iterator[bytes]:
    received = 0
    remaining = expected
    while remaining is None or remaining > 0:
        want = chunk_size if remaining is None or remaining > chunk_size else remaining
        try:
            data = read(want)
        except OSError as exc:
            raise ClientDisconnected(f"reading the body failed: {exc}", offset=received) from exc
        if not data:
            if expected is None:
                return
            raise short_body(received, expected)
        if remaining is not None:
            if len(data) > remaining:  # a misbehaving input: never take more than announced
                data = data[:remaining]
            remaining -= len(data)
        received += len(data)
        yield data


def iter_parts(environ: Mapping[str, Any], *, limits: Limits | None = None) -> Iterator[StreamedPart]:
    """The parts of the request body, one at a time (the pull API; see :func:`fastmime.iter_parts`)::

        for part in fastmime.wsgi.iter_parts(environ):
            for block in part:          # the part's body as bytes chunks; a part not read is skipped
                ...

    Content-Type and Content-Length are checked at once, as by :func:`stream_request`; the body is
    read (``CHUNK_SIZE`` at a time, never past Content-Length) as the parts are.
    """
    content_type = environ.get("CONTENT_TYPE")
    _, expected = prepare(content_type, environ.get("CONTENT_LENGTH"), limits)
    chunks = body_chunks(environ["wsgi.input"].read, expected, bool(environ.get("wsgi.input_terminated", False)))
    return _pull.iter_parts(chunks, content_type, limits)


def parse_form(
    environ: Mapping[str, Any],
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int = 1024 * 1024,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """Parse the request body into a :class:`~fastmime.Form` of text fields and files.

    Accepts multipart/form-data and application/x-www-form-urlencoded (fields only, same limits).
    Files stay in memory up to ``spool_threshold`` bytes, then go to anonymous temporary files in
    ``upload_dir`` (``tempfile``'s directory when ``None``: set ``TMPDIR`` to move them). A file part
    without a name (some API clients send ``Content-Disposition: form-data; filename="x.jpg"``) is
    under the key ``""``. On any error every file is released before the error propagates. Close the
    form when done (``with fastmime.wsgi.parse_form(environ) as form: ...``).
    """
    content_type = environ.get("CONTENT_TYPE")
    if is_urlencoded(content_type):
        expected = announced_length(environ.get("CONTENT_LENGTH"), limits)
        chunks = body_chunks(environ["wsgi.input"].read, expected, bool(environ.get("wsgi.input_terminated", False)))
        return read_urlencoded(chunks, content_type, expected, limits, progress)
    with _FormBuilder(spool_threshold, upload_dir) as builder:
        stream_request(environ, builder.handler_for, limits=limits, progress=progress)
        return builder.build()
