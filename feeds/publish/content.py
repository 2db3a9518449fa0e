"""What every output says of an entry, whatever its format: its link, its page's path, its
body, and its dates in the site's zone; the records the outputs are rendered from."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.config import Config
from feeds.models import Entry
from feeds.normalise import blocks_from_text, body_html, continue_link, cut_html
from feeds.uri import uri

#: A post's body in a feed is cut at about this many characters of HTML (its page holds it
#: whole). libxml2, under most readers and under feedgen, refuses a text node over 10 MB, a
#: feed of 50 such posts would be 500 MB, and a reader shows the opening of a long post anyway.
FEED_CONTENT_CHARS = 100_000


@dataclasses.dataclass(frozen=True)
class DigestItem:
    """A past digest, for the digests' index and feed."""

    period: str  # 2025-W07 (a week), 2025-02-14 (a day), 2025-02 (a month)
    start: date  # its first day
    heading: str  # "Week of 10–16 February 2025", "14 February 2025", "February 2025"
    title: str  # the email's subject
    path: str  # digests/2025-W07.html
    url: str
    date: datetime
    posts: int
    content: str  # HTML: the list of its posts, for the feed


def human_date(dt: datetime, tz: ZoneInfo) -> str:
    d = dt.astimezone(tz)
    return f"{d.day} {d.strftime('%B')} {d.year}"


def month_name(month: str) -> str:
    year, number = month.split("-")
    return f"{datetime(int(year), int(number), 1).strftime('%B')} {year}"


def sample_entries(cfg: Config, now: datetime) -> list[tuple[Entry, str | None]]:
    """Two posts as a pass stores them (for `feeds check`, and to tell a template broken for every
    post from one that fails for one post): a cut one with its original URL, author and categories,
    and a whole one with none of those."""
    day = now - timedelta(days=1)
    cut = Entry(key="a sample post", id=f"tag:{cfg.site.domain},2025-01-01:a-sample-post", slug="a-sample-post",
                title="A sample post", source_html=None, summary="The opening of a sample post, as a summary.",
                text="The opening of a sample post.\n\n• a point\n• another", truncated=True, published=day,
                updated=now, date_source="inferred", first_seen=now, source="sample.txt:1", author="A. Writer",
                categories=("Samples",))
    whole = dataclasses.replace(cut, key="another sample", id=f"tag:{cfg.site.domain},2025-01-01:another-sample",
                                slug="another-sample", title="Another sample & more", truncated=False,
                                published=day - timedelta(days=1), author=None, categories=())
    return [(cut, "https://example.org/2025/01/a-sample-post/"), (whole, None)]


class Links:
    """An entry's link, page, body and dates, as the site's config makes them."""

    def __init__(self, config: Config):
        self.config = config
        self.site = config.site
        self.tz = config.site.tz

    def page_path(self, entry: Entry) -> str:
        return f"posts/{entry.slug}.html"

    def link(self, entry: Entry, url: str | None) -> str:
        """An entry's link: the original URL when a dump gave one, else its page here. (A URL an
        older version stored as the page gave it, with spaces, is percent-encoded: feeds.uri.)"""
        return (uri(url) if url else None) or self.config.url(self.page_path(entry))

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def local_iso(self, dt: datetime) -> str:
        return self.local(dt).isoformat(timespec="seconds")

    def human_date(self, dt: datetime) -> str:
        return human_date(dt, self.tz)

    @staticmethod
    def body(entry: Entry) -> str:
        """The body as HTML: as the dump gave it, or paragraphs and lists made from the text."""
        return entry.source_html if entry.source_html is not None else body_html(blocks_from_text(entry.text))

    def content(self, entry: Entry, url: str | None = None) -> str:
        """The body for a feed: a cut post ends with a link to where it is whole (or to its page).
        A body longer than FEED_CONTENT_CHARS is cut (at a block's end) and ends with a link to
        its page, which holds it whole."""
        body = self.body(entry)
        if len(body) > FEED_CONTENT_CHARS:
            return continue_link(cut_html(body, FEED_CONTENT_CHARS), entry.title,
                                 url if entry.truncated and url else self.config.url(self.page_path(entry)),
                                 self.config.input.marker)
        if entry.truncated:
            return continue_link(body, entry.title, url or self.config.url(self.page_path(entry)),
                                 self.config.input.marker)
        return body
