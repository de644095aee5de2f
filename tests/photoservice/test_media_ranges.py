"""Media served from either store (a folder, a bucket) answer Range and If-None-Match the same way."""

from __future__ import annotations

from typing import Any

from .client import make_jpeg
from .test_media_access import listed_images, local
from .test_yahoo import send, signed_in


def test_ranges_and_entity_tags_from_either_store(http: Any, world: dict) -> None:
    y = signed_in(http, world)
    assert send(http, y, [("pic0", "a.jpg", make_jpeg(640, 480))], caption0="r").status_code == 200
    url = local(next(image["url"] for image in listed_images(http, y) if image["type"] == "screen"))
    whole = http.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    body, etag = whole.content, whole.headers["etag"]
    size = len(body)
    part = http.get(url, headers={"range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == body[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{size}"
    tail = http.get(url, headers={"range": "bytes=-7"})
    assert tail.status_code == 206 and tail.content == body[-7:]
    rest = http.get(url, headers={"range": f"bytes={size - 3}-"})
    assert rest.status_code == 206 and rest.content == body[-3:]
    assert http.get(url, headers={"range": f"bytes={size}-"}).status_code == 416
    assert http.get(url, headers={"if-none-match": etag}).status_code == 304
    assert http.get(url, headers={"if-none-match": '"other"'}).status_code == 200
