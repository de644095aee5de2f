"""The SQL both database backends run: every :class:`~.metadata.Transaction` method, written once.

SQLite (:mod:`.sqlite`) and PostgreSQL (:mod:`.postgres`) hold the same tables with the same columns and
unique constraints, so the statements are the same; a backend supplies only what differs between the two
engines: how a statement runs (``?`` placeholders here; the PostgreSQL backend rewrites them), how rows are
held until commit (:meth:`SQLTransaction._hold`, :meth:`SQLTransaction._hold_key`), which column keeps
insertion order, and which driver error means a taken unique value.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .metadata import COPIED_TABLES, Transaction
from .records import (
    Album,
    AlreadyExists,
    Application,
    Batch,
    Community,
    PhotoRecord,
    RenditionRecord,
    Session,
    User,
    WebCredentials,
)

__all__ = ["SQLTransaction", "split_script"]

Row = Mapping[str, Any]

_PHOTO_SELECT = "SELECT p.*, u.username FROM photos p JOIN users u ON u.id = p.owner_id "
_ALBUM_SELECT = "SELECT a.*, (SELECT COUNT(*) FROM photos p WHERE p.album_id = a.id) AS size FROM albums a "
# Columns that only keep insertion order: not copied (the copy is inserted in that order; SQLite's renditions
# keep it in their rowid).
_ORDER_ONLY = {"photos": "seq", "renditions": "seq"}
_IN_CHUNK = 500
# Namespaces of the names _hold_key locks (rows that may not exist yet).
_FAILURES_LOCKS, _BATCH_LOCKS, _FLAG_LOCKS = 1, 2, 3


def split_script(script: str) -> list[str]:
    """The statements of a migration script (statements end with ``;``; the scripts hold no literal ``;``)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _app(row: Row) -> Application:
    return Application(
        id=row["id"],
        api_key=row["api_key"],
        secret=row["secret"],
        name=row["name"],
        permissions=frozenset(json.loads(row["permissions"])),
        allowed_addresses=tuple(json.loads(row["allowed_addresses"])),
        daily_upload_limit=row["daily_upload_limit"],
    )


def _album(row: Row) -> Album:
    return Album(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        description=row["description"],
        kind=row["kind"],
        app_id=row["app_id"],
        created=row["created"],
        size=row["size"],
    )


class SQLTransaction(Transaction):
    """The metadata interface over any SQL engine that runs these statements; subclasses run them."""

    #: The column of ``renditions`` that keeps insertion order.
    _RENDITION_ORDER = "seq"
    #: The driver's exception for a unique constraint violation.
    _UNIQUE_ERRORS: tuple[type[BaseException], ...] = ()

    # ---------------------------------------------------------------- what a backend supplies
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders); returns a cursor (fetchone, fetchall, rowcount, iteration)."""

    @abstractmethod
    def _executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter tuple."""

    @abstractmethod
    def _hold(self, table: str, where: str, params: Sequence[Any]) -> None:
        """Lock the rows of ``table`` matching ``where`` until commit."""

    @abstractmethod
    def _hold_key(self, namespace: int, key: str) -> None:
        """Lock a name until commit, whether or not a row exists for it yet (an insert races otherwise)."""

    def _stream(self, sql: str) -> Iterator[Row]:
        """The rows of a query, read as they are consumed (a large table is never held whole)."""
        yield from self._execute(sql)

    def _after_import(self, table: str) -> None:
        """Called after rows with explicit ids were inserted (PostgreSQL moves its identity sequences)."""

    # ---------------------------------------------------------------- helpers
    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self._execute(sql, params).fetchall())

    def _insert_unique(self, sql: str, params: Sequence[Any], what: str) -> int:
        try:
            row = self._one(sql + " RETURNING id", params)
        except self._UNIQUE_ERRORS as exc:
            raise AlreadyExists(f"{what} exists") from exc
        return int(row["id"])

    # ---------------------------------------------------------------- applications, users, communities
    def add_application(
        self,
        api_key: str,
        secret: str,
        name: str,
        permissions: Sequence[str],
        allowed_addresses: Sequence[str],
        daily_upload_limit: int | None,
        created: float,
    ) -> int:
        return self._insert_unique(
            "INSERT INTO applications (api_key, secret, name, permissions, allowed_addresses, daily_upload_limit,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                api_key,
                secret,
                name,
                json.dumps(list(permissions)),
                json.dumps(list(allowed_addresses)),
                daily_upload_limit,
                created,
            ),
            "application",
        )

    def application(self, *, api_key: str | None = None, app_id: int | None = None) -> Application | None:
        row = (
            self._one("SELECT * FROM applications WHERE api_key = ?", (api_key,))
            if api_key is not None
            else self._one("SELECT * FROM applications WHERE id = ?", (app_id,))
        )
        return _app(row) if row else None

    def applications(self) -> list[Application]:
        return [_app(r) for r in self._all("SELECT * FROM applications ORDER BY id")]

    def add_user(self, username: str, password_hash: str, premium: bool, created: float) -> int:
        return self._insert_unique(
            "INSERT INTO users (username, password_hash, premium, created) VALUES (?, ?, ?, ?)",
            (username, password_hash, int(premium), created),
            f"user {username!r}",
        )

    def user(self, *, user_id: int | None = None, username: str | None = None) -> tuple[User, str] | None:
        row = (
            self._one("SELECT * FROM users WHERE username = ?", (username,))
            if username is not None
            else self._one("SELECT * FROM users WHERE id = ?", (user_id,))
        )
        if row is None:
            return None
        return User(row["id"], row["username"], bool(row["premium"])), row["password_hash"]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def add_community(self, name: str, title: str) -> int:
        return self._insert_unique(
            "INSERT INTO communities (name, title) VALUES (?, ?)", (name, title), f"community {name!r}"
        )

    def community(self, name: str) -> Community | None:
        row = self._one("SELECT * FROM communities WHERE name = ?", (name,))
        return Community(row["id"], row["name"], row["title"]) if row else None

    def communities(self) -> list[Community]:
        return [Community(r["id"], r["name"], r["title"]) for r in self._all("SELECT * FROM communities ORDER BY name")]

    # ---------------------------------------------------------------- sessions and web credentials
    def add_session(self, key_hash: str, user_id: int, app_id: int, expires: float) -> None:
        self._execute(
            "INSERT INTO sessions (key_hash, user_id, app_id, expires) VALUES (?, ?, ?, ?)",
            (key_hash, user_id, app_id, expires),
        )

    def session(self, key_hash: str, *, lock: bool = False) -> Session | None:
        if lock:
            self._hold("sessions", "key_hash = ?", (key_hash,))
        r = self._one(
            "SELECT s.*, u.username, u.premium FROM sessions s JOIN users u ON u.id = s.user_id WHERE key_hash = ?",
            (key_hash,),
        )
        if r is None:
            return None
        return Session(
            user=User(r["user_id"], r["username"], bool(r["premium"])),
            app_id=r["app_id"],
            expires=r["expires"],
            last_call_id=r["last_call_id"],
        )

    def set_last_call_id(self, key_hash: str, call_id: str) -> None:
        self._execute("UPDATE sessions SET last_call_id = ? WHERE key_hash = ?", (call_id, key_hash))

    def add_web_credentials(self, cookie_hash: str, wssid_hash: str, user_id: int, app_id: int, expires: float) -> None:
        self._execute(
            "INSERT INTO web_credentials (cookie_hash, wssid_hash, user_id, app_id, expires) VALUES (?, ?, ?, ?, ?)",
            (cookie_hash, wssid_hash, user_id, app_id, expires),
        )

    def web_credentials(self, cookie_hash: str) -> tuple[WebCredentials, str] | None:
        r = self._one(
            "SELECT w.*, u.username, u.premium FROM web_credentials w JOIN users u ON u.id = w.user_id"
            " WHERE cookie_hash = ?",
            (cookie_hash,),
        )
        if r is None:
            return None
        user = User(r["user_id"], r["username"], bool(r["premium"]))
        return WebCredentials(user=user, app_id=r["app_id"], expires=r["expires"]), r["wssid_hash"]

    def delete_web_credentials(self, cookie_hash: str) -> None:
        self._execute("DELETE FROM web_credentials WHERE cookie_hash = ?", (cookie_hash,))

    def delete_expired_credentials(self, now: float) -> None:
        self._execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        self._execute("DELETE FROM web_credentials WHERE expires <= ?", (now,))

    # ---------------------------------------------------------------- albums
    def add_album(self, album: Album) -> bool:
        cur = self._execute(
            "INSERT INTO albums (id, owner_id, name, description, kind, app_id, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (album.id, album.owner_id, album.name, album.description, album.kind, album.app_id, album.created),
        )
        return bool(cur.rowcount == 1)

    def album(self, album_id: int, *, lock: bool = False) -> Album | None:
        if lock:
            self._hold("albums", "id = ?", (album_id,))
        row = self._one(_ALBUM_SELECT + "WHERE a.id = ?", (album_id,))
        return _album(row) if row else None

    def default_album(self, owner_id: int, app_id: int, *, lock: bool = False) -> Album | None:
        if lock:
            self._hold("albums", "owner_id = ? AND app_id = ? AND kind = 'application'", (owner_id, app_id))
        row = self._one(
            _ALBUM_SELECT + "WHERE a.owner_id = ? AND a.app_id = ? AND a.kind = 'application'", (owner_id, app_id)
        )
        return _album(row) if row else None

    def albums(self, owner_id: int) -> list[Album]:
        return [
            _album(r) for r in self._all(_ALBUM_SELECT + "WHERE a.owner_id = ? ORDER BY a.created, a.id", (owner_id,))
        ]

    # ---------------------------------------------------------------- photos
    def add_photo(self, photo: PhotoRecord) -> bool:
        p = photo
        cur = self._execute(
            "INSERT INTO photos (id, owner_id, album_id, app_id, community_id, status, caption, description, tags,"
            " width, height, format, size, sha256, exif, create_time, upload_time, mod_time, batch_id, api)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (
                p.id,
                p.owner_id,
                p.album_id,
                p.app_id,
                p.community_id,
                p.status,
                p.caption,
                p.description,
                json.dumps(list(p.tags)),
                p.width,
                p.height,
                p.format,
                p.size,
                p.sha256,
                json.dumps([list(kv) for kv in p.exif]),
                p.create_time,
                p.upload_time,
                p.mod_time,
                p.batch_id,
                p.api,
            ),
        )
        if cur.rowcount != 1:
            return False
        self._executemany(
            "INSERT INTO renditions (photo_id, type, width, height, size, format, file_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(p.id, r.type, r.width, r.height, r.size, r.format, r.file_key) for r in p.renditions],
        )
        return True

    def _photos(self, rows: list[Row]) -> list[PhotoRecord]:
        if not rows:
            return []
        rends: dict[int, list[RenditionRecord]] = {r["id"]: [] for r in rows}
        ids = list(rends)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            for r in self._all(
                f"SELECT * FROM renditions WHERE photo_id IN ({','.join('?' * len(chunk))})"
                f" ORDER BY {self._RENDITION_ORDER}",
                chunk,
            ):
                rends[r["photo_id"]].append(
                    RenditionRecord(r["type"], r["width"], r["height"], r["size"], r["format"], r["file_key"])
                )
        return [
            PhotoRecord(
                id=r["id"],
                owner_id=r["owner_id"],
                owner_name=r["username"],
                album_id=r["album_id"],
                app_id=r["app_id"],
                community_id=r["community_id"],
                status=r["status"],
                caption=r["caption"],
                description=r["description"],
                tags=tuple(json.loads(r["tags"])),
                width=r["width"],
                height=r["height"],
                format=r["format"],
                size=r["size"],
                sha256=r["sha256"],
                exif=tuple((str(k), str(v)) for k, v in json.loads(r["exif"])),
                create_time=r["create_time"],
                upload_time=r["upload_time"],
                mod_time=r["mod_time"],
                batch_id=r["batch_id"],
                api=r["api"],
                renditions=tuple(rends[r["id"]]),
            )
            for r in rows
        ]

    def photos(
        self,
        owner_id: int,
        *,
        album_id: int | None = None,
        photo_ids: Sequence[int] | None = None,
        include_pending: bool = True,
        status: str | None = None,
    ) -> list[PhotoRecord]:
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
        rows = self._all(
            _PHOTO_SELECT + "WHERE p.seq IN (SELECT MAX(seq) FROM photos WHERE owner_id = ?"
            " AND status = 'visible' AND album_id IS NOT NULL GROUP BY album_id)",
            (owner_id,),
        )
        return {p.album_id: p for p in self._photos(rows) if p.album_id is not None}

    def photo(self, photo_id: int) -> PhotoRecord | None:
        got = self._photos(self._all(_PHOTO_SELECT + "WHERE p.id = ?", (photo_id,)))
        return got[0] if got else None

    def count_photos(
        self,
        *,
        album_id: int | None = None,
        owner_id: int | None = None,
        app_id: int | None = None,
        status: str | None = None,
        since: float | None = None,
    ) -> int:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("album_id", album_id), ("owner_id", owner_id), ("app_id", app_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("upload_time > ?")
            params.append(since)
        row = self._one("SELECT COUNT(*) AS n FROM photos" + (" WHERE " + " AND ".join(where) if where else ""), params)
        return int(row["n"]) if row else 0

    def set_photo_status(self, photo_id: int, status: str, mod_time: float) -> None:
        self._execute("UPDATE photos SET status = ?, mod_time = ? WHERE id = ?", (status, mod_time, photo_id))

    def delete_photo(self, photo_id: int) -> None:
        self._execute("DELETE FROM renditions WHERE photo_id = ?", (photo_id,))
        self._execute("DELETE FROM photos WHERE id = ?", (photo_id,))

    def file_keys(self) -> set[str]:
        return {r["file_key"] for r in self._all("SELECT file_key FROM renditions")}

    def file_key_known(self, file_key: str) -> bool:
        return self._one("SELECT 1 AS known FROM renditions WHERE file_key = ?", (file_key,)) is not None

    # ---------------------------------------------------------------- sign-in throttling
    def failures(self, key: str, *, lock: bool = False) -> tuple[int, float] | None:
        if lock:
            self._hold_key(_FAILURES_LOCKS, key)
        row = self._one("SELECT count, last FROM sign_in_failures WHERE key = ?", (key,))
        return (int(row["count"]), float(row["last"])) if row else None

    def set_failures(self, key: str, count: int, last: float) -> None:
        if count <= 0:
            self._execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))
        else:
            self._execute(
                "INSERT INTO sign_in_failures (key, count, last) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET count = excluded.count, last = excluded.last",
                (key, count, last),
            )

    # ---------------------------------------------------------------- batches, locks, flags
    def batch(self, owner_id: int, batch_id: str, *, lock: bool = False) -> Batch | None:
        if lock:
            self._hold_key(_BATCH_LOCKS, f"{owner_id}/{batch_id}")
        r = self._one("SELECT * FROM batches WHERE owner_id = ? AND batch_id = ?", (owner_id, batch_id))
        return Batch(r["owner_id"], r["batch_id"], r["batcount"], r["used"], r["first_used"]) if r else None

    def put_batch(self, batch: Batch) -> None:
        self._execute(
            "INSERT INTO batches (owner_id, batch_id, batcount, used, first_used) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (owner_id, batch_id) DO UPDATE SET used = excluded.used",
            (batch.owner_id, batch.batch_id, batch.batcount, batch.used, batch.first_used),
        )

    def lock_owner(self, user_id: int) -> None:
        self._hold("users", "id = ?", (user_id,))

    def lock_application(self, app_id: int) -> None:
        self._hold("applications", "id = ?", (app_id,))

    def flag(self, name: str, *, lock: bool = False) -> str | None:
        if lock:
            self._hold_key(_FLAG_LOCKS, name)
        row = self._one("SELECT value FROM flags WHERE name = ?", (name,))
        return row["value"] if row else None

    def set_flag(self, name: str, value: str | None) -> None:
        if value is None:
            self._execute("DELETE FROM flags WHERE name = ?", (name,))
        else:
            self._execute(
                "INSERT INTO flags (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # ---------------------------------------------------------------- copying a whole database
    def export_rows(self, table: str) -> Generator[dict[str, Any], None, None]:
        if table not in COPIED_TABLES:
            raise ValueError(f"unknown table {table!r}")
        order = self._RENDITION_ORDER if table == "renditions" else _ORDER_ONLY.get(table)
        sql = f"SELECT * FROM {table}" + (f" ORDER BY {order}" if order else "")
        for row in self._stream(sql):
            yield {k: row[k] for k in row.keys() if k != _ORDER_ONLY.get(table)}

    def import_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        if table not in COPIED_TABLES:
            raise ValueError(f"unknown table {table!r}")
        count = 0
        batch: list[Sequence[Any]] = []
        columns: list[str] | None = None
        for row in rows:
            if columns is None:
                columns = [c for c in row if c != _ORDER_ONLY.get(table)]
            batch.append([row[c] for c in columns])
            if len(batch) >= _IN_CHUNK:
                count += self._insert_rows(table, columns, batch)
        if columns is not None:
            count += self._insert_rows(table, columns, batch)
        self._after_import(table)
        return count

    def _insert_rows(self, table: str, columns: list[str], batch: list[Sequence[Any]]) -> int:
        if not batch:
            return 0
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        try:
            self._executemany(sql, batch)
        except self._UNIQUE_ERRORS as exc:
            raise AlreadyExists(f"{table}: a copied row exists already in the destination") from exc
        n = len(batch)
        batch.clear()
        return n
