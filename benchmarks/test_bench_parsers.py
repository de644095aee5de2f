"""pytest-benchmark versions of the parser comparison, at small size, for regression tracking.

Workloads (a)-(j) of ``compare_parsers.py`` (profile ``test``: 2 MiB instead of 64 MiB, 500 fields instead of
10,000, ...) x {fastmime (cython), fastmime (pure), defnull's multipart as the reference peer}. Every case
checks the parsed output (name, filename, size, crc32 / value of every part); none asserts a timing.

    pytest benchmarks/test_bench_parsers.py                       # pyproject adds --benchmark-disable:
                                                                  # each case runs once, as a correctness test
    pytest benchmarks/test_bench_parsers.py --benchmark-enable    # timings (add --benchmark-autosave to keep)

fastmime (cython) cases are skipped when ``fastmime.IMPLEMENTATION != "cython"`` (extension not built).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import _workloads as W
import pytest

IMPLS = ("fastmime-cython", "fastmime-pure", "multipart")

IDS = {
    "a": "a-bigfile-64k",
    "b": "b-bigfile-1m",
    "c": "c-bigfile-1k",
    "d": "d-many-fields",
    "e": "e-mixed",
    "f": "f-near-miss",
    "g": "g-crlf-only",
    "h": "h-dashes-boundary",
    "i": "i-one-cr",
    "j": "j-pre-epilogue",
}


@functools.cache
def _workload(key: str) -> W.Workload:
    return W.build(key, "test")


@functools.lru_cache(maxsize=1)
def _entries() -> dict[str, W.ParserEntry]:
    return {e.key: e for e in W.parser_entries() if e.key in IMPLS}


def _runner(impl: str):
    entry = _entries()[impl]
    if entry.run is not None:
        return entry.run
    if impl == "fastmime-cython":
        fm, _why = W.fastmime_info()
        if fm is not None and getattr(fm, "IMPLEMENTATION", None) != "cython":
            pytest.skip(f"fastmime.IMPLEMENTATION == {fm.IMPLEMENTATION!r}: the extension is not built")
    if impl == "multipart":
        pytest.skip(f"multipart not installed: {entry.unavailable}")
    pytest.fail(f"{impl} cannot run: {entry.unavailable}")  # fastmime itself broken: that is a failure


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("key", W.ALL_KEYS, ids=[IDS[k] for k in W.ALL_KEYS])
def test_parse(benchmark, key: str, impl: str) -> None:
    run = _runner(impl)
    wl = _workload(key)
    benchmark.group = f"({key}) {wl.title}"
    benchmark.extra_info.update(
        body_bytes=wl.body_len, chunk_size=wl.chunk_size, chunks=len(wl.chunks), parts=len(wl.expected)
    )
    got = benchmark(run, wl)
    diff = W.compare(wl.expected, got)
    assert diff is None, f"{impl} parsed workload ({key}) {wl.title} wrong: {diff}"


def test_compare_parsers_check_only() -> None:
    """The comparison script's own correctness mode: every parser (peers too) right on every workload."""
    script = Path(__file__).with_name("compare_parsers.py")
    proc = subprocess.run([sys.executable, str(script), "--check-only"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
