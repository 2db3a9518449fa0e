"""The tables of ``feeds.toml`` as frozen dataclasses: each key declared once, in one place.

A key is a field: its type is the annotation, and ``key(default, check, help)`` gives
its default, the check its value goes through (feeds.config.checks) and the line of help
that ``feeds init`` writes above it (feeds.starter). A new key is one field, e.g.::

    every: int = key(1, _whole(1, 52, "a whole number of weeks from 1 to 52"), "a digest every this many weeks")

`example` is for a key whose default is worked out or none: the starter leaves it commented
out with that example. `from_folder` marks a path whose default is taken from the file's
folder as a written one is, so a file that leaves it out works from any directory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from feeds.config import checks
from feeds.config.checks import DUMP_BYTES, MAX_DUMP_BYTES, MAX_ENTRIES, WEEKDAYS, Context
from feeds.config.selectors import HtmlSelectors, html_selectors

T = TypeVar("T")
Check = Callable[[str, Any, Context], Any]


def key(default: T, check: Check, help: str, *, example: str | None = None, from_folder: bool = False) -> T:
    """A key of a table; see the module's docstring."""
    return dataclasses.field(default=default, metadata={"check": check, "help": help, "example": example,
                                                        "from_folder": from_folder})


#: input.chrome by default: lines that start a blog's chrome at the end of a page.
DEFAULT_CHROME = (
    "Leave a Reply", "Leave a Comment", "Leave a reply", "Cancel reply", "Share this:", "Like this:",
    "Post navigation", "Posts navigation", "Older posts", "Newer posts", "« Older Entries",
    "Newer Entries »", "Load more", "Related posts", "Related",
)

#: input.markers by default: phrases that cut a post short, in several languages.
DEFAULT_MARKERS = ("Continue reading", "Read more", "Weiterlesen", "Lire la suite", "Leer más", "Leggi tutto",
                   "Читать далее", "[…]", "[...]", "…")

_LANGUAGE = partial(checks.matching, pattern=r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*",
                    expected="a language tag such as 'en' or 'en-GB'")


@dataclasses.dataclass(frozen=True)
class Site:
    """The site the feeds stand for, and where out/ is published."""

    title: str = key("feeds", partial(checks.nonempty, expected="a non-empty title"),
                     "the feeds' and the pages' title, and the digest's sender name")
    url: str = key("", partial(checks.url, empty_ok=True),
                   "the original site's address, e.g. \"https://example.org/\": the feeds' identity, the domain "
                   "of entry ids and of the digest's sender (empty: taken from base_url)")
    base_url: str = key("http://127.0.0.1:8000/", checks.base_url,
                        "where out/ is served; every link in the feeds, pages and digest is made absolute with it "
                        "(a loopback address is for previews: no digest is mailed over SMTP with it)")
    author: str = key("", checks.text, "the feeds' author (empty: the title)")
    language: str = key("en", _LANGUAGE, "language tag of the feeds and pages, such as \"en\" or \"en-GB\"")
    timezone: str = key("UTC", checks.timezone,
                        "IANA time zone of the site: dates are shown, and the digest's weeks counted, in it")
    description: str = key("", checks.text, "the feeds' subtitle and the index page's introduction")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return urlsplit(self.url or self.base_url).hostname or "localhost"


@dataclasses.dataclass(frozen=True)
class Input:
    """The dumps: text listing pages or saved HTML pages."""

    paths: tuple[str, ...] = key(("seeds/*.txt",), checks.globs,
                                 "dump files, as paths or globs (relative to this file's folder); .html/.htm files "
                                 "are read as HTML", from_folder=True)
    marker: str = key("Continue reading", partial(
        checks.nonempty, expected="the phrase that ends a cut post, such as 'Continue reading'"),
        "the phrase that ends a cut post (other themes: \"Read more\")")
    markers: tuple[str, ...] = key(DEFAULT_MARKERS, partial(checks.strings, empty_ok=True),
                                   "more phrases that cut a post short, at the start of a line or ending a paragraph "
                                   "line (besides marker)")
    chrome: tuple[str, ...] = key(DEFAULT_CHROME, partial(checks.strings, empty_ok=True),
                                  "lines that start site chrome at the end of a page (left out of posts)")
    encoding: str = key("", checks.encoding, "the encoding of dumps that are not UTF-8 and declare none, such as "
                                      "\"windows-1252\" (empty: guessed, with a warning)")
    follow_links: bool = key(False, checks.boolean, "also read dumps that symbolic links lead to outside the folders "
                                             "paths names (false: such links are skipped, and named)")
    max_bytes: int = key(DUMP_BYTES, partial(
        checks.whole, low=1, high=MAX_DUMP_BYTES,
        expected=f"a whole number of bytes, at least 1 and at most {MAX_DUMP_BYTES} (a dump is read whole into "
                 f"memory; the default is {DUMP_BYTES}, 20 MB)"),
        "a dump larger than this many bytes is named and skipped, not read (20971520: 20 MB)")
    html: tuple[HtmlSelectors, ...] = key(
        (), html_selectors, "CSS selectors for the posts of saved pages that guessing reads wrong: [[input.html]] "
        "tables, each with match (a glob of pages), item, and optional title, link, date, date_format (strptime), "
        "author, content, categories (default: none, the pages are read by their markup and structure)",
        example='[{ match = "saved/news-*.html", item = "div.news", title = "h2", date = ".date", '
                'date_format = "%d.%m.%Y" }]')


@dataclasses.dataclass(frozen=True)
class Output:
    """What a pass publishes."""

    dir: Path = key(Path("out"), checks.folder, "where everything published goes; a folder apart from the dumps",
                    from_folder=True)
    max_entries: int = key(50, partial(
        checks.whole, low=1, high=MAX_ENTRIES,
        expected=f"a whole number of at least 1 and at most {MAX_ENTRIES} (each feed file holds that many "
                 "entries with their text: 100000 already makes files of hundreds of MB)"),
        "entries in each feed, newest first (at most 100000)")
    templates: Path | None = key(None, checks.templates,
                                 "a folder of your own Jinja2 templates (pages, digest, feed.xsl) that replace the "
                                 "built-in ones file by file: copy one and edit it (default: none)",
                                 example='"templates"')
    hub: str = key("", partial(checks.url, empty_ok=True), "a WebSub hub URL, named in the feeds (empty: none)")
    category_feeds: bool = key(False, checks.boolean, "also an Atom feed per category, out/categories/<slug>/atom.xml")


@dataclasses.dataclass(frozen=True)
class State:
    """What feeds remembers between passes (not published)."""

    path: Path = key(Path("state/feeds.sqlite3"), checks.database,
                     "the SQLite database of every post seen and every digest sent; outside output.dir",
                     from_folder=True)


def _whole(low: int, high: int, expected: str) -> Check:
    return partial(checks.whole, low=low, high=high, expected=expected)


@dataclasses.dataclass(frozen=True)
class Digest:
    """The digest email, a day's, a week's or a month's. With no recipients it is still composed and archived
    under out/digests/."""

    every: str = key("week", partial(checks.choice, options=("day", "week", "month")),
                     "the digest's period: \"day\", \"week\" (an ISO week) or \"month\", in site.timezone")
    weekday: str = key("monday", checks.weekday, "a week's digest is due on this day after the week ends …")
    day: int = key(1, _whole(1, 31, "a day of the month from 1 to 31 (past a month's last day: its last day)"),
                   "… a month's on this day of the next month (1-31; past its last day: its last day) …")
    hour: int = key(8, _whole(0, 23, "an hour from 0 to 23"),
                    "… at this hour (0-23), in site.timezone (a day's: the next day)")
    window_days: int = key(7, _whole(0, 3660, "a whole number of days, 0 or more"),
                           "posts published more than this many days before the period are left out (a back-fill "
                           "does not flood the digest)")
    max_full: int = key(20, _whole(1, 500, "a whole number from 1 to 500"),
                        "posts shown with their summaries; the rest are listed as links")
    sender: str = key("", checks.address,
                      "the From address (default: site.title at digest@<site.url's host>; with site.url empty, set "
                      "it to mail over SMTP); its domain's SPF and DMARC must allow mail.host",
                      example='"Example digest <digest@example.org>"')
    recipients: tuple[str, ...] = key((), checks.addresses, "addresses to mail the digest to: \"a@example.org\" or "
                                                     "\"Name <a@example.org>\"")
    recipients_file: Path | None = key(None, checks.path, "a file with one address per line ('#' starts a comment), "
                                                   "besides recipients (default: none)", example='"recipients.txt"')
    list_id: str = key("", partial(checks.matching, pattern=r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
                                   expected="a dotted name such as 'digest.example.org' (RFC 2919)"),
                       "the List-Id header (default: digest.<site domain>)", example='"digest.example.org"')
    unsubscribe_url: str = key("", checks.unsubscribe_url,
                               "https URL for one-click unsubscribe (RFC 8058); {email} is replaced by the address "
                               "(default: none)", example='"https://example.org/unsubscribe?email={email}"')
    unsubscribe_mailto: str = key("", partial(checks.matching, pattern=r"mailto:[^@\s]+@[^@\s]+",
                                              expected="a mailto: URL such as 'mailto:unsubscribe@example.org'"),
                                  "mailto: URL to unsubscribe; {email} likewise (default: a mail to the sender "
                                  "with the subject 'unsubscribe')",
                                  example='"mailto:leave@example.org?subject=unsubscribe%20{email}"')

    @property
    def weekday_number(self) -> int:
        return WEEKDAYS.index(self.weekday)


@dataclasses.dataclass(frozen=True)
class Mail:
    """Delivery: over SMTP when host is set, else .eml files in the outbox (nothing is mailed)."""

    host: str = key("", partial(checks.matching, pattern=r"[A-Za-z0-9.:\[\]-]+",
                                expected="a host name such as 'smtp.example.org'", empty_ok=True),
                    "SMTP server, such as \"smtp.example.org\" (empty: messages are written to the outbox)")
    port: int = key(0, _whole(0, 65535, "a port number (0: the usual one for mail.security)"),
                    "0: the usual port for security (587 starttls, 465 tls, 25 none)")
    security: str = key("starttls", partial(checks.choice, options=("starttls", "tls", "none")),
                        "\"starttls\", \"tls\" (implicit TLS, port 465) or \"none\" (a local relay)")
    username: str = key("", checks.text, "SMTP login (empty: no login)")
    password_env: str = key("FEEDS_SMTP_PASSWORD", partial(
        checks.matching, pattern=r"[A-Za-z_][A-Za-z0-9_]*",
        expected="the name of an environment variable, such as FEEDS_SMTP_PASSWORD (the password itself never "
                 "goes in this file)"),
        "the environment variable that holds the SMTP password (never put it in this file)")
    timeout: int = key(30, _whole(1, 600, "a number of seconds from 1 to 600"), "seconds to wait for each SMTP step")
    attempts: int = key(4, _whole(1, 20, "a whole number from 1 to 20"),
                        "tries per recipient per pass after temporary failures")
    backoff: float = key(2.0, checks.seconds, "seconds before the second try, doubled for each one after")
    outbox: Path | None = key(None, checks.folder,
                              "where .eml files go when host is empty (default: <output.dir>/outbox)",
                              example='"outbox"')
    cafile: Path | None = key(None, checks.existing_file, "PEM certificates to trust besides the system's, for a relay "
                                                   "with its own CA (default: none)",
                              example='"/etc/ssl/certs/relay-ca.pem"')

    @property
    def smtp_port(self) -> int:
        return self.port or {"starttls": 587, "tls": 465, "none": 25}[self.security]


@dataclasses.dataclass(frozen=True)
class Loop:
    """`feeds loop`: passes on a schedule."""

    interval: int = key(15, _whole(1, 7 * 24 * 60, "a number of minutes from 1 to 10080 (a week)"),
                        "minutes between the passes of `feeds loop` (it also runs one at the digest's time)")


def _endpoint(key: str, value: Any, ctx: Context) -> str:
    """The endpoint's public URL (links are made by appending to it), or empty: no endpoint."""
    return checks.base_url(key, value, ctx) if value != "" else ""


@dataclasses.dataclass(frozen=True)
class Web:
    """The subscription endpoint (`feeds serve`, or feeds.web:app behind a WSGI server): the form,
    confirmation links and one-click unsubscribe. With url empty there is none."""

    url: str = key("", _endpoint,
                   "the endpoint's public URL, such as \"https://example.org/list/\": every digest's unsubscribe "
                   "link and every confirmation link start with it (empty: no endpoint)")
    secret_env: str = key("FEEDS_SECRET", partial(
        checks.matching, pattern=r"[A-Za-z_][A-Za-z0-9_]*",
        expected="the name of an environment variable, such as FEEDS_SECRET (the secret itself never goes in "
                 "this file)"),
        "the environment variable that holds the secret signing the links (never put it in this file); make "
        "one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    confirm_hours: int = key(48, _whole(1, 24 * 30, "a number of hours from 1 to 720"),
                             "hours a confirmation link stays valid")
    per_address_hour: int = key(3, _whole(1, 100, "a whole number from 1 to 100"),
                                "confirmation mails to one address per hour, at most")
    per_client_hour: int = key(10, _whole(1, 10000, "a whole number from 1 to 10000"),
                               "confirmation mails asked for by one client (IP address) per hour, at most")
