"""The site's files besides the posts' pages and the archive: the registry `OUTPUTS`, in the
order they are written, and what renders each (from the step's `Site`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from feeds.publish.pages import STYLESHEET
from feeds.publish.plan import Family, Output
from feeds.publish.render import FEED_FILES
from feeds.publish.site import Site

#: Category feeds read the entries they list this many at a time, for as many categories as
#: they serve.
CHUNK = 500


def stylesheet(site: Site) -> bytes:
    """out/feed.xsl, what a browser shows for a feed: the template's file as it is."""
    return site.pub.templates.file(STYLESHEET).read_bytes()


def entries_feed(name: str) -> Callable[[Site], bytes | None]:
    """The site's feed published at `name` (atom.xml, rss.xml, feed.json): its newest entries,
    but those that fail to render (EntryBoundary)."""
    def render(site: Site) -> bytes | None:
        return site.boundary.feed([(s.entry, s.url) for s in site.newest], name)
    return render


def index(site: Site) -> bytes:
    """The index: the newest entries whose page is there, and the archive's months."""
    return site.pub.index_page([s.entry for s in site.newest if s.entry.key not in site.boundary.unpublished],
                               site.months)


def category_feeds(site: Site) -> Iterator[tuple[str, bytes | None]]:
    """categories/<slug>/atom.xml for every category: its newest entries (None: none renders).

    Every category's entries are found in one walk over the entries, and read a CHUNK of
    entries at a time for as many categories as they serve: the work grows with the entries
    the feeds list, not with categories times entries stored."""
    newest = site.read.newest_by_category(site.config.output.max_entries)
    group: list[str] = []
    keys: set[str] = set()
    for category in sorted(newest):
        group.append(category)
        keys.update(newest[category])
        if len(keys) >= CHUNK:
            yield from _category_group(site, newest, group, keys)
            group, keys = [], set()
    yield from _category_group(site, newest, group, keys)


def _category_group(site: Site, newest: dict[str, list[str]], group: list[str],
                    keys: set[str]) -> Iterator[tuple[str, bytes | None]]:
    stored = site.read.get_many(sorted(keys))
    for category in group:
        name = f"categories/{site.slugs[category]}/atom.xml"
        yield name, site.boundary.feed([(stored[k].entry, stored[k].url) for k in newest[category]], name,
                                       topic=category)


OUTPUTS: tuple[Output | Family, ...] = (
    Output(STYLESHEET, stylesheet),
    *(Output(name, entries_feed(name), durable=True, needs_entries=True, required=True) for name in FEED_FILES),
    Family("categories/*/atom.xml", category_feeds, durable=True, enabled=lambda config: config.output.category_feeds,
           why="no entries in that category any more"),
    Output("index.html", index, durable=True, required=True),
)
