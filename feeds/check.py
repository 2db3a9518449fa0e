"""`feeds check`: is everything ready for a pass? It writes nothing and sends nothing.

Each finding is one line, `<area>: <what>`, with `warning:` or `error:` after the area
when something is wrong:

- config: the file loads (else nothing more is checked);
- templates: each one renders with sample data, as a pass and a digest render them;
- state, dumps: the dumps a pass would read (new, or changed since the last pass) and
  those it would skip, found as a pass finds them, from the state read as it is;
- digest: the recipients, the list (feeds.subscribers.check) and how the digest would go out;
- web: whether the secret that signs the list's links is set (never its value);
- smtp: when [mail] host is set, each step of connecting (connect, EHLO, STARTTLS or
  implicit TLS, AUTH, MAIL FROM), then a reset and QUIT: no message is sent.

The exit status is 0 when all is well, 1 with warnings, 2 with errors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from pathlib import Path

from feeds import addresses, ingest, mail, pipeline, subscribers, transport
from feeds import config as config_mod
from feeds.config import Config
from feeds.digest import render as digest
from feeds.digest.period import Schedule
from feeds.digest.select import Selection
from feeds.errors import ConfigError, DumpError, SlowDumpError, StateError
from feeds.ingest import files
from feeds.models import DigestPost, DumpRecord
from feeds.report import Report
from feeds.store import DatabaseError, Store
from feeds.web import confirmation
from feeds.web.pages import WEB_TEMPLATES, WebPages

OK, WARNINGS, ERRORS = 0, 1, 2


class Findings:
    """What the check found, written as it is found."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.warnings = 0
        self.errors = 0

    def say(self, area: str, level: str, text: str) -> None:
        if level == "warning":
            self.warnings += 1
        elif level == "error":
            self.errors += 1
        self.write(f"{area}: {'' if level == 'ok' else level + ': '}{text}")

    def ok(self, area: str, text: str) -> None:
        self.say(area, "ok", text)

    def warning(self, area: str, text: str) -> None:
        self.say(area, "warning", text)

    def error(self, area: str, text: str) -> None:
        self.say(area, "error", text)

    def finish(self) -> int:
        if not (self.warnings or self.errors):
            self.write("check: all well")
            return OK
        self.write(f"check: {self.errors} error(s), {self.warnings} warning(s)")
        return ERRORS if self.errors else WARNINGS


def check(path: str | None, now: datetime | None = None, write: Callable[[str], None] = print) -> int:
    """Check the configuration at `path` (default: ./feeds.toml, else the defaults); the exit status."""
    found = Findings(write)
    try:
        cfg = config_mod.load(path)
    except ConfigError as exc:
        found.error("config", str(exc))
        return found.finish()
    found.ok("config", f"{cfg.source} loads" if cfg.source != "defaults" else
             f"no {config_mod.DEFAULT_FILE} here: the built-in defaults (`feeds init` writes one to edit)")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=cfg.site.tz)
    templates(cfg, now, found)
    dumps(cfg, now, found)
    recipients(cfg, found)
    if cfg.mail.host:
        transport.probe(cfg, lambda level, text: found.say("smtp", level, text))
    return found.finish()


# -- templates ----------------------------------------------------------------------------

#: The list's templates: its pages and its confirmation mail.
LIST_TEMPLATES = (*WEB_TEMPLATES, *confirmation.CONFIRM_TEMPLATES)


def templates(cfg: Config, now: datetime, found: Findings) -> None:
    """Render every template with sample data, as a pass (pages) and a digest (email, web page) do."""
    from feeds.publish.content import DigestItem, sample_entries
    from feeds.publish.pages import PAGE_TEMPLATES
    from feeds.publish.render import Publisher

    entries = sample_entries(cfg, now)
    tz = cfg.site.tz
    month = f"{now.astimezone(tz):%Y-%m}"
    schedule = Schedule.of(cfg)
    period = schedule.due_period(now)
    posts = tuple(DigestPost(e.key, e.title, e.summary, e.slug, e.published, url) for e, url in entries)
    sel = Selection(period, "mailed", schedule.due(period), posts)

    def pages() -> None:
        pub = Publisher(cfg)
        for entry, url in entries:
            pub.post_page(entry, url)
        pub.index_page([e for e, _ in entries], [(month, len(entries))])
        pub.archive_page(month, [{"title": e.title, "summary": e.summary, "slug": e.slug,
                                  "published": e.published.isoformat()} for e, _ in entries])
        renderer = digest.Renderer(cfg)
        pub.digests_index([DigestItem(
            period=period.label, start=period.start, heading=digest.heading(period),
            title=renderer.subject(period), path=f"digests/{period}.html", url=cfg.url(f"digests/{period}.html"),
            date=sel.date, posts=len(posts), content=renderer.feed_content(sel))])

    def email() -> None:
        renderer = digest.Renderer(cfg)
        renderer.render(sel, digest.PREVIEW_RECIPIENT)
        renderer.render(sel, web=True)

    for what, names, render in (("pages", PAGE_TEMPLATES, pages), ("digest", digest.MAIL_TEMPLATES, email),
                                ("list", LIST_TEMPLATES, lambda: _list_pages(cfg, now))):
        try:
            render()
        except ConfigError as exc:  # names the template, its line and what went wrong
            found.error("templates", str(exc))
        except Exception as exc:  # a template that raises as it renders: a pass would stop with a traceback
            found.error("templates", f"the {what} templates ({', '.join(names)}) fail to render sample data: "
                                     f"{type(exc).__name__}: {exc}")
        else:
            found.ok("templates", f"{', '.join(names)} render with sample data")


def _list_pages(cfg: Config, now: datetime) -> None:
    """Render the list's pages (the form, a page with a button) and its confirmation mail."""
    pages = WebPages(cfg)
    pages.form(problem="That is not an address.", address="ann@example.org", name="Ann")
    pages.answer("Unsubscribe", ["A paragraph."],
                 button={"action": "unsubscribe", "label": "Unsubscribe", "token": "t"})
    confirmation.message(cfg, Address("Ann", addr_spec="ann@example.org"), cfg.url("list/confirm?token=t"), now,
                         cfg.web.confirm_hours)


# -- dumps --------------------------------------------------------------------------------

def dumps(cfg: Config, now: datetime, found: Findings) -> None:
    """What a pass would read and skip, found as a pass finds it; the state is only read."""
    report = Report()
    paths = files.discover(cfg.input.paths, report, follow_links=cfg.input.follow_links)
    for problem in report.skipped:
        found.warning("dumps", f"a pass would skip {problem}")
    stored = _stored_dumps(cfg, found)
    if stored is None:
        return
    known, reread = stored
    counts = {"read": 0, "unchanged": 0, "skipped": 0}
    sites = files.Sites(paths, ingest.READERS, cfg.input.max_bytes)  # (read together, as a pass reads them)
    for path in paths:
        for outcome in _one_dump(cfg, now, found, path, known, reread, sites.of(path)):
            counts[outcome] += 1
    found.ok("dumps", f"{counts['read']} to read, {counts['unchanged']} unchanged since the last pass, "
                      f"{counts['skipped']} to skip")


def _stored_dumps(cfg: Config, found: Findings) -> tuple[dict[str, DumpRecord], bool] | None:
    """The dumps read before, and whether how dumps are read changed since (every one is read
    again); None when the state cannot be read (said as an error)."""
    state = cfg.state.path
    if not state.exists():
        found.ok("state", f"{state} does not exist yet: the first pass makes it and reads every dump")
        return {}, False
    try:
        with Store.peek(state) as store:
            known = store.dumps()
            reread = bool(known) and store.meta("parse_fingerprint") != pipeline.parse_fingerprint(cfg)
    except (StateError, DatabaseError) as exc:
        found.error("state", str(exc) if str(exc).startswith(str(state)) else f"{state}: {exc}")
        return None
    found.ok("state", f"{state}: {len(known)} dump(s) read before"
             + ("; how dumps are read changed (feeds' version, input.marker or input.chrome): a pass reads "
                "every dump again" if reread else ""))
    return known, reread


def _one_dump(cfg: Config, now: datetime, found: Findings, path: str, known: dict[str, DumpRecord],
              reread: bool, site: files.Pages) -> list[str]:
    """What a pass would do with one dump, said: its counts ("read", "unchanged", "skipped")."""
    old = None if reread else known.get(path)
    try:
        st = os.stat(path)
        same = old is not None and bool(old.sha256) and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns)
        big = None if same else files.too_big(st.st_size, cfg)
        data = b"" if same or big else Path(path).read_bytes()
    except OSError as exc:
        found.warning("dumps", f"a pass would skip {path}: cannot be read: {exc.strerror}")
        return ["skipped"]
    if old is not None and (same or old.sha256 == hashlib.sha256(data).hexdigest()):
        if old.status == "skipped":
            found.warning("dumps", f"a pass would skip {path}: {old.error} (unchanged since it was skipped)")
            return ["unchanged", "skipped"]
        if old.status == "failed":
            found.warning("dumps", f"a pass would leave out {path}, quarantined: {old.error} (a bug in feeds, "
                                   "unchanged since it failed; please report it)")
            return ["unchanged", "skipped"]
        return ["unchanged"]
    if big:
        found.warning("dumps", f"a pass would skip {path}: {big}")
        return ["skipped"]
    why = "new" if path not in known else "read again" if reread else "changed since the last pass"
    return [_parse(cfg, now, found, path, data, st.st_mtime, why, site)]


def _parse(cfg: Config, now: datetime, found: Findings, path: str, data: bytes, mtime: float, why: str,
           site: files.Pages) -> str:
    """Read one dump as a pass would, and say what came of it: "read" or "skipped"."""
    try:
        parsed = ingest.read_dump(path, data, datetime.fromtimestamp(mtime, now.tzinfo), cfg, now, site=site)
    except SlowDumpError as exc:
        found.warning("dumps", f"a pass would quarantine {path} ({why}): {exc.reason}")
        return "skipped"
    except DumpError as exc:
        found.warning("dumps", f"a pass would skip {exc} ({why})")
        return "skipped"
    except Exception as exc:  # a bug this dump trips: a pass quarantines it and goes on
        found.warning("dumps", f"a pass would quarantine {path} ({why}): {ingest.failure(exc)}; a bug in "
                               "feeds: please report it")
        return "skipped"
    found.ok("dumps", f"a pass would read {path} ({why}: {len(parsed.posts)} post(s))")
    return "read"


# -- the digest ---------------------------------------------------------------------------

def recipients(cfg: Config, found: Findings) -> None:
    """Who the digest goes to, and how."""
    try:
        to, problems = mail.recipients(cfg)
    except ConfigError as exc:
        found.error("digest", str(exc))
        return
    for problem in problems:
        found.warning("digest", f"digest.recipients_file: {problem}")
    how = (f"mailed over SMTP through {cfg.mail.host}:{cfg.mail.smtp_port}" if cfg.mail.host else
           f"written as .eml files to {cfg.outbox} ([mail] host is empty: nothing is mailed)")
    found.ok("digest", f"{len(to)} recipient(s), from {addresses.sender(cfg)}; {how}")
    for area, level, text in subscribers.check(cfg, to):
        found.say(area, level, text)
    if not cfg.mail.host:
        return
    refused = mail.refusals(cfg)
    for reason in refused:
        found.warning("digest", f"a pass would not mail the digest (it waits): {reason}")
    domain = addresses.sender(cfg).domain
    if not refused and cfg.digest.sender and not mail.claims(cfg, domain):
        found.ok("digest", f"the sender's domain {domain} is not site.url's host nor a parent of it: taken as set "
                           "in digest.sender; its SPF and DMARC records must allow mail.host to send for it")
