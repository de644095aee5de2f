"""encode_multipart: what it writes, parse_form reads back exactly; files are streamed."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastmime

from ._helpers import IMPLEMENTATIONS, Recorder
from ._strategies import property_settings

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
HEADER_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
CONTENT_TYPES = st.sampled_from([None, "image/jpeg", "text/plain; charset=utf-8", 'x/y; a="b;c"'])


def roundtrip(fields, files, boundary=None, chunk_limit=None):
    content_type, chunks = fastmime.encode_multipart(fields, files, boundary)
    pieces = list(chunks)
    with fastmime.parse_form(pieces, content_type) as form:
        got_files = [(n, f.filename, f.content_type, f.read()) for n, f in form.files.multi_items()]
        return content_type, pieces, form.fields.multi_items(), got_files


@property_settings(200)
@given(
    st.lists(st.tuples(HEADER_TEXT.filter(lambda n: n != "_charset_"), TEXT), max_size=5),
    st.lists(st.tuples(HEADER_TEXT, TEXT, CONTENT_TYPES, st.binary(max_size=300), st.booleans()), max_size=4),
)
def test_parse_form_reads_back_what_it_encodes(fields, files) -> None:
    encoded_files = [(n, fn, ct, io.BytesIO(data) if as_file else data) for n, fn, ct, data, as_file in files]
    _, _, got_fields, got_files = roundtrip(fields, encoded_files)
    assert got_fields == fields
    assert got_files == [(n, fn, ct or "application/octet-stream", data) for n, fn, ct, data, _ in files]


def test_both_parsers_read_it() -> None:
    fields = [("", "nameless"), ('quo"te\\d', "x"), ("naïve 名前", "\r\n--not a delimiter\r\n")]
    files = [
        ("photo", "C:\\photos\\été 2024.jpg", "image/jpeg", b"\xff\xd8\r\n--\xff\xd9"),
        ("", "line\nbreak.txt", None, b""),
    ]
    content_type, chunks = fastmime.encode_multipart(fields, files)
    body = b"".join(chunks)
    for parser_cls in IMPLEMENTATIONS.values():
        recorder = Recorder()
        parser = parser_cls(fastmime.boundary_from_content_type(content_type), recorder)
        for i in range(len(body)):
            parser.feed(body[i : i + 1])
        parser.close()
        assert [(r.part.name, r.part.filename, r.part.content_type, bytes(r.data)) for r in recorder.parts] == [
            ("", None, None, b"nameless"),
            ('quo"te\\d', None, None, b"x"),
            ("naïve 名前", None, None, b"\r\n--not a delimiter\r\n"),
            ("photo", "C:\\photos\\été 2024.jpg", "image/jpeg", b"\xff\xd8\r\n--\xff\xd9"),
            ("", "line\nbreak.txt", "application/octet-stream", b""),
        ]


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "a file must never be read whole"
        self.reads.append(size)
        return super().read(size)


def test_files_are_streamed_lazily() -> None:
    big = CountingFile(bytes(300_000))
    content_type, chunks = fastmime.encode_multipart([("a", "1")], [("f", "big.bin", None, big)], boundary="b0undary")
    assert content_type == "multipart/form-data; boundary=b0undary" and big.reads == []
    pieces = list(chunks)
    assert max(map(len, pieces)) <= 64 * 1024 and len(big.reads) == 6
    assert b"".join(pieces).startswith(b'--b0undary\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n')


def test_a_boundary_that_needs_quotes_and_bad_boundaries() -> None:
    content_type, chunks = fastmime.encode_multipart([("a", "1")], boundary="has space(s)")
    assert content_type == 'multipart/form-data; boundary="has space(s)"'
    assert fastmime.parse_form(list(chunks), content_type).fields["a"] == "1"
    for bad in ("", "x" * 71, "trailing ", "é"):
        with pytest.raises(ValueError):
            fastmime.encode_multipart([], boundary=bad)


def test_refusals() -> None:
    with pytest.raises(ValueError, match="control"):
        fastmime.encode_multipart([("a\r\nX-Injected: 1", "v")])
    with pytest.raises(ValueError, match="control"):
        fastmime.encode_multipart([], [("f", "a.txt", "text/plain\r\nX: y", b"")])
    with pytest.raises(ValueError, match="surrogate"):
        fastmime.encode_multipart([("\ud800", "v")])
    with pytest.raises(ValueError, match="UTF-8"):
        fastmime.encode_multipart([("_charset_", "iso-8859-1")])
    assert fastmime.encode_multipart([("_charset_", "UTF-8")])
    with pytest.raises(TypeError):
        fastmime.encode_multipart([("a", 1)])  # type: ignore[list-item]
    # data holding the delimiter, even cut across the file's blocks, or right at the part's start
    for data in (b"x\r\n--B--", io.BytesIO(b"y" * (64 * 1024 - 3) + b"\r\n--B"), b"--B"):
        _, chunks = fastmime.encode_multipart([], [("f", "x", None, data)], boundary="B")
        with pytest.raises(ValueError, match="delimiter"):
            list(chunks)
