"""Configuration: one dataclass, filled from the command line and the environment in one place.

Every setting has a default (the embedded defaults: SQLite and a folder under the data directory), a
``PHOTOSERVICE_*`` environment variable and a ``--option`` of ``photoservice serve``; the command line wins
over the environment, which wins over the default. :func:`Config.from_env` is what ``create_app()`` (ASGI
and WSGI factories for any server) uses; the CLI builds its options from the same table (:data:`SETTINGS`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["Config", "Setting", "SETTINGS", "FakeClock", "Clock", "default_data_dir"]

#: A clock returns the current time as seconds since the epoch. Tests inject a :class:`FakeClock`.
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


def default_data_dir() -> Path:
    """The data folder used when none is given: the user's data directory (``~/.local/share/photoservice``),
    the same whatever the current directory, so that ``serve`` and the admin commands find one another."""
    return Path(platformdirs.user_data_dir("photoservice", appauthor=False))


@dataclass(frozen=True)
class Setting:
    """How one field of :class:`Config` is set from outside: its option, variable and help."""

    option: str
    env: str
    help: str
    serve_only: bool = True


def _setting(option: str, help: str, serve_only: bool = True) -> dict[str, Setting]:
    env = "PHOTOSERVICE_" + option.lstrip("-").replace("-", "_").upper()
    return {"setting": Setting(option, env, help, serve_only)}


MiB = 1024 * 1024


@dataclass
class Config:
    """Everything the service can be told; every field has a default."""

    data_dir: Path = field(
        default_factory=default_data_dir,
        metadata=_setting(
            "--data",
            "data folder: the SQLite database and the image files unless --database/--storage say "
            "otherwise (default: the user's data directory)",
            serve_only=False,
        ),
    )
    database: str | None = field(
        default=None,
        metadata=_setting(
            "--database",
            "metadata database URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME "
            "(default: photoservice.sqlite3 in the data folder)",
            serve_only=False,
        ),
    )
    storage: str | None = field(
        default=None,
        metadata=_setting(
            "--storage",
            "image storage URL: file:///PATH or s3://BUCKET/PREFIX, credentials from the usual AWS "
            "variables (default: files/ in the data folder)",
            serve_only=False,
        ),
    )
    s3_endpoint_url: str | None = field(
        default=None,
        metadata=_setting(
            "--s3-endpoint-url",
            "S3-compatible server for s3:// storage, e.g. http://127.0.0.1:9000 for MinIO (default: AWS)",
            serve_only=False,
        ),
    )
    database_pool_size: int = field(
        default=10,
        metadata=_setting("--database-pool-size", "most PostgreSQL connections per process", serve_only=False),
    )
    workers: int = field(
        default=1, metadata=_setting("--workers", "worker processes serving one port (each opens its own connections)")
    )
    host: str = field(default="127.0.0.1", metadata=_setting("--host", "address to listen on"))
    port: int = field(default=8080, metadata=_setting("--port", "TCP port (0 picks a free one)"))
    public_url: str | None = field(
        default=None,
        metadata=_setting(
            "--public-url",
            "base of the URLs handed out, e.g. https://photos.example.org (default: from each request's Host header)",
        ),
    )
    allowed_hosts: str | None = field(
        default=None,
        metadata=_setting(
            "--allowed-hosts",
            "comma-separated Host names requests may carry when no --public-url is set, whose "
            "links are then built from the Host (default: localhost, 127.0.0.1, ::1 and --host); '*' allows any",
        ),
    )
    platform_http_errors: bool = field(
        default=False,
        metadata=_setting(
            "--platform-http-errors", "answer up.* errors with a fitting 4xx/5xx status instead of the historical 200"
        ),
    )
    regular_album_limit: int = field(default=60, metadata=_setting("--regular-album-limit", "photos per regular album"))
    application_album_limit: int = field(
        default=1000, metadata=_setting("--application-album-limit", "photos per default application album")
    )
    pending_limit: int = field(
        default=500, metadata=_setting("--pending-limit", "pending photos per user and application before error 325")
    )
    session_ttl: float = field(
        default=3600.0, metadata=_setting("--session-ttl", "lifetime of up.* session keys, seconds")
    )
    web_credentials_ttl: float = field(
        default=3600.0,
        metadata=_setting("--credentials-ttl", "lifetime of the uploadPhotos auth cookie + WSSID, seconds"),
    )
    batch_ttl: float = field(
        default=300.0,
        metadata=_setting("--batch-ttl", "a batch id (batid) is usable this many seconds after its first use"),
    )
    max_body_bytes: int = field(default=200 * MiB, metadata=_setting("--max-body-bytes", "largest request body"))
    max_file_bytes: int = field(default=50 * MiB, metadata=_setting("--max-file-bytes", "largest image file"))
    max_field_bytes: int = field(default=64 * 1024, metadata=_setting("--max-field-bytes", "largest text field"))
    max_parts: int = field(default=200, metadata=_setting("--max-parts", "most pictures in one request"))
    max_image_pixels: int = field(
        default=100_000_000,
        metadata=_setting("--max-image-pixels", "largest image accepted, in pixels (decompression-bomb guard)"),
    )
    decode_budget_pixels: int = field(
        default=100_000_000,
        metadata=_setting(
            "--decode-budget-pixels",
            "pixels decoded at once in this process, all requests together: larger "
            "images wait for each other instead of multiplying memory (about 3.5 bytes per pixel)",
        ),
    )
    image_workers: int = field(
        default=0, metadata=_setting("--image-workers", "threads decoding images in this process (0: one per CPU)")
    )
    sign_in_free_failures: int = field(
        default=5,
        metadata=_setting(
            "--sign-in-free-failures",
            "failed sign-ins in a row an account may have before each further attempt "
            "waits 1, 2, 4, ... seconds (an address may have 4 times as many)",
        ),
    )
    sign_in_max_delay: float = field(
        default=900.0,
        metadata=_setting("--sign-in-max-delay", "the longest wait between sign-in attempts after failures, seconds"),
    )
    media_url_ttl: float = field(
        default=3600.0,
        metadata=_setting(
            "--media-url-ttl", "media URLs handed out are signed and stay valid at least this long, seconds"
        ),
    )
    keep_gps: bool = field(
        default=False,
        metadata=_setting(
            "--keep-gps",
            "store originals with their GPS position (by default the GPS block is removed from every "
            "original before it is stored, losslessly)",
        ),
    )
    unauthorized_budget_bytes: int = field(
        default=64 * MiB,
        metadata=_setting(
            "--unauthorized-budget-bytes",
            "bytes of request bodies not yet authorized, all requests of a worker together; beyond: 503",
        ),
    )
    uploads_per_address: int = field(
        default=8,
        metadata=_setting(
            "--uploads-per-address", "requests reading a body at once from one client address, per worker; beyond: 429"
        ),
    )
    body_idle_timeout: float = field(
        default=30.0, metadata=_setting("--body-idle-timeout", "seconds without request body bytes before 408 (ASGI)")
    )
    body_min_rate: float = field(
        default=1024.0,
        metadata=_setting(
            "--body-min-rate", "bytes per second a request body must average after --body-rate-grace, else 408 (ASGI)"
        ),
    )
    body_rate_grace: float = field(
        default=10.0, metadata=_setting("--body-rate-grace", "seconds before --body-min-rate applies")
    )
    log_level: str = field(default="info", metadata=_setting("--log-level", "debug, info, warning or error"))
    #: Argon2id cost of password hashes (argon2-cffi's defaults; tests lower them).
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024
    #: Flush every stored file to disk before its row is committed (off only for throwaway data).
    fsync: bool = True
    clock: Clock = field(default=time.time, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Defaults, then ``PHOTOSERVICE_*`` variables, then ``overrides`` (those that are not None)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            setting = f.metadata.get("setting")
            if overrides.get(f.name) is not None:
                values[f.name] = overrides[f.name]
            elif setting is not None and env.get(setting.env, "") != "":
                values[f.name] = _parse(env[setting.env], f.type, setting.env)
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**values)

    @property
    def database_url(self) -> str:
        """The metadata database's URL (``--database``, or the SQLite file in the data folder)."""
        return self.database or f"sqlite:///{Path(self.data_dir).resolve() / 'photoservice.sqlite3'}"

    @property
    def storage_url(self) -> str:
        """The file storage's URL (``--storage``, or ``files/`` in the data folder)."""
        return self.storage or f"file://{Path(self.data_dir).resolve() / 'files'}"


def _parse(text: str, annotation: Any, name: str) -> Any:
    kind = str(annotation)
    try:
        if kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "Path":
            return Path(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a valid {kind}") from None
    return text


#: (field name, its Setting) of every field settable from outside, in declaration order.
SETTINGS: tuple[tuple[str, Setting], ...] = tuple(
    (f.name, f.metadata["setting"]) for f in fields(Config) if "setting" in f.metadata
)
