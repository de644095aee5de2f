"""What the APIs receive from the HTTP layer and what they give back, free of any transport.

The HTTP layer builds an :class:`ApiRequest` from the request line and headers and calls an API, which
answers with one of:

* :class:`Reply`: the finished answer;
* :class:`StreamedBody`: the body is multipart: the transport streams it through fastmime with
  ``handler_for`` and ``limits``, then calls ``finish()`` (blocking: storage, database), or ``fail(error)``
  when streaming raised; it always calls ``cleanup()`` last;
* :class:`SmallBody`: the body is small (urlencoded or empty): the transport reads at most ``max_bytes``
  and calls ``finish(body)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fastmime

__all__ = ["ApiRequest", "Reply", "StreamedBody", "SmallBody", "Outcome", "first_values"]


@dataclass(frozen=True)
class ApiRequest:
    """One API call as the APIs see it. ``base_url`` (``scheme://host``) prefixes every link handed out."""

    method: str
    query: tuple[tuple[str, str], ...]
    cookies: Mapping[str, str]
    content_type: str
    client: str | None
    base_url: str

    @property
    def is_multipart(self) -> bool:
        """Whether the body claims to be multipart/form-data."""
        return self.content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"

    def params(self) -> dict[str, str]:
        """Query parameters, first value of each name."""
        return first_values(self.query)


@dataclass
class Reply:
    """A finished answer: status, content type, body, extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        """A JSON answer (UTF-8, non-ASCII kept)."""
        # "replace": a lone surrogate that slipped into a string must not turn an answer into a 500.
        text = json.dumps(data, ensure_ascii=False)
        return cls(status, "application/json; charset=utf-8", text.encode("utf-8", "replace"))

    @classmethod
    def xml(cls, body: bytes, status: int = 200) -> Reply:
        """An XML answer."""
        return cls(status, "text/xml; charset=utf-8", body)


@dataclass
class StreamedBody:
    """Stream the multipart body through these handlers, then finish (see the module documentation)."""

    handler_for: Callable[[fastmime.Part], Any]
    limits: fastmime.Limits
    finish: Callable[[], Reply]
    fail: Callable[[BaseException], Reply]
    cleanup: Callable[[], None]
    #: Whether the request is known to be authorized yet (its bytes then stop counting as unauthorized).
    authorized: Callable[[], bool] = lambda: False


@dataclass
class SmallBody:
    """Read the whole (small) body, then finish."""

    max_bytes: int
    finish: Callable[[bytes], Reply]


Outcome = Reply | StreamedBody | SmallBody


def first_values(pairs: Any) -> dict[str, str]:
    """The first value of each name of (name, value) pairs."""
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out
