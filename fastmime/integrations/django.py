"""Django: fastmime parses ``request.POST`` / ``request.FILES``, CSRF protection included.

One line in ``settings.MIDDLEWARE``, before ``CsrfViewMiddleware``::

    MIDDLEWARE = [
        "fastmime.integrations.django.FastmimeMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        ...
    ]

and views keep their habits (``request.POST["title"]``, ``request.FILES["photo"]``, Django forms,
``{% csrf_token %}``). The middleware

- puts :class:`FastmimeUploadHandler` first in ``request.upload_handlers`` (or list it yourself in
  ``FILE_UPLOAD_HANDLERS``): its ``handle_raw_input`` hook, which Django documents for replacing the
  parser, parses the multipart body with fastmime and returns ``POST`` and ``FILES`` (files as Django
  ``UploadedFile`` objects; a file part without a name, which Django's parser drops, is under
  ``""``). application/x-www-form-urlencoded bodies stay with Django, which reads them whole, bounded by
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``;
- parses the form before the CSRF check reads ``csrfmiddlewaretoken`` from it, so that a bad upload is
  answered with its status (413 for a limit, 400 for a malformed body, 415 for a nested multipart
  part) instead of a 500, and maps the same errors raised in views (``process_exception``), for
  fastmime's errors and any exception with an ``http_status`` (imgpipe's);
- lets a chunked body (no Content-Length) through under a WSGI server that terminates the input
  (gunicorn, waitress): Django alone sees it as empty.

Limits: ``settings.FASTMIME_LIMITS`` (a :class:`fastmime.Limits`), else fastmime's defaults with
``max_parts`` from ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` + ``DATA_UPLOAD_MAX_NUMBER_FILES`` and
``max_field_size`` from ``DATA_UPLOAD_MAX_MEMORY_SIZE`` when they are set. Files stay in memory up to
``FILE_UPLOAD_MAX_MEMORY_SIZE``, then go to ``FILE_UPLOAD_TEMP_DIR``.

To stream each part to your own handler instead (an imgpipe handler, a hash, a direct writer), use the
view helpers ``stream_request(request, handler_for)`` / ``parse_form(request)`` in a ``csrf_exempt``
view (the middleware leaves those to the view): they read through ``request.read()`` (or, for a
chunked WSGI body, the terminated ``wsgi.input``) in 1 MiB chunks, and raise
:class:`~fastmime.BodyConsumed` (HTTP 500) when something read the body first.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

from .. import wsgi
from .._adapter import HandlerFor, Progress, announced_length
from .._form import Form, _FormBuilder, read_urlencoded
from .._limits import Limits
from .._urlencoded import is_urlencoded
from . import BodyConsumed, _lazy_attribute

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

__all__ = ["FastmimeMiddleware", "FastmimeUploadHandler", "stream_request", "parse_form", "error_response"]


def _source(request: HttpRequest) -> tuple[Any, bool]:
    """``(read, terminated)`` for the request's body, or :class:`BodyConsumed`."""
    if hasattr(request, "_body"):  # request.body was read: the bytes are in memory already
        return io.BytesIO(request._body).read, True
    if getattr(request, "_read_started", False):
        raise BodyConsumed(
            "the request body was already read (request.POST, .FILES, .read()); "
            "call fastmime first, and make the view csrf_exempt"
        )
    environ = getattr(request, "environ", None)
    meta = request.META
    if environ is not None and not meta.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
        # WSGIRequest bounds its stream by Content-Length (0 when absent): read the terminated input.
        request._read_started = True
        return environ["wsgi.input"].read, True
    # ASGIRequest's stream is a spooled file holding the whole body: its EOF is the end.
    terminated = type(request).__name__ == "ASGIRequest"
    return request.read, terminated


def stream_request(
    request: HttpRequest, handler_for: HandlerFor, *, limits: Limits | None = None, progress: Progress | None = None
) -> None:
    """Stream the request's multipart body to the handlers ``handler_for(part)`` returns.

    Same contract as :func:`fastmime.wsgi.stream_request`.
    """
    read, terminated = _source(request)
    wsgi.stream_body(
        read,
        request.META.get("CONTENT_TYPE"),
        handler_for,
        content_length=request.META.get("CONTENT_LENGTH"),
        terminated=terminated,
        limits=limits,
        progress=progress,
    )


def parse_form(
    request: HttpRequest,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    spool_threshold: int | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """The request's fields and files as a :class:`fastmime.Form` (close it, or use ``with``).

    multipart/form-data and application/x-www-form-urlencoded bodies. ``spool_threshold`` defaults to
    Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE``, ``upload_dir`` to ``FILE_UPLOAD_TEMP_DIR``.
    """
    from django.conf import settings

    if spool_threshold is None:
        spool_threshold = int(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    if upload_dir is None:
        upload_dir = settings.FILE_UPLOAD_TEMP_DIR
    content_type = request.META.get("CONTENT_TYPE")
    if is_urlencoded(content_type):
        read, terminated = _source(request)
        expected = announced_length(request.META.get("CONTENT_LENGTH"), limits)
        return read_urlencoded(wsgi.body_chunks(read, expected, terminated), content_type, expected, limits, progress)
    with _FormBuilder(spool_threshold, upload_dir) as builder:
        stream_request(request, builder.handler_for, limits=limits, progress=progress)
        return builder.build()


def error_response(exc: BaseException) -> HttpResponse | None:
    """A plain-text ``HttpResponse`` with the status of :func:`fastmime.http.http_error`, or ``None``."""
    from django.http import HttpResponse

    from ..http import http_error

    found = http_error(exc)
    if found is None:
        return None
    status, message = found
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _limits() -> Limits:
    from django.conf import settings

    configured: Limits | None = getattr(settings, "FASTMIME_LIMITS", None)
    if configured is not None:
        return configured
    defaults = Limits()
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    files = getattr(settings, "DATA_UPLOAD_MAX_NUMBER_FILES", None)
    memory = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return Limits(
        max_parts=defaults.max_parts if fields is None or files is None else fields + files,
        max_field_size=memory or defaults.max_field_size,
    )


def _to_django(form: Form) -> tuple[Any, Any]:
    """``(POST, FILES)`` as Django builds them, from a fastmime Form."""
    from django.core.files.uploadedfile import UploadedFile
    from django.http import QueryDict
    from django.utils.datastructures import MultiValueDict

    from .. import parse_options_header

    post = QueryDict(mutable=True)
    for name, value in form.fields.multi_items():
        post.appendlist(name, value)
    post._mutable = False
    files = MultiValueDict()
    for name, upload in form.files.multi_items():
        media_type, params = parse_options_header(upload.content_type or "application/octet-stream")
        files.appendlist(
            name, UploadedFile(upload.file, upload.filename, media_type, upload.size, params.get("charset"), params)
        )
    return post, files


def _upload_handler_class() -> type:
    from django.conf import settings
    from django.core.files.uploadhandler import FileUploadHandler

    class Handler(FileUploadHandler):  # type: ignore[misc]  # Django ships no types: its classes are Any
        """Replaces Django's multipart parser through the ``handle_raw_input`` hook."""

        def handle_raw_input(
            self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
        ) -> tuple[Any, Any]:
            from .._form import parse_form as parse_body

            limits = _limits()
            expected = announced_length(content_length, limits)
            # Django's stream stops at Content-Length (ASGI: the spooled body ends at EOF).
            chunks = wsgi.body_chunks(input_data.read, expected, True)
            form = parse_body(
                chunks,
                META.get("CONTENT_TYPE"),
                limits,
                spool_threshold=int(settings.FILE_UPLOAD_MAX_MEMORY_SIZE),
                upload_dir=settings.FILE_UPLOAD_TEMP_DIR,
            )
            return _to_django(form)

        def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:  # never called: see above
            return raw_data

        def file_complete(self, file_size: int) -> None:
            return None

    Handler.__name__ = Handler.__qualname__ = "FastmimeUploadHandler"
    Handler.__module__ = __name__
    return Handler


#: Django's FileUploadHandler subclass that replaces its multipart parser; made on first access.
FastmimeUploadHandler: type


__getattr__ = _lazy_attribute(globals(), "FastmimeUploadHandler", _upload_handler_class)


def _is_multipart(request: HttpRequest) -> bool:
    content_type: str = request.META.get("CONTENT_TYPE", "")
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _load_chunked(request: HttpRequest) -> None:
    """Fill ``request.POST`` and ``request.FILES`` from a body without Content-Length."""
    with parse_form(request, limits=_limits()) as form:
        post, files = _to_django(form)
        form.files = type(form.files)()  # the files now belong to the request, which closes them
    request._post, request._files = post, files


class FastmimeMiddleware:
    """Installs :class:`FastmimeUploadHandler`, parses forms before the CSRF check, maps errors to statuses.

    Put it before ``django.middleware.csrf.CsrfViewMiddleware`` in ``MIDDLEWARE``.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if request.method == "POST":
            handler_class = __getattr__("FastmimeUploadHandler")
            if not any(isinstance(h, handler_class) for h in request.upload_handlers):
                request.upload_handlers.insert(0, handler_class(request))
            if _is_multipart(request) and self._chunked(request):
                # Django takes a body without Content-Length for an empty one and never calls the
                # upload handlers: parse it ourselves, but only when POST or FILES is asked for.
                request._load_post_and_files = lambda: _load_chunked(request)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> Any:
        """Django's view hook: parse a POST body before the view (unless it is ``csrf_exempt``), so that a
        fastmime error becomes its HTTP response here."""
        if request.method != "POST" or getattr(view, "csrf_exempt", False):
            return None  # a csrf_exempt view may stream the body itself
        try:
            request.POST  # noqa: B018 - parse now, where an error can still become a response
        except Exception as exc:
            response = error_response(exc)
            if response is None:
                raise
            return response
        return None

    def process_exception(self, request: HttpRequest, exc: Exception) -> Any:
        """Django's exception hook: a fastmime error raised by the view becomes its HTTP response."""
        return error_response(exc)

    @staticmethod
    def _chunked(request: HttpRequest) -> bool:
        """A body without Content-Length that can still be read to its end (Django would see none)."""
        if request.META.get("CONTENT_LENGTH"):
            return False
        environ = getattr(request, "environ", None)
        if environ is not None and environ.get("wsgi.input_terminated"):
            return True
        return type(request).__name__ == "ASGIRequest"
