"""The metadata interface: what a database backend must do, and nothing more.

A backend opens transactions (:meth:`MetadataBackend.transaction`); inside one, a :class:`Transaction`
reads and writes rows and returns :mod:`.records`. It enforces no rule: album limits, pending limits,
call_id order, batches, daily limits and expiry live in :class:`~photoservice.storage.catalog.Catalog`,
which combines these primitives inside one transaction. What a backend must guarantee is isolation:
in a ``write=True`` transaction, the ``lock_*`` calls and every ``lock=True`` read hold their rows until
commit, so that a count taken after them cannot change before the transaction ends (SQLite: the whole
database is locked by ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT ... FOR UPDATE``).

Backends translate their driver's errors: :class:`~.records.StoreUnavailable` when the database cannot be
reached or stays locked, :class:`~.records.AlreadyExists` for a taken unique name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from .records import Album, Application, Batch, Community, PhotoRecord, Session, User, WebCredentials

__all__ = ["MetadataBackend", "Transaction", "SCHEMA_VERSION", "COPIED_TABLES"]

#: The schema version this code reads and writes; backends record theirs and refuse to serve an older one.
SCHEMA_VERSION = 1

#: Every table, in the order a whole database is copied (``photoservice import``): a table comes after
#: those its rows refer to. A migration that adds a table adds it here.
COPIED_TABLES: tuple[str, ...] = (
    "applications",
    "users",
    "communities",
    "sessions",
    "web_credentials",
    "albums",
    "photos",
    "renditions",
    "batches",
    "flags",
    "sign_in_failures",
)


class Transaction(ABC):
    """Row access inside one transaction (all ids are integers; times are seconds since the epoch)."""

    # ---------------------------------------------------------------- applications, users, communities
    @abstractmethod
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
        """Insert an application; returns its id."""

    @abstractmethod
    def application(self, *, api_key: str | None = None, app_id: int | None = None) -> Application | None:
        """The application with this api_key or id."""

    @abstractmethod
    def applications(self) -> list[Application]:
        """Every application, oldest first."""

    @abstractmethod
    def add_user(self, username: str, password_hash: str, premium: bool, created: float) -> int:
        """Insert a user; returns its id; :class:`~.records.AlreadyExists` when the name is taken."""

    @abstractmethod
    def user(self, *, user_id: int | None = None, username: str | None = None) -> tuple[User, str] | None:
        """The user with this id or name, and their password hash."""

    @abstractmethod
    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (a rehash with newer parameters)."""

    @abstractmethod
    def add_community(self, name: str, title: str) -> int:
        """Insert a community; returns its id; :class:`~.records.AlreadyExists` when the name is taken."""

    @abstractmethod
    def community(self, name: str) -> Community | None:
        """The community with this system name."""

    @abstractmethod
    def communities(self) -> list[Community]:
        """Every community, by name."""

    # ---------------------------------------------------------------- sessions and web credentials
    @abstractmethod
    def add_session(self, key_hash: str, user_id: int, app_id: int, expires: float) -> None:
        """Insert a platform session, known by the hash of its key."""

    @abstractmethod
    def session(self, key_hash: str, *, lock: bool = False) -> Session | None:
        """The session with this key hash, expired or not."""

    @abstractmethod
    def set_last_call_id(self, key_hash: str, call_id: str) -> None:
        """Record the session's latest call_id (a decimal string)."""

    @abstractmethod
    def add_web_credentials(self, cookie_hash: str, wssid_hash: str, user_id: int, app_id: int, expires: float) -> None:
        """Insert a browser-based-auth grant."""

    @abstractmethod
    def web_credentials(self, cookie_hash: str) -> tuple[WebCredentials, str] | None:
        """The grant of this cookie hash, expired or not, and its WSSID hash."""

    @abstractmethod
    def delete_web_credentials(self, cookie_hash: str) -> None:
        """Remove the grant of this cookie hash (sign-out); nothing when there is none."""

    @abstractmethod
    def delete_expired_credentials(self, now: float) -> None:
        """Remove sessions and grants that expired before ``now``."""

    # ---------------------------------------------------------------- albums
    @abstractmethod
    def add_album(self, album: Album) -> bool:
        """Insert an album with its chosen id; False (nothing written) when the id is taken."""

    @abstractmethod
    def album(self, album_id: int, *, lock: bool = False) -> Album | None:
        """The album with its current size."""

    @abstractmethod
    def default_album(self, owner_id: int, app_id: int, *, lock: bool = False) -> Album | None:
        """The owner's default album of this application."""

    @abstractmethod
    def albums(self, owner_id: int) -> list[Album]:
        """The owner's albums with their sizes, oldest first."""

    # ---------------------------------------------------------------- photos
    @abstractmethod
    def add_photo(self, photo: PhotoRecord) -> bool:
        """Insert a photo and its renditions with the chosen id; False (nothing written) when it is taken."""

    @abstractmethod
    def photos(
        self,
        owner_id: int,
        *,
        album_id: int | None = None,
        photo_ids: Sequence[int] | None = None,
        include_pending: bool = True,
        status: str | None = None,
    ) -> list[PhotoRecord]:
        """The owner's photos, oldest first (``status``: only those with this status)."""

    @abstractmethod
    def album_covers(self, owner_id: int) -> dict[int, PhotoRecord]:
        """The latest visible photo of each of the owner's albums that has one, by album id."""

    @abstractmethod
    def photo(self, photo_id: int) -> PhotoRecord | None:
        """One photo."""

    @abstractmethod
    def count_photos(
        self,
        *,
        album_id: int | None = None,
        owner_id: int | None = None,
        app_id: int | None = None,
        status: str | None = None,
        since: float | None = None,
    ) -> int:
        """How many photos match every given filter (``since``: uploaded after that time)."""

    @abstractmethod
    def set_photo_status(self, photo_id: int, status: str, mod_time: float) -> None:
        """Change a photo's status."""

    @abstractmethod
    def delete_photo(self, photo_id: int) -> None:
        """Remove a photo's row and its rendition rows."""

    @abstractmethod
    def file_keys(self) -> set[str]:
        """Every file key a rendition row names."""

    @abstractmethod
    def file_key_known(self, file_key: str) -> bool:
        """Whether a rendition row names this file."""

    # ---------------------------------------------------------------- sign-in throttling
    @abstractmethod
    def failures(self, key: str, *, lock: bool = False) -> tuple[int, float] | None:
        """(failed sign-ins in a row, time of the last one) recorded under ``key`` (an account or an address)."""

    @abstractmethod
    def set_failures(self, key: str, count: int, last: float) -> None:
        """Record the failure count of ``key``; ``count`` 0 forgets it."""

    # ---------------------------------------------------------------- batches, locks, flags
    @abstractmethod
    def batch(self, owner_id: int, batch_id: str, *, lock: bool = False) -> Batch | None:
        """The owner's batch with this id."""

    @abstractmethod
    def put_batch(self, batch: Batch) -> None:
        """Insert the batch, or update its ``used`` count."""

    @abstractmethod
    def lock_owner(self, user_id: int) -> None:
        """Hold the user's row: serializes the rules counted per owner (pending photos, batches)."""

    @abstractmethod
    def lock_application(self, app_id: int) -> None:
        """Hold the application's row: serializes the rule counted per application (daily uploads)."""

    @abstractmethod
    def flag(self, name: str, *, lock: bool = False) -> str | None:
        """A service-wide flag (e.g. maintenance), shared by every worker; ``lock``: held until commit, set
        or not, so that a flag made on first use is made once."""

    @abstractmethod
    def set_flag(self, name: str, value: str | None) -> None:
        """Set or (with None) clear a flag."""

    # ---------------------------------------------------------------- copying a whole database
    @abstractmethod
    def export_rows(self, table: str) -> Generator[dict[str, Any], None, None]:
        """Every row of ``table`` (one of :data:`COPIED_TABLES`) as column -> value, in insertion order,
        streamed (close the generator when it is not read to its end); columns that only keep that order
        are left out."""

    @abstractmethod
    def import_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert rows as :meth:`export_rows` gives them (ids kept); returns how many.
        :class:`~.records.AlreadyExists` when one is there already."""


class MetadataBackend(ABC):
    """A database: hands out transactions."""

    @abstractmethod
    def transaction(self, *, write: bool = False) -> AbstractContextManager[Transaction]:
        """One transaction: committed when the block ends normally, rolled back when it raises."""

    @abstractmethod
    def schema_version(self) -> int:
        """The version of the schema in the database (0 when there is none)."""

    @abstractmethod
    def migrate(self) -> int:
        """Create or upgrade the schema to :data:`SCHEMA_VERSION`; returns the version before."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
