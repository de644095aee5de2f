"""The part handlers of an upload request, chosen per part as fastmime reads the body.

Text fields go to a bounded :class:`fastmime.handlers.ValueHandler` (copied out of the parser's buffer) and
are decoded with their part's charset when the body is complete; parts an API ignores go to a
:class:`fastmime.handlers.DiscardHandler`; pictures go to :mod:`.images`. An API refuses a part by raising
:class:`Rejected` from its chooser: the parser stops and the API's own error is answered.
"""

from __future__ import annotations

import re

from fastmime.handlers import DiscardHandler, ValueHandler

__all__ = ["Rejected", "TextFields", "DiscardHandler", "clean_text"]


# A str holds a surrogate code point only when it is lone: pairs are decoded into one code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Rejected(Exception):
    """Raised from a part chooser to stop reading a request; carries the API error to answer."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class TextFields:
    """The text fields of one request, in the order they arrived, each at most ``max_bytes`` long."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._parts: list[tuple[str, ValueHandler, str]] = []

    def handler(self, name: str, charset: str | None) -> ValueHandler:
        """The handler of one field (:class:`fastmime.handlers.ValueTooLarge` beyond ``max_bytes``)."""
        handler = ValueHandler(self.max_bytes)
        self._parts.append((name, handler, charset or "utf-8"))
        return handler

    def pairs(self) -> list[tuple[str, str]]:
        """(name, text) of every complete field, as valid Unicode whatever the client sent: undecodable
        bytes become U+FFFD; a charset Python does not know, that is not a text encoding, or that fails
        (``idna``) falls back to UTF-8; lone surrogates (UTF-7 can produce them) become U+FFFD."""
        out = []
        for name, handler, charset in self._parts:
            if not handler.done:
                continue
            try:
                text = handler.text(charset)
            except (LookupError, UnicodeError, ValueError):
                text = handler.text("utf-8")
            out.append((clean_text(name), clean_text(text)))
        return out


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (which no UTF-8 store or document can hold) replaced by U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
