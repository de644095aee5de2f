"""Malformed bodies, limits and aborts: the specific error, where it happened, and clean handlers."""

from __future__ import annotations

import pytest

import fastmime

from ._helpers import BOUNDARY, Recorder, body_of, chunkings, outcome, parse, part

D = b"--" + BOUNDARY


def assert_error_everywhere(parser_cls, body, error_cls, limits=None, *, part_index="any", offset="any"):
    """The same error (class, part index, offset) for every chunking; returns the whole-body error."""
    _, first = parse(parser_cls, body, limits=limits)
    assert isinstance(first, error_cls), first
    if part_index != "any":
        assert first.part_index == part_index, first
    if offset != "any":
        assert first.offset == offset, first
    expected = outcome(parser_cls, body, limits=limits)[1]
    for label, chunks in chunkings(body, random_splits=4):
        assert outcome(parser_cls, body, chunks, limits=limits)[1] == expected, label
    return first


@pytest.mark.parametrize(
    "body, error_cls",
    [
        (
            D + b'\r\nContent-Disposition: form-data; name="a"\r\nNoColonHere\r\n\r\nx\r\n' + D + b"--",
            fastmime.InvalidHeader,
        ),
        (
            D + b'\r\nContent-Disposition: form-data; name="a"\r\n: empty name\r\n\r\nx\r\n' + D + b"--",
            fastmime.InvalidHeader,
        ),
        (D + b'\r\nContent-<<<position: form-data; name="a"\r\n\r\nx\r\n' + D + b"--", fastmime.InvalidHeader),
        (D + b'\r\nContent-Disposition: form-data; n\rme="a"\r\n\r\nx\r\n' + D + b"--", fastmime.InvalidHeader),
        (D + b'\r\nContent-Disposition: form-data; n\nme="a"\r\n\r\nx\r\n' + D + b"--", fastmime.InvalidHeader),
        (D + b'\r\nContent-Disposition: form-data; name="a"\x00\r\n\r\nx\r\n' + D + b"--", fastmime.InvalidHeader),
        (D + b'\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nx\r\n' + D + b"--", fastmime.InvalidHeader),
        (D + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n" + D + b"--", fastmime.MissingContentDisposition),
        (D + b"\r\n\r\nx\r\n" + D + b"--", fastmime.MissingContentDisposition),
        (
            D + b'\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n' + D + b"--",
            fastmime.InvalidContentDisposition,
        ),
        (
            D + b'\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nx\r\n' + D + b"--",
            fastmime.InvalidContentDisposition,
        ),
        (
            D + b'\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n'
            b"\r\nx\r\n" + D + b"--",
            fastmime.InvalidContentDisposition,
        ),
        (
            D + b'\r\nContent-Disposition: form-data; name="a"; filename*=bogus\r\n\r\nx\r\n' + D + b"--",
            fastmime.InvalidContentDisposition,
        ),
        (D + b"X\r\n", fastmime.InvalidDelimiter),
        (D + b"-X\r\n", fastmime.InvalidDelimiter),
        (D + b"\rX", fastmime.InvalidDelimiter),
        (D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b"junk\r\n", fastmime.InvalidDelimiter),
        (D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b" \t x", fastmime.InvalidDelimiter),
        (
            D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b"\n" + part("b", b"2") + b"\r\n" + D + b"--",
            fastmime.InvalidDelimiter,
        ),
        (D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b" " * 1025 + b"\r\n", fastmime.InvalidDelimiter),
    ],
)
def test_malformed_bodies(parser_cls, body, error_cls):
    error = assert_error_everywhere(parser_cls, body, error_cls)
    assert isinstance(error, fastmime.ParseError)
    assert error.offset is not None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no delimiter at all",
        D,
        D + b"\r\n",
        D + b'\r\nContent-Disposition: form-data; name="a"\r\n',
        D + b"\r\n" + part("a", b"1"),
        D + b"\r\n" + part("a", b"1") + b"\r\n" + D,
        D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b"-",
    ],
)
def test_incomplete_bodies_fail_at_close(parser_cls, body):
    recorder, error = parse(parser_cls, body)
    assert isinstance(error, fastmime.IncompleteBody)
    for rec in recorder.parts:
        assert rec.ended + len(rec.aborted) == 1


def test_error_names_part_and_offset(parser_cls):
    body = body_of(part("first", b"1"))[: -len(D) - 2] + b"\r\n" + D + b"\r\nX-Bad Header: 1\r\n\r\n"
    _, error = parse(parser_cls, body)
    assert isinstance(error, fastmime.InvalidHeader)
    assert error.part_index == 1
    assert error.offset == body.index(b"X-Bad")
    assert "part 1" in str(error) and f"byte {error.offset}" in str(error)


def test_open_part_is_aborted_exactly_once(parser_cls):
    body = D + b"\r\n" + part("a", b"1") + b"\r\n" + D + b"\r\n" + part("b", b"partial data")
    for label, chunks in chunkings(body, random_splits=3):
        recorder, error = parse(parser_cls, body, chunks)
        assert isinstance(error, fastmime.IncompleteBody), label
        a, b = recorder.parts
        assert (a.ended, len(a.aborted)) == (1, 0)
        assert (b.ended, len(b.aborted)) == (0, 1)
        assert b.aborted[0] is error


@pytest.mark.parametrize(
    "limit, value, body, error_cls",
    [
        ("max_parts", 2, body_of(part("a"), part("b"), part("c")), fastmime.TooManyParts),
        ("max_header_size", 60, body_of(part("a", extra_headers=[b"X-Long: " + b"v" * 40])), fastmime.HeaderTooLarge),
        ("max_header_lines", 2, body_of(part("a", extra_headers=[b"A: 1", b"B: 2"])), fastmime.TooManyHeaders),
        ("max_field_size", 10, body_of(part("a", b"x" * 11)), fastmime.FieldTooLarge),
        ("max_file_size", 10, body_of(part("a", b"x" * 11, filename="f")), fastmime.FileTooLarge),
        ("max_body_size", 100, body_of(part("a", b"x" * 200)), fastmime.BodyTooLarge),
    ],
)
def test_each_limit_has_its_own_error(parser_cls, limit, value, body, error_cls):
    limits = fastmime.Limits(**{limit: value})
    error = assert_error_everywhere(parser_cls, body, error_cls, limits)
    assert isinstance(error, fastmime.LimitExceeded)
    assert error.http_status == 413


@pytest.mark.parametrize(
    "limit, value, body",
    [
        ("max_parts", 3, body_of(part("a"), part("b"), part("c"))),
        ("max_header_lines", 3, body_of(part("a", extra_headers=[b"A: 1", b"B: 2"]))),
        ("max_field_size", 11, body_of(part("a", b"x" * 11))),
        ("max_file_size", 11, body_of(part("a", b"x" * 11, filename="f"))),
    ],
)
def test_limits_are_inclusive(parser_cls, limit, value, body):
    _, error = parse(parser_cls, body, limits=fastmime.Limits(**{limit: value}))
    assert error is None


def test_header_size_limit_is_exact(parser_cls):
    block = b'Content-Disposition: form-data; name="a"'
    body = body_of(part("a", b"1"))
    assert parse(parser_cls, body, limits=fastmime.Limits(max_header_size=len(block)))[1] is None
    error = assert_error_everywhere(
        parser_cls, body, fastmime.HeaderTooLarge, fastmime.Limits(max_header_size=len(block) - 1)
    )
    assert error.offset == len(D) + 2 + len(block) - 1


def test_body_limit_counts_everything_and_reports_the_limit(parser_cls):
    body = body_of(part("a", b"1"), preamble=b"p" * 100 + b"\r\n")
    limits = fastmime.Limits(max_body_size=len(body) - 1)
    error = assert_error_everywhere(parser_cls, body, fastmime.BodyTooLarge, limits)
    assert error.offset == len(body) - 1
    assert parse(parser_cls, body, limits=fastmime.Limits(max_body_size=len(body)))[1] is None


def test_earlier_error_wins_over_body_limit(parser_cls):
    body = D + b"\r\nBroken\r\n\r\n" + b"x" * 1000
    limits = fastmime.Limits(max_body_size=len(body) - 10)
    assert_error_everywhere(parser_cls, body, fastmime.InvalidHeader, limits)


def test_field_limit_names_the_part(parser_cls):
    body = body_of(part("ok", b"1"), part("caption", b"y" * 50))
    error = assert_error_everywhere(
        parser_cls, body, fastmime.FieldTooLarge, fastmime.Limits(max_field_size=20), part_index=1
    )
    assert error.part_name == "caption"
    assert error.offset == body.index(b"y" * 50) + 20


def test_handler_exception_aborts_the_part_and_propagates(parser_cls):
    class Refuse(Exception):
        pass

    events = []

    class Picky:
        def on_data(self, chunk):
            raise Refuse("not an image")

        def on_end(self):
            events.append("end")

        def on_abort(self, error):
            events.append(("abort", error))

    parser = parser_cls(BOUNDARY, lambda p: Picky())
    with pytest.raises(Refuse) as info:
        parser.feed(body_of(part("f", b"data", filename="x")))
    assert events == [("abort", info.value)]
    with pytest.raises(Refuse):  # the parser stays failed
        parser.feed(b"more")
    with pytest.raises(Refuse):
        parser.close()
    parser.abort()  # no-op on a failed parser
    assert len(events) == 1


def test_handler_for_may_refuse_a_part(parser_cls):
    def handler_for(p):
        raise PermissionError(p.name)

    parser = parser_cls(BOUNDARY, handler_for)
    with pytest.raises(PermissionError, match="secret"):
        parser.feed(body_of(part("secret", b"1")))


def test_failing_on_end_gets_on_abort(parser_cls):
    events = []

    class FailsAtEnd:
        def on_data(self, chunk):
            pass

        def on_end(self):
            raise ValueError("cannot finish")

        def on_abort(self, error):
            events.append(type(error).__name__)

    parser = parser_cls(BOUNDARY, lambda p: FailsAtEnd())
    with pytest.raises(ValueError):
        parser.feed(body_of(part("a", b"1")))
    assert events == ["ValueError"]


def test_abort_aborts_the_open_part_once(parser_cls):
    recorder = Recorder()
    parser = parser_cls(BOUNDARY, recorder)
    parser.feed(D + b"\r\n" + part("a", b"done") + b"\r\n" + D + b"\r\n" + part("b", b"half"))
    gone = fastmime.ClientDisconnected("client went away")
    parser.abort(gone)
    parser.abort()
    a, b = recorder.parts
    assert (a.ended, a.aborted) == (1, [])
    assert (b.ended, b.aborted) == (0, [gone])
    with pytest.raises(fastmime.ClientDisconnected):
        parser.feed(b"x")


def test_abort_without_error_gives_aborted(parser_cls):
    recorder = Recorder()
    parser = parser_cls(BOUNDARY, recorder)
    parser.feed(D + b"\r\n" + part("a", b"half"))
    parser.abort()
    (a,) = recorder.parts
    assert isinstance(a.aborted[0], fastmime.Aborted)
    with pytest.raises(fastmime.Aborted):
        parser.close()


def test_feed_after_close(parser_cls):
    parser = parser_cls(BOUNDARY, Recorder())
    parser.feed(body_of(part("a", b"1")))
    parser.close()
    with pytest.raises(fastmime.MultipartError):
        parser.feed(b"x")
    with pytest.raises(fastmime.MultipartError):
        parser.close()
    parser.abort()  # nothing to abort: no error


@pytest.mark.parametrize(
    "boundary, error_cls",
    [
        (b"", fastmime.EmptyBoundary),
        (b"x" * 71, fastmime.BoundaryTooLong),
        (b"bad\r\nboundary", fastmime.InvalidBoundary),
        (b"trailing ", fastmime.InvalidBoundary),
        ("naïve", fastmime.InvalidBoundary),
    ],
)
def test_parser_checks_its_boundary(parser_cls, boundary, error_cls):
    with pytest.raises(error_cls):
        parser_cls(boundary, Recorder())


def test_limits_must_be_limits(parser_cls):
    with pytest.raises(TypeError):
        parser_cls(BOUNDARY, Recorder(), {"max_parts": 3})
    with pytest.raises(ValueError):
        fastmime.Limits(max_parts=0)


def test_boundary_length_limit_is_configurable(parser_cls):
    parser_cls(b"x" * 100, Recorder(), fastmime.Limits(max_boundary_length=100))
    with pytest.raises(fastmime.BoundaryTooLong):
        parser_cls(b"x" * 101, Recorder(), fastmime.Limits(max_boundary_length=100))


def test_error_hierarchy():
    assert issubclass(fastmime.NotMultipart, fastmime.ParseError)
    assert fastmime.NotMultipart.http_status == 415
    for cls in (
        fastmime.TooManyParts,
        fastmime.HeaderTooLarge,
        fastmime.TooManyHeaders,
        fastmime.FieldTooLarge,
        fastmime.FileTooLarge,
        fastmime.BodyTooLarge,
    ):
        assert issubclass(cls, fastmime.LimitExceeded) and issubclass(cls, fastmime.MultipartError)
    for cls in (fastmime.MissingBoundary, fastmime.EmptyBoundary, fastmime.BoundaryTooLong):
        assert issubclass(cls, fastmime.InvalidBoundary)
    assert issubclass(fastmime.ClientDisconnected, fastmime.Aborted)
    assert issubclass(fastmime.MissingContentDisposition, fastmime.InvalidHeader)
