"""Small body pieces reach a handler together (``MultipartParser(coalesce=...)``); big ones as they are.

Both implementations; the data a part receives never depends on ``coalesce``, only how it is cut.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastmime

from ._helpers import BOUNDARY, body_of, chunkings, part, split_every
from ._strategies import IMPLEMENTATIONS, property_settings


class Calls:
    """Records the size of every on_data call, and whether the view was of a fed piece (no copy)."""

    def __init__(self, fed=None, keep_views=False):
        self.sizes: list[int] = []
        self.data = bytearray()
        self.uncopied: list[bool] = []
        self.ended = False
        self.aborted: list[BaseException] = []
        self._fed = fed
        self.views: list[memoryview] = [] if keep_views else None

    def on_data(self, chunk):
        self.sizes.append(len(chunk))
        self.data += chunk
        if self._fed is not None:
            self.uncopied.append(any(chunk.obj is piece for piece in self._fed))
        if self.views is not None:
            self.views.append(chunk)  # against the rules: the test checks it does no harm

    def on_end(self):
        self.ended = True

    def on_abort(self, error):
        self.aborted.append(error)


def _parse(parser_cls, chunks, coalesce=None, make=Calls):
    handlers: list = []

    def handler_for(part):
        handler = make()
        handlers.append(handler)
        return handler

    options = {} if coalesce is None else {"coalesce": coalesce}
    parser = parser_cls(BOUNDARY, handler_for, **options)
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    return handlers


def _assert_few_small_calls(sizes, coalesce):
    # Every call gets at least ``coalesce`` bytes but the part's last, and one that goes just before a
    # piece of at least that size (the small pieces gathered so far go first).
    for i, size in enumerate(sizes[:-1]):
        assert size >= coalesce or sizes[i + 1] >= coalesce, (i, sizes)


def test_default_is_exported():
    assert fastmime.COALESCE == 8 * 1024
    assert fastmime.pure.MultipartParser.__init__.__kwdefaults__["coalesce"] == fastmime.COALESCE


def test_tiny_chunks_reach_the_handler_in_few_calls(parser_cls):
    content = random.Random(1).randbytes(1 << 20)
    body = body_of(part("f", content, filename="big.bin"))
    [handler] = _parse(parser_cls, split_every(body, 1024))
    assert bytes(handler.data) == content and handler.ended
    assert len(handler.sizes) <= (1 << 20) // fastmime.COALESCE + 2
    _assert_few_small_calls(handler.sizes, fastmime.COALESCE)
    # coalesce=0: every parsed piece, as it comes
    [handler] = _parse(parser_cls, split_every(body, 1024), coalesce=0)
    assert bytes(handler.data) == content and len(handler.sizes) >= (1 << 20) // 1024


def test_big_pieces_are_handed_over_without_a_copy(parser_cls):
    content = random.Random(2).randbytes(595_000)  # its last piece in 64 KiB chunks is about 5 KiB
    body = body_of(part("f", content, filename="big.bin"))
    chunks = split_every(body, 64 * 1024)
    [handler] = _parse(parser_cls, chunks, make=lambda: Calls(fed=chunks))
    assert bytes(handler.data) == content
    assert handler.uncopied == [size >= fastmime.COALESCE for size in handler.sizes]
    assert handler.uncopied[:-1] == [True] * (len(handler.sizes) - 1) and handler.sizes[-1] < fastmime.COALESCE


@pytest.mark.parametrize("coalesce", [1, 7, 100, 8192])
def test_every_chunking_gives_the_same_data(parser_cls, coalesce):
    rng = random.Random(coalesce)
    payload = rng.randbytes(30_000)
    body = body_of(
        part("a", b"1"),
        part("empty", b""),
        part("crlf", b"\r\n--\r\n" + payload[:300]),
        part("file", payload, filename="f.bin"),
        part("last", payload[:9000]),
    )
    expected = [bytes(h.data) for h in _parse(parser_cls, [body], coalesce=0)]
    for label, chunks in chunkings(body, random_splits=4):
        handlers = _parse(parser_cls, chunks, coalesce=coalesce)
        assert [bytes(h.data) for h in handlers] == expected, label
        assert all(h.ended for h in handlers)
        for h in handlers:
            _assert_few_small_calls(h.sizes, coalesce)


def test_a_view_kept_after_the_call_still_shows_what_it_was_given(parser_cls):
    content = random.Random(3).randbytes(50_000)
    body = body_of(part("f", content, filename="f.bin"))
    [handler] = _parse(parser_cls, split_every(body, 1000), make=lambda: Calls(keep_views=True))
    assert b"".join(bytes(v) for v in handler.views) == content  # each batch has a buffer of its own


def test_an_abort_drops_the_pieces_gathered(parser_cls):
    content = random.Random(4).randbytes(20_000)
    body = body_of(part("f", content, filename="f.bin"))
    handlers: list[Calls] = []

    def handler_for(part):
        handlers.append(Calls())
        return handlers[-1]

    parser = parser_cls(BOUNDARY, handler_for)
    for chunk in split_every(body[: len(body) // 2], 1000):
        parser.feed(chunk)
    parser.abort()
    [handler] = handlers
    assert len(handler.aborted) == 1 and not handler.ended
    assert content.startswith(bytes(handler.data))
    # handed over: whole batches only; the pieces gathered since (fewer than COALESCE bytes) were dropped
    fed = len(body) // 2 - body.index(content[:100])
    assert fed - fastmime.COALESCE < len(handler.data) < fed


def test_an_error_from_a_handler_at_the_parts_end_aborts_it(parser_cls):
    class Refuses(Calls):
        def on_data(self, chunk):
            raise ValueError("no")

    handlers: list[Calls] = []

    def handler_for(part):
        handlers.append(Refuses())
        return handlers[-1]

    parser = parser_cls(BOUNDARY, handler_for)
    with pytest.raises(ValueError, match="no"):
        parser.feed(body_of(part("f", b"small", filename="f.bin")))  # gathered, handed over at the end
    [handler] = handlers
    assert len(handler.aborted) == 1 and not handler.ended


def test_abort_from_inside_a_batch_stops_the_feed(parser_cls):
    parser = None

    class Aborts(Calls):
        def on_data(self, chunk):
            parser.abort(RuntimeError("enough"))

    parser = parser_cls(BOUNDARY, lambda part: Aborts())
    body = body_of(part("f", b"x" * 20_000, filename="f.bin"))
    with pytest.raises(RuntimeError, match="enough"):
        for chunk in split_every(body, 100):
            parser.feed(chunk)


def test_coalesce_must_be_a_size(parser_cls):
    with pytest.raises(ValueError, match="coalesce"):
        parser_cls(BOUNDARY, lambda part: Calls(), coalesce=-1)
    with pytest.raises(TypeError):
        parser_cls(BOUNDARY, lambda part: Calls(), coalesce=1000.5)
    assert fastmime.pure.COALESCE == fastmime.COALESCE


def test_every_view_a_handler_gets_is_read_only(parser_cls):
    content = random.Random(5).randbytes(30_000)
    body = body_of(part("f", content, filename="f.bin"))
    for size in (1000, 64 * 1024):  # gathered batches, and views of the fed bytes
        [handler] = _parse(parser_cls, split_every(body, size), make=lambda: Calls(keep_views=True))
        assert handler.views and all(view.readonly for view in handler.views)


@property_settings(60)
@given(
    sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=5),
    chunk=st.integers(1, 5000),
    coalesce=st.sampled_from([0, 1, 5, 512, 8192]),
    seed=st.integers(0, 2**16),
)
def test_both_implementations_cut_alike(sizes, chunk, coalesce, seed):
    rng = random.Random(seed)
    contents = [rng.randbytes(n) for n in sizes]
    body = body_of(*(part(f"p{i}", c, filename="x.bin") for i, c in enumerate(contents)))
    runs = {
        name: [(h.sizes, bytes(h.data)) for h in _parse(cls, split_every(body, chunk), coalesce=coalesce)]
        for name, cls in IMPLEMENTATIONS.items()
    }
    first, *others = runs.values()
    assert [data for _, data in first] == contents
    for other in others:
        assert other == first
