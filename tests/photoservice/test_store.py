"""The catalog's rules over both metadata backends, both file stores and the signature helpers (no HTTP,
no images). Every test that takes ``store``, ``database_url`` or ``file_store`` runs on SQLite + a folder
and on PostgreSQL + S3 (see conftest.py)."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from photoservice.apis import signing as auth
from photoservice.config import FakeClock
from photoservice.storage import Catalog, FileStore, open_files, open_metadata, prepare_schema
from photoservice.storage.files import BadFileKey, FileStoreError, new_file_key, new_stem
from photoservice.storage.local import LocalFileStore
from photoservice.storage.passwords import PasswordParams, Passwords
from photoservice.storage.records import (
    AlbumFull,
    AlbumNotFound,
    AlreadyExists,
    BatchCountMismatch,
    BatchExceeded,
    BatchExpired,
    CallIdNotIncreasing,
    NewPhoto,
    PendingLimitReached,
    Quotas,
    RenditionRecord,
    UploadLimitReached,
)

FAST = Passwords(PasswordParams(time_cost=1, memory_kib=1024, parallelism=1))


def open_catalog(url: str, clock: FakeClock, quotas: Quotas, passwords: Passwords = FAST) -> Catalog:
    backend = open_metadata(url)
    prepare_schema(backend)
    return Catalog(backend, clock, quotas, passwords)


def photo(key: str = "", caption: str = "c") -> NewPhoto:
    stem = new_stem()
    rends = (RenditionRecord("thumb", 10, 10, 100, "jpg", key or new_file_key(stem, "thumb", "jpg")),)
    return NewPhoto(
        caption=caption,
        description="",
        tags=("a",),
        width=10,
        height=10,
        format="jpg",
        size=100,
        sha256="0" * 64,
        exif=(("Camera", "X"),),
        create_time=None,
        renditions=rends,
    )


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def database_url(tmp_path: Path, backends: Any) -> str:
    """An empty database of this test's kind."""
    return backends.database or f"sqlite:///{tmp_path / 'm.sqlite3'}"


@pytest.fixture()
def file_store(tmp_path: Path, backends: Any) -> FileStore:
    """An empty file store of this test's kind (a folder, or a prefix of the run's bucket)."""
    if backends.storage:
        return open_files(backends.storage, s3_endpoint_url=backends.s3_endpoint_url)
    return LocalFileStore(tmp_path / "files")


@pytest.fixture()
def store(database_url: str, clock: FakeClock) -> Iterator[Catalog]:
    s = open_catalog(
        database_url, clock, Quotas(regular_album_limit=5, application_album_limit=7, pending_limit=4, batch_ttl=300)
    )
    yield s
    s.close()


def test_password_hashes_record_their_parameters_and_are_upgraded() -> None:
    h = FAST.hash("pw")
    assert h.startswith("$argon2id$") and "m=1024,t=1" in h
    assert FAST.verify("pw", h) == (True, False)
    assert FAST.verify("PW", h) == (False, False)
    assert FAST.verify("pw", "garbage") == (False, False)
    assert FAST.verify("no such user", None) == (False, False)
    stronger = Passwords(PasswordParams(time_cost=2, memory_kib=2048, parallelism=1))
    assert stronger.verify("pw", h) == (True, True)  # an old hash still works and asks to be rehashed


def test_sign_in_rehashes_a_weaker_hash(database_url: str, clock: FakeClock) -> None:
    weak = open_catalog(database_url, clock, Quotas())
    weak.create_user("alice", "pw")
    backend = open_metadata(database_url)
    stronger = Catalog(backend, clock, Quotas(), Passwords(PasswordParams(time_cost=2, memory_kib=2048, parallelism=1)))
    assert stronger.authenticate("alice", "pw") is not None
    with backend.transaction() as tx:
        assert "m=2048,t=2" in tx.user(username="alice")[1]
    assert stronger.authenticate("alice", "pw") is not None
    weak.close()
    stronger.close()


def test_users_apps_communities(store: Catalog) -> None:
    u = store.create_user("alice", "secret", premium=True)
    assert store.authenticate("alice", "secret") == u
    assert store.authenticate("alice", "nope") is None
    assert store.authenticate("bob", "secret") is None
    with pytest.raises(AlreadyExists):
        store.create_user("alice", "x")
    app = store.create_application("demo", ["photo_upload"], ["127.0.0.1"], daily_upload_limit=3)
    assert store.application(app.api_key) == app
    assert app.permissions == {"photo_upload"} and app.allowed_addresses == ("127.0.0.1",)
    assert len(app.secret) == 32 and app.api_key != app.secret
    store.create_community("cats", "Cats")
    with pytest.raises(AlreadyExists):
        store.create_community("cats")
    assert [c.name for c in store.communities()] == ["cats"]


def test_session_expiry_and_call_id(store: Catalog, clock: FakeClock) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo")
    key, _sess = store.open_session(u, app.id, ttl=60)
    assert store.session(key).user == u
    assert store.session(key + "x") is None
    store.advance_call_id(key, Decimal("1172623588.023010"))
    with pytest.raises(CallIdNotIncreasing):
        store.advance_call_id(key, Decimal("1172623588.02301"))  # numerically equal
    store.advance_call_id(key, Decimal(1172623588023))  # milliseconds later: larger
    with pytest.raises(CallIdNotIncreasing):
        store.advance_call_id(key, Decimal(99))
    clock.advance(61)
    assert store.session(key) is None


def test_web_credentials_need_both_halves(store: Catalog, clock: FakeClock) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo")
    cookie, wssid, _ = store.issue_web_credentials(u, app.id, ttl=3600)
    assert store.web_credentials(cookie, wssid).user == u
    assert store.web_credentials(cookie, wssid + "x") is None
    cookie2, wssid2, _ = store.issue_web_credentials(u, app.id, ttl=3600)
    assert store.web_credentials(cookie, wssid2) is None
    clock.advance(3601)
    assert store.web_credentials(cookie2, wssid2) is None


def test_revoked_web_credentials_stop_at_once(store: Catalog) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo")
    cookie, wssid, _ = store.issue_web_credentials(u, app.id, ttl=3600)
    cookie2, wssid2, _ = store.issue_web_credentials(u, app.id, ttl=3600)
    store.revoke_web_credentials(cookie)
    assert store.web_credentials(cookie, wssid) is None
    assert store.web_credentials(cookie2, wssid2) is not None  # another sign-in of the same user stays
    store.revoke_web_credentials("never issued")  # nothing to revoke: no error


def test_photo_status_filter_and_album_covers(store: Catalog) -> None:
    u = store.create_user("alice", "pw")
    other = store.create_user("bob", "pw")
    app = store.create_application("demo")
    trip, empty = store.create_album(u.id, "trip"), store.create_album(u.id, "empty")
    first, second = (
        store.add_photos(u, None, [photo(caption=c)], album_id=trip.id, default_album=False, pending=False)[0]
        for c in ("first", "second")
    )
    pending = store.add_photos(u, app.id, [photo()], album_id=None, default_album=True, pending=True)[0]
    store.add_photos(u, None, [photo()], album_id=None, default_album=False, pending=False)
    store.add_photos(
        other, None, [photo()], album_id=store.create_album(other.id, "b").id, default_album=False, pending=False
    )
    assert [p.id for p in store.photos(u.id, status="pending")] == [pending.id]
    assert [p.id for p in store.photos(u.id, album_id=trip.id, status="visible")] == [first.id, second.id]
    assert len(store.photos(u.id)) == 4
    covers = store.album_covers(u.id)
    assert set(covers) == {trip.id}  # the application album holds only a pending photo; empty has none
    assert covers[trip.id].id == second.id and covers[trip.id].renditions == second.renditions
    assert empty.id not in covers
    store.approve_photo(pending.id, u.id)
    assert store.album_covers(u.id)[pending.album_id].id == pending.id


def test_regular_album_limit_is_all_or_none(store: Catalog) -> None:
    u = store.create_user("alice", "pw")
    album = store.create_album(u.id, "trip")
    store.add_photos(u, None, [photo() for _ in range(4)], album_id=album.id, default_album=False, pending=False)
    with pytest.raises(AlbumFull):
        store.add_photos(u, None, [photo(), photo()], album_id=album.id, default_album=False, pending=False)
    assert store.album(album.id).size == 4
    store.add_photos(u, None, [photo()], album_id=album.id, default_album=False, pending=False)
    assert store.album(album.id).size == 5
    other = store.create_user("bob", "pw")
    with pytest.raises(AlbumNotFound):
        store.add_photos(other, None, [photo()], album_id=album.id, default_album=False, pending=False)
    with pytest.raises(AlbumNotFound):
        store.add_photos(u, None, [photo()], album_id=12345, default_album=False, pending=False)


def test_default_album_created_once_with_its_own_limit(store: Catalog) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo")
    got = store.add_photos(u, app.id, [photo() for _ in range(6)], album_id=None, default_album=True, pending=False)
    aid = got[0].album_id
    assert all(p.album_id == aid for p in got)
    album = store.album(aid)
    assert album.kind == "application" and album.size == 6 and album.app_id == app.id
    got = store.add_photos(u, app.id, [photo()], album_id=None, default_album=True, pending=False)
    assert got[0].album_id == aid
    with pytest.raises(AlbumFull):
        store.add_photos(u, app.id, [photo()], album_id=None, default_album=True, pending=False)


def test_pending_limit_and_approval(store: Catalog) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo")
    got = store.add_photos(u, app.id, [photo() for _ in range(4)], album_id=None, default_album=True, pending=True)
    assert {p.status for p in got} == {"pending"}
    with pytest.raises(PendingLimitReached):
        store.add_photos(u, app.id, [photo()], album_id=None, default_album=True, pending=True)
    store.approve_photo(got[0].id, u.id)
    store.add_photos(u, app.id, [photo()], album_id=None, default_album=True, pending=True)
    removed = store.delete_photo(got[1].id, u.id)
    assert store.photo(removed.id) is None
    assert not store.file_key_known(removed.renditions[0].file_key)


def test_daily_upload_limit(store: Catalog, clock: FakeClock) -> None:
    u = store.create_user("alice", "pw")
    app = store.create_application("demo", daily_upload_limit=2)
    store.add_photos(u, app.id, [photo(), photo()], album_id=None, default_album=False, pending=False)
    with pytest.raises(UploadLimitReached):
        store.add_photos(u, app.id, [photo()], album_id=None, default_album=False, pending=False)
    clock.advance(86401)
    store.add_photos(u, app.id, [photo()], album_id=None, default_album=False, pending=False)


def test_batches(store: Catalog, clock: FakeClock) -> None:
    u = store.create_user("alice", "pw")

    def add(n: int, count: int) -> Any:
        return store.add_photos(
            u, None, [photo() for _ in range(n)], album_id=None, default_album=False, pending=False, batch=("b1", count)
        )

    add(2, 3)
    with pytest.raises(BatchCountMismatch):
        add(1, 4)
    with pytest.raises(BatchExceeded):
        add(2, 3)
    add(1, 3)
    with pytest.raises(BatchExceeded):
        add(1, 3)
    store.add_photos(u, None, [photo()], album_id=None, default_album=False, pending=False, batch=("b2", 5))
    clock.advance(301)
    with pytest.raises(BatchExpired):
        store.add_photos(u, None, [photo()], album_id=None, default_album=False, pending=False, batch=("b2", 5))


def test_album_limit_holds_under_threads(database_url: str, clock: FakeClock) -> None:
    store = open_catalog(database_url, clock, Quotas(regular_album_limit=60))
    u = store.create_user("alice", "pw")
    album = store.create_album(u.id, "race")
    store.add_photos(u, None, [photo() for _ in range(50)], album_id=album.id, default_album=False, pending=False)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        barrier.wait()
        try:
            store.add_photos(u, None, [photo()], album_id=album.id, default_album=False, pending=False)
            results.append("ok")
        except AlbumFull:
            results.append("full")

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 10 and results.count("full") == 10
    assert store.album(album.id).size == 60
    store.close()


@pytest.mark.parametrize("kind", ["flag", "failures", "batch"])
def test_a_locked_read_of_a_missing_row_waits_for_its_holder(database_url: str, clock: FakeClock, kind: str) -> None:
    """A row made on first use (a shared secret, a failure count, a batch) is made once: a second writer's
    ``lock=True`` read waits until the first one commits, then sees its row (interface guarantee)."""
    from photoservice.storage.records import Batch

    first, second = open_catalog(database_url, clock, Quotas()), open_catalog(database_url, clock, Quotas())
    owner = first.create_user("alice", "pw")
    read = {
        "flag": lambda tx: tx.flag("secret:x", lock=True),
        "failures": lambda tx: tx.failures("user:alice", lock=True),
        "batch": lambda tx: tx.batch(owner.id, "b1", lock=True),
    }[kind]
    write = {
        "flag": lambda tx: tx.set_flag("secret:x", "made"),
        "failures": lambda tx: tx.set_failures("user:alice", 1, 1.0),
        "batch": lambda tx: tx.put_batch(Batch(owner.id, "b1", 3, 1, 1.0)),
    }[kind]
    holding, seen = threading.Event(), []

    def late() -> None:
        holding.wait()
        with second.backend.transaction(write=True) as tx:
            seen.append(read(tx))

    thread = threading.Thread(target=late)
    thread.start()
    with first.backend.transaction(write=True) as tx:
        assert read(tx) is None
        holding.set()
        time.sleep(0.3)  # the other writer is waiting now (it would read None without the lock)
        write(tx)
    thread.join()
    assert seen and seen[0] is not None
    first.close()
    second.close()


def test_signature_matches_historical_recipe() -> None:
    args = {"method": "up.photos.upload", "api_key": "k", "call_id": "1.5", "caption": "Über", "sig": "zzz"}
    import hashlib

    raw = "api_key=kcall_id=1.5caption=Übermethod=up.photos.upload" + "s3cret"
    expected = hashlib.md5(raw.encode("utf-8")).hexdigest()
    assert auth.signature(args, "s3cret") == expected
    assert auth.check_signature(args, "s3cret", expected)
    assert not auth.check_signature(args, "s3cret", expected.upper())
    assert not auth.check_signature(args, "s3cret", "é")


def test_call_id_parsing() -> None:
    assert auth.parse_call_id("1172623588.023010") == Decimal("1172623588.02301")
    for bad in ["", "abc", "1e5", "-1", "1.2.3", "NaN", "inf"]:
        with pytest.raises(auth.BadCallId):
            auth.parse_call_id(bad)


def test_address_rules() -> None:
    assert auth.address_allowed("10.0.0.1", [])
    assert auth.address_allowed("127.0.0.1", ["127.0.0.0/8"])
    assert not auth.address_allowed("192.0.2.1", ["127.0.0.1"])
    assert not auth.address_allowed(None, ["127.0.0.1"])
    assert auth.address_allowed("::1", ["::1"])


def test_file_store_atomic_and_confined(file_store: FileStore, tmp_path: Path) -> None:
    fs = file_store
    key = new_file_key(new_stem(), "thumb", "jpeg")
    fs.put(key, io.BytesIO(b"abcdef"), 6)
    assert fs.stat(key).size == 6
    with fs.open(key) as fh:
        assert fh.read() == b"abcdef"
    with fs.open(key, 2, 3) as fh:
        assert fh.read() == b"cde"
    with fs.open(key, 4) as fh:
        assert fh.read() == b"ef"
    assert [f.key for f in fs.list_files()] == [key]
    if isinstance(fs, LocalFileStore):
        assert oct(os.stat(tmp_path / "files" / key).st_mode & 0o777) == "0o600"
    with pytest.raises(FileStoreError, match="expected 9 bytes"):
        fs.put(new_file_key(new_stem(), "thumb", "jpeg"), io.BytesIO(b"short"), 9)
    assert fs.sweep_incomplete(started_before=1e12, remove=False) == []  # the failed write left nothing
    assert [f.key for f in fs.list_files()] == [key]
    for bad in ["../x.jpg", "ab/../../etc_thumb.jpg", "/etc/passwd", "ab/" + "0" * 32 + "_thumb.exe"]:
        with pytest.raises(BadFileKey):
            fs.put(bad, io.BytesIO(b"x"), 1)
        with pytest.raises(BadFileKey):
            fs.open(bad)
    fs.delete(key)
    fs.delete(key)
    with pytest.raises(FileNotFoundError):
        fs.stat(key)
    with pytest.raises(FileNotFoundError):
        fs.open(key)
    fs.check_writable()
    assert list(fs.list_files()) == []
