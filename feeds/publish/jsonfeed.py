"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of the same entries as Atom and RSS."""

from __future__ import annotations

import json
from collections.abc import Sequence

from feeds.models import Entry
from feeds.publish.content import Links


def json_feed(pub: Links, entries: Sequence[tuple[Entry, str | None]], name: str, title: str) -> bytes:
    """The JSON Feed of `entries` (newest first), published at `name` under out/."""
    site, config = pub.site, pub.config
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1", "title": title,
        "home_page_url": site.base_url, "feed_url": config.url(name),
        "description": site.description or site.title, "language": site.language,
        "authors": [{"name": site.author or site.title}],
    }
    if config.output.hub:
        feed["hubs"] = [{"type": "WebSub", "url": config.output.hub}]
    feed["items"] = [_item(pub, entry, url) for entry, url in entries]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(pub: Links, entry: Entry, url: str | None) -> dict[str, object]:
    item: dict[str, object] = {
        "id": entry.id, "url": pub.link(entry, url), "title": entry.title,
        "content_html": pub.content(entry, url), "summary": entry.summary,
        "date_published": pub.local_iso(entry.published), "date_modified": pub.local_iso(entry.updated)}
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    if entry.categories:
        item["tags"] = list(entry.categories)
    return item
