"""The ASGI transport: one plain ASGI 3 callable for uvicorn or any ASGI server.

Blocking work (routing into the database, finishing an upload, file reads) runs in worker threads;
multipart bodies are streamed by :func:`fastmime.asgi.stream_request`, which feeds the parser, and so
imgpipe's handlers, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import fastmime
import fastmime.asgi

from ..apis import SmallBody, StreamedBody
from ..config import Config
from .app import Service
from .limits import RequestRefused
from .messages import Request, Response

__all__ = ["ASGIApp", "create_app"]

log = logging.getLogger("photoservice")
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_CHUNK = 256 * 1024


class _BodyTooLarge(Exception):
    pass


class ASGIApp:
    """ASGI application over a :class:`~.app.Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        client = scope.get("client")
        request = Request(
            method=scope["method"].upper(),
            path=scope.get("path", "/"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])],
            client=client[0] if client else None,
            scheme=scope.get("scheme", "http"),
        )
        request_id, started = secrets.token_hex(6), time.monotonic()
        try:
            response = await self._handle(request, scope, receive)
        except fastmime.ClientDisconnected:
            log.info("request.disconnected", extra={"id": request_id, "method": request.method, "path": request.path})
            return
        except Exception:
            log.exception("request.failed")
            response = Response.text("internal error\n", 500)
        await self._send(send, response, request.method == "HEAD")
        self.service.log_request(request, response, request_id, started)

    async def _handle(self, request: Request, scope: Scope, receive: Receive) -> Response:
        plan = await asyncio.to_thread(self.service.begin, request)
        if isinstance(plan, Response):
            return plan
        try:
            with self.service.admit(request, plan, timeouts=True) as guard:

                async def guarded() -> dict[str, Any]:
                    try:
                        message = await asyncio.wait_for(receive(), guard.wait_limit())
                    except TimeoutError:
                        raise guard.timed_out() from None
                    if message.get("type") == "http.request":
                        guard.received(len(message.get("body", b"")))
                    return message

                return await self._read(plan, scope, guarded)
        except RequestRefused as exc:
            return self.service.refused(request, exc)

    async def _read(self, plan: SmallBody | StreamedBody, scope: Scope, receive: Receive) -> Response:
        if isinstance(plan, SmallBody):
            try:
                body = await _read_body(receive, plan.max_bytes)
            except _BodyTooLarge:
                return Response.text("request body too large\n", 413)
            return Response.from_reply(await asyncio.to_thread(plan.finish, body))
        assert isinstance(plan, StreamedBody)
        try:
            try:
                await fastmime.asgi.stream_request(scope, receive, plan.handler_for, limits=plan.limits)
            except (fastmime.ClientDisconnected, RequestRefused):
                raise
            except Exception as exc:  # noqa: BLE001 - the API answers it in its own error format
                return Response.from_reply(await asyncio.to_thread(plan.fail, exc))
            return Response.from_reply(await asyncio.to_thread(plan.finish))
        finally:
            await asyncio.to_thread(plan.cleanup)

    async def _send(self, send: Send, response: Response, head: bool) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if head or response.file_key is None:
            await send({"type": "http.response.body", "body": b"" if head else response.body})
            return
        files = self.service.files
        fh = await asyncio.to_thread(files.open, response.file_key, response.file_offset, response.file_length)
        try:
            left = response.file_length
            while left > 0:
                chunk = await asyncio.to_thread(fh.read, min(_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
            if left > 0 or response.file_length == 0:  # nothing sent yet, or the file shrank under us
                await send({"type": "http.response.body", "body": b""})
        finally:
            fh.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.service.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise fastmime.ClientDisconnected("the client went away")
        body += message.get("body", b"")
        if len(body) > max_bytes:
            raise _BodyTooLarge()
        if not message.get("more_body", False):
            return bytes(body)


def create_app(config: Config | None = None) -> ASGIApp:
    """The ASGI app (for ``uvicorn --factory photoservice.http.asgi:create_app``): configured from the
    ``PHOTOSERVICE_*`` environment unless a config is given."""
    return ASGIApp(Service(config or Config.from_env()))
