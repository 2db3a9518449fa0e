"""The records the HTML reader gives: a page (`HtmlPage`) and its posts (`HtmlPost`), the
post elements and fields as .posts and .listing find them. bs4 objects stay in this package."""

from __future__ import annotations

import dataclasses

from bs4 import Tag

from feeds.ingest.html.structure import Listing


@dataclasses.dataclass(frozen=True)
class HtmlPost:
    title: str
    url: str | None  # absolute
    published: str | None  # as the page gives it: a machine-readable value, or the ISO date a text means
    author: str | None
    categories: tuple[str, ...]
    body: str  # the content element's HTML, widgets and comments left out (feeds.ingest.html.sanitise sanitises it)
    body_element: Tag = dataclasses.field(repr=False, compare=False)
    truncated: bool = False
    line: int = 1  # where the post starts in the file
    #: which rule found the post and each field, for `feeds inspect --explain`: (field, rule)
    sources: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False)


@dataclasses.dataclass(frozen=True)
class HtmlPage:
    kind: str  # "listing" or "post"
    url: str | None  # the page's own URL (canonical), if it says
    base: str | None  # what its relative links are relative to
    posts: tuple[HtmlPost, ...]
    warnings: tuple[str, ...] = ()  # for the log: what was wrong with the page and was mended or left out
    #: the list of posts the page's structure shows, when no markup or selector marked them (for --explain)
    structure: Listing | None = dataclasses.field(default=None, compare=False, repr=False)
