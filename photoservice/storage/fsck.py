"""Consistency between the catalog and the file store: what a crash can leave behind, and what must not be.

A crash between writing an upload's files and recording its rows leaves files no row names (orphans) and,
mid-write, unfinished writes (temporary files, incomplete multipart uploads). Both are reported, and removed
on request, only once they are older than a grace period: a file written a moment ago may belong to an
upload that is about to record its rows. Files are listed before the rows are read, so a file whose row was
committed meanwhile is never taken for an orphan. A row naming a missing file is reported (never "repaired").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .catalog import Catalog
from .files import FileStore

__all__ = ["FsckReport", "fsck", "DEFAULT_GRACE"]

#: Files younger than this (seconds) are left alone: an upload may still record them.
DEFAULT_GRACE = 3600.0


@dataclass
class FsckReport:
    """What :func:`fsck` found; ``removed`` says whether orphans and unfinished writes were removed."""

    orphans: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    young: int = 0
    removed: bool = False

    @property
    def clean(self) -> bool:
        """Whether nothing was found."""
        return not (self.orphans or self.incomplete or self.missing)


def fsck(
    catalog: Catalog, files: FileStore, *, now: float, grace: float = DEFAULT_GRACE, remove: bool = False
) -> FsckReport:
    """Compare the file store with the catalog; remove old orphans and unfinished writes when ``remove``."""
    report = FsckReport(removed=remove)
    cutoff = now - grace
    stored = list(files.list_files())
    known = catalog.file_keys()  # read after listing: a file committed meanwhile is in here
    for item in stored:
        if item.key in known:
            continue
        if item.modified >= cutoff:
            report.young += 1
            continue
        report.orphans.append(item.key)
        if remove:
            files.delete(item.key)
    report.incomplete = files.sweep_incomplete(cutoff, remove)
    present = {item.key for item in stored}
    report.missing = sorted(k for k in known if k not in present and not _exists(files, k))
    return report


def _exists(files: FileStore, key: str) -> bool:
    try:
        files.stat(key)
    except FileNotFoundError:
        return False
    return True
