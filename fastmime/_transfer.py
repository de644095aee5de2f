"""What a part's own headers ask for, applied around its handler (not inside the parser's state machine).

:func:`decode_parts` wraps a ``handler_for``: for each part it looks at the part's headers and, only when
they ask for it, puts a layer between the parser and the handler the wrapped ``handler_for`` returns:

- ``Content-Length`` (a part may send its own, RFC 7578 section 4.8 allows it): the body must have
  exactly that many bytes, as sent; more is refused as soon as it reaches the handler (small pieces are
  gathered first, see ``MultipartParser(coalesce=...)``), fewer at the part's end
  (:class:`~fastmime.PartLengthMismatch`). An invalid value is
  :class:`~fastmime.InvalidContentLength`.
- ``Content-Transfer-Encoding: base64`` and ``quoted-printable`` are decoded as the body streams, so the
  handler receives the original bytes (Django and aiohttp decode them too); ``7bit``, ``8bit`` and
  ``binary`` change nothing; anything else, or a body that is not valid in its encoding, is
  :class:`~fastmime.InvalidTransferEncoding`.
- A part whose Content-Type is ``multipart/*`` (RFC 2388's nested ``multipart/mixed``, deprecated by
  RFC 7578 and sent by no browser) is refused with :class:`~fastmime.NestedMultipart` before any
  handler is made.

Parts with only a Content-Disposition (and a Content-Type) go straight to their handler. The limits of
:class:`~fastmime.Limits` apply to the bytes as sent (decoding only makes them fewer).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from ._dispatch import is_event_loop_safe
from ._errors import InvalidContentLength, InvalidTransferEncoding, NestedMultipart, PartLengthMismatch
from ._part import Part

__all__ = ["decode_parts"]

_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
_WHITESPACE = b" \t\r\n"


def decode_parts(handler_for: Callable[[Part], Any]) -> Callable[[Part], Any]:
    """``handler_for`` with each part's Content-Length, Content-Transfer-Encoding and nesting applied."""

    def decoded_handler_for(part: Part) -> Any:
        headers = part.headers
        if len(headers) == 1:
            return handler_for(part)  # only Content-Disposition: the usual field, at the least cost
        content_type = part.content_type
        if content_type is not None and content_type[:10].lower() == "multipart/":
            raise NestedMultipart(
                f"the part is {part.media_type}, a nested multipart body", part_index=part.index, part_name=part.name
            )
        if len(headers) == 2 and content_type is not None:
            return handler_for(part)  # Content-Disposition and Content-Type: the usual file
        encoding = part.header("content-transfer-encoding")
        length = part.header("content-length")
        if encoding is not None:
            encoding = encoding.strip(" \t").lower()
            if encoding not in _IDENTITY_ENCODINGS and encoding not in ("base64", "quoted-printable"):
                raise InvalidTransferEncoding(
                    f"the Content-Transfer-Encoding {encoding!r} is not supported",
                    part_index=part.index,
                    part_name=part.name,
                )
        expected = None
        if length is not None:
            text = length.strip(" \t")
            if not (text.isascii() and text.isdigit()):
                raise InvalidContentLength(
                    f"the part's Content-Length {length!r} is not a non-negative integer",
                    part_index=part.index,
                    part_name=part.name,
                )
            expected = int(text)
        handler = handler_for(part)
        if encoding == "base64":
            handler = _Base64Decoder(handler, part)
        elif encoding == "quoted-printable":
            handler = _QuotedPrintableDecoder(handler, part)
        if expected is not None:
            handler = _LengthChecked(handler, part, expected)
        return handler

    if is_event_loop_safe(handler_for):  # the layers only transform bytes: as cheap as the handler they wrap
        decoded_handler_for.event_loop_safe = True  # type: ignore[attr-defined]
    return decoded_handler_for


class _Layer:
    """Passes ``on_abort`` on; subclasses transform ``on_data`` and check at ``on_end``."""

    def __init__(self, inner: Any, part: Part) -> None:
        self.inner = inner
        self.part = part

    def on_abort(self, error: BaseException) -> None:
        self.inner.on_abort(error)

    def __getattr__(self, name: str) -> Any:
        # Whoever holds the layer instead of its own handler still sees the handler's attributes.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


class _LengthChecked(_Layer):
    def __init__(self, inner: Any, part: Part, expected: int) -> None:
        super().__init__(inner, part)
        self.expected = expected
        self.size = 0

    def on_data(self, chunk: memoryview) -> None:
        self.size += len(chunk)
        if self.size > self.expected:
            raise PartLengthMismatch(
                f"the part is longer than its Content-Length of {self.expected} bytes",
                part_index=self.part.index,
                part_name=self.part.name,
            )
        self.inner.on_data(chunk)

    def on_end(self) -> None:
        if self.size != self.expected:
            raise PartLengthMismatch(
                f"the part has {self.size} bytes, not the {self.expected} of its Content-Length",
                part_index=self.part.index,
                part_name=self.part.name,
            )
        self.inner.on_end()


class _Base64Decoder(_Layer):
    """Decodes whole 4-character groups as they arrive; line ends and spaces between them are ignored."""

    def __init__(self, inner: Any, part: Part) -> None:
        super().__init__(inner, part)
        self.carry = b""
        self.padded = False

    def _fail(self, why: str) -> InvalidTransferEncoding:
        return InvalidTransferEncoding(
            f"the base64 body is invalid: {why}", part_index=self.part.index, part_name=self.part.name
        )

    def on_data(self, chunk: memoryview) -> None:
        data = self.carry + bytes(chunk).translate(None, _WHITESPACE)
        whole = len(data) & ~3
        if whole:
            block = data[:whole]
            equals = block.find(b"=")
            if self.padded or (equals >= 0 and (whole - equals > 2 or block[equals:].strip(b"="))):
                raise self._fail("data after the padding")
            try:
                decoded = binascii.a2b_base64(block, strict_mode=True)
            except binascii.Error:
                raise self._fail("a character outside the base64 alphabet") from None
            self.padded = equals >= 0
            self.inner.on_data(memoryview(decoded))
        self.carry = data[whole:]

    def on_end(self) -> None:
        if self.carry:
            raise self._fail(f"{len(self.carry)} characters left over (not a multiple of 4)")
        self.inner.on_end()


class _QuotedPrintableDecoder(_Layer):
    """Decodes as data arrives, holding back only an escape (``=XY``, a soft line break) cut in two."""

    def __init__(self, inner: Any, part: Part) -> None:
        super().__init__(inner, part)
        self.carry = b""

    def on_data(self, chunk: memoryview) -> None:
        data = self.carry + bytes(chunk)
        cut = len(data)
        equals = data.find(b"=", max(0, cut - 2))
        if equals >= 0:
            cut = equals  # "=", "=X" or "=\r": the rest of it comes in the next piece
        if cut:
            self.inner.on_data(memoryview(binascii.a2b_qp(data[:cut])))
        self.carry = data[cut:]

    def on_end(self) -> None:
        if self.carry:
            self.inner.on_data(memoryview(binascii.a2b_qp(self.carry)))
            self.carry = b""
        self.inner.on_end()
