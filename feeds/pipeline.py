"""One pass: read new or changed dumps → find posts → date them → store → publish.

``run_once(config, store, now)`` names the stages; each stage is a function below.
The clock comes in as ``now``.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import glob
import hashlib
import importlib.util
import json
import logging
import os
import re
import shlex
import stat
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds import __version__, dates, mail
from feeds.budget import Deadline
from feeds.clean import clean_html
from feeds.config import DEFAULT_FILE, Config
from feeds.digest import stage as digest_room
from feeds.digest.render import Renderer
from feeds.dumps.html import ISO_TIME, block_texts, read_html
from feeds.dumps.text import read_text
from feeds.errors import ConfigError, DumpError, SlowDumpError
from feeds.models import DATE_SOURCE_RANK, Block, DumpRecord, Entry, ParsedDump, Post, StoredEntry
from feeds.normalise import body_text, identity, mint_id, slugify, summarise, unique_slug
from feeds.publish import (
    FEED_FILES,
    STYLESHEET,
    Publisher,
    sample_entries,
    template_file,
    template_folders,
    templates_digest,
    write_if_changed,
)
from feeds.segment import segment
from feeds.store import MAX_CATEGORIES, Store, iso

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclasses.dataclass
class Report:
    """What a pass did, for the summary line and the exit status."""

    dumps_read: int = 0
    dumps_unchanged: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)  # "path: reason"
    failed: list[str] = dataclasses.field(default_factory=list)  # "path: reason": dumps a bug kept out (quarantined)
    posts_found: int = 0
    new: int = 0
    updated: int = 0
    files_written: list[str] = dataclasses.field(default_factory=list)
    entries_total: int = 0
    waiting: int = 0  # dumps that changed while being read, left for the next pass
    stopped: bool = False  # asked to stop (SIGTERM, Ctrl-C): what was read but not stored is read again next time
    digest: str = ""  # what the digest stage did, if anything
    problems: list[str] = dataclasses.field(default_factory=list)  # deliveries that did not go through
    named: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # failed/unknown deliveries among
    # the problems: once said, Store.set_named(named), so that the next pass does not say them again
    look: str = ""  # where to look at what a pass wrote: said when it wrote files

    @staticmethod
    def where(config: Config) -> str:
        """The output's index page, and the command that serves it (with the config's file, if named)."""
        named = "" if config.source in ("defaults", DEFAULT_FILE) else f" -c {shlex.quote(config.source)}"
        return f"{config.output.dir / 'index.html'} (or: python -m feeds{named} serve)"

    @property
    def nothing_new(self) -> bool:
        return not (self.new or self.updated or self.files_written)

    def summary(self) -> str:
        if self.stopped:
            digest = f"; {self.digest}" if self.digest else ""
            return (f"stopped at a safe point as asked: {self.dumps_read} dump(s) read{digest}; what was not "
                    "stored, published or mailed is left for the next pass")
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        skipped += f", {len(self.failed)} quarantined" if self.failed else ""
        skipped += f", {self.waiting} still being written" if self.waiting else ""
        head = (f"{self.dumps_read} dump(s) read, {self.dumps_unchanged} unchanged{skipped}; "
                f"{self.posts_found} post(s) found")
        digest = f"; {self.digest}" if self.digest else ""
        if self.nothing_new:
            return f"{head}; nothing new ({self.entries_total} entries stored){digest}"
        look = f"; see {self.look}" if self.look and self.files_written else ""
        return (f"{head}; {self.new} new, {self.updated} updated entries "
                f"({self.entries_total} stored); {len(self.files_written)} file(s) written{digest}{look}")


#: Dumps are stored in batches of about this many bytes, one transaction each, and only one
#: batch is held in memory (a batch is dated with the stored pages it shares posts with).
BATCH_BYTES = 16 * 1024 * 1024
#: Stored entries linked to a batch are read this many at a time when dating it.
CHUNK = 500
#: A batch is dated with the stored pages linked to it, a step of links at a time, until
#: they show this many stored posts besides the batch's own. A site dumped week after week
#: links every page it ever had; the dates of posts further away are settled: they stay as
#: stored, and bound the dates of the posts above them.
LINK_LIMIT = 400
#: A page is compared with this many pages written before it, to find posts pinned to its top.
PINNED_COMPARED = 3


# -- stage 1: which dumps -----------------------------------------------------------------

def discover(patterns: Iterable[str], report: Report | None = None, *, follow_links: bool = False) -> list[str]:
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


def read_changed(paths: Sequence[str], store: Store, config: Config, now: datetime,
                 report: Report, progress: Progress | None = None) -> Iterator[ParsedDump]:
    """Read and segment, one at a time, the dumps whose bytes changed since the last pass."""
    # A dump already read is read again when how dumps are read changed (the code, the
    # marker, the chrome lines): its posts may come out differently. All are marked at once,
    # with the new way: a pass stopped half-way leaves the others to the next pass, which
    # does not read again what was read (and stored) the new way. (Nor does the pass after
    # a stopped first pass: it goes on with the batches one pass would have stored next.)
    fp = parse_fingerprint(config)
    if store.meta("parse_fingerprint") != fp:
        with store.transaction():
            store.mark_dumps_unread()
            store.set_meta("parse_fingerprint", fp)
    known = store.dumps()
    for n, path in enumerate(paths, 1):
        if progress:
            progress(n, len(paths), path)
        try:
            st = os.stat(path)
        except OSError as exc:
            report.skipped.append(f"{path}: cannot be read: {exc.strerror}")
            continue
        old = known.get(path)
        if old and old.sha256 and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            _unchanged(old, report)
            continue
        big = too_big(st.st_size, config)
        if big:  # named, not read (nor hashed): recorded without a hash, it is looked at again next time
            report.skipped.append(f"{path}: {big}")
            store.record_dump(DumpRecord(path, st.st_size, st.st_mtime_ns, "", "skipped", 0, big), now)
            continue
        try:
            data = read_dump(path, config.input.max_bytes)  # (one that grew since: "being written", below)
            after = os.stat(path)
        except OSError as exc:
            report.skipped.append(f"{path}: cannot be read: {exc.strerror}")
            continue
        if len(data) != st.st_size or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            log.info("%s is being written (it changed while it was read); left for the next pass", path)
            report.waiting += 1
            continue
        sha = hashlib.sha256(data).hexdigest()
        if old and old.sha256 == sha:
            store.touch_dump(path, st.st_mtime_ns)
            _unchanged(old, report)
            continue
        record = DumpRecord(path, st.st_size, st.st_mtime_ns, sha, "ok", 0, None)
        try:
            parsed = parse_dump(path, data, datetime.fromtimestamp(st.st_mtime, now.tzinfo), config, now, record,
                                deadline=Deadline(path, DUMP_SECONDS))
        except SlowDumpError as exc:  # as for a bug: the readers should not take so long
            log.info("%s", exc)
            _quarantine(record, exc.reason, report, store, now, with_traceback=False)
            continue
        except DumpError as exc:
            log.debug("skipped %s", exc)  # the report names it: the CLI prints every skipped item
            report.skipped.append(str(exc))
            store.record_dump(dataclasses.replace(record, status="skipped", error=exc.reason), now)
            continue
        except Exception as exc:  # a bug this dump trips: it is quarantined, and the pass goes on
            log.info("reading %s failed with a bug in feeds:", path, exc_info=True)  # (-v: the traceback)
            _quarantine(record, failure(exc), report, store, now)
            continue
        report.dumps_read += 1
        report.posts_found += len(parsed.posts)
        yield parsed


def read_dump(path: str, limit: int) -> bytes:
    """A dump's bytes, `limit` + 1 of them at most (more than `limit`: it is too big, or growing)."""
    with open(path, "rb") as f:
        return f.read(limit + 1)


def too_big(size: int, config: Config) -> str | None:
    """Why a dump of `size` bytes is not read, or None when it may be."""
    if size <= config.input.max_bytes:
        return None
    return (f"{size:,} bytes, more than input.max_bytes ({config.input.max_bytes:,}): not read; raise max_bytes "
            "to read it")


def _quarantine(record: DumpRecord, reason: str, report: Report, store: Store, now: datetime, *,
                with_traceback: bool = True) -> None:
    """Record a dump a bug in feeds kept out (status 'failed'), and name it: until its bytes or
    feeds' readers change, later passes name it again without reading it."""
    evidence = (f"with the traceback that -v or `python -m feeds inspect {shlex.quote(record.path)}` shows"
                if with_traceback else "with the dump if you can")
    report.failed.append(f"{record.path}: {reason}. A bug in feeds: please report it, {evidence}. Left out until "
                         "the file or feeds changes")
    store.record_dump(dataclasses.replace(record, status="failed", error=reason), now)


HTML_SUFFIXES = (".html", ".htm", ".xhtml")
#: What one dump may cost (besides input.max_bytes, its size, and feeds.dumps.html.MAX_DEPTH,
#: how deep its elements nest): the posts read from it (a listing shows its newest first; the
#: rest are left out, with a warning), and the seconds it may take to read (then it is
#: quarantined as too slow, like a dump that trips a bug: the readers check the deadline as
#: they go, so it stops within moments of it).
MAX_POSTS = 1000
DUMP_SECONDS = 30.0


def parse_dump(path: str, data: bytes, mtime: datetime, config: Config, now: datetime,
               record: DumpRecord | None = None, deadline: Deadline | None = None) -> ParsedDump:
    """One dump's bytes → its posts (MAX_POSTS at most) and the dates they mention. Raises
    DumpError, and SlowDumpError when `deadline` passes before it is done."""
    latest = min(mtime, now)
    deadline = deadline or Deadline.never()
    if path.lower().endswith(HTML_SUFFIXES):
        try:
            posts: tuple[Post, ...] = html_posts(path, data, config, latest, deadline)
        except (ValueError, RecursionError) as exc:  # markup or URLs no parser can make sense of
            raise DumpError(path, f"cannot be read as an HTML page ({type(exc).__name__}: {exc})") from None
    else:
        dump = read_text(path, data=data, encoding=config.input.encoding, language=config.site.language)
        deadline.check()
        seg = segment(path, dump.blocks, config.input.marker, config.input.chrome, check=deadline.check)
        if not seg.posts:
            raise DumpError(path, "no posts found (no title followed by text, and no "
                                  f"'{config.input.marker} <title>' lines)")
        if len(seg.posts) > MAX_POSTS:
            log.warning("%s: %d posts, more than the %d a dump may give: the first %d are read, the rest left out",
                        path, len(seg.posts), MAX_POSTS, MAX_POSTS)
            seg = dataclasses.replace(seg, posts=seg.posts[:MAX_POSTS])
        for w in dump.warnings:
            log.warning("%s", w)
        for note in seg.notes:
            log.info("%s: %s", path, note)
        if seg.chrome:
            log.debug("%s: left out as site chrome: lines %s", path, ", ".join(str(b.line) for b in seg.chrome))
        posts = seg.posts
    record = record or DumpRecord(path, len(data), 0, hashlib.sha256(data).hexdigest(), "ok", 0, None)
    return ParsedDump(path, dataclasses.replace(record, posts=len(posts)), posts,
                   tuple(identity(p.title) for p in posts), latest)


def html_posts(path: str, data: bytes, config: Config, latest: datetime,
               deadline: Deadline | None = None) -> tuple[Post, ...]:
    """The posts of a saved HTML page, their bodies cleaned and their dates read."""
    deadline = deadline or Deadline.never()
    page = read_html(path, data, config.site.url or None, latest, encoding=config.input.encoding,
                     language=config.site.language, deadline=deadline, max_posts=MAX_POSTS)
    for w in page.warnings:
        log.warning("%s", w)
    tz = config.site.tz
    posts = []
    for i, hp in enumerate(page.posts):
        deadline.check()
        texts = block_texts(hp.body_element)
        posts.append(Post(
            dump=path, title=hp.title, start_line=hp.line, end_line=hp.line, truncated=hp.truncated,
            body=tuple(Block(hp.line, t) for t in texts), position=i, url=hp.url,
            published=explicit_time(hp.published, tz, latest, i), author=hp.author, categories=hp.categories,
            html=clean_html(hp.body, page.base, deadline)))
    return tuple(posts)


def explicit_time(value: str | None, tz: ZoneInfo, latest: datetime, rank: int) -> datetime | None:
    """A date an HTML page gives, as an aware time: a time without a zone is in the site's;
    a date alone is at noon (minus the post's rank in minutes, to keep the page's order),
    never after the dump was written."""
    match = ISO_TIME.match(value or "")
    if not match:
        return None
    try:
        if not match["time"]:
            day = datetime.fromisoformat(match["date"]).date()
            return min(datetime.combine(day, dt_time(12), tzinfo=tz) - timedelta(minutes=rank), latest)
        zone = (match["zone"] or "").replace("Z", "+00:00")
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{zone}")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def failure(exc: BaseException) -> str:
    """An unexpected exception as one line, to store and show: its type, its message, and
    where in feeds it was raised."""
    message = " ".join(str(exc).split())
    message = message if len(message) <= 300 else message[:299] + "…"
    where = ""
    package = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(package + os.sep):
            where = f" (in feeds/{os.path.relpath(frame.filename, package)}, line {frame.lineno}, {frame.name})"
            break
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"


def _unchanged(old: DumpRecord, report: Report) -> None:
    report.dumps_unchanged += 1
    if old.status == "skipped":
        report.skipped.append(f"{old.path}: {old.error} (unchanged since it was skipped)")
    elif old.status == "failed":
        report.failed.append(f"{old.path}: {old.error}. Still left out (unchanged since it failed) until the file "
                             f"or feeds changes; please report it (`python -m feeds inspect {shlex.quote(old.path)}` "
                             "shows what goes wrong)")


# -- stage 2: dates -----------------------------------------------------------------------

def infer_dates(parsed: Sequence[ParsedDump], store: Store, config: Config,
                now: datetime) -> dict[str, tuple[datetime, str]]:
    """A publication time and its source for every post of this pass, and for the stored
    posts linked to them.

    The pages of the pass are dated together with the stored pages they are linked to by
    shared posts (as earlier passes read them), up to LINK_LIMIT stored posts: the dates
    then do not depend on which dumps came in which pass or batch, and a page read later
    corrects the inferred dates of posts stored before it (store_dump and redate_stored
    apply that). Beyond the limit, dates are settled: the posts at the edge keep their
    stored dates, which bound their neighbours, so a pass's work does not grow with years
    of linked history. Pages that share posts are merged into one newest-first order.
    Explicit dates (HTML dumps) are kept and bound their neighbours. A post's date
    mentions are read from its fullest copy (whole before cut, then the longer text). No
    post is dated after the earliest dump that shows it was written.
    """
    tz = config.site.tz
    pages, written, settled = _linked_pages(parsed, store, now)
    keys = {k for page in pages.values() for k in page}
    copies: dict[str, list[Post]] = {}  # the pass's copies of each post
    explicit: dict[str, datetime] = {}
    for d in parsed:
        for p, k in zip(d.posts, d.keys, strict=True):
            copies.setdefault(k, []).append(p)
            if p.published is not None:
                explicit.setdefault(k, p.published)
    # The stored posts a CHUNK at a time: a long history linked to this pass is not held in memory.
    stored: dict[str, tuple[datetime, str]] = {}  # key -> (published, date_source)
    fixed: dict[str, datetime] = {}  # dates that stay: explicit ones, and the settled posts'
    mentions: dict[str, Sequence[dates.Mention]] = {}
    every = sorted(keys)
    for i in range(0, len(every), CHUNK):
        chunk = every[i:i + CHUNK]
        entries = store.get_many(chunk)
        fullest = {}
        for k in chunk:  # (texts made here, a chunk at a time, and not kept)
            e = entries[k].entry if k in entries else None
            if e is not None:
                stored[k] = (e.published, e.date_source)
                if k in settled:  # its date stays (a time first seen bounds nothing); no mentions needed
                    if e.date_source != "first-seen":
                        fixed[k] = e.published
                    continue
                if e.date_source == "explicit":  # a stored explicit date stays
                    explicit[k] = e.published
            options = [(not p.truncated, len(t), t, p.title) for p in copies.get(k, ()) for t in [body_text(p.body)]]
            if e is not None:
                options.append((not e.truncated, len(e.text), e.text, e.title))
            if options:
                fullest[k] = max(options)
        mentions.update(zip(fullest, dates.posts_mentions([[c[3], c[2]] for c in fullest.values()]), strict=True))
    fixed.update(explicit)
    latest_of: dict[str, datetime] = {}  # a post existed when the first dump showing it was written
    for path, page in pages.items():
        for k in page:
            latest_of[k] = min(latest_of.get(k, written[path]), written[path])
    # In path order, as one pass reads them. A post pinned to the top of the listing says
    # nothing about the order of the others: it is dated on its own.
    pinned = _pinned(pages, written)
    ordered = [[k for k in pages[path] if k not in pinned] for path in sorted(pages)]
    ordered += [[k] for k in sorted(pinned)]
    out: dict[str, tuple[datetime, str]] = {}
    for group in _linked(ordered):
        order = dates.merge_orders(group)
        known = [fixed[k].astimezone(tz).date() if k in fixed else None for k in order]
        latest = [latest_of[k] for k in order]
        days = dates.infer([mentions.get(k, ()) for k in order], [t.astimezone(tz).date() for t in latest], known)
        times = dates.at_page_time(days, tz, latest, [fixed.get(k) for k in order])
        for rank, (k, t) in enumerate(zip(order, times, strict=True)):
            if k in settled and k in stored:
                out[k] = stored[k]
            elif k in explicit:
                out[k] = (explicit[k], "explicit")
            elif t is not None:
                out[k] = (t, "inferred")
            elif k in stored:  # nothing to go on, and a date stored already: it stays
                out[k] = stored[k]
            else:  # nothing to go on: when it was first seen (its dump written), in page order
                out[k] = (latest_of[k] - timedelta(seconds=rank), "first-seen")
    return out


def _linked_pages(parsed: Sequence[ParsedDump], store: Store, now: datetime
                  ) -> tuple[dict[str, Sequence[str]], dict[str, datetime], set[str]]:
    """The pass's pages and the stored pages linked to them by shared posts, a step of links
    at a time until LINK_LIMIT stored posts (path -> post keys, topmost first); when each was
    written (not after now); and the settled posts: stored posts of the pages taken that
    pages not taken may also show (their dates stay as stored).

    Within a step, the pages written last are taken first: a post shown on every page (one
    pinned to the top of the listing) links every dump of that page in one step.
    """
    pages: dict[str, Sequence[str]] = {d.path: d.keys for d in parsed}
    written: dict[str, datetime] = {d.path: d.latest for d in parsed}
    own = {k for d in parsed for k in d.keys}
    keys = set(own)
    frontier = set(own)
    records: dict[str, DumpRecord] = {}

    def when(path: str) -> datetime:
        rec = records.get(path)
        return min(datetime.fromtimestamp(rec.mtime_ns / 1e9, now.tzinfo), now) if rec else now

    step = 0
    while frontier:  # one step of links at a time
        if step and len(keys) - len(own) >= LINK_LIMIT:
            return pages, written, frontier  # their other pages are not read
        step += 1
        found = store.pages(store.pages_showing(frontier) - pages.keys())
        if found and not records:
            records = store.dumps()
        frontier = set()
        left = dict(found)
        for path in sorted(found, key=lambda p: (when(p), p), reverse=True):
            if frontier and len(keys) + len(frontier) - len(own) >= LINK_LIMIT:  # (frontier: not in keys)
                break
            pages[path], written[path] = left.pop(path), when(path)
            frontier.update(k for k in pages[path] if k not in keys)
        keys |= frontier
        if left:  # the limit came within this step
            beyond = {k for page in left.values() for k in page}
            return pages, written, (frontier | (keys & beyond)) - own
    return pages, written, set()


def _pinned(pages: dict[str, Sequence[str]], written: dict[str, datetime]) -> set[str]:
    """Posts pinned to the top of a listing ("sticky" posts): a later dump of a page shows a
    post the earlier one did not, below them and above a post both show. On a listing in
    time order new posts come in at the top only, so the posts above such a newcomer stayed
    where they were. Each page is compared with the last pages written before it that
    share a post with it (the dumps of one page follow each other)."""
    shows: dict[str, list[str]] = {}
    for path, keys in pages.items():
        for k in keys:
            shows.setdefault(k, []).append(path)
    pinned: set[str] = set()
    for path, keys in pages.items():
        earlier = {other for k in keys for other in shows[k] if written[other] < written[path]}
        for other in sorted(earlier, key=lambda o: (written[o], o), reverse=True)[:PINNED_COMPARED]:
            before = set(pages[other])
            both = [i for i, k in enumerate(keys) if k in before]
            newcomers = [i for i in range(both[0] + 1, both[-1]) if keys[i] not in before] if both else []
            if newcomers:
                pinned.update(k for k in keys[:newcomers[0]] if k in before)
    return pinned


def _linked(pages: Sequence[Sequence[str]]) -> list[list[Sequence[str]]]:
    """Pages grouped by shared keys (union-find), in their original order."""
    parent = list(range(len(pages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, keys in enumerate(pages):
        for k in keys:
            if k in owner:
                parent[find(i)] = find(owner[k])
            else:
                owner[k] = i
    groups: dict[int, list[Sequence[str]]] = {}
    for i, keys in enumerate(pages):
        groups.setdefault(find(i), []).append(keys)
    return list(groups.values())


# -- stage 3: store -----------------------------------------------------------------------

def _fuller(new_truncated: bool, new_text: str, old: StoredEntry) -> bool:
    """Does a new copy replace the stored text? A cut copy never replaces a whole one."""
    if new_text == old.entry.text:
        return False
    if old.entry.truncated and not new_truncated:
        return True
    if new_truncated and not old.entry.truncated:
        return False
    if new_truncated:  # both cut: the longer excerpt
        return len(new_text) > len(old.entry.text)
    return True  # both whole and different: the post was edited


def _new_date(published: datetime, source: str, entry: Entry) -> bool:
    """Does a date found now replace the stored one? A better source does; an inferred date
    moves when the pages it was inferred from changed; an explicit one never."""
    return (DATE_SOURCE_RANK[source] > DATE_SOURCE_RANK[entry.date_source]
            or (source == entry.date_source == "inferred" and published != entry.published))


def _redated(entry: Entry, published: datetime, source: str) -> Entry:
    """The entry with a new date. `updated` moves only when the text changes, or to stay
    no earlier than the new date."""
    return dataclasses.replace(entry, published=published, date_source=source,  # type: ignore[arg-type]
                               updated=max(entry.updated, published))


def redate_stored(when: dict[str, tuple[datetime, str]], shown: set[str], store: Store, config: Config,
                  report: Report) -> None:
    """Move the dates of stored posts that were dated with this pass's pages but that none of
    them shows (a post further down an older page), marking what moved as pending (inside
    the batch's transaction)."""
    tz = config.site.tz
    months: set[str] = set()
    others = sorted(when.keys() - shown)
    for i in range(0, len(others), CHUNK):  # a long linked history is not held in memory
        rows: list[tuple[Entry, str | None, str]] = []
        for key, old in store.get_many(others[i:i + CHUNK]).items():
            published, source = when[key]
            if not _new_date(published, source, old.entry):
                continue
            months.add(month_of(old.entry.published, tz))
            rows.append((_redated(old.entry, published, source), old.url, month_of(published, tz)))
            months.add(rows[-1][2])
        store.put(rows)
        store.add_pending("entry", [entry.key for entry, _, _ in rows])
        report.updated += len(rows)
    store.add_pending("month", months)


def store_dump(d: ParsedDump, store: Store, config: Config, now: datetime,
               when: dict[str, tuple[datetime, str]], report: Report) -> None:
    """Upsert one dump's posts, marking what changed as pending (inside the batch's transaction)."""
    changed: set[str] = set()
    months: set[str] = set()
    tz = config.site.tz
    domain = config.site.domain
    keys = d.keys
    current = store.get_many(keys)  # entries as they stand, updated as this dump goes
    rows: list[tuple[Entry, str | None, str]] = []  # stored at the end, all at once
    slugs: set[str] = set()  # given to new entries of this dump, not yet stored
    bases = {key: slugify(post.title, key) for post, key in zip(d.posts, keys, strict=True) if key not in current}
    stored = store.stored_slugs(bases.values())  # usually none: then no slug needs a query of its own
    for post, key in zip(d.posts, keys, strict=True):
        if len(post.categories) > MAX_CATEGORIES:
            log.warning("%s: %r names %d categories; the first %d are kept (a tag cloud taken for the post's "
                        "tags? every feed listing it would grow as their square)", d.path, post.title,
                        len(post.categories), MAX_CATEGORIES)
            post = dataclasses.replace(post, categories=post.categories[:MAX_CATEGORIES])
        published, source = when[key]
        text = body_text(post.body)
        old = current.get(key)
        if old is None:
            base = bases[key]
            # A base that is free is the slug. One that is taken (stored, or given in this dump)
            # becomes base-2, base-3, …: those may be stored too ("Hello World 2" before "Hello
            # World" and "Hello, World"), so the stored slugs numbered after it count as taken.
            taken = store.slugs_like(base) | slugs if base in stored or base in slugs else slugs
            slug = unique_slug(base, taken)
            slugs.add(slug)
            entry = _entry(post, key, slug, mint_id(domain, now, slug), text,
                           published, published, source, now, d.path)
            url = post.url
            report.new += 1
        else:
            entry = old.entry
            replace_text = _fuller(post.truncated, text, old) or (
                post.html is not None and old.entry.source_html is None and text == old.entry.text)
            better_date = _new_date(published, source, entry)  # a better source, or other pages
            # An HTML copy names the post's URL, author and categories: they are kept.
            more: dict[str, object] = {k: v for k, v in (("author", post.author), ("categories", post.categories))
                    if v and v != getattr(entry, k)}
            if post.html is not None and old.entry.source_html not in (None, post.html) and text == old.entry.text:
                more["source_html"] = post.html  # the same text made anew (newer reading code): links as made now
            new_url = post.url is not None and post.url != old.url
            if not (replace_text or better_date or more or new_url):
                continue
            if replace_text:
                entry = _entry(post, key, entry.slug, entry.id, text, entry.published,
                               max(now, entry.published), entry.date_source, entry.first_seen, d.path)
                more = {"author": post.author or old.entry.author,
                        "categories": post.categories or old.entry.categories, **more}
            if more:
                entry = dataclasses.replace(entry, **more)  # type: ignore[arg-type]
            if better_date:
                months.add(month_of(entry.published, tz))
                entry = _redated(entry, published, source)
            url = post.url or old.url
            report.updated += 1 if key not in changed else 0
        month = month_of(entry.published, tz)
        months.add(month)
        rows.append((entry, url, month))
        current[key] = StoredEntry(entry, url)
        changed.add(key)
    store.put(rows)
    store.replace_sightings(d.path, [(key, p.position, p.start_line, p.end_line, p.truncated)
                                     for p, key in zip(d.posts, keys, strict=True)])
    store.record_dump(d.record, now)
    store.add_pending("entry", changed)
    store.add_pending("month", months)


def month_of(moment: datetime, tz: ZoneInfo) -> str:
    """YYYY-MM of a time in the site's zone: the archive page it is listed on."""
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def _entry(post: Post, key: str, slug: str, id_: str, text: str, published: datetime,
           updated: datetime, source: str, first_seen: datetime, dump: str) -> Entry:
    return Entry(key=key, id=id_, slug=slug, title=" ".join(post.title.split()),
                 source_html=post.html, summary=summarise(b.text for b in post.body),
                 text=text, truncated=post.truncated, published=published, updated=updated,
                 date_source=source,  # type: ignore[arg-type]
                 first_seen=first_seen, source=f"{dump}:{post.start_line}", author=post.author,
                 categories=post.categories)


# -- stage 4: publish ---------------------------------------------------------------------

#: The modules whose code decides which posts a dump holds, their text and their dates: when
#: any of them changes (an upgrade), the next pass reads every stored dump again.
READING_CODE = ("feeds.pipeline", "feeds.dumps.encoding", "feeds.dumps.text", "feeds.dumps.html", "feeds.segment",
                "feeds.dates", "feeds.normalise", "feeds.clean", "feeds.models", "feeds.uri", "feeds.budget")
#: The modules whose code decides the bytes of what is published: when any of them changes,
#: the next pass renders every file again (and writes those whose bytes differ).
PUBLISHING_CODE = ("feeds.pipeline", "feeds.publish", "feeds.digest.period", "feeds.digest.select",
                   "feeds.digest.render", "feeds.digest.archive", "feeds.normalise", "feeds.models", "feeds.uri")


@functools.cache
def code_digest(modules: tuple[str, ...]) -> str:
    """A hash of the source of `modules`: it changes when their code does, whatever the version says."""
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        h.update(name.encode() + b"\0" + (Path(origin).read_bytes() if origin else b"?") + b"\0")
    return h.hexdigest()


def parse_fingerprint(config: Config) -> str:
    """What reading a dump depends on besides its bytes: the readers' code and their settings."""
    settings = (config.input.marker, config.input.chrome, config.input.encoding, config.site.url,
                config.site.timezone, config.site.language)
    return hashlib.sha256(f"{code_digest(READING_CODE)}\n{settings!r}".encode()).hexdigest()


def fingerprint(config: Config) -> str:
    """What the published files depend on besides the entries: code, templates, config."""
    return hashlib.sha256(f"{code_digest(PUBLISHING_CODE)}\n{__version__}\n{config.site!r}\n{config.input.marker}\n"
                          f"{config.output.max_entries}\n{config.output.hub}\n{config.output.category_feeds}\n"
                          f"{templates_digest(template_folders(config))}".encode()).hexdigest()


class EntryBoundary:
    """Rendering one entry's page, or its item in a feed: what goes wrong there is that entry's.

    The entry is left out (its page is not written, its item not in the feed; an entry
    whose page is not there is left out of the feeds too, which would link it), named in
    `problems`, and stays pending, so that the next pass tries it again; the others are
    published. Unless the same rendering fails for feeds' sample posts (`feeds check`'s)
    too: then it is not the entry's but the templates' (or a bug's), and it stops the pass
    as before (ConfigError, naming the template and its line, or a traceback).
    """

    #: Entries named one per line in `problems`; more are counted on one more line.
    NAMED = 20

    def __init__(self, pub: Publisher, config: Config):
        self.pub, self.config = pub, config
        self.failed: dict[str, Entry] = {}  # key -> the entry
        self._where: dict[str, list[str]] = {}  # key -> the files it was left out of
        self._why: dict[str, Exception] = {}  # key -> what went wrong first
        self._samples: dict[str, bool] = {}  # what rendered with sample posts: page, or a feed's kind
        self.unpublished: set[str] = set()  # keys of entries whose page failed and is not there

    def page(self, entry: Entry, url: str | None, slugs: dict[str, str]) -> bytes | None:
        try:
            return self.pub.post_page(entry, url, category_slugs=slugs)
        except Exception as exc:
            self._fail(entry, exc, self.pub.page_path(entry), "page")
            if not (self.config.output.dir / self.pub.page_path(entry)).exists():
                self.unpublished.add(entry.key)
            return None

    def feed(self, entries: Sequence[tuple[Entry, str | None]], name: str, *,
             topic: str | None = None) -> bytes | None:
        """The feed without the entries whose items fail (each tried alone, once the whole failed);
        None when no entry is left."""
        entries = [(e, u) for e, u in entries if e.key not in self.unpublished]
        if not entries:
            return None
        try:
            return self.pub.feed(entries, name, topic=topic)
        except Exception as exc:
            whole = exc
        good = []
        for entry, url in entries:
            try:
                self.pub.feed([(entry, url)], name, topic=topic)
            except Exception as exc:
                self._fail(entry, exc, name, name.rsplit("/", 1)[-1])
            else:
                good.append((entry, url))
        if len(good) == len(entries):  # each alone renders, all together do not: no one entry's fault
            raise whole
        return self.pub.feed(good, name, topic=topic) if good else None

    def _fail(self, entry: Entry, exc: Exception, where: str, kind: str) -> None:
        if not self._samples_render(kind):
            raise exc
        self.failed[entry.key] = entry
        self._where.setdefault(entry.key, []).append(where)
        self._why.setdefault(entry.key, exc)
        log.info("%r (%s) could not be rendered into %s:", entry.title, entry.slug, where, exc_info=exc)

    def problems(self) -> list[str]:
        """A line for each entry left out (for the first NAMED), saying where and why."""
        lines = []
        for key, entry in list(self.failed.items())[:self.NAMED]:
            exc = self._why[key]
            why = (str(exc) if isinstance(exc, ConfigError) else  # (a template of the user's: it says which line)
                   f"{type(exc).__name__}: {exc}; a bug: please report it, with the traceback that -v shows")
            lines.append(f"{entry.title!r} ({entry.slug}) was left out of {', '.join(self._where[key])} and is "
                         f"tried again on the next pass: {' '.join(why.split())}")
        if len(self.failed) > self.NAMED:
            lines.append(f"{len(self.failed) - self.NAMED} more entries failed to render and are tried again on the "
                         "next pass (-v names each, with its traceback)")
        return lines

    def _samples_render(self, kind: str) -> bool:
        """Does feeds check's sample post render into a page (or a feed of this kind)?"""
        if kind not in self._samples:
            samples = sample_entries(self.config, datetime(2025, 1, 2, 12, tzinfo=self.config.site.tz))
            try:
                for entry, url in samples:
                    if kind == "page":
                        self.pub.post_page(entry, url)
                    else:
                        self.pub.feed([(entry, url)], kind)
                self._samples[kind] = True
            except Exception:
                self._samples[kind] = False
        return self._samples[kind]


def publish(store: Store, config: Config, *, rebuild: bool = False, problems: list[str] | None = None) -> list[str]:
    """Write what is pending: pages of changed entries, their archive months, feeds, index.

    What a pass stored is recorded as pending in the same transaction, and cleared only
    here, after everything is written: a pass interrupted before it publishes is
    finished by the next one. Pages are written before the feeds and the index that
    link to them. Everything is rendered again (and written where the bytes differ)
    when asked to; when the code, templates or config changed since the last publish;
    or when a feed, the index or a page of the newest entries is missing. Otherwise
    the work does not grow with the entries stored. With no entries yet there are no
    feeds: a feed is dated by its newest entry, and an empty one would have no true date.
    An entry that fails to render is left out and stays pending (EntryBoundary), named in
    `problems`; the index and the archive do not link its page while it is not there.
    """
    out = config.output.dir
    try:  # what is stored stays pending: the next pass, with a usable output.dir, publishes it
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("output.dir", str(out), f"a folder feeds can make ({exc.strerror or exc})",
                          config.source) from None
    pub = Publisher(config)
    stamp = fingerprint(config)
    changed, months = store.pending("entry"), store.pending("month")
    newest = store.newest(config.output.max_entries)
    # (a new entry's page is missing too, but it is pending: written below, with no full rebuild)
    feeds = FEED_FILES if newest else ()
    missing = any(not (out / f).exists() for f in (*feeds, "index.html")) or any(
        not (out / pub.page_path(s.entry)).exists() for s in newest if s.entry.key not in changed)
    full = rebuild or missing or store.meta("publish_fingerprint") != stamp
    if not (changed or months or full):
        return []
    written: list[str] = []

    def put(rel: str, data: bytes, durable: bool = False) -> None:
        if write_if_changed(out / rel, data, durable=durable):
            written.append(str(out / rel))

    if full:
        _regroup_months(store, config)
    pages = store.each() if full else store.get_many(sorted(changed)).values()
    slugs = category_slugs(store) if config.output.category_feeds else {}  # (pages link their categories' feeds)
    boundary = EntryBoundary(pub, config)
    for s in pages:
        page = boundary.page(s.entry, s.url, slugs)
        if page is not None:
            put(pub.page_path(s.entry), page)
    unpublished = boundary.unpublished
    all_months = store.months()
    for month, _count in all_months:
        if full or month in months:
            put(f"archive/{month}.html", pub.archive_page(
                month, [r for r in store.month_rows(month) if r["key"] not in unpublished]))
    _remove_stale_archive(out / "archive", {m for m, _ in all_months})
    put(STYLESHEET, template_file(config, STYLESHEET).read_bytes())
    feed_entries = [(s.entry, s.url) for s in newest]
    for name in feeds:
        data = boundary.feed(feed_entries, name)
        if data is not None:
            put(name, data, durable=True)
    if config.output.category_feeds:
        for name, data in category_feeds(store, config, boundary, slugs):
            put(name, data, durable=True)
    put("index.html", pub.index_page([s.entry for s in newest if s.entry.key not in unpublished], all_months),
        durable=True)
    if problems is not None:
        problems += boundary.problems()
    with store.transaction():
        store.clear_pending()
        # (what failed to render stays pending: the next pass tries it again, and its month's page)
        store.add_pending("entry", boundary.failed)
        store.add_pending("month", {month_of(e.published, config.site.tz) for e in boundary.failed.values()})
        store.set_meta("publish_fingerprint", stamp)
        store.delete_meta(digest_room.ARCHIVED_PERIODS)  # the entries changed: look for past periods again
    return written


def category_slugs(store: Store) -> dict[str, str]:
    """Every category's slug, by name: given the first time a category is seen, and kept (a
    category's slug, once given, is its feed's address for good)."""
    slugs = store.category_slugs()
    taken = set(slugs.values())
    for category in store.categories():
        if category not in slugs:
            slugs[category] = unique_slug(slugify(category), taken)
            taken.add(slugs[category])
            store.set_category_slug(category, slugs[category])
    return slugs


def category_feeds(store: Store, config: Config, boundary: EntryBoundary,
                   slugs: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    """categories/<slug>/atom.xml for every category (`slugs`: category_slugs()): its newest
    entries. A category gone leaves its folder empty.

    Every category's entries are found in one walk over the entries, and read a CHUNK of
    entries at a time for as many categories as they serve: the work grows with the entries
    the feeds list, not with categories times entries stored."""
    newest = store.newest_by_category(config.output.max_entries)
    wanted = {slugs[c] for c in newest}
    group: list[str] = []
    keys: set[str] = set()

    def feeds() -> Iterator[tuple[str, bytes]]:
        stored = store.get_many(sorted(keys))
        for category in group:
            name = f"categories/{slugs[category]}/atom.xml"
            data = boundary.feed([(stored[k].entry, stored[k].url) for k in newest[category]], name, topic=category)
            if data is not None:
                yield name, data
        group.clear()
        keys.clear()

    for category in sorted(newest):
        group.append(category)
        keys.update(newest[category])
        if len(keys) >= CHUNK:
            yield from feeds()
    yield from feeds()
    folder = config.output.dir / "categories"
    if folder.is_dir():
        for old in folder.glob("*/atom.xml"):
            if old.parent.name not in wanted:
                old.unlink()
                log.info("removed %s: no entries in that category any more", old)


def _regroup_months(store: Store, config: Config) -> None:
    """Put every entry in the archive month of its date in the site's (maybe new) zone."""
    tz = config.site.tz
    with store.transaction():
        for key, published, month in list(store.month_of_each()):
            local = month_of(datetime.fromisoformat(published), tz)
            if local != month:
                store.set_month(key, local)


def _remove_stale_archive(folder: Path, months: set[str]) -> None:
    """An archive page whose month has no entries any more (they moved) goes."""
    if not folder.is_dir():
        return
    for page in folder.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].html"):
        if page.stem not in months:
            log.info("removed %s: no posts in that month any more", page)
            page.unlink()


# -- stage 5: the digest ------------------------------------------------------------------

def digest_stage(store: Store, config: Config, now: datetime, clock: mail.Clock, report: Report, *,
                 changed: bool, should_stop: Callable[[], bool] = lambda: False) -> None:
    """The digest room's stage (feeds.digest.stage.run), its outcome added to the pass's report."""
    outcome = digest_room.run(store, config, now, clock, stamp=fingerprint(config), changed=changed,
                              should_stop=should_stop)
    report.problems += outcome.problems
    report.named += outcome.named
    report.files_written += outcome.files_written
    report.stopped = report.stopped or outcome.stopped
    report.digest = outcome.summary


# -- the pass -----------------------------------------------------------------------------

def sweep_temporary_files(*folders: Path) -> int:
    """Remove the temporary files a killed pass left (write_if_changed's `.<name>.<random>.tmp`)."""
    removed = 0
    for folder in folders:
        if folder.is_dir():
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def check_templates(config: Config) -> None:
    """Load every template a pass uses, or raise ConfigError naming the one that is missing or broken."""
    Publisher(config)
    Renderer(config)


def run_once(config: Config, store: Store, now: datetime, *, rebuild: bool = False,
             progress: Progress | None = None, clock: mail.Clock | None = None,
             should_stop: Callable[[], bool] = lambda: False, batch_bytes: int = BATCH_BYTES) -> Report:
    """One full pass. `now` is the pass's clock (aware); `clock` times the ledger (default: now).

    `should_stop` is asked between dumps, after publishing and between emails: when it says
    yes, the pass stops at that safe point, leaving what it read but did not store (what
    it stored but did not publish, the digest, the emails not sent) to the next pass.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    check_templates(config)
    if store.meta("pass_started"):  # the last pass did not end: it may have left temporary files
        removed = sweep_temporary_files(config.output.dir, config.outbox)
        log.info("the last pass did not finish; removed %d temporary file(s) it left", removed)
    store.set_meta("pass_started", iso(now))
    report = Report(look=Report.where(config))
    batch: list[ParsedDump] = []
    size = 0
    started = time.perf_counter()
    storing = 0.0

    def ingest() -> None:
        """Date and store a batch in one transaction: a batch is dated as a whole, so a pass
        killed half-way through one leaves none of it, and the next pass reads it again."""
        nonlocal storing
        t = time.perf_counter()
        with store.transaction():
            when = infer_dates(batch, store, config, now)
            for d in batch:
                store_dump(d, store, config, now, when, report)
            redate_stored(when, {k for d in batch for k in d.keys}, store, config, report)
        batch.clear()
        storing += time.perf_counter() - t

    for parsed in read_changed(discover(config.input.paths, report, follow_links=config.input.follow_links),
                               store, config, now, report, progress):
        if should_stop():
            report.stopped = True  # the batch read so far is dropped: the next pass reads it again
            log.info("stopping as asked: the dumps not yet stored are left for the next pass")
            _finish(store, now, report)
            return report
        batch.append(parsed)
        size += parsed.record.size
        if size >= batch_bytes:
            ingest()
            size = 0
    if batch:
        ingest()
    ingested = time.perf_counter()
    try:
        report.files_written = publish(store, config, rebuild=rebuild, problems=report.problems)
    except OSError as exc:  # out/ cannot be written: what was stored stays pending
        if not _output_failed(exc, config, report):
            raise
        report.entries_total = store.count()
        _finish(store, now, report)  # (the digest links pages that may not be there: the next pass)
        return report
    report.entries_total = store.count()
    published = time.perf_counter()
    if should_stop():  # asked while publishing: the digest (composing, mailing) waits for the next pass
        report.stopped = True
        log.info("stopping as asked: the digest is left for the next pass")
        _finish(store, now, report)
        return report
    try:
        digest_stage(store, config, now, clock or (lambda: now), report,
                     changed=bool(report.files_written) or rebuild, should_stop=should_stop)
    except OSError as exc:  # the digests' archive (or the outbox) cannot be written: the next pass
        if not _output_failed(exc, config, report):
            raise
    log.info("timings: read and segment %.2f s, date and store %.2f s, publish %.2f s (%d files), digest %.2f s",
             ingested - started - storing, storing, published - ingested, len(report.files_written),
             time.perf_counter() - published)
    _finish(store, now, report)
    return report


def _output_failed(exc: OSError, config: Config, report: Report) -> bool:
    """An error writing a file under out/ (or the outbox): a disk full, a folder made read-only.
    Reported as one line naming the file and the error (exit status 1): True. Nothing is lost:
    what was stored and not published stays pending, and a file is replaced only once its
    new version is whole. False for any other error, which is not reported here."""
    name = exc.filename
    if not isinstance(name, str) or not any(
            Path(os.path.abspath(name)).is_relative_to(os.path.abspath(folder))
            for folder in (config.output.dir, config.outbox)):
        return False
    code = errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno is not None else "?"
    report.problems.append(f"cannot write {name}: {exc.strerror or exc} ({code}); nothing is lost: what was "
                           "stored and not yet published (or mailed) is, by the next pass that can write there")
    log.info("the error writing %s:", name, exc_info=exc)
    return True


def _finish(store: Store, now: datetime, report: Report) -> None:
    """Record the pass for `status`; it ended (no temporary files to look for next time)."""
    with store.transaction():
        store.set_meta("last_pass", json.dumps({"time": iso(now), "summary": report.summary(),
                                                "skipped": report.skipped, "failed": report.failed,
                                                "problems": report.problems}))
        store.delete_meta("pass_started")
