"""Test clients written from the specs alone (specs/up.photos.upload.txt, specs/uploadPhotos.txt, API_NOTES.md).

The platform client builds its multipart body by hand, one part per argument with CRLF line ends, the image
last, exactly like the spec's example, and signs like the historical clients: every argument except ``sig``
and the image as raw ``key=value``, sorted by key, concatenated, secret appended, MD5, lower-case hex.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

from PIL import Image

BOUNDARY = "SoMeTeXtWeWiLlNeVeRsEe"


def make_jpeg(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small JPEG made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def multipart(
    fields: list[tuple[str, str]], files: list[tuple[str | None, str | None, bytes]] = (), boundary: str = BOUNDARY
) -> tuple[bytes, str]:
    """A multipart/form-data body: text fields, then files as (name or None, filename or None, data)."""
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for name, filename, data in files:
        disp = "form-data"
        if name is not None:
            disp += f'; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\nContent-Type: image/jpg\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def sign(args: dict[str, str], secret: str) -> str:
    """The historical signature."""
    raw = "".join(f"{k}={args[k]}" for k in sorted(args))
    return hashlib.md5((raw + secret).encode("utf-8")).hexdigest()


class PlatformClient:
    """Signs and builds /restserver.php requests; ``call_id`` is seconds as a float, like the old clients."""

    def __init__(
        self, api_key: str, secret: str, session_key: str | None = None, start: float = 1172623588.023010
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.session_key = session_key
        self.last = start

    def call_id(self) -> str:
        self.last += 0.000001 * secrets.choice(range(1, 50))
        return f"{self.last:.6f}"

    def args(self, method: str, with_session: bool = True, **extra: Any) -> dict[str, str]:
        args = {"method": method, "api_key": self.api_key, "v": "1.0"}
        if with_session and self.session_key:
            args["session_key"] = self.session_key
            args["call_id"] = self.call_id()
        args.update({k: str(v) for k, v in extra.items() if v is not None})
        args["sig"] = sign(args, self.secret)
        return args

    def form(self, method: str, **extra: Any) -> tuple[bytes, dict[str, str]]:
        """A urlencoded call (for the calls without an image)."""
        body = urlencode(self.args(method, **extra)).encode()
        return body, {"content-type": "application/x-www-form-urlencoded"}

    def upload(
        self,
        image: bytes | None,
        *,
        image_name: str | None = "data",
        filename: str = "somefilename.jpg",
        args: dict[str, str] | None = None,
        **extra: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """An up.photos.upload body: every argument a part, the image last."""
        a = args if args is not None else self.args("up.photos.upload", **extra)
        files = [(image_name, filename, image)] if image is not None else []
        body, ctype = multipart(list(a.items()), files)
        return body, {"content-type": ctype, "MIME-version": "1.0"}


def parse(resp: Any) -> Any:
    """JSON or XML body -> Python value / Element."""
    ctype = resp.headers.get("content-type", "")
    if "json" in ctype:
        return json.loads(resp.content)
    return ET.fromstring(resp.content)


def find_text(root: ET.Element, local: str) -> str | None:
    """Text of the first element with this local name (namespace ignored), stripped."""
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == local:
            return (el.text or "").strip()
    return None


def error_code(resp: Any) -> int | None:
    """error_code of a platform answer (XML or JSON), or None on success."""
    data = parse(resp)
    if isinstance(data, dict):
        code = data.get("error_code")
        if code is None and isinstance(data.get("error_response"), dict):
            code = data["error_response"].get("error_code")
        return int(code) if code is not None else None
    if isinstance(data, list):
        return None
    text = find_text(data, "error_code")
    return int(text) if text else None


class YahooClient:
    """Browser-based auth: sign in for cookie + WSSID, then call with appid + WSSID + cookie."""

    def __init__(self, appid: str) -> None:
        self.appid = appid
        self.cookie: str | None = None
        self.wssid: str | None = None

    def login_form(self, username: str, password: str) -> tuple[bytes, dict[str, str]]:
        body = urlencode({"appid": self.appid, "username": username, "password": password, "output": "json"})
        return body.encode(), {"content-type": "application/x-www-form-urlencoded"}

    def take_login(self, resp: Any) -> None:
        """The WSSID from the body, the auth cookie from Set-Cookie (the body never carries it)."""
        data = json.loads(resp.content)["LoginResponse"]
        assert "Cookie" not in data
        self.wssid = data["WSSID"]
        set_cookie = resp.headers["set-cookie"]
        assert set_cookie.startswith("Y=") and "HttpOnly" in set_cookie
        self.cookie = set_cookie.split(";", 1)[0][2:]

    def headers(self) -> dict[str, str]:
        return {"cookie": f"Y={self.cookie}"} if self.cookie else {}

    def query(self, **extra: Any) -> dict[str, str]:
        q = {"appid": self.appid}
        if self.wssid:
            q["WSSID"] = self.wssid
        q.update({k: str(v) for k, v in extra.items() if v is not None})
        return q
