"""The WSGI transport: the same service under gunicorn, waitress or any WSGI server.

``gunicorn 'photoservice.http.wsgi:create_app()'`` (configured from the ``PHOTOSERVICE_*`` environment).
Only the way the body is read differs from ASGI: :func:`fastmime.wsgi.stream_request` reads ``wsgi.input``.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

import fastmime
import fastmime.wsgi

from ..apis import SmallBody, StreamedBody
from ..config import Config
from .app import Service
from .limits import BodyGuard, RequestRefused
from .messages import Request, Response

__all__ = ["WSGIApp", "create_app"]

log = logging.getLogger("photoservice")
_CHUNK = 256 * 1024


def _request(environ: dict[str, Any]) -> Request:
    headers = [(key[5:].replace("_", "-").lower(), value) for key, value in environ.items() if key.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers.append((name, environ[key]))
    # PEP 3333: PATH_INFO holds the raw bytes as latin-1; the path is UTF-8.
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
    return Request(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=path,
        query_string=environ.get("QUERY_STRING", ""),
        headers=headers,
        client=environ.get("REMOTE_ADDR"),
        scheme=environ.get("wsgi.url_scheme", "http"),
    )


class _Counted:
    """``wsgi.input`` with every byte read shown to the request's guard."""

    def __init__(self, stream: Any, guard: BodyGuard) -> None:
        self._stream = stream
        self._guard = guard

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self._guard.received(len(data))
        return data


def _small_body(environ: dict[str, Any], max_bytes: int) -> bytes:
    """The whole body, at most ``max_bytes``, read by fastmime's :func:`~fastmime.wsgi.body_chunks` (which
    refuses a body without Content-Length from a server that does not mark its end, and a short one)."""
    raw = (environ.get("CONTENT_LENGTH") or "").strip()
    terminated = bool(environ.get("wsgi.input_terminated"))
    if not raw and not terminated and environ.get("REQUEST_METHOD", "GET").upper() not in ("POST", "PUT", "PATCH"):
        return b""  # a request without a body
    if raw and not (raw.isascii() and raw.isdigit()):
        raise fastmime.InvalidContentLength(f"Content-Length {raw[:20]!r} is not a number")
    expected = int(raw) if raw else None
    if expected is not None and expected > max_bytes:
        raise fastmime.BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    body = bytearray()
    for chunk in fastmime.wsgi.body_chunks(environ["wsgi.input"].read, expected, terminated):
        body += chunk
        if len(body) > max_bytes:
            raise fastmime.BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    return bytes(body)


class WSGIApp:
    """WSGI application over a :class:`~.app.Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _request(environ)
        request_id, started = secrets.token_hex(6), time.monotonic()
        try:
            response = self._handle(request, environ)
        except fastmime.ClientDisconnected:
            log.info("request.disconnected", extra={"id": request_id, "method": request.method, "path": request.path})
            response = Response.text("client disconnected\n", 400)
        except fastmime.LengthRequired as exc:
            response = Response.text(exc.http_message + "\n", exc.http_status)
        except Exception:
            log.exception("request.failed")
            response = Response.text("internal error\n", 500)
        self.service.log_request(request, response, request_id, started)
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", response.all_headers())
        if request.method == "HEAD":
            return [b""]
        if response.file_key is None:
            return [response.body]
        return self._file(response)

    def _handle(self, request: Request, environ: dict[str, Any]) -> Response:
        plan = self.service.begin(request)
        if isinstance(plan, Response):
            return plan
        try:
            with self.service.admit(request, plan, timeouts=False) as guard:  # the WSGI server times out bodies
                return self._read(plan, {**environ, "wsgi.input": _Counted(environ["wsgi.input"], guard)})
        except RequestRefused as exc:
            return self.service.refused(request, exc)

    def _read(self, plan: SmallBody | StreamedBody, environ: dict[str, Any]) -> Response:
        if isinstance(plan, SmallBody):
            try:
                body = _small_body(environ, plan.max_bytes)
            except fastmime.MultipartError as exc:  # LengthRequired 411, BodyTooLarge 413, bad length 400
                return Response.text(exc.http_message + "\n", exc.http_status)
            return Response.from_reply(plan.finish(body))
        assert isinstance(plan, StreamedBody)
        try:
            try:
                fastmime.wsgi.stream_request(environ, plan.handler_for, limits=plan.limits)
            except (fastmime.ClientDisconnected, fastmime.LengthRequired, RequestRefused):
                raise
            except Exception as exc:  # noqa: BLE001 - the API answers it in its own error format
                return Response.from_reply(plan.fail(exc))
            return Response.from_reply(plan.finish())
        finally:
            plan.cleanup()

    def _file(self, response: Response) -> Iterator[bytes]:
        assert response.file_key is not None
        with self.service.files.open(response.file_key, response.file_offset, response.file_length) as fh:
            left = response.file_length
            while left > 0:
                chunk = fh.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


def create_app(config: Config | None = None) -> WSGIApp:
    """The WSGI app, configured from the ``PHOTOSERVICE_*`` environment unless a config is given."""
    return WSGIApp(Service(config or Config.from_env()))
