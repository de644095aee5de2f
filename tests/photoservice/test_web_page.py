"""The photo page in headless Chromium, driven as a person uses it, against the real server (uvicorn).

Sign in, create an album, upload three photos and a broken file (one per request: the broken one fails alone),
watch each file's progress, see the grid, open the viewer, step to the next photo, read the EXIF as people
read it, approve and reject pending photos, follow the links the APIs hand out, use the page at 360 px and
by keyboard, drop a file, sign out, reload. Screenshots at 1280 px and 360 px are written into the test's
temporary folder (and into ``$PHOTOSERVICE_SCREENSHOTS`` when set: that is how ``docs/`` got its pictures).

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; skipped (with the reason)
when any of them is missing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw, ImageOps
from PIL.ExifTags import IFD
from PIL.TiffImagePlugin import IFDRational

from .client import PlatformClient

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="headless Chromium not installed (apt-get install -y chromium chromium-driver)"
)

WIDE, PHONE = (1280, 800), (360, 740)


def scene(size: tuple[int, int], sky: tuple[str, str], ground: str, sun: str) -> Image.Image:
    """A small landscape picture (sky gradient, sun, hills), so that the screenshots look like photos."""
    w, h = size
    img = ImageOps.colorize(Image.linear_gradient("L").resize((w, h)), sky[0], sky[1]).convert("RGB")
    draw = ImageDraw.Draw(img)
    r = min(w, h) // 9
    draw.ellipse((int(w * 0.66) - r, int(h * 0.32) - r, int(w * 0.66) + r, int(h * 0.32) + r), fill=sun)
    draw.polygon(
        [
            (0, h),
            (0, int(h * 0.7)),
            (int(w * 0.3), int(h * 0.55)),
            (int(w * 0.62), int(h * 0.72)),
            (int(w * 0.85), int(h * 0.6)),
            (w, int(h * 0.68)),
            (w, h),
        ],
        fill=ground,
    )
    return img


def jpeg(img: Image.Image, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def camera_exif() -> Image.Exif:
    """EXIF as a camera writes it: Canon EOS 5D Mark II, f/5.6, 1/250 s, +2/3 EV, 50 mm, flash fired."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 5D Mark II"
    sub = exif.get_ifd(IFD.Exif)
    sub[0x829A] = IFDRational(1, 250)  # ExposureTime
    sub[0x829D] = IFDRational(56, 10)  # FNumber (no ApertureValue: the APEX value is derived)
    sub[0x9204] = IFDRational(2, 3)  # ExposureBiasValue
    sub[0x920A] = IFDRational(50, 1)  # FocalLength
    sub[0x9209] = 1  # Flash: fired
    sub[0x9003] = "2024:06:15 18:42:10"  # DateTimeOriginal
    return exif


def portrait_rotated() -> bytes:
    """A portrait photo as phones store it: landscape pixels and EXIF orientation 6 (rotate 90° clockwise to
    show). Shown upright, its top is blue sky and its bottom green grass."""
    upright = Image.new("RGB", (480, 640), (40, 90, 220))
    ImageDraw.Draw(upright).rectangle((0, 400, 480, 640), fill=(40, 170, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpeg(upright.rotate(90, expand=True), exif)  # stored 640 x 480


@pytest.fixture()
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--lang=en-US",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(DRIVER), options=opts)
    driver.set_script_timeout(20)
    viewport(driver, WIDE)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver: Any, size: tuple[int, int]) -> None:
    """The page's viewport exactly this size (a phone's when narrow: touch, the meta viewport honoured)."""
    phone = size[0] < 600
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": phone},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone})


class Page:
    """The page as the tests use it: find, wait, read, and screenshots into the test's folder."""

    def __init__(self, driver: Any, base: str, shots: Path) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.base, self.shots = driver, base, shots
        self.wait = WebDriverWait(driver, 20)

    def __call__(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.d.find_elements(By.CSS_SELECTOR, css)

    def until(self, condition: Callable[[], Any], message: str = "") -> Any:
        return self.wait.until(lambda _: condition(), message)

    def visible(self, css: str) -> bool:
        found = self.all(css)
        return bool(found) and found[0].is_displayed()

    def text(self, css: str) -> str:
        return str(self(css).text)

    def js(self, script: str, *args: Any) -> Any:
        return self.d.execute_script(script, *args)

    def hash(self) -> str:
        return str(self.js("return location.hash"))

    def images_loaded(self, css: str) -> bool:
        """Every image matching ``css`` is loaded and has faded in."""
        return bool(
            self.js(
                "return [...document.querySelectorAll(arguments[0])].every("
                "i => i.complete && i.naturalWidth > 0 && getComputedStyle(i).opacity === '1')",
                css,
            )
        )

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.d.save_screenshot(str(path))
        extra = os.environ.get("PHOTOSERVICE_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    def unlabelled_controls(self) -> list[str]:
        """Visible form controls without an accessible name (label, aria-label or aria-labelledby)."""
        return list(
            self.js("""
            return [...document.querySelectorAll('input, select, textarea, button')].filter(c => {
              if (c.type === 'hidden' || c.closest('[hidden]')) return false;
              const named = c.getAttribute('aria-label') || c.getAttribute('aria-labelledby') ||
                            (c.labels && c.labels.length) || (c.tagName === 'BUTTON' && c.textContent.trim());
              return !named;
            }).map(c => c.outerHTML.slice(0, 80));""")
        )

    def sign_in(self, username: str, password: str) -> None:
        self("#username").clear()
        self("#username").send_keys(username)
        self("#password").send_keys(password)
        self("#login-button").click()


def platform_upload(base: str, app: Any, caption: str, image: bytes) -> str:
    """An up.photos.upload from an application without photo_upload: the photo waits for the owner."""
    c = PlatformClient(app.api_key, app.secret)
    with httpx.Client(base_url=base) as http:
        body, headers = c.form(
            "up.auth.login", with_session=False, username="alice", password="wonderland", format="JSON"
        )
        c.session_key = http.post("/restserver.php", content=body, headers=headers).json()["session_key"]
        body, headers = c.upload(image, community="default", caption=caption, format="JSON")
        answer = http.post("/restserver.php", content=body, headers=headers).json()
    assert answer.get("pid"), answer
    return str(answer["link"])


def test_the_page_as_people_use_it(server: tuple[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    base, service = server
    service.catalog.create_user("alice", "wonderland")
    service.catalog.create_community("default")
    phone_app = service.catalog.create_application("Phone sync")  # no photo_upload: its photos wait
    files = {
        "beach.jpg": jpeg(scene((1600, 1200), ("#f7b267", "#2b59c3"), "#1d3557", "#ffe066"), camera_exif()),
        "portrait.jpg": portrait_rotated(),
        "hills.jpg": jpeg(scene((1200, 900), ("#cdeac0", "#6a8eae"), "#386641", "#fefae0")),
        "notes.jpg": b"this is a shopping list, not a picture\n",
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))

    page = Page(browser, base, tmp_path)
    browser.get(base + "/")
    page.until(lambda: page.visible("#login"), "the sign-in form")
    assert page.unlabelled_controls() == []
    page.screenshot("sign-in-1280")
    page.sign_in("alice", "wrong")
    page.until(lambda: "Wrong user name or password" in page.text("#login-status"))
    page("#password").clear()
    page.sign_in("alice", "wonderland")
    page.until(lambda: page.visible("#app"), "the app after signing in")
    assert page.text("#who") == "alice"
    assert page("#password").get_attribute("value") == ""  # the password does not stay in the form
    page.until(lambda: page.visible("#empty"))
    assert "No photos yet" in page.text("#empty") and not page.visible("#pending")
    assert not page.all("#queue-list li") and not page.visible("#queue")  # no empty progress bar anywhere

    # an album
    page("#new-album").send_keys("Holidays")
    page("#create-album").click()
    page.until(lambda: page.hash().startswith("#album="))
    aid = page.hash().split("=", 1)[1]
    page.until(lambda: page.text("#album-title") == "Holidays")
    assert "“Holidays” is empty" in page.text("#empty-text")
    assert page("#album-list a[aria-current=page]").get_attribute("data-album") == aid

    # three photos and a broken file, chosen with the picker; captions edited before sending
    page("#files").send_keys("\n".join(paths))
    page.until(lambda: len(page.all("#queue-list li")) == 4)
    assert page.unlabelled_controls() == []
    assert page.text("#upload-button") == "Upload 4 photos"
    assert page("#upload-album").get_attribute("value") == aid  # the album on screen is the target
    first = page.all("#queue-list li")[0]
    first.find_element("css selector", "input.caption").clear()
    first.find_element("css selector", "input.caption").send_keys("Evening at the beach")
    first.find_element("css selector", "textarea.description").send_keys("The last swim of the summer.")
    first.find_element("css selector", "input.tags").send_keys("sea, summer")
    page.screenshot("queue-1280")
    page.js("""window.seen = {states: new Set(), progress: new Set()};
        new MutationObserver(ms => ms.forEach(m => {
          if (m.attributeName === 'class') window.seen.states.add(m.target.className);
          if (m.attributeName === 'value') window.seen.progress.add(m.target.getAttribute('value'));
        })).observe(document.getElementById('queue-list'), {attributes: true, subtree: true});""")
    page("#upload-button").click()
    page.until(lambda: "stored" in page.text("#upload-status") and "Uploading" not in page.text("#upload-status"))
    assert page.text("#upload-status") == "3 photos stored, 1 not stored (see above)."
    seen = page.js("return {states: [...window.seen.states], progress: [...window.seen.progress]}")
    assert "queue-item sending" in seen["states"] and "100" in seen["progress"]  # each file showed its progress
    results = {
        li.find_element("css selector", ".file").text.split(" ")[0]: li.find_element("css selector", ".result").text
        for li in page.all("#queue-list li")
    }
    assert results["beach.jpg"].startswith("Stored in “Holidays”: “Evening at the beach”, 1600 × 1200 px.")
    assert results["portrait.jpg"].startswith("Stored in “Holidays”: “portrait”, 480 × 640 px.")
    assert results["notes.jpg"].startswith("Not stored: ") and "not a valid image" in results["notes.jpg"]
    assert results["notes.jpg"].endswith("Nothing of this file was kept.")
    assert "Picture 0" not in results["notes.jpg"]
    page.js("window.scrollTo(0, 0)")
    page.screenshot("upload-1280")
    page("#clear-queue").click()
    assert not page.visible("#queue")

    # the grid: screen previews over thumb placeholders, newest first, with captions
    page.until(lambda: len(page.all("#gallery .tile")) == 3)
    page.until(lambda: page.images_loaded("#gallery img.screen"))
    captions = [el.text for el in page.all("#gallery .caption")]
    assert sorted(captions) == ["Evening at the beach", "hills", "portrait"]
    widths = {
        c: page.js("return arguments[0].closest('.tile').querySelector('img.screen').naturalWidth", el)
        for c, el in zip(captions, page.all("#gallery .caption"))
    }
    assert widths == {"Evening at the beach": 480, "hills": 480, "portrait": 360}
    portrait = page.all("#gallery .tile")[captions.index("portrait")]
    top, bottom = page.js(
        """const img = arguments[0].querySelector('img.screen');
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return [[...g.getImageData(c.width / 2, 10, 1, 1).data],
                [...g.getImageData(c.width / 2, c.height - 10, 1, 1).data]];""",
        portrait,
    )
    assert top[2] > 180 and top[1] < 130 and bottom[1] > 140 and bottom[2] < 110  # upright: sky above, grass below
    assert page.text("#album-count") == "3 photos"
    holidays = page(f"#album-list a[data-album='{aid}']")
    assert holidays.find_element("css selector", ".count").text == "3"
    assert holidays.find_element("css selector", "img.cover").get_attribute("src").startswith(base + "/media/")
    page.until(lambda: page.images_loaded("#album-list img.cover"))
    page.screenshot("grid-1280")

    # the viewer: screen rendition large, caption, description, tags and EXIF for people
    page.all("#gallery .tile")[captions.index("Evening at the beach")].click()
    page.until(lambda: page.js("return document.getElementById('viewer').open"))
    page.until(lambda: page.images_loaded("#viewer-image"))
    beach_id = page.hash().split("=", 1)[1]
    assert page.hash() == f"#photo={beach_id}"
    assert page.text("#viewer-caption") == "Evening at the beach"
    assert page.text("#viewer-description") == "The last swim of the summer."
    assert [t.text for t in page.all("#viewer-tags li")] == ["sea", "summer"]
    labels = [dt.text for dt in page.all("#viewer-details dt")]
    details = dict(zip(labels, [dd.text for dd in page.all("#viewer-details dd")]))
    assert details["Camera"] == "Canon EOS 5D Mark II"
    assert details["Aperture"] == "f/5.6" and details["Exposure"] == "1/250 s"
    assert details["Exposure bias"] == "+0.7 EV" and details["Focal length"] == "50 mm"
    assert details["Flash"] == "Fired" and details["Size"] == "1600 × 1200 px"
    assert re.fullmatch(r"June 15, 2024 at 6:42\s?PM", details["Taken"]), details["Taken"]  # en-US, as recorded
    assert not page.visible("#viewer-full")  # not premium: the original is not listed
    assert page.js("return document.getElementById('viewer-image').naturalWidth") == 480
    page.screenshot("viewer-1280")
    index = captions.index("Evening at the beach")
    page("#viewer").send_keys(Keys.ARROW_RIGHT if index < 2 else Keys.ARROW_LEFT)
    page.until(lambda: page.text("#viewer-caption") == captions[index + 1 if index < 2 else index - 1])
    assert page.hash() != f"#photo={beach_id}"
    assert page.text("#viewer-position") in ("2 of 3", "3 of 3", "1 of 3")
    page("#viewer").send_keys(Keys.ESCAPE)
    page.until(lambda: not page.js("return document.getElementById('viewer').open"))
    page.until(lambda: page.hash() == f"#album={aid}")

    # pending photos from an application without photo_upload, shown to their owner after a reload
    keep_link = platform_upload(
        base, phone_app, "From the phone", jpeg(scene((800, 600), ("#ffd6a5", "#9bf6ff"), "#588157", "#ffadad"))
    )
    platform_upload(base, phone_app, "Blurry", jpeg(scene((800, 600), ("#dddddd", "#aaaaaa"), "#777777", "#eeeeee")))
    browser.refresh()
    page.until(lambda: page.visible("#pending"))
    assert page.text("#who") == "alice"  # still signed in after a reload
    assert page.text("#pending-heading") == "2 photos wait for your approval"
    page.until(lambda: page.images_loaded("#pending-list img") and page.images_loaded("#gallery img.screen"))
    page.screenshot("pending-1280")
    page("#pending-list button[aria-label='Approve From the phone']").click()
    page.until(lambda: page.text("#pending-heading") == "1 photo waits for your approval")
    page("#pending-list button[aria-label='Reject Blurry']").click()
    browser.switch_to.alert.accept()
    page.until(lambda: not page.visible("#pending"))
    assert [
        p.caption for p in service.catalog.photos(service.catalog.user_by_name("alice").id) if p.status == "pending"
    ] == []

    # the links both APIs hand out open the viewer and the album
    assert keep_link.startswith(base + "/#photo=")
    browser.get(keep_link)
    page.until(lambda: page.js("return document.getElementById('viewer').open"))
    page.until(lambda: page.text("#viewer-caption") == "From the phone")
    page("#viewer-close").click()
    page.until(lambda: not page.js("return document.getElementById('viewer').open"))
    browser.get(f"{base}/#album={aid}")
    page.until(lambda: page.text("#album-title") == "Holidays" and len(page.all("#gallery .tile")) == 3)
    # links to what is not there (or not hers) say so, and show everything instead
    page.js("location.hash = 'album=4503599627370497'")
    page.until(lambda: page.visible("#grid-status") and page.text("#album-title") == "All photos")
    assert page.text("#grid-status") == "That album does not exist, or it is not yours. Here are all your photos."
    page.js("location.hash = 'photo=4503599627370497'")
    page.until(lambda: page.text("#grid-status") == "That photo does not exist, or it is not yours.")
    assert not page.js("return document.getElementById('viewer').open")
    page(f"#album-list a[data-album='{aid}']").click()
    page.until(lambda: page.text("#album-title") == "Holidays" and not page.visible("#grid-status"))

    # sign out: the credentials stop working server-side; a reload stays signed out
    wssid = json.loads(page.js("return localStorage.getItem('photoservice.session')"))["wssid"]
    page("#sign-out").click()
    page.until(lambda: page.visible("#login"))
    assert page.text("#login-status") == "You are signed out."
    assert page.js("return localStorage.getItem('photoservice.session')") is None
    assert not any(c["name"] == "Y" and c["value"] for c in browser.get_cookies())
    assert service.catalog.web_credentials("anything", wssid) is None
    browser.refresh()
    page.until(lambda: page.visible("#login"))
    assert not page.visible("#app")


@pytest.mark.backends("sqlite+file")  # the page's layout and keys; the storage pairs are the first test's
def test_phone_width_keyboard_and_drop(server: tuple[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    base, service = server
    alice = service.catalog.create_user("alice", "wonderland", premium=True)  # premium: the original is listed
    page = Page(browser, base, tmp_path)
    viewport(browser, PHONE)
    browser.get(base + "/")
    page.until(lambda: page.visible("#login"))
    page.screenshot("sign-in-360")
    # by keyboard alone: type, Tab, type, Enter
    page("#username").send_keys("alice", Keys.TAB, "wonderland", Keys.ENTER)
    page.until(lambda: page.visible("#app"))
    assert page.js("return document.documentElement.scrollWidth") <= PHONE[0]  # nothing wider than the phone
    assert page.unlabelled_controls() == []

    # drag and drop: a file dropped anywhere on the page joins the queue
    page.js("""const c = document.createElement('canvas'); c.width = 640; c.height = 480;
        const g = c.getContext('2d'); const sky = g.createLinearGradient(0, 0, 0, 480);
        sky.addColorStop(0, '#ffb4a2'); sky.addColorStop(1, '#6d6875'); g.fillStyle = sky; g.fillRect(0, 0, 640, 480);
        c.toBlob(blob => {
          const dt = new DataTransfer(); dt.items.add(new File([blob], 'dropped.jpg', {type: 'image/jpeg'}));
          for (const type of ['dragenter', 'dragover', 'drop'])
            document.querySelector('main').dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true}));
        }, 'image/jpeg', 0.9);""")
    page.until(lambda: len(page.all("#queue-list li")) == 1)
    assert page("#queue-list .file").text.startswith("dropped.jpg")
    assert not page.visible("#drop")
    page("#upload-button").click()
    page.until(lambda: page.text("#upload-status") == "1 photo stored.")
    album = service.catalog.create_album(alice.id, "A long album name that does not fit")
    names = ["Lake in the morning.jpg", "Pink hour.jpg", "Forest walk.jpg"]
    for name, colours in zip(
        names,
        [
            (("#a2d2ff", "#3a86ff"), "#14213d", "#ffbe0b"),
            (("#ffe5ec", "#fb6f92"), "#3d405b", "#fff3b0"),
            (("#d8f3dc", "#52b788"), "#1b4332", "#ffd166"),
        ],
    ):
        (tmp_path / name).write_bytes(jpeg(scene((1200, 900), *colours), camera_exif()))
    page.js("location.hash = arguments[0]", f"album={album.id}")
    page.until(lambda: "does not fit" in page.text("#album-title"))
    page("#files").send_keys("\n".join(str(tmp_path / name) for name in names))
    page.until(lambda: len(page.all("#queue-list li.ready")) == 3)
    page("#upload-button").click()
    page.until(lambda: page.text("#upload-status") == "3 photos stored.")
    page("#clear-queue").click()
    page.until(lambda: len(page.all("#gallery .tile")) == 3 and page.images_loaded("#gallery img.screen"))
    page.until(lambda: page.images_loaded("#album-list img.cover"))
    assert page.js("return document.documentElement.scrollWidth") <= PHONE[0]
    page.screenshot("grid-360")

    # the keyboard reaches a photo, Enter opens it, arrows step, Esc closes
    page.js("document.querySelector('#gallery .tile').focus()")
    page.d.switch_to.active_element.send_keys(Keys.ENTER)
    page.until(lambda: page.js("return document.getElementById('viewer').open"))
    page.until(lambda: page.images_loaded("#viewer-image"))
    first = page.text("#viewer-caption")
    assert page.text("#viewer-position") == "1 of 3"
    assert re.fullmatch(r"Open the original \(1200 × 900, \d+ KB\)", page.text("#viewer-full"))
    original = page.js(
        """return fetch(arguments[0]).then(async r => [r.status, r.headers.get('content-type'),
                                                                        (await r.arrayBuffer()).byteLength])""",
        page("#viewer-full").get_attribute("href"),
    )
    assert original[0] == 200 and original[1] == "image/jpeg" and original[2] > 1000
    page.screenshot("viewer-360")
    page.d.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    page.until(lambda: page.text("#viewer-position") == "2 of 3")
    assert page.text("#viewer-caption") != first
    page("#viewer-next").click()
    page.until(lambda: page.text("#viewer-position") == "3 of 3")
    assert not page("#viewer-next").is_enabled()
    page.d.switch_to.active_element.send_keys(Keys.ESCAPE)
    page.until(lambda: not page.js("return document.getElementById('viewer').open"))
    # Back after the viewer returns to the album, not to the photo
    assert page.hash() == f"#album={album.id}"

    # a session that ended on the server sends the page back to the sign-in form, saying why
    browser.delete_all_cookies()  # the cookie is gone (expired, or another tab signed out)
    browser.refresh()
    page.until(lambda: page.visible("#login"))
    assert page.text("#login-status") == "Your session has ended. Sign in again to go on."
