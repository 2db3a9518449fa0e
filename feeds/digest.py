"""The weekly digest: which week is due, which posts it lists, and the email it becomes.

The only Jinja2 environment for mail, and the only module that imports css_inline.

Periods are ISO weeks in the site's time zone ("2025-W07": Monday 10 February 00:00
to Monday 17 February 00:00, Europe/London). A week's digest is due at the
configured weekday and hour after it ends (default: the Monday right after, 08:00).

What a digest lists (the rule the README documents):

- A digest composed to be mailed lists every stored post that is in no earlier
  digest, first seen since the previous mailed digest, and published no earlier than
  ``window_days`` before the start of its week (or, when weeks were missed, before
  the end of the previous mailed digest's week). So the posts of a large back-fill,
  all first seen at once, do not flood the first digest: only the recent ones are
  listed. Its posts are then fixed (`digest_entries`): a post is announced once, and
  an edit does not announce it again.
- A past week rendered for the archive (``digest --period``) lists the posts
  published in that week that no mailed digest announced.

Everything here is pure but for reading the store; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import css_inline
import jinja2
from markupsafe import escape

from feeds import addresses
from feeds.addresses import one_line, parse_address
from feeds.config import Config
from feeds.errors import FeedsError
from feeds.models import DigestPost
from feeds.publish import loaded_templates, render_template, template_loader, write_if_changed
from feeds.store import Store, from_iso

#: The HTML part must stay under this after CSS is inlined (Gmail clips at about 102 KB).
MAX_HTML_BYTES = 90_000
MAIL_TEMPLATES = ("digest.html.j2", "digest.txt.j2")

class PeriodError(FeedsError):
    pass


# -- periods ------------------------------------------------------------------------------

def parse_period(text: str) -> str:
    """'2025-W07' (also '2025-w7') → '2025-W07'; PeriodError saying what is expected."""
    match = re.fullmatch(r"(\d{4})-[Ww](\d{1,2})", text.strip())
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
            if 1970 <= year <= 9000:  # (the week's send time must be a date too)
                return f"{year}-W{week:02d}"
        except ValueError:
            pass
    raise PeriodError(f"--period {text!r} is not an ISO week; write it like 2025-W07 (weeks 01 to 52, or 53 "
                      "in long years, of a year from 1970 to 9000)")


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The week's start and end (exclusive): Mondays at 00:00 in the site's zone."""
    year, week = int(period[:4]), int(period[6:])
    monday = date.fromisocalendar(year, week, 1)
    return (datetime.combine(monday, time(0), tzinfo=tz),
            datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz))


def shift(period: str, weeks: int, tz: ZoneInfo) -> str:
    start, _ = bounds(period, tz)
    return period_of(datetime.combine(start.date() + timedelta(weeks=weeks), time(12), tzinfo=tz), tz)


def due_time(period: str, config: Config) -> datetime:
    """When the week's digest is due: the first configured weekday and hour after it ends."""
    tz = config.site.tz
    _, end = bounds(period, tz)  # a Monday
    day = end.date() + timedelta(days=config.digest.weekday_number)
    return datetime.combine(day, time(config.digest.hour), tzinfo=tz)


def due_period(now: datetime, config: Config) -> str:
    """The latest week whose digest is due at `now`."""
    tz = config.site.tz
    previous = shift(period_of(now, tz), -1, tz)
    return previous if due_time(previous, config) <= now else shift(previous, -1, tz)


def next_due(now: datetime, config: Config) -> datetime:
    """The next digest slot strictly after `now`."""
    tz = config.site.tz
    this = period_of(now, tz)
    for period in (shift(this, -1, tz), this):
        due = due_time(period, config)
        if due > now:
            return due
    return due_time(shift(this, 1, tz), config)  # not reached with a slot within the week after


def week_label(period: str, tz: ZoneInfo) -> str:
    """'10–16 February 2025'; '24 February – 2 March 2025'; '29 December 2025 – 4 January 2026'."""
    start, end = bounds(period, tz)
    first, last = start.date(), end.date() - timedelta(days=1)
    if first.year != last.year:
        return f"{first.day} {first:%B} {first.year} – {last.day} {last:%B} {last.year}"
    if first.month != last.month:
        return f"{first.day} {first:%B} – {last.day} {last:%B} {last.year}"
    return f"{first.day}–{last.day} {last:%B} {last.year}"


# -- what a digest lists ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Selection:
    period: str
    kind: str  # 'mailed' (fixed), 'due' (would be mailed now), 'archived' (by publication date)
    date: datetime  # the digest's date: when the week's digest was due (not the clock: same input, same bytes)
    posts: tuple[DigestPost, ...]


def select_new(store: Store, config: Config, period: str) -> list[DigestPost]:
    """The posts a digest composed now for `period` would list (see the module's rule)."""
    tz = config.site.tz
    start, _ = bounds(period, tz)
    last = store.last_mailed()
    since = start
    stored_after = None
    if last is not None and last["period"] < period:
        since = min(start, bounds(last["period"], tz)[1])
        stored_after = last["seen_upto"]  # first seen since the previous digest, whatever the clock says
    window = timedelta(days=config.digest.window_days)
    return store.candidates(published_from=since - window, stored_after=stored_after)


def select(store: Store, config: Config, period: str, now: datetime) -> Selection:
    """What the digest of `period` lists: as mailed, as it would be mailed now, or by publication date."""
    row = store.digest(period)
    if row is not None and row["kind"] == "mailed":
        return Selection(period, "mailed", from_iso(row["date"]), tuple(store.digest_posts(period)))
    due = due_time(period, config)
    if due > now:
        raise PeriodError(f"the week {period} is not over yet: its digest is due {due:%A %d %B %Y %H:%M} "
                          f"({config.site.timezone}); the latest week due is {due_period(now, config)}")
    last = store.last_mailed()
    if row is None and period == due_period(now, config) and (last is None or last["period"] < period):
        return Selection(period, "due", due, tuple(select_new(store, config, period)))
    start, end = bounds(period, config.site.tz)
    return Selection(period, "archived", due, tuple(store.candidates(published_from=start, published_before=end)))


def compose_due(store: Store, config: Config, now: datetime, recipients: Sequence[str]) -> Selection | None:
    """Compose the digest due at `now`, unless it was composed already: fix its posts and
    put (period, recipient) rows in the ledger, all in one transaction. None if not due."""
    period = due_period(now, config)
    last = store.last_mailed()
    if last is not None and last["period"] >= period:
        return None
    posts = select_new(store, config, period)
    keys = [p.key for p in posts]
    with store.transaction():
        store.set_digest(period, "mailed", due_time(period, config), len(keys), composed=now,
                         seen_upto=store.last_entry())
        store.add_digest_entries(period, keys)
        if keys:  # no posts, no email
            store.add_deliveries(period, [(r, message_id(period, r, config)) for r in recipients], now)
    return Selection(period, "mailed", due_time(period, config), tuple(posts))


def archive_past_weeks(store: Store, config: Config, now: datetime) -> list[str]:
    """Record for the archive, by publication date, every week before the one due at `now`
    that has posts in no digest and no digest of its own; the weeks recorded.

    Such a week is over and will never be mailed: only the week due is, by compose_due. Its
    posts stay candidates for a mailed digest (a later one whose window reaches them lists
    them, and they leave this week's page), so nothing here changes what is mailed. A week
    mailed keeps what was mailed; the week due and the weeks after it are left alone.
    """
    tz = config.site.tz
    due = due_period(now, config)
    weeks: dict[str, int] = {}
    for published in store.unannounced_times(bounds(due, tz)[0]):
        moment = from_iso(published)
        if moment.year >= 1970:  # (the weeks a digest can be of, as --period says)
            week = period_of(moment, tz)
            weeks[week] = weeks.get(week, 0) + 1
    known = {row["period"] for row in store.digests(with_empty=True)}
    new = [week for week in sorted(weeks) if week not in known]
    if new:
        with store.transaction():
            for week in new:
                store.set_digest(week, "archived", due_time(week, config), weeks[week])
    return new


# -- rendering ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    html: str  # CSS inlined
    text: str
    full: int  # posts shown with their summaries
    listed: int  # posts shown as links only (the rest were left to the web page)


class Renderer:
    """Renders digests from templates/digest.html.j2 and digest.txt.j2."""

    def __init__(self, config: Config):
        self.config = config
        self.tz = config.site.tz
        self.env = loaded_templates(config, ("mail",), MAIL_TEMPLATES, lambda: jinja2.Environment(
            loader=template_loader(config),
            autoescape=jinja2.select_autoescape(("html", "html.j2"), default_for_string=False, default=False),
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True))
        self.inliner = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True,
                                             load_remote_stylesheets=False)

    def subject(self, period: str) -> str:
        return one_line(f"{self.config.site.title} — week of {week_label(period, self.tz)}")

    def _items(self, posts: Sequence[DigestPost]) -> list[dict[str, str]]:
        items = []
        for p in posts:
            local = p.published.astimezone(self.tz)
            items.append({"title": p.title, "summary": p.summary, "url": p.url or self.config.url(
                f"posts/{p.slug}.html"), "date": f"{local.day} {local:%B} {local.year}",
                "iso": local.isoformat(timespec="seconds")})
        return items

    def _context(self, sel: Selection, recipient: str | None, web: bool) -> dict[str, object]:
        cfg = self.config
        mailto, https = addresses.unsubscribe_links(cfg, recipient or "")
        return {
            "site": cfg.site, "period": sel.period, "subject": self.subject(sel.period),
            "week": week_label(sel.period, self.tz), "count": len(sel.posts), "web": web,
            "archive_url": cfg.url(f"digests/{sel.period}.html"), "digests_url": cfg.url("digests/index.html"),
            "digests_feed": cfg.url("digests/atom.xml"), "home_url": cfg.url("index.html"),
            "feed_url": cfg.url("atom.xml"),
            "unsubscribe_url": https, "unsubscribe_mailto": mailto,
            "preheader": preheader(sel),
        }

    def render(self, sel: Selection, recipient: str | None = None, *, web: bool = False) -> Rendered:
        """The digest as HTML (CSS inlined, under MAX_HTML_BYTES) and as text.

        Up to `max_full` posts are shown with their summaries, the rest as a list of
        links. An email whose HTML is still too large shows fewer in full, then cuts the
        list and ends with a link to the web page, which has no size limit and lists them all.
        """
        items = self._items(sel.posts)
        context = self._context(sel, recipient, web)
        full = min(self.config.digest.max_full, len(items))
        listed = len(items) - full
        while True:
            html = self._html(context, items, full, listed)
            if len(html.encode("utf-8")) <= MAX_HTML_BYTES or web or (full == 0 and listed == 0):
                break
            if full > 0:
                step = max(1, full // 4)
                full, listed = full - step, listed + step
            else:
                listed = max(0, listed - max(1, listed // 4))
        text = render_template(self.env, "digest.txt.j2", self.config, **context, full=items[:full],
                               more=items[full:full + listed], left=len(items) - full - listed)
        return Rendered(context["subject"], html, _tidy_text(text), full, listed)  # type: ignore[arg-type]

    def feed_content(self, sel: Selection) -> str:
        """A digest for a feed reader: its posts as a list of links."""
        items = "".join(f'<li><a href="{escape(i["url"])}">{escape(i["title"])}</a> · {escape(i["date"])}</li>'
                        for i in self._items(sel.posts))
        return f"<p>{len(sel.posts)} new post{'s' if len(sel.posts) != 1 else ''}:</p><ul>{items}</ul>"

    def _html(self, context: dict[str, object], items: list[dict[str, str]], full: int, listed: int) -> str:
        raw = render_template(self.env, "digest.html.j2", self.config, **context, full=items[:full],
                              more=items[full:full + listed], left=len(items) - full - listed)
        return self.inliner.inline(raw)


def preheader(sel: Selection, limit: int = 140) -> str:
    """The line a mail client shows after the subject: the count and the first titles."""
    count = len(sel.posts)
    text = f"{count} new post{'s' if count != 1 else ''}: " + " · ".join(p.title for p in sel.posts[:5])
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _tidy_text(text: str) -> str:
    """No leading blank lines, at most one blank line in a row, one newline at the end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


# -- the message --------------------------------------------------------------------------

def message_id(period: str, recipient: str, config: Config) -> str:
    """The same for the same (period, recipient); the address itself is not shown."""
    digest = hashlib.sha256(f"{addresses.list_id(config)}\n{period}\n{recipient.lower()}".encode()).hexdigest()[:24]
    return f"<digest.{period}.{digest}@{config.site.domain}>"


def build_message(config: Config, rendered: Rendered, period: str, recipient: Address, when: datetime,
                  msg_id: str) -> EmailMessage:
    """multipart/alternative: the text part first, then the HTML. Deterministic bytes."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = addresses.sender(config)
    msg["To"] = Address(one_line(recipient.display_name), addr_spec=recipient.addr_spec)  # its name too, in one line
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(when.astimezone(config.site.tz))
    msg["Message-ID"] = msg_id
    msg["List-Id"] = f"{one_line(config.site.title)} digest <{addresses.list_id(config)}>"
    msg["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in addresses.unsubscribe_links(config, recipient.addr_spec) if u)
    if config.digest.unsubscribe_url:
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["MIME-Version"] = "1.0"
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # A fixed boundary (from the content) instead of a random one: same input, same bytes.
    msg.set_boundary("=_" + hashlib.sha256(msg_id.encode() + rendered.html.encode()).hexdigest()[:32])
    return msg


#: The recipient a preview is addressed to.
PREVIEW_RECIPIENT = "reader@example.org"


def write_preview(config: Config, sel: Selection) -> list[tuple[Path, int]]:
    """The email as out/preview/<period>.html, .txt and .eml: (path, size in bytes) of each."""
    rendered = Renderer(config).render(sel, PREVIEW_RECIPIENT)
    msg = build_message(config, rendered, sel.period, parse_address(PREVIEW_RECIPIENT), sel.date,
                        message_id(sel.period, PREVIEW_RECIPIENT, config))
    folder = config.output.dir / "preview"
    files = []
    for suffix, data in ((".html", rendered.html.encode("utf-8")), (".txt", rendered.text.encode("utf-8")),
                         (".eml", msg.as_bytes())):
        path = folder / f"{sel.period}{suffix}"
        write_if_changed(path, data)
        files.append((path, len(data)))
    return files
