"""application/x-www-form-urlencoded bodies through parse_form: fields only, streamed, same limits."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastmime
from fastmime._urlencoded import UrlencodedParser, is_urlencoded

from ._strategies import property_settings

CTYPE = "application/x-www-form-urlencoded"


def fields(
    body: bytes, content_type: str = CTYPE, limits: fastmime.Limits | None = None, chunk: int | None = None
) -> list[tuple[str, str]]:
    chunks = [body] if chunk is None else [body[i : i + chunk] for i in range(0, len(body), chunk)]
    with fastmime.parse_form(chunks, content_type, limits) as form:
        assert form.files.multi_items() == []
        return form.fields.multi_items()


def test_what_a_browser_form_sends() -> None:
    body = b"title=Sunset+over+the+sea&tags=a&tags=b%26c&empty=&flag&caf%C3%A9=cr%C3%A8me"
    assert fields(body) == [
        ("title", "Sunset over the sea"),
        ("tags", "a"),
        ("tags", "b&c"),
        ("empty", ""),
        ("flag", ""),
        ("café", "crème"),
    ]
    with fastmime.parse_form(body, CTYPE) as form:
        assert form.fields.getall("tags") == ["a", "b&c"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_chunking_never_changes_the_result(chunk: int) -> None:
    body = b"a=1&&b=%41%4&c=x=y&%zz=%&d+e=f+g"
    assert (
        fields(body, chunk=chunk)
        == fields(body)
        == [("a", "1"), ("b", "A%4"), ("c", "x=y"), ("%zz", "%"), ("d e", "f g")]
    )


def test_charset_from_content_type_then_charset_field() -> None:
    latin = "caf\xe9".encode("latin-1")
    quoted = b"%E9"
    assert fields(b"n=caf" + quoted, CTYPE + "; charset=ISO-8859-1") == [("n", latin.decode("latin-1"))]
    assert fields(b"_charset_=iso-8859-1&n=caf" + quoted) == [("_charset_", "iso-8859-1"), ("n", "café")]
    assert fields(b"n=caf" + quoted) == [("n", "caf\ufffd")]  # UTF-8 by default, bad bytes replaced


def test_limits_and_their_errors() -> None:
    with pytest.raises(fastmime.FieldTooLarge) as info:
        fields(b"a=1&big=" + b"x" * 100, limits=fastmime.Limits(max_field_size=50), chunk=9)
    assert (info.value.part_index, info.value.part_name, info.value.offset) == (1, "big", 54)
    with pytest.raises(fastmime.TooManyParts):
        fields(b"&".join(b"f=%d" % i for i in range(11)), limits=fastmime.Limits(max_parts=10))
    assert len(fields(b"&".join(b"f=%d" % i for i in range(10)), limits=fastmime.Limits(max_parts=10))) == 10
    with pytest.raises(fastmime.BodyTooLarge) as too_large:
        fields(b"a=" + b"1" * 200, limits=fastmime.Limits(max_body_size=100))
    assert too_large.value.offset == 100


def test_a_failed_parser_stays_failed() -> None:
    parser = UrlencodedParser(fastmime.Limits(max_field_size=2))
    with pytest.raises(fastmime.FieldTooLarge):
        parser.feed(b"abc")
    with pytest.raises(fastmime.FieldTooLarge):
        parser.close()


def test_media_type_detection() -> None:
    assert is_urlencoded("Application/X-WWW-Form-Urlencoded ; charset=utf-8")
    assert is_urlencoded(b"application/x-www-form-urlencoded")
    assert not is_urlencoded("multipart/form-data; boundary=x") and not is_urlencoded(None)
    with pytest.raises(fastmime.NotMultipart):
        fastmime.parse_form(b"{}", "application/json")


def test_async() -> None:
    async def chunks():
        yield b"a=1&b"
        yield b"=2"

    async def run() -> list[tuple[str, str]]:
        with await fastmime.parse_form_async(chunks(), CTYPE) as form:
            return form.fields.multi_items()

    assert asyncio.run(run()) == [("a", "1"), ("b", "2")]


@property_settings(150)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=8), st.integers(1, 9))
def test_reads_back_what_urlencode_writes(pairs: list[tuple[str, str]], chunk: int) -> None:
    body = urlencode(pairs).encode()  # an empty pair is written "=": kept, as ("", "")
    assert fields(body, chunk=chunk) == pairs
