"""Per-part handlers used by both APIs, and the step that turns processed images into stored files.

Text fields are collected by :class:`FieldCollector` (bounded, copied out of the parser's memoryviews);
ignored parts go to :class:`Discard`; pictures go to ``imgpipe.ImageHandler``. :func:`store_renditions`
writes the renditions of a request's photos atomically and returns the records to put in the database; on
any failure it removes every file it wrote, so a failed request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any, Sequence

from .files import FileStore, new_file_key, new_stem
from .store import RenditionRecord

__all__ = ["FieldTooLarge", "FieldCollector", "Discard", "store_renditions", "extension_for", "Rejected"]

_EXT = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "tiff": "tif", "tif": "tif",
        "bmp": "bmp", "heic": "heic", "mpo": "jpg"}


class Rejected(Exception):
    """Raised from a part chooser to stop reading a request early; carries the API error to answer."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class FieldTooLarge(Exception):
    """A text field is longer than the service accepts."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"field {name!r} is larger than {limit} bytes")
        self.name = name
        self.limit = limit


class FieldCollector:
    """Collects one text field into ``fields`` (name -> text, UTF-8 with replacement) when it ends."""

    def __init__(self, name: str, fields: list[tuple[str, str]], limit: int, charset: str | None = None) -> None:
        self.name = name
        self.fields = fields
        self.limit = limit
        self.charset = charset or "utf-8"
        self.buf = bytearray()

    def on_data(self, chunk: memoryview) -> None:
        """Copy the chunk (the parser's memoryview is only valid during this call)."""
        if len(self.buf) + len(chunk) > self.limit:
            raise FieldTooLarge(self.name, self.limit)
        self.buf += chunk

    def on_end(self) -> None:
        """Decode and record the field."""
        try:
            text = bytes(self.buf).decode(self.charset, "replace")
        except LookupError:
            text = bytes(self.buf).decode("utf-8", "replace")
        self.fields.append((self.name, text))

    def on_abort(self, error: BaseException | None) -> None:
        """Drop what was collected."""
        self.buf = bytearray()


class Discard:
    """Swallows a part the API ignores."""

    def on_data(self, chunk: memoryview) -> None:
        """Ignore the data."""

    def on_end(self) -> None:
        """Nothing to do."""

    def on_abort(self, error: BaseException | None) -> None:
        """Nothing to do."""


def extension_for(fmt: str) -> str:
    """File extension for an image format name ("JPEG" -> "jpg")."""
    return _EXT.get(fmt.lower(), "bin")


def store_renditions(files: FileStore, renditions: Sequence[Any], written: list[str]) -> tuple[RenditionRecord, ...]:
    """Write each rendition (``type, width, height, size, format, data``) under one fresh stem.

    Keys written are appended to ``written`` as they land, so the caller can remove them all if a later
    step fails. Raises :class:`~.files.FileStoreError` on I/O failure.
    """
    stem = new_stem()
    out = []
    for r in renditions:
        data = bytes(r.data) if not isinstance(r.data, bytes) else r.data
        key = new_file_key(stem, r.type, extension_for(r.format))
        files.put(key, data)
        written.append(key)
        out.append(RenditionRecord(type=r.type, width=int(r.width), height=int(r.height), size=len(data),
                                   format=extension_for(r.format), file_key=key))
    return tuple(out)


def remove_files(files: FileStore, keys: Sequence[str]) -> None:
    """Best-effort removal of files written by a failed request."""
    for key in keys:
        try:
            files.delete(key)
        except Exception:  # noqa: BLE001 - cleanup must not mask the original error
            pass
