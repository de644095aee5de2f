"""``imgpipe``: the library's command line (``python -m imgpipe`` too).

``imgpipe process PATH... --out DIR`` makes the renditions of every image given (folders are searched
recursively for image file names) and writes them with a PhotoList describing them; ``imgpipe exif
FILE...`` prints the EXIF block. A file that fails is reported and skipped; the exit status is 1 when
any file failed, 2 for a usage error.

The progress bar is tqdm's (the ``cli`` extra: ``pip install "fastmime[cli]"``); without tqdm the
command works the same and prints only the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from ._errors import ImageError
from ._exif import Exif, read_exif
from ._photolist import Photo, PhotoList
from ._pipeline import OUTPUT_FORMATS, PLATFORM_RENDITIONS, YAHOO_RENDITIONS, RenditionSpec, process_image

__all__ = ["main"]

#: File name extensions taken when a folder is searched (a file named on the command line is always
#: taken: the format comes from its bytes, whatever its name).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".heic", ".heif"})
_RENDITION_SETS = {"yahoo": YAHOO_RENDITIONS, "platform": PLATFORM_RENDITIONS}
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "avif": "avif", "heic": "heic"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "process":
        return _process_command(args, parser)
    return _exif_command(args)


def _parser() -> argparse.ArgumentParser:
    from . import __version__  # read from the installed metadata: only when the command line runs

    parser = argparse.ArgumentParser(prog="imgpipe", description="Photo renditions and EXIF, from the imgpipe library.")
    parser.add_argument("--version", action="version", version=f"imgpipe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "process",
        help="make renditions and a PhotoList",
        description="Make the renditions of images (files, and folders searched recursively for "
        f"{', '.join(sorted(IMAGE_SUFFIXES))} files) and a PhotoList describing them.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files and folders")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created)")
    p.add_argument(
        "--renditions",
        choices=sorted(_RENDITION_SETS),
        default="yahoo",
        help="yahoo: thumb 96, screen 480, full (the original); platform: 75x225, 130, 604",
    )
    p.add_argument(
        "--format",
        choices=("jpeg", "webp", "avif"),
        default="jpeg",
        help="encoding of the scaled renditions (full stays the original; HEIC's is converted)",
    )
    p.add_argument("--quality", type=int, default=None, help="1..100 (default: 85)")
    p.add_argument("--strip-gps", action="store_true", help="remove the GPS block from the originals (lossless)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="images processed at once (default 1)")
    p.add_argument(
        "--executor",
        choices=("thread", "process"),
        default="thread",
        help="how --jobs runs: threads (default: Pillow releases the GIL while decoding, resampling "
        "and encoding, and nothing is copied between processes) or processes",
    )
    doc = p.add_mutually_exclusive_group()
    doc.add_argument(
        "--xml", dest="document", action="store_const", const="xml", help="write DIR/photolist.xml (the default)"
    )
    doc.add_argument("--json", dest="document", action="store_const", const="json", help="write DIR/photolist.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    e = sub.add_parser(
        "exif",
        help="print the EXIF block of images",
        description="Print the PhotoList EXIF block and the orientation, capture time and GPS position of each file.",
    )
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--json", action="store_true", help="one JSON object keyed by file name")
    return parser


# ---------------------------------------------------------------------------------------------------
# imgpipe process
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    source: str  # the input file
    stem: str  # output path without the ".<type>.<ext>" part, relative to the output folder
    out: str
    specs: tuple[RenditionSpec, ...]
    strip_gps: bool


@dataclass(frozen=True)
class _Outcome:
    source: str
    photo: Photo | None
    error: str | None
    seconds: float


def _process_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.quality is not None and not 1 <= args.quality <= 100:
        parser.error("--quality must be in 1..100")
    if args.format not in OUTPUT_FORMATS:
        parser.error(f"--format {args.format}: this Pillow cannot encode it (it was built without libavif)")
    specs = tuple(_spec(s, args.format, args.quality) for s in _RENDITION_SETS[args.renditions])
    sources, missing = _collect(args.paths)
    for path in missing:
        print(f"imgpipe: {path}: no such file or folder", file=sys.stderr)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    jobs = [_Job(str(src), stem, str(out), specs, args.strip_gps) for src, stem in _output_stems(sources)]
    started = time.perf_counter()
    outcomes: list[_Outcome | None] = [None] * len(jobs)
    failed = len(missing)
    with _progress(len(jobs), disabled=args.no_progress) as bar:
        for index, outcome in _run(jobs, args.jobs, args.executor):
            outcomes[index] = outcome
            if outcome.error is not None:
                failed += 1
                bar.write(f"imgpipe: {outcome.source}: {outcome.error} (skipped)")
            bar.update(1)
    elapsed = time.perf_counter() - started
    photos = [o.photo for o in outcomes if o is not None and o.photo is not None]
    document = PhotoList(photos)
    kind = args.document or "xml"
    doc_path = out / f"photolist.{kind}"
    if kind == "xml":
        doc_path.write_bytes(document.to_xml())
    else:
        doc_path.write_text(document.to_json(), encoding="utf-8")
    rate = len(photos) / elapsed if elapsed > 0 else 0.0
    print(
        f"imgpipe: {len(photos)} processed, {failed} failed, in {elapsed:.1f} s ({rate:.1f} images/s,"
        f" {args.jobs} {args.executor}{'es' if args.executor == 'process' else 's'}); {doc_path}"
    )
    return 1 if failed else 0


def _spec(spec: RenditionSpec, fmt: str, quality: int | None) -> RenditionSpec:
    if spec.unbounded:  # the original; a HEIC source is converted to JPEG, which every browser shows
        return spec if quality is None else replace(spec, quality=quality)
    return replace(spec, format=fmt, quality=spec.quality if quality is None else quality)


def _collect(paths: Sequence[str]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, name relative to its folder) for each file named and each image file found in a folder
    (recursively, sorted); and the names that do not exist."""
    found: list[tuple[Path, Path]] = []
    missing: list[str] = []
    seen: set[Path] = set()
    for name in paths:
        path = Path(name)
        if path.is_dir():
            candidates = [
                (p, p.relative_to(path))
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            ]
        elif path.exists():
            candidates = [(path, Path(path.name))]
        else:
            missing.append(name)
            continue
        for p, rel in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                found.append((p, rel))
    return found, missing


def _output_stems(sources: list[tuple[Path, Path]]) -> list[tuple[Path, str]]:
    """Output names keep each file's path relative to its folder, without the suffix (``2024/photo``);
    a second file claiming the same name keeps its suffix (``2024/photo.png``), then gets a number."""
    stems: list[tuple[Path, str]] = []
    taken: set[str] = set()
    for src, rel in sources:
        stem = rel.with_suffix("").as_posix()
        if stem in taken:
            stem = rel.as_posix()
        base, n = stem, 2
        while stem in taken:
            stem, n = f"{base}-{n}", n + 1
        taken.add(stem)
        stems.append((src, stem))
    return stems


def _run(jobs: list[_Job], workers: int, executor_kind: str) -> Iterator[tuple[int, _Outcome]]:
    if workers == 1:
        for i, job in enumerate(jobs):
            yield i, _process_one(job)
        return
    pool: Executor = ProcessPoolExecutor(workers) if executor_kind == "process" else ThreadPoolExecutor(workers)
    with pool:
        futures: dict[Future[_Outcome], int] = {pool.submit(_process_one, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _process_one(job: _Job) -> _Outcome:
    """Process one file and write its renditions (runs in a worker: returns only small values)."""
    started = time.perf_counter()
    try:
        result = process_image(job.source, job.specs, strip_gps=job.strip_gps)
        urls: dict[str, str] = {}
        for r in result.renditions:
            rel = f"{job.stem}.{r.type}.{_EXTENSIONS.get(r.format, r.format)}"
            target = Path(job.out, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            r.save(target)
            urls[r.type] = Path(rel).as_posix()
        photo = result.to_photo(result.sha256[:16], "", urls, caption=Path(job.source).name)
        return _Outcome(job.source, photo, None, time.perf_counter() - started)
    except (ImageError, OSError) as exc:
        return _Outcome(job.source, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)


class _NoBar:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def update(self, n: int) -> None:
        pass

    def write(self, line: str) -> None:
        print(line, file=self._stream)

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress(total: int, disabled: bool) -> Any:
    """tqdm's bar on stderr (rate and time left), or a stand-in that only prints messages."""
    if not disabled:
        try:
            from tqdm import tqdm
        except ImportError:
            print("imgpipe: install tqdm (pip install 'fastmime[cli]') for a progress bar", file=sys.stderr)
        else:
            return tqdm(total=total, unit="img", file=sys.stderr, dynamic_ncols=True)
    return _NoBar(sys.stderr)


# ---------------------------------------------------------------------------------------------------
# imgpipe exif
# ---------------------------------------------------------------------------------------------------


def _exif_fields(exif: Exif) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in exif.photolist().items() if v is not None}
    if exif.orientation is not None:
        fields["Orientation"] = exif.orientation
    when = exif.capture_time()
    if when is not None:
        fields["CaptureTime"] = when.isoformat()
    if exif.gps is not None:
        fields["GPS"] = list(exif.gps)
    return fields


def _exif_command(args: argparse.Namespace) -> int:
    failed = 0
    out: dict[str, Any] = {}
    for name in args.files:
        try:
            exif = read_exif(name)
        except OSError as exc:
            failed += 1
            print(f"imgpipe: {name}: {exc.strerror or exc}", file=sys.stderr)
            continue
        fields = _exif_fields(exif)
        if args.json:
            out[name] = fields
            continue
        print(f"{name}:" if fields else f"{name}: no EXIF")
        width = max((len(k) for k in fields), default=0)
        for key, value in fields.items():
            text = ", ".join(f"{v:.6f}" for v in value) if key == "GPS" else value
            print(f"  {key:<{width}}  {text}")
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
