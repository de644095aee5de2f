"""Moving a whole installation from one pair of backends to another (``photoservice import``).

The usual move is from the embedded pair (SQLite + a folder) to the shared one (PostgreSQL + S3), but any
pair goes to any other. The copy keeps every id, key, hash and secret, so clients notice nothing: api keys,
session keys, cookies, photo and album ids and media URLs stay valid.

1. one read transaction on the source fixes what is copied (a snapshot: the source may even keep running);
2. every file a photo of that snapshot names is copied, streamed (a file already at the destination with
   the same size is skipped, so an interrupted import resumes where it stopped);
3. then one write transaction on the destination inserts every row, so the destination holds all of them
   or none, and never a row naming a file it does not have (the same order as an upload).

The destination must be empty (its schema created by ``photoservice migrate``). Files no row names at the
source (orphans) are not copied; the maintenance flag is not copied either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from .catalog import MAINTENANCE_FLAG
from .files import FileStore
from .metadata import COPIED_TABLES, SCHEMA_VERSION, MetadataBackend
from .records import StoreError

__all__ = ["CopyReport", "DestinationNotEmpty", "copy_installation"]


class DestinationNotEmpty(StoreError):
    """``photoservice import`` writes only into an empty database."""


@dataclass
class CopyReport:
    """What :func:`copy_installation` did."""

    files_copied: int = 0
    bytes_copied: int = 0
    files_present: int = 0
    missing: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _without_maintenance(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    return (row for row in rows if row.get("name") != MAINTENANCE_FLAG)


def copy_installation(
    source: MetadataBackend,
    source_files: FileStore,
    destination: MetadataBackend,
    destination_files: FileStore,
    *,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every row and every file a row names from the source to the (empty) destination."""
    say = progress or (lambda message: None)
    for name, backend in (("source", source), ("destination", destination)):
        version = backend.schema_version()
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"the {name} database has schema version {version}, this photoservice "
                f"{SCHEMA_VERSION}: run `photoservice migrate` on it first"
            )
    with destination.transaction() as tx:
        for table in COPIED_TABLES:
            with closing(tx.export_rows(table)) as rows:
                empty = next(rows, None) is None
            if not empty:
                raise DestinationNotEmpty(f"the destination database is not empty (table {table} has rows)")
    report = CopyReport()
    with source.transaction() as src:
        keys = sorted(src.file_keys())
        say(f"{len(keys)} files to copy")
        for number, key in enumerate(keys, start=1):
            _copy_file(key, source_files, destination_files, report)
            if number % 500 == 0:
                say(f"{number}/{len(keys)} files")
        with destination.transaction(write=True) as dst:
            for table in COPIED_TABLES:
                rows = src.export_rows(table)
                report.rows[table] = dst.import_rows(table, _without_maintenance(rows) if table == "flags" else rows)
                say(f"{table}: {report.rows[table]} rows")
    return report


def _copy_file(key: str, source: FileStore, destination: FileStore, report: CopyReport) -> None:
    try:
        stored = source.stat(key)
    except FileNotFoundError:
        report.missing.append(key)
        return
    try:
        if destination.stat(key).size == stored.size:
            report.files_present += 1
            return
    except FileNotFoundError:
        pass
    with source.open(key) as reader:
        destination.put(key, reader, stored.size)
    report.files_copied += 1
    report.bytes_copied += stored.size
