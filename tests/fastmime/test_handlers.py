"""The built-in handlers and the parse_form convenience."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

import fastmime
from fastmime.handlers import (
    LOOP_REACH,
    DiscardHandler,
    HashingHandler,
    PartHandler,
    SpooledFileHandler,
    ValueHandler,
    event_loop_safe,
    is_event_loop_safe,
)

from ._helpers import BOUNDARY, body_of, part

CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()


def feed_one(handler, data, pieces=3):
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        handler.on_data(memoryview(data)[i : i + step])
    handler.on_end()
    return handler


def test_handlers_follow_the_protocol():
    for handler in (ValueHandler(), SpooledFileHandler(), DiscardHandler(), HashingHandler()):
        assert isinstance(handler, PartHandler)


def test_value_handler():
    h = feed_one(ValueHandler(), "héllo".encode())
    assert h.value == "héllo".encode() and h.text() == "héllo" and h.size == 6 and h.done
    assert ValueHandler().text() == ""
    assert feed_one(ValueHandler(), b"\xff").text() == "\ufffd"


def test_value_handler_has_its_own_bound():
    h = ValueHandler(max_size=4)
    h.on_data(memoryview(b"1234"))
    with pytest.raises(fastmime.LimitExceeded):
        h.on_data(memoryview(b"5"))


def test_value_handler_copies_the_view():
    data = bytearray(b"abc")
    h = ValueHandler()
    h.on_data(memoryview(data))
    data[0] = ord("z")
    assert h.value == b"abc"


def test_spooled_file_stays_in_memory_then_rolls_over(tmp_path):
    small = feed_one(SpooledFileHandler(max_memory=100, dir=str(tmp_path)), b"x" * 50)
    assert small.in_memory and small.file.read() == b"x" * 50
    big = feed_one(SpooledFileHandler(max_memory=100, dir=str(tmp_path)), b"y" * 1000)
    assert not big.in_memory and big.size == 1000 and big.file.read() == b"y" * 1000
    big.close()
    small.close()
    assert os.listdir(tmp_path) == []


def test_spooled_file_removed_on_abort(tmp_path):
    h = SpooledFileHandler(max_memory=10, dir=str(tmp_path))
    h.on_data(memoryview(b"z" * 100))
    h.on_abort(fastmime.Aborted("gone"))
    assert h.file.closed
    assert os.listdir(tmp_path) == []


def test_which_built_in_handlers_are_event_loop_safe(tmp_path):
    assert is_event_loop_safe(ValueHandler()) and is_event_loop_safe(DiscardHandler())
    assert is_event_loop_safe(HashingHandler())
    # 256 KiB: a quarter (64 KiB) is less than what fastmime.asgi may hand over between two checks
    # (LOOP_REACH: a 64 KiB slice and 8 KiB gathered by the parser), so it leaves the loop 72 KiB before
    assert LOOP_REACH == 72 * 1024
    spooled = SpooledFileHandler(max_memory=256 * 1024, dir=str(tmp_path))
    assert is_event_loop_safe(spooled)  # memory only
    assert is_event_loop_safe(HashingHandler(spooled))
    spooled.on_data(memoryview(bytes(184 * 1024)))
    assert is_event_loop_safe(spooled)
    spooled.on_data(memoryview(b"z"))  # the next chunk may roll it over to disk: that write goes to a worker
    assert spooled.in_memory and not is_event_loop_safe(spooled)
    spooled.on_data(memoryview(bytes(72 * 1024)))  # rolled over: writes go to a file, so to worker threads
    assert not spooled.in_memory
    assert not is_event_loop_safe(spooled) and not is_event_loop_safe(HashingHandler(spooled))
    spooled.close()
    small = SpooledFileHandler(max_memory=LOOP_REACH - 1, dir=str(tmp_path))
    assert small.in_memory and not is_event_loop_safe(small)  # one look could let it roll over on the loop
    small.close()
    big = SpooledFileHandler(dir=str(tmp_path))  # 1 MiB: off the loop 256 KiB before it
    big.on_data(memoryview(bytes(768 * 1024)))
    assert is_event_loop_safe(big)
    big.on_data(memoryview(b"z"))
    assert not is_event_loop_safe(big)
    big.close()


def test_event_loop_safe_marks_functions_and_classes():
    class Mine:
        def on_data(self, chunk):
            pass

        def on_end(self):
            pass

        def on_abort(self, error):
            pass

    assert not is_event_loop_safe(Mine()) and not is_event_loop_safe(lambda part: Mine())
    assert event_loop_safe(Mine) is Mine and is_event_loop_safe(Mine())

    @event_loop_safe
    def handler_for(part):
        return Mine()

    assert is_event_loop_safe(handler_for)

    class Owner:
        @event_loop_safe
        def handler_for(self, part):
            return Mine()

    assert is_event_loop_safe(Owner().handler_for)  # the bound method shows the function's mark
    with pytest.raises(TypeError):
        event_loop_safe(Owner().handler_for)  # a bound method cannot be marked: mark its function
    truthy = Mine()
    truthy.event_loop_safe = 1  # only True counts
    assert not is_event_loop_safe(truthy)


def test_discard_handler_counts():
    assert feed_one(DiscardHandler(), b"12345").size == 5


def test_hashing_handler_passes_through():
    data = os.urandom(10_000)
    inner = ValueHandler()
    h = feed_one(HashingHandler(inner), data, pieces=7)
    assert h.sha256 == hashlib.sha256(data).hexdigest()
    assert h.md5 == hashlib.md5(data).hexdigest()
    assert h.size == len(data) and inner.value == data and inner.done


def test_hashing_handler_forwards_abort():
    inner = ValueHandler()
    h = HashingHandler(inner, algorithms=("sha1",))
    error = fastmime.Aborted("x")
    h.on_abort(error)
    assert inner.error is error and h.error is error
    assert h.hexdigest("sha1") == hashlib.sha1().hexdigest()


def test_parse_form_fields_and_files():
    body = body_of(
        part("caption", "Überblick".encode()),
        part("tag", b"a"),
        part("tag", b"b"),
        part("photo", b"\xff\xd8data", filename="p.jpg", content_type="image/jpeg"),
        part(None, b"unnamed", filename="x.jpg"),
    )
    with fastmime.parse_form(body, CONTENT_TYPE) as form:
        assert form.fields["caption"] == "Überblick"
        assert form.fields["tag"] == "a" and form.fields.getall("tag") == ["a", "b"]
        assert form.fields.getall("missing") == []
        assert list(form.fields) == ["caption", "tag"] and len(form.fields) == 2
        assert form.fields.multi_items() == [("caption", "Überblick"), ("tag", "a"), ("tag", "b")]
        photo = form.files["photo"]
        assert (photo.filename, photo.content_type, photo.size) == ("p.jpg", "image/jpeg", 6)
        assert photo.read() == b"\xff\xd8data"
        assert form.files[""].read() == b"unnamed"
        assert "photo" in form.files and "caption" not in form.files


def test_multidict_keeps_every_value_in_order():
    pairs = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5), ("b", 6)]
    md = fastmime.MultiDict(pairs)
    assert list(md) == ["a", "b", "c"] and len(md) == 3
    assert (md["a"], md["b"], md["c"]) == (1, 2, 4)
    assert md.getall("a") == [1, 3, 5] and md.getall("b") == [2, 6] and md.getall("c") == [4]
    assert md.getall("z") == [] and "z" not in md and md.get("z") is None
    md.getall("a").append(99)  # a copy: the mapping does not change
    assert md.getall("a") == [1, 3, 5] and md.multi_items() == pairs
    assert dict(md) == {"a": 1, "b": 2, "c": 4}


def test_parse_form_takes_chunks_and_bytes_content_type():
    body = body_of(part("a", b"1"), part("f", b"x" * 3000, filename="f"))
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))
    with fastmime.parse_form(chunks, CONTENT_TYPE.encode()) as form:
        assert form.fields["a"] == "1" and form.files["f"].read() == b"x" * 3000


def test_parse_form_charsets():
    body = body_of(
        part("_charset_", b"iso-8859-1"),
        part("a", b"caf\xe9"),
        part("b", "é".encode("utf-16-le"), content_type="text/plain; charset=utf-16-le"),
        part("c", b"x", content_type="text/plain; charset=no-such-charset"),
    )
    with fastmime.parse_form(body, CONTENT_TYPE) as form:
        assert form.fields["a"] == "café"
        assert form.fields["b"] == "é"
        assert form.fields["c"] == "x"


def test_parse_form_releases_files_on_error(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    body = body_of(part("f", b"x" * 5000, filename="f"), part("g", b"y" * 5000, filename="g"))[:-5]
    with pytest.raises(fastmime.IncompleteBody):
        fastmime.parse_form(body, CONTENT_TYPE, spool_threshold=100)
    assert os.listdir(tmp_path) == []


def test_parse_form_respects_limits():
    body = body_of(part("a", b"x" * 100))
    with pytest.raises(fastmime.FieldTooLarge):
        fastmime.parse_form(body, CONTENT_TYPE, fastmime.Limits(max_field_size=10))
    with pytest.raises(fastmime.NotMultipart):
        fastmime.parse_form(body, "application/json")


def test_parse_form_async():
    body = body_of(part("a", b"1"), part("f", b"data", filename="f.bin"))

    async def stream():
        for i in range(0, len(body), 10):
            yield body[i : i + 10]
            await asyncio.sleep(0)

    async def main():
        return await fastmime.parse_form_async(stream(), CONTENT_TYPE)

    form = asyncio.run(main())
    assert form.fields["a"] == "1" and form.files["f"].read() == b"data"
    form.close()


def test_parse_form_async_error_releases(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    body = body_of(part("f", b"x" * 5000, filename="f"))[:-3]

    async def stream():
        yield body

    with pytest.raises(fastmime.IncompleteBody):
        asyncio.run(fastmime.parse_form_async(stream(), CONTENT_TYPE, spool_threshold=10))
    assert os.listdir(tmp_path) == []


def test_importing_fastmime_for_wsgi_does_not_load_asyncio():
    """asyncio (with ssl) is ~10 MiB of RSS per process: a WSGI worker or a bare parser does not pay it."""
    import subprocess
    import sys

    code = "import sys, fastmime, fastmime.wsgi, fastmime.handlers, fastmime.http; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "False"
