"""What both APIs share: their context (configuration and storage), links, and small parameter checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..config import Config
from ..storage import Catalog, FileStore
from ..storage.records import PhotoRecord
from ..uploads import ImageWork
from .links import MediaSigner

__all__ = ["ApiContext", "parse_urlencoded", "parse_id", "split_tags", "name_with_nul"]


@dataclass
class ApiContext:
    """The configuration, the storage, the image workers and the media URL signer an API works with."""

    config: Config
    catalog: Catalog
    files: FileStore
    signer: MediaSigner
    images: ImageWork

    def rendition_url(self, base_url: str, photo: PhotoRecord, *types: str) -> str:
        """The signed URL of the first of ``types`` the photo has, or ""."""
        for type_ in types:
            r = photo.rendition(type_)
            if r is not None:
                return self.signer.url(base_url, r.file_key)
        return ""


def parse_urlencoded(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """The fields of an application/x-www-form-urlencoded body (any other body has none)."""
    if not body or content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return []
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")


def parse_id(value: str) -> int | None:
    """A photo or album id (ASCII digits, at most 19 of them), or None."""
    value = value.strip()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def split_tags(*values: str) -> tuple[str, ...]:
    """Comma-separated tag lists merged: trimmed, empty ones dropped, duplicates removed, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag:
                seen.setdefault(tag, None)
    return tuple(seen)


def name_with_nul(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The name (printable: NUL removed, shortened) of the first parameter whose name or value holds U+0000.

    Both APIs refuse such text as invalid: no client means it, and PostgreSQL text cannot store it.
    """
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "")[:40]
    return None
