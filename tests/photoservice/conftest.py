"""Fixtures of the service tests: a service with a fake clock on either pair of backends, and clients.

Every test that builds a service (``service``, ``world``, ``http``, ``make_service``, ``server``, or
``backends`` itself) runs twice: on the embedded pair (SQLite + a folder, in a temporary folder) and on
the shared pair (PostgreSQL + S3: a schema of its own in the run's throwaway PostgreSQL cluster, and a
prefix of its own in the run's bucket on moto_server; see :mod:`.backends`). Tests that also run on both
parsers (``each_parser``) do so on the embedded pair only: the parsers do not meet the backends.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from photoservice import ASGIApp, Config, FakeClock, Service

from .backends import PostgresCluster, S3Endpoint, ServerUnavailable, free_port
from .client import make_jpeg

# Cheap password hashes (the tests sign in hundreds of times), no fsync, and the Host names the test clients send.
TEST_SETTINGS = {
    "password_time_cost": 1,
    "password_memory_kib": 1024,
    "fsync": False,
    "allowed_hosts": "testserver,wsgi.test,127.0.0.1,localhost",
    "uploads_per_address": 64,
}  # every test client comes from one address; test_limits lowers it

SQLITE_FILE = "sqlite+file"
POSTGRES_S3 = "postgresql+s3"
BACKEND_PAIRS = (SQLITE_FILE, POSTGRES_S3)


def stored_keys(service: Any) -> list[str]:
    """Every file key in the service's file store."""
    return [item.key for item in service.files.list_files()]


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*pairs): run only on these pairs of backends "
        "('sqlite+file', 'postgresql+s3'), for what only they have",
    )


def pytest_generate_tests(metafunc: Any) -> None:
    """Each test that builds a service runs on both pairs of backends (unless ``@pytest.mark.backends(...)``
    names fewer); with ``each_parser`` the second parser runs on the embedded pair only (the product of both
    would double the suite for nothing)."""
    if "backends" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    pairs = [p for p in BACKEND_PAIRS if marker is None or p in marker.args]
    if "each_parser" in metafunc.fixturenames:
        combos = [
            (b, p) for b, p in [(SQLITE_FILE, "cython"), (SQLITE_FILE, "python"), (POSTGRES_S3, "cython")] if b in pairs
        ]
        metafunc.parametrize(("backends", "each_parser"), combos, indirect=True, ids=[f"{b}-{p}" for b, p in combos])
    else:
        metafunc.parametrize("backends", pairs, indirect=True)


@pytest.fixture()
def each_parser(request: Any, monkeypatch: Any) -> str:
    """Run the test with the compiled parser and again with the pure-Python one (the adapters look up
    ``fastmime.MultipartParser`` when a request starts)."""
    import fastmime
    import fastmime.pure

    param = getattr(request, "param", "cython")
    if param == "cython":
        if fastmime.IMPLEMENTATION != "cython":
            pytest.skip("the compiled parser is not built")
    else:
        monkeypatch.setattr(fastmime, "MultipartParser", fastmime.pure.MultipartParser)
    return str(param)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The run's PostgreSQL server: a throwaway cluster (or ``PHOTOSERVICE_TEST_POSTGRES_URL``)."""
    cluster = PostgresCluster(os.environ.get("PHOTOSERVICE_TEST_POSTGRES_URL"))
    try:
        cluster.start()
    except ServerUnavailable as exc:  # the only reason to skip: the Debian package could not be installed
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    """The run's S3 endpoint and bucket: moto_server (or ``PHOTOSERVICE_TEST_S3_ENDPOINT_URL``)."""
    endpoint = S3Endpoint()
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@dataclass
class Backends:
    """The backends of one test: ``database``/``storage`` None means the data folder's SQLite and files."""

    name: str
    database: str | None = None
    storage: str | None = None
    s3_endpoint_url: str | None = None
    postgres: PostgresCluster | None = None
    s3: S3Endpoint | None = None

    @property
    def shared(self) -> bool:
        return self.name == POSTGRES_S3

    def settings(self) -> dict[str, Any]:
        """Config fields for this test's backends."""
        return {"database": self.database, "storage": self.storage, "s3_endpoint_url": self.s3_endpoint_url}

    def fresh(self) -> dict[str, Any]:
        """Config fields for another, empty pair of the same kind (another service of the same test)."""
        if not self.shared:
            return {}
        assert self.postgres is not None and self.s3 is not None
        database = self.postgres.new_schema()
        return {"database": database, "storage": self.s3.storage_url(), "s3_endpoint_url": self.s3.url}

    def cli_args(self) -> list[str]:
        """The same backends as command-line options."""
        return [
            arg for name, value in self.settings().items() if value for arg in (f"--{name.replace('_', '-')}", value)
        ]


@pytest.fixture()
def backends(request: Any) -> Iterator[Backends]:
    """This test's backends: SQLite + folder, or a fresh PostgreSQL database + S3 prefix."""
    name = getattr(request, "param", SQLITE_FILE)
    if name == SQLITE_FILE:
        yield Backends(name)
        return
    pg = request.getfixturevalue("postgres")
    endpoint = request.getfixturevalue("s3")
    chosen = Backends(name, postgres=pg, s3=endpoint)
    fresh = chosen.fresh()
    chosen.database, chosen.storage, chosen.s3_endpoint_url = (
        fresh["database"],
        fresh["storage"],
        fresh["s3_endpoint_url"],
    )
    yield chosen


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def config(tmp_path: Path, clock: FakeClock, backends: Backends) -> Config:
    return Config(data_dir=tmp_path / "data", clock=clock, **backends.settings(), **TEST_SETTINGS)


@pytest.fixture()
def service(config: Config) -> Iterator[Any]:
    svc = Service(config)
    yield svc
    svc.close()


@pytest.fixture()
def asgi(service: Any) -> Any:
    return ASGIApp(service)


@pytest.fixture()
def world(service: Any) -> dict[str, Any]:
    """An application with photo_upload, one without, a user, a community."""
    catalog = service.catalog
    return {
        "app": catalog.create_application("trusted", ["photo_upload"]),
        "plain": catalog.create_application("plain"),
        "user": catalog.create_user("alice", "wonderland"),
        "bob": catalog.create_user("bob", "builder"),
        "community": catalog.create_community("mycommunity", "My Community"),
    }


@pytest.fixture()
def jpeg() -> bytes:
    return make_jpeg()


class Caller:
    """Synchronous calls into the in-process ASGI app through httpx.ASGITransport."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    def request(self, method: str, url: str, **kw: Any) -> Any:
        import asyncio

        import httpx

        async def go() -> Any:
            transport = httpx.ASGITransport(app=self.app, client=self.client)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)


@pytest.fixture()
def http(asgi: Any) -> Caller:
    return Caller(asgi)


@pytest.fixture()
def make_service(tmp_path: Path, clock: FakeClock, backends: Backends) -> Iterator[Any]:
    """Build extra services with config overrides: ``svc, caller = make_service(pending_limit=1)``;
    each has storage of its own."""
    made = []

    def make(**overrides: Any) -> tuple[Any, Caller]:
        cfg = Config(
            data_dir=tmp_path / f"data{len(made)}", clock=clock, **{**TEST_SETTINGS, **backends.fresh(), **overrides}
        )
        svc = Service(cfg)
        made.append(svc)
        return svc, Caller(ASGIApp(svc))

    yield make
    for svc in made:
        svc.close()


@pytest.fixture()
def server(tmp_path: Path, backends: Backends) -> Iterator[tuple[str, Any]]:
    import uvicorn

    service = Service(Config(data_dir=tmp_path / "data", **backends.settings(), **TEST_SETTINGS))
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(ASGIApp(service), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        srv.should_exit = True
        thread.join(timeout=20)
        service.close()
