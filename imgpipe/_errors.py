"""Exceptions of the image pipeline.

Every failure that depends on the uploaded bytes is an :class:`ImageError` subclass, so a caller can
turn "the client sent something unusable" into one response code and still tell the cases apart.
Programming errors (a bad :class:`~imgpipe.RenditionSpec`, a wrong source type) stay ``ValueError`` /
``TypeError``.
"""

from __future__ import annotations

__all__ = [
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
]


class ImageError(Exception):
    """Base class: the uploaded bytes cannot be turned into a photo.

    ``http_status`` is the status a web application should answer (``fastmime.http.http_error`` reads it)
    and ``http_message`` a fixed phrase safe to show the client; ``str(error)`` has the details.
    """

    http_status: int = 422
    http_message: str = "unusable image"


class UnsupportedFormatError(ImageError):
    """The bytes are an image format the pipeline does not accept (BMP, TIFF, AVIF, HEIC without
    pillow-heif, ...). ``format`` names what the magic bytes say, or is ``None`` when unknown."""

    http_status = 415
    http_message = "unsupported image format"

    def __init__(self, message: str, format: str | None = None) -> None:
        super().__init__(message)
        self.format = format


class NotAnImageError(UnsupportedFormatError):
    """The bytes are not recognisable as an image at all, whatever the file name or Content-Type said."""

    http_status = 415
    http_message = "the upload is not an image"


class EmptyImageError(NotAnImageError):
    """The upload has zero bytes."""

    http_status = 415
    http_message = "the uploaded image is empty"


class CorruptImageError(ImageError):
    """The magic bytes name a supported format but the header or the pixel data cannot be decoded."""

    http_status = 422
    http_message = "the image is corrupt"


class TruncatedImageError(CorruptImageError):
    """The image data ends before the image does (an interrupted upload, a cut file)."""

    http_status = 422
    http_message = "the image is truncated"


class ImageLimitError(ImageError):
    """A configured :class:`~imgpipe.ImageLimits` limit is exceeded.

    ``limit`` is the configured maximum and ``actual`` the value found (``actual`` may be a lower bound
    when the check stopped early, e.g. while bytes were still arriving).
    """

    http_status = 422
    http_message = "image exceeds a limit"

    def __init__(self, message: str, *, limit: int, actual: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.actual = actual


class FileTooLargeError(ImageLimitError):
    """The upload has more bytes than ``ImageLimits.max_bytes``."""

    http_status = 413
    http_message = "image file too large"


class TooManyPixelsError(ImageLimitError):
    """width x height (read from the header, before any decoding) exceeds the pixel limit: the
    configured ``ImageLimits.max_pixels`` or Pillow's ``Image.MAX_IMAGE_PIXELS``, whichever is lower.
    This is the decompression-bomb guard."""

    http_status = 422
    http_message = "image has too many pixels"


class DimensionsTooLargeError(ImageLimitError):
    """The width or the height exceeds ``ImageLimits.max_width`` / ``ImageLimits.max_height``."""

    http_status = 422
    http_message = "image dimensions too large"
