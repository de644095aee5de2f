"""What the parser knows about one part once its headers are complete."""

from __future__ import annotations

__all__ = ["Part"]

_MAX_SAFE_NAME_BYTES = 255


class Part:
    """One part of a multipart/form-data body, as described by its headers.

    ``name`` is ``""`` when the Content-Disposition has no name (old API clients send a file that way).
    ``filename`` is what the client sent, path included (``filename*`` when present, decoded), or
    ``None`` for a plain form field; never use it as a path: :attr:`safe_filename` is for that.
    ``content_type`` is the Content-Type header's value as sent (parameters included), ``media_type``
    the type alone, lower-cased; ``charset`` the Content-Type's charset parameter. ``headers`` are all header lines as ``(name, value)`` pairs, in order, as sent.
    ``index`` counts parts from 0.
    """

    __slots__ = ("name", "filename", "content_type", "charset", "headers", "index")

    def __init__(self, name: str, filename: str | None, content_type: str | None, charset: str | None,
                 headers: list[tuple[str, str]], index: int) -> None:
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
        base = "".join(ch for ch in base if ch >= " " and ch != "\x7f")
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
        return (f"Part(index={self.index}, name={self.name!r}, filename={self.filename!r}, "
                f"content_type={self.content_type!r})")
