"""Django: a view helper that streams the request body through fastmime.

::

    from django.views.decorators.csrf import csrf_exempt
    from fastmime.integrations.django import parse_form

    @csrf_exempt                                   # see "CSRF" below
    def upload(request):
        with parse_form(request) as form:          # instead of request.POST / request.FILES
            ...

``stream_request(request, handler_for)`` streams each part to your handler instead.

Why a view helper and not a custom upload handler: Django's upload handlers are called by Django's
own ``MultiPartParser``, which skips every part without a ``name`` (so a file sent as
``Content-Disposition: form-data; filename="x.jpg"`` never reaches a handler), only tells a handler
about files (not the part's headers, not fields), and reports problems as its own exceptions. The
``handle_raw_input`` hook could replace the parser, but results must then be squeezed into
``request.POST``/``request.FILES`` and any error surfaces from a ``request.POST`` access somewhere in
the middleware, as a 500. A view helper keeps fastmime's per-part streaming (an imgpipe handler, a
hashing handler, a writer straight to storage), fastmime's limits and its error classes, which
:func:`fastmime.http.http_error` maps to statuses; the nameless file part is under ``""``.

It reads through ``request.read()`` (Django's stream, bounded by Content-Length) in 64 KiB chunks, so
under WSGI the upload is streamed from the socket as it arrives; under ASGI, Django has already
spooled the body to a temporary file before the view runs, and the helper streams from there. A
chunked body under WSGI (no Content-Length) is read from ``wsgi.input`` directly when the server
marks it terminated (Django's own parser sees an empty body then).

CSRF: ``CsrfViewMiddleware`` reads ``request.POST`` for every POST to a view that is not
``csrf_exempt``, which makes Django parse (and consume) the body before the view runs; the helper
then raises :class:`~fastmime.integrations.BodyConsumed`. Mark streaming upload views
``csrf_exempt`` and authenticate them another way (a token header, an API key).
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

from .. import wsgi
from .._adapter import HandlerFor, Progress, announced_length
from .._form import Form, _FormBuilder, read_urlencoded
from .._urlencoded import is_urlencoded
from .._limits import Limits
from . import BodyConsumed

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

__all__ = ["stream_request", "parse_form", "error_response"]


def _source(request: HttpRequest) -> tuple[Any, bool]:
    """``(read, terminated)`` for the request's body, or :class:`BodyConsumed`."""
    if hasattr(request, "_body"):  # request.body was read: the bytes are in memory already
        return io.BytesIO(request._body).read, True  # type: ignore[attr-defined]
    if getattr(request, "_read_started", False):
        raise BodyConsumed("the request body was already read (request.POST, .FILES, .read()); "
                           "call fastmime first, and make the view csrf_exempt")
    environ = getattr(request, "environ", None)
    meta = request.META
    if environ is not None and not meta.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
        # WSGIRequest bounds its stream by Content-Length (0 when absent): read the terminated input.
        request._read_started = True  # type: ignore[attr-defined]
        return environ["wsgi.input"].read, True
    # ASGIRequest's stream is a spooled file holding the whole body: its EOF is the end.
    terminated = type(request).__name__ == "ASGIRequest"
    return request.read, terminated


def stream_request(request: HttpRequest, handler_for: HandlerFor, *, limits: Limits | None = None,
                   progress: Progress | None = None) -> None:
    """Stream the request's multipart body to the handlers ``handler_for(part)`` returns.

    Same contract as :func:`fastmime.wsgi.stream_request`.
    """
    read, terminated = _source(request)
    wsgi.stream_body(read, request.META.get("CONTENT_TYPE"), handler_for,
                     content_length=request.META.get("CONTENT_LENGTH"), terminated=terminated,
                     limits=limits, progress=progress)


def parse_form(request: HttpRequest, *, limits: Limits | None = None, progress: Progress | None = None,
               spool_threshold: int | None = None, upload_dir: str | os.PathLike[str] | None = None) -> Form:
    """The request's fields and files as a :class:`fastmime.Form` (close it, or use ``with``).

    multipart/form-data and application/x-www-form-urlencoded bodies. ``spool_threshold`` defaults to
    Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE``, ``upload_dir`` to ``FILE_UPLOAD_TEMP_DIR``.
    """
    from django.conf import settings

    if spool_threshold is None:
        spool_threshold = int(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    if upload_dir is None:
        upload_dir = settings.FILE_UPLOAD_TEMP_DIR
    content_type = request.META.get("CONTENT_TYPE")
    if is_urlencoded(content_type):
        read, terminated = _source(request)
        expected = announced_length(request.META.get("CONTENT_LENGTH"), limits)
        return read_urlencoded(wsgi.body_chunks(read, expected, terminated), content_type, expected, limits,
                               progress)
    with _FormBuilder(spool_threshold, upload_dir) as builder:
        stream_request(request, builder.handler_for, limits=limits, progress=progress)
        return builder.build()


def error_response(exc: BaseException) -> HttpResponse | None:
    """A plain-text ``HttpResponse`` with the status of :func:`fastmime.http.http_error`, or ``None``."""
    from django.http import HttpResponse

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
