#!/usr/bin/env python
"""Compare imgpipe's rendition pipeline with naive Pillow and pyvips, in one process, on the same JPEGs.

Test images: a corpus built like the ~150 real camera photos of issue 12, scaled to 30 camera-like JPEGs
(smooth colour fields, shapes, texture and sensor-like noise, so that entropy decoding costs what it costs
on real photos; EXIF with make, model, dates, GPS): 15 under 1 MP, 10 of 1-8 MP, 5 of 8-22 MP; 8 with an
EXIF orientation other than 1 (every one of 2-8); 3 with a non-sRGB ICC profile (Apple "Generic RGB"-like,
a camera's Adobe RGB-like, and one CMYK file separated through Ghostscript's SWOP-like CMYK profile, from
Debian's ``libgs-common``; without it that file is CMYK without a profile, said when generated); 2
progressive. Names say the size class (S/M/L), size, orientation, profile. Generated once and cached
(``--cache``, default ``$TMPDIR/imgpipe-bench-v2``). ``--photos DIR`` adds your own photos
(``*.jpg``/``*.jpeg``/``*.png``/``*.webp``, recursively).

Contenders (each gets the file's bytes in memory; disk I/O is not timed):

* ``naive-pillow``: open, ``ImageOps.exif_transpose``, ``thumbnail((480, 480))``, convert to RGB if
  it is not (CMYK), save q85, ``thumbnail((96, 96))``, save q85.
* ``pyvips-2x`` / ``pyvips-chain``: ``thumbnail_buffer`` (shrink-on-load, auto-rotate) to 480 and to 96
  from the original, or 96 from the 480 result; JPEG Q=85. vips's own thread pool is set to 1 thread
  (``pyvips.concurrency_set(1)``) so that "threads" means the same for everybody. Optional: install with
  ``pip install pyvips pyvips-binary``; skipped with the reason when missing.
* ``imgpipe``: ``imgpipe.process_image(data)`` with ``YAHOO_RENDITIONS`` -- thumb, screen *and full*
  (full is the original file, whatever its orientation or profile), plus SHA-256 and EXIF parsing.
* ``imgpipe-2`` : the same with thumb + screen only: the same outputs as the peers.
* ``floor``: not a contender: open and decode at the DCT scale imgpipe uses for the screen (``Image.draft``
  to 1/8, 1/4, 1/2, or a full decode for small photos), nothing else. DCT scaling does
  not shorten entropy decoding, so no thumbnailer built on libjpeg-turbo decodes a JPEG faster; it
  shows how much of each contender's time is left to win. No MAD (it makes no screen image).

Throughput: the image list (twice over) is processed by a ``ThreadPoolExecutor`` of 1 and of 2 threads;
images/s are medians over ``--repeats``; contenders run round-robin inside each repeat so that machine
noise hits everyone alike. Per-image times are medians of the 1-thread runs.

``--order`` sets the order of the list, the same for everybody: ``shuffled`` (default, a fixed seed),
``ascending`` or ``descending`` pixel count. Contenders that decode at full size (naive Pillow) allocate 48-96
MB per image, and their speed depends on whether that memory is new to the process (page faults) or reused,
which depends on what ran before: naive Pillow measured 5.1 to 6.5 images/s with the same images in different
orders and next to different contenders. Compare contenders within one run, and repeat with other orders
before trusting a ratio.

Quality: MAD = mean absolute difference (0..255, averaged over RGB) between each contender's screen
image and a colour-managed reference: a full-resolution decode, its embedded ICC profile (RGB or CMYK)
converted to sRGB with LittleCMS (perceptual intent), orientation applied, resized with LANCZOS to the
same size. Naive Pillow and pyvips's thumbnail ignore embedded profiles, so their MAD on the profiled
images measures colour management, not resampling.

Printed in one run: images/s at 1 and 2 threads (medians), per image wall/CPU ms, images/s by size
class, issue 12's ratios (imgpipe / naive Pillow, imgpipe / best pyvips variant, 2 threads / 1, mean
MAD), and the screen rendition as JPEG q85, WebP q80 and AVIF q60/q50 (bytes, MAD, encode ms;
``--no-formats`` skips it).

Usage (from the repository root)::

    python benchmarks/compare_pipelines.py              # 30 images, 5 repeats (~5 min on an idle machine)
    python benchmarks/compare_pipelines.py --quick      # 7 of them, 2 repeats
    python benchmarks/compare_pipelines.py --photos ~/Pictures/sample --repeats 3
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageOps, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import imgpipe
from imgpipe._pipeline import dct_scale  # the scale the floor row decodes at: imgpipe's own

GEN_VERSION = 2
R = Image.Resampling


# ---------------------------------------------------------------------------------------------------
# Test images
# ---------------------------------------------------------------------------------------------------


def photo_like(width: int, height: int, seed: int) -> Image.Image:
    """A deterministic RGB image with the statistics of a photo: smooth colour gradients, hard-edged
    shapes, blurred mid-frequency texture, and fine per-channel noise."""
    rnd = random.Random(seed)
    field_ = Image.frombytes("RGB", (12, 8), rnd.randbytes(12 * 8 * 3))
    im = field_.resize((width, height), R.BICUBIC)
    draw = ImageDraw.Draw(im)
    for _ in range(40):  # buildings, poles, horizons: edges the resampler has to keep
        x, y = rnd.randrange(width), rnd.randrange(height)
        w, h = rnd.randrange(width // 40, width // 5), rnd.randrange(height // 40, height // 4)
        colour = tuple(rnd.randrange(30, 230) for _ in range(3))
        if rnd.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:
            draw.line((x, y, x + w, y + h), fill=colour, width=rnd.randrange(2, 12))
    tw, th = max(1, width // 4), max(1, height // 4)
    tex = Image.new("L", (tw, th), 128)
    tdraw = ImageDraw.Draw(tex)
    for _ in range(tw * th // 2000):  # foliage/gravel-like texture
        x, y, r = rnd.randrange(tw), rnd.randrange(th), rnd.randrange(2, 24)
        tdraw.ellipse((x, y, x + r, y + r // 2 + 1), fill=rnd.randrange(95, 165))
    tex = tex.filter(ImageFilter.GaussianBlur(1.0)).resize((width, height), R.BILINEAR)
    channels = []
    for channel in im.split():
        noise = Image.frombytes("L", (width, height), rnd.randbytes(width * height))
        noise = noise.point(lambda v: 128 + (v - 128) * 0.09)  # uniform, sd ~6.6 levels
        channel = ImageChops.add(channel, tex, 1.0, -128)
        channels.append(ImageChops.add(channel, noise, 1.0, -128))
    return Image.merge("RGB", channels)


def camera_exif(orientation: int, seed: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    exif[0x0110] = "BC-24 Mark II"
    exif[0x0132] = "2024:05:17 10:21:33"
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:17 10:21:33"
    sub[0x829A] = 1 / 250
    sub[0x829D] = 5.6
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 24.0 + seed % 10)
    gps[3] = "E"
    gps[4] = (2.0, 21.0, 3.0)
    return exif


def _colorants_d50(
    primaries: tuple[tuple[float, float], ...], white: tuple[float, float]
) -> tuple[tuple[float, float, float], ...]:
    """ICC rXYZ/gXYZ/bXYZ (D50, Bradford-adapted) of an RGB space given by its xy primaries and white."""

    def xyz(x: float, y: float) -> list[float]:
        return [x / y, 1.0, (1 - x - y) / y]

    def solve(m: list[list[float]], v: list[float]) -> list[float]:  # Cramer's rule, 3x3
        def det(a: list[list[float]]) -> float:
            return (
                a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
            )

        d = det(m)
        return [det([[v[r] if c == k else m[r][c] for c in range(3)] for r in range(3)]) / d for k in range(3)]

    cols = [xyz(*p) for p in primaries]
    m = [[cols[c][r] for c in range(3)] for r in range(3)]
    w = xyz(*white)
    scale = solve(m, w)
    cols = [[v * scale[c] for v in cols[c]] for c in range(3)]
    bradford = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
    inverse = [
        [0.9869929, -0.1470543, 0.1599627],
        [0.4323053, 0.5183603, 0.0492912],
        [-0.0085287, 0.0400428, 0.9684867],
    ]

    def mul(a: list[list[float]], v: list[float]) -> list[float]:
        return [sum(a[r][k] * v[k] for k in range(3)) for r in range(3)]

    src, dst = mul(bradford, w), mul(bradford, [0.9642, 1.0, 0.8249])
    return tuple(tuple(mul(inverse, [dst[i] / src[i] * v for i, v in enumerate(mul(bradford, c))])) for c in cols)  # type: ignore[misc]


# Apple's "Generic RGB" (the Apple RGB primaries, D65, gamma 1.8) and a camera's Adobe RGB (1998).
GENERIC_RGB = (
    "Generic RGB-like",
    _colorants_d50(((0.625, 0.340), (0.280, 0.595), (0.155, 0.070)), (0.3127, 0.3290)),
    1.8,
)
CAMERA_RGB = (
    "Camera Adobe RGB-like",
    _colorants_d50(((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), (0.3127, 0.3290)),
    563 / 256,
)
# A SWOP-like press profile: Ghostscript's default CMYK profile (Debian: apt-get install libgs-common).
SWOP_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


@dataclass(frozen=True)
class Sample:
    name: str
    size: tuple[int, int]
    orientation: int = 1
    progressive: bool = False
    profile: str | None = None  # "generic", "camera" or "swop" (CMYK)


def _corpus() -> tuple[Sample, ...]:
    """A corpus built like issue 12's 150 real photos, scaled to 30: half under 1 MP, a third 1-8 MP, a
    fifth 8-22 MP; one in five rotated with every orientation 2-8; one in ten with a non-sRGB profile
    (Generic RGB, camera RGB, one CMYK with a SWOP-like profile); two progressive."""
    small = [
        (640, 480),
        (800, 600),
        (1024, 768),
        (960, 720),
        (1152, 864),
        (720, 960),
        (800, 533),
        (1000, 750),
        (1080, 810),
        (600, 800),
        (1024, 683),
        (900, 675),
        (1200, 800),
        (768, 1024),
        (1100, 825),
    ]
    medium = [
        (1600, 1200),
        (2048, 1536),
        (2592, 1944),
        (3264, 2448),
        (1920, 1280),
        (2448, 3264),
        (2816, 2112),
        (3000, 2000),
        (2272, 1704),
        (1500, 2000),
    ]
    large = [(4032, 3024), (4608, 3456), (5472, 3648), (6000, 3600), (3024, 4032)]
    sizes = small + medium + large
    orientation = {1: 6, 4: 8, 9: 3, 15: 2, 18: 5, 21: 7, 25: 4, 27: 6}  # all of 2-8, 8 of 30 rotated or flipped
    profile = {6: "generic", 17: "camera", 26: "swop"}
    progressive = {12, 23}
    out = []
    for i, size in enumerate(sizes):
        mp = size[0] * size[1] / 1e6
        cls = "S" if mp < 1 else "M" if mp < 8 else "L"
        tag = "".join(
            f"-{x}"
            for x in (
                f"o{orientation[i]}" if i in orientation else "",
                profile.get(i, ""),
                "prog" if i in progressive else "",
            )
            if x
        )
        out.append(
            Sample(
                f"{cls}{i:02d}-{size[0]}x{size[1]}{tag}", size, orientation.get(i, 1), i in progressive, profile.get(i)
            )
        )
    return tuple(out)


SAMPLES = _corpus()
QUICK = tuple(s.name for i, s in enumerate(SAMPLES) if i in (0, 1, 6, 15, 17, 25, 26))


def _profile_bytes(kind: str) -> bytes | None:
    from tests.imgpipe._images import rgb_icc_profile

    if kind == "swop":
        return SWOP_PROFILE.read_bytes() if SWOP_PROFILE.exists() else None
    desc, colorants, gamma = GENERIC_RGB if kind == "generic" else CAMERA_RGB
    return rgb_icc_profile(colorants, gamma, desc)


def make_samples(cache: Path, names: tuple[str, ...] | None) -> dict[str, bytes]:
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, bytes] = {}
    for i, s in enumerate(SAMPLES):
        if names is not None and s.name not in names:
            continue
        path = cache / f"{s.name}.jpg"
        if not path.exists():
            t0 = time.perf_counter()
            im = photo_like(*s.size, seed=100 + i)
            icc = _profile_bytes(s.profile) if s.profile else None
            if s.profile == "swop":
                if icc is not None:  # separate as a press would: sRGB -> the SWOP-like profile
                    im = ImageCms.profileToProfile(
                        im, ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(icc)), outputMode="CMYK"
                    )
                else:
                    print(f"  no {SWOP_PROFILE} (apt-get install libgs-common): {s.name} is CMYK without a profile")
                    im = im.convert("CMYK")
            buf = io.BytesIO()
            im.save(
                buf, "JPEG", quality=92, progressive=s.progressive, exif=camera_exif(s.orientation, i), icc_profile=icc
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(buf.getvalue())
            tmp.replace(path)
            print(f"  generated {path.name} ({len(buf.getvalue()) / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        out[s.name] = path.read_bytes()
    return out


def user_photos(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") and p.is_file():
            out[f"photo:{p.relative_to(folder)}"] = p.read_bytes()
    return out


# ---------------------------------------------------------------------------------------------------
# Contenders: each takes the file's bytes and returns (screen image bytes, all output bytes sizes)
# ---------------------------------------------------------------------------------------------------

Runner = Callable[[bytes], "bytes | None"]  # returns the screen rendition's encoded bytes


def naive_pillow(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        img = ImageOps.exif_transpose(im)
    img.thumbnail((480, 480))
    if img.mode not in ("RGB", "L"):  # CMYK: make the thumbnails RGB like everybody else's
        img = img.convert("RGB")
    screen = io.BytesIO()
    img.save(screen, "JPEG", quality=85)
    img.thumbnail((96, 96))
    img.save(io.BytesIO(), "JPEG", quality=85)
    return screen.getvalue()


def decode_floor(data: bytes) -> None:
    """Decode only, at the DCT scale imgpipe uses for a 480 screen (1/8, 1/4, 1/2 or none)."""
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        tw, th = imgpipe.fit_within(w, h, 480, 480)
        scale = dct_scale(w, h, tw, th)
        if scale > 1:
            im.draft(im.mode, (max(1, w // scale), max(1, h // scale)))
        im.load()


def imgpipe_yahoo(data: bytes) -> bytes:
    return imgpipe.process_image(data).rendition("screen").data


_TWO = tuple(s for s in imgpipe.YAHOO_RENDITIONS if s.type != "full")


def imgpipe_two(data: bytes) -> bytes:
    return imgpipe.process_image(data, _TWO).rendition("screen").data


def vips_contenders() -> tuple[dict[str, Runner], str]:
    try:
        import pyvips  # type: ignore[import-not-found,unused-ignore]
    except Exception as exc:  # ImportError, or OSError when libvips is missing
        return {}, f"pyvips not available ({type(exc).__name__}: {exc}); pip install pyvips pyvips-binary"
    pyvips.concurrency_set(1)
    pyvips.cache_set_max(0)

    def two_thumbnails(data: bytes) -> bytes:
        screen = pyvips.Image.thumbnail_buffer(data, 480, height=480).jpegsave_buffer(Q=85)
        pyvips.Image.thumbnail_buffer(data, 96, height=96).jpegsave_buffer(Q=85)
        return bytes(screen)

    def chained(data: bytes) -> bytes:
        img = pyvips.Image.thumbnail_buffer(data, 480, height=480).copy_memory()
        screen = img.jpegsave_buffer(Q=85)
        img.thumbnail_image(96, height=96).jpegsave_buffer(Q=85)
        return bytes(screen)

    version = f"pyvips {pyvips.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    return {"pyvips-2x": two_thumbnails, "pyvips-chain": chained}, version


# ---------------------------------------------------------------------------------------------------
# Quality
# ---------------------------------------------------------------------------------------------------


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class References:
    def __init__(self, images: dict[str, bytes]) -> None:
        self.images = images
        self._full: dict[str, Image.Image] = {}

    def full(self, name: str) -> Image.Image:
        """Colour-managed: the embedded ICC profile (RGB or CMYK) converted to sRGB, perceptual intent,
        then the EXIF orientation applied, at full resolution."""
        if name not in self._full:
            with Image.open(io.BytesIO(self.images[name])) as im:
                im.load()
                icc = im.info.get("icc_profile")
                img = ImageOps.exif_transpose(im)
            if icc:
                img = ImageCms.profileToProfile(
                    img,
                    ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                    _SRGB,
                    renderingIntent=ImageCms.Intent.PERCEPTUAL,
                    outputMode="RGB",
                )
            if img.mode != "RGB":
                img = img.convert("RGB")
            self._full = {name: img}  # keep one: 24 MP references are large
        return self._full[name]

    def mad(self, name: str, screen: bytes) -> float:
        with Image.open(io.BytesIO(screen)) as f:
            got = f.convert("RGB")
        ref = self.full(name).resize(got.size, R.LANCZOS)
        return sum(ImageStat.Stat(ImageChops.difference(got, ref)).mean) / 3


# ---------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    rates: dict[int, list[float]] = field(default_factory=dict)  # threads -> images/s per repeat
    per_image: dict[str, list[float]] = field(default_factory=dict)  # 1-thread seconds per call
    cpu: dict[str, list[float]] = field(default_factory=dict)  # 1-thread CPU seconds per call
    mad: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def run_once(fn: Runner, work: list[tuple[str, bytes]], pool: ThreadPoolExecutor | None, res: Result) -> float:
    if pool is None:
        t0 = time.perf_counter()
        for name, data in work:
            s, c = time.perf_counter(), time.process_time()  # all threads: vips works in its own
            fn(data)
            res.cpu.setdefault(name, []).append(time.process_time() - c)
            res.per_image.setdefault(name, []).append(time.perf_counter() - s)
        return len(work) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    list(pool.map(lambda item: fn(item[1]), work))
    return len(work) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="7 of the 30 images, 2 repeats")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5, quick 2)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--photos", type=Path, help="also run on the photos in this folder")
    ap.add_argument("--only-photos", action="store_true", help="skip the generated images")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / f"imgpipe-bench-v{GEN_VERSION}")
    ap.add_argument("--contenders", default=None, help="comma-separated subset of contender names")
    ap.add_argument(
        "--order",
        choices=("shuffled", "ascending", "descending"),
        default="shuffled",
        help="order of the images in each run (default: shuffled with a fixed seed); see above",
    )
    ap.add_argument(
        "--pillow-blocks",
        type=int,
        default=0,
        help="Image.core.set_blocks_max(N) for everybody: keep N freed 16 MB blocks instead of "
        "returning them to the OS (fewer page faults for full-resolution work); default 0 = Pillow's default",
    )
    ap.add_argument("--no-formats", action="store_true", help="skip the screen JPEG/WebP/AVIF comparison")
    args = ap.parse_args(argv)
    if args.pillow_blocks:
        Image.core.set_blocks_max(args.pillow_blocks)
    repeats = args.repeats or (2 if args.quick else 5)
    threads = [int(t) for t in args.threads.split(",")]

    print(
        f"Python {platform.python_version()}, Pillow {Image.__version__}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Pillow blocks_max {Image.core.get_blocks_max()}, load average {os.getloadavg()[0]:.2f}"
    )
    images: dict[str, bytes] = {}
    if not args.only_photos:
        print(f"test images (cache: {args.cache})")
        images.update(make_samples(args.cache, QUICK if args.quick else None))
    if args.photos:
        images.update(user_photos(args.photos))
    if not images:
        print("no images")
        return 1
    pixels: dict[str, int] = {}
    for name, data in images.items():
        with Image.open(io.BytesIO(data)) as im:
            print(f"  {name:<20} {im.size[0]}x{im.size[1]} {im.mode:<5} {len(data) / 1e6:5.1f} MB")
            pixels[name] = im.width * im.height

    contenders: dict[str, Runner] = {"naive-pillow": naive_pillow}
    vips, vips_note = vips_contenders()
    contenders.update(vips)
    contenders["imgpipe"] = imgpipe_yahoo
    contenders["imgpipe-2"] = imgpipe_two
    contenders["floor"] = decode_floor
    print(vips_note if vips else f"SKIPPED pyvips: {vips_note}")
    if args.contenders:
        keep = set(args.contenders.split(","))
        contenders = {k: v for k, v in contenders.items() if k in keep}

    results = {name: Result() for name in contenders}
    refs = References(images)
    print("quality (screen MAD vs colour-managed full-decode LANCZOS reference) ...")
    for img_name, data in images.items():
        for name, fn in contenders.items():
            try:
                screen = fn(data)
                if screen is not None:
                    results[name].mad[img_name] = refs.mad(img_name, screen)
            except Exception as exc:  # a contender that cannot read an input is reported, not fatal
                results[name].error = f"{img_name}: {type(exc).__name__}: {exc}"
    refs = None  # type: ignore[assignment]

    order = sorted(images, key=pixels.__getitem__, reverse=args.order == "descending")
    if args.order == "shuffled":
        random.Random(0).shuffle(order)
    work = [(n, images[n]) for n in order] * 2
    pools = {t: (ThreadPoolExecutor(t) if t > 1 else None) for t in threads}
    print(
        f"timing: {len(work)} images per run ({args.order}: {', '.join(order)}), {repeats} repeats, "
        f"threads {threads} ..."
    )
    t_start = time.perf_counter()
    for _ in range(repeats):
        for name, fn in contenders.items():
            if results[name].error:
                continue
            for t in threads:
                rate = run_once(fn, work, pools[t], results[name])
                results[name].rates.setdefault(t, []).append(rate)
    for pool in pools.values():
        if pool is not None:
            pool.shutdown()
    print(f"  ({time.perf_counter() - t_start:.0f} s)")

    med = {n: {t: statistics.median(r.rates[t]) for t in r.rates} for n, r in results.items()}
    names = list(images)
    # CPU-time throughput of the 1-thread runs: robust to other processes sharing the machine.
    cpu_rate = {
        n: len(names) / sum(statistics.median(r.cpu[i]) for i in names)
        for n, r in results.items()
        if not r.error and r.cpu
    }
    print(f"\nload average now {os.getloadavg()[0]:.2f} (wall-clock figures are only meaningful near 0)")
    head = f"{'contender':<14}" + "".join(f"{f'{t} thr img/s':>13}" for t in threads)
    head += f"{'scaling':>9}{'1 thr CPU img/s':>17}{'mean MAD':>10}{'max MAD':>9}"
    print(head)
    for name, r in results.items():
        if r.error:
            print(f"{name:<14} ERROR {r.error}")
            continue
        line = f"{name:<14}" + "".join(f"{med[name][t]:>13.2f}" for t in threads)
        scale = med[name][threads[-1]] / med[name][threads[0]] if len(threads) > 1 else 1.0
        mads = list(r.mad.values())
        cpu = f"{cpu_rate[name]:.2f}" if name in cpu_rate else "-"
        mad_cells = f"{statistics.fmean(mads):>10.3f}{max(mads):>9.3f}" if mads else f"{'-':>10}{'-':>9}"
        line += f"{scale:>8.2f}x{cpu:>17}{mad_cells}"
        print(line)

    print("\nper image, 1 thread: wall ms / CPU ms (medians) / screen MAD")
    print(f"{'':<14}" + "".join(f"{n[:21]:>22}" for n in names))
    for name, r in results.items():
        if r.error or not r.per_image:
            continue
        cells = [
            f"{statistics.median(r.per_image[n]) * 1000:.0f} / {statistics.median(r.cpu[n]) * 1000:.0f} / "
            + (f"{r.mad[n]:.3f}" if n in r.mad else "-")
            for n in names
        ]
        print(f"{name:<14}" + "".join(f"{c:>22}" for c in cells))

    classes = {"S": "<1 MP", "M": "1-8 MP", "L": "8-22 MP"}
    present = [c for c in classes if any(n[0] == c for n in names)]
    if present and all(n[0] in classes for n in names if not n.startswith("photo:")):
        print("\nby size class, 1 thread: images/s from the per-image medians (wall)")
        print(f"{'':<14}" + "".join(f"{classes[c] + f' ({sum(n[0] == c for n in names)})':>16}" for c in present))
        for name, r in results.items():
            if r.error or not r.per_image:
                continue
            cells = [
                len([n for n in names if n[0] == c])
                / sum(statistics.median(r.per_image[n]) for n in names if n[0] == c)
                for c in present
            ]
            print(f"{name:<14}" + "".join(f"{v:>16.1f}" for v in cells))

    vips_names = [n for n in med if n.startswith("pyvips") and not results[n].error]
    if "imgpipe" in med and "naive-pillow" in med:
        best = max(vips_names, key=lambda n: med[n][threads[0]]) if vips_names else None
        print("\nissue 12's targets (1 thread unless said):")
        print(
            f"  imgpipe / naive Pillow       {med['imgpipe'][threads[0]] / med['naive-pillow'][threads[0]]:.2f}x"
            "   (goal >= 2x)"
        )
        if best:
            print(
                f"  imgpipe / best pyvips ({best}) {med['imgpipe'][threads[0]] / med[best][threads[0]]:.2f}x"
                "   (goal >= 1.3x)"
            )
        if len(threads) > 1:
            for n in ("imgpipe", "naive-pillow", *([best] if best else [])):
                print(
                    f"  {n:<14} {threads[-1]} threads / 1: {med[n][threads[-1]] / med[n][threads[0]]:.2f}x"
                    + ("   (goal >= 1.8x)" if n == "imgpipe" else "")
                )
        mads = {
            n: statistics.fmean(results[n].mad.values())
            for n in ("imgpipe", "naive-pillow", *vips_names)
            if results[n].mad
        }
        print("  screen MAD vs colour-managed reference: " + ", ".join(f"{n} {v:.3f}" for n, v in mads.items()))

    if "imgpipe" in med:
        print("\nratios (imgpipe / contender, images/s):")
        for name in med:
            if name.startswith("imgpipe") or name == "floor" or results[name].error:
                continue
            for variant in ("imgpipe", "imgpipe-2"):
                if variant in med:
                    ratios = ", ".join(f"{t} thr {med[variant][t] / med[name][t]:.2f}x" for t in threads)
                    if variant in cpu_rate and name in cpu_rate:
                        ratios += f", 1 thr CPU {cpu_rate[variant] / cpu_rate[name]:.2f}x"
                    print(f"  {variant:<10} vs {name:<13} {ratios}")
    if not args.no_formats:
        screen_formats(images, References(images))
    return 0


FORMATS = (("jpeg", 85), ("webp", 80), ("avif", 60), ("avif", 50))


def screen_formats(images: dict[str, bytes], refs: References) -> None:
    """The screen rendition encoded as JPEG q85, WebP and AVIF: bytes, MAD against the colour-managed
    reference, encode time (median of 3), over the same sRGB pixels (imgpipe's screen image)."""
    from imgpipe._pipeline import _encode

    formats = [(f, q) for f, q in FORMATS if f in imgpipe.OUTPUT_FORMATS]
    sizes: dict[tuple[str, int], list[int]] = {k: [] for k in formats}
    mads: dict[tuple[str, int], list[float]] = {k: [] for k in formats}
    times: dict[tuple[str, int], list[float]] = {k: [] for k in formats}
    lossless = imgpipe.RenditionSpec("screen", 480, 480, format="png")
    for name, data in images.items():
        png = imgpipe.process_image(data, [lossless]).renditions[0].data
        with Image.open(io.BytesIO(png)) as f:
            pixels = f.convert("RGB")
        for fmt, quality in formats:
            spec = imgpipe.RenditionSpec("screen", 480, 480, format=fmt, quality=quality)
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                out = _encode(pixels, spec)
                runs.append(time.perf_counter() - t0)
            times[(fmt, quality)].append(statistics.median(runs))
            sizes[(fmt, quality)].append(len(out))
            mads[(fmt, quality)].append(refs.mad(name, out))
    skipped = [f for f, _ in FORMATS if f not in imgpipe.OUTPUT_FORMATS]
    print(
        f"\nscreen rendition formats ({len(images)} images; same pixels; MAD vs colour-managed reference)"
        + (f"; skipped (this Pillow cannot encode): {', '.join(sorted(set(skipped)))}" if skipped else "")
    )
    print(f"{'format':<12}{'mean bytes':>12}{'vs JPEG':>9}{'mean MAD':>10}{'encode ms':>11}")
    base = statistics.fmean(sizes[("jpeg", 85)])
    for key in formats:
        mean = statistics.fmean(sizes[key])
        print(
            f"{key[0] + ' q' + str(key[1]):<12}{mean:>12.0f}{mean / base:>8.2f}x{statistics.fmean(mads[key]):>10.3f}"
            f"{statistics.median(times[key]) * 1000:>11.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
