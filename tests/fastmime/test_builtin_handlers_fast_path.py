"""The parser serves ValueHandler and DiscardHandler without calling their methods: same effect, same errors.

Each implementation serves its own classes (``fastmime._parser`` for the interpreted parser, the compiled
module's for the compiled one; ``fastmime.handlers`` re-exports the live ones). A subclass is never served
that way: its methods are called, whatever it overrides. Every case runs the served handlers against
subclasses that override nothing (so they take the calling path) and compares what they end with.
"""

from __future__ import annotations

import random

import pytest

import fastmime
import fastmime._parser as pure_module
from fastmime.handlers import ValueTooLarge

from ._helpers import BOUNDARY, UNLIMITED, body_of, chunkings, part

MODULES = {"python": pure_module}
if fastmime.IMPLEMENTATION == "cython":
    import fastmime._cparser as compiled_module

    MODULES["cython"] = compiled_module


@pytest.fixture(params=["cython", "python"])
def impl(request):
    """(parser class, ValueHandler, DiscardHandler) of one implementation."""
    if request.param not in MODULES:
        pytest.skip("the Cython extension is not built in this install")
    module = MODULES[request.param]
    return module.MultipartParser, module.ValueHandler, module.DiscardHandler


def test_the_live_handlers_are_the_live_parsers():
    module = MODULES["cython" if fastmime.IMPLEMENTATION == "cython" else "python"]
    assert fastmime.handlers.ValueHandler is module.ValueHandler
    assert fastmime.handlers.DiscardHandler is module.DiscardHandler
    assert fastmime.MultipartParser is module.MultipartParser


def _state(handler):
    if hasattr(handler, "value"):
        return ("value", handler.value, handler.size, handler.done, type(handler.error).__name__)
    return ("discard", handler.size, handler.done, type(handler.error).__name__)


def _run(parser_cls, make, body, pieces, limits=UNLIMITED):
    # coalesce=0: called handlers get each piece as it is parsed, as served ones do, so that an aborted
    # part ends with the same bytes in both (gathered pieces are dropped on abort; see test_coalesce.py)
    handlers = []

    def handler_for(part):
        handler = make(part)
        handlers.append(handler)
        return handler

    parser = parser_cls(BOUNDARY, handler_for, limits, coalesce=0)
    error = None
    try:
        for piece in pieces:
            parser.feed(piece)
        parser.close()
    except fastmime.MultipartError as exc:
        error = (type(exc).__name__, exc.part_index, exc.offset)
    return [_state(h) for h in handlers], error


def _bodies():
    rng = random.Random(7)
    payload = bytes(rng.randrange(256) for _ in range(3000))
    yield body_of(
        part("a", b"1"),
        part("empty", b""),
        part("crlf", b"\r\n--\r\n" + payload[:200]),
        part("file", payload, filename="f.bin", content_type="application/octet-stream"),
        part("last", "ünïcode".encode()),
    )
    yield body_of(*(part(f"f{i}", b"value %d" % i) for i in range(40)))
    # no close delimiter: the open part is aborted
    yield body_of(part("a", b"done"), part("b", payload[:100]))[: -len(BOUNDARY) - 20]


@pytest.mark.parametrize("kind", ["value", "discard", "mixed"])
def test_served_handlers_end_as_the_called_ones(impl, kind):
    parser_cls, value_cls, discard_cls = impl

    class CalledValue(value_cls):  # overrides nothing, yet a subclass: its methods are called
        pass

    class CalledDiscard(discard_cls):
        pass

    def chooser(value, discard):
        def make(part):
            if kind == "value" or (kind == "mixed" and part.filename is None):
                return value()
            return discard()

        return make

    for body in _bodies():
        for label, pieces in chunkings(body, random_splits=3):
            served = _run(parser_cls, chooser(value_cls, discard_cls), body, pieces)
            called = _run(parser_cls, chooser(CalledValue, CalledDiscard), body, pieces)
            assert served == called, label


def test_a_subclass_that_overrides_on_data_is_called(impl):
    parser_cls, value_cls, discard_cls = impl
    calls = []

    class Upper(value_cls):
        def on_data(self, chunk):
            calls.append(type(chunk))
            super().on_data(memoryview(bytes(chunk).upper()))

        def on_end(self):
            calls.append("end")
            super().on_end()

    class Counted(discard_cls):
        def on_data(self, chunk):
            calls.append(len(chunk))
            super().on_data(chunk)

    body = body_of(part("a", b"abc"), part("b", b"xyz", filename="b.txt"))
    made = []

    def handler_for(part):
        made.append(Upper() if part.filename is None else Counted())
        return made[-1]

    parser = parser_cls(BOUNDARY, handler_for)
    parser.feed(body)
    parser.close()
    assert made[0].value == b"ABC" and made[0].done
    assert made[1].size == 3 and made[1].done
    assert calls == [memoryview, "end", 3]


def test_a_bounded_value_handler_is_called_and_refuses_too_much(impl):
    parser_cls, value_cls, _ = impl
    handlers = []

    def handler_for(part):
        handlers.append(value_cls(max_size=4))
        return handlers[-1]

    body = body_of(part("ok", b"1234"), part("big", b"12345"), part("never", b"x"))
    for _label, pieces in chunkings(body, random_splits=2):
        handlers.clear()
        parser = parser_cls(BOUNDARY, handler_for)
        with pytest.raises(ValueTooLarge):
            for piece in pieces:
                parser.feed(piece)
        assert [h.value for h in handlers] == [b"1234", b""]
        assert handlers[0].done and handlers[0].error is None
        assert not handlers[1].done and isinstance(handlers[1].error, ValueTooLarge)


def test_the_parsers_field_limit_reaches_a_served_handler(impl):
    parser_cls, value_cls, _ = impl
    handlers = []

    def handler_for(part):
        handlers.append(value_cls())
        return handlers[-1]

    body = body_of(part("a", b"12345678"))
    parser = parser_cls(BOUNDARY, handler_for, fastmime.Limits(max_field_size=5))
    with pytest.raises(fastmime.FieldTooLarge) as caught:
        parser.feed(body)
    assert handlers[0].error is caught.value and handlers[0].value == b"" and not handlers[0].done


def test_a_handler_changed_mid_part_is_served_as_it_is_now(impl):
    parser_cls, value_cls, _ = impl
    handler = value_cls()

    def handler_for(part):
        return handler

    parser = parser_cls(BOUNDARY, handler_for)
    parser.feed(body_of(part("a", b"12345678"))[:-30])
    handler.max_size = 2  # from now on ValueHandler.on_data decides
    with pytest.raises(ValueTooLarge):
        parser.feed(b"more data" * 4)
    assert isinstance(handler.error, ValueTooLarge)


def test_served_handlers_with_the_asgi_adapter():
    import asyncio

    from fastmime.asgi import stream_body
    from fastmime.handlers import DiscardHandler, ValueHandler

    body = body_of(part("a", b"x" * 5000), part("f", b"y" * 70000, filename="f.bin"))
    made = []

    def handler_for(part):
        made.append(ValueHandler() if part.filename is None else DiscardHandler())
        return made[-1]

    async def chunks():
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    asyncio.run(stream_body(chunks(), "multipart/form-data; boundary=" + BOUNDARY.decode(), handler_for))
    assert made[0].value == b"x" * 5000 and made[0].done
    assert made[1].size == 70000 and made[1].done


DISPOSITIONS = [
    'form-data; name="a"',
    'form-data; name="a"; filename="b c.jpg"',
    'form-data; name="é"; filename="ü ÿ.txt"',  # Latin-1 characters: one byte each
    'form-data; name="日本"; filename="写真.jpg"',  # wider characters: the general path
    'form-data; name="a\\\\b"; filename="C:\\\\x\\\\y.jpg"',
    'form-data; name="a"; filename="x"y"',
    'form-data; name="a"; filename="',
    'form-data; name="a";filename="b"',
    'form-data; name="a"; filename="b"; size="3"',
    'form-data; name=""',
    'form-data; name="a""',
    'form-data; name="',
    'form-data; name="a"; filename=""',
]


@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_browser_shaped_dispositions_read_alike(disposition):
    """The compiled shortcut for browser-shaped Content-Disposition values gives the general result."""
    body = body_of(part(disposition=disposition, data=b"v"))
    seen = {}
    for name, module in MODULES.items():
        parts = []

        def handler_for(p, parts=parts, module=module):
            parts.append((p.name, p.filename))
            return module.DiscardHandler()

        parser = module.MultipartParser(BOUNDARY, handler_for)
        try:
            parser.feed(body)
            parser.close()
            seen[name] = parts
        except fastmime.MultipartError as error:
            seen[name] = (type(error).__name__, error.offset)
    assert len(set(map(repr, seen.values()))) == 1, seen
