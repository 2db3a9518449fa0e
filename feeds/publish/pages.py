"""The HTML pages: a post's page, the index, a month's archive, the digests' index; rendered
from the page templates (one Jinja environment, strict: a name a template uses that is not
given is an error, not an empty string)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from feeds.config import Config
from feeds.digest.period import WORDS
from feeds.models import Entry
from feeds.publish.content import DigestItem, Links, human_date, month_name
from feeds.publish.templates import Templates, render_template, template_loader
from feeds.uri import uri

STYLESHEET = "feed.xsl"  # out/feed.xsl: what a browser shows for a feed
PAGE_TEMPLATES = ("post.html.j2", "index.html.j2", "archive.html.j2", "digests.html.j2")


def page_environment(config: Config, tz: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(config),
        autoescape=jinja2.select_autoescape(("html", "htm", "xml", "html.j2", "xml.j2"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["human_date"] = lambda dt: human_date(dt, tz)
    env.filters["iso"] = lambda dt: dt.astimezone(tz).isoformat(timespec="seconds")
    return env


class Pages(Links):
    """Renders the pages; `templates` are the pass's (loaded anew when not given)."""

    def __init__(self, config: Config, templates: Templates | None = None):
        super().__init__(config)
        self.templates = templates or Templates(config)
        self.env = self.templates.environment(("pages", self.tz), PAGE_TEMPLATES,
                                              lambda: page_environment(config, self.tz), [STYLESHEET])

    def render(self, template: str, **context: object) -> bytes:
        base = {"site": self.site, "config": self.config, "url": self.config.url, "feeds": True,
                "cadence": WORDS[self.config.digest.every]}
        return render_template(self.env, template, self.config, **{**base, **context}).encode("utf-8")

    def post_page(self, entry: Entry, url: str | None, *, category_slugs: Mapping[str, str] | None = None) -> bytes:
        """The post's page; with `category_slugs` (category feeds on), it links the feed of each of
        its categories (`categories`: name, and feed URL or None), in the order the post gives them."""
        slugs = category_slugs or {}
        categories = [{"name": c, "feed": self.config.url(f"categories/{slugs[c]}/atom.xml") if c in slugs else None}
                      for c in entry.categories]
        return self.render("post.html.j2", entry=entry, original_url=uri(url) if url else None, categories=categories,
                           content=self.body(entry), page_url=self.config.url(self.page_path(entry)))

    def index_page(self, newest: Sequence[Entry], months: Sequence[tuple[str, int]]) -> bytes:
        """The index: the newest posts with their summaries, then the archive by month."""
        return self.render("index.html.j2", entries=newest, feeds=bool(newest), months=[
            {"month": m, "name": self.month_name(m), "count": n, "path": f"archive/{m}.html"} for m, n in months])

    def archive_page(self, month: str, rows: Sequence[Any]) -> bytes:
        """Every post of one month (in the site's zone), newest first."""
        items = [{"title": r["title"], "summary": r["summary"], "slug": r["slug"],
                  "published": datetime.fromisoformat(r["published"])} for r in rows]
        return self.render("archive.html.j2", month=self.month_name(month), entries=items)

    def digests_index(self, digests: Sequence[DigestItem], *, feeds: bool = True) -> bytes:
        """The digests' index; `feeds`: the site's feeds exist (they come with its first entry)."""
        return self.render("digests.html.j2", digests=digests, feeds=feeds)

    @staticmethod
    def month_name(month: str) -> str:
        return month_name(month)
