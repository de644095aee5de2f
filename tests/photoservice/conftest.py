"""Fixtures of the service tests: a service on a temporary folder with a fake clock, and clients."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from photoservice import ASGIApp, Config, FakeClock, Service

from .client import PlatformClient, YahooClient, make_jpeg

# Cheap password hashes (the tests sign in hundreds of times), no fsync, and the Host names the test clients send.
TEST_SETTINGS = {"password_time_cost": 1, "password_memory_kib": 1024, "fsync": False,
               "allowed_hosts": "testserver,wsgi.test,127.0.0.1,localhost"}


def stored_keys(service: Any) -> list[str]:
    """Every file key in the service's file store."""
    return [item.key for item in service.files.list_files()]


@pytest.fixture(params=["cython", "python"])
def each_parser(request: Any, monkeypatch: Any) -> str:
    """Run the test with the compiled parser and again with the pure-Python one (the adapters look up
    ``fastmime.MultipartParser`` when a request starts)."""
    import fastmime
    import fastmime.pure
    if request.param == "cython":
        if fastmime.IMPLEMENTATION != "cython":
            pytest.skip("the compiled parser is not built")
    else:
        monkeypatch.setattr(fastmime, "MultipartParser", fastmime.pure.MultipartParser)
    return str(request.param)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def config(tmp_path: Path, clock: FakeClock) -> Config:
    return Config(data_dir=tmp_path / "data", clock=clock, **TEST_SETTINGS)


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
def make_service(tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    """Build extra services with config overrides: ``svc, caller = make_service(pending_limit=1)``."""
    made = []

    def make(**overrides: Any) -> tuple[Any, Caller]:
        cfg = Config(data_dir=tmp_path / f"data{len(made)}", clock=clock, **{**TEST_SETTINGS, **overrides})
        svc = Service(cfg)
        made.append(svc)
        return svc, Caller(ASGIApp(svc))
    yield make
    for svc in made:
        svc.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn

    service = Service(Config(data_dir=tmp_path / "data", **TEST_SETTINGS))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(ASGIApp(service), host="127.0.0.1", port=port, log_config=None,
                                        access_log=False, lifespan="off"))
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


