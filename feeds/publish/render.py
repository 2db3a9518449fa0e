"""One object that renders every output of the site, each in its own module: pages
(`pages`), Atom and RSS (`feeds`), JSON Feed (`jsonfeed`)."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.models import Entry
from feeds.publish import feeds, jsonfeed
from feeds.publish.content import DigestItem
from feeds.publish.pages import Pages
from feeds.xmlchars import strip_xml_forbidden

FEED_FILES = ("atom.xml", "rss.xml", "feed.json")


class Publisher(Pages):
    """The pages, and the feeds of the entries and of the digests."""

    def feed(self, entries: Sequence[tuple[Entry, str | None]], name: str, *, topic: str | None = None) -> bytes:
        """The feed of `entries` (newest first) published at `name` (a path under out/ ending in
        atom.xml, rss.xml or feed.json); `topic` names a category feed's category."""
        # (a category an older version stored may hold characters XML forbids)
        title = f"{self.site.title}: {strip_xml_forbidden(topic)}" if topic else self.site.title
        if name.rsplit("/", 1)[-1] == "feed.json":
            return jsonfeed.json_feed(self, entries, name, title)
        return feeds.entries_feed(self, entries, name, title, topic=bool(topic))

    def digests_feed(self, digests: Sequence[DigestItem]) -> bytes:
        """The Atom feed of past digests (digests/atom.xml), newest first."""
        return feeds.digests_feed(self, digests)
