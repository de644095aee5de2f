"""File storage: the :class:`FileStore` interface and the local-folder implementation.

Keys are chosen by the server (:func:`new_file_key`), never derived from a client's filename, and are checked
against a strict pattern before any path is built, so no key can reach outside the storage root. Writes are
atomic: a temporary file in the destination folder, ``fsync``, ``os.replace``, then ``fsync`` of the folder.
A reader sees either no file or the whole file.
"""

from __future__ import annotations

import os
import re
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO, Iterator

__all__ = ["FileStoreError", "BadFileKey", "FileStore", "LocalFileStore", "new_file_key"]

_KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}_[a-z_]{1,16}\.(jpg|png|gif|webp|tif|bmp|heic)$")
_TMP_PREFIX = ".tmp-"


class FileStoreError(Exception):
    """A file could not be written, read or removed."""


class BadFileKey(FileStoreError):
    """The key does not have the server's key shape (and would never be used to build a path)."""


def new_file_key(stem: str, rendition: str, ext: str) -> str:
    """The key of one rendition: ``<2 hex>/<32 hex stem>_<rendition>.<ext>``; ``stem`` from :func:`new_stem`."""
    key = f"{stem[:2]}/{stem}_{rendition}.{ext}"
    if not _KEY_RE.match(key):
        raise BadFileKey(f"cannot build a file key from {rendition!r}/{ext!r}")
    return key


def new_stem() -> str:
    """A fresh random stem (128 bits) shared by the renditions of one photo."""
    return secrets.token_hex(16)


def valid_key(key: str) -> bool:
    """Whether ``key`` has the exact shape of a server-made key."""
    return bool(_KEY_RE.match(key))


class FileStore(ABC):
    """Where image files live. A local folder now; S3-compatible object storage can implement it later."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (all or nothing visible)."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the stored file for reading; raises FileNotFoundError when absent."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes of the stored file; raises FileNotFoundError when absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file if it exists."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether the file exists."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key (for the ``fsck`` admin command)."""

    @abstractmethod
    def check_writable(self) -> None:
        """Raise :class:`FileStoreError` when files cannot be written (startup check)."""


class LocalFileStore(FileStore):
    """Files under one root folder: ``<root>/<2 hex>/<stem>_<rendition>.<ext>``."""

    def __init__(self, root: str | Path, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.fsync = fsync

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key):
            raise BadFileKey(f"invalid file key {key!r}")
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise BadFileKey(f"file key {key!r} leaves the storage root")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    if self.fsync:
                        os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
            if self.fsync:
                dfd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as exc:
            raise FileStoreError(f"cannot write {key}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise FileStoreError(f"cannot delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for f in sorted(folder.iterdir()):
                key = f"{folder.name}/{f.name}"
                if _KEY_RE.match(key):
                    yield key

    def temp_files(self) -> Iterator[Path]:
        """Temporary files left by a crash in the middle of a write."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.is_dir():
                yield from folder.glob(_TMP_PREFIX + "*")

    def check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f"{_TMP_PREFIX}probe-{secrets.token_hex(4)}"
            with open(probe, "wb") as fh:
                fh.write(b"ok")
            probe.unlink()
        except OSError as exc:
            raise FileStoreError(f"storage folder {self.root} is not writable: {exc}") from exc
