"""The one way the service writes XML: the standard library's SAX writer, made safe for any text.

:class:`xml.sax.saxutils.XMLGenerator` escapes markup characters and keeps attributes in the order given.
What it cannot do is write characters XML 1.0 forbids (C0 controls other than tab, LF and CR, lone
surrogates, U+FFFE/U+FFFF): they are removed here, so every document parses whatever a client stored. A CR
is written as ``&#13;`` so that parsers give it back instead of turning it into LF.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from xml.sax.saxutils import XMLGenerator, escape
from xml.sax.xmlreader import AttributesImpl

__all__ = ["XMLWriter", "xml_safe"]

# The complement of the XML 1.0 Char production.
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: object) -> str:
    """``str(text)`` without the characters XML 1.0 cannot carry."""
    return _FORBIDDEN.sub("", str(text))


class _Generator(XMLGenerator):
    def characters(self, content: str) -> None:
        if content:
            self._finish_pending_start_element()  # type: ignore[attr-defined]
            self._write(escape(content, {"\r": "&#13;"}))  # type: ignore[attr-defined]


class XMLWriter:
    """Builds one UTF-8 document: ``start``/``end`` elements, ``text``, ``element`` for a text-only child."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._gen = _Generator(self._buffer, "UTF-8", short_empty_elements=True)
        self._gen.startDocument()

    def start(self, name: str, attrs: Mapping[str, object] | None = None) -> None:
        """Open an element; attribute values are cleaned and escaped, in the order given."""
        self._gen.startElement(name, AttributesImpl({k: xml_safe(v) for k, v in (attrs or {}).items()}))

    def end(self, name: str) -> None:
        """Close an element."""
        self._gen.endElement(name)

    def text(self, value: object) -> None:
        """Character data, cleaned and escaped."""
        self._gen.characters(xml_safe(value))

    def element(self, name: str, value: object, attrs: Mapping[str, object] | None = None) -> None:
        """``<name attrs>value</name>``."""
        self.start(name, attrs)
        self.text(value)
        self.end(name)

    def document(self) -> bytes:
        """The document, with its XML declaration."""
        self._gen.endDocument()
        return self._buffer.getvalue().encode("utf-8")
