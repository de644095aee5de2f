"""The embedded metadata backend: one SQLite file in WAL mode, one connection per thread.

Write transactions start with ``BEGIN IMMEDIATE``, which takes the database's write lock at once: every
write transaction runs alone, so the ``lock_*`` calls have nothing left to do and counts taken inside a
write transaction cannot change before it commits. Read transactions see a consistent snapshot (WAL).
The file is created readable by its owner only (it holds application secrets).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .metadata import SCHEMA_VERSION, MetadataBackend, Transaction
from .records import StoreUnavailable
from .sql import SQLTransaction, split_script

__all__ = ["SQLiteBackend"]

# Each entry upgrades the schema from the previous version to its index + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
CREATE TABLE applications (
    id INTEGER PRIMARY KEY, api_key TEXT NOT NULL UNIQUE, secret TEXT NOT NULL, name TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]', allowed_addresses TEXT NOT NULL DEFAULT '[]',
    daily_upload_limit INTEGER, created REAL NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    premium INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE communities (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '');
CREATE TABLE sessions (
    key_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), app_id INTEGER NOT NULL,
    expires REAL NOT NULL, last_call_id TEXT);
CREATE TABLE web_credentials (
    cookie_hash TEXT PRIMARY KEY, wssid_hash TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id),
    app_id INTEGER NOT NULL, expires REAL NOT NULL);
CREATE TABLE albums (
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users(id), name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, app_id INTEGER, created REAL NOT NULL);
CREATE UNIQUE INDEX albums_default ON albums(owner_id, app_id) WHERE kind = 'application';
CREATE INDEX albums_owner ON albums(owner_id);
CREATE TABLE photos (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES users(id), album_id INTEGER, app_id INTEGER, community_id INTEGER,
    status TEXT NOT NULL, caption TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]', width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, exif TEXT NOT NULL DEFAULT '[]', create_time TEXT,
    upload_time REAL NOT NULL, mod_time REAL NOT NULL, batch_id TEXT, api TEXT NOT NULL);
CREATE INDEX photos_album ON photos(album_id);
CREATE INDEX photos_owner ON photos(owner_id, status);
CREATE INDEX photos_app_time ON photos(app_id, upload_time);
CREATE TABLE renditions (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE, type TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, size INTEGER NOT NULL, format TEXT NOT NULL,
    file_key TEXT NOT NULL UNIQUE, PRIMARY KEY (photo_id, type));
CREATE TABLE batches (
    owner_id INTEGER NOT NULL, batch_id TEXT NOT NULL, batcount INTEGER NOT NULL, used INTEGER NOT NULL,
    first_used REAL NOT NULL, PRIMARY KEY (owner_id, batch_id));
CREATE TABLE flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sign_in_failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL);
""",
)
assert len(_MIGRATIONS) == SCHEMA_VERSION


class _SQLiteTransaction(SQLTransaction):
    _RENDITION_ORDER = "rowid"
    _UNIQUE_ERRORS = (sqlite3.IntegrityError,)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.c.execute(sql, params)

    def _executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        self.c.executemany(sql, params)

    def _hold(self, table: str, where: str, params: Sequence[Any]) -> None:
        """Nothing to do: the write transaction holds the database's write lock."""

    def _hold_key(self, namespace: int, key: str) -> None:
        """Nothing to do: the write transaction holds the database's write lock."""


class SQLiteBackend(MetadataBackend):
    """SQLite at ``path``; ``busy_timeout`` seconds of waiting for the write lock before StoreUnavailable."""

    def __init__(self, path: str | Path, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not self.path.exists():  # created owner-only: it holds application secrets
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                conn = sqlite3.connect(
                    self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
                )
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"cannot open the metadata database {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Transaction]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        try:
            yield _SQLiteTransaction(conn)
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreUnavailable(str(exc)) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise StoreUnavailable(str(exc)) from exc

    def schema_version(self) -> int:
        conn = self._conn()
        try:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            before = int(row[0]) if row else 0
            if before > len(_MIGRATIONS):  # a newer photoservice made it: leave it as it is
                conn.execute("ROLLBACK")
                return before
            for script in _MIGRATIONS[before:]:
                for statement in split_script(script):
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (len(_MIGRATIONS),))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return before

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
