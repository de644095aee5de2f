"""The web page in headless Chromium: sign in, upload two photos with the progress bar, see the thumbnails.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; skipped (with the reason)
when any of them is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from .client import make_jpeg

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless Chromium not installed (apt-get install -y chromium chromium-driver)")


def test_upload_two_photos_through_the_page(server: tuple[str, Any], tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    base, service = server
    service.catalog.create_user("alice", "wonderland")
    paths = []
    for i, color in enumerate([(255, 0, 0), (0, 128, 255)]):
        p = tmp_path / f"photo{i}.jpg"
        p.write_bytes(make_jpeg(640, 480, color))
        paths.append(str(p))

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(DRIVER), options=opts)
    try:
        wait = WebDriverWait(driver, 30)
        driver.get(base + "/")
        driver.find_element(By.ID, "username").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys("wonderland")
        driver.find_element(By.ID, "login-button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "login-status"), "Signed in as alice"))
        driver.find_element(By.ID, "new-album").send_keys("Holidays")
        driver.find_element(By.ID, "create-album").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "album"), "Holidays"))
        driver.find_element(By.ID, "files").send_keys("\n".join(paths))
        wait.until(EC.presence_of_element_located((By.ID, "caption1")))
        driver.find_element(By.ID, "caption0").clear()
        driver.find_element(By.ID, "caption0").send_keys("Red one")
        driver.find_element(By.ID, "upload-button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "upload-status"), "Uploaded 2 photo(s)."))
        assert driver.find_element(By.ID, "progress").get_attribute("value") == "100"
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery img.thumb")) == 2)
        wait.until(lambda d: all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
                                 for img in d.find_elements(By.CSS_SELECTOR, "#gallery img.thumb")))
        captions = [el.text for el in driver.find_elements(By.CSS_SELECTOR, "#gallery .caption")]
        assert sorted(captions) == ["Red one", "photo1"]
        widths = [driver.execute_script("return arguments[0].naturalWidth", img)
                  for img in driver.find_elements(By.CSS_SELECTOR, "#gallery img.thumb")]
        assert widths == [96, 96]
        driver.save_screenshot(str(tmp_path / "page.png"))
    finally:
        driver.quit()
    album = [a for a in service.catalog.albums(service.catalog.user_by_name("alice").id)][0]
    assert album.name == "Holidays" and album.size == 2
