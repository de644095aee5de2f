"""Part-level headers, applied around handlers: Content-Transfer-Encoding, a part's own Content-Length,
nested multipart. Every case runs on both parser implementations and every chunking."""

from __future__ import annotations

import base64
import binascii
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastmime

from ._helpers import BOUNDARY, Recorder, body_of, chunkings, part
from ._strategies import property_settings

PAYLOAD = bytes(range(256)) * 3 + "déjà vu = ok\r\nline two \t\r\n".encode()


def run(parser_cls, body: bytes, chunks=None) -> tuple[Recorder, fastmime.MultipartError | None]:
    recorder = Recorder()
    parser = parser_cls(BOUNDARY, fastmime.decode_parts(recorder))
    try:
        for piece in chunks or [body]:
            parser.feed(piece)
        parser.close()
    except fastmime.MultipartError as error:
        return recorder, error
    return recorder, None


def encoded_part(data: bytes, encoding: str, *, length: int | None = None, filename: str | None = "f.bin") -> bytes:
    extra = [b"Content-Transfer-Encoding: " + encoding.encode()]
    if length is not None:
        extra.append(b"Content-Length: %d" % length)
    return part("f", data, filename=filename, content_type="application/octet-stream", extra_headers=extra)


def test_base64_and_quoted_printable_are_decoded_in_every_chunking(parser_cls) -> None:
    wrapped = base64.encodebytes(PAYLOAD)  # 76-character lines, as MIME writes them
    qp = binascii.b2a_qp(PAYLOAD, istext=False)
    body = body_of(
        encoded_part(wrapped, "base64"),
        encoded_part(qp, "Quoted-Printable"),
        encoded_part(b"as is", "8bit"),
        part("plain", b"untouched"),
    )
    for label, chunks in chunkings(body):
        recorder, error = run(parser_cls, body, chunks)
        assert error is None, label
        assert [bytes(r.data) for r in recorder.parts] == [PAYLOAD, PAYLOAD, b"as is", b"untouched"], label
        assert [r.ended for r in recorder.parts] == [1, 1, 1, 1]


@property_settings(120)
@given(st.binary(max_size=300), st.lists(st.integers(1, 400), max_size=6))
def test_decoders_match_the_whole_body_decoders(data: bytes, cuts: list[int]) -> None:
    import fastmime.pure

    for encoding, encoded in (
        ("base64", base64.encodebytes(data)),
        ("quoted-printable", binascii.b2a_qp(data, istext=False)),
    ):
        body = body_of(encoded_part(encoded, encoding))
        bounds = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
        recorder, error = run(fastmime.pure.MultipartParser, body, [body[a:b] for a, b in itertools.pairwise(bounds)])
        assert error is None
        assert bytes(recorder.parts[0].data) == data


@pytest.mark.parametrize(
    "encoded, why",
    [
        (b"QUJD*EVG", "alphabet"),
        (b"QUJDRA=", "left over"),
        (b"QQ==QUJD", "after the padding"),
    ],
)
def test_invalid_base64_is_refused(parser_cls, encoded: bytes, why: str) -> None:
    for label, chunks in chunkings(body_of(encoded_part(encoded, "base64")), random_splits=2):
        recorder, error = run(parser_cls, b"", chunks)
        assert isinstance(error, fastmime.InvalidTransferEncoding), label
        assert why in str(error) and error.part_index == 0 and error.part_name == "f"
        assert [len(r.aborted) for r in recorder.parts] == [1]


def test_unknown_transfer_encoding_is_refused_before_any_handler(parser_cls) -> None:
    recorder, error = run(parser_cls, body_of(encoded_part(b"x", "x-gzip")))
    assert isinstance(error, fastmime.InvalidTransferEncoding) and error.http_status == 400
    assert recorder.parts == []


def test_a_parts_own_content_length_is_enforced(parser_cls) -> None:
    ok = body_of(part("f", b"12345", extra_headers=[b"Content-Length: 5"]))
    short = body_of(part("f", b"1234", extra_headers=[b"Content-Length: 5"]))
    long = body_of(part("f", b"123456", extra_headers=[b"Content-Length: 5"]))
    bad = body_of(part("f", b"1", extra_headers=[b"Content-Length: 1e3"]))
    assert run(parser_cls, ok)[1] is None
    for body in (short, long):
        for label, chunks in chunkings(body, random_splits=2):
            recorder, error = run(parser_cls, body, chunks)
            assert isinstance(error, fastmime.PartLengthMismatch), label
            assert [(r.ended, len(r.aborted)) for r in recorder.parts] == [(0, 1)]
    # a longer part is refused as soon as the extra byte reaches the handler: with coalesce=0 when it
    # arrives, before the body's end is read; by default at the latest when the part ends
    start = long.index(b"123456")
    recorder = Recorder()
    parser = parser_cls(BOUNDARY, fastmime.decode_parts(recorder), coalesce=0)
    parser.feed(long[: start + 5])
    with pytest.raises(fastmime.PartLengthMismatch):
        parser.feed(b"6")
    assert bytes(recorder.parts[0].data) == b"12345" and len(recorder.parts[0].aborted) == 1
    recorder = Recorder()
    parser = parser_cls(BOUNDARY, fastmime.decode_parts(recorder))
    parser.feed(long[: start + 5])
    parser.feed(b"6")  # gathered with the small pieces: not handed over yet
    with pytest.raises(fastmime.PartLengthMismatch):
        parser.feed(long[start + 6 :])
    assert len(recorder.parts[0].aborted) == 1
    assert isinstance(run(parser_cls, bad)[1], fastmime.InvalidContentLength)


def test_content_length_counts_the_bytes_as_sent(parser_cls) -> None:
    encoded = base64.b64encode(b"hello")
    recorder, error = run(parser_cls, body_of(encoded_part(encoded, "base64", length=len(encoded))))
    assert error is None and bytes(recorder.parts[0].data) == b"hello"


def test_nested_multipart_is_refused(parser_cls) -> None:
    inner = b'--inner\r\nContent-Disposition: file; filename="a.txt"\r\n\r\nA\r\n--inner--'
    body = body_of(part("title", b"x"), part("files", inner, content_type="multipart/mixed; boundary=inner"))
    recorder, error = run(parser_cls, body)
    assert isinstance(error, fastmime.NestedMultipart) and error.http_status == 415
    assert (error.part_index, error.part_name) == (1, "files")
    assert [(r.part.name, r.ended) for r in recorder.parts] == [("title", 1)]  # the nested part got no handler


def test_parse_form_and_adapters_decode(tmp_path) -> None:
    body = body_of(
        encoded_part(base64.encodebytes(PAYLOAD), "base64"),
        part("t", b"caf=C3=A9", extra_headers=[b"Content-Transfer-Encoding: quoted-printable"]),
    )
    ctype = "multipart/form-data; boundary=" + BOUNDARY.decode()
    with fastmime.parse_form(body, ctype) as form:
        assert form.files["f"].read() == PAYLOAD and form.files["f"].size == len(PAYLOAD)
        assert form.fields["t"] == "café"
