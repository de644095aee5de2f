"""The install built what it should."""

from __future__ import annotations

import os

import pytest

import fastmime
import fastmime.pure


@pytest.mark.skipif(
    os.environ.get("FASTMIME_REQUIRE_EXTENSION") != "1" and fastmime.IMPLEMENTATION != "cython",
    reason="the extension is not required in this run",
)
def test_compiled_extension_is_live():
    assert fastmime.IMPLEMENTATION == "cython"
    assert fastmime.MultipartParser.__module__ == "fastmime._cparser"


def test_pure_path_is_importable_and_distinct():
    assert fastmime.pure.MultipartParser.__module__ == "fastmime._parser"
    assert fastmime.IMPLEMENTATION in ("cython", "python")


def test_py_typed_is_shipped():
    here = os.path.dirname(fastmime.__file__)
    assert os.path.exists(os.path.join(here, "py.typed"))
