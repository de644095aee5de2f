"""The web page at ``/``: one static HTML file (no build step, nothing from a CDN) using the Yahoo-style API.

The page signs in through ``/V3.0/login`` with the appid of the service's own application
(:data:`WEB_APP_NAME`, created on first need), which is written into the page.
"""

from __future__ import annotations

from importlib import resources

from ..storage import Catalog
from .messages import Response

__all__ = ["page_response", "WEB_APP_NAME"]

#: The application the web page signs in with.
WEB_APP_NAME = "photoservice-web"
_CSP = ("default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; "
        "frame-ancestors 'none'")


def page_response(catalog: Catalog) -> Response:
    """The page, with the web application's appid."""
    html = resources.files(__package__).joinpath("static", "index.html").read_bytes()
    html = html.replace(b"__APPID__", catalog.application_named(WEB_APP_NAME).api_key.encode("ascii"))
    return Response(200, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache"),
                          ("content-security-policy", _CSP), ("x-frame-options", "DENY")], html)
