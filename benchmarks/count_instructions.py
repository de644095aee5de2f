#!/usr/bin/env python
"""Per-call and per-part cost of the parsers in CPU instructions (valgrind's callgrind), load-independent.

Timings on a shared machine move with the neighbours' load; instruction counts do not, which makes
them the steady measure for per-call overheads (they are not times: parsers with different mixes of
work can have different instructions per cycle). Two workloads, each with the same sinks as
``compare_parsers.py`` (files: byte count + crc32 in the caller's code; fields: fastmime's built-in
``ValueHandler``, the caller's code for multipart, which has no such facility):

* ``feed``: one 2 MiB file fed in 1 KiB chunks (workload (c) in small): instructions per feed;
* ``part``: 2,000 fields of about 20 bytes in 64 KiB chunks (workload (d) in small): per part.

Each count is the difference between a child process that parses the body ``--runs`` more times and
one that parses it once (warm-up, imports and start-up cancel out), divided by runs and units.

    python benchmarks/count_instructions.py                      # fastmime (cython, pure) and multipart
    python benchmarks/count_instructions.py --parsers fastmime-cython --workloads part

Needs ``valgrind`` on PATH (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import zlib

BOUNDARY = b"----WebKitFormBoundaryAbCdEfGh12345678"
PARSERS = ("fastmime-cython", "fastmime-pure", "multipart")
WORKLOADS = {"feed": "1 KiB feed of one big file", "part": "part of 2,000 small fields"}


def _body(workload: str) -> tuple[list[bytes], int]:
    """The chunks and the number of units (feeds or parts) they make."""
    if workload == "feed":
        data = random.Random(5).randbytes(2 << 20)
        body = (
            b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="upload"; filename="a.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--" + BOUNDARY + b"--\r\n"
        )
        size = 1024
    else:
        body = (
            b"".join(
                b"--"
                + BOUNDARY
                + b'\r\nContent-Disposition: form-data; name="field%d"\r\n\r\n' % i
                + b"value %013d" % i
                + b"\r\n"
                for i in range(2000)
            )
            + b"--"
            + BOUNDARY
            + b"--\r\n"
        )
        size = 65536
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return chunks, len(chunks) if workload == "feed" else 2000


class _File:
    __slots__ = ("size", "crc")

    def __init__(self) -> None:
        self.size, self.crc = 0, 0

    def on_data(self, chunk: memoryview) -> None:
        self.size += len(chunk)
        self.crc = zlib.crc32(chunk, self.crc)

    def on_end(self) -> None:
        pass

    def on_abort(self, error: BaseException) -> None:
        pass


def _runner(parser: str, chunks: list[bytes]):
    if parser.startswith("fastmime"):
        import fastmime
        import fastmime.pure
        from fastmime.handlers import ValueHandler

        cls = fastmime.pure.MultipartParser if parser == "fastmime-pure" else fastmime.MultipartParser
        if parser == "fastmime-cython" and fastmime.IMPLEMENTATION != "cython":
            raise SystemExit("the compiled extension is not built")
        limits = fastmime.Limits(max_parts=1_000_000, max_file_size=1 << 40, max_body_size=1 << 40)

        def run() -> list:
            parts: list = []
            append = parts.append

            def handler_for(part):
                handler = ValueHandler() if part.filename is None else _File()
                append((part.name, handler))
                return handler

            p = cls(BOUNDARY, handler_for, limits)
            for chunk in chunks:
                p.feed(chunk)
            p.close()
            return [(h.size, h.crc) if h.__class__ is _File else (name, h.size, h.value) for name, h in parts]

        return run
    from multipart import MultipartSegment, PushMultipartParser

    def run_multipart() -> list:
        out: list = []
        p = PushMultipartParser(BOUNDARY, max_segment_count=1_000_000)
        name, is_file, size, crc, buf = None, False, 0, 0, []
        for chunk in chunks:
            for event in p.parse(chunk):
                if event.__class__ is bytes:
                    if is_file:
                        size += len(event)
                        crc = zlib.crc32(event, crc)
                    else:
                        buf.append(event)
                elif event is None:
                    if is_file:
                        out.append((size, crc))
                    else:
                        value = b"".join(buf)
                        out.append((name, len(value), value))
                elif isinstance(event, MultipartSegment):
                    name, is_file, size, crc, buf = event.name, event.filename is not None, 0, 0, []
        p.close()
        return out

    return run_multipart


def _child(parser: str, workload: str, runs: int) -> None:
    chunks, _ = _body(workload)
    run = _runner(parser, chunks)
    run()
    for _ in range(runs):
        run()


def _instructions(parser: str, workload: str, runs: int) -> int:
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        parser,
        workload,
        str(runs),
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(here), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stderr
    found = re.search(r"Collected\s*:\s*(\d+)", out)
    if found is None:
        raise SystemExit(f"no count in valgrind's output:\n{out[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parsers", default=",".join(PARSERS), help="comma list of: " + ",".join(PARSERS))
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma list of: " + ",".join(WORKLOADS))
    ap.add_argument("--runs", type=int, default=4, help="parses counted per child (default 4)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    for workload in args.workloads.split(","):
        _, units = _body(workload)
        for parser in args.parsers.split(","):
            extra = _instructions(parser, workload, args.runs) - _instructions(parser, workload, 0)
            print(f"{parser:<16} {extra // (args.runs * units):>8,} instructions per {WORKLOADS[workload]}", flush=True)


if __name__ == "__main__":
    main()
