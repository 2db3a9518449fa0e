"""The filesystem edge of reading: which dump files the config names, and, of those, the
ones whose bytes changed since the last pass, read and handed to their readers."""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import logging
import os
import re
import shlex
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from feeds.errors import DumpError, SlowDumpError
from feeds.ingest import READERS, Readers, failure, read_dump
from feeds.ingest.repeats import Edges, site_edges
from feeds.models import DumpRecord, ParsedDump
from feeds.store import Store

if TYPE_CHECKING:
    from feeds.config import Config

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


class Tally(Protocol):
    """What reading adds to a pass's report (feeds.report.Report)."""

    dumps_read: int
    dumps_unchanged: int
    posts_found: int
    waiting: int
    skipped: list[str]
    failed: list[str]


def discover(patterns: Iterable[str], report: Tally | None = None, *, follow_links: bool = False) -> list[str]:
    """The dump files the config names (paths or globs), sorted, each once.

    A path that names no file, or a glob that matches none, is reported: a pass that
    reads nothing because of a typo must not look like a pass with nothing new. So is
    what a path names or a glob matches but cannot be read as a dump: a symbolic link to
    nothing, a pipe or a device (reading one could wait for ever), a file whose name is
    not UTF-8 (the store keeps names as text), and a folder a path names (a glob's
    folders are passed over: `seeds/*` may match some). And, unless `follow_links`, a file
    that a symbolic link leads to out of the folders the patterns name (`seeds/x.txt ->
    /etc/passwd`): see `_folders`.
    """
    patterns = list(patterns)
    found: set[str] = set()
    said: set[str] = set()
    folders = None if follow_links else _folders(patterns)

    def skip(problem: str) -> None:
        if problem in said:  # (two entries may match one path: it is named once)
            return
        said.add(problem)
        log.debug("%s", problem)  # the report names it: the CLI prints every skipped item
        if report is not None:
            report.skipped.append(problem)

    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        magic = glob.has_magic(expanded)
        named = glob.glob(expanded, recursive=True) if magic else [expanded] if os.path.lexists(expanded) else []
        if not named:
            skip(f"{pattern}: no file matches this path (input.paths)")
        for path in named:
            problem = _not_a_dump(path)
            if problem is None and folders is not None and not _within(path, folders):
                problem = (f"leads through a symbolic link to {printable_path(os.path.realpath(path))}, outside "
                           "the folders input.paths names; not read (set [input] follow_links = true to read it)")
            if problem is None:
                found.add(os.path.normpath(path))
            elif not (magic and os.path.isdir(path)):
                skip(f"{printable_path(path)}: {problem}")
    return sorted(found)


def _folders(patterns: Sequence[str]) -> list[str]:
    """The folders input.paths names, real paths (links resolved): the fixed part of each glob,
    before its first wildcard, or the folder of a plain path. Links are followed within them."""
    folders = []
    for pattern in patterns:
        parts = Path(os.path.expanduser(pattern)).parts
        if glob.has_magic(pattern):
            fixed = []
            for part in parts[:-1]:
                if not re.fullmatch(r"(?:[^*?\[]|\[[*?\[]\])*", part):  # (glob.escape writes '[' as '[[]')
                    break
                fixed.append(re.sub(r"\[([*?\[])\]", r"\1", part))
            folder = os.path.join(*fixed) if fixed else "."
        else:
            folder = os.path.dirname(pattern) or "."
        folders.append(os.path.realpath(os.path.expanduser(folder)))
    return folders


def _within(path: str, folders: Sequence[str]) -> bool:
    """Is the real path of `path` (its links followed) in one of these folders?"""
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(folder) for folder in folders)


def printable_path(path: str) -> str:
    """A path as text that prints and stores anywhere: bytes of a name that are not UTF-8
    (decoded as lone surrogates) shown as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _not_a_dump(path: str) -> str | None:
    """Why the path cannot be read as a dump, or None when it can."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8; rename it (e.g. with convmv) and it is read on the next pass"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "a symbolic link to a file that does not exist; mend or remove the link"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return f"a folder, not a file; name the files in it in input.paths (e.g. {os.path.join(path, '*.txt')})"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a pipe, socket or device); feeds reads dumps from files only"
    return None


def read_changed(paths: Sequence[str], store: Store, config: Config, now: datetime, report: Tally,
                 progress: Progress | None = None, *, fingerprint: str,
                 readers: Readers = READERS) -> Iterator[ParsedDump]:
    """Read, one at a time, the dumps whose bytes changed since the last pass, with `readers`.

    A dump already read is read again when how dumps are read changed (`fingerprint`: the
    code, the marker, the chrome lines): its posts may come out differently. All are marked
    at once, with the new way: a pass stopped half-way leaves the others to the next pass,
    which does not read again what was read (and stored) the new way. (Nor does the pass
    after a stopped first pass: it goes on with the batches one pass would have stored next.)
    """
    if store.meta("parse_fingerprint") != fingerprint:
        with store.transaction():
            store.mark_dumps_unread()
            store.set_meta("parse_fingerprint", fingerprint)
    known = store.dumps()
    sites = Sites(paths, readers, config.input.max_bytes)
    for n, path in enumerate(paths, 1):
        if progress:
            progress(n, len(paths), path)
        changed = _changed(path, known.get(path), store, config, now, report)
        parsed = changed and _parse(changed, store, config, now, report, readers, sites.of(path))
        if parsed:
            report.dumps_read += 1
            report.posts_found += len(parsed.posts)
            yield parsed


@dataclasses.dataclass(frozen=True)
class _Changed:
    """A dump's bytes, read whole, and their record."""

    data: bytes
    record: DumpRecord
    written: float  # its modification time, in seconds since the epoch


def _changed(path: str, old: DumpRecord | None, store: Store, config: Config, now: datetime,
             report: Tally) -> _Changed | None:
    """The dump's bytes when they changed since `old`, and can be read whole; else None,
    with what happened said in the report (and the state, for a dump too big to read)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        report.skipped.append(f"{path}: cannot be read: {exc.strerror}")
        return None
    if old and old.sha256 and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
        _unchanged(old, report)
        return None
    big = too_big(st.st_size, config)
    if big:  # named, not read (nor hashed): recorded without a hash, it is looked at again next time
        report.skipped.append(f"{path}: {big}")
        store.record_dump(DumpRecord(path, st.st_size, st.st_mtime_ns, "", "skipped", 0, big), now)
        return None
    try:
        data = read_bytes(path, config.input.max_bytes)  # (one that grew since: "being written", below)
        after = os.stat(path)
    except OSError as exc:
        report.skipped.append(f"{path}: cannot be read: {exc.strerror}")
        return None
    if len(data) != st.st_size or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
        log.info("%s is being written (it changed while it was read); left for the next pass", path)
        report.waiting += 1
        return None
    sha = hashlib.sha256(data).hexdigest()
    if old and old.sha256 == sha:
        store.touch_dump(path, st.st_mtime_ns)
        _unchanged(old, report)
        return None
    return _Changed(data, DumpRecord(path, st.st_size, st.st_mtime_ns, sha, "ok", 0, None), st.st_mtime)


class Sites:
    """The pages of the site in a pass, grouped by the reader that reads them: what every page
    of a group repeats is read (once) when a reader first asks (feeds.ingest.repeats)."""

    def __init__(self, paths: Sequence[str], readers: Readers, limit: int):
        self.paths, self.readers, self.limit = paths, readers, limit
        self.groups: dict[object, Pages] = {}

    def of(self, path: str) -> Pages:
        reader = self.readers.reader_for(path)
        if reader not in self.groups:
            same = [p for p in self.paths if self.readers.reader_for(p) is reader]
            self.groups[reader] = Pages(same, self.limit)
        return self.groups[reader]


class Pages:
    """One reader's pages of a pass (feeds.ingest.reader.SitePages)."""

    def __init__(self, paths: Sequence[str], limit: int):
        self.paths, self.limit = paths, limit
        self.found: Edges | None = None

    def edges(self, lines_of: Callable[[bytes], Sequence[str] | None]) -> Edges:
        if self.found is None:
            self.found = site_edges(lines_of(data) for data in self._each())
        return self.found

    def _each(self) -> Iterator[bytes]:
        """Each page's bytes; one that cannot be read (or is too big) is left out."""
        for path in self.paths:
            try:
                if os.stat(path).st_size <= self.limit:
                    yield read_bytes(path, self.limit)
            except OSError:
                continue


def _parse(changed: _Changed, store: Store, config: Config, now: datetime, report: Tally,
           readers: Readers, site: Pages | None = None) -> ParsedDump | None:
    """The dump read; None when it cannot be (skipped) or trips a bug (quarantined)."""
    record = changed.record
    try:
        return read_dump(record.path, changed.data, datetime.fromtimestamp(changed.written, now.tzinfo), config,
                         now, record, readers=readers, site=site)
    except SlowDumpError as exc:  # as for a bug: the readers should not take so long
        log.info("%s", exc)
        _quarantine(record, exc.reason, report, store, now, with_traceback=False)
    except DumpError as exc:
        log.debug("skipped %s", exc)  # the report names it: the CLI prints every skipped item
        report.skipped.append(str(exc))
        store.record_dump(dataclasses.replace(record, status="skipped", error=exc.reason), now)
    except Exception as exc:  # a bug this dump trips: it is quarantined, and the pass goes on
        log.info("reading %s failed with a bug in feeds:", record.path, exc_info=True)  # (-v: the traceback)
        _quarantine(record, failure(exc), report, store, now)
    return None


def read_bytes(path: str, limit: int) -> bytes:
    """A dump's bytes, `limit` + 1 of them at most (more than `limit`: it is too big, or growing)."""
    with open(path, "rb") as f:
        return f.read(limit + 1)


def read_whole(path: str, config: Config, now: datetime) -> tuple[bytes, datetime]:
    """A dump's bytes and when it was written, in `now`'s zone, for a command that reads it
    whatever the state says (inspect). Raises OSError, and DumpError when it is too big."""
    st = os.stat(path)
    big = too_big(st.st_size, config)
    if big:
        raise DumpError(path, big)
    return read_bytes(path, config.input.max_bytes), datetime.fromtimestamp(st.st_mtime, now.tzinfo)


def too_big(size: int, config: Config) -> str | None:
    """Why a dump of `size` bytes is not read, or None when it may be."""
    if size <= config.input.max_bytes:
        return None
    return (f"{size:,} bytes, more than input.max_bytes ({config.input.max_bytes:,}): not read; raise max_bytes "
            "to read it")


def _quarantine(record: DumpRecord, reason: str, report: Tally, store: Store, now: datetime, *,
                with_traceback: bool = True) -> None:
    """Record a dump a bug in feeds kept out (status 'failed'), and name it: until its bytes or
    feeds' readers change, later passes name it again without reading it."""
    evidence = (f"with the traceback that -v or `python -m feeds inspect {shlex.quote(record.path)}` shows"
                if with_traceback else "with the dump if you can")
    report.failed.append(f"{record.path}: {reason}. A bug in feeds: please report it, {evidence}. Left out until "
                         "the file or feeds changes")
    store.record_dump(dataclasses.replace(record, status="failed", error=reason), now)


def _unchanged(old: DumpRecord, report: Tally) -> None:
    report.dumps_unchanged += 1
    if old.status == "skipped":
        report.skipped.append(f"{old.path}: {old.error} (unchanged since it was skipped)")
    elif old.status == "failed":
        report.failed.append(f"{old.path}: {old.error}. Still left out (unchanged since it failed) until the file "
                             f"or feeds changes; please report it (`python -m feeds inspect {shlex.quote(old.path)}` "
                             "shows what goes wrong)")
