"""uploadPhotos (Yahoo! Photos V3.0 style) and the calls a client needs around it.

Routes (all under ``/V3.0/``):

* ``POST login`` (form: appid, username, password) -> auth cookie ``Y`` (Set-Cookie) + WSSID, 1 hour.
* ``POST uploadPhotos?appid&WSSID&captionN&descN&tagN&tag&aid&batid|batch_id&batcount`` + the cookie.
* ``GET listAlbums?appid&WSSID`` (each album with its size and cover), ``GET listPhotos?appid&WSSID[&aid]
  [&status=pending|visible]``, ``POST createAlbum?appid&WSSID&name``.
* For the page and any browser client: ``GET getSession`` (who is signed in, until when), ``POST logout``
  (the credentials stop working at once, server-side), ``POST approvePhoto?pid`` and ``POST rejectPhoto?pid``
  (the owner's pending photos, from up.photos.upload applications without ``photo_upload``).

``output=json`` answers JSON instead of XML. Errors are ``<Error xmlns="urn:yahoo:api">`` with one
``<Message>`` per problem and HTTP 400 (parameters, images, limits), 401 (missing, wrong or expired
cookie/WSSID), 403 (unknown appid, or credentials issued to another appid), 503 (maintenance, storage or
database unavailable), 500 (unexpected). uploadPhotos checks the credentials, which travel outside the
body, before reading any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import fastmime
import imgpipe
from fastmime.handlers import DiscardHandler, event_loop_safe

from ..storage.files import FileStoreError
from ..storage.records import (
    AlbumFull,
    AlbumNotFound,
    Application,
    BatchCountMismatch,
    BatchExceeded,
    BatchExpired,
    NotFound,
    PhotoRecord,
    SignInThrottled,
    StoreUnavailable,
    UploadLimitReached,
    WebCredentials,
)
from ..uploads import PhotoInput, Pictures, Rejected, body_limits, image_limits, remove_files, store_photos
from . import documents
from .common import ApiContext, name_with_nul, parse_id, parse_urlencoded, split_tags
from .messages import ApiRequest, Reply, SmallBody, StreamedBody, first_values

__all__ = ["YahooApi", "YahooError", "COOKIE_NAME"]

#: Name of the auth cookie.
COOKIE_NAME = "Y"
log = logging.getLogger("photoservice")
_UNAVAILABLE = "The service is temporarily unavailable."
# uploadPhotos stores screen, thumb and full; up.photos.upload stores src_big, src and src_small.
_LISTED_RENDITIONS = ("screen", "thumb", "full", "src_big", "src", "src_small")


class YahooError(Exception):
    """An error answered in the Yahoo format: HTTP ``status`` and one message per problem."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)


def _refuse_nul(params: dict[str, str]) -> None:
    """Text with U+0000 is refused (see :func:`~.common.name_with_nul`)."""
    bad = name_with_nul(params.items())
    if bad is not None:
        raise YahooError(400, f"Parameter {bad!r} contains a NUL character.")


def _output(params: dict[str, str]) -> str:
    return "json" if params.get("output", "").lower() == "json" else "xml"


class YahooApi:
    """The ``/V3.0/`` calls."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog
        self.config = ctx.config

    # ------------------------------------------------------------------ credentials
    def _application(self, params: dict[str, str]) -> Application:
        if self.catalog.maintenance():
            raise YahooError(503, _UNAVAILABLE)
        appid = params.get("appid", "")
        if not appid:
            raise YahooError(400, "Missing parameter appid.")
        app = self.catalog.application(appid)
        if app is None:
            raise YahooError(403, "Invalid appid.")
        return app

    def _authenticate(self, request: ApiRequest, params: dict[str, str]) -> tuple[Application, WebCredentials]:
        """appid + auth cookie + WSSID, all three required and matching."""
        app = self._application(params)
        cookie = request.cookies.get(COOKIE_NAME, "")
        wssid = params.get("WSSID", "")
        if not cookie:
            raise YahooError(401, "Missing auth cookie.")
        if not wssid:
            raise YahooError(401, "Missing parameter WSSID.")
        creds = self.catalog.web_credentials(cookie, wssid)
        if creds is None:
            raise YahooError(401, "Invalid or expired credentials: sign in again.")
        if creds.app_id != app.id:
            raise YahooError(403, "The credentials were issued to another appid.")
        return app, creds

    def _guarded(self, params: dict[str, str], call: Callable[[str], Reply]) -> Reply:
        output = _output(params)
        try:
            _refuse_nul(params)
            return call(output)
        except YahooError as err:
            return documents.yahoo_error(err.status, err.messages, output)
        except StoreUnavailable:
            return documents.yahoo_error(503, [_UNAVAILABLE], output)

    # ------------------------------------------------------------------ the small calls
    def login(self, request: ApiRequest) -> SmallBody:
        """``POST /V3.0/login``: appid, username and password (query or urlencoded body)."""

        def finish(body: bytes) -> Reply:
            params = {**request.params(), **first_values(parse_urlencoded(body, request.content_type))}
            try:
                return self._guarded(params, lambda output: self._login(request, params, output))
            except SignInThrottled as exc:
                reply = documents.yahoo_error(429, [f"Too many failed sign-ins: {exc}."], _output(params))
                reply.headers.append(("retry-after", str(int(exc.retry_after) + 1)))
                return reply

        return SmallBody(self.config.max_field_bytes, finish)

    def _login(self, request: ApiRequest, params: dict[str, str], output: str) -> Reply:
        app = self._application(params)
        username, password = params.get("username", ""), params.get("password", "")
        if not username or not password:
            raise YahooError(400, "Missing parameter username or password.")
        user = self.catalog.authenticate(username, password, request.client)
        if user is None:
            raise YahooError(401, "Wrong user name or password.")
        cookie, wssid, creds = self.catalog.issue_web_credentials(user, app.id, self.config.web_credentials_ttl)
        log.info("yahoo.login", extra={"user": user.username, "appid": app.api_key})
        reply = documents.yahoo_login(user.username, wssid, creds.expires, user.premium, output)
        max_age = int(self.config.web_credentials_ttl)
        reply.headers.append(
            ("set-cookie", f"{COOKIE_NAME}={cookie}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax")
        )
        return reply

    def _authenticated_post(
        self, request: ApiRequest, call: Callable[[dict[str, str], WebCredentials, str], Reply]
    ) -> SmallBody:
        """A POST call with its parameters in the query or a urlencoded body (the query wins), authenticated."""

        def finish(body: bytes) -> Reply:
            params = {**first_values(parse_urlencoded(body, request.content_type)), **request.params()}

            def guarded(output: str) -> Reply:
                _, creds = self._authenticate(request, params)
                return call(params, creds, output)

            return self._guarded(params, guarded)

        return SmallBody(self.config.max_field_bytes, finish)

    def get_session(self, request: ApiRequest) -> Reply:
        """``GET /V3.0/getSession``: who the credentials belong to and until when (401 once they do not work)."""
        params = request.params()

        def call(output: str) -> Reply:
            _, creds = self._authenticate(request, params)
            return documents.yahoo_session(creds.user.username, creds.expires, creds.user.premium, output)

        return self._guarded(params, call)

    def logout(self, request: ApiRequest) -> SmallBody:
        """``POST /V3.0/logout``: the credentials are revoked in the database and the cookie is cleared."""

        def call(params: dict[str, str], creds: WebCredentials, output: str) -> Reply:
            self.catalog.revoke_web_credentials(request.cookies.get(COOKIE_NAME, ""))
            log.info("yahoo.logout", extra={"user": creds.user.username})
            reply = documents.yahoo_logout(creds.user.username, output)
            reply.headers.append(("set-cookie", f"{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"))
            return reply

        return self._authenticated_post(request, call)

    def list_albums(self, request: ApiRequest) -> Reply:
        """``GET /V3.0/listAlbums``: every album with its size and cover (the thumb of its latest visible photo)."""
        params = request.params()

        def call(output: str) -> Reply:
            _, creds = self._authenticate(request, params)
            covers = {
                album_id: self.ctx.rendition_url(request.base_url, photo, "thumb")
                for album_id, photo in self.catalog.album_covers(creds.user.id).items()
            }
            return documents.album_list(self.catalog.albums(creds.user.id), output, covers)

        return self._guarded(params, call)

    def list_photos(self, request: ApiRequest) -> Reply:
        """``GET /V3.0/listPhotos[?aid][&status=pending|visible]``."""
        params = request.params()

        def call(output: str) -> Reply:
            _, creds = self._authenticate(request, params)
            album_id = self._album_id(params["aid"], creds) if params.get("aid") else None
            status = params.get("status", "")
            if status not in ("", "pending", "visible"):
                raise YahooError(400, f"Invalid status {status[:20]!r}: expected pending or visible.")
            photos = self.catalog.photos(creds.user.id, album_id=album_id, status=status or None)
            return self._photolist(request, photos, creds.user.premium, output)

        return self._guarded(params, call)

    def create_album(self, request: ApiRequest) -> SmallBody:
        """``POST /V3.0/createAlbum?name[&desc]`` (parameters in the query or a urlencoded body)."""

        def call(params: dict[str, str], creds: WebCredentials, output: str) -> Reply:
            name = params.get("name", "").strip()
            if not name:
                raise YahooError(400, "Missing parameter name.")
            if len(name) > 200:
                raise YahooError(400, "Parameter name is too long.")
            album = self.catalog.create_album(creds.user.id, name, params.get("desc", "")[:2000])
            return documents.album_list([album], output)

        return self._authenticated_post(request, call)

    def approve_photo(self, request: ApiRequest) -> SmallBody:
        """``POST /V3.0/approvePhoto?pid``: the owner's pending photo becomes visible; answers its PhotoList."""

        def call(params: dict[str, str], creds: WebCredentials, output: str) -> Reply:
            photo = self._pending_photo(params, creds)
            try:
                approved = self.catalog.approve_photo(photo.id, creds.user.id)
            except NotFound as exc:  # rejected meanwhile
                raise YahooError(400, f"Invalid pid {params['pid'][:40]!r}: no such photo.") from exc
            log.info("yahoo.approve", extra={"user": creds.user.username, "pid": photo.id})
            return self._photolist(request, [approved], creds.user.premium, output)

        return self._authenticated_post(request, call)

    def reject_photo(self, request: ApiRequest) -> SmallBody:
        """``POST /V3.0/rejectPhoto?pid``: the owner's pending photo is deleted, its rows first, then its files."""

        def call(params: dict[str, str], creds: WebCredentials, output: str) -> Reply:
            photo = self._pending_photo(params, creds)
            try:
                removed = self.catalog.delete_photo(photo.id, creds.user.id)
            except NotFound as exc:
                raise YahooError(400, f"Invalid pid {params['pid'][:40]!r}: no such photo.") from exc
            remove_files(self.ctx.files, [r.file_key for r in removed.renditions])
            log.info("yahoo.reject", extra={"user": creds.user.username, "pid": photo.id})
            return documents.yahoo_rejected(str(photo.id), output)

        return self._authenticated_post(request, call)

    def _pending_photo(self, params: dict[str, str], creds: WebCredentials) -> PhotoRecord:
        value = params.get("pid", "")
        if not value:
            raise YahooError(400, "Missing parameter pid.")
        photo_id = parse_id(value)
        photo = self.catalog.photo(photo_id) if photo_id is not None else None
        if photo is None or photo.owner_id != creds.user.id:
            raise YahooError(400, f"Invalid pid {value[:40]!r}: no such photo.")
        if photo.status != "pending":
            raise YahooError(400, f"Photo {photo.id} is not pending.")
        return photo

    def unknown(self, request: ApiRequest, name: str) -> Reply:
        """Any other ``/V3.0/`` name."""
        return documents.yahoo_error(404, [f"Unknown service {name!r}."], _output(request.params()))

    def _album_id(self, value: str, creds: WebCredentials) -> int:
        album_id = parse_id(value)
        album = self.catalog.album(album_id) if album_id is not None else None
        if album is None or album.owner_id != creds.user.id:
            raise YahooError(400, f"Invalid aid {value[:40]!r}: no such album.")
        return album.id

    def _photolist(self, request: ApiRequest, photos: list[PhotoRecord], premium: bool, output: str) -> Reply:
        base = request.base_url
        items = []
        for p in photos:
            images = [
                imgpipe.PhotoImage(
                    type=r.type,
                    width=r.width,
                    height=r.height,
                    size=r.size,
                    format=r.format,
                    url=self.ctx.signer.url(base, r.file_key),
                )
                for r in map(p.rendition, _LISTED_RENDITIONS)
                if r is not None and (r.type != "full" or premium)
            ]
            items.append(
                imgpipe.Photo(
                    id=str(p.id),
                    hr_width=p.width,
                    hr_height=p.height,
                    owner=p.owner_name,
                    caption=p.caption,
                    description=p.description,
                    tags=list(p.tags),
                    create_time=p.create_time or documents.iso_time(p.upload_time),
                    upload_time=documents.iso_time(p.upload_time),
                    mod_time=documents.iso_time(p.mod_time),
                    images=images,
                    exif=dict(p.exif) or None,
                )
            )
        plist = imgpipe.PhotoList(items)
        if output == "json":
            return Reply.json(plist.to_dict())
        return Reply.xml(plist.to_xml())

    # ------------------------------------------------------------------ uploadPhotos
    def upload(self, request: ApiRequest) -> Reply | StreamedBody:
        """``POST /V3.0/uploadPhotos``: every check the query and headers allow, then the body."""
        params = request.params()
        output = _output(params)
        try:
            _refuse_nul(params)
            app, creds = self._authenticate(request, params)
            album_id = self._album_id(params["aid"], creds) if params.get("aid") else None
            batch = self._batch(params)
            if not request.is_multipart:
                raise YahooError(400, "The request must be multipart/form-data.")
        except YahooError as err:
            return documents.yahoo_error(err.status, err.messages, output)
        except StoreUnavailable:
            return documents.yahoo_error(503, [_UNAVAILABLE], output)

        pictures = Pictures("yahoo", image_limits(self.config), self.ctx.images, strip_gps=not self.config.keep_gps)
        pictures.gate.open()  # authorized already: each picture is processed as soon as its part ends

        @event_loop_safe  # no I/O: checks the query's captions and makes a handler
        def handler_for(part: fastmime.Part) -> object:
            if not part.filename:  # no filename (or an empty file input): ignored, as the spec says
                return DiscardHandler()
            n = len(pictures)
            if f"caption{n}" not in params:
                raise Rejected(YahooError(400, f"Missing parameter caption{n} for picture {n}."))
            if n >= self.config.max_parts:
                raise Rejected(YahooError(400, "Too many pictures in one request."))
            return pictures.handler(part)

        def finish() -> Reply:
            try:
                photos = self._store(params, app, creds, album_id, batch, pictures)
            except YahooError as err:
                log.info("yahoo.upload.rejected", extra={"status": err.status, "messages": err.messages})
                return documents.yahoo_error(err.status, err.messages, output)
            log.info(
                "yahoo.upload", extra={"user": creds.user.username, "photos": [p.id for p in photos], "album": album_id}
            )
            return self._photolist(request, photos, creds.user.premium, output)

        def fail(error: BaseException) -> Reply:
            err = self._stream_error(error)
            return documents.yahoo_error(err.status, err.messages, output)

        return StreamedBody(
            handler_for=handler_for,
            limits=body_limits(self.config),
            finish=finish,
            fail=fail,
            cleanup=pictures.close,
            authorized=lambda: True,
        )

    def _batch(self, params: dict[str, str]) -> tuple[str, int] | None:
        batid = params.get("batid") or params.get("batch_id") or ""
        if not batid:
            return None
        if len(batid) > 128:
            raise YahooError(400, "Parameter batid is too long.")
        count = params.get("batcount", "")
        if not count:
            raise YahooError(400, "Missing parameter batcount (required with batid).")
        number = parse_id(count)
        if number is None or not 0 < number <= 100_000:
            raise YahooError(400, f"Invalid batcount {count[:20]!r}.")
        return batid, number

    @staticmethod
    def _stream_error(error: BaseException) -> YahooError:
        if isinstance(error, Rejected) and isinstance(error.error, YahooError):
            return error.error
        if isinstance(error, imgpipe.ImageError):
            return YahooError(400, f"Invalid picture: {error}")
        if isinstance(error, fastmime.MultipartError):
            return YahooError(error.http_status, f"Malformed request body: {error}")
        log.error("yahoo.upload.unexpected", exc_info=error)
        return YahooError(500, "Internal error.")

    def _store(
        self,
        params: dict[str, str],
        app: Application,
        creds: WebCredentials,
        album_id: int | None,
        batch: tuple[str, int] | None,
        pictures: Pictures,
    ) -> list[PhotoRecord]:
        if not len(pictures):
            raise YahooError(400, "The request holds no picture (parts need a filename).")
        problems, inputs = [], []
        common_tags = params.get("tag", "")
        for n, (part_index, result, error) in enumerate(pictures.outcomes()):
            if result is None:
                problems.append(f"Picture {n} (part {part_index}) is not a valid image: {error}")
                continue
            inputs.append(
                PhotoInput(
                    result=result,
                    caption=params.get(f"caption{n}", "")[:2000],
                    description=params.get(f"desc{n}", "")[:10000],
                    tags=split_tags(common_tags, params.get(f"tag{n}", "")),
                )
            )
        if problems:
            raise YahooError(400, *problems)
        try:
            return store_photos(
                self.catalog,
                self.ctx.files,
                inputs,
                owner=creds.user,
                app_id=app.id,
                album_id=album_id,
                default_album=False,
                pending=False,
                api="yahoo",
                batch=batch,
            )
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
            log.error("yahoo.upload.storage", extra={"error": str(exc)})
            raise YahooError(503, _UNAVAILABLE) from exc
