"""fastmime.asgi against scripted receive() callables: disconnects, threads, back-pressure, cancellation."""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import pytest

import fastmime
import fastmime.asgi
from fastmime.handlers import event_loop_safe

from ._util import BOUNDARY as _BOUNDARY
from ._util import CONTENT_TYPE, Recorded, Recorder, body

BOUNDARY = _BOUNDARY.encode()

BIG = bytes(range(256)) * 1200


def scope(content_type: str | None = CONTENT_TYPE, content_length: int | None = None) -> dict[str, Any]:
    headers = []
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    return {"type": "http", "method": "POST", "headers": headers}


class Script:
    """A receive() that hands out ``messages`` in order and counts the calls."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = list(messages)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if not self.messages:
            raise AssertionError("receive() called after the last message")
        return self.messages.pop(0)


def chunked(data: bytes, size: int, *, disconnect_after: int | None = None) -> list[dict[str, Any]]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": p, "more_body": True} for p in pieces]
    if disconnect_after is not None:
        return messages[:disconnect_after] + [{"type": "http.disconnect"}]
    messages[-1]["more_body"] = False
    return messages


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_stream_request_in_worker_threads() -> None:
    data = body(("title", None, b"hello"), ("photo", "a.jpg", BIG), (None, "nameless.jpg", b"xyz"))
    rec = Recorder()
    receive = Script(chunked(data, 7000))
    run(fastmime.asgi.stream_request(scope(content_length=len(data)), receive, rec))
    assert rec.result() == [
        ("title", None, b"hello", 1, 0),
        ("photo", "a.jpg", BIG, 1, 0),
        ("", "nameless.jpg", b"xyz", 1, 0),
    ]
    threads = set().union(*(r.threads for r in rec.parts))
    assert threads and all(name.startswith("fastmime") for name in threads)
    assert receive.messages == []


def test_empty_and_odd_messages() -> None:
    data = body(("a", None, b"1"))
    messages = [
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "more_body": True},
        {"type": "http.request", "body": data[:5], "more_body": True},
        {"type": "http.request", "body": data[5:]},
    ]
    rec = Recorder()
    run(fastmime.asgi.stream_request(scope(), Script(messages), rec))
    assert rec.result() == [("a", None, b"1", 1, 0)]


def test_disconnect_aborts_open_handler_and_raises() -> None:
    data = body(("a", None, b"1"), ("photo", "a.jpg", BIG))
    rec = Recorder()
    with pytest.raises(fastmime.ClientDisconnected) as info:
        receive = Script(chunked(data, 4096, disconnect_after=10))
        run(fastmime.asgi.stream_request(scope(content_length=len(data)), receive, rec))
    assert info.value.offset == 10 * 4096
    assert [(r.ended, len(r.aborted)) for r in rec.parts] == [(1, 0), (0, 1)]
    assert isinstance(rec.parts[1].aborted[0], fastmime.ClientDisconnected)


def test_body_shorter_than_content_length() -> None:
    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()
    with pytest.raises(fastmime.ClientDisconnected):
        run(fastmime.asgi.stream_request(scope(content_length=len(data) + 10), Script(chunked(data, 50000)), rec))
    assert rec.parts[0].ended == 1  # the body was complete; only the length lied


def test_incomplete_body() -> None:
    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()
    with pytest.raises(fastmime.IncompleteBody):
        run(fastmime.asgi.stream_request(scope(), Script(chunked(data[:-50], 50000)), rec))
    assert len(rec.parts[0].aborted) == 1


@pytest.mark.parametrize(
    "ctype, length, error",
    [
        (None, None, fastmime.NotMultipart),
        ("text/plain", None, fastmime.NotMultipart),
        ("multipart/form-data", None, fastmime.MissingBoundary),
        (CONTENT_TYPE, 10**12, fastmime.BodyTooLarge),
    ],
)
def test_refused_before_receive(ctype: str | None, length: int | None, error: type[Exception]) -> None:
    receive = Script([])
    with pytest.raises(error):
        run(fastmime.asgi.stream_request(scope(ctype, length), receive, Recorder()))
    assert receive.calls == 0


def test_not_http_scope() -> None:
    with pytest.raises(ValueError):
        run(fastmime.asgi.stream_request({"type": "websocket"}, Script([]), Recorder()))


def test_limit_during_stream() -> None:
    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()
    with pytest.raises(fastmime.FileTooLarge):
        run(
            fastmime.asgi.stream_request(
                scope(), Script(chunked(data, 10000)), rec, limits=fastmime.Limits(max_file_size=50_000)
            )
        )
    assert len(rec.parts[0].aborted) == 1


def test_progress_on_the_loop() -> None:
    data = body(("photo", "a.jpg", BIG))
    seen: list[tuple[int, int | None, str]] = []

    def progress(received: int, expected: int | None) -> None:
        seen.append((received, expected, threading.current_thread().name))

    run(
        fastmime.asgi.stream_request(
            scope(content_length=len(data)), Script(chunked(data, 65536)), Recorder(), progress=progress
        )
    )
    assert [s[:2] for s in seen][-1] == (len(data), len(data))
    assert len(seen) == -(-len(data) // 65536)
    assert {s[2] for s in seen} == {threading.main_thread().name}


class SlowHandler:
    """Blocks in its ``block_at``-th on_data call until released; records what receive() did meanwhile."""

    def __init__(self, receive: Script, block_at: int = 1) -> None:
        self.receive = receive
        self.block_at = block_at
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls_seen: list[int] = []
        self.ended = False

    def on_data(self, chunk: memoryview) -> None:
        self.calls_seen.append(self.receive.calls)
        if len(self.calls_seen) >= self.block_at:
            self.entered.set()
            assert self.release.wait(10)

    def on_end(self) -> None:
        self.ended = True

    def on_abort(self, error: BaseException) -> None:
        pass


def test_back_pressure_and_a_free_event_loop() -> None:
    """While a handler blocks in a worker, the loop keeps running and reads at most READ_AHEAD bytes ahead."""
    data = body(("photo", "a.jpg", BIG * 4))
    size = 20000
    receive = Script(chunked(data, size))

    async def main() -> None:
        handler = SlowHandler(receive, block_at=3)  # the first chunk is replayed: block in a later feed
        task = asyncio.create_task(fastmime.asgi.stream_request(scope(), receive, lambda part: handler))
        ticks = 0
        while not handler.entered.is_set():
            await asyncio.sleep(0.001)
        for _ in range(20):  # the loop is free: these run while the handler blocks
            await asyncio.sleep(0.001)
            ticks += 1
        calls = receive.calls
        # the chunk being fed, plus at most READ_AHEAD bytes queued behind it (the last one may cross it)
        blocked_at = handler.calls_seen[-1]
        assert blocked_at < calls <= blocked_at + fastmime.asgi.READ_AHEAD // size + 1
        await asyncio.sleep(0.02)
        assert receive.calls == calls  # back-pressure: nothing more was read
        assert receive.messages  # and the body was not read whole
        handler.release.set()
        await task
        assert ticks == 20 and handler.ended

    run(main())


def test_chunks_queued_behind_a_busy_handler_are_fed_in_one_hand_off() -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = body(("photo", "a.jpg", BIG * 4))
    size = 20000
    receive = Script(chunked(data, size))
    submits = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submits.append(fn)
            return super().submit(fn, *args, **kwargs)

    async def main(pool: Executor) -> None:
        handler = SlowHandler(receive, block_at=3)
        task = asyncio.create_task(fastmime.asgi.stream_request(scope(), receive, lambda part: handler, executor=pool))
        while not handler.entered.is_set():
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.02)  # the read-ahead fills up
        handler.release.set()
        await task

    with Counting(2) as pool:
        run(main(pool))
    chunks = -(-len(data) // size)
    queued = fastmime.asgi.READ_AHEAD // size
    assert len(submits) <= chunks - queued + 2  # the replay of the first chunk, then batches


@pytest.mark.parametrize("block_at", [1, 3])  # in the replay of the first chunk, in a batch of later ones
def test_cancel_waits_for_the_running_feed_then_aborts(block_at: int) -> None:
    data = body(("photo", "a.jpg", BIG * 4))
    receive = Script(chunked(data, 20000))
    aborted: list[BaseException] = []
    state = {"in_feed": False, "abort_during_feed": False}

    class Handler(SlowHandler):
        def on_data(self, chunk: memoryview) -> None:
            state["in_feed"] = True
            super().on_data(chunk)
            state["in_feed"] = False

        def on_abort(self, error: BaseException) -> None:
            state["abort_during_feed"] = state["in_feed"]
            aborted.append(error)

    async def main() -> None:
        handler = Handler(receive, block_at)
        task = asyncio.create_task(fastmime.asgi.stream_request(scope(), receive, lambda part: handler))
        while not handler.entered.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        await asyncio.sleep(0.01)
        assert not task.done()  # waiting for the feed in the thread
        handler.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert len(aborted) == 1 and isinstance(aborted[0], asyncio.CancelledError)
    assert state["abort_during_feed"] is False


def test_own_executor() -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()
    with ThreadPoolExecutor(1, thread_name_prefix="mine") as pool:
        run(fastmime.asgi.stream_request(scope(), Script(chunked(data, 30000)), rec, executor=pool))
    assert all(name.startswith("mine") for name in rec.parts[0].threads)


def test_parse_form_and_cleanup_on_disconnect() -> None:
    data = body(("title", None, "héllo".encode()), ("photo", "a.jpg", BIG), (None, "n.jpg", b"xyz"))
    form = run(fastmime.asgi.parse_form(scope(), Script(chunked(data, 30000)), spool_threshold=1000))
    with form:
        assert form.fields["title"] == "héllo"
        assert form.files["photo"].read() == BIG
        assert form.files[""].filename == "n.jpg"
    files = [upload.file for _, upload in form.files.multi_items()]
    assert all(f.closed for f in files)


def test_parse_form_disconnect_releases_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastmime._form as form_module

    made: list[Any] = []
    original = form_module.SpooledFileHandler

    class Tracked(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(form_module, "SpooledFileHandler", Tracked)
    data = body(("a", "one.bin", BIG), ("b", "two.bin", BIG))
    with pytest.raises(fastmime.ClientDisconnected):
        run(fastmime.asgi.parse_form(scope(), Script(chunked(data, 30000, disconnect_after=15)), spool_threshold=10))
    # chunks read ahead of the worker but not yet fed are dropped: the second file may not have started
    assert made and all(h.file.closed for h in made)


def test_stream_body_from_async_iterable() -> None:
    data = body(("photo", "a.jpg", BIG))

    async def chunks() -> Any:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    rec = Recorder()
    run(fastmime.asgi.stream_body(chunks(), CONTENT_TYPE, rec, content_length=len(data)))
    assert rec.result() == [("photo", "a.jpg", BIG, 1, 0)]


def test_runs_under_trio_without_anyio(monkeypatch: pytest.MonkeyPatch) -> None:
    import trio  # installed with selenium

    monkeypatch.setitem(sys.modules, "anyio", None)  # import anyio would fail: fastmime.asgi does not need it
    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()

    async def main(receive: Callable[[], Any]) -> None:
        await fastmime.asgi.stream_request(scope(), receive, rec)

    trio.run(main, Script(chunked(data, 30000)))
    assert rec.result() == [("photo", "a.jpg", BIG, 1, 0)]
    assert all(
        not name.startswith("fastmime") and name != threading.main_thread().name for name in rec.parts[0].threads
    )


# -- where handlers run: event_loop_safe ------------------------------------------------------------

MAIN = threading.main_thread().name


class SafeRecorded(Recorded):
    event_loop_safe = True

    def on_end(self) -> None:
        self.threads.add(threading.current_thread().name)
        super().on_end()


class Chooser(Recorder):
    """A handler_for making safe or unsafe handlers by part name, recording the thread of each call."""

    def __init__(self, unsafe: tuple[str, ...] = (), fail_on: str | None = None) -> None:
        super().__init__()
        self.unsafe = unsafe
        self.fail_on = fail_on
        self.calls: list[tuple[str, str]] = []

    def __call__(self, part: fastmime.Part) -> Recorded:
        self.calls.append((part.name, threading.current_thread().name))
        if part.name == self.fail_on:
            raise fastmime.MultipartError(f"refused {part.name}")
        rec = Recorded(part) if part.name in self.unsafe else SafeRecorded(part)
        self.parts.append(rec)
        return rec


FIELDS_AND_PHOTO = body(
    ("title", None, b"hello"), ("tags", None, b"a b"), ("photo", "a.jpg", BIG), ("after", None, b"z")
)
EXPECTED = [
    ("title", None, b"hello", 1, 0),
    ("tags", None, b"a b", 1, 0),
    ("photo", "a.jpg", BIG, 1, 0),
    ("after", None, b"z", 1, 0),
]


@pytest.mark.parametrize("size", [7, 1000, 65536, len(FIELDS_AND_PHOTO)])
def test_safe_handlers_and_chooser_run_on_the_loop(size: int) -> None:
    chooser = Chooser()
    submits: list[Any] = []

    class NoThreads(Executor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submits.append(fn)
            raise AssertionError("nothing may go to a thread")

    run(
        fastmime.asgi.stream_request(
            scope(), Script(chunked(FIELDS_AND_PHOTO, size)), event_loop_safe(chooser), executor=NoThreads()
        )
    )
    assert chooser.result() == EXPECTED
    assert {t for r in chooser.parts for t in r.threads} == {MAIN} and {t for _, t in chooser.calls} == {MAIN}
    assert submits == []


@pytest.mark.parametrize("size", [7, 1000, 65536, len(FIELDS_AND_PHOTO)])
def test_an_unmarked_chooser_runs_in_a_worker_and_its_safe_handlers_on_the_loop(size: int) -> None:
    chooser = Chooser()
    run(fastmime.asgi.stream_request(scope(), Script(chunked(FIELDS_AND_PHOTO, size)), chooser))
    assert chooser.result() == EXPECTED
    assert all(t.startswith("fastmime") for _, t in chooser.calls)
    # the photo's chunks after the one it started in are fed on the loop
    if size < len(BIG):
        assert MAIN in chooser.parts[2].threads


@pytest.mark.parametrize("size", [7, 1000, 65536, len(FIELDS_AND_PHOTO)])
def test_an_unsafe_handler_never_runs_on_the_loop(size: int) -> None:
    chooser = Chooser(unsafe=("photo",))
    run(fastmime.asgi.stream_request(scope(), Script(chunked(FIELDS_AND_PHOTO, size)), event_loop_safe(chooser)))
    assert chooser.result() == EXPECTED
    photo = chooser.parts[2]
    assert photo.threads and all(t.startswith("fastmime") for t in photo.threads)
    assert chooser.parts[0].threads == {MAIN}  # the fields before it: on the loop


def test_handler_for_refusing_a_deferred_part_wins_over_a_later_parse_error() -> None:
    bad = FIELDS_AND_PHOTO.replace(b'name="after"', b'name="after"\r\nbroken header')
    chooser = Chooser(fail_on="photo")
    with pytest.raises(fastmime.MultipartError, match="refused photo"):
        run(fastmime.asgi.stream_request(scope(), Script(chunked(bad, len(bad))), chooser))
    assert [r.part.name for r in chooser.parts] == ["title", "tags"]  # the later part never started
    assert chooser.result()[:2] == EXPECTED[:2]


def test_a_parse_error_after_deferred_parts_reaches_them_in_order() -> None:
    bad = FIELDS_AND_PHOTO.replace(b'name="after"', b'name="after"\r\nbroken header')
    chooser = Chooser(unsafe=("photo",))
    with pytest.raises(fastmime.InvalidHeader):
        run(fastmime.asgi.stream_request(scope(), Script(chunked(bad, len(bad))), chooser))
    assert chooser.result() == EXPECTED[:3]  # every part before the error ended normally


def test_an_unsafe_handler_refusing_in_the_replay_is_aborted_and_later_parts_never_start() -> None:
    class Refusing(Recorded):
        def on_data(self, chunk: memoryview) -> None:
            raise fastmime.FileTooLarge("no, thanks")

    made: list[Recorded] = []

    def handler_for(part: fastmime.Part) -> Recorded:
        rec = Refusing(part) if part.name == "photo" else Recorded(part)
        made.append(rec)
        return rec

    with pytest.raises(fastmime.FileTooLarge):
        run(
            fastmime.asgi.stream_request(scope(), Script(chunked(FIELDS_AND_PHOTO, len(FIELDS_AND_PHOTO))), handler_for)
        )
    assert [(r.part.name, r.ended, len(r.aborted)) for r in made] == [("title", 1, 0), ("tags", 1, 0), ("photo", 0, 1)]


def test_an_unsafe_handler_failing_at_its_end_stops_the_parts_after_it() -> None:
    class Refusing(Recorded):
        def on_end(self) -> None:
            raise fastmime.MultipartError("bad title")

    made: list[Recorded] = []

    @event_loop_safe
    def handler_for(part: fastmime.Part) -> Recorded:
        rec = Refusing(part) if part.name == "title" else SafeRecorded(part)
        made.append(rec)
        return rec

    data = body(("title", None, b"x"), ("photo", "a.jpg", b"y" * 100))
    with pytest.raises(fastmime.MultipartError, match="bad title"):
        run(fastmime.asgi.stream_request(scope(), Script(chunked(data, len(data))), handler_for))
    assert [(r.part.name, r.ended, len(r.aborted)) for r in made] == [("title", 0, 1)]


def test_a_handler_error_in_a_worker_aborts_it_once_and_propagates() -> None:
    class Failing(Recorded):
        def on_data(self, chunk: memoryview) -> None:
            super().on_data(chunk)
            if len(self.data) > 100_000:
                raise OSError("disk full")

    made: list[Recorded] = []

    def handler_for(part: fastmime.Part) -> Recorded:
        made.append(Failing(part))
        return made[-1]

    # Longer than the failure point plus everything the loop may read ahead meanwhile (READ_AHEAD, and the
    # batch being fed), so that stopping is seen however slow the worker is on a loaded machine.
    data = body(("photo", "a.jpg", BIG * 8))
    assert len(data) > 100_000 + 2 * fastmime.asgi.READ_AHEAD + 10000
    receive = Script(chunked(data, 10000))
    with pytest.raises(OSError, match="disk full"):
        run(fastmime.asgi.stream_request(scope(), receive, handler_for))
    assert len(made) == 1 and made[0].ended == 0 and len(made[0].aborted) == 1
    assert receive.messages  # reading stopped


def test_disconnect_with_chunks_queued_for_a_worker() -> None:
    data = body(("photo", "a.jpg", BIG * 4))
    receive = Script(chunked(data, 20000, disconnect_after=40))
    aborted: list[BaseException] = []

    async def main() -> None:
        handler = SlowHandler(receive)
        handler.on_abort = aborted.append  # type: ignore[method-assign]
        task = asyncio.create_task(fastmime.asgi.stream_request(scope(), receive, lambda part: handler))
        while not handler.entered.is_set():
            await asyncio.sleep(0.001)
        handler.release.set()
        with pytest.raises(fastmime.ClientDisconnected) as info:
            await task
        assert info.value.offset == 40 * 20000

    run(main())
    assert len(aborted) == 1 and isinstance(aborted[0], fastmime.ClientDisconnected)


def test_a_handler_that_becomes_unsafe_moves_to_a_worker() -> None:
    class Rolling(SafeRecorded):
        @property  # type: ignore[override]
        def event_loop_safe(self) -> bool:
            return len(self.data) < 50_000

    made: list[Recorded] = []

    @event_loop_safe
    def handler_for(part: fastmime.Part) -> Recorded:
        made.append(Rolling(part))
        return made[-1]

    data = body(("photo", "a.jpg", BIG))
    run(fastmime.asgi.stream_request(scope(), Script(chunked(data, 10000)), handler_for))
    assert bytes(made[0].data) == BIG and made[0].ended == 1
    assert MAIN in made[0].threads and any(t.startswith("fastmime") for t in made[0].threads)


def _track_spool_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """parse_form's spools note each write as "memory|rollover|disk <thread name>" in the list returned."""
    import fastmime._form as form_module

    writes: list[str] = []
    original = form_module.SpooledFileHandler

    class Tracked(original):  # type: ignore[misc, valid-type]
        def on_data(self, chunk: memoryview) -> None:
            was_in_memory = self.in_memory
            super().on_data(chunk)
            kind = "memory" if self.in_memory else "rollover" if was_in_memory else "disk"
            writes.append(f"{kind} {threading.current_thread().name}")

    monkeypatch.setattr(form_module, "SpooledFileHandler", Tracked)
    return writes


def test_parse_form_spools_on_the_loop_then_writes_files_from_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = _track_spool_writes(monkeypatch)
    data = body(("title", None, b"hi"), ("photo", "a.jpg", BIG))
    with run(fastmime.asgi.parse_form(scope(), Script(chunked(data, 10000)), spool_threshold=100_000)) as form:
        assert form.files["photo"].read() == BIG and form.fields["title"] == "hi"
    assert writes[0] == f"memory {MAIN}"
    rollovers = [w for w in writes if w.startswith("rollover")]  # creating the file and writing 100 kB
    assert len(rollovers) == 1 and rollovers[0].startswith("rollover fastmime")
    assert all(w.startswith("disk fastmime") for w in writes if w.startswith("disk"))
    assert sum(w.startswith("disk") for w in writes) > 10


@pytest.mark.parametrize("sizes", [[740_000, 320_000], [2_000_000]], ids=["large-chunks", "one-message"])
def test_a_spool_never_rolls_over_on_the_loop_whatever_the_chunk_size(
    monkeypatch: pytest.MonkeyPatch, sizes: list[int]
) -> None:
    """Chunks larger than ROLLOVER_MARGIN are fed on the loop in LOOP_SLICE pieces, safety re-checked."""
    writes = _track_spool_writes(monkeypatch)
    photo = bytes(range(256)) * 6000  # 1.5 MB: past the 1 MiB threshold
    data = body(("title", None, b"hi"), ("photo", "a.jpg", photo))
    messages, start = [], 0
    for size in sizes + [len(data)]:
        messages.append({"type": "http.request", "body": data[start : start + size], "more_body": True})
        start += size
        if start >= len(data):
            break
    messages[-1]["more_body"] = False
    with run(fastmime.asgi.parse_form(scope(), Script(messages))) as form:
        assert form.files["photo"].read() == photo and form.fields["title"] == "hi"
    assert writes[0] == f"memory {MAIN}"  # most of the spool still fills on the loop
    assert sum(w.startswith("rollover") for w in writes) == 1
    assert all(w.split()[1].startswith("fastmime") for w in writes if not w.startswith("memory"))


@pytest.mark.parametrize("threshold", [72 * 1024, 256 * 1024, 300 * 1024])
def test_small_pieces_gathered_before_a_slice_do_not_roll_a_spool_over_on_the_loop(
    monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    """The server hands over 4 KiB messages, so that the parser holds some gathered (coalesce) when
    128 KiB ones come, at every point around the spool's safe limit: the gathered bytes and a whole
    LOOP_SLICE reach the handler before it is asked again."""
    photo = bytes(range(256)) * 2048  # 512 KiB
    data = body(("photo", "a.jpg", photo))
    start = data.index(photo[:1024])
    for short_of_threshold in range(52 * 1024, 84 * 1024, 1024):  # every phase of the 8 KiB batches
        writes = _track_spool_writes(monkeypatch)
        cut = start + max(4096, threshold - short_of_threshold)
        small = chunked(data[:cut], 4096)
        small[-1]["more_body"] = True
        messages = small + chunked(data[cut:], 128 * 1024)
        with run(fastmime.asgi.parse_form(scope(), Script(messages), spool_threshold=threshold)) as form:
            assert form.files["photo"].read() == photo
        assert sum(w.startswith("rollover") for w in writes) == 1
        assert all(w.split()[1].startswith("fastmime") for w in writes if not w.startswith("memory")), cut
        monkeypatch.undo()


def test_imgpipe_keeps_fastmimes_rule_for_leaving_the_loop() -> None:
    """imgpipe may not import fastmime: its twin of the rule's constants must stay equal."""
    from imgpipe import _handler

    assert _handler._ROLLOVER_MARGIN == fastmime.handlers.ROLLOVER_MARGIN
    assert _handler._LOOP_REACH == fastmime.handlers.LOOP_REACH == fastmime.asgi.LOOP_SLICE + fastmime.COALESCE


def test_base64_parts_keep_the_handlers_place() -> None:
    import base64

    encoded = base64.encodebytes(BIG)
    data = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--" + BOUNDARY + b"--\r\n"
    )
    chooser = Chooser()
    run(fastmime.asgi.stream_request(scope(), Script(chunked(data, 30000)), event_loop_safe(chooser)))
    assert chooser.result() == [("photo", "a.jpg", BIG, 1, 0)] and chooser.parts[0].threads == {MAIN}


def test_requests_take_turns_in_a_small_pool() -> None:
    """A request whose chunks keep coming does not hold a pool thread for its whole upload."""
    from concurrent.futures import ThreadPoolExecutor

    order: list[str] = []

    class Noting(Recorded):
        def on_data(self, chunk: memoryview) -> None:
            order.append(self.part.name)
            super().on_data(chunk)
            time.sleep(0.0005)  # slower than the loop reads: this request's queue never runs dry

    data = {name: body((name, "x.bin", BIG * 4)) for name in ("a", "b")}

    async def main(pool: Executor) -> None:
        await asyncio.gather(
            *(
                fastmime.asgi.stream_request(
                    scope(), Script(chunked(data[name], 8000)), lambda part: Noting(part), executor=pool
                )
                for name in ("a", "b")
            )
        )

    with ThreadPoolExecutor(1) as pool:
        run(main(pool))
    switches = sum(1 for x, y in itertools.pairwise(order) if x != y)
    assert switches >= 4  # batches of a and b alternate, instead of a's whole upload, then b's
