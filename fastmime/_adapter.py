"""What the WSGI and ASGI adapters share: request-level checks done before any body byte is read.

An adapter knows three things about a request before it reads the body: the Content-Type, the
Content-Length (when the client sent one) and the limits. :func:`prepare` turns them into a boundary
and an expected length, or refuses the request with a specific :class:`~fastmime.MultipartError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ._errors import BodyTooLarge, ClientDisconnected, InvalidContentLength, LengthRequired, NotMultipart
from ._limits import DEFAULT_LIMITS, Limits
from ._part import Part

__all__ = [
    "CHUNK_SIZE",
    "HandlerFor",
    "Progress",
    "LengthRequired",
    "InvalidContentLength",
    "prepare",
    "announced_length",
    "checked_limits",
    "parse_content_length",
    "short_body",
]

#: Bytes asked of a WSGI input per read (1 MiB): memory per request stays bounded by it, and servers'
#: inputs cost per call more than per byte (gunicorn's Body copies its whole read-ahead buffer on
#: every read: reading a 3 MiB photo 64 KiB at a time cost it 3x the CPU of 1 MiB reads, as
#: ``benchmarks/compare_servers.py --server gunicorn`` shows with its ``floor`` row).
CHUNK_SIZE = 1024 * 1024


class _PartHandler(Protocol):
    def on_data(self, chunk: memoryview) -> None: ...

    def on_end(self) -> None: ...

    def on_abort(self, error: BaseException) -> None: ...


#: ``handler_for(part)``: returns the handler that receives the part's body.
HandlerFor = Callable[[Part], _PartHandler]
#: ``progress(received, expected)``: body bytes received so far, and the Content-Length when known.
Progress = Callable[[int, int | None], object]


def parse_content_length(value: str | bytes | None) -> int | None:
    """The Content-Length as an int, ``None`` when absent or empty; :class:`InvalidContentLength` if bad.

    Only ASCII digits are accepted (no sign, no spaces inside, no ``1e3``), as RFC 9110 says.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    text = value.strip(" \t")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise InvalidContentLength(f"the Content-Length {value!r} is not a non-negative integer")
    return int(text)


def checked_limits(limits: Limits | None) -> Limits:
    """``limits``, or the defaults when ``None``; a ``TypeError`` for anything else."""
    if limits is None:
        return DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a fastmime.Limits, not {type(limits).__name__}")
    return limits


def announced_length(content_length: str | bytes | int | None, limits: Limits | None) -> int | None:
    """The request's Content-Length (``None`` when absent), refused when over ``max_body_size``.

    Raises :class:`InvalidContentLength` for a bad value and :class:`~fastmime.BodyTooLarge` when the
    announced length already exceeds ``limits.max_body_size``.
    """
    limits = checked_limits(limits)
    length: int | None
    if isinstance(content_length, bool):
        raise TypeError("content_length must be an int, a str or bytes, not a bool")
    if isinstance(content_length, int):
        if content_length < 0:
            raise InvalidContentLength(f"the Content-Length {content_length} is negative")
        length = content_length
    else:
        length = parse_content_length(content_length)
    if length is not None and length > limits.max_body_size:
        raise BodyTooLarge(
            f"the Content-Length {length} is larger than the limit of {limits.max_body_size} bytes", offset=0
        )
    return length


def prepare(
    content_type: str | bytes | None, content_length: str | bytes | int | None, limits: Limits | None
) -> tuple[bytes, int | None]:
    """Check a request before reading its body: ``(boundary, expected length or None)``.

    Raises :class:`~fastmime.NotMultipart` (no or non-multipart Content-Type),
    :class:`~fastmime.MissingBoundary` and the other :class:`~fastmime.InvalidBoundary` errors,
    :class:`InvalidContentLength`, and :class:`~fastmime.BodyTooLarge` when the announced length
    already exceeds ``limits.max_body_size``.
    """
    from . import boundary_from_content_type

    limits = checked_limits(limits)
    if not content_type:
        raise NotMultipart("the request has no Content-Type")
    boundary = boundary_from_content_type(content_type, limits.max_boundary_length)
    return boundary, announced_length(content_length, limits)


def short_body(received: int, expected: int) -> ClientDisconnected:
    """The error for a body that ended before its Content-Length: the client went away."""
    return ClientDisconnected(
        f"the body ended after {received} of the {expected} bytes announced by Content-Length: the client went away",
        offset=received,
    )
