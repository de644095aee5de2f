"""fastmime.asgi against scripted receive() callables: disconnects, threads, back-pressure, cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import fastmime
import fastmime.asgi

from ._util import CONTENT_TYPE, Recorder, body

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
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
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
    assert rec.result() == [("title", None, b"hello", 1, 0), ("photo", "a.jpg", BIG, 1, 0),
                            ("", "nameless.jpg", b"xyz", 1, 0)]
    threads = set().union(*(r.threads for r in rec.parts))
    assert threads and all(name.startswith("fastmime") for name in threads)
    assert receive.messages == []


def test_empty_and_odd_messages() -> None:
    data = body(("a", None, b"1"))
    messages = [{"type": "http.request", "body": b"", "more_body": True},
                {"type": "http.request", "more_body": True},
                {"type": "http.request", "body": data[:5], "more_body": True},
                {"type": "http.request", "body": data[5:]}]
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


@pytest.mark.parametrize("ctype, length, error", [
    (None, None, fastmime.NotMultipart),
    ("text/plain", None, fastmime.NotMultipart),
    ("multipart/form-data", None, fastmime.MissingBoundary),
    (CONTENT_TYPE, 10**12, fastmime.BodyTooLarge),
])
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
        run(fastmime.asgi.stream_request(scope(), Script(chunked(data, 10000)), rec,
                                         limits=fastmime.Limits(max_file_size=50_000)))
    assert len(rec.parts[0].aborted) == 1


def test_progress_on_the_loop() -> None:
    data = body(("photo", "a.jpg", BIG))
    seen: list[tuple[int, int | None, str]] = []

    def progress(received: int, expected: int | None) -> None:
        seen.append((received, expected, threading.current_thread().name))

    run(fastmime.asgi.stream_request(scope(content_length=len(data)), Script(chunked(data, 65536)), Recorder(),
                                     progress=progress))
    assert [s[:2] for s in seen][-1] == (len(data), len(data))
    assert len(seen) == -(-len(data) // 65536)
    assert {s[2] for s in seen} == {threading.main_thread().name}


class SlowHandler:
    """Blocks in on_data until released; records what receive() did meanwhile."""

    def __init__(self, receive: Script) -> None:
        self.receive = receive
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls_seen: list[int] = []
        self.ended = False

    def on_data(self, chunk: memoryview) -> None:
        self.calls_seen.append(self.receive.calls)
        self.entered.set()
        assert self.release.wait(10)

    def on_end(self) -> None:
        self.ended = True

    def on_abort(self, error: BaseException) -> None:
        pass


def test_back_pressure_and_a_free_event_loop() -> None:
    """While a handler blocks, receive() is not called again and the event loop keeps running."""
    data = body(("photo", "a.jpg", BIG))
    receive = Script(chunked(data, 20000))

    async def main() -> None:
        handler = SlowHandler(receive)
        task = asyncio.create_task(fastmime.asgi.stream_request(scope(), receive, lambda part: handler))
        ticks = 0
        while not handler.entered.is_set():
            await asyncio.sleep(0.001)
        calls = receive.calls
        for _ in range(20):  # the loop is free: these run while the handler blocks
            await asyncio.sleep(0.001)
            ticks += 1
        assert receive.calls == calls  # back-pressure: nothing more was read
        handler.release.set()
        await task
        assert ticks == 20 and handler.ended
        # every on_data ran after exactly one more receive() than the previous one
        assert handler.calls_seen == sorted(set(handler.calls_seen))

    run(main())


def test_cancel_waits_for_the_running_feed_then_aborts() -> None:
    data = body(("photo", "a.jpg", BIG))
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
        handler = Handler(receive)
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
    assert len(made) == 2 and all(h.file.closed for h in made)


def test_stream_body_from_async_iterable() -> None:
    data = body(("photo", "a.jpg", BIG))

    async def chunks() -> Any:
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]

    rec = Recorder()
    run(fastmime.asgi.stream_body(chunks(), CONTENT_TYPE, rec, content_length=len(data)))
    assert rec.result() == [("photo", "a.jpg", BIG, 1, 0)]


def test_runs_under_trio() -> None:
    import trio  # installed with selenium
    data = body(("photo", "a.jpg", BIG))
    rec = Recorder()

    async def main(receive: Callable[[], Any]) -> None:
        await fastmime.asgi.stream_request(scope(), receive, rec)

    trio.run(main, Script(chunked(data, 30000)))
    assert rec.result() == [("photo", "a.jpg", BIG, 1, 0)]
    assert all(not name.startswith("fastmime") and name != threading.main_thread().name
               for name in rec.parts[0].threads)
