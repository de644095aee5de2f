"""The files interface: where image files live, by server-made keys.

Keys are made by :func:`new_file_key`, never from a client's filename, and every backend checks them against
one strict pattern (:func:`valid_key`) before using them, so no key can reach outside the storage root.
Writes are atomic: a reader sees no file or the whole file. Sources are streamed, never read whole.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = [
    "FileStore",
    "FileStoreError",
    "BadFileKey",
    "StoredFile",
    "new_file_key",
    "new_stem",
    "valid_key",
    "extension_for",
]

_KEY_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}_[a-z_]{1,16}\.(jpg|png|gif|webp|avif|heic)")
_EXTENSIONS = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "avif": "avif", "heic": "heic"}
#: Content types of the extensions a key may have.
MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
}


class FileStoreError(Exception):
    """A file could not be written, read or removed."""


class BadFileKey(FileStoreError):
    """The key does not have the server's key shape (and is never used to build a path or a name)."""


@dataclass(frozen=True)
class StoredFile:
    """A stored file: its key, size in bytes, last change (seconds since the epoch) and an entity tag."""

    key: str
    size: int
    modified: float
    etag: str


def valid_key(key: str) -> bool:
    """Whether ``key`` has the exact shape of a server-made key."""
    return _KEY_RE.fullmatch(key) is not None


def check_key(key: str) -> str:
    """``key`` itself, or :class:`BadFileKey`."""
    if not valid_key(key):
        raise BadFileKey(f"invalid file key {key[:80]!r}")
    return key


def new_stem() -> str:
    """A fresh random stem (128 bits) shared by the renditions of one photo."""
    return secrets.token_hex(16)


def extension_for(image_format: str) -> str:
    """The file extension of an image format ("jpeg" -> "jpg")."""
    try:
        return _EXTENSIONS[image_format.lower()]
    except KeyError:
        raise BadFileKey(f"no file extension for the image format {image_format!r}") from None


def new_file_key(stem: str, rendition: str, image_format: str) -> str:
    """The key of one rendition: ``<2 hex>/<32 hex stem>_<rendition>.<ext>``; ``stem`` from :func:`new_stem`."""
    return check_key(f"{stem[:2]}/{stem}_{rendition}.{extension_for(image_format)}")


class FileStore(ABC):
    """Image files by key: a local folder, or S3-compatible object storage."""

    @abstractmethod
    def put(self, key: str, source: BinaryIO, size: int) -> None:
        """Store ``size`` bytes read from ``source`` under ``key``, atomically; streamed, never read whole."""

    @abstractmethod
    def open(self, key: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A reader of the stored bytes from ``offset`` (``length`` of them, or to the end).
        FileNotFoundError when there is no such file."""

    @abstractmethod
    def stat(self, key: str) -> StoredFile:
        """Size, change time and entity tag; FileNotFoundError when there is no such file."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file if it exists."""

    @abstractmethod
    def list_files(self) -> Iterator[StoredFile]:
        """Every stored file (for ``photoservice fsck``)."""

    @abstractmethod
    def sweep_incomplete(self, started_before: float, remove: bool) -> list[str]:
        """Writes that never finished (a crash mid-write) and began before ``started_before``: their names,
        removed when ``remove`` is true."""

    @abstractmethod
    def check_writable(self) -> None:
        """:class:`FileStoreError` when files cannot be written (startup and health check)."""
