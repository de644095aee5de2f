"""What a request body may cost before anyone knows who sent it, and how slowly it may arrive.

Three guards, each with a default, a setting and its own status (all per worker process; ``--workers N``
multiplies the bounds by N):

* :class:`UnauthorizedBytes` — the bytes of bodies received while their request is not yet authorized
  (an up.photos.upload whose signature cannot be checked yet, a sign-in form), all requests together, are
  bounded: beyond ``--unauthorized-budget-bytes`` (64 MiB) a request is refused with 503 and Retry-After.
  uploadPhotos checks its credentials before reading the body, so its bytes are never counted; an
  up.photos.upload whose arguments arrive before its image and sign correctly stops counting there.
* :class:`AddressSlots` — requests reading a body from one client address at once: beyond
  ``--uploads-per-address`` (8), 429 and Retry-After. Behind a reverse proxy, run uvicorn with
  ``--proxy-headers --forwarded-allow-ips`` for the proxy so that the client's address is the one seen.
* :class:`BodyGuard` timeouts (ASGI) — no body bytes for ``--body-idle-timeout`` (30 s), or less than
  ``--body-min-rate`` (1,024 bytes/s) on average once ``--body-rate-grace`` (10 s) has passed: 408, and the
  connection is closed. A body shorter than its Content-Length therefore ends after the idle timeout. Under
  WSGI these timeouts are the server's (gunicorn ``--timeout``, waitress ``channel_timeout``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RequestRefused", "UnauthorizedBytes", "AddressSlots", "BodyGuard"]


class RequestRefused(Exception):
    """A request the service will not read further: ``http_status`` and a short ``http_message``."""

    def __init__(self, http_status: int, http_message: str, retry_after: int | None = None) -> None:
        super().__init__(http_message)
        self.http_status = http_status
        self.http_message = http_message
        self.retry_after = retry_after


class UnauthorizedBytes:
    """A byte budget for bodies of requests not yet authorized, shared by every request of the process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes currently counted."""
        return self._used

    def take(self, n: int) -> bool:
        """Count ``n`` more bytes; False (nothing counted) when they do not fit."""
        with self._lock:
            if self._used + n > self.max_bytes:
                return False
            self._used += n
            return True

    def give_back(self, n: int) -> None:
        """Forget ``n`` counted bytes (their request is over)."""
        with self._lock:
            self._used -= n


class AddressSlots:
    """Requests reading a body at once, per client address."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str | None) -> bool:
        """Start one more body from ``address``; False when it already has ``per_address``."""
        key = address or ""
        with self._lock:
            if self._busy.get(key, 0) >= self.per_address:
                return False
            self._busy[key] = self._busy.get(key, 0) + 1
            return True

    def give_back(self, address: str | None) -> None:
        """That body is over."""
        key = address or ""
        with self._lock:
            left = self._busy.get(key, 0) - 1
            if left > 0:
                self._busy[key] = left
            else:
                self._busy.pop(key, None)


class BodyGuard:
    """One request body: counts unauthorized bytes and watches the pace of arrival."""

    def __init__(
        self,
        budget: UnauthorizedBytes,
        authorized: Callable[[], bool],
        idle_timeout: float,
        min_rate: float,
        rate_grace: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._budget = budget
        self._authorized = authorized
        self._idle_timeout = idle_timeout
        self._min_rate = min_rate
        self._grace = rate_grace
        self._clock = clock
        self._start = clock()
        self._received = 0
        self._counted = 0

    def wait_limit(self) -> float:
        """How long the next piece of the body may take before the request is refused, seconds."""
        limit = self._idle_timeout
        if self._min_rate > 0:
            # The latest moment the average rate still holds with nothing more arriving.
            due = self._start + max(self._grace, self._received / self._min_rate)
            limit = min(limit, max(0.0, due - self._clock()))
        return max(limit, 0.001)

    def timed_out(self) -> RequestRefused:
        """The refusal when :meth:`wait_limit` passed with nothing received."""
        elapsed = self._clock() - self._start
        if self._min_rate > 0 and elapsed >= self._grace and self._received < self._min_rate * elapsed:
            return RequestRefused(408, "the request body arrives too slowly")
        return RequestRefused(408, "the request body stopped arriving")

    def received(self, n: int) -> None:
        """``n`` bytes arrived: count them while unauthorized, check the pace."""
        self._received += n
        if n and not self._authorized():
            if not self._budget.take(n):
                raise RequestRefused(503, "the server is busy with unauthenticated uploads; retry later", 5)
            self._counted += n
        elapsed = self._clock() - self._start
        if self._min_rate > 0 and elapsed > self._grace and self._received < self._min_rate * elapsed:
            raise RequestRefused(408, "the request body arrives too slowly")

    def close(self) -> None:
        """The request is over: give back the bytes it counted."""
        self._budget.give_back(self._counted)
        self._counted = 0
