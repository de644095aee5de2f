"""Uploads: the part handlers of both APIs, processing deferred until authorization, and the commit.

- :mod:`.parts`: text fields and ignored parts; :class:`~.parts.Rejected` stops a request early.
- :mod:`.images`: picture parts spooled by imgpipe, processed once the request is authorized.
- :mod:`.commit`: files, then rows, all or nothing.
"""

from __future__ import annotations

from .commit import PhotoInput, remove_files, store_photos
from .images import ImageWork, Pictures, ProcessingGate, default_workers
from .limits import body_limits, image_limits
from .parts import Rejected, TextFields

__all__ = [
    "PhotoInput",
    "store_photos",
    "remove_files",
    "ImageWork",
    "default_workers",
    "Pictures",
    "ProcessingGate",
    "Rejected",
    "TextFields",
    "body_limits",
    "image_limits",
]
