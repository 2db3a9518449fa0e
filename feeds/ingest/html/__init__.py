"""The HTML reader: a saved page's posts, finished (feeds.ingest.reader).

The page is read by .posts (which finds the post elements and their fields, with .page,
.fields and .dates); here each post becomes a `Post`: its text as blocks, its date as an
aware time (.dates.explicit_time), its body sanitised (.sanitise). The parsed page (bs4
objects) stays inside this package.
"""

from __future__ import annotations

import logging

from feeds.errors import DumpError
from feeds.ingest.html.dates import explicit_time
from feeds.ingest.html.page import block_texts
from feeds.ingest.html.posts import HtmlPage, read_html
from feeds.ingest.html.sanitise import clean_html
from feeds.ingest.reader import Found, Settings, Source
from feeds.models import Block, Post

SUFFIXES = (".html", ".htm", ".xhtml")


def read(source: Source, settings: Settings) -> Found:
    """The posts of a saved HTML page, their bodies cleaned and their dates read."""
    try:
        page = read_html(source.path, source.data, settings.site_url, source.latest, encoding=settings.encoding,
                         language=settings.language, deadline=source.deadline, max_posts=source.max_posts,
                         selectors=settings.html)
        posts = _finished(page, source, settings)
    except (ValueError, RecursionError) as exc:  # markup or URLs no parser can make sense of
        raise DumpError(source.path, f"cannot be read as an HTML page ({type(exc).__name__}: {exc})") from None
    return Found(posts, tuple((logging.WARNING, w) for w in page.warnings))


def _finished(page: HtmlPage, source: Source, settings: Settings) -> tuple[Post, ...]:
    posts = []
    for i, hp in enumerate(page.posts):
        source.deadline.check()
        texts = block_texts(hp.body_element)
        posts.append(Post(
            dump=source.path, title=hp.title, start_line=hp.line, end_line=hp.line, truncated=hp.truncated,
            body=tuple(Block(hp.line, t) for t in texts), position=i, url=hp.url,
            published=explicit_time(hp.published, settings.tz, source.latest, i), author=hp.author,
            categories=hp.categories, html=clean_html(hp.body, page.base, source.deadline)))
    return tuple(posts)
