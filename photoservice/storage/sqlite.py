"""The embedded metadata backend: one SQLite file in WAL mode, one connection per thread.

Write transactions start with ``BEGIN IMMEDIATE``, which takes the database's write lock at once: every
write transaction runs alone, so the ``lock_*`` calls have nothing left to do and counts taken inside a
write transaction cannot change before it commits. Read transactions see a consistent snapshot (WAL).
The file is created readable by its owner only (it holds application secrets).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from .metadata import SCHEMA_VERSION, MetadataBackend, Transaction
from .records import (Album, AlreadyExists, Application, Batch, Community, PhotoRecord, RenditionRecord, Session,
                      StoreUnavailable, User, WebCredentials)

__all__ = ["SQLiteBackend"]

# Each entry upgrades the schema from the previous version to its index + 1.
_MIGRATIONS: tuple[str, ...] = ("""
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
""",)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_PHOTO_SELECT = "SELECT p.*, u.username FROM photos p JOIN users u ON u.id = p.owner_id "
_ALBUM_SELECT = "SELECT a.*, (SELECT COUNT(*) FROM photos p WHERE p.album_id = a.id) AS size FROM albums a "


def _app(row: sqlite3.Row) -> Application:
    return Application(id=row["id"], api_key=row["api_key"], secret=row["secret"], name=row["name"],
                       permissions=frozenset(json.loads(row["permissions"])),
                       allowed_addresses=tuple(json.loads(row["allowed_addresses"])),
                       daily_upload_limit=row["daily_upload_limit"])


def _album(row: sqlite3.Row) -> Album:
    return Album(id=row["id"], owner_id=row["owner_id"], name=row["name"], description=row["description"],
                 kind=row["kind"], app_id=row["app_id"], created=row["created"], size=row["size"])


class _SQLiteTransaction(Transaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.c.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.c.execute(sql, params).fetchall()

    def _insert_unique(self, sql: str, params: Sequence[Any], what: str) -> int:
        try:
            return int(self.c.execute(sql, params).lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"{what} exists") from exc

    # applications, users, communities
    def add_application(self, api_key: str, secret: str, name: str, permissions: Sequence[str],
                        allowed_addresses: Sequence[str], daily_upload_limit: int | None, created: float) -> int:
        return self._insert_unique(
            "INSERT INTO applications (api_key, secret, name, permissions, allowed_addresses, daily_upload_limit,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (api_key, secret, name, json.dumps(list(permissions)), json.dumps(list(allowed_addresses)),
             daily_upload_limit, created), "application")

    def application(self, *, api_key: str | None = None, app_id: int | None = None) -> Application | None:
        row = (self._one("SELECT * FROM applications WHERE api_key = ?", (api_key,)) if api_key is not None
               else self._one("SELECT * FROM applications WHERE id = ?", (app_id,)))
        return _app(row) if row else None

    def applications(self) -> list[Application]:
        return [_app(r) for r in self._all("SELECT * FROM applications ORDER BY id")]

    def add_user(self, username: str, password_hash: str, premium: bool, created: float) -> int:
        return self._insert_unique("INSERT INTO users (username, password_hash, premium, created) VALUES (?, ?, ?, ?)",
                                   (username, password_hash, int(premium), created), f"user {username!r}")

    def user(self, *, user_id: int | None = None, username: str | None = None) -> tuple[User, str] | None:
        row = (self._one("SELECT * FROM users WHERE username = ?", (username,)) if username is not None
               else self._one("SELECT * FROM users WHERE id = ?", (user_id,)))
        if row is None:
            return None
        return User(row["id"], row["username"], bool(row["premium"])), row["password_hash"]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.c.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def add_community(self, name: str, title: str) -> int:
        return self._insert_unique("INSERT INTO communities (name, title) VALUES (?, ?)", (name, title),
                                   f"community {name!r}")

    def community(self, name: str) -> Community | None:
        row = self._one("SELECT * FROM communities WHERE name = ?", (name,))
        return Community(row["id"], row["name"], row["title"]) if row else None

    def communities(self) -> list[Community]:
        return [Community(r["id"], r["name"], r["title"]) for r in self._all("SELECT * FROM communities ORDER BY name")]

    # sessions and web credentials
    def add_session(self, key_hash: str, user_id: int, app_id: int, expires: float) -> None:
        self.c.execute("INSERT INTO sessions (key_hash, user_id, app_id, expires) VALUES (?, ?, ?, ?)",
                       (key_hash, user_id, app_id, expires))

    def session(self, key_hash: str, *, lock: bool = False) -> Session | None:
        r = self._one("SELECT s.*, u.username, u.premium FROM sessions s JOIN users u ON u.id = s.user_id"
                      " WHERE key_hash = ?", (key_hash,))
        if r is None:
            return None
        return Session(user=User(r["user_id"], r["username"], bool(r["premium"])), app_id=r["app_id"],
                       expires=r["expires"], last_call_id=r["last_call_id"])

    def set_last_call_id(self, key_hash: str, call_id: str) -> None:
        self.c.execute("UPDATE sessions SET last_call_id = ? WHERE key_hash = ?", (call_id, key_hash))

    def add_web_credentials(self, cookie_hash: str, wssid_hash: str, user_id: int, app_id: int,
                            expires: float) -> None:
        self.c.execute("INSERT INTO web_credentials (cookie_hash, wssid_hash, user_id, app_id, expires)"
                       " VALUES (?, ?, ?, ?, ?)", (cookie_hash, wssid_hash, user_id, app_id, expires))

    def web_credentials(self, cookie_hash: str) -> tuple[WebCredentials, str] | None:
        r = self._one("SELECT w.*, u.username, u.premium FROM web_credentials w JOIN users u ON u.id = w.user_id"
                      " WHERE cookie_hash = ?", (cookie_hash,))
        if r is None:
            return None
        user = User(r["user_id"], r["username"], bool(r["premium"]))
        return WebCredentials(user=user, app_id=r["app_id"], expires=r["expires"]), r["wssid_hash"]

    def delete_web_credentials(self, cookie_hash: str) -> None:
        self.c.execute("DELETE FROM web_credentials WHERE cookie_hash = ?", (cookie_hash,))

    def delete_expired_credentials(self, now: float) -> None:
        self.c.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        self.c.execute("DELETE FROM web_credentials WHERE expires <= ?", (now,))

    # albums
    def add_album(self, album: Album) -> bool:
        cur = self.c.execute("INSERT INTO albums (id, owner_id, name, description, kind, app_id, created)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                             (album.id, album.owner_id, album.name, album.description, album.kind, album.app_id,
                              album.created))
        return cur.rowcount == 1

    def album(self, album_id: int, *, lock: bool = False) -> Album | None:
        row = self._one(_ALBUM_SELECT + "WHERE a.id = ?", (album_id,))
        return _album(row) if row else None

    def default_album(self, owner_id: int, app_id: int, *, lock: bool = False) -> Album | None:
        row = self._one(_ALBUM_SELECT + "WHERE a.owner_id = ? AND a.app_id = ? AND a.kind = 'application'",
                        (owner_id, app_id))
        return _album(row) if row else None

    def albums(self, owner_id: int) -> list[Album]:
        return [_album(r) for r in self._all(_ALBUM_SELECT + "WHERE a.owner_id = ? ORDER BY a.created, a.id",
                                             (owner_id,))]

    # photos
    def add_photo(self, photo: PhotoRecord) -> bool:
        p = photo
        cur = self.c.execute(
            "INSERT INTO photos (id, owner_id, album_id, app_id, community_id, status, caption, description, tags,"
            " width, height, format, size, sha256, exif, create_time, upload_time, mod_time, batch_id, api)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (p.id, p.owner_id, p.album_id, p.app_id, p.community_id, p.status, p.caption, p.description,
             json.dumps(list(p.tags)), p.width, p.height, p.format, p.size, p.sha256,
             json.dumps([list(kv) for kv in p.exif]), p.create_time, p.upload_time, p.mod_time, p.batch_id, p.api))
        if cur.rowcount != 1:
            return False
        self.c.executemany("INSERT INTO renditions (photo_id, type, width, height, size, format, file_key)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(p.id, r.type, r.width, r.height, r.size, r.format, r.file_key) for r in p.renditions])
        return True

    def _photos(self, rows: list[sqlite3.Row]) -> list[PhotoRecord]:
        if not rows:
            return []
        rends: dict[int, list[RenditionRecord]] = {r["id"]: [] for r in rows}
        ids = list(rends)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in self._all(f"SELECT * FROM renditions WHERE photo_id IN ({','.join('?' * len(chunk))})"
                               " ORDER BY rowid", chunk):
                rends[r["photo_id"]].append(RenditionRecord(r["type"], r["width"], r["height"], r["size"],
                                                            r["format"], r["file_key"]))
        return [PhotoRecord(
            id=r["id"], owner_id=r["owner_id"], owner_name=r["username"], album_id=r["album_id"], app_id=r["app_id"],
            community_id=r["community_id"], status=r["status"], caption=r["caption"], description=r["description"],
            tags=tuple(json.loads(r["tags"])), width=r["width"], height=r["height"], format=r["format"],
            size=r["size"], sha256=r["sha256"], exif=tuple((str(k), str(v)) for k, v in json.loads(r["exif"])),
            create_time=r["create_time"], upload_time=r["upload_time"], mod_time=r["mod_time"],
            batch_id=r["batch_id"], api=r["api"], renditions=tuple(rends[r["id"]])) for r in rows]

    def photos(self, owner_id: int, *, album_id: int | None = None, photo_ids: Sequence[int] | None = None,
               include_pending: bool = True, status: str | None = None) -> list[PhotoRecord]:
        sql = _PHOTO_SELECT + "WHERE p.owner_id = ?"
        params: list[Any] = [owner_id]
        if album_id is not None:
            sql += " AND p.album_id = ?"
            params.append(album_id)
        if not include_pending:
            sql += " AND p.status = 'visible'"
        if status is not None:
            sql += " AND p.status = ?"
            params.append(status)
        if photo_ids is not None:
            sql += f" AND p.id IN ({','.join('?' * len(photo_ids))})"
            params.extend(photo_ids)
        return self._photos(self._all(sql + " ORDER BY p.seq", params))

    def album_covers(self, owner_id: int) -> dict[int, PhotoRecord]:
        rows = self._all(_PHOTO_SELECT + "WHERE p.seq IN (SELECT MAX(seq) FROM photos WHERE owner_id = ?"
                         " AND status = 'visible' AND album_id IS NOT NULL GROUP BY album_id)", (owner_id,))
        return {p.album_id: p for p in self._photos(rows) if p.album_id is not None}

    def photo(self, photo_id: int) -> PhotoRecord | None:
        got = self._photos(self._all(_PHOTO_SELECT + "WHERE p.id = ?", (photo_id,)))
        return got[0] if got else None

    def count_photos(self, *, album_id: int | None = None, owner_id: int | None = None,
                     app_id: int | None = None, status: str | None = None, since: float | None = None) -> int:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("album_id", album_id), ("owner_id", owner_id), ("app_id", app_id),
                              ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("upload_time > ?")
            params.append(since)
        row = self._one("SELECT COUNT(*) FROM photos" + (" WHERE " + " AND ".join(where) if where else ""), params)
        return int(row[0]) if row else 0

    def set_photo_status(self, photo_id: int, status: str, mod_time: float) -> None:
        self.c.execute("UPDATE photos SET status = ?, mod_time = ? WHERE id = ?", (status, mod_time, photo_id))

    def delete_photo(self, photo_id: int) -> None:
        self.c.execute("DELETE FROM renditions WHERE photo_id = ?", (photo_id,))
        self.c.execute("DELETE FROM photos WHERE id = ?", (photo_id,))

    def file_keys(self) -> set[str]:
        return {r["file_key"] for r in self._all("SELECT file_key FROM renditions")}

    def file_key_known(self, file_key: str) -> bool:
        return self._one("SELECT 1 FROM renditions WHERE file_key = ?", (file_key,)) is not None

    # sign-in throttling
    def failures(self, key: str, *, lock: bool = False) -> tuple[int, float] | None:
        row = self._one("SELECT count, last FROM sign_in_failures WHERE key = ?", (key,))
        return (int(row["count"]), float(row["last"])) if row else None

    def set_failures(self, key: str, count: int, last: float) -> None:
        if count <= 0:
            self.c.execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))
        else:
            self.c.execute("INSERT INTO sign_in_failures (key, count, last) VALUES (?, ?, ?)"
                           " ON CONFLICT (key) DO UPDATE SET count = excluded.count, last = excluded.last",
                           (key, count, last))

    # batches, locks, flags
    def batch(self, owner_id: int, batch_id: str, *, lock: bool = False) -> Batch | None:
        r = self._one("SELECT * FROM batches WHERE owner_id = ? AND batch_id = ?", (owner_id, batch_id))
        return Batch(r["owner_id"], r["batch_id"], r["batcount"], r["used"], r["first_used"]) if r else None

    def put_batch(self, batch: Batch) -> None:
        self.c.execute("INSERT INTO batches (owner_id, batch_id, batcount, used, first_used) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT (owner_id, batch_id) DO UPDATE SET used = excluded.used",
                       (batch.owner_id, batch.batch_id, batch.batcount, batch.used, batch.first_used))

    def lock_owner(self, user_id: int) -> None:
        """Nothing to do: the write transaction holds the database's write lock."""

    def lock_application(self, app_id: int) -> None:
        """Nothing to do: the write transaction holds the database's write lock."""

    def flag(self, name: str) -> str | None:
        row = self._one("SELECT value FROM flags WHERE name = ?", (name,))
        return row["value"] if row else None

    def set_flag(self, name: str, value: str | None) -> None:
        if value is None:
            self.c.execute("DELETE FROM flags WHERE name = ?", (name,))
        else:
            self.c.execute("INSERT INTO flags (name, value) VALUES (?, ?)"
                           " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value))


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
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
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
            for script in _MIGRATIONS[before:]:
                for statement in script.split(";"):
                    if statement.strip():
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
