"""``parse_form``: the whole body in, fields and files out, for the common case."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from typing import IO, Generic, TypeVar

from ._limits import Limits
from ._part import Part
from .handlers import SpooledFileHandler, ValueHandler

__all__ = ["Form", "MultiDict", "UploadedFile", "parse_form", "parse_form_async"]

V = TypeVar("V")


class MultiDict(Mapping[str, V], Generic[V]):
    """A read-only mapping in which a key may have several values, kept in arrival order.

    ``form[key]`` is the first value; ``getall(key)`` all of them; ``multi_items()`` every pair.
    """

    def __init__(self, pairs: Iterable[tuple[str, V]] = ()) -> None:
        self._pairs: list[tuple[str, V]] = []
        self._index: dict[str, list[V]] = {}
        for key, value in pairs:
            self._add(key, value)

    def _add(self, key: str, value: V) -> None:
        self._pairs.append((key, value))
        self._index.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> V:
        return self._index[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def getall(self, key: str) -> list[V]:
        """Every value of ``key``, in order (an empty list when there is none)."""
        return list(self._index.get(key, ()))

    def multi_items(self) -> list[tuple[str, V]]:
        """Every (key, value) pair in arrival order."""
        return list(self._pairs)

    def __repr__(self) -> str:
        return f"MultiDict({self._pairs!r})"


class UploadedFile:
    """A file part: its description and a readable binary file positioned at the start."""

    def __init__(self, part: Part, file: IO[bytes], size: int) -> None:
        self.name = part.name
        self.filename = part.filename
        self.safe_filename = part.safe_filename
        self.content_type = part.content_type
        self.headers = part.headers
        self.file = file
        self.size = size

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def close(self) -> None:
        """Release the file (a temporary file on disk is removed)."""
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadedFile(name={self.name!r}, filename={self.filename!r}, size={self.size})"


class Form:
    """Fields (text) and files of a parsed body. Close it, or use it as a context manager."""

    def __init__(self, fields: MultiDict[str], files: MultiDict[UploadedFile]) -> None:
        self.fields = fields
        self.files = files

    def close(self) -> None:
        for _, upload in self.files.multi_items():
            upload.close()

    def __enter__(self) -> Form:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _FormBuilder:
    """Chooses a handler per part and assembles the Form; closes every file if anything fails."""

    def __init__(self, spool_threshold: int) -> None:
        self.spool_threshold = spool_threshold
        self.parts: list[tuple[Part, ValueHandler | SpooledFileHandler]] = []

    def handler_for(self, part: Part) -> ValueHandler | SpooledFileHandler:
        handler: ValueHandler | SpooledFileHandler
        if part.filename is None:
            handler = ValueHandler()
        else:
            handler = SpooledFileHandler(self.spool_threshold)
        self.parts.append((part, handler))
        return handler

    def build(self) -> Form:
        charset = "utf-8"
        for part, handler in self.parts:
            if part.name == "_charset_" and isinstance(handler, ValueHandler):
                charset = _known_charset(handler.text("ascii"), charset)
        fields: MultiDict[str] = MultiDict()
        files: MultiDict[UploadedFile] = MultiDict()
        for part, handler in self.parts:
            if isinstance(handler, ValueHandler):
                fields._add(part.name, handler.text(_known_charset(part.charset, charset)))
            else:
                files._add(part.name, UploadedFile(part, handler.file, handler.size))
        return Form(fields, files)

    def discard(self) -> None:
        for _, handler in self.parts:
            if isinstance(handler, SpooledFileHandler):
                handler.close()

    def __enter__(self) -> _FormBuilder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Whatever went wrong while the form was being read, no file it made is left open."""
        if exc_type is not None:
            self.discard()


def _known_charset(name: str | None, default: str) -> str:
    if not name:
        return default
    import codecs

    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return default


class _FormReader:
    """One parse_form run: a parser feeding a _FormBuilder; on any error, everything is released."""

    def __init__(self, content_type: str | bytes, limits: Limits | None, spool_threshold: int) -> None:
        from . import MultipartParser, boundary_from_content_type

        max_length = limits.max_boundary_length if limits is not None else 70
        self.builder = _FormBuilder(spool_threshold)
        self.parser = MultipartParser(boundary_from_content_type(content_type, max_length),
                                      self.builder.handler_for, limits)
        self.feed = self.parser.feed

    def finish(self) -> Form:
        self.parser.close()
        return self.builder.build()

    def __enter__(self) -> _FormReader:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.parser.abort()
            self.builder.discard()


def parse_form(chunks: bytes | Iterable[bytes], content_type: str | bytes, limits: Limits | None = None,
               *, spool_threshold: int = 1024 * 1024) -> Form:
    """Parse a whole multipart/form-data body into a :class:`Form`.

    ``chunks`` is the body as bytes or any iterable of bytes-like pieces; ``content_type`` the request's
    Content-Type header value. Fields are decoded with the part's charset, else the ``_charset_`` field
    (RFC 7578 section 4.6), else UTF-8, undecodable bytes becoming U+FFFD. Files are kept in memory up to
    ``spool_threshold`` bytes, then in temporary files. On any error every file is released before the
    error propagates.
    """
    with _FormReader(content_type, limits, spool_threshold) as reader:
        if isinstance(chunks, (bytes, bytearray, memoryview)):
            reader.feed(chunks)
        else:
            for chunk in chunks:
                reader.feed(chunk)
        return reader.finish()


async def parse_form_async(chunks: AsyncIterable[bytes], content_type: str | bytes,
                           limits: Limits | None = None, *, spool_threshold: int = 1024 * 1024) -> Form:
    """:func:`parse_form` for an async iterable of body pieces (e.g. Starlette's ``request.stream()``).

    The built-in handlers only copy bytes, so parsing runs on the event loop; for CPU-heavy handlers use
    ``fastmime.asgi``, which runs the parser in a worker thread.
    """
    with _FormReader(content_type, limits, spool_threshold) as reader:
        async for chunk in chunks:
            reader.feed(chunk)
        return reader.finish()
