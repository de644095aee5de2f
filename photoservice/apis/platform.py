"""The REST API on ``/restserver.php``: ``up.photos.upload`` and the calls around it.

Every call names itself in the ``method`` argument and is signed (:mod:`.signing`). Arguments come from the
query string and from the body (multipart/form-data, one part per argument, or urlencoded); a name given
twice is error 100. Checks run in this order, so each error code has one situation:

maintenance (2) -> method (100) -> api_key missing (100) / unknown (101) -> source address (5) -> sig missing
(100) / wrong (104) -> [session calls] session_key missing, unknown, expired or of another application (102)
-> call_id missing or not a number (100) / not increasing (103) -> the method's own checks (100, 120, 200, 4,
321, 324, 325). Anything unexpected is 1.

The image of up.photos.upload is spooled as it arrives and decoded only after the signature, the session and
the call_id have passed; an unknown api_key or a refused source address stops the request when the image
part starts, before it is spooled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import fastmime
import imgpipe
from fastmime.handlers import DiscardHandler

from ..storage.files import FileStoreError
from ..storage.records import (
    AlbumFull,
    AlbumNotFound,
    Application,
    CallIdNotIncreasing,
    NotFound,
    PendingLimitReached,
    PhotoRecord,
    Session,
    SignInThrottled,
    StoreUnavailable,
    UploadLimitReached,
)
from ..uploads import PhotoInput, Pictures, Rejected, TextFields, body_limits, image_limits, remove_files, store_photos
from . import documents
from .common import ApiContext, name_with_nul, parse_id, parse_urlencoded
from .messages import ApiRequest, Reply, SmallBody, StreamedBody
from .signing import BadCallId, address_allowed, check_signature, parse_call_id

__all__ = ["PlatformApi", "PlatformError", "ERROR_MESSAGES", "HTTP_STATUS"]

log = logging.getLogger("photoservice")

ERROR_MESSAGES: dict[int, str] = {
    1: "An unknown error occurred. Please resubmit the request.",
    2: "The service is not available at this time.",
    4: "The application has reached the maximum number of requests allowed.",
    5: "The request came from a remote address not allowed by this application.",
    100: "One of the parameters specified was missing or invalid.",
    101: "The api key submitted is not associated with any known application.",
    102: "The session key was improperly submitted or has reached its timeout. "
    "Direct the user to log in again to obtain another key.",
    103: "Call_id must be greater than previous.",
    104: "Incorrect signature.",
    120: "Invalid album id.",
    200: "Permissions error.",
    321: "Album is full.",
    324: "Missing or invalid image file.",
    325: "Too many pending photos.",
}

#: HTTP status of each error code when ``Config.platform_http_errors`` is on (else always 200).
HTTP_STATUS: dict[int, int] = {
    1: 500,
    2: 503,
    4: 429,
    5: 403,
    100: 400,
    101: 401,
    102: 401,
    103: 409,
    104: 401,
    120: 404,
    200: 403,
    321: 409,
    324: 400,
    325: 409,
}

UPLOAD = "up.photos.upload"
_SESSIONLESS = {"up.auth.login", "up.community.getList"}
Args = dict[str, str]


class PlatformError(Exception):
    """An error answered as ``error_response`` with ``code``; ``detail`` is appended to the message."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The historical message, with the detail when there is one."""
        base = ERROR_MESSAGES[self.code]
        return f"{base} ({self.detail})" if self.detail else base


def _fmt(pairs: list[tuple[str, str]]) -> str:
    return "json" if dict(pairs).get("format", "XML").upper() == "JSON" else "xml"


class PlatformApi:
    """``/restserver.php``."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog
        self.config = ctx.config
        self.methods: dict[str, Callable[..., Any]] = {
            "up.auth.login": self._login,
            "up.community.getList": self._communities,
            "up.photos.createAlbum": self._create_album,
            "up.photos.getAlbums": self._get_albums,
            "up.photos.get": self._get_photos,
            "up.photos.approve": self._approve,
            "up.photos.reject": self._reject,
        }

    # ------------------------------------------------------------------ the body
    def call(self, request: ApiRequest) -> SmallBody | StreamedBody:
        """Plan the body: multipart (streamed, at most one image) or a small urlencoded form."""
        if not request.is_multipart:
            return SmallBody(
                max(self.config.max_field_bytes, 65536),
                lambda body: self._finish(
                    request, list(request.query) + parse_urlencoded(body, request.content_type), None
                ),
            )
        fields = TextFields(self.config.max_field_bytes)
        authorized = [False]  # set when the arguments before the image already sign correctly
        pictures = Pictures("platform", image_limits(self.config), self.ctx.images, strip_gps=not self.config.keep_gps)

        def handler_for(part: fastmime.Part) -> object:
            if part.name == "data" or (part.name == "" and part.filename is not None):
                if len(pictures):
                    raise Rejected(PlatformError(100, "more than one image part"))
                authorized[0] = self._early_checks(request, list(request.query) + fields.pairs())
                return pictures.handler(part)
            if part.filename is not None:
                raise Rejected(PlatformError(100, f"unexpected file part {part.name[:40]!r}"))
            if not part.name:
                return DiscardHandler()
            return fields.handler(part.name, part.charset)

        def finish() -> Reply:
            return self._finish(request, list(request.query) + fields.pairs(), pictures)

        def fail(error: BaseException) -> Reply:
            pairs = list(request.query) + fields.pairs()
            return self._error_reply(request, pairs, self._stream_error(error))

        return StreamedBody(
            handler_for=handler_for,
            limits=body_limits(self.config),
            finish=finish,
            fail=fail,
            cleanup=pictures.close,
            authorized=lambda: authorized[0],
        )

    def _early_checks(self, request: ApiRequest, pairs: list[tuple[str, str]]) -> bool:
        """The checks possible when the image part starts, in the order of the final ones, so that a doomed
        image is refused before it is spooled; True when the arguments so far already authorize the request
        (clients send them before the image), so that its bytes no longer count as unauthorized.

        A signature that does not match the arguments so far proves nothing yet (more may follow the
        image): the request then stays unauthorized until the body ends, and the final checks decide.
        """
        args = dict(pairs)
        if name_with_nul(pairs) is not None:
            return False  # refused with 100 once the body is read (see _args); never looked up
        if self.catalog.maintenance():
            raise Rejected(PlatformError(2))
        if args.get("method") not in (None, UPLOAD):
            raise Rejected(PlatformError(100, f"method {args['method'][:40]!r} takes no image"))
        if not args.get("api_key"):
            return False
        app = self.catalog.application(args["api_key"])
        if app is None:
            raise Rejected(PlatformError(101))
        if not address_allowed(request.client, app.allowed_addresses):
            raise Rejected(PlatformError(5))
        if args.get("method") != UPLOAD or not check_signature(args, app.secret, args.get("sig", "")):
            return False
        try:
            self._session(args, app, consume=False)
        except PlatformError as err:
            raise Rejected(err) from err
        return True

    @staticmethod
    def _stream_error(error: BaseException) -> PlatformError:
        if isinstance(error, Rejected) and isinstance(error.error, PlatformError):
            return error.error
        if isinstance(error, imgpipe.ImageError):
            return PlatformError(324, str(error))
        if isinstance(error, (fastmime.FileTooLarge, fastmime.FieldTooLarge)):
            return PlatformError(324, "the image file is too large")
        if isinstance(error, fastmime.MultipartError):
            return PlatformError(100, f"malformed request body: {error}")
        log.error("platform.stream.unexpected", exc_info=error)
        return PlatformError(1)

    # ------------------------------------------------------------------ dispatch
    def _finish(self, request: ApiRequest, pairs: list[tuple[str, str]], pictures: Pictures | None) -> Reply:
        try:
            args = self._args(pairs)
            return self._dispatch(request, args, pictures)
        except PlatformError as err:
            return self._error_reply(request, pairs, err)
        except (StoreUnavailable, FileStoreError) as exc:
            log.error("platform.storage", extra={"error": str(exc)})
            return self._error_reply(request, pairs, PlatformError(2))
        except Exception:
            log.exception("platform.unexpected")
            return self._error_reply(request, pairs, PlatformError(1))

    @staticmethod
    def _args(pairs: list[tuple[str, str]]) -> Args:
        args: Args = {}
        for k, v in pairs:
            if k in args:
                raise PlatformError(100, f"argument {k[:40]!r} given twice")
            bad = name_with_nul(((k, v),))
            if bad is not None:
                raise PlatformError(100, f"argument {bad!r} contains a NUL character")
            args[k] = v
        return args

    def _dispatch(self, request: ApiRequest, args: Args, pictures: Pictures | None) -> Reply:
        fmt = args.get("format", "XML")
        if fmt.upper() not in ("XML", "JSON"):
            raise PlatformError(100, "format must be XML or JSON")
        if self.catalog.maintenance():
            raise PlatformError(2)
        method = args.get("method", "")
        if not method:
            raise PlatformError(100, "missing method")
        if method != UPLOAD and method not in self.methods:
            raise PlatformError(100, f"unknown method {method[:60]!r}")
        if pictures is not None and len(pictures) and method != UPLOAD:
            raise PlatformError(100, f"method {method!r} takes no image")
        api_key = args.get("api_key", "")
        if not api_key:
            raise PlatformError(100, "missing api_key")
        app = self.catalog.application(api_key)
        if app is None:
            raise PlatformError(101)
        if not address_allowed(request.client, app.allowed_addresses):
            raise PlatformError(5)
        sig = args.get("sig", "")
        if not sig:
            raise PlatformError(100, "missing sig")
        if not check_signature(args, app.secret, sig):
            raise PlatformError(104)
        session = self._session(args, app) if method not in _SESSIONLESS else None
        fmt = fmt.lower()
        if method == UPLOAD:
            assert session is not None
            return self._upload(request, args, app, session, pictures, fmt)
        return documents.method_response(method, self.methods[method](request, args, app, session), fmt)

    def _session(self, args: Args, app: Application, consume: bool = True) -> Session:
        key = args.get("session_key", "")
        if not key:
            raise PlatformError(102, "missing session_key")
        session = self.catalog.session(key)
        if session is None:
            raise PlatformError(102)
        if session.app_id != app.id:
            raise PlatformError(102, "the session belongs to another application")
        raw = args.get("call_id", "")
        if not raw:
            raise PlatformError(100, "missing call_id")
        try:
            call_id = parse_call_id(raw)
        except BadCallId as exc:
            raise PlatformError(100, str(exc)) from exc
        if not consume:  # a look, not a use: the call_id is consumed once the whole request has passed
            if session.last_call_id is not None and not call_id > Decimal(session.last_call_id):
                raise PlatformError(103)
            return session
        try:
            self.catalog.advance_call_id(key, call_id)
        except CallIdNotIncreasing as exc:
            raise PlatformError(103) from exc
        except NotFound as exc:
            raise PlatformError(102) from exc
        return session

    def _error_reply(self, request: ApiRequest, pairs: list[tuple[str, str]], err: PlatformError) -> Reply:
        log.info(
            "platform.error",
            extra={
                "code": err.code,
                "detail": err.detail,
                "method": dict(pairs).get("method"),
                "client": request.client,
            },
        )
        status = HTTP_STATUS.get(err.code, 400) if self.config.platform_http_errors else 200
        return documents.error_response(err.code, err.message, pairs, _fmt(pairs), status)

    # ------------------------------------------------------------------ methods
    def _login(self, request: ApiRequest, args: Args, app: Application, session: None) -> dict[str, Any]:
        username, password = args.get("username", ""), args.get("password", "")
        if not username or not password:
            raise PlatformError(100, "missing username or password")
        try:
            user = self.catalog.authenticate(username, password, request.client)
        except SignInThrottled as exc:
            raise PlatformError(4, str(exc)) from exc
        if user is None:
            raise PlatformError(100, "wrong username or password")
        key, sess = self.catalog.open_session(user, app.id, self.config.session_ttl)
        log.info("platform.login", extra={"user": user.username, "app": app.name})
        return {"session_key": key, "uid": user.id, "expires": int(sess.expires)}

    def _communities(self, request: ApiRequest, args: Args, app: Application, session: Any) -> list[Any]:
        return [{"name": c.name, "title": c.title} for c in self.catalog.communities()]

    def _album_dict(self, request: ApiRequest, a: Any) -> dict[str, Any]:
        return {
            "aid": str(a.id),
            "owner": a.owner_id,
            "name": a.name,
            "description": a.description,
            "size": a.size,
            "type": "app" if a.kind == "application" else "normal",
            "created": int(a.created),
            "link": f"{request.base_url}/#album={a.id}",
        }

    def _photo_dict(self, request: ApiRequest, p: PhotoRecord) -> dict[str, Any]:
        base = request.base_url
        url = self.ctx.rendition_url
        return {
            "pid": str(p.id),
            "aid": str(p.album_id) if p.album_id is not None else "",
            "owner": p.owner_id,
            "src": url(base, p, "src", "thumb"),
            "src_big": url(base, p, "src_big", "screen"),
            "src_small": url(base, p, "src_small", "thumb"),
            "link": f"{base}/#photo={p.id}",
            "caption": p.caption,
            "created": int(p.upload_time),
            "status": p.status,
        }

    def _create_album(self, request: ApiRequest, args: Args, app: Application, session: Session) -> dict[str, Any]:
        name = args.get("name", "").strip()
        if not name or len(name) > 200:
            raise PlatformError(100, "name is missing or too long")
        album = self.catalog.create_album(session.user.id, name, args.get("description", "")[:2000])
        return self._album_dict(request, album)

    def _get_albums(self, request: ApiRequest, args: Args, app: Application, session: Session) -> list[Any]:
        return [self._album_dict(request, a) for a in self.catalog.albums(session.user.id)]

    def _get_photos(self, request: ApiRequest, args: Args, app: Application, session: Session) -> list[Any]:
        album_id = self._aid(args, session) if args.get("aid") else None
        pids = None
        if args.get("pids"):
            pids = [parse_id(p) for p in args["pids"].split(",") if p.strip()]
            if None in pids:
                raise PlatformError(100, "pids must be a comma-separated list of photo ids")
        photos = self.catalog.photos(session.user.id, album_id=album_id, photo_ids=pids)  # type: ignore[arg-type]
        return [self._photo_dict(request, p) for p in photos]

    def _aid(self, args: Args, session: Session) -> int:
        album_id = parse_id(args["aid"])
        if album_id is None:
            raise PlatformError(120, f"aid {args['aid'][:40]!r} is not an album id")
        album = self.catalog.album(album_id)
        if album is None:
            raise PlatformError(120)
        if album.owner_id != session.user.id:
            raise PlatformError(200, "the album belongs to another user")
        return album.id

    def _upload(
        self, request: ApiRequest, args: Args, app: Application, session: Session, pictures: Pictures | None, fmt: str
    ) -> Reply:
        community_name = args.get("community", "")
        if not community_name:
            raise PlatformError(100, "missing community")
        community = self.catalog.community(community_name)
        if community is None:
            raise PlatformError(100, f"unknown community {community_name[:60]!r}")
        album_id = self._aid(args, session) if args.get("aid") else None
        if pictures is None or not len(pictures):
            raise PlatformError(324, "no image part")
        # Signature, session and call_id have passed: the image may now be decoded.
        pictures.gate.open()
        _, result, error = next(iter(pictures.outcomes()))
        if result is None:
            raise PlatformError(324, str(error) if error else "")
        pending = "photo_upload" not in app.permissions
        try:
            (photo,) = store_photos(
                self.catalog,
                self.ctx.files,
                [PhotoInput(result, caption=args.get("caption", "")[:2000])],
                owner=session.user,
                app_id=app.id,
                album_id=album_id,
                default_album=album_id is None,
                pending=pending,
                api="platform",
                community_id=community.id,
            )
        except AlbumFull as exc:
            raise PlatformError(321, str(exc)) from exc
        except AlbumNotFound as exc:
            raise PlatformError(120) from exc
        except PendingLimitReached as exc:
            raise PlatformError(325) from exc
        except UploadLimitReached as exc:
            raise PlatformError(4, str(exc)) from exc
        log.info(
            "platform.upload",
            extra={
                "user": session.user.username,
                "app": app.name,
                "pid": photo.id,
                "aid": photo.album_id,
                "photo_status": photo.status,
            },
        )
        return documents.upload_response(self._photo_dict(request, photo), fmt)

    def _owned_photo(self, args: Args, session: Session) -> PhotoRecord:
        photo_id = parse_id(args.get("pid", ""))
        if photo_id is None:
            raise PlatformError(100, "missing or invalid pid")
        photo = self.catalog.photo(photo_id)
        if photo is None:
            raise PlatformError(100, f"no photo {photo_id}")
        if photo.owner_id != session.user.id:
            raise PlatformError(200, "only the photo's owner may do this")
        return photo

    def _approve(self, request: ApiRequest, args: Args, app: Application, session: Session) -> Any:
        photo = self.catalog.approve_photo(self._owned_photo(args, session).id, session.user.id)
        log.info("platform.approve", extra={"pid": photo.id})
        return self._photo_dict(request, photo)

    def _reject(self, request: ApiRequest, args: Args, app: Application, session: Session) -> Any:
        photo = self._owned_photo(args, session)
        if photo.status != "pending":
            raise PlatformError(100, "only pending photos can be rejected")
        removed = self.catalog.delete_photo(photo.id, session.user.id)
        remove_files(self.ctx.files, [r.file_key for r in removed.renditions])  # rows first, then files
        log.info("platform.reject", extra={"pid": photo.id})
        return {"pid": str(photo.id), "rejected": True}
