"""A post's title: the text of its heading without what is printed inside the heading but
is not the title, and on a post's own page, the heading that the page's structured data
(.structured.title_variants) names.

- Inside a heading, a `<time>`, and an element whose class says it is a kicker or roofline,
  an overline or eyebrow, a badge or label, a category or tag, or a date, is not title
  ("<h1><span class=roofline>Wow!</span>The title</h1>": "The title").
- On a post's page the title is what JSON-LD `headline`, `og:title` or `<title>` give without
  the site's name, as the page shows it: the first visible heading that reads exactly so
  wins; else a heading that holds it with more around it (a kicker or badge written as
  text) gives it without the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment

from feeds.ingest.html.page import class_words, text_of

_NOT_TITLE = re.compile(r"^(kicker|roofline|overline|eyebrow|surtitle|supertitle|dachzeile|topline|label|badge|"
                        r"tag|tags|category|categories|cat|date|time|timestamp|pubdate|flag|section|rubric|"
                        r"rubrik)$", re.I)
_HEADINGS = "h1, h2, h3, [itemprop=headline], .entry-title, .post-title, .p-name"


def _aside(tag: Tag) -> bool:
    """Printed inside a heading, but not its title."""
    if tag.name == "time":
        return True
    return any(_NOT_TITLE.match(w) for w in re.split(r"[-_\s]+", class_words(tag)) if w)


def _strings(el: Tag) -> Iterator[str]:
    for child in el.children:
        if isinstance(child, Tag):
            if not _aside(child):
                yield from _strings(child)
        elif isinstance(child, NavigableString) and not isinstance(child, Comment):
            yield str(child)


def title_text(el: Tag) -> str:
    """A heading's text, whitespace collapsed, without a date, kicker or badge printed inside
    it (when something else is left)."""
    whole = text_of(el)
    if not any(_aside(t) for t in el.find_all(True)):
        return whole
    own = " ".join("".join(_strings(el)).split())
    return own if own and len(own) < len(whole) else whole


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'").replace("“", '"')
    return " ".join(text.replace("”", '"').split()).casefold()


_DECOY = re.compile(r"comment|related|widget|recent|popular|teaser|card|promo|respond", re.I)


def _decoy(heading: Tag) -> bool:
    """In navigation, an aside, comments or a box of other posts: not the page's own heading."""
    return any(isinstance(t, Tag) and (t.name in ("nav", "aside") or _DECOY.search(class_words(t)))
               for t in (heading, *heading.parents))


def named_heading(soup: BeautifulSoup, variants: list[str]) -> tuple[Tag | None, str]:
    """The visible heading that the page's structured data names, and the title it gives:
    (heading, its text) when one reads as a variant; (heading, variant) when one holds a
    variant with more around it; (None, "") when none does."""
    wanted = [(_folded(v), v) for v in variants]
    wanted = [(f, v) for f, v in wanted if f]
    if not wanted:
        return None, ""
    headings = [(h, title_text(h)) for h in soup.select(_HEADINGS) if not _decoy(h)]
    for folded, _ in wanted:
        for heading, text in headings:
            if _folded(text) == folded:
                return heading, text
    for folded, variant in wanted:
        for heading, _ in headings:
            if len(folded.split()) >= 2 and folded in _folded(text_of(heading)):
                return heading, " ".join(variant.split())
    return None, ""
