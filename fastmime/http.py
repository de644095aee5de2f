"""HTTP statuses for errors, for adapters and applications to reuse.

:func:`http_error` answers ``(status, short message)`` for any exception that carries an integer
``http_status`` attribute between 400 and 599, and ``None`` for anything else (a bug is a 500, not the
client's fault). Every fastmime error carries one, and so does every imgpipe error; an application's
own exception classes can take part the same way. The message is the exception's ``http_message``
(a fixed phrase, safe to show the client) or, when it has none, the status's reason phrase.

fastmime's statuses:

- 415 ``fastmime.NotMultipart``: the body is not multipart/form-data.
- 413 ``fastmime.LimitExceeded`` and subclasses (body, file, field, parts, headers): too large.
- 411 ``fastmime.LengthRequired``: no Content-Length on an input the server does not terminate.
- 400 any other ``fastmime.MultipartError``: malformed body or boundary, bad Content-Length,
  ``ClientDisconnected`` (rarely answered: the client is gone).

imgpipe's (documented there): 415 for what is not an accepted image format, 413 for too many bytes,
422 for an image the service cannot or will not process.
"""

from __future__ import annotations

from http import HTTPStatus

__all__ = ["http_error", "status_for", "reason_phrase"]


def http_error(exc: BaseException) -> tuple[int, str] | None:
    """``(status, short message)`` for an error carrying ``http_status``, ``None`` for any other exception.

    The message is a fixed phrase safe to show to the client (no offsets, no file names); log
    ``str(exc)`` for the details.

    >>> from fastmime import BodyTooLarge
    >>> http_error(BodyTooLarge("too big"))
    (413, 'request body too large')
    """
    status = getattr(exc, "http_status", None)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        return None
    message = getattr(exc, "http_message", None)
    if not isinstance(message, str) or not message:
        message = reason_phrase(status) or "error"
    return status, message


def status_for(exc: BaseException) -> int | None:
    """The HTTP status alone (see :func:`http_error`)."""
    found = http_error(exc)
    return None if found is None else found[0]


def reason_phrase(status: int) -> str:
    """The reason phrase of an HTTP status (``413`` -> ``"Content Too Large"``), ``""`` when unknown."""
    if status == 413:  # RFC 9110's name; Python < 3.13 still says "Request Entity Too Large"
        return "Content Too Large"
    if status == 422:
        return "Unprocessable Content"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
