"""A page's posts by the CSS selectors of an `[[input.html]]` table (feeds.config.selectors).

Each `item` element is a post. Its fields come from the table's selectors, run inside the
item; a field the table leaves out is taken as the reader takes it from a post element
(feeds.ingest.html.fields, and the structure's title rule). A selector that matches nothing
on the page is named in a warning, so a changed theme is noticed, not silently empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from bs4 import BeautifulSoup, Tag

from feeds.config.selectors import HtmlSelectors
from feeds.ingest.html.dates import ISO_TIME, parse_text_date
from feeds.ingest.html.fields import author_in, categories_in, post_body, published_in, title_link, truncated_in
from feeds.ingest.html.page import attr_of, text_of
from feeds.ingest.html.structure import block_title


@dataclasses.dataclass(frozen=True)
class Selected:
    """One item's fields as the selectors (or, where the table has none, the rules) give them."""

    item: Tag
    title: Tag | None
    href: str | None
    published: str | None
    author: str | None
    categories: tuple[str, ...]
    body: Tag
    truncated: Callable[[str | None], bool]  # given the post's absolute URL
    sources: tuple[tuple[str, str], ...]


def select_posts(soup: BeautifulSoup, rules: HtmlSelectors, path: str,
                 plausible: Callable[[str], bool]) -> tuple[list[Selected], list[str]]:
    """The items `rules` select, and a warning for each of its selectors that matched nothing."""
    items = list(soup.select(rules.item))
    found: list[Selected] = [_selected(item, rules, plausible) for item in items]
    warnings = []
    if not items:
        warnings.append(f"{path}: input.html selector item = {rules.item!r} matches nothing on this page")
    for name in ("title", "link", "date", "author", "content", "categories"):
        selector = getattr(rules, name)
        if selector and items and not any(item.select_one(selector) for item in items):
            warnings.append(f"{path}: input.html selector {name} = {selector!r} matches nothing in the items "
                            f"({rules.item!r})")
    return found, warnings


def _selected(item: Tag, rules: HtmlSelectors, plausible: Callable[[str], bool]) -> Selected:
    sources = []

    def pick(name: str) -> Tag | None:
        selector = getattr(rules, name)
        return item.select_one(selector) if selector else None

    title = pick("title")
    sources.append(("title", f"selector title = {rules.title!r}" if title is not None else "structure"))
    title = title if title is not None else block_title(item)
    link_el = pick("link")
    href = _href(link_el) if link_el is not None else (title_link(item) or (_href(title) if title else None))
    sources.append(("url", f"selector link = {rules.link!r}" if link_el is not None else "title link"))
    date_el = pick("date")
    published = _date(date_el, rules.date_format, plausible) if date_el is not None else published_in(item, plausible)
    sources.append(("published", f"selector date = {rules.date!r}" if date_el is not None else "fields"))
    author_el = pick("author")
    author = (text_of(author_el) or None) if author_el is not None else author_in(item)
    sources.append(("author", f"selector author = {rules.author!r}" if author_el is not None else "fields"))
    cats = tuple(dict.fromkeys(t for t in (text_of(c) for c in item.select(rules.categories)) if t)) \
        if rules.categories else categories_in(item)
    sources.append(("categories", f"selector categories = {rules.categories!r}" if rules.categories else "fields"))
    content = pick("content")
    body = post_body(content, None) if content is not None else post_body(item, title)
    return Selected(item, title, href, published, author, cats, body,
                    lambda url: truncated_in(item, body, url), tuple(sources))


def _href(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    a = tag if tag.get("href") else tag.find("a", href=True) or tag.find_parent("a", href=True)
    return attr_of(a, "href").strip() or None if isinstance(a, Tag) else None


def _date(tag: Tag, date_format: str, plausible: Callable[[str], bool]) -> str | None:
    """The date an element shows: its machine-readable value, else its text (with `date_format`,
    when given), as the page gives it or as the ISO date the text means."""
    for attr in ("datetime", "content", "title"):
        given = attr_of(tag, attr).strip()
        if given and ISO_TIME.fullmatch(given) and plausible(given):
            return given
    text = " ".join(text_of(tag).split())
    value: str | None
    if date_format:
        value = parse_date(text, date_format)
    else:
        day = parse_text_date(text)
        value = day.isoformat() if day else None
    return value if value and plausible(value) else None


def parse_date(text: str, date_format: str) -> str | None:
    """`text` read with `date_format` (strptime), as ISO: the whole text, else the first run of
    as many words as the format has, without a comma or bracket around them ("Posted
    05.12.2022, 9:00" with "%d.%m.%Y"); None when none fits."""
    words, width = text.split(), len(date_format.split())
    runs = (" ".join(words[i:i + width]).strip(",;:()|") for i in range(len(words) - width + 1))
    for candidate in (text, *runs):
        try:
            moment = datetime.strptime(candidate, date_format)
            break
        except ValueError:
            continue
    else:
        return None
    if any(d in date_format for d in ("%H", "%I", "%M")):
        return moment.isoformat()
    return moment.date().isoformat()
