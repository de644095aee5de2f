"""The WSGI transport: the same service under any WSGI server.

``gunicorn 'imgpipe.service.wsgi:create_app()'`` (data folder from ``IMGPIPE_DATA``). Only the way the body is
read differs from ASGI: ``fastmime.wsgi.stream_request`` reads ``wsgi.input`` and drives the parser.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import fastmime
import fastmime.wsgi

from .config import Config
from .core import FormPlan, MultipartPlan, Request, Response, Service, log_event

__all__ = ["WSGIApp", "create_app"]

log = logging.getLogger("imgpipe.service")
_CHUNK = 256 * 1024


class WSGIApp:
    """WSGI application over a :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers.append((key[5:].replace("_", "-").lower(), value))
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"]))
        if environ.get("CONTENT_LENGTH"):
            headers.append(("content-length", environ["CONTENT_LENGTH"]))
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        req = Request.build(environ.get("REQUEST_METHOD", "GET"), path, environ.get("QUERY_STRING", ""), headers,
                            environ.get("REMOTE_ADDR"), environ.get("wsgi.url_scheme", "http"))
        req.request_id = secrets.token_hex(6)
        try:
            resp = self._handle(req, environ)
        except fastmime.ClientDisconnected:
            log_event("request.disconnected", id=req.request_id, method=req.method, path=req.path)
            resp = Response.text("client disconnected\n", 400)
        except Exception:  # noqa: BLE001
            log.exception("request.failed")
            resp = Response.text("internal error\n", 500)
        log_event("request", id=req.request_id, method=req.method, path=req.path, status=resp.status,
                  client=req.client, ms=round((time.monotonic() - req.started) * 1000, 1))
        start_response(f"{resp.status} {_REASONS.get(resp.status, 'Status')}", resp.all_headers())
        if req.method == "HEAD":
            return [b""]
        if resp.file_key is None:
            return [resp.body]
        return self._file(resp.file_key)

    def _handle(self, req: Request, environ: dict[str, Any]) -> Response:
        plan = self.service.begin(req)
        if isinstance(plan, Response):
            return plan
        if isinstance(plan, FormPlan):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return Response.text("bad Content-Length\n", 400)
            if length > plan.max_bytes:
                return Response.text("request body too large\n", 413)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            return plan.finish(body)
        assert isinstance(plan, MultipartPlan)
        try:
            try:
                fastmime.wsgi.stream_request(environ, plan.handler_for, limits=plan.limits)
            except fastmime.ClientDisconnected:
                raise
            except Exception as exc:  # noqa: BLE001 - mapped to the API's error format
                return plan.fail(exc)
            return plan.finish()
        finally:
            plan.cleanup()

    def _file(self, key: str) -> Iterator[bytes]:
        with self.service.files.open(key) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    return
                yield chunk


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def create_app(config: Config | None = None) -> WSGIApp:
    """Build the WSGI app; without a config, the data folder comes from ``IMGPIPE_DATA``."""
    if config is None:
        config = Config(data_dir=Path(os.environ.get("IMGPIPE_DATA", "imgpipe-data")))
    return WSGIApp(Service(config))
