"""Atom and RSS: the only module that imports feedgen and lxml.

feedgen's quirks stay here: ``add_entry`` prepends unless told to append; the RSS
channel ``<link>`` is the last ``link()`` given, so the self link goes first; any
date left unset becomes the build time, so every date is set from the entries.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import escape

from feeds import __version__
from feeds.digest.period import WORDS
from feeds.models import Entry
from feeds.publish.content import DigestItem, Links
from feeds.publish.pages import STYLESHEET
from feeds.xmlchars import strip_xml_forbidden

ATOM = "http://www.w3.org/2005/Atom"

# What a reader that guesses (feedparser, SimplePie) takes for markup in an RSS title: a tag's
# start, or an entity's (SimplePie needs no ';'). A little more than either takes, never less.
_LOOKS_LIKE_MARKUP = re.compile(r"<[/!?\w]|&[#\w]")


def rss_text(text: str, *, html_element: bool = False) -> str:
    """Plain text made to display as that text in an RSS element. RSS says nothing of a title's
    type and readers treat `description` as HTML: so a description is always escaped for HTML,
    and a title only when a reader would take it for markup (escaped always, "Tom & Jerry" would
    show as "Tom &amp; Jerry" in a reader that takes titles as text). Atom says type="text"."""
    if html_element or _LOOKS_LIKE_MARKUP.search(text):
        return html.escape(text, quote=False)
    return text


def xml_safe(entry: Entry, url: str | None) -> tuple[Entry, str | None]:
    """The entry and its URL without characters XML forbids, which lxml (under feedgen) refuses.
    The readers strip them at ingest; this is for entries an older version stored with them,
    which would otherwise stop every pass from publishing."""
    def clean(text: str | None) -> str | None:
        return None if text is None else strip_xml_forbidden(text)
    return dataclasses.replace(
        entry, id=strip_xml_forbidden(entry.id), title=strip_xml_forbidden(entry.title),
        summary=strip_xml_forbidden(entry.summary), text=strip_xml_forbidden(entry.text),
        source_html=clean(entry.source_html), author=clean(entry.author),
        categories=tuple(map(strip_xml_forbidden, entry.categories))), clean(url)


def styled(data: bytes, name: str) -> bytes:
    """A feed, published at `name` under out/, that a browser shows as a page (out/feed.xsl)
    instead of as raw XML. The link is relative: a browser applies a stylesheet only from the
    feed's own origin, and it works wherever out/ is served."""
    stylesheet = "../" * name.count("/") + STYLESHEET
    declaration, rest = data.split(b"\n", 1)
    return declaration + f'\n<?xml-stylesheet type="text/xsl" href="{escape(stylesheet)}"?>\n'.encode() + rest


def entries_feed(pub: Links, entries: Sequence[tuple[Entry, str | None]], name: str, title: str, *,
                 topic: bool = False) -> bytes:
    """The Atom or RSS feed (as `name` ends) of `entries` (newest first), published at `name`;
    `topic`: a category's feed, whose id is its folder."""
    kind = name.rsplit("/", 1)[-1]
    site, config = pub.site, pub.config
    fg = _generator(pub, config.url(name.rsplit("/", 1)[0] + "/") if topic else site.url or site.base_url,
                    title, site.description or site.title, name, site.base_url, (e.updated for e, _ in entries),
                    hub=kind == "atom.xml")
    authors = kind == "rss.xml" and any(e.author for e, _ in entries)
    if authors:  # RSS's <author> wants an email address: a name goes in <dc:creator>
        fg.load_extension("dc", atom=False, rss=True)
    for entry, url in (xml_safe(e, u) for e, u in entries):
        _item(pub, fg.add_entry(order="append"), entry, url, kind, authors=authors)
    if kind == "atom.xml":
        return styled(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True), name)
    fg.ttl(60)
    data = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return styled(_rss_hub(data, config.output.hub) if config.output.hub else data, name)


def _item(pub: Links, fe: FeedEntry, entry: Entry, url: str | None, kind: str, *, authors: bool) -> None:
    fe.id(entry.id)
    fe.title(rss_text(entry.title) if kind == "rss.xml" else entry.title)
    fe.link(href=pub.link(entry, url), rel="alternate", type="text/html")
    fe.published(pub.local(entry.published))
    fe.updated(pub.local(entry.updated))
    if entry.author and kind == "atom.xml":
        fe.author({"name": entry.author})
    elif entry.author and authors:
        fe.dc.dc_creator(entry.author)
    if entry.categories:  # in one call: feedgen remakes its RSS list of them on each
        fe.category([{"term": c} for c in entry.categories])
    fe.summary(rss_text(entry.summary, html_element=True) if kind == "rss.xml" else entry.summary)
    fe.content(pub.content(entry, url), type="html")  # after summary(): keeps type="html"


def digests_feed(pub: Links, digests: Sequence[DigestItem]) -> bytes:
    """The Atom feed of past digests (digests/atom.xml), newest first."""
    site, config = pub.site, pub.config
    name = "digests/atom.xml"
    words = WORDS[config.digest.every]
    fg = _generator(pub, config.url("digests/"), f"{site.title}: {words.adjective} digests",
                    f"Every {words.unit}'s new posts of {site.title}, as sent to the mailing list "
                    f"({words.unit}s not mailed: the posts published in them)", name,
                    config.url("digests/index.html"), (d.date for d in digests))
    for d in digests:
        fe = fg.add_entry(order="append")
        fe.id(f"tag:{site.domain},{d.start.isoformat()}:digest/{d.period}")
        fe.title(d.title)
        fe.link(href=d.url, rel="alternate", type="text/html")
        fe.published(pub.local(d.date))
        fe.updated(pub.local(d.date))
        fe.content(strip_xml_forbidden(d.content), type="html")  # (titles of posts: see xml_safe)
    return styled(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True), name)


def _generator(pub: Links, feed_id: str, title: str, subtitle: str, name: str, alternate: str,
               times: Iterable[datetime], *, hub: bool = False) -> FeedGenerator:
    """A FeedGenerator with what every feed here has: id, titles, the site's author and
    language, its self link (`name`, under out/) first (then the WebSub hub, if `hub`),
    then the page it stands for, and the newest of `times` as its updated time (never the
    build time). A feed has an entry: with none there is no time to give it that is not
    made up (the build time, 1970), so no feed is written until it has one."""
    site, config = pub.site, pub.config
    if name.endswith("rss.xml"):
        title, subtitle = rss_text(title), rss_text(subtitle, html_element=True)  # (subtitle: RSS's description)
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle)
    fg.author({"name": site.author or site.title})
    fg.link(href=config.url(name), rel="self",
            type="application/rss+xml" if name.endswith("rss.xml") else "application/atom+xml")
    if hub and config.output.hub:
        fg.link(href=config.output.hub, rel="hub")
    fg.link(href=alternate, rel="alternate", type="text/html")
    fg.language(site.language)
    fg.generator("feeds", version=__version__)
    fg.updated(pub.local(max(times)))
    return fg


def _rss_hub(data: bytes, hub: str) -> bytes:
    """WebSub's hub link in RSS, which feedgen leaves out: <atom:link rel="hub"> in the channel."""
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(data, parser)
    channel = root.find("channel")
    assert channel is not None
    link = etree.Element(f"{{{ATOM}}}link", nsmap={"atom": ATOM})
    link.set("href", hub)
    link.set("rel", "hub")
    self_link = channel.find(f"{{{ATOM}}}link")
    channel.insert(list(channel).index(self_link) + 1 if self_link is not None else 0, link)
    return etree.tostring(root.getroottree(), pretty_print=True, xml_declaration=True, encoding="UTF-8")
