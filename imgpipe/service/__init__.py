"""imgpipe.service: the reference upload service (uploadPhotos + up.photos.upload).

``create_app(config)`` builds the ASGI app, ``create_wsgi_app(config)`` the WSGI app; both serve the same
:class:`~imgpipe.service.core.Service`. Run it with ``imgpipe serve`` (see :mod:`imgpipe.service.cli`).
The transports are imported lazily so the store, file store and auth helpers can be used on their own.
"""

from __future__ import annotations

from typing import Any

from .config import Config, FakeClock

__all__ = ["Config", "FakeClock", "create_app", "create_wsgi_app"]


def create_app(config: Config | None = None) -> Any:
    """The ASGI application (see :mod:`imgpipe.service.app`)."""
    from .app import create_app as _create
    return _create(config)


def create_wsgi_app(config: Config | None = None) -> Any:
    """The WSGI application (see :mod:`imgpipe.service.wsgi`)."""
    from .wsgi import create_app as _create
    return _create(config)
