"""photoservice: the reference upload service for uploadPhotos and up.photos.upload, built on fastmime and imgpipe.

Layers, each importing only the ones below it: :mod:`.http` (ASGI and WSGI transports, routing, the page,
media) -> :mod:`.apis` (the two APIs) -> :mod:`.uploads` (part handlers, deferred processing, commit) ->
:mod:`.storage` (metadata and files interfaces, their backends, the catalog of rules); :mod:`.config` is
below them all. Run it with ``photoservice serve``, or serve :func:`create_app` (ASGI) or
:func:`create_wsgi_app` (WSGI) with any server.
"""

from __future__ import annotations

try:
    from .config import Config, FakeClock
    from .http import ASGIApp, Service, WSGIApp
except ModuleNotFoundError as missing:  # `pip install fastmime` without the service extra
    if missing.name is None or missing.name.split(".")[0] in ("fastmime", "imgpipe", "photoservice"):
        raise
    raise ModuleNotFoundError(
        f"photoservice needs the packages of the 'service' extra, and {missing.name} is not "
        "installed: pip install 'fastmime[service]'",
        name=missing.name,
    ) from missing

__all__ = ["Config", "FakeClock", "Service", "ASGIApp", "WSGIApp", "create_app", "create_wsgi_app"]


def create_app(config: Config | None = None) -> ASGIApp:
    """The ASGI application, configured from ``PHOTOSERVICE_*`` variables unless ``config`` is given."""
    return ASGIApp(Service(config or Config.from_env()))


def create_wsgi_app(config: Config | None = None) -> WSGIApp:
    """The WSGI application, configured from ``PHOTOSERVICE_*`` variables unless ``config`` is given."""
    return WSGIApp(Service(config or Config.from_env()))


__version__: str
"""The installed version of the ``fastmime`` distribution, which holds fastmime, imgpipe and photoservice."""


def __getattr__(name: str) -> str:
    # One distribution, one version: fastmime's, read from the installed metadata on first use.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from fastmime import __version__ as version

    return version
