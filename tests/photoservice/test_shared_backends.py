"""What only the shared backends have: PostgreSQL's migrations and errors, S3's multipart uploads and
unfinished writes, fsck on a bucket, and moving an installation from SQLite + folder to PostgreSQL + S3."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from photoservice import ASGIApp, Config, Service
from photoservice.storage import open_files, prepare_schema, redacted_url
from photoservice.storage.files import FileStoreError, new_file_key, new_stem
from photoservice.storage.fsck import fsck
from photoservice.storage.metadata import SCHEMA_VERSION
from photoservice.storage.postgres import PostgresBackend
from photoservice.storage.records import AlreadyExists, StoreUnavailable
from photoservice.storage.s3 import S3FileStore

from .backends import PostgresCluster, S3Endpoint, free_port
from .client import PlatformClient, YahooClient, error_code, make_jpeg, multipart
from .conftest import TEST_SETTINGS, Caller

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


class _OneWay(io.RawIOBase):
    """A source that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _s3_store(s3: S3Endpoint, **kw: Any) -> S3FileStore:
    store = open_files(s3.storage_url(), s3_endpoint_url=s3.url)
    assert isinstance(store, S3FileStore)
    for name, value in kw.items():
        setattr(store, name, value)
    return store


# ---------------------------------------------------------------------------------------------- PostgreSQL
def test_migrate_once_when_many_workers_start_at_once(postgres: PostgresCluster) -> None:
    """Eight backends migrating an empty database at the same moment: one creates the schema, the others
    wait on the advisory lock and find it made."""
    url = postgres.new_database()
    befores: list[int] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        backend = PostgresBackend(url)
        barrier.wait()
        befores.append(backend.migrate())
        backend.close()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(befores) == [0] + [SCHEMA_VERSION] * 7
    backend = PostgresBackend(url)
    assert backend.schema_version() == SCHEMA_VERSION
    prepare_schema(backend)
    backend.close()


def test_migrate_command_and_schema_checks(postgres: PostgresCluster, tmp_path: Path, monkeypatch: Any) -> None:
    """``photoservice migrate`` creates and then leaves the schema; a database with an older schema is refused
    with the advice to migrate; ``serve`` refuses a newer one."""
    url = postgres.new_database()
    cli = [sys.executable, "-m", "photoservice"]
    first = subprocess.run([*cli, "migrate", "--database", url], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert first.returncode == 0 and f"0 -> {SCHEMA_VERSION}" in first.stdout, first.stderr
    second = subprocess.run([*cli, "migrate", "--database", url], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert second.returncode == 0 and "up to date" in second.stdout
    import photoservice.storage as storage

    monkeypatch.setattr(storage, "SCHEMA_VERSION", SCHEMA_VERSION + 1)  # as the next release will see it
    with pytest.raises(storage.SchemaMismatch, match="photoservice migrate"):
        prepare_schema(PostgresBackend(url))
    monkeypatch.undo()
    with PostgresBackend(url)._admin() as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    served = subprocess.run(
        [*cli, "serve", "--port", str(free_port()), "--database", url, "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert served.returncode == 2 and "newer than this photoservice" in served.stderr
    again = subprocess.run([*cli, "migrate", "--database", url], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 2 and "newer" in again.stderr


def test_driver_errors_become_store_errors(postgres: PostgresCluster) -> None:
    backend = PostgresBackend(postgres.new_schema())
    with backend.transaction(write=True) as tx:
        tx.add_user("alice", "hash", False, 0.0)
    with pytest.raises(AlreadyExists):
        with backend.transaction(write=True) as tx:
            tx.add_user("alice", "hash", False, 0.0)
    with backend.transaction() as tx:  # the failed transaction was rolled back, the connection is usable
        assert tx.user(username="alice") is not None
    backend.close()
    nobody = PostgresBackend(f"postgresql://postgres@127.0.0.1:{free_port()}/none", timeout=2)
    with pytest.raises(StoreUnavailable):
        nobody.schema_version()
    with pytest.raises(StoreUnavailable):
        with nobody.transaction() as tx:
            tx.applications()
    nobody.close()


def test_counts_and_secrets_made_on_first_use_hold_across_processes(postgres: PostgresCluster) -> None:
    """Two catalogs on one database (two workers): 12 racing failed sign-ins are 12 failures, and a secret
    made on first use by 8 racing callers is one secret."""
    from photoservice.config import FakeClock
    from photoservice.storage import Catalog
    from photoservice.storage.passwords import PasswordParams, Passwords
    from photoservice.storage.records import Quotas, SignInPolicy

    url = postgres.new_schema()
    fast = Passwords(PasswordParams(time_cost=1, memory_kib=1024, parallelism=1))
    catalogs = [
        Catalog(PostgresBackend(url), FakeClock(), Quotas(), fast, SignInPolicy(free_failures=100)) for _ in range(2)
    ]
    catalogs[0].create_user("alice", "pw")
    barrier = threading.Barrier(12)
    secrets_seen: list[bytes] = []

    def fail(i: int) -> None:
        barrier.wait()
        assert catalogs[i % 2].authenticate("alice", "wrong", client="192.0.2.7") is None
        secrets_seen.append(catalogs[i % 2].shared_secret("media"))

    threads = [threading.Thread(target=fail, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with catalogs[0].backend.transaction() as tx:
        assert tx.failures("user:alice")[0] == 12 and tx.failures("addr:192.0.2.7")[0] == 12
    assert len(secrets_seen) == 12 and len(set(secrets_seen)) == 1
    for catalog in catalogs:
        catalog.close()


def test_passwords_never_shown() -> None:
    assert redacted_url("postgresql://app:s3cret@db:5432/photos") == "postgresql://app:***@db:5432/photos"
    assert redacted_url("sqlite:///tmp/x.sqlite3") == "sqlite:///tmp/x.sqlite3"
    assert "s3cret" not in repr(PostgresBackend("postgresql://app:s3cret@db:5432/photos"))


# ---------------------------------------------------------------------------------------------- S3
def test_s3_multipart_streamed_ranged_and_exact(s3: S3Endpoint) -> None:
    store = _s3_store(s3, part_size=5 * MiB)
    data = bytes(range(256)) * (11 * MiB // 256 + 3)  # 3 parts of 5 MiB at most
    key = new_file_key(new_stem(), "full", "jpeg")
    store.put(key, io.BytesIO(data), len(data))
    stat = store.stat(key)
    assert stat.size == len(data) and stat.etag.endswith('-3"')  # S3's mark of a 3-part upload
    with store.open(key, 5 * MiB - 3, 10) as fh:
        assert fh.read() == data[5 * MiB - 3 : 5 * MiB + 7]
    with store.open(key) as fh:
        assert fh.read() == data
    # a source that cannot seek is read one part at a time
    other = new_file_key(new_stem(), "full", "jpeg")
    store.put(other, _OneWay(data), len(data))  # type: ignore[arg-type]
    with store.open(other, len(data) - 5) as fh:
        assert fh.read() == data[-5:]
    # a source shorter or longer than announced stores nothing and leaves no unfinished upload
    for wrong in (_OneWay(data[:-1]), _OneWay(data + b"x"), io.BytesIO(data[:-1])):
        key_wrong = new_file_key(new_stem(), "full", "jpeg")
        with pytest.raises(FileStoreError):
            store.put(key_wrong, wrong, len(data))  # type: ignore[arg-type]
        with pytest.raises(FileNotFoundError):
            store.stat(key_wrong)
    assert store.sweep_incomplete(started_before=time.time() + 3600, remove=False) == []
    assert sorted(f.key for f in store.list_files()) == sorted([key, other])


def test_fsck_on_a_bucket_waits_for_the_grace_period(s3: S3Endpoint, postgres: PostgresCluster) -> None:
    """An object no row names and a multipart upload a crash left are removed only once old enough."""
    store = _s3_store(s3)
    service = Service(
        Config(data_dir=Path("/nonexistent"), database=postgres.new_schema(), storage="s3://x/y", **TEST_SETTINGS),
        files=store,
    )
    orphan = new_file_key(new_stem(), "thumb", "jpeg")
    store.put(orphan, io.BytesIO(b"orphan"), 6)
    now = time.time()
    young = fsck(service.catalog, store, now=now, grace=3600, remove=True)
    assert young.clean and young.young == 1 and store.stat(orphan).size == 6
    later = fsck(service.catalog, store, now=now + 7200, grace=3600, remove=True)
    assert later.orphans == [orphan]
    with pytest.raises(FileNotFoundError):
        store.stat(orphan)
    assert fsck(service.catalog, store, now=now + 7200, grace=3600).clean
    service.close()
    # An unfinished multipart upload is old once the server's initiation time is before the cutoff (moto
    # reports one fixed time for every upload; real servers the true one: the cutoffs follow what it says).
    left = new_file_key(new_stem(), "full", "jpeg")
    upload_id = s3.client().create_multipart_upload(Bucket=store.bucket, Key=store.prefix + left)["UploadId"]
    uploads = s3.client().list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)["Uploads"]
    initiated = uploads[0]["Initiated"].timestamp()
    assert store.sweep_incomplete(started_before=initiated, remove=True) == []
    assert s3.client().list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads")
    swept = store.sweep_incomplete(started_before=initiated + 1, remove=True)
    assert swept == [f"{left} (multipart upload {upload_id})"]
    assert not s3.client().list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads")


def test_unreachable_bucket_is_a_file_store_error(s3: S3Endpoint) -> None:
    store = S3FileStore("no-such-bucket-here", endpoint_url=s3.url)
    with pytest.raises(FileStoreError):
        store.check_writable()
    with pytest.raises(FileStoreError):
        store.put(new_file_key(new_stem(), "thumb", "jpeg"), io.BytesIO(b"x"), 1)


# ---------------------------------------------------------------------------------------------- moving
def test_import_moves_sqlite_and_folder_to_postgres_and_s3(
    tmp_path: Path, postgres: PostgresCluster, s3: S3Endpoint
) -> None:
    """Everything a client knows stays valid after the move: keys, sessions, ids, media; nothing is lost."""
    old = Service(Config(data_dir=tmp_path / "old", **TEST_SETTINGS))
    app = old.catalog.create_application("mover", ["photo_upload"])
    old.catalog.create_user("alice", "pw", premium=True)
    old.catalog.create_community("mycommunity")
    http = Caller(ASGIApp(old))
    client = PlatformClient(app.api_key, app.secret)
    body, headers = client.form("up.auth.login", with_session=False, username="alice", password="pw", format="JSON")
    client.session_key = http.post("/restserver.php", content=body, headers=headers).json()["session_key"]
    pids = []
    for i in range(3):
        body, headers = client.upload(make_jpeg(40 + i, 30), community="mycommunity", caption=f"p{i}", format="JSON")
        resp = http.post("/restserver.php", content=body, headers=headers)
        assert error_code(resp) is None, resp.text
        pids.append(resp.json()["pid"])
    web = YahooClient(app.api_key)
    web.take_login(
        http.post("/V3.0/login", content=web.login_form("alice", "pw")[0], headers=web.login_form("alice", "pw")[1])
    )
    before = {p.id: p for p in old.catalog.photos(old.catalog.user_by_name("alice").id)}
    old.catalog.set_maintenance(True)  # stop the old one; the flag itself is not carried over
    old.close()

    database, storage = postgres.new_database(), s3.storage_url()
    cli = [
        sys.executable,
        "-m",
        "photoservice",
        "import",
        "--from-database",
        f"sqlite:///{tmp_path / 'old' / 'photoservice.sqlite3'}",
        "--from-storage",
        f"file://{tmp_path / 'old' / 'files'}",
        "--database",
        database,
        "--storage",
        storage,
        "--s3-endpoint-url",
        s3.url,
    ]
    moved = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert moved.returncode == 0, moved.stderr
    summary = json.loads(moved.stdout.splitlines()[-1])
    assert summary["files_copied"] == 9 and summary["rows"]["photos"] == 3 and summary["files_missing"] == 0
    again = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert again.returncode == 2 and "not empty" in again.stderr

    new = Service(
        Config(data_dir=tmp_path / "new", database=database, storage=storage, s3_endpoint_url=s3.url, **TEST_SETTINGS)
    )
    try:
        assert not new.catalog.maintenance()
        after = {p.id: p for p in new.catalog.photos(new.catalog.user_by_name("alice").id)}
        assert after == before and sorted(after) == sorted(int(p) for p in pids)
        http = Caller(ASGIApp(new))
        # the old session key and call_id order still hold, the old cookie + WSSID too
        body, headers = client.upload(make_jpeg(), community="mycommunity", format="JSON")
        assert error_code(http.post("/restserver.php", content=body, headers=headers)) is None
        listed = http.get("/V3.0/listPhotos", params=web.query(output="json"), headers=web.headers())
        assert listed.status_code == 200, listed.text
        # new rows get new ids past the copied ones
        assert new.catalog.create_user("bob", "pw").id > new.catalog.user_by_name("alice").id
        for photo in before.values():
            for rendition in photo.renditions:
                assert new.files.stat(rendition.file_key).size == rendition.size
    finally:
        new.close()


def test_a_batch_through_the_database_only(postgres: PostgresCluster, s3: S3Endpoint, tmp_path: Path) -> None:
    """Two services (as two instances would) on one database: the batch count is shared."""
    database, storage = postgres.new_schema(), s3.storage_url()
    services = [
        Service(
            Config(
                data_dir=tmp_path / f"d{i}", database=database, storage=storage, s3_endpoint_url=s3.url, **TEST_SETTINGS
            )
        )
        for i in range(2)
    ]
    try:
        app = services[0].catalog.create_application("web")
        services[0].catalog.create_user("alice", "pw")
        callers = [Caller(ASGIApp(s)) for s in services]
        web = YahooClient(app.api_key)
        body, headers = web.login_form("alice", "pw")
        web.take_login(callers[0].post("/V3.0/login", content=body, headers=headers))
        codes = []
        for i in range(4):
            body, ctype = multipart([], [("pic0", "a.jpg", make_jpeg())])
            resp = callers[i % 2].post(
                "/V3.0/uploadPhotos",
                params=web.query(caption0="x", batid="b1", batcount=3),
                content=body,
                headers={"content-type": ctype, **web.headers()},
            )
            codes.append(resp.status_code)
        assert codes == [200, 200, 200, 400]
    finally:
        for s in services:
            s.close()
