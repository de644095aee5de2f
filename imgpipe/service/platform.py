"""The platform REST API on ``/restserver.php``: ``up.photos.upload`` and the calls around it.

Every call names itself in the ``method`` argument and is signed (see :mod:`.auth`). Arguments come from the
query string and from the body (multipart/form-data, one part per argument, or urlencoded); a name given twice
is error 100. Checks run in this order, so each error code has one situation:

maintenance (2) -> method (100) -> api_key missing (100) / unknown (101) -> source address (5) -> sig missing
(100) / wrong (104) -> [session calls] session_key missing, unknown, expired or of another application (102)
-> call_id missing or not a number (100) / not increasing (103) -> the method's own checks (100, 120, 200, 4,
321, 324, 325). Anything unexpected is 1.

Methods: ``up.auth.login``, ``up.community.getList``, ``up.photos.createAlbum``, ``up.photos.getAlbums``,
``up.photos.get``, ``up.photos.upload``, ``up.photos.approve``, ``up.photos.reject``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from . import render
from .auth import BadCallId, address_allowed, check_signature, parse_call_id
from .commit import PhotoInput, commit_photos
from .core import FormPlan, MultipartPlan, Request, Response, Service, log_event, parse_form
from .files import FileStoreError
from .parts import Discard, FieldCollector, FieldTooLarge, Rejected, remove_files
from .store import (AlbumFull, AlbumNotFound, Application, CallIdNotIncreasing, NotFound, PendingLimitReached,
                    PhotoRecord, Session, StoreUnavailable, UploadLimitReached)

__all__ = ["PlatformError", "PlatformAPI", "ERROR_MESSAGES", "HTTP_STATUS"]

log = logging.getLogger("imgpipe.service")

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

#: HTTP status used for each error code when ``Config.platform_http_errors`` is on (else always 200).
HTTP_STATUS: dict[int, int] = {1: 500, 2: 503, 4: 429, 5: 403, 100: 400, 101: 401, 102: 401, 103: 409, 104: 401,
                               120: 404, 200: 403, 321: 409, 324: 400, 325: 409}

UPLOAD = "up.photos.upload"
_SESSIONLESS = {"up.auth.login", "up.community.getList"}


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


class PlatformAPI:
    """Handler of ``/restserver.php``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.store = service.store
        self.config = service.config
        self.methods: dict[str, Callable[..., Any]] = {
            "up.auth.login": self._login,
            "up.community.getList": self._communities,
            "up.photos.createAlbum": self._create_album,
            "up.photos.getAlbums": self._get_albums,
            "up.photos.get": self._get_photos,
            UPLOAD: self._upload,
            "up.photos.approve": self._approve,
            "up.photos.reject": self._reject,
        }

    # ------------------------------------------------------------------ plans
    def begin(self, request: Request) -> Response | MultipartPlan | FormPlan:
        """Plan the body: multipart (streamed, one image allowed) or a small urlencoded form."""
        if not request.is_multipart:
            return FormPlan(max(self.config.max_field_bytes, 65536),
                            lambda body: self._finish(request, list(request.query) +
                                                      parse_form(body, request.content_type), None))
        fields: list[tuple[str, str]] = []
        images: list[Any] = []
        deferred = render.DeferredExecutor()  # images are decoded only after the checks pass

        def handler_for(part: Any) -> Any:
            is_image = part.name == "data" or (part.name == "" and part.filename is not None)
            if is_image:
                if images:
                    raise Rejected(PlatformError(100, "more than one image part"))
                self._early_checks(request, list(request.query) + fields)
                h = render.image_handler(part, "platform", self.config, executor=deferred)
                images.append(h)
                return h
            if part.filename is not None:
                raise Rejected(PlatformError(100, f"unexpected file part {part.name!r}"))
            if not part.name:
                return Discard()
            return FieldCollector(part.name, fields, self.config.max_field_bytes, part.charset)

        def finish() -> Response:
            return self._finish(request, list(request.query) + fields, images[0] if images else None,
                                image_seen=bool(images))

        def fail(error: BaseException) -> Response:
            args = list(request.query) + fields
            return self._error_response(request, args, self._stream_error(error, bool(images)))

        def cleanup() -> None:
            for h in images:
                render.close_handler(h)

        return MultipartPlan(handler_for=handler_for, limits=render.multipart_limits(self.config), finish=finish,
                             fail=fail, cleanup=cleanup)

    def _early_checks(self, request: Request, pairs: list[tuple[str, str]]) -> None:
        """Conclusive checks possible when the image part starts: stop before decoding a doomed image."""
        args = dict(pairs)
        if args.get("method") not in (None, UPLOAD):
            raise Rejected(PlatformError(100, f"method {args['method']!r} takes no image"))
        if args.get("api_key"):
            app = self.store.get_application(args["api_key"])
            if app is None:
                raise Rejected(PlatformError(101))
            if not address_allowed(request.client, app.allowed_addresses):
                raise Rejected(PlatformError(5))

    @staticmethod
    def _stream_error(error: BaseException, in_image: bool) -> PlatformError:
        if isinstance(error, Rejected) and isinstance(error.error, PlatformError):
            return error.error
        if isinstance(error, FieldTooLarge):
            return PlatformError(100, str(error))
        if render.is_image_error(error):
            return PlatformError(324, str(error))
        if render.is_file_too_large(error):
            return PlatformError(324, "the image file is too large")
        if render.is_multipart_error(error):
            return PlatformError(100, f"malformed multipart body: {error}")
        log.error("platform.stream.unexpected: %r", error)
        return PlatformError(1)

    # ------------------------------------------------------------------ dispatch
    def _finish(self, request: Request, pairs: list[tuple[str, str]], image: Any,
                image_seen: bool = False) -> Response:
        try:
            args = self._args(pairs)
            return self._dispatch(request, args, image)
        except PlatformError as err:
            return self._error_response(request, pairs, err)
        except (StoreUnavailable, FileStoreError) as exc:
            log.error("platform.storage: %s", exc)
            return self._error_response(request, pairs, PlatformError(2))
        except Exception:  # noqa: BLE001 - every other failure is error 1, logged with its traceback
            log.exception("platform.unexpected")
            return self._error_response(request, pairs, PlatformError(1))

    @staticmethod
    def _args(pairs: list[tuple[str, str]]) -> dict[str, str]:
        args: dict[str, str] = {}
        for k, v in pairs:
            if k in args:
                raise PlatformError(100, f"argument {k!r} given twice")
            args[k] = v
        return args

    def _dispatch(self, request: Request, args: dict[str, str], image: Any) -> Response:
        fmt = args.get("format", "XML")
        if fmt.upper() not in ("XML", "JSON"):
            raise PlatformError(100, "format must be XML or JSON")
        if self.service.in_maintenance():
            raise PlatformError(2)
        method = args.get("method", "")
        if not method:
            raise PlatformError(100, "missing method")
        fn = self.methods.get(method)
        if fn is None:
            raise PlatformError(100, f"unknown method {method!r}")
        if image is not None and method != UPLOAD:
            raise PlatformError(100, f"method {method!r} takes no image")
        api_key = args.get("api_key", "")
        if not api_key:
            raise PlatformError(100, "missing api_key")
        app = self.store.get_application(api_key)
        if app is None:
            raise PlatformError(101)
        if not address_allowed(request.client, app.allowed_addresses):
            raise PlatformError(5)
        sig = args.get("sig", "")
        if not sig:
            raise PlatformError(100, "missing sig")
        if not check_signature(args, app.secret, sig):
            raise PlatformError(104)
        session = None
        if method not in _SESSIONLESS:
            session = self._session(args, app)
        data = fn(request, args, app, session, image) if method == UPLOAD else fn(request, args, app, session)
        return render.platform_result(method, data, self._fmt(args), self.config.platform_http_errors)

    @staticmethod
    def _fmt(args: dict[str, str]) -> str:
        return "json" if args.get("format", "XML").upper() == "JSON" else "xml"

    def _session(self, args: dict[str, str], app: Application) -> Session:
        key = args.get("session_key", "")
        if not key:
            raise PlatformError(102, "missing session_key")
        session = self.store.get_session(key)
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
        try:
            self.store.advance_call_id(key, call_id)
        except CallIdNotIncreasing as exc:
            raise PlatformError(103) from exc
        except NotFound as exc:
            raise PlatformError(102) from exc
        return session

    def _error_response(self, request: Request, pairs: list[tuple[str, str]], err: PlatformError) -> Response:
        fmt = "json" if dict(pairs).get("format", "XML").upper() == "JSON" else "xml"
        log_event("platform.error", code=err.code, detail=err.detail, method=dict(pairs).get("method"),
                  client=request.client)
        status = HTTP_STATUS.get(err.code, 400) if self.config.platform_http_errors else 200
        return render.platform_error(err.code, err.message, pairs, fmt, status)

    # ------------------------------------------------------------------ methods
    def _login(self, request: Request, args: dict[str, str], app: Application, session: None) -> dict[str, Any]:
        username, password = args.get("username", ""), args.get("password", "")
        if not username or not password:
            raise PlatformError(100, "missing username or password")
        user = self.store.authenticate(username, password)
        if user is None:
            raise PlatformError(100, "wrong username or password")
        key, sess = self.store.create_session(user.id, app.id, self.config.session_ttl)
        log_event("platform.login", user=user.username, app=app.name)
        return {"session_key": key, "uid": user.id, "expires": int(sess.expires)}

    def _communities(self, request: Request, args: dict[str, str], app: Application, session: Any) -> list[Any]:
        return [{"name": c.name, "title": c.title} for c in self.store.list_communities()]

    def _create_album(self, request: Request, args: dict[str, str], app: Application,
                      session: Session) -> dict[str, Any]:
        name = args.get("name", "").strip()
        if not name or len(name) > 200:
            raise PlatformError(100, "name is missing or too long")
        album = self.store.create_album(session.user.id, name, args.get("description", "")[:2000])
        return render.album_dict(self.service, request, album)

    def _get_albums(self, request: Request, args: dict[str, str], app: Application, session: Session) -> list[Any]:
        return [render.album_dict(self.service, request, a) for a in self.store.list_albums(session.user.id)]

    def _get_photos(self, request: Request, args: dict[str, str], app: Application, session: Session) -> list[Any]:
        album_id = self._aid(args, session) if args.get("aid") else None
        pids = None
        if args.get("pids"):
            try:
                pids = [int(p) for p in args["pids"].split(",") if p.strip()]
            except ValueError as exc:
                raise PlatformError(100, "pids must be a comma-separated list of photo ids") from exc
        photos = self.store.list_photos(session.user.id, album_id=album_id, photo_ids=pids)
        return [render.platform_photo(self.service, request, p) for p in photos]

    def _aid(self, args: dict[str, str], session: Session) -> int:
        raw = args["aid"].strip()
        if not raw.isdigit() or len(raw) > 19:
            raise PlatformError(120, f"aid {raw!r} is not an album id")
        album = self.store.get_album(int(raw))
        if album is None:
            raise PlatformError(120)
        if album.owner_id != session.user.id:
            raise PlatformError(200, "the album belongs to another user")
        return album.id

    def _upload(self, request: Request, args: dict[str, str], app: Application, session: Session,
                image: Any) -> Any:
        community_name = args.get("community", "")
        if not community_name:
            raise PlatformError(100, "missing community")
        community = self.store.get_community(community_name)
        if community is None:
            raise PlatformError(100, f"unknown community {community_name!r}")
        album_id = self._aid(args, session) if args.get("aid") else None
        if image is None:
            raise PlatformError(324, "no image part")
        # Signature, session and call_id have passed (the dispatcher checked them before this method):
        # now the image may be decoded.
        image.executor.run()
        result, error = render.handler_outcome(image)
        if error is not None or result is None:
            raise PlatformError(324, str(error) if error else "")
        pending = "photo_upload" not in app.permissions
        try:
            photos = commit_photos(self.service, [PhotoInput(result=result, caption=args.get("caption", "")[:2000])],
                                   owner_id=session.user.id, app_id=app.id, album_id=album_id,
                                   default_album=album_id is None, pending=pending, api="platform",
                                   community_id=community.id)
        except AlbumFull as exc:
            raise PlatformError(321, str(exc)) from exc
        except AlbumNotFound as exc:
            raise PlatformError(120) from exc
        except PendingLimitReached as exc:
            raise PlatformError(325) from exc
        except UploadLimitReached as exc:
            raise PlatformError(4, str(exc)) from exc
        photo = photos[0]
        log_event("platform.upload", user=session.user.username, app=app.name, pid=photo.id, aid=photo.album_id,
                  status=photo.status)
        return render.UploadResult(render.platform_photo(self.service, request, photo))

    def _owned_photo(self, args: dict[str, str], session: Session) -> PhotoRecord:
        raw = args.get("pid", "").strip()
        if not raw.isdigit() or len(raw) > 19:
            raise PlatformError(100, "missing or invalid pid")
        photo = self.store.get_photo(int(raw))
        if photo is None:
            raise PlatformError(100, f"no photo {raw}")
        if photo.owner_id != session.user.id:
            raise PlatformError(200, "only the photo's owner may do this")
        return photo

    def _approve(self, request: Request, args: dict[str, str], app: Application, session: Session) -> Any:
        photo = self._owned_photo(args, session)
        photo = self.store.set_photo_status(photo.id, session.user.id, "visible")
        log_event("platform.approve", pid=photo.id)
        return render.platform_photo(self.service, request, photo)

    def _reject(self, request: Request, args: dict[str, str], app: Application, session: Session) -> Any:
        photo = self._owned_photo(args, session)
        if photo.status != "pending":
            raise PlatformError(100, "only pending photos can be rejected")
        removed = self.store.delete_photo(photo.id, session.user.id)
        remove_files(self.service.files, [r.file_key for r in removed.renditions])  # row first, then files
        log_event("platform.reject", pid=photo.id)
        return {"pid": str(photo.id), "rejected": True}
