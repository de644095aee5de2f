"""Format detection from magic bytes, and image dimensions read from the header alone.

Nothing here decodes pixels or trusts what the client said: the format comes from the first bytes, the
size from the format's own header structures (JPEG SOFn, PNG IHDR, GIF screen and first frame, WebP
VP8/VP8L/VP8X). The pixel-count limit is checked against these numbers before Pillow sees the data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ._errors import CorruptImageError, NotAnImageError, TruncatedImageError

__all__ = ["sniff", "JpegInfo", "scan_jpeg", "header_size", "SUPPORTED"]

#: Formats the pipeline decodes ("heic" only when pillow-heif is installed).
SUPPORTED = ("jpeg", "png", "gif", "webp", "heic")

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff(data: bytes) -> str:
    """Return the format named by the magic bytes of ``data``.

    One of :data:`SUPPORTED`, or the name of a recognised but unsupported format ("bmp", "tiff",
    "avif", "ico", "psd", "jpeg2000", "pdf", "svg"). Raises :class:`NotAnImageError` otherwise.
    """
    head = data[:32]
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "heic"
        if brand in _AVIF_BRANDS:
            return "avif"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"\x00\x00\x01\x00":
        return "ico"
    if head[:4] == b"8BPS":
        return "psd"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "jpeg2000"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head.lstrip()[:4] in (b"<svg", b"<?xm"):
        # XML could be anything; SVG is the only image that starts like that, and it is not supported.
        raise NotAnImageError("SVG/XML is not a supported image", "svg")
    raise NotAnImageError("the data is not an image (unknown magic bytes)")


@dataclass(frozen=True, slots=True)
class JpegInfo:
    """What one pass over a JPEG's marker segments (up to the first SOS) found.

    ``exif`` lists ``(start, end)`` byte ranges of the TIFF blocks inside ``APP1 Exif\\0\\0`` segments
    (payload after the 6-byte identifier). ``progressive`` is true for SOF2/SOF6/SOF10/SOF14.
    """

    width: int
    height: int
    components: int
    progressive: bool
    exif: tuple[tuple[int, int], ...]


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}


def scan_jpeg(data: bytes) -> JpegInfo:
    """Walk the marker segments of a JPEG up to its first SOS and return :class:`JpegInfo`.

    Raises :class:`TruncatedImageError` when the data ends inside the headers and
    :class:`CorruptImageError` for a broken marker structure or a missing frame header.
    """
    n = len(data)
    pos = 2
    exif: list[tuple[int, int]] = []
    sof: tuple[int, int, int, bool] | None = None
    while True:
        # Find the next marker: 0xFF, optional 0xFF fill bytes, then the marker code.
        if pos >= n:
            raise TruncatedImageError("JPEG data ends inside the header segments")
        if data[pos] != 0xFF:
            # Junk between segments: libjpeg skips it with a warning, and so do we.
            nxt = data.find(b"\xff", pos)
            if nxt < 0:
                raise TruncatedImageError("JPEG data ends inside the header segments")
            pos = nxt
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise TruncatedImageError("JPEG data ends inside the header segments")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD8, 0xD9):
            raise CorruptImageError(f"JPEG: unexpected {'SOI' if marker == 0xD8 else 'EOI'} marker")
        if pos + 2 > n:
            raise TruncatedImageError("JPEG data ends inside a segment length")
        length = (data[pos] << 8) | data[pos + 1]
        if length < 2:
            raise CorruptImageError(f"JPEG: segment length {length} at byte {pos}")
        start, end = pos + 2, pos + length
        if end > n:
            raise TruncatedImageError("JPEG data ends inside a header segment")
        if marker == 0xDA:  # SOS: entropy-coded data follows
            break
        if marker in _SOF:
            if sof is not None:
                raise CorruptImageError("JPEG: more than one frame header")
            if length < 8:
                raise CorruptImageError("JPEG: frame header too short")
            height = (data[start + 1] << 8) | data[start + 2]
            width = (data[start + 3] << 8) | data[start + 4]
            sof = (width, height, data[start + 5], marker in _PROGRESSIVE_SOF)
        elif marker == 0xE1 and data[start : start + 6] == b"Exif\x00\x00":
            exif.append((start + 6, end))
        pos = end
    if sof is None:
        raise CorruptImageError("JPEG: no frame header (SOFn) before the scan")
    width, height, components, progressive = sof
    if width == 0 or height == 0:
        raise CorruptImageError(f"JPEG: frame header gives {width}x{height} pixels")
    return JpegInfo(width, height, components, progressive, tuple(exif))


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24:
        raise TruncatedImageError("PNG data ends inside the IHDR chunk")
    if data[12:16] != b"IHDR":
        raise CorruptImageError("PNG: the first chunk is not IHDR")
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def _gif_size(data: bytes) -> tuple[int, int]:
    """Logical screen size, enlarged to the first frame's extent (Pillow does the same)."""
    n = len(data)
    if n < 13:
        raise TruncatedImageError("GIF data ends inside the screen descriptor")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    pos = 13
    if packed & 0x80:
        pos += 3 << ((packed & 7) + 1)
    for _ in range(100_000):  # bounded: each block consumes at least one byte
        if pos >= n:
            raise TruncatedImageError("GIF data ends before the first image")
        block = data[pos]
        if block == 0x2C:  # image descriptor
            if pos + 10 > n:
                raise TruncatedImageError("GIF data ends inside an image descriptor")
            left, top, fw, fh = struct.unpack_from("<HHHH", data, pos + 1)
            return max(width, left + fw), max(height, top + fh)
        if block == 0x21:  # extension: label, then sub-blocks until a zero length
            pos += 2
            while True:
                if pos >= n:
                    raise TruncatedImageError("GIF data ends inside an extension")
                size = data[pos]
                pos += 1 + size
                if size == 0:
                    break
            continue
        if block == 0x3B:
            raise CorruptImageError("GIF: no image before the trailer")
        raise CorruptImageError(f"GIF: unknown block 0x{block:02x} at byte {pos}")
    raise CorruptImageError("GIF: too many blocks before the first image")


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 30:
        raise TruncatedImageError("WebP data ends inside the first chunk header")
    chunk = data[12:16]
    body = 20
    if chunk == b"VP8X":
        w = int.from_bytes(data[body + 4 : body + 7], "little") + 1
        h = int.from_bytes(data[body + 7 : body + 10], "little") + 1
        return w, h
    if chunk == b"VP8 ":
        if data[body + 3 : body + 6] != b"\x9d\x01\x2a":
            raise CorruptImageError("WebP: bad VP8 start code")
        w, h = struct.unpack_from("<HH", data, body + 6)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        if data[body] != 0x2F:
            raise CorruptImageError("WebP: bad VP8L signature")
        bits = int.from_bytes(data[body + 1 : body + 5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise CorruptImageError(f"WebP: unexpected first chunk {chunk!r}")


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """ISO-BMFF boxes between ``start`` and ``end``: (type, payload start, payload end)."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(out) < 10_000:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            break
        out.append((kind, pos + head, pos + size))
        pos += size
    return out


def _heic_size(data: bytes) -> tuple[int, int] | None:
    """The largest image extent ('ispe') declared in a HEIF file: an upper bound of what the decoder
    will allocate for the primary image (grid images declare their full size). None if absent."""
    best: tuple[int, int] | None = None
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        for k2, s2, e2 in _boxes(data, start + 4, end):  # meta is a FullBox: skip version/flags
            if k2 != b"iprp":
                continue
            for k3, s3, e3 in _boxes(data, s2, e2):
                if k3 != b"ipco":
                    continue
                for k4, s4, e4 in _boxes(data, s3, e3):
                    if k4 == b"ispe" and e4 - s4 >= 12:
                        w, h = struct.unpack_from(">II", data, s4 + 4)
                        if best is None or w * h > best[0] * best[1]:
                            best = (w, h)
    return best


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """Width and height from the header of a PNG, GIF, WebP or HEIC (JPEG: use :func:`scan_jpeg`).

    ``None`` when the header gives no size (a HEIC without 'ispe': the decoder's size is checked).
    """
    if fmt == "heic":
        return _heic_size(data)
    if fmt == "png":
        size = _png_size(data)
    elif fmt == "gif":
        size = _gif_size(data)
    elif fmt == "webp":
        size = _webp_size(data)
    else:
        return None
    if size[0] == 0 or size[1] == 0:
        raise CorruptImageError(f"{fmt.upper()}: header gives {size[0]}x{size[1]} pixels")
    return size
