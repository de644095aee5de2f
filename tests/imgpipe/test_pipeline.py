"""imgpipe.process_image: formats, limits, orientation, colour, renditions, full-keeps-original, GPS."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageCms, ImageOps

import imgpipe
from benchmarks.compare_pipelines import photo_like
from imgpipe import (
    PLATFORM_RENDITIONS,
    YAHOO_RENDITIONS,
    CorruptImageError,
    DimensionsTooLargeError,
    EmptyImageError,
    FileTooLargeError,
    ImageError,
    ImageLimits,
    NotAnImageError,
    RenditionSpec,
    TooManyPixelsError,
    TruncatedImageError,
    UnsupportedFormatError,
    fit_within,
    process_image,
    read_exif,
)
from imgpipe._pipeline import dct_scale
from imgpipe._sniff import scan_jpeg, sniff
from tests.imgpipe._images import (
    QUAD_COLOURS,
    adobe_to_srgb,
    animated,
    close,
    decode,
    display_position,
    encode,
    jpeg_with_sof_size,
    mad,
    mean_colour,
    noise_image,
    png16,
    png_header_only,
    quadrants,
    rgb_icc_profile,
)
from tests.imgpipe._jpegs import exif_for, make_jpeg

from .._hypothesis import examples

ROOT = Path(__file__).resolve().parents[2]

GPS = (48.8584, 2.2945, 35.0)


def jpeg(im: Image.Image, **kw: object) -> bytes:
    kw.setdefault("quality", 92)
    return encode(im, "JPEG", **kw)


def sizes(result: imgpipe.ProcessedImage) -> dict[str, tuple[int, int]]:
    return {r.type: (r.width, r.height) for r in result.renditions}


# ---------------------------------------------------------------------------------------------------
# Result shape
# ---------------------------------------------------------------------------------------------------


def test_yahoo_renditions_of_a_camera_jpeg() -> None:
    data = make_jpeg(1200, 900, exif={0x010F: "Canon", 0x0110: "PowerShot"}, color=(200, 30, 30))
    result = process_image(data)
    assert result.format == "jpeg"
    assert (result.width, result.height) == (1200, 900)
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.exif.make == "Canon"
    assert [r.type for r in result.renditions] == ["thumb", "screen", "full"]
    assert sizes(result) == {"thumb": (96, 72), "screen": (480, 360), "full": (1200, 900)}
    for r in result.renditions:
        assert r.size == len(r.data)
        assert r.format == "jpeg"
        im = decode(r.data)
        assert im.size == (r.width, r.height)
        assert close(mean_colour(im), (200, 30, 30), 4)
    assert result.rendition("full").data == data
    assert result.rendition("full").encoded is False
    with pytest.raises(KeyError):
        result.rendition("nope")


def test_encoded_renditions_are_baseline_jpeg_without_metadata() -> None:
    data = make_jpeg(1000, 800, orientation=1, gps=GPS, progressive=True, exif={0x010F: "Nikon"})
    result = process_image(data)
    for r in result.renditions[:2]:
        info = scan_jpeg(r.data)
        assert not info.progressive
        assert info.exif == ()  # no EXIF, so no GPS, in thumb/screen
        assert read_exif(r.data).is_empty


def test_platform_renditions_fit_their_boxes() -> None:
    result = process_image(jpeg(quadrants(1600, 1200)), PLATFORM_RENDITIONS)
    assert sizes(result) == {"src_small": (75, 56), "src": (130, 98), "src_big": (604, 453)}
    tall = process_image(jpeg(quadrants(300, 1200)), PLATFORM_RENDITIONS)
    assert sizes(tall) == {"src_small": (56, 225), "src": (32, 130), "src_big": (151, 604)}


def test_never_upscaled() -> None:
    data = jpeg(quadrants(64, 40))
    result = process_image(data)
    assert sizes(result) == {"thumb": (64, 40), "screen": (64, 40), "full": (64, 40)}
    assert result.rendition("full").data == data
    assert result.rendition("screen").encoded  # a bounded rendition is always re-encoded


@settings(max_examples=examples(300))
@given(
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.one_of(st.none(), st.integers(1, 2000)),
    st.one_of(st.none(), st.integers(1, 2000)),
)
def test_fit_within_properties(w: int, h: int, bw: int | None, bh: int | None) -> None:
    fw, fh = fit_within(w, h, bw, bh)
    assert 1 <= fw <= w and 1 <= fh <= h  # never upscaled
    assert bw is None or fw <= bw
    assert bh is None or fh <= bh
    if (fw, fh) != (w, h):
        assert bw == fw or bh == fh or fw == 1 or fh == 1  # it touches the box
        assert abs(fh - h * fw / w) <= 1 or abs(fw - w * fh / h) <= 1  # aspect within a pixel
    else:
        assert (bw is None or w <= bw) and (bh is None or h <= bh)


@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (6000, 1000), (1000, 6000), (2999, 2001)])
def test_large_jpeg_uses_scaled_decode_and_keeps_geometry(size: tuple[int, int]) -> None:
    data = jpeg(quadrants(*size), quality=80)
    result = process_image(data)
    w, h = size
    for r in result.renditions[:2]:
        box = 96 if r.type == "thumb" else 480
        assert max(r.width, r.height) == box
        assert abs(r.width / r.height - w / h) < 1.5 / min(r.width, r.height) + 1e-9
        im = decode(r.data)
        for name, colour in QUAD_COLOURS.items():
            cx = im.width * (0.25 if name[1] == "l" else 0.75)
            cy = im.height * (0.25 if name[0] == "t" else 0.75)
            box_ = (
                int(cx - im.width * 0.1),
                int(cy - im.height * 0.1),
                int(cx + im.width * 0.1) + 1,
                int(cy + im.height * 0.1) + 1,
            )
            assert close(mean_colour(im, box_), colour, 8), (r.type, name)


def _hard_edged(width: int, height: int) -> Image.Image:
    """A worst case for DCT-domain scaling: fractal edges, noise and gradients, different per channel."""
    fractal = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 1.0, 1.2), 60)
    gradient = Image.linear_gradient("L").resize((width, height))
    noisy = ImageChops.add(gradient, Image.effect_noise((width, height), 12), 1, -128)
    mirrored = ImageChops.blend(fractal.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient, 0.5)
    return Image.merge("RGB", [fractal, noisy, mirrored])


def _screen_and_naive_mad(data: bytes) -> tuple[float, float]:
    """MAD of imgpipe's screen rendition and of Pillow's thumbnail() after a full decode (both JPEG q85)
    from a full-resolution LANCZOS downscale of ``data``."""
    screen = decode(process_image(data).rendition("screen").data)
    full = decode(data).convert("RGB")
    naive = full.copy()
    naive.thumbnail((480, 480))
    naive = decode(encode(naive, "JPEG", quality=85))
    assert screen.size == naive.size
    reference = full.resize(screen.size, Image.Resampling.LANCZOS)
    return mad(screen, reference), mad(naive, reference)


@pytest.mark.parametrize(
    "size, variant",
    [
        ((6000, 4000), "baseline"),  # decoded at 1/8
        ((4032, 3024), "baseline"),  # 1/4
        ((4032, 3024), "progressive"),
        ((4032, 3024), "cmyk"),
        ((1632, 1224), "baseline"),  # 1/2
    ],
)
def test_screen_quality_matches_pillow_thumbnail_on_photos(size: tuple[int, int], variant: str) -> None:
    # The benchmark's camera-like images: DCT-domain scaling must not cost quality there. A coarser
    # scale (1/8 for 12 MP) is about 1% worse, so the bound is tight.
    src = photo_like(*size, seed=size[0] + len(variant))
    data = jpeg(src.convert("CMYK") if variant == "cmyk" else src, quality=92, progressive=variant == "progressive")
    ours, naive = _screen_and_naive_mad(data)
    assert ours <= naive * 1.005


@pytest.mark.parametrize("size", [(2048, 1536), (1024, 768)])  # 1/4 and 1/2, each 1.07x the screen's size
def test_screen_quality_when_dct_scaling_leaves_no_margin(size: tuple[int, int]) -> None:
    # 1/2 and 1/4 scaling are good low-pass filters: decoded straight to about the screen's size they stay
    # within 1% of a full decode + thumbnail() (measured 0.4% and 0.7%).
    assert dct_scale(*size, *fit_within(*size, 480, 480)) == (4 if size[0] == 2048 else 2)
    ours, naive = _screen_and_naive_mad(jpeg(photo_like(*size, seed=size[0] + 1), quality=92))
    assert ours <= naive * 1.01


def test_screen_quality_on_hard_edges() -> None:
    # A worst case for DCT-domain scaling (fractal edges): measured 2-4% further off than a full
    # decode; a wrong filter or a skipped resample costs far more.
    ours, naive = _screen_and_naive_mad(jpeg(_hard_edged(4032, 3024), quality=92))
    assert ours <= naive * 1.06


# ---------------------------------------------------------------------------------------------------
# Orientation
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("stored", [(160, 100), (3200, 2000)])
def test_orientation(orientation: int, stored: tuple[int, int]) -> None:
    w, h = stored
    data = jpeg(quadrants(w, h), exif=exif_for(orientation=orientation, exif={0x010F: "Cam"}))
    result = process_image(data)
    disp = (h, w) if orientation >= 5 else (w, h)
    assert (result.width, result.height) == disp
    for r in result.renditions:
        im = decode(r.data)
        if not r.encoded:  # the original: shown as a browser shows it, EXIF orientation applied
            im = ImageOps.exif_transpose(im)
        assert im.size == (r.width, r.height)
        assert (r.width > r.height) == (disp[0] > disp[1])
        for corner, colour in QUAD_COLOURS.items():
            sx = w * (0.25 if corner[1] == "l" else 0.75)
            sy = h * (0.25 if corner[0] == "t" else 0.75)
            dx, dy = display_position(orientation, sx, sy, w, h)
            px, py = dx / disp[0] * im.width, dy / disp[1] * im.height
            rx, ry = im.width * 0.08, im.height * 0.08
            got = mean_colour(im, (int(px - rx), int(py - ry), int(px + rx) + 1, int(py + ry) + 1))
            assert close(got, colour, 10), (orientation, r.type, corner, got)
    full = result.rendition("full")
    # full is the original whatever the orientation, reporting the displayed size
    assert full.data == data and not full.encoded and (full.width, full.height) == disp
    if orientation != 1:
        reencoded = process_image(data, [RenditionSpec("full", None, None, keep_original=False)]).renditions[0]
        assert reencoded.encoded and (reencoded.width, reencoded.height) == disp
        exif = read_exif(reencoded.data)
        assert exif.orientation in (None, 1)
        assert exif.make == "Cam"  # the rest of the EXIF is kept


def test_rotated_reencoded_full_gets_new_pixel_dimensions_and_no_thumbnail() -> None:
    from tests.imgpipe._jpegs import ASCII, LONG, SHORT, build_tiff, jpeg_with_exif_bytes, tag

    tiff = build_tiff(
        [tag(0x010F, ASCII, "Cam"), tag(0x0112, SHORT, 6)],
        [tag(0xA002, LONG, 64), tag(0xA003, SHORT, 48)],
        ifd1=[tag(0x0201, LONG, 0), tag(0x0202, LONG, 0)],
    )
    data = jpeg_with_exif_bytes(tiff, width=64, height=48)
    full = process_image(data, [RenditionSpec("full", None, None, keep_original=False)]).rendition("full")
    assert (full.width, full.height) == (48, 64)
    with Image.open(io.BytesIO(full.data)) as im:
        ex = im.getexif()
        assert ex.get(0x0112) == 1
        sub = ex.get_ifd(0x8769)
        assert (sub.get(0xA002), sub.get(0xA003)) == (48, 64)
        assert ex.get_ifd(1) == {} or 0x0201 not in ex.get_ifd(1)


# ---------------------------------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------------------------------


def screen_mean(data: bytes, **kw: object) -> tuple[float, ...]:
    return mean_colour(decode(process_image(data, **kw).rendition("screen").data))  # type: ignore[arg-type]


def test_cmyk_adobe_jpeg_colours() -> None:
    # Pillow writes CMYK JPEGs the way Photoshop does: inverted samples + Adobe APP14 marker.
    cyan = Image.new("CMYK", (640, 480), (255, 0, 0, 0))
    cyan.paste((0, 255, 255, 0), (0, 0, 320, 480))  # left half: magenta + yellow = red
    data = jpeg(cyan)
    assert b"Adobe" in data[:300]
    result = process_image(data)
    screen = decode(result.rendition("screen").data)
    assert screen.mode == "RGB"
    assert close(mean_colour(screen, (10, 10, 200, 300)), (255, 0, 0), 6)
    assert close(mean_colour(screen, (280, 10, 470, 300)), (0, 255, 255), 6)
    full = result.rendition("full")
    assert not full.encoded and full.data == data and full.format == "jpeg"  # browsers show CMYK JPEGs
    converted = process_image(data, [RenditionSpec("full", None, None, keep_original=False)]).renditions[0]
    assert converted.encoded and decode(converted.data).mode == "RGB"
    grey = jpeg(Image.new("CMYK", (500, 400), (0, 0, 0, 128)))
    assert close(screen_mean(grey), (127, 127, 127), 3)


def test_grayscale_jpeg() -> None:
    data = jpeg(Image.new("L", (700, 500), 90))
    result = process_image(data)
    assert close(mean_colour(decode(result.rendition("thumb").data)), (90, 90, 90), 2)
    assert result.rendition("full").data == data  # grey JPEG needs no change


def test_palette_png() -> None:
    im = Image.new("P", (600, 400), 1)
    im.putpalette([0, 0, 0, 10, 120, 250, 250, 200, 0] + [0] * (256 * 3 - 9))
    im.paste(2, (300, 0, 600, 400))
    result = process_image(encode(im, "PNG"))
    assert result.format == "png"
    screen = decode(result.rendition("screen").data)
    assert close(mean_colour(screen, (20, 20, 220, 300)), (10, 120, 250), 4)
    assert close(mean_colour(screen, (260, 20, 460, 300)), (250, 200, 0), 4)
    full = result.rendition("full")
    assert not full.encoded and full.format == "png" and full.data == encode(im, "PNG")


def test_palette_transparency_becomes_white() -> None:
    im = Image.new("P", (200, 100), 0)
    im.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    im.paste(1, (100, 0, 200, 100))
    data = encode(im, "PNG", transparency=0)
    screen = decode(process_image(data).rendition("screen").data)
    assert close(mean_colour(screen, (10, 10, 90, 90)), (255, 255, 255), 3)
    assert close(mean_colour(screen, (110, 10, 190, 90)), (200, 0, 0), 4)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_alpha_flattened_onto_white(fmt: str) -> None:
    im = Image.new("RGBA", (300, 200), (255, 0, 0, 128))
    im.paste((0, 0, 255, 255), (150, 0, 300, 200))
    extra = {"lossless": True} if fmt == "WEBP" else {}
    screen = decode(process_image(encode(im, fmt, **extra)).rendition("screen").data)
    assert screen.mode == "RGB"
    assert close(mean_colour(screen, (10, 10, 130, 190)), (255, 127, 127), 4)
    assert close(mean_colour(screen, (170, 10, 290, 190)), (0, 0, 255), 4)


def test_grey_alpha_png() -> None:
    im = Image.new("LA", (100, 100), (0, 64))  # black at 25% over white
    screen = decode(process_image(encode(im, "PNG")).rendition("screen").data)
    assert close(mean_colour(screen), (191, 191, 191), 3)


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    data = png16(200, 100, (40000,))
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode.startswith("I")
    screen = decode(process_image(data).rendition("screen").data)
    assert close(mean_colour(screen), (40000 / 257,) * 3, 1.5)


@pytest.mark.parametrize("value", [(40000, 1000, 65535), (20000, 50000, 3000, 65535)])
def test_16_bit_colour_png(value: tuple[int, ...]) -> None:
    screen = decode(process_image(png16(120, 80, value)).rendition("screen").data)
    assert close(mean_colour(screen), tuple(v / 257 for v in value[:3]), 2.5)


def test_adobe_rgb_profile_is_converted_to_srgb() -> None:
    colour = (150, 100, 80)
    data = jpeg(Image.new("RGB", (640, 480), colour), icc_profile=rgb_icc_profile())
    result = process_image(data)
    expected = adobe_to_srgb(colour)
    assert abs(expected[0] - colour[0]) > 10  # the profile really changes the colour
    spec = RenditionSpec("converted", None, None, keep_original=False)
    for r in process_image(data, [*YAHOO_RENDITIONS, spec]).renditions:
        if not r.encoded:  # the original keeps its profile: browsers colour-manage it
            assert r.type == "full" and r.data == data and decode(r.data).info["icc_profile"] == rgb_icc_profile()
            continue
        got = mean_colour(decode(r.data))
        assert close(got, expected, 3), (r.type, got, expected)
        assert "icc_profile" not in decode(r.data).info  # output is plain sRGB
    assert result.rendition("full").data == data


@pytest.mark.parametrize("mode", ["RGB", "CMYK"])
def test_profiles_are_converted_on_the_renditions_pixels(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    # LittleCMS is the costly part of a profiled photo: it must see the screen-sized image, not the decode.
    import imgpipe._pipeline as pipeline

    seen: list[tuple[str, tuple[int, int]]] = []
    real = pipeline.to_srgb

    def recording(im: Image.Image, icc: bytes | None) -> Image.Image:
        seen.append((im.mode, im.size))
        return real(im, icc)

    monkeypatch.setattr(pipeline, "to_srgb", recording)
    src = Image.new("RGB", (2000, 1500), (150, 100, 80))
    data = jpeg(src.convert("CMYK")) if mode == "CMYK" else jpeg(src, icc_profile=rgb_icc_profile())
    result = process_image(data)
    assert seen == [(mode, (480, 360))]  # once, on the screen image; the thumb is made from the converted screen
    assert decode(result.rendition("thumb").data).mode == "RGB"


def test_srgb_profile_keeps_original() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg(Image.new("RGB", (300, 200), (10, 200, 90)), icc_profile=srgb)
    result = process_image(data)
    assert result.rendition("full").data == data
    assert close(screen_mean(data), (10, 200, 90), 3)


def test_broken_profile_is_ignored() -> None:
    data = jpeg(Image.new("RGB", (300, 200), (10, 200, 90)), icc_profile=b"\x00" * 200)
    assert close(screen_mean(data), (10, 200, 90), 3)


def test_without_littlecms_profiles_are_ignored(tmp_path: Path) -> None:
    # A Pillow (or pillow-simd) built without liblcms2 has no PIL.ImageCms: imgpipe still imports and
    # works, and says that embedded profiles are then ignored.
    source = tmp_path / "adobe.jpg"
    source.write_bytes(jpeg(Image.new("RGB", (640, 480), (150, 100, 80)), icc_profile=rgb_icc_profile()))
    script = f"""
import sys
class NoLittleCMS:
    def find_spec(self, name, path=None, target=None):
        if name == "PIL.ImageCms" or name == "PIL._imagingcms":
            raise ImportError("built without LittleCMS")
sys.meta_path.insert(0, NoLittleCMS())
import imgpipe
from PIL import Image
import io
assert imgpipe.COLOR_MANAGEMENT is False
result = imgpipe.process_image({str(source)!r})
screen = Image.open(io.BytesIO(result.rendition("screen").data)).convert("RGB")
print(screen.resize((1, 1)).getpixel((0, 0)))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    got = tuple(int(v) for v in out.stdout.strip().strip("()").split(","))
    assert close(got, (150, 100, 80), 3)  # the pixels taken as sRGB, unconverted
    assert imgpipe.COLOR_MANAGEMENT is True  # this test process has LittleCMS


def test_icc_with_alpha_png() -> None:
    im = Image.new("RGBA", (100, 100), (150, 100, 80, 255))
    data = encode(im, "PNG", icc_profile=rgb_icc_profile())
    assert close(screen_mean(data), adobe_to_srgb((150, 100, 80)), 3)


# ---------------------------------------------------------------------------------------------------
# Formats, animation, output formats, sources
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_first_frame(fmt: str) -> None:
    data = animated(fmt, [(250, 0, 0), (0, 0, 250), (0, 250, 0)])
    result = process_image(data)
    assert result.format == fmt.lower()
    assert (result.width, result.height) == (40, 30)
    for r in result.renditions:
        assert close(mean_colour(decode(r.data)), (250, 0, 0), 6)


def test_gif_frame_larger_than_screen_counts_for_limits() -> None:
    # logical screen 10x10, first frame 400x300: the pixel check must use the frame's extent
    im = Image.new("P", (400, 300), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    data = bytearray(encode(im, "GIF"))
    data[6:10] = b"\x0a\x00\x0a\x00"
    with pytest.raises(TooManyPixelsError):
        process_image(bytes(data), limits=ImageLimits(max_pixels=100_000))
    assert process_image(bytes(data)).width == 400


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg"])
def test_output_formats(fmt: str) -> None:
    spec = RenditionSpec("box", 100, 100, format=fmt, quality=80)
    result = process_image(jpeg(Image.new("RGB", (400, 300), (30, 60, 200))), [spec])
    r = result.rendition("box")
    assert r.format == fmt and sniff(r.data) == fmt
    assert (r.width, r.height) == (100, 75)
    assert close(mean_colour(decode(r.data)), (30, 60, 200), 4)


def test_sources(tmp_path: Path) -> None:
    data = make_jpeg(300, 200)
    path = tmp_path / "photo.bin"
    path.write_bytes(data)
    expected = process_image(data)
    for source in (str(path), path, io.BytesIO(data), bytearray(data), memoryview(data)):
        got = process_image(source)  # type: ignore[arg-type]
        assert got.sha256 == expected.sha256 and sizes(got) == sizes(expected)
    with open(path, "rb") as f:
        assert process_image(f).size == len(data)
    with pytest.raises(TypeError):
        process_image(12345)  # type: ignore[arg-type]


def test_spec_validation() -> None:
    for bad in (
        {"type": "", "max_width": 1, "max_height": 1},
        {"type": "x", "max_width": 0, "max_height": 1},
        {"type": "x", "max_width": 1, "max_height": 1, "format": "gif"},
        {"type": "x", "max_width": 1, "max_height": 1, "quality": 0},
    ):
        with pytest.raises(ValueError):
            RenditionSpec(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ImageLimits(max_pixels=0)


def test_threads_give_the_same_results() -> None:
    inputs = [jpeg(quadrants(1600 + 8 * i, 1200), exif=exif_for(orientation=1 + i % 8)) for i in range(8)]
    sequential = [process_image(d) for d in inputs]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(process_image, inputs))
    for a, b in zip(sequential, parallel):
        assert [r.data for r in a.renditions] == [r.data for r in b.renditions]


# ---------------------------------------------------------------------------------------------------
# Not images, truncated, corrupt
# ---------------------------------------------------------------------------------------------------


def test_zero_bytes() -> None:
    with pytest.raises(EmptyImageError):
        process_image(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>not a photo</body></html>",
        b"\x00" * 1000,
        b"PK\x03\x04" + b"zipfile" * 10,
        b"%PDF-1.4 hello",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
    ],
)
def test_not_an_image(data: bytes) -> None:
    with pytest.raises((NotAnImageError, UnsupportedFormatError)):
        process_image(data)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_unsupported_formats(fmt: str) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        process_image(encode(Image.new("RGB", (20, 20)), fmt))
    assert info.value.format == fmt.lower()


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.7, 0.97])
def test_truncated_jpeg(fraction: float) -> None:
    data = jpeg(noise_image(600, 400))
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(TruncatedImageError):
        process_image(cut)
    with pytest.raises(TruncatedImageError):  # also when only the full rendition is asked for
        process_image(cut, [RenditionSpec("full", None, None)])


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_truncated_other_formats(fmt: str) -> None:
    data = encode(noise_image(300, 200), fmt)
    with pytest.raises(CorruptImageError):  # TruncatedImageError is a CorruptImageError
        process_image(data[: len(data) // 2])
    with pytest.raises(CorruptImageError):
        process_image(data[:20])


def test_corrupt_png_crc() -> None:
    data = bytearray(encode(Image.new("RGB", (50, 50), (1, 2, 3)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF
    with pytest.raises(CorruptImageError):
        process_image(bytes(data))


def test_jpeg_without_frame_header() -> None:
    data = make_jpeg(40, 30)
    info_pos = data.index(b"\xff\xc0")
    broken = data[:info_pos] + b"\xff\xfe\x00\x04ab" + data[data.index(b"\xff\xda") :]
    with pytest.raises(CorruptImageError):
        process_image(broken)


# ---------------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------------


def test_file_too_large() -> None:
    data = make_jpeg(100, 100)
    with pytest.raises(FileTooLargeError) as info:
        process_image(data, limits=ImageLimits(max_bytes=len(data) - 1))
    assert info.value.limit == len(data) - 1
    assert process_image(data, limits=ImageLimits(max_bytes=len(data))).size == len(data)
    with pytest.raises(FileTooLargeError):
        process_image(io.BytesIO(data), limits=ImageLimits(max_bytes=100))


@pytest.mark.parametrize("maker", ["png", "jpeg"])
def test_pixel_bomb_rejected_from_header(maker: str) -> None:
    data = png_header_only(60_000, 60_000) if maker == "png" else jpeg_with_sof_size(make_jpeg(16, 16), 60_000, 60_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        with pytest.raises(TooManyPixelsError) as info:
            process_image(data, limits=ImageLimits(max_width=None, max_height=None))
    assert info.value.actual == 3_600_000_000


def test_default_limits_accept_a_24mp_camera_and_reject_100mp() -> None:
    limits = ImageLimits()
    limits.check_size(6000, 4000)
    limits.check_size(9504, 6336)  # 61 MP
    with pytest.raises(TooManyPixelsError):
        limits.check_size(12_000, 9_000)


def test_pillow_max_image_pixels_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_jpeg(300, 200)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TooManyPixelsError) as info:
            process_image(data)
    assert info.value.limit == 50_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert process_image(data, limits=ImageLimits(max_pixels=None)).width == 300


def test_dimension_limits() -> None:
    data = make_jpeg(300, 20)
    with pytest.raises(DimensionsTooLargeError):
        process_image(data, limits=ImageLimits(max_width=299))
    with pytest.raises(DimensionsTooLargeError):
        process_image(make_jpeg(20, 300), limits=ImageLimits(max_height=299))


def test_all_errors_are_image_errors() -> None:
    for exc in (
        NotAnImageError,
        EmptyImageError,
        CorruptImageError,
        TruncatedImageError,
        TooManyPixelsError,
        FileTooLargeError,
        DimensionsTooLargeError,
        UnsupportedFormatError,
    ):
        assert issubclass(exc, ImageError)


# ---------------------------------------------------------------------------------------------------
# full keeps the original; GPS stripping
# ---------------------------------------------------------------------------------------------------


def _segments_outside_exif(data: bytes) -> tuple[bytes, bytes]:
    ((start, end),) = scan_jpeg(data).exif
    return data[:start], data[end:]


def test_strip_gps_removes_only_the_gps_ifd() -> None:
    data = make_jpeg(
        800,
        600,
        gps=GPS,
        exif={0x010F: "Canon", 0x0110: "EOS", 0x9003: "2024:01:02 03:04:05", 0x920A: 35.0, 0x829A: 0.004},
    )
    before = read_exif(data)
    assert before.gps is not None
    kept = process_image(data).rendition("full")
    assert kept.data == data  # not asked: untouched
    result = process_image(data, strip_gps=True)
    full = result.rendition("full")
    assert not full.encoded and len(full.data) == len(data)
    after = read_exif(full.data)
    assert after.gps is None
    assert {k: v for k, v in after.raw.items() if not k.startswith("GPS")} == {
        k: v for k, v in before.raw.items() if not k.startswith("GPS")
    }
    assert not any(k.startswith("GPS") for k in after.raw)
    # every byte outside the EXIF block is identical: pixels were not re-encoded
    assert _segments_outside_exif(full.data) == _segments_outside_exif(data)
    assert decode(full.data).tobytes() == decode(data).tobytes()
    # the coordinates themselves are gone from the file (48 degrees 51 minutes as rationals)
    with Image.open(io.BytesIO(data)) as im:
        gps_ifd = im.getexif().get_ifd(0x8825)
    assert gps_ifd
    with Image.open(io.BytesIO(full.data)) as im:
        assert im.getexif().get_ifd(0x8825) == {}
    # the result's own EXIF (for the caller) still has the position
    assert result.exif.gps is not None


def test_strip_gps_without_gps_keeps_bytes() -> None:
    data = make_jpeg(300, 200, exif={0x010F: "Canon"})
    assert process_image(data, strip_gps=True).rendition("full").data == data


def test_strip_gps_on_a_rotated_image() -> None:
    data = make_jpeg(300, 200, gps=GPS, orientation=6, exif={0x010F: "Canon"})
    full = process_image(data, strip_gps=True).rendition("full")
    assert not full.encoded and (full.width, full.height) == (200, 300) and full.size == len(data)
    exif = read_exif(full.data)
    assert exif.gps is None and exif.make == "Canon" and exif.orientation == 6  # browsers still rotate it
    reencoded = process_image(data, [RenditionSpec("full", None, None, keep_original=False)], strip_gps=True)
    exif = read_exif(reencoded.renditions[0].data)
    assert exif.gps is None and exif.make == "Canon" and exif.orientation in (None, 1)
    kept_gps = read_exif(process_image(data).rendition("full").data)
    assert kept_gps.gps is not None


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_full_of_png_gif_webp_is_the_original(fmt: str) -> None:
    data = encode(Image.new("RGB", (300, 200), (1, 2, 3)), fmt)
    full = process_image(data).rendition("full")
    assert not full.encoded and full.data == data and full.format == fmt.lower()
    assert (full.width, full.height) == (300, 200)
    spec = RenditionSpec("full", None, None, keep_original=False)
    converted = process_image(data, [spec]).renditions[0]
    assert converted.encoded and sniff(converted.data) == "jpeg" and (converted.width, converted.height) == (300, 200)


def test_bounded_full_like_spec_is_not_the_original() -> None:
    data = make_jpeg(300, 200, gps=GPS)
    r = process_image(data, [RenditionSpec("big", 1000, 1000)]).rendition("big")
    assert r.encoded and read_exif(r.data).gps is None


def test_heic_when_pillow_heif_is_installed() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    exif = exif_for(orientation=6, exif={0x010F: "Apple", 0x0110: "iPhone"})
    data = encode(quadrants(320, 240), "HEIF", quality=95, exif=exif.tobytes())
    assert sniff(data) == "heic"
    result = process_image(data)
    assert result.format == "heic"
    assert (result.width, result.height) == (240, 320)  # rotated once, not twice
    assert result.exif.make == "Apple"
    full = result.rendition("full")
    assert full.encoded and sniff(full.data) == "jpeg"
    im = decode(full.data)
    assert im.size == (240, 320)
    # orientation 6 shows the stored bottom-left quarter at the top-left
    assert close(mean_colour(im, (20, 20, 100, 140)), QUAD_COLOURS["bl"], 12)
    with pytest.raises(TooManyPixelsError):
        process_image(data, limits=ImageLimits(max_pixels=50_000))


# ---------------------------------------------------------------------------------------------------
# AVIF output, PhotoList from a result
# ---------------------------------------------------------------------------------------------------


def test_avif_rendition_or_a_clear_error() -> None:
    if "avif" not in imgpipe.OUTPUT_FORMATS:
        with pytest.raises(ValueError, match="libavif"):
            RenditionSpec("screen", 480, 480, format="avif")
        return
    spec = RenditionSpec("screen", 120, 120, format="avif", quality=60)
    r = process_image(jpeg(Image.new("RGB", (400, 300), (30, 60, 200))), [spec]).renditions[0]
    assert r.format == "avif" and r.encoded and r.data[4:12] == b"ftypavif"
    assert (r.width, r.height) == (120, 90)
    assert close(mean_colour(decode(r.data)), (30, 60, 200), 6)


def test_to_photo_fills_a_photolist_photo() -> None:
    data = make_jpeg(640, 480, orientation=6, exif={0x010F: "Canon", 0x0110: "EOS", 0x9003: "2024:01:02 03:04:05"})
    result = process_image(data)
    urls = {"thumb": "https://x/t.jpg", "full": "https://x/f.jpg"}
    photo = result.to_photo("42", "alice", urls, caption="hi", tags=["a"])
    assert (photo.hr_width, photo.hr_height) == (480, 640)
    assert [(i.type, i.url, i.format, i.width, i.height, i.size) for i in photo.images] == [
        (r.type, urls[r.type], "jpeg", r.width, r.height, r.size) for r in result.renditions if r.type in urls
    ]
    assert photo.create_time == result.exif.capture_time()
    assert photo.exif is not None and photo.exif["Camera"] == "Canon. EOS."
    xml = imgpipe.PhotoList([photo]).to_xml()
    assert b'format="jpg"' in xml and b"https://x/t.jpg" in xml  # the document writes the sample's name
    doc = json.loads(imgpipe.PhotoList([photo]).to_json())
    assert doc["PhotoList"]["Photo"][0]["ImageList"][0]["format"] == "jpg"
    with pytest.raises(KeyError):
        result.to_photo("1", "a", {"screen_big": "u"})
