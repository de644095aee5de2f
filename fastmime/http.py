"""HTTP statuses for fastmime and imgpipe errors, for adapters and applications to reuse.

:func:`http_error` answers ``(status, short message)`` for any error these libraries raise, and
``None`` for anything else (a bug is a 500, not the client's fault):

- 415 ``fastmime.NotMultipart``: the body is not multipart/form-data.
- 413 ``fastmime.LimitExceeded`` and subclasses (body, file, field, parts, headers): too large.
- 411 ``fastmime.wsgi.LengthRequired``: no Content-Length on an input the server does not terminate.
- 400 any other ``fastmime.MultipartError``: malformed body or boundary, bad Content-Length,
  ``ClientDisconnected`` (rarely answered: the client is gone).
- 415 ``imgpipe.UnsupportedFormatError``, ``NotAnImageError``, ``EmptyImageError``: not an accepted
  image format (decided from the bytes).
- 413 ``imgpipe.FileTooLargeError``: the image has too many bytes.
- 422 ``imgpipe.TooManyPixelsError``, ``DimensionsTooLargeError``, ``CorruptImageError``,
  ``TruncatedImageError`` and any other ``imgpipe.ImageError``: an image the service cannot or will
  not process.

imgpipe is never imported here: its errors are recognised by their classes' module and name, so
this module works (and stays cheap) whether imgpipe is installed or not.
"""

from __future__ import annotations

from ._errors import (
    Aborted, BodyTooLarge, ClientDisconnected, FieldTooLarge, FileTooLarge, HeaderTooLarge, IncompleteBody,
    InvalidBoundary, InvalidContentDisposition, InvalidDelimiter, InvalidHeader, LimitExceeded,
    MissingBoundary, MissingContentDisposition, MultipartError, NotMultipart, TooManyHeaders, TooManyParts,
)

__all__ = ["http_error", "status_for", "reason_phrase"]

# Most specific first: the first class in an error's MRO that is listed here gives the message.
_FASTMIME_MESSAGES: dict[type[BaseException], str] = {
    NotMultipart: "expected a multipart/form-data body",
    MissingBoundary: "the multipart Content-Type has no boundary",
    InvalidBoundary: "the multipart boundary is invalid",
    BodyTooLarge: "request body too large",
    FileTooLarge: "uploaded file too large",
    FieldTooLarge: "form field too large",
    TooManyParts: "too many parts in the form",
    HeaderTooLarge: "part headers too large",
    TooManyHeaders: "too many part headers",
    LimitExceeded: "request too large",
    MissingContentDisposition: "a part has no Content-Disposition",
    InvalidContentDisposition: "a part has an invalid Content-Disposition",
    InvalidHeader: "a part has a malformed header",
    InvalidDelimiter: "malformed multipart delimiter",
    IncompleteBody: "the multipart body is incomplete",
    ClientDisconnected: "the client disconnected",
    Aborted: "the upload was aborted",
    MultipartError: "malformed multipart body",
}

# imgpipe error class name -> (status, message); looked up along the MRO, most specific first.
_IMGPIPE: dict[str, tuple[int, str]] = {
    "EmptyImageError": (415, "the uploaded image is empty"),
    "NotAnImageError": (415, "the upload is not an image"),
    "UnsupportedFormatError": (415, "unsupported image format"),
    "FileTooLargeError": (413, "image file too large"),
    "TooManyPixelsError": (422, "image has too many pixels"),
    "DimensionsTooLargeError": (422, "image dimensions too large"),
    "ImageLimitError": (422, "image exceeds a limit"),
    "TruncatedImageError": (422, "the image is truncated"),
    "CorruptImageError": (422, "the image is corrupt"),
    "ImageError": (422, "unusable image"),
}

_REASONS = {
    400: "Bad Request",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
}


def http_error(exc: BaseException) -> tuple[int, str] | None:
    """``(status, short message)`` for a fastmime or imgpipe error, ``None`` for any other exception.

    The message is a fixed phrase safe to show to the client (no offsets, no file names); log
    ``str(exc)`` for the details.

    >>> from fastmime import BodyTooLarge
    >>> http_error(BodyTooLarge("too big"))
    (413, 'request body too large')
    """
    if isinstance(exc, MultipartError):
        status = int(getattr(exc, "http_status", 400))
        for cls in type(exc).__mro__:
            message = _FASTMIME_MESSAGES.get(cls)
            if message is not None:
                if cls is MultipartError:
                    message = _custom_message(exc, message)
                return status, message
        return status, "malformed multipart body"  # pragma: no cover - MultipartError is in the table
    for cls in type(exc).__mro__:
        if cls.__module__.split(".", 1)[0] == "imgpipe":
            found = _IMGPIPE.get(cls.__name__)
            if found is not None:
                return found
    return None


def _custom_message(exc: MultipartError, default: str) -> str:
    """Errors defined outside the table (the adapters' own, users' handlers') by their status."""
    status = getattr(exc, "http_status", 400)
    if status == 411:
        return "Content-Length required"
    if status == 413:
        return "request too large"
    if status == 415:
        return "unsupported media type"
    if type(exc).__name__ == "InvalidContentLength":
        return "invalid Content-Length"
    return default


def status_for(exc: BaseException) -> int | None:
    """The HTTP status alone (see :func:`http_error`)."""
    found = http_error(exc)
    return None if found is None else found[0]


def reason_phrase(status: int) -> str:
    """The reason phrase of the statuses :func:`http_error` returns (``"Content Too Large"``), else ``""``."""
    return _REASONS.get(status, "")
