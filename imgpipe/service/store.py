"""Metadata storage: the :class:`MetadataStore` interface and its SQLite implementation.

Every method that changes more than one row runs in one transaction. Uploads take SQLite's write lock
first (``BEGIN IMMEDIATE``) and count-then-insert inside it, so album, pending, batch and rate limits hold
under any number of concurrent uploads. All SQL is parameterized. Secrets handed to clients (session keys,
auth cookies, WSSIDs) are stored only as SHA-256 digests; passwords as scrypt hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Sequence

from .config import Clock

__all__ = [
    "StoreError", "NotFound", "AlreadyExists", "StoreUnavailable", "AlbumNotFound", "AlbumFull",
    "PendingLimitReached", "UploadLimitReached", "BatchError", "BatchExpired", "BatchCountMismatch",
    "BatchExceeded", "CallIdNotIncreasing", "Quotas", "Application", "User", "Community", "Session",
    "WebCredentials", "Album", "RenditionRecord", "PhotoRecord", "NewPhoto", "MetadataStore", "SQLiteStore",
    "hash_password", "verify_password",
]


# --------------------------------------------------------------------------------------------- errors
class StoreError(Exception):
    """Base class of every metadata-store error."""


class NotFound(StoreError):
    """The named row does not exist (or is not visible to the caller)."""


class AlreadyExists(StoreError):
    """A unique name (user, community) is taken."""


class StoreUnavailable(StoreError):
    """The database could not be reached or stayed locked too long."""


class AlbumNotFound(StoreError):
    """The album id names no album."""


class AlbumFull(StoreError):
    """Adding the photos would exceed the album's size limit."""

    def __init__(self, album_id: int, limit: int) -> None:
        super().__init__(f"album {album_id} is full (limit {limit} photos)")
        self.album_id = album_id
        self.limit = limit


class PendingLimitReached(StoreError):
    """The user holds too many pending photos from this application."""


class UploadLimitReached(StoreError):
    """The application reached its uploads-per-24-hours limit."""


class BatchError(StoreError):
    """Base class of batch (batid/batcount) violations."""


class BatchExpired(BatchError):
    """The batch id was first used longer ago than the batch lifetime."""


class BatchCountMismatch(BatchError):
    """A request names a different batcount than the batch was opened with."""


class BatchExceeded(BatchError):
    """More photos than batcount would be uploaded under this batch id."""


class CallIdNotIncreasing(StoreError):
    """call_id is not strictly greater than the previous call_id of the session."""


# --------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Quotas:
    """Limits enforced inside the upload transaction."""

    regular_album_limit: int = 60
    application_album_limit: int = 1000
    pending_limit: int = 500
    batch_ttl: float = 300.0


@dataclass(frozen=True)
class Application:
    """A registered API client. ``secret`` signs platform requests; ``api_key`` doubles as Yahoo appid."""

    id: int
    api_key: str
    secret: str
    name: str
    permissions: frozenset[str]
    allowed_addresses: tuple[str, ...]
    daily_upload_limit: int | None


@dataclass(frozen=True)
class User:
    """A photo owner."""

    id: int
    username: str
    premium: bool


@dataclass(frozen=True)
class Community:
    """A community (the platform's ``community`` parameter)."""

    id: int
    name: str
    title: str


@dataclass(frozen=True)
class Session:
    """A platform session: a user signed in through one application."""

    user: User
    app_id: int
    expires: float
    last_call_id: str | None


@dataclass(frozen=True)
class WebCredentials:
    """A Yahoo browser-based-auth grant: auth cookie + WSSID for one user and one appid."""

    user: User
    app_id: int
    expires: float


@dataclass(frozen=True)
class Album:
    """An album. ``kind`` is ``"regular"`` or ``"application"`` (the default album of one application)."""

    id: int
    owner_id: int
    name: str
    description: str
    kind: str
    app_id: int | None
    created: float
    size: int = 0


@dataclass(frozen=True)
class RenditionRecord:
    """One stored rendition of a photo; ``file_key`` names it in the file store."""

    type: str
    width: int
    height: int
    size: int
    format: str
    file_key: str


@dataclass(frozen=True)
class NewPhoto:
    """A processed photo ready to be recorded (its files are already in the file store)."""

    caption: str
    description: str
    tags: tuple[str, ...]
    width: int
    height: int
    format: str
    size: int
    sha256: str
    exif: list[tuple[str, str]]
    create_time: str | None
    renditions: tuple[RenditionRecord, ...]
    api: str = "yahoo"
    community_id: int | None = None


@dataclass(frozen=True)
class PhotoRecord:
    """A stored photo."""

    id: int
    owner_id: int
    owner_name: str
    album_id: int | None
    app_id: int | None
    community_id: int | None
    status: str
    caption: str
    description: str
    tags: tuple[str, ...]
    width: int
    height: int
    format: str
    size: int
    sha256: str
    exif: list[tuple[str, str]]
    create_time: str | None
    upload_time: float
    mod_time: float
    batch_id: str | None
    api: str
    renditions: tuple[RenditionRecord, ...] = field(default=())

    def rendition(self, type_: str) -> RenditionRecord | None:
        """The rendition of this type, or None."""
        for r in self.renditions:
            if r.type == type_:
                return r
        return None


# --------------------------------------------------------------------------------------------- passwords
def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt: ``scrypt$<salt hex>$<hash hex>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against :func:`hash_password` output in constant time."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1,
                                dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_id() -> int:
    """A random positive 53-bit id: unguessable enough, exact in JSON numbers and JavaScript."""
    return secrets.randbits(52) + (1 << 52)


# --------------------------------------------------------------------------------------------- interface
class MetadataStore(ABC):
    """What the service needs from a metadata database. SQLite now; PostgreSQL can implement it later."""

    # applications, users, communities
    @abstractmethod
    def create_application(self, name: str, permissions: Sequence[str] = (), allowed_addresses: Sequence[str] = (),
                           daily_upload_limit: int | None = None) -> Application:
        """Register an application with a fresh api_key and secret."""

    @abstractmethod
    def get_application(self, api_key: str) -> Application | None:
        """The application with this api_key, or None."""

    @abstractmethod
    def get_application_by_id(self, app_id: int) -> Application | None:
        """The application with this id, or None."""

    @abstractmethod
    def list_applications(self) -> list[Application]:
        """Every application."""

    @abstractmethod
    def create_user(self, username: str, password: str, premium: bool = False) -> User:
        """Create a user; raises :class:`AlreadyExists` when the name is taken."""

    @abstractmethod
    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None."""

    @abstractmethod
    def get_user(self, user_id: int) -> User | None:
        """The user with this id, or None."""

    @abstractmethod
    def get_user_by_name(self, username: str) -> User | None:
        """The user with this name, or None."""

    @abstractmethod
    def create_community(self, name: str, title: str = "") -> Community:
        """Create a community; raises :class:`AlreadyExists` when the name is taken."""

    @abstractmethod
    def get_community(self, name: str) -> Community | None:
        """The community with this system name, or None."""

    @abstractmethod
    def list_communities(self) -> list[Community]:
        """Every community, by name."""

    # sessions and credentials
    @abstractmethod
    def create_session(self, user_id: int, app_id: int, ttl: float) -> tuple[str, Session]:
        """Open a platform session; returns (session_key, session)."""

    @abstractmethod
    def get_session(self, session_key: str) -> Session | None:
        """The unexpired session for this key, or None."""

    @abstractmethod
    def advance_call_id(self, session_key: str, call_id: Decimal) -> None:
        """Record call_id, raising :class:`CallIdNotIncreasing` unless it exceeds the previous one."""

    @abstractmethod
    def create_web_credentials(self, user_id: int, app_id: int, ttl: float) -> tuple[str, str, WebCredentials]:
        """Issue (auth cookie, WSSID, grant) for browser-based auth."""

    @abstractmethod
    def get_web_credentials(self, cookie: str, wssid: str) -> WebCredentials | None:
        """The unexpired grant matching both cookie and WSSID, or None."""

    # albums
    @abstractmethod
    def create_album(self, owner_id: int, name: str, description: str = "") -> Album:
        """Create a regular album."""

    @abstractmethod
    def get_album(self, album_id: int) -> Album | None:
        """The album with its current size, or None."""

    @abstractmethod
    def list_albums(self, owner_id: int) -> list[Album]:
        """The owner's albums with their sizes, oldest first."""

    # photos
    @abstractmethod
    def add_photos(self, owner_id: int, app_id: int | None, photos: Sequence[NewPhoto], *, album_id: int | None,
                   default_album: bool, pending: bool, batch: tuple[str, int] | None = None) -> list[PhotoRecord]:
        """Record photos all or none, enforcing every limit inside one write transaction."""

    @abstractmethod
    def get_photo(self, photo_id: int) -> PhotoRecord | None:
        """The photo, or None."""

    @abstractmethod
    def list_photos(self, owner_id: int, *, album_id: int | None = None, include_pending: bool = True,
                    photo_ids: Sequence[int] | None = None) -> list[PhotoRecord]:
        """The owner's photos, newest last."""

    @abstractmethod
    def set_photo_status(self, photo_id: int, owner_id: int, status: str) -> PhotoRecord:
        """Change a photo's status (approve a pending photo)."""

    @abstractmethod
    def delete_photo(self, photo_id: int, owner_id: int) -> PhotoRecord:
        """Remove a photo's row (the caller then deletes its files)."""

    @abstractmethod
    def file_key_known(self, file_key: str) -> bool:
        """Whether any rendition row names this file."""

    @abstractmethod
    def all_file_keys(self) -> set[str]:
        """Every file key referenced by a rendition row."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


# --------------------------------------------------------------------------------------------- SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY, api_key TEXT NOT NULL UNIQUE, secret TEXT NOT NULL, name TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '', allowed_addresses TEXT NOT NULL DEFAULT '',
    daily_upload_limit INTEGER, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    premium INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS communities (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sessions (
    key_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), app_id INTEGER NOT NULL,
    expires REAL NOT NULL, last_call_id TEXT);
CREATE TABLE IF NOT EXISTS web_credentials (
    cookie_hash TEXT PRIMARY KEY, wssid_hash TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id),
    app_id INTEGER NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS albums (
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users(id), name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, app_id INTEGER, created REAL NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS albums_default ON albums(owner_id, app_id) WHERE kind = 'application';
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users(id), album_id INTEGER,
    app_id INTEGER, community_id INTEGER, status TEXT NOT NULL, caption TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]', width INTEGER NOT NULL,
    height INTEGER NOT NULL, format TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    exif TEXT NOT NULL DEFAULT '[]', create_time TEXT, upload_time REAL NOT NULL, mod_time REAL NOT NULL,
    batch_id TEXT, api TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS photos_album ON photos(album_id);
CREATE UNIQUE INDEX IF NOT EXISTS photos_seq ON photos(seq);
CREATE INDEX IF NOT EXISTS photos_owner ON photos(owner_id, status);
CREATE INDEX IF NOT EXISTS photos_app_time ON photos(app_id, upload_time);
CREATE TABLE IF NOT EXISTS renditions (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE, type TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, size INTEGER NOT NULL, format TEXT NOT NULL,
    file_key TEXT NOT NULL UNIQUE, PRIMARY KEY (photo_id, type));
CREATE TABLE IF NOT EXISTS batches (
    owner_id INTEGER NOT NULL, batch_id TEXT NOT NULL, batcount INTEGER NOT NULL, used INTEGER NOT NULL,
    first_used REAL NOT NULL, PRIMARY KEY (owner_id, batch_id));
"""


class SQLiteStore(MetadataStore):
    """The embedded metadata store: one SQLite file in WAL mode, one connection per thread."""

    def __init__(self, path: str | Path, clock: Clock, quotas: Quotas | None = None,
                 busy_timeout: float = 30.0) -> None:
        self.path = str(path)
        self.clock = clock
        self.quotas = quotas or Quotas()
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)

    # -- connections
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open metadata database {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _tx(self, immediate: bool = True) -> "_Transaction":
        return _Transaction(self._conn(), immediate=immediate)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    # -- applications
    @staticmethod
    def _app(row: sqlite3.Row) -> Application:
        return Application(
            id=row["id"], api_key=row["api_key"], secret=row["secret"], name=row["name"],
            permissions=frozenset(p for p in row["permissions"].split(",") if p),
            allowed_addresses=tuple(a for a in row["allowed_addresses"].split(",") if a),
            daily_upload_limit=row["daily_upload_limit"])

    def create_application(self, name: str, permissions: Sequence[str] = (), allowed_addresses: Sequence[str] = (),
                           daily_upload_limit: int | None = None) -> Application:
        api_key = secrets.token_hex(16)
        secret = secrets.token_hex(16)
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO applications (api_key, secret, name, permissions, allowed_addresses,"
                " daily_upload_limit, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (api_key, secret, name, ",".join(p.strip() for p in permissions if p.strip()),
                 ",".join(a.strip() for a in allowed_addresses if a.strip()), daily_upload_limit, self.clock()))
            app_id = cur.lastrowid
        app = self.get_application_by_id(int(app_id or 0))
        assert app is not None
        return app

    def get_application(self, api_key: str) -> Application | None:
        rows = self._query("SELECT * FROM applications WHERE api_key = ?", (api_key,))
        return self._app(rows[0]) if rows else None

    def get_application_by_id(self, app_id: int) -> Application | None:
        rows = self._query("SELECT * FROM applications WHERE id = ?", (app_id,))
        return self._app(rows[0]) if rows else None

    def list_applications(self) -> list[Application]:
        return [self._app(r) for r in self._query("SELECT * FROM applications ORDER BY id")]

    # -- users
    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(id=row["id"], username=row["username"], premium=bool(row["premium"]))

    def create_user(self, username: str, password: str, premium: bool = False) -> User:
        if not username or not password:
            raise ValueError("username and password must not be empty")
        pw = hash_password(password)
        try:
            with self._tx() as c:
                cur = c.execute("INSERT INTO users (username, password_hash, premium, created) VALUES (?, ?, ?, ?)",
                                (username, pw, int(premium), self.clock()))
                user_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"user {username!r} exists") from exc
        return User(id=user_id, username=username, premium=premium)

    def authenticate(self, username: str, password: str) -> User | None:
        rows = self._query("SELECT * FROM users WHERE username = ?", (username,))
        if not rows:
            # Spend the same time as a real check so user names cannot be probed by timing.
            verify_password(password, "scrypt$00$00")
            hash_password(password)
            return None
        return self._user(rows[0]) if verify_password(password, rows[0]["password_hash"]) else None

    def get_user(self, user_id: int) -> User | None:
        rows = self._query("SELECT * FROM users WHERE id = ?", (user_id,))
        return self._user(rows[0]) if rows else None

    def get_user_by_name(self, username: str) -> User | None:
        rows = self._query("SELECT * FROM users WHERE username = ?", (username,))
        return self._user(rows[0]) if rows else None

    # -- communities
    def create_community(self, name: str, title: str = "") -> Community:
        if not name:
            raise ValueError("community name must not be empty")
        try:
            with self._tx() as c:
                cur = c.execute("INSERT INTO communities (name, title) VALUES (?, ?)", (name, title or name))
                cid = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"community {name!r} exists") from exc
        return Community(id=cid, name=name, title=title or name)

    def get_community(self, name: str) -> Community | None:
        rows = self._query("SELECT * FROM communities WHERE name = ?", (name,))
        return Community(rows[0]["id"], rows[0]["name"], rows[0]["title"]) if rows else None

    def list_communities(self) -> list[Community]:
        return [Community(r["id"], r["name"], r["title"])
                for r in self._query("SELECT * FROM communities ORDER BY name")]

    # -- sessions
    def create_session(self, user_id: int, app_id: int, ttl: float) -> tuple[str, Session]:
        key = f"{secrets.token_hex(16)}-{user_id}"
        expires = self.clock() + ttl
        with self._tx() as c:
            c.execute("DELETE FROM sessions WHERE expires <= ?", (self.clock(),))
            c.execute("INSERT INTO sessions (key_hash, user_id, app_id, expires, last_call_id) VALUES (?, ?, ?, ?, ?)",
                      (_token_hash(key), user_id, app_id, expires, None))
        user = self.get_user(user_id)
        assert user is not None
        return key, Session(user=user, app_id=app_id, expires=expires, last_call_id=None)

    def get_session(self, session_key: str) -> Session | None:
        rows = self._query(
            "SELECT s.*, u.username, u.premium FROM sessions s JOIN users u ON u.id = s.user_id WHERE key_hash = ?",
            (_token_hash(session_key),))
        if not rows or rows[0]["expires"] <= self.clock():
            return None
        r = rows[0]
        return Session(user=User(r["user_id"], r["username"], bool(r["premium"])), app_id=r["app_id"],
                       expires=r["expires"], last_call_id=r["last_call_id"])

    def advance_call_id(self, session_key: str, call_id: Decimal) -> None:
        with self._tx() as c:
            row = c.execute("SELECT last_call_id FROM sessions WHERE key_hash = ?",
                            (_token_hash(session_key),)).fetchone()
            if row is None:
                raise NotFound("session")
            if row["last_call_id"] is not None and not call_id > Decimal(row["last_call_id"]):
                raise CallIdNotIncreasing(f"call_id {call_id} is not greater than {row['last_call_id']}")
            c.execute("UPDATE sessions SET last_call_id = ? WHERE key_hash = ?", (str(call_id), _token_hash(session_key)))

    # -- web credentials
    def create_web_credentials(self, user_id: int, app_id: int, ttl: float) -> tuple[str, str, WebCredentials]:
        cookie = secrets.token_urlsafe(24)
        wssid = secrets.token_urlsafe(12)
        expires = self.clock() + ttl
        with self._tx() as c:
            c.execute("DELETE FROM web_credentials WHERE expires <= ?", (self.clock(),))
            c.execute("INSERT INTO web_credentials (cookie_hash, wssid_hash, user_id, app_id, expires)"
                      " VALUES (?, ?, ?, ?, ?)", (_token_hash(cookie), _token_hash(wssid), user_id, app_id, expires))
        user = self.get_user(user_id)
        assert user is not None
        return cookie, wssid, WebCredentials(user=user, app_id=app_id, expires=expires)

    def get_web_credentials(self, cookie: str, wssid: str) -> WebCredentials | None:
        rows = self._query(
            "SELECT w.*, u.username, u.premium FROM web_credentials w JOIN users u ON u.id = w.user_id"
            " WHERE cookie_hash = ?", (_token_hash(cookie),))
        if not rows:
            return None
        r = rows[0]
        if not hmac.compare_digest(r["wssid_hash"], _token_hash(wssid)) or r["expires"] <= self.clock():
            return None
        return WebCredentials(user=User(r["user_id"], r["username"], bool(r["premium"])), app_id=r["app_id"],
                              expires=r["expires"])

    # -- albums
    @staticmethod
    def _album(row: sqlite3.Row) -> Album:
        keys = row.keys()
        return Album(id=row["id"], owner_id=row["owner_id"], name=row["name"], description=row["description"],
                     kind=row["kind"], app_id=row["app_id"], created=row["created"],
                     size=row["size"] if "size" in keys else 0)

    def create_album(self, owner_id: int, name: str, description: str = "") -> Album:
        with self._tx() as c:
            album = self._insert_album(c, owner_id, name, description, "regular", None)
        return album

    def _insert_album(self, c: sqlite3.Connection, owner_id: int, name: str, description: str, kind: str,
                      app_id: int | None) -> Album:
        now = self.clock()
        for _ in range(8):
            aid = _new_id()
            try:
                c.execute("INSERT INTO albums (id, owner_id, name, description, kind, app_id, created)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)", (aid, owner_id, name, description, kind, app_id, now))
            except sqlite3.IntegrityError:
                if kind == "application":
                    raise
                continue
            return Album(aid, owner_id, name, description, kind, app_id, now, 0)
        raise StoreError("could not allocate an album id")

    _ALBUM_SELECT = ("SELECT a.*, (SELECT COUNT(*) FROM photos p WHERE p.album_id = a.id) AS size FROM albums a ")

    def get_album(self, album_id: int) -> Album | None:
        rows = self._query(self._ALBUM_SELECT + "WHERE a.id = ?", (album_id,))
        return self._album(rows[0]) if rows else None

    def list_albums(self, owner_id: int) -> list[Album]:
        return [self._album(r) for r in self._query(self._ALBUM_SELECT + "WHERE a.owner_id = ? ORDER BY a.created, a.id",
                                                     (owner_id,))]

    # -- photos
    def add_photos(self, owner_id: int, app_id: int | None, photos: Sequence[NewPhoto], *, album_id: int | None,
                   default_album: bool, pending: bool, batch: tuple[str, int] | None = None) -> list[PhotoRecord]:
        q = self.quotas
        n = len(photos)
        now = self.clock()
        status = "pending" if pending else "visible"
        with self._tx(immediate=True) as c:
            # 1. the destination album and its limit
            if default_album:
                if app_id is None:
                    raise ValueError("default album needs an application")
                row = c.execute("SELECT * FROM albums WHERE owner_id = ? AND app_id = ? AND kind = 'application'",
                                (owner_id, app_id)).fetchone()
                if row is None:
                    app_row = c.execute("SELECT name FROM applications WHERE id = ?", (app_id,)).fetchone()
                    name = f"{app_row['name'] if app_row else 'Application'} Photos"
                    album = self._insert_album(c, owner_id, name, "", "application", app_id)
                    album_id = album.id
                else:
                    album_id = row["id"]
            if album_id is not None:
                row = c.execute("SELECT kind, owner_id FROM albums WHERE id = ?", (album_id,)).fetchone()
                if row is None:
                    raise AlbumNotFound(f"album {album_id} does not exist")
                if row["owner_id"] != owner_id:
                    raise AlbumNotFound(f"album {album_id} does not belong to the user")
                limit = q.application_album_limit if row["kind"] == "application" else q.regular_album_limit
                (count,) = c.execute("SELECT COUNT(*) FROM photos WHERE album_id = ?", (album_id,)).fetchone()
                if count + n > limit:
                    raise AlbumFull(album_id, limit)
            # 2. pending photos per user and application
            if pending:
                (count,) = c.execute("SELECT COUNT(*) FROM photos WHERE owner_id = ? AND app_id IS ? AND"
                                     " status = 'pending'", (owner_id, app_id)).fetchone()
                if count + n > q.pending_limit:
                    raise PendingLimitReached(f"more than {q.pending_limit} pending photos")
            # 3. the application's uploads per 24 hours
            if app_id is not None:
                row = c.execute("SELECT daily_upload_limit FROM applications WHERE id = ?", (app_id,)).fetchone()
                if row is not None and row["daily_upload_limit"] is not None:
                    (count,) = c.execute("SELECT COUNT(*) FROM photos WHERE app_id = ? AND upload_time > ?",
                                         (app_id, now - 86400.0)).fetchone()
                    if count + n > row["daily_upload_limit"]:
                        raise UploadLimitReached(f"application upload limit {row['daily_upload_limit']}/day")
            # 4. the batch
            batch_id: str | None = None
            if batch is not None:
                batch_id, batcount = batch
                row = c.execute("SELECT * FROM batches WHERE owner_id = ? AND batch_id = ?",
                                (owner_id, batch_id)).fetchone()
                if row is None:
                    if n > batcount:
                        raise BatchExceeded(f"{n} photos exceed batcount {batcount}")
                    c.execute("INSERT INTO batches (owner_id, batch_id, batcount, used, first_used) VALUES (?, ?, ?, ?, ?)",
                              (owner_id, batch_id, batcount, n, now))
                else:
                    if now - row["first_used"] > q.batch_ttl:
                        raise BatchExpired(f"batch {batch_id} expired")
                    if row["batcount"] != batcount:
                        raise BatchCountMismatch(f"batch {batch_id} was opened with batcount {row['batcount']}")
                    if row["used"] + n > batcount:
                        raise BatchExceeded(f"batch {batch_id} would exceed batcount {batcount}")
                    c.execute("UPDATE batches SET used = used + ? WHERE owner_id = ? AND batch_id = ?",
                              (n, owner_id, batch_id))
            # 5. the rows; records are built here so nothing can fail between COMMIT and the caller
            urow = c.execute("SELECT username FROM users WHERE id = ?", (owner_id,)).fetchone()
            if urow is None:
                raise NotFound(f"user {owner_id}")
            records = []
            (seq,) = c.execute("SELECT COALESCE(MAX(seq), 0) FROM photos").fetchone()
            for p in photos:
                seq += 1
                pid = self._insert_photo(c, owner_id, app_id, album_id, status, p, now, batch_id, seq)
                records.append(PhotoRecord(
                    id=pid, owner_id=owner_id, owner_name=urow["username"], album_id=album_id, app_id=app_id,
                    community_id=p.community_id, status=status, caption=p.caption, description=p.description,
                    tags=tuple(p.tags), width=p.width, height=p.height, format=p.format, size=p.size,
                    sha256=p.sha256, exif=list(p.exif), create_time=p.create_time, upload_time=now, mod_time=now,
                    batch_id=batch_id, api=p.api, renditions=tuple(p.renditions)))
        return records

    def _insert_photo(self, c: sqlite3.Connection, owner_id: int, app_id: int | None, album_id: int | None,
                      status: str, p: NewPhoto, now: float, batch_id: str | None, seq: int) -> int:
        for _ in range(8):
            pid = _new_id()
            try:
                c.execute(
                    "INSERT INTO photos (id, owner_id, album_id, app_id, community_id, status, caption, description,"
                    " tags, width, height, format, size, sha256, exif, create_time, upload_time, mod_time, batch_id, api, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pid, owner_id, album_id, app_id, p.community_id, status, p.caption, p.description,
                     json.dumps(list(p.tags)), p.width, p.height, p.format, p.size, p.sha256,
                     json.dumps([list(kv) for kv in p.exif]), p.create_time, now, now, batch_id, p.api, seq))
            except sqlite3.IntegrityError:
                continue
            for r in p.renditions:
                c.execute("INSERT INTO renditions (photo_id, type, width, height, size, format, file_key)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)", (pid, r.type, r.width, r.height, r.size, r.format, r.file_key))
            return pid
        raise StoreError("could not allocate a photo id")

    def _photos(self, rows: list[sqlite3.Row]) -> list[PhotoRecord]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        rends: dict[int, list[RenditionRecord]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._query(f"SELECT * FROM renditions WHERE photo_id IN ({marks}) ORDER BY rowid", chunk):
                rends[r["photo_id"]].append(RenditionRecord(r["type"], r["width"], r["height"], r["size"],
                                                            r["format"], r["file_key"]))
        out = []
        for r in rows:
            out.append(PhotoRecord(
                id=r["id"], owner_id=r["owner_id"], owner_name=r["username"], album_id=r["album_id"],
                app_id=r["app_id"], community_id=r["community_id"], status=r["status"], caption=r["caption"],
                description=r["description"], tags=tuple(json.loads(r["tags"])), width=r["width"],
                height=r["height"], format=r["format"], size=r["size"], sha256=r["sha256"],
                exif=[(str(k), str(v)) for k, v in json.loads(r["exif"])], create_time=r["create_time"],
                upload_time=r["upload_time"], mod_time=r["mod_time"], batch_id=r["batch_id"], api=r["api"],
                renditions=tuple(rends[r["id"]])))
        return out

    _PHOTO_SELECT = "SELECT p.*, u.username FROM photos p JOIN users u ON u.id = p.owner_id "

    def get_photo(self, photo_id: int) -> PhotoRecord | None:
        got = self._photos(self._query(self._PHOTO_SELECT + "WHERE p.id = ?", (photo_id,)))
        return got[0] if got else None

    def _get_photo_required(self, photo_id: int) -> PhotoRecord:
        p = self.get_photo(photo_id)
        if p is None:
            raise NotFound(f"photo {photo_id}")
        return p

    def list_photos(self, owner_id: int, *, album_id: int | None = None, include_pending: bool = True,
                    photo_ids: Sequence[int] | None = None) -> list[PhotoRecord]:
        sql = self._PHOTO_SELECT + "WHERE p.owner_id = ?"
        params: list[Any] = [owner_id]
        if album_id is not None:
            sql += " AND p.album_id = ?"
            params.append(album_id)
        if not include_pending:
            sql += " AND p.status = 'visible'"
        if photo_ids is not None:
            if not photo_ids:
                return []
            sql += f" AND p.id IN ({','.join('?' * len(photo_ids))})"
            params.extend(photo_ids)
        sql += " ORDER BY p.seq"
        return self._photos(self._query(sql, params))

    def set_photo_status(self, photo_id: int, owner_id: int, status: str) -> PhotoRecord:
        if status not in ("visible", "pending"):
            raise ValueError(f"bad status {status!r}")
        with self._tx(immediate=True) as c:
            row = c.execute("SELECT owner_id FROM photos WHERE id = ?", (photo_id,)).fetchone()
            if row is None or row["owner_id"] != owner_id:
                raise NotFound(f"photo {photo_id}")
            c.execute("UPDATE photos SET status = ?, mod_time = ? WHERE id = ?", (status, self.clock(), photo_id))
        return self._get_photo_required(photo_id)

    def delete_photo(self, photo_id: int, owner_id: int) -> PhotoRecord:
        photo = self.get_photo(photo_id)
        if photo is None or photo.owner_id != owner_id:
            raise NotFound(f"photo {photo_id}")
        with self._tx(immediate=True) as c:
            c.execute("DELETE FROM renditions WHERE photo_id = ?", (photo_id,))
            c.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
        return photo

    def file_key_known(self, file_key: str) -> bool:
        return bool(self._query("SELECT 1 FROM renditions WHERE file_key = ?", (file_key,)))

    def all_file_keys(self) -> set[str]:
        return {r["file_key"] for r in self._query("SELECT file_key FROM renditions")}

    def iter_photo_ids(self) -> Iterator[int]:
        """Every photo id (admin use)."""
        for r in self._query("SELECT id FROM photos ORDER BY rowid"):
            yield r["id"]


class _Transaction:
    """``with`` block running one transaction (``BEGIN`` or ``BEGIN IMMEDIATE``); rolls back on any error."""

    def __init__(self, conn: sqlite3.Connection, immediate: bool = False) -> None:
        self.conn = conn
        self.immediate = immediate

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as err:
                self.conn.execute("ROLLBACK")
                raise StoreUnavailable(str(err)) from err
        else:
            self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreUnavailable(str(exc)) from exc
