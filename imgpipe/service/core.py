"""The transport-neutral core: requests, responses, body plans and routing.

Both transports (ASGI in :mod:`.app`, WSGI in :mod:`.wsgi`) turn their request into a :class:`Request` and
call :meth:`Service.begin`. It answers either a finished :class:`Response`, or a plan for the body:

* :class:`MultipartPlan` -- the transport streams the body through fastmime with ``plan.handler_for`` and
  ``plan.limits`` (``fastmime.asgi.stream_request`` / ``fastmime.wsgi.stream_request``), then calls
  ``plan.finish()`` (blocking: storage, database), or ``plan.fail(error)`` when streaming raised; it always
  calls ``plan.cleanup()`` at the end.
* :class:`FormPlan` -- the transport reads a small body (at most ``max_bytes``) and calls ``plan.finish(body)``.

Everything else (authentication, validation, storage, rendering) lives behind this line and is shared.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl

from .config import Config
from .files import FileStore, LocalFileStore, valid_key
from .store import MetadataStore, Quotas, SQLiteStore

__all__ = ["Request", "Response", "MultipartPlan", "FormPlan", "Service", "Plan"]

log = logging.getLogger("imgpipe.service")


@dataclass
class Request:
    """One HTTP request as the core sees it (the body is read later, through a plan)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # names lower-case
    client: str | None = None
    scheme: str = "http"
    request_id: str = ""
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def build(cls, method: str, path: str, query_string: str | bytes, headers: Iterable[tuple[str, str]],
              client: str | None, scheme: str = "http") -> "Request":
        """Build from raw pieces; the query string is decoded as UTF-8 (replacement on bad bytes)."""
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        query = parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="replace")
        return cls(method=method.upper(), path=path, query=query,
                   headers=[(k.lower(), v) for k, v in headers], client=client, scheme=scheme)

    def header(self, name: str) -> str | None:
        """The first header with this (lower-case) name, or None."""
        for k, v in self.headers:
            if k == name:
                return v
        return None

    @property
    def content_type(self) -> str:
        """The Content-Type header ('' when absent)."""
        return self.header("content-type") or ""

    @property
    def is_multipart(self) -> bool:
        """Whether the body claims to be multipart/*."""
        return self.content_type.split(";", 1)[0].strip().lower().startswith("multipart/")

    def cookies(self) -> dict[str, str]:
        """Cookies sent with the request (all Cookie headers merged)."""
        jar: SimpleCookie = SimpleCookie()
        for k, v in self.headers:
            if k == "cookie":
                try:
                    jar.load(v)
                except Exception:  # a malformed cookie header is treated as absent
                    continue
        return {k: m.value for k, m in jar.items()}

    def query_first(self) -> dict[str, str]:
        """Query parameters, first value of each name."""
        out: dict[str, str] = {}
        for k, v in self.query:
            out.setdefault(k, v)
        return out


@dataclass
class Response:
    """An HTTP response: a body in memory, or a stored file streamed by the transport."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file_key: str | None = None
    file_size: int = 0

    @classmethod
    def json(cls, data: Any, status: int = 200) -> "Response":
        """A JSON response."""
        return cls(status, [("content-type", "application/json; charset=utf-8")],
                   json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def xml(cls, body: bytes, status: int = 200) -> "Response":
        """An XML response."""
        return cls(status, [("content-type", "text/xml; charset=utf-8")], body)

    @classmethod
    def text(cls, text: str, status: int = 200) -> "Response":
        """A plain-text response."""
        return cls(status, [("content-type", "text/plain; charset=utf-8")], text.encode("utf-8"))

    def all_headers(self) -> list[tuple[str, str]]:
        """Headers with Content-Length and the security defaults added."""
        out = list(self.headers)
        length = self.file_size if self.file_key is not None else len(self.body)
        out.append(("content-length", str(length)))
        out.append(("x-content-type-options", "nosniff"))
        return out


@dataclass
class MultipartPlan:
    """The body is multipart: stream it through fastmime with these handlers, then finish."""

    handler_for: Callable[[Any], Any]
    limits: Any
    finish: Callable[[], Response]
    fail: Callable[[BaseException], Response]
    cleanup: Callable[[], None] = lambda: None


@dataclass
class FormPlan:
    """The body is small (urlencoded or empty): read it whole (bounded) and finish."""

    max_bytes: int
    finish: Callable[[bytes], Response]


Plan = Response | MultipartPlan | FormPlan


class BodyTooLarge(Exception):
    """A small (non-multipart) body exceeded its plan's ``max_bytes``."""


class Service:
    """The reference upload service: owns the stores and routes requests to the two APIs."""

    def __init__(self, config: Config, store: MetadataStore | None = None, files: FileStore | None = None) -> None:
        self.config = config
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        self.store = store or SQLiteStore(config.db_path, config.clock, Quotas(
            regular_album_limit=config.regular_album_limit,
            application_album_limit=config.application_album_limit,
            pending_limit=config.pending_limit, batch_ttl=config.batch_ttl))
        self.files = files or LocalFileStore(config.files_dir)
        self._web_lock = threading.Lock()
        from .platform import PlatformAPI
        from .yahoo import YahooAPI
        self.yahoo = YahooAPI(self)
        self.platform = PlatformAPI(self)

    # -- helpers shared by the APIs
    def base_url(self, request: Request) -> str:
        """The URL prefix of links handed out: ``public_url`` or scheme://Host of the request."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        host = request.header("host") or f"{self.config.host}:{self.config.port}"
        return f"{request.scheme}://{host}"

    def media_url(self, request: Request, file_key: str) -> str:
        """Public URL of a stored file."""
        return f"{self.base_url(request)}/media/{file_key}"

    def in_maintenance(self) -> bool:
        """Whether the maintenance flag file exists."""
        return self.config.maintenance_flag.exists()

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    # -- routing
    def begin(self, request: Request) -> Plan:
        """Route one request; see the module docs for what the transport does with the answer."""
        path, method = request.path, request.method
        if path == "/V3.0/uploadPhotos":
            return self._only(method, ("POST",)) or self.yahoo.begin_upload(request)
        if path == "/restserver.php":
            return self._only(method, ("POST", "GET")) or self.platform.begin(request)
        if path.startswith("/V3.0/"):
            return self.yahoo.begin_other(request)
        if path.startswith("/media/"):
            return self._only(method, ("GET", "HEAD")) or self._media(path[len("/media/"):])
        if path == "/health":
            return self._health()
        if path in ("/", "/index.html"):
            return self._only(method, ("GET", "HEAD")) or self._page()
        return Response.text("not found\n", 404)

    @staticmethod
    def _only(method: str, allowed: tuple[str, ...]) -> Response | None:
        if method in allowed:
            return None
        return Response(405, [("allow", ", ".join(allowed)), ("content-type", "text/plain")], b"method not allowed\n")

    def _media(self, key: str) -> Response:
        if not valid_key(key) or not self.store.file_key_known(key):
            return Response.text("not found\n", 404)
        try:
            size = self.files.size(key)
        except (FileNotFoundError, OSError):
            return Response.text("not found\n", 404)
        ctype = mimetypes.guess_type("x." + key.rsplit(".", 1)[-1])[0] or "application/octet-stream"
        return Response(200, [("content-type", ctype), ("cache-control", "private, max-age=86400")],
                        file_key=key, file_size=size)

    def _health(self) -> Response:
        checks: dict[str, Any] = {}
        ok = True
        try:
            self.store.list_communities()
            checks["database"] = "ok"
        except Exception as exc:  # report, never raise, from a health check
            checks["database"] = f"error: {exc}"
            ok = False
        try:
            self.files.check_writable()
            checks["storage"] = "ok"
        except Exception as exc:
            checks["storage"] = f"error: {exc}"
            ok = False
        if self.in_maintenance():
            checks["maintenance"] = True
            ok = False
        checks["status"] = "ok" if ok else "unavailable"
        return Response.json(checks, 200 if ok else 503)

    WEB_APP_NAME = "imgpipe-web"

    def web_appid(self) -> str:
        """The appid the web page uses: the application named ``imgpipe-web``, created on first need."""
        with self._web_lock:
            for app in self.store.list_applications():
                if app.name == self.WEB_APP_NAME:
                    return app.api_key
            return self.store.create_application(self.WEB_APP_NAME).api_key

    def _page(self) -> Response:
        data = resources.files(__package__).joinpath("static", "index.html").read_bytes()
        data = data.replace(b"__APPID__", self.web_appid().encode("ascii"))
        return Response(200, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache"),
                              ("content-security-policy", "default-src 'self'; script-src 'unsafe-inline'; "
                               "style-src 'unsafe-inline'; img-src 'self'")], data)


def parse_form(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """Parse an application/x-www-form-urlencoded body (anything else yields no fields)."""
    if not body:
        return []
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return []
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first value of each name."""
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def log_event(event: str, **fields: Any) -> None:
    """Write one structured log record (rendered as a JSON line by :mod:`.logs`)."""
    log.info(event, extra={"fields": fields})


def merged(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, str]:
    """``first`` updated with ``second``."""
    out = dict(first)
    out.update(second)
    return out
