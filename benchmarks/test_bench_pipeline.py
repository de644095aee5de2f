"""pytest-benchmark regression suite for imgpipe.process_image (see compare_pipelines.py for peers).

    pytest benchmarks/test_bench_pipeline.py                      # pyproject adds --benchmark-disable:
                                                                  # each case runs once, as a test, on a
                                                                  # small (1 MP) image to stay fast
    pytest benchmarks/test_bench_pipeline.py --benchmark-enable   # timings on a 12 MP camera-like JPEG

Every case checks its output (rendition sizes, hash); none asserts a timing.
"""

from __future__ import annotations

import functools
import hashlib
import io

import pytest
from compare_pipelines import camera_exif, photo_like
from PIL import Image, ImageOps

import imgpipe

pytestmark = pytest.mark.benchmark

SIZES = {"full": (4032, 3024), "smoke": (1152, 864)}


@functools.cache
def _jpeg(kind: str, orientation: int = 1, progressive: bool = False) -> bytes:
    im = photo_like(*SIZES[kind], seed=7)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, progressive=progressive, exif=camera_exif(orientation, 1))
    return buf.getvalue()


def _data(benchmark, **kw) -> bytes:  # type: ignore[no-untyped-def]
    return _jpeg("smoke" if benchmark.disabled else "full", **kw)


def _check(result: imgpipe.ProcessedImage, data: bytes, rotated: bool = False) -> None:
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
    if rotated:
        w, h = h, w
    assert (result.width, result.height) == (w, h)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    screen = result.rendition("screen")
    assert max(screen.width, screen.height) == 480
    assert result.rendition("full").width == w


def test_process_upright(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark)
    result = benchmark(imgpipe.process_image, data)
    _check(result, data)
    assert not result.rendition("full").encoded


def test_process_upright_strip_gps(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark)
    result = benchmark(imgpipe.process_image, data, strip_gps=True)
    _check(result, data)
    assert result.rendition("full").data != data and result.exif.gps is not None


def test_process_rotated(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark, orientation=6)
    result = benchmark(imgpipe.process_image, data)
    _check(result, data, rotated=True)
    assert not result.rendition("full").encoded  # full is the original, whatever its orientation


def test_process_rotated_reencoded_full(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark, orientation=6)
    specs = [*imgpipe.YAHOO_RENDITIONS[:2], imgpipe.RenditionSpec("full", None, None, keep_original=False)]
    result = benchmark(imgpipe.process_image, data, specs)
    _check(result, data, rotated=True)
    assert result.rendition("full").encoded


def test_process_progressive(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark, progressive=True)
    _check(benchmark(imgpipe.process_image, data), data)


def test_process_thumb_and_screen_only(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark)
    specs = [s for s in imgpipe.YAHOO_RENDITIONS if s.type != "full"]
    result = benchmark(imgpipe.process_image, data, specs)
    assert [r.type for r in result.renditions] == ["thumb", "screen"]


def test_handler(benchmark) -> None:  # type: ignore[no-untyped-def]
    data = _data(benchmark)
    view = memoryview(data)

    def run() -> imgpipe.ProcessedImage:
        h = imgpipe.ImageHandler(None)
        for i in range(0, len(data), 65536):
            h.on_data(view[i : i + 65536])
        h.on_end()
        return h.wait()

    _check(benchmark(run), data)


def test_naive_pillow_peer(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The peer, for the ratio: open, exif_transpose, thumbnail 480 and 96, save q85."""
    data = _data(benchmark)

    def run() -> tuple[int, int]:
        with Image.open(io.BytesIO(data)) as im:
            img = ImageOps.exif_transpose(im)
        img.thumbnail((480, 480))
        img.save(io.BytesIO(), "JPEG", quality=85)
        size = img.size
        img.thumbnail((96, 96))
        img.save(io.BytesIO(), "JPEG", quality=85)
        return size

    assert max(benchmark(run)) == 480
