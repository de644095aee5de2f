"""Cross-check imgpipe._exif.read_exif against ExifTool on generated files.

ExifTool (Debian/Ubuntu package ``libimage-exiftool-perl``) is the reference reader. It runs once,
on every generated file at the same time (``exiftool -j -n -a -G1 FILES``: every tag with the IFD it came
from, as imgpipe keeps IFD0 and the Exif IFD apart); each case compares make, model,
DateTimeOriginal, orientation, flash, FNumber, ExposureTime, ExposureCompensation, FocalLength,
DigitalZoomRatio, the signed GPS position and the PhotoList Aperture (as ExifTool's composite Aperture).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgpipe._exif import Exif, read_exif
from tests.imgpipe._jpegs import (
    ASCII,
    DOUBLE,
    RATIONAL,
    SHORT,
    SRATIONAL,
    SSHORT,
    app1_xmp,
    build_tiff,
    exif_for,
    jpeg_with_exif_bytes,
    make_jpeg,
    sample_sd400_tiff,
    tag,
)

EXIFTOOL = shutil.which("exiftool")
pytestmark = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="exiftool not found: install it (apt-get install libimage-exiftool-perl) to run this cross-check",
)


def _pillow(fmt: str, exif: Image.Exif) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 8), (5, 6, 7)).save(out, fmt, exif=exif)
    return out.getvalue()


CASES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "pillow-full": lambda: (
        "jpg",
        make_jpeg(
            24,
            16,
            exif={
                0x010F: "NIKON CORPORATION",
                0x0110: "NIKON D70",
                0x829A: 1 / 125,
                0x829D: 5.6,
                0x9003: "2010:07:14 09:08:07",
                0x9204: -1 / 3,
                0x9209: 16,
                0x920A: 35.0,
                0xA404: 1.5,
            },
            orientation=6,
            gps=(48.858222, 2.2945),
        ),
    ),
    "pillow-south-west": lambda: (
        "jpg",
        make_jpeg(
            8,
            8,
            exif={0x010F: "Apple", 0x0110: "iPhone 6", 0x829A: 1 / 3000, 0x829D: 2.2, 0x920A: 4.15},
            orientation=8,
            gps=(-22.951916, -43.210487, 700.0),
        ),
    ),
    "sample-le": lambda: ("jpg", jpeg_with_exif_bytes(sample_sd400_tiff())),
    "sample-be": lambda: ("jpg", jpeg_with_exif_bytes(sample_sd400_tiff(big_endian=True))),
    "after-xmp": lambda: ("jpg", jpeg_with_exif_bytes(sample_sd400_tiff(), before=[app1_xmp()])),
    "padded-strings": lambda: (
        "jpg",
        jpeg_with_exif_bytes(
            build_tiff(
                [tag(0x010F, ASCII, b"FUJIFILM   \x00\x00\x00"), tag(0x0110, ASCII, b"X100V\x00\x00\x00\x00")],
                [tag(0x9003, ASCII, b"2021:01:01 00:00:01\x00")],
            )
        ),
    ),
    "unusual-types": lambda: (
        "jpg",
        jpeg_with_exif_bytes(
            build_tiff(
                [tag(0x010F, ASCII, "Odd")],
                [
                    tag(0x920A, SHORT, 50),
                    tag(0x829D, SHORT, 4),
                    tag(0x9204, SSHORT, -1),
                    tag(0x829A, SRATIONAL, (1, 60)),
                    tag(0xA404, DOUBLE, 2.0),
                    tag(0x9209, SHORT, 0),
                ],
                [
                    tag(1, ASCII, "N"),
                    tag(2, RATIONAL, [(51, 1), (3035, 100), (0, 1)]),
                    tag(3, ASCII, "W"),
                    tag(4, RATIONAL, [(0, 1), (738, 100), (0, 1)]),
                ],
                big_endian=True,
            )
        ),
    ),
    # The three disagreements issue 12 found on real camera photos:
    "zero-exposure": lambda: (
        "jpg",
        jpeg_with_exif_bytes(build_tiff([tag(0x010F, ASCII, "Zero")], [tag(0x829A, RATIONAL, (0, 10000))])),
    ),
    "bias-short4-le": lambda: (
        "jpg",
        jpeg_with_exif_bytes(build_tiff([tag(0x010F, ASCII, "Firmware")], [tag(0x9204, SHORT, [36, 0, 18, 0])])),
    ),
    "bias-short4-be": lambda: (
        "jpg",
        jpeg_with_exif_bytes(
            build_tiff([tag(0x010F, ASCII, "Firmware")], [tag(0x9204, SHORT, [0, 36, 0, 18])], big_endian=True)
        ),
    ),
    "zoom-in-ifd0-too": lambda: (
        "jpg",
        jpeg_with_exif_bytes(
            build_tiff(
                [tag(0x010F, ASCII, "Twice"), tag(0xA404, RATIONAL, (300, 100))],
                [tag(0xA404, RATIONAL, (100, 100)), tag(0x829D, RATIONAL, (28, 10))],
            )
        ),
    ),
    "png": lambda: ("png", _pillow("PNG", exif_for({0x010F: "PngCam", 0x9209: 1}, orientation=3))),
    "webp": lambda: ("webp", _pillow("WEBP", exif_for({0x010F: "WebCam", 0x829D: 8.0}, gps=(1.25, 2.5)))),
    "no-exif": lambda: ("jpg", make_jpeg(8, 8)),
}


@pytest.fixture(scope="module")
def exiftool_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Exif, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("exiftool")
    paths: dict[str, Path] = {}
    for name, make in CASES.items():
        ext, data = make()
        p = folder / f"{name}.{ext}"
        p.write_bytes(data)
        paths[name] = p
    assert EXIFTOOL is not None
    proc = subprocess.run(
        [EXIFTOOL, "-j", "-n", "-a", "-G1", *map(str, paths.values())], capture_output=True, check=False, timeout=120
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: some file had only warnings
    by_file = {Path(d["SourceFile"]).name: d for d in json.loads(proc.stdout)}
    return {name: (read_exif(p), by_file[p.name]) for name, p in paths.items()}


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_exiftool(case: str, exiftool_results: dict[str, tuple[Exif, dict[str, Any]]]) -> None:
    ours, grouped = exiftool_results[case]
    ifd0 = {k.removeprefix("IFD0:"): v for k, v in grouped.items() if k.startswith("IFD0:")}
    ref = {k.removeprefix("ExifIFD:"): v for k, v in grouped.items() if k.startswith("ExifIFD:")}
    assert ours.make == _text(ifd0.get("Make"))
    assert ours.model == _text(ifd0.get("Model"))
    assert ours.orientation == ifd0.get("Orientation")
    assert ours.date_time_original == _text(ref.get("DateTimeOriginal"))
    assert ours.flash == ref.get("Flash")
    for field, key in (
        ("f_number", "FNumber"),
        ("exposure_time", "ExposureTime"),
        ("exposure_bias", "ExposureCompensation"),
        ("focal_length", "FocalLength"),
        ("digital_zoom_ratio", "DigitalZoomRatio"),
    ):
        value = getattr(ours, field)
        if key in ref and ref[key] != "":
            assert value == pytest.approx(float(ref[key]), rel=1e-6, abs=1e-9), field
        else:  # absent, or "" where ExifTool cannot read the tag in its standard format
            assert value is None, field
    # The PhotoList Aperture (APEX, as stored or derived from FNumber) is ExifTool's Aperture.
    aperture = ours.photolist()["Aperture"]
    if "Composite:Aperture" in grouped:
        assert aperture is not None
        num, den = map(int, aperture.split("/"))
        assert 2 ** (num / den / 2) == pytest.approx(float(grouped["Composite:Aperture"]), rel=0.01)
    else:
        assert aperture is None
    if "Composite:GPSLatitude" in grouped and "Composite:GPSLongitude" in grouped:
        assert ours.gps is not None
        lat, lon = float(grouped["Composite:GPSLatitude"]), float(grouped["Composite:GPSLongitude"])
        assert ours.gps == pytest.approx((lat, lon), abs=1e-7)
    else:
        assert ours.gps is None


def test_every_case_has_data(exiftool_results: dict[str, tuple[Exif, dict[str, Any]]]) -> None:
    """Guard against a vacuous comparison: all but the no-EXIF case carry a make."""
    for name, (ours, ref) in exiftool_results.items():
        assert (ours.make is None) == (name == "no-exif"), name
        assert ("IFD0:Make" in ref) == (name != "no-exif"), name
    # the IFD0 copy of DigitalZoomRatio is there, and is not what either reader reports
    ours, ref = exiftool_results["zoom-in-ifd0-too"]
    assert ref["IFD0:DigitalZoomRatio"] == 3 and ref["ExifIFD:DigitalZoomRatio"] == 1
    assert ours.digital_zoom_ratio == 1.0 and str(ours.raw["IFD0:DigitalZoomRatio"]) == "300/100"
