"""Where an image's bytes live, and readers over them that never load the whole file.

:class:`Origin` is the one way the pipeline reads its input: the header region for sniffing, scanning
and EXIF, a stream for Pillow, a stream for hashing, and :meth:`Rendition.open` for the ``full``
original. Each :meth:`Origin.open` returns an independent reader (its own position), so a caller may
stream the original while another thread reads it too.

Kinds of origin:

* bytes in memory (the caller's bytes, or the handler's small memory spool);
* a path: every reader opens the file again; it stays readable as long as the file exists unchanged;
* an open binary file with a descriptor (the handler's spool file, a file the caller opened):
  positional reads (``os.pread``) that never move the file's own position; readable as long as the
  file stays open;
* any other seekable binary file (``io.BytesIO``...): reads under a lock, each reader seeking to its
  own position first.

Patches are byte ranges replaced on the fly (the GPS removal: length-preserving edits inside the EXIF
block), so a stripped original is streamed, never copied whole.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Sequence
from typing import IO, BinaryIO

__all__ = ["Origin", "Patch"]

Patch = tuple[int, bytes]  # (offset, replacement bytes of the same length as what they replace)

_HAS_PREAD = hasattr(os, "preadv")


class Origin:
    """``size`` bytes readable at any offset, through independent readers (see the module docstring)."""

    __slots__ = ("size", "_read_into", "_close", "_closed", "_label", "_path")

    def __init__(
        self,
        size: int,
        read_into: Callable[[int, memoryview], int],
        label: str,
        close: Callable[[], None] | None = None,
        path: str | None = None,
    ) -> None:
        self.size = size
        self._path = path
        self._read_into = read_into  # (offset, buffer) -> bytes read
        self._close = close
        self._closed = False
        self._label = label

    # -- construction ---------------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Origin:
        """An origin over bytes already in memory (not copied when ``bytes``)."""
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        if not isinstance(data, bytes):
            view = memoryview(bytes(view))  # the caller may change a bytearray later: keep our own copy

        def read_into(offset: int, buf: memoryview) -> int:
            chunk = view[offset : offset + len(buf)]
            buf[: len(chunk)] = chunk
            return len(chunk)

        return cls(len(view), read_into, "bytes")

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Origin:
        """An origin over a file on disk; each reader opens it again."""
        path = os.fspath(path)
        size = os.stat(path).st_size
        return cls(size, _unsupported_read, f"file {path!r}", path=path)

    @classmethod
    def from_file(cls, f: IO[bytes], *, close: Callable[[], None] | None = None) -> Origin:
        """An origin over an open, seekable binary file, from offset 0 to its current end.

        Raises ``io.UnsupportedOperation`` when the file cannot seek (copy it to a spool first).
        """
        if not f.seekable():
            raise io.UnsupportedOperation("the file cannot seek")
        flush = getattr(f, "flush", None)
        if flush is not None and getattr(f, "writable", lambda: False)():
            flush()
        fd = _fileno(f)
        if fd is not None and _HAS_PREAD:
            size = os.fstat(fd).st_size

            def read_fd(offset: int, buf: memoryview) -> int:
                return os.preadv(fd, [buf], offset)

            return cls(size, read_fd, "file", close)
        lock = threading.Lock()
        with lock:
            pos = f.tell()
            size = f.seek(0, os.SEEK_END)
            f.seek(pos)

        def read_locked(offset: int, buf: memoryview) -> int:
            with lock:
                f.seek(offset)
                readinto = getattr(f, "readinto", None)
                if readinto is not None:
                    return int(readinto(buf) or 0)
                chunk = f.read(len(buf))
                buf[: len(chunk)] = chunk
                return len(chunk)

        return cls(size, read_locked, "file", close)

    def __len__(self) -> int:
        return self.size

    # -- reading --------------------------------------------------------------------------------------

    def read(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer at the end)."""
        n = max(0, min(n, self.size - offset))
        if n == 0 or offset < 0:
            return b""
        with self.open() as f:
            f.seek(offset)
            return f.read(n)

    def open(self, patches: Sequence[Patch] = ()) -> BinaryIO:
        """A new reader of exactly :attr:`size` bytes from offset 0, with ``patches`` applied."""
        if self._closed:
            raise ValueError(f"the image's {self._label} was closed: its bytes can no longer be read")
        path = self._path
        if path is not None:
            f = open(path, "rb")
            if not patches and os.fstat(f.fileno()).st_size == self.size:
                return f
            fd = f.fileno()
            raw = _Reader(
                self.size,
                lambda off, buf: os.preadv(fd, [buf], off) if _HAS_PREAD else _seek_readinto(f, off, buf),
                patches,
                f.close,
            )
            return io.BufferedReader(raw, 256 * 1024)
        return io.BufferedReader(_Reader(self.size, self._read_into, patches, None), 256 * 1024)

    def close(self) -> None:
        """Release what the origin owns (the handler's spool); later :meth:`open` calls fail."""
        if not self._closed:
            self._closed = True
            if self._close is not None:
                self._close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed


def _fileno(f: IO[bytes]) -> int | None:
    try:
        return f.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _seek_readinto(f: IO[bytes], offset: int, buf: memoryview) -> int:
    f.seek(offset)
    return int(f.readinto(buf) or 0)  # type: ignore[attr-defined]


def _unsupported_read(offset: int, buf: memoryview) -> int:  # pragma: no cover - paths use their own
    raise AssertionError("path origins read through open()")


class _Reader(io.RawIOBase):
    """A seekable raw reader over ``size`` bytes, applying patches to what it returns."""

    def __init__(
        self,
        size: int,
        read_into: Callable[[int, memoryview], int],
        patches: Sequence[Patch],
        on_close: Callable[[], None] | None,
    ) -> None:
        super().__init__()
        self._size = size
        self._pos = 0
        self._read_into = read_into
        self._patches = tuple(patches)
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("I/O operation on a closed reader")
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        start = self._pos
        got = self._read_into(start, view[:want])
        if got <= 0:
            raise OSError(
                f"the image's bytes end at {start}, before its recorded size {self._size} "
                "(the file was changed after it was processed)"
            )
        for offset, data in self._patches:
            lo, hi = max(offset, start), min(offset + len(data), start + got)
            if lo < hi:
                view[lo - start : hi - start] = data[lo - offset : hi - offset]
        self._pos = start + got
        return got

    def close(self) -> None:
        if not self.closed:
            super().close()
            if self._on_close is not None:
                self._on_close()
