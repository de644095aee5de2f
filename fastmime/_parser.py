"""The multipart/form-data state machine: one source, two speeds.

This file runs as plain Python (``fastmime.pure``) and is also compiled by Cython, with the C types
declared in ``_parser.pxd``, into the extension ``fastmime._cparser`` (see setup.py). Both therefore
have the same states, the same results and the same errors by construction; the tests still compare
them on random bodies and random chunkings.

How a body is read (RFC 2046 section 5.1.1, RFC 7578):

* PREAMBLE: everything before the first ``--boundary`` that starts the body or follows a line feed is
  skipped without being kept.
* AFTER_DELIMITER: ``--`` ends the body (close delimiter); otherwise optional transport padding (spaces,
  tabs) and a line end must follow. The line end of the *first* delimiter line decides the mode of the
  whole body: CRLF as the RFC says, or bare LF (lenient, as some old clients send). Later delimiter
  lines must use the same line end.
* HEADERS: the header block up to the empty line, bounded by ``Limits.max_header_size``.
* BODY: part data, streamed to the part's handler as memoryview slices of the fed buffer, up to the next
  delimiter (``CRLF--boundary``, or ``LF--boundary`` in LF mode).
* EPILOGUE: everything after the close delimiter is ignored.

A delimiter may be split across feeds at any byte: at the end of a feed only the few bytes that could
still start a delimiter (fewer than its length) are held back, and they are either matched or handed
to the handler at the next feed. Memory therefore stays bounded whatever the body size.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

try:
    import cython
except ImportError:  # Cython is only needed to build the extension
    from . import _cython_shim as cython

# Read once: a module global is cheaper to test in the interpreter than ``cython.compiled`` each time
# (and a C constant when compiled, see _parser.pxd).
_COMPILED = cython.compiled

from ._errors import (
    Aborted,
    BodyTooLarge,
    BoundaryTooLong,
    EmptyBoundary,
    FieldTooLarge,
    FileTooLarge,
    HeaderTooLarge,
    IncompleteBody,
    InvalidBoundary,
    InvalidContentDisposition,
    InvalidDelimiter,
    InvalidHeader,
    MissingBoundary,
    MissingContentDisposition,
    MultipartError,
    NotMultipart,
    TooManyHeaders,
    TooManyParts,
    ValueTooLarge,
)
from ._limits import DEFAULT_LIMITS, Limits

__all__ = ["MultipartParser", "Part", "parse_options_header", "boundary_from_content_type"]

_PREAMBLE = 0
_AFTER_DELIMITER = 1
_HEADERS = 2
_BODY = 3
_EPILOGUE = 4
_CLOSED = 5
_FAILED = 6

# Sub-states of AFTER_DELIMITER: what the bytes after "--boundary" have been so far.
_AD_START = 0
_AD_DASH = 1
_AD_PADDING = 2
_AD_CR = 3

_CR = 13
_LF = 10
_DASH = 45
_SPACE = 32
_TAB = 9

# RFC 7230 token characters (header names); RFC 2046 bchars (boundaries).
_TOKEN_BYTES = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BOUNDARY_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "
# Header lines may hold any byte but the control characters (HTAB excepted) and DEL.
_CONTROL_BYTES = bytes(range(9)) + bytes(range(10, 32)) + b"\x7f"
_CONTROLS_TO_NUL = bytes(0 if byte in _CONTROL_BYTES else byte for byte in range(256))
_TRANSPORT_PADDING_MAX = 1024
_LIMIT_CAP = 1 << 62

#: Default of ``MultipartParser(coalesce=...)``: body pieces smaller than this reach a handler together
#: (the size io.BufferedWriter gathers small writes to, for the same reason).
COALESCE = 8 * 1024

# How the open part's body reaches its handler. Handlers of exactly these built-in types (not
# subclasses: those may override any method) are served without a Python call per chunk or per part,
# with the same effect as their methods; any other handler gets on_data/on_end calls.
_SINK_CALL = 0
_SINK_VALUE = 1  # ValueHandler: the bytes given to it directly (when it has no max_size of its own)
_SINK_DISCARD = 2  # DiscardHandler: the bytes counted


# -- primitives ------------------------------------------------------------------------------------
# Each has a pure-Python body and, when compiled, a C twin in _parser.pxd with the same result.


def _find(data: bytes, needle: bytes, start: int, end: int) -> int:
    """``data.find(needle, start, end)`` for ``0 <= start <= end <= len(data)``."""
    if _COMPILED:
        return _c_find(data, needle, start, end)  # type: ignore[name-defined,no-any-return]  # C twin, compiled only
    return data.find(needle, start, end)


def _py_find_delimiter(data: bytes, needle: bytes, start: int, end: int) -> int:
    """``data.find(needle, start, end)`` for a delimiter needle, in the interpreter.

    CPython's ``bytes.find`` can crawl (0.5 GB/s instead of 9) over CRLF runs, depending on the needle
    and on where the search starts. A needle that begins with a bare LF (the preamble's, and LF-mode
    bodies') is searched without the LF, from the same start, and the LF checked after: that is how
    the peers search a preamble, so a CRLF preamble costs us what it costs them. CRLF needles are
    searched as they are. The compiled path uses memmem instead and has neither problem.
    """
    if needle[0] != _LF:
        return data.find(needle, start, end)
    rest = needle[1:]
    i = data.find(rest, start, end)
    while i >= 0 and (i == start or data[i - 1] != _LF):
        i = data.find(rest, i + 1, end)
    return i - 1 if i >= 0 else -1


def _held_back_start(buf: bytes, needle: bytes, start: int, end: int) -> int:
    """Where the longest suffix of ``buf[start:end]`` that could begin ``needle`` starts (``end``: none).

    The needle's first byte (CR or LF) occurs nowhere else in it, so only the last such byte in the
    final ``len(needle) - 1`` bytes can begin a partial needle.
    """
    if _COMPILED:
        return _c_held_back_start(buf, needle, start, end)  # type: ignore[name-defined,no-any-return]  # C twin, compiled only
    lo = end - len(needle) + 1
    if lo < start:
        lo = start
    k = buf.rfind(needle[0:1], lo, end)
    if k >= 0 and needle.startswith(buf[k:end]):
        return k
    return end


def _starts_with(data: bytes, prefix: bytes, pos: int) -> bool:
    """``data.startswith(prefix, pos)``."""
    if _COMPILED:
        return _c_starts_with(data, prefix, pos)  # type: ignore[name-defined,no-any-return]  # C twin, compiled only
    return data.startswith(prefix, pos)


def _split_header_block(block: bytes, eol: bytes) -> list[tuple[str, str]] | None:
    """The header lines of a non-empty block as ``(name, value)`` str pairs, or ``None`` if any is bad.

    A line is ``name ":" value``: the name a non-empty RFC 7230 token, no control character but HTAB
    anywhere (so no stray CR or LF), spaces and tabs around the value dropped, the value UTF-8 or, when
    that fails, Latin-1. ``None`` says only that the block is bad; the caller finds out why.
    """
    if _COMPILED:
        return _c_split_header_block(block, eol)  # type: ignore[name-defined,no-any-return]  # C twin, compiled only
    try:
        lines = block.decode("utf-8").split("\r\n" if eol == b"\r\n" else "\n")
    except UnicodeDecodeError:
        lines = [_decode_header_text(line) for line in block.split(eol)]
    # The only control characters allowed in the block are the line ends between its lines (so a
    # stray CR or LF is caught too): one translate and one count, in C.
    if block.translate(_CONTROLS_TO_NUL).count(0) != (len(lines) - 1) * len(eol):
        return None
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name:
            return None
        if name not in _COMMON_HEADER_NAMES:
            if not name.isascii() or name.encode("ascii").translate(None, _TOKEN_BYTES):
                return None
        headers.append((name, value.strip(" \t")))
    return headers


_RFC5987_CHARSETS = ("utf-8", "iso-8859-1", "us-ascii")


def _decode_header_text(raw: bytes) -> str:
    """Header bytes as text: UTF-8 (what browsers and curl send), else Latin-1, which never fails."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _parse_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """Split ``type; key=value; key="quoted"`` into the lower-cased type and the parameters in order.

    Linear and regex-free. Parameter names are lower-cased. In a quoted value a backslash escapes only
    ``"`` and ``\\``; any other backslash is kept, because browsers send Windows paths unescaped. An
    unquoted value runs to the next ``;`` (old browsers send unquoted filenames with spaces). A quoted
    value with no closing quote runs to the end. Parameters without ``=`` are ignored.
    """
    semi = value.find(";")
    if semi < 0:
        return value.strip(" \t").lower(), []
    main = value[:semi].strip(" \t").lower()
    params: list[tuple[str, str]] = []
    n = len(value)
    i = semi + 1
    while i < n:
        while i < n and value[i] in " \t;":
            i += 1
        if i >= n:
            break
        eq = value.find("=", i)
        semi = value.find(";", i)
        if eq < 0 or 0 <= semi < eq:
            i = n if semi < 0 else semi + 1
            continue
        key = value[i:eq].strip(" \t").lower()
        j = eq + 1
        while j < n and value[j] in " \t":
            j += 1
        if j < n and value[j] == '"':
            j += 1
            close = value.find('"', j)
            if close < 0:
                close = n
            if value.find("\\", j, close) < 0:
                text = value[j:close]
                j = close + 1
            else:
                text, j = _unescape_quoted(value, j)
            semi = value.find(";", j)
            i = n if semi < 0 else semi + 1
        else:
            if semi < 0:
                semi = n
            text = value[j:semi].strip(" \t")
            i = semi + 1
        params.append((key, text))
    return main, params


def _unescape_quoted(value: str, j: int) -> tuple[str, int]:
    """Read a quoted string that holds a backslash, from ``j`` (after the opening quote).

    Returns the text and the index after the closing quote (or the end of ``value``).
    """
    out: list[str] = []
    n = len(value)
    while j < n:
        ch = value[j]
        if ch == '"':
            return "".join(out), j + 1
        if ch == "\\" and j + 1 < n and value[j + 1] in '"\\':
            out.append(value[j + 1])
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out), n


def parse_options_header(value: str | bytes) -> tuple[str, dict[str, str]]:
    """Parse a header value such as Content-Type or Content-Disposition into ``(type, params)``.

    The type and the parameter names are lower-cased; when a parameter repeats, the first one wins.
    Bytes are decoded as UTF-8, else Latin-1. Never raises on odd input: see the module docs for the
    lenient choices (backslashes, unquoted values with spaces).

    >>> parse_options_header('form-data; name="photo"; filename="a b.jpg"')
    ('form-data', {'name': 'photo', 'filename': 'a b.jpg'})
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = _decode_header_text(bytes(value))
    main, params = _parse_params(value)
    options: dict[str, str] = {}
    for key, text in params:
        options.setdefault(key, text)
    return main, options


def _check_boundary(boundary: bytes, max_length: int) -> None:
    if not boundary:
        raise EmptyBoundary("the multipart boundary is empty")
    if len(boundary) > max_length:
        raise BoundaryTooLong(
            f"the multipart boundary is {len(boundary)} bytes long, more than the limit of {max_length}"
        )
    if boundary.translate(None, _BOUNDARY_BYTES) or boundary.endswith(b" "):
        raise InvalidBoundary(f"the multipart boundary {boundary!r} has characters RFC 2046 does not allow")


def boundary_from_content_type(value: str | bytes, max_length: int = 70) -> bytes:
    """The boundary of a ``multipart/*`` Content-Type header value, checked against RFC 2046.

    Raises :class:`NotMultipart` when the type is not multipart, :class:`MissingBoundary`,
    :class:`EmptyBoundary`, :class:`BoundaryTooLong` (over ``max_length``, 70 by the RFC) or
    :class:`InvalidBoundary` (a character outside the RFC's set, or a trailing space).

    >>> boundary_from_content_type('multipart/form-data; boundary="----WebKitFormBoundaryx1"')
    b'----WebKitFormBoundaryx1'
    """
    if value is None:
        raise NotMultipart("the request has no Content-Type")
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = _decode_header_text(bytes(value))
    main, params = _parse_params(value)
    if not main.startswith("multipart/"):
        raise NotMultipart(f"the Content-Type is {main or 'empty'!r}, not multipart/form-data")
    for key, text in params:  # noqa: B007 - text is read after the break
        if key == "boundary":
            break
    else:
        raise MissingBoundary("the multipart Content-Type has no boundary parameter")
    try:
        boundary = text.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidBoundary(f"the multipart boundary {text!r} is not ASCII") from None
    _check_boundary(boundary, max_length)
    return boundary


_COMMON_HEADER_NAMES = {
    "Content-Disposition": "content-disposition",
    "content-disposition": "content-disposition",
    "Content-Type": "content-type",
    "content-type": "content-type",
}
_BROWSER_PREFIX = 'form-data; name="'
_BROWSER_FILENAME = '"; filename="'


def _browser_disposition(value: str) -> tuple[str, str | None] | None:
    """(name, filename) when the value has exactly the shape browsers and curl send, else None.

    ``form-data; name="x"`` or ``form-data; name="x"; filename="y"`` with no backslash: the general
    parser gives the same result for these, only slower.
    """
    if _COMPILED and _c_is_one_byte(value):  # type: ignore[name-defined]  # C twin, compiled only
        return _c_browser_disposition(value)  # type: ignore[name-defined,no-any-return]
    n = len(value)
    start = len(_BROWSER_PREFIX)
    if n <= start or value[n - 1] != '"' or not value.startswith(_BROWSER_PREFIX) or "\\" in value:
        return None
    close = value.find('"', start)
    if close == n - 1:
        return (value[start:close], None)
    after = close + len(_BROWSER_FILENAME)
    if not value.startswith(_BROWSER_FILENAME, close) or value.find('"', after) != n - 1:
        return None
    return (value[start:close], value[after : n - 1])


def _decode_rfc5987(value: str) -> str | None:
    """Decode ``charset'language'percent-encoded`` (RFC 5987); ``None`` when malformed."""
    pieces = value.split("'", 2)
    if len(pieces) != 3:
        return None
    charset = pieces[0].strip().lower()
    if charset not in _RFC5987_CHARSETS:
        return None
    try:
        return unquote_to_bytes(pieces[2]).decode(charset)
    except (UnicodeDecodeError, ValueError):
        return None


_MAX_SAFE_NAME_BYTES = 255
_DROP_CONTROL_CHARACTERS = dict.fromkeys([*range(32), 127])


class Part:
    """One part of a multipart/form-data body, as described by its headers.

    ``name`` is ``""`` when the Content-Disposition has no name (old API clients send a file that way).
    ``filename`` is what the client sent, path included (``filename*`` when present, decoded), or
    ``None`` for a plain form field; never use it as a path: :attr:`safe_filename` is for that.
    ``content_type`` is the Content-Type header's value as sent (parameters included), ``media_type``
    the type alone, lower-cased; ``charset`` the Content-Type's charset parameter. ``headers`` are all header
    lines as ``(name, value)`` pairs, in order, as sent.
    ``index`` counts parts from 0.
    """

    __slots__ = ("name", "filename", "content_type", "charset", "headers", "index")

    def __init__(
        self,
        name: str,
        filename: str | None,
        content_type: str | None,
        charset: str | None,
        headers: list[tuple[str, str]],
        index: int,
    ) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.charset = charset
        self.headers = headers
        self.index = index

    @property
    def is_file(self) -> bool:
        """True when the part carries a filename (even an empty one, as browsers send for empty inputs)."""
        return self.filename is not None

    @property
    def safe_filename(self) -> str | None:
        """The filename reduced to a harmless basename, or ``None`` for a field.

        Directories (``/`` and ``\\``), control characters and leading dots and spaces are removed, and
        the result is cut to 255 UTF-8 bytes; a name with nothing left becomes ``"unnamed"``. It is still
        the client's word: store files under names of your own.
        """
        if self.filename is None:
            return None
        base = self.filename.replace("\\", "/").rsplit("/", 1)[-1]
        base = base.translate(_DROP_CONTROL_CHARACTERS)
        base = base.strip().lstrip(". ")
        encoded = base.encode("utf-8")
        if len(encoded) > _MAX_SAFE_NAME_BYTES:
            base = encoded[:_MAX_SAFE_NAME_BYTES].decode("utf-8", "ignore")
        return base or "unnamed"

    @property
    def media_type(self) -> str | None:
        """The Content-Type without parameters, lower-cased (``"image/jpeg"``), or ``None``."""
        if self.content_type is None:
            return None
        return self.content_type.split(";", 1)[0].strip(" \t").lower() or None

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def __repr__(self) -> str:
        return (
            f"Part(index={self.index}, name={self.name!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r})"
        )


# -- built-in handlers the parser serves without calls (re-exported by fastmime.handlers) --------------


class ValueHandler:
    """Keeps the part in memory, for form fields. ``max_size`` bounds it beyond the parser's limits.

    The parser fills a ValueHandler (without ``max_size``) and ends it without calling its methods,
    with the same effect; a subclass's methods are always called.
    """

    __slots__ = ("_value", "_buffer", "max_size", "done", "error")
    event_loop_safe = True

    def __init__(self, max_size: int | None = None) -> None:
        # The value is one bytes object while it came in one piece (a form field, usually), and a
        # bytearray from the second piece on: a field then costs no buffer, and reading it no copy.
        self._value = b""
        self._buffer: bytearray | None = None
        self.max_size = max_size
        self.done = False
        self.error: BaseException | None = None

    def on_data(self, chunk: memoryview) -> None:
        """Append the piece; :class:`ValueTooLarge` past ``max_size``."""
        if self.max_size is not None and self.size + len(chunk) > self.max_size:
            raise ValueTooLarge(f"the value is larger than {self.max_size} bytes")
        if self._buffer is not None:
            self._buffer += chunk
        elif self._value:
            self._buffer = bytearray(self._value)
            self._buffer += chunk
            self._value = b""
        else:
            self._value = bytes(chunk)

    def on_end(self) -> None:
        """Mark the value complete (``done``)."""
        self.done = True

    def on_abort(self, error: BaseException) -> None:
        """Keep the ``error`` and drop what was received."""
        self.error = error
        self._value = b""
        self._buffer = None

    @property
    def value(self) -> bytes:
        """The bytes received."""
        if self._buffer is None:
            return self._value
        if _COMPILED:
            return _c_bytes_of(self._buffer)  # type: ignore[name-defined,no-any-return]  # C twin, compiled only
        return bytes(self._buffer)

    @property
    def size(self) -> int:
        """The number of bytes received."""
        return len(self._value) if self._buffer is None else len(self._buffer)

    def text(self, charset: str = "utf-8", errors: str = "replace") -> str:
        """The value decoded; undecodable bytes become U+FFFD unless ``errors`` says otherwise."""
        return (self._value if self._buffer is None else self._buffer).decode(charset, errors)


class DiscardHandler:
    """Counts the part's bytes and keeps none of them.

    The parser counts and ends a DiscardHandler without calling its methods, with the same effect; a
    subclass's methods are always called.
    """

    __slots__ = ("size", "done", "error")
    event_loop_safe = True

    def __init__(self) -> None:
        self.size = 0
        self.done = False
        self.error: BaseException | None = None

    def on_data(self, chunk: memoryview) -> None:
        """Count the piece's bytes."""
        self.size += len(chunk)

    def on_end(self) -> None:
        """Mark the part complete (``done``)."""
        self.done = True

    def on_abort(self, error: BaseException) -> None:
        """Keep the ``error``."""
        self.error = error


class MultipartParser:
    """Incremental (push) parser for one multipart/form-data body.

    ``boundary`` is the boundary from the Content-Type (see :func:`boundary_from_content_type`).
    ``handler_for(part)`` is called with a :class:`Part` once the part's headers are complete and
    returns the part's handler: an object with ``on_data(chunk)``, ``on_end()`` and
    ``on_abort(error)``. ``on_data`` receives memoryview slices that are valid only during the call.
    ``on_abort`` is called exactly once for a started part that does not end normally.

    ``coalesce`` (bytes, default :data:`COALESCE`): body pieces smaller than this are copied into a
    buffer and handed to ``on_data`` together, once the buffer holds at least ``coalesce`` bytes, before
    a bigger piece, or at the end of the part; bigger pieces are handed over as they are, without a
    copy. However small the fed chunks are, a handler thus gets few calls (a write or a hash update
    each). ``0`` hands every piece over as soon as it is parsed. When a part is aborted, the pieces
    still gathered are dropped: its handler gets ``on_abort``. :class:`ValueHandler` and
    :class:`DiscardHandler` take the bytes without calls and are not affected.

    Call :meth:`feed` with each piece of the body as it arrives, then :meth:`close`. Any exception,
    from the parser or from a handler, aborts the open part and leaves the parser failed: later calls
    raise the same exception again. A callback may call :meth:`abort`: the feed then stops at once and
    raises the abort error.
    """

    def __init__(
        self,
        boundary: bytes | str,
        handler_for: Callable[[Part], Any],
        limits: Limits | None = None,
        *,
        coalesce: int = COALESCE,
    ) -> None:
        coalesce = operator.index(coalesce)  # an int, in both implementations (1.5 is refused alike)
        if coalesce < 0:
            raise ValueError(f"coalesce must be 0 or more bytes, not {coalesce}")
        if limits is None:
            limits = DEFAULT_LIMITS
        elif not isinstance(limits, Limits):
            raise TypeError(f"limits must be a fastmime.Limits, not {type(limits).__name__}")
        if isinstance(boundary, str):
            try:
                boundary = boundary.encode("ascii")
            except UnicodeEncodeError:
                raise InvalidBoundary(f"the multipart boundary {boundary!r} is not ASCII") from None
        else:
            boundary = bytes(boundary)
        _check_boundary(boundary, limits.max_boundary_length)
        self._handler_for = handler_for
        self._boundary = boundary
        # Limits beyond 2**62 mean "no limit": capping them keeps offset arithmetic within 64 bits.
        self._max_parts = min(limits.max_parts, _LIMIT_CAP)
        self._max_header_size = min(limits.max_header_size, _LIMIT_CAP)
        self._max_header_lines = min(limits.max_header_lines, _LIMIT_CAP)
        self._max_field_size = min(limits.max_field_size, _LIMIT_CAP)
        self._max_file_size = min(limits.max_file_size, _LIMIT_CAP)
        self._max_body_size = min(limits.max_body_size, _LIMIT_CAP)
        self._state = _PREAMBLE
        # The needle in the preamble: a delimiter starts the body or follows a line feed. The tail
        # starts as a virtual line feed so that a delimiter at byte 0 is found like any other.
        self._needle = b"\n--" + boundary
        self._tail = b"\n"
        self._eol = b""
        self._header_end = b""
        self._after = _AD_START
        self._padding = 0
        self._hbuf: bytearray | None = None
        self._header_offset = 0
        self._received = 0
        self._part_count = 0
        self._part: Part | None = None
        self._handler = None
        self._on_data: Any = None  # the open part's on_data, when it is called
        self._sink = _SINK_CALL
        self._part_size = 0
        self._part_limit = 0
        self._part_offset = 0
        self._error: BaseException | None = None
        # The piece being fed, and a memoryview of it made when a handler first needs one.
        self._fed: bytes | None = None
        self._view: memoryview | None = None
        # Small body pieces of the open part waiting to be handed over together (see ``coalesce``):
        # fewer than ``coalesce`` bytes between calls.
        self._coalesce = min(coalesce, _LIMIT_CAP)
        self._batch: bytearray | None = None

    # -- public API -----------------------------------------------------------------------------

    @property
    def received(self) -> int:
        """Bytes fed so far."""
        return self._received

    @property
    def finished(self) -> bool:
        """True once :meth:`close` has returned normally."""
        return self._state == _CLOSED

    def feed(self, data: Buffer) -> None:
        """Parse the next piece of the body: any bytes-like object of any length, 0 bytes included.

        ``bytes`` are parsed without copying; other bytes-like objects are copied once.
        """
        if self._state >= _CLOSED:
            self._raise_finished()
        if type(data) is not bytes:
            data = bytes(data)
        end = len(data)
        if end == 0:
            return
        base = self._received
        over = base + end > self._max_body_size
        if over:
            end = self._max_body_size - base
        self._fed = data
        try:
            self._parse(data, 0, end, base)
            if over:
                self._received = self._max_body_size
                raise BodyTooLarge(
                    f"the body is larger than the limit of {self._max_body_size} bytes",
                    part_index=self._part_index(),
                    part_name=self._part_name(),
                    offset=self._max_body_size,
                )
        except BaseException as error:
            self._fed = None
            self._view = None
            self._fail(error)
            raise
        self._fed = None
        self._view = None
        self._received = base + end

    def close(self) -> None:
        """End the input; raises :class:`IncompleteBody` unless the close delimiter was seen."""
        if self._state >= _CLOSED:
            self._raise_finished()
        if self._state != _EPILOGUE:
            error = IncompleteBody(
                "the body ended before the close delimiter",
                part_index=self._part_index(),
                part_name=self._part_name(),
                offset=self._received,
            )
            self._fail(error)
            raise error
        self._state = _CLOSED

    def abort(self, error: BaseException | None = None) -> None:
        """Stop parsing (the client went away, the application gave up) and abort the open part.

        The open part's handler receives ``error``, or :class:`Aborted` when none is given. Later
        calls to :meth:`feed` and :meth:`close` raise that error. Aborting a finished parser does
        nothing.
        """
        if self._state >= _CLOSED:
            return
        if error is None:
            error = Aborted(
                "parsing was aborted", part_index=self._part_index(), part_name=self._part_name(), offset=self._received
            )
        self._fail(error)

    # -- internals ------------------------------------------------------------------------------

    def _raise_failure(self) -> NoReturn:
        assert self._error is not None
        raise self._error

    def _raise_finished(self) -> NoReturn:
        if self._state == _FAILED:
            self._raise_failure()
        raise MultipartError("the parser is closed: feed() and close() may not be called again")

    def _part_index(self) -> int | None:
        return None if self._part is None else self._part.index

    def _part_name(self) -> str | None:
        return None if self._part is None else self._part.name

    def _fail(self, error: BaseException) -> None:
        if self._state == _FAILED:
            return
        self._state = _FAILED
        self._error = error
        self._tail = b""
        self._hbuf = None
        self._batch = None  # the open part is aborted: what it has not received yet is dropped
        handler = self._handler
        if handler is not None:
            self._handler = None
            self._on_data = None
            handler.on_abort(error)

    def _parse(self, data: bytes, pos: int, end: int, base: int) -> None:
        while pos < end:
            state = self._state
            if state == _BODY:
                pos = self._scan(data, pos, end, base)
            elif state == _HEADERS:
                pos = self._read_headers(data, pos, end, base)
            elif state == _AFTER_DELIMITER:
                pos = self._after_delimiter(data, pos, end, base)
            elif state == _PREAMBLE:
                pos = self._scan(data, pos, end, base)
            else:  # epilogue: ignored
                return

    def _scan(self, data: bytes, pos: int, end: int, base: int) -> int:
        """Look for the delimiter from ``pos``; emit what precedes it; return where parsing goes on."""
        needle = self._needle
        n = len(needle)
        tail = self._tail
        if tail:
            # Bytes held back from the last feed: does a delimiter start among them?
            t = len(tail)
            take = end - pos
            if take > n - 1:
                take = n - 1
            # _c_slice (compiled only): Cython slices bytes through a slice object; the C twin does not
            junction = (
                tail
                + (
                    _c_slice(data, pos, pos + take)  # type: ignore[name-defined]
                    if _COMPILED
                    else data[pos : pos + take]
                )
            )
            i = _find(junction, needle, 0, len(junction))
            if 0 <= i < t:
                self._tail = b""
                self._emit(junction, 0, i)
                return self._delimiter(pos + i + n - t, base)
            if take < n - 1:
                # Too few new bytes to rule a delimiter out: hold back what could still start one.
                keep = _held_back_start(junction, needle, 0, t + take)
                self._emit(junction, 0, keep)
                self._tail = junction[keep:]
                return end
            self._tail = b""
            self._emit(tail, 0, t)
        if _COMPILED:
            i = _c_find(data, needle, pos, end)  # type: ignore[name-defined]  # C twin, compiled only
        elif needle[0] == _LF:
            i = _py_find_delimiter(data, needle, pos, end)
        else:
            i = data.find(needle, pos, end)
        if i >= 0:
            self._emit(data, pos, i)
            pos = self._delimiter(i + n, base)
            # Go straight on with what follows the delimiter (the usual case: more parts in this feed).
            return self._after_delimiter(data, pos, end, base) if pos < end else pos
        keep = _held_back_start(data, needle, pos, end)
        self._emit(data, pos, keep)
        if keep < end:
            self._tail = _c_slice(data, keep, end) if _COMPILED else data[keep:end]  # type: ignore[name-defined]
        return end

    def _emit(self, data: bytes, start: int, stop: int) -> None:
        """Hand ``data[start:stop]`` to the open part's handler (as a memoryview, unless it is built in)."""
        handler = self._handler
        if stop <= start or handler is None:
            return
        size = self._part_size + (stop - start)
        if size > self._part_limit:
            self._raise_part_too_large()
        self._part_size = size
        sink = self._sink
        if sink == _SINK_VALUE:
            value_handler = handler  # C-typed when compiled: its fields are read without a lookup
            if value_handler.max_size is None:
                # What ValueHandler.on_data does, straight from the fed bytes
                if value_handler._buffer is None:
                    if not value_handler._value:
                        value_handler._value = _c_slice(data, start, stop) if _COMPILED else data[start:stop]  # type: ignore[name-defined]
                        return
                    value_handler._buffer = bytearray(value_handler._value)
                    value_handler._value = b""
                self._extend(value_handler._buffer, data, start, stop)
                return
            # A bound of its own: ValueHandler.on_data checks it (and raises ValueTooLarge).
            if self._on_data is None:
                self._on_data = handler.on_data
        elif sink == _SINK_DISCARD:
            discard_handler = handler
            discard_handler.size += stop - start  # DiscardHandler.on_data
            return
        if sink != _SINK_CALL or stop - start >= self._coalesce:
            # As it is (no copy), after the small pieces gathered before it, if any (only a calling
            # sink gathers; a bounded ValueHandler raises as soon as it is over).
            self._flush()
            self._hand_over(data, start, stop)
            return
        # A small piece is gathered; the batch goes out once it holds ``coalesce`` bytes or more.
        batch = self._batch
        if batch is None:
            batch = self._batch = bytearray()
        self._extend(batch, data, start, stop)
        if len(batch) >= self._coalesce:
            self._flush()

    def _extend(self, buffer: bytearray, data: bytes, start: int, stop: int) -> None:
        """``buffer += data[start:stop]``, with no intermediate object when compiled."""
        if _COMPILED:
            _c_extend(buffer, data, start, stop)  # type: ignore[name-defined]  # C twin, compiled only
        else:
            buffer += memoryview(data)[start:stop]

    def _flush(self) -> None:
        """Hand the gathered pieces to the open part's handler (a new buffer is started for later ones,
        so a view a handler wrongly kept still shows what it was given)."""
        batch = self._batch
        if batch is None:
            return
        self._batch = None
        self._on_data(memoryview(batch).toreadonly())  # read-only, as the views of fed bytes are
        if self._state == _FAILED:  # the handler called abort()
            self._raise_failure()

    def _hand_over(self, data: bytes, start: int, stop: int) -> None:
        """Call ``on_data`` with a view of ``data[start:stop]``, without a copy."""
        if data is self._fed:
            view = self._view  # one view of the fed piece per feed, made on first use
            if view is None:
                view = self._view = memoryview(data)
        else:
            view = memoryview(data)  # bytes held back from the last feed
        if start == 0 and stop == len(data):
            self._on_data(view)  # the whole piece: no slice to make
        else:
            self._on_data(view[start:stop])
        if self._state == _FAILED:  # the handler called abort()
            self._raise_failure()

    def _raise_part_too_large(self) -> NoReturn:
        part = self._part
        assert part is not None  # only while a part's body is read
        if part.filename is None:
            raise FieldTooLarge(
                f"the field is larger than the limit of {self._part_limit} bytes",
                part_index=part.index,
                part_name=part.name,
                offset=self._part_offset + self._part_limit,
            )
        raise FileTooLarge(
            f"the file is larger than the limit of {self._part_limit} bytes",
            part_index=part.index,
            part_name=part.name,
            offset=self._part_offset + self._part_limit,
        )

    def _delimiter(self, pos: int, base: int) -> int:
        """A delimiter ended just before ``pos``: finish the open part, if any."""
        handler = self._handler
        if handler is not None:
            if self._batch is not None:
                self._flush()  # the part's last piece(s), before its end
            # The part is no longer open once on_end is called: an abort() from inside on_end stops
            # the parser without aborting this part; an exception from on_end aborts it.
            self._handler = None
            self._on_data = None
            if self._sink == _SINK_VALUE:
                value_handler = handler  # C-typed when compiled: the field is set without a lookup
                value_handler.done = True  # what ValueHandler.on_end does
            elif self._sink == _SINK_DISCARD:
                discard_handler = handler
                discard_handler.done = True  # what DiscardHandler.on_end does
            else:
                try:
                    handler.on_end()
                except BaseException as error:
                    handler.on_abort(error)
                    raise
                if self._state == _FAILED:
                    self._raise_failure()
        self._part = None
        self._state = _AFTER_DELIMITER
        self._after = _AD_START
        self._padding = 0
        return pos

    def _after_delimiter(self, data: bytes, pos: int, end: int, base: int) -> int:
        """Read what follows ``--boundary``: ``--`` (the end), or padding and a line end."""
        if self._after == _AD_START and pos + 1 < end:
            # Fast path for the usual cases when both bytes are at hand.
            c = data[pos]
            if c == _CR and data[pos + 1] == _LF:
                pos = self._delimiter_line_end(False, pos + 2, base)
                return self._read_headers(data, pos, end, base) if pos < end else pos
            if c == _LF and self._eol != b"\r\n":
                return self._delimiter_line_end(True, pos + 1, base)
            if c == _DASH and data[pos + 1] == _DASH:
                return self._close_delimiter(end)
        while pos < end:
            c = data[pos]
            after = self._after
            if after == _AD_START or after == _AD_PADDING:
                if c == _CR:
                    self._after = _AD_CR
                elif c == _LF:
                    return self._delimiter_line_end(True, pos + 1, base)
                elif c == _SPACE or c == _TAB:
                    self._after = _AD_PADDING
                    self._padding += 1
                    if self._padding > _TRANSPORT_PADDING_MAX:
                        self._raise_bad_delimiter("more than 1024 bytes of transport padding", base + pos)
                elif c == _DASH and after == _AD_START:
                    self._after = _AD_DASH
                else:
                    self._raise_bad_delimiter("a boundary delimiter is followed by other data", base + pos)
            elif after == _AD_DASH:
                if c == _DASH:
                    return self._close_delimiter(end)
                self._raise_bad_delimiter("a boundary delimiter is followed by a single '-'", base + pos)
            else:  # _AD_CR
                if c == _LF:
                    return self._delimiter_line_end(False, pos + 1, base)
                self._raise_bad_delimiter("a CR after a boundary delimiter is not followed by LF", base + pos)
            pos += 1
        return pos

    def _raise_bad_delimiter(self, message: str, offset: int) -> NoReturn:
        raise InvalidDelimiter(message, offset=offset)

    def _close_delimiter(self, end: int) -> int:
        self._state = _EPILOGUE
        return end

    def _delimiter_line_end(self, bare_lf: bool, pos: int, base: int) -> int:
        eol = b"\n" if bare_lf else b"\r\n"
        if not self._eol:
            # The first delimiter line decides the line ends of the whole body.
            self._eol = eol
            self._header_end = eol + eol
            self._needle = eol + b"--" + self._boundary
        elif eol != self._eol:
            self._raise_bad_delimiter("a boundary delimiter line ends differently from the first one", base + pos - 1)
        self._part_count += 1
        if self._part_count > self._max_parts:
            raise TooManyParts(
                f"the body has more than {self._max_parts} parts", part_index=self._part_count - 1, offset=base + pos
            )
        self._state = _HEADERS
        self._hbuf = None
        self._header_offset = base + pos
        return pos

    def _read_headers(self, data: bytes, pos: int, end: int, base: int) -> int:
        """Collect the header block up to the empty line, then start the part."""
        eol = self._eol
        term = self._header_end
        limit = self._max_header_size
        hbuf = self._hbuf
        if hbuf is None:
            if _c_starts_with(data, eol, pos) if _COMPILED else data.startswith(eol, pos):  # type: ignore[name-defined]  # C twin, compiled only
                return self._start_part(b"", pos + len(eol))
            window = pos + limit + len(term)
            if window > end:
                window = end
            if _COMPILED:
                i = _c_find(data, term, pos, window)  # type: ignore[name-defined]  # C twin, compiled only
            else:
                i = data.find(term, pos, window)
            if i >= 0:
                block = _c_slice(data, pos, i) if _COMPILED else data[pos:i]  # type: ignore[name-defined]
                return self._start_part(block, i + len(term))
            if window < end:
                self._raise_header_too_large()
            # The block continues in the next feed. The buffer starts with the line end that ended
            # the delimiter line, so that an empty block is found the same way.
            hbuf = bytearray(eol)
            self._hbuf = hbuf
        cap = len(eol) + limit + len(term)
        before = len(hbuf)
        take = cap - before
        if take > end - pos:
            take = end - pos
        hbuf += data[pos : pos + take]
        lo = before - len(term) + 1
        i = hbuf.find(term, max(0, lo))
        if i >= 0:
            self._hbuf = None
            block = bytes(hbuf[len(eol) : i]) if i > len(eol) else b""
            return self._start_part(block, pos + i + len(term) - before)
        if len(hbuf) >= cap:
            self._raise_header_too_large()
        return pos + take

    def _raise_header_too_large(self) -> NoReturn:
        raise HeaderTooLarge(
            f"the part's headers are larger than the limit of {self._max_header_size} bytes",
            part_index=self._part_count - 1,
            offset=self._header_offset + self._max_header_size,
        )

    def _start_part(self, block: bytes, pos: int) -> int:
        """The header block is complete: make the Part, ask for its handler, stream its body next."""
        if len(block) > self._max_header_size:
            self._raise_header_too_large()
        index = self._part_count - 1
        if not block:
            raise MissingContentDisposition(
                "the part has no headers, so no Content-Disposition", part_index=index, offset=self._header_offset
            )
        headers = _split_header_block(block, self._eol)
        if headers is None:
            self._raise_bad_header_block(block, index)
        if len(headers) > self._max_header_lines:
            self._raise_too_many_headers(index)
        disposition = None
        content_type = None
        for name, value in headers:
            lname = _COMMON_HEADER_NAMES.get(name)
            if lname is None:
                lname = name.lower()
            if lname == "content-disposition":
                if disposition is not None:
                    raise InvalidContentDisposition(
                        "the part has two Content-Disposition headers", part_index=index, offset=self._header_offset
                    )
                disposition = value
            elif lname == "content-type" and content_type is None:
                content_type = value
        if disposition is None:
            raise MissingContentDisposition(
                "the part has no Content-Disposition header", part_index=index, offset=self._header_offset
            )
        names = _browser_disposition(disposition)
        if names is None:
            names = self._parse_disposition(disposition, index)
        charset = None
        if content_type is not None:
            for key, text in _parse_params(content_type)[1]:
                if key == "charset":
                    charset = text
                    break
        # Part.__new__ and the fields set here: compiled, this skips __init__ and its argument tuple.
        part = Part.__new__(Part)
        part.name = names[0]
        part.filename = names[1]
        part.content_type = content_type or None
        part.charset = charset
        part.headers = headers
        part.index = index
        self._part = part
        self._part_size = 0
        self._part_offset = self._header_offset + len(block) + len(self._header_end)
        if part.filename is None:
            self._part_limit = self._max_field_size
        else:
            self._part_limit = self._max_file_size
        self._state = _BODY
        handler = self._handler_for(part)
        if self._state == _FAILED:  # handler_for called abort(): the new part never started
            handler.on_abort(self._error)
            self._raise_failure()
        self._handler = handler
        handler_type = type(handler)
        if handler_type is ValueHandler:
            self._sink = _SINK_VALUE
        elif handler_type is DiscardHandler:
            self._sink = _SINK_DISCARD
        else:
            self._sink = _SINK_CALL
            self._on_data = handler.on_data
        return pos

    def _parse_disposition(self, disposition: str, index: int) -> tuple[str, str | None]:
        """(name, filename) from any Content-Disposition value; the general, slower way."""
        kind, params = _parse_params(disposition)
        if kind != "form-data":
            raise InvalidContentDisposition(
                f"the Content-Disposition is {kind!r}, not 'form-data'", part_index=index, offset=self._header_offset
            )
        name = None
        filename = None
        extended = None
        for key, text in params:
            if key == "name":
                if name is not None:
                    self._raise_repeated(key, index)
                name = text
            elif key == "filename":
                if filename is not None:
                    self._raise_repeated(key, index)
                filename = text
            elif key == "filename*":
                if extended is not None:
                    self._raise_repeated(key, index)
                extended = text
        if extended is not None:
            filename = _decode_rfc5987(extended)
            if filename is None:
                raise InvalidContentDisposition(
                    "the filename* parameter is not valid RFC 5987",
                    part_index=index,
                    part_name=name,
                    offset=self._header_offset,
                )
        return (name if name is not None else "", filename)

    def _raise_too_many_headers(self, index: int) -> NoReturn:
        raise TooManyHeaders(
            f"the part has more than {self._max_header_lines} header lines",
            part_index=index,
            offset=self._header_offset,
        )

    def _raise_bad_header_block(self, block: bytes, index: int) -> NoReturn:
        """Say which line of a block that _split_header_block refused is bad, and why."""
        eol = self._eol
        lines = block.split(eol)
        if len(lines) > self._max_header_lines:
            self._raise_too_many_headers(index)
        offset = self._header_offset
        for line in lines:
            colon = line.find(b":")
            if len(line.translate(None, _CONTROL_BYTES)) != len(line):
                why = "a header line holds a CR, LF or another control character"
            elif line[:1] in (b" ", b"\t"):
                why = "a folded header line (obsolete line folding is not accepted)"
            elif colon < 0:
                why = "a header line without a colon"
            elif colon == 0 or line[:colon].translate(None, _TOKEN_BYTES):
                why = "a header line whose name is empty or has characters a header name may not have"
            else:
                offset += len(line) + len(eol)
                continue
            raise InvalidHeader(why, part_index=index, offset=offset)
        raise InvalidHeader("a header line is malformed", part_index=index, offset=self._header_offset)

    def _raise_repeated(self, key: str, index: int) -> NoReturn:
        raise InvalidContentDisposition(
            f"the Content-Disposition repeats its {key!r} parameter", part_index=index, offset=self._header_offset
        )
