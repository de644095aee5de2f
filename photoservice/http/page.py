"""The web page at ``/`` and its static files: no build step, nothing from elsewhere, the Yahoo-style API.

``index.html`` carries the appid of the service's own application (:data:`WEB_APP_NAME`, created on first
need) in a ``<meta>`` element; ``page.js`` and ``page.css`` come from ``/static/`` (the package's
``http/static`` folder), so the Content-Security-Policy allows no inline script or style at all.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from ..storage import Catalog
from .messages import Request, Response

__all__ = ["page_response", "static_response", "WEB_APP_NAME"]

#: The application the web page signs in with.
WEB_APP_NAME = "photoservice-web"
# blob: only for images: the previews of files chosen for upload, which never leave the browser before sending.
_CSP = (
    "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_STATIC_TYPES = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@cache
def _static(name: str) -> tuple[bytes, str]:
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def page_response(catalog: Catalog) -> Response:
    """The page, with the web application's appid."""
    html, _ = _static("index.html")
    html = html.replace(b"__APPID__", catalog.application_named(WEB_APP_NAME).api_key.encode("ascii"))
    return Response(
        200,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("content-security-policy", _CSP),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ],
        html,
    )


def static_response(request: Request, name: str) -> Response:
    """One of the page's files (only those named in the package); revalidated by ETag on every use."""
    if name not in _STATIC_TYPES:
        return Response.text("not found\n", 404)
    data, etag = _static(name)
    headers = [
        ("content-type", _STATIC_TYPES[name]),
        ("cache-control", "no-cache"),
        ("etag", etag),
    ]
    if request.header("if-none-match") == etag:
        return Response(304, headers)
    return Response(200, headers, data)
