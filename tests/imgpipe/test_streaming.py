"""The original is streamed, never held whole in memory: Rendition.open/save, sources, the handler spool,
GPS removal as a streaming byte edit, and peak memory measured in a subprocess."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image

from imgpipe import ImageHandler, process_image, read_exif
from imgpipe._exifedit import edit_tiff
from imgpipe._sniff import scan_jpeg
from tests.imgpipe._images import encode
from tests.imgpipe._jpegs import exif_for, make_jpeg

ROOT = Path(__file__).resolve().parents[2]
GPS = (48.8584, 2.2945, 35.0)


def _byte_level_strip(data: bytes) -> bytes:
    """The reference edit: the whole file in memory, edit_tiff on each EXIF block."""
    out = bytearray(data)
    for start, end in scan_jpeg(data).exif:
        block = bytearray(data[start:end])
        edit_tiff(block, drop_gps=True)
        out[start:end] = block
    return bytes(out)


class _Pipe(io.RawIOBase):
    """A non-seekable binary stream (a pipe or a socket as far as the pipeline can tell)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(b), 1000))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_original_streams_from_every_kind_of_source(tmp_path: Path) -> None:
    data = make_jpeg(640, 480, orientation=6, gps=GPS, exif={0x010F: "Canon"})
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    with open(path, "rb") as opened:
        sources: list[object] = [data, bytearray(data), str(path), path, io.BytesIO(data), opened, _Pipe(data)]
        for source in sources:
            full = process_image(source).rendition("full")  # type: ignore[arg-type]
            assert not full.encoded and full.size == len(data) and (full.width, full.height) == (480, 640)
            with full.open() as f:
                assert f.read() == data, type(source)
                assert f.seek(100) == 100 and f.read(10) == data[100:110]  # seekable, for retries
            assert full.data == data
    with pytest.raises(ValueError):
        opened.seek(0)  # the caller's file is closed ...
    out = io.BytesIO()
    process_image(str(path)).rendition("full").save(out)  # ... a path stays readable while the file exists
    assert out.getvalue() == data
    process_image(str(path)).rendition("screen").save(tmp_path / "screen.jpg")
    assert (tmp_path / "screen.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_independent_readers_in_threads(tmp_path: Path) -> None:
    data = make_jpeg(900, 700, gps=GPS, exif={0x010F: "Canon"})
    stripped = _byte_level_strip(data)
    handler = ImageHandler(None, strip_gps=True, spool_threshold=0, spool_dir=str(tmp_path))
    handler.on_data(memoryview(data))
    handler.on_end()
    full = handler.wait().rendition("full")
    digests: list[str] = []

    def read() -> None:
        with full.open() as f:
            h = hashlib.sha256()
            while chunk := f.read(777):
                h.update(chunk)
            digests.append(h.hexdigest())

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert digests == [hashlib.sha256(stripped).hexdigest()] * 6
    handler.close()


@pytest.mark.parametrize("threshold", [0, 1 << 20])  # spooled to a file / kept in memory
def test_gps_stripped_stream_equals_the_byte_level_edit(threshold: int, tmp_path: Path) -> None:
    data = make_jpeg(800, 600, gps=GPS, exif={0x010F: "Canon", 0x0110: "EOS", 0x829A: 0.004})
    expected = _byte_level_strip(data)
    assert expected != data and len(expected) == len(data)
    with ImageHandler(None, strip_gps=True, spool_threshold=threshold, spool_dir=str(tmp_path)) as handler:
        for i in range(0, len(data), 4096):
            handler.on_data(memoryview(data)[i : i + 4096])
        handler.on_end()
        full = handler.wait().rendition("full")
        with full.open() as f:
            streamed = b"".join(iter(lambda: f.read(1000), b""))  # patches applied across read boundaries
        assert streamed == expected == full.data
        assert read_exif(streamed).gps is None and read_exif(streamed).make == "Canon"
        assert handler.wait().exif.gps is not None  # the caller still gets the position
    assert process_image(data, strip_gps=True).rendition("full").data == expected


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        out.append((kind, body, crc))
        pos += 12 + length
    return out


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_gps_removed_losslessly_from_png_and_webp(fmt: str) -> None:
    exif = exif_for(gps=GPS, exif={0x010F: "Canon"})
    data = encode(Image.new("RGB", (300, 200), (10, 20, 30)), fmt, exif=exif.tobytes())
    assert read_exif(data).gps is not None
    full = process_image(data, strip_gps=True).rendition("full")
    out = full.data
    assert not full.encoded and len(out) == len(data) and full.format == fmt.lower()
    after = read_exif(out)
    assert after.gps is None and after.make == "Canon"
    with Image.open(io.BytesIO(out)) as im:
        im.load()  # still a valid file (PNG: the eXIf chunk's CRC was updated)
        assert im.size == (300, 200)
    if fmt == "PNG":
        for kind, body, crc in _png_chunks(out):
            assert zlib.crc32(kind + body) == crc, kind
    assert process_image(data).rendition("full").data == data  # not asked: untouched


def test_closed_handler_original_cannot_be_read() -> None:
    data = make_jpeg(300, 200)
    handler = ImageHandler(None)
    handler.on_data(memoryview(data))
    handler.on_end()
    full = handler.wait().rendition("full")
    assert full.data == data
    handler.close()
    with pytest.raises(ValueError, match="closed"):
        full.open()


_MEASURE = r"""
import hashlib, json, resource, sys, tracemalloc
from types import SimpleNamespace
from imgpipe import ImageHandler, process_image
path = sys.argv[1]
with open(path, "rb") as f:  # warm up: Pillow's plugins and everything imported on first use
    head = f.read(1 << 20)
process_image(sys.argv[2])
tracemalloc.start()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
handler = ImageHandler(SimpleNamespace(name="p", filename="x.jpg", content_type="image/jpeg", index=0),
                       strip_gps=True)
buf = bytearray(64 * 1024)
with open(path, "rb") as f:
    while n := f.readinto(buf):
        handler.on_data(memoryview(buf)[:n])
handler.on_end()
result = handler.wait()
full = result.rendition("full")
h = hashlib.sha256()
with full.open() as r:
    while chunk := r.read(1 << 20):
        h.update(chunk)
peak = tracemalloc.get_traced_memory()[1]
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
handler.close()
print(json.dumps({"peak": peak, "rss_growth": (rss1 - rss0) * 1024, "size": full.size, "streamed": h.hexdigest(),
                  "sha256": result.sha256, "encoded": full.encoded}))
"""


def test_a_large_original_is_never_held_in_memory(tmp_path: Path) -> None:
    # 27 MB of noise at quality 100: a file whose size is not its pixels' (decoded at 1/8 for screen)
    noise = Image.frombytes("RGB", (2800, 2400), os.urandom(2800 * 2400 * 3))
    path = tmp_path / "big.jpg"
    noise.save(path, "JPEG", quality=100, subsampling=0, exif=exif_for(gps=GPS).tobytes())
    data = path.read_bytes()
    size = len(data)
    assert size > 20_000_000
    expected = hashlib.sha256(_byte_level_strip(data)).hexdigest()
    del data, noise
    small = tmp_path / "small.jpg"
    small.write_bytes(make_jpeg(300, 200, gps=GPS))
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(small)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["size"] == size and not got["encoded"]
    assert got["streamed"] == expected  # the GPS-stripped stream, read in 1 MiB pieces
    # Python-level allocations (bytes objects) stay far below the file's size: nothing read it whole.
    assert got["peak"] < size // 8, got
    # The process as a whole (Pillow's decode buffers included) grows by much less than the file.
    assert got["rss_growth"] < size // 2, got
