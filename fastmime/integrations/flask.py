"""Flask (and any Werkzeug app): stream the WSGI input into fastmime before Werkzeug's form parser.

::

    from fastmime.integrations.flask import parse_form

    @app.post("/upload")
    def upload():
        with parse_form() as form:                  # instead of request.form / request.files
            ...

``stream_request(handler_for)`` streams each part to your handler instead. Both read
``request.environ["wsgi.input"]`` through :mod:`fastmime.wsgi` (Content-Length honoured, chunked
bodies when the server terminates the input), so call them before anything touches
``request.form``, ``request.files``, ``request.data`` or ``request.get_data()``: those make Werkzeug
parse or buffer the body, and :class:`~fastmime.integrations.BodyConsumed` is raised then. Unlike
Werkzeug's parser, a file part without a name is kept (under ``""``). When ``limits`` is not given
and Flask's ``MAX_CONTENT_LENGTH`` is set, it becomes ``Limits(max_body_size=...)``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .. import wsgi
from .._adapter import HandlerFor, Progress
from .._form import Form
from .._limits import Limits
from . import BodyConsumed

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

__all__ = ["stream_request", "parse_form", "error_response"]

# What Werkzeug caches on the request once it has read the body.
_BODY_READERS = ("form", "files", "values", "data", "stream", "_cached_data", "_cached_json")


def _current(request: Request | None) -> Request:
    if request is not None:
        return request
    from flask import request as current

    return current._get_current_object()  # type: ignore[attr-defined]


def _check(request: Request, limits: Limits | None) -> Limits | None:
    state = request.__dict__
    if any(name in state for name in _BODY_READERS):
        raise BodyConsumed("the request body was already read (request.form, .files, .values, .data, .stream, "
                           ".get_data() or .get_json()); call fastmime first")
    if limits is None:
        maximum = request.max_content_length
        if maximum is not None:
            limits = Limits(max_body_size=maximum)
    return limits


def stream_request(handler_for: HandlerFor, *, request: Request | None = None, limits: Limits | None = None,
                   progress: Progress | None = None) -> None:
    """Stream the current (or the given) request's multipart body to ``handler_for``'s handlers.

    Same contract as :func:`fastmime.wsgi.stream_request`.
    """
    request = _current(request)
    limits = _check(request, limits)
    wsgi.stream_request(request.environ, handler_for, limits=limits, progress=progress)


def parse_form(*, request: Request | None = None, limits: Limits | None = None, progress: Progress | None = None,
               spool_threshold: int = 1024 * 1024, upload_dir: str | os.PathLike[str] | None = None) -> Form:
    """The current (or the given) request's fields and files as a :class:`fastmime.Form`.

    multipart/form-data and application/x-www-form-urlencoded bodies.
    """
    request = _current(request)
    limits = _check(request, limits)
    return wsgi.parse_form(request.environ, limits=limits, progress=progress, spool_threshold=spool_threshold,
                           upload_dir=upload_dir)


def error_response(exc: BaseException) -> Any:
    """A Flask plain-text response with the status of :func:`fastmime.http.http_error`, or ``None``."""
    from flask import Response

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    return Response(message + "\n", status=status, mimetype="text/plain")
