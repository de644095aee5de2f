"""The suite's Hypothesis profiles (``HYPOTHESIS_PROFILE``), loaded by ``tests/conftest.py`` before any test
module is imported, and :func:`examples`, through which every property test gives its example count.

- ``ci`` (the default, what ``scripts/test.sh`` and CI run): the examples are fixed (derandomized), so every
  run sees the same ones and a failure reproduces as it is; no example database is written; no deadline
  (timings on a shared 2-core machine say nothing). The counts are the ones written in the tests.
- ``deep``: ten times the examples (``HYPOTHESIS_SCALE`` sets another factor), new random ones on every run,
  failures kept in ``.hypothesis/`` and printed with a reproduction blob: for hunting bugs on a free machine
  (``HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest -n 2 tests/fastmime tests/imgpipe``), not for CI.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "SCALE", "examples", "load"]

#: The profile in force.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
#: What every example count is multiplied by.
SCALE = float(os.environ.get("HYPOTHESIS_SCALE", "10" if PROFILE == "deep" else "1"))

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=False, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", derandomize=False, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)


def examples(count: int) -> int:
    """A test's example count under the profile in force."""
    return max(1, int(count * SCALE))


def load() -> None:
    """Make the chosen profile the default of every ``settings`` created afterwards."""
    if PROFILE not in ("ci", "deep"):
        raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}: expected ci or deep")
    settings.load_profile(PROFILE)
