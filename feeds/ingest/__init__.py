"""Reading dumps: a dump's bytes → its posts, finished. The only place bs4 and nh3 live.

Each dump format has a reader (feeds.ingest.reader says what one is), registered in
`READERS` by the file-name suffixes it reads; a file no suffix names is read as text. A
new format is one reader module plus one entry below. The pass is handed the registry
(`run_once(..., readers=...)`, `read_dump(..., readers=...)`), so a program or a test can
read with another (`READERS.adding(read_csv, ".csv")`) without changing this one: nothing
here is global state that a registration would mutate. `.files` is the filesystem edge:
which dumps there are and which changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import traceback
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from feeds.ingest import html, text
from feeds.ingest.budget import Deadline
from feeds.ingest.reader import Reader, Settings, SitePages, Source
from feeds.models import DumpRecord, ParsedDump
from feeds.normalise import identity

if TYPE_CHECKING:
    from feeds.config import Config

log = logging.getLogger(__name__)

#: What one dump may cost (besides input.max_bytes, its size, and feeds.ingest.html.page.MAX_DEPTH,
#: how deep its elements nest): the posts read from it (a listing shows its newest first; the
#: rest are left out, with a warning), and the seconds it may take to read (then it is
#: quarantined as too slow, like a dump that trips a bug: the readers check the deadline as
#: they go, so it stops within moments of it).
MAX_POSTS = 1000
DUMP_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class Readers:
    """The readers of a pass: by the suffix of the file names they read (matched without
    regard to case; the longest that matches wins), `other` for any other file; and what
    one dump may cost."""

    by_suffix: Mapping[str, Reader]
    other: Reader
    max_posts: int = MAX_POSTS
    seconds: float = DUMP_SECONDS

    def reader_for(self, path: str) -> Reader:
        name = path.lower()
        for suffix in sorted(self.by_suffix, key=len, reverse=True):
            if name.endswith(suffix):
                return self.by_suffix[suffix]
        return self.other

    def adding(self, reader: Reader, *suffixes: str) -> Readers:
        """These readers, and `reader` for files whose names end in `suffixes` (".csv")."""
        table = {**self.by_suffix, **{suffix.lower(): reader for suffix in suffixes}}
        return dataclasses.replace(self, by_suffix=MappingProxyType(table))


READERS = Readers(MappingProxyType(dict.fromkeys(html.SUFFIXES, html.read)), other=text.read)


def read_dump(path: str, data: bytes, mtime: datetime, config: Config, now: datetime,
              record: DumpRecord | None = None, deadline: Deadline | None = None, *,
              readers: Readers = READERS, site: SitePages | None = None) -> ParsedDump:
    """One dump's bytes → its posts (readers.max_posts at most), read by the reader its name
    calls for. Raises DumpError, and SlowDumpError when `deadline` (by default, readers.seconds
    from now) passes before it is done. `site`: the other pages of the site, read with it."""
    latest = min(mtime, now)
    source = Source(path, data, latest, deadline or Deadline(path, readers.seconds), readers.max_posts, site)
    found = readers.reader_for(path)(source, Settings.of(config))
    for level, message in found.said:
        log.log(level, "%s", message)
    record = record or DumpRecord(path, len(data), 0, hashlib.sha256(data).hexdigest(), "ok", 0, None)
    return ParsedDump(path, dataclasses.replace(record, posts=len(found.posts)), found.posts,
                      tuple(identity(p.title) for p in found.posts), latest)


def failure(exc: BaseException) -> str:
    """An unexpected exception as one line, to store and show: its type, its message, and
    where in feeds it was raised."""
    message = " ".join(str(exc).split())
    message = message if len(message) <= 300 else message[:299] + "…"
    where = ""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # (feeds/, above ingest/)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(package + os.sep):
            where = f" (in feeds/{os.path.relpath(frame.filename, package)}, line {frame.lineno}, {frame.name})"
            break
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"
