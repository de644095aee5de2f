"""The ASGI transport: one plain ASGI callable serving both APIs, the web page and the media files.

Run with uvicorn: ``uvicorn --factory imgpipe.service.app:create_app`` (data folder from ``IMGPIPE_DATA``),
or ``imgpipe serve``. Blocking work (database, file writes) runs in worker threads; multipart bodies are
streamed by ``fastmime.asgi.stream_request``, which feeds the parser (and so imgpipe's CPU-heavy handlers)
in a worker thread too, so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import fastmime
import fastmime.asgi

from .config import Config
from .core import BodyTooLarge, FormPlan, MultipartPlan, Request, Response, Service, log_event

__all__ = ["ASGIApp", "create_app"]

log = logging.getLogger("imgpipe.service")
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_CHUNK = 256 * 1024


class ASGIApp:
    """ASGI 3 application over a :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        client = scope.get("client")
        req = Request.build(scope["method"], scope.get("path", "/"), scope.get("query_string", b""),
                            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])],
                            client[0] if client else None, scope.get("scheme", "http"))
        req.request_id = secrets.token_hex(6)
        try:
            resp = await self._handle(req, scope, receive)
        except fastmime.ClientDisconnected:
            log_event("request.disconnected", id=req.request_id, method=req.method, path=req.path)
            return
        except Exception:  # noqa: BLE001 - last line of defence: a 500, logged
            log.exception("request.failed")
            resp = Response.text("internal error\n", 500)
        await self._send(send, resp, req.method == "HEAD")
        log_event("request", id=req.request_id, method=req.method, path=req.path, status=resp.status,
                  client=req.client, ms=round((time.monotonic() - req.started) * 1000, 1))

    async def _handle(self, req: Request, scope: Scope, receive: Receive) -> Response:
        plan = await asyncio.to_thread(self.service.begin, req)
        if isinstance(plan, Response):
            return plan
        if isinstance(plan, FormPlan):
            try:
                body = await _read_body(receive, plan.max_bytes)
            except BodyTooLarge:
                return Response.text("request body too large\n", 413)
            return await asyncio.to_thread(plan.finish, body)
        assert isinstance(plan, MultipartPlan)
        try:
            try:
                await fastmime.asgi.stream_request(scope, receive, plan.handler_for, limits=plan.limits)
            except fastmime.ClientDisconnected:
                raise
            except Exception as exc:  # noqa: BLE001 - the plan maps it to the API's error format
                return await asyncio.to_thread(plan.fail, exc)
            return await asyncio.to_thread(plan.finish)
        finally:
            await asyncio.to_thread(plan.cleanup)

    async def _send(self, send: Send, resp: Response, head: bool) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.all_headers()]
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        if resp.file_key is None:
            await send({"type": "http.response.body", "body": resp.body})
            return
        fh = await asyncio.to_thread(self.service.files.open, resp.file_key)
        try:
            while True:
                chunk = await asyncio.to_thread(fh.read, _CHUNK)
                more = len(chunk) == _CHUNK
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break
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
            raise BodyTooLarge()
        if not message.get("more_body", False):
            return bytes(body)


def create_app(config: Config | None = None) -> ASGIApp:
    """Build the ASGI app; without a config, the data folder comes from ``IMGPIPE_DATA`` (default ./imgpipe-data)."""
    if config is None:
        config = Config(data_dir=Path(os.environ.get("IMGPIPE_DATA", "imgpipe-data")))
    return ASGIApp(Service(config))
