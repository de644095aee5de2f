"""The one way imgpipe writes XML: the standard library's ``xml.sax.saxutils.XMLGenerator``.

XMLGenerator escapes text and attribute values and writes attributes in the order given (the PhotoList
sample's root start tag puts a namespace declaration between attributes, which ElementTree cannot do).
What it does not do is refuse characters XML 1.0 cannot carry at all, escaped or not: C0 controls other
than tab, LF and CR, U+FFFE/U+FFFF and lone surrogates. :func:`clean` removes them, and this writer
applies it to every name, value and text it is given, so any input gives a well-formed document. JSON
documents built beside the XML use :func:`clean` too, so both carry the same text.

A CR in text is written as ``&#13;``: a literal CR would come back as LF from every XML parser.
(XMLGenerator escapes CR in attribute values itself.)
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

__all__ = ["XmlWriter", "clean"]

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value: object) -> str:
    """``str(value)`` without the characters XML 1.0 cannot carry."""
    return _FORBIDDEN.sub("", str(value))


class XmlWriter:
    """A UTF-8 document with an XML declaration, written element by element."""

    def __init__(self) -> None:
        self._out = io.BytesIO()
        self._gen = XMLGenerator(self._out, encoding="UTF-8", short_empty_elements=True)
        self._gen.startDocument()

    def start(self, name: str, attrs: Iterable[tuple[str, object]] = ()) -> None:
        """``<name a="v" ...>``, attributes in the order given; the element is written ``<name .../>``
        when :meth:`end` follows directly."""
        self._gen.startElement(name, AttributesImpl({clean(k): clean(v) for k, v in attrs}))

    def end(self, name: str) -> None:
        """``</name>`` (or ``/>`` closing an element with no content)."""
        self._gen.endElement(name)

    def text(self, value: object) -> None:
        """Character data, escaped."""
        parts = clean(value).split("\r")
        for i, part in enumerate(parts):
            if i:
                self._gen.ignorableWhitespace("&#13;")  # written verbatim: a character reference
            self._gen.characters(part)

    def element(self, name: str, text: object, attrs: Iterable[tuple[str, object]] = ()) -> None:
        """``<name ...>text</name>``; ``<name .../>`` when the text is empty (the same XML)."""
        self.start(name, attrs)
        self.text(text)
        self.end(name)

    def newline(self, indent: str) -> None:
        """A line break and indentation between elements (pretty-printing, not content)."""
        self._gen.ignorableWhitespace("\n" + indent)

    def getvalue(self) -> bytes:
        """The document so far, with a final line break."""
        self._gen.ignorableWhitespace("\n")
        self._gen.endDocument()
        return self._out.getvalue()
