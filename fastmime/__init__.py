"""fastmime: an incremental (push) multipart/form-data parser with per-part handlers.

Sans-IO: feed it bytes as they arrive, in chunks of any size; it calls ``handler_for(part)`` when a
part's headers are complete and streams that part's body to the returned handler. The compiled
(Cython) implementation is used when it was built; ``fastmime.pure`` is the same code run by the
interpreter. ``IMPLEMENTATION`` says which one ``fastmime.MultipartParser`` is.
"""

from __future__ import annotations

from typing import Literal

from ._errors import (
    Aborted,
    BodyConsumed,
    BodyTooLarge,
    BoundaryTooLong,
    ClientDisconnected,
    EmptyBoundary,
    FieldTooLarge,
    FileTooLarge,
    HeaderTooLarge,
    IncompleteBody,
    InvalidBoundary,
    InvalidContentDisposition,
    InvalidContentLength,
    InvalidDelimiter,
    InvalidHeader,
    InvalidTransferEncoding,
    LengthRequired,
    LimitExceeded,
    MissingBoundary,
    MissingContentDisposition,
    MultipartError,
    NestedMultipart,
    NotMultipart,
    ParseError,
    PartLengthMismatch,
    TooManyHeaders,
    TooManyParts,
)
from ._limits import Limits

IMPLEMENTATION: Literal["cython", "python"]
"""Which parser :class:`MultipartParser` is: ``"cython"`` (compiled at install) or ``"python"`` (the same
code interpreted, where no compiler was at hand; :mod:`fastmime.pure` is always this one)."""
try:
    from ._cparser import COALESCE, MultipartParser, Part, boundary_from_content_type, parse_options_header

    IMPLEMENTATION = "cython"
except ImportError:  # no compiler at install time: the same code, interpreted
    from ._parser import COALESCE, MultipartParser, Part, boundary_from_content_type, parse_options_header

    IMPLEMENTATION = "python"

    def _warn_when_the_build_failed() -> None:
        # setup.py leaves this note when the extension was wanted and could not be built; pip hides the
        # build's own warning, so this is where a user learns that the slower parser is running.
        import os

        try:
            with open(os.path.join(os.path.dirname(__file__), "EXTENSION_NOT_BUILT.txt"), encoding="utf-8") as note:
                reason = note.read().strip()
        except OSError:  # no note: the extension was not wanted (FASTMIME_PURE=1, PyPy) or this is a checkout
            return
        import warnings

        warnings.warn(
            f"fastmime: the compiled parser was not built when fastmime was installed ({reason}); "
            "the pure-Python parser runs instead, with the same results, slower. Reinstall with a C "
            "compiler for the compiled one, or with FASTMIME_PURE=1 to choose the pure-Python "
            "parser without this warning.",
            RuntimeWarning,
            stacklevel=2,
        )

    _warn_when_the_build_failed()

from . import handlers  # noqa: E402
from ._encode import encode_multipart  # noqa: E402
from ._form import Form, MultiDict, UploadedFile, parse_form, parse_form_async  # noqa: E402
from ._pull import AsyncStreamedPart, StreamedPart, aiter_parts, iter_parts  # noqa: E402
from ._transfer import decode_parts  # noqa: E402

__all__ = [
    "IMPLEMENTATION",
    "MultipartParser",
    "COALESCE",
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


__version__: str
"""The installed version of the ``fastmime`` distribution, which holds fastmime, imgpipe and photoservice."""


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml; the installed distribution's metadata carries it.
    # Read on first use only: importing importlib.metadata costs more than the rest of this import.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("fastmime")
    except PackageNotFoundError:  # a source tree on sys.path that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
