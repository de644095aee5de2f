"""The pixel pipeline: sniff -> limits -> EXIF -> decode (scaled) -> colour -> renditions.

Speed comes from doing as little as possible at full resolution:

* JPEG sources are decoded with DCT-domain scaling (``Image.draft``) to the smallest 1/2, 1/4 or 1/8
  scale that still leaves a margin (:data:`_DCT_MARGIN`) over the largest rendition's size; a single
  Pillow resample (BICUBIC, with ``reducing_gap`` when the ratio is large) finishes the job. Smaller
  renditions are made from the larger ones (the thumb from the screen image), not from the original.
* EXIF orientation is applied last, with ``transpose`` on the small images; the box is fitted to the
  displayed (rotated) dimensions first.
* The ``full`` rendition is the original bytes whenever nothing must change (see :func:`process_image`),
  so a typical upload never decodes at full resolution. When the full image must be re-encoded
  (rotation, CMYK, a non-sRGB profile, a non-JPEG source), the full-resolution decode is shared with
  the other renditions.
* Pillow releases the GIL while decoding, resampling and encoding, so threads scale.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
from dataclasses import dataclass, field
from typing import IO, Final, Iterable, Union

from PIL import Image, UnidentifiedImageError

from ._color import is_srgb_profile, needs_color_work, to_srgb
from ._errors import (
    CorruptImageError,
    DimensionsTooLargeError,
    EmptyImageError,
    FileTooLargeError,
    ImageError,
    TooManyPixelsError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from ._exif import Exif, read_exif
from ._exifedit import edit_tiff, split_exif_payload
from ._sniff import JpegInfo, header_size, scan_jpeg, sniff

__all__ = [
    "RenditionSpec",
    "YAHOO_RENDITIONS",
    "PLATFORM_RENDITIONS",
    "ImageLimits",
    "Rendition",
    "ProcessedImage",
    "process_image",
    "fit_within",
]

ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

_OUTPUT_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_PIL_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "heic": "HEIF"}
# DCT-domain scaling of JPEGs: the smallest scale 1/8, 1/4 or 1/2 that leaves the decoded image at least
# this many times the largest rendition; a resample finishes (LANCZOS when the scaled image is small, as 1/8
# leaves it, otherwise BICUBIC). Measured with benchmarks/compare_pipelines.py (screen rendition vs a
# full-resolution LANCZOS reference, after JPEG encoding): on photo-like 2-24 MP images, progressive and
# CMYK included, the screen is as close as Pillow's thumbnail() after a full decode, while 4-64x fewer
# pixels are decoded. On synthetic hard-edged images any DCT scaling, even 1/2, is 2-4% further off.
_DCT_MARGIN: Final = 1.5
# A rendition is made from an already-made smaller image when that one is this many times larger.
_OVERSAMPLE: Final = 3.0
# Resample with BICUBIC; above this ratio Pillow first reduces by an integer factor (box filter), as
# its own thumbnail() does.
_REDUCING_GAP: Final = 2.0
# Sources up to this many pixels are resampled with LANCZOS (cheap at that size, slightly sharper).
_SMALL_SOURCE: Final = 600_000
_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# ---------------------------------------------------------------------------------------------------
# Public value types
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """One rendition to produce: ``type`` (its name), a bounding box and the output encoding.

    The image is scaled to fit within ``max_width`` x ``max_height`` keeping its aspect ratio, never
    upscaled; ``None`` leaves that dimension unbounded (both ``None``: full resolution). ``format`` is
    ``"jpeg"`` (baseline), ``"png"`` or ``"webp"``; ``quality`` (1..100) applies to JPEG and WebP.
    """

    type: str
    max_width: int | None
    max_height: int | None
    format: str = "jpeg"
    quality: int = 85

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError("RenditionSpec.type must be a non-empty string")
        for name in ("max_width", "max_height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"RenditionSpec.{name} must be a positive int or None, not {value!r}")
        if self.format not in _OUTPUT_FORMATS:
            raise ValueError(f"RenditionSpec.format must be one of {sorted(_OUTPUT_FORMATS)}, not {self.format!r}")
        if not isinstance(self.quality, int) or not 1 <= self.quality <= 100:
            raise ValueError(f"RenditionSpec.quality must be an int in 1..100, not {self.quality!r}")

    @property
    def unbounded(self) -> bool:
        """True for a full-resolution rendition (no box at all)."""
        return self.max_width is None and self.max_height is None


#: Yahoo! Photos: thumb fits 96x96, screen fits 480x480, full resolution.
YAHOO_RENDITIONS: Final[tuple[RenditionSpec, ...]] = (
    RenditionSpec("thumb", 96, 96),
    RenditionSpec("screen", 480, 480),
    RenditionSpec("full", None, None),
)
#: The up.photos.upload platform: src_small fits 75 wide x 225 high, src 130x130, src_big 604x604.
PLATFORM_RENDITIONS: Final[tuple[RenditionSpec, ...]] = (
    RenditionSpec("src_small", 75, 225),
    RenditionSpec("src", 130, 130),
    RenditionSpec("src_big", 604, 604),
)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Limits applied to every image, each with its own exception.

    * ``max_bytes`` (64 MiB): size of the upload -> :class:`~imgpipe.FileTooLargeError`.
    * ``max_pixels`` (80 MP): width x height from the header, checked before any decoding ->
      :class:`~imgpipe.TooManyPixelsError`. Pillow's ``Image.MAX_IMAGE_PIXELS`` is honoured as well
      (the lower of the two applies), so Pillow's ``DecompressionBombWarning`` can never be reached.
      80 MP takes every current camera and phone up to 61-64 MP sensors.
    * ``max_width`` / ``max_height`` (32768 each) -> :class:`~imgpipe.DimensionsTooLargeError`.

    ``None`` disables a limit.
    """

    max_pixels: int | None = 80_000_000
    max_bytes: int | None = 64 * 1024 * 1024
    max_width: int | None = 32_768
    max_height: int | None = 32_768

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_bytes", "max_width", "max_height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"ImageLimits.{name} must be a positive int or None, not {value!r}")

    def effective_max_pixels(self) -> int | None:
        """The pixel limit in force: ``max_pixels`` capped by Pillow's current ``MAX_IMAGE_PIXELS``."""
        pillow = Image.MAX_IMAGE_PIXELS
        limits = [v for v in (self.max_pixels, pillow) if v is not None]
        return int(min(limits)) if limits else None

    def check_bytes(self, size: int) -> None:
        """Raise :class:`~imgpipe.FileTooLargeError` when ``size`` bytes exceed ``max_bytes``."""
        if self.max_bytes is not None and size > self.max_bytes:
            raise FileTooLargeError(
                f"the image has more than {self.max_bytes} bytes", limit=self.max_bytes, actual=size
            )

    def check_size(self, width: int, height: int) -> None:
        """Raise when ``width`` x ``height`` (from a header) exceeds a dimension or the pixel limit."""
        if self.max_width is not None and width > self.max_width:
            raise DimensionsTooLargeError(
                f"the image is {width} pixels wide, more than {self.max_width}", limit=self.max_width, actual=width
            )
        if self.max_height is not None and height > self.max_height:
            raise DimensionsTooLargeError(
                f"the image is {height} pixels high, more than {self.max_height}",
                limit=self.max_height,
                actual=height,
            )
        limit = self.effective_max_pixels()
        if limit is not None and width * height > limit:
            raise TooManyPixelsError(
                f"the image has {width}x{height} = {width * height} pixels, more than {limit}"
                " (decompression bomb guard)",
                limit=limit,
                actual=width * height,
            )


DEFAULT_LIMITS: Final = ImageLimits()


@dataclass(frozen=True, slots=True)
class Rendition:
    """One produced rendition: ``data`` is the encoded file (``size`` bytes, ``format``), ``width`` x
    ``height`` as displayed. ``encoded`` is False when ``data`` is the original file (possibly with the
    GPS block removed at byte level), True when the pipeline encoded the pixels."""

    type: str
    width: int
    height: int
    size: int
    format: str
    data: bytes = field(repr=False)
    encoded: bool = True


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """The result of :func:`process_image`.

    ``format`` comes from the magic bytes ("jpeg", "png", "gif", "webp", "heic"); ``width`` x ``height``
    is the displayed size (EXIF orientation applied); ``exif`` as read by :func:`~imgpipe.read_exif`
    (empty when absent or unreadable); ``renditions`` in the order of the specs; ``sha256`` (hex) and
    ``size`` describe the original bytes.
    """

    format: str
    width: int
    height: int
    exif: Exif
    renditions: list[Rendition]
    sha256: str
    size: int

    def rendition(self, type: str) -> Rendition:
        """The rendition named ``type``; ``KeyError`` when there is none."""
        for r in self.renditions:
            if r.type == type:
                return r
        raise KeyError(type)


def fit_within(width: int, height: int, max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """Size of ``width`` x ``height`` scaled to fit the box, aspect kept (to a pixel), never upscaled."""
    scale = 1.0
    if max_width is not None:
        scale = min(scale, max_width / width)
    if max_height is not None:
        scale = min(scale, max_height / height)
    if scale >= 1.0:
        return width, height
    w = max(1, round(width * scale))
    h = max(1, round(height * scale))
    if max_width is not None:
        w = min(w, max_width)
    if max_height is not None:
        h = min(h, max_height)
    return w, h


# ---------------------------------------------------------------------------------------------------
# Reading the source
# ---------------------------------------------------------------------------------------------------


def _read_source(source: ImageSource, limits: ImageLimits) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            limits.check_bytes(os.fstat(f.fileno()).st_size)
            return _read_limited(f, limits)
    if hasattr(source, "read"):
        return _read_limited(source, limits)
    raise TypeError(f"process_image() needs bytes, a path or a binary file, not {type(source).__name__}")


def _read_limited(f: IO[bytes], limits: ImageLimits) -> bytes:
    if limits.max_bytes is None:
        data = f.read()
    else:
        data = f.read(limits.max_bytes + 1)
        limits.check_bytes(len(data))
    if not isinstance(data, bytes):
        raise TypeError("the file object must be opened in binary mode")
    return data


# ---------------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------------

_heif_lock = threading.Lock()
_heif_state: list[bool] = []


def _heif_available() -> bool:
    with _heif_lock:
        if not _heif_state:
            try:
                import pillow_heif  # type: ignore[import-not-found,unused-ignore]

                pillow_heif.register_heif_opener()
                _heif_state.append(True)
            except Exception:  # not installed, or a broken install: HEIC is then unsupported
                _heif_state.append(False)
        return _heif_state[0]


def _decode_error(exc: BaseException, fmt: str) -> ImageError:
    if isinstance(exc, Image.DecompressionBombError):
        return TooManyPixelsError(str(exc), limit=int(Image.MAX_IMAGE_PIXELS or 0), actual=0)
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError) or "premature end" in text.lower():
        return TruncatedImageError(f"truncated {fmt.upper()} data: {text}")
    return CorruptImageError(f"corrupt {fmt.upper()} data: {text or type(exc).__name__}")


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, Image.DecompressionBombError)


def _open(data: bytes, fmt: str) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    except UnidentifiedImageError as exc:
        raise CorruptImageError(f"{fmt.upper()} header cannot be read") from exc
    except _DECODE_ERRORS as exc:
        raise _decode_error(exc, fmt) from exc


def _load(im: Image.Image, fmt: str) -> None:
    try:
        im.load()
    except _DECODE_ERRORS as exc:
        raise _decode_error(exc, fmt) from exc


# ---------------------------------------------------------------------------------------------------
# Pixels
# ---------------------------------------------------------------------------------------------------


def _resize(src: Image.Image, size: tuple[int, int]) -> Image.Image:
    if src.size == size:
        return src
    if src.width * src.height <= _SMALL_SOURCE:
        return src.resize(size, Image.Resampling.LANCZOS)
    return src.resize(size, Image.Resampling.BICUBIC, reducing_gap=_REDUCING_GAP)


def _encode(im: Image.Image, spec: RenditionSpec, exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    if spec.format == "jpeg":
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(buf, "JPEG", quality=spec.quality, optimize=False, progressive=False, exif=exif or b"")
    elif spec.format == "png":
        im.save(buf, "PNG", compress_level=6, exif=exif or b"")
    else:
        im.save(buf, "WEBP", quality=spec.quality, method=4, exif=exif or b"")
    return buf.getvalue()


def _strip_gps(data: bytes, info: JpegInfo) -> bytes:
    """The JPEG with the GPS IFD removed from its EXIF segments; every other byte unchanged."""
    out: bytearray | None = None
    for start, end in info.exif:
        block = bytearray(data[start:end])
        if edit_tiff(block, drop_gps=True):
            if out is None:
                out = bytearray(data)
            out[start:end] = block
    return data if out is None else bytes(out)


def _exif_for_reencode(
    data: bytes, info: JpegInfo | None, im: Image.Image, size: tuple[int, int], strip_gps: bool
) -> bytes | None:
    """The source's EXIF block for a re-encoded full image: orientation 1, the new pixel dimensions,
    no embedded thumbnail (it would show the old orientation), GPS removed when asked."""
    if info is not None:
        raw = data[info.exif[0][0] : info.exif[0][1]] if info.exif else None
    else:
        payload = im.info.get("exif")
        raw = split_exif_payload(payload) if isinstance(payload, bytes) else None
    if not raw or len(raw) > 65_000:
        return None
    block = bytearray(raw)
    edit_tiff(block, drop_gps=strip_gps, orientation=1, pixel_size=size, drop_ifd1=True)
    return b"Exif\x00\x00" + bytes(block)


@dataclass(slots=True)
class _Job:
    index: int
    spec: RenditionSpec
    display: tuple[int, int]  # target size as displayed
    stored: tuple[int, int]  # target size before the orientation transpose


def process_image(
    source: ImageSource,
    renditions: Iterable[RenditionSpec] = YAHOO_RENDITIONS,
    limits: ImageLimits | None = None,
    *,
    strip_gps: bool = False,
) -> ProcessedImage:
    """Validate an uploaded image and produce its renditions.

    ``source`` is the image as bytes(-like), a path, or a binary file object (read from its current
    position). Nothing the client said is used: the format comes from the magic bytes, the dimensions
    from the header, checked against ``limits`` (:class:`ImageLimits`, defaults when ``None``) before
    any pixel is decoded.

    Each rendition fits its spec's box in the displayed orientation (EXIF orientation applied), keeps
    the aspect ratio, is never upscaled, and is 8-bit sRGB (CMYK, palette, grey, 16-bit, alpha -- onto
    white -- and ICC-profiled inputs converted). Encoded renditions carry no metadata, except a
    re-encoded full-resolution image, which keeps the source's EXIF with orientation set to 1.

    An unbounded JPEG rendition (``max_width`` and ``max_height`` both ``None``) is the original file,
    unchanged, when the source is a JPEG with orientation 1 (or none), sRGB or no ICC profile, and RGB
    or grey pixels. With ``strip_gps=True`` the GPS IFD is then cut out of the EXIF segment at byte
    level (every other byte, pixels included, is kept). Otherwise it is re-encoded.

    Raises an :class:`~imgpipe.ImageError` subclass for anything wrong with the image.
    """
    lim = DEFAULT_LIMITS if limits is None else limits
    data = _read_source(source, lim)
    return _process(data, tuple(renditions), lim, strip_gps, None)


def _process(
    data: bytes,
    specs: tuple[RenditionSpec, ...],
    limits: ImageLimits,
    strip_gps: bool,
    digest: str | None,
) -> ProcessedImage:
    for spec in specs:
        if not isinstance(spec, RenditionSpec):
            raise TypeError(f"renditions must be RenditionSpec objects, not {type(spec).__name__}")
    size = len(data)
    if size == 0:
        raise EmptyImageError("the image is empty (0 bytes)")
    limits.check_bytes(size)
    fmt = sniff(data)
    if fmt not in _PIL_FORMATS or (fmt == "heic" and not _heif_available()):
        hint = " (install pillow-heif)" if fmt == "heic" else ""
        raise UnsupportedFormatError(f"{fmt.upper()} images are not supported{hint}", fmt)
    info = scan_jpeg(data) if fmt == "jpeg" else None
    dims = (info.width, info.height) if info is not None else header_size(data, fmt)
    if dims is not None:
        limits.check_size(*dims)
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
    im = _open(data, fmt)
    try:
        # HEIF keeps EXIF in an item that pillow-heif extracts (with the orientation already applied).
        raw_exif = im.info.get("exif") if fmt == "heic" else data
        try:
            exif = read_exif(raw_exif) if isinstance(raw_exif, bytes) and raw_exif else Exif()
        except Exception:  # corrupt EXIF never fails an upload (read_exif itself promises not to raise)
            exif = Exif()
        return _render(data, fmt, info, im, exif, specs, limits, strip_gps, digest)
    finally:
        im.close()


def _render(
    data: bytes,
    fmt: str,
    info: JpegInfo | None,
    im: Image.Image,
    exif: Exif,
    specs: tuple[RenditionSpec, ...],
    limits: ImageLimits,
    strip_gps: bool,
    digest: str,
) -> ProcessedImage:
    width, height = im.size
    if info is None or (width, height) != (info.width, info.height):
        limits.check_size(width, height)
    orientation = exif.orientation
    if fmt == "heic":  # pillow-heif applies the HEIF transforms and rewrites the EXIF orientation
        value = im.getexif().get(0x0112)
        orientation = value if isinstance(value, int) and 1 <= value <= 8 else None
    orientation = orientation or 1
    swapped = orientation >= 5
    disp_w, disp_h = (height, width) if swapped else (width, height)

    icc = im.info.get("icc_profile") or None
    if not isinstance(icc, bytes):
        icc = None
    keep_ok = (
        fmt == "jpeg" and orientation == 1 and im.mode in ("RGB", "L") and (icc is None or is_srgb_profile(icc))
    )

    results: list[Rendition | None] = [None] * len(specs)
    jobs: list[_Job] = []
    original: bytes | None = None
    for i, spec in enumerate(specs):
        if keep_ok and spec.unbounded and spec.format == "jpeg":
            if original is None:
                original = _strip_gps(data, info) if strip_gps and info is not None else data
            results[i] = Rendition(spec.type, disp_w, disp_h, len(original), "jpeg", original, encoded=False)
            continue
        d = fit_within(disp_w, disp_h, spec.max_width, spec.max_height)
        jobs.append(_Job(i, spec, d, (d[1], d[0]) if swapped else d))

    # Decode once, as small as the largest job allows.
    full_needed = any(job.stored == (width, height) for job in jobs)
    if fmt == "jpeg" and not full_needed:
        scale = 8  # nothing to draw: decode at 1/8 anyway, so that corrupt data is still rejected
        if jobs:
            tw, th = max((job.stored for job in jobs), key=lambda s: s[0] * s[1])
            scale = next((s for s in (8, 4, 2) if min(width / (s * tw), height / (s * th)) >= _DCT_MARGIN), 1)
        if scale > 1:
            # Pillow picks the largest 1/s with width // request >= s: ask for exactly 1/scale.
            im.draft(im.mode, (max(1, width // scale), max(1, height // scale)))
    _load(im, fmt)
    base: Image.Image = im
    if needs_color_work(base, icc):
        base = to_srgb(base, icc)

    # Largest first; each job resamples from the smallest image already made that is big enough.
    transpose = _TRANSPOSE.get(orientation)
    made: list[Image.Image] = [base]
    for job in sorted(jobs, key=lambda j: j.stored[0] * j.stored[1], reverse=True):
        tw, th = job.stored
        src = base
        for cand in made:
            if cand.width >= tw * _OVERSAMPLE and cand.height >= th * _OVERSAMPLE and cand.width < src.width:
                src = cand
        small = _resize(src, job.stored)
        if small is not base:
            made.append(small)
        shown = small.transpose(transpose) if transpose is not None else small
        exif_block = None
        if job.spec.unbounded and job.spec.format == "jpeg":
            exif_block = _exif_for_reencode(data, info, im, job.display, strip_gps)
        out = _encode(shown, job.spec, exif_block)
        results[job.index] = Rendition(
            job.spec.type, shown.width, shown.height, len(out), job.spec.format, out, encoded=True
        )
        del shown
    return ProcessedImage(
        format=fmt,
        width=disp_w,
        height=disp_h,
        exif=exif,
        renditions=[r for r in results if r is not None],
        sha256=digest,
        size=len(data),
    )
