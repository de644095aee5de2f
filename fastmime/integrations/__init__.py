"""Thin helpers that let Starlette/FastAPI, Flask and Django views stream uploads through fastmime.

Each submodule imports its framework only when it is imported itself:

- :mod:`fastmime.integrations.starlette`: ``await parse_form(request)``, ``await stream_request(request, handler_for)``
- :mod:`fastmime.integrations.flask`: ``parse_form()``, ``stream_request(handler_for)`` inside a view
- :mod:`fastmime.integrations.django`: ``parse_form(request)``, ``stream_request(request, handler_for)``

All of them accept what the frameworks' own form parsers drop or refuse, such as a file part with a
filename and no name (``Content-Disposition: form-data; filename="x.jpg"``, found under the key ``""``),
and raise fastmime's errors, which :func:`fastmime.http.http_error` maps to HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import BodyConsumed

__all__ = ["BodyConsumed"]


def _lazy_attribute(namespace: dict[str, Any], name: str, make: Callable[[], Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that makes ``name`` on first access (a class built on the framework's
    own base class), so importing the module does not import the framework."""

    def __getattr__(attribute: str) -> Any:
        if attribute != name:
            raise AttributeError(attribute)
        if name not in namespace:  # also called directly, by the module's own code
            namespace[name] = make()
        return namespace[name]

    return __getattr__
