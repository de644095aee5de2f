"""Parse a multipart/form-data request body under any ASGI server (uvicorn, hypercorn, daphne...).

:func:`stream_request` takes the body from ``receive()`` (``http.request`` messages, ``body`` and
``more_body``) and feeds it to the parser; each part's body goes to the handler your
``handler_for(part)`` returns. :func:`parse_form` is the convenience on top. :func:`stream_body`
does the same from any async iterable of chunks (Starlette's ``request.stream()``).

Where handlers run. A handler that declares itself cheap (``event_loop_safe = True``: the built-in
``ValueHandler``, ``DiscardHandler``, ``HashingHandler``, and ``SpooledFileHandler`` until it nears its
rollover to disk; see :mod:`fastmime.handlers`) is called on the event loop, with no thread hand-off:
parsing a chunk costs far less than receiving it. Every other handler is only ever called from a worker
thread of a bounded pool (``MAX_WORKERS`` threads, shared by all requests; under trio, trio's thread
pool), because it may block or be CPU-heavy (imgpipe decodes and resizes images). ``handler_for`` is
treated the same way: mark it with :func:`fastmime.handlers.event_loop_safe` when it only makes
handlers. The parser is fed on the loop while the latest part's handler is safe there (asked again every
``LOOP_SLICE`` bytes), otherwise in a worker; a part that starts in a chunk fed on the loop and whose
handler (or ``handler_for``) is not safe gets a stand-in that keeps what it receives (the rest of that
piece at most), then is replayed to the real handler in a worker before the next ``receive()``. Each
handler sees its calls in order, as always.

Back-pressure. A busy handler in a worker slows the reading of its own request: chunks that arrive
meanwhile are queued, up to ``READ_AHEAD`` bytes, and fed together in one hand-off when it is free;
past that, ``receive()`` is not called until the worker catches up, the server stops reading the
socket (uvicorn pauses the transport once its small buffer is full) and the body is never accumulated
in memory. One worker at a time owns a request's parser, so parser and handlers are never used by two
threads at once.

An ``http.disconnect`` before the end of the body aborts the open part's handler with
:class:`~fastmime.ClientDisconnected` and raises it (chunks queued for a worker are dropped);
:func:`parse_form` then also releases every file it had kept, so nothing is left behind. If the task
is cancelled while a worker feeds, the cancellation waits for that batch to return (it is bounded by
``READ_AHEAD``) before aborting the parser, so no handler is touched after the request is gone.

``benchmarks/compare_servers.py`` measures both paths: ``fastmime`` (the built-in handlers, on the
loop) against ``fastmime-thread`` (the same handlers, undeclared: in workers).

Content-Type and Content-Length are checked before the first ``receive()`` (see :mod:`fastmime.wsgi`);
a body without Content-Length is fine here: ASGI servers always mark its end with ``more_body=False``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from . import _pull
from ._adapter import HandlerFor, InvalidContentLength, LengthRequired, Progress, prepare, short_body
from ._dispatch import LOOP_SLICE, MAX_WORKERS, Dispatcher, ThreadFeeder, default_executor, run_in_thread
from ._errors import ClientDisconnected
from ._form import Form, _FormBuilder, aread_urlencoded
from ._limits import Limits
from ._pull import AsyncStreamedPart
from ._transfer import decode_parts
from ._urlencoded import is_urlencoded

__all__ = [
    "stream_request",
    "stream_body",
    "parse_form",
    "parse_body",
    "iter_parts",
    "MAX_WORKERS",
    "READ_AHEAD",
    "LOOP_SLICE",
    "LengthRequired",
    "InvalidContentLength",
]

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]

#: Body bytes read ahead of a handler busy in a worker thread before ``receive()`` waits for it.
READ_AHEAD: int = 512 * 1024


async def _in_thread(executor: Executor | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the given pool or the module's (trio's under trio); a cancel waits for the call."""
    return await run_in_thread(fn, *args, executor=executor)


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == wanted:
            return bytes(value)
    return None


async def stream_request(
    scope: Scope,
    receive: Receive,
    handler_for: HandlerFor,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> None:
    """Stream the body of an ASGI ``http`` request through the parser to the handlers.

    Returns once the close delimiter was parsed and every part's handler got ``on_end()``. Raises a
    :class:`~fastmime.MultipartError` (:class:`~fastmime.ClientDisconnected` on ``http.disconnect``)
    after calling ``on_abort`` on the open part's handler; parts that had already ended are the
    caller's to discard. ``progress(received, expected)`` runs on the event loop after each chunk.
    ``executor`` replaces the module's thread pool (for instance a pool sized for image work).
    """
    if scope.get("type") != "http":
        raise ValueError(f"fastmime.asgi needs an 'http' scope, not {scope.get('type')!r}")
    content_type = _header(scope, b"content-type")
    content_length = _header(scope, b"content-length")
    boundary, expected = prepare(content_type, content_length, limits)
    await _drive(_receive_chunks(receive), boundary, expected, decode_parts(handler_for), limits, progress, executor)


async def stream_body(
    chunks: AsyncIterable[bytes],
    content_type: str | bytes | None,
    handler_for: HandlerFor,
    *,
    content_length: str | bytes | int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> None:
    """:func:`stream_request` for any async iterable of body chunks (e.g. ``request.stream()``).

    The iterable ends at the end of the body; it raises :class:`~fastmime.ClientDisconnected` if
    the client goes away. ``content_length``, when given, is checked against the limits before the
    first chunk and against the bytes that arrive.
    """
    boundary, expected = prepare(content_type, content_length, limits)
    await _drive(chunks, boundary, expected, decode_parts(handler_for), limits, progress, executor)


async def _receive_chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        kind = message.get("type")
        if kind == "http.request":
            body = message.get("body", b"")
            if body:
                yield body
            if not message.get("more_body", False):
                return
        elif kind == "http.disconnect":
            raise ClientDisconnected("the client disconnected before the end of the body")


async def _drive(
    chunks: AsyncIterable[bytes],
    boundary: bytes,
    expected: int | None,
    handler_for: HandlerFor,
    limits: Limits | None,
    progress: Progress | None,
    executor: Executor | None,
) -> None:
    from . import MultipartParser

    dispatch = Dispatcher(handler_for)
    parser = MultipartParser(boundary, dispatch.handler_for, limits)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # trio: one feed per chunk through trio's threads
        feeder = None
    else:
        feeder = ThreadFeeder(loop, executor or default_executor(), parser.feed, READ_AHEAD)
    received = 0
    iterator = chunks.__aiter__()
    try:
        while True:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                break
            except ClientDisconnected as exc:
                if exc.offset is None:
                    exc.offset = received
                raise
            if not chunk:
                continue
            received += len(chunk)
            if feeder is not None and not feeder.idle:
                await feeder.put(chunk)  # behind chunks a worker has yet to feed: same order, same thread
            elif dispatch.loop_may_feed():
                rest = await _feed_on_loop(parser, dispatch, chunk, executor)
                if rest is not None and feeder is not None:
                    await feeder.put(rest)
                elif rest is not None:
                    await _in_thread(executor, parser.feed, rest)
            elif feeder is not None:
                await feeder.put(chunk)
            else:
                await _in_thread(executor, parser.feed, chunk)
            if progress is not None:
                progress(received, expected)
        if feeder is not None:
            await feeder.drain()
        if expected is not None and parser.received < expected:
            raise short_body(parser.received, expected)
        parser.close()
    except BaseException as exc:
        if feeder is not None:
            await feeder.stop()  # no handler is touched from a worker after this
        parser.abort(exc)  # no-op when the parser already failed or finished
        raise
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def _feed_on_loop(parser: Any, dispatch: Dispatcher, chunk: bytes, executor: Executor | None) -> bytes | None:
    """Feed ``chunk`` on the loop, ``LOOP_SLICE`` bytes at a time while the current part's handler is
    safe there; return what is left for a worker (None when all was fed).

    A handler's safety can change within a chunk (a spool nearing its rollover to disk), so it is
    checked again between slices: a chunk as large as the server likes is never fed to a handler on
    the loop much past the point where it said it no longer belongs there.
    """
    size = len(chunk)
    view = memoryview(chunk) if size > LOOP_SLICE else None
    start = 0
    while True:
        end = start + LOOP_SLICE
        dispatch.on_loop = True
        try:
            parser.feed(chunk if view is None else view[start:end])
        except BaseException:
            dispatch.on_loop = False
            if dispatch.deferred:  # parts started before the error: their handlers come first
                await _in_thread(executor, dispatch.replay)
            raise
        dispatch.on_loop = False
        if dispatch.deferred:  # parts whose handlers may not run on the loop: replayed in a worker
            await _in_thread(executor, dispatch.replay)
        if end >= size:
            return None
        start = end
        if not dispatch.loop_may_feed():
            return chunk[start:]


def iter_parts(scope: Scope, receive: Receive, *, limits: Limits | None = None) -> AsyncIterator[AsyncStreamedPart]:
    """The parts of the request body, one at a time (the pull API; see :func:`fastmime.aiter_parts`)::

        async for part in fastmime.asgi.iter_parts(scope, receive):
            async for block in part:    # the part's body as bytes chunks; a part not read is skipped
                ...

    Content-Type and Content-Length are checked at once, as by :func:`stream_request`. The parser
    runs on the event loop (it only copies each chunk for the consumer); ``receive()`` is called only
    when the consumer wants more than the last chunk gave.
    """
    if scope.get("type") != "http":
        raise ValueError(f"fastmime.asgi needs an 'http' scope, not {scope.get('type')!r}")
    content_type = _header(scope, b"content-type")
    _, expected = prepare(content_type, _header(scope, b"content-length"), limits)
    return _pull.aiter_parts(_up_to_length(_receive_chunks(receive), expected), content_type, limits)


async def _up_to_length(chunks: AsyncIterator[bytes], expected: int | None) -> AsyncIterator[bytes]:
    """``chunks``, then :class:`~fastmime.ClientDisconnected` if they were fewer than announced."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        yield chunk
    if expected is not None and received < expected:
        raise short_body(received, expected)


async def parse_form(
    scope: Scope,
    receive: Receive,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int = 1024 * 1024,
    executor: Executor | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """Parse the request body into a :class:`~fastmime.Form` of text fields and files.

    Accepts multipart/form-data and application/x-www-form-urlencoded (fields only, same limits).
    Files stay in memory up to ``spool_threshold`` bytes, then go to anonymous temporary files in
    ``upload_dir`` (written from the worker thread). A file part without a name is under the key
    ``""``. On any error, a disconnect included, every file is released before the error propagates.
    """
    if scope.get("type") != "http":
        raise ValueError(f"fastmime.asgi needs an 'http' scope, not {scope.get('type')!r}")
    return await parse_body(
        _receive_chunks(receive),
        _header(scope, b"content-type"),
        content_length=_header(scope, b"content-length"),
        limits=limits,
        progress=progress,
        spool_threshold=spool_threshold,
        executor=executor,
        upload_dir=upload_dir,
    )


async def parse_body(
    chunks: AsyncIterable[bytes],
    content_type: str | bytes | None,
    *,
    content_length: str | bytes | int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int = 1024 * 1024,
    executor: Executor | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """:func:`parse_form` for any async iterable of body chunks (as :func:`stream_body` is to
    :func:`stream_request`)."""
    if is_urlencoded(content_type):
        return await aread_urlencoded(chunks, content_type, content_length, limits, progress)
    with _FormBuilder(spool_threshold, upload_dir) as builder:
        await stream_body(
            chunks,
            content_type,
            builder.handler_for,
            content_length=content_length,
            limits=limits,
            progress=progress,
            executor=executor,
        )
        return builder.build()
