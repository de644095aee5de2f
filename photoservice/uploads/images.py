"""Pictures of an upload request: spooled as they arrive, processed only once the request is authorized.

Each picture part goes to an :class:`imgpipe.ImageHandler`, which spools and hashes it with bounded memory.
Its pipeline (decode, renditions) is submitted to the request's :class:`ProcessingGate`, which holds it
until the API has checked the request's credentials (:meth:`ProcessingGate.open`): nobody can make the
server decode images without valid credentials. uploadPhotos carries its credentials outside the body and
opens the gate before reading it, so each picture is processed as soon as its part ends; up.photos.upload
signs its arguments, which arrive with the image, and opens the gate once the signature, the session and
the call_id have passed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import fastmime
import imgpipe

__all__ = ["ImageWork", "ProcessingGate", "Pictures", "RENDITIONS"]

#: The renditions each API stores: uploadPhotos thumb/screen/full, up.photos.upload src_small/src/src_big.
RENDITIONS: dict[str, tuple[imgpipe.RenditionSpec, ...]] = {
    "yahoo": imgpipe.YAHOO_RENDITIONS,
    "platform": imgpipe.PLATFORM_RENDITIONS,
}
# After an image this large, freed memory is handed back to the system (malloc_trim).
_TRIM_FROM_PIXELS = 16_000_000


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc: nothing to tune
        return None


class ImageWork:
    """The process's image processing: ``workers`` threads, and a pixel budget every request shares.

    Decoding memory grows with pixels, so concurrent decodes wait for room in an :class:`imgpipe.PixelBudget`
    of ``max_pixels`` (an image larger than the budget runs alone), and after a large image the memory the
    decode freed is returned to the system (glibc's ``malloc_trim``; glibc is also limited to 2 arenas, so
    that freed memory is not kept per thread).
    """

    def __init__(self, workers: int, max_pixels: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photoservice-image")
        self.budget = imgpipe.PixelBudget(max_pixels)
        self._libc = _libc()
        if self._libc is not None:
            self._libc.mallopt(-8, 2)  # M_ARENA_MAX

    def run(self, job: Callable[[], imgpipe.ProcessedImage]) -> imgpipe.ProcessedImage:
        """Run one image job (in a worker), then give back what a large image left."""
        try:
            result = job()
        except BaseException:
            self.release_memory()
            raise
        if result.width * result.height >= _TRIM_FROM_PIXELS:
            self.release_memory()
        return result

    def release_memory(self) -> None:
        """Return freed heap memory to the system."""
        if self._libc is not None:
            self._libc.malloc_trim(0)

    def close(self) -> None:
        """Stop the workers (waiting for running jobs)."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """One image worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class ProcessingGate(Executor):
    """Holds a request's image jobs until :meth:`open` (the request is authorized), then hands them to the
    image workers; jobs submitted after :meth:`open` go to the workers at once. Never runs a job itself, so
    whichever thread ends a part (the event loop, for a small picture) is never blocked by a decode."""

    def __init__(self, work: ImageWork) -> None:
        self._work = work
        self._held: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._open = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Whether the request was authorized."""
        return self._open

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if not self._open:
                self._held.append((future, fn, args, kwargs))
                return future
        self._start(future, fn, args, kwargs)
        return future

    def open(self) -> None:
        """The request is authorized: hand what was held to the workers, in order."""
        with self._lock:
            self._open = True
            held, self._held = self._held, []
        for future, fn, args, kwargs in held:
            self._start(future, fn, args, kwargs)

    def _start(
        self, future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if not future.set_running_or_notify_cancel():
            return  # cancelled while held (the request was closed)

        def done(inner: Future[Any]) -> None:
            error = inner.exception()
            if error is None:
                future.set_result(inner.result())
            else:
                future.set_exception(error)

        self._work.executor.submit(self._work.run, lambda: fn(*args, **kwargs)).add_done_callback(done)


class Pictures:
    """The picture parts of one request, in order, with their handlers."""

    def __init__(self, api: str, limits: imgpipe.ImageLimits, work: ImageWork, strip_gps: bool = True) -> None:
        self.renditions = RENDITIONS[api]
        self.limits = limits
        self.strip_gps = strip_gps
        self.work = work
        self.gate = ProcessingGate(work)
        self.handlers: list[imgpipe.ImageHandler] = []
        self.part_indexes: list[int] = []

    def __len__(self) -> int:
        return len(self.handlers)

    def handler(self, part: fastmime.Part) -> imgpipe.ImageHandler:
        """A new handler for this picture part."""
        handler = imgpipe.ImageHandler(
            part,
            renditions=self.renditions,
            limits=self.limits,
            executor=self.gate,
            strip_gps=self.strip_gps,
            budget=self.work.budget,
        )
        self.handlers.append(handler)
        self.part_indexes.append(part.index)
        return handler

    def outcomes(self) -> Iterable[tuple[int, imgpipe.ProcessedImage | None, BaseException | None]]:
        """(part index, result, error) of each picture, waiting for its processing; call after the gate opened."""
        for index, handler in zip(self.part_indexes, self.handlers):
            if handler.future is None:
                yield index, None, imgpipe.ImageError("the picture part was not complete")
                continue
            try:
                yield index, handler.wait(), None
            except Exception as exc:  # noqa: BLE001 - an image's own verdict, reported per picture
                yield index, None, exc

    def close(self) -> None:
        """Release every spool (the request is over, whatever its outcome)."""
        for handler in self.handlers:
            try:
                handler.close()
            except Exception:  # noqa: BLE001 - cleanup must not hide the request's own outcome
                pass
