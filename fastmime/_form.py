"""``parse_form``: the whole body in, fields and files out, for the common case."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Generic, TypeVar

from ._adapter import Progress, announced_length, short_body
from ._dispatch import run_in_thread
from ._errors import ClientDisconnected
from ._limits import Limits
from ._part import Part
from ._transfer import decode_parts
from ._urlencoded import UrlencodedParser, _known_charset, is_urlencoded
from .handlers import SpooledFileHandler, ValueHandler, event_loop_safe

__all__ = ["Form", "MultiDict", "UploadedFile", "parse_form", "parse_form_async"]

V = TypeVar("V")
T = TypeVar("T")

#: Bytes per read when a file is copied (save, chunks).
_COPY_CHUNK = 64 * 1024


class MultiDict(Mapping[str, V], Generic[V]):
    """A read-only mapping in which a key may have several values, kept in arrival order.

    ``form[key]`` is the first value; ``getall(key)`` all of them; ``multi_items()`` every pair.
    """

    def __init__(self, pairs: Iterable[tuple[str, V]] = ()) -> None:
        self._pairs: list[tuple[str, V]] = []
        self._first: dict[str, V] = {}
        # Only keys that came more than once have a list: most keys of a form come once, and a list per
        # key would be one more object per field for the garbage collector to walk.
        self._repeated: dict[str, list[V]] = {}
        for key, value in pairs:
            self._add(key, value)

    def _add(self, key: str, value: V) -> None:
        self._pairs.append((key, value))
        first = self._first
        if key not in first:
            first[key] = value
        elif key in self._repeated:
            self._repeated[key].append(value)
        else:
            self._repeated[key] = [first[key], value]

    def __getitem__(self, key: str) -> V:
        return self._first[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getall(self, key: str) -> list[V]:
        """Every value of ``key``, in order (an empty list when there is none)."""
        values = self._repeated.get(key)
        if values is not None:
            return list(values)
        return [self._first[key]] if key in self._first else []

    def multi_items(self) -> list[tuple[str, V]]:
        """Every (key, value) pair in arrival order."""
        return list(self._pairs)

    def __repr__(self) -> str:
        return f"MultiDict({self._pairs!r})"


class UploadedFile:
    """A file part: its description and a readable, seekable binary file positioned at the start.

    ``filename`` is the client's (never use it as a path; ``safe_filename`` is a harmless basename),
    ``content_type`` the part's header as sent, ``size`` the bytes received (after any transfer
    decoding). Small files are in memory, larger ones in an anonymous temporary file (``in_memory``
    says which). Sync methods (``read``, ``seek``, ``save``...) for WSGI code; ``aread``, ``aseek`` and
    ``asave`` run the disk work in a worker thread, so an ``async def`` route does not block its loop.
    """

    def __init__(self, part: Part, file: IO[bytes], size: int) -> None:
        self.name = part.name
        self.filename = part.filename
        self.safe_filename = part.safe_filename
        self.content_type = part.content_type
        self.headers = part.headers
        self.file = file
        self.size = size

    @property
    def in_memory(self) -> bool:
        """True while the file's data is held in memory (not rolled over to a temporary file)."""
        rolled = getattr(self.file, "_rolled", None)
        if rolled is not None:
            return not rolled
        return not hasattr(self.file, "fileno")

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (all that is left when ``size`` < 0)."""
        return self.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the read position, as ``io.IOBase.seek``; returns the new position."""
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        """The current read position."""
        return self.file.tell()

    def chunks(self, chunk_size: int = _COPY_CHUNK) -> Iterator[bytes]:
        """The whole file from its start, in pieces of at most ``chunk_size`` bytes (bounded memory)."""
        self.file.seek(0)
        while True:
            block = self.file.read(chunk_size)
            if not block:
                return
            yield block

    def save(self, destination: str | os.PathLike[str] | IO[bytes], *, chunk_size: int = _COPY_CHUNK) -> None:
        """Write the whole file to ``destination``: a path (created or replaced) or a binary file.

        The data is copied in pieces of ``chunk_size`` bytes, never read whole; afterwards the read
        position is back at the start. A path is the application's choice: never build it from
        ``filename``.
        """
        if isinstance(destination, (str, bytes, os.PathLike)):
            with open(destination, "wb") as out:
                self._copy_to(out, chunk_size)
        else:
            self._copy_to(destination, chunk_size)

    def _copy_to(self, out: IO[bytes], chunk_size: int) -> None:
        for block in self.chunks(chunk_size):
            out.write(block)
        self.file.seek(0)

    async def aread(self, size: int = -1) -> bytes:
        """:meth:`read` without blocking the event loop (a worker thread when the file is on disk)."""
        if self.in_memory:
            return self.file.read(size)
        return await _to_thread(self.file.read, size)

    async def aseek(self, offset: int, whence: int = 0) -> int:
        """:meth:`seek` without blocking the event loop."""
        if self.in_memory:
            return self.file.seek(offset, whence)
        return await _to_thread(self.file.seek, offset, whence)

    async def asave(self, destination: str | os.PathLike[str] | IO[bytes], *, chunk_size: int = _COPY_CHUNK) -> None:
        """:meth:`save` in a worker thread, so the event loop goes on serving."""
        await _to_thread(lambda: self.save(destination, chunk_size=chunk_size))

    def close(self) -> None:
        """Release the file (a temporary file on disk is removed)."""
        self.file.close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop: removing a temporary file that holds megabytes
        takes the kernel a millisecond or more, so that happens in a worker thread."""
        await _aclose_each([self])

    def __repr__(self) -> str:
        return f"UploadedFile(name={self.name!r}, filename={self.filename!r}, size={self.size})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Lets pydantic models (FastAPI forms) hold an UploadedFile: accepted as is, never copied."""
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, str]:
        """In OpenAPI, a file field is a binary string."""
        return {"type": "string", "format": "binary"}


async def _to_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread: asyncio's default pool (as ``asyncio.to_thread``), trio's under trio.

    Not fastmime.asgi's pool: file reads must not queue behind the parser's batches of other uploads.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio
        result: T = await run_in_thread(fn, *args)
        return result
    return await asyncio.to_thread(fn, *args)


class Form:
    """Fields (text) and files of a parsed body. Close it, or use it as a context manager: ``with form:``,
    or ``async with form:`` in async code (the files on disk are then removed from a worker thread)."""

    def __init__(self, fields: MultiDict[str], files: MultiDict[UploadedFile]) -> None:
        self.fields = fields
        self.files = files

    def close(self) -> None:
        """Release every file (temporary files on disk are removed); ``with`` does it on exit. Every file
        is closed even when one close fails; the first error is raised after that."""
        error = _close_each([upload for _, upload in self.files.multi_items()])
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop (``async with`` does it on exit)."""
        await _aclose_each([upload for _, upload in self.files.multi_items()])

    def __enter__(self) -> Form:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Form:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _aclose_each(uploads: list[UploadedFile]) -> None:
    """Close every upload without blocking the event loop: files in memory at once, those on disk in one
    worker thread call. Every file is closed even when one close fails or the task is cancelled meanwhile
    (what is left is then closed inline, after the worker's call if it had started); the first error is
    raised after that."""
    on_disk = [upload for upload in uploads if not upload.in_memory]
    error = _close_each([upload for upload in uploads if upload.in_memory])
    if on_disk:
        try:
            disk_error = await run_in_thread(_close_each, on_disk)
        except BaseException:
            _close_each(on_disk)  # closing a closed file does nothing
            raise
        error = error or disk_error
    if error is not None:
        raise error


def _close_each(uploads: list[UploadedFile]) -> BaseException | None:
    """Close every upload; return the first error (the others are still closed)."""
    first: BaseException | None = None
    for upload in uploads:
        try:
            upload.close()
        except Exception as exc:  # noqa: BLE001 - returned to the caller, who raises it
            if first is None:
                first = exc
    return first


class _FormBuilder:
    """Chooses a handler per part and assembles the Form; closes every file if anything fails."""

    def __init__(self, spool_threshold: int, upload_dir: str | os.PathLike[str] | None = None) -> None:
        if spool_threshold < 0:  # refused before any byte is read, not at the first file part
            raise ValueError(f"spool_threshold must be >= 0, not {spool_threshold}")
        self.spool_threshold = spool_threshold
        self.upload_dir = None if upload_dir is None else os.fspath(upload_dir)
        # A field keeps only its name and charset (its Part and headers are freed as soon as it ends: for
        # a form of many fields, fewer objects alive while it is read); a file keeps its Part.
        self.fields: list[tuple[str, str | None, ValueHandler]] = []
        self.files: list[tuple[Part, SpooledFileHandler]] = []

    @event_loop_safe
    def handler_for(self, part: Part) -> ValueHandler | SpooledFileHandler:
        if part.filename is None:
            value = ValueHandler()
            self.fields.append((part.name, part.charset, value))
            return value
        file = SpooledFileHandler(self.spool_threshold, dir=self.upload_dir)
        self.files.append((part, file))
        return file

    def build(self) -> Form:
        charset = "utf-8"
        for name, _, value in self.fields:
            if name == "_charset_":
                charset = _known_charset(value.text("ascii"), charset)
        fields: MultiDict[str] = MultiDict()
        files: MultiDict[UploadedFile] = MultiDict()
        for name, part_charset, value in self.fields:
            fields._add(name, value.text(charset if part_charset is None else _known_charset(part_charset, charset)))
        for part, file in self.files:
            files._add(part.name, UploadedFile(part, file.file, file.size))
        return Form(fields, files)

    def discard(self) -> None:
        for _, file in self.files:
            file.close()

    def __enter__(self) -> _FormBuilder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Whatever went wrong while the form was being read, no file it made is left open."""
        if exc_type is not None:
            self.discard()


def _charset_param(content_type: str | bytes | None) -> str | None:
    from . import parse_options_header

    if not content_type:
        return None
    charset: str | None = parse_options_header(content_type)[1].get("charset")
    return charset


def urlencoded_form(parser: UrlencodedParser, content_type: str | bytes | None) -> Form:
    """The Form of a closed urlencoded parser: fields only, decoded with the Content-Type's charset."""
    return Form(MultiDict(parser.fields(_charset_param(content_type))), MultiDict())


def read_urlencoded(
    chunks: Iterable[bytes],
    content_type: str | bytes | None,
    expected: int | None,
    limits: Limits | None,
    progress: Progress | None,
) -> Form:
    """A urlencoded body from an iterable of chunks (a server's reads), checked against ``expected``."""
    parser = UrlencodedParser(limits)
    for chunk in chunks:
        parser.feed(chunk)
        if progress is not None:
            progress(parser.received, expected)
    if expected is not None and parser.received < expected:
        raise short_body(parser.received, expected)
    parser.close()
    return urlencoded_form(parser, content_type)


async def aread_urlencoded(
    chunks: AsyncIterable[bytes],
    content_type: str | bytes | None,
    content_length: str | bytes | int | None,
    limits: Limits | None,
    progress: Progress | None,
) -> Form:
    """:func:`read_urlencoded` from an async iterable, parsed on the event loop (splitting on ``&`` is
    cheaper than a thread hand-off)."""
    expected = announced_length(content_length, limits)
    parser = UrlencodedParser(limits)
    try:
        async for chunk in chunks:
            parser.feed(chunk)
            if progress is not None:
                progress(parser.received, expected)
    except ClientDisconnected as exc:
        if exc.offset is None:
            exc.offset = parser.received
        raise
    if expected is not None and parser.received < expected:
        raise short_body(parser.received, expected)
    parser.close()
    return urlencoded_form(parser, content_type)


class _FormReader:
    """One parse_form run: a parser feeding a _FormBuilder; on any error, everything is released."""

    def __init__(
        self,
        content_type: str | bytes,
        limits: Limits | None,
        spool_threshold: int,
        upload_dir: str | os.PathLike[str] | None,
    ) -> None:
        from . import MultipartParser, boundary_from_content_type

        self.content_type = content_type
        self.builder = _FormBuilder(spool_threshold, upload_dir)
        self.parser: UrlencodedParser | MultipartParser
        if is_urlencoded(content_type):
            self.parser = UrlencodedParser(limits)
        else:
            max_length = limits.max_boundary_length if limits is not None else 70
            self.parser = MultipartParser(
                boundary_from_content_type(content_type, max_length), decode_parts(self.builder.handler_for), limits
            )
        self.feed = self.parser.feed

    def finish(self) -> Form:
        self.parser.close()
        if isinstance(self.parser, UrlencodedParser):
            return urlencoded_form(self.parser, self.content_type)
        return self.builder.build()

    def __enter__(self) -> _FormReader:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.parser.abort()
            self.builder.discard()


def parse_form(
    chunks: bytes | Iterable[bytes],
    content_type: str | bytes,
    limits: Limits | None = None,
    *,
    spool_threshold: int = 1024 * 1024,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """Parse a whole multipart/form-data or application/x-www-form-urlencoded body into a :class:`Form`.

    ``chunks`` is the body as bytes or any iterable of bytes-like pieces; ``content_type`` the request's
    Content-Type header value. Fields are decoded with the part's charset, else the ``_charset_`` field
    (RFC 7578 section 4.6), else UTF-8, undecodable bytes becoming U+FFFD. Files are kept in memory up to
    ``spool_threshold`` bytes, then in anonymous temporary files in ``upload_dir`` (``tempfile``'s
    directory when ``None``). Parts sent base64 or quoted-printable are decoded (see
    :func:`fastmime.decode_parts`). A urlencoded body gives fields and no files, with the same limits.
    On any error every file is released before the error propagates.
    """
    with _FormReader(content_type, limits, spool_threshold, upload_dir) as reader:
        if isinstance(chunks, (bytes, bytearray, memoryview)):
            reader.feed(chunks)
        else:
            for chunk in chunks:
                reader.feed(chunk)
        return reader.finish()


async def parse_form_async(
    chunks: AsyncIterable[bytes],
    content_type: str | bytes,
    limits: Limits | None = None,
    *,
    spool_threshold: int = 1024 * 1024,
    upload_dir: str | os.PathLike[str] | None = None,
) -> Form:
    """:func:`parse_form` for an async iterable of body pieces (e.g. Starlette's ``request.stream()``).

    The built-in handlers only copy bytes, so parsing runs on the event loop; for CPU-heavy handlers use
    ``fastmime.asgi``, which runs the parser in a worker thread.
    """
    with _FormReader(content_type, limits, spool_threshold, upload_dir) as reader:
        async for chunk in chunks:
            reader.feed(chunk)
        return reader.finish()
