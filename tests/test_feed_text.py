"""Text is text in every feed: a title or a summary full of what looks like markup (`<video>`,
`&`, `&amp;`, quotes) shows in a reader as exactly that text, in Atom, RSS and JSON Feed.

feedparser, which most readers build on, says how it takes each element (`type`): plain text
is shown as it is; HTML is shown as a browser would show it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import lxml.html
import pytest
from conftest import shown
from lxml import etree

from feeds import config
from feeds.models import Entry
from feeds.publish.render import Publisher
from feeds.publish.templates import template_file

TITLE = """<video> & <b>bold</b> "double" 'single' &amp; &copy; AT&T a < b > c"""
SUMMARY = """A post about <video src="clip.mp4"> & <script>alert(1)</script>, "quoted", 'single', \
&amp; &lt;b&gt; &nbsp;and AT&T; 1 < 2 > 0 &"""
SITE_TITLE = """Ben & Jerry's <i>notes</i> &amp; "news\""""
SITE_DESCRIPTION = """Posts <br> from <a href="x">here</a> & &amp; there"""
WHEN = datetime(2025, 2, 3, 12, tzinfo=UTC)
CFG = config.parse({"site": {"title": SITE_TITLE, "description": SITE_DESCRIPTION, "url": "https://example.org/",
                             "timezone": "UTC"}})


def entry(title: str = TITLE, summary: str = SUMMARY) -> Entry:
    return Entry(key="k", id="tag:example.org,2025-02-03:x", slug="x", title=title, source_html=None,
                 summary=summary, text="body", truncated=False, published=WHEN, updated=WHEN,
                 date_source="inferred", first_seen=WHEN, source="d:1")


@pytest.mark.parametrize("kind", ["atom.xml", "rss.xml"])
def test_titles_and_summaries_arrive_as_text_in_atom_and_rss(kind):
    parsed = feedparser.parse(Publisher(CFG).feed([(entry(), None)], kind))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    [item] = parsed.entries
    assert shown(item.title_detail) == TITLE
    assert shown(item.summary_detail) == SUMMARY
    assert shown(parsed.feed.title_detail) == SITE_TITLE
    assert shown(parsed.feed.subtitle_detail) == SITE_DESCRIPTION


@pytest.mark.parametrize("title", ["Tom & Jerry", "a < b", "1 > 0", "Fish & chips: 5 < 6"])
def test_an_rss_title_that_does_not_look_like_markup_is_not_escaped_for_html(title):
    """Escaped once, for XML only: a reader that takes an RSS title as text shows it right too."""
    data = Publisher(CFG).feed([(entry(title=title), None)], "rss.xml")
    written = etree.fromstring(data).findtext("channel/item/title")
    assert written == title
    item = feedparser.parse(data).entries[0]
    assert item.title_detail.type == "text/plain" and item.title == title


def test_titles_and_summaries_arrive_as_text_in_json_feed():
    feed = json.loads(Publisher(CFG).feed([(entry(), None)], "feed.json"))
    [item] = feed["items"]
    assert item["title"] == TITLE and item["summary"] == SUMMARY
    assert feed["title"] == SITE_TITLE and feed["description"] == SITE_DESCRIPTION


@pytest.mark.parametrize("kind", ["atom.xml", "rss.xml"])
def test_a_browser_shows_the_text_through_the_feeds_stylesheet(kind):
    """What out/feed.xsl makes of the feed in a browser (libxslt, as in Chromium): the same text."""
    xslt = etree.XSLT(etree.parse(str(template_file(CFG, "feed.xsl"))))
    page = lxml.html.fromstring(str(xslt(etree.fromstring(Publisher(CFG).feed([(entry(), None)], kind)))))
    assert page.findtext(".//h1") == SITE_TITLE
    assert page.xpath("string(//h1/following-sibling::p[1])") == SITE_DESCRIPTION
    assert page.xpath("string(//h2/a)") == TITLE
    assert page.xpath("string(//h2/following-sibling::p[2])") == SUMMARY
