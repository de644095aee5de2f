"""Fixtures shared by the fastmime tests: every parser test runs on both implementations."""

from __future__ import annotations

import pytest

from ._helpers import IMPLEMENTATIONS


@pytest.fixture(params=["cython", "python"])
def parser_cls(request):
    """fastmime's compiled parser, then the pure-Python one (the compiled one skips if not built)."""
    if request.param not in IMPLEMENTATIONS:
        pytest.skip("the Cython extension is not built in this install")
    return IMPLEMENTATIONS[request.param]
