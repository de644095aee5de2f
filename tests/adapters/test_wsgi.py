"""fastmime.wsgi against fake WSGI inputs: bounded reads, Content-Length, terminated inputs, errors."""

from __future__ import annotations

import pytest

import fastmime
import fastmime.wsgi
from fastmime.wsgi import CHUNK_SIZE, InvalidContentLength, LengthRequired

from ._util import Recorder, TrackingInput, body, environ

BIG = bytes(range(256)) * 4096 * 3  # 3 MiB: several chunks of CHUNK_SIZE


def test_streams_parts_in_bounded_chunks() -> None:
    data = body(("title", None, b"hello"), ("photo", "a.jpg", BIG), (None, "nameless.jpg", b"xyz"))
    env = environ(data)
    rec = Recorder()
    fastmime.wsgi.stream_request(env, rec)
    assert rec.result() == [
        ("title", None, b"hello", 1, 0),
        ("photo", "a.jpg", BIG, 1, 0),
        ("", "nameless.jpg", b"xyz", 1, 0),
    ]
    assert max(env["wsgi.input"].reads) <= CHUNK_SIZE


def test_never_reads_past_content_length() -> None:
    data = body(("a", None, b"1"))
    stream = TrackingInput(data + b"GET /next HTTP/1.1\r\n\r\n")  # a pipelined next request
    rec = Recorder()
    fastmime.wsgi.stream_request(environ(data, stream=stream), rec)
    assert stream.pos == len(data)
    assert sum(stream.reads) == len(data)


def test_terminated_input_without_length_is_read_to_eof() -> None:
    data = body(("f", "x.bin", BIG))
    rec = Recorder()
    fastmime.wsgi.stream_request(environ(data, content_length=None, terminated=True), rec)
    assert rec.result() == [("f", "x.bin", BIG, 1, 0)]


def test_length_required_when_input_is_not_terminated() -> None:
    env = environ(body(("a", None, b"1")), content_length=None)
    with pytest.raises(LengthRequired) as info:
        fastmime.wsgi.stream_request(env, Recorder())
    assert env["wsgi.input"].reads == []
    assert info.value.http_status == 411


def test_empty_content_length_counts_as_absent() -> None:
    env = environ(body(("a", None, b"1")), content_length="")
    with pytest.raises(LengthRequired):
        fastmime.wsgi.stream_request(env, Recorder())


@pytest.mark.parametrize("value", ["-1", "12abc", "1e3", "+5", "٣"])
def test_invalid_content_length(value: str) -> None:
    env = environ(body(("a", None, b"1")), content_length=value)
    with pytest.raises(InvalidContentLength):
        fastmime.wsgi.stream_request(env, Recorder())
    assert env["wsgi.input"].reads == []


def test_body_too_large_is_refused_before_reading() -> None:
    data = body(("f", "x", b"z" * 2000))
    env = environ(data)
    with pytest.raises(fastmime.BodyTooLarge):
        fastmime.wsgi.stream_request(env, Recorder(), limits=fastmime.Limits(max_body_size=1000))
    assert env["wsgi.input"].reads == []


def test_body_too_large_without_length_stops_reading() -> None:
    data = body(("f", "x", BIG))
    env = environ(data, content_length=None, terminated=True)
    rec = Recorder()
    with pytest.raises(fastmime.BodyTooLarge):
        fastmime.wsgi.stream_request(env, rec, limits=fastmime.Limits(max_body_size=100_000))
    assert env["wsgi.input"].pos < len(data)
    assert [len(r.aborted) for r in rec.parts] == [1]


@pytest.mark.parametrize(
    "ctype, error",
    [
        (None, fastmime.NotMultipart),
        ("", fastmime.NotMultipart),
        ("application/x-www-form-urlencoded", fastmime.NotMultipart),
        ("multipart/form-data", fastmime.MissingBoundary),
        ("multipart/form-data; boundary=", fastmime.EmptyBoundary),
        ("multipart/form-data; boundary=" + "x" * 71, fastmime.BoundaryTooLong),
    ],
)
def test_content_type_refused_before_reading(ctype: str | None, error: type[Exception]) -> None:
    env = environ(body(("a", None, b"1")), content_type=ctype)
    with pytest.raises(error):
        fastmime.wsgi.stream_request(env, Recorder())
    assert env["wsgi.input"].reads == []


def test_short_body_is_a_client_disconnect_and_aborts_the_open_part() -> None:
    data = body(("a", None, b"1"), ("f", "x.bin", BIG))
    cut = len(data) // 2
    stream = TrackingInput(data[:cut])
    rec = Recorder()
    with pytest.raises(fastmime.ClientDisconnected) as info:
        fastmime.wsgi.stream_request(environ(data, stream=stream), rec)
    assert info.value.offset == cut
    assert [(r.ended, len(r.aborted)) for r in rec.parts] == [(1, 0), (0, 1)]
    assert isinstance(rec.parts[1].aborted[0], fastmime.ClientDisconnected)


def test_read_error_is_a_client_disconnect() -> None:
    data = body(("f", "x.bin", BIG))
    stream = TrackingInput(data, fail_after=CHUNK_SIZE)
    rec = Recorder()
    with pytest.raises(fastmime.ClientDisconnected) as info:
        fastmime.wsgi.stream_request(environ(data, stream=stream), rec)
    assert isinstance(info.value.__cause__, OSError)
    assert len(rec.parts[0].aborted) == 1


def test_terminated_input_that_ends_early_is_incomplete() -> None:
    data = body(("f", "x.bin", BIG))
    rec = Recorder()
    with pytest.raises(fastmime.IncompleteBody):
        fastmime.wsgi.stream_request(environ(data[:-100], content_length=None, terminated=True), rec)
    assert len(rec.parts[0].aborted) == 1


def test_progress_reports_bytes_and_expected_length() -> None:
    data = body(("f", "x.bin", BIG))
    seen: list[tuple[int, int | None]] = []
    fastmime.wsgi.stream_request(environ(data), Recorder(), progress=lambda r, e: seen.append((r, e)))
    assert seen[-1] == (len(data), len(data))
    assert [r for r, _ in seen] == sorted(r for r, _ in seen)
    assert len(seen) == -(-len(data) // CHUNK_SIZE)
    seen.clear()
    fastmime.wsgi.stream_request(
        environ(data, content_length=None, terminated=True), Recorder(), progress=lambda r, e: seen.append((r, e))
    )
    assert seen[-1] == (len(data), None)


def test_progress_error_aborts_the_parser() -> None:
    class Stop(Exception):
        pass

    def progress(received: int, expected: int | None) -> None:
        raise Stop()

    rec = Recorder()
    with pytest.raises(Stop):
        fastmime.wsgi.stream_request(environ(body(("f", "x", BIG))), rec, progress=progress)
    assert len(rec.parts[0].aborted) == 1


def test_handler_error_propagates_and_aborts() -> None:
    class Refused(Exception):
        pass

    class Refuser:
        aborted: list[BaseException] = []  # noqa: RUF012 - shared by the instances on purpose

        def on_data(self, chunk: memoryview) -> None:
            raise Refused()

        def on_end(self) -> None:
            raise AssertionError

        def on_abort(self, error: BaseException) -> None:
            self.aborted.append(error)

    handler = Refuser()
    with pytest.raises(Refused):
        fastmime.wsgi.stream_request(environ(body(("f", "x", b"data"))), lambda part: handler)
    assert len(handler.aborted) == 1


def test_parse_form() -> None:
    data = body(
        ("title", None, "héllo".encode()),
        ("photo", "a.jpg", BIG, "image/jpeg"),
        (None, "nameless.jpg", b"xyz"),
        ("photo", "b.jpg", b""),
    )
    with fastmime.wsgi.parse_form(environ(data), spool_threshold=1000) as form:
        assert form.fields["title"] == "héllo"
        photos = form.files.getall("photo")
        assert [(p.filename, p.size, p.content_type) for p in photos] == [
            ("a.jpg", len(BIG), "image/jpeg"),
            ("b.jpg", 0, "application/octet-stream"),
        ]
        assert photos[0].read() == BIG
        assert form.files[""].filename == "nameless.jpg"
        assert form.files[""].read() == b"xyz"


def test_parse_form_releases_files_on_error() -> None:
    import fastmime._form as form_module

    made: list[fastmime.handlers.SpooledFileHandler] = []
    original = form_module.SpooledFileHandler

    class Tracked(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    form_module.SpooledFileHandler = Tracked
    try:
        data = body(("a", "one.bin", BIG), ("b", "two.bin", BIG))
        with pytest.raises(fastmime.ClientDisconnected):
            fastmime.wsgi.parse_form(environ(data, stream=TrackingInput(data[:-1000])), spool_threshold=10)
    finally:
        form_module.SpooledFileHandler = original
    assert len(made) == 2
    assert all(h.file.closed for h in made)
