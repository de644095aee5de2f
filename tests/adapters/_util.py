"""Helpers of the adapter tests: multipart bodies, recording handlers, fake WSGI inputs."""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass, field
from typing import Any

import fastmime

BOUNDARY = "fastmimeTestBoundary9x7"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(
    *parts: tuple[str, str | None, bytes] | tuple[str, str | None, bytes, str],
    boundary: str = BOUNDARY,
    epilogue: bytes = b"",
) -> bytes:
    """A multipart/form-data body from ``(name, filename, data[, content_type])`` tuples.

    ``name`` may be ``None`` for a file part without a name.
    """
    out = bytearray()
    for item in parts:
        name, filename, data = item[0], item[1], item[2]
        ctype = item[3] if len(item) > 3 else ("application/octet-stream" if filename is not None else None)
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode() + epilogue
    return bytes(out)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Recorded:
    """One part as its handler saw it, with the thread that ran the calls."""

    part: fastmime.Part
    data: bytearray = field(default_factory=bytearray)
    ended: int = 0
    aborted: list[BaseException] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def on_data(self, chunk: memoryview) -> None:
        self.threads.add(threading.current_thread().name)
        self.data += chunk

    def on_end(self) -> None:
        self.ended += 1

    def on_abort(self, error: BaseException) -> None:
        self.aborted.append(error)


class Recorder:
    """A ``handler_for`` that records every part."""

    def __init__(self) -> None:
        self.parts: list[Recorded] = []

    def __call__(self, part: fastmime.Part) -> Recorded:
        rec = Recorded(part)
        self.parts.append(rec)
        return rec

    def result(self) -> list[tuple[str, str | None, bytes, int, int]]:
        return [(r.part.name, r.part.filename, bytes(r.data), r.ended, len(r.aborted)) for r in self.parts]


class TrackingInput(io.RawIOBase):
    """A ``wsgi.input`` that records every read and can end early or fail."""

    def __init__(self, data: bytes, *, fail_after: int | None = None) -> None:
        self._data = data
        self.pos = 0
        self.reads: list[int] = []
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        self.reads.append(size)
        if size is None or size < 0:
            raise AssertionError("the adapter must never read without a size")
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError("connection reset by peer")
        chunk = self._data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk


def environ(
    data: bytes,
    *,
    content_type: str | None = CONTENT_TYPE,
    content_length: Any = "auto",
    terminated: bool = False,
    stream: Any = None,
) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": stream or TrackingInput(data)}
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if content_length == "auto":
        env["CONTENT_LENGTH"] = str(len(data))
    elif content_length is not None:
        env["CONTENT_LENGTH"] = str(content_length)
    if terminated:
        env["wsgi.input_terminated"] = True
    return env
