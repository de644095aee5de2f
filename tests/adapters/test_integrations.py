"""The framework helpers in-process (test clients): what the real-server example tests do not reach."""

from __future__ import annotations

import io
from typing import Any

import pytest

import fastmime
from fastmime.handlers import HashingHandler
from fastmime.integrations import BodyConsumed

from ._util import BOUNDARY, CONTENT_TYPE, body, sha256

BIG = bytes(range(256)) * 1200
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
DATA = body(("title", None, b"hi"), (None, "nameless.jpg", BIG, "image/jpeg"))
SIMPLE = body(("title", None, b"hi"), (None, "nameless.jpg", b"abc", "image/jpeg"))


def _summary(form: fastmime.Form) -> tuple[dict[str, str], list[tuple[str, str | None, str]]]:
    with form:
        return dict(form.fields), [(n, f.filename, sha256(f.read())) for n, f in form.files.multi_items()]


EXPECTED = ({"title": "hi"}, [("", "nameless.jpg", sha256(BIG))])


# -- Starlette / FastAPI ------------------------------------------------------------------------------

def _starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from fastmime.integrations.starlette import error_response, parse_form, stream_request

    async def form(request: Any) -> Any:
        try:
            fields, files = _summary(await parse_form(request))
        except fastmime.MultipartError as exc:
            return error_response(exc)
        return JSONResponse({"fields": fields, "files": files})

    async def stream(request: Any) -> Any:
        handlers: list[HashingHandler] = []

        def handler_for(part: fastmime.Part) -> HashingHandler:
            handlers.append(HashingHandler())
            return handlers[-1]

        await stream_request(request, handler_for)
        return JSONResponse([h.sha256 for h in handlers])

    async def consumed(request: Any) -> Any:
        await request.form()
        try:
            await parse_form(request)
        except BodyConsumed:
            return JSONResponse("consumed")
        return JSONResponse("not detected")

    return Starlette(routes=[Route("/form", form, methods=["POST"]), Route("/stream", stream, methods=["POST"]),
                             Route("/consumed", consumed, methods=["POST"])])


def test_starlette_parse_form_and_stream() -> None:
    from starlette.testclient import TestClient

    with TestClient(_starlette_app()) as client:
        reply = client.post("/form", content=DATA, headers={"Content-Type": CONTENT_TYPE}).json()
        assert (reply["fields"], [tuple(f) for f in reply["files"]]) == EXPECTED
        assert client.post("/stream", content=DATA, headers={"Content-Type": CONTENT_TYPE}).json() == [
            sha256(b"hi"), sha256(BIG)]
        assert client.post("/form", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
        ok = body(("title", None, b"hi"))
        assert client.post("/consumed", content=ok, headers={"Content-Type": CONTENT_TYPE}).json() == "consumed"


def test_starlette_own_parser_refuses_the_nameless_part() -> None:
    """What the integration is for: python-multipart (request.form()) answers 400 to this body."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def own(request: Any) -> Any:
        await request.form()
        return JSONResponse("parsed")

    with TestClient(Starlette(routes=[Route("/", own, methods=["POST"])])) as client:
        assert client.post("/", content=SIMPLE, headers={"Content-Type": CONTENT_TYPE}).status_code == 400


def test_starlette_disconnect_is_client_disconnected() -> None:
    import asyncio

    from starlette.requests import Request

    from fastmime.integrations.starlette import parse_form

    messages = [{"type": "http.request", "body": DATA[:5000], "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-type", CONTENT_TYPE.encode())]}
    with pytest.raises(fastmime.ClientDisconnected):
        asyncio.run(parse_form(Request(scope, receive)))


# -- Flask ----------------------------------------------------------------------------------------------

def _flask_app(max_length: int | None = None) -> Any:
    from flask import Flask, jsonify, request

    from fastmime.integrations.flask import error_response, parse_form

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_length

    @app.post("/form")
    def form() -> Any:
        try:
            fields, files = _summary(parse_form())
        except fastmime.MultipartError as exc:
            return error_response(exc)
        return jsonify({"fields": fields, "files": files})

    @app.post("/consumed")
    def consumed() -> Any:
        request.form  # noqa: B018 - Werkzeug parses the body here
        try:
            parse_form()
        except BodyConsumed:
            return jsonify("consumed")
        return jsonify("not detected")

    return app


def test_flask_parse_form() -> None:
    client = _flask_app().test_client()
    reply = client.post("/form", data=DATA, content_type=CONTENT_TYPE).get_json()
    assert (reply["fields"], [tuple(f) for f in reply["files"]]) == EXPECTED
    assert client.post("/form", data=b"x", content_type="text/plain").status_code == 415
    assert client.post("/consumed", data=DATA, content_type=CONTENT_TYPE).get_json() == "consumed"


def test_flask_max_content_length_becomes_the_body_limit() -> None:
    client = _flask_app(max_length=1000).test_client()
    response = client.post("/form", data=DATA, content_type=CONTENT_TYPE)
    assert response.status_code == 413
    assert response.get_data(as_text=True).strip() == "request body too large"


# -- Django ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def django_settings() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(SECRET_KEY="tests", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__,
                           MIDDLEWARE=[], DEFAULT_CHARSET="utf-8")
    import django

    django.setup()


def _wsgi_request(data: bytes, *, length: bool = True, terminated: bool = False) -> Any:
    from django.core.handlers.wsgi import WSGIRequest

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
               "wsgi.input": io.BytesIO(data), "CONTENT_TYPE": CONTENT_TYPE, "wsgi.url_scheme": "http"}
    if length:
        environ["CONTENT_LENGTH"] = str(len(data))
    if terminated:
        environ["wsgi.input_terminated"] = True
    return WSGIRequest(environ)


def test_django_parse_form_and_stream(django_settings: None) -> None:
    from fastmime.integrations.django import error_response, parse_form, stream_request

    assert _summary(parse_form(_wsgi_request(DATA))) == EXPECTED
    handlers: list[HashingHandler] = []
    stream_request(_wsgi_request(DATA), lambda part: handlers.append(HashingHandler()) or handlers[-1])
    assert [h.sha256 for h in handlers] == [sha256(b"hi"), sha256(BIG)]
    # Django's own parser drops the nameless part
    request = _wsgi_request(SIMPLE)
    assert list(request.FILES) == [] and request.POST["title"] == "hi"
    response = error_response(fastmime.NotMultipart("x"))
    assert response is not None and response.status_code == 415


def test_django_body_already_read(django_settings: None) -> None:
    from fastmime.integrations.django import parse_form

    request = _wsgi_request(SIMPLE)
    request.POST  # noqa: B018
    with pytest.raises(BodyConsumed):
        parse_form(request)
    request = _wsgi_request(DATA)
    assert request.body == DATA  # in memory already: parsed from there
    assert _summary(parse_form(request)) == EXPECTED


def test_django_chunked_wsgi_body(django_settings: None) -> None:
    from fastmime.integrations.django import parse_form

    assert _summary(parse_form(_wsgi_request(DATA, length=False, terminated=True))) == EXPECTED
    with pytest.raises(fastmime.wsgi.LengthRequired):
        parse_form(_wsgi_request(DATA, length=False))


def test_django_asgi_request(django_settings: None) -> None:
    import tempfile

    from django.core.handlers.asgi import ASGIRequest

    from fastmime.integrations.django import parse_form

    spooled = tempfile.SpooledTemporaryFile()
    spooled.write(DATA)
    spooled.seek(0)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-type", CONTENT_TYPE.encode())],
             "query_string": b""}
    request = ASGIRequest(scope, spooled)  # chunked: no Content-Length, the spooled body ends at EOF
    assert _summary(parse_form(request)) == EXPECTED


urlpatterns: list[Any] = []
assert BOUNDARY in CONTENT_TYPE
