"""The one place where processed images become stored photos (shared by both APIs).

Order of operations, which is what makes a request all-or-none and crash-safe:

1. every rendition of every photo of the request is written to the file store (atomic per file);
2. one database transaction checks every limit and inserts every row;
3. if 1 or 2 fails, every file written in 1 is removed and nothing was committed.

A crash between 1 and 2 can leave files no row names (``imgpipe fsck`` removes them); it can never leave a
row naming a missing file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any, Sequence

from .core import Service
from .parts import remove_files, store_renditions
from .store import NewPhoto, PhotoRecord

__all__ = ["PhotoInput", "commit_photos", "exif_pairs", "create_time_of"]


@dataclass
class PhotoInput:
    """One processed picture plus what the request said about it."""

    result: Any  # imgpipe.ProcessedImage
    caption: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()


def exif_pairs(result: Any) -> list[tuple[str, str]]:
    """The PhotoList EXIF block of a processed image as (name, value) pairs, absent values dropped."""
    exif = getattr(result, "exif", None)
    if exif is None:
        return []
    try:
        block = exif.photolist()
    except Exception:  # corrupt EXIF never fails an upload
        return []
    items = block.items() if isinstance(block, dict) else block
    return [(str(k), str(v)) for k, v in items if v is not None and str(v) != ""]


def create_time_of(result: Any) -> str | None:
    """CreateTime from EXIF DateTimeOriginal: UTC ``...Z`` when the offset is known, else as recorded."""
    exif = getattr(result, "exif", None)
    if exif is None:
        return None
    try:
        when = exif.capture_time() if callable(getattr(exif, "capture_time", None)) else getattr(exif, "capture_time")
    except Exception:
        return None
    if when is None:
        return None
    if when.tzinfo is not None:
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def commit_photos(service: Service, inputs: Sequence[PhotoInput], *, owner_id: int, app_id: int | None,
                  album_id: int | None, default_album: bool, pending: bool, api: str,
                  batch: tuple[str, int] | None = None, community_id: int | None = None) -> list[PhotoRecord]:
    """Write files, then record rows in one transaction; on any failure remove the files and re-raise."""
    written: list[str] = []
    try:
        news = []
        for item in inputs:
            r = item.result
            recs = store_renditions(service.files, r.renditions, written)
            news.append(NewPhoto(
                caption=item.caption, description=item.description, tags=item.tags, width=int(r.width),
                height=int(r.height), format=str(r.format).lower(), size=int(r.size), sha256=str(r.sha256),
                exif=exif_pairs(r), create_time=create_time_of(r), renditions=recs, api=api,
                community_id=community_id))
        return service.store.add_photos(owner_id, app_id, news, album_id=album_id, default_album=default_album,
                                        pending=pending, batch=batch)
    except BaseException:
        remove_files(service.files, written)
        raise
