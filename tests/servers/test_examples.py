"""Every runnable example in examples/ is served by a real server and sent real uploads.

Each example answers ``POST /upload`` with JSON ``{"fields": {...}, "files": [{name, filename, size,
content_type, sha256}]}``; each must accept a file part without a name, which the framework's own
parser would drop, and answer fastmime's errors with their HTTP status. The framework examples
(Starlette, FastAPI, Flask, Django) also take urlencoded forms, require a ``title`` field and keep
text fields under 64 KiB; the Django one is CSRF-protected (the client fetches a token first).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import fastmime

from ..adapters._util import body as make_body
from ._bodies import PHOTO, SMALL, sha256
from .conftest import ROOT, Server, start, stop

EXAMPLES = {
    "wsgi_app": ("waitress", "wsgi_app:app"),
    "asgi_app": ("uvicorn", "asgi_app:app"),
    "starlette_app": ("uvicorn", "starlette_app:app"),
    "fastapi_app": ("uvicorn", "fastapi_app:app"),
    "flask_app": ("gunicorn", "flask_app:app"),
    "django_app": ("gunicorn", "django_app:application"),
}
#: The examples built on the push API (stream_request): multipart only, no required field.
STREAMING = {"wsgi_app", "asgi_app"}
CTYPE = "multipart/form-data; boundary=fastmimeTestBoundary9x7"


@pytest.fixture(scope="module", params=list(EXAMPLES))
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    kind, target = EXAMPLES[request.param]
    server = start(
        kind, target, tmp_path_factory.mktemp(request.param), cwd=ROOT / "examples", extra_path=ROOT / "examples"
    )
    server.name = request.param  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture
def client(example: Server) -> Iterator[Any]:
    """A requests session; for Django, with the CSRF cookie and its token in the X-CSRFToken header."""
    import requests

    with requests.Session() as session:
        if example.name == "django_app":  # type: ignore[attr-defined]
            session.headers["X-CSRFToken"] = session.get(example.url + "/csrf", timeout=30).json()["token"]
        yield session


def test_example_upload(example: Server, client: Any) -> None:
    response = client.post(
        example.url + "/upload",
        data={"title": "héllo"},
        files=[("photo", ("a.jpg", PHOTO, "image/jpeg")), ("photo", ("b.bin", SMALL))],
        timeout=60,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["fields"] == {"title": "héllo"}
    assert [(f["name"], f["filename"], f["size"], f["sha256"]) for f in report["files"]] == [
        ("photo", "a.jpg", len(PHOTO), sha256(PHOTO)),
        ("photo", "b.bin", len(SMALL), sha256(SMALL)),
    ]


def test_example_accepts_a_nameless_file_part(example: Server, client: Any) -> None:
    data = make_body(("title", None, b"x"), (None, "nameless.jpg", PHOTO, "image/jpeg"))
    response = client.post(example.url + "/upload", data=data, headers={"Content-Type": CTYPE}, timeout=60)
    assert response.status_code == 200, response.text
    files = response.json()["files"]
    assert [(f["name"], f["filename"], f["size"], f["sha256"]) for f in files] == [
        ("", "nameless.jpg", len(PHOTO), sha256(PHOTO))
    ]


def test_example_chunked_body_from_encode_multipart(example: Server, client: Any) -> None:
    """No Content-Length (requests sends a generator chunked); the body built by encode_multipart."""
    content_type, chunks = fastmime.encode_multipart([("title", "chunked")], [("photo", "c.jpg", "image/jpeg", PHOTO)])
    response = client.post(example.url + "/upload", data=chunks, headers={"Content-Type": content_type}, timeout=60)
    assert response.status_code == 200, response.text
    assert [(f["filename"], f["sha256"]) for f in response.json()["files"]] == [("c.jpg", sha256(PHOTO))]


def test_example_urlencoded_form(example: Server, client: Any) -> None:
    response = client.post(example.url + "/upload", data={"title": "a & b é"}, timeout=30)
    if example.name in STREAMING:  # type: ignore[attr-defined]
        assert response.status_code == 415  # the push API is multipart-only
        return
    assert response.status_code == 200, response.text
    assert response.json() == {"fields": {"title": "a & b é"}, "files": []}


def test_example_missing_field(example: Server, client: Any) -> None:
    if example.name in STREAMING:  # type: ignore[attr-defined]
        pytest.skip("the streaming examples require no field")
    response = client.post(example.url + "/upload", files=[("photo", ("a.jpg", SMALL, "image/jpeg"))], timeout=30)
    if example.name == "fastapi_app":  # type: ignore[attr-defined]
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "title"]
    else:
        assert response.status_code == 400


def test_example_oversized_field(example: Server, client: Any) -> None:
    response = client.post(example.url + "/upload", files=[("title", (None, "x" * 100_000))], timeout=30)
    assert response.status_code == 413, response.text


def test_example_maps_errors(example: Server, client: Any) -> None:
    response = client.post(
        example.url + "/upload", data=b"{}", headers={"Content-Type": "application/json"}, timeout=30
    )
    # Flask and Django read a JSON body as an empty form: the missing title answers
    assert response.status_code == (400 if example.name in ("flask_app", "django_app") else 415)  # type: ignore[attr-defined]
    broken = make_body(("f", "x.bin", SMALL))[:-40]
    response = client.post(example.url + "/upload", data=broken, headers={"Content-Type": CTYPE}, timeout=30)
    assert response.status_code == 400
    nested = make_body(("title", None, b"x"), ("files", None, b"--x--", "multipart/mixed; boundary=x"))
    response = client.post(example.url + "/upload", data=nested, headers={"Content-Type": CTYPE}, timeout=30)
    assert response.status_code == 415


@pytest.mark.parametrize("example", ["django_app"], indirect=True)
def test_django_csrf_reads_the_form_fastmime_parsed(example: Server) -> None:
    import requests

    with requests.Session() as session:
        token = session.get(example.url + "/csrf", timeout=30).json()["token"]
        files = [("photo", ("a.jpg", SMALL, "image/jpeg"))]
        refused = session.post(example.url + "/upload", data={"title": "t"}, files=files, timeout=30)
        assert refused.status_code == 403
        accepted = session.post(
            example.url + "/upload", data={"title": "t", "csrfmiddlewaretoken": token}, files=files, timeout=30
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["files"][0]["sha256"] == sha256(SMALL)
