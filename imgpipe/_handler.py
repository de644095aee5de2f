"""A fastmime part handler that spools an uploaded image and runs the pipeline on it.

The handler protocol (``on_data`` / ``on_end`` / ``on_abort``) is duck-typed: this module does not import
fastmime, so imgpipe works on its own.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future
from typing import IO, Any, Protocol

from ._budget import PixelBudget
from ._errors import FileTooLargeError, ImageError
from ._pipeline import (
    DEFAULT_LIMITS,
    YAHOO_RENDITIONS,
    ImageLimits,
    ProcessedImage,
    RenditionSpec,
    _check_specs,
    _process,
)
from ._source import Origin

__all__ = ["ImageHandler", "PartInfo"]

DEFAULT_SPOOL_THRESHOLD = 1024 * 1024
# fastmime.handlers.ROLLOVER_MARGIN's rule (imgpipe does not import fastmime): leave the event loop this
# far (or a quarter of the threshold, but never less than fastmime.handlers.LOOP_REACH: the 64 KiB
# fastmime.asgi feeds between two checks plus the 8 KiB its parser may have gathered) before the spool
# rolls over to disk.
_ROLLOVER_MARGIN = 256 * 1024
_LOOP_REACH = (64 + 8) * 1024


class PartInfo(Protocol):
    """What the handler may read from a fastmime ``Part`` (kept for the caller; never trusted)."""

    name: str
    filename: str | None
    content_type: str | None
    index: int


class ImageHandler:
    """Receives one multipart part holding an image, then produces a :class:`~imgpipe.ProcessedImage`.

    * ``on_data(chunk)`` copies the chunk into a spool -- memory up to ``spool_threshold`` bytes
      (1 MiB by default), then an anonymous temporary file in ``spool_dir`` -- and feeds a SHA-256.
      More than ``limits.max_bytes`` bytes raises :class:`~imgpipe.FileTooLargeError` at once (the parser
      then stops and calls ``on_abort``).
    * ``on_end()`` runs :func:`~imgpipe.process_image` on the spool file itself (never read back into
      one ``bytes``), inline, or -- when an ``executor`` is given -- submitted to it so that the parser's
      thread (an event loop) is not blocked. Image errors are not raised from ``on_end``: they are kept
      in :attr:`error` (and in the future).
    * ``on_abort(error)`` drops the spool; no file is left behind (the temporary file has no name on
      Linux and is closed at once elsewhere).

    :attr:`future` (a ``concurrent.futures.Future``, set by ``on_end``) completes with the result or
    the error; :meth:`wait` blocks for it; :attr:`result` / :attr:`error` are filled when it is done.

    The result's ``full`` original (a :class:`~imgpipe.Rendition` with ``encoded`` False) streams from
    the spool: it stays readable (:meth:`~imgpipe.Rendition.open`) until :meth:`close`. Close the
    handler (or use ``with handler:``) once the original is stored; it also releases the spool early
    when the request fails. A spool not closed is released when the handler and its result are
    garbage-collected.
    ``part`` (a fastmime ``Part`` or anything with ``name``, ``filename``, ``content_type``, ``index``)
    is only kept for the caller: the format is always taken from the bytes.
    """

    @property
    def event_loop_safe(self) -> bool:
        """fastmime.asgi may call it on the event loop while ``on_end`` only submits (an ``executor`` is
        set) and the spool is in memory, short of its rollover to disk by ``_ROLLOVER_MARGIN``: the
        write that creates the file and copies the spool to it comes from a worker thread."""
        if self.executor is None or self._file is not None or self.spool_threshold == 0:
            return False
        margin = max(_LOOP_REACH, min(_ROLLOVER_MARGIN, self.spool_threshold // 4))
        return self.size + margin <= self.spool_threshold

    def __init__(
        self,
        part: PartInfo | Any | None = None,
        *,
        renditions: Iterable[RenditionSpec] = YAHOO_RENDITIONS,
        limits: ImageLimits | None = None,
        strip_gps: bool = False,
        spool_threshold: int = DEFAULT_SPOOL_THRESHOLD,
        spool_dir: str | None = None,
        executor: Executor | None = None,
        budget: PixelBudget | None = None,
    ) -> None:
        if spool_threshold < 0:
            raise ValueError("spool_threshold must be >= 0")
        self.part = part
        self.renditions = _check_specs(renditions)
        self.limits = DEFAULT_LIMITS if limits is None else limits
        self.strip_gps = strip_gps
        self.spool_threshold = spool_threshold
        self.spool_dir = spool_dir
        self.executor = executor
        self.budget = budget
        #: Bytes received so far.
        self.size = 0
        #: Hex SHA-256 of the part, set by ``on_end``.
        self.sha256: str | None = None
        #: The processed image once the pipeline succeeded.
        self.result: ProcessedImage | None = None
        #: The exception that ended the part (abort, limit, image error), if any.
        self.error: BaseException | None = None
        #: Completes with the result (or the error); ``None`` until ``on_end``/``on_abort``.
        self.future: Future[ProcessedImage] | None = None
        self._hash = hashlib.sha256()
        self._memory: io.BytesIO | None = io.BytesIO()
        self._file: IO[bytes] | None = None
        self._state = "receiving"  # -> "processing" -> "done" | "aborted"
        self._lock = threading.Lock()
        self._origin: Origin | None = None  # the spool as the pipeline reads it, from on_end on
        self._close_requested = False

    # -- the handler protocol -------------------------------------------------------------------------

    def on_data(self, chunk: memoryview) -> None:
        """Spool and hash one piece of the body (copied: the view is only valid during the call)."""
        if self._state != "receiving":
            raise RuntimeError(f"on_data() after the part was {self._state}")
        n = len(chunk)
        total = self.size + n
        max_bytes = self.limits.max_bytes
        if max_bytes is not None and total > max_bytes:
            self._drop_spool()
            raise FileTooLargeError(f"the image has more than {max_bytes} bytes", limit=max_bytes, actual=total)
        self.size = total
        self._hash.update(chunk)
        if self._file is not None:
            self._file.write(chunk)
            return
        memory = self._memory
        assert memory is not None
        if total > self.spool_threshold:
            f = tempfile.TemporaryFile(dir=self.spool_dir)
            try:
                f.write(memory.getbuffer())
                f.write(chunk)
            except BaseException:
                f.close()
                raise
            self._file, self._memory = f, None
            return
        memory.write(chunk)

    def on_end(self) -> None:
        """The part is complete: run the pipeline (inline, or on the executor)."""
        if self._state != "receiving":
            return
        self._state = "processing"
        self.sha256 = self._hash.hexdigest()
        future: Future[ProcessedImage]
        if self.executor is not None:
            try:
                future = self.executor.submit(self._run)
            except BaseException as exc:  # e.g. the executor was shut down: do not leak the spool
                self._drop_spool()
                self.error = exc
                self._state = "done"
                failed: Future[ProcessedImage] = Future()
                failed.set_running_or_notify_cancel()
                failed.set_exception(exc)
                self.future = failed
                raise
        else:
            future = Future()
            future.set_running_or_notify_cancel()
            try:
                future.set_result(self._run())
            except Exception as exc:  # noqa: BLE001 - kept in the future, raised by wait()
                future.set_exception(exc)
        self.future = future
        future.add_done_callback(self._finished)

    def on_abort(self, error: BaseException) -> None:
        """The part did not end normally: drop everything received."""
        if self._state != "receiving":
            return
        self._state = "aborted"
        self._drop_spool()
        self.error = error
        future: Future[ProcessedImage] = Future()
        future.set_running_or_notify_cancel()
        future.set_exception(error)
        self.future = future

    # -- results --------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once there is a result or an error."""
        return self.future is not None and self.future.done()

    def wait(self, timeout: float | None = None) -> ProcessedImage:
        """Block until processing finished; return the result or raise its error."""
        if self.future is None:
            raise RuntimeError("the part has not ended yet")
        return self.future.result(timeout)

    def close(self) -> None:
        """Release the spool (idempotent); the result's original can no longer be read afterwards.

        A part still receiving counts as aborted; a pipeline queued on the executor and not started yet
        is cancelled; one running releases the spool when it finishes."""
        if self._state == "receiving":
            self.on_abort(ImageError("the image handler was closed before the part ended"))
            return
        with self._lock:
            self._close_requested = True
            running = self._state == "processing"
        future = self.future
        if future is not None and future.cancel():
            self._drop_spool()
        elif not running:
            self._drop_spool()

    def __enter__(self) -> ImageHandler:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------

    def _spool_origin(self) -> Origin:
        """The spool as an :class:`Origin` the pipeline and the result's original read from."""
        with self._lock:
            if self._origin is not None:
                return self._origin
            f, memory = self._file, self._memory
            if f is not None:
                origin = Origin.from_file(f, close=f.close)
            elif memory is not None:
                origin = Origin.from_bytes(memory.getvalue())
                self._memory = None
            else:
                raise ImageError("the image handler's spool was released")
            self._origin = origin
            return origin

    def _run(self) -> ProcessedImage:
        return _process(self._spool_origin(), self.renditions, self.limits, self.strip_gps, self.sha256, self.budget)

    def _finished(self, future: Future[ProcessedImage]) -> None:
        exc: BaseException | None
        if future.cancelled():
            exc = ImageError("the image handler was closed before the image was processed")
        else:
            exc = future.exception()
        if exc is None:
            self.result = future.result()
        else:
            self.error = exc
        with self._lock:
            self._state = "done"
            release = self._close_requested or exc is not None
        if release:  # a failed image keeps nothing; a closed handler wanted its spool gone
            self._drop_spool()

    def _drop_spool(self) -> None:
        with self._lock:
            f, self._file, self._memory = self._file, None, None
            origin, self._origin = self._origin, None
        if origin is not None:
            origin.close()  # closes the spool file too
        elif f is not None:
            f.close()

    def __repr__(self) -> str:
        name = getattr(self.part, "filename", None)
        return f"<ImageHandler {name!r} {self._state} {self.size} bytes>"
