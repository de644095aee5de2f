"""imgpipe.ImageHandler: spooling, hashing, limits, abort, executor, and fastmime end to end."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from imgpipe import (
    PLATFORM_RENDITIONS,
    FileTooLargeError,
    ImageHandler,
    ImageLimits,
    NotAnImageError,
    TruncatedImageError,
    process_image,
)
from tests.imgpipe._images import close, decode, mean_colour
from tests.imgpipe._jpegs import make_jpeg

PART = SimpleNamespace(name="photo", filename="IMG_0001.JPG", content_type="image/jpeg", index=0)


def feed(handler: ImageHandler, data: bytes, chunk: int) -> None:
    """Feed like a parser does: views of one reused buffer, overwritten after every call."""
    buf = bytearray(chunk)
    for i in range(0, len(data), chunk):
        piece = data[i : i + chunk]
        buf[: len(piece)] = piece
        handler.on_data(memoryview(buf)[: len(piece)])
        buf[:] = b"\xaa" * chunk  # the view is dead after the call; the handler must have copied


@pytest.fixture
def photo() -> bytes:
    return make_jpeg(900, 600, orientation=6, gps=(1.0, 2.0), exif={0x010F: "Canon"}, color=(20, 160, 60))


@pytest.mark.parametrize(
    ("chunk", "threshold"),
    [(1, 1000), (7, 0), (7, 1 << 20), (4096, 0), (4096, 1000), (4096, 1 << 20), (1 << 20, 0), (1 << 20, 1 << 20)],
)
def test_result_matches_process_image(photo: bytes, chunk: int, threshold: int, tmp_path: Path) -> None:
    h = ImageHandler(PART, spool_threshold=threshold, spool_dir=str(tmp_path))
    feed(h, photo, chunk)
    assert h.size == len(photo)
    spilled = h._file is not None
    assert spilled == (len(photo) > threshold)
    assert os.listdir(tmp_path) == []  # the spool file has no name
    h.on_end()
    assert h.done and h.error is None
    expected = process_image(photo)
    assert h.result is not None
    assert h.result.sha256 == expected.sha256 == h.sha256 == hashlib.sha256(photo).hexdigest()
    assert [r.data for r in h.result.renditions] == [r.data for r in expected.renditions]
    assert h.wait() is h.result
    full = h.result.rendition("full")
    assert not full.encoded and full.data == photo  # streamed from the spool, which stays until close()
    h.close()
    assert h._file is None and h._memory is None and h._origin is None
    with pytest.raises(ValueError, match="closed"):
        full.open()
    assert h.result.rendition("screen").data  # encoded renditions are in memory: still there
    assert h.part is PART


def test_options_are_passed_through(photo: bytes) -> None:
    h = ImageHandler(None, renditions=PLATFORM_RENDITIONS, strip_gps=True)
    feed(h, photo, 65536)
    h.on_end()
    assert h.result is not None
    assert [r.type for r in h.result.renditions] == ["src_small", "src", "src_big"]
    assert (h.result.width, h.result.height) == (600, 900)


def test_byte_limit_raises_from_on_data(tmp_path: Path) -> None:
    data = make_jpeg(400, 300)
    h = ImageHandler(PART, limits=ImageLimits(max_bytes=len(data) - 10), spool_threshold=100, spool_dir=str(tmp_path))
    with pytest.raises(FileTooLargeError) as info:
        feed(h, data, 1000)
    assert info.value.limit == len(data) - 10
    assert h._file is None and h._memory is None  # dropped at once
    h.on_abort(info.value)  # what the parser does next
    assert h.error is info.value and h.result is None
    assert h.future is not None and h.future.exception() is info.value
    assert os.listdir(tmp_path) == []


def test_abort_leaves_nothing(photo: bytes, tmp_path: Path) -> None:
    h = ImageHandler(PART, spool_threshold=100, spool_dir=str(tmp_path))
    feed(h, photo[:5000], 512)
    spool = h._file
    assert spool is not None
    err = ConnectionResetError("client went away")
    h.on_abort(err)
    assert spool.closed and h._file is None
    assert h.error is err and h.result is None
    h.on_abort(RuntimeError("second call is ignored"))
    assert h.error is err
    h.on_end()  # ignored after an abort
    assert h.result is None
    with pytest.raises(ConnectionResetError):
        h.wait()
    assert os.listdir(tmp_path) == []


def test_not_an_image_despite_name_and_type() -> None:
    h = ImageHandler(SimpleNamespace(name="photo", filename="cat.jpg", content_type="image/jpeg", index=3))
    feed(h, b"<html>" + b"x" * 5000 + b"</html>", 1024)
    h.on_end()  # image errors are kept, not raised into the parser
    assert isinstance(h.error, NotAnImageError) and h.result is None
    with pytest.raises(NotAnImageError):
        h.wait()


def test_empty_and_truncated_parts() -> None:
    h = ImageHandler(PART)
    h.on_end()
    assert isinstance(h.error, NotAnImageError)
    data = make_jpeg(200, 100)
    h = ImageHandler(PART)
    feed(h, data[: len(data) // 2], 100)
    h.on_end()
    assert isinstance(h.error, TruncatedImageError)


def test_executor(photo: bytes, tmp_path: Path) -> None:
    bad = b"GIF89a" + b"\x00" * 3
    with ThreadPoolExecutor(2) as pool:
        handlers = []
        for _i, data in enumerate([photo, bad, photo]):
            h = ImageHandler(PART, executor=pool, spool_threshold=1000, spool_dir=str(tmp_path))
            feed(h, data, 333)
            h.on_end()
            assert h.future is not None
            handlers.append(h)
        results = [h.future.exception() or h.future.result() for h in handlers if h.future]
    assert handlers[0].wait().sha256 == hashlib.sha256(photo).hexdigest()
    assert handlers[0].result is results[0]
    assert handlers[1].error is not None and handlers[1].result is None
    assert handlers[2].result is not None
    assert os.listdir(tmp_path) == []


def test_wait_before_end() -> None:
    with pytest.raises(RuntimeError):
        ImageHandler().wait()


def test_data_after_end_is_refused(photo: bytes) -> None:
    h = ImageHandler()
    feed(h, photo, 4096)
    h.on_end()
    with pytest.raises(RuntimeError):
        h.on_data(memoryview(b"x"))


def _body(boundary: str, parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, ctype, payload in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + payload + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_end_to_end_with_fastmime(photo: bytes) -> None:
    fastmime = pytest.importorskip("fastmime")
    from fastmime.handlers import ValueHandler

    png = Image.new("RGB", (300, 200), (200, 10, 10))
    import io

    buf = io.BytesIO()
    png.save(buf, "PNG")
    boundary = "----imgpipe-test-boundary"
    body = _body(
        boundary,
        [
            ("caption0", None, None, b"hello"),
            ("file0", "a.jpg", "image/jpeg", photo),
            ("file1", "b.jpg", "image/jpeg", buf.getvalue()),  # the name lies: it is a PNG
            ("file2", "c.jpg", "image/jpeg", b"not an image at all"),
        ],
    )
    handlers: list[object] = []

    def choose(part: object) -> object:
        h = ImageHandler(part, spool_threshold=10_000) if getattr(part, "filename", None) else ValueHandler()
        handlers.append(h)
        return h

    parser = fastmime.MultipartParser(boundary, choose)
    for i in range(0, len(body), 1500):
        parser.feed(body[i : i + 1500])
    parser.close()
    images = [h for h in handlers if isinstance(h, ImageHandler)]
    assert len(images) == 3
    assert [h.part.filename for h in images] == ["a.jpg", "b.jpg", "c.jpg"]  # type: ignore[union-attr]
    first, second, third = (h.wait() if h.error is None else h.error for h in images)
    assert first.sha256 == hashlib.sha256(photo).hexdigest()  # type: ignore[union-attr]
    assert (first.width, first.height) == (600, 900)  # type: ignore[union-attr]
    assert second.format == "png"  # type: ignore[union-attr]
    assert close(mean_colour(decode(second.rendition("screen").data)), (200, 10, 10), 4)  # type: ignore[union-attr]
    assert isinstance(third, NotAnImageError)


def test_executor_shut_down(photo: bytes) -> None:
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    h = ImageHandler(PART, executor=pool, spool_threshold=100)
    feed(h, photo, 4096)
    with pytest.raises(RuntimeError):
        h.on_end()
    assert h._file is None and isinstance(h.error, RuntimeError)
    with pytest.raises(RuntimeError):
        h.wait()


def test_close(photo: bytes, tmp_path: Path) -> None:
    h = ImageHandler(PART, spool_threshold=100, spool_dir=str(tmp_path))
    feed(h, photo[:3000], 1000)
    h.close()
    assert h._file is None and h.error is not None and h.result is None
    h.close()  # idempotent
    with ImageHandler(PART) as done:
        feed(done, photo, 4096)
        done.on_end()
    assert done.result is not None  # closing after the end keeps the result
    assert os.listdir(tmp_path) == []


def test_event_loop_safe_until_the_spool_nears_its_rollover(tmp_path: Path) -> None:
    # fastmime.asgi feeds a safe handler on the event loop: hashing and copying into memory are cheap,
    # creating the spool file and copying the spool to it are not, so the handler leaves the loop before.
    assert not ImageHandler(PART).event_loop_safe  # without an executor, on_end decodes and resizes
    with ThreadPoolExecutor(1) as pool:
        # 256 KiB: off the loop 72 KiB before (what fastmime.asgi may hand over between two checks)
        h = ImageHandler(PART, executor=pool, spool_threshold=256 * 1024, spool_dir=str(tmp_path))
        assert h.event_loop_safe
        h.on_data(memoryview(b"\xff" * (184 * 1024)))
        assert h.event_loop_safe
        h.on_data(memoryview(b"\xff"))
        assert not h.event_loop_safe and h._file is None  # still in memory, but the next write may roll
        tiny = ImageHandler(PART, executor=pool, spool_threshold=72 * 1024 - 1, spool_dir=str(tmp_path))
        assert not tiny.event_loop_safe  # one look could let it roll over on the loop
        tiny.on_abort(RuntimeError("test over"))
        big = ImageHandler(PART, executor=pool, spool_dir=str(tmp_path))  # 1 MiB: off 256 KiB before
        big.on_data(memoryview(bytes(768 * 1024)))
        assert big.event_loop_safe
        big.on_data(memoryview(b"\x00"))
        assert not big.event_loop_safe
        assert not ImageHandler(PART, executor=pool, spool_threshold=0).event_loop_safe  # straight to disk
        for handler in (h, big):
            handler.on_abort(RuntimeError("test over"))
