"""Helpers for the fastmime tests: a recording handler, body builders, chunkings."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import fastmime
import fastmime.pure

IMPLEMENTATIONS = {"python": fastmime.pure.MultipartParser}
if fastmime.IMPLEMENTATION == "cython":
    IMPLEMENTATIONS["cython"] = fastmime.MultipartParser

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
UNLIMITED = fastmime.Limits(
    max_parts=1 << 20,
    max_header_size=1 << 20,
    max_header_lines=1 << 10,
    max_field_size=1 << 40,
    max_file_size=1 << 40,
    max_body_size=1 << 40,
)


@dataclass
class Recorded:
    """What one handler saw."""

    part: fastmime.Part
    data: bytearray = field(default_factory=bytearray)
    ended: int = 0
    aborted: list = field(default_factory=list)
    chunk_types: set = field(default_factory=set)

    def on_data(self, chunk):
        self.chunk_types.add(type(chunk))
        self.data += chunk

    def on_end(self):
        self.ended += 1

    def on_abort(self, error):
        self.aborted.append(error)

    def summary(self):
        p = self.part
        return (p.index, p.name, p.filename, p.content_type, bytes(self.data), self.ended, len(self.aborted))


class Recorder:
    """handler_for that records every part."""

    def __init__(self):
        self.parts: list[Recorded] = []

    def __call__(self, part):
        rec = Recorded(part)
        self.parts.append(rec)
        return rec


def parse(parser_cls, body: bytes, chunks=None, limits=None, boundary=BOUNDARY, close=True):
    """Feed ``body`` (in ``chunks`` when given) and return (recorder, error or None)."""
    recorder = Recorder()
    parser = parser_cls(boundary, recorder, limits)
    pieces = [body] if chunks is None else chunks
    try:
        for piece in pieces:
            parser.feed(piece)
        if close:
            parser.close()
    except fastmime.MultipartError as error:
        return recorder, error
    return recorder, None


def outcome(parser_cls, body, chunks=None, limits=None, boundary=BOUNDARY):
    """A comparable summary: the parts seen and the error (class, part index, offset)."""
    recorder, error = parse(parser_cls, body, chunks, limits, boundary)
    err = None if error is None else (type(error).__name__, error.part_index, error.offset)
    return [r.summary() for r in recorder.parts], err


def split_every(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def chunkings(body: bytes, seed: int = 0, random_splits: int = 8):
    """Whole, 1-byte, 2/3/7-byte and a few random chunkings of ``body``."""
    yield "whole", [body]
    for size in (1, 2, 3, 7, 64):
        yield f"{size}-byte", split_every(body, size)
    rng = random.Random(seed)
    for n in range(random_splits):
        cuts = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randint(1, 12)))) if len(body) > 1 else []
        bounds = [0, *cuts, len(body)]
        yield f"random{n}", [body[a:b] for a, b in itertools.pairwise(bounds)]


def part(
    name=None, data=b"", filename=None, content_type=None, extra_headers=(), disposition=None, eol=b"\r\n"
) -> bytes:
    """One part (headers + blank line + data), without delimiters."""
    if disposition is None:
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
    lines = [b"Content-Disposition: " + disposition.encode("utf-8")]
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type.encode("utf-8"))
    lines.extend(extra_headers)
    return eol.join(lines) + eol + eol + data


def body_of(*parts: bytes, boundary=BOUNDARY, preamble=b"", epilogue=b"", eol=b"\r\n") -> bytes:
    """A whole body from parts made by :func:`part`."""
    out = [preamble]
    for p in parts:
        out.append(b"--" + boundary + eol + p + eol)
    out.append(b"--" + boundary + b"--" + epilogue)
    return b"".join(out)
