"""The limits of one upload request, from the configuration: for fastmime (the body) and imgpipe (images)."""

from __future__ import annotations

import fastmime
import imgpipe

from ..config import Config

__all__ = ["body_limits", "image_limits"]

# Parts an API ignores or reads as arguments (text fields), beyond the pictures.
_OTHER_PARTS = 32


def body_limits(config: Config) -> fastmime.Limits:
    """fastmime's limits for an upload body (text fields are bounded again, per field, by the APIs).

    A picture part may come without a filename (up.photos.upload's ``data``), so fields may be as large as
    files; :class:`~photoservice.uploads.parts.TextFields` bounds real text fields to ``max_field_bytes``.
    """
    return fastmime.Limits(
        max_parts=config.max_parts + _OTHER_PARTS,
        max_file_size=config.max_file_bytes,
        max_field_size=max(config.max_file_bytes, config.max_field_bytes),
        max_body_size=config.max_body_bytes,
    )


def image_limits(config: Config) -> imgpipe.ImageLimits:
    """imgpipe's limits for one picture."""
    return imgpipe.ImageLimits(max_pixels=config.max_image_pixels, max_bytes=config.max_file_bytes)
