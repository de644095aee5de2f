"""Write the request/response examples of the API pages (docs/photoservice/examples/) from the real service.

Each API page shows a sign-in and an upload exactly as photoservice answered them: this script starts the
service in-process (SQLite + a folder in a temporary directory, a fake clock), calls it through its ASGI app
with the test suite's clients (tests/photoservice/client.py: written from the specs alone), and writes each
exchange as HTTP text, the JPEG's bytes replaced by a note. tests/test_docs.py runs it again and compares, so
the pages cannot drift from what the service does; values that differ on every run (keys, session ids,
photo ids, file names, signatures, JPEG sizes) are compared as placeholders. Needs the test extra.

    .venv/bin/python scripts/api_examples.py [--out DIR]      # default: docs/photoservice/examples
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "photoservice" / "examples"
HOST = "photos.example.com"
SHOWN_REQUEST_HEADERS = ("host", "cookie", "content-type", "content-length", "mime-version")
SHOWN_RESPONSE_HEADERS = ("content-type", "set-cookie")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    for name, text in exchanges().items():
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_text(text, encoding="utf-8")
        print(args.out / name)
    return 0


def exchanges() -> dict[str, str]:
    """Every example, by file name: ``<api>.<step>.request.http`` and ``<api>.<step>.response.http``."""
    sys.path.insert(0, str(ROOT))
    import httpx
    from PIL import Image

    from photoservice import ASGIApp, Config, FakeClock, Service
    from tests.photoservice.client import PlatformClient, YahooClient, multipart

    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (230, 120, 40)).save(picture, "JPEG", quality=85)
    jpeg = picture.getvalue()
    note = f"<the photo: a 640x480 JPEG, {len(jpeg)} bytes>".encode()
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as data:
        config = Config(
            data_dir=Path(data),
            clock=FakeClock(),
            public_url=f"https://{HOST}",
            fsync=False,
            password_time_cost=1,
            password_memory_kib=1024,
        )
        service = Service(config)
        try:
            catalog = service.catalog
            app = catalog.create_application("demo", ["photo_upload"])
            catalog.create_user("alice", "wonderland")
            catalog.create_community("mycommunity", "My Community")
            asgi = ASGIApp(service)

            def call(name: str, method: str, url: str, **kw: Any) -> Any:
                async def go() -> Any:
                    transport = httpx.ASGITransport(app=asgi, client=("192.0.2.10", 50123))
                    async with httpx.AsyncClient(transport=transport, base_url=f"https://{HOST}") as client:
                        request = client.build_request(method, url, **kw)
                        return request, await client.send(request)

                request, response = asyncio.run(go())
                assert response.status_code == 200, response.text
                found[f"{name}.request.http"], found[f"{name}.response.http"] = _exchange(request, response, jpeg, note)
                return response

            # uploadPhotos: sign in (WSSID in the body, the Y cookie in Set-Cookie), then upload.
            yahoo = YahooClient(app.api_key)
            body, headers = yahoo.login_form("alice", "wonderland")
            yahoo.take_login(call("uploadPhotos.login", "POST", "/V3.0/login", content=body, headers=headers))
            body, content_type = multipart([], [("pic0", "sunset.jpg", jpeg)], boundary="----fastmimeExample0")
            call(
                "uploadPhotos.upload",
                "POST",
                "/V3.0/uploadPhotos",
                content=body,
                params=yahoo.query(caption0="Sunset over the bay", tag="beach,evening"),
                headers={"content-type": content_type, **yahoo.headers()},
            )

            # up.photos.upload: a signed up.auth.login for a session key, then the signed upload.
            platform = PlatformClient(app.api_key, app.secret)
            body, headers = platform.form(
                "up.auth.login", with_session=False, username="alice", password="wonderland", format="JSON"
            )
            login = call("up.photos.upload.login", "POST", "/restserver.php", content=body, headers=headers)
            platform.session_key = login.json()["session_key"]
            body, headers = platform.upload(
                jpeg, filename="sunset.jpg", community="mycommunity", caption="Sunset over the bay"
            )
            call("up.photos.upload.upload", "POST", "/restserver.php", content=body, headers=headers)
        finally:
            service.close()
    return found


def _exchange(request: Any, response: Any, jpeg: bytes, note: bytes) -> tuple[str, str]:
    target = request.url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1"]
    lines += [
        f"{name.title()}: {value}" for name, value in request.headers.items() if name.lower() in SHOWN_REQUEST_HEADERS
    ]
    body = request.content.replace(jpeg, note).decode("utf-8")
    text = "\n".join(lines) + "\n\n" + body.replace("\r\n", "\n").rstrip("\n") + "\n"
    status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}"
    shown = [
        f"{name.title()}: {value}" for name, value in response.headers.items() if name.lower() in SHOWN_RESPONSE_HEADERS
    ]
    return text, "\n".join([status, *shown]) + "\n\n" + response.text.rstrip("\n") + "\n"


# What changes from run to run: random keys and ids, signatures, and the sizes of encoded JPEGs.
_VOLATILE = [
    (re.compile(r"[0-9a-f]{16,}(-\d+)?"), "HEX"),  # keys, secrets, signatures, session keys, file names
    (re.compile(r"\b\d{12,}\b"), "ID"),  # photo and album ids
    (re.compile(r"(WSSID[=\":\s]+)[\w-]+"), r"\1WSSID"),  # the WSSID, in the query and in the JSON
    (re.compile(r"(Y=)[\w-]+"), r"\1COOKIE"),  # the sign-in cookie
    (re.compile(r"(size=\")\d+"), r"\1N"),  # JPEG sizes (the encoder's version decides)
    (re.compile(r"(a 640x480 JPEG, )\d+"), r"\1N"),
    (re.compile(r"(Content-Length: )\d+"), r"\1N"),
    (re.compile(r"(sig=)[\w%]+"), r"\1SIG"),
    (re.compile(r"/media/[0-9a-f]{2}/"), "/media/XX/"),  # the file's folder (its name's first byte)
    (re.compile(r"\b\d{10}\.\d{6}\b"), "CALL_ID"),  # call_id: the client's clock, in microseconds
]


def normalized(text: str) -> str:
    """The example with what changes on every run replaced by placeholders, for comparing two runs."""
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


if __name__ == "__main__":
    sys.exit(main())
