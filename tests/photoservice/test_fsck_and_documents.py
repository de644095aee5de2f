"""fsck is safe while uploads are in flight and says what it found (issue 11, finding 1); every document
parses whatever a client stored (finding 5)."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from photoservice.storage.files import new_file_key, new_stem
from photoservice.storage.fsck import fsck

from .client import error_code, make_jpeg
from .conftest import stored_keys
from .test_platform import login
from .test_wsgi_cli import run_cli
from .test_yahoo import send, signed_in


def test_fsck_remove_during_an_upload_leaves_it_whole(http: Any, world: dict, service: Any) -> None:
    """fsck --remove runs between an upload's file writes and its rows: it must not touch those files."""
    catalog = service.catalog
    real = catalog.add_photos
    reports: list[Any] = []

    def add_photos(*args: Any, **kwargs: Any) -> Any:
        reports.append(fsck(catalog, service.files, now=time.time(), remove=True))  # the files exist, no rows yet
        return real(*args, **kwargs)

    catalog.add_photos = add_photos  # type: ignore[method-assign]
    try:
        y = signed_in(http, world)
        resp = send(
            http,
            y,
            [("a", "a.jpg", make_jpeg(800, 600)), ("b", "b.jpg", make_jpeg(300, 200))],
            caption0="a",
            caption1="b",
            output="json",
        )
    finally:
        catalog.add_photos = real  # type: ignore[method-assign]
    assert resp.status_code == 200
    assert reports[0].young == 6 and reports[0].orphans == [] and reports[0].clean
    for photo in json.loads(resp.content)["PhotoList"]["Photo"]:
        for image in photo["ImageList"]:
            assert http.get(image["url"].replace("http://testserver", "")).status_code == 200
    assert len(stored_keys(service)) == 6


@pytest.mark.backends("sqlite+file")
def test_fsck_command_reports_old_orphans_and_exits_1(tmp_path: Any) -> None:
    data = tmp_path / "data"
    assert run_cli("migrate", data=data).returncode == 0
    old_key, young_key = (new_file_key(new_stem(), "thumb", "jpeg") for _ in range(2))
    for key, age in ((old_key, 7200), (young_key, 0)):
        path = data / "files" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"orphan")
        os.utime(path, (time.time() - age, time.time() - age))
    found = run_cli("fsck", data=data)
    assert found.returncode == 1 and json.loads(found.stdout.splitlines()[0]) == {"orphan": old_key, "removed": False}
    assert "1 unreferenced file(s) younger than the grace period" in found.stderr
    removed = run_cli("fsck", "--remove", data=data)
    assert removed.returncode == 1 and not (data / "files" / old_key).exists()
    assert (data / "files" / young_key).exists()  # an upload may still record it
    assert run_cli("fsck", data=data).returncode == 0


# Every C0 control character but NUL (refused: see below), DEL and U+FFFE/U+FFFF (lone surrogates:
# test_http_hygiene, through UTF-7 fields).
HOSTILE = "".join(chr(c) for c in range(1, 0x20)) + "\x7f\ufffe\uffff"


def _parses(resp: Any) -> Any:
    assert resp.status_code in (200, 400), resp.content[:200]
    if "json" in resp.headers.get("content-type", ""):
        return json.loads(resp.content)
    return ET.fromstring(resp.content)


def test_every_document_parses_whatever_was_stored(http: Any, world: dict, service: Any) -> None:
    y = signed_in(http, world)
    name = f"a{HOSTILE}b"
    for output in ("xml", "json"):
        made = http.post("/V3.0/createAlbum", params=y.query(name=name, desc=name, output=output), headers=y.headers())
        _parses(made)
    aid = json.loads(
        http.post("/V3.0/createAlbum", params=y.query(name="plain", output="json"), headers=y.headers()).content
    )["AlbumList"][0]["id"]
    resp = send(http, y, [("p", "a.jpg", make_jpeg())], caption0=name, desc0=name, tag0=name, aid=aid)
    assert resp.status_code == 200
    for path in ("/V3.0/listAlbums", "/V3.0/listPhotos"):
        for output in ("xml", "json"):
            _parses(http.get(path, params=y.query(output=output), headers=y.headers()))
    c = login(http, world["app"])
    for fmt in ("XML", "JSON"):
        body, headers = c.form("up.photos.createAlbum", name=name, description=name, format=fmt)
        _parses(http.post("/restserver.php", content=body, headers=headers))
        for method in ("up.photos.getAlbums", "up.photos.get"):
            body, headers = c.form(method, format=fmt)
            _parses(http.post("/restserver.php", content=body, headers=headers))
        # an argument that is itself hostile comes back in error_response
        body, headers = c.form("up.photos.get", aid=name, format=fmt)
        document = _parses(http.post("/restserver.php", content=body, headers=headers))
        assert (
            error_code(
                type(
                    "R",
                    (),
                    {
                        "content": ET.tostring(document) if fmt == "XML" else json.dumps(document).encode(),
                        "headers": {"content-type": "json" if fmt == "JSON" else "xml"},
                    },
                )()
            )
            == 120
        )


def test_nul_is_refused_as_a_client_error(http: Any, world: dict) -> None:
    y = signed_in(http, world)
    made = http.post("/V3.0/createAlbum", params=y.query(name="a\x00b", output="json"), headers=y.headers())
    assert made.status_code == 400 and "NUL" in made.text
    assert send(http, y, [("p", "a.jpg", make_jpeg())], caption0="a\x00b").status_code == 400
    c = login(http, world["app"])
    body, headers = c.form("up.photos.createAlbum", name="a\x00b", format="JSON")
    assert error_code(http.post("/restserver.php", content=body, headers=headers)) == 100
