"""Benchmark: imgpipe.read_exif against exifread and Pillow's own EXIF reader.

Run:  python benchmarks/bench_exif.py [--repeat N] [--number N]

Files are generated in a temporary folder: camera-like JPEGs of 2, 12 and 24 megapixels (noise, so the
sizes are realistic) with a full camera EXIF block (IFD0, Exif IFD with a 4 KB MakerNote, GPS IFD), and a
12 MP JPEG whose EXIF APP1 sits after an XMP APP1 segment of 1 KB and one of 8 KB (exifread 3.5 only
looks at the first ~4000 bytes after the leading APP0 for the EXIF APP1, so it finds nothing in the
latter; such rows are marked and left out of the verdict). Every reader extracts the same thing
(IFD0 + Exif IFD + GPS IFD):

* ``imgpipe``  -- ``imgpipe.read_exif(path)``
* ``exifread`` -- ``exifread.process_file(open(path, "rb"), details=False)``
* ``pillow``   -- ``Image.open(path).getexif()`` plus ``get_ifd(0x8769)`` and ``get_ifd(0x8825)``

and the same again from in-memory bytes. Medians of ``--repeat`` rounds of ``--number`` calls each are
printed per call (the three readers take turns within each round), with the ratio of each peer to
imgpipe (ratio > 1: imgpipe is faster).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import struct
import sys
import tempfile
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import exifread
import PIL
from PIL import Image, TiffImagePlugin

from imgpipe import read_exif

logging.getLogger("exifread").setLevel(logging.ERROR)

R = TiffImagePlugin.IFDRational


def camera_exif(width: int, height: int) -> Image.Exif:
    e = Image.Exif()
    e[0x010F] = "Canon"
    e[0x0110] = "Canon EOS 5D Mark IV"
    e[0x0112] = 1
    e[0x011A] = R(72, 1)
    e[0x011B] = R(72, 1)
    e[0x0128] = 2
    e[0x0131] = "Firmware Version 1.2.3"
    e[0x0132] = "2021:06:01 12:00:00"
    e[0x013B] = "Jane Photographer"
    e[0x0213] = 2
    e[0x8298] = "Copyright 2021"
    x = e.get_ifd(0x8769)
    x[0x829A] = R(1, 250)
    x[0x829D] = R(56, 10)
    x[0x8822] = 3
    x[0x8827] = 400
    x[0x9000] = b"0231"
    x[0x9003] = "2021:06:01 12:00:00"
    x[0x9004] = "2021:06:01 12:00:00"
    x[0x9010] = "+02:00"
    x[0x9011] = "+02:00"
    x[0x9101] = b"\x01\x02\x03\x00"
    x[0x9201] = R(8, 1)
    x[0x9202] = R(5, 1)
    x[0x9204] = R(0, 1)
    x[0x9205] = R(3, 1)
    x[0x9207] = 5
    x[0x9209] = 16
    x[0x920A] = R(50, 1)
    x[0x927C] = bytes(range(256)) * 16
    x[0x9286] = b"\x00" * 264
    x[0x9290] = "00"
    x[0xA000] = b"0100"
    x[0xA001] = 1
    x[0xA002] = width
    x[0xA003] = height
    x[0xA20E] = R(6000000, 1420)
    x[0xA20F] = R(4000000, 945)
    x[0xA210] = 2
    x[0xA401] = 0
    x[0xA402] = 0
    x[0xA403] = 0
    x[0xA404] = R(1, 1)
    x[0xA406] = 0
    x[0xA431] = "012345678901"
    x[0xA432] = (R(24, 1), R(70, 1), R(0, 1), R(0, 1))
    x[0xA434] = "EF24-70mm f/2.8L II USM"
    g = e.get_ifd(0x8825)
    g[0] = b"\x02\x03\x00\x00"
    g[1] = "N"
    g[2] = (R(48, 1), R(51, 1), R(2964, 100))
    g[3] = "E"
    g[4] = (R(2, 1), R(17, 1), R(4020, 100))
    g[5] = 0
    g[6] = R(35, 1)
    g[7] = (R(10, 1), R(0, 1), R(0, 1))
    g[29] = "2021:06:01"
    return e


def make_camera_jpeg(width: int, height: int) -> bytes:
    noise = Image.effect_noise((width, height), 40)
    im = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=camera_exif(width, height))
    return out.getvalue()


def move_exif_after_xmp(jpeg: bytes, padding: int = 8000) -> bytes:
    """Return ``jpeg`` with an XMP APP1 segment (about ``padding`` bytes) placed before its EXIF APP1."""
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b" " * padding + b"</x:xmpmeta>"
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    xmp = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    pos = 2
    while jpeg[pos + 1] != 0xE1:
        pos += 2 + struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
    return jpeg[:pos] + xmp + jpeg[pos:]


def run_exifread_path(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        return exifread.process_file(f, details=False)


def run_pillow_path(path: str) -> Image.Exif:
    with Image.open(path) as im:
        e = im.getexif()
        e.get_ifd(0x8769)
        e.get_ifd(0x8825)
        return e


def run_pillow_bytes(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as im:
        e = im.getexif()
        e.get_ifd(0x8769)
        e.get_ifd(0x8825)
        return e


def medians_us(fns: Sequence[Callable[[], object]], repeat: int, number: int) -> list[float]:
    """Median microseconds per call of each function; the functions take turns in every round, so
    that a change of machine load during the run affects all of them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for fn in fns:  # warm-up
        fn()
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            times[i].append(timeit.timeit(fn, number=number))
    return [statistics.median(t) / number * 1e6 for t in times]


def check_same(path: str) -> list[str]:
    """Sanity: every reader sees the same key values (so the race is fair); return notes on misses."""
    notes = []
    ours = read_exif(path)
    assert ours.make == "Canon" and ours.gps is not None
    assert ours.date_time_original == "2021:06:01 12:00:00"
    assert abs(ours.f_number - 5.6) < 1e-9  # type: ignore[operator]
    tags = run_exifread_path(path)
    if str(tags.get("Image Make")) != "Canon" or "GPS GPSLatitude" not in tags:
        notes.append(f"exifread found {len(tags)} tags (no EXIF) in {os.path.basename(path)}")
    pil = run_pillow_path(path)
    if pil.get(0x010F) != "Canon":
        notes.append(f"Pillow found no EXIF in {os.path.basename(path)}")
    return notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--number", type=int, default=200)
    args = ap.parse_args()

    cases: dict[str, bytes] = {}
    for label, (w, h) in {"2MP": (1632, 1224), "12MP": (4000, 3000), "24MP": (6000, 4000)}.items():
        cases[label] = make_camera_jpeg(w, h)
    cases["12MP xmp1K+exif"] = move_exif_after_xmp(cases["12MP"], 1000)
    cases["12MP xmp8K+exif"] = move_exif_after_xmp(cases["12MP"], 8000)

    print(f"python {sys.version.split()[0]}, exifread {exifread.__version__}, Pillow {PIL.__version__}")
    print(f"median per call over {args.repeat} x {args.number} calls; ratio = peer time / imgpipe time\n")
    header = (
        f"{'file':26} {'src':5} {'imgpipe us':>11} {'exifread us':>12} {'pillow us':>10}"
        f" {'exifread/x':>11} {'pillow/x':>9}"
    )
    print(header)
    print("-" * len(header))
    worst = float("inf")
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, data in cases.items():
            path = os.path.join(tmp, label.replace(" ", "_") + ".jpg")
            Path(path).write_bytes(data)
            file_notes = check_same(path)
            notes += file_notes
            exifread_missed = any(n.startswith("exifread") for n in file_notes)
            rows = {
                "path": (
                    lambda path=path: read_exif(path),
                    lambda path=path: run_exifread_path(path),
                    lambda path=path: run_pillow_path(path),
                ),
                "bytes": (
                    lambda data=data: read_exif(data),
                    lambda data=data: exifread.process_file(io.BytesIO(data), details=False),
                    lambda data=data: run_pillow_bytes(data),
                ),
            }
            for src, (ours, er, pil) in rows.items():
                t_ours, t_er, t_pil = medians_us((ours, er, pil), args.repeat, args.number)
                if not exifread_missed:
                    worst = min(worst, t_er / t_ours)
                size = f"{label} ({len(data) / 1e6:.1f}MB)" if src == "path" else ""
                er_ratio = "missed" if exifread_missed else f"{t_er / t_ours:.1f}x"
                print(
                    f"{size:26} {src:5} {t_ours:11.1f} {t_er:12.1f} {t_pil:10.1f} {er_ratio:>11} {t_pil / t_ours:8.1f}x"
                )
    for note in notes:
        print("note:", note)
    verdict = "OK" if worst >= 1.0 else "FAIL"
    print(f"\nrequirement read_exif at least as fast as exifread(details=False): {verdict} (worst ratio {worst:.1f}x)")


if __name__ == "__main__":
    main()
