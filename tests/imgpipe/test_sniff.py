"""Header sniffing (format + size before decoding) and the byte-level EXIF editor."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from imgpipe import CorruptImageError, NotAnImageError, TruncatedImageError, read_exif
from imgpipe._exifedit import edit_tiff, split_exif_payload
from imgpipe._sniff import header_size, scan_jpeg, sniff
from tests.imgpipe._images import encode
from tests.imgpipe._jpegs import ASCII, LONG, RATIONAL, SHORT, build_tiff, make_jpeg, tag

from .._hypothesis import examples


@pytest.mark.parametrize(
    ("fmt", "kw"),
    [
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {"lossless": True}),  # VP8L
        ("WEBP", {"quality": 80}),  # VP8
        ("WEBP", {"quality": 80, "exif": b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"}),  # VP8X
    ],
)
@pytest.mark.parametrize("size", [(1, 1), (37, 23), (300, 1)])
def test_header_size_matches_pillow(fmt: str, kw: dict[str, object], size: tuple[int, int]) -> None:
    data = encode(Image.new("RGB", size, (5, 6, 7)), fmt, **kw)
    assert header_size(data, sniff(data)) == size


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_scan_jpeg(progressive: bool, mode: str) -> None:
    data = make_jpeg(123, 45, mode=mode, progressive=progressive, orientation=3)
    info = scan_jpeg(data)
    assert (info.width, info.height) == (123, 45)
    assert info.progressive == progressive
    assert info.components == {"RGB": 3, "L": 1, "CMYK": 4}[mode]
    ((start, _end),) = info.exif
    assert data[start : start + 4] in (b"II*\x00", b"MM\x00*")


def test_scan_jpeg_errors() -> None:
    data = make_jpeg(20, 20)
    with pytest.raises(TruncatedImageError):
        scan_jpeg(data[:30])
    sos = data.index(b"\xff\xda")
    with pytest.raises(CorruptImageError):
        scan_jpeg(data[:2] + b"\xff\xe0\x00\x01" + data[6:])  # segment length < 2
    sof = data.index(b"\xff\xc0")
    zero = bytearray(data)
    struct.pack_into(">HH", zero, sof + 5, 0, 20)
    with pytest.raises(CorruptImageError):
        scan_jpeg(bytes(zero))
    assert sos > sof


@settings(max_examples=examples(200))
@given(st.binary(max_size=200))
def test_sniff_and_headers_never_crash(junk: bytes) -> None:
    for prefix in (b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"):
        data = prefix + junk
        try:
            fmt = sniff(data)
            if fmt == "jpeg":
                scan_jpeg(data)
            else:
                header_size(data, fmt)
        except (NotAnImageError, CorruptImageError):
            pass


# ---------------------------------------------------------------------------------------------------
# EXIF editing
# ---------------------------------------------------------------------------------------------------

GPS_IFD = [
    tag(0x0000, 1, b"\x02\x02\x00\x00"),
    tag(0x0001, ASCII, "N"),
    tag(0x0002, RATIONAL, [(48, 1), (51, 1), (2951, 100)]),
    tag(0x0003, ASCII, "E"),
    tag(0x0004, RATIONAL, [(2, 1), (17, 1), (4020, 100)]),
]


@pytest.mark.parametrize("big_endian", [False, True])
def test_drop_gps(big_endian: bool) -> None:
    tiff = build_tiff(
        [tag(0x010F, ASCII, "Canon"), tag(0x0110, ASCII, "Canon EOS 5D Mark IV"), tag(0x0112, SHORT, 1)],
        [tag(0x829A, RATIONAL, (1, 250)), tag(0x9003, ASCII, "2020:01:01 10:00:00")],
        GPS_IFD,
        big_endian=big_endian,
        ifd1=[tag(0x0201, LONG, 0), tag(0x0202, LONG, 0)],
    )
    before = read_exif(b"Exif\x00\x00" + tiff)
    assert before.gps is not None
    block = bytearray(tiff)
    assert edit_tiff(block, drop_gps=True)
    assert len(block) == len(tiff)
    after = read_exif(b"Exif\x00\x00" + bytes(block))
    assert after.gps is None
    assert dict(after.raw.items()) == {k: v for k, v in before.raw.items() if not k.startswith("GPS")}
    order = ">" if big_endian else "<"
    assert struct.pack(order + "LL", 2951, 100) not in block  # the seconds are cleared
    assert not edit_tiff(block, drop_gps=True)  # nothing left to do
    ex = Image.Exif()
    ex.load(b"Exif\x00\x00" + bytes(block))
    assert 0x8825 not in ex and ex.get_ifd(0x8825) == {}
    assert ex[0x010F] == "Canon"
    assert ex.get_ifd(ExifTags.IFD.IFD1).get(0x0202) == 0  # IFD1 (thumbnail) still reachable: only GPS was removed


def test_drop_gps_keeps_storage_shared_with_other_ifds() -> None:
    tiff = bytearray(build_tiff([tag(0x010F, ASCII, "A long camera maker name")], None, GPS_IFD))
    # point the GPS latitude at the Make string's storage: clearing it must not clear the Make
    make_off = struct.unpack_from("<L", tiff, 8 + 2 + 8)[0]
    ex = Image.Exif()
    ex.load(b"Exif\x00\x00" + bytes(tiff))
    gps_off = ex[0x8825]
    n = struct.unpack_from("<H", tiff, gps_off)[0]
    for i in range(n):
        pos = gps_off + 2 + 12 * i
        if struct.unpack_from("<H", tiff, pos)[0] == 2:
            struct.pack_into("<L", tiff, pos + 8, make_off)
    assert edit_tiff(tiff, drop_gps=True)
    assert read_exif(b"Exif\x00\x00" + bytes(tiff)).make == "A long camera maker name"


def test_orientation_and_pixel_size() -> None:
    tiff = build_tiff([tag(0x0112, SHORT, 6)], [tag(0xA002, LONG, 4000), tag(0xA003, SHORT, 3000)], big_endian=True)
    block = bytearray(tiff)
    assert edit_tiff(block, orientation=1, pixel_size=(3000, 4000), drop_ifd1=True)
    ex = Image.Exif()
    ex.load(b"Exif\x00\x00" + bytes(block))
    assert ex[0x0112] == 1
    assert ex.get_ifd(0x8769)[0xA002] == 3000 and ex.get_ifd(0x8769)[0xA003] == 4000


@settings(max_examples=examples(300))
@given(st.binary(min_size=0, max_size=300), st.sampled_from([b"II*\x00\x08\x00\x00\x00", b"MM\x00*\x00\x00\x00\x08"]))
def test_edit_tiff_never_crashes_or_resizes(junk: bytes, header: bytes) -> None:
    block = bytearray(header + junk)
    edit_tiff(block, drop_gps=True, orientation=1, pixel_size=(10, 20), drop_ifd1=True)
    assert len(block) == len(header) + len(junk)


def test_split_exif_payload() -> None:
    assert split_exif_payload(b"Exif\x00\x00II*\x00rest") == b"II*\x00rest"
    assert split_exif_payload(b"MM\x00*x") == b"MM\x00*x"
    assert split_exif_payload(b"garbage") is None
