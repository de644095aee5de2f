"""The part handlers of an upload request, chosen per part as fastmime reads the body.

Text fields go to a bounded :class:`fastmime.handlers.ValueHandler` (copied out of the parser's buffer) and
are decoded with their part's charset when the body is complete; parts an API ignores go to a
:class:`fastmime.handlers.DiscardHandler`; pictures go to :mod:`.images`. An API refuses a part by raising
:class:`Rejected` from its chooser: the parser stops and the API's own error is answered.
"""

from __future__ import annotations

from fastmime.handlers import DiscardHandler, ValueHandler

__all__ = ["Rejected", "TextFields", "DiscardHandler"]


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
        """(name, text) of every complete field; undecodable bytes (or an unknown charset) give U+FFFD."""
        out = []
        for name, handler, charset in self._parts:
            if not handler.done:
                continue
            try:
                out.append((name, handler.text(charset)))
            except LookupError:
                out.append((name, handler.text("utf-8")))
        return out
