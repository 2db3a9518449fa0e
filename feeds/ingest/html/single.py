"""The fields of a single post's page, each from the best source the page has.

- Title: the heading the structured data names (.titles.named_heading); else the post
  element's title, a page heading (`h1`), the JSON-LD headline or `og:title`.
- Date: structured data first (JSON-LD `datePublished`, `article:published_time`, Dublin
  Core: .structured.page_date), the post's own machine-readable date when it is the same
  day (it keeps the time the page shows); where structured values disagree, the one the
  visible date agrees with. A date labelled "updated" never wins (.fields.published_in).
- Author: a name the structured data gives (JSON-LD, `<meta name=author>`) that the page
  also shows; else the visible byline (.byline); else the structured name, unless it is
  the site's own name give or take a number ("Wunderweib1" on "wunderweib.de"): the
  site's account, not a writer.
- Categories: what the post shows (.terms), the post element first, then the element that
  holds its title as well; JSON-LD `articleSection`/`keywords` only when it shows none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag

from feeds.ingest.html.dates import ISO_TIME, parse_text_date
from feeds.ingest.html.fields import author_in, categories_in, published_in, title_element
from feeds.ingest.html.page import class_words, excluded, text_of
from feeds.ingest.html.structured import ld_categories, meta, page_authors, page_date, title_variants
from feeds.ingest.html.titles import named_heading, title_text


def single_title(soup: BeautifulSoup, container: Tag | None, ld: list[dict]) -> tuple[Tag | None, str]:
    """The post's title element (None when the title is only in metadata) and its title."""
    heading, title = named_heading(soup, title_variants(soup, ld))
    if heading is not None:
        return heading, title
    title_el = title_element(container) if container is not None else None
    if title_el is None or not title_text(title_el):
        title_el = next((t for t in soup.select("h1.page-title, h1.post-title, h1") if not excluded(t)
                         and not re.search(r"site-title|logo|brand", class_words(t), re.I)), None)
    if title_el is not None and title_text(title_el):
        return title_el, title_text(title_el)
    headline = next((str(i.get("headline")) for i in ld if i.get("headline")), "") or meta(soup, "og:title") or ""
    return None, " ".join(headline.split())


def titled_post_page(soup: BeautifulSoup, ld: list[dict]) -> bool:
    """Is this a post's page by what it shows, when nothing marks it up: an `h1` of three
    words or more that the page's `<title>` names as a part beside the site's name ("Post -
    Site"), with a date or a byline in the line or two after it? A listing's `h1` names
    its section ("Blog", "News") in fewer words, or is the whole title, and a list follows it."""
    heading, title = named_heading(soup, title_variants(soup, ld))
    page_title = " ".join(soup.title.get_text().split()) if soup.title else ""
    if heading is None or heading.name != "h1" or len(title.split()) < 3 or title == page_title:
        return False
    for line in heading.find_next_siblings(limit=2):
        text = text_of(line)
        if len(text) <= 200 and (parse_text_date(text) or author_in(line)):
            return True
    return False


def post_scope(title_el: Tag) -> Tag | None:
    """On a page that marks no post element, the element that holds the post: the nearest
    one above its title that also holds its text (three paragraphs, or 600 characters)."""
    for tag in title_el.parents:
        if not isinstance(tag, Tag) or tag.name in ("body", "html", "[document]"):
            return None
        if len(tag.find_all("p", limit=3)) >= 3 or len(text_of(tag)) >= 600:
            return tag
    return None


def _day(value: str) -> str | None:
    match = ISO_TIME.match(value)
    return match["date"] if match else None


def single_date(soup: BeautifulSoup, scopes: list[Tag], ld: list[dict],
                plausible: Callable[[str], bool]) -> str | None:
    shown = next((v for v in (published_in(s, plausible) for s in scopes) if v), None)
    structured = [v for v in page_date(soup, ld) if plausible(v)]
    if not structured:
        return shown
    chosen = structured[0]
    if shown and len({_day(v) for v in structured}) > 1:
        chosen = next((v for v in structured if _day(v) == _day(shown)), chosen)
    match = ISO_TIME.match(shown or "")
    if shown and match and match["time"] and _day(shown) == _day(chosen):
        return shown  # (the same day, as the post shows it, with its time)
    return chosen


def single_author(soup: BeautifulSoup, scopes: list[Tag], ld: list[dict]) -> str | None:
    shown = next((a for a in (author_in(s) for s in scopes) if a), None)
    named = page_authors(soup, ld)
    if named and not (shown and shown.casefold() in map(str.casefold, named)):
        page_text = _page_text(soup)
        confirmed = next((n for n in named if n.casefold() in page_text), None)
        if confirmed:
            return confirmed
    if shown:
        return shown
    site = _plain(meta(soup, "og:site_name", "application-name") or "")
    return next((n for n in named if not site or not _plain(n).startswith(site)), None)


def _plain(name: str) -> str:
    """A name without case, digits, punctuation or a domain's ending ("Wunderweib1",
    "wunderweib.de": "wunderweib")."""
    return re.sub(r"[\W\d_]+", "", re.sub(r"\.[a-z]{2,6}$", "", name.casefold()))


def single_categories(soup: BeautifulSoup, scopes: list[Tag], ld: list[dict]) -> tuple[str, ...]:
    for scope in scopes:
        terms = categories_in(scope)
        if terms:
            return terms
    shown = _page_text(soup)
    return next((c for c in (tuple(t for t in ld_categories(i) if t.casefold() in shown) for i in ld) if c), ())


def _page_text(soup: BeautifulSoup) -> str:
    """The page's visible text, case-folded (made once per page)."""
    text = soup.__dict__.get("_feeds_text")
    if text is None:
        body = soup.find("body")
        text = text_of(body if isinstance(body, Tag) else soup).casefold()
        soup.__dict__["_feeds_text"] = text
    return text
