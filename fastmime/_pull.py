"""The pull API: iterate over the parts of a body, and over each part's body chunks.

For code written around a reader (aiohttp's ``MultipartReader``, Werkzeug's ``MultipartDecoder``,
defnull's ``multipart``) rather than around handlers::

    for part in fastmime.iter_parts(chunks, content_type):
        if part.filename is None:
            print(part.name, part.text())
        else:
            for block in part:               # bytes, as they arrive
                out.write(block)

It is built on the push parser: a chunk of the body is fed only when the consumer asks for more than
what the last chunk gave, so at most one chunk's worth of data waits in memory, besides the small pieces
(under ``fastmime.COALESCE``) the parser gathers into one block. A part that is not read (or not read
to its end) is skipped when the next part is asked for: its remaining data is dropped as it is parsed,
never kept. Limits, errors and transfer decoding are the push API's
(:func:`fastmime.decode_parts` is applied); an error is raised from whichever call was reading when it
happened, and again from any later call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ._errors import MultipartError
from ._limits import Limits
from ._part import Part
from ._transfer import decode_parts

__all__ = ["StreamedPart", "AsyncStreamedPart", "iter_parts", "aiter_parts"]

_PART, _DATA, _END = 0, 1, 2


class _Sink:
    """The handler of one part: queues its events (data copied: the parser's views are short-lived)."""

    __slots__ = ("queue", "skipping")

    def __init__(self, queue: deque[tuple[Any, int, Any]]) -> None:
        self.queue = queue
        self.skipping = False

    def on_data(self, chunk: memoryview) -> None:
        if not self.skipping:
            self.queue.append((self, _DATA, bytes(chunk)))

    def on_end(self) -> None:
        self.queue.append((self, _END, None))

    def on_abort(self, error: BaseException) -> None:
        """Nothing to release; the error itself is raised to the consumer by the feed that failed."""


class _Events:
    """The parser's ``handler_for`` and the queue of what one feed produced."""

    def __init__(self, boundary: bytes, limits: Limits | None) -> None:
        from . import MultipartParser

        self.queue: deque[tuple[Any, int, Any]] = deque()
        self.parser = MultipartParser(boundary, decode_parts(self.handler_for), limits)
        self.error: BaseException | None = None
        self.finished = False

    def handler_for(self, part: Part) -> _Sink:
        sink = _Sink(self.queue)
        self.queue.append((sink, _PART, part))
        return sink

    def feed(self, chunk: bytes | None) -> None:
        """Feed a chunk, or close the parser at the end of the body (``None``)."""
        if chunk is None:
            self.parser.close()
            self.finished = True
        else:
            self.parser.feed(chunk)

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.parser.abort(error)  # no-op when the parser failed or finished
        self.queue.clear()


class _PartView:
    """What the pull API's parts say about themselves: the :class:`~fastmime.Part`'s attributes."""

    def __init__(self, part: Part, sink: _Sink) -> None:
        self.part = part
        self._sink = sink
        self._done = False

    name = property(lambda self: self.part.name, doc='The part\'s name (``""`` when it has none).')
    filename = property(lambda self: self.part.filename, doc="The client's filename, ``None`` for a field.")
    safe_filename = property(lambda self: self.part.safe_filename, doc="A harmless basename of filename.")
    content_type = property(lambda self: self.part.content_type, doc="The part's Content-Type as sent.")
    media_type = property(lambda self: self.part.media_type, doc="The Content-Type without parameters.")
    charset = property(lambda self: self.part.charset, doc="The Content-Type's charset parameter.")
    headers = property(lambda self: self.part.headers, doc="Every header line as ``(name, value)``.")
    index = property(lambda self: self.part.index, doc="The part's position in the body, from 0.")
    is_file = property(lambda self: self.part.is_file, doc="True when the part has a filename.")

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        return self.part.header(name)

    @property
    def done(self) -> bool:
        """True once the part's body has been read (or skipped) to its end."""
        return self._done

    def _text(self, data: bytes, charset: str | None) -> str:
        from ._urlencoded import _known_charset

        return data.decode(_known_charset(charset or self.part.charset, "utf-8"), "replace")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.part!r})"


class StreamedPart(_PartView):
    """One part from :func:`fastmime.iter_parts` / :func:`fastmime.wsgi.iter_parts`.

    Iterate over it for its body as ``bytes`` chunks (once); :meth:`read` and :meth:`text` give it
    whole (bounded by the limits), :meth:`skip` drops the rest.
    """

    def __init__(self, part: Part, sink: _Sink, pump: _Pump) -> None:
        super().__init__(part, sink)
        self._pump = pump

    def __iter__(self) -> Iterator[bytes]:
        while not self._done:
            kind, payload = self._pump.next_of(self._sink)
            if kind == _DATA:
                yield payload
            else:
                self._done = True

    def read(self) -> bytes:
        """The rest of the part's body."""
        return b"".join(self)

    def text(self, charset: str | None = None) -> str:
        """The rest of the body decoded: ``charset``, else the part's, else UTF-8 (bad bytes replaced)."""
        return self._text(self.read(), charset)

    def skip(self) -> None:
        """Drop the rest of the part's body without keeping it."""
        self._sink.skipping = True
        for _ in self:
            pass


class AsyncStreamedPart(_PartView):
    """One part from :func:`fastmime.aiter_parts` / :func:`fastmime.asgi.iter_parts`.

    ``async for chunk in part`` for its body; ``await part.read()``, ``await part.text()``,
    ``await part.skip()``.
    """

    def __init__(self, part: Part, sink: _Sink, pump: _AsyncPump) -> None:
        super().__init__(part, sink)
        self._pump = pump

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._done:
            kind, payload = await self._pump.next_of(self._sink)
            if kind == _DATA:
                yield payload
            else:
                self._done = True

    async def read(self) -> bytes:
        """The rest of the part's body."""
        return b"".join([chunk async for chunk in self])

    async def text(self, charset: str | None = None) -> str:
        """The rest of the body decoded: ``charset``, else the part's, else UTF-8 (bad bytes replaced)."""
        return self._text(await self.read(), charset)

    async def skip(self) -> None:
        """Drop the rest of the part's body without keeping it."""
        self._sink.skipping = True
        async for _ in self:
            pass


class _Pump:
    """Feeds the parser one chunk at a time, only when no event is waiting."""

    def __init__(self, chunks: Iterable[bytes], events: _Events) -> None:
        self.chunks = iter(chunks)
        self.events = events

    def next(self) -> tuple[Any, int, Any] | None:
        events = self.events
        if events.error is not None:
            raise events.error
        try:
            while not events.queue:
                if events.finished:
                    return None
                events.feed(next(self.chunks, None))
        except BaseException as error:
            events.fail(error)
            raise
        return events.queue.popleft()

    def next_of(self, sink: _Sink) -> tuple[int, Any]:
        event = self.next()
        assert event is not None and event[0] is sink, "a part's events come before the next part"
        return event[1], event[2]

    def close(self) -> None:
        if not self.events.finished:
            self.events.fail(MultipartError("the parts were not read to the end"))
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


class _AsyncPump:
    """:class:`_Pump` for an async iterable of chunks (parsing runs on the event loop: it only copies)."""

    def __init__(self, chunks: AsyncIterable[bytes], events: _Events) -> None:
        self.chunks = chunks.__aiter__()
        self.events = events

    async def next(self) -> tuple[Any, int, Any] | None:
        events = self.events
        if events.error is not None:
            raise events.error
        try:
            while not events.queue:
                if events.finished:
                    return None
                try:
                    chunk = await self.chunks.__anext__()
                except StopAsyncIteration:
                    events.feed(None)
                else:
                    events.feed(chunk)
        except BaseException as error:
            if isinstance(error, MultipartError) and error.offset is None:
                error.offset = events.parser.received
            events.fail(error)
            raise
        return events.queue.popleft()

    async def next_of(self, sink: _Sink) -> tuple[int, Any]:
        event = await self.next()
        assert event is not None and event[0] is sink, "a part's events come before the next part"
        return event[1], event[2]

    async def close(self) -> None:
        if not self.events.finished:
            self.events.fail(MultipartError("the parts were not read to the end"))
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _parts(pump: _Pump) -> Iterator[StreamedPart]:
    current: StreamedPart | None = None
    try:
        while True:
            if current is not None and not current.done:
                current.skip()
            event = pump.next()
            if event is None:
                return
            current = StreamedPart(event[2], event[0], pump)
            yield current
    finally:
        pump.close()


async def _aparts(pump: _AsyncPump) -> AsyncIterator[AsyncStreamedPart]:
    current: AsyncStreamedPart | None = None
    try:
        while True:
            if current is not None and not current.done:
                await current.skip()
            event = await pump.next()
            if event is None:
                return
            current = AsyncStreamedPart(event[2], event[0], pump)
            yield current
    finally:
        await pump.close()


def _boundary(content_type: str | bytes | None, limits: Limits | None) -> bytes:
    from ._adapter import prepare

    return prepare(content_type, None, limits)[0]


def iter_parts(
    chunks: bytes | Iterable[bytes], content_type: str | bytes | None, limits: Limits | None = None
) -> Iterator[StreamedPart]:
    """The parts of a multipart body given as bytes or an iterable of chunks, one at a time.

    The Content-Type is checked at once (:class:`~fastmime.NotMultipart`, boundary errors); the body
    is read as the parts are. See :mod:`fastmime.wsgi` for a WSGI request.
    """
    events = _Events(_boundary(content_type, limits), limits)
    if isinstance(chunks, (bytes, bytearray, memoryview)):
        chunks = [bytes(chunks)]
    return _parts(_Pump(chunks, events))


def aiter_parts(
    chunks: AsyncIterable[bytes], content_type: str | bytes | None, limits: Limits | None = None
) -> AsyncIterator[AsyncStreamedPart]:
    """:func:`iter_parts` for an async iterable of chunks (Starlette's ``request.stream()``)::

    async for part in fastmime.aiter_parts(request.stream(), request.headers["content-type"]):
        async for block in part: ...
    """
    events = _Events(_boundary(content_type, limits), limits)
    return _aparts(_AsyncPump(chunks, events))
