"""Where processed pictures become stored photos: files first, then rows (shared by both APIs).

1. every rendition of every photo of the request is streamed to the file store (atomic per file);
2. one catalog transaction checks every limit and records every row;
3. if 1 or 2 fails, every file written in 1 is removed and nothing was recorded.

A crash between 1 and 2 can leave files no row names (``photoservice fsck`` removes them after a grace
period); it can never leave a row naming a missing file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

import imgpipe

from ..storage import Catalog, FileStore
from ..storage.files import new_file_key, new_stem
from ..storage.records import NewPhoto, PhotoRecord, RenditionRecord, User

__all__ = ["PhotoInput", "store_photos", "exif_pairs", "create_time_of"]


@dataclass(frozen=True)
class PhotoInput:
    """One processed picture and what the request said about it."""

    result: imgpipe.ProcessedImage
    caption: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()


def exif_pairs(exif: imgpipe.Exif) -> tuple[tuple[str, str], ...]:
    """The PhotoList EXIF block as (name, value) pairs, in the sample's order, absent values dropped."""
    return tuple((name, value) for name, value in exif.photolist().items() if value)


def create_time_of(exif: imgpipe.Exif) -> str | None:
    """CreateTime from EXIF DateTimeOriginal: UTC ``...Z`` when the offset is known, else as recorded."""
    when = exif.capture_time()
    if when is None:
        return None
    if when.tzinfo is not None:
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _put_renditions(
    files: FileStore, result: imgpipe.ProcessedImage, written: list[str]
) -> tuple[RenditionRecord, ...]:
    stem = new_stem()
    records = []
    for r in result.renditions:
        key = new_file_key(stem, r.type, r.format)
        with r.open() as source:  # the original is streamed from the request's spool, never read whole
            files.put(key, source, r.size)
        written.append(key)
        records.append(
            RenditionRecord(
                type=r.type, width=r.width, height=r.height, size=r.size, format=key.rsplit(".", 1)[1], file_key=key
            )
        )
    return tuple(records)


def store_photos(
    catalog: Catalog,
    files: FileStore,
    inputs: Sequence[PhotoInput],
    *,
    owner: User,
    app_id: int | None,
    album_id: int | None,
    default_album: bool,
    pending: bool,
    api: str,
    batch: tuple[str, int] | None = None,
    community_id: int | None = None,
) -> list[PhotoRecord]:
    """Write every rendition, then record the photos in one transaction; on failure remove the files."""
    written: list[str] = []
    try:
        news = []
        for item in inputs:
            r = item.result
            news.append(
                NewPhoto(
                    caption=item.caption,
                    description=item.description,
                    tags=item.tags,
                    width=r.width,
                    height=r.height,
                    format=r.format,
                    size=r.size,
                    sha256=r.sha256,
                    exif=exif_pairs(r.exif),
                    create_time=create_time_of(r.exif),
                    renditions=_put_renditions(files, r, written),
                    api=api,
                    community_id=community_id,
                )
            )
        return catalog.add_photos(
            owner, app_id, news, album_id=album_id, default_album=default_album, pending=pending, batch=batch
        )
    except BaseException:
        remove_files(files, written)
        raise


def remove_files(files: FileStore, keys: Sequence[str]) -> None:
    """Best-effort removal (a failed request's files, a rejected photo's files)."""
    for key in keys:
        try:
            files.delete(key)
        except Exception:  # noqa: BLE001 - cleanup must not mask the original error
            pass
