"""The Yahoo! Photos V3.0 style API: ``uploadPhotos`` and the calls a client needs around it.

Routes (all under ``/V3.0/``):

* ``POST login`` (form: appid, username, password) -> auth cookie ``Y`` (Set-Cookie) + WSSID, 1 hour.
* ``POST uploadPhotos?appid&WSSID&captionN&descN&tagN&tag&aid&batid|batch_id&batcount`` + cookie.
* ``GET listAlbums?appid&WSSID``, ``GET listPhotos?appid&WSSID[&aid]``, ``POST createAlbum?appid&WSSID&name``.

``output=json`` on any call answers JSON instead of XML. Errors are ``<Error xmlns="urn:yahoo:api">`` with
one ``<Message>`` per problem and HTTP 400 (parameters, images, limits), 401 (missing, wrong or expired
cookie/WSSID), 403 (unknown appid, or credentials issued to another appid), 503 (maintenance, storage or
database unavailable), 500 (unexpected).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from . import render
from .commit import PhotoInput, commit_photos
from .core import FormPlan, MultipartPlan, Request, Response, Service, first_values, log_event, parse_form
from .files import FileStoreError
from .parts import Discard, FieldTooLarge, Rejected
from .store import (AlbumFull, AlbumNotFound, Application, BatchCountMismatch, BatchExceeded, BatchExpired,
                    StoreUnavailable, UploadLimitReached, WebCredentials)

__all__ = ["YahooError", "YahooAPI", "COOKIE_NAME", "split_tags"]

COOKIE_NAME = "Y"
_INDEXED = re.compile(r"^(caption|desc|tag)(\d+)$")
log = logging.getLogger("imgpipe.service")


class YahooError(Exception):
    """An error answered in the Yahoo format: HTTP ``status`` and one message per problem."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)


def split_tags(*values: str) -> tuple[str, ...]:
    """Comma-separated tag lists merged: trimmed, empty ones dropped, duplicates removed, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag:
                seen.setdefault(tag, None)
    return tuple(seen)


class YahooAPI:
    """Handlers of the ``/V3.0/`` routes."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.store = service.store
        self.config = service.config

    # ------------------------------------------------------------------ common
    def _error(self, err: YahooError, output: str = "xml") -> Response:
        return render.yahoo_error(err.status, err.messages, output)

    def _output(self, params: dict[str, str]) -> str:
        return "json" if params.get("output", "").lower() == "json" else "xml"

    def _application(self, params: dict[str, str]) -> Application:
        """The calling application, from ``appid`` (and the service must not be in maintenance)."""
        if self.service.in_maintenance():
            raise YahooError(503, "The service is temporarily unavailable.")
        appid = params.get("appid", "")
        if not appid:
            raise YahooError(400, "Missing parameter appid.")
        app = self.store.get_application(appid)
        if app is None:
            raise YahooError(403, "Invalid appid.")
        return app

    def _authenticate(self, request: Request, params: dict[str, str]) -> tuple[Application, WebCredentials]:
        """appid + auth cookie + WSSID, all three required and matching."""
        app = self._application(params)
        cookie = request.cookies().get(COOKIE_NAME, "")
        wssid = params.get("WSSID", "")
        if not cookie:
            raise YahooError(401, "Missing auth cookie.")
        if not wssid:
            raise YahooError(401, "Missing parameter WSSID.")
        creds = self.store.get_web_credentials(cookie, wssid)
        if creds is None:
            raise YahooError(401, "Invalid or expired credentials: sign in again.")
        if creds.app_id != app.id:
            raise YahooError(403, "The credentials were issued to another appid.")
        return app, creds

    # ------------------------------------------------------------------ routing of the small calls
    def begin_other(self, request: Request) -> Response | FormPlan:
        """login, listAlbums, listPhotos, createAlbum."""
        name = request.path[len("/V3.0/"):]
        if name == "login":
            if request.method != "POST":
                return Response.text("method not allowed\n", 405)
            return FormPlan(self.config.max_field_bytes, lambda body: self._login(request, body))
        if name in ("listAlbums", "listPhotos"):
            return self._guard(request, first_values(request.query), self._list_albums if name == "listAlbums"
                               else self._list_photos)
        if name == "createAlbum":
            if request.method != "POST":
                return Response.text("method not allowed\n", 405)
            return FormPlan(self.config.max_field_bytes, lambda body: self._guard(
                request, {**first_values(parse_form(body, request.content_type)), **first_values(request.query)},
                self._create_album))
        return render.yahoo_error(404, [f"Unknown service {name!r}."], "xml")

    def _guard(self, request: Request, params: dict[str, str], fn: Any) -> Response:
        output = self._output(params)
        try:
            return fn(request, params, output)
        except YahooError as err:
            return self._error(err, output)
        except StoreUnavailable:
            return self._error(YahooError(503, "The service is temporarily unavailable."), output)

    def _login(self, request: Request, body: bytes) -> Response:
        params = {**first_values(request.query), **first_values(parse_form(body, request.content_type))}
        output = self._output(params)
        try:
            app = self._application(params)
            username, password = params.get("username", ""), params.get("password", "")
            if not username or not password:
                raise YahooError(400, "Missing parameter username or password.")
            user = self.store.authenticate(username, password)
            if user is None:
                raise YahooError(401, "Wrong user name or password.")
            cookie, wssid, creds = self.store.create_web_credentials(user.id, app.id, self.config.web_credentials_ttl)
        except YahooError as err:
            return self._error(err, output)
        except StoreUnavailable:
            return self._error(YahooError(503, "The service is temporarily unavailable."), output)
        log_event("yahoo.login", user=user.username, appid=app.api_key)
        resp = render.yahoo_login(user.username, wssid, cookie, creds.expires, user.premium, output)
        max_age = int(self.config.web_credentials_ttl)
        resp.headers.append(("set-cookie", f"{COOKIE_NAME}={cookie}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"))
        return resp

    def _list_albums(self, request: Request, params: dict[str, str], output: str) -> Response:
        _, creds = self._authenticate(request, params)
        return render.album_list(self.store.list_albums(creds.user.id), output)

    def _list_photos(self, request: Request, params: dict[str, str], output: str) -> Response:
        _, creds = self._authenticate(request, params)
        album_id = None
        if params.get("aid"):
            album_id = self._album_id(params["aid"], creds)
        photos = self.store.list_photos(creds.user.id, album_id=album_id)
        return render.photolist(self.service, request, photos, creds.user.premium, output)

    def _create_album(self, request: Request, params: dict[str, str], output: str) -> Response:
        _, creds = self._authenticate(request, params)
        name = params.get("name", "").strip()
        if not name:
            raise YahooError(400, "Missing parameter name.")
        if len(name) > 200:
            raise YahooError(400, "Parameter name is too long.")
        album = self.store.create_album(creds.user.id, name, params.get("desc", "")[:2000])
        return render.album_list([album], output)

    def _album_id(self, value: str, creds: WebCredentials) -> int:
        if not value.isdigit() or len(value) > 19:
            raise YahooError(400, f"Invalid aid {value!r}.")
        album = self.store.get_album(int(value))
        if album is None or album.owner_id != creds.user.id:
            raise YahooError(400, f"Invalid aid {value!r}: no such album.")
        return album.id

    # ------------------------------------------------------------------ uploadPhotos
    def begin_upload(self, request: Request) -> Response | MultipartPlan:
        """Validate everything the query string and headers can tell, then plan the body."""
        params = first_values(request.query)
        output = self._output(params)
        try:
            app, creds = self._authenticate(request, params)
            album_id = self._album_id(params["aid"], creds) if params.get("aid") else None
            if album_id is not None:
                album = self.store.get_album(album_id)
                limit = (self.config.application_album_limit if album is not None and album.kind == "application"
                         else self.config.regular_album_limit)
                if album is not None and album.size >= limit:
                    raise YahooError(400, f"Album {album_id} is full ({limit} photos).")
            batch = self._batch(params)
            if not request.is_multipart:
                raise YahooError(400, "The request must be multipart/form-data.")
        except YahooError as err:
            return self._error(err, output)
        except StoreUnavailable:
            return self._error(YahooError(503, "The service is temporarily unavailable."), output)

        handlers: list[Any] = []
        part_index: list[int] = []

        def handler_for(part: Any) -> Any:
            if not part.filename:  # no filename (or an empty one from an empty file input): ignored
                return Discard()
            n = len(handlers)
            if f"caption{n}" not in params:
                raise Rejected(YahooError(400, f"Missing parameter caption{n} for picture {n}."))
            if n >= self.config.max_parts:
                raise Rejected(YahooError(400, "Too many pictures in one request."))
            h = render.image_handler(part, "yahoo", self.config)
            handlers.append(h)
            part_index.append(part.index)
            return h

        def finish() -> Response:
            return self._finish_upload(request, params, output, app, creds, album_id, batch, handlers, part_index)

        def fail(error: BaseException) -> Response:
            return self._error(self._stream_error(error), output)

        def cleanup() -> None:
            for h in handlers:
                render.close_handler(h)

        return MultipartPlan(handler_for=handler_for, limits=render.multipart_limits(self.config), finish=finish,
                             fail=fail, cleanup=cleanup)

    def _batch(self, params: dict[str, str]) -> tuple[str, int] | None:
        batid = params.get("batid") or params.get("batch_id") or ""
        if not batid:
            return None
        if len(batid) > 128:
            raise YahooError(400, "Parameter batid is too long.")
        count = params.get("batcount", "")
        if not count:
            raise YahooError(400, "Missing parameter batcount (required with batid).")
        if not count.isdigit() or not 0 < int(count) <= 100_000:
            raise YahooError(400, f"Invalid batcount {count!r}.")
        return batid, int(count)

    @staticmethod
    def _stream_error(error: BaseException) -> YahooError:
        if isinstance(error, Rejected) and isinstance(error.error, YahooError):
            return error.error
        if isinstance(error, FieldTooLarge):
            return YahooError(400, str(error))
        if render.is_image_error(error):
            return YahooError(400, f"Invalid picture: {error}")
        if render.is_multipart_error(error):
            return YahooError(render.multipart_status(error), f"Malformed request body: {error}")
        log.exception("yahoo.upload.unexpected", exc_info=error)
        return YahooError(500, "Internal error.")

    def _finish_upload(self, request: Request, params: dict[str, str], output: str, app: Application,
                       creds: WebCredentials, album_id: int | None, batch: tuple[str, int] | None,
                       handlers: list[Any], part_index: list[int]) -> Response:
        try:
            if not handlers:
                raise YahooError(400, "The request holds no picture (parts need a filename).")
            problems = []
            inputs = []
            common_tags = params.get("tag", "")
            for n, h in enumerate(handlers):
                result, error = render.handler_outcome(h)
                if error is not None or result is None:
                    problems.append(f"Picture {n} (part {part_index[n]}) is not a valid image: {error}")
                    continue
                inputs.append(PhotoInput(result=result, caption=params.get(f"caption{n}", "")[:2000],
                                         description=params.get(f"desc{n}", "")[:10000],
                                         tags=split_tags(common_tags, params.get(f"tag{n}", ""))))
            if problems:
                raise YahooError(400, *problems)
            try:
                photos = commit_photos(self.service, inputs, owner_id=creds.user.id, app_id=app.id,
                                       album_id=album_id, default_album=False, pending=False, api="yahoo",
                                       batch=batch)
            except AlbumFull as exc:
                raise YahooError(400, f"Album {exc.album_id} is full ({exc.limit} photos).") from exc
            except AlbumNotFound as exc:
                raise YahooError(400, f"Invalid aid: {exc}") from exc
            except BatchExpired as exc:
                raise YahooError(400, f"The batch id has expired: {exc}") from exc
            except BatchCountMismatch as exc:
                raise YahooError(400, f"batcount differs from the batch's first request: {exc}") from exc
            except BatchExceeded as exc:
                raise YahooError(400, f"More photos than batcount: {exc}") from exc
            except UploadLimitReached as exc:
                raise YahooError(400, f"Upload limit reached: {exc}") from exc
            except (StoreUnavailable, FileStoreError) as exc:
                log.error("yahoo.upload.storage %s", exc)
                raise YahooError(503, "The service is temporarily unavailable.") from exc
        except YahooError as err:
            log_event("yahoo.upload.rejected", status=err.status, messages=err.messages)
            return self._error(err, output)
        log_event("yahoo.upload", user=creds.user.username, photos=[p.id for p in photos], album=album_id)
        return render.photolist(self.service, request, photos, creds.user.premium, output)


def now_iso(ts: float | None = None) -> str:
    """ISO 8601 UTC timestamp like the PhotoList sample."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))
