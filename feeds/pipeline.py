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

from feeds import __version__, decide, digest, mail
from feeds.budget import Deadline
from feeds.clean import clean_html
from feeds.config import DEFAULT_FILE, Config
from feeds.dating.pages import dates_for
from feeds.decide import month_of
from feeds.digest import Renderer
from feeds.dumps.html import ISO_TIME, block_texts, read_html
from feeds.dumps.text import read_text
from feeds.errors import ConfigError, DumpError, SlowDumpError
from feeds.models import Block, DumpRecord, Entry, Limits, ParsedDump, Post
from feeds.normalise import identity, slugify, unique_slug
from feeds.publish import (
    FEED_FILES,
    STYLESHEET,
    DigestItem,
    Publisher,
    sample_entries,
    template_file,
    template_folders,
    templates_digest,
    write_if_changed,
)
from feeds.segment import segment
from feeds.store import Store, iso

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
#: How much of the stored history a batch is dated with (run_once's default).
LIMITS = Limits()
#: Category feeds read the stored entries they list this many at a time.
CHUNK = 500


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


# -- stage 2 and 3: date and store ----------------------------------------------------------

def store_batch(batch: Sequence[ParsedDump], store: Store, config: Config, now: datetime, report: Report,
                limits: Limits) -> None:
    """Date and store a batch (inside its transaction): read what the rules need of the store,
    date the batch with the stored pages linked to it, decide what changes, and write that."""
    bases = decide.slug_bases(batch)
    snapshot = store.snapshot_for({d.path: d.keys for d in batch}, bases, now, limits)
    dates = dates_for(batch, snapshot, config.site.tz)
    intents = decide.intents(batch, snapshot, dates, now, tz=config.site.tz, domain=config.site.domain)
    store.apply(intents, now)
    report.new += intents.new
    report.updated += intents.updated


def store_all(dumps: Iterable[ParsedDump], store: Store, config: Config, now: datetime, report: Report, *,
              should_stop: Callable[[], bool], batch_bytes: int, limits: Limits) -> float:
    """Date and store the dumps in batches of about `batch_bytes`, each in one transaction: a
    batch is dated as a whole, so a pass killed half-way through one leaves none of it, and the
    next pass reads it again. Asked to stop (between dumps), it drops the batch read so far
    and sets report.stopped. The seconds spent dating and storing."""
    batch: list[ParsedDump] = []
    size = 0
    storing = 0.0
    for parsed in dumps:
        if should_stop():
            report.stopped = True
            log.info("stopping as asked: the dumps not yet stored are left for the next pass")
            return storing
        batch.append(parsed)
        size += parsed.record.size
        if size >= batch_bytes:
            storing += _store_timed(batch, store, config, now, report, limits)
            batch, size = [], 0
    if batch:
        storing += _store_timed(batch, store, config, now, report, limits)
    return storing


def _store_timed(batch: Sequence[ParsedDump], store: Store, config: Config, now: datetime, report: Report,
                 limits: Limits) -> float:
    """store_batch in its own transaction; the seconds it took."""
    t = time.perf_counter()
    with store.transaction():
        store_batch(batch, store, config, now, report, limits)
    return time.perf_counter() - t


# -- stage 4: publish ---------------------------------------------------------------------

#: The modules whose code decides which posts a dump holds, their text and their dates: when
#: any of them changes (an upgrade), the next pass reads every stored dump again.
READING_CODE = ("feeds.pipeline", "feeds.dumps.encoding", "feeds.dumps.text", "feeds.dumps.html", "feeds.segment",
                "feeds.dating.mentions", "feeds.dating.infer", "feeds.dating.pages", "feeds.decide", "feeds.normalise",
                "feeds.clean", "feeds.models", "feeds.uri", "feeds.budget")
#: The modules whose code decides the bytes of what is published: when any of them changes,
#: the next pass renders every file again (and writes those whose bytes differ).
PUBLISHING_CODE = ("feeds.pipeline", "feeds.publish", "feeds.digest", "feeds.normalise", "feeds.models", "feeds.uri")


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
        store.delete_meta(ARCHIVED_WEEKS)  # the entries changed: the digest stage looks for past weeks again
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

#: The meta key that holds the week due when the digest stage last looked for past weeks to
#: archive (digest.archive_past_weeks); publish() removes it when the entries change.
ARCHIVED_WEEKS = "archived_weeks"


def publish_digests(store: Store, config: Config, now: datetime) -> list[str]:
    """The digests' archive: a page per digest with posts, their index, and their Atom feed
    (the newest `max_entries` digests)."""
    out = config.output.dir
    renderer = Renderer(config)
    pub = Publisher(config)
    written: list[str] = []
    items: list[DigestItem] = []
    tz = config.site.tz
    stamp = fingerprint(config)
    for row in store.digests(with_empty=True):
        period = row["period"]
        try:
            sel = digest.select(store, config, period, now)
        except digest.PeriodError:  # a week not over by this clock (it went back): next time
            log.info("digest %s left as it is: %s is before its week's end", period, now.isoformat())
            continue
        if sel.kind == "archived" and len(sel.posts) != row["posts"]:
            with store.transaction():
                store.set_digest(period, "archived", sel.date, len(sel.posts))
        page = out / "digests" / f"{period}.html"
        if not sel.posts:
            page.unlink(missing_ok=True)
            continue
        # Render a page only when what it shows changed: a large week costs a lot to inline.
        shown = hashlib.sha256(f"{stamp}\n{sel!r}".encode()).hexdigest()
        if not page.exists() or store.meta(f"digest_page:{period}") != shown:
            if write_if_changed(page, renderer.render(sel, web=True).html.encode("utf-8")):
                written.append(str(page))
            store.set_meta(f"digest_page:{period}", shown)
        path = f"digests/{period}.html"
        in_feed = len(items) < config.output.max_entries
        items.append(DigestItem(period=period, start=digest.bounds(period, tz)[0].date(),
                                week=digest.week_label(period, tz), title=renderer.subject(period), path=path,
                                url=config.url(path), date=sel.date, posts=len(sel.posts),
                                content=renderer.feed_content(sel) if in_feed else ""))
    files = [("digests/index.html", pub.digests_index(items, feeds=store.count() > 0), False)]
    if items:  # (no digest lists a post yet: no feed, which would have no true date; the index says so)
        files.append(("digests/atom.xml", pub.digests_feed(items[:config.output.max_entries]), True))
    for name, data, durable in files:
        if write_if_changed(out / name, data, durable=durable):
            written.append(str(out / name))
    with store.transaction():
        store.set_meta("digests_published", _digests_state(store, stamp))
    return written


def _digests_state(store: Store, stamp: str) -> str:
    """What the digests' archive shows, in short: the digests stored and the code that renders
    them. A pass killed between composing a digest and writing its archive leaves it stale."""
    rows = [tuple(r) for r in store.digests(with_empty=True)]
    return hashlib.sha256(f"{stamp}\n{rows!r}\n{store.count() > 0}".encode()).hexdigest()  # (feeds linked or not)


def digest_stage(store: Store, config: Config, now: datetime, clock: mail.Clock, report: Report, *,
                 changed: bool, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Compose the digest if one is due, publish the archive, deliver what is pending.

    The ledger's writes are synced to disk before the next step (synchronous=FULL): a
    digest marked sent must stay marked after a power cut, or it would be sent again.
    """
    addresses, problems = mail.recipients(config)
    report.problems += problems
    composed = None
    due = digest.due_period(now, config)
    with store.durable():
        if config.digest.recipients_file is not None and not addresses:
            # A recipients file that is empty (or being rewritten) must not use up a digest.
            report.problems.append(f"digest not composed: {config.digest.recipients_file} lists no valid "
                                   "address; it waits for the next pass")
        else:
            composed = digest.compose_due(store, config, now, [a.addr_spec for a in addresses])
        # The past weeks with posts are archived by publication date (never mailed), after the
        # week due took its posts; looked for when the entries changed or another week is due.
        look = composed is not None or changed or store.meta(ARCHIVED_WEEKS) != due
        if look:
            digest.archive_past_weeks(store, config, now)
        stale = store.meta("digests_published") != _digests_state(store, fingerprint(config))
        if composed or changed or look or stale or not (config.output.dir / "digests" / "index.html").exists():
            report.files_written += publish_digests(store, config, now)  # before the emails that link to it
        if look:
            with store.transaction():
                store.set_meta(ARCHIVED_WEEKS, due)
        delivery = mail.deliver(store, config, clock, should_stop=should_stop,
                                recipients_now={a.addr_spec.lower(): a for a in addresses})
    report.problems += delivery.problems
    report.named += delivery.named
    parts = []
    if composed is not None:
        n = len(composed.posts)
        parts.append(f"digest {composed.period}: " + (f"{n} post(s) for {len(addresses)} recipient(s)" if n
                                                       else "no new posts, no email"))
    if delivery.sent:
        parts.append(f"{delivery.sent} email(s) " + ("sent" if delivery.via == "smtp" else
                                                      f"written to {config.outbox}"))
    if delivery.held_back:
        parts.append(f"{delivery.held_back} email(s) not mailed: the configuration needs fixing (see above)")
    if delivery.held:
        report.stopped = True
        parts.append(f"{delivery.held} email(s) not sent yet")
    if delivery.failed or delivery.deferred or delivery.unknown:
        parts.append(f"{len(delivery.failed)} refused, {len(delivery.deferred)} to retry, "
                     f"{len(delivery.unknown)} uncertain")
    report.digest = ", ".join(parts)


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
             should_stop: Callable[[], bool] = lambda: False, batch_bytes: int = BATCH_BYTES,
             limits: Limits = LIMITS) -> Report:
    """One full pass. `now` is the pass's clock (aware); `clock` times the ledger (default: now).
    `batch_bytes`: dumps are stored in batches of about this many bytes; `limits`: how much of
    the stored history a batch is dated with.

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
    started = time.perf_counter()
    storing = store_all(read_changed(discover(config.input.paths, report, follow_links=config.input.follow_links),
                                     store, config, now, report, progress),
                        store, config, now, report, should_stop=should_stop, batch_bytes=batch_bytes, limits=limits)
    if report.stopped:  # the batch read so far is dropped: the next pass reads it again
        _finish(store, now, report)
        return report
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
