"""The catalog: every rule about the service's data, in one place, above any database backend.

Backends (:mod:`.metadata`) read and write rows inside transactions; the catalog decides. Each rule that
counts rows (album limits 60 / 1000, pending photos per user and application, photos per batch, uploads per
application and day) takes its counts after locking the rows that serialize it (the album, the owner, the
application), inside the same write transaction that inserts the photos, so it holds under any number of
concurrent requests, processes and machines sharing one database. call_id order is checked and recorded
under the session's row lock the same way.

Secrets handed to clients (session keys, auth cookies, WSSIDs) are stored only as SHA-256 digests;
passwords as Argon2id hashes (:mod:`.passwords`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from decimal import Decimal

from .metadata import MetadataBackend, Transaction
from .passwords import Passwords
from .records import (
    Album,
    AlbumFull,
    AlbumNotFound,
    Application,
    Batch,
    BatchCountMismatch,
    BatchExceeded,
    BatchExpired,
    CallIdNotIncreasing,
    Community,
    NewPhoto,
    NotFound,
    PendingLimitReached,
    PhotoRecord,
    Quotas,
    Session,
    SignInPolicy,
    SignInThrottled,
    StoreError,
    UploadLimitReached,
    User,
    WebCredentials,
)

__all__ = ["Catalog", "MAINTENANCE_FLAG"]

#: Flag name of maintenance mode (APIs answer "service unavailable" while it is set).
MAINTENANCE_FLAG = "maintenance"
_ID_ATTEMPTS = 8


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_id() -> int:
    """A random positive 53-bit id: not guessable in sequence, exact in JSON numbers and JavaScript."""
    return secrets.randbits(52) + (1 << 52)


class Catalog:
    """The service's view of its metadata: accounts, credentials, albums, photos, with their rules."""

    def __init__(
        self,
        backend: MetadataBackend,
        clock: Callable[[], float],
        quotas: Quotas | None = None,
        passwords: Passwords | None = None,
        sign_in: SignInPolicy | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.quotas = quotas or Quotas()
        self.passwords = passwords or Passwords()
        self.sign_in = sign_in or SignInPolicy()

    def close(self) -> None:
        """Release the database connections."""
        self.backend.close()

    def _read(self) -> AbstractContextManager[Transaction]:
        return self.backend.transaction()

    def _write(self) -> AbstractContextManager[Transaction]:
        return self.backend.transaction(write=True)

    # ------------------------------------------------------------------ applications
    def create_application(
        self,
        name: str,
        permissions: Sequence[str] = (),
        allowed_addresses: Sequence[str] = (),
        daily_upload_limit: int | None = None,
    ) -> Application:
        """Register an application with a fresh api_key and secret."""
        perms = [p.strip() for p in permissions if p.strip()]
        allowed = [a.strip() for a in allowed_addresses if a.strip()]
        with self._write() as tx:
            app_id = tx.add_application(
                secrets.token_hex(16), secrets.token_hex(16), name, perms, allowed, daily_upload_limit, self.clock()
            )
            app = tx.application(app_id=app_id)
        assert app is not None
        return app

    def application(self, api_key: str) -> Application | None:
        """The application with this api_key."""
        if not api_key:
            return None
        with self._read() as tx:
            return tx.application(api_key=api_key)

    def application_by_id(self, app_id: int) -> Application | None:
        """The application with this id."""
        with self._read() as tx:
            return tx.application(app_id=app_id)

    def applications(self) -> list[Application]:
        """Every application."""
        with self._read() as tx:
            return tx.applications()

    def application_named(self, name: str) -> Application:
        """The oldest application with this name, created when there is none (the web page's own)."""
        for existing in self.applications():
            if existing.name == name:
                return existing
        with self._write() as tx:
            for existing in tx.applications():
                if existing.name == name:
                    return existing
            app_id = tx.add_application(secrets.token_hex(16), secrets.token_hex(16), name, [], [], None, self.clock())
            app = tx.application(app_id=app_id)
        assert app is not None
        return app

    # ------------------------------------------------------------------ users
    def create_user(self, username: str, password: str, premium: bool = False) -> User:
        """Create a user; :class:`~.records.AlreadyExists` when the name is taken."""
        if not username or not password:
            raise ValueError("username and password must not be empty")
        password_hash = self.passwords.hash(password)
        with self._write() as tx:
            user_id = tx.add_user(username, password_hash, premium, self.clock())
        return User(user_id, username, premium)

    def authenticate(self, username: str, password: str, client: str | None = None) -> User | None:
        """The user when the password matches, else None.

        Throttled (:class:`~.records.SignInThrottled`, before any password work) after repeated failures
        for the account name or from the ``client`` address (see :class:`~.records.SignInPolicy`); the
        counts live in the database, so every worker applies them. An unknown name is counted and
        throttled like a real one and costs the same verification, so names cannot be told apart.
        """
        keys = self._throttle_keys(username, client)
        now = self.clock()
        with self._read() as tx:
            found = tx.user(username=username)
            counts = [tx.failures(key) for key, _ in keys]
        wait = max((self.sign_in.wait(c[0], c[1], now, free) for c, (_, free) in zip(counts, keys) if c), default=0.0)
        if wait > 0:
            raise SignInThrottled(wait)
        ok, stale = self.passwords.verify(password, found[1] if found else None)
        with self._write() as tx:
            if ok and found is not None:
                tx.set_failures(keys[0][0], 0, now)
                if stale:
                    tx.set_password_hash(found[0].id, self.passwords.hash(password))
                return found[0]
            for key, _ in keys:
                previous = tx.failures(key, lock=True)
                count = previous[0] if previous and now - previous[1] <= self.sign_in.forget_after else 0
                tx.set_failures(key, count + 1, now)
        return None

    def _throttle_keys(self, username: str, client: str | None) -> list[tuple[str, int]]:
        """(key, free failures) of the account and, when known, the source address."""
        free = self.sign_in.free_failures
        keys = [(f"user:{username.casefold()[:200]}", free)]
        if client:
            keys.append((f"addr:{client[:64]}", 4 * free))
        return keys

    def user(self, user_id: int) -> User | None:
        """The user with this id."""
        with self._read() as tx:
            found = tx.user(user_id=user_id)
        return found[0] if found else None

    def user_by_name(self, username: str) -> User | None:
        """The user with this name."""
        with self._read() as tx:
            found = tx.user(username=username)
        return found[0] if found else None

    # ------------------------------------------------------------------ communities
    def create_community(self, name: str, title: str = "") -> Community:
        """Create a community; :class:`~.records.AlreadyExists` when the name is taken."""
        if not name:
            raise ValueError("community name must not be empty")
        with self._write() as tx:
            cid = tx.add_community(name, title or name)
        return Community(cid, name, title or name)

    def community(self, name: str) -> Community | None:
        """The community with this system name."""
        with self._read() as tx:
            return tx.community(name)

    def communities(self) -> list[Community]:
        """Every community, by name."""
        with self._read() as tx:
            return tx.communities()

    # ------------------------------------------------------------------ platform sessions
    def open_session(self, user: User, app_id: int, ttl: float) -> tuple[str, Session]:
        """A new platform session; returns (session_key, session). The key is stored only as its digest."""
        key = f"{secrets.token_hex(16)}-{user.id}"
        now = self.clock()
        with self._write() as tx:
            tx.delete_expired_credentials(now)
            tx.add_session(_token_hash(key), user.id, app_id, now + ttl)
        return key, Session(user=user, app_id=app_id, expires=now + ttl, last_call_id=None)

    def session(self, session_key: str) -> Session | None:
        """The unexpired session of this key."""
        with self._read() as tx:
            session = tx.session(_token_hash(session_key))
        if session is None or session.expires <= self.clock():
            return None
        return session

    def advance_call_id(self, session_key: str, call_id: Decimal) -> None:
        """Record ``call_id``; :class:`~.records.CallIdNotIncreasing` unless it exceeds the previous one."""
        key_hash = _token_hash(session_key)
        with self._write() as tx:
            session = tx.session(key_hash, lock=True)
            if session is None:
                raise NotFound("session")
            if session.last_call_id is not None and not call_id > Decimal(session.last_call_id):
                raise CallIdNotIncreasing(f"call_id {call_id} is not greater than {session.last_call_id}")
            tx.set_last_call_id(key_hash, str(call_id))

    # ------------------------------------------------------------------ browser-based auth (uploadPhotos)
    def issue_web_credentials(self, user: User, app_id: int, ttl: float) -> tuple[str, str, WebCredentials]:
        """A new (auth cookie, WSSID, grant); both halves are stored only as digests."""
        cookie, wssid = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
        now = self.clock()
        with self._write() as tx:
            tx.delete_expired_credentials(now)
            tx.add_web_credentials(_token_hash(cookie), _token_hash(wssid), user.id, app_id, now + ttl)
        return cookie, wssid, WebCredentials(user=user, app_id=app_id, expires=now + ttl)

    def web_credentials(self, cookie: str, wssid: str) -> WebCredentials | None:
        """The unexpired grant matching both the cookie and the WSSID."""
        with self._read() as tx:
            found = tx.web_credentials(_token_hash(cookie))
        if found is None:
            return None
        creds, wssid_hash = found
        if not hmac.compare_digest(wssid_hash, _token_hash(wssid)) or creds.expires <= self.clock():
            return None
        return creds

    def revoke_web_credentials(self, cookie: str) -> None:
        """Sign out: the grant of this auth cookie stops working at once, on every worker."""
        with self._write() as tx:
            tx.delete_web_credentials(_token_hash(cookie))

    # ------------------------------------------------------------------ albums
    def create_album(self, owner_id: int, name: str, description: str = "") -> Album:
        """A new regular album."""
        with self._write() as tx:
            return self._add_album(tx, owner_id, name, description, "regular", None)

    def _add_album(
        self, tx: Transaction, owner_id: int, name: str, description: str, kind: str, app_id: int | None
    ) -> Album:
        for _ in range(_ID_ATTEMPTS):
            album = Album(_new_id(), owner_id, name, description, kind, app_id, self.clock(), 0)
            if tx.add_album(album):
                return album
        raise StoreError("could not allocate an album id")

    def album(self, album_id: int) -> Album | None:
        """The album with its size."""
        with self._read() as tx:
            return tx.album(album_id)

    def albums(self, owner_id: int) -> list[Album]:
        """The owner's albums with their sizes, oldest first."""
        with self._read() as tx:
            return tx.albums(owner_id)

    def album_covers(self, owner_id: int) -> dict[int, PhotoRecord]:
        """The latest visible photo of each of the owner's albums (albums without one are left out)."""
        with self._read() as tx:
            return tx.album_covers(owner_id)

    def album_limit(self, album: Album) -> int:
        """How many photos this album may hold."""
        q = self.quotas
        return q.application_album_limit if album.kind == "application" else q.regular_album_limit

    # ------------------------------------------------------------------ photos
    def add_photos(
        self,
        owner: User,
        app_id: int | None,
        photos: Sequence[NewPhoto],
        *,
        album_id: int | None,
        default_album: bool,
        pending: bool,
        batch: tuple[str, int] | None = None,
    ) -> list[PhotoRecord]:
        """Record photos, all or none, after checking every limit in the same write transaction.

        ``default_album``: the photos go to the owner's album of application ``app_id`` (created on first
        use). Raises :class:`~.records.AlbumNotFound`, :class:`~.records.AlbumFull`,
        :class:`~.records.PendingLimitReached`, :class:`~.records.UploadLimitReached` or a
        :class:`~.records.BatchError`; then nothing is recorded.
        """
        n = len(photos)
        now = self.clock()
        status = "pending" if pending else "visible"
        with self._write() as tx:
            # Locks in one order (application, owner, album) so that concurrent uploads cannot deadlock.
            app = tx.application(app_id=app_id) if app_id is not None else None
            if app is not None and app.daily_upload_limit is not None:
                tx.lock_application(app.id)
                if tx.count_photos(app_id=app.id, since=now - 86400.0) + n > app.daily_upload_limit:
                    raise UploadLimitReached(f"application upload limit {app.daily_upload_limit}/day")
            tx.lock_owner(owner.id)
            album = self._destination(tx, owner, app, album_id, default_album)
            if album is not None:
                limit = self.album_limit(album)
                if tx.count_photos(album_id=album.id) + n > limit:
                    raise AlbumFull(album.id, limit)
            if (
                pending
                and tx.count_photos(owner_id=owner.id, app_id=app_id, status="pending") + n > self.quotas.pending_limit
            ):
                raise PendingLimitReached(f"more than {self.quotas.pending_limit} pending photos")
            batch_id = self._count_batch(tx, owner, batch, n, now) if batch is not None else None
            records = []
            for p in photos:
                record = self._add_photo(
                    tx,
                    PhotoRecord(
                        id=0,
                        owner_id=owner.id,
                        owner_name=owner.username,
                        album_id=album.id if album else None,
                        app_id=app_id,
                        community_id=p.community_id,
                        status=status,
                        caption=p.caption,
                        description=p.description,
                        tags=tuple(p.tags),
                        width=p.width,
                        height=p.height,
                        format=p.format,
                        size=p.size,
                        sha256=p.sha256,
                        exif=tuple(p.exif),
                        create_time=p.create_time,
                        upload_time=now,
                        mod_time=now,
                        batch_id=batch_id,
                        api=p.api,
                        renditions=tuple(p.renditions),
                    ),
                )
                records.append(record)
        return records

    def _destination(
        self, tx: Transaction, owner: User, app: Application | None, album_id: int | None, default_album: bool
    ) -> Album | None:
        if default_album:
            if app is None:
                raise ValueError("a default album needs an application")
            album = tx.default_album(owner.id, app.id, lock=True)
            if album is None:
                album = self._add_album(tx, owner.id, f"{app.name} Photos", "", "application", app.id)
            return album
        if album_id is None:
            return None
        album = tx.album(album_id, lock=True)
        if album is None:
            raise AlbumNotFound(f"album {album_id} does not exist")
        if album.owner_id != owner.id:
            raise AlbumNotFound(f"album {album_id} does not belong to the user")
        return album

    def _count_batch(self, tx: Transaction, owner: User, batch: tuple[str, int], n: int, now: float) -> str:
        batch_id, batcount = batch
        found = tx.batch(owner.id, batch_id, lock=True)
        if found is None:
            if n > batcount:
                raise BatchExceeded(f"{n} photos exceed batcount {batcount}")
            tx.put_batch(Batch(owner.id, batch_id, batcount, n, now))
            return batch_id
        if now - found.first_used > self.quotas.batch_ttl:
            raise BatchExpired(f"batch {batch_id} expired")
        if found.batcount != batcount:
            raise BatchCountMismatch(f"batch {batch_id} was opened with batcount {found.batcount}")
        if found.used + n > batcount:
            raise BatchExceeded(f"batch {batch_id} would exceed batcount {batcount}")
        tx.put_batch(Batch(owner.id, batch_id, batcount, found.used + n, found.first_used))
        return batch_id

    @staticmethod
    def _add_photo(tx: Transaction, record: PhotoRecord) -> PhotoRecord:
        for _ in range(_ID_ATTEMPTS):
            candidate = replace(record, id=_new_id())
            if tx.add_photo(candidate):
                return candidate
        raise StoreError("could not allocate a photo id")

    def photo(self, photo_id: int) -> PhotoRecord | None:
        """One photo."""
        with self._read() as tx:
            return tx.photo(photo_id)

    def photos(
        self,
        owner_id: int,
        *,
        album_id: int | None = None,
        photo_ids: Sequence[int] | None = None,
        include_pending: bool = True,
        status: str | None = None,
    ) -> list[PhotoRecord]:
        """The owner's photos, oldest first (``status``: only ``"pending"`` or only ``"visible"`` ones)."""
        if photo_ids is not None and not photo_ids:
            return []
        with self._read() as tx:
            return tx.photos(
                owner_id, album_id=album_id, photo_ids=photo_ids, include_pending=include_pending, status=status
            )

    def approve_photo(self, photo_id: int, owner_id: int) -> PhotoRecord:
        """Make the owner's pending photo visible."""
        with self._write() as tx:
            photo = tx.photo(photo_id)
            if photo is None or photo.owner_id != owner_id:
                raise NotFound(f"photo {photo_id}")
            tx.set_photo_status(photo_id, "visible", self.clock())
            updated = tx.photo(photo_id)
        assert updated is not None
        return updated

    def delete_photo(self, photo_id: int, owner_id: int) -> PhotoRecord:
        """Remove the owner's photo's rows (the caller then deletes its files); returns what was removed."""
        with self._write() as tx:
            photo = tx.photo(photo_id)
            if photo is None or photo.owner_id != owner_id:
                raise NotFound(f"photo {photo_id}")
            tx.delete_photo(photo_id)
        return photo

    def file_keys(self) -> set[str]:
        """Every file key a photo names."""
        with self._read() as tx:
            return tx.file_keys()

    def file_key_known(self, file_key: str) -> bool:
        """Whether a photo names this file."""
        with self._read() as tx:
            return tx.file_key_known(file_key)

    # ------------------------------------------------------------------ flags and shared secrets
    def shared_secret(self, name: str) -> bytes:
        """A random 256-bit secret shared by every worker through the database, made on first use."""
        flag = f"secret:{name}"
        with self._read() as tx:
            value = tx.flag(flag, lock=True)
        if value is None:
            with self._write() as tx:  # the flag's lock: two workers starting at once agree on one secret
                value = tx.flag(flag, lock=True)
                if value is None:
                    value = secrets.token_hex(32)
                    tx.set_flag(flag, value)
        return bytes.fromhex(value)

    def maintenance(self) -> bool:
        """Whether maintenance mode is on (shared by every worker through the database)."""
        with self._read() as tx:
            return tx.flag(MAINTENANCE_FLAG) is not None

    def set_maintenance(self, on: bool) -> None:
        """Switch maintenance mode."""
        with self._write() as tx:
            tx.set_flag(MAINTENANCE_FLAG, "on" if on else None)
