"""Test helpers that build images carrying EXIF metadata.

Two levels:

* :func:`make_jpeg` -- a real JPEG written by Pillow, EXIF built with Pillow's ``Image.Exif``
  (IFD0, the Exif sub-IFD 0x8769 and the GPS sub-IFD 0x8825). Pillow reduces rationals when it writes
  them (17400/1000 becomes 87/5), so tests that need exact, unreduced or hostile values use the raw level:
* :func:`build_tiff` / :func:`tag` -- a TIFF/EXIF block packed by hand with :mod:`struct`, any byte
  order, any types, and overrides for count and offset so that broken blocks can be made on purpose;
  :func:`app1_exif`, :func:`app1_xmp` and :func:`insert_segments` place such blocks into a JPEG.

This module is imported by other test modules; keep the signatures stable.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from PIL import Image, TiffImagePlugin

__all__ = [
    "make_jpeg",
    "make_image",
    "exif_for",
    "tag",
    "build_tiff",
    "app1_exif",
    "app1_xmp",
    "insert_segments",
    "jpeg_with_exif_bytes",
    "EXIF_IFD_TAGS",
    "sample_sd400_tiff",
]

# Tags that live in IFD0 even though their number is high.
_IFD0_HIGH = {0x8298}  # Copyright
# First tag number of the Exif sub-IFD that make_jpeg routes automatically (ExposureTime, 0x829A).
_EXIF_IFD_START = 0x829A
_POINTERS = {0x8769, 0x8825, 0xA005}

#: For documentation: tags of the Exif sub-IFD the tests commonly use.
EXIF_IFD_TAGS = {
    "ExposureTime": 0x829A,
    "FNumber": 0x829D,
    "DateTimeOriginal": 0x9003,
    "ApertureValue": 0x9202,
    "ExposureBiasValue": 0x9204,
    "Flash": 0x9209,
    "FocalLength": 0x920A,
    "DigitalZoomRatio": 0xA404,
}


def _to_pillow(value: Any) -> Any:
    """Convert test-friendly values to what Pillow's EXIF writer understands."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        return value
    if isinstance(value, Fraction):
        return TiffImagePlugin.IFDRational(value.numerator, value.denominator)
    if isinstance(value, float):
        frac = Fraction(value).limit_denominator(1_000_000)
        return TiffImagePlugin.IFDRational(frac.numerator, frac.denominator)
    if isinstance(value, tuple):
        return tuple(_to_pillow(v) for v in value)
    return value


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60 * 10000)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(seconds, 10000),
    )


def exif_for(
    exif: dict[int, object] | None = None,
    *,
    orientation: int | None = None,
    gps: tuple[float, ...] | None = None,
) -> Image.Exif:
    """Build a Pillow ``Image.Exif``.

    ``exif`` maps tag numbers to values. Tags below 0x829A (and Copyright, 0x8298) go to IFD0; higher
    ones go to the Exif sub-IFD (0x8769). Values: str, int, tuple of ints, ``Fraction``/float/
    ``IFDRational`` (written as RATIONAL; Pillow reduces them), bytes (UNDEFINED).
    ``orientation`` sets tag 0x0112. ``gps`` is ``(lat, lon)`` or ``(lat, lon, altitude_m)`` in signed
    decimal degrees, written as DMS rationals with N/S, E/W references.
    """
    e = Image.Exif()
    if exif:
        for tag_id, value in exif.items():
            if tag_id in _POINTERS:
                raise ValueError(f"tag {tag_id:#x} is an IFD pointer; use gps= or the raw builder")
            if tag_id >= _EXIF_IFD_START and tag_id not in _IFD0_HIGH:
                e.get_ifd(0x8769)[tag_id] = _to_pillow(value)
            else:
                e[tag_id] = _to_pillow(value)
    if orientation is not None:
        e[0x0112] = orientation
    if gps is not None:
        lat, lon = gps[0], gps[1]
        g = e.get_ifd(0x8825)
        g[0] = b"\x02\x02\x00\x00"  # GPSVersionID
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = _dms(lon)
        if len(gps) > 2:
            alt = float(gps[2])
            g[5] = 0 if alt >= 0 else 1
            g[6] = _to_pillow(abs(alt))
    return e


def make_image(
    width: int,
    height: int,
    *,
    mode: str = "RGB",
    color: tuple[int, ...] | int = (200, 30, 30),
    corner: tuple[int, ...] | int | None = None,
) -> Image.Image:
    """A solid image of ``color`` (given in RGB, converted to ``mode``).

    ``corner``, when given, paints the top-left quarter (width//4 x height//4, at least 1x1) with that
    RGB colour, so that orientation and cropping can be checked after transforms.
    """
    rgb = color if isinstance(color, tuple) else (color, color, color)
    im = Image.new("RGB", (width, height), rgb[:3])
    if corner is not None:
        c = corner if isinstance(corner, tuple) else (corner, corner, corner)
        im.paste(c[:3], (0, 0, max(1, width // 4), max(1, height // 4)))
    if mode != "RGB":
        im = im.convert(mode)
    return im


def make_jpeg(
    width: int,
    height: int,
    *,
    exif: dict[int, object] | None = None,
    orientation: int | None = None,
    gps: tuple[float, ...] | None = None,
    mode: str = "RGB",
    color: tuple[int, ...] | int = (200, 30, 30),
    quality: int = 90,
    progressive: bool = False,
    corner: tuple[int, ...] | int | None = None,
) -> bytes:
    """Return a JPEG written by Pillow, with EXIF when any of ``exif``/``orientation``/``gps`` is given.

    See :func:`exif_for` for how ``exif``, ``orientation`` and ``gps`` are written and :func:`make_image`
    for ``mode``, ``color`` and ``corner``. ``mode`` must be one Pillow can save as JPEG (L, RGB, CMYK).
    """
    im = make_image(width, height, mode=mode, color=color, corner=corner)
    kwargs: dict[str, Any] = {"quality": quality}
    if progressive:
        kwargs["progressive"] = True
    if exif or orientation is not None or gps is not None:
        kwargs["exif"] = exif_for(exif, orientation=orientation, gps=gps)
    out = io.BytesIO()
    im.save(out, "JPEG", **kwargs)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# Raw TIFF/EXIF builder
# --------------------------------------------------------------------------------------------------

_TYPE_FMT = {1: "B", 2: "B", 3: "H", 4: "L", 5: "L", 6: "b", 7: "B", 8: "h", 9: "l", 10: "l", 11: "f", 12: "d"}

BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE = range(1, 13)


@dataclass
class RawTag:
    """One IFD entry for :func:`build_tiff` (make it with :func:`tag`)."""

    tag: int
    type: int
    values: tuple[Any, ...] | bytes  # packed with the block's byte order at build time
    count: int | None = None  # override the count written in the entry
    offset: int | None = None  # override the value offset written in the entry (out-of-line data)


def tag(
    tag_id: int,
    type_: int,
    values: Any,
    *,
    count: int | None = None,
    offset: int | None = None,
) -> RawTag:
    """Describe one IFD entry.

    ``values``: for ASCII a str (a NUL is appended) or bytes (written as is); bytes for any other type
    are written as is too (count = their length unless ``count`` is given); for RATIONAL/SRATIONAL a
    sequence of ``(num, den)`` pairs or a single pair; otherwise an int/float or a sequence of them.
    ``count`` overrides the entry's count (the data written is unchanged) and ``offset`` the value
    offset (data then is not written at all), for hostile blocks.
    """
    vals: tuple[Any, ...] | bytes
    if type_ == ASCII:
        vals = values.encode("latin-1") + b"\x00" if isinstance(values, str) else bytes(values)
    elif isinstance(values, (bytes, bytearray)):  # raw value bytes, any type (count = len unless given)
        vals = bytes(values)
    elif type_ in (RATIONAL, SRATIONAL):
        pairs = [values] if isinstance(values, tuple) and len(values) == 2 and isinstance(values[0], int) else values
        vals = tuple(x for pair in pairs for x in pair)
    elif isinstance(values, (list, tuple)):
        vals = tuple(values)
    else:
        vals = (values,)
    return RawTag(tag_id, type_, vals, count=count, offset=offset)


def _pack(order: str, t: RawTag) -> tuple[bytes, int]:
    if isinstance(t.values, bytes):
        data = t.values
        n = len(data)
    else:
        fmt = _TYPE_FMT[t.type]
        data = struct.pack(order + fmt * len(t.values), *t.values)
        n = len(t.values) // 2 if t.type in (RATIONAL, SRATIONAL) else len(t.values)
    return data, n


def build_tiff(
    ifd0: Sequence[RawTag],
    exif_ifd: Sequence[RawTag] | None = None,
    gps_ifd: Sequence[RawTag] | None = None,
    *,
    big_endian: bool = False,
    next_ifd: int | None = None,
    exif_next_ifd: int | None = None,
    ifd1: Sequence[RawTag] | None = None,
) -> bytes:
    """Pack a TIFF header plus IFD0 (and optionally the Exif/GPS sub-IFDs and IFD1).

    Pointer tags 0x8769/0x8825 are added to IFD0 automatically when the sub-IFD is given. Layout:
    header(8) | IFD0 | IFD0 data | Exif IFD | its data | GPS IFD | its data | IFD1 | its data.
    ``next_ifd`` overrides IFD0's next-IFD offset (e.g. 8 for a loop); ``exif_next_ifd`` the Exif IFD's.
    Offsets are relative to the TIFF header, as in EXIF.
    """
    order = ">" if big_endian else "<"
    entries0 = list(ifd0)
    if exif_ifd is not None:
        entries0.append(tag(0x8769, LONG, 0))
    if gps_ifd is not None:
        entries0.append(tag(0x8825, LONG, 0))
    entries0.sort(key=lambda e: e.tag)

    def ifd_size(entries: Sequence[RawTag]) -> int:
        size = 2 + 12 * len(entries) + 4
        for e in entries:
            data, _ = _pack(order, e)
            if len(data) > 4 and e.offset is None:
                size += len(data) + (len(data) & 1)
        return size

    pos = 8
    offs: dict[str, int] = {"ifd0": pos}
    pos += ifd_size(entries0)
    if exif_ifd is not None:
        offs["exif"] = pos
        pos += ifd_size(exif_ifd)
    if gps_ifd is not None:
        offs["gps"] = pos
        pos += ifd_size(gps_ifd)
    if ifd1 is not None:
        offs["ifd1"] = pos
        pos += ifd_size(ifd1)

    def pack_ifd(entries: Sequence[RawTag], start: int, nxt: int) -> bytes:
        head = struct.pack(order + "H", len(entries))
        body = b""
        data_pos = start + 2 + 12 * len(entries) + 4
        extra = b""
        for e in entries:
            if e.tag == 0x8769 and "exif" in offs and e.offset is None:
                e = RawTag(e.tag, e.type, (offs["exif"],), e.count, None)
            elif e.tag == 0x8825 and "gps" in offs and e.offset is None:
                e = RawTag(e.tag, e.type, (offs["gps"],), e.count, None)
            data, n = _pack(order, e)
            count = n if e.count is None else e.count
            if e.offset is not None:
                value = struct.pack(order + "L", e.offset)
            elif len(data) <= 4:
                value = data.ljust(4, b"\x00")
            else:
                value = struct.pack(order + "L", data_pos + len(extra))
                extra += data + (b"\x00" if len(data) & 1 else b"")
            body += struct.pack(order + "HHL", e.tag, e.type, count) + value
        return head + body + struct.pack(order + "L", nxt) + extra

    header = (b"MM" if big_endian else b"II") + struct.pack(order + "HL", 42, 8)
    nxt0 = next_ifd if next_ifd is not None else offs.get("ifd1", 0)
    out = header + pack_ifd(entries0, offs["ifd0"], nxt0)
    if exif_ifd is not None:
        out += pack_ifd(sorted(exif_ifd, key=lambda e: e.tag), offs["exif"], exif_next_ifd or 0)
    if gps_ifd is not None:
        out += pack_ifd(sorted(gps_ifd, key=lambda e: e.tag), offs["gps"], 0)
    if ifd1 is not None:
        out += pack_ifd(sorted(ifd1, key=lambda e: e.tag), offs["ifd1"], 0)
    return out


def app1_exif(tiff: bytes) -> bytes:
    """An APP1 segment (marker, length, ``Exif\\0\\0``, TIFF block)."""
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def app1_xmp(xmp: bytes | None = None) -> bytes:
    """An XMP APP1 segment (``http://ns.adobe.com/xap/1.0/\\0`` + packet)."""
    if xmp is None:
        xmp = (
            b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3"/>'
            b"</rdf:RDF></x:xmpmeta>" + b" " * 2000 + b'<?xpacket end="w"?>'
        )
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def insert_segments(jpeg: bytes, segments: Sequence[bytes], *, strip_exif: bool = True) -> bytes:
    """Insert marker segments right after SOI and any leading APP0 (JFIF).

    With ``strip_exif`` existing EXIF APP1 segments of ``jpeg`` are removed first.
    """
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    pos = 2
    head = b""
    kept = b""
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and 0xE0 <= jpeg[pos + 1] <= 0xEF:
        length = struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        seg = jpeg[pos : pos + 2 + length]
        if jpeg[pos + 1] == 0xE0 and not kept:
            head += seg
        elif strip_exif and jpeg[pos + 1] == 0xE1 and seg[4:10] == b"Exif\x00\x00":
            pass
        else:
            kept += seg
        pos += 2 + length
    return b"\xff\xd8" + head + b"".join(segments) + kept + jpeg[pos:]


def jpeg_with_exif_bytes(
    tiff: bytes,
    *,
    width: int = 32,
    height: int = 24,
    before: Sequence[bytes] = (),
    after: Sequence[bytes] = (),
) -> bytes:
    """A small JPEG whose only EXIF is ``tiff`` (a raw TIFF block), with other segments around it."""
    base = make_jpeg(width, height)
    return insert_segments(base, [*before, app1_exif(tiff), *after])


def sample_sd400_tiff(*, big_endian: bool = False) -> bytes:
    """A raw EXIF block with the values of the uploadPhotos.txt sample (Canon PowerShot SD400).

    Rationals are stored unreduced, as the camera writes them (147/32, 0/3, 17400/1000, 2592/2592).
    """
    return build_tiff(
        [
            tag(0x010F, ASCII, "Canon"),
            tag(0x0110, ASCII, "Canon PowerShot SD400"),
            tag(0x0112, SHORT, 1),
            tag(0x0132, ASCII, "2006:03:07 17:10:39"),
        ],
        [
            tag(0x829A, RATIONAL, (1, 250)),
            tag(0x829D, RATIONAL, (49, 10)),
            tag(0x9003, ASCII, "2006:03:07 17:10:39"),
            tag(0x9202, RATIONAL, (147, 32)),
            tag(0x9204, SRATIONAL, (0, 3)),
            tag(0x9209, SHORT, 89),
            tag(0x920A, RATIONAL, (17400, 1000)),
            tag(0xA404, RATIONAL, (2592, 2592)),
        ],
        big_endian=big_endian,
    )
