"""Ready-made part handlers.

A handler receives one part's body: ``on_data(chunk)`` for each piece (a memoryview valid only during
the call), then either ``on_end()`` or, exactly once, ``on_abort(error)``. Raising from ``on_data``
refuses the part: the parser stops and the handler gets ``on_abort`` with that exception.

``event_loop_safe``: a handler whose calls are quick and never wait (no file or network I/O, no lock,
no heavy work in ``on_end``; memory copies and hashing are fine) says so with a true
``event_loop_safe`` attribute, and :mod:`fastmime.asgi` then calls it on the event loop, without a
thread hand-off per chunk. Without it a handler is only ever called from a worker thread. The attribute
may be a property that changes (:class:`SpooledFileHandler` is safe until it nears its rollover to disk).
A ``handler_for`` may be marked the same way (:func:`event_loop_safe`); an unmarked one runs in a
worker thread. WSGI and the sans-IO parser ignore the attribute.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO, TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

__all__ = [
    "PartHandler",
    "event_loop_safe",
    "is_event_loop_safe",
    "ValueHandler",
    "SpooledFileHandler",
    "DiscardHandler",
    "HashingHandler",
    "ValueTooLarge",
    "ROLLOVER_MARGIN",
    "LOOP_REACH",
]

from ._dispatch import LOOP_SLICE, is_event_loop_safe
from ._errors import ValueTooLarge

# ValueHandler and DiscardHandler live beside the parser (one source, compiled with it when the extension
# is built): the parser serves them without a Python call per chunk and their methods cost no frame.
if TYPE_CHECKING:
    from ._parser import COALESCE, DiscardHandler, ValueHandler
else:
    try:
        from ._cparser import COALESCE, DiscardHandler, ValueHandler
    except ImportError:  # no compiled extension: the same classes, interpreted
        from ._parser import COALESCE, DiscardHandler, ValueHandler

_T = TypeVar("_T")


def event_loop_safe(obj: _T) -> _T:
    """Mark a handler class or a ``handler_for`` function as safe to call on the event loop.

    Use it as a decorator (or set ``event_loop_safe = True`` yourself). Only for code that returns
    quickly and never waits: see the module docs.
    """
    try:
        obj.event_loop_safe = True  # type: ignore[attr-defined]
    except AttributeError:
        raise TypeError(f"cannot mark {obj!r}: decorate the function or class it comes from") from None
    return obj


@runtime_checkable
class PartHandler(Protocol):
    """What a handler returned by ``handler_for(part)`` must offer."""

    def on_data(self, chunk: memoryview) -> None:
        """The next piece of the part's body: a view valid only during the call (copy what you keep).
        Raising refuses the part: the parser stops and this handler gets ``on_abort`` with the exception."""
        ...

    def on_end(self) -> None:
        """The part's body is complete."""
        ...

    def on_abort(self, error: BaseException) -> None:
        """The part will not end normally (malformed body, a limit, a client gone, ``abort()``): release
        what was kept. Called exactly once, instead of ``on_end``."""
        ...


#: A :class:`SpooledFileHandler` leaves the event loop for worker threads once it holds more than
#: ``max_memory`` minus this many bytes (a quarter of ``max_memory`` when that is less, but never less
#: than :data:`LOOP_REACH`), so that the write that rolls it over to disk (creating the file and writing
#: ``max_memory`` bytes: 1-4 ms for 1 MiB) comes from a worker, whatever size of chunk the server
#: hands over.
ROLLOVER_MARGIN = 256 * 1024
#: A bound on the bytes :mod:`fastmime.asgi` can hand a handler on the event loop between two looks at
#: its ``event_loop_safe``: one ``LOOP_SLICE`` fed, plus the small pieces (fewer than ``COALESCE``
#: bytes) the parser had gathered before it. A spool smaller than this is never called on the loop.
LOOP_REACH = LOOP_SLICE + COALESCE


class SpooledFileHandler:
    """Keeps the part in memory up to ``max_memory`` bytes, then in an anonymous temporary file
    (``max_memory=0``: on disk from the first byte).

    After ``on_end`` the file is rewound and readable as ``handler.file``; ``close()`` releases it. On
    abort the file is closed at once, so nothing is left on disk.
    """

    def __init__(self, max_memory: int = 1024 * 1024, dir: str | None = None) -> None:
        if max_memory < 0:
            raise ValueError(f"max_memory must be >= 0, not {max_memory}")
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=max_memory, dir=dir)
        if max_memory == 0:  # SpooledTemporaryFile reads 0 as "never roll over"; here it means "all on disk"
            self.file.rollover()
        self.max_memory = max_memory
        self.size = 0
        self.done = False
        self.error: BaseException | None = None

    def on_data(self, chunk: memoryview) -> None:
        """Write the piece to the spooled file."""
        self.file.write(chunk)
        self.size += len(chunk)

    def on_end(self) -> None:
        """Rewind the file for reading and mark it complete (``done``)."""
        self.file.seek(0)
        self.done = True

    def on_abort(self, error: BaseException) -> None:
        """Keep the ``error`` and close the file, which removes it."""
        self.error = error
        self.file.close()

    @property
    def in_memory(self) -> bool:
        """True while the data has not been rolled over to a file on disk."""
        return not getattr(self.file, "_rolled", True)

    @property
    def event_loop_safe(self) -> bool:
        """Safe on the event loop while in memory and not close to ``max_memory`` (:data:`ROLLOVER_MARGIN`):
        the write that moves the data to disk and every later one go to worker threads."""
        margin = max(LOOP_REACH, min(ROLLOVER_MARGIN, self.max_memory // 4))
        return self.in_memory and self.size + margin <= self.max_memory

    def close(self) -> None:
        """Close the file (a temporary file on disk is removed)."""
        self.file.close()


class HashingHandler:
    """Hashes the stream (SHA-256 and MD5 by default) and passes every call on to ``inner``, if any.

    After the end, ``sha256`` and ``md5`` (or ``hexdigest(name)``) give the digests in hex.
    """

    def __init__(self, inner: PartHandler | None = None, algorithms: tuple[str, ...] = ("sha256", "md5")) -> None:
        self.inner = inner
        self._hashes = {name: hashlib.new(name) for name in algorithms}
        self._updates = [h.update for h in self._hashes.values()]
        self.size = 0
        self.done = False
        self.error: BaseException | None = None

    def on_data(self, chunk: memoryview) -> None:
        """Hash the piece, then pass it to ``inner``."""
        for update in self._updates:
            update(chunk)
        self.size += len(chunk)
        if self.inner is not None:
            self.inner.on_data(chunk)

    def on_end(self) -> None:
        """Mark the part complete (``done``) and end ``inner``."""
        self.done = True
        if self.inner is not None:
            self.inner.on_end()

    def on_abort(self, error: BaseException) -> None:
        """Keep the ``error`` and abort ``inner``."""
        self.error = error
        if self.inner is not None:
            self.inner.on_abort(error)

    @property
    def event_loop_safe(self) -> bool:
        """Hashing is safe on the event loop; with an ``inner`` handler, only if that one is."""
        return self.inner is None or is_event_loop_safe(self.inner)

    def hexdigest(self, algorithm: str) -> str:
        """The digest in hex for one of the ``algorithms`` (of the bytes so far, before the end)."""
        return self._hashes[algorithm].hexdigest()

    @property
    def sha256(self) -> str:
        """The SHA-256 digest in hex."""
        return self.hexdigest("sha256")

    @property
    def md5(self) -> str:
        """The MD5 digest in hex."""
        return self.hexdigest("md5")
