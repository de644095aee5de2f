"""application/x-www-form-urlencoded bodies, streamed: what a browser form without ``enctype`` sends.

The body is ``name=value`` pairs joined by ``&``, ``+`` for a space and ``%XY`` escapes (the WHATWG URL
standard's parser: an invalid escape stays as it is, a pair without ``=`` has the value ``""``, empty
pairs are skipped). :class:`UrlencodedParser` takes the body in chunks of any size, keeps only the
current pair's bytes between feeds, and applies fastmime's limits with fastmime's errors:

- a pair (name and value as sent, still encoded) longer than ``max_field_size``: :class:`FieldTooLarge`;
- more pairs than ``max_parts``: :class:`TooManyParts`;
- more bytes than ``max_body_size``: :class:`BodyTooLarge`.

Names and values are decoded at the end, with the Content-Type's ``charset``, else the form's own
``_charset_`` field, else UTF-8, as for multipart fields.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote_to_bytes

from ._errors import BodyTooLarge, FieldTooLarge, MultipartError, TooManyParts
from ._limits import DEFAULT_LIMITS, Limits

__all__ = ["UrlencodedParser", "is_urlencoded", "URLENCODED"]

URLENCODED = "application/x-www-form-urlencoded"


def is_urlencoded(content_type: str | bytes | None) -> bool:
    """True when the Content-Type's media type is ``application/x-www-form-urlencoded``."""
    if not content_type:
        return False
    if isinstance(content_type, (bytes, bytearray)):
        content_type = bytes(content_type).decode("latin-1")
    return content_type.split(";", 1)[0].strip(" \t").lower() == URLENCODED


def _decode(raw: bytes, charset: str) -> str:
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw.decode(charset, "replace")


class UrlencodedParser:
    """Incremental parser for one urlencoded body: :meth:`feed` each piece, then :meth:`close`.

    After ``close()``, :attr:`pairs` holds the raw (still encoded) ``(name, value)`` pairs in order and
    :meth:`fields` decodes them. Any error leaves the parser failed: later calls raise it again.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        if limits is None:
            limits = DEFAULT_LIMITS
        elif not isinstance(limits, Limits):
            raise TypeError(f"limits must be a fastmime.Limits, not {type(limits).__name__}")
        self._limits = limits
        self._pending = bytearray()
        self._pending_offset = 0
        self._received = 0
        self._error: BaseException | None = None
        self._closed = False
        self.pairs: list[tuple[bytes, bytes]] = []

    @property
    def received(self) -> int:
        """Bytes fed so far."""
        return self._received

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next piece of the body (any bytes-like object)."""
        self._check_open()
        data = bytes(data)
        if not data:
            return
        try:
            base = self._received
            maximum = self._limits.max_body_size
            over = base + len(data) > maximum
            if over:
                data = data[: maximum - base]
            pos = 0
            while True:
                amp = data.find(b"&", pos)
                stop = len(data) if amp < 0 else amp
                if stop > pos:
                    if not self._pending:
                        self._pending_offset = base + pos
                    room = self._limits.max_field_size + 1 - len(self._pending)
                    self._pending += data[pos : min(stop, pos + room)]
                    if len(self._pending) > self._limits.max_field_size:
                        self._raise_field_too_large()
                if amp < 0:
                    break
                self._end_pair()
                pos = amp + 1
            self._received = base + len(data)
            if over:
                raise BodyTooLarge(
                    f"the body is larger than the limit of {maximum} bytes", part_index=len(self.pairs), offset=maximum
                )
        except BaseException as error:
            self._error = error
            raise

    def close(self) -> None:
        """End the body: the last pair is complete."""
        self._check_open()
        try:
            self._end_pair()
        except BaseException as error:
            self._error = error
            raise
        self._closed = True

    def abort(self, error: BaseException | None = None) -> None:
        """Stop parsing; later calls raise ``error`` (nothing is held that needs releasing)."""
        if self._error is None and not self._closed:
            self._error = error or MultipartError("parsing was aborted")
        self._pending = bytearray()

    def fields(self, charset: str | None = None) -> list[tuple[str, str]]:
        """The decoded ``(name, value)`` pairs: ``charset``, else the ``_charset_`` field, else UTF-8."""
        if charset is None:
            charset = "utf-8"
            for name, value in self.pairs:
                if name == b"_charset_":
                    charset = _known_charset(_decode(value, "ascii"), charset)
                    break
        else:
            charset = _known_charset(charset, "utf-8")
        return [(_decode(name, charset), _decode(value, charset)) for name, value in self.pairs]

    def _check_open(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise MultipartError("the parser is closed: feed() and close() may not be called again")

    def _end_pair(self) -> None:
        pending = self._pending
        if not pending:
            return
        if len(self.pairs) >= self._limits.max_parts:
            raise TooManyParts(
                f"the body has more than {self._limits.max_parts} fields",
                part_index=len(self.pairs),
                offset=self._pending_offset,
            )
        name, _, value = bytes(pending).partition(b"=")
        self.pairs.append((name, value))
        self._pending = bytearray()

    def _raise_field_too_large(self) -> None:
        name = bytes(self._pending).partition(b"=")[0]
        limit = self._limits.max_field_size
        raise FieldTooLarge(
            f"the field is larger than the limit of {limit} bytes",
            part_index=len(self.pairs),
            part_name=_decode(name[:200], "utf-8"),
            offset=self._pending_offset + limit,
        )


def _known_charset(name: str | None, default: str) -> str:
    """The codec's canonical name, or ``default`` when ``name`` is empty or unknown."""
    if not name:
        return default
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return default
