"""The embedded files backend: a local folder, ``<root>/<2 hex>/<stem>_<rendition>.<ext>``.

A file is written to a temporary name in its destination folder, flushed to disk, renamed over its key
(atomic on POSIX), and the folder is flushed, so a crash leaves either the whole file or a temporary one
(``.tmp-*``, removed by ``photoservice fsck`` once old enough). Folders are created owner-only.

Once flushed, a large file (an original) is dropped from the page cache (``POSIX_FADV_DONTNEED``):
uploads are written once and their originals read rarely, so keeping them cached would crowd out the
renditions that pages show, and growing the cache by every upload is what writing costs most (on the
machine of the benchmarks a new 5 MB file took 15 ms of system CPU to write; dropping the pages after the
flush lets the next write reuse them, 2-3 ms).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .files import FileStore, FileStoreError, StoredFile, check_key, valid_key

__all__ = ["LocalFileStore"]

_TMP_PREFIX = ".tmp-"
_COPY_CHUNK = 1024 * 1024
# Files at least this large are dropped from the page cache once flushed (originals, not renditions).
_UNCACHE_FROM = 256 * 1024


class _Window:
    """Reads at most ``length`` bytes of an open file (a Range request)."""

    def __init__(self, fh: BinaryIO, length: int) -> None:
        self._fh = fh
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> _Window:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalFileStore(FileStore):
    """Files under ``root``; ``fsync=False`` skips the flushes (tests, benchmarks on throwaway data)."""

    def __init__(self, root: str | Path, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.fsync = fsync

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)  # the key's shape admits no "..", "/" prefix or other folder

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        path = self._path(key)
        folder = path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = folder / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    shutil.copyfileobj(source, fh, _COPY_CHUNK)
                    written = fh.tell()
                    if written != size:
                        raise FileStoreError(f"cannot write {key}: expected {size} bytes, the source gave {written}")
                    fh.flush()
                    if self.fsync:
                        os.fsync(fh.fileno())
                        if written >= _UNCACHE_FROM:  # clean now, so the kernel can drop the pages
                            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            if self.fsync:
                dfd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as exc:
            raise FileStoreError(f"cannot write {key}: {exc}") from exc

    def open(self, key: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        fh = open(self._path(key), "rb")
        if offset:
            fh.seek(offset)
        if length is None:
            return fh
        return _Window(fh, length)  # type: ignore[return-value]

    def stat(self, key: str) -> StoredFile:
        st = self._path(key).stat()
        return StoredFile(key, st.st_size, st.st_mtime, f'"{st.st_size:x}-{st.st_mtime_ns:x}"')

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise FileStoreError(f"cannot delete {key}: {exc}") from exc

    def _folders(self) -> Iterator[Path]:
        if self.root.is_dir():
            for folder in sorted(self.root.iterdir()):
                if folder.is_dir() and not folder.is_symlink():
                    yield folder

    def list_files(self) -> Iterator[StoredFile]:
        for folder in self._folders():
            for f in sorted(folder.iterdir()):
                key = f"{folder.name}/{f.name}"
                if valid_key(key):
                    try:
                        yield self.stat(key)
                    except FileNotFoundError:  # removed meanwhile
                        continue

    def sweep_incomplete(self, started_before: float, remove: bool) -> list[str]:
        found = []
        for folder in self._folders():
            for tmp in folder.glob(_TMP_PREFIX + "*"):
                try:
                    if tmp.stat().st_mtime >= started_before:
                        continue  # may be a write in progress
                    if remove:
                        tmp.unlink()
                except FileNotFoundError:
                    continue
                found.append(f"{folder.name}/{tmp.name}")
        return found

    def check_writable(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            probe = self.root / f"{_TMP_PREFIX}probe-{secrets.token_hex(4)}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise FileStoreError(f"the storage folder {self.root} is not writable: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalFileStore({str(self.root)!r})"
