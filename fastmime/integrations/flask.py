"""Flask (and any Werkzeug app): fastmime fills ``request.form`` and ``request.files``.

::

    import fastmime.integrations.flask

    app = Flask(__name__)
    fastmime.integrations.flask.install(app)      # Werkzeug's form parser hook + error statuses

    @app.post("/upload")
    def upload():
        title = request.form["title"]              # as before: request.form / request.files
        request.files["photo"].save(path)          # werkzeug FileStorage objects

:func:`install` sets the app's request class to one whose ``form_data_parser_class`` parses
multipart/form-data and application/x-www-form-urlencoded bodies with fastmime (Werkzeug's documented
hook), so code written for Werkzeug keeps working: Flask-WTF, ``request.values``, ``FileStorage.save``.
Unlike Werkzeug's parser it keeps a file part without a name (``request.files[""]``), decodes base64
parts, and raises fastmime's errors, which the handlers :func:`install` registers (see
:func:`register_error_handlers`) answer with their HTTP status (413 for a limit, 400 for a malformed
body, 415 for a nested multipart part). Limits: ``install(app, limits=...)``, or else Flask's
``MAX_CONTENT_LENGTH`` (the body), ``MAX_FORM_MEMORY_SIZE`` (a field) and ``MAX_FORM_PARTS`` over
fastmime's defaults.

To stream parts to your own handlers instead (an imgpipe handler, a hash, a direct writer),
``stream_request(handler_for)`` reads ``request.environ["wsgi.input"]`` through :mod:`fastmime.wsgi`; call it
(or ``parse_form()``) before anything touches ``request.form``, ``request.files``, ``request.data``
or ``request.get_data()``, which make Werkzeug read the body: :class:`~fastmime.BodyConsumed`
(HTTP 500) is raised then.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .. import wsgi
from .._adapter import HandlerFor, Progress
from .._form import Form
from .._limits import Limits
from . import BodyConsumed, _lazy_attribute

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

__all__ = ["install", "FormDataParser", "register_error_handlers", "stream_request", "parse_form", "error_response"]

# What Werkzeug caches on the request once it has read the body.
_BODY_READERS = ("form", "files", "values", "data", "stream", "_cached_data", "_cached_json")


def _current(request: Request | None) -> Request:
    if request is not None:
        return request
    from flask import request as current

    return current._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _check(request: Request, limits: Limits | None) -> Limits | None:
    state = request.__dict__
    if any(name in state for name in _BODY_READERS):
        raise BodyConsumed(
            "the request body was already read (request.form, .files, .values, .data, .stream, "
            ".get_data() or .get_json()); call fastmime first"
        )
    if limits is None:
        maximum = request.max_content_length
        if maximum is not None:
            limits = Limits(max_body_size=maximum)
    return limits


def stream_request(
    handler_for: HandlerFor,
    *,
    request: Request | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> None:
    """Stream the current (or the given) request's multipart body to ``handler_for``'s handlers.

    Same contract as :func:`fastmime.wsgi.stream_request`.
    """
    request = _current(request)
    limits = _check(request, limits)
    wsgi.stream_request(request.environ, handler_for, limits=limits, progress=progress)


def parse_form(
    *,
    request: Request | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int = 1024 * 1024,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """The current (or the given) request's fields and files as a :class:`fastmime.Form`.

    multipart/form-data and application/x-www-form-urlencoded bodies.
    """
    request = _current(request)
    limits = _check(request, limits)
    return wsgi.parse_form(
        request.environ, limits=limits, progress=progress, spool_threshold=spool_threshold, upload_dir=upload_dir
    )


def error_response(exc: BaseException) -> Any:
    """A Flask plain-text response with the status of :func:`fastmime.http.http_error`, or ``None``."""
    from flask import Response

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    return Response(message + "\n", status=status, mimetype="text/plain")


def register_error_handlers(app: Any, *error_classes: type[BaseException]) -> None:
    """Answer :class:`~fastmime.MultipartError` (and each of ``error_classes``, e.g. ``imgpipe.ImageError``)
    with its status and short message (:func:`fastmime.http.http_error`) instead of a 500."""
    from .._errors import MultipartError

    def handle(exc: BaseException) -> Any:
        response = error_response(exc)
        if response is None:  # an error class without an http_status: Flask's own handling (a 500)
            raise exc
        return response

    for cls in (MultipartError, *error_classes):
        app.register_error_handler(cls, handle)


def _form_data_parser_class() -> type:
    from werkzeug.datastructures import FileStorage, Headers
    from werkzeug.formparser import FormDataParser as WerkzeugFormDataParser

    class FastmimeFormDataParser(WerkzeugFormDataParser):
        """Werkzeug's form parser, with fastmime doing the parsing (multipart and urlencoded)."""

        #: Set by :func:`install`: explicit limits (else from the request's max_* settings), and
        #: where files go.
        limits: Limits | None = None
        spool_threshold: int = 1024 * 1024
        upload_dir: str | os.PathLike[str] | None = None

        def _fastmime_limits(self) -> Limits:
            if self.limits is not None:
                return self.limits
            defaults = Limits()
            return Limits(
                max_body_size=self.max_content_length or defaults.max_body_size,
                max_field_size=self.max_form_memory_size or defaults.max_field_size,
                max_parts=self.max_form_parts or defaults.max_parts,
            )

        def parse(
            self, stream: Any, mimetype: str, content_length: int | None, options: dict[str, str] | None = None
        ) -> Any:
            from .._adapter import announced_length
            from .._form import parse_form as parse_body

            options = options or {}
            if mimetype == "multipart/form-data":
                content_type = f'{mimetype}; boundary="{options.get("boundary", "")}"'
            elif mimetype == "application/x-www-form-urlencoded":
                content_type = mimetype + (f'; charset="{options["charset"]}"' if "charset" in options else "")
            else:
                return super().parse(stream, mimetype, content_length, options)
            limits = self._fastmime_limits()
            expected = announced_length(content_length, limits)
            # Werkzeug's stream already stops at Content-Length, or at the end a server marks.
            chunks = wsgi.body_chunks(stream.read, expected, True)
            form = parse_body(
                chunks, content_type, limits, spool_threshold=self.spool_threshold, upload_dir=self.upload_dir
            )
            files = self.cls(
                [
                    (
                        name,
                        FileStorage(
                            stream=upload.file,
                            filename=upload.filename,
                            name=name,
                            content_type=upload.content_type,
                            headers=Headers(upload.headers),
                        ),
                    )
                    for name, upload in form.files.multi_items()
                ]
            )
            return stream, self.cls(form.fields.multi_items()), files

    return FastmimeFormDataParser


#: Werkzeug's FormDataParser subclass that parses with fastmime; made on first access.
FormDataParser: type


__getattr__ = _lazy_attribute(globals(), "FormDataParser", _form_data_parser_class)


def install(
    app: Any,
    *error_classes: type[BaseException],
    limits: Limits | None = None,
    spool_threshold: int = 1024 * 1024,
    upload_dir: str | os.PathLike[str] | None = None,
) -> None:
    """Make fastmime the parser behind ``request.form`` / ``request.files`` of ``app``, and register
    the error handlers (:func:`register_error_handlers`, with ``error_classes``).

    ``limits`` replaces the limits taken from Flask's config; files stay in memory up to
    ``spool_threshold`` bytes, then go to anonymous temporary files in ``upload_dir``.
    """
    base = __getattr__("FormDataParser")
    parser_class = type(
        "FastmimeFormDataParser",
        (base,),
        {"limits": limits, "spool_threshold": spool_threshold, "upload_dir": upload_dir},
    )
    app.request_class = type("FastmimeRequest", (app.request_class,), {"form_data_parser_class": parser_class})
    register_error_handlers(app, *error_classes)
