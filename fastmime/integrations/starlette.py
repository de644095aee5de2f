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
from typing import TYPE_CHECKING, Any

from .. import asgi
from .._adapter import HandlerFor, Progress
from .._errors import ClientDisconnected
from .._form import Form
from .._limits import Limits
from .._pull import AsyncStreamedPart, aiter_parts
from . import BodyConsumed

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["stream_request", "parse_form", "iter_parts", "error_response", "register_error_handlers"]


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    from starlette.requests import ClientDisconnect

    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect as exc:
        raise ClientDisconnected("the client disconnected before the end of the body") from exc
    except RuntimeError as exc:  # "Stream consumed": request.form() or request.stream() ran before
        raise BodyConsumed("the request body was already read; call fastmime before request.form()") from exc


async def stream_request(
    request: Request,
    handler_for: HandlerFor,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> None:
    """Stream the request's multipart body to the handlers ``handler_for(part)`` returns.

    Same contract as :func:`fastmime.asgi.stream_request`.
    """
    await asgi.stream_body(
        _chunks(request),
        request.headers.get("content-type"),
        handler_for,
        content_length=request.headers.get("content-length"),
        limits=limits,
        progress=progress,
        executor=executor,
    )


async def parse_form(
    request: Request,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int = 1024 * 1024,
    executor: Executor | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """The request's fields and files as a :class:`fastmime.Form` (close it, or use ``with``).

    multipart/form-data and application/x-www-form-urlencoded bodies, like ``request.form()``.
    """
    return await asgi.parse_body(
        _chunks(request),
        request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        limits=limits,
        progress=progress,
        spool_threshold=spool_threshold,
        executor=executor,
        upload_dir=upload_dir,
    )


def iter_parts(request: Request, *, limits: Limits | None = None) -> AsyncIterator[AsyncStreamedPart]:
    """The request's parts one at a time (the pull API, :func:`fastmime.aiter_parts`)::

    async for part in iter_parts(request):
        async for block in part: ...
    """
    return aiter_parts(_chunks(request), request.headers.get("content-type"), limits)


def error_response(exc: BaseException, *, json: bool = False) -> Response | None:
    """A response with the status of :func:`fastmime.http.http_error`, or ``None`` for other errors.

    Plain text, or ``{"detail": message}`` (FastAPI's shape) when ``json`` is true.
    """
    from starlette.responses import JSONResponse, PlainTextResponse

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    if json:
        return JSONResponse({"detail": message}, status_code=status)
    return PlainTextResponse(message + "\n", status_code=status)


def register_error_handlers(app: Any, *error_classes: type[BaseException], json: bool | None = None) -> None:
    """Answer :class:`~fastmime.MultipartError` (and each of ``error_classes``, e.g. ``imgpipe.ImageError``)
    with its status and short message instead of a 500.

    ``json`` (default: true for a FastAPI app) answers ``{"detail": message}`` as FastAPI does.
    """
    from .._errors import MultipartError

    if json is None:
        json = any(cls.__module__.startswith("fastapi") for cls in type(app).__mro__)
    as_json = json

    async def handle(request: Request, exc: Exception) -> Response:
        response = error_response(exc, json=as_json)
        if response is None:  # an error class without an http_status: let it be a 500
            raise exc
        return response

    for cls in (MultipartError, *error_classes):
        app.add_exception_handler(cls, handle)
