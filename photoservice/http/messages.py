"""HTTP requests and responses as both transports (ASGI and WSGI) see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from ..apis import ApiRequest, Reply

__all__ = ["Request", "Response"]


@dataclass
class Request:
    """One HTTP request line and its headers (the body is read later, as the API's plan says)."""

    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]  # names lower-case
    client: str | None = None
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        """The first header with this (lower-case) name."""
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def cookies(self) -> dict[str, str]:
        """Cookies sent with the request (every Cookie header; a malformed one counts as absent)."""
        jar: SimpleCookie = SimpleCookie()
        for k, v in self.headers:
            if k == "cookie":
                try:
                    jar.load(v)
                except CookieError:
                    continue
        return {k: m.value for k, m in jar.items()}

    def api_request(self, base_url: str) -> ApiRequest:
        """What the APIs need of this request; the query string is decoded as UTF-8 (U+FFFD for bad bytes)."""
        query = tuple(parse_qsl(self.query_string, keep_blank_values=True, encoding="utf-8", errors="replace"))
        return ApiRequest(
            method=self.method,
            query=query,
            cookies=self.cookies(),
            content_type=self.header("content-type") or "",
            client=self.client,
            base_url=base_url,
        )


@dataclass
class Response:
    """An HTTP response: a body in memory, or a stored file (or a range of it) streamed by the transport."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file_key: str | None = None
    file_offset: int = 0
    file_length: int = 0

    @classmethod
    def text(cls, text: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
        """A plain-text response."""
        return cls(status, [("content-type", "text/plain; charset=utf-8"), *(headers or [])], text.encode("utf-8"))

    @classmethod
    def from_reply(cls, reply: Reply) -> Response:
        """An API's reply as an HTTP response."""
        return cls(reply.status, [("content-type", reply.content_type), *reply.headers], reply.body)

    def all_headers(self) -> list[tuple[str, str]]:
        """The headers with Content-Length and the security defaults added."""
        out = list(self.headers)
        length = self.file_length if self.file_key is not None else len(self.body)
        out.append(("content-length", str(length)))
        out.append(("x-content-type-options", "nosniff"))
        return out
