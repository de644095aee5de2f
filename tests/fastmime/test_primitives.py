"""The primitives of fastmime._parser: the pure-Python bodies vs their C twins (fastmime._cparser).

``_find``, ``_held_back_start``, ``_starts_with`` and ``_split_header_block`` each have a Python body and,
when compiled, a C twin in _parser.pxd. Both must give the same result, and the same as Python's own
semantics (``bytes.find``, ``bytes.startswith``, a reference written here from the docstrings), on the
domain the parser uses them on: ``0 <= start <= end <= len(data)`` and ``pos >= 0``. Outside it the C
twins do not promise Python's slice semantics (e.g. ``_starts_with(b"abc", b"c", -1)`` is True in
Python, False in C; ``_find(b"abc", b"", 5, 5)`` is -1 in Python, 5 in C); the parser never asks.

The functions shared without a C twin (``parse_options_header``, ``boundary_from_content_type``) are
also compared, compiled vs interpreted: Cython types their locals, which could change behaviour.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastmime
from fastmime import _parser as pure

from ._strategies import TOKEN_CHARS, _cparser, property_settings

MODULES = [
    pytest.param(pure, id="python"),
    pytest.param(
        _cparser, id="cython", marks=pytest.mark.skipif(_cparser is None, reason="the Cython extension is not built")
    ),
]


_settings = property_settings


def _both(name: str, *args):
    """The pure result, after checking that the compiled twin (when built) gives the same."""
    expected = getattr(pure, name)(*args)
    if _cparser is not None:
        got = getattr(_cparser, name)(*args)
        assert got == expected and type(got) is type(expected), (name, args, got, expected)
    return expected


_PIECES = [
    b"\r",
    b"\n",
    b"\r\n",
    b"-",
    b"--",
    b"B",
    b"Bx",
    b"\r\n--B",
    b"\n--B",
    b"\r\n--",
    b":",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\xc3",
    b"\xc3\xa9",
    b"a",
]
tricky = st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=6)), max_size=24).map(b"".join)


@st.composite
def ranges(draw, data: bytes):
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, len(data)))
    return start, end


@st.composite
def needles(draw, data: bytes):
    """A slice of ``data`` (so that it is found), a delimiter-like needle, or anything."""
    if data and draw(st.booleans()):
        i = draw(st.integers(0, len(data) - 1))
        return data[i : draw(st.integers(i, len(data)))]
    return draw(st.one_of(st.sampled_from([b"", b"\r\n--B", b"\n--B", b"\r\n\r\n", b"\n\n", b"\r\n"]), tricky))


# -- _find -------------------------------------------------------------------------------------------


@_settings(400)
@given(st.data())
def test_find_is_bytes_find(draw):
    data = draw.draw(tricky)
    needle = draw.draw(needles(data))
    start, end = draw.draw(ranges(data))
    assert _both("_find", data, needle, start, end) == data.find(needle, start, end)


@pytest.mark.parametrize("mod", MODULES)
def test_find_edges(mod):
    assert mod._find(b"", b"", 0, 0) == 0
    assert mod._find(b"abc", b"", 3, 3) == 3
    assert mod._find(b"abc", b"abcd", 0, 3) == -1
    assert mod._find(b"abc", b"bc", 0, 2) == -1  # the needle must end by `end`
    assert mod._find(b"abcbc", b"bc", 2, 5) == 3
    assert mod._find(b"\x00\x00a", b"\x00a", 0, 3) == 1  # NUL bytes are bytes like any other


# -- _held_back_start ----------------------------------------------------------------------------------


@st.composite
def delimiter_needles(draw):
    """A needle like the parser's: CR or LF first, and that byte nowhere else in it."""
    first = draw(st.sampled_from([b"\r", b"\n"]))
    middle = draw(st.sampled_from([b"", b"--", b"\n--" if first == b"\r" else b"-"]))
    rest = draw(st.binary(max_size=12).map(lambda b: b.replace(first, b"")))
    return first + middle + rest


def held_back_reference(buf: bytes, needle: bytes, start: int, end: int) -> int:
    """The start of the longest suffix of ``buf[start:end]``, shorter than ``needle``, that begins it."""
    for k in range(max(start, end - len(needle) + 1), end):
        if needle.startswith(buf[k:end]):
            return k
    return end


@_settings(400)
@given(st.data())
def test_held_back_start_is_the_longest_partial_needle(draw):
    needle = draw.draw(delimiter_needles())
    prefixes = st.sampled_from([needle[:k] for k in range(1, len(needle) + 1)])
    buf = b"".join(draw.draw(st.lists(st.one_of(prefixes, tricky), max_size=6)))
    start, end = draw.draw(ranges(buf))
    got = _both("_held_back_start", buf, needle, start, end)
    assert got == held_back_reference(buf, needle, start, end)
    assert start <= got <= end and end - got < len(needle)


@_settings(200)
@given(st.data())
def test_held_back_start_twins_agree_on_any_needle(draw):
    buf = draw.draw(tricky)
    needle = draw.draw(needles(buf).filter(bool))
    start, end = draw.draw(ranges(buf))
    _both("_held_back_start", buf, needle, start, end)


@pytest.mark.parametrize("mod", MODULES)
def test_held_back_start_edges(mod):
    needle = b"\r\n--B"
    assert mod._held_back_start(b"xx\r\n--", needle, 0, 6) == 2
    assert mod._held_back_start(b"xx\r\n--", needle, 3, 6) == 6  # the CR is before start
    assert mod._held_back_start(b"xx\r\n-x", needle, 0, 6) == 6
    assert mod._held_back_start(b"xx\r\n--B", needle, 0, 7) == 7  # a whole needle is not "partial"
    assert mod._held_back_start(b"\r", needle, 0, 1) == 0
    assert mod._held_back_start(b"\r\r", needle, 0, 2) == 1
    assert mod._held_back_start(b"\r\n--Bx", needle, 0, 4) == 0  # `end` bounds the suffix
    assert mod._held_back_start(b"\r\n--Bx", needle, 0, 5) == 5
    assert mod._held_back_start(b"", needle, 0, 0) == 0


# -- _starts_with --------------------------------------------------------------------------------------


@_settings(300)
@given(st.data())
def test_starts_with_is_bytes_startswith(draw):
    data = draw.draw(tricky)
    prefix = draw.draw(needles(data))
    pos = draw.draw(st.integers(0, len(data) + 2))
    assert _both("_starts_with", data, prefix, pos) is data.startswith(prefix, pos)


# -- _split_header_block -------------------------------------------------------------------------------

_CONTROLS = frozenset(range(9)) | frozenset(range(10, 32)) | {127}
_TOKEN = frozenset(TOKEN_CHARS.encode("ascii"))


def split_header_block_reference(block: bytes, eol: bytes):
    """What the docstring says: every line ``token ":" value``, no control byte but HTAB, the value's
    spaces and tabs dropped at both ends, UTF-8 else Latin-1; None if any line is bad."""
    headers = []
    for line in block.split(eol):
        colon = line.find(b":")
        if colon <= 0 or any(c not in _TOKEN for c in line[:colon]):
            return None
        value = line[colon + 1 :]
        if any(c in _CONTROLS for c in value):
            return None
        value = value.strip(b" \t")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        headers.append((line[:colon].decode("ascii"), text))
    return headers


_NAME_BYTES = st.one_of(
    st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=8).map(str.encode),
    st.sampled_from(
        [
            b"Content-Disposition",
            b"content-type",
            b"Content-Type",
            b"X y",
            b"",
            b"\xc3\xa9",
            b"a(b)",
            b"a\tb",
            b" X",
            b"X ",
            b"a\x00",
            b"\x7f",
            b"{x}",
        ]
    ),
)
_VALUE_BYTES = st.one_of(
    st.text(max_size=10).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(
            [
                b" ",
                b"\t",
                b":",
                b'"',
                b";",
                b"=",
                b"\xff",
                b"\xc3",
                b"\xc3\xa9",
                b"\xed\xa0\x80",
                b"\x00",
                b"\x1f",
                b"\x7f",
                b"\r",
                b"\n",
                b"\x85",
                b"a",
                b"\xe2\x82\xac",
            ]
        ),
        max_size=8,
    ).map(b"".join),
)


@st.composite
def header_blocks(draw, eol: bytes):
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.binary(max_size=10)))  # anything, colon or not
        else:
            lines.append(
                draw(_NAME_BYTES) + draw(st.sampled_from([b":", b":", b": ", b":\t", b"::"])) + draw(_VALUE_BYTES)
            )
    sep = draw(st.sampled_from([eol, eol, eol, b"\r\n", b"\n", b"\r"]))
    return sep.join(lines)


@_settings(500)
@given(st.data())
def test_split_header_block_agrees_with_the_reference(draw):
    eol = draw.draw(st.sampled_from([b"\r\n", b"\n"]))
    block = draw.draw(header_blocks(eol))
    got = _both("_split_header_block", block, eol)
    assert got == split_header_block_reference(block, eol), block
    if got is not None:
        assert all(type(n) is str and type(v) is str for n, v in got)


@pytest.mark.parametrize("mod", MODULES)
def test_split_header_block_examples(mod):
    f = mod._split_header_block
    assert f(b"A: b\r\nC:\td \t", b"\r\n") == [("A", "b"), ("C", "d")]
    assert f(b"A: b\nC: d", b"\n") == [("A", "b"), ("C", "d")]
    assert f(b"A: b\r\nC: d", b"\n") is None  # a CR is a control character in LF mode
    assert f(b"A: b\nC: d", b"\r\n") is None  # a bare LF in CRLF mode
    assert f(b"A: b\r\n\r\nC: d", b"\r\n") is None  # an empty line
    assert f(b"A: b\r\n", b"\r\n") is None  # a trailing line end is an empty last line
    assert f(b"", b"\r\n") is None
    assert f(b" A: b", b"\r\n") is None  # folding / leading space in the name
    assert f(b"A : b", b"\r\n") is None  # a space before the colon
    assert f(b":b", b"\r\n") is None
    assert f(b"A:\xe9t\xe9", b"\r\n") == [("A", "\xe9t\xe9")]  # Latin-1 when not UTF-8
    assert f(b"A:\xc3\xa9t\xc3\xa9\r\nB:\xe9", b"\r\n") == [("A", "\xe9t\xe9"), ("B", "\xe9")]
    assert f(b"A:a\tb: c", b"\r\n") == [("A", "a\tb: c")]
    assert f(b"A:\x7f", b"\r\n") is None
    assert f(b"\xc3\xa9:x", b"\r\n") is None


# -- the other shared functions: compiled vs interpreted -----------------------------------------------

_HEADER_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(
            [
                "form-data",
                "multipart/form-data",
                ";",
                " ",
                "\t",
                "=",
                '"',
                "\\",
                "name",
                "filename",
                "filename*",
                "boundary",
                "utf-8''%C3%A9",
                "a b",
                "x",
                '\\"',
                "\\\\",
                "NAME",
                "é",
            ]
        ),
        max_size=14,
    ).map("".join),
)


@_settings(400)
@given(value=_HEADER_TEXT)
def test_parse_options_header_compiled_matches_pure(value):
    expected = pure.parse_options_header(value)
    assert pure.parse_options_header(value.encode("utf-8")) == expected
    if _cparser is not None:
        assert _cparser.parse_options_header(value) == expected
        assert _cparser._parse_params(value) == pure._parse_params(value)


@_settings(300)
@given(value=_HEADER_TEXT)
def test_boundary_from_content_type_compiled_matches_pure(value):
    def outcome(f):
        try:
            return f(value)
        except fastmime.MultipartError as e:
            return type(e).__name__, str(e)

    expected = outcome(pure.boundary_from_content_type)
    if _cparser is not None:
        assert outcome(_cparser.boundary_from_content_type) == expected


_DISPOSITION_NAMES = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='"'), max_size=8
)


@_settings(300)
@given(
    name=_DISPOSITION_NAMES,
    filename=st.none() | _DISPOSITION_NAMES,
    tail=st.sampled_from(["", " ", ";", "; x=1", '"', "\t"]),
)
def test_browser_fast_path_matches_the_general_parser(name, filename, tail):
    """_browser_disposition is a shortcut: when it answers, the general parser answers the same."""
    value = f'form-data; name="{name}"' + ("" if filename is None else f'; filename="{filename}"') + tail
    fast = pure._browser_disposition(value)
    general = pure.MultipartParser(b"B", None)._parse_disposition(value, 0)
    if fast is not None:
        assert fast == general
    if not tail and "\\" not in value:
        assert fast == (name, filename)
