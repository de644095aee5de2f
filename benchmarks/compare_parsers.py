#!/usr/bin/env python
"""Compare fastmime with other streaming multipart/form-data parsers, in one process, on the same bodies.

Peers: defnull's ``multipart`` (PushMultipartParser), ``python-multipart`` (callback MultipartParser),
``streaming-form-data`` (StreamingFormDataParser + targets) and werkzeug's sans-IO ``MultipartDecoder``.
fastmime runs as both implementations (Cython extension and ``fastmime.pure``).

Every parser gets an equivalent sink (file parts: byte count + zlib.crc32; fields: the value bytes) and its
output is checked against the expected parts on every run: a parser with wrong output is reported WRONG
(or ERROR with the exception name) and is not timed. Parsers are run round-robin within each repeat, so
machine noise hits everyone alike. MB/s are 10**6 bytes of body per second, median over the repeats.

Usage (from the repository root)::

    python benchmarks/compare_parsers.py                 # full run (~64 MiB bodies), 5 repeats
    python benchmarks/compare_parsers.py --quick         # small bodies, 2 repeats (CI smoke)
    python benchmarks/compare_parsers.py --only a,d,j --parsers fastmime-cython,multipart
    python benchmarks/compare_parsers.py --json out.json
    python benchmarks/compare_parsers.py --check-only    # correctness of every parser on every workload

``--check-only`` exits 1 when any parser gives wrong output or raises on any workload, except the
peer bugs listed in ``KNOWN_PEER_BUGS`` (reported, not failed); fastmime is also checked with every body
re-split into odd-sized chunks (``RECHUNK_SIZES``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _workloads as W

#: (parser key, workload key) -> why that peer's output is wrong there. Shown as WRONG* with the reason;
#: ``--check-only`` does not fail on them. Only peers: fastmime never gets a pass.
KNOWN_PEER_BUGS: dict[tuple[str, str], str] = {
    ("streaming-form-data", "j"): (
        "streaming-form-data 2.1.0 drops/corrupts the last part (never finish()ed) when bytes follow the "
        "close delimiter in the same chunk, i.e. any epilogue, even a bare CRLF"
    ),
}

#: Peers whose notable behaviour on a workload is worth a line under its table.
PEER_NOTES: dict[tuple[str, str], str] = {
    ("streaming-form-data", "d"): (
        "streaming-form-data needs every name registered up front (done inside the timed region) and finds "
        "a part's target by a linear scan of the registered names, in register() and per part: O(n^2) "
        "for n distinct names"
    ),
    ("streaming-form-data", "j"): (
        "streaming-form-data also keeps a CRLF preamble in its leftover buffer and re-copies it on every chunk: "
        "memory O(preamble), time O(preamble^2) (2/4/8 MiB: ~20/80/380 ms)"
    ),
    ("werkzeug", "j"): (
        "werkzeug keeps the whole preamble (until the first boundary) and the whole epilogue (until end of "
        "input) in memory, to hand them over as Preamble/Epilogue events"
    ),
    ("python-multipart", "j"): (
        "python-multipart skips CR/LF runs in the preamble with find(b'-') and stops reading at the close delimiter"
    ),
}

#: Shown under the memory table for the rows measured.
MEMORY_NOTES: dict[tuple[str, str], str] = {
    ("streaming-form-data", "j"): PEER_NOTES[("streaming-form-data", "j")],
    ("werkzeug", "j"): PEER_NOTES[("werkzeug", "j")],
}

STATUS_OK, STATUS_WRONG, STATUS_ERROR, STATUS_NA, STATUS_TIMEOUT = "OK", "WRONG", "ERROR", "N/A", "TIMEOUT"

#: The clock of every timing: process CPU time by default (``--clock cpu``). The parsers are single-threaded
#: and do no I/O, so CPU time is their cost, and it leaves out the time the process waits for a CPU when the
#: machine is shared (2 cores, other jobs), which makes wall-clock medians swing by tens of percent.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = CLOCKS["cpu"]


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):  # pragma: no cover - only on a hung parser
    raise _Timeout()


@dataclass
class Result:
    parser: str
    label: str
    peer: bool
    status: str = STATUS_OK
    detail: str = ""
    samples: list[float] = field(default_factory=list)  # seconds per parse, one per timed repeat
    loops: int = 1  # parses per timed repeat (the repeat's value is their median)
    cap: int = 0  # timed samples allowed (repeats, or fewer for slow parsers)
    check_seconds: float = 0.0
    mbps_median: float | None = None
    mbps_min: float | None = None
    mbps_max: float | None = None
    ratio_best_peer: float | None = None
    known_bug: str | None = None
    sink_calls: int = 0  # calls of the file sink (its crc32) in the checked parse

    def finish(self, body_len: int) -> None:
        if self.samples:
            mbps = [body_len / 1e6 / s for s in self.samples]
            self.mbps_median = statistics.median(mbps)
            self.mbps_min = min(mbps)
            self.mbps_max = max(mbps)


class _CountingCrc32:
    """Stands in for the sinks' zlib.crc32 during the checked parse: how often each parser's sink is called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data, value=0):
        self.calls += 1
        return zlib.crc32(data, value)


def run_checked(
    entry: W.ParserEntry, wl: W.Workload, timeout: float, counter: _CountingCrc32 | None = None
) -> tuple[str, str, list | None, float]:
    """One untimed-for-stats parse with output check: (status, detail, output, seconds)."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    if counter is not None:
        W.crc32 = counter  # the sinks look the name up on every call
    t0 = CLOCK()
    try:
        got = entry.run(wl)
    except W.NotApplicable as exc:
        return STATUS_NA, str(exc), None, CLOCK() - t0
    except _Timeout:
        return STATUS_TIMEOUT, f"one parse took more than {timeout:g} s", None, CLOCK() - t0
    except Exception as exc:
        return STATUS_ERROR, f"{type(exc).__name__}: {exc}"[:300], None, CLOCK() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        W.crc32 = zlib.crc32
    dt = CLOCK() - t0
    diff = W.compare(wl.expected, got)
    if diff is not None:
        return STATUS_WRONG, diff, got, dt
    return STATUS_OK, "", got, dt


def floor_seconds(wl: W.Workload, loops: int) -> float:
    """Time of the sink's own work with no parser at all: zlib.crc32 over every raw chunk."""
    t0 = CLOCK()
    for _ in range(loops):
        crc = 0
        for chunk in wl.chunks:
            crc = zlib.crc32(chunk, crc)
    return (CLOCK() - t0) / loops


def bench_workload(
    wl: W.Workload, entries: list[W.ParserEntry], repeats: int, budget: float, min_sample: float, timeout: float, log
) -> tuple[list[Result], dict]:
    results: list[Result] = []
    runnable: list[tuple[W.ParserEntry, Result]] = []
    for e in entries:
        r = Result(e.key, e.label, e.peer)
        results.append(r)
        if e.run is None:
            r.status, r.detail = STATUS_NA, e.unavailable or "unavailable"
            continue
        gc.collect()
        status, detail, _, dt = run_checked(e, wl, timeout)  # verification + warm-up
        r.status, r.detail, r.check_seconds = status, detail, dt
        if status == STATUS_OK and any(filename is not None for _, filename, *_ in wl.expected):
            counter = _CountingCrc32()  # an untimed parse of its own: the counting wrapper costs a call
            run_checked(e, wl, timeout, counter)
            r.sink_calls = counter.calls
        if status == STATUS_WRONG and (e.key, wl.key) in KNOWN_PEER_BUGS:
            r.known_bug = KNOWN_PEER_BUGS[(e.key, wl.key)]
        if status != STATUS_OK:
            log(f"    {e.label}: {status} {detail}")
            continue
        # A timed repeat runs the parse `loops` times (>= min_sample s in all), interleaved with the other
        # parsers' parses, and keeps the median; at most `budget` s per parser per workload.
        r.loops = max(1, min(50, math.ceil(min_sample / max(dt, 1e-6))))
        r.cap = max(1, min(repeats, int(budget // max(dt * r.loops, 1e-9))))
        if dt >= 1.0:  # slow: warm-up is irrelevant, count the verification parse as the first sample
            r.samples.append(dt)
        runnable.append((e, r))

    fl_loops = max(1, math.ceil(min_sample / max(floor_seconds(wl, 1), 1e-6)))
    floor_samples: list[float] = []
    for rnd in range(repeats):
        k = rnd % max(1, len(runnable))
        order = runnable[k:] + runnable[:k]  # rotate so nobody always runs first
        active = [(e, r) for e, r in order if r.status == STATUS_OK and len(r.samples) < r.cap]
        times: dict[str, list[float]] = {r.parser: [] for _, r in active}
        gc.collect()
        # Interleave single parses (A, B, C, A, B, C, ...) so that a burst of outside load hits everyone.
        for i in range(max((r.loops for _, r in active), default=0)):
            for e, r in active:
                if i >= r.loops or r.status != STATUS_OK:
                    continue
                # Every parse starts from the same collector state: without this, a full collection made
                # due by the previous parser's objects (the collector counts survivors, not frees) lands
                # on whichever parser runs next, tens of percent of a short parse.
                gc.collect()
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    t0 = CLOCK()
                    got = e.run(wl)
                    dt = CLOCK() - t0
                except _Timeout:
                    r.status, r.detail = STATUS_TIMEOUT, f"a timed parse took more than {timeout:g} s"
                    continue
                except Exception as exc:  # a parser that passed the check and then fails: report it
                    r.status, r.detail = STATUS_ERROR, f"{type(exc).__name__}: {exc}"[:300]
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                diff = W.compare(wl.expected, got)
                del got
                if diff is not None:
                    r.status, r.detail = STATUS_WRONG, "on a timed repeat: " + diff
                    continue
                times[r.parser].append(dt)
        for _, r in active:
            if r.status == STATUS_OK and times[r.parser]:
                r.samples.append(statistics.median(times[r.parser]))  # one repeat = median of its parses
        floor_samples.append(floor_seconds(wl, fl_loops))

    for r in results:
        if r.status == STATUS_OK:
            r.finish(wl.body_len)
        else:
            r.samples = []
    peers_ok = [r for r in results if r.peer and r.mbps_median]
    best = max(peers_ok, key=lambda r: r.mbps_median) if peers_ok else None
    if best is not None:
        for r in results:
            if r.mbps_median:
                r.ratio_best_peer = r.mbps_median / best.mbps_median
    floor = {"mbps_median": wl.body_len / 1e6 / statistics.median(floor_samples) if floor_samples else None}
    return results, {
        "best_peer": best.parser if best else None,
        "best_peer_label": best.label if best else None,
        "floor": floor,
    }


def _fmt(x: float | None, spec: str = "9.1f") -> str:
    return format(x, spec) if x is not None else format("-", ">" + spec.split(".")[0])


def print_table(wl: W.Workload, results: list[Result], extra: dict, repeats: int, out) -> list[str]:
    p = lambda s="": print(s, file=out)  # noqa: E731
    p(f"{wl.label()}")
    p(f"  {'parser':<22} {'MB/s':>9} {'min':>9} {'max':>9} {'ms/parse':>9} {'samples':>8} {'vs best peer':>12}  status")
    notes: list[str] = []
    for r in results:
        samples = f"{len(r.samples)}x{r.loops}" if r.samples else "-"
        ratio = f"{r.ratio_best_peer:.2f}x" if r.ratio_best_peer is not None else "-"
        if r.peer and r.parser == extra.get("best_peer"):
            ratio += " *"
        status = r.status
        if r.status == STATUS_WRONG and r.known_bug:
            status = "WRONG (known peer bug)"
        elif r.status in (STATUS_ERROR, STATUS_WRONG, STATUS_TIMEOUT, STATUS_NA):
            status = f"{r.status}: {r.detail}"
        if r.samples and len(r.samples) < repeats:
            notes.append(
                f"{r.label}: only {len(r.samples)} of {repeats} repeats "
                f"({r.check_seconds:.2f} s per parse; time budget per parser and workload)"
            )
        ms = statistics.median(r.samples) * 1e3 if r.samples else None
        p(
            f"  {r.label:<22} {_fmt(r.mbps_median)} {_fmt(r.mbps_min)} {_fmt(r.mbps_max)} {_fmt(ms, '9.2f')} "
            f"{samples:>8} {ratio:>12}  {status}"
        )
        if r.known_bug:
            notes.append(f"{r.label}: {r.known_bug}; got: {r.detail}")
        if (r.parser, wl.key) in PEER_NOTES and r.status != STATUS_NA:
            notes.append(f"{r.label}: {PEER_NOTES[(r.parser, wl.key)]}")
    fl = extra["floor"]["mbps_median"]
    fl_ms = wl.body_len / 1e6 / fl * 1e3 if fl else None
    p(
        f"  {'[floor: crc32 only]':<22} {_fmt(fl)} {'':>9} {'':>9} {_fmt(fl_ms, '9.2f')} {'':>8} {'':>12}  "
        f"(zlib.crc32 over the raw chunks: the sink's work, no parsing)"
    )
    calls = {r.label: r.sink_calls for r in results if r.status == STATUS_OK and r.sink_calls}
    if len(set(calls.values())) > 1:
        listed = ", ".join(f"{label} {n:,}" for label, n in calls.items())
        peer_calls = [r.sink_calls for r in results if r.peer and r.status == STATUS_OK and r.sink_calls]
        ours = next((r.sink_calls for r in results if r.parser == "fastmime-cython" and r.status == STATUS_OK), None)
        coalesce = getattr(W.fastmime_info()[0], "COALESCE", None)
        why = ""
        if coalesce and ours and peer_calls and ours < min(peer_calls):
            why = (
                f" (fastmime hands a handler the body pieces smaller than fastmime.COALESCE = {coalesce:,} bytes "
                "together; the peers call their sinks once per piece)"
            )
        elif ours and peer_calls and ours > min(peer_calls):
            why = (
                " (fastmime hands the bytes it held back at a chunk's end, which could have started a delimiter, "
                "to the handler before the next chunk's piece when that piece is too big to gather)"
            )
        notes.append(f"file sink calls per parse: {listed}{why}")
    for n in notes:
        p(f"  note: {n}")
    summary = summary_line(wl, results, extra)
    p(f"  summary ({wl.key}): {summary}")
    p()
    return notes


def summary_line(wl: W.Workload, results: list[Result], extra: dict) -> str:
    by = {r.parser: r for r in results}

    def describe(r: Result | None) -> str:
        if r is None:
            return "not run"
        if r.status != STATUS_OK:
            return f"{r.status} ({r.detail})" if r.detail else r.status
        return ""

    parts = []
    cy = by.get("fastmime-cython")
    if cy is not None:
        if cy.status == STATUS_OK and extra.get("best_peer"):
            parts.append(f"fastmime (cython) {cy.ratio_best_peer:.2f}x best peer ({extra['best_peer_label']})")
        else:
            parts.append(f"fastmime (cython) {describe(cy) or 'no peer to compare'}")
    pure, mp = by.get("fastmime-pure"), by.get("multipart")
    if pure is not None:
        if pure.status == STATUS_OK and mp is not None and mp.mbps_median:
            parts.append(f"fastmime (pure) {pure.mbps_median / mp.mbps_median:.2f}x multipart")
        else:
            parts.append(f"fastmime (pure) {describe(pure) or 'multipart not timed'}")
    return "; ".join(parts) if parts else "(no fastmime selected)"


# --------------------------------------------------------------------------------------------------
# Memory: a fresh subprocess per (workload, parser)
# --------------------------------------------------------------------------------------------------


def _current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _hwm() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def memory_child(key: str, parser_key: str, profile: str) -> dict:
    """Runs in a fresh interpreter: parse ``build_low_memory(key)`` once and report memory growth."""
    import tracemalloc

    entry = next(e for e in W.parser_entries() if e.key == parser_key)
    if entry.run is None:
        return {"status": STATUS_NA, "detail": entry.unavailable}
    entry.run(W.build_low_memory(key, profile, blocks=2))  # tiny warm-up: lazy imports, first-use allocations
    wl = W.build_low_memory(key, profile)
    gc.collect()
    # Reset the peak-RSS mark so that what was built before does not hide the run's own peak.
    reset = False
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        pass
    rss0, max0, hwm0 = _current_rss(), _maxrss(), _hwm()
    got = entry.run(wl)
    max1, hwm1 = _maxrss(), _hwm()
    diff = W.compare(wl.expected, got)
    del got
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    got = entry.run(wl)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    diff = diff or W.compare(wl.expected, got)
    return {
        "status": STATUS_OK if diff is None else STATUS_WRONG,
        "detail": diff or "",
        "chunk_size": wl.chunk_size,
        "body_len": wl.body_len,
        "hwm_reset": reset,
        "rss_start": rss0,
        "maxrss_before": max0,
        "maxrss_after": max1,
        "hwm_before": hwm0,
        "hwm_after": hwm1,
        # ru_maxrss is a high-water mark that cannot be reset: its delta is the growth of the run's peak
        # beyond everything before it (warm-up, imports), a lower bound when the run stays under that.
        "maxrss_delta": max1 - max0,
        # VmHWM is reset to the current RSS just before the run (clear_refs): its growth over the RSS at the
        # start is the run's own peak growth.
        "hwm_growth": (hwm1 - rss0) if (hwm1 is not None and reset) else None,
        "traced_peak_growth": peak - base,
    }


def run_memory(keys: list[str], parser_keys: list[str], profile: str, log) -> list[dict]:
    rows = []
    for key in keys:
        for pk in parser_keys:
            # Through a small /bin/sh that forks (not execs) the child: ru_maxrss keeps the peak of the image a
            # process exec()s from, and a child forked straight from this big process would inherit our peak.
            cmd = [
                "/bin/sh",
                "-c",
                '"$@"; exit $?',
                "sh",
                sys.executable,
                str(Path(__file__).resolve()),
                "--memory-child",
                key,
                pk,
                "--profile",
                profile,
            ]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            row = {"workload": key, "parser": pk, "seconds": round(time.perf_counter() - t0, 2)}
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                row.update(status=STATUS_ERROR, detail=tail[:300])
            else:
                row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            log(f"    memory ({key}) {pk}: {row.get('status')} in {row['seconds']} s")
            rows.append(row)
    return rows


def print_memory(rows: list[dict], labels: dict[str, str], out) -> None:
    p = lambda s="": print(s, file=out)  # noqa: E731
    if not rows:
        return
    p("Memory: growth of the peak during one parse, a fresh subprocess per row; the input is one 64 KiB block")
    p("object fed over and over (so the input itself costs no memory); after a small warm-up parse.")
    p("  HWM  = VmHWM after the parse - RSS before it (VmHWM reset just before via /proc/self/clear_refs)")
    p("  maxrss = ru_maxrss(RUSAGE_SELF) after - before (growth beyond the process's earlier peak)")
    p("  py   = tracemalloc peak - current, Python allocations during a second parse")
    p("  'beyond chunk' = HWM/py growth minus one 64 KiB chunk; target for fastmime: < 2 MiB")
    p(
        f"  {'wl':<3} {'parser':<22} {'body':>8} {'HWM':>10} {'maxrss':>10} {'py peak':>10} {'HWM-chunk':>10} "
        f"{'py-chunk':>10}  {'<2MiB':6}  status"
    )
    for r in rows:
        label = labels.get(r["parser"], r["parser"])
        if r.get("status") not in (STATUS_OK, STATUS_WRONG) or "traced_peak_growth" not in r:
            p(
                f"  {r['workload']:<3} {label:<22} {'':>8} {'':>10} {'':>10} {'':>10} {'':>10} {'':>10}  {'':6}  "
                f"{r.get('status')}: {r.get('detail', '')}"
            )
            continue
        c = r["chunk_size"]
        h, m, t = r["hwm_growth"], r["maxrss_delta"], r["traced_peak_growth"]
        worst = max(x for x in (h, m, t) if x is not None) - c
        ok = ("yes" if worst < 2 * W.MiB else "NO") if r["parser"].startswith("fastmime") else "(peer)"
        status = r["status"] + (f": {r['detail']}" if r.get("detail") else "")
        p(
            f"  {r['workload']:<3} {label:<22} {W.fmt_size(r['body_len']):>8} {_kib(h):>10} {_kib(m):>10} "
            f"{_kib(t):>10} {_kib(None if h is None else h - c):>10} {_kib(t - c):>10}  {ok:6}  {status}"
        )
    for r in rows:
        note = MEMORY_NOTES.get((r["parser"], r["workload"]))
        if note:
            p(f"  note ({r['workload']}) {labels.get(r['parser'], r['parser'])}: {note}")
    p()


def _kib(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:,.0f} KiB"


# --------------------------------------------------------------------------------------------------


def environment(profile: str, repeats: int) -> dict:
    versions = {}
    for dist in ("multipart", "python-multipart", "streaming-form-data", "Werkzeug"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    fm, why = W.fastmime_info()
    info = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "profile": profile,
        "repeats": repeats,
        "peers": versions,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "loadavg_start": os.getloadavg(),
    }
    if fm is not None:
        info["fastmime"] = {
            "file": getattr(fm, "__file__", None),
            "IMPLEMENTATION": getattr(fm, "IMPLEMENTATION", None),
            "version": getattr(fm, "__version__", None),
        }
        try:
            info["fastmime"]["limits"] = repr(W.fastmime_generous_limits(fm.Limits))
        except Exception as exc:
            info["fastmime"]["limits"] = f"{type(exc).__name__}: {exc}"
    else:
        info["fastmime"] = {"unavailable": why}
    return info


#: check-only also re-splits every workload at these odd sizes, for fastmime only (its design promises that
#: chunking never changes the result; several peers do not keep that promise for tiny chunks).
RECHUNK_SIZES = (61, 4093)


def check_only(entries: list[W.ParserEntry], keys: list[str], timeout: float) -> int:
    """Every workload once at small size; exit status 1 on any unexpected WRONG/ERROR/TIMEOUT."""
    import dataclasses

    failures = []
    print(
        f"check-only: profile 'check', {len(keys)} workloads x {len(entries)} parsers; fastmime also with "
        f"{'/'.join(map(str, RECHUNK_SIZES))}-byte chunks"
    )
    for e in entries:
        if e.run is None:
            print(f"  SKIP {e.label}: {e.unavailable}")
    for key in keys:
        wl = W.build(key, "check")
        cells = []
        for e in entries:
            if e.run is None:
                continue
            status, detail, _, _dt = run_checked(e, wl, timeout)
            known = status == STATUS_WRONG and (e.key, key) in KNOWN_PEER_BUGS
            cells.append(f"{e.key}={status}{'*' if known else ''}")
            if status in (STATUS_WRONG, STATUS_ERROR, STATUS_TIMEOUT) and not known:
                failures.append(f"({key}) {e.label}: {status}: {detail}")
            if e.key.startswith("fastmime"):
                body = b"".join(wl.chunks)
                for size in RECHUNK_SIZES:
                    re_wl = dataclasses.replace(wl, chunks=W.split_chunks(body, size), chunk_size=size)
                    st, det, _, _ = run_checked(e, re_wl, timeout)
                    if st != STATUS_OK:
                        cells.append(f"{e.key}@{size}B={st}")
                        failures.append(f"({key}) {e.label} with {size}-byte chunks: {st}: {det}")
        print(f"  ({key}) {wl.title}: " + "  ".join(cells), flush=True)
    for (pk, wk), why in KNOWN_PEER_BUGS.items():
        if wk in keys and any(e.key == pk and e.run for e in entries):
            print(f"  * known peer bug, not a failure: {why}")
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("all outputs right")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per parser (default 5; 2 with --quick)")
    ap.add_argument("--quick", action="store_true", help="small bodies, 2 repeats (CI smoke)")
    ap.add_argument("--only", default="", help="workloads, e.g. a,b,j (default: all of a-j)")
    ap.add_argument("--parsers", default="", help="comma list of: " + ",".join(W.PARSER_KEYS))
    ap.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    ap.add_argument(
        "--check-only", action="store_true", help="run every workload once at small size; exit 1 on any WRONG/ERROR"
    )
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement of (a) and (j)")
    ap.add_argument(
        "--budget",
        type=float,
        default=8.0,
        help="max seconds of timed parsing per parser and workload; slow parsers get fewer repeats",
    )
    ap.add_argument(
        "--min-sample",
        type=float,
        default=0.2,
        help="a timed repeat runs enough parses to last at least this long (s); it keeps their median",
    )
    ap.add_argument("--timeout", type=float, default=120.0, help="give up on one parse after this many s")
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process CPU time (default; robust on a shared machine); wall: perf_counter",
    )
    ap.add_argument("--profile", choices=sorted(W.PROFILES), default=None, help=argparse.SUPPRESS)
    ap.add_argument("--memory-child", nargs=2, metavar=("WORKLOAD", "PARSER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    profile = args.profile or ("quick" if args.quick else "full")
    global CLOCK
    CLOCK = CLOCKS[args.clock]
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child[0], args.memory_child[1], profile)))
        return 0

    signal.signal(signal.SIGALRM, _on_alarm)
    keys = [k.strip() for k in args.only.split(",") if k.strip()] or list(W.ALL_KEYS)
    bad = [k for k in keys if k not in W.WORKLOADS]
    if bad:
        ap.error(f"unknown workload(s) {bad}; choose from {','.join(W.ALL_KEYS)}")
    entries = W.parser_entries()
    if args.parsers:
        wanted = [p.strip() for p in args.parsers.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in W.PARSER_KEYS]
        if unknown:
            ap.error(f"unknown parser(s) {unknown}; choose from {','.join(W.PARSER_KEYS)}")
        entries = [e for e in entries if e.key in wanted]

    if args.check_only:
        return check_only(entries, keys, args.timeout)

    repeats = args.repeats or (2 if args.quick else 5)
    out = sys.stdout
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    env = environment(profile, repeats)
    started = time.perf_counter()
    print(
        f"fastmime parser comparison: profile {profile}, {repeats} repeats, Python {env['python']} on "
        f"{env['platform']}, {env['cpus']} CPUs"
    )
    print("peers: " + ", ".join(f"{k} {v}" for k, v in env["peers"].items()))
    fmi = env["fastmime"]
    if "unavailable" in fmi:
        print(f"fastmime: not importable ({fmi['unavailable']})")
    else:
        print(f"fastmime: IMPLEMENTATION={fmi['IMPLEMENTATION']!r} from {fmi['file']}; limits {fmi['limits']}")
    print(
        f"clock: {args.clock} ({'process CPU time' if args.clock == 'cpu' else 'wall time'}); "
        f"load average at start: {os.getloadavg()[0]:.2f}"
    )
    print(
        f"MB/s = 10^6 body bytes per second, median over the repeats; a repeat = median of 'loops' parses\n"
        f"(>= {args.min_sample:g} s in all), the parses of all parsers interleaved A,B,C,A,B,C,...; samples = "
        f"repeats x loops;\n'vs best peer' = median / best peer's median (* = best peer); a parser gets at most "
        f"{args.budget:g} s of timed parsing\nper workload (slow ones get fewer repeats, noted under the table)."
    )
    print()

    report = {"environment": env, "workloads": {}, "memory": []}
    for key in keys:
        log(f"[{time.perf_counter() - started:6.1f}s] building ({key}) ...")
        wl = W.build(key, profile)
        log(f"[{time.perf_counter() - started:6.1f}s] running ({key}) {wl.title} ...")
        results, extra = bench_workload(wl, entries, repeats, args.budget, args.min_sample, args.timeout, log)
        notes = print_table(wl, results, extra, repeats, out)
        out.flush()
        report["workloads"][key] = {
            "title": wl.title,
            "description": wl.content_desc,
            "body_len": wl.body_len,
            "chunk_size": wl.chunk_size,
            "chunks": len(wl.chunks),
            "best_peer": extra["best_peer"],
            "floor_mbps": extra["floor"]["mbps_median"],
            "summary": summary_line(wl, results, extra),
            "notes": notes,
            "results": [asdict(r) for r in results],
        }
        del wl
        gc.collect()

    mem_keys = [k for k in keys if k in ("a", "j")]
    if mem_keys and not args.no_memory:
        log(f"[{time.perf_counter() - started:6.1f}s] memory ...")
        runnable = [e.key for e in entries if e.run is not None]
        rows = run_memory(mem_keys, runnable, profile, log)
        print_memory(rows, {e.key: e.label for e in entries}, out)
        report["memory"] = rows

    print("Summary")
    for key, w in report["workloads"].items():
        print(f"  ({key}) {w['title']:<38} {w['summary']}")
    elapsed = time.perf_counter() - started
    print(f"\ntotal time {elapsed:.0f} s")
    report["elapsed_seconds"] = round(elapsed, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
