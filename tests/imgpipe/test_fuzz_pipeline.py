"""process_image on damaged files: it returns a valid result or raises an ImageError, nothing else.

Seeds are small valid images of every supported kind (baseline and progressive JPEG with EXIF and a
rotation, CMYK JPEG, PNG with alpha, 16-bit PNG, animated GIF and WebP); hypothesis flips bytes,
truncates, inserts and overwrites ranges. Any other exception type (a Pillow ``struct.error``,
``IndexError``, ``ZeroDivisionError`` leaking out) or a result that breaks the API's promises is a bug.
"""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import imgpipe
from imgpipe import ImageError, ImageLimits, process_image
from tests.imgpipe._images import animated, png16
from tests.imgpipe._jpegs import make_jpeg

from .._hypothesis import examples

# Pillow warns about the damage it skips while probing metadata (e.g. "Tag data larger than file").
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")

_LIMITS = ImageLimits(max_pixels=4_000_000, max_width=4000, max_height=4000)


def _seed_images() -> dict[str, bytes]:
    photo = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    seeds: dict[str, bytes] = {}
    seeds["jpeg-exif-rot6"] = make_jpeg(64, 48, orientation=6, exif={0x010F: "Cam", 0x0110: "X1"}, gps=(48.8, 2.3))
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=80, progressive=True)
    seeds["jpeg-progressive"] = buf.getvalue()
    buf = io.BytesIO()
    photo.convert("CMYK").save(buf, "JPEG", quality=80)
    seeds["jpeg-cmyk"] = buf.getvalue()
    buf = io.BytesIO()
    rgba = photo.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(buf, "PNG")
    seeds["png-rgba"] = buf.getvalue()
    seeds["png-16bit"] = png16(40, 30, (1000, 30000, 65535))
    seeds["gif-animated"] = animated("GIF", [(200, 0, 0), (0, 200, 0)])
    seeds["webp-animated"] = animated("WEBP", [(200, 0, 0), (0, 200, 0)])
    return seeds


SEEDS = _seed_images()


@st.composite
def damaged(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite", "delete"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


def _check(result: imgpipe.ProcessedImage, data: bytes) -> None:
    assert result.size == len(data)
    assert result.width >= 1 and result.height >= 1
    for r in result.renditions:
        assert r.size == len(r.data) > 0
        with Image.open(io.BytesIO(r.data)) as im:  # every rendition is a readable image
            im.load()
            if r.encoded:
                assert im.size == (r.width, r.height)


@pytest.mark.parametrize("kind", sorted(SEEDS))
@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_damaged_image_gives_result_or_image_error(kind: str, data: st.DataObject) -> None:
    broken = data.draw(damaged(SEEDS[kind]))
    started = time.monotonic()
    try:
        result = process_image(broken, limits=_LIMITS)
    except ImageError:
        pass
    else:
        _check(result, broken)
    assert time.monotonic() - started < 5  # no pathological decode on a tiny file


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_seeds_are_valid(kind: str) -> None:
    _check(process_image(SEEDS[kind], limits=_LIMITS), SEEDS[kind])
