"""Headless Chromium submits an HTML form (several files, a non-ASCII filename, an empty file input and a
text field) to each real server; every part must arrive exactly. One browser session for all servers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._bodies import EMPTY, PHOTO, SMALL, sha256, write
from .conftest import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
UNICODE_NAME = "фото ü 写真.jpg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "the Debian packages chromium and chromium-driver are not installed "
            "(apt-get install -y chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.parametrize("kind", ["uvicorn", "gunicorn", "waitress"])
def test_browser_form_upload(browser: Any, servers: dict[str, Server], kind: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = servers[kind]
    a = write(tmp_path / "a.jpg", PHOTO)
    b = write(tmp_path / "b.png", SMALL)
    u = write(tmp_path / UNICODE_NAME, SMALL[:500])
    browser.get(server.url + "/")
    browser.find_element(By.NAME, "title").send_keys("héllo wörld")
    browser.find_element(By.NAME, "photos").send_keys(f"{a}\n{b}")
    browser.find_element(By.NAME, "unicode").send_keys(u)
    browser.find_element(By.ID, "go").click()
    WebDriverWait(browser, 60).until(
        lambda d: d.current_url.endswith("/upload") and d.find_elements(By.TAG_NAME, "pre")
    )
    report = json.loads(browser.find_element(By.TAG_NAME, "pre").text)
    got = [(p["name"], p["filename"], p["size"], p["sha256"]) for p in report["parts"]]
    assert got == [
        ("title", None, len("héllo wörld".encode()), sha256("héllo wörld".encode())),
        ("photos", "a.jpg", len(PHOTO), sha256(PHOTO)),
        ("photos", "b.png", len(SMALL), sha256(SMALL)),
        ("unicode", UNICODE_NAME, 500, sha256(SMALL[:500])),
        ("empty", "", 0, sha256(EMPTY)),  # an empty file input: filename "" and no bytes
    ]
    assert report["parts"][0]["value"] == "héllo wörld"
    assert report["parts"][1]["content_type"] == "image/jpeg"
    stats = server.wait_idle()
    assert stats["open"] == 0 and stats["files"] == []
