"""Property tests: random bodies, random chunkings, both implementations.

(a) valid bodies parse to exactly the parts they were built from, whatever the chunking;
(b) arbitrarily mutated bodies give the same outcome on both implementations and every chunking;
(c) on_abort is called exactly once for every started part that does not end normally, never for one
    that did (checked by ``_strategies.run`` on every run, plus handlers that raise, ``abort()`` between
    feeds and ``abort()`` from inside a callback);
(d) random small limits: the outcome is the one a byte-layout reference predicts; huge limits just relax;
(e) memory stays bounded: held-back tail, header buffer, allocations while streaming 4 MiB.

Known bugs are strict xfails whose reason starts with "BUG:".

Hypothesis runs derandomized with no example database, so CI sees the same examples every time.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import tracemalloc

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import fastmime
import fastmime.pure

from ._strategies import (
    BYTEWISE,
    IMPLEMENTATIONS,
    WHOLE,
    Chunking,
    RecordingHandler,
    body_specs,
    chunkings,
    emitted,
    expected_limit_outcome,
    expected_outcome_parts,
    property_settings,
    run,
    without_charset,
)

PURE = fastmime.pure.MultipartParser


_settings = property_settings


def _runs(boundary, body, chunkings_, limits=None, **kw):
    """Run every implementation on every chunking: [(label, Outcome)]."""
    out = []
    for impl, cls in IMPLEMENTATIONS.items():
        for ch in chunkings_:
            outcome = run(cls, boundary, ch.split(body), limits, check_internals=cls is PURE, **kw)
            out.append((f"{impl} {ch!r}", outcome))
    return out


def _assert_same(results):
    """Same error (class, part index and name, offset, message) and same parts on every run; the data
    an aborted part received before the error may depend on the chunking, but is always a prefix."""
    (label0, ref), *others = results
    for label, o in others:
        assert o.key == ref.key, f"{label} differs from {label0}:\n{o.key!r}\n!=\n{ref.key!r}"
    aborted = sorted((o.aborted_data for _, o in results if o.aborted_data is not None), key=len)
    for shorter, longer in itertools.pairwise(aborted):
        assert longer.startswith(shorter), (shorter, longer)


# -- (a) valid bodies ------------------------------------------------------------------------------------


@_settings(300)
@given(spec=body_specs(), extra=st.lists(chunkings(), min_size=1, max_size=3))
def test_valid_bodies_give_the_expected_parts(spec, extra):
    built = spec.build()
    expected = expected_outcome_parts(built)
    results = _runs(spec.boundary, built.body, [WHOLE, BYTEWISE, *extra])
    for label, o in results:
        assert o.error is None, (label, o.error)
        assert without_charset(o.parts) == expected, label
    _assert_same(results)


@_settings(60)
@given(spec=body_specs(lf=True), ch=chunkings())
def test_lf_bodies_give_the_expected_parts(spec, ch):
    built = spec.build()
    for label, o in _runs(spec.boundary, built.body, [WHOLE, BYTEWISE, ch]):
        assert o.error is None, (label, o.error)
        assert without_charset(o.parts) == expected_outcome_parts(built), label


# -- (b) mutated bodies ----------------------------------------------------------------------------------

_POS = st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(-4, 8))
_OPS = st.one_of(
    st.tuples(st.just("flip"), _POS, st.integers(1, 255)),
    st.tuples(st.just("set"), _POS, st.integers(0, 255)),
    st.tuples(st.just("insert"), _POS, st.one_of(st.integers(0, 63), st.binary(min_size=1, max_size=4))),
    st.tuples(st.just("delete"), _POS, st.integers(1, 8)),
    st.tuples(st.just("truncate"), _POS, st.none()),
    st.tuples(st.just("dup"), _POS, st.integers(1, 24)),
    st.tuples(st.just("crlf"), st.integers(0, 1 << 16), st.booleans()),
)


def _anchors(body: bytes, boundary: bytes) -> list:
    """Places where a mutation is most likely to matter: delimiters, line ends, colons, quotes."""
    marks = []
    for needle in (b"--" + boundary, b"\n", b":", b'"', b";", b"="):
        i = body.find(needle)
        while i >= 0 and len(marks) < 200:
            marks.append(i + (len(needle) if needle[:1] == b"-" else 0))
            i = body.find(needle, i + 1)
    return sorted(marks) or [0]


def mutate(body: bytes, boundary: bytes, ops) -> bytes:
    inserts = [
        b"\r",
        b"\n",
        b"\r\n",
        b"-",
        b"--",
        b" ",
        b"\t",
        b":",
        b";",
        b'"',
        b"\\",
        b"\x00",
        b"\xff",
        b"\x7f",
        b"\xc3",
        b"\r\n\r\n",
        b"\n\n",
        b"=",
        b"*",
        b"'",
        b"%",
        b"%ZZ",
        b"filename*=",
        b"filename*=utf-8''%C3%A9",
        b"name=",
        b'name="n"',
        b'filename="f"',
        b"Content-Disposition: form-data\r\n",
        b"Content-Type: x/y\r\n",
        b"form-data",
        b"X:\r\n",
        b"--" + boundary,
        b"\r\n--" + boundary,
        b"\n--" + boundary,
        b"--" + boundary + b"--",
        boundary,
        boundary[:-1],
        b"\r\n--" + boundary + b"\r\n",
        b"\n--" + boundary + b"\n",
        b" \t \r\n",
        b"\r\n \r\n",
    ]
    for kind, pos, arg in ops:
        if kind == "crlf":
            lines = body.split(b"\r\n") if arg else body.split(b"\n")
            if len(lines) > 1:
                i = pos % (len(lines) - 1)
                joined_with = b"\n" if arg else b"\r\n"
                old = b"\r\n" if arg else b"\n"
                body = old.join(lines[: i + 1]) + joined_with + old.join(lines[i + 1 :])
            continue
        where, raw, delta = pos
        if where == 0 or not body:
            at = raw % (len(body) + 1)
        else:
            anchors = _anchors(body, boundary)
            at = min(max(anchors[raw % len(anchors)] + delta, 0), len(body))
        if kind == "flip" and at < len(body):
            body = body[:at] + bytes([body[at] ^ arg]) + body[at + 1 :]
        elif kind == "set" and at < len(body):
            body = body[:at] + bytes([arg]) + body[at + 1 :]
        elif kind == "insert":
            piece = inserts[arg % len(inserts)] if isinstance(arg, int) else arg
            body = body[:at] + piece + body[at:]
        elif kind == "delete":
            body = body[:at] + body[at + arg :]
        elif kind == "truncate":
            body = body[:at]
        elif kind == "dup":
            body = body[: at + arg] + body[at:]
    return body


_SMALL_LIMITS = st.builds(
    fastmime.Limits,
    max_parts=st.integers(1, 6),
    max_header_size=st.integers(1, 300),
    max_header_lines=st.integers(1, 6),
    max_field_size=st.integers(1, 200),
    max_file_size=st.integers(1, 200),
    max_body_size=st.integers(1, 2000),
)


@_settings(600)
@given(
    spec=body_specs(),
    ops=st.lists(_OPS, min_size=1, max_size=4),
    extra=st.lists(chunkings(), max_size=2),
    limits=st.none() | st.none() | _SMALL_LIMITS,
)
def test_mutated_bodies_same_outcome_everywhere(spec, ops, extra, limits):
    body = mutate(spec.build().body, spec.boundary, ops)
    results = _runs(spec.boundary, body, [WHOLE, BYTEWISE, Chunking("size", 7), *extra], limits)
    _assert_same(results)
    error = results[0][1].exception
    event(f"outcome: {type(error).__name__ if error else 'parts'}")
    if error is not None:
        assert isinstance(error, fastmime.MultipartError)
        assert error.offset is None or 0 <= error.offset <= len(body), error.offset
        assert error.part_index is None or 0 <= error.part_index <= body.count(b"--" + spec.boundary)


# -- (c) on_abort --------------------------------------------------------------------------------------


@_settings(200)
@given(
    spec=body_specs(),
    plan=st.dictionaries(st.integers(0, 5), st.sampled_from(["data", "end"]), max_size=2),
    abort_at=st.none() | st.integers(0, 40),
    ch=chunkings(),
)
def test_handler_errors_and_abort_call_on_abort_once(spec, plan, abort_at, ch):
    built = spec.build()

    def factory(part, violations):
        return RecordingHandler(part, violations, raise_in=plan.get(part.index))

    chunks_ = ch.split(built.body)
    results = []
    for impl, cls in IMPLEMENTATIONS.items():
        o = run(cls, spec.boundary, chunks_, handler_factory=factory, abort_after=abort_at)  # checks (c)
        results.append((impl, o))
        if abort_at is not None and abort_at < len(chunks_):
            assert o.error is not None and o.error[0] in ("Aborted", "HandlerBoom"), o.error
        for h in o.handlers:
            if h.raise_in is not None and h.aborts:
                assert h.aborts == [o.exception]
    keys = {(o.error[:2] if o.error else None, tuple((p.index, p.ended) for p in o.parts)) for _, o in results}
    assert len(keys) == 1, keys


def test_on_end_raising_gets_on_abort_too():
    """Documented choice: a handler whose on_end raised did not end normally and gets on_abort once."""
    body = b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nxyz\r\n--B--'
    for cls in IMPLEMENTATIONS.values():
        o = run(cls, b"B", [body], handler_factory=lambda p, v: RecordingHandler(p, v, raise_in="end"))
        assert o.error[0] == "HandlerBoom"
        (h,) = o.handlers
        assert not h.ended and h.aborts == [o.exception] and h.data == b"xyz"


TWO_PARTS = (
    b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nxyz\r\n'
    b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\nuvw\r\n--B--'
)


def _abort_from_callback(cls, where: str, chunks_):
    """Feed TWO_PARTS to a parser whose handler for part "a" calls ``parser.abort()`` from ``where``
    (``handler_for``, ``on_data`` or ``on_end``); return the callback log and how feed/close ended."""
    log = []
    box = {}

    class Handler:
        def __init__(self, part):
            self.name = part.name

        def on_data(self, chunk):
            log.append((self.name, "on_data"))
            if self.name == "a" and where == "on_data":
                box["parser"].abort()

        def on_end(self):
            log.append((self.name, "on_end"))
            if self.name == "a" and where == "on_end":
                box["parser"].abort()

        def on_abort(self, error):
            log.append((self.name, "on_abort", type(error).__name__))

    def handler_for(part):
        log.append((part.name, "handler_for"))
        handler = Handler(part)
        if part.name == "a" and where == "handler_for":
            box["parser"].abort()
        return handler

    parser = box["parser"] = cls(b"B", handler_for)
    try:
        for c in chunks_:
            parser.feed(c)
        parser.close()
        log.append("closed")
    except fastmime.MultipartError as e:
        log.append(("raised", type(e).__name__))
    return log


_CALLBACKS = ["on_data", "on_end", "handler_for"]


@pytest.mark.parametrize("cls", list(IMPLEMENTATIONS.values()), ids=list(IMPLEMENTATIONS))
@pytest.mark.parametrize("where", _CALLBACKS)
def test_abort_from_a_callback_stops_parsing(where, cls):
    """``abort()`` "stops parsing": called from inside a handler callback, nothing more is parsed (no
    callback for part "b"), later calls raise Aborted, and the handler handed out for "a" is told: on_abort
    once (or, from on_end, on_end and at most one on_abort)."""
    log = _abort_from_callback(cls, where, [TWO_PARTS])
    assert not any(entry[0] == "b" for entry in log if isinstance(entry, tuple)), log
    assert log[-1] == ("raised", "Aborted"), log
    ends = [e[1] for e in log if isinstance(e, tuple) and e[0] == "a" and e[1] in ("on_end", "on_abort")]
    if where == "on_end":
        # on_end was called, so the part ended normally: no on_abort after it.
        assert ends == ["on_end"], log
    else:
        assert ends == ["on_abort"], log


@pytest.mark.parametrize("cls", list(IMPLEMENTATIONS.values()), ids=list(IMPLEMENTATIONS))
def test_abort_from_on_data_is_honoured_when_the_feed_ends_first(cls):
    """The working case: when the feed ends inside the part's data, the next call raises Aborted."""
    log = _abort_from_callback(cls, "on_data", [TWO_PARTS[:50], TWO_PARTS[50:]])
    assert log == [("a", "handler_for"), ("a", "on_data"), ("a", "on_abort", "Aborted"), ("raised", "Aborted")]


# -- (d) limits ------------------------------------------------------------------------------------------


@st.composite
def limited_bodies(draw):
    spec = draw(body_specs(max_parts=5))
    built = spec.build()
    lay = built.layout
    big = 1 << 30

    # Half the time one limit alone is tight, so that each one gets its turn; else each one is tight
    # one time in three, and they compete.
    focus = draw(
        st.sampled_from(
            [
                "max_parts",
                "max_header_size",
                "max_header_lines",
                "max_field_size",
                "max_file_size",
                "max_body_size",
                None,
            ]
        )
    )

    def pick(which, lo, hi):
        tight = which == focus if focus is not None else draw(st.integers(0, 2)) == 0
        return draw(st.integers(max(1, lo), max(1, hi))) if tight else big

    limits = fastmime.Limits(
        max_parts=pick("max_parts", 1, len(lay) + 1),
        max_header_size=pick("max_header_size", 1, max((p.header_size for p in lay), default=1) + 4),
        max_header_lines=pick("max_header_lines", 1, max((p.header_lines for p in lay), default=1) + 1),
        max_field_size=pick("max_field_size", 1, max((p.data_size for p in lay if not p.is_file), default=1) + 2),
        max_file_size=pick("max_file_size", 1, max((p.data_size for p in lay if p.is_file), default=1) + 2),
        max_body_size=pick("max_body_size", len(built.body) // 2, len(built.body) + 2),
    )
    return spec, built, limits


@_settings(400)
@given(case=limited_bodies(), ch=chunkings(), coalesce=st.sampled_from([0, 1, 7, 8192]))
def test_limits_raise_the_right_error(case, ch, coalesce):
    spec, built, limits = case
    expected_error, started, ended = expected_limit_outcome(built, limits)
    results = _runs(spec.boundary, built.body, [WHOLE, BYTEWISE, ch], limits, coalesce=coalesce)
    _assert_same(results)
    o = results[0][1]
    got = None if o.error is None else (o.error[0], o.error[1], o.error[3])
    event(f"outcome: {got[0] if got else 'parts'}")
    assert got == expected_error, (got, expected_error, limits)
    if expected_error is not None:
        assert isinstance(o.exception, fastmime.LimitExceeded)
        assert o.exception.http_status == 413
    assert len(o.parts) == started
    assert sum(p.ended for p in o.parts) == ended
    exp = expected_outcome_parts(built)
    for p, e in zip(o.parts, exp):
        assert (p.name, p.filename, p.content_type, p.headers) == (e.name, e.filename, e.content_type, e.headers)
        if p.ended:
            assert p.data == e.data
    if expected_error is not None and expected_error[0] == "BodyTooLarge" and expected_error[1] is not None:
        # No error cut the part short: it received exactly what can be known not to start a delimiter,
        # but for the pieces still gathered (fewer than ``coalesce`` bytes), which an abort drops.
        k = expected_error[1]
        known = built.parts[k].data[: emitted(built, k, limits.max_body_size)]
        for _, r in results:
            assert known.startswith(r.aborted_data) and len(known) - len(r.aborted_data) < max(coalesce, 1)
    if expected_error is not None and expected_error[0] in ("FieldTooLarge", "FileTooLarge"):
        k = expected_error[1]
        limit = limits.max_file_size if built.layout[k].is_file else limits.max_field_size
        for _, r in results:
            assert built.parts[k].data.startswith(r.aborted_data) and len(r.aborted_data) <= limit


@pytest.mark.parametrize("cls", list(IMPLEMENTATIONS.values()), ids=list(IMPLEMENTATIONS))
def test_body_limit_counts_preamble_and_epilogue(cls):
    body = b"preamble\r\n--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--epilogue"
    assert run(cls, b"B", [body], fastmime.Limits(max_body_size=len(body))).error is None
    o = run(cls, b"B", [body], fastmime.Limits(max_body_size=len(body) - 1))
    assert o.error[:4] == ("BodyTooLarge", None, None, len(body) - 1)
    assert [p.ended for p in o.parts] == [True]


_LIMIT_FIELDS = [
    "max_parts",
    "max_header_size",
    "max_header_lines",
    "max_field_size",
    "max_file_size",
    "max_body_size",
    "max_boundary_length",
]
_HUGE_BODY = (
    b'pre\r\n--B\r\nContent-Disposition: form-data; name="a"; filename="f"\r\n\r\nxyz\r\n'
    b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\nuvw\r\n--B--'
)


@pytest.mark.parametrize("value", [sys.maxsize, 1 << 64], ids=["sys.maxsize", "2**64"])
@pytest.mark.parametrize("field", _LIMIT_FIELDS)
def test_huge_limits_just_relax(field, value):
    """Limits docs: "to relax one, pass a large number". Any positive int must work on both parsers."""
    limits = fastmime.Limits(**{field: value})
    for cls in IMPLEMENTATIONS.values():
        for ch in (WHOLE, Chunking("size", 30)):
            o = run(cls, b"B", ch.split(_HUGE_BODY), limits)
            assert o.error is None, (cls, o.error)
            assert [(p.name, p.data) for p in o.parts] == [("a", b"xyz"), ("b", b"uvw")]


# -- (e) memory ------------------------------------------------------------------------------------------

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024


def _big_body(size: int = 4 * 1024 * 1024):
    """A body with one ``size``-byte file part full of delimiter near-misses, cut so that every 64 KiB
    chunk ends with a partial delimiter (``CRLF--boundary`` minus its last byte)."""
    delim = b"\r\n--" + BOUNDARY
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    filler = b"".join(delim[:k] + b"x" for k in range(1, len(delim))) + b"\r\n--\r\n\n--" + BOUNDARY
    data = bytearray()
    while len(data) < size:
        # Filler up to where the chunk ends, less room for the partial delimiter.
        room = CHUNK - (len(head) + len(data)) % CHUNK - (len(delim) - 1)
        if room < 0:
            room += CHUNK
        data += (filler * (room // len(filler) + 1))[:room]
        data += delim[:-1]
        data += b"y"  # the near-miss is broken by the next chunk's first byte
    data = bytes(data[:size])
    assert delim not in data
    return head + data + delim + b"--\r\n", data


@pytest.fixture(scope="module")
def big_body():
    return _big_body()


def test_pure_parser_tail_stays_below_the_delimiter(big_body):
    body, data = big_body
    digest, sizes = hashlib.sha256(), []

    class Sink:
        def on_data(self, chunk):
            digest.update(chunk)
            sizes.append(len(chunk))

        def on_end(self):
            pass

        def on_abort(self, error):
            raise AssertionError(error)

    parser = PURE(BOUNDARY, lambda part: Sink())
    n = len(b"\r\n--" + BOUNDARY)
    longest_tail = 0
    for i in range(0, len(body), CHUNK):
        parser.feed(body[i : i + CHUNK])
        assert len(parser._tail) <= n - 1
        longest_tail = max(longest_tail, len(parser._tail))
    parser.close()
    assert longest_tail == n - 1  # the body really made the parser hold back a maximal partial delimiter
    assert digest.digest() == hashlib.sha256(data).digest()
    assert sum(sizes) == len(data)


@pytest.mark.parametrize("cls", list(IMPLEMENTATIONS.values()), ids=list(IMPLEMENTATIONS))
def test_parser_allocates_little_while_streaming(cls, big_body):
    body, data = big_body
    chunks_ = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    digest = hashlib.sha256()

    class Sink:
        def on_data(self, chunk):
            digest.update(chunk)

        def on_end(self):
            pass

        def on_abort(self, error):
            raise AssertionError(error)

    parser = cls(BOUNDARY, lambda part: Sink())
    tracemalloc.start()
    try:
        for c in chunks_:
            parser.feed(c)
        parser.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest.digest() == hashlib.sha256(data).digest()
    assert peak < CHUNK // 4, peak  # no copy of a chunk, let alone of the 4 MiB part


@pytest.mark.parametrize("size", [1, 3, 1000, 9000, CHUNK])
@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_pure_parser_header_buffer_is_bounded(size, eol):
    limit = 8 * 1024
    header = b'Content-Disposition: form-data; name="h"' + eol + b"X-Long: " + b"a\tb: c" * 40_000
    body = b"--" + BOUNDARY + eol + header
    parser = PURE(BOUNDARY, lambda part: RecordingHandler(part, []), fastmime.Limits(max_header_size=limit))
    longest = 0
    with pytest.raises(fastmime.HeaderTooLarge) as info:
        for i in range(0, len(body), size):
            parser.feed(body[i : i + size])
            longest = max(longest, len(parser._hbuf or b""))
            assert longest <= limit + 3 * len(eol)
    assert info.value.offset == len(b"--" + BOUNDARY + eol) + limit
    if size <= 3:
        assert longest >= limit  # the buffer did grow up to the limit


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_header_block_exactly_at_the_limit_is_accepted_in_any_chunking(eol):
    cd = b'Content-Disposition: form-data; name="h"'
    block = cd + eol + b"X-Pad: " + b"p" * 100
    body = b"--B" + eol + block + eol + eol + b"data" + eol + b"--B--"
    for cls in IMPLEMENTATIONS.values():
        for ch in (WHOLE, BYTEWISE, Chunking("size", 5)):
            ok = run(cls, b"B", ch.split(body), fastmime.Limits(max_header_size=len(block)))
            assert ok.error is None and ok.parts[0].data == b"data"
            bad = run(cls, b"B", ch.split(body), fastmime.Limits(max_header_size=len(block) - 1))
            assert bad.error[:4] == ("HeaderTooLarge", 0, None, len(b"--B" + eol) + len(block) - 1)
