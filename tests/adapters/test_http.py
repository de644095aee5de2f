"""fastmime.http: every fastmime and imgpipe error maps to a status and a short message."""

from __future__ import annotations

import inspect

import pytest

import fastmime
import fastmime._errors
import fastmime.handlers
from fastmime.http import http_error, reason_phrase, status_for
from fastmime.wsgi import InvalidContentLength, LengthRequired


def _fastmime_errors() -> list[type[BaseException]]:
    classes = [
        cls
        for _, cls in inspect.getmembers(fastmime._errors, inspect.isclass)
        if issubclass(cls, fastmime.MultipartError)
    ]
    return classes + [fastmime.handlers.ValueTooLarge, LengthRequired, InvalidContentLength]


@pytest.mark.parametrize("cls", _fastmime_errors(), ids=lambda c: c.__name__)
def test_every_fastmime_error_has_a_status_and_message(cls: type[BaseException]) -> None:
    status, message = http_error(cls("detail that must not leak"))  # type: ignore[misc]
    assert status in (400, 411, 413, 415, 500)  # 500: BodyConsumed, the application's mistake
    assert status == cls.http_status  # type: ignore[attr-defined]
    assert message and "detail" not in message and len(message) < 60
    assert reason_phrase(status)


@pytest.mark.parametrize(
    "cls, status",
    [
        (fastmime.NotMultipart, 415),
        (fastmime.MissingBoundary, 400),
        (fastmime.BodyTooLarge, 413),
        (fastmime.FileTooLarge, 413),
        (fastmime.TooManyParts, 413),
        (fastmime.IncompleteBody, 400),
        (fastmime.ClientDisconnected, 400),
        (fastmime.InvalidHeader, 400),
        (LengthRequired, 411),
        (InvalidContentLength, 400),
    ],
)
def test_fastmime_statuses(cls: type[Exception], status: int) -> None:
    assert status_for(cls("x")) == status


def test_messages_are_specific() -> None:
    assert http_error(fastmime.BodyTooLarge("x")) == (413, "request body too large")
    assert http_error(fastmime.NotMultipart("x")) == (415, "expected a multipart/form-data body")
    assert http_error(LengthRequired("x")) == (411, "Content-Length required")
    assert http_error(InvalidContentLength("x")) == (400, "invalid Content-Length")


def test_imgpipe_errors() -> None:
    import imgpipe._errors as errors

    limit = {"limit": 1, "actual": 2}
    cases = [
        (errors.UnsupportedFormatError("x"), 415),
        (errors.NotAnImageError("x"), 415),
        (errors.EmptyImageError("x"), 415),
        (errors.CorruptImageError("x"), 422),
        (errors.TruncatedImageError("x"), 422),
        (errors.FileTooLargeError("x", **limit), 413),
        (errors.TooManyPixelsError("x", **limit), 422),
        (errors.DimensionsTooLargeError("x", **limit), 422),
        (errors.ImageLimitError("x", **limit), 422),
        (errors.ImageError("x"), 422),
    ]
    for exc, status in cases:
        found = http_error(exc)
        assert found is not None and found[0] == status, exc
    # every public imgpipe error class is covered
    public = [getattr(errors, name) for name in errors.__all__]
    covered = {type(exc) for exc, _ in cases}
    assert set(public) <= covered


def test_imgpipe_subclass_outside_the_table() -> None:
    import imgpipe._errors as errors

    class MyCorrupt(errors.CorruptImageError):
        pass

    assert status_for(MyCorrupt("x")) == 422


def test_any_error_with_http_status_is_mapped_by_its_attributes() -> None:
    class QuotaExceeded(Exception):
        http_status = 429
        http_message = "quota exceeded"

    class Gone(Exception):
        http_status = 410

    assert http_error(QuotaExceeded()) == (429, "quota exceeded")
    assert http_error(Gone()) == (410, "Gone")


def test_http_status_outside_the_error_range_is_ignored() -> None:
    class NotAnError(Exception):
        http_status = 200

    class Flag(Exception):
        http_status = True

    assert http_error(NotAnError()) is None
    assert http_error(Flag()) is None


def test_the_mapping_never_looks_at_class_names() -> None:
    import fastmime.http

    source = inspect.getsource(fastmime.http)
    assert "__name__" not in source and "__module__" not in source and "imgpipe" not in source.split('"""', 2)[2]


def test_other_exceptions_are_not_mapped() -> None:
    assert http_error(ValueError("x")) is None
    assert http_error(KeyError("x")) is None

    class ImageError(Exception):  # same name, not imgpipe's
        pass

    assert http_error(ImageError()) is None
