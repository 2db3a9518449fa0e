"""`[[input.html]]`: CSS selectors for the posts of saved pages whose markup guessing gets wrong.

One table per kind of page, as RSS-Bridge's CSS-selector bridge and FetchRSS take them::

    [[input.html]]
    match = "saved/news-*.html"      # a glob of the pages it is for (relative to this file's folder;
                                     # with no "/", of their file names: "news-*.html")
    item = "div.news-list > div.news" # one element per post (required)
    title = "h2"                     # inside an item; the others likewise, each optional
    link = "h2 a"
    date = ".date"
    date_format = "%d.%m.%Y"         # when the date's text needs one (strptime); else ISO or a written date
    author = ".by"
    content = ".teaser"
    categories = ".tags a"

The selectors are checked as CSS here, with soupsieve (what bs4 selects with), so a bad one
stops the load naming its key; the HTML reader (feeds.ingest.html.selectors) applies them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from pathlib import Path
from typing import Any

import soupsieve

from feeds.config.checks import Context
from feeds.errors import ConfigError

#: The selector keys of a table, besides `match` and `date_format`.
SELECTOR_KEYS = ("item", "title", "link", "date", "author", "content", "categories")


@dataclasses.dataclass(frozen=True)
class HtmlSelectors:
    """The selectors for the pages `match` names (an absolute glob once loaded)."""

    match: str
    item: str
    title: str = ""
    link: str = ""
    date: str = ""
    date_format: str = ""
    author: str = ""
    content: str = ""
    categories: str = ""

    def matches(self, path: str) -> bool:
        """Is the dump at `path` one of this table's pages? A glob with no "/" matches file names."""
        if "/" not in self.match and os.sep not in self.match:
            return fnmatch.fnmatchcase(os.path.basename(path), self.match)
        return fnmatch.fnmatchcase(os.path.abspath(path), self.match)


def html_selectors(key: str, value: Any, ctx: Context) -> tuple[HtmlSelectors, ...]:
    """The check of input.html: an array of tables, each with `match` and `item`."""
    if not isinstance(value, list):
        raise ConfigError(key, value, "an array of tables [[input.html]], each with match and item", ctx.source)
    return tuple(_table(f"{key}[{i}]", entry, ctx) for i, entry in enumerate(value))


def _table(key: str, entry: Any, ctx: Context) -> HtmlSelectors:
    if not isinstance(entry, dict):
        raise ConfigError(key, entry, "a table with match and item (CSS selectors for the posts)", ctx.source)
    known = {f.name for f in dataclasses.fields(HtmlSelectors)}
    for name, value in entry.items():
        if name not in known:
            raise ConfigError(f"{key}.{name}", value, f"one of the keys {', '.join(sorted(known))} (unknown key)",
                              ctx.source)
        if not isinstance(value, str):
            raise ConfigError(f"{key}.{name}", value, "a string", ctx.source)
    for name in ("match", "item"):
        if not entry.get(name, "").strip():
            raise ConfigError(f"{key}.{name}", entry.get(name, ""),
                              "a glob of the pages (e.g. \"saved/news-*.html\")" if name == "match" else
                              "a CSS selector for one post's element (e.g. \"div.news > article\")", ctx.source)
    for name in SELECTOR_KEYS:
        if entry.get(name, "").strip():
            _css(f"{key}.{name}", entry[name], ctx)
    if entry.get("date_format") and "%" not in entry["date_format"]:
        raise ConfigError(f"{key}.date_format", entry["date_format"],
                          "a strptime format such as \"%d.%m.%Y\" or \"%B %d, %Y\"", ctx.source)
    match = entry["match"].strip()
    if ctx.base is not None and ("/" in match or os.sep in match):
        match = str(Path(os.path.expanduser(match)) if os.path.isabs(os.path.expanduser(match))
                    else Path(os.path.abspath(ctx.base / match)))
    return HtmlSelectors(**{**{k: v.strip() for k, v in entry.items()}, "match": match})


def _css(key: str, value: str, ctx: Context) -> None:
    try:
        soupsieve.compile(value)
    except (soupsieve.SelectorSyntaxError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(key, value, f"a CSS selector ({first})", ctx.source) from None

