"""MultipartParser: what it accepts and what parts it delivers, on both implementations."""

from __future__ import annotations

import pytest

import fastmime

from ._helpers import BOUNDARY, UNLIMITED, body_of, chunkings, outcome, parse, part


def only_ok(parser_cls, body, **kw):
    recorder, error = parse(parser_cls, body, **kw)
    assert error is None, error
    return recorder.parts


def test_fields_and_files(parser_cls):
    body = body_of(
        part("title", b"Sunset"),
        part("photo", b"\xff\xd8\xff\xe0JPEG\r\n--not-a-delimiter\r\n", filename="sun.jpg", content_type="image/jpeg"),
        part("empty", b""),
    )
    parts = only_ok(parser_cls, body)
    assert [(p.part.index, p.part.name, p.part.filename, p.part.content_type) for p in parts] == [
        (0, "title", None, None),
        (1, "photo", "sun.jpg", "image/jpeg"),
        (2, "empty", None, None),
    ]
    assert [bytes(p.data) for p in parts] == [b"Sunset", b"\xff\xd8\xff\xe0JPEG\r\n--not-a-delimiter\r\n", b""]
    assert all(p.ended == 1 and not p.aborted for p in parts)


def test_data_arrives_as_memoryviews(parser_cls):
    parts = only_ok(parser_cls, body_of(part("a", b"x" * 1000)))
    assert parts[0].chunk_types == {memoryview}


def test_chunking_never_changes_the_result(parser_cls):
    content = b"\r\n--" + BOUNDARY[:-1] + b"\r\r\n\n--" + BOUNDARY + b"x" + b"\r" * 5
    body = body_of(
        part("a", content),
        part("b", b"", filename="b.bin"),
        part("c", b"-" * 80),
        preamble=b"preamble\r\n--" + BOUNDARY[:5] + b"\r\n",
        epilogue=b"\r\nepilogue\r\n",
    )
    expected = outcome(parser_cls, body)
    assert expected[1] is None
    assert expected[0][0][4] == content
    for label, chunks in chunkings(body):
        assert outcome(parser_cls, body, chunks) == expected, label


def test_both_implementations_agree():
    from ._helpers import IMPLEMENTATIONS

    if len(IMPLEMENTATIONS) < 2:
        pytest.skip("the Cython extension is not built")
    bodies = [
        body_of(part("a", b"1"), part("f", b"\r\n\r\n", filename="f.txt", content_type="text/plain")),
        body_of(part("a", b"1")) + b"garbage after the end",
        body_of(part("a", b"1"))[:-3],
        b"--"
        + BOUNDARY
        + b'\r\nContent-Disposition: form-data; name="a"\r\nBad Header\r\n\r\nx\r\n--'
        + BOUNDARY
        + b"--",
    ]
    for body in bodies:
        results = {name: outcome(cls, body) for name, cls in IMPLEMENTATIONS.items()}
        assert results["cython"] == results["python"], body


def test_part_without_name_is_accepted(parser_cls):
    # Old API clients send the image with a filename and no name.
    body = body_of(part(None, b"JPEGDATA", filename="x.jpg", content_type="image/jpg"))
    (p,) = only_ok(parser_cls, body)
    assert p.part.name == ""
    assert p.part.filename == "x.jpg"
    assert p.part.is_file
    assert bytes(p.data) == b"JPEGDATA"


def test_empty_file_input_as_browsers_send_it(parser_cls):
    body = body_of(part("pics", b"", filename="", content_type="application/octet-stream"))
    (p,) = only_ok(parser_cls, body)
    assert p.part.filename == ""
    assert p.part.is_file
    assert p.part.safe_filename == "unnamed"


def test_headers_kept_in_order_as_sent(parser_cls):
    raw = part(
        "a",
        b"v",
        content_type="text/plain; charset=ISO-8859-1",
        extra_headers=[b"X-Custom:  spaced value\t", b"content-id: <1>"],
    )
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.headers == [
        ("Content-Disposition", 'form-data; name="a"'),
        ("Content-Type", "text/plain; charset=ISO-8859-1"),
        ("X-Custom", "spaced value"),
        ("content-id", "<1>"),
    ]
    assert p.part.charset == "ISO-8859-1"
    assert p.part.media_type == "text/plain"
    assert p.part.header("CONTENT-ID") == "<1>"
    assert p.part.header("missing") is None


def test_header_names_are_case_insensitive(parser_cls):
    raw = b'cOnTeNt-DiSpOsItIoN: FORM-DATA; NAME="a"; FileName="f.txt"\r\nCONTENT-TYPE: text/plain\r\n\r\nx'
    (p,) = only_ok(parser_cls, body_of(raw))
    assert (p.part.name, p.part.filename, p.part.content_type) == ("a", "f.txt", "text/plain")


def test_utf8_filename_raw_as_browsers_send_it(parser_cls):
    raw = 'Content-Disposition: form-data; name="f"; filename="Фото ☀.jpg"\r\n\r\nx'.encode()
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.filename == "Фото ☀.jpg"


def test_latin1_header_bytes_do_not_fail(parser_cls):
    raw = b'Content-Disposition: form-data; name="f"; filename="caf\xe9.jpg"\r\n\r\nx'
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.filename == "café.jpg"


def test_filename_star_wins_over_filename(parser_cls):
    raw = (
        b'Content-Disposition: form-data; name="f"; filename="fallback.jpg"; '
        b"filename*=UTF-8''%D0%A4%D0%BE%D1%82%D0%BE.jpg\r\n\r\nx"
    )
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.filename == "Фото.jpg"


def test_windows_path_filename_is_kept_and_safe_filename_strips_it(parser_cls):
    raw = b'Content-Disposition: form-data; name="f"; filename="C:\\Users\\me\\My Photos\\a.jpg"\r\n\r\nx'
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.filename == "C:\\Users\\me\\My Photos\\a.jpg"
    assert p.part.safe_filename == "a.jpg"


def test_quoted_string_escapes(parser_cls):
    raw = b'Content-Disposition: form-data; name="a\\"b"; filename="x\\\\y.txt"\r\n\r\nv'
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.name == 'a"b'
    assert p.part.filename == "x\\y.txt"


def test_unquoted_filename_with_spaces(parser_cls):
    raw = b"Content-Disposition: form-data; name=upload; filename=my holiday.jpg\r\n\r\nv"
    (p,) = only_ok(parser_cls, body_of(raw))
    assert (p.part.name, p.part.filename) == ("upload", "my holiday.jpg")


def test_semicolon_inside_quoted_filename(parser_cls):
    raw = b'Content-Disposition: form-data; name="f"; filename="a;b=c.jpg"\r\n\r\nv'
    (p,) = only_ok(parser_cls, body_of(raw))
    assert p.part.filename == "a;b=c.jpg"


def test_preamble_and_epilogue_are_ignored(parser_cls):
    body = body_of(
        part("a", b"1"),
        preamble=b"This is the preamble.\r\n-- not it\r\n",
        epilogue=b"\r\nThis is the epilogue, with --" + BOUNDARY + b" in it.\r\n",
    )
    parts = only_ok(parser_cls, body)
    assert [(p.part.name, bytes(p.data)) for p in parts] == [("a", b"1")]


def test_delimiter_inside_a_preamble_line_is_not_a_delimiter(parser_cls):
    body = b"xx--" + BOUNDARY + b"\r\n" + body_of(part("a", b"1"))
    parts = only_ok(parser_cls, body)
    assert [p.part.name for p in parts] == ["a"]


def test_transport_padding_after_delimiters(parser_cls):
    body = (
        b"--"
        + BOUNDARY
        + b" \t \r\n"
        + part("a", b"1")
        + b"\r\n--"
        + BOUNDARY
        + b"\t\r\n"
        + part("b", b"2")
        + b"\r\n--"
        + BOUNDARY
        + b"--  \r\n"
    )
    parts = only_ok(parser_cls, body)
    assert [(p.part.name, bytes(p.data)) for p in parts] == [("a", b"1"), ("b", b"2")]


def test_empty_form(parser_cls):
    recorder, error = parse(parser_cls, b"--" + BOUNDARY + b"--\r\n")
    assert error is None and recorder.parts == []


def test_bare_lf_body_is_accepted_leniently(parser_cls):
    body = body_of(
        part("a", b"line1\r\nline2", eol=b"\n"), part("f", b"\x00\n\r", filename="f.bin", eol=b"\n"), eol=b"\n"
    )
    for label, chunks in chunkings(body):
        recorder, error = parse(parser_cls, body, chunks)
        assert error is None, (label, error)
        assert [(p.part.name, bytes(p.data)) for p in recorder.parts] == [
            ("a", b"line1\r\nline2"),
            ("f", b"\x00\n\r"),
        ], label


def test_bare_lf_mode_is_fixed_by_the_first_delimiter(parser_cls):
    # In CRLF mode a bare-LF delimiter line is data, not a delimiter.
    content = b"x\n--" + BOUNDARY + b"\ny"
    parts = only_ok(parser_cls, body_of(part("a", content)))
    assert bytes(parts[0].data) == content


def test_crlf_heavy_content(parser_cls):
    content = b"\r\n" * 5000 + b"\r" + b"\n\r" * 100 + b"--\r\n--"
    parts = only_ok(parser_cls, body_of(part("f", content, filename="crlf.bin")), limits=UNLIMITED)
    assert bytes(parts[0].data) == content


def test_boundary_lookalikes_in_content(parser_cls):
    near = b"\r\n--" + BOUNDARY[:-1]
    content = near * 50 + b"--" + BOUNDARY + b"\r\n" + b"\r\n-" + b"\r\n--" + BOUNDARY[:10]
    for label, chunks in chunkings(body_of(part("f", content, filename="f")), random_splits=3):
        recorder, error = parse(parser_cls, b"".join(chunks), chunks)
        assert error is None and bytes(recorder.parts[0].data) == content, label


def test_large_file_streams_in_pieces(parser_cls):
    content = bytes(range(256)) * 40_000  # ~10 MB
    body = body_of(part("f", content, filename="big.bin"))
    recorder = None
    from ._helpers import Recorder

    seen = []

    class Counting:
        def __init__(self, p):
            self.size = 0

        def on_data(self, chunk):
            seen.append(len(chunk))
            self.size += len(chunk)

        def on_end(self):
            pass

        def on_abort(self, error):
            raise AssertionError(error)

    handlers = []

    def handler_for(p):
        h = Counting(p)
        handlers.append(h)
        return h

    parser = parser_cls(BOUNDARY, handler_for)
    for i in range(0, len(body), 65536):
        parser.feed(body[i : i + 65536])
    parser.close()
    assert handlers[0].size == len(content)
    assert max(seen) <= 65536
    del recorder, Recorder


def test_feed_accepts_any_bytes_like(parser_cls):
    body = body_of(part("a", b"hello"))
    for kind in (bytes, bytearray, memoryview):
        recorder, error = parse(parser_cls, body, [kind(body[:10]), kind(body[10:])])
        assert error is None and bytes(recorder.parts[0].data) == b"hello"


def test_empty_feeds_are_harmless(parser_cls):
    body = body_of(part("a", b"hello"))
    chunks = [b""] + [body[i : i + 5] + b"" for i in range(0, len(body), 5)]
    chunks = [c for pair in zip(chunks, [b""] * len(chunks)) for c in pair]
    recorder, error = parse(parser_cls, body, chunks)
    assert error is None and bytes(recorder.parts[0].data) == b"hello"


def test_string_boundary(parser_cls):
    recorder, error = parse(parser_cls, body_of(part("a", b"1")), boundary=BOUNDARY.decode())
    assert error is None and len(recorder.parts) == 1


def test_received_and_finished(parser_cls):
    body = body_of(part("a", b"1"))
    parser = parser_cls(BOUNDARY, lambda p: fastmime.handlers.DiscardHandler())
    parser.feed(body[:7])
    assert parser.received == 7 and not parser.finished
    parser.feed(body[7:])
    parser.close()
    assert parser.received == len(body) and parser.finished


def test_many_fields(parser_cls):
    parts = [part(f"f{i}", str(i).encode()) for i in range(500)]
    recorder, error = parse(parser_cls, body_of(*parts))
    assert error is None
    assert [(r.part.index, r.part.name, bytes(r.data)) for r in recorder.parts] == [
        (i, f"f{i}", str(i).encode()) for i in range(500)
    ]
