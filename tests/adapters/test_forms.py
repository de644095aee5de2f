"""parse_form in the WSGI and ASGI adapters: urlencoded bodies beside multipart ones."""

from __future__ import annotations

import pytest

import fastmime
import fastmime.asgi
import fastmime.wsgi

from ._util import TrackingInput, environ
from .test_asgi import Script, chunked, run, scope

URLENCODED = "application/x-www-form-urlencoded"
FORM = b"title=Sunset+%26+sea&tag=a&tag=b&_charset_=utf-8"
EXPECTED = [("title", "Sunset & sea"), ("tag", "a"), ("tag", "b"), ("_charset_", "utf-8")]


def test_wsgi_urlencoded() -> None:
    env = environ(FORM, content_type=URLENCODED + "; charset=UTF-8")
    with fastmime.wsgi.parse_form(env) as form:
        assert form.fields.multi_items() == EXPECTED and len(form.files) == 0
    # chunked: read to EOF only when the server terminates the input, as for multipart
    with fastmime.wsgi.parse_form(environ(FORM, content_type=URLENCODED, content_length=None, terminated=True)) as form:
        assert form.fields.multi_items() == EXPECTED
    env = environ(FORM, content_type=URLENCODED, content_length=None)
    with pytest.raises(fastmime.LengthRequired):
        fastmime.wsgi.parse_form(env)
    assert env["wsgi.input"].reads == []


def test_wsgi_urlencoded_limits_and_disconnects() -> None:
    env = environ(FORM, content_type=URLENCODED)
    with pytest.raises(fastmime.BodyTooLarge):
        fastmime.wsgi.parse_form(env, limits=fastmime.Limits(max_body_size=10))
    assert env["wsgi.input"].reads == []  # refused from the Content-Length, before reading
    with pytest.raises(fastmime.FieldTooLarge):
        fastmime.wsgi.parse_form(environ(FORM, content_type=URLENCODED), limits=fastmime.Limits(max_field_size=8))
    with pytest.raises(fastmime.ClientDisconnected) as info:
        fastmime.wsgi.parse_form(environ(FORM, content_type=URLENCODED, stream=TrackingInput(FORM[:10])))
    assert info.value.offset == 10
    seen = []
    fastmime.wsgi.parse_form(environ(FORM, content_type=URLENCODED), progress=lambda *a: seen.append(a))
    assert seen == [(len(FORM), len(FORM))]


def test_asgi_urlencoded() -> None:
    async def parse(messages, length=len(FORM), **kw):  # noqa: B008 - FORM is a constant
        with await fastmime.asgi.parse_form(scope(URLENCODED, length), Script(messages), **kw) as form:
            return form.fields.multi_items(), len(form.files)

    assert run(parse(chunked(FORM, 5))) == (EXPECTED, 0)
    assert run(parse(chunked(FORM, 5), length=None)) == (EXPECTED, 0)
    with pytest.raises(fastmime.ClientDisconnected) as info:
        run(parse(chunked(FORM, 5, disconnect_after=2)))
    assert info.value.offset == 10
    with pytest.raises(fastmime.ClientDisconnected):
        run(parse(chunked(FORM[:20], 5)))  # shorter than its Content-Length
    with pytest.raises(fastmime.BodyTooLarge):
        run(parse([], limits=fastmime.Limits(max_body_size=10)))
    with pytest.raises(fastmime.TooManyParts):
        run(parse(chunked(FORM, 5), limits=fastmime.Limits(max_parts=3)))


def test_other_types_are_still_refused_before_reading() -> None:
    receive = Script([])
    with pytest.raises(fastmime.NotMultipart):
        run(fastmime.asgi.parse_form(scope("application/json"), receive))
    assert receive.calls == 0
    # the streaming API stays multipart-only: its handlers are per part
    with pytest.raises(fastmime.NotMultipart):
        fastmime.wsgi.stream_request(environ(FORM, content_type=URLENCODED), lambda part: None)
