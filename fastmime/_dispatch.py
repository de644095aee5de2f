"""Where :mod:`fastmime.asgi` runs each feed: on the event loop, or in a worker thread.

A handler (or a ``handler_for``) that says it is cheap, with a true ``event_loop_safe`` attribute, is
called on the event loop: no thread hand-off per chunk. Any other handler is called only from a worker
thread. The parser is fed on the loop while the handler of the latest part is safe there, else in a
thread; a feed on the loop that reaches a new part whose handler is not safe (or whose ``handler_for``
is not) cannot switch threads half-way, so that part gets a :class:`_Deferred` stand-in, which keeps
what the parser gives it (a copy of the rest of the chunk at most), and the adapter replays it to the
real handler in a worker thread before anything else is read. Each handler therefore sees the same
calls in the same order, wherever they run; only the thread differs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: handlers (imported by the parser) imports this module
    from ._part import Part

__all__ = [
    "is_event_loop_safe",
    "LOOP_SLICE",
    "MAX_WORKERS",
    "default_executor",
    "run_in_thread",
    "Dispatcher",
    "ThreadFeeder",
]

#: A chunk fed on the event loop goes to the parser in pieces of at most this many bytes, the handler's
#: ``event_loop_safe`` checked again before each (servers hand over 64 KiB to 320 KiB at a time).
#: Re-exported as ``fastmime.asgi.LOOP_SLICE``; here because handlers' safety rules depend on it.
LOOP_SLICE: int = 64 * 1024


def is_event_loop_safe(obj: object) -> bool:
    """True when ``obj`` (a handler or a ``handler_for``) declares ``event_loop_safe = True``."""
    return getattr(obj, "event_loop_safe", False) is True


#: Threads of fastmime's worker pool, shared by every request that does not bring its own executor.
MAX_WORKERS: int = min(32, (os.cpu_count() or 1) + 4)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def default_executor() -> ThreadPoolExecutor:
    """fastmime's worker pool (``MAX_WORKERS`` threads named ``fastmime_N``), made on first use."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="fastmime")
    return _executor


async def run_in_thread(fn: Callable[..., Any], *args: Any, executor: Executor | None = None) -> Any:
    """``fn(*args)`` in a worker thread: ``executor``, else fastmime's pool; trio's pool under trio.

    If the caller is cancelled meanwhile, a call not started yet never runs and one already running is
    waited for (however often the caller is cancelled again) before the cancellation propagates, so
    nothing the call touches is used by two threads at once.
    """
    import asyncio  # here, not at the top: importing fastmime must not load asyncio (~10 MiB of RSS)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio
        try:
            import trio
        except ImportError:
            raise RuntimeError("fastmime runs under asyncio or trio") from None
        # trio's bounded thread pool; not abandoned on cancel: the cancellation waits for the call
        return await trio.to_thread.run_sync(fn, *args)
    future = (executor or default_executor()).submit(fn, *args)
    try:
        return await asyncio.wrap_future(future, loop=loop)
    except asyncio.CancelledError:
        # The cancel reached ``future``: a call still queued never starts; a running one is waited for.
        while not future.done():
            try:
                await asyncio.wrap_future(future, loop=loop)
            except BaseException:  # noqa: BLE001 - the first cancellation is what propagates
                pass
        raise


_END = object()


class _Aborted:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Deferred:
    """Stands in for a part's handler until it is replayed in a worker thread; then passes calls on."""

    __slots__ = ("part", "handler", "_events", "_live", "_over")

    def __init__(self, part: Part, handler: Any) -> None:
        self.part = part
        self.handler = handler  # None while handler_for itself has not run yet
        self._events: list[Any] = []
        self._live = False  # replayed, and the part still open: calls go straight to the handler
        self._over = False  # ended or aborted: nothing more goes to the handler

    @property
    def event_loop_safe(self) -> bool:
        return self._live and is_event_loop_safe(self.handler)

    def on_data(self, chunk: memoryview) -> None:
        if self._live:
            self.handler.on_data(chunk)
        else:
            self._events.append(bytes(chunk))  # the view is only valid during this call

    def on_end(self) -> None:
        if self._live:
            self.handler.on_end()
        else:
            self._events.append(_END)

    def on_abort(self, error: BaseException) -> None:
        if self._live:
            self.handler.on_abort(error)
        elif not self._over:
            self._events.append(_Aborted(error))

    def replay(self, handler_for: Callable[[Part], Any]) -> None:
        """Make the handler if needed and give it every call kept so far, in order (in a worker thread)."""
        events, self._events = self._events, []
        if self.handler is None:
            try:
                self.handler = handler_for(self.part)
            except BaseException:
                self._over = True
                raise
        handler = self.handler
        for event in events:
            if event is _END:
                self._over = True
                try:
                    handler.on_end()
                except BaseException as error:
                    handler.on_abort(error)  # what the parser does when on_end raises
                    raise
                return
            if isinstance(event, _Aborted):
                self._over = True
                handler.on_abort(event.error)
                return
            try:
                handler.on_data(memoryview(event))
            except BaseException as error:
                self._over = True
                handler.on_abort(error)  # what the parser does when on_data raises
                raise
        self._live = True

    def discard(self) -> None:
        """An earlier part failed during the replay: this one never starts."""
        # Only the first deferred part of a feed can have a handler already (see Dispatcher.handler_for),
        # and it is replayed before any other: a discarded part never has one.
        self._over = True
        self._events = []


class Dispatcher:
    """Wraps one request's ``handler_for``; says where the next feed may run; replays deferred parts."""

    __slots__ = ("_handler_for", "_chooser_safe", "on_loop", "_latest", "_deferred")

    def __init__(self, handler_for: Callable[[Part], Any]) -> None:
        self._handler_for = handler_for
        self._chooser_safe = is_event_loop_safe(handler_for)
        #: Set by the adapter while it feeds the parser on the event loop thread.
        self.on_loop = False
        self._latest: Any = None
        self._deferred: list[_Deferred] = []

    def handler_for(self, part: Part) -> Any:
        """What the parser calls: the real handler, or a stand-in when the real one may not run here."""
        handler: Any
        if not self.on_loop:
            handler = self._handler_for(part)
        elif self._deferred or not self._chooser_safe:
            # Once a part of this feed is deferred, every later one is too: the replay keeps the order.
            handler = _Deferred(part, None)
            self._deferred.append(handler)
        else:
            handler = self._handler_for(part)
            if not is_event_loop_safe(handler):
                handler = _Deferred(part, handler)
                self._deferred.append(handler)
        self._latest = handler
        return handler

    def loop_may_feed(self) -> bool:
        """True when the next feed may run on the event loop (the latest part's handler is safe there)."""
        latest = self._latest
        return latest is None or is_event_loop_safe(latest)

    @property
    def deferred(self) -> bool:
        """True when a feed on the loop left parts to :meth:`replay`."""
        return bool(self._deferred)

    def replay(self) -> None:
        """Replay every deferred part in order (call it from a worker thread, right after the feed).

        If a handler (or ``handler_for``) raises, the parts after it never start and the error propagates.
        Only the first deferred part can have a handler already: later ones get theirs here, in order.
        """
        deferred, self._deferred = self._deferred, []
        for i, proxy in enumerate(deferred):
            try:
                proxy.replay(self._handler_for)
            except BaseException:
                for later in deferred[i + 1 :]:
                    later.discard()
                raise


class ThreadFeeder:
    """Feeds one request's parser in worker threads, one call at a time, in order, batching what queues up.

    ``put(chunk)`` (on the event loop) queues a chunk and, when no worker is busy with this request,
    submits one; that worker feeds every chunk queued by then as one batch, and the chunks that arrive
    meanwhile make the next batch (submitted anew, so requests share the pool's threads fairly). A busy
    handler therefore costs one hand-off per batch instead of one per chunk, and while it works the loop
    goes on reading
    (up to ``read_ahead`` bytes: beyond that ``put`` waits, which is the back-pressure). The loop is
    woken from a worker only when it waits (room, the end, or an error): no per-chunk wake-up.

    """

    __slots__ = (
        "_loop",
        "_executor",
        "_feed",
        "_read_ahead",
        "_lock",
        "_queued",
        "_queued_bytes",
        "_running",
        "_stopped",
        "_error",
        "_waiter",
        "_waiting_for_room",
    )

    def __init__(self, loop: Any, executor: Any, feed: Callable[[bytes], None], read_ahead: int) -> None:
        self._loop = loop
        self._executor = executor
        self._feed = feed
        self._read_ahead = read_ahead
        self._lock = threading.Lock()
        self._queued: list[bytes] = []
        self._queued_bytes = 0
        self._running = False  # a worker owns the parser
        self._stopped = False  # no more feeds: the request failed or was cancelled
        self._error: BaseException | None = None
        self._waiter: Any = None  # an asyncio future the loop awaits, completed from the worker
        self._waiting_for_room = False

    @property
    def idle(self) -> bool:
        """No worker owns the parser and nothing is queued: the loop may use the parser itself."""
        return not self._running and not self._queued

    async def put(self, chunk: bytes) -> None:
        """Queue ``chunk`` for a worker; wait while ``read_ahead`` bytes are already queued."""
        self._queue(chunk)
        while True:
            with self._lock:
                if self._error is not None:
                    raise self._error
                if self._queued_bytes < self._read_ahead or not self._running:
                    return
                self._waiting_for_room = True
                waiter = self._waiter = self._loop.create_future()
            await waiter

    async def drain(self) -> None:
        """Wait until every queued chunk was fed; raise what a feed raised."""
        while True:
            with self._lock:
                if self._error is not None:
                    raise self._error
                if not self._running:
                    return
                self._waiting_for_room = False
                waiter = self._waiter = self._loop.create_future()
            await waiter

    async def stop(self) -> None:
        """Drop what is queued and wait for the feed in progress, if any (however often cancelled)."""
        with self._lock:
            self._stopped = True
            self._queued = []
            self._queued_bytes = 0
        while True:
            with self._lock:
                if not self._running:
                    return
                self._waiting_for_room = False
                waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            except BaseException:  # noqa: BLE001 - the caller's error is what propagates
                pass

    def _queue(self, chunk: bytes) -> None:
        with self._lock:
            if self._error is not None:
                raise self._error
            self._queued.append(chunk)
            self._queued_bytes += len(chunk)
            start = not self._running
            if start:
                self._running = True
        if start:
            self._submit()
            if self._error is not None:
                raise self._error

    def _submit(self) -> None:
        try:
            self._executor.submit(self._work)
        except BaseException as error:  # noqa: BLE001 - e.g. the executor was shut down: the loop raises it
            with self._lock:
                self._running = False
                self._error = error
                wake = self._waiter is not None
            if wake:
                self._wake()

    def _work(self) -> None:
        """In a worker thread: feed what is queued, as one batch; then give the thread back.

        When more arrived meanwhile, the next batch is submitted anew rather than fed in a loop here, so
        that a request whose chunks keep coming never holds a pool thread for its whole upload: other
        requests' batches (and anything else in the pool) take turns.
        """
        with self._lock:
            batch = self._queued
            stopped = self._stopped
            self._queued = []
            self._queued_bytes = 0
            wake = self._waiting_for_room and self._waiter is not None
        if wake:
            self._wake()
        if batch and not stopped:
            try:
                for chunk in batch:
                    self._feed(chunk)
            except BaseException as error:  # noqa: BLE001 - handed to the loop
                with self._lock:
                    self._error = error
                    self._running = False
                    self._queued = []
                    self._queued_bytes = 0
                    wake = self._waiter is not None
                if wake:
                    self._wake()
                return
        with self._lock:
            more = bool(self._queued) and not self._stopped
            if not more:
                self._running = False
                wake = self._waiter is not None
        if more:
            self._submit()  # to the back of the pool's queue
        elif wake:
            self._wake()

    def _wake(self) -> None:
        with self._lock:
            waiter, self._waiter = self._waiter, None
            self._waiting_for_room = False
        if waiter is not None:
            self._loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: Any) -> None:
    if not waiter.done():
        waiter.set_result(None)
