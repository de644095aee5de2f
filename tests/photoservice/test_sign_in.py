"""Sign-in throttling (issue 11, finding 4): growing delays per account and per address, in the database."""

from __future__ import annotations

import json
from typing import Any

from photoservice import ASGIApp, Service

from .client import PlatformClient, YahooClient, error_code
from .conftest import Caller


def attempt(http: Any, appid: str, username: str, password: str, client: Any = None) -> Any:
    body, headers = YahooClient(appid).login_form(username, password)
    return (client or http).post("/V3.0/login", content=body, headers=headers)


def test_failures_make_the_account_wait_longer_and_longer(http: Any, world: dict, clock: Any) -> None:
    appid = world["app"].api_key
    for _ in range(5):
        assert attempt(http, appid, "alice", "guess").status_code == 401
    throttled = attempt(http, appid, "alice", "wonderland")  # even the right password waits
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    assert b"Too many failed sign-ins" in throttled.content
    clock.advance(1.1)
    assert attempt(http, appid, "alice", "guess").status_code == 401  # the 6th failure: now 2 s
    clock.advance(1.5)
    assert attempt(http, appid, "alice", "guess").status_code == 429
    clock.advance(0.6)
    assert attempt(http, appid, "alice", "guess").status_code == 401  # the 7th: now 4 s
    clock.advance(4.1)
    assert attempt(http, appid, "alice", "wonderland").status_code == 200  # success clears the account
    assert attempt(http, appid, "alice", "guess").status_code == 401
    assert attempt(http, appid, "alice", "wonderland").status_code == 200


def test_unknown_names_are_throttled_and_cost_the_same_work(
    http: Any, world: dict, service: Any, monkeypatch: Any
) -> None:
    verified: list[bool] = []
    real = service.catalog.passwords.verify

    def verify(password: str, stored: str | None) -> tuple[bool, bool]:
        verified.append(stored is None)
        return real(password, stored)

    monkeypatch.setattr(service.catalog.passwords, "verify", verify)
    for _ in range(5):
        assert attempt(http, world["app"].api_key, "nobody", "guess").status_code == 401
    assert verified == [True] * 5  # a full verification against a dummy hash each time
    assert attempt(http, world["app"].api_key, "nobody", "guess").status_code == 429
    assert len(verified) == 5  # throttled before any password work


def test_an_address_guessing_many_names_is_throttled(http: Any, world: dict) -> None:
    appid = world["app"].api_key
    for i in range(20):
        assert attempt(http, appid, f"user{i}", "guess").status_code == 401
    assert attempt(http, appid, "alice", "wonderland").status_code == 429
    other = Caller(http.app, client=("192.0.2.7", 50000))  # another address is not affected
    assert attempt(http, appid, "alice", "wonderland", other).status_code == 200


def test_every_worker_sees_the_same_counts(http: Any, world: dict, service: Any) -> None:
    second = Service(service.config)  # another worker process would open the same database
    try:
        other = Caller(ASGIApp(second))
        for _ in range(5):
            assert attempt(http, world["app"].api_key, "bob", "guess").status_code == 401
        assert attempt(other, world["app"].api_key, "bob", "builder").status_code == 429
    finally:
        second.close()


def test_platform_sign_in_is_throttled_as_error_4(http: Any, world: dict) -> None:
    app = world["app"]
    c = PlatformClient(app.api_key, app.secret)

    def login(password: str) -> Any:
        body, headers = c.form("up.auth.login", with_session=False, username="alice", password=password, format="JSON")
        return http.post("/restserver.php", content=body, headers=headers)

    for _ in range(5):
        assert error_code(login("guess")) == 100
    resp = login("wonderland")
    assert error_code(resp) == 4 and "retry in" in json.loads(resp.content)["error_msg"]
