"""Several instances on one PostgreSQL database and one bucket: the rules hold by the database alone.

Real ``photoservice serve`` processes on free ports of 127.0.0.1: instance A with two worker processes
(``--workers 2``), instance B with one, both on one schema of the run's PostgreSQL cluster and one prefix of
the run's bucket (moto_server). Every request of a test goes to one or the other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from photoservice import Config
from photoservice.storage import Catalog, open_storage
from photoservice.storage.files import new_file_key, new_stem
from photoservice.storage.records import NewPhoto, RenditionRecord

from .backends import PostgresCluster, S3Endpoint, free_port, stop_process
from .client import PlatformClient, YahooClient, error_code, make_jpeg, multipart
from .conftest import TEST_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
# One test process starts the instances for every test of this module (pytest-xdist --dist loadgroup).
pytestmark = pytest.mark.xdist_group("photoservice-instances")


@dataclass
class Shared:
    """One database and one prefix of the bucket, as the instances and the admin commands see them."""

    database: str
    storage: str
    s3: S3Endpoint

    def args(self) -> list[str]:
        return ["--database", self.database, "--storage", self.storage, "--s3-endpoint-url", self.s3.url]

    def catalog(self) -> Catalog:
        catalog, _ = open_storage(
            Config(
                data_dir=Path("/nonexistent"),
                database=self.database,
                storage=self.storage,
                s3_endpoint_url=self.s3.url,
                **TEST_SETTINGS,
            )
        )
        return catalog


def start_instance(shared: Shared, data: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """``photoservice serve`` on a free port; returns the process and its base URL once /health answers."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "photoservice",
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            *shared.args(),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen[bytes], base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the instance at {base} exited with status {proc.returncode}"
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the instance at {base} did not answer within {timeout:g} s")


@pytest.fixture(scope="module")
def shared(postgres: PostgresCluster, s3: S3Endpoint) -> Shared:
    return Shared(postgres.new_schema(), s3.storage_url(), s3)


@pytest.fixture(scope="module")
def instances(shared: Shared, tmp_path_factory: Any) -> Iterator[list[str]]:
    """Instance A (two workers) and instance B (one), started together, always stopped."""
    started = [
        start_instance(shared, tmp_path_factory.mktemp("a"), workers=2),
        start_instance(shared, tmp_path_factory.mktemp("b")),
    ]
    try:
        for proc, base in started:
            wait_healthy(proc, base)
        yield [base for _, base in started]
    finally:
        for proc, _ in started:
            stop_process(proc)


def platform_login(base: str, app: Any, username: str = "alice", password: str = "pw") -> PlatformClient:
    client = PlatformClient(app.api_key, app.secret)
    body, headers = client.form(
        "up.auth.login", with_session=False, username=username, password=password, format="JSON"
    )
    resp = httpx.post(f"{base}/restserver.php", content=body, headers=headers, timeout=60)
    client.session_key = resp.json()["session_key"]
    return client


def yahoo_login(base: str, app: Any, username: str = "alice", password: str = "pw") -> YahooClient:
    client = YahooClient(app.api_key)
    body, headers = client.login_form(username, password)
    client.take_login(httpx.post(f"{base}/V3.0/login", content=body, headers=headers, timeout=60))
    return client


def yahoo_upload(http: httpx.Client, base: str, client: YahooClient, jpeg: bytes, **query: Any) -> httpx.Response:
    body, ctype = multipart([], [("pic0", "a.jpg", jpeg)])
    return http.post(
        f"{base}/V3.0/uploadPhotos",
        params=client.query(caption0="x", **query),
        content=body,
        headers={"content-type": ctype, **client.headers()},
    )


def fake_photo() -> NewPhoto:
    """A photo row whose rendition names a key of the right shape (no object: the album is only filled)."""
    key = new_file_key(new_stem(), "thumb", "jpeg")
    return NewPhoto(
        caption="",
        description="",
        tags=(),
        width=1,
        height=1,
        format="jpeg",
        size=1,
        sha256="0" * 64,
        exif=(),
        create_time=None,
        renditions=(RenditionRecord("thumb", 1, 1, 1, "jpg", key),),
    )


def test_racing_for_the_last_album_slots_through_both_apis_and_instances(shared: Shared, instances: list[str]) -> None:
    """16 clients, half through up.photos.upload and half through uploadPhotos, spread over both instances,
    try 32 uploads into an album with 12 of its 60 slots left: exactly 12 are stored, files included."""
    catalog = shared.catalog()
    app = catalog.create_application("racer", ["photo_upload"])
    user = catalog.create_user("alice", "pw")
    catalog.create_community("mycommunity")
    album = catalog.create_album(user.id, "race")
    catalog.add_photos(
        user, None, [fake_photo() for _ in range(48)], album_id=album.id, default_album=False, pending=False
    )
    objects_before = len(shared.s3.objects(shared.storage))
    web = yahoo_login(instances[1], app)  # one browser sign-in, used from both instances
    platform = [platform_login(instances[i % 2], app) for i in range(8)]  # one session per client
    jpeg = make_jpeg(48, 36)
    barrier = threading.Barrier(16)

    def client(i: int) -> list[bool]:
        base = instances[(i // 2) % 2]
        outcomes = []
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            for _ in range(2):
                if i % 2 == 0:
                    body, headers = platform[i // 2].upload(
                        jpeg, community="mycommunity", aid=str(album.id), format="JSON"
                    )
                    code = error_code(http.post(f"{base}/restserver.php", content=body, headers=headers))
                    assert code in (None, 321)
                    outcomes.append(code is None)
                else:
                    resp = yahoo_upload(http, base, web, jpeg, aid=album.id)
                    assert resp.status_code in (200, 400), resp.text
                    outcomes.append(resp.status_code == 200)
        return outcomes

    with ThreadPoolExecutor(16) as pool:
        outcomes = [ok for result in pool.map(client, range(16)) for ok in result]
    assert outcomes.count(True) == 12
    assert catalog.album(album.id).size == 60
    stored = [p for p in catalog.photos(user.id, album_id=album.id) if p.size > 1]
    assert len(stored) == 12
    # the refused uploads removed their objects: exactly the stored photos' renditions are in the bucket
    keys = {r.file_key for p in stored for r in p.renditions}
    assert len(shared.s3.objects(shared.storage)) - objects_before == len(keys)
    catalog.close()


def test_a_call_id_used_on_one_instance_is_refused_on_the_other(shared: Shared, instances: list[str]) -> None:
    catalog = shared.catalog()
    app = catalog.create_application("replayer", ["photo_upload"])
    catalog.create_user("bob", "pw")
    catalog.create_community("bobs")
    client = platform_login(instances[0], app, "bob")
    body, headers = client.upload(make_jpeg(), community="bobs", format="JSON")
    assert error_code(httpx.post(f"{instances[0]}/restserver.php", content=body, headers=headers)) is None
    # the very same signed request, replayed on the other instance
    assert error_code(httpx.post(f"{instances[1]}/restserver.php", content=body, headers=headers)) == 103
    earlier = client.args("up.photos.upload", community="bobs", format="JSON")
    later = client.args("up.photos.upload", community="bobs", format="JSON")
    body, headers = client.upload(make_jpeg(), args=later)
    assert error_code(httpx.post(f"{instances[1]}/restserver.php", content=body, headers=headers)) is None
    body, headers = client.upload(make_jpeg(), args=earlier)  # lower than the last one, on the first instance
    assert error_code(httpx.post(f"{instances[0]}/restserver.php", content=body, headers=headers)) == 103
    assert len(catalog.photos(catalog.user_by_name("bob").id)) == 2
    catalog.close()


def test_one_batch_split_over_both_instances_holds_its_count(shared: Shared, instances: list[str]) -> None:
    """8 racing uploads of one batch (batcount 5), half to each instance: exactly 5 are stored."""
    catalog = shared.catalog()
    app = catalog.create_application("batcher")
    catalog.create_user("carol", "pw")
    web = yahoo_login(instances[0], app, "carol")
    jpeg = make_jpeg(40, 30)
    barrier = threading.Barrier(8)

    def upload(i: int) -> int:
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            return yahoo_upload(http, instances[i % 2], web, jpeg, batid="holiday", batcount=5).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(upload, range(8)))
    assert sorted(codes) == [200] * 5 + [400] * 3
    photos = catalog.photos(catalog.user_by_name("carol").id)
    assert len(photos) == 5 and {p.batch_id for p in photos} == {"holiday"}
    catalog.close()


def test_kill_9_mid_upload_leaves_nothing_visible_and_fsck_cleans_up_after_the_grace_period(
    postgres: PostgresCluster, s3: S3Endpoint, tmp_path: Path
) -> None:
    """An instance killed after writing an upload's objects and before committing its rows: no photo is
    visible, and ``photoservice fsck`` leaves the objects alone within the grace period, removes them after.

    The upload is stopped at that exact point by holding its owner's row lock from here (the commit waits
    for it), so the kill always lands between the objects and the rows."""
    shared = Shared(postgres.new_schema(), s3.storage_url(), s3)
    catalog = shared.catalog()
    app = catalog.create_application("victim")
    user = catalog.create_user("dave", "pw")
    proc, base = start_instance(shared, tmp_path / "c")
    try:
        wait_healthy(proc, base)
        web = yahoo_login(base, app, "dave")
        holder = psycopg.connect(shared.database)
        holder.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user.id,))
        answer: list[Any] = []

        def upload() -> None:
            try:
                with httpx.Client(timeout=60) as http:
                    answer.append(yahoo_upload(http, base, web, make_jpeg(640, 480)))
            except httpx.HTTPError as exc:
                answer.append(exc)

        thread = threading.Thread(target=upload)
        thread.start()
        deadline = time.monotonic() + 60
        while len(s3.objects(shared.storage)) < 3 and time.monotonic() < deadline:  # thumb, screen, full
            time.sleep(0.05)
        written = s3.objects(shared.storage)
        assert len(written) == 3, "the upload did not write its objects"
        time.sleep(0.5)  # its commit is now waiting for the row lock held here
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        holder.rollback()
        holder.close()
        thread.join(timeout=60)
        assert answer and isinstance(answer[0], httpx.HTTPError)  # the client saw the connection drop
    finally:
        stop_process(proc)
    assert catalog.photos(user.id) == []
    cli = [sys.executable, "-m", "photoservice", "fsck", *shared.args()]
    young = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert young.returncode == 0 and "younger than the grace period" in young.stderr, young.stderr
    assert sorted(s3.objects(shared.storage)) == sorted(written)
    removed = subprocess.run([*cli, "--remove", "--grace", "0"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert removed.returncode == 1, removed.stderr
    assert sorted(json.loads(line)["orphan"] for line in removed.stdout.splitlines()) == sorted(
        name.split("/", 1)[1] for name in written
    )
    assert s3.objects(shared.storage) == []
    assert subprocess.run(cli, capture_output=True, timeout=120, cwd=ROOT).returncode == 0
    catalog.close()
