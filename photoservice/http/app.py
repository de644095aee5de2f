"""The service as both transports serve it: storage and APIs put together, and requests routed to them.

:class:`Service` routes a :class:`~.messages.Request` (Werkzeug's URL map) and answers a
:class:`~.messages.Response`, or an API's plan for the body (:class:`~photoservice.apis.StreamedBody`,
:class:`~photoservice.apis.SmallBody`) that the transport carries out. Everything blocking (database, files)
happens in :meth:`Service.begin` and in the plans; the ASGI transport runs them in worker threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from ..apis import ApiContext, PlatformApi, Reply, SmallBody, StreamedBody, YahooApi
from ..apis.links import MediaSigner
from ..config import Config
from ..storage import Catalog, FileStore, open_storage
from ..uploads import ImageWork, default_workers
from .limits import AddressSlots, BodyGuard, RequestRefused, UnauthorizedBytes
from .media import serve_media
from .messages import Request, Response
from .page import page_response, static_response

__all__ = ["Service", "Plan"]

log = logging.getLogger("photoservice")

Plan = Response | StreamedBody | SmallBody

_ROUTES = Map(
    [
        Rule("/V3.0/uploadPhotos", endpoint="yahoo.upload", methods=["POST"]),
        Rule("/V3.0/login", endpoint="yahoo.login", methods=["POST"]),
        Rule("/V3.0/listAlbums", endpoint="yahoo.list_albums", methods=["GET"]),
        Rule("/V3.0/listPhotos", endpoint="yahoo.list_photos", methods=["GET"]),
        Rule("/V3.0/createAlbum", endpoint="yahoo.create_album", methods=["POST"]),
        Rule("/V3.0/getSession", endpoint="yahoo.get_session", methods=["GET"]),
        Rule("/V3.0/logout", endpoint="yahoo.logout", methods=["POST"]),
        Rule("/V3.0/approvePhoto", endpoint="yahoo.approve_photo", methods=["POST"]),
        Rule("/V3.0/rejectPhoto", endpoint="yahoo.reject_photo", methods=["POST"]),
        Rule("/V3.0/<name>", endpoint="yahoo.unknown"),
        Rule("/restserver.php", endpoint="platform", methods=["GET", "POST"]),
        Rule("/media/<path:key>", endpoint="media", methods=["GET"]),
        Rule("/health", endpoint="health", methods=["GET"]),
        Rule("/", endpoint="page", methods=["GET"]),
        Rule("/index.html", endpoint="page", methods=["GET"]),
        Rule("/static/<name>", endpoint="static", methods=["GET"]),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
# The methods of each V3.0 call, for the 405 of a known call asked with another method.
_V3_METHODS = {
    rule.rule.rsplit("/", 1)[1]: sorted(rule.methods or ())
    for rule in _ROUTES.iter_rules()
    if rule.rule.startswith("/V3.0/") and "<" not in rule.rule
}


def _allowed_hosts(config: Config) -> frozenset[str] | None:
    """The Host names accepted (None: any). Links are built from the Host only without a public URL, so
    only then is a Host outside the list refused by default."""
    if config.allowed_hosts:
        names = {h.strip().lower().strip("[]") for h in config.allowed_hosts.split(",") if h.strip()}
        return None if "*" in names else frozenset(names)
    if config.public_url:
        return None
    names = {"localhost", "127.0.0.1", "::1"}
    if config.host not in ("0.0.0.0", "::", ""):
        names.add(config.host.lower())
    return frozenset(names)


class Service:
    """The reference service: storage, the two APIs, the page and the media files behind one router."""

    def __init__(self, config: Config, catalog: Catalog | None = None, files: FileStore | None = None) -> None:
        self.config = config
        if catalog is None or files is None:
            opened_catalog, opened_files = open_storage(config)
            catalog, files = catalog or opened_catalog, files or opened_files
        self.catalog = catalog
        self.files = files
        self.signer = MediaSigner(catalog.shared_secret("media"), config.clock, config.media_url_ttl)
        self.images = ImageWork(config.image_workers or default_workers(), config.decode_budget_pixels)
        context = ApiContext(config, catalog, files, self.signer, self.images)
        self.yahoo = YahooApi(context)
        self.platform = PlatformApi(context)
        self._allowed_hosts = _allowed_hosts(config)
        self.unauthorized = UnauthorizedBytes(config.unauthorized_budget_bytes)
        self.slots = AddressSlots(config.uploads_per_address)
        self._endpoints: dict[str, Callable[..., Any]] = {
            "yahoo.upload": self.yahoo.upload,
            "yahoo.login": self.yahoo.login,
            "yahoo.list_albums": self.yahoo.list_albums,
            "yahoo.list_photos": self.yahoo.list_photos,
            "yahoo.create_album": self.yahoo.create_album,
            "yahoo.get_session": self.yahoo.get_session,
            "yahoo.logout": self.yahoo.logout,
            "yahoo.approve_photo": self.yahoo.approve_photo,
            "yahoo.reject_photo": self.yahoo.reject_photo,
            "platform": self.platform.call,
        }

    def close(self) -> None:
        """Stop the image workers and release the database connections."""
        self.images.close()
        self.catalog.close()

    def base_url(self, request: Request) -> str:
        """The prefix of links handed out: the configured public URL, else scheme://Host of the request
        (a Host that :meth:`begin` has checked against the allowed hosts)."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        host = request.header("host") or f"{self.config.host}:{self.config.port}"
        return f"{request.scheme}://{host}"

    def _host_allowed(self, request: Request) -> bool:
        if self._allowed_hosts is None:
            return True
        host = (request.header("host") or "").strip().lower()
        if not host:  # HTTP/1.0: links are then built from the configured address, not from the client
            return True
        name = (
            host[1:].split("]", 1)[0]
            if host.startswith("[")
            else host.rsplit(":", 1)[0]
            if host.count(":") == 1
            else host
        )
        return name in self._allowed_hosts

    def begin(self, request: Request) -> Plan:
        """Route one request: a finished response, or the API's plan for the body."""
        if request.header("transfer-encoding") is not None and request.header("content-length") is not None:
            # RFC 9112 6.3: such a message may be a request-smuggling attempt; refusing it is allowed.
            return Response.text("Transfer-Encoding and Content-Length together are refused\n", 400)
        if not self._host_allowed(request):
            return Response.text("unknown Host: set --public-url or --allowed-hosts\n", 400)
        try:
            endpoint, args = _ROUTES.bind("service").match(request.path, request.method)
        except NotFound:
            return Response.text("not found\n", 404)
        except MethodNotAllowed as exc:
            return Response.text("method not allowed\n", 405, [("allow", ", ".join(exc.valid_methods or []))])
        if endpoint == "media":
            return serve_media(request, args["key"], self.signer, self.catalog, self.files)
        if endpoint == "health":
            return self._health()
        if endpoint == "page":
            return page_response(self.catalog)
        if endpoint == "static":
            return static_response(request, args["name"])
        api_request = request.api_request(self.base_url(request))
        if endpoint == "yahoo.unknown":
            allowed = _V3_METHODS.get(args["name"])
            if allowed is not None:  # a known call with another method: the catch-all rule matched it
                return Response.text("method not allowed\n", 405, [("allow", ", ".join(allowed))])
            return self._answer(self.yahoo.unknown(api_request, args["name"]))
        return self._answer(self._endpoints[endpoint](api_request))

    @contextmanager
    def admit(self, request: Request, plan: StreamedBody | SmallBody, timeouts: bool) -> Iterator[BodyGuard]:
        """Admit one request body: a slot of its address (:class:`RequestRefused` 429 when none is free),
        and the guard that counts its unauthorized bytes and (``timeouts``: the transport can wait with a
        time limit) watches its pace; both given back when the block ends."""
        if not self.slots.take(request.client):
            raise RequestRefused(429, "too many uploads at once from your address", 5)
        c = self.config
        authorized = plan.authorized if isinstance(plan, StreamedBody) else (lambda: False)
        guard = BodyGuard(
            self.unauthorized,
            authorized,
            c.body_idle_timeout if timeouts else float("inf"),
            c.body_min_rate if timeouts else 0.0,
            c.body_rate_grace,
        )
        try:
            yield guard
        finally:
            guard.close()
            self.slots.give_back(request.client)

    @staticmethod
    def log_request(request: Request, response: Response, request_id: str, started: float) -> None:
        """The access log line of one request (``started``: its ``time.monotonic()``)."""
        log.info(
            "request",
            extra={
                "id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "client": request.client,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )

    @staticmethod
    def refused(request: Request, exc: RequestRefused) -> Response:
        """The plain answer to a request refused by a guard (logged); the connection is not reused."""
        log.info(
            "request.refused", extra={"status": exc.http_status, "reason": exc.http_message, "client": request.client}
        )
        headers = [("connection", "close")]
        if exc.retry_after is not None:
            headers.append(("retry-after", str(exc.retry_after)))
        return Response.text(exc.http_message + "\n", exc.http_status, headers)

    @staticmethod
    def _answer(outcome: Reply | StreamedBody | SmallBody) -> Plan:
        return Response.from_reply(outcome) if isinstance(outcome, Reply) else outcome

    def _health(self) -> Response:
        import json

        checks: dict[str, Any] = {}
        ok = True
        try:
            checks["maintenance"] = self.catalog.maintenance()
            checks["database"] = "ok"
            ok = not checks["maintenance"]
        except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
            checks["database"] = f"error: {exc}"
            ok = False
        try:
            self.files.check_writable()
            checks["storage"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["storage"] = f"error: {exc}"
            ok = False
        checks["status"] = "ok" if ok else "unavailable"
        return Response(200 if ok else 503, [("content-type", "application/json")], json.dumps(checks).encode())
