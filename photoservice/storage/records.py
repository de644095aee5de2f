"""What the metadata database holds, as plain frozen records, and the errors of the storage layer.

Every layer above storage speaks in these records; backends build them from their rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "StoreError",
    "NotFound",
    "AlreadyExists",
    "StoreUnavailable",
    "AlbumNotFound",
    "AlbumFull",
    "PendingLimitReached",
    "UploadLimitReached",
    "BatchError",
    "BatchExpired",
    "BatchCountMismatch",
    "BatchExceeded",
    "CallIdNotIncreasing",
    "SignInThrottled",
    "Quotas",
    "SignInPolicy",
    "Application",
    "User",
    "Community",
    "Session",
    "WebCredentials",
    "Album",
    "Batch",
    "RenditionRecord",
    "PhotoRecord",
    "NewPhoto",
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
    """The album id names no album of this owner."""


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


class SignInThrottled(StoreError):
    """Too many failed sign-ins for this account or from this address: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed sign-ins; retry in {int(retry_after) + 1} s")
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Quotas:
    """The limits the catalog enforces inside the upload transaction."""

    regular_album_limit: int = 60
    application_album_limit: int = 1000
    pending_limit: int = 500
    batch_ttl: float = 300.0


@dataclass(frozen=True)
class SignInPolicy:
    """Growing delays after failed sign-ins, counted per account and per source address.

    After ``free_failures`` failures in a row for an account (``4 * free_failures`` from an address), each
    further attempt must wait ``base_delay * 2 ** (failures beyond)`` seconds after the last failure, at most
    ``max_delay``; a success clears the account's count; counts are forgotten ``forget_after`` seconds after
    the last failure.
    """

    free_failures: int = 5
    base_delay: float = 1.0
    max_delay: float = 900.0
    forget_after: float = 86400.0

    def wait(self, failures: int, last: float, now: float, free: int) -> float:
        """Seconds still to wait before the next attempt (0: go ahead)."""
        if failures < free or now - last > self.forget_after:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2.0 ** (failures - free))
        return max(0.0, last + delay - now)


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
class Batch:
    """A Yahoo batch: ``used`` of ``batcount`` photos stored since ``first_used``."""

    owner_id: int
    batch_id: str
    batcount: int
    used: int
    first_used: float


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
    exif: tuple[tuple[str, str], ...]
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
    exif: tuple[tuple[str, str], ...]
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
