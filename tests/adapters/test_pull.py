"""The pull API: fastmime.iter_parts / aiter_parts and the WSGI and ASGI iter_parts."""

from __future__ import annotations

import base64
import tracemalloc

import pytest

import fastmime
import fastmime.asgi
import fastmime.wsgi
from fastmime.wsgi import CHUNK_SIZE

from ._util import CONTENT_TYPE, TrackingInput, body, environ
from .test_asgi import Script, chunked, run, scope

BIG = bytes(range(256)) * 4096  # 1 MiB
DATA = body(("title", None, "héllo".encode()), ("photo", "p.jpg", BIG, "image/jpeg"), ("after", None, b"x"))


def test_wsgi_parts_and_their_chunks() -> None:
    env = environ(DATA)
    stream = env["wsgi.input"]
    parts = fastmime.wsgi.iter_parts(env)
    assert stream.reads == []  # nothing read before the first part is asked for
    title = next(parts)
    assert (title.name, title.filename, title.index, title.is_file) == ("title", None, 0, False)
    assert stream.pos == CHUNK_SIZE  # one chunk
    assert title.text() == "héllo" and title.done
    photo = next(parts)
    assert (photo.name, photo.filename, photo.media_type, photo.header("content-type")) == (
        "photo",
        "p.jpg",
        "image/jpeg",
        "image/jpeg",
    )
    pieces = list(photo)
    assert b"".join(pieces) == BIG and max(map(len, pieces)) <= CHUNK_SIZE and list(photo) == []
    after = next(parts)
    assert after.read() == b"x"
    assert list(parts) == [] and stream.pos == len(DATA)


def test_a_part_not_read_is_skipped_without_being_kept() -> None:
    huge = body(("a", "big.bin", bytes(8 * 1024 * 1024)), ("b", None, b"last"))
    tracemalloc.start()
    try:
        names = []
        for part in fastmime.iter_parts((huge[i : i + 65536] for i in range(0, len(huge), 65536)), CONTENT_TYPE):
            names.append(part.name)
            if part.name == "b":
                assert part.read() == b"last"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert names == ["a", "b"]
    assert peak < 1024 * 1024, peak  # the 8 MiB part never sat in memory (the body itself is not traced)


def test_errors_reach_the_reader_and_stay() -> None:
    with pytest.raises(fastmime.FileTooLarge):
        for part in fastmime.iter_parts(DATA, CONTENT_TYPE, fastmime.Limits(max_file_size=1000)):
            part.read()
    parts = fastmime.iter_parts(DATA[: len(DATA) // 2], CONTENT_TYPE)
    next(parts).skip()
    photo = next(parts)
    with pytest.raises(fastmime.IncompleteBody):
        photo.read()
    with pytest.raises(fastmime.IncompleteBody):
        next(parts)
    with pytest.raises(fastmime.NotMultipart):
        fastmime.iter_parts(b"", "text/plain")  # at once, not at the first next()
    stream = TrackingInput(DATA[:5000])
    with pytest.raises(fastmime.ClientDisconnected):
        for part in fastmime.wsgi.iter_parts(environ(DATA, stream=stream)):
            part.read()


def test_leaving_early_stops_reading() -> None:
    env = environ(DATA)
    for _part in fastmime.wsgi.iter_parts(env):
        break
    assert env["wsgi.input"].pos == CHUNK_SIZE


def test_parts_are_transfer_decoded_and_nested_multipart_refused() -> None:
    raw = body(("f", "a.bin", base64.encodebytes(BIG[:5000])))
    data = raw.replace(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64")
    assert [p.read() for p in fastmime.iter_parts(data, CONTENT_TYPE)] == [BIG[:5000]]
    nested = body(("files", None, b"--x--", "multipart/mixed; boundary=x"))
    with pytest.raises(fastmime.NestedMultipart):
        list(fastmime.iter_parts(nested, CONTENT_TYPE))


def test_asgi_parts() -> None:
    async def consume(receive: Script, length: int | None = len(DATA)) -> list[tuple[str, int, int]]:
        seen = []
        async for part in fastmime.asgi.iter_parts(scope(content_length=length), receive):
            if part.name == "title":
                assert await part.text() == "héllo"
                seen.append((part.name, 5, receive.calls))
            elif part.name == "photo":
                size = 0
                async for block in part:
                    size += len(block)
                seen.append((part.name, size, receive.calls))
            else:
                await part.skip()
                seen.append((part.name, 0, receive.calls))
        return seen

    receive = Script(chunked(DATA, 10_000))
    assert run(consume(receive)) == [
        ("title", 5, 1),
        ("photo", len(BIG), len(DATA) // 10_000 + 1),
        ("after", 0, len(DATA) // 10_000 + 1),
    ]
    with pytest.raises(fastmime.ClientDisconnected) as info:
        run(consume(Script(chunked(DATA, 10_000, disconnect_after=3))))
    assert info.value.offset == 30_000
    with pytest.raises(fastmime.ClientDisconnected):
        run(consume(Script(chunked(DATA[:50_000], 10_000))))  # fewer bytes than Content-Length
    with pytest.raises(fastmime.NotMultipart):
        fastmime.asgi.iter_parts(scope("application/json"), Script([]))


def test_aiter_parts_over_any_async_iterable() -> None:
    async def chunks():
        for i in range(0, len(DATA), 999):
            yield DATA[i : i + 999]

    async def names() -> list[str]:
        return [part.name async for part in fastmime.aiter_parts(chunks(), CONTENT_TYPE)]

    assert run(names()) == ["title", "photo", "after"]
