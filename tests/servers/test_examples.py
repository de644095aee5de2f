"""Every runnable example in examples/ is served by a real server and sent real uploads.

Each example answers ``POST /upload`` with JSON ``{"fields": {...}, "files": [{name, filename, size,
content_type, sha256}]}``; each must accept a file part without a name, which the framework's own
parser would drop, and map fastmime errors to HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
CTYPE = "multipart/form-data; boundary=fastmimeTestBoundary9x7"


@pytest.fixture(scope="module", params=list(EXAMPLES))
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    kind, target = EXAMPLES[request.param]
    server = start(kind, target, tmp_path_factory.mktemp(request.param), cwd=ROOT / "examples",
                   extra_path=ROOT / "examples")
    try:
        yield server
    finally:
        stop(server.process)


def test_example_upload(example: Server) -> None:
    import requests

    response = requests.post(example.url + "/upload", data={"title": "héllo"},
                             files=[("photo", ("a.jpg", PHOTO, "image/jpeg")), ("photo", ("b.bin", SMALL))],
                             timeout=60)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["fields"] == {"title": "héllo"}
    assert [(f["name"], f["filename"], f["size"], f["sha256"]) for f in report["files"]] == [
        ("photo", "a.jpg", len(PHOTO), sha256(PHOTO)), ("photo", "b.bin", len(SMALL), sha256(SMALL))]


def test_example_accepts_a_nameless_file_part(example: Server) -> None:
    import requests

    data = make_body(("title", None, b"x"), (None, "nameless.jpg", PHOTO, "image/jpeg"))
    response = requests.post(example.url + "/upload", data=data, headers={"Content-Type": CTYPE}, timeout=60)
    assert response.status_code == 200, response.text
    files = response.json()["files"]
    assert [(f["name"], f["filename"], f["size"], f["sha256"]) for f in files] == [
        ("", "nameless.jpg", len(PHOTO), sha256(PHOTO))]


def test_example_maps_errors(example: Server) -> None:
    import requests

    response = requests.post(example.url + "/upload", data=b"{}", headers={"Content-Type": "application/json"},
                             timeout=30)
    assert response.status_code == 415
    broken = make_body(("f", "x.bin", SMALL))[:-40]
    response = requests.post(example.url + "/upload", data=broken, headers={"Content-Type": CTYPE}, timeout=30)
    assert response.status_code == 400
