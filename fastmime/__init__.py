"""fastmime: an incremental (push) multipart/form-data parser with per-part handlers.

Sans-IO: feed it bytes as they arrive, in chunks of any size; it calls ``handler_for(part)`` when a
part's headers are complete and streams that part's body to the returned handler. The compiled
(Cython) implementation is used when it was built; ``fastmime.pure`` is the same code run by the
interpreter. ``IMPLEMENTATION`` says which one ``fastmime.MultipartParser`` is.
"""

from __future__ import annotations

from typing import Literal

from ._errors import (
    Aborted, BodyConsumed, BodyTooLarge, BoundaryTooLong, ClientDisconnected, EmptyBoundary, FieldTooLarge,
    FileTooLarge, HeaderTooLarge, IncompleteBody, InvalidBoundary, InvalidContentDisposition,
    InvalidContentLength, InvalidDelimiter, InvalidHeader, InvalidTransferEncoding, LengthRequired, LimitExceeded, MissingBoundary, MissingContentDisposition,
    MultipartError, NestedMultipart, NotMultipart, ParseError, PartLengthMismatch, TooManyHeaders, TooManyParts,
)
from ._limits import Limits

IMPLEMENTATION: Literal["cython", "python"]
try:
    from ._cparser import MultipartParser, Part, boundary_from_content_type, parse_options_header
    IMPLEMENTATION = "cython"
except ImportError:  # no compiler at install time: the same code, interpreted
    from ._parser import MultipartParser, Part, boundary_from_content_type, parse_options_header
    IMPLEMENTATION = "python"

from ._form import Form, MultiDict, UploadedFile, parse_form, parse_form_async  # noqa: E402
from ._transfer import decode_parts  # noqa: E402
from ._encode import encode_multipart  # noqa: E402
from ._pull import AsyncStreamedPart, StreamedPart, aiter_parts, iter_parts  # noqa: E402
from . import handlers  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "IMPLEMENTATION",
    "MultipartParser",
    "Part",
    "Limits",
    "Form",
    "MultiDict",
    "UploadedFile",
    "parse_form",
    "parse_form_async",
    "decode_parts",
    "encode_multipart",
    "iter_parts",
    "aiter_parts",
    "StreamedPart",
    "AsyncStreamedPart",
    "boundary_from_content_type",
    "parse_options_header",
    "handlers",
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
