"""A pixel budget shared by threads: bounds the memory that concurrent decodes take.

Decoding holds memory in proportion to pixels (a 9400 x 9400 PNG takes about 300 MB), so counting images is
not enough: one very large image can take as much as a hundred small ones. :class:`PixelBudget` admits
decodes while their pixels together fit, and makes the rest wait; an image larger than the whole budget
runs alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PixelBudget"]


class PixelBudget:
    """At most ``max_pixels`` pixels decoded at once, across every thread using this budget."""

    def __init__(self, max_pixels: int) -> None:
        if max_pixels < 1:
            raise ValueError("max_pixels must be positive")
        self.max_pixels = max_pixels
        self._in_use = 0
        self._cond = threading.Condition()

    @property
    def in_use(self) -> int:
        """Pixels currently reserved."""
        return self._in_use

    @contextmanager
    def reserve(self, pixels: int | None) -> Iterator[None]:
        """Hold ``pixels`` (the whole budget when unknown or larger) for the duration of the block."""
        want = self.max_pixels if pixels is None else max(1, min(int(pixels), self.max_pixels))
        with self._cond:
            while self._in_use + want > self.max_pixels:
                self._cond.wait()
            self._in_use += want
        try:
            yield
        finally:
            with self._cond:
                self._in_use -= want
                self._cond.notify_all()
