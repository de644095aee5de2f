"""The app the real-server tests run: one WSGI and one ASGI entry point over the same logic.

``POST /upload`` streams every part through fastmime: each part is hashed (SHA-256) and each file is
also written to a *named* file in ``$FASTMIME_TEST_DIR``, removed when the request ends, whether it
succeeded or not (aborted handlers remove their own file at once). The JSON answer lists every part
as received, so the client can compare hashes. ``POST /form`` does the same through ``parse_form``.
``GET /stats`` reports handler counts (started, ended, aborted; kept in a file beside the folder, so they
add up across worker processes) and the files left in the folder.
``GET /`` is an HTML form for the browser test. Query ``?max_body=N`` sets ``Limits.max_body_size``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any
from urllib.parse import parse_qs

import fastmime
import fastmime.asgi
import fastmime.wsgi
from fastmime.handlers import HashingHandler
from fastmime.http import http_error, reason_phrase

DIR = os.environ.get("FASTMIME_TEST_DIR") or tempfile.mkdtemp(prefix="fastmime-app-")
# Handler events go to one append-only file, so that counts hold across gunicorn's worker processes.
EVENTS = os.path.join(os.path.dirname(DIR), "events.log")

FORM_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>upload</title></head><body>
<form id="f" method="post" action="/upload" enctype="multipart/form-data">
<input type="text" name="title" value="">
<input type="file" name="photos" multiple>
<input type="file" name="unicode">
<input type="file" name="empty">
<button id="go" type="submit">send</button>
</form></body></html>"""


def _count(key: str) -> None:
    fd = os.open(EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, key.encode() + b"\n")  # one small O_APPEND write: atomic
    finally:
        os.close(fd)


class NamedFileWriter:
    """Writes the part to a named file in DIR; removes it on abort."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(dir=DIR, prefix="part-")
        self.file = os.fdopen(fd, "wb")

    def on_data(self, chunk: memoryview) -> None:
        self.file.write(chunk)

    def on_end(self) -> None:
        self.file.close()

    def on_abort(self, error: BaseException) -> None:
        self.file.close()
        self.remove()

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Counted(HashingHandler):
    """A hashing handler that counts its lifecycle and keeps small field values."""

    def __init__(self, inner: NamedFileWriter | None) -> None:
        super().__init__(inner, algorithms=("sha256",))
        self.value = bytearray()
        _count("started")

    def on_data(self, chunk: memoryview) -> None:
        super().on_data(chunk)
        if self.inner is None and len(self.value) < 4096:
            self.value += chunk

    def on_end(self) -> None:
        super().on_end()
        _count("ended")

    def on_abort(self, error: BaseException) -> None:
        super().on_abort(error)
        _count("aborted")


class Upload:
    """One request's parts."""

    def __init__(self) -> None:
        self.parts: list[tuple[fastmime.Part, Counted]] = []

    def handler_for(self, part: fastmime.Part) -> Counted:
        handler = Counted(NamedFileWriter() if part.is_file else None)
        self.parts.append((part, handler))
        return handler

    def report(self) -> dict[str, Any]:
        return {
            "parts": [
                {
                    "name": p.name,
                    "filename": p.filename,
                    "content_type": p.content_type,
                    "size": h.size,
                    "sha256": h.sha256,
                    "value": None if p.is_file else h.value.decode("utf-8", "replace"),
                }
                for p, h in self.parts
            ]
        }

    def cleanup(self) -> None:
        for _, handler in self.parts:
            if handler.inner is not None:
                handler.inner.file.close()
                handler.inner.remove()


def _form_report(form: fastmime.Form) -> dict[str, Any]:
    files = []
    for name, upload in form.files.multi_items():
        files.append(
            {
                "name": name,
                "filename": upload.filename,
                "size": upload.size,
                "sha256": hashlib.sha256(upload.read()).hexdigest(),
            }
        )
    return {"fields": dict(form.fields.multi_items()), "files": files}


def _limits(query: str) -> fastmime.Limits | None:
    values = parse_qs(query)
    if "max_body" in values:
        return fastmime.Limits(max_body_size=int(values["max_body"][0]))
    return None


def _stats() -> dict[str, Any]:
    stats = {"started": 0, "ended": 0, "aborted": 0}
    try:
        with open(EVENTS, "rb") as events:
            for line in events:
                stats[line.strip().decode()] += 1
    except FileNotFoundError:
        pass
    stats["open"] = stats["started"] - stats["ended"] - stats["aborted"]
    stats["files"] = sorted(os.listdir(DIR))
    return stats


def _error(exc: BaseException) -> tuple[int, bytes]:
    found = http_error(exc)
    if found is None:
        raise exc
    return found[0], json.dumps({"error": type(exc).__name__, "message": found[1]}).encode()


# -- WSGI -------------------------------------------------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    limits = _limits(environ.get("QUERY_STRING", ""))
    status, ctype, payload = 200, "application/json", b""
    if method == "GET" and path == "/":
        ctype, payload = "text/html; charset=utf-8", FORM_PAGE
    elif method == "GET" and path == "/stats":
        payload = json.dumps(_stats()).encode()
    elif method == "POST" and path == "/upload":
        upload = Upload()
        try:
            fastmime.wsgi.stream_request(environ, upload.handler_for, limits=limits)
            payload = json.dumps(upload.report()).encode()
        except fastmime.MultipartError as exc:
            status, payload = _error(exc)
        finally:
            upload.cleanup()
    elif method == "POST" and path == "/form":
        try:
            with fastmime.wsgi.parse_form(environ, limits=limits) as form:
                payload = json.dumps(_form_report(form)).encode()
        except fastmime.MultipartError as exc:
            status, payload = _error(exc)
    else:
        status, payload = 404, b"{}"
    start_response(
        f"{status} {reason_phrase(status) or 'OK'}", [("Content-Type", ctype), ("Content-Length", str(len(payload)))]
    )
    return [payload]


# -- ASGI -------------------------------------------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    method, path = scope["method"], scope["path"]
    limits = _limits(scope.get("query_string", b"").decode())
    status, ctype, payload = 200, "application/json", b""
    if method == "GET" and path == "/":
        ctype, payload = "text/html; charset=utf-8", FORM_PAGE
    elif method == "GET" and path == "/stats":
        payload = json.dumps(_stats()).encode()
    elif method == "POST" and path == "/upload":
        upload = Upload()
        try:
            await fastmime.asgi.stream_request(scope, receive, upload.handler_for, limits=limits)
            payload = json.dumps(upload.report()).encode()
        except fastmime.ClientDisconnected:
            return
        except fastmime.MultipartError as exc:
            status, payload = _error(exc)
        finally:
            upload.cleanup()
    elif method == "POST" and path == "/form":
        try:
            with await fastmime.asgi.parse_form(scope, receive, limits=limits) as form:
                payload = json.dumps(_form_report(form)).encode()
        except fastmime.ClientDisconnected:
            return
        except fastmime.MultipartError as exc:
            status, payload = _error(exc)
    else:
        status, payload = 404, b"{}"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
