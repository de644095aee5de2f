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

import threading
from concurrent.futures import Executor, Future
from typing import Any, Callable, Iterable

import fastmime
import imgpipe

__all__ = ["ProcessingGate", "Pictures", "RENDITIONS"]

#: The renditions each API stores: uploadPhotos thumb/screen/full, up.photos.upload src_small/src/src_big.
RENDITIONS: dict[str, tuple[imgpipe.RenditionSpec, ...]] = {
    "yahoo": imgpipe.YAHOO_RENDITIONS,
    "platform": imgpipe.PLATFORM_RENDITIONS,
}


class ProcessingGate(Executor):
    """An executor that holds work until :meth:`open`, then runs it in the calling thread.

    Work submitted after :meth:`open` runs at once, in the submitting thread (the one feeding the parser).
    """

    def __init__(self) -> None:
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
        self._run(future, fn, args, kwargs)
        return future

    def open(self) -> None:
        """The request is authorized: run what was held, in order, in this thread."""
        with self._lock:
            self._open = True
            held, self._held = self._held, []
        for future, fn, args, kwargs in held:
            self._run(future, fn, args, kwargs)

    @staticmethod
    def _run(future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - the future carries it to the caller
            future.set_exception(exc)


class Pictures:
    """The picture parts of one request, in order, with their handlers."""

    def __init__(self, api: str, limits: imgpipe.ImageLimits, strip_gps: bool = True) -> None:
        self.renditions = RENDITIONS[api]
        self.limits = limits
        self.strip_gps = strip_gps
        self.gate = ProcessingGate()
        self.handlers: list[imgpipe.ImageHandler] = []
        self.part_indexes: list[int] = []

    def __len__(self) -> int:
        return len(self.handlers)

    def handler(self, part: fastmime.Part) -> imgpipe.ImageHandler:
        """A new handler for this picture part."""
        handler = imgpipe.ImageHandler(part, renditions=self.renditions, limits=self.limits, executor=self.gate,
                                       strip_gps=self.strip_gps)
        self.handlers.append(handler)
        self.part_indexes.append(part.index)
        return handler

    def outcomes(self) -> Iterable[tuple[int, imgpipe.ProcessedImage | None, BaseException | None]]:
        """(part index, result, error) of each picture; call after :meth:`ProcessingGate.open`."""
        for index, handler in zip(self.part_indexes, self.handlers):
            error = handler.error
            if error is None and handler.result is None:
                error = imgpipe.ImageError("the picture part was not complete")
            yield index, handler.result, error

    def close(self) -> None:
        """Release every spool (the request is over, whatever its outcome)."""
        for handler in self.handlers:
            try:
                handler.close()
            except Exception:  # noqa: BLE001 - cleanup must not hide the request's own outcome
                pass
