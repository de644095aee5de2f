"""Bounded EXIF reader.

:func:`read_exif` finds the EXIF block of a JPEG (APP1 ``Exif\\0\\0``, wherever it sits among the APPn
segments), a PNG (``eXIf`` chunk), a WebP (``EXIF`` chunk), a TIFF file or a bare ``Exif\\0\\0``/TIFF
block, and parses IFD0, the Exif sub-IFD (0x8769) and the GPS sub-IFD (0x8825) with a small TIFF
reader of its own. It never decodes pixels.

Why an own reader: measured by ``benchmarks/bench_exif.py`` it is about 5x faster than both
``exifread.process_file(details=False)`` and Pillow's ``Image.open(...).getexif()`` (+ sub-IFDs).
Besides, exifread reduces rationals (its ``Ratio`` is a ``Fraction``: 17400/1000 becomes 87/5) while
the PhotoList EXIF block needs them as stored, and exifread 3.5 misses an EXIF APP1 that follows an
XMP segment of more than about 4 KB (it looks at a fixed-size window only).

Safety: every read is checked against the end of the EXIF block (a value or IFD that would lie past it
is dropped), counts are checked before anything is read or allocated, the number of entries per IFD
(1024), the size of one value (1 MiB) and the number of segments/chunks scanned are capped, and an IFD
offset seen once is never parsed again (so IFDs that point back at each other cannot loop). Content
never raises: corrupt or hostile metadata yields an :class:`Exif` whose affected fields are ``None``
(or an empty one). Only errors opening/reading the source itself (``OSError``) and an unsupported
source type (``TypeError``) propagate.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any, NamedTuple, Union

from PIL.ExifTags import GPSTAGS as _GPSTAGS
from PIL.ExifTags import TAGS as _TAGS

__all__ = ["Exif", "Rational", "read_exif"]

ExifSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", "os.PathLike[bytes]", IO[bytes]]

# ---------------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------------
_MAX_ENTRIES = 1024  # entries read per IFD (a camera IFD has < 100)
_MAX_SEGMENTS = 4096  # JPEG marker segments scanned before giving up
_MAX_CHUNKS = 200_000  # PNG / RIFF chunks scanned before giving up
_MAX_BLOCK = 16 * 1024 * 1024  # an EXIF chunk larger than this in PNG/WebP is ignored
_HEAD = 128 * 1024  # bytes read at once from the start of a file
_MAX_VALUE = 1024 * 1024  # a single tag value larger than this (a TIFF file's ICC/XMP/IRB blob) is skipped

# Tag numbers
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_MAKE = 0x010F
_MODEL = 0x0110
_ORIENTATION = 0x0112
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_EXPOSURE_TIME = 0x829A
_F_NUMBER = 0x829D
_APERTURE_VALUE = 0x9202
_EXPOSURE_BIAS = 0x9204
_FLASH = 0x9209
_FOCAL_LENGTH = 0x920A
_DIGITAL_ZOOM = 0xA404
# Tags the Exif standard places in the Exif IFD that the typed fields read. Some cameras copy one
# (DigitalZoomRatio) into IFD0 as well; ExifTool reports these tags from the Exif IFD, so IFD0's copy
# is kept apart in ``raw`` as "IFD0:<name>" and never used for a typed field.
_EXIF_IFD_TAGS = frozenset(
    {
        _DATETIME_ORIGINAL,
        _OFFSET_TIME_ORIGINAL,
        _EXPOSURE_TIME,
        _F_NUMBER,
        _APERTURE_VALUE,
        _EXPOSURE_BIAS,
        _FLASH,
        _FOCAL_LENGTH,
        _DIGITAL_ZOOM,
    }
)

# type -> (size, struct code); RATIONAL/SRATIONAL use two codes per value
_TYPES: dict[int, tuple[int, str]] = {
    1: (1, "B"),  # BYTE
    2: (1, "s"),  # ASCII
    3: (2, "H"),  # SHORT
    4: (4, "L"),  # LONG
    5: (8, "L"),  # RATIONAL
    6: (1, "b"),  # SBYTE
    7: (1, "s"),  # UNDEFINED
    8: (2, "h"),  # SSHORT
    9: (4, "l"),  # SLONG
    10: (8, "l"),  # SRATIONAL
    11: (4, "f"),  # FLOAT
    12: (8, "d"),  # DOUBLE
    13: (4, "L"),  # IFD (a LONG offset)
}


class Rational(NamedTuple):
    """A RATIONAL/SRATIONAL value exactly as stored: ``num``/``den``, not reduced.

    ``str()`` gives ``"num/den"``; :attr:`value` the float, or ``None`` when ``den`` is 0.
    """

    num: int
    den: int

    def __str__(self) -> str:
        return f"{self.num}/{self.den}"

    @property
    def value(self) -> float | None:
        """The quotient, ``None`` for a zero denominator."""
        return self.num / self.den if self.den else None


Value = int | float | str | bytes | Rational | tuple[Any, ...]

_make_rational = Rational._make
_ENTRY = {o: struct.Struct(o + "HHL4s") for o in "<>"}
_SHORT = {o: struct.Struct(o + "H") for o in "<>"}
_LONG = {o: struct.Struct(o + "L") for o in "<>"}

# ---------------------------------------------------------------------------------------------------
# Random-access readers over the source
# ---------------------------------------------------------------------------------------------------
_Read = Callable[[int, int], bytes]


class _FileReader:
    """``read(offset, n)`` over a seekable binary file, serving the first bytes from one cached read."""

    __slots__ = ("_f", "_head", "size")

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._f = f
        f.seek(0)
        self._head = f.read(_HEAD)
        self.size = size

    def read(self, off: int, n: int) -> bytes:
        if off < 0 or n < 0:
            return b""
        end = off + n
        if end <= len(self._head):
            return self._head[off:end]
        if off >= self.size:
            return b""
        self._f.seek(off)
        return self._f.read(min(n, self.size - off))


# ---------------------------------------------------------------------------------------------------
# TIFF / IFD parsing
# ---------------------------------------------------------------------------------------------------


def _parse_tiff(read: _Read, base: int, length: int) -> dict[str, Value]:
    """Parse the TIFF block at ``base`` (``length`` bytes) into ``{tag name: value}``.

    All offsets inside the block are relative to ``base`` and must stay below ``length``.
    """
    header = read(base, 8)
    if len(header) < 8 or length < 8:
        return {}
    if header[:4] == b"II*\x00":
        order = "<"
    elif header[:4] == b"MM\x00*":
        order = ">"
    else:
        return {}
    raw: dict[str, Value] = {}
    seen: set[int] = set()
    ifd0 = struct.unpack(order + "L", header[4:8])[0]
    pointers = _parse_ifd(read, base, length, order, ifd0, _TAGS, raw, seen, misplaced=_EXIF_IFD_TAGS)
    exif_off = pointers.get(_EXIF_IFD)
    if exif_off is not None:
        _parse_ifd(read, base, length, order, exif_off, _TAGS, raw, seen)
    gps_off = pointers.get(_GPS_IFD)
    if gps_off is not None:
        _parse_ifd(read, base, length, order, gps_off, _GPSTAGS, raw, seen, gps=True)
    return raw


def _parse_ifd(
    read: _Read,
    base: int,
    length: int,
    order: str,
    off: int,
    names: dict[int, str],
    raw: dict[str, Value],
    seen: set[int],
    gps: bool = False,
    misplaced: frozenset[int] = frozenset(),
) -> dict[int, int]:
    """Parse one IFD into ``raw`` (first occurrence of a name wins); return sub-IFD pointers found.

    Tags in ``misplaced`` (Exif-IFD tags found in IFD0) are stored as ``"IFD0:<name>"``."""
    pointers: dict[int, int] = {}
    if off < 8 or off + 2 > length or off in seen:
        return pointers
    seen.add(off)
    count_b = read(base + off, 2)
    if len(count_b) < 2:
        return pointers
    n = struct.unpack(order + "H", count_b)[0]
    # A truncated IFD: keep the entries that fit in the block.
    n = min(n, (length - off - 2) // 12, _MAX_ENTRIES)
    if n <= 0:
        return pointers
    table = read(base + off + 2, 12 * n)
    n = len(table) // 12
    entry = _ENTRY[order]
    short, long_ = _SHORT[order], _LONG[order]
    for tag, typ, count, value in entry.iter_unpack(table):
        val: Value
        if tag == _EXPOSURE_BIAS and typ != 10 and not gps:
            # ExifTool reads ExposureBiasValue as one SRATIONAL whatever the entry's type says (firmware
            # that writes SHORT[4] 36,0,18,0 means 36/18 = +2 EV); fewer than 8 bytes give no value.
            if _TYPES.get(typ, (0, ""))[0] * min(count, 8) < 8:
                continue
            voff = long_.unpack(value)[0]  # 8 bytes or more are never inline
            data = read(base + voff, 8) if voff + 8 <= length else b""
            if len(data) < 8:
                continue
            val = _decode(10, "l", 1, data, order)
        elif count == 1 and typ == 3:  # fast path: the most common entry, one inline SHORT
            val = short.unpack_from(value)[0]
        elif count == 1 and (typ == 4 or typ == 13):
            val = long_.unpack_from(value)[0]
        else:
            spec = _TYPES.get(typ)
            if spec is None or count > length:  # unknown type; a count that cannot fit (no overflow)
                continue
            size, code = spec
            nbytes = size * count
            if nbytes > _MAX_VALUE:
                continue
            if nbytes <= 4:
                data = value[:nbytes]
            else:
                voff = long_.unpack(value)[0]
                if voff + nbytes > length:
                    continue
                data = read(base + voff, nbytes)
                if len(data) < nbytes:
                    continue
            val = _decode(typ, code, count, data, order)
        if not gps and (tag == _EXIF_IFD or tag == _GPS_IFD):
            first = val[0] if isinstance(val, tuple) and val else val
            if isinstance(first, int) and typ in (3, 4, 13):
                pointers[tag] = first
            continue
        name = names.get(tag)
        if name is None:
            name = f"{'GPS' if gps else ''}Tag0x{tag:04X}"
        if tag in misplaced:
            name = "IFD0:" + name
        if name not in raw:
            raw[name] = val
    return pointers


def _decode(typ: int, code: str, count: int, data: bytes, order: str) -> Value:
    if typ == 2:
        return _ascii(data)
    if typ == 7:
        return bytes(data)
    if count == 0:
        return ()
    if typ in (5, 10):
        nums = struct.unpack(f"{order}{2 * count}{code}", data)
        if count == 1:
            return _make_rational(nums)
        it = iter(nums)
        vals: tuple[Any, ...] = tuple(map(_make_rational, zip(it, it)))
    else:
        vals = struct.unpack(f"{order}{count}{code}", data)
    return vals[0] if count == 1 else vals


def _ascii(data: bytes) -> str:
    """EXIF ASCII: strip NUL/space padding at both ends, cut at the first inner NUL, decode leniently."""
    data = data.strip(b"\x00 \t\r\n")
    nul = data.find(b"\x00")
    if nul >= 0:
        data = data[:nul].rstrip(b" \t\r\n")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ---------------------------------------------------------------------------------------------------
# Container scanning: find (base, length) of the TIFF block
# ---------------------------------------------------------------------------------------------------


def _tiff_in_payload(read: _Read, start: int, length: int) -> tuple[int, int] | None:
    """A chunk/segment payload holding a TIFF block, optionally prefixed by ``Exif\\0\\0``."""
    head = read(start, 10)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return start, length
    if head[:5] == b"Exif\x00" and head[6:10] in (b"II*\x00", b"MM\x00*"):
        return start + 6, length - 6
    return None


def _find_jpeg(read: _Read, size: int) -> tuple[int, int] | None:
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        marker = read(pos, 4)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        m = marker[1]
        if m == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xD0 <= m <= 0xD8 or m == 0x01:  # markers without a length
            pos += 2
            continue
        if m in (0xDA, 0xD9) or len(marker) < 4:  # start of scan / end of image: metadata is over
            return None
        seglen = (marker[2] << 8) | marker[3]
        if seglen < 2:
            return None
        if m == 0xE1 and seglen >= 2 + 6 + 8:
            payload_len = min(seglen - 2, size - pos - 4)
            found = _tiff_in_payload(read, pos + 4, payload_len)
            if found is not None and read(pos + 4, 5) == b"Exif\x00":
                return found
        pos += 2 + seglen
    return None


def _find_png(read: _Read, size: int) -> tuple[int, int] | None:
    pos = 8
    for _ in range(_MAX_CHUNKS):
        head = read(pos, 8)
        if len(head) < 8:
            return None
        length, ctype = struct.unpack(">L4s", head)
        if ctype == b"eXIf":
            if length > _MAX_BLOCK:
                return None
            return _tiff_in_payload(read, pos + 8, min(length, size - pos - 8))
        if ctype == b"IEND":
            return None
        pos += 12 + length
    return None


def _find_webp(read: _Read, size: int) -> tuple[int, int] | None:
    riff_end = min(size, 8 + struct.unpack("<L", read(4, 4))[0])
    pos = 12
    for _ in range(_MAX_CHUNKS):
        head = read(pos, 8)
        if len(head) < 8 or pos + 8 > riff_end:
            return None
        ctype, length = struct.unpack("<4sL", head)
        if ctype == b"EXIF":
            if length > _MAX_BLOCK:
                return None
            return _tiff_in_payload(read, pos + 8, min(length, riff_end - pos - 8))
        pos += 8 + length + (length & 1)
    return None


def _locate(read: _Read, size: int) -> tuple[int, int] | None:
    magic = read(0, 12)
    if magic[:3] == b"\xff\xd8\xff":
        return _find_jpeg(read, size)
    if magic[:4] in (b"II*\x00", b"MM\x00*"):
        return 0, size
    if magic[:8] == b"\x89PNG\r\n\x1a\n":
        return _find_png(read, size)
    if magic[:4] == b"RIFF" and magic[8:12] == b"WEBP":
        return _find_webp(read, size)
    if magic[:6] == b"Exif\x00\x00":
        return _tiff_in_payload(read, 0, size)
    return None


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exif:
    """EXIF metadata of one image, as read by :func:`read_exif`.

    Every field is ``None`` when its tag is absent, has an unusable type, or holds an impossible value
    (zero denominator, NaN, a negative exposure time, a non-positive f-number / focal length, an orientation outside
    1..8, a GPS position outside the globe). Scalar fields take the first value when a tag holds an array,
    and accept any numeric TIFF type (a SHORT focal length of 17 gives 17.0).

    ``raw`` maps tag names (Pillow's ``ExifTags`` names; ``Tag0x1234`` / ``GPSTag0x1234`` for unknown
    tags) to values as read from IFD0, the Exif IFD and the GPS IFD: ``str`` for ASCII, ``bytes`` for
    UNDEFINED, :class:`Rational` for (S)RATIONAL, ``int``/``float`` otherwise, a tuple when count > 1.
    Sub-IFD pointers and the thumbnail IFD1 are not included. IFD0 and the Exif IFD are kept apart as
    ExifTool keeps them: a copy of an Exif-IFD tag that a camera also wrote into IFD0 (DigitalZoomRatio,
    say) is in ``raw`` as ``"IFD0:DigitalZoomRatio"`` and is not used for the typed fields.
    """

    make: str | None = None
    model: str | None = None
    date_time_original: str | None = None
    offset_time_original: str | None = None
    orientation: int | None = None
    flash: int | None = None
    f_number: float | None = None
    exposure_time: float | None = None
    exposure_bias: float | None = None
    focal_length: float | None = None
    digital_zoom_ratio: float | None = None
    gps: tuple[float, float] | None = None
    raw: dict[str, Value] = field(default_factory=dict, hash=False, repr=False)

    @classmethod
    def empty(cls) -> Exif:
        """An :class:`Exif` for an image without (usable) EXIF: every field ``None``, ``raw`` empty."""
        return cls()

    @property
    def is_empty(self) -> bool:
        """True when nothing at all was read."""
        return not self.raw

    @classmethod
    def from_raw(cls, raw: dict[str, Value]) -> Exif:
        """Build the typed fields from a ``raw`` mapping (as :func:`read_exif` does)."""
        if not raw:
            return cls()
        orientation = _int(raw.get("Orientation"))
        if orientation is not None and not 1 <= orientation <= 8:
            orientation = None
        flash = _int(raw.get("Flash"))
        if flash is not None and not 0 <= flash <= 0xFFFF:
            flash = None
        zoom = _float(raw.get("DigitalZoomRatio"))
        if zoom is not None and zoom < 0:
            zoom = None
        return cls(
            make=_text(raw.get("Make")),
            model=_text(raw.get("Model")),
            date_time_original=_text(raw.get("DateTimeOriginal")),
            offset_time_original=_text(raw.get("OffsetTimeOriginal")),
            orientation=orientation,
            flash=flash,
            f_number=_positive(raw.get("FNumber")),
            exposure_time=_non_negative(raw.get("ExposureTime")),
            exposure_bias=_float(raw.get("ExposureBiasValue")),
            focal_length=_positive(raw.get("FocalLength")),
            digital_zoom_ratio=zoom,
            gps=_gps(raw),
            raw=raw,
        )

    def capture_time(self) -> datetime | None:
        """DateTimeOriginal as a ``datetime``: aware (UTC) when OffsetTimeOriginal is known, else naive.

        ``None`` when the tag is absent or not a valid ``YYYY:MM:DD HH:MM:SS`` date.
        """
        text = self.date_time_original
        if not text:
            return None
        try:
            dt = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            return None
        offset = self.offset_time_original
        if offset and len(offset) >= 6 and offset[0] in "+-" and offset[3] == ":":
            try:
                delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            except ValueError:
                return dt
            if delta <= timedelta(hours=14):
                tz = timezone(delta if offset[0] == "+" else -delta)
                return dt.replace(tzinfo=tz).astimezone(UTC)
        return dt

    def photolist(self) -> dict[str, str | None]:
        """The PhotoList ``<EXIF>`` block as text, keys in the sample's order.

        * Camera: ``"Make. Model."`` (``"Canon. Canon PowerShot SD400."``); only one of them -> ``"Make."``
          or ``"Model."``; no second dot is added to a name that already ends with one.
        * Aperture: ApertureValue (0x9202, APEX) as stored, e.g. ``"147/32"``. The sample's 147/32 is an
          APEX value (f/4.9, the SD400's widest aperture at its 17.4 mm tele end; Canon writes APEX in 1/32
          steps and FNumber as x/10). A photo with FNumber but no ApertureValue gets the APEX value
          derived from it, 2 * log2(FNumber), in hundredths (f/2.8 -> ``"297/100"``): ExifTool's Aperture
          is the same f-number either way (it shows FNumber, or 2 ** (ApertureValue / 2)).
        * Exposure (ExposureTime; 0 is kept, as ExifTool reports it), ExposureBias (ExposureBiasValue),
          FocalLength, ZoomRatio (DigitalZoomRatio): the rational as stored, ``"num/den"`` unreduced; an
          integer or float type is written as its number.
        * Flash: the Flash tag as a decimal integer. Date: DateTimeOriginal followed by ``"."``.
        * Quality: standard EXIF has no quality tag (cameras such as Canon keep one in their MakerNote,
          which is not parsed here), so the sample's ``0`` is read as "unknown": it is ``"0"`` whenever
          any other key has a value, else ``None``.

        A value is ``None`` when its typed field would be ``None`` (absent, zero denominator, ...).
        """
        raw = self.raw
        camera: str | None
        parts = [p for p in (self.make, self.model) if p]
        camera = " ".join(p if p.endswith(".") else p + "." for p in parts) if parts else None
        aperture = raw.get("ApertureValue")
        if _float(aperture) is None and self.f_number is not None:
            aperture = Rational(round(200 * math.log2(self.f_number)), 100)
        out: dict[str, str | None] = {
            "Camera": camera,
            "Aperture": _as_stored(aperture) if _float(aperture) is not None else None,
            "Exposure": _as_stored(raw.get("ExposureTime")) if self.exposure_time is not None else None,
            "ExposureBias": (_as_stored(raw.get("ExposureBiasValue")) if self.exposure_bias is not None else None),
            "Flash": str(self.flash) if self.flash is not None else None,
            "Date": self.date_time_original + "." if self.date_time_original else None,
            "FocalLength": _as_stored(raw.get("FocalLength")) if self.focal_length is not None else None,
            "ZoomRatio": (_as_stored(raw.get("DigitalZoomRatio")) if self.digital_zoom_ratio is not None else None),
            "Quality": None,
        }
        if any(v is not None for v in out.values()):
            out["Quality"] = "0"
        return out


def read_exif(source: ExifSource) -> Exif:
    """Read the EXIF metadata of an image without decoding it.

    ``source``: the image as bytes-like, a path (``str``/``os.PathLike``), or a binary file object.
    A file object is read from offset 0 when seekable (its position is restored afterwards); a
    non-seekable one is read to the end. JPEG, PNG (``eXIf``), WebP (``EXIF``), TIFF and bare
    ``Exif\\0\\0`` blocks are understood; any other content, including non-image bytes, gives
    :meth:`Exif.empty`. Corrupt metadata never raises (see :class:`Exif`).

    Raises ``TypeError`` for an unsupported source type and ``OSError`` when the source cannot be read.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _from_bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return _from_file(f, size)
    if hasattr(source, "read"):
        fp = source
        seekable = getattr(fp, "seekable", None)
        if seekable is not None and seekable():
            pos = fp.tell()
            try:
                size = fp.seek(0, os.SEEK_END)
                return _from_file(fp, size)
            finally:
                fp.seek(pos)
        return _from_bytes(fp.read())
    raise TypeError(f"read_exif() needs bytes, a path or a binary file, not {type(source).__name__}")


def _from_bytes(data: bytes | bytearray | memoryview) -> Exif:
    if isinstance(data, bytes):
        buf = data

        def read(off: int, n: int) -> bytes:
            if off < 0 or n < 0:
                return b""
            return buf[off : off + n]

        return _read(read, len(buf))
    try:
        view = memoryview(data).cast("B")  # no copy of the whole buffer; slices are copied when read
    except TypeError:  # a non-contiguous view cannot be cast: copy it
        view = memoryview(bytes(data))

    def read_view(off: int, n: int) -> bytes:
        if off < 0 or n < 0:
            return b""
        return bytes(view[off : off + n])

    return _read(read_view, len(view))


def _from_file(f: IO[bytes], size: int) -> Exif:
    return _read(_FileReader(f, size).read, size)


def _read(read: _Read, size: int) -> Exif:
    found = _locate(read, size)
    if found is None:
        return Exif()
    base, length = found
    length = max(0, min(length, size - base))
    try:
        raw = _parse_tiff(read, base, length)
    except (struct.error, ValueError, OverflowError):  # pragma: no cover - defensive: bounds are checked
        return Exif()
    return Exif.from_raw(raw)


# ---------------------------------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------------------------------


def _first(v: Value | None) -> Value | None:
    if isinstance(v, tuple) and not isinstance(v, Rational):
        return v[0] if v else None
    return v


def _int(v: Value | None) -> int | None:
    v = _first(v)
    if isinstance(v, bool) or not isinstance(v, int) or isinstance(v, Rational):
        return None
    return v


def _float(v: Value | None) -> float | None:
    v = _first(v)
    if isinstance(v, Rational):
        f = v.value
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        f = float(v)
    else:
        return None
    if f is None or not math.isfinite(f):
        return None
    return f


def _positive(v: Value | None) -> float | None:
    f = _float(v)
    return f if f is not None and f > 0 else None


def _text(v: Value | None) -> str | None:
    if isinstance(v, bytes):  # UNDEFINED used for text by some writers
        v = _ascii(v)
    if not isinstance(v, str):
        return None
    v = v.strip("\x00 \t\r\n")
    return v or None


def _as_stored(v: Value | None) -> str | None:
    v = _first(v)
    if isinstance(v, Rational):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def _non_negative(v: Value | None) -> float | None:
    f = _float(v)
    return f if f is not None and f >= 0 else None


def _dms(v: Value | None) -> float | None:
    if isinstance(v, tuple) and not isinstance(v, Rational):
        parts = v[:3]
    elif v is None:
        return None
    else:
        parts = (v,)
    total = 0.0
    for scale, p in zip((1.0, 60.0, 3600.0), parts):
        f = _float(p)
        if f is None or f < 0:
            return None
        total += f / scale
    return total if parts else None


def _gps(raw: dict[str, Value]) -> tuple[float, float] | None:
    lat = _dms(raw.get("GPSLatitude"))
    lon = _dms(raw.get("GPSLongitude"))
    if lat is None or lon is None or lat > 90 or lon > 180:
        return None
    if _text(raw.get("GPSLatitudeRef")) in ("S", "s"):
        lat = -lat
    if _text(raw.get("GPSLongitudeRef")) in ("W", "w"):
        lon = -lon
    return lat, lon
