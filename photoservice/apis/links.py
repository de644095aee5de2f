"""Links to media: signed and expiring, because every photo is private to its owner.

A media URL handed out in an owner's answer is ``<base>/media/<key>?exp=<unix time>&sig=<hex>``, where
``sig`` is an HMAC-SHA256 of the key and the expiry under a secret every worker shares (kept in the
database). The key names one rendition, so a URL for ``_thumb`` says nothing about ``_full``: the original
is reachable only through a URL the service chose to hand out (to its owner, when the account is premium).
Expiries are rounded up to half-TTL steps, so that the URL of a file stays the same for a while and
browsers can cache it; a URL is valid for at least ``ttl`` and at most 1.5 ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

__all__ = ["MediaSigner"]


class MediaSigner:
    """Signs and checks media URLs with ``secret``; ``clock`` gives seconds since the epoch."""

    def __init__(self, secret: bytes, clock: Callable[[], float], ttl: float) -> None:
        if ttl < 2:
            raise ValueError("the media URL lifetime must be at least 2 seconds")
        self._secret = secret
        self._clock = clock
        self._step = int(ttl) // 2

    def _mac(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()[:40]

    def url(self, base_url: str, key: str) -> str:
        """The signed URL of a stored file."""
        expires = (int(self._clock()) // self._step + 3) * self._step
        return f"{base_url}/media/{key}?exp={expires}&sig={self._mac(key, expires)}"

    def check(self, key: str, expires: str, sig: str) -> float | None:
        """Seconds the URL stays valid, or None when its signature is wrong or it has expired."""
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
            return None
        if not hmac.compare_digest(self._mac(key, int(expires)).encode(), sig.encode("ascii", "replace")):
            return None
        left = int(expires) - self._clock()
        return left if left > 0 else None
