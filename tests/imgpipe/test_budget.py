"""PixelBudget: concurrent decodes share a budget of pixels."""

from __future__ import annotations

import threading
import time

import pytest

import imgpipe

from ._jpegs import make_jpeg


def test_reservations_wait_for_room_and_oversized_ones_run_alone() -> None:
    budget = imgpipe.PixelBudget(100)
    order: list[str] = []
    first = threading.Event()

    def hold(name: str, pixels: int, seconds: float) -> None:
        with budget.reserve(pixels):
            order.append(f"+{name}")
            assert budget.in_use <= 100
            first.set()
            time.sleep(seconds)
            order.append(f"-{name}")

    a = threading.Thread(target=hold, args=("a", 60, 0.2))
    a.start()
    first.wait(5)
    b = threading.Thread(target=hold, args=("b", 60, 0))  # does not fit beside a: waits
    c = threading.Thread(target=hold, args=("c", 10**9, 0))  # larger than the budget: alone
    b.start()
    c.start()
    for t in (a, b, c):
        t.join(10)
    assert order[:2] == ["+a", "-a"]
    assert budget.in_use == 0
    for name in ("b", "c"):  # each of them ran alone
        i = order.index(f"+{name}")
        assert order[i + 1] == f"-{name}"


def test_process_image_and_the_handler_reserve_the_image_pixels() -> None:
    seen: list[int] = []

    class Recording(imgpipe.PixelBudget):
        def reserve(self, pixels):  # type: ignore[no-untyped-def, override]
            seen.append(pixels)
            return super().reserve(pixels)

    budget = Recording(10**8)
    photo = make_jpeg(320, 200)
    imgpipe.process_image(photo, budget=budget)
    handler = imgpipe.ImageHandler(None, budget=budget)
    handler.on_data(memoryview(photo))
    handler.on_end()
    handler.wait()
    handler.close()
    assert seen == [320 * 200, 320 * 200] and budget.in_use == 0


def test_the_budget_is_released_when_the_decode_fails() -> None:
    budget = imgpipe.PixelBudget(10**8)
    photo = make_jpeg(320, 200)
    with pytest.raises(imgpipe.ImageError):
        imgpipe.process_image(photo[: len(photo) // 2], budget=budget)
    assert budget.in_use == 0
