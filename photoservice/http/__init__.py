"""HTTP: the ASGI and WSGI transports, routing, requests and responses, the page and the media files.

:class:`~.app.Service` puts storage and the APIs together behind a router; :mod:`.asgi` and :mod:`.wsgi`
serve it, each carrying out the APIs' plans for request bodies with fastmime's adapter for its protocol.
"""

from __future__ import annotations

from .app import Service
from .asgi import ASGIApp
from .messages import Request, Response
from .wsgi import WSGIApp

__all__ = ["Service", "ASGIApp", "WSGIApp", "Request", "Response"]
