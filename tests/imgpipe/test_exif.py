"""Tests for imgpipe._exif.read_exif: every field, every container, and hostile EXIF blocks."""

from __future__ import annotations

import io
import math
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imgpipe._exif import Exif, Rational, read_exif
from tests.imgpipe._jpegs import (
    ASCII,
    DOUBLE,
    FLOAT,
    LONG,
    RATIONAL,
    SHORT,
    SLONG,
    SRATIONAL,
    SSHORT,
    UNDEFINED,
    app1_exif,
    app1_xmp,
    build_tiff,
    exif_for,
    insert_segments,
    jpeg_with_exif_bytes,
    make_jpeg,
    sample_sd400_tiff,
    tag,
)

from .._hypothesis import examples

# The <EXIF> block of the sample response in specs/uploadPhotos.txt.
SAMPLE_PHOTOLIST = {
    "Camera": "Canon. Canon PowerShot SD400.",
    "Aperture": "147/32",
    "Exposure": "1/250",
    "ExposureBias": "0/3",
    "Flash": "89",
    "Date": "2006:03:07 17:10:39.",
    "FocalLength": "17400/1000",
    "ZoomRatio": "2592/2592",
    "Quality": "0",
}

FIELDS = (
    "make",
    "model",
    "date_time_original",
    "offset_time_original",
    "orientation",
    "flash",
    "f_number",
    "exposure_time",
    "exposure_bias",
    "focal_length",
    "digital_zoom_ratio",
    "gps",
)


def assert_all_none(e: Exif) -> None:
    for name in FIELDS:
        assert getattr(e, name) is None, name


def ifd0_only(*tags: object) -> Exif:
    return read_exif(jpeg_with_exif_bytes(build_tiff(list(tags))))  # type: ignore[arg-type]


def exif_only(*tags: object) -> Exif:
    return read_exif(jpeg_with_exif_bytes(build_tiff([], list(tags))))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Pillow-written JPEGs: every field
# ------------------------------------------------------------------------------------------------


def full_pillow_jpeg() -> bytes:
    return make_jpeg(
        64,
        48,
        exif={
            0x010F: "NIKON CORPORATION",
            0x0110: "NIKON D70",
            0x829A: (1 / 125),
            0x829D: 5.6,
            0x9003: "2010:07:14 09:08:07",
            0x9011: "+02:00",
            0x9204: -0.5,
            0x9209: 16,
            0x920A: 35.0,
            0xA404: 1.5,
        },
        orientation=6,
        gps=(48.858222, -2.2945),
    )


def test_every_field_from_pillow_jpeg() -> None:
    e = read_exif(full_pillow_jpeg())
    assert e.make == "NIKON CORPORATION"
    assert e.model == "NIKON D70"
    assert e.date_time_original == "2010:07:14 09:08:07"
    assert e.offset_time_original == "+02:00"
    assert e.orientation == 6
    assert e.flash == 16
    assert e.f_number == pytest.approx(5.6)
    assert e.exposure_time == pytest.approx(1 / 125)
    assert e.exposure_bias == pytest.approx(-0.5)
    assert e.focal_length == pytest.approx(35.0)
    assert e.digital_zoom_ratio == pytest.approx(1.5)
    assert e.gps is not None
    assert e.gps[0] == pytest.approx(48.858222, abs=1e-6)
    assert e.gps[1] == pytest.approx(-2.2945, abs=1e-6)
    assert not e.is_empty
    assert e.raw["Make"] == "NIKON CORPORATION"
    assert e.raw["Orientation"] == 6
    assert e.raw["GPSLongitudeRef"] == "W"
    assert isinstance(e.raw["FNumber"], Rational)
    assert "ExifOffset" not in e.raw and "GPSInfo" not in e.raw  # pointers are not values
    assert e.capture_time() == datetime(2010, 7, 14, 7, 8, 7, tzinfo=UTC)


def test_gps_southern_eastern_hemisphere() -> None:
    e = read_exif(make_jpeg(8, 8, gps=(-33.8568, 151.2153, 58.0)))
    assert e.gps == pytest.approx((-33.8568, 151.2153), abs=1e-6)
    assert e.raw["GPSAltitude"] == Rational(58, 1)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_valid_orientations(orientation: int) -> None:
    assert read_exif(make_jpeg(8, 8, orientation=orientation)).orientation == orientation


@pytest.mark.parametrize("orientation", [0, 9, 255, 65535])
def test_invalid_orientation_is_none(orientation: int) -> None:
    e = read_exif(make_jpeg(8, 8, orientation=orientation, exif={0x010F: "X"}))
    assert e.orientation is None
    assert e.raw["Orientation"] == orientation
    assert e.make == "X"


def test_jpeg_without_exif_is_empty() -> None:
    e = read_exif(make_jpeg(16, 16))
    assert e == Exif.empty()
    assert e.is_empty
    assert_all_none(e)
    assert e.raw == {}
    assert all(v is None for v in e.photolist().values())


# ------------------------------------------------------------------------------------------------
# The uploadPhotos sample
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("big_endian", [False, True])
def test_photolist_matches_sample(big_endian: bool) -> None:
    e = read_exif(jpeg_with_exif_bytes(sample_sd400_tiff(big_endian=big_endian)))
    pl = e.photolist()
    assert pl == SAMPLE_PHOTOLIST
    assert list(pl) == list(SAMPLE_PHOTOLIST)  # key order
    # typed fields of the same block
    assert e.make == "Canon" and e.model == "Canon PowerShot SD400"
    assert e.f_number == pytest.approx(4.9)
    assert e.exposure_time == pytest.approx(0.004)
    assert e.exposure_bias == 0.0
    assert e.flash == 89
    assert e.focal_length == pytest.approx(17.4)
    assert e.digital_zoom_ratio == 1.0
    assert e.orientation == 1
    assert e.gps is None
    assert e.capture_time() == datetime(2006, 3, 7, 17, 10, 39)  # naive: no offset recorded
    assert e.raw["FocalLength"] == Rational(17400, 1000)
    assert str(e.raw["DigitalZoomRatio"]) == "2592/2592"


def test_photolist_partial_and_camera_variants() -> None:
    assert ifd0_only(tag(0x010F, ASCII, "Canon")).photolist() == {
        **dict.fromkeys(SAMPLE_PHOTOLIST),
        "Camera": "Canon.",
        "Quality": "0",
    }
    assert ifd0_only(tag(0x0110, ASCII, "DSC-W1")).photolist()["Camera"] == "DSC-W1."
    assert ifd0_only(tag(0x010F, ASCII, "Acme Inc."), tag(0x0110, ASCII, "X1")).photolist()["Camera"] == "Acme Inc. X1."
    # Only an orientation: nothing for the EXIF block, so no Quality either.
    assert all(v is None for v in ifd0_only(tag(0x0112, SHORT, 3)).photolist().values())


def test_photolist_aperture_is_aperture_value_or_derived_from_fnumber() -> None:
    e = exif_only(tag(0x829D, RATIONAL, (28, 10)))
    assert e.f_number == pytest.approx(2.8)
    assert e.photolist()["Aperture"] == "297/100"  # APEX 2 * log2(2.8), as ExifTool's Aperture f/2.8
    e = exif_only(tag(0x829D, RATIONAL, (28, 10)), tag(0x9202, RATIONAL, (95, 32)))
    assert e.photolist()["Aperture"] == "95/32"  # ApertureValue as stored wins
    e = exif_only(tag(0x9202, RATIONAL, (95, 32)))
    assert e.photolist()["Aperture"] == "95/32"
    assert e.f_number is None  # FNumber absent; not derived


def test_photolist_negative_bias_and_non_rational_types() -> None:
    e = exif_only(
        tag(0x9204, SRATIONAL, (-2, 3)),
        tag(0x920A, SHORT, 17),
        tag(0xA404, DOUBLE, 2.5),
        tag(0x829A, RATIONAL, (10, 1)),
    )
    pl = e.photolist()
    assert pl["ExposureBias"] == "-2/3"
    assert pl["FocalLength"] == "17"
    assert pl["ZoomRatio"] == "2.5"
    assert pl["Exposure"] == "10/1"
    assert e.exposure_bias == pytest.approx(-2 / 3)


# ------------------------------------------------------------------------------------------------
# Sources
# ------------------------------------------------------------------------------------------------


def test_sources(tmp_path: Path) -> None:
    data = jpeg_with_exif_bytes(sample_sd400_tiff())
    expected = read_exif(data)
    p = tmp_path / "x.jpg"
    p.write_bytes(data)
    assert read_exif(bytearray(data)) == expected
    assert read_exif(memoryview(data)) == expected
    assert read_exif(str(p)) == expected
    assert read_exif(p) == expected
    with open(p, "rb") as f:
        f.seek(123)
        assert read_exif(f) == expected
        assert f.tell() == 123  # position restored
    bio = io.BytesIO(data)
    bio.seek(0, io.SEEK_END)
    assert read_exif(bio) == expected  # read from offset 0, not from the current position


class _NonSeekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._b = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        chunk = self._b.read(len(buf))
        buf[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_stream() -> None:
    data = jpeg_with_exif_bytes(sample_sd400_tiff())
    stream = io.BufferedReader(cast(Any, _NonSeekable(data)))
    assert not stream.seekable()
    assert read_exif(stream).photolist() == SAMPLE_PHOTOLIST


def test_bad_source_type() -> None:
    with pytest.raises(TypeError):
        read_exif(42)  # type: ignore[arg-type]


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_exif(tmp_path / "nope.jpg")


class _SpyIO(io.BytesIO):
    """Records every position read from, to prove reads stay inside the file."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, n: int | None = -1) -> bytes:  # type: ignore[override]
        pos = self.tell()
        out = super().read(n)
        self.reads.append((pos, len(out)))
        return out


def test_file_reads_stay_inside_file_and_skip_pixels() -> None:
    # EXIF pushed beyond the first 128 KiB by three 60 KiB APP2 segments: exercises the seek path.
    filler = [b"\xff\xe2" + struct.pack(">H", 60_002) + b"\x00" * 60_000 for _ in range(3)]
    big = make_jpeg(1200, 900)
    data = insert_segments(big, [*filler, app1_exif(sample_sd400_tiff())])
    spy = _SpyIO(data)
    assert read_exif(spy).photolist() == SAMPLE_PHOTOLIST
    assert all(0 <= pos <= spy.size for pos, _ in spy.reads)
    total = sum(n for _, n in spy.reads)
    assert total < 128 * 1024 + 4096  # the head plus a few small reads; the scan data is never read


def test_truncated_after_metadata_still_reads() -> None:
    data = jpeg_with_exif_bytes(sample_sd400_tiff())
    sos = data.index(b"\xff\xda")
    assert read_exif(data[: sos + 2]).photolist() == SAMPLE_PHOTOLIST
    # and scan data replaced by garbage: pixels are never decoded
    assert read_exif(data[:sos] + b"\xff\xda" + b"\x13" * 1000).make == "Canon"


# ------------------------------------------------------------------------------------------------
# Containers
# ------------------------------------------------------------------------------------------------


def test_exif_after_xmp_segment() -> None:
    tiff = sample_sd400_tiff()
    data = jpeg_with_exif_bytes(tiff, before=[app1_xmp(), app1_xmp(b"<x/>" + b" " * 9000)])
    assert data.index(b"http://ns.adobe.com/xap/1.0/") < data.index(b"Exif\x00\x00")
    assert read_exif(data).photolist() == SAMPLE_PHOTOLIST


def test_first_valid_exif_segment_wins_and_bad_header_is_skipped() -> None:
    bad = b"\xff\xe1" + struct.pack(">H", 2 + 6 + 8) + b"Exif\x00\x00" + b"XX*\x00\x08\x00\x00\x00"
    other = app1_exif(build_tiff([tag(0x010F, ASCII, "Second")]))
    data = insert_segments(make_jpeg(8, 8), [bad, app1_exif(sample_sd400_tiff()), other])
    assert read_exif(data).make == "Canon"


def test_fill_bytes_and_standalone_markers() -> None:
    base = jpeg_with_exif_bytes(sample_sd400_tiff())
    data = base[:2] + b"\xff\xff\xff" + base[2:]
    assert read_exif(data).make == "Canon"


def test_png_exif_chunk() -> None:
    im = Image.new("RGB", (10, 10), (1, 2, 3))
    out = io.BytesIO()
    im.save(out, "PNG", exif=exif_for({0x010F: "PNGMaker", 0x9209: 1}, orientation=3))
    data = out.getvalue()
    assert b"eXIf" in data
    e = read_exif(data)
    assert (e.make, e.flash, e.orientation) == ("PNGMaker", 1, 3)


def test_png_exif_chunk_with_exif_prefix_and_after_idat() -> None:
    im = Image.new("L", (4, 4))
    out = io.BytesIO()
    im.save(out, "PNG")
    png = out.getvalue()
    payload = b"Exif\x00\x00" + sample_sd400_tiff(big_endian=True)
    chunk = struct.pack(">L", len(payload)) + b"eXIf" + payload + b"\x00\x00\x00\x00"  # CRC not checked
    iend = png.rindex(b"IEND") - 4
    assert read_exif(png[:iend] + chunk + png[iend:]).photolist() == SAMPLE_PHOTOLIST


def test_png_without_exif() -> None:
    out = io.BytesIO()
    Image.new("RGB", (3, 3)).save(out, "PNG")
    assert read_exif(out.getvalue()).is_empty


def test_webp_exif() -> None:
    im = Image.new("RGB", (16, 16), (9, 9, 9))
    out = io.BytesIO()
    im.save(out, "WEBP", exif=exif_for({0x010F: "WebPMaker", 0x0110: "W1"}, gps=(10.5, 20.25)))
    e = read_exif(out.getvalue())
    assert (e.make, e.model) == ("WebPMaker", "W1")
    assert e.gps == pytest.approx((10.5, 20.25))


def test_webp_without_exif() -> None:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "WEBP")
    assert read_exif(out.getvalue()).is_empty


def test_bare_tiff_block_and_exif_prefix() -> None:
    tiff = sample_sd400_tiff()
    assert read_exif(tiff).photolist() == SAMPLE_PHOTOLIST
    assert read_exif(b"Exif\x00\x00" + tiff).photolist() == SAMPLE_PHOTOLIST


def test_tiff_file_written_by_pillow(tmp_path: Path) -> None:
    p = tmp_path / "x.tif"
    Image.new("RGB", (8, 8)).save(p, "TIFF", exif=exif_for({0x010F: "TiffMaker"}))
    assert read_exif(p).make == "TiffMaker"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"hello world, this is not an image" * 10,
        b"\xff\xd8",
        b"\xff\xd8\xff",
        b"GIF89a" + b"\x00" * 20,
        b"RIFF\xff\xff\xff\xffWEBP",
        b"\x89PNG\r\n\x1a\n",
        b"II*\x00",
        b"MM\x00*\xff\xff\xff\xff",
        b"Exif\x00\x00",
    ],
)
def test_non_image_or_truncated_gives_empty(data: bytes) -> None:
    assert read_exif(data) == Exif.empty()


def test_gif_gives_empty() -> None:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    assert read_exif(out.getvalue()).is_empty


# ------------------------------------------------------------------------------------------------
# Unusual types and padded strings
# ------------------------------------------------------------------------------------------------


def test_short_and_sshort_arrays_instead_of_rationals() -> None:
    e = exif_only(
        tag(0x829D, SHORT, [4, 0]),  # FNumber as a SHORT array
        tag(0x920A, SSHORT, [50, -1]),  # FocalLength as an SSHORT array
        tag(0x9204, SSHORT, -1),  # ExposureBias as SSHORT: too short for ExifTool's SRATIONAL, dropped
        tag(0x829A, SRATIONAL, (1, 60)),  # ExposureTime signed
        tag(0xA404, FLOAT, 2.0),
        tag(0x9209, LONG, 24),  # Flash as LONG
    )
    assert e.f_number == 4.0
    assert e.focal_length == 50.0
    assert e.exposure_bias is None
    assert e.exposure_time == pytest.approx(1 / 60)
    assert e.digital_zoom_ratio == 2.0
    assert e.flash == 24
    assert e.photolist()["FocalLength"] == "50"


def test_wrong_kinds_of_values_are_none() -> None:
    e = read_exif(
        jpeg_with_exif_bytes(
            build_tiff(
                [
                    tag(0x010F, SHORT, 7),  # Make as a number
                    tag(0x0110, UNDEFINED, b"Model-as-undefined\x00"),
                    tag(0x0112, ASCII, "6"),  # Orientation as text
                ],
                [
                    tag(0x829D, ASCII, "f/2.8"),
                    tag(0x9209, SSHORT, -5),  # negative flash
                    tag(0x829A, SRATIONAL, (-1, 60)),  # negative exposure time
                    tag(0x920A, RATIONAL, (0, 1)),  # zero focal length
                    tag(0xA404, DOUBLE, float("nan")),
                    tag(0x9204, FLOAT, float("inf")),
                    tag(0x9003, LONG, 20060307),
                ],
            )
        )
    )
    assert e.make is None
    assert e.model == "Model-as-undefined"  # UNDEFINED bytes holding text are accepted
    assert e.orientation is None
    assert e.f_number is None
    assert e.flash is None
    assert e.exposure_time is None
    assert e.focal_length is None
    assert e.digital_zoom_ratio is None
    assert e.exposure_bias is None
    assert e.date_time_original is None
    pl = e.photolist()
    assert pl["Camera"] == "Model-as-undefined."
    assert pl["Exposure"] is None and pl["FocalLength"] is None and pl["ZoomRatio"] is None


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (b"Canon\x00\x00\x00\x00", "Canon"),
        (b"Canon      \x00", "Canon"),
        (b"   Canon\x00", "Canon"),
        (b"\x00\x00Canon\x00", "Canon"),
        (b"Canon\x00garbage after nul\x00", "Canon"),
        (b"Canon PowerShot SD400\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "Canon PowerShot SD400"),
        (b"Caf\xc3\xa9\x00", "Café"),  # UTF-8 in an ASCII tag
        (b"Caf\xe9\x00", "Café"),  # Latin-1
        (b"    \x00", None),
        (b"\x00\x00\x00\x00", None),
        (b"", None),
    ],
)
def test_padded_strings(stored: bytes, expected: str | None) -> None:
    e = ifd0_only(tag(0x010F, ASCII, stored), tag(0x0110, ASCII, stored))
    assert e.make == expected
    assert e.model == expected


def test_zero_denominators() -> None:
    e = read_exif(
        jpeg_with_exif_bytes(
            build_tiff(
                [tag(0x010F, ASCII, "Z")],
                [
                    tag(0x829A, RATIONAL, (1, 0)),
                    tag(0x829D, RATIONAL, (0, 0)),
                    tag(0x9202, RATIONAL, (147, 0)),
                    tag(0x9204, SRATIONAL, (0, 0)),
                    tag(0x920A, RATIONAL, (17, 0)),
                    tag(0xA404, RATIONAL, (0, 0)),
                ],
                [
                    tag(1, ASCII, "N"),
                    tag(2, RATIONAL, [(10, 1), (0, 0), (0, 1)]),
                    tag(3, ASCII, "E"),
                    tag(4, RATIONAL, [(10, 1), (0, 1), (0, 1)]),
                ],
            )
        )
    )
    for name in ("exposure_time", "f_number", "exposure_bias", "focal_length", "digital_zoom_ratio", "gps"):
        assert getattr(e, name) is None, name
    assert e.raw["ExposureTime"] == Rational(1, 0)
    assert Rational(1, 0).value is None
    pl = e.photolist()
    assert pl == {**dict.fromkeys(SAMPLE_PHOTOLIST), "Camera": "Z.", "Quality": "0"}


def test_gps_edge_cases() -> None:
    def gps(*tags: object) -> tuple[float, float] | None:
        return read_exif(jpeg_with_exif_bytes(build_tiff([], None, list(tags)))).gps  # type: ignore[arg-type]

    lat = tag(2, RATIONAL, [(12, 1), (30, 1), (0, 1)])
    lon = tag(4, RATIONAL, [(45, 1), (15, 1), (0, 1)])
    assert gps(lat, lon) == (12.5, 45.25)  # no refs: positive
    assert gps(tag(1, ASCII, "S\x00"), lat, tag(3, ASCII, "W"), lon) == (-12.5, -45.25)
    assert gps(lat) is None  # longitude missing
    assert gps(tag(2, RATIONAL, [(91, 1), (0, 1), (0, 1)]), lon) is None  # off the globe
    assert gps(tag(2, RATIONAL, (12, 1)), tag(4, DOUBLE, 45.25)) == (12.0, 45.25)  # single values
    assert gps(tag(2, SRATIONAL, [(-12, 1), (0, 1), (0, 1)]), lon) is None  # negative parts
    assert gps(tag(2, ASCII, "12.5"), lon) is None


def test_offset_time_variants() -> None:
    def cap(dt: str, off: str | None = None) -> datetime | None:
        tags = [tag(0x9003, ASCII, dt)]
        if off is not None:
            tags.append(tag(0x9011, ASCII, off))
        return exif_only(*tags).capture_time()

    assert cap("2020:01:02 03:04:05", "-05:30") == datetime(2020, 1, 2, 8, 34, 5, tzinfo=UTC)
    assert cap("2020:01:02 03:04:05", "bogus!") == datetime(2020, 1, 2, 3, 4, 5)
    assert cap("2020:01:02 03:04:05", "+99:00") == datetime(2020, 1, 2, 3, 4, 5)
    assert cap("0000:00:00 00:00:00") is None
    assert cap("    :  :     :  :  ") is None
    assert exif_only(tag(0x9003, ASCII, "    :  :     :  :  ")).date_time_original == ":  :     :  :"


# ------------------------------------------------------------------------------------------------
# Hostile blocks
# ------------------------------------------------------------------------------------------------


def test_truncated_ifd_keeps_entries_that_fit() -> None:
    tiff = build_tiff([tag(0x010F, ASCII, "ABC"), tag(0x0112, SHORT, 8), tag(0x9999, SHORT, 1)])
    # claim 500 entries; the block ends after the three real ones (+ next pointer)
    hostile = tiff[:8] + struct.pack("<H", 500) + tiff[10 : 10 + 36]
    e = read_exif(jpeg_with_exif_bytes(hostile))
    assert e.make == "ABC"
    assert e.orientation == 8
    # cut in the middle of the second entry: only the first survives
    e = read_exif(jpeg_with_exif_bytes(tiff[: 10 + 12 + 5]))
    assert e.make == "ABC" and e.orientation is None


def test_truncated_block_everywhere_never_raises() -> None:
    tiff = sample_sd400_tiff()
    for cut in range(len(tiff) + 1):
        e = read_exif(jpeg_with_exif_bytes(tiff[:cut]))
        assert isinstance(e, Exif)
        if cut < 8:
            assert e.is_empty
    full = jpeg_with_exif_bytes(tiff)
    for cut in range(400):
        assert isinstance(read_exif(full[:cut]), Exif)


def test_looping_next_ifd() -> None:
    tiff = build_tiff([tag(0x010F, ASCII, "Loop")], next_ifd=8)  # IFD0 -> IFD0
    assert read_exif(jpeg_with_exif_bytes(tiff)).make == "Loop"


def test_sub_ifd_pointers_looping() -> None:
    # Exif IFD pointer pointing back at IFD0
    e = ifd0_only(tag(0x010F, ASCII, "Self"), tag(0x8769, LONG, 8), tag(0x8825, LONG, 8))
    assert e.make == "Self"
    # Exif IFD whose own next pointer and an inner Exif pointer point at itself / IFD0
    tiff = build_tiff(
        [tag(0x010F, ASCII, "A")],
        [tag(0x9209, SHORT, 1), tag(0x8769, LONG, 8)],
        exif_next_ifd=8,
    )
    e = read_exif(jpeg_with_exif_bytes(tiff))
    assert e.make == "A" and e.flash == 1
    # GPS pointer at the Exif IFD: that IFD is parsed once only
    exif_at = struct.unpack_from("<L", tiff, 10 + 12 * 1 + 8)[0]
    tiff2 = build_tiff([tag(0x010F, ASCII, "B"), tag(0x8825, LONG, exif_at)], [tag(0x9209, SHORT, 7)])
    e = read_exif(jpeg_with_exif_bytes(tiff2))
    assert e.make == "B" and e.flash == 7 and e.gps is None


def test_huge_counts() -> None:
    e = read_exif(
        jpeg_with_exif_bytes(
            build_tiff(
                [
                    tag(0x010F, ASCII, "Real make"),
                    tag(0x0110, ASCII, "x" * 16, count=0xFFFFFFFF),
                    tag(0x0131, RATIONAL, (1, 2), count=0x20000000),  # 8 * count overflows 32 bits
                ],
                [tag(0x9209, SHORT, [1, 2, 3], count=0x7FFFFFFF), tag(0x829A, RATIONAL, (1, 8))],
            )
        )
    )
    assert e.make == "Real make"
    assert e.model is None
    assert e.flash is None
    assert e.exposure_time == 0.125
    assert "Software" not in e.raw


def test_oversized_value_is_skipped() -> None:
    blob = b"\x01" * (1024 * 1024 + 1)
    e = read_exif(
        build_tiff([tag(0x010F, ASCII, "Big"), tag(0x8773, UNDEFINED, blob), tag(0x02BC, UNDEFINED, b"x" * 5000)])
    )
    assert e.make == "Big"
    assert "InterColorProfile" not in e.raw
    assert e.raw["XMLPacket"] == b"x" * 5000


def test_huge_entry_count() -> None:
    tiff = b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 0xFFFF) + b"\x00" * 20
    assert read_exif(jpeg_with_exif_bytes(tiff)).is_empty


def test_offsets_past_the_end() -> None:
    e = read_exif(
        jpeg_with_exif_bytes(
            build_tiff(
                [
                    tag(0x010F, ASCII, "OK"),
                    tag(0x0110, ASCII, "x" * 20, offset=0xFFFFFF00),
                    tag(0x8769, LONG, 0x7FFFFFF0),  # Exif IFD far away
                    tag(0x8825, LONG, 0xFFFFFFFF),
                ]
            )
        )
    )
    assert e.make == "OK" and e.model is None and e.flash is None and e.gps is None
    # IFD0 itself past the end, before the header, or at an odd place inside the header
    for ifd0 in (0xFFFFFFFF, 10_000, 0, 4):
        tiff = b"II*\x00" + struct.pack("<L", ifd0) + sample_sd400_tiff()[8:]
        assert read_exif(jpeg_with_exif_bytes(tiff)).is_empty, ifd0


def test_value_offset_beyond_exif_block_but_inside_file_is_not_read() -> None:
    # The APP1 segment is followed by more JPEG data; a value offset pointing there must be refused.
    tiff = build_tiff([tag(0x010F, ASCII, "Short"), tag(0x0110, ASCII, "y" * 30, offset=400)])
    data = jpeg_with_exif_bytes(tiff, after=[app1_xmp()])
    assert len(tiff) < 400 < len(data)
    e = read_exif(data)
    assert e.make == "Short" and e.model is None


def test_app1_length_longer_than_file() -> None:
    tiff = sample_sd400_tiff()
    seg = b"\xff\xe1" + struct.pack(">H", 0xFFFF) + b"Exif\x00\x00" + tiff
    data = b"\xff\xd8" + seg  # file ends inside the segment
    assert read_exif(data).photolist() == SAMPLE_PHOTOLIST


def test_unknown_types_and_pointer_with_wrong_type() -> None:
    e = ifd0_only(
        tag(0x010F, 99, b"abcd"),
        tag(0x0110, ASCII, "M"),
        tag(0x8769, ASCII, "notanoffset"),
    )
    assert e.make is None and e.model == "M"
    assert "Make" not in e.raw


def test_unknown_tags_get_hex_names() -> None:
    e = read_exif(jpeg_with_exif_bytes(build_tiff([tag(0xC0DE, SLONG, -3)], None, [tag(0x77, SHORT, 1)])))
    assert e.raw["Tag0xC0DE"] == -3
    assert e.raw["GPSTag0x0077"] == 1


def test_many_segments_terminate() -> None:
    seg = b"\xff\xe5\x00\x02"
    data = b"\xff\xd8" + seg * 100_000 + app1_exif(sample_sd400_tiff())
    assert read_exif(data).is_empty  # gave up after the segment cap, quickly


@settings(max_examples=examples(300))
@given(st.data())
def test_fuzz_mutated_exif_never_raises(data: st.DataObject) -> None:
    base = bytearray(jpeg_with_exif_bytes(sample_sd400_tiff(big_endian=data.draw(st.booleans()))))
    start = base.index(b"Exif\x00\x00") + 6
    end = start + len(sample_sd400_tiff())
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(start, end - 1))
        base[pos] = data.draw(st.integers(0, 255))
    e = read_exif(bytes(base))
    assert isinstance(e, Exif)
    e.photolist()
    e.capture_time()
    if e.orientation is not None:
        assert 1 <= e.orientation <= 8
    for name in ("f_number", "exposure_time", "focal_length"):
        v = getattr(e, name)
        assert v is None or (v > 0 and math.isfinite(v))


@settings(max_examples=examples(200))
@given(st.binary(max_size=600), st.sampled_from([b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"Exif\x00\x00II*\x00"]))
def test_fuzz_random_bytes_never_raise(tail: bytes, head: bytes) -> None:
    assert isinstance(read_exif(head + tail), Exif)


# ------------------------------------------------------------------------------------------------
# The three disagreements with ExifTool found on real camera photos (issue 12); test_exiftool.py
# cross-checks the same files with ExifTool itself.
# ------------------------------------------------------------------------------------------------


def test_zero_exposure_time_is_kept() -> None:
    e = exif_only(tag(0x829A, RATIONAL, (0, 10000)))
    assert e.exposure_time == 0.0
    assert e.photolist()["Exposure"] == "0/10000"
    assert exif_only(tag(0x829A, SRATIONAL, (-1, 100))).exposure_time is None  # negative: impossible


@pytest.mark.parametrize("big_endian", [False, True])
def test_exposure_bias_written_as_short4_is_read_as_one_srational(big_endian: bool) -> None:
    shorts = [0, 36, 0, 18] if big_endian else [36, 0, 18, 0]  # the same 8 bytes as SRATIONAL 36/18
    tiff = build_tiff([], [tag(0x9204, SHORT, shorts)], big_endian=big_endian)
    e = read_exif(jpeg_with_exif_bytes(tiff))
    assert e.exposure_bias == 2.0
    assert e.photolist()["ExposureBias"] == "36/18"


def test_exif_ifd_tag_copied_into_ifd0_is_kept_apart() -> None:
    both = build_tiff([tag(0xA404, RATIONAL, (300, 100))], [tag(0xA404, RATIONAL, (100, 100))])
    e = read_exif(jpeg_with_exif_bytes(both))
    assert e.digital_zoom_ratio == 1.0 and e.photolist()["ZoomRatio"] == "100/100"
    assert str(e.raw["IFD0:DigitalZoomRatio"]) == "300/100"
    only_ifd0 = read_exif(jpeg_with_exif_bytes(build_tiff([tag(0xA404, RATIONAL, (300, 100))], [])))
    assert only_ifd0.digital_zoom_ratio is None  # ExifTool's ExifIFD:DigitalZoomRatio is absent too
