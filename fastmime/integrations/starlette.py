"""Starlette and FastAPI: stream ``request.stream()`` into fastmime instead of ``await request.form()``.

::

    from fastmime.integrations.starlette import parse_form

    async def upload(request):                      # a Starlette endpoint or a FastAPI route
        with await parse_form(request) as form:     # files spooled, parsed in a worker thread
            ...

``stream_request(request, handler_for)`` streams each part to your handler instead (an imgpipe
handler, a hashing handler, a direct-to-storage writer). Both run the parser and the handlers in
:mod:`fastmime.asgi`'s bounded worker pool, with back-pressure: the next chunk is read from the
client only after the previous one was handled. A client that disconnects raises
:class:`fastmime.ClientDisconnected` after the open handler was aborted (and, for ``parse_form``,
every file released). In FastAPI, take ``request: Request`` as the route's parameter and declare no
``File``/``Form`` parameters, which would make FastAPI parse the body first.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from .. import asgi
from .._adapter import HandlerFor, Progress
from .._errors import ClientDisconnected
from .._form import Form
from .._limits import Limits
from . import BodyConsumed

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["stream_request", "parse_form", "error_response"]


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    from starlette.requests import ClientDisconnect

    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect as exc:
        raise ClientDisconnected("the client disconnected before the end of the body") from exc
    except RuntimeError as exc:  # "Stream consumed": request.form() or request.stream() ran before
        raise BodyConsumed("the request body was already read; call fastmime before request.form()") from exc


async def stream_request(request: Request, handler_for: HandlerFor, *, limits: Limits | None = None,
                         progress: Progress | None = None, executor: Executor | None = None) -> None:
    """Stream the request's multipart body to the handlers ``handler_for(part)`` returns.

    Same contract as :func:`fastmime.asgi.stream_request`.
    """
    await asgi.stream_body(_chunks(request), request.headers.get("content-type"), handler_for,
                           content_length=request.headers.get("content-length"), limits=limits,
                           progress=progress, executor=executor)


async def parse_form(request: Request, *, limits: Limits | None = None, progress: Progress | None = None,
                     spool_threshold: int = 1024 * 1024, executor: Executor | None = None,
                     upload_dir: str | os.PathLike[str] | None = None) -> Form:
    """The request's fields and files as a :class:`fastmime.Form` (close it, or use ``with``).

    multipart/form-data and application/x-www-form-urlencoded bodies, like ``request.form()``.
    """
    return await asgi.parse_body(_chunks(request), request.headers.get("content-type"),
                                 content_length=request.headers.get("content-length"), limits=limits,
                                 progress=progress, spool_threshold=spool_threshold, executor=executor,
                                 upload_dir=upload_dir)


def error_response(exc: BaseException) -> Response | None:
    """A plain-text response with the status of :func:`fastmime.http.http_error`, or ``None``."""
    from starlette.responses import PlainTextResponse

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    return PlainTextResponse(message + "\n", status_code=status)


