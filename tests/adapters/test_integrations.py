"""The framework helpers in-process (test clients): what the real-server example tests do not reach."""

from __future__ import annotations

import io
import json
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

    return Starlette(
        routes=[
            Route("/form", form, methods=["POST"]),
            Route("/stream", stream, methods=["POST"]),
            Route("/consumed", consumed, methods=["POST"]),
        ]
    )


def test_starlette_parse_form_and_stream() -> None:
    from starlette.testclient import TestClient

    with TestClient(_starlette_app()) as client:
        reply = client.post("/form", content=DATA, headers={"Content-Type": CONTENT_TYPE}).json()
        assert (reply["fields"], [tuple(f) for f in reply["files"]]) == EXPECTED
        assert client.post("/stream", content=DATA, headers={"Content-Type": CONTENT_TYPE}).json() == [
            sha256(b"hi"),
            sha256(BIG),
        ]
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


# -- FastAPI ---------------------------------------------------------------------------------------------


def _fastapi_app(route_class: bool = True) -> Any:
    from fastapi import Depends, FastAPI
    from pydantic import BaseModel, Field

    from fastmime.integrations.fastapi import FormBody, FormRoute, register_error_handlers

    class Upload(BaseModel):
        title: str
        count: int = 0
        tags: list[str] = []
        nameless: fastmime.UploadedFile | None = Field(default=None, alias="")

    upload_form = FormBody(Upload, limits=fastmime.Limits(max_file_size=100_000))
    raw_form = FormBody()
    kept: list[fastmime.UploadedFile] = []
    app = FastAPI()
    if route_class:
        app.router.route_class = FormRoute
    register_error_handlers(app)

    @app.post("/model")
    async def model(form: Upload = Depends(upload_form)) -> Any:
        if form.nameless is not None:
            kept.append(form.nameless)
        data = await form.nameless.aread() if form.nameless else b""
        return {"title": form.title, "count": form.count, "tags": form.tags, "nameless": len(data)}

    @app.post("/raw", openapi_extra=raw_form.openapi_extra)
    async def raw(form: fastmime.Form = Depends(raw_form)) -> Any:
        return {"fields": form.fields.multi_items(), "files": [n for n, _ in form.files.multi_items()]}

    app.state.kept = kept
    return app


def test_fastapi_form_body_validates_like_form_and_file() -> None:
    from fastapi.testclient import TestClient

    app = _fastapi_app()
    with TestClient(app) as client:
        ok = body(
            ("title", None, b"hi"),
            ("count", None, b"3"),
            ("tags", None, b"a"),
            ("tags", None, b"b"),
            (None, "n.jpg", b"abc", "image/jpeg"),
        )
        assert client.post("/model", content=ok, headers={"Content-Type": CONTENT_TYPE}).json() == {
            "title": "hi",
            "count": 3,
            "tags": ["a", "b"],
            "nameless": 3,
        }
        assert app.state.kept[0].file.closed  # closed once the route was done
        reply = client.post("/model", data={"title": "t", "count": "x"})  # urlencoded, a bad int
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "count"]
        reply = client.post("/model", data={"count": "1"})
        assert reply.status_code == 422 and reply.json()["detail"] == [
            {"type": "missing", "loc": ["body", "title"], "msg": "Field required"}
        ]
        big = body(("title", None, b"t"), (None, "n.jpg", BIG))
        reply = client.post("/model", content=big, headers={"Content-Type": CONTENT_TYPE})
        assert (reply.status_code, reply.json()) == (413, {"detail": "uploaded file too large"})
        reply = client.post("/model", content=b"{}", headers={"Content-Type": "application/json"})
        assert reply.status_code == 415
        assert client.post("/raw", content=DATA, headers={"Content-Type": CONTENT_TYPE}).json() == {
            "fields": [["title", "hi"]],
            "files": [""],
        }


@pytest.mark.parametrize("route_class", [True, False])
def test_fastapi_openapi_documents_the_form(route_class: bool) -> None:
    operations = _fastapi_app(route_class).openapi()["paths"]
    raw = operations["/raw"]["post"]["requestBody"]
    assert set(raw["content"]) == {"multipart/form-data", "application/x-www-form-urlencoded"}
    if not route_class:
        assert "requestBody" not in operations["/model"]["post"]
        return
    model = operations["/model"]["post"]["requestBody"]
    assert model["required"] is True and list(model["content"]) == ["multipart/form-data"]  # it has a file
    schema = model["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["title"]
    assert schema["properties"]["tags"] == {
        "items": {"type": "string"},
        "type": "array",
        "title": "Tags",
        "default": [],
    }
    assert {"type": "string", "format": "binary"} in schema["properties"][""]["anyOf"]


def test_starlette_error_handlers_and_pull_api() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from fastmime.integrations.starlette import iter_parts, register_error_handlers

    async def parts(request: Any) -> Any:
        seen = []
        async for part in iter_parts(request, limits=fastmime.Limits(max_file_size=1000)):
            seen.append([part.name, part.filename, len(await part.read())])
        return JSONResponse(seen)

    app = Starlette(routes=[Route("/parts", parts, methods=["POST"])])
    register_error_handlers(app)
    with TestClient(app) as client:
        assert client.post("/parts", content=SIMPLE, headers={"Content-Type": CONTENT_TYPE}).json() == [
            ["title", None, 2],
            ["", "nameless.jpg", 3],
        ]
        reply = client.post("/parts", content=DATA, headers={"Content-Type": CONTENT_TYPE})
        assert (reply.status_code, reply.text) == (413, "uploaded file too large\n")


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


def test_flask_install_fills_request_form_and_files() -> None:
    from flask import Flask, jsonify, request
    from werkzeug.datastructures import FileStorage

    from fastmime.integrations.flask import install

    class Refused(Exception):
        http_status = 422
        http_message = "refused image"

    app = Flask(__name__)
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    install(app, Refused)

    @app.post("/")
    def view() -> Any:
        if "refuse" in request.form:
            raise Refused("no")
        files = [
            (name, f.filename, f.content_type, sha256(f.read()), isinstance(f, FileStorage))
            for name, f in request.files.items(multi=True)
        ]
        return jsonify(
            {"fields": list(request.form.items(multi=True)), "files": files, "values": request.values.getlist("title")}
        )

    client = app.test_client()
    reply = client.post("/", data=DATA, content_type=CONTENT_TYPE).get_json()
    assert reply == {
        "fields": [["title", "hi"]],
        "files": [["", "nameless.jpg", "image/jpeg", sha256(BIG), True]],
        "values": ["hi"],
    }
    reply = client.post("/", data="title=a+b&title=%C3%A9", content_type="application/x-www-form-urlencoded")
    assert reply.get_json()["fields"] == [["title", "a b"], ["title", "é"]]
    too_big = body(("title", None, b"x" * 1001))  # MAX_FORM_MEMORY_SIZE is the field limit
    response = client.post("/", data=too_big, content_type=CONTENT_TYPE)
    assert (response.status_code, response.get_data(as_text=True)) == (413, "form field too large\n")
    assert client.post("/", data=DATA[:-10], content_type=CONTENT_TYPE).status_code == 400
    assert client.post("/", data="refuse=1", content_type="application/x-www-form-urlencoded").status_code == 422
    assert client.post("/", data=b"{}", content_type="application/json").get_json()["fields"] == []


def test_flask_body_consumed_is_a_multipart_error_with_a_status() -> None:
    assert issubclass(BodyConsumed, fastmime.MultipartError) and issubclass(BodyConsumed, RuntimeError)
    from fastmime.http import http_error

    assert http_error(BodyConsumed("x")) == (500, "the request body was already read")


# -- Django ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_settings() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="tests",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            DEFAULT_CHARSET="utf-8",
            FASTMIME_LIMITS=fastmime.Limits(max_field_size=1000),
        )
    import django

    django.setup()


def _wsgi_request(data: bytes, *, length: bool = True, terminated: bool = False) -> Any:
    from django.core.handlers.wsgi import WSGIRequest

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(data),
        "CONTENT_TYPE": CONTENT_TYPE,
        "wsgi.url_scheme": "http",
    }
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
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", CONTENT_TYPE.encode())],
        "query_string": b"",
    }
    request = ASGIRequest(scope, spooled)  # chunked: no Content-Length, the spooled body ends at EOF
    assert _summary(parse_form(request)) == EXPECTED


def _handler_response(path: str, data: bytes, content_type: str = CONTENT_TYPE, **extra: Any) -> Any:
    """A request through Django's real handler (middleware, CSRF, views) without a server."""
    from django.core.handlers.wsgi import WSGIHandler

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(data),
        "CONTENT_TYPE": content_type,
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(data)),
        **extra,
    }
    if extra.pop("chunked", None) or "wsgi.input_terminated" in extra:
        environ.pop("CONTENT_LENGTH")
    return WSGIHandler()(environ, lambda status, headers: None), environ


def test_django_middleware_fills_post_and_files(django_settings: None) -> None:
    from django.test import override_settings

    with override_settings(MIDDLEWARE=["fastmime.integrations.django.FastmimeMiddleware"]):
        response, _ = _handler_response("/django/form", DATA)
        assert json.loads(b"".join(response)) == {
            "post": [["title", "hi"]],
            "files": [["", "nameless.jpg", "image/jpeg", len(BIG), sha256(BIG)]],
        }
        response, _ = _handler_response("/django/form", DATA, **{"wsgi.input_terminated": True})
        assert json.loads(b"".join(response))["files"][0][4] == sha256(BIG)  # chunked under WSGI
        response, _ = _handler_response("/django/form", body(("title", None, b"x" * 2000)))
        assert response.status_code == 413  # FASTMIME_LIMITS of the test settings: 1000-byte fields
        response, _ = _handler_response("/django/raises", b"a=1", "application/x-www-form-urlencoded")
        assert response.status_code == 413  # process_exception maps errors raised in views


def test_django_upload_handler_setting(django_settings: None) -> None:
    from django.test import override_settings

    with override_settings(FILE_UPLOAD_HANDLERS=["fastmime.integrations.django.FastmimeUploadHandler"]):
        request = _wsgi_request(DATA)
        assert request.POST["title"] == "hi" and request.FILES[""].read() == BIG
        assert request.FILES[""].name == "nameless.jpg" and request.FILES[""].content_type == "image/jpeg"


def _form_view(request: Any) -> Any:
    from django.http import JsonResponse

    files = [[name, f.name, f.content_type, f.size, sha256(f.read())] for name, fs in request.FILES.lists() for f in fs]
    return JsonResponse({"post": [[k, v] for k, vs in request.POST.lists() for v in vs], "files": files})


def _raising_view(request: Any) -> Any:
    raise fastmime.FileTooLarge("from the view")


def _urls() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("django/form", csrf_exempt(_form_view)), path("django/raises", csrf_exempt(_raising_view))]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":  # Django's URL resolver asks for it, after settings are configured
        return _urls()
    raise AttributeError(name)


assert BOUNDARY in CONTENT_TYPE
