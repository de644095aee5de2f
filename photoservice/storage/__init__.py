"""Storage: the metadata and files interfaces, their backends, and the catalog of rules above them.

- :mod:`.metadata` and :mod:`.files`: the two interfaces; :mod:`.records`: what they hold.
- :mod:`.sqlite` and :mod:`.local`: the embedded backends (SQLite file, local folder); :mod:`.postgres`
  and :mod:`.s3`: the shared ones (PostgreSQL, S3-compatible object storage) that any number of workers
  and instances use at once; :mod:`.sql`: the statements both databases run.
- :mod:`.catalog`: the rules (album limits, pending limit, call_id order, batches, daily limits) over any
  metadata backend; :mod:`.fsck`: finds and removes what a crash left behind.

:func:`open_storage` picks the backends from the configured URLs.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ..config import Config
from .catalog import Catalog
from .files import FileStore
from .metadata import SCHEMA_VERSION, MetadataBackend
from .passwords import PasswordParams, Passwords
from .records import Quotas, SignInPolicy

__all__ = [
    "open_metadata",
    "open_files",
    "open_storage",
    "prepare_schema",
    "redacted_url",
    "Catalog",
    "FileStore",
    "MetadataBackend",
    "UnsupportedURL",
    "SchemaMismatch",
]


class UnsupportedURL(ValueError):
    """A ``--database`` or ``--storage`` URL names a scheme this installation does not serve."""


class SchemaMismatch(Exception):
    """The database's schema is older (run ``photoservice migrate``) or newer than this code."""


def prepare_schema(backend: MetadataBackend) -> None:
    """Create the schema in an empty database; :class:`SchemaMismatch` when it has another version."""
    version = backend.schema_version()
    if version == 0:
        backend.migrate()
    elif version < SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the database schema is version {version}, this photoservice needs "
            f"{SCHEMA_VERSION}: run `photoservice migrate` first"
        )
    elif version > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the database schema is version {version}, newer than this photoservice "
            f"({SCHEMA_VERSION}): upgrade photoservice"
        )


def open_metadata(url: str, pool_size: int = 10) -> MetadataBackend:
    """The metadata backend of a database URL: ``sqlite:///PATH`` or
    ``postgresql://USER:PASSWORD@HOST:PORT/DBNAME`` (``pool_size``: PostgreSQL connections per process)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from .sqlite import SQLiteBackend

        if not parts.path or parts.path == "/":
            raise UnsupportedURL(f"{url!r}: expected sqlite:///PATH")
        return SQLiteBackend(unquote(parts.path))
    if parts.scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresBackend
        except ImportError as exc:
            raise UnsupportedURL(
                f"{redacted_url(url)}: PostgreSQL needs psycopg and psycopg_pool "
                f"(pip install 'fastmime[service]'): {exc}"
            ) from exc
        return PostgresBackend(url, pool_size=pool_size)
    raise UnsupportedURL(
        f"unsupported database URL {redacted_url(url)!r} "
        "(expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME)"
    )


def open_files(url: str, fsync: bool = True, s3_endpoint_url: str | None = None) -> FileStore:
    """The file store of a storage URL: ``file:///PATH`` or ``s3://BUCKET/PREFIX`` (``s3_endpoint_url``: an
    S3-compatible server instead of AWS)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        from .local import LocalFileStore

        if parts.netloc not in ("", "localhost"):
            raise UnsupportedURL(f"{url!r}: a file URL names a local folder (file:///PATH)")
        return LocalFileStore(unquote(parts.path), fsync=fsync)
    if parts.scheme == "s3":
        try:
            from .s3 import S3FileStore
        except ImportError as exc:
            raise UnsupportedURL(f"{url}: S3 needs boto3 (pip install 'fastmime[service]'): {exc}") from exc
        if not parts.netloc or parts.query or parts.fragment:
            raise UnsupportedURL(f"{url!r}: expected s3://BUCKET/PREFIX")
        return S3FileStore(parts.netloc, unquote(parts.path), endpoint_url=s3_endpoint_url)
    raise UnsupportedURL(f"unsupported storage URL {url!r} (expected file:///PATH or s3://BUCKET/PREFIX)")


def redacted_url(url: str) -> str:
    """The URL with its password masked (errors, logs and admin output never show it)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def open_storage(config: Config) -> tuple[Catalog, FileStore]:
    """The catalog (over the configured database, its schema checked or created) and the file store."""
    quotas = Quotas(
        regular_album_limit=config.regular_album_limit,
        application_album_limit=config.application_album_limit,
        pending_limit=config.pending_limit,
        batch_ttl=config.batch_ttl,
    )
    passwords = Passwords(PasswordParams(time_cost=config.password_time_cost, memory_kib=config.password_memory_kib))
    backend = open_metadata(config.database_url, pool_size=config.database_pool_size)
    try:
        prepare_schema(backend)
    except BaseException:
        backend.close()
        raise
    sign_in = SignInPolicy(free_failures=config.sign_in_free_failures, max_delay=config.sign_in_max_delay)
    catalog = Catalog(backend, config.clock, quotas, passwords, sign_in)
    return catalog, open_files(config.storage_url, fsync=config.fsync, s3_endpoint_url=config.s3_endpoint_url)
