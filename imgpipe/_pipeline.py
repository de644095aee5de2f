"""The pixel pipeline: sniff -> limits -> EXIF -> decode (scaled) -> colour -> renditions.

Speed comes from doing as little as possible at full resolution:

* JPEG sources are decoded with DCT-domain scaling (``Image.draft``) to the smallest 1/2, 1/4 or 1/8
  scale that leaves the image no smaller than the largest rendition (1.5x at 1/8: :data:`_DCT_MARGINS`);
  a single Pillow resample (BICUBIC, with ``reducing_gap`` when the ratio is large) finishes the job. Smaller
  renditions are made from the larger ones (the thumb from the screen image), not from the original.
* Embedded ICC profiles (and CMYK) are converted after resampling, on the rendition's pixels.
* EXIF orientation is applied last, with ``transpose`` on the small images; the box is fitted to the
  displayed (rotated) dimensions first.
* The ``full`` rendition is the original file for the formats browsers show (JPEG, PNG, GIF, WebP):
  browsers apply EXIF orientation and ICC profiles themselves, so nothing is decoded at full size for
  it. Only HEIC (or a spec asking for a re-encode) is converted; that full-resolution decode is then
  shared with the other renditions.
* The input is read through an :class:`~imgpipe._source.Origin`: the header region for sniffing,
  limits and EXIF, a stream for Pillow and for hashing, never one ``bytes`` of the whole file.
* Pillow releases the GIL while decoding, resampling and encoding, so threads scale.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import tempfile
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Final, Union

import PIL
from PIL import Image, UnidentifiedImageError
from PIL import features as _features

from ._budget import PixelBudget
from ._color import needs_color_work, to_srgb
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
from ._source import Origin, Patch

if TYPE_CHECKING:
    from ._photolist import Photo

__all__ = [
    "RenditionSpec",
    "YAHOO_RENDITIONS",
    "PLATFORM_RENDITIONS",
    "ImageLimits",
    "Rendition",
    "ProcessedImage",
    "process_image",
    "fit_within",
    "OUTPUT_FORMATS",
    "ORIGINAL_FORMATS",
]

ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

_AVIF: Final = bool(_features.check("avif")) if "avif" in _features.modules else False
_OUTPUT_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
#: The output formats this installation can encode ("avif" only where Pillow was built with libavif).
OUTPUT_FORMATS: Final[tuple[str, ...]] = ("jpeg", "png", "webp") + (("avif",) if _AVIF else ())
#: Source formats whose ``full`` rendition is the uploaded file itself (every current browser shows
#: them, applying EXIF orientation and ICC profiles).
ORIGINAL_FORMATS: Final[frozenset[str]] = frozenset({"jpeg", "png", "gif", "webp"})
# Bytes read from the start of a file for sniffing, header scanning and EXIF; grown when the JPEG
# header segments (up to the first scan) or a GIF's blocks before its first image are longer.
_HEAD: Final = 64 * 1024
_PIL_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "heic": "HEIF"}
# DCT-domain scaling of JPEGs: the smallest scale 1/8, 1/4 or 1/2 that leaves the decoded image at least
# this many times the largest rendition (scale -> margin); a resample finishes (LANCZOS when the scaled
# image is small, as 1/8 leaves it, otherwise BICUBIC). Measured on photo-like images (screen rendition vs a
# full-resolution LANCZOS reference, after JPEG encoding; tests/imgpipe/test_pipeline.py) against Pillow's
# thumbnail() after a full decode: 1/2 and 1/4 are as close (within 1%) with no margin, as libvips's
# shrink-on-load decodes; 1/8 keeps only each block's average and is 2% further off with no margin, as
# close with 1.5. On benchmarks/compare_pipelines.py's corpus these margins (1.5 everywhere before) cut
# imgpipe's CPU by 10-15%: photos of 1-3x the screen's size are decoded at 1/2 or 1/4, not whole.
_DCT_MARGINS: Final = ((8, 1.5), (4, 1.0), (2, 1.0))
# A rendition is made from an already-made smaller image when that one is this many times larger.
_OVERSAMPLE: Final = 3.0
# Resample with BICUBIC; above this ratio Pillow first reduces by an integer factor (box filter), as
# its own thumbnail() does.
_REDUCING_GAP: Final = 2.0
# A DCT-scaled decode of up to this many pixels (1/8 of a camera photo) is resampled with LANCZOS, which
# is slightly sharper after DCT scaling and cheap at that size. Any other source uses BICUBIC, as
# Pillow's thumbnail() does: LANCZOS on a small photo decoded at full size (under 1 MP, no DCT scaling)
# cost 2-4 ms more per image with nothing to make up for (issue 12's small-photo overhead).
_SMALL_SOURCE: Final = 600_000
# Modes whose pixels can be resampled before colour conversion (no palette, no alpha to composite).
_LATE_COLOR_MODES: Final = frozenset({"RGB", "L", "CMYK"})
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
    ``"jpeg"`` (baseline), ``"png"``, ``"webp"`` or ``"avif"`` (AVIF needs a Pillow built with libavif,
    as current wheels are: ``ValueError`` otherwise, see :data:`OUTPUT_FORMATS`); ``quality``
    (1..100) applies to JPEG, WebP and AVIF.

    An unbounded rendition with ``keep_original=True`` (the default) is the uploaded file itself when
    the source is JPEG, PNG, GIF or WebP (:data:`ORIGINAL_FORMATS`), whatever ``format`` says: see
    :func:`process_image`. ``keep_original=False`` always encodes it in ``format``.
    """

    type: str
    max_width: int | None
    max_height: int | None
    format: str = "jpeg"
    quality: int = 85
    keep_original: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError("RenditionSpec.type must be a non-empty string")
        for name in ("max_width", "max_height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"RenditionSpec.{name} must be a positive int or None, not {value!r}")
        if self.format not in _OUTPUT_FORMATS:
            raise ValueError(f"RenditionSpec.format must be one of {sorted(_OUTPUT_FORMATS)}, not {self.format!r}")
        if self.format not in OUTPUT_FORMATS:
            raise ValueError(
                f"RenditionSpec.format {self.format!r}: this Pillow ({PIL.__version__}) cannot encode it"
                " (it was built without libavif; current Pillow wheels include it)"
            )
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
    """One produced rendition: ``size`` bytes of ``format``, ``width`` x ``height`` as displayed.

    ``encoded`` is True when the pipeline encoded the pixels; False when this is the uploaded file
    itself (the ``full`` original, possibly with its GPS block removed at byte level).

    Read its bytes with :meth:`open` (a stream of exactly ``size`` bytes: what a service hands to a
    file or an object store), :meth:`save`, or :attr:`data`. An encoded rendition's bytes are in
    memory. The original's are read from the source on demand, never held whole in memory: a path
    stays readable as long as the file exists unchanged, an open file as long as it stays open, and
    an :class:`~imgpipe.ImageHandler`'s spool until the handler is closed (then :meth:`open` raises
    ``ValueError``).
    """

    type: str
    width: int
    height: int
    size: int
    format: str
    encoded: bool = True
    _bytes: bytes | None = field(default=None, repr=False, compare=False)
    _origin: Origin | None = field(default=None, repr=False, compare=False)
    _patches: tuple[Patch, ...] = field(default=(), repr=False, compare=False)

    def open(self) -> BinaryIO:
        """A new binary reader of the rendition's ``size`` bytes (seekable; close it when done)."""
        if self._bytes is not None:
            return io.BytesIO(self._bytes)
        assert self._origin is not None
        return self._origin.open(self._patches)

    @property
    def data(self) -> bytes:
        """The rendition's bytes. For the original (``encoded`` False) this reads the whole file into
        memory: use :meth:`open` or :meth:`save` to stream it instead."""
        if self._bytes is not None:
            return self._bytes
        with self.open() as f:
            return f.read()

    def save(self, destination: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the rendition to a path (created or replaced) or to a binary file, streaming."""
        with self.open() as src:
            if isinstance(destination, (str, os.PathLike)):
                with open(destination, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            else:
                shutil.copyfileobj(src, destination, 1024 * 1024)


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

    def to_photo(
        self,
        id: str,
        owner: str,
        urls: Mapping[str, str],
        *,
        caption: str = "",
        create_time: datetime | str | None = None,
        upload_time: datetime | str | None = None,
        mod_time: datetime | str | None = None,
        share_mode: str = "private",
        adult: bool = False,
        restricted: bool = True,
        description: str | None = None,
        tags: Sequence[str] = (),
    ) -> Photo:
        """A PhotoList :class:`~imgpipe.Photo` for this result.

        ``urls`` maps rendition types to the URLs where the caller stored them; one ``<Image>`` is
        written per rendition with a URL, in the order of :attr:`renditions` (a type without a URL is
        left out; a URL for a type that was not produced raises ``KeyError``). ``hrWidth``/``hrHeight``
        are the displayed size, the EXIF block comes from :attr:`exif`, and ``create_time`` defaults to
        the EXIF capture time.
        """
        from ._photolist import Photo, PhotoImage

        produced = {r.type for r in self.renditions}
        unknown = [t for t in urls if t not in produced]
        if unknown:
            raise KeyError(f"no rendition of type {unknown[0]!r} (produced: {sorted(produced)})")
        images = [
            PhotoImage(type=r.type, width=r.width, height=r.height, size=r.size, url=urls[r.type], format=r.format)
            for r in self.renditions
            if r.type in urls
        ]
        return Photo(
            id=id,
            hr_width=self.width,
            hr_height=self.height,
            owner=owner,
            caption=caption,
            create_time=self.exif.capture_time() if create_time is None else create_time,
            upload_time=upload_time,
            mod_time=mod_time,
            images=images,
            exif=self.exif,
            share_mode=share_mode,
            adult=adult,
            restricted=restricted,
            description=description,
            tags=list(tags),
        )


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


def _origin_of(source: ImageSource, limits: ImageLimits) -> Origin:
    """Where the source's bytes are, without reading them (a non-seekable file is spooled first)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        origin = Origin.from_bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        origin = Origin.from_path(source)
    elif hasattr(source, "read"):
        origin = _file_origin(source, limits)
    else:
        raise TypeError(f"process_image() needs bytes, a path or a binary file, not {type(source).__name__}")
    limits.check_bytes(origin.size)
    return origin


def _file_origin(f: IO[bytes], limits: ImageLimits) -> Origin:
    seekable = getattr(f, "seekable", None)
    if seekable is not None and seekable() and f.tell() == 0:
        return Origin.from_file(f)
    # Not at offset 0, or not seekable (a pipe, a socket): copy from here into a spool of our own,
    # in memory up to 1 MiB, then on disk; the limit is checked while copying.
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    try:
        total = 0
        while True:
            chunk = f.read(1024 * 1024)
            if not isinstance(chunk, (bytes, bytearray)):
                raise TypeError("the file object must be opened in binary mode")
            if not chunk:
                break
            total += len(chunk)
            limits.check_bytes(total)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.flush()
    return Origin.from_file(spool, close=spool.close)


def _head(origin: Origin, need: int = _HEAD) -> bytes:
    return origin.read(0, need)


def _from_head(origin: Origin, head: bytes, parse: Any) -> tuple[Any, bytes]:
    """``parse(head)``, reading a longer head while the header runs past it (TruncatedImageError)."""
    while True:
        try:
            return parse(head), head
        except TruncatedImageError:
            if len(head) >= origin.size:
                raise
            head = _head(origin, len(head) * 4)


def _sha256(origin: Origin) -> str:
    digest = hashlib.sha256()
    with origin.open() as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


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
            except Exception:  # noqa: BLE001 - not installed, or a broken install: HEIC is then unsupported
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


def _open(fp: IO[bytes], fmt: str) -> Image.Image:
    try:
        return Image.open(fp, formats=[_PIL_FORMATS[fmt]])
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


def dct_scale(width: int, height: int, target_width: int, target_height: int) -> int:
    """The JPEG DCT scale denominator (8, 4, 2 or 1) imgpipe decodes at for a ``target`` size rendition."""
    for scale, margin in _DCT_MARGINS:
        if min(width / (scale * target_width), height / (scale * target_height)) >= margin:
            return scale
    return 1


def _resize(src: Image.Image, size: tuple[int, int], dct_scaled: bool) -> Image.Image:
    if src.size == size:
        return src
    if dct_scaled and src.width * src.height <= _SMALL_SOURCE:
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
    elif spec.format == "avif":
        im.save(buf, "AVIF", quality=spec.quality, exif=exif or b"")
    else:
        im.save(buf, "WEBP", quality=spec.quality, method=4, exif=exif or b"")
    return buf.getvalue()


def _gps_patches(origin: Origin, head: bytes, fmt: str, info: JpegInfo | None) -> tuple[Patch, ...]:
    """Length-preserving edits that remove the GPS IFD from the original's EXIF block(s); every other
    byte of the file, pixels included, is unchanged. JPEG: each APP1 Exif segment; PNG: the eXIf
    chunk (and its CRC); WebP: the EXIF chunk. Empty when there is no GPS block."""
    patches: list[Patch] = []
    if info is not None:
        for start, end in info.exif:
            block = bytearray(head[start:end])
            if edit_tiff(block, drop_gps=True):
                patches.append((start, bytes(block)))
        return tuple(patches)
    chunk = _exif_chunk(origin, fmt) if fmt in _CHUNKS else None
    if chunk is None:
        return ()
    start, length = chunk
    payload = origin.read(start, length)
    if len(payload) != length:
        return ()
    tiff_at = 6 if payload[:6] == b"Exif\x00\x00" else 0
    block = bytearray(payload[tiff_at:])
    if not edit_tiff(block, drop_gps=True):
        return ()
    new_payload = payload[:tiff_at] + bytes(block)
    patches.append((start, new_payload))
    if fmt == "png":  # the chunk's CRC covers its type and data
        patches.append((start + length, struct.pack(">I", zlib.crc32(b"eXIf" + new_payload))))
    return tuple(patches)


# Chunk layouts: first chunk offset, header struct (length and type in the format's order), bytes after the
# data (PNG's CRC), whether odd lengths are padded (RIFF), and the EXIF chunk's type.
_CHUNKS: Final = {
    "png": (8, struct.Struct(">I4s"), 4, False, b"eXIf"),
    "webp": (12, struct.Struct("<4sI"), 0, True, b"EXIF"),
}


def _exif_chunk(origin: Origin, fmt: str) -> tuple[int, int] | None:
    """(data offset, length) of a PNG's eXIf or a WebP's EXIF chunk; walks chunk headers only."""
    pos, header, trailer, padded, wanted = _CHUNKS[fmt]
    for _ in range(200_000):
        head = origin.read(pos, 8)
        if len(head) < 8:
            return None
        a, b = header.unpack(head)
        length, kind = (a, b) if fmt == "png" else (b, a)
        if kind == wanted:
            return (pos + 8, length) if pos + 8 + length + trailer <= origin.size else None
        if kind == b"IEND":
            return None
        pos += 8 + length + trailer + (length & 1 if padded else 0)
    return None


def _exif_for_reencode(
    head: bytes, info: JpegInfo | None, im: Image.Image, size: tuple[int, int], strip_gps: bool
) -> bytes | None:
    """The source's EXIF block for a re-encoded full image: orientation 1, the new pixel dimensions,
    no embedded thumbnail (it would show the old orientation), GPS removed when asked."""
    if info is not None:
        raw = head[info.exif[0][0] : info.exif[0][1]] if info.exif else None
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
    budget: PixelBudget | None = None,
) -> ProcessedImage:
    """Validate an uploaded image and produce its renditions.

    ``source`` is the image as a path, a binary file object (from its current position), or
    bytes(-like). A path or a seekable file is never read whole into memory: the header region is
    read for sniffing, limits and EXIF, and Pillow decodes from a stream (Pillow itself reads a whole
    WebP or HEIC file at once). Nothing the client said is used: the format comes from the magic
    bytes, the dimensions from the header, checked against ``limits`` (:class:`ImageLimits`, defaults
    when ``None``) before any pixel is decoded.

    Each rendition fits its spec's box in the displayed orientation (EXIF orientation applied), keeps
    the aspect ratio, is never upscaled, and is 8-bit sRGB (CMYK, palette, grey, 16-bit, alpha -- onto
    white -- and ICC-profiled inputs converted). Encoded renditions carry no metadata, except a
    re-encoded full-resolution image, which keeps the source's EXIF with orientation set to 1.

    ``full`` is the original: an unbounded spec (``max_width`` and ``max_height`` both ``None``, with
    ``keep_original`` left True) gives the uploaded file itself when it is a JPEG, PNG, GIF or WebP --
    browsers apply its EXIF orientation and ICC profile themselves -- with ``width``/``height`` the
    displayed (oriented) size, ``format`` the source's, ``encoded`` False. It is streamed from the
    source by :meth:`Rendition.open` (see there how long it stays readable). With ``strip_gps=True``
    its GPS IFD is removed as a length-preserving byte edit of the EXIF block (every other byte,
    pixels included, is kept). Other sources (HEIC) are converted to ``format``.

    With a :class:`~imgpipe.PixelBudget`, the decoding waits until the image's pixels (read from its
    header) fit in the budget shared with other threads, so that concurrent large images do not multiply
    the memory they take.

    Raises an :class:`~imgpipe.ImageError` subclass for anything wrong with the image.
    """
    lim = DEFAULT_LIMITS if limits is None else limits
    specs = _check_specs(renditions)
    origin = _origin_of(source, lim)
    return _process(origin, specs, lim, strip_gps, None, budget)


def _check_specs(renditions: Iterable[RenditionSpec]) -> tuple[RenditionSpec, ...]:
    specs = tuple(renditions)
    for spec in specs:
        if not isinstance(spec, RenditionSpec):
            raise TypeError(f"renditions must be RenditionSpec objects, not {type(spec).__name__}")
    return specs


def _process(
    origin: Origin,
    specs: tuple[RenditionSpec, ...],
    limits: ImageLimits,
    strip_gps: bool,
    digest: str | None,
    budget: PixelBudget | None = None,
) -> ProcessedImage:
    size = origin.size
    if size == 0:
        raise EmptyImageError("the image is empty (0 bytes)")
    limits.check_bytes(size)
    head = _head(origin)
    fmt = sniff(head)
    if fmt not in _PIL_FORMATS or (fmt == "heic" and not _heif_available()):
        hint = " (install pillow-heif)" if fmt == "heic" else ""
        raise UnsupportedFormatError(f"{fmt.upper()} images are not supported{hint}", fmt)
    info: JpegInfo | None = None
    if fmt == "jpeg":
        info, head = _from_head(origin, head, scan_jpeg)
        dims: tuple[int, int] | None = (info.width, info.height)
    elif fmt == "heic":  # the boxes describing the image may sit anywhere; pillow-heif reads it all anyway
        head = _head(origin, size)
        dims = header_size(head, fmt)
    else:
        dims, head = _from_head(origin, head, lambda h: header_size(h, fmt))
    if dims is not None:
        limits.check_size(*dims)
    if digest is None:
        digest = _sha256(origin)
    with budget.reserve(dims[0] * dims[1] if dims else None) if budget is not None else nullcontext():
        return _decode(origin, head, fmt, info, specs, limits, strip_gps, digest)


def _decode(
    origin: Origin,
    head: bytes,
    fmt: str,
    info: JpegInfo | None,
    specs: tuple[RenditionSpec, ...],
    limits: ImageLimits,
    strip_gps: bool,
    digest: str,
) -> ProcessedImage:
    with origin.open() as fp:
        im = _open(fp, fmt)
        try:
            if fmt == "jpeg":
                exif = _safe_exif(head)  # every header segment is in the head
            elif fmt == "heic":  # HEIF keeps EXIF in an item that pillow-heif extracts
                raw_exif = im.info.get("exif")
                exif = _safe_exif(raw_exif) if isinstance(raw_exif, bytes) and raw_exif else Exif()
            elif fmt == "gif":
                exif = Exif()
            else:
                with origin.open() as exif_fp:
                    exif = _safe_exif(exif_fp)
            return _render(origin, head, fmt, info, im, exif, specs, limits, strip_gps, digest)
        finally:
            im.close()


def _safe_exif(source: bytes | IO[bytes]) -> Exif:
    try:
        return read_exif(source)
    except Exception:  # noqa: BLE001 - corrupt EXIF never fails an upload (read_exif promises not to raise)
        return Exif()


def _render(
    origin: Origin,
    head: bytes,
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

    results: list[Rendition | None] = [None] * len(specs)
    jobs: list[_Job] = []
    patches: tuple[Patch, ...] | None = None
    for i, spec in enumerate(specs):
        if spec.unbounded and spec.keep_original and fmt in ORIGINAL_FORMATS:
            if patches is None:
                patches = _gps_patches(origin, head, fmt, info) if strip_gps else ()
            results[i] = Rendition(
                spec.type, disp_w, disp_h, origin.size, fmt, encoded=False, _origin=origin, _patches=patches
            )
            continue
        d = fit_within(disp_w, disp_h, spec.max_width, spec.max_height)
        jobs.append(_Job(i, spec, d, (d[1], d[0]) if swapped else d))

    # Decode once, as small as the largest job allows.
    full_needed = any(job.stored == (width, height) for job in jobs)
    scaled = False
    if fmt == "jpeg" and not full_needed:
        scale = 8  # nothing to draw: decode at 1/8 anyway, so that corrupt data is still rejected
        if jobs:
            tw, th = max((job.stored for job in jobs), key=lambda s: s[0] * s[1])
            scale = dct_scale(width, height, tw, th)
        if scale > 1:
            # Pillow picks the largest 1/s with width // request >= s: ask for exactly 1/scale.
            im.draft(im.mode, (max(1, width // scale), max(1, height // scale)))
            scaled = True
    _load(im, fmt)
    base: Image.Image = im
    # Profiled RGB, grey and CMYK pixels are resampled first and converted to sRGB after: LittleCMS
    # then transforms the rendition's pixels instead of the whole decode (3-60x fewer).
    color_work = needs_color_work(base, icc)
    convert_late = color_work and base.mode in _LATE_COLOR_MODES and "transparency" not in base.info
    if color_work and not convert_late:
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
        small = _resize(src, job.stored, dct_scaled=src is base and scaled)
        if convert_late and src is base:
            small = to_srgb(small, icc)
        if small is not base:
            made.append(small)
        shown = small.transpose(transpose) if transpose is not None else small
        exif_block = None
        if job.spec.unbounded and job.spec.format in ("jpeg", "webp", "avif"):
            exif_block = _exif_for_reencode(head, info, im, job.display, strip_gps)
        out = _encode(shown, job.spec, exif_block)
        results[job.index] = Rendition(
            job.spec.type, shown.width, shown.height, len(out), job.spec.format, encoded=True, _bytes=out
        )
        del shown
    return ProcessedImage(
        format=fmt,
        width=disp_w,
        height=disp_h,
        exif=exif,
        renditions=[r for r in results if r is not None],
        sha256=digest,
        size=origin.size,
    )
