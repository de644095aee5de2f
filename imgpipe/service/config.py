"""Configuration and the injectable clock of the reference upload service."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

#: A clock returns the current time as seconds since the epoch (float). Tests inject a fake one.
Clock = Callable[[], float]


class FakeClock:
    """A manually advanced clock for tests: ``clock()`` returns ``now``; ``advance(s)`` moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += float(seconds)


@dataclass
class Config:
    """Everything the service can be told; every field has an embedded default.

    ``data_dir`` holds ``imgpipe.sqlite3`` (metadata) and ``files/`` (image files).
    """

    data_dir: Path = Path("imgpipe-data")
    host: str = "127.0.0.1"
    port: int = 8080
    #: Base of the URLs the service hands out ("http://example.org"); derived from the Host header when None.
    public_url: str | None = None
    #: Photos per regular album (spec: 60) and per default application album (spec: 1000).
    regular_album_limit: int = 60
    application_album_limit: int = 1000
    #: Pending photos a user may hold per application before error 325.
    pending_limit: int = 500
    #: Lifetime of platform session keys and of Yahoo cookie + WSSID credentials, seconds.
    session_ttl: float = 3600.0
    web_credentials_ttl: float = 3600.0
    #: A Yahoo batch id is usable for this many seconds after its first use.
    batch_ttl: float = 300.0
    #: up.photos.upload errors answer HTTP 200 (legacy) unless this is True (then 400/401/403/404/409/429/500/503).
    platform_http_errors: bool = False
    #: Request limits: whole body, one image file, one text field, number of parts.
    max_body_bytes: int = 200 * 1024 * 1024
    max_file_bytes: int = 50 * 1024 * 1024
    max_field_bytes: int = 64 * 1024
    max_parts: int = 200
    #: Largest image accepted, in pixels (decompression-bomb guard handed to imgpipe).
    max_image_pixels: int = 100_000_000
    clock: Clock = field(default=time.time, repr=False)

    @property
    def db_path(self) -> Path:
        """Path of the SQLite metadata database."""
        return Path(self.data_dir) / "imgpipe.sqlite3"

    @property
    def files_dir(self) -> Path:
        """Root folder of the stored image files."""
        return Path(self.data_dir) / "files"

    @property
    def maintenance_flag(self) -> Path:
        """While this file exists every API answers "service unavailable" (platform 2, Yahoo 503)."""
        return Path(self.data_dir) / "MAINTENANCE"
