"""Shared settings for the imgpipe tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _decompression_bomb_warnings_are_errors() -> Iterator[None]:
    """A DecompressionBombWarning reaching a test is a failure: the pipeline must reject such images
    with TooManyPixelsError before Pillow would warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield
