"""One pass: read new or changed dumps → find posts → date them → store → publish.

``run_once(config, store, now)`` names the stages; each stage is a function below.
The clock comes in as ``now``.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import importlib.util
import json
import logging
import os
import shlex
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from feeds import __version__, decide, digest, ingest, mail
from feeds.config import DEFAULT_FILE, Config
from feeds.dating.pages import dates_for
from feeds.decide import month_of
from feeds.digest import Renderer
from feeds.errors import ConfigError
from feeds.ingest.files import Progress, discover, read_changed
from feeds.models import Entry, Limits, ParsedDump
from feeds.normalise import slugify, unique_slug
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
from feeds.store import Store, iso

log = logging.getLogger(__name__)


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


# -- stage 1: which dumps, read: feeds.ingest ------------------------------------------------


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
READING_CODE = (*ingest.MODULES, "feeds.pipeline", "feeds.dating.mentions", "feeds.dating.infer",
                "feeds.dating.pages", "feeds.decide", "feeds.normalise", "feeds.models", "feeds.uri")
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
             readers: ingest.Readers = ingest.READERS, limits: Limits = LIMITS) -> Report:
    """One full pass. `now` is the pass's clock (aware); `clock` times the ledger (default: now).
    `batch_bytes`: dumps are stored in batches of about this many bytes; `limits`: how much of
    the stored history a batch is dated with.

    `should_stop` is asked between dumps, after publishing and between emails: when it says
    yes, the pass stops at that safe point, leaving what it read but did not store (what
    it stored but did not publish, the digest, the emails not sent) to the next pass.
    `readers` reads the dumps (feeds.ingest.READERS: by file-name suffix).
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
                                     store, config, now, report, progress,
                                     fingerprint=parse_fingerprint(config), readers=readers),
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
