"""The exception hierarchy of fastmime.

Every error the parser raises is a :class:`MultipartError`. Errors found while parsing carry where they
happened: the part's index and name (when a part was being read) and the byte offset in the body.
Each class has an ``http_status`` that adapters and applications may reuse.
"""

from __future__ import annotations

__all__ = [
    "ValueTooLarge",
    "MultipartError",
    "ParseError",
    "NotMultipart",
    "InvalidBoundary",
    "MissingBoundary",
    "EmptyBoundary",
    "BoundaryTooLong",
    "InvalidDelimiter",
    "InvalidHeader",
    "MissingContentDisposition",
    "InvalidContentDisposition",
    "IncompleteBody",
    "LengthRequired",
    "InvalidContentLength",
    "LimitExceeded",
    "TooManyParts",
    "HeaderTooLarge",
    "TooManyHeaders",
    "FieldTooLarge",
    "FileTooLarge",
    "BodyTooLarge",
    "Aborted",
    "ClientDisconnected",
    "BodyConsumed",
    "InvalidTransferEncoding",
    "PartLengthMismatch",
    "NestedMultipart",
]


class MultipartError(Exception):
    """Base class of every error raised by fastmime.

    ``part_index`` and ``part_name`` say which part was being read (``None`` outside any part, e.g. in
    the preamble or for a bad Content-Type); ``offset`` is the byte offset in the body where the problem
    was found (``None`` when it does not apply).
    """

    #: HTTP status an adapter or application should answer for this error (``fastmime.http`` reads it).
    http_status: int = 400
    #: A fixed phrase safe to send to the client (no offsets, names or client data); ``str(exc)`` has details.
    http_message: str = "malformed multipart body"

    def __init__(
        self, message: str, *, part_index: int | None = None, part_name: str | None = None, offset: int | None = None
    ) -> None:
        self.message = message
        self.part_index = part_index
        self.part_name = part_name
        self.offset = offset
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.part_index is not None:
            where.append(f"part {self.part_index}" + (f" ({self.part_name!r})" if self.part_name else ""))
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return f"{self.message} [{', '.join(where)}]" if where else self.message


class ParseError(MultipartError):
    """The body or the Content-Type header is not valid multipart/form-data."""


class NotMultipart(ParseError):
    """The Content-Type is missing or is not multipart/*."""

    http_status = 415
    http_message = "expected a multipart/form-data body"


class InvalidBoundary(ParseError):
    """The boundary parameter of the Content-Type breaks RFC 2046 (characters, trailing space)."""

    http_message = "the multipart boundary is invalid"


class MissingBoundary(InvalidBoundary):
    """The Content-Type has no boundary parameter."""

    http_message = "the multipart Content-Type has no boundary"


class EmptyBoundary(InvalidBoundary):
    """The boundary parameter is present but empty."""


class BoundaryTooLong(InvalidBoundary):
    """The boundary is longer than the limit (RFC 2046 allows 70 characters)."""


class InvalidDelimiter(ParseError):
    """A boundary delimiter is followed by something other than ``--``, padding and a line end."""

    http_message = "malformed multipart delimiter"


class InvalidHeader(ParseError):
    """A part header is malformed: no colon, empty or invalid name, CR/LF or control characters, folding."""

    http_message = "a part has a malformed header"


class MissingContentDisposition(InvalidHeader):
    """A part has no Content-Disposition header (RFC 7578 section 4.2 requires one)."""

    http_message = "a part has no Content-Disposition"


class InvalidContentDisposition(InvalidHeader):
    """The Content-Disposition is not ``form-data``, repeats a parameter, or has a bad ``filename*``."""

    http_message = "a part has an invalid Content-Disposition"


class IncompleteBody(ParseError):
    """The body ended (``close()``) before the close delimiter."""

    http_message = "the multipart body is incomplete"


class InvalidTransferEncoding(ParseError):
    """A part's Content-Transfer-Encoding is unknown, or its body is not valid in that encoding.

    ``base64`` and ``quoted-printable`` are decoded; ``7bit``, ``8bit`` and ``binary`` are identities.
    """

    http_message = "a part has an invalid Content-Transfer-Encoding"


class PartLengthMismatch(ParseError):
    """A part sent its own Content-Length and its body is longer or shorter than that."""

    http_message = "a part does not match its Content-Length"


class NestedMultipart(ParseError):
    """A part is itself ``multipart/mixed`` (RFC 2388's way of sending several files in one field).

    RFC 7578 section 4.3 deprecates it and no browser sends it; fastmime refuses it rather than handing
    the nested body over as one opaque value. HTTP status 415.
    """

    http_status = 415
    http_message = "nested multipart parts are not supported"


class LimitExceeded(MultipartError):
    """A configured limit was exceeded (see :class:`fastmime.Limits`)."""

    http_status = 413
    http_message = "request too large"


class ValueTooLarge(LimitExceeded):
    """A :class:`~fastmime.handlers.ValueHandler` received more than its ``max_size``."""


class TooManyParts(LimitExceeded):
    """More parts than ``Limits.max_parts``."""

    http_message = "too many parts in the form"


class HeaderTooLarge(LimitExceeded):
    """A part's header block is larger than ``Limits.max_header_size`` bytes."""

    http_message = "part headers too large"


class TooManyHeaders(LimitExceeded):
    """A part has more header lines than ``Limits.max_header_lines``."""

    http_message = "too many part headers"


class FieldTooLarge(LimitExceeded):
    """A form field (a part without filename) is larger than ``Limits.max_field_size`` bytes."""

    http_message = "form field too large"


class FileTooLarge(LimitExceeded):
    """A file part is larger than ``Limits.max_file_size`` bytes."""

    http_message = "uploaded file too large"


class BodyTooLarge(LimitExceeded):
    """The whole body is larger than ``Limits.max_body_size`` bytes."""

    http_message = "request body too large"


class LengthRequired(ParseError):
    """The request has no Content-Length and the server does not mark the body as terminated.

    Without either, reading could block forever or run into the next request on the connection
    (WSGI servers that do not set ``wsgi.input_terminated``). HTTP status 411.
    """

    http_status = 411
    http_message = "Content-Length required"


class InvalidContentLength(ParseError):
    """The Content-Length header is not a non-negative decimal integer."""

    http_message = "invalid Content-Length"


class Aborted(MultipartError):
    """Parsing was stopped by ``MultipartParser.abort()``; handlers of open parts receive it."""

    http_message = "the upload was aborted"


class ClientDisconnected(Aborted):
    """The client went away before the body was complete."""

    http_message = "the client disconnected"


class BodyConsumed(MultipartError, RuntimeError):
    """The framework or the application already read the request body, so fastmime cannot read it.

    A programming error, not the client's: HTTP status 500. It is also a ``RuntimeError``, as it
    was before it joined this hierarchy.
    """

    http_status = 500
    http_message = "the request body was already read"
