"""Suite-wide set-up: the Hypothesis profile (``HYPOTHESIS_PROFILE=ci`` by default, ``deep`` to hunt; see
``tests/_hypothesis.py``), loaded before any test module builds its ``settings``."""

from __future__ import annotations

from ._hypothesis import load

load()
