"""Workloads and per-parser adapters shared by ``compare_parsers.py`` and ``test_bench_parsers.py``.

Every workload is a complete multipart/form-data body, pre-split into a list of ``bytes`` chunks, plus
the list of parts a correct parser must report. Every parser is driven through an adapter that builds a
fresh parser, feeds it the chunks and returns what an equivalent, minimal sink recorded:

* file part  -> ``(name, filename, size, crc32)``: the sink counts bytes and updates ``zlib.crc32``;
* field part -> ``(name, None, size, value)``: the sink collects the value bytes.

Each parser gets these sinks through its own documented API, and a parser's built-in facility for
collecting a field's value is used where it has one at the layer driven here: fastmime's
``ValueHandler`` (what ``parse_form`` gives every field) and streaming-form-data's ``ValueTarget``. The
event APIs of defnull's ``multipart`` (PushMultipartParser) and werkzeug (MultipartDecoder), and the
callbacks of python-multipart's MultipartParser, have none: the caller collects the value, as here.
(python-multipart's ``Field`` objects belong to its FormParser, a layer above, which also spools files.)
No parser has a built-in crc32 sink, so every file sink is the caller's code.

A run is right when that list equals the workload's ``expected`` list exactly (order included).
"""

from __future__ import annotations

import functools
import os
import random
import string
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Benchmark the working tree's fastmime (not some other installed copy) when run from a checkout.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

KiB = 1024
MiB = 1024 * KiB

# --------------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------------

#: big: the single file of (a)-(c); fields: count for (d); file3: each file of (e);
#: adv: content size of the adversarial (f)-(i); pre: preamble and epilogue size of (j).
PROFILES: dict[str, dict[str, int]] = {
    "full": {"big": 64 * MiB, "fields": 10_000, "file3": 3 * MiB, "adv": 16 * MiB, "pre": 8 * MiB},
    "quick": {"big": 8 * MiB, "fields": 2_000, "file3": 1 * MiB, "adv": 2 * MiB, "pre": 1 * MiB},
    "check": {"big": 3 * MiB, "fields": 1_000, "file3": 256 * KiB, "adv": 512 * KiB, "pre": 256 * KiB},
    "test": {"big": 2 * MiB, "fields": 500, "file3": 128 * KiB, "adv": 256 * KiB, "pre": 128 * KiB},
}

#: key -> (short title, chunk size)
WORKLOADS: dict[str, tuple[str, int]] = {
    "a": ("one big file, 64 KiB chunks", 64 * KiB),
    "b": ("one big file, 1 MiB chunks", 1 * MiB),
    "c": ("one big file, 1 KiB chunks", 1 * KiB),
    "d": ("many ~20-byte fields", 64 * KiB),
    "e": ("5 fields + 3 files", 64 * KiB),
    "f": ("near-miss delimiters as content", 64 * KiB),
    "g": ("CRLF-only content", 64 * KiB),
    "h": ("'--boundary' without CRLF as content", 64 * KiB),
    "i": ("one CR then no CR/LF", 64 * KiB),
    "j": ("CRLF preamble + 1 field + epilogue", 64 * KiB),
}

ALL_KEYS = tuple(WORKLOADS)


def fmt_size(n: int) -> str:
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if n >= KiB and n % KiB == 0:
        return f"{n // KiB} KiB"
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    return f"{n} B"


# --------------------------------------------------------------------------------------------------
# Body construction
# --------------------------------------------------------------------------------------------------

_SEED = 0x5EED_F0A4


@functools.lru_cache(maxsize=1)
def _pool(n: int) -> bytes:
    """Random bytes drawn once (per size) and reused by every workload."""
    return os.urandom(n)


def random_bytes(n: int, offset: int = 0) -> bytes:
    """``n`` random bytes from the shared pool; different offsets give different contents."""
    pool = _pool(max(64 * MiB, n + offset))
    if n + offset > len(pool):  # pragma: no cover - pool too small for a custom profile
        _pool.cache_clear()
        pool = _pool(n + offset)
    return pool[offset : offset + n]


def browser_boundary(rng: random.Random) -> bytes:
    """A boundary as WebKit/Blink browsers make it."""
    alnum = string.ascii_letters + string.digits
    return ("----WebKitFormBoundary" + "".join(rng.choice(alnum) for _ in range(16))).encode("ascii")


@dataclass
class PartSpec:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    def headers(self) -> bytes:
        cd = f'Content-Disposition: form-data; name="{self.name}"'
        if self.filename is not None:
            cd += f'; filename="{self.filename}"'
        lines = [cd]
        if self.content_type is not None:
            lines.append(f"Content-Type: {self.content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def record(self) -> tuple:
        if self.filename is None:
            return (self.name, None, len(self.data), self.data)
        return (self.name, self.filename, len(self.data), zlib.crc32(self.data))


def encode_body(boundary: bytes, parts: list[PartSpec], preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart/form-data body as a browser sends it (plus optional preamble/epilogue)."""
    pieces = [preamble]
    for i, p in enumerate(parts):
        pieces.append((b"--" if i == 0 else b"\r\n--") + boundary + b"\r\n")
        pieces.append(p.headers())
        pieces.append(p.data)
    pieces.append(b"\r\n--" + boundary + b"--\r\n")
    pieces.append(epilogue)
    return b"".join(pieces)


def split_chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@dataclass
class Workload:
    key: str
    title: str
    profile: str
    boundary: bytes
    chunk_size: int
    chunks: list[bytes]
    expected: list[tuple]
    body_len: int
    content_desc: str
    #: distinct part names in order of first appearance (streaming-form-data must register them up front)
    names: list[str] = field(default_factory=list)

    @property
    def content_type_header(self) -> str:
        return "multipart/form-data; boundary=" + self.boundary.decode("ascii")

    def label(self) -> str:
        return (
            f"({self.key}) {self.title}: {self.content_desc}, body {fmt_size(self.body_len)}, "
            f"{len(self.chunks)} chunks of {fmt_size(self.chunk_size)}"
        )


def _parts_for(key: str, sizes: dict[str, int], boundary: bytes) -> tuple[list[PartSpec], bytes, bytes, str]:
    """(parts, preamble, epilogue, description) of one workload."""
    big, nfields, file3, adv, pre = (sizes[k] for k in ("big", "fields", "file3", "adv", "pre"))
    if key in "abc":
        return (
            [PartSpec("upload", random_bytes(big), "IMG_0001.JPG", "image/jpeg")],
            b"",
            b"",
            f"1 file of {fmt_size(big)} random bytes",
        )
    if key == "d":
        parts = [PartSpec(f"field{i}", f"value {i:07d} abcdefg".encode("ascii")) for i in range(nfields)]
        return parts, b"", b"", f"{nfields} fields of {len(parts[0].data)} bytes"
    if key == "e":

        def f(i: int) -> PartSpec:
            return PartSpec(f"photo{i}", random_bytes(file3, offset=(i + 1) * 4 * MiB), f"photo {i}.jpg", "image/jpeg")

        parts = [
            PartSpec("title", b"Holiday 2024"),
            PartSpec("album", b"12345"),
            f(0),
            PartSpec("description", "Tr\u00e8s belles photos, \u65e5\u672c".encode("utf-8")),
            f(1),
            PartSpec("tags", b"sea,sun,beach"),
            PartSpec("token", b"d41d8cd98f00b204e9800998ecf8427e"),
            f(2),
        ]
        return parts, b"", b"", f"5 fields + 3 files of {fmt_size(file3)}"
    if key == "f":
        unit = b"\r\n--" + boundary[:-1]  # the delimiter minus its last byte
        content = unit * (adv // len(unit))
        return (
            [PartSpec("nearmiss", content, "nearmiss.bin", "application/octet-stream")],
            b"",
            b"",
            f"file of {fmt_size(len(content))}: CRLF--boundary[:-1] repeated",
        )
    if key == "g":
        content = b"\r\n" * (adv // 2)
        return (
            [PartSpec("crlf", content, "crlf.bin", "application/octet-stream")],
            b"",
            b"",
            f"file of {fmt_size(len(content))} CRLF",
        )
    if key == "h":
        # '--boundary' (and '--boundary--') preceded by bytes that are never CR or LF, so no parser, lenient
        # about bare LF/CR line ends or not, may see a delimiter in it.
        unit = b"--" + boundary + b"--" + b" --" + boundary + b"x"
        content = b"x" + unit * (adv // len(unit))
        return (
            [PartSpec("dashes", content, "dashes.bin", "application/octet-stream")],
            b"",
            b"",
            f"file of {fmt_size(len(content))}: '--boundary' without CRLF repeated",
        )
    if key == "i":
        no_crlf = random_bytes(adv, offset=8 * MiB).translate(bytes.maketrans(b"\r\n", b"ab"))
        content = b"\r" + no_crlf
        return (
            [PartSpec("onecr", content, "onecr.bin", "application/octet-stream")],
            b"",
            b"",
            f"file of {fmt_size(adv)}+1: CR then no CR/LF",
        )
    if key == "j":
        preamble = b"\r\n" * (pre // 2)
        epilogue = random_bytes(pre, offset=24 * MiB)
        return (
            [PartSpec("comment", b"the only field in this body")],
            preamble,
            epilogue,
            f"{fmt_size(pre)} CRLF preamble, 1 field, {fmt_size(pre)} random epilogue",
        )
    raise KeyError(key)


def build(key: str, profile: str = "full") -> Workload:
    """Build workload ``key`` at ``profile`` size: body encoded once, then pre-split into bytes chunks."""
    sizes = PROFILES[profile]
    title, chunk_size = WORKLOADS[key]
    rng = random.Random(f"{_SEED}-{key}")
    boundary = browser_boundary(rng)
    parts, preamble, epilogue, desc = _parts_for(key, sizes, boundary)
    body = encode_body(boundary, parts, preamble, epilogue)
    chunks = split_chunks(body, chunk_size)
    names = list(dict.fromkeys(p.name for p in parts))
    return Workload(
        key, title, profile, boundary, chunk_size, chunks, [p.record() for p in parts], len(body), desc, names
    )


def build_low_memory(key: str, profile: str = "full", blocks: int | None = None) -> Workload:
    """(a) or (j) as a chunk list that reuses one 64 KiB block object, so the input costs ~no memory.

    Used by the memory measurement: with the input not occupying RSS, any growth of the peak RSS during
    a run is the parser's (and its sink's) own. ``blocks`` overrides the number of blocks (a tiny warm-up).
    """
    sizes = PROFILES[profile]
    title, chunk_size = WORKLOADS[key]
    rng = random.Random(f"{_SEED}-{key}")
    boundary = browser_boundary(rng)
    if key == "a":
        part = PartSpec("upload", b"", "IMG_0001.JPG", "image/jpeg")
        block = os.urandom(chunk_size)  # not the shared pool: keep this process small
        n = blocks or sizes["big"] // chunk_size
        chunks = [b"--" + boundary + b"\r\n" + part.headers()] + [block] * n + [b"\r\n--" + boundary + b"--\r\n"]
        crc = 0
        for _ in range(n):
            crc = zlib.crc32(block, crc)
        expected = [("upload", "IMG_0001.JPG", n * chunk_size, crc)]
        desc = f"1 file of {fmt_size(n * chunk_size)} (one {fmt_size(chunk_size)} block fed {n} times)"
    elif key == "j":
        value = b"the only field in this body"
        pre_block = b"\r\n" * (chunk_size // 2)
        epi_block = os.urandom(chunk_size)
        n = blocks or sizes["pre"] // chunk_size
        middle = (
            b"--" + boundary + b"\r\n" + PartSpec("comment", value).headers() + value + b"\r\n--" + boundary + b"--\r\n"
        )
        chunks = [pre_block] * n + [middle] + [epi_block] * n
        expected = [("comment", None, len(value), value)]
        desc = f"{fmt_size(n * chunk_size)} CRLF preamble, 1 field, {fmt_size(n * chunk_size)} epilogue (reused blocks)"
    else:
        raise KeyError(key)
    return Workload(
        key,
        title,
        profile,
        boundary,
        chunk_size,
        chunks,
        expected,
        sum(map(len, chunks)),
        desc,
        [r[0] for r in expected],
    )


def compare(expected: list[tuple], got: list[tuple]) -> str | None:
    """``None`` when ``got`` is right, else a one-line description of the first difference."""
    if got == expected:
        return None

    def show(rec: tuple) -> str:
        name, filename, size, check = rec
        if filename is None:
            val = check if len(check) <= 24 else check[:24] + b"..."
            return f"field {name!r} size={size} value={val!r}"
        return f"file {name!r} filename={filename!r} size={size} crc32={check:#010x}"

    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            return f"part {i}: expected {show(e)}, got {show(g) if len(g) == 4 else repr(g)[:120]}"
    return f"expected {len(expected)} parts, got {len(got)}" + (
        f" (first extra: {show(got[len(expected)])})" if len(got) > len(expected) else ""
    )


# --------------------------------------------------------------------------------------------------
# Parser adapters: each returns ``run(workload) -> list[record]`` that parses the whole body once.
# --------------------------------------------------------------------------------------------------

crc32 = zlib.crc32


class NotApplicable(Exception):
    """The parser cannot take this workload at all (reported as N/A, with the reason)."""


# ---- fastmime (both implementations share one sink) ----------------------------------------------


class _FmFile:
    __slots__ = ("filename", "size", "crc")

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.size = 0
        self.crc = 0

    def on_data(self, chunk: memoryview) -> None:
        self.size += len(chunk)
        self.crc = crc32(chunk, self.crc)

    def on_end(self) -> None:
        pass

    def on_abort(self, error: BaseException) -> None:
        pass


def fastmime_generous_limits(limits_cls):
    """Limits that let every workload through (64 MiB file, 10,000 parts, big preamble/epilogue)."""
    wanted = {"max_parts": 1_000_000, "max_file_size": 1 << 40, "max_body_size": 1 << 40, "max_field_size": 1 << 30}
    fields = getattr(limits_cls, "__dataclass_fields__", None)
    if fields is not None:
        wanted = {k: v for k, v in wanted.items() if k in fields}
    return limits_cls(**wanted)


def make_fastmime_runner(parser_cls, limits) -> Callable[[Workload], list]:
    from fastmime.handlers import ValueHandler

    def run(wl: Workload) -> list:
        parts: list = []
        append = parts.append

        def handler_for(part):
            handler = ValueHandler() if part.filename is None else _FmFile(part.filename)
            append((part.name, handler))
            return handler

        parser = parser_cls(wl.boundary, handler_for, limits)
        feed = parser.feed
        for chunk in wl.chunks:
            feed(chunk)
        parser.close()
        return [
            (name, handler.filename, handler.size, handler.crc)
            if handler.__class__ is _FmFile
            else (name, None, handler.size, handler.value)
            for name, handler in parts
        ]

    return run


# ---- defnull's multipart (PushMultipartParser, sans-IO) ------------------------------------------


def make_multipart_runner() -> Callable[[Workload], list]:
    from multipart import MultipartSegment, PushMultipartParser

    def run(wl: Workload) -> list:
        out: list = []
        parser = PushMultipartParser(wl.boundary)
        name = filename = None
        is_file = False
        size = crc = 0
        buf: list = []
        for chunk in wl.chunks:
            for event in parser.parse(chunk):
                if event.__class__ is bytes:  # body data (the common case first)
                    if is_file:
                        size += len(event)
                        crc = crc32(event, crc)
                    else:
                        buf.append(event)
                elif event is None:  # end of segment
                    if is_file:
                        out.append((name, filename, size, crc))
                    else:
                        value = b"".join(buf)
                        out.append((name, None, len(value), value))
                elif isinstance(event, MultipartSegment):
                    name, filename = event.name, event.filename
                    is_file = filename is not None
                    size = crc = 0
                    buf = []
                else:  # bytearray or another bytes-like
                    if is_file:
                        size += len(event)
                        crc = crc32(event, crc)
                    else:
                        buf.append(bytes(event))
        parser.close()  # raises if the stream was incomplete
        return out

    return run


# ---- python-multipart (callbacks) -----------------------------------------------------------------


def make_python_multipart_runner() -> Callable[[Workload], list]:
    from python_multipart import MultipartParser
    from python_multipart.multipart import parse_options_header

    def run(wl: Workload) -> list:
        out: list = []
        st = {
            "hf": [],
            "hv": [],
            "headers": [],
            "name": None,
            "filename": None,
            "is_file": False,
            "size": 0,
            "crc": 0,
            "buf": [],
        }

        def on_part_begin() -> None:
            st["headers"] = []
            st["hf"] = []
            st["hv"] = []

        def on_header_field(data: bytes, start: int, end: int) -> None:
            st["hf"].append(data[start:end])

        def on_header_value(data: bytes, start: int, end: int) -> None:
            st["hv"].append(data[start:end])

        def on_header_end() -> None:
            st["headers"].append((b"".join(st["hf"]).lower(), b"".join(st["hv"])))
            st["hf"] = []
            st["hv"] = []

        def on_headers_finished() -> None:
            name = filename = None
            for hname, hvalue in st["headers"]:
                if hname == b"content-disposition":
                    _, params = parse_options_header(hvalue)
                    name = params.get(b"name")
                    filename = params.get(b"filename")
            st["name"] = name.decode("utf-8") if name is not None else None
            st["filename"] = filename.decode("utf-8") if filename is not None else None
            is_file = st["is_file"] = filename is not None
            st["size"] = st["crc"] = 0
            st["buf"] = []
            callbacks["on_part_data"] = on_file_data if is_file else on_field_data

        def on_file_data(data: bytes, start: int, end: int) -> None:
            st["size"] += end - start
            st["crc"] = crc32(memoryview(data)[start:end], st["crc"])  # no copy

        def on_field_data(data: bytes, start: int, end: int) -> None:
            st["buf"].append(data[start:end])

        def on_part_end() -> None:
            if st["is_file"]:
                out.append((st["name"], st["filename"], st["size"], st["crc"]))
            else:
                value = b"".join(st["buf"])
                out.append((st["name"], None, len(value), value))

        callbacks = {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_field_data,
            "on_part_end": on_part_end,
        }
        parser = MultipartParser(wl.boundary, callbacks)
        write = parser.write
        for chunk in wl.chunks:
            write(chunk)
        parser.finalize()  # note: python-multipart does not check that the stream was complete
        return out

    return run


# ---- streaming-form-data (targets registered per expected name) -----------------------------------


def make_streaming_form_data_runner() -> Callable[[Workload], list]:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget, ValueTarget

    class OrderedValueTarget(ValueTarget):
        """The built-in ValueTarget, noting when its part ends (the records keep arrival order)."""

        def __init__(self, name: str, out: list) -> None:
            super().__init__()
            self.name = name
            self.out = out

        def on_finish(self) -> None:
            value = self.value
            self.out.append((self.name, None, len(value), value))

    class RecordingTarget(BaseTarget):
        """Records each file part it is handed (a name can repeat), in arrival order, into a shared list."""

        def __init__(self, name: str, out: list) -> None:
            super().__init__()
            self.name = name
            self.out = out
            self.is_file = False
            self.size = self.crc = 0
            self.buf: list = []

        def on_start(self) -> None:
            self.is_file = self.multipart_filename is not None
            self.size = self.crc = 0
            self.buf = []

        def on_data_received(self, chunk: bytes) -> None:
            if self.is_file:
                self.size += len(chunk)
                self.crc = crc32(chunk, self.crc)
            else:
                self.buf.append(chunk)

        def on_finish(self) -> None:
            if self.is_file:
                self.out.append((self.name, self.multipart_filename, self.size, self.crc))
            else:
                value = b"".join(self.buf)
                self.out.append((self.name, None, len(value), value))

    def run(wl: Workload) -> list:
        if any(not n for n in wl.names):
            raise NotApplicable("streaming-form-data routes parts by name only; unnamed parts cannot be received")
        out: list = []
        parser = StreamingFormDataParser(headers={"Content-Type": wl.content_type_header})
        files = {record[0] for record in wl.expected if record[1] is not None}
        for name in wl.names:  # names must be known up front: part of the cost of using this parser
            parser.register(name, RecordingTarget(name, out) if name in files else OrderedValueTarget(name, out))
        data_received = parser.data_received
        for chunk in wl.chunks:
            data_received(chunk)
        # streaming-form-data has no close()/end-of-input check.
        return out

    return run


# ---- werkzeug sans-IO MultipartDecoder -----------------------------------------------------------


def make_werkzeug_runner() -> Callable[[Workload], list]:
    from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder, Preamble

    def run(wl: Workload) -> list:
        out: list = []
        decoder = MultipartDecoder(wl.boundary)
        receive_data = decoder.receive_data
        next_event = decoder.next_event
        name = filename = None
        is_file = False
        size = crc = 0
        buf: list = []

        def drain() -> bool:
            nonlocal name, filename, is_file, size, crc, buf
            while True:
                event = next_event()
                cls = event.__class__
                if cls is Data:
                    data = event.data
                    if is_file:
                        size += len(data)
                        crc = crc32(data, crc)
                    elif data:
                        buf.append(data)
                    if not event.more_data:
                        if is_file:
                            out.append((name, filename, size, crc))
                        else:
                            value = b"".join(buf)
                            out.append((name, None, len(value), value))
                elif event is NEED_DATA:
                    return False
                elif cls is File:
                    name, filename, is_file = event.name, event.filename, True
                    size = crc = 0
                elif cls is Field:
                    name, filename, is_file = event.name, None, False
                    buf = []
                elif cls is Epilogue:
                    return True
                elif cls is Preamble:
                    pass
                else:  # pragma: no cover
                    raise TypeError(f"unexpected werkzeug event {event!r}")

        for chunk in wl.chunks:
            receive_data(chunk)
            drain()
        receive_data(None)  # end of input: the decoder raises ValueError if the body was incomplete
        if not drain():  # pragma: no cover - next_event raises first
            raise ValueError("werkzeug did not reach the epilogue")
        return out

    return run


# ---- registry ---------------------------------------------------------------------------------------


@dataclass
class ParserEntry:
    key: str
    label: str
    peer: bool
    run: Callable[[Workload], list] | None
    unavailable: str | None = None  # why it cannot run at all here


def _try(factory: Callable[[], Callable[[Workload], list]]) -> tuple[Callable | None, str | None]:
    try:
        return factory(), None
    except Exception as exc:  # ImportError and friends
        return None, f"{type(exc).__name__}: {exc}"


def fastmime_info() -> tuple[object | None, str | None]:
    """(fastmime module, None) or (None, why it cannot be imported)."""
    try:
        import fastmime
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return fastmime, None


def parser_entries() -> list[ParserEntry]:
    """All parsers, fastmime first; entries that cannot run here carry ``unavailable``."""
    entries: list[ParserEntry] = []
    fm, why = fastmime_info()
    if fm is None:
        entries.append(ParserEntry("fastmime-cython", "fastmime (cython)", False, None, why))
        entries.append(ParserEntry("fastmime-pure", "fastmime (pure)", False, None, why))
    else:
        try:
            limits = fastmime_generous_limits(fm.Limits)
        except Exception as exc:
            limits, why_l = None, f"Limits: {type(exc).__name__}: {exc}"
        else:
            why_l = None
        impl = getattr(fm, "IMPLEMENTATION", "?")
        if why_l:
            entries.append(ParserEntry("fastmime-cython", "fastmime (cython)", False, None, why_l))
        elif impl != "cython":
            entries.append(
                ParserEntry(
                    "fastmime-cython",
                    "fastmime (cython)",
                    False,
                    None,
                    f"fastmime.IMPLEMENTATION == {impl!r} (extension not built)",
                )
            )
        else:
            entries.append(
                ParserEntry(
                    "fastmime-cython", "fastmime (cython)", False, make_fastmime_runner(fm.MultipartParser, limits)
                )
            )
        try:
            import fastmime.pure as fm_pure

            pure_cls = fm_pure.MultipartParser
        except Exception as exc:
            entries.append(
                ParserEntry(
                    "fastmime-pure", "fastmime (pure)", False, None, f"fastmime.pure: {type(exc).__name__}: {exc}"
                )
            )
        else:
            entries.append(
                ParserEntry(
                    "fastmime-pure",
                    "fastmime (pure)",
                    False,
                    None if why_l else make_fastmime_runner(pure_cls, limits),
                    why_l,
                )
            )
    for key, label, factory in (
        ("multipart", "multipart (defnull)", make_multipart_runner),
        ("python-multipart", "python-multipart", make_python_multipart_runner),
        ("streaming-form-data", "streaming-form-data", make_streaming_form_data_runner),
        ("werkzeug", "werkzeug sansio", make_werkzeug_runner),
    ):
        run, why = _try(factory)
        entries.append(ParserEntry(key, label, True, run, why))
    return entries


PARSER_KEYS = ("fastmime-cython", "fastmime-pure", "multipart", "python-multipart", "streaming-form-data", "werkzeug")
