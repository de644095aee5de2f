"""Hypothesis strategies for multipart/form-data bodies, a reference builder and a parser runner.

The strategies draw a :class:`BodySpec`: a boundary, a line-end mode (CRLF, or bare LF everywhere), an
optional preamble, 0-6 parts and an optional epilogue. Each part carries the *semantic* values the
parser must report (name, filename, content type as sent, all header lines, data) and the header lines
already rendered in one of many odd-but-valid spellings (header-name case, spaces and tabs around
values, parameter order, quoted / escaped / unquoted / RFC 5987 values, extra parameters and headers).
:meth:`BodySpec.build` serializes a spec and returns the body, the expected parts and the byte layout
(where each delimiter line, header block and data region is), which :func:`expected_limit_outcome`
uses to predict which limit a body trips first.

Part data is drawn from pieces that are hard for a delimiter scanner: CR, LF, ``--``, every proper
prefix of the delimiter, the boundary without its CRLF, the delimiter minus its last byte, the other
mode's delimiter; any occurrence of the real delimiter is then defused (:func:`defuse`).

``compat=True`` restricts everything to the grammar fastmime and defnull's ``multipart`` share (see
test_differential.py for the list of differences).

:func:`run` feeds a parser chunk by chunk with recording handlers and checks the handler protocol on
every run (memoryview chunks, nothing after on_end / on_abort, on_abort exactly once for a started part
that did not end normally, the same exception again from a failed parser).

Hypothesis follows the suite's profile (tests/_hypothesis.py: fixed examples, no database under ``ci``);
to hunt for bugs locally, ``HYPOTHESIS_PROFILE=deep pytest tests/fastmime/test_properties.py`` (or, for these
tests alone, ``FASTMIME_HYPOTHESIS_SCALE=20 FASTMIME_HYPOTHESIS_RANDOM=1``).
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import string
from dataclasses import dataclass, field
from urllib.parse import quote as _pct_quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import fastmime
import fastmime.pure
from fastmime import MultipartError

from .._hypothesis import examples

# -- implementations ---------------------------------------------------------------------------------

IMPLEMENTATIONS = {"python": fastmime.pure.MultipartParser}
try:
    from fastmime import _cparser
except ImportError:  # the extension was not built: only the interpreted parser is compared
    _cparser = None
else:
    IMPLEMENTATIONS["cython"] = _cparser.MultipartParser

# -- hypothesis settings -------------------------------------------------------------------------------

#: Multiplies every max_examples on top of the profile's factor (FASTMIME_HYPOTHESIS_SCALE=20).
_SCALE = float(os.environ.get("FASTMIME_HYPOTHESIS_SCALE", "1"))
#: FASTMIME_HYPOTHESIS_RANDOM=1 draws new examples on each run, as HYPOTHESIS_PROFILE=deep does.
_RANDOM = os.environ.get("FASTMIME_HYPOTHESIS_RANDOM", "") not in ("", "0")


def property_settings(max_examples: int) -> settings:
    """The profile's settings (tests/_hypothesis.py: fixed examples, no database, no deadline under ``ci``)
    with ``max_examples`` scaled by it, and the health checks these generators trip on purpose suppressed."""
    extra = {"derandomize": False, "print_blob": True} if _RANDOM else {}
    return settings(
        max_examples=max(1, int(examples(max_examples) * _SCALE)),
        **extra,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


# -- alphabets ---------------------------------------------------------------------------------------

#: RFC 2046 bchars (a boundary may not end with the space).
BCHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "
#: RFC 7230 token characters.
TOKEN_CHARS = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
#: Header-name characters multipart 2.0.1 accepts (its ``_hname``): a subset of the tokens.
MULTIPART_HNAME_CHARS = "-_" + string.digits + string.ascii_letters

TYPICAL_BOUNDARIES = [
    b"----WebKitFormBoundary7MA4YWxkTrZu0gW",
    b"---------------------------9051914041544843365972754266",
    b"------------------------d74496d66958873e",
    b"B",
    b"-",
    b"--",
    b"a b",
    b"=_?:'()+,./",
    b"x" * 70,
]


def _text_chars(exclude: str = '"', include: str = "") -> st.SearchStrategy[str]:
    """Characters with no control character (but ``include``) nor ``exclude``: one draw per string."""
    return st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=exclude, include_characters=include)


_TEXT_CHARS = _text_chars()
_SPECIAL_ASCII = " ;=,:\\%'/()<>@[]?{}*&#~!.-_+"


def _special_text(max_size: int, extra: str = "") -> st.SearchStrategy[str]:
    return st.text(alphabet=string.ascii_letters + string.digits + _SPECIAL_ASCII + extra, max_size=max_size)


# -- building blocks -----------------------------------------------------------------------------------


@st.composite
def boundaries(draw) -> bytes:
    """An RFC 2046 boundary: 1-70 bchars, no trailing space."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(TYPICAL_BOUNDARIES))
    head = draw(st.text(alphabet=BCHARS, max_size=draw(st.sampled_from([3, 12, 69]))))
    last = draw(st.sampled_from(BCHARS[:-1]))
    return (head + last).encode("ascii")


def defuse(data: bytes, needle: bytes) -> bytes:
    """``data`` with every occurrence of ``needle`` (``EOL--boundary``) broken by one byte.

    ``EOL--B`` becomes ``EOL-_-B``: a new occurrence would need a line end inside the boundary.
    """
    assert needle[1:].find(needle[:1]) < 0
    broken = needle.replace(b"--", b"-_-", 1)
    while needle in data:
        data = data.replace(needle, broken)
    return data


def _near_misses(boundary: bytes, eol: bytes) -> list:
    delim = eol + b"--" + boundary
    other = (b"\n" if eol == b"\r\n" else b"\r\n") + b"--" + boundary
    return [
        b"\r",
        b"\n",
        b"\r\n",
        b"\n\r",
        b"-",
        b"--",
        b"\r\n\r\n",
        b"\n\n",
        b"\r\r\n",
        boundary,
        b"--" + boundary,
        b"--" + boundary + b"--",
        boundary[:-1],
        delim[:-1],
        delim[:-1] + b"\x00",
        eol + b"-" + boundary,
        eol + b"--" + boundary[1:],
        b"\r--" + boundary,
        other,
        other + b"--",
        other + b"\r\n",
    ] + [delim[:k] for k in range(1, len(delim))]


@st.composite
def tricky_bytes(draw, boundary: bytes, eol: bytes, max_pieces: int = 12) -> bytes:
    """Bytes full of CR, LF, ``--`` and near-misses of the delimiter ``eol--boundary``, never the delimiter.

    One binary draw is read as a little program (one draw is far cheaper than a list of them, and it
    still shrinks towards short and simple): a byte below 64 copies the next ``b % 8 + 1`` bytes as
    they are, any other byte appends one near-miss (with a 0xff after it when ``b >= 160``).
    """
    near = _near_misses(boundary, eol)
    program = draw(st.binary(max_size=4 * max_pieces))
    out = []
    i = 0
    while i < len(program):
        b = program[i]
        i += 1
        if b < 64:
            out.append(program[i : i + b % 8 + 1])
            i += b % 8 + 1
        else:
            out.append(near[b % len(near)] + (b"\xff" if b >= 160 else b""))
    return defuse(b"".join(out), eol + b"--" + boundary)


# Spelling choices (case, whitespace, separators, order) come from a random.Random seeded by one draw:
# hypothesis draws are the cost of these tests, and spelling needs no shrinking.
_SEED = st.integers(0, (1 << 32) - 1)


def _random_case(rnd: random.Random, word: str) -> str:
    style = rnd.randrange(5)
    if style == 0:
        return word
    if style == 1:
        return word.lower()
    if style == 2:
        return word.upper()
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in word)


def raw_quoted_roundtrips(value: str) -> bool:
    """Whether ``"value"`` sent without escaping parses back to ``value``.

    In a quoted value fastmime unescapes only ``\\"`` and ``\\\\`` and keeps any other backslash (browsers
    send Windows paths unescaped), so a raw value is safe unless it holds ``\\\\`` or ends with ``\\``.
    """
    return "\\\\" not in value and not value.endswith("\\")


def _param_value(rnd: random.Random, value: str, compat: bool) -> str:
    """``value`` rendered as a parameter value that parses back to ``value``."""
    styles = ["quoted"]
    if raw_quoted_roundtrips(value):
        styles.append("raw")  # quoted, backslashes unescaped (what browsers send)
    if (
        value
        and ";" not in value
        and value.strip(" \t") == value
        and (not compat or all(c in TOKEN_CHARS for c in value))
    ):
        styles.append("unquoted")
    if compat:
        styles = [s for s in styles if s != "quoted" or "\\" not in value]
    style = rnd.choice(styles)
    if style == "unquoted":
        return value
    if style == "raw":
        return '"' + value + '"'
    return '"' + value.replace("\\", "\\\\") + '"'


@functools.cache
def _names(compat: bool) -> st.SearchStrategy[str]:
    if compat:
        # multipart percent-decodes %0A %0D %22 and treats backslashes as escapes or paths.
        return st.one_of(
            st.text(alphabet=_text_chars(exclude='"%\\'), max_size=10),
            _special_text(10).map(lambda s: s.replace("%", "").replace("\\", "")),
        )
    return st.one_of(st.text(alphabet=_TEXT_CHARS, max_size=10), _special_text(10))


@functools.cache
def _filenames(compat: bool) -> st.SearchStrategy[str]:
    segment = st.text(alphabet=_text_chars(exclude='"\\/'), max_size=6)
    pieces = [
        _names(compat),
        st.sampled_from(
            [
                "",
                "a.jpg",
                " lead space.png",
                "trail space.gif ",
                "ünïcödé.txt",
                "a;b=c.jpg",
                "photo (1).JPG",
                "x'y.txt",
                "日本語.png",
                "a\tb.bin",
            ]
        ),
    ]
    if not compat:
        pieces += [
            st.sampled_from(
                [
                    "C:\\x\\y.jpg",
                    "\\\\server\\share\\f.txt",
                    "C:\\dir\\",
                    "a\\\\b",
                    "\\",
                    "..\\..\\etc\\passwd",
                    "100%.jpg",
                    "%22q%22.txt",
                ]
            ),
            st.lists(segment, min_size=1, max_size=4).map("\\".join),
            st.lists(segment, min_size=1, max_size=4).map("/".join),
        ]
    return st.one_of(*pieces)


_CONTENT_TYPES = [
    "text/plain",
    "image/jpeg",
    "application/octet-stream",
    "text/plain; charset=utf-8",
    'text/plain; charset="iso-8859-1"',
    "IMAGE/PNG",
    "multipart/mixed; boundary=x",
    "text/html;charset=UTF-8",
    "application/x-www-form-urlencoded",
    'x/y; a="b;c"',
]


@functools.cache
def _header_values(compat: bool) -> st.SearchStrategy[str]:
    """A header value with no control character but HTAB, no surrounding spaces or tabs."""
    chars = _text_chars(exclude="") if compat else _text_chars(exclude="", include="\t")
    return st.text(alphabet=chars, max_size=16).map(lambda s: s.strip(" \t"))


@functools.cache
def _content_types(compat: bool) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_CONTENT_TYPES), _header_values(compat).map(lambda s: s or "application/x-empty"))


@functools.cache
def _raw_header_names(compat: bool) -> st.SearchStrategy[str]:
    chars = MULTIPART_HNAME_CHARS if compat else TOKEN_CHARS
    return st.one_of(
        st.text(alphabet=chars, min_size=1, max_size=12),
        st.sampled_from(["X-Custom", "Content-Transfer-Encoding", "Content-ID", "x-a", "X_Y", "Content-Language"]),
    )


@st.composite
def _header_names(draw, rnd: random.Random, compat: bool) -> str:
    name = draw(_raw_header_names(compat))
    reserved = {"content-disposition", "content-type"}
    if compat:
        reserved |= {"content-length"}  # multipart checks it against the part size
    if name.lower() in reserved:
        name = "X-" + name
    return _random_case(rnd, name)


def _ws(rnd: random.Random) -> str:
    return "".join(rnd.choice(" \t") for _ in range(rnd.choice((0, 0, 1, 1, 2, 3))))


# -- parts and bodies --------------------------------------------------------------------------------


@dataclass
class PartSpec:
    """One part: the values the parser must report and how its header lines are spelled."""

    name: str  # "" when the Content-Disposition has no name parameter
    filename: str | None
    content_type: str | None  # the first Content-Type's value, as sent (stripped)
    data: bytes
    #: every header line as (name, leading whitespace, value, trailing whitespace), in order
    header_lines: list = field(default_factory=list)
    has_name_param: bool = True  # False: the Content-Disposition has no name parameter at all

    @property
    def expected_headers(self) -> list:
        return [(n, v) for n, _, v, _ in self.header_lines]


@st.composite
def _dispositions(draw, rnd: random.Random, name: str | None, filename: str | None, compat: bool) -> str:
    """A Content-Disposition value that means ``name`` / ``filename``."""
    if (
        rnd.random() < 0.4
        and name is not None
        and raw_quoted_roundtrips(name)
        and (filename is None or raw_quoted_roundtrips(filename))
    ):
        # Exactly what browsers send (fastmime's fast path).
        value = f'form-data; name="{name}"'
        if filename is not None:
            value += f'; filename="{filename}"'
        return value
    params = []
    if name is not None:
        params.append(("name", _param_value(rnd, name, compat)))
    if filename is not None:
        how = "plain" if compat else rnd.choice(["plain", "plain", "ext", "ext+plain"])
        if how in ("plain", "ext+plain"):
            shown = filename if how == "plain" else draw(_filenames(compat))
            params.append(("filename", _param_value(rnd, shown, compat)))
        if how in ("ext", "ext+plain"):
            charsets = ["utf-8", "UTF-8"]
            try:
                filename.encode("latin-1")
                charsets.append("iso-8859-1")
            except UnicodeEncodeError:
                pass
            if filename.isascii():
                charsets.append("us-ascii")
            charset = rnd.choice(charsets)
            codec = "latin-1" if charset == "iso-8859-1" else charset.lower()
            lang = rnd.choice(["", "en", "de-CH"])
            encoded = _pct_quote(filename.encode(codec), safe=rnd.choice(["", "._-"]))
            params.append(("filename*", f"{charset}'{lang}'{encoded}"))
    for _ in range(rnd.choice((0, 0, 0, 1, 2))):
        params.append(
            (
                rnd.choice(["size", "creation-date", "x", "modification-date", "foo_bar"]),
                rnd.choice(["123", '"Wed, 12 Feb 1997 16:29:51 -0500"', "tok", '""', "a1B2"]),
            )
        )
    rnd.shuffle(params)
    out = _random_case(rnd, "form-data")
    for key, value in params:
        key = _random_case(rnd, key)
        sep = rnd.choice(["; ", "; ", ";", " ; ", ";  "] if compat else ["; ", "; ", ";", " ; ", ";\t", "\t;\t"])
        eq = rnd.choice(["=", "=", " = ", "= "] if compat else ["=", "=", " = ", "\t=\t"])
        out += sep + key + eq + value
        if not compat and rnd.random() < 0.1:
            out += "; flag"  # a parameter without "=" is ignored
    if not compat and rnd.random() < 0.1:
        out += ";"
    return out


_EXTRA_HEADERS = st.integers(0, 3)


@st.composite
def part_specs(draw, boundary: bytes, eol: bytes, compat: bool = False) -> PartSpec:
    rnd = random.Random(draw(_SEED))
    name = draw(_names(compat))
    has_name_param = bool(name) or rnd.random() < 0.5  # "" may be `name=""` or no name parameter
    # (st.none() | X would flatten X's branches and make None rare.)
    filename = draw(_filenames(compat)) if draw(st.booleans()) else None
    content_type = draw(_content_types(compat)) if draw(st.booleans()) else None
    data = draw(tricky_bytes(boundary, eol))
    disposition = draw(_dispositions(rnd, name if has_name_param else None, filename, compat))
    lines = []
    for _ in range(draw(_EXTRA_HEADERS)):
        lines.append((draw(_header_names(rnd, compat)), draw(_header_values(compat))))
    lines.insert(rnd.randint(0, len(lines)), (_random_case(rnd, "Content-Disposition"), disposition))
    if content_type is not None:
        at = rnd.randint(0, len(lines))
        lines.insert(at, (_random_case(rnd, "Content-Type"), content_type))
        if not compat and rnd.random() < 0.15:
            # A second Content-Type: the first one wins.
            lines.insert(rnd.randint(at + 1, len(lines)), (_random_case(rnd, "Content-Type"), "application/x-second"))
    header_lines = [(n, _ws(rnd), v, "" if compat else _ws(rnd)) for n, v in lines]
    return PartSpec(name, filename, content_type, data, header_lines, has_name_param)


@dataclass
class PartLayout:
    """Where one part lies in the built body (offsets from the body's start)."""

    header_offset: int  # after the delimiter line's line end
    header_size: int  # the header block, without the empty line that ends it
    header_lines: int
    data_start: int
    data_size: int
    is_file: bool

    @property
    def data_end(self) -> int:
        return self.data_start + self.data_size


@dataclass
class Built:
    body: bytes
    parts: list  # of PartSpec, the expected parts
    layout: list  # of PartLayout
    needle: bytes  # the delimiter inside the body: eol--boundary
    term: bytes  # the end of a header block: eol eol


@dataclass
class BodySpec:
    boundary: bytes
    eol: bytes  # b"\r\n" or b"\n" (bare LF everywhere)
    preamble: bytes  # its own final line end included, or b""
    parts: list  # of PartSpec
    paddings: list  # transport padding after each opening delimiter
    epilogue: bytes

    def build(self) -> Built:
        """Serialize: the body, the expected parts and the layout."""
        eol, b = self.eol, self.boundary
        out = bytearray(self.preamble)
        layout = []
        for part, padding in zip(self.parts, self.paddings):
            if layout:
                out += eol
            out += b"--" + b + padding + eol
            header_offset = len(out)
            block = eol.join(
                n.encode("ascii") + b":" + (lead + v + trail).encode("utf-8") for n, lead, v, trail in part.header_lines
            )
            out += block + eol + eol
            layout.append(
                PartLayout(
                    header_offset,
                    len(block),
                    len(part.header_lines),
                    len(out),
                    len(part.data),
                    part.filename is not None,
                )
            )
            out += part.data
        if layout:
            out += eol
        out += b"--" + b + b"--" + self.epilogue
        needle = eol + b"--" + b
        body = bytes(out)
        for _part, lay in zip(self.parts, layout):  # the builder's own sanity check
            assert needle not in body[lay.data_start : lay.data_end + len(needle) - 1]
        return Built(body, list(self.parts), layout, needle, eol + eol)


@st.composite
def body_specs(
    draw,
    *,
    compat: bool = False,
    max_parts: int = 6,
    lf: bool | None = None,
    preamble: bool = True,
    epilogue: bool = True,
    padding: bool | None = None,
) -> BodySpec:
    """A valid body. ``compat``: only what multipart 2.0.1 parses the same way."""
    boundary = draw(boundaries())
    if lf is None:
        lf = False if compat else draw(st.integers(0, 3)) == 0
    eol = b"\n" if lf else b"\r\n"
    if padding is None:
        padding = not compat
    pre = b""
    if preamble and draw(st.booleans()):
        text = draw(st.one_of(st.binary(max_size=24), tricky_bytes(boundary, eol, max_pieces=4)))
        line_end = b"\r\n" if compat else draw(st.sampled_from([b"\r\n", b"\n"]))
        if compat:
            # multipart: the first "--boundary" found anywhere must start the body or follow CRLF.
            for _ in range(8):
                text = text.replace(b"--" + boundary, b"-_-" + boundary)
            if b"--" + boundary in text:
                text = b""
        text = defuse(text, b"\n--" + boundary)
        if text.startswith(b"--" + boundary):
            text = b"x" + text
        pre = text + line_end
    parts = draw(st.lists(part_specs(boundary, eol, compat), max_size=max_parts))
    if padding:
        paddings = draw(
            st.lists(st.text(alphabet=" \t", max_size=4).map(str.encode), min_size=len(parts), max_size=len(parts))
        )
    else:
        paddings = [b""] * len(parts)
    epi = b""
    if epilogue and draw(st.booleans()):
        epi = draw(
            st.one_of(
                st.binary(max_size=24),
                tricky_bytes(boundary, eol, max_pieces=4),
                st.sampled_from([b"\r\n", b"\r\n--" + boundary + b"\r\ngarbage"]),
            )
        )
    return BodySpec(boundary, eol, pre, parts, paddings, epi)


# -- chunkings -----------------------------------------------------------------------------------------


class Chunking:
    """How a body is cut into feeds: whole, fixed sizes, or at split points; as bytes, bytearray or memoryview."""

    def __init__(self, kind: str, arg=None, wrap: str = "bytes") -> None:
        self.kind, self.arg, self.wrap = kind, arg, wrap

    def split(self, body: bytes) -> list:
        if self.kind == "whole":
            pieces = [body]
        elif self.kind == "size":
            pieces = [body[i : i + self.arg] for i in range(0, len(body), self.arg)]
        else:  # split points, taken modulo len(body) + 1; repeats give empty feeds
            cuts = sorted(p % (len(body) + 1) for p in self.arg)
            edges = [0, *cuts, len(body)]
            pieces = [body[a:b] for a, b in itertools.pairwise(edges)]
        if self.wrap == "bytearray":
            return [bytearray(p) for p in pieces]
        if self.wrap == "memoryview":
            return [memoryview(p) for p in pieces]
        return pieces

    def __repr__(self) -> str:
        arg = "" if self.arg is None else f", {self.arg!r}"
        wrap = "" if self.wrap == "bytes" else f", wrap={self.wrap!r}"
        return f"Chunking({self.kind!r}{arg}{wrap})"


WHOLE = Chunking("whole")
BYTEWISE = Chunking("size", 1)


def chunkings() -> st.SearchStrategy[Chunking]:
    wrap = st.sampled_from(["bytes", "bytes", "bytearray", "memoryview"])
    return st.one_of(
        st.just(WHOLE),
        st.just(BYTEWISE),
        st.builds(lambda n, w: Chunking("size", n, w), st.integers(2, 40), wrap),
        st.builds(
            lambda pts, w: Chunking("points", tuple(pts), w), st.lists(st.integers(0, 1 << 16), max_size=12), wrap
        ),
    )


# -- running a parser and recording what it did -------------------------------------------------------


class RecordingHandler:
    """Records one part's data and end/abort calls; protocol violations go to ``violations``."""

    __slots__ = ("part", "chunks", "ended", "aborts", "violations", "raise_in")

    def __init__(self, part, violations: list, raise_in=None) -> None:
        self.part = part
        self.chunks: list = []
        self.ended = False  # on_end returned normally
        self.aborts: list = []
        self.violations = violations
        self.raise_in = raise_in  # None, "data", "end": make that callback raise HandlerBoom

    def on_data(self, chunk) -> None:
        if not isinstance(chunk, memoryview) or len(chunk) == 0:
            self.violations.append(f"part {self.part.index}: on_data({type(chunk).__name__} of {len(chunk)})")
        if self.ended or self.aborts:
            self.violations.append(f"part {self.part.index}: on_data after on_end/on_abort")
        self.chunks.append(bytes(chunk))
        if self.raise_in == "data":
            raise HandlerBoom("on_data failed")

    def on_end(self) -> None:
        if self.ended or self.aborts:
            self.violations.append(f"part {self.part.index}: on_end after on_end/on_abort")
        if self.raise_in == "end":
            raise HandlerBoom("on_end failed")
        self.ended = True

    def on_abort(self, error) -> None:
        if self.ended:
            self.violations.append(f"part {self.part.index}: on_abort after a normal on_end")
        self.aborts.append(error)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


class HandlerBoom(Exception):
    """Raised by a handler on purpose."""


@dataclass(frozen=True)
class PartOutcome:
    index: int
    name: str
    filename: str | None
    content_type: str | None
    charset: str | None
    headers: tuple
    ended: bool
    data: bytes | None  # None for a part that did not end: how much it got depends on the chunking


@dataclass
class Outcome:
    error: tuple | None  # (class name, part_index, part_name, offset, str(error))
    parts: list  # of PartOutcome
    aborted_data: bytes | None
    handlers: list
    exception: BaseException | None

    @property
    def key(self) -> tuple:
        """What must not depend on the implementation or the chunking."""
        return self.error, tuple(self.parts)


def error_signature(error: BaseException | None):
    if error is None:
        return None
    return (
        type(error).__name__,
        getattr(error, "part_index", None),
        getattr(error, "part_name", None),
        getattr(error, "offset", None),
        str(error),
    )


def run(
    parser_cls,
    boundary: bytes,
    chunks,
    limits=None,
    *,
    handler_factory=None,
    check_internals: bool = False,
    abort_after: int | None = None,
    coalesce: int | None = None,
) -> Outcome:
    """Feed ``chunks`` then close; record everything; check the handler protocol and the failed state.

    ``check_internals`` (pure parser only): after every feed the held-back tail is shorter than the
    delimiter and the header buffer within the header limit plus two line ends.
    ``abort_after``: call ``parser.abort()`` after that many feeds instead of going on.
    ``coalesce``: the parser's ``coalesce`` (None: its default).
    """
    violations: list = []
    handlers: list = []

    def handler_for(part):
        h = (handler_factory or RecordingHandler)(part, violations)
        handlers.append(h)
        return h

    options = {} if coalesce is None else {"coalesce": coalesce}
    parser = parser_cls(boundary, handler_for, limits, **options)
    error = None
    try:
        for i, chunk in enumerate(chunks):
            if abort_after is not None and i == abort_after:
                parser.abort()
                error = _aborted_error(parser)
                break
            parser.feed(chunk)
            if check_internals:
                check_parser_bounds(parser)
        else:
            parser.close()
    except (MultipartError, HandlerBoom) as e:
        error = e
    if error is not None:
        # A failed parser raises the same exception again, and stays failed.
        for again in (lambda: parser.feed(b"x"), lambda: parser.feed(b""), parser.close):
            try:
                again()
            except BaseException as e2:  # noqa: BLE001
                if e2 is not error:
                    violations.append(f"a failed parser raised {e2!r}, not the same {error!r}")
            else:
                violations.append("a failed parser accepted another call")
        if parser.finished:
            violations.append("a failed parser says finished")
    else:
        if not parser.finished:
            violations.append("close() returned but finished is False")
        if parser.received != sum(len(c) for c in chunks):
            violations.append(f"received is {parser.received}")
    # on_abort exactly once for a started part that did not end, never for one that did.
    open_parts = [h for h in handlers if not h.ended]
    for h in handlers:
        if h.ended and h.aborts:
            violations.append(f"part {h.part.index} ended and was aborted")
        if not h.ended:
            if error is None:
                violations.append(f"part {h.part.index} neither ended nor aborted on a closed parser")
            elif len(h.aborts) != 1 or h.aborts[0] is not error:
                violations.append(f"part {h.part.index} did not end and got on_abort {h.aborts!r}")
    if len(open_parts) > 1:
        violations.append(f"{len(open_parts)} parts did not end; only the last started one may be open")
    assert not violations, violations
    parts = [
        PartOutcome(
            h.part.index,
            h.part.name,
            h.part.filename,
            h.part.content_type,
            h.part.charset,
            tuple(h.part.headers),
            h.ended,
            h.data if h.ended else None,
        )
        for h in handlers
    ]
    aborted = open_parts[-1].data if open_parts else None
    return Outcome(error_signature(error), parts, aborted, handlers, error)


def _aborted_error(parser):
    try:
        parser.close()
    except MultipartError as e:
        return e
    raise AssertionError("close() after abort() did not raise")


def check_parser_bounds(parser) -> None:
    """The pure parser's buffers stay bounded: held-back tail < delimiter, header buffer <= limit + 2 EOLs."""
    tail = parser._tail
    assert len(tail) <= len(parser._needle) - 1, (tail, parser._needle)
    hbuf = parser._hbuf
    if hbuf is not None:
        assert len(hbuf) <= parser._max_header_size + 3 * len(parser._eol), (len(hbuf), parser._max_header_size)


def expected_outcome_parts(built: Built) -> list:
    return [
        PartOutcome(i, p.name, p.filename, p.content_type, None, tuple(p.expected_headers), True, p.data)
        for i, p in enumerate(built.parts)
    ]


def without_charset(parts) -> list:
    return [PartOutcome(p.index, p.name, p.filename, p.content_type, None, p.headers, p.ended, p.data) for p in parts]


# -- the reference for limits ------------------------------------------------------------------------


def held_back(body: bytes, start: int, cut: int, needle: bytes) -> int:
    """Where the longest suffix of ``body[start:cut]`` shorter than ``needle`` that begins ``needle`` starts."""
    for size in range(min(len(needle) - 1, cut - start), 0, -1):
        if needle.startswith(body[cut - size : cut]):
            return cut - size
    return cut


def emitted(built: Built, k: int, cut: int) -> int:
    """How many bytes of part ``k``'s data a parser can have handed on once it has read ``body[:cut]``."""
    lay = built.layout[k]
    n = len(built.needle)
    if cut >= lay.data_end + n:
        return lay.data_size
    return min(held_back(built.body, lay.data_start, cut, built.needle), lay.data_end) - lay.data_start


def expected_limit_outcome(built: Built, limits: fastmime.Limits):
    """(error class name, part_index, offset) or None, started part count, ended part count.

    The parser reads the body in order; each check can fire only once the bytes it needs were read,
    and no byte past ``max_body_size`` is read: the first check, in body order, whose bytes are all
    within ``min(len(body), max_body_size)`` is the error.
    """
    body = built.body
    cut = min(len(body), limits.max_body_size)
    n = len(built.needle)
    started = ended = 0
    open_part = None
    for k, (_part, lay) in enumerate(zip(built.parts, built.layout)):
        if cut < lay.header_offset:
            break
        if k >= limits.max_parts:
            return ("TooManyParts", k, lay.header_offset), started, ended
        if lay.header_size > limits.max_header_size:
            if lay.header_offset + limits.max_header_size + len(built.term) <= cut:
                return ("HeaderTooLarge", k, lay.header_offset + limits.max_header_size), started, ended
            break
        if cut < lay.data_start:
            break
        if lay.header_lines > limits.max_header_lines:
            return ("TooManyHeaders", k, lay.header_offset), started, ended
        started += 1
        open_part = k
        limit = limits.max_file_size if lay.is_file else limits.max_field_size
        if emitted(built, k, cut) > limit:
            return ("FileTooLarge" if lay.is_file else "FieldTooLarge", k, lay.data_start + limit), started, ended
        if cut < lay.data_end + n:
            break
        ended += 1
        open_part = None
    if len(body) > limits.max_body_size:
        return ("BodyTooLarge", open_part, limits.max_body_size), started, ended
    return None, started, ended
