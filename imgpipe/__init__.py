"""imgpipe: validate uploaded photos and make their renditions, fast.

``process_image(source)`` sniffs the format from magic bytes, checks the limits from the header before
decoding (decompression bombs), reads EXIF, and produces sRGB renditions (thumb, screen, full by default)
with EXIF orientation applied. ``ImageHandler`` plugs the same pipeline into a fastmime parser, spooling
the part with bounded memory and hashing it on the way.
"""

from __future__ import annotations

from ._budget import PixelBudget
from ._color import COLOR_MANAGEMENT
from ._errors import (
    CorruptImageError,
    DimensionsTooLargeError,
    EmptyImageError,
    FileTooLargeError,
    ImageError,
    ImageLimitError,
    NotAnImageError,
    TooManyPixelsError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from ._exif import Exif, read_exif
from ._handler import ImageHandler
from ._photolist import Photo, PhotoImage, PhotoList
from ._pipeline import (
    ORIGINAL_FORMATS,
    OUTPUT_FORMATS,
    PLATFORM_RENDITIONS,
    YAHOO_RENDITIONS,
    ImageLimits,
    ProcessedImage,
    Rendition,
    RenditionSpec,
    fit_within,
    process_image,
)

__all__ = [
    # pipeline
    "process_image",
    "ProcessedImage",
    "Rendition",
    "RenditionSpec",
    "YAHOO_RENDITIONS",
    "PLATFORM_RENDITIONS",
    "OUTPUT_FORMATS",
    "ORIGINAL_FORMATS",
    "ImageLimits",
    "fit_within",
    "ImageHandler",
    "PixelBudget",
    "COLOR_MANAGEMENT",
    # errors
    "ImageError",
    "UnsupportedFormatError",
    "NotAnImageError",
    "EmptyImageError",
    "CorruptImageError",
    "TruncatedImageError",
    "ImageLimitError",
    "FileTooLargeError",
    "TooManyPixelsError",
    "DimensionsTooLargeError",
    # EXIF and PhotoList
    "read_exif",
    "Exif",
    "Photo",
    "PhotoList",
    "PhotoImage",
]


__version__: str
"""The installed version of the ``fastmime`` distribution, which holds fastmime, imgpipe and photoservice."""


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml; the installed distribution's metadata carries it.
    # Read on first use only: importing importlib.metadata costs more than the rest of this import.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("fastmime")
    except PackageNotFoundError:  # a source tree on sys.path that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
