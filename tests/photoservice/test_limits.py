"""What an unauthenticated or slow client may cost (issue 11, finding 2): a byte budget for requests not yet
authorized, a cap per address, and body timeouts. Each of these held connections and disk before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from photoservice import ASGIApp

from .client import PlatformClient, error_code, make_jpeg, multipart
from .test_platform import login

pytestmark = pytest.mark.backends("sqlite+file")  # transport-level: the storage backend plays no part


def noisy_jpeg(width: int = 600, height: int = 400) -> bytes:
    """A JPEG that does not compress much (a few hundred KB), so that bodies are large."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((width, height), 80).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def asgi_call(
    app: Any,
    path: str,
    body_pieces: Callable[[], AsyncIterator[bytes]],
    headers: dict[str, str],
    client: str = "127.0.0.1",
    query: str = "",
) -> tuple[int, bytes, dict[str, str], float]:
    """One request through the ASGI app with the body sent as ``body_pieces`` yields it (with its pace)."""
    sent: list[dict] = []

    async def go() -> None:
        pieces = body_pieces().__aiter__()
        done = False

        async def receive() -> dict:
            nonlocal done
            if done:
                await asyncio.sleep(3600)
            try:
                piece = await pieces.__anext__()
            except StopAsyncIteration:
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": piece, "more_body": True}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver")] + [(k.encode(), v.encode()) for k, v in headers.items()],
            "client": (client, 5000),
            "scheme": "http",
        }
        await app(scope, receive, send)

    started = time.monotonic()
    asyncio.run(go())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, {k.decode(): v.decode() for k, v in start["headers"]}, time.monotonic() - started


def pieces_of(body: bytes, size: int = 65536, pause: float = 0.0) -> Callable[[], AsyncIterator[bytes]]:
    async def gen() -> AsyncIterator[bytes]:
        for i in range(0, len(body), size):
            if pause:
                await asyncio.sleep(pause)
            yield body[i : i + size]

    return gen


def test_unauthenticated_bytes_share_a_bounded_budget(make_service: Any) -> None:
    svc, _ = make_service(unauthorized_budget_bytes=200_000)
    body, ctype = multipart([], [("data", "x.jpg", noisy_jpeg())])  # no api_key, no sig: nothing to trust
    assert len(body) > 200_000
    status, text, headers, _ = asgi_call(
        ASGIApp(svc), "/restserver.php", pieces_of(body), {"content-type": ctype, "content-length": str(len(body))}
    )
    assert status == 503 and headers["retry-after"] == "5" and b"busy" in text
    assert svc.unauthorized.used == 0  # given back when the request ended


def test_a_request_that_signs_before_its_image_is_not_counted(make_service: Any) -> None:
    svc, http = make_service(unauthorized_budget_bytes=200_000)
    app = svc.catalog.create_application("trusted", ["photo_upload"])
    svc.catalog.create_user("alice", "wonderland")
    svc.catalog.create_community("mycommunity")
    c = login(http, app)
    image = noisy_jpeg()
    body, headers = c.upload(image, community="mycommunity", format="JSON")  # the arguments come first
    status, text, _, _ = asgi_call(
        ASGIApp(svc), "/restserver.php", pieces_of(body), {**headers, "content-length": str(len(body))}
    )
    assert status == 200 and error_code(type("R", (), {"content": text, "headers": {"content-type": "json"}})()) is None
    # the same image sent before its arguments cannot be trusted while it arrives: it is counted
    args = c.args("up.photos.upload", community="mycommunity", format="JSON")
    head, _ = multipart([], [("data", "x.jpg", image)])
    tail, ctype = multipart(list(args.items()))
    body = head.rsplit(b"--SoMeTeXtWeWiLlNeVeRsEe--", 1)[0] + tail
    status, _, _, _ = asgi_call(
        ASGIApp(svc), "/restserver.php", pieces_of(body), {"content-type": ctype, "content-length": str(len(body))}
    )
    assert status == 503


def test_a_wrong_session_is_refused_before_the_image_is_read(make_service: Any) -> None:
    svc, _http = make_service()
    app = svc.catalog.create_application("trusted", ["photo_upload"])
    svc.catalog.create_community("mycommunity")
    c = PlatformClient(app.api_key, app.secret, "no-such-session")
    image = noisy_jpeg(1200, 900)
    body, headers = c.upload(image, community="mycommunity", format="JSON")
    read: list[int] = []

    async def counting() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 16384):
            read.append(i)
            yield body[i : i + 16384]

    status, text, _, _ = asgi_call(
        ASGIApp(svc), "/restserver.php", counting, {**headers, "content-length": str(len(body))}
    )
    assert status == 200 and b'"error_code": 102' in text
    assert len(read) * 16384 < len(body) // 2  # stopped when the image part started


def test_one_address_may_read_only_so_many_bodies_at_once(make_service: Any) -> None:
    svc, _ = make_service(uploads_per_address=1, body_idle_timeout=1.0)
    app = ASGIApp(svc)
    body, ctype = multipart([], [("data", "x.jpg", make_jpeg())])
    headers = {"content-type": ctype, "content-length": str(len(body))}
    results: dict[str, int] = {}

    async def stalled() -> AsyncIterator[bytes]:
        yield body[:100]
        await asyncio.sleep(30)  # cut by the idle timeout
        yield body[100:]

    import threading

    slow = threading.Thread(target=lambda: results.update(slow=asgi_call(app, "/restserver.php", stalled, headers)[0]))
    slow.start()
    time.sleep(0.3)
    results["second"] = asgi_call(app, "/restserver.php", pieces_of(body), headers)[0]
    results["elsewhere"] = asgi_call(app, "/restserver.php", pieces_of(body), headers, client="192.0.2.9")[0]
    slow.join(10)
    assert results["second"] == 429
    assert results["elsewhere"] == 200  # error_response, HTTP 200 by default: the body was read
    assert results["slow"] == 408


def test_a_stalled_or_short_body_times_out(make_service: Any) -> None:
    svc, _ = make_service(body_idle_timeout=0.3)
    body, ctype = multipart([], [("data", "x.jpg", make_jpeg())])

    async def stops() -> AsyncIterator[bytes]:
        yield body[:200]
        await asyncio.sleep(30)
        yield body[200:]

    status, _text, headers, took = asgi_call(
        ASGIApp(svc), "/restserver.php", stops, {"content-type": ctype, "content-length": str(len(body) + 1000)}
    )
    assert status == 408 and headers["connection"] == "close" and took < 5


def test_a_trickling_body_is_refused_once_the_grace_has_passed(make_service: Any) -> None:
    svc, _ = make_service(body_idle_timeout=5, body_min_rate=2000, body_rate_grace=0.3)
    body, ctype = multipart([], [("data", "x.jpg", noisy_jpeg())])
    status, text, _, took = asgi_call(
        ASGIApp(svc),
        "/restserver.php",
        pieces_of(body, size=20, pause=0.02),
        {"content-type": ctype, "content-length": str(len(body))},
    )
    assert status == 408 and b"too slowly" in text and took < 5


def test_wsgi_counts_unauthenticated_bytes_too(make_service: Any) -> None:
    from photoservice import WSGIApp

    from .test_http_hygiene import _wsgi_without_length

    svc, _ = make_service(unauthorized_budget_bytes=100_000)
    body, ctype = multipart([], [("data", "x.jpg", noisy_jpeg())])
    status, _, _out = _wsgi_without_length(
        WSGIApp(svc), "/restserver.php", body, ctype, {"CONTENT_LENGTH": str(len(body))}
    )
    assert status == 503 and svc.unauthorized.used == 0
