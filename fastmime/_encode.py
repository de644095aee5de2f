"""``encode_multipart``: build a multipart/form-data body, for tests and HTTP clients.

The body comes out as an iterator of bytes; files are read in pieces as the iterator is consumed,
never whole, so a large file can be sent with bounded memory (``requests.post(url, data=chunks,
headers={"Content-Type": content_type})`` sends it chunked). What it writes is what browsers write
(RFC 7578): names and filenames in quotes, UTF-8, ``"`` and ``\\`` escaped with a backslash; a
filename with control characters also gets a ``filename*`` (RFC 5987), which parsers prefer.
:func:`fastmime.parse_form` reads back exactly what it encodes.
"""

from __future__ import annotations

import codecs
import secrets
from collections.abc import Iterable, Iterator
from typing import IO
from urllib.parse import quote

__all__ = ["encode_multipart", "FieldValue", "FileData"]

#: A field's value: text (sent as UTF-8) or bytes (sent as they are).
FieldValue = str | bytes
#: A file's content: bytes, or a binary file object read in pieces from its current position.
FileData = bytes | bytearray | memoryview | IO[bytes]

_READ_SIZE = 64 * 1024
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_BCHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? ")
_CONTROLS = frozenset(chr(c) for c in [*range(9), *range(10, 32), 127])


def encode_multipart(
    fields: Iterable[tuple[str, FieldValue]],
    files: Iterable[tuple[str, str, str | None, FileData]] = (),
    boundary: str | None = None,
) -> tuple[str, Iterator[bytes]]:
    """``(content_type, chunks)`` of a multipart/form-data body holding ``fields``, then ``files``.

    ``fields`` are ``(name, value)`` pairs; ``files`` are ``(name, filename, content_type, data)`` with
    ``content_type`` ``None`` for ``application/octet-stream`` and ``data`` bytes or a binary file
    (read from its current position, in 64 KiB pieces, while ``chunks`` is iterated). Names may be
    empty and filenames non-ASCII. ``boundary`` defaults to a random one.

    Names, filenames and content types are checked at once (``ValueError``: a name or content type with
    a line break or another control character, a lone surrogate, a ``_charset_`` field naming another
    charset than UTF-8, a bad boundary). Data that holds the delimiter makes the iteration raise
    ``ValueError``: the body would be read differently than meant.
    """
    if boundary is None:
        boundary = "fastmime-" + secrets.token_hex(16)
    _check_boundary(boundary)
    heads: list[tuple[bytes, FieldValue | None, FileData | None]] = []
    for name, value in fields:
        if not isinstance(value, (str, bytes, bytearray, memoryview)):
            raise TypeError(f"the value of field {name!r} must be str or bytes, not {type(value).__name__}")
        if name == "_charset_":
            _check_charset_field(value)
        heads.append((_disposition(name, None), value, None))
    for name, filename, content_type, data in files:
        if not isinstance(filename, str):
            raise TypeError(f"the filename of file {name!r} must be a str, not {type(filename).__name__}")
        if content_type is None:
            content_type = "application/octet-stream"
        _check_header_value("content type", content_type)
        head = _disposition(name, filename) + b"\r\nContent-Type: " + _utf8("content type", content_type)
        heads.append((head, None, data))
    delimiter = b"--" + boundary.encode("ascii")
    token = all(c in _TOKEN for c in boundary)
    content_type = "multipart/form-data; boundary=" + (boundary if token else f'"{boundary}"')
    return content_type, _chunks(heads, delimiter)


def _chunks(heads: list[tuple[bytes, FieldValue | None, FileData | None]], delimiter: bytes) -> Iterator[bytes]:
    guard = _DelimiterGuard(b"\r\n" + delimiter)
    for head, value, data in heads:
        guard.start()
        start = delimiter + b"\r\nContent-Disposition: " + head + b"\r\n\r\n"
        if value is not None:
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            guard.check(raw)
            yield start + raw + b"\r\n"
            continue
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            guard.check(raw)
            yield start + raw + b"\r\n"
            continue
        assert data is not None
        yield start
        while True:
            block = data.read(_READ_SIZE)
            if not block:
                break
            guard.check(block)
            yield block
        yield b"\r\n"
    yield delimiter + b"--\r\n"


class _DelimiterGuard:
    """Finds the delimiter in a part's data even when it is cut across pieces (a file read in blocks)."""

    def __init__(self, needle: bytes) -> None:
        self.needle = needle
        self.tail = b""

    def start(self) -> None:
        # The part's data follows a CRLF (the end of its header block): a body starting with
        # "--boundary" would read as a delimiter to parsers that attach that CRLF to it.
        self.tail = b"\r\n"

    def check(self, data: bytes) -> None:
        window = self.tail + data
        if self.needle in window:
            raise ValueError("the data holds the multipart delimiter; let encode_multipart choose the boundary")
        self.tail = window[-(len(self.needle) - 1) :]


def _check_boundary(boundary: str) -> None:
    if not boundary or len(boundary) > 70 or boundary.endswith(" ") or any(c not in _BCHARS for c in boundary):
        raise ValueError(
            f"the boundary {boundary!r} is not a valid RFC 2046 boundary (1-70 characters "
            "from its set, not ending with a space)"
        )


def _check_charset_field(value: FieldValue) -> None:
    text = value if isinstance(value, str) else bytes(value).decode("ascii", "replace")
    try:
        named = codecs.lookup(text.strip()).name
    except LookupError:
        return  # parsers ignore an unknown charset
    if named != "utf-8":
        raise ValueError(f"a _charset_ field of {text!r}: encode_multipart writes text as UTF-8")


def _utf8(what: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"the {what} {text!r} is not encodable as UTF-8 (a lone surrogate)") from None


def _check_header_value(what: str, text: str) -> None:
    if any(c in _CONTROLS for c in text):
        raise ValueError(f"the {what} {text!r} holds a line break or another control character")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _disposition(name: str, filename: str | None) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"a part's name must be a str, not {type(name).__name__}")
    _check_header_value("name", name)
    value = "form-data; name=" + _quoted(name)
    if filename is not None:
        if any(c in _CONTROLS for c in filename):
            # Only RFC 5987's percent-encoding can carry these; the plain parameter is a fallback.
            plain = "".join("_" if c in _CONTROLS else c for c in filename)
            value += (
                "; filename=" + _quoted(plain) + "; filename*=utf-8''" + quote(_utf8("filename", filename), safe="")
            )
        else:
            value += "; filename=" + _quoted(filename)
    return _utf8("name or filename", value)
