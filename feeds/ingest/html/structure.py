"""A listing's posts found by the page's structure, where no markup marks them.

A listing shows its posts as blocks of one shape, one after the other: elements with the
same path of tags and classes from the main content down (`main > div.list > div.item`),
each with a title (a heading, an element named a title, or a prominent link) and some text
or a date. Such a group is told from the page's other repeated things by where it is and
what it holds:

- menus, sidebars and footers (`<nav>`, `<aside>`, `<header>`, `<footer>` and their ARIA
  roles, or classes that say so: .page.not_post) hold no posts; nor do carousels, sliders,
  galleries, tickers and "most read", "popular" or "related" boxes (class words, below);
- a group's blocks must nearly all have a title, of more than one word on average, and the
  titles differ; a block holding several titles of its level is a wrapper, not a post;
- of the groups left, the one whose blocks hold the most (their number, their text beyond
  the title, a heading for a title) is the list; inside `<main>`/`role=main` counts double;
- and it is the page's list only when it holds a good share (SHARE) of the text of the main
  content (or the body): a few dated links inside a post's text do not make a listing.

A block of another shape before the list whose heading links to a URL of the list's pattern
(the same folder as the list's links) is the featured newest post, and comes first. A date
written once above several blocks (an `<h3>` date, then a list) is theirs: `header_dates`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, Tag

from feeds.ingest.html.dates import parse_text_date
from feeds.ingest.html.fields import title_element
from feeds.ingest.html.page import attr_of, class_words, not_post, text_of

_BLOCKS = {"article", "div", "li", "section", "tr", "a", "dd"}
_CHROME = {"nav", "aside", "header", "footer", "form", "menu", "dialog"}
_CHROME_ROLES = {"navigation", "complementary", "contentinfo", "banner", "search", "menu", "menubar", "dialog"}
#: Class or id word parts of boxes whose repeated items are not the page's posts.
_DECOYS = ("carousel", "slide", "swiper", "slick", "owl-", "gallery", "ticker", "marquee", "popular", "mostread",
           "most-read", "most_read", "trending", "related", "recommend", "menu", "dropdown", "pagination", "pager",
           "breadcrumb", "cookie", "footer", "header", "sidebar", "widget", "banner", "meistgel", "meistkomm",
           "meistgekl")
#: Headings of boxes whose items are not the page's posts, in the languages of the month names.
_DECOY_HEADING = re.compile(
    r"\b(most (read|popular|viewed|commented|shared)|popular|trending|related|you (may|might) also|recommended|"
    r"meistgelesen|meistkommentiert|meistgeklickt|beliebteste|les plus (lus|populaires)|à lire aussi|"
    r"lo más (leído|visto)|más leídos|i più letti|più popolari|meest gelezen|mais lidas)", re.I)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TITLE_CLASS = re.compile(r"title|headline|heading|(^|[-_])head([-_]|$)", re.I)
MIN_BLOCKS = 2
#: The share of the main content's text (or the body's) a list of posts holds at least.
SHARE = 0.3


@dataclasses.dataclass(frozen=True)
class Listing:
    """The posts a page's structure shows: each block (a post's element) and its title
    element, in page order, a featured post first; the CSS selector of the list's blocks."""

    blocks: tuple[Tag, ...]
    titles: tuple[Tag, ...]
    featured: int  # how many of the blocks are featured posts above the list
    selector: str  # the list's blocks, as a CSS selector (for `inspect --explain`)


def main_of(soup: BeautifulSoup) -> Tag:
    """The page's main content: its `<main>` or `role=main`, else its body."""
    main = soup.find("main") or soup.find(True, attrs={"role": "main"})
    if isinstance(main, Tag):
        return main
    body = soup.find("body")
    return body if isinstance(body, Tag) else soup


def find_listing(soup: BeautifulSoup, *, loose: bool = False) -> Listing | None:
    """The list of posts the page's structure shows, or None when it shows none. `loose`:
    also a list of bare titles (no text, no date), which is not guessed at as posts (a menu
    looks alike) but is proposed as selectors (`inspect --explain`)."""
    body = soup.find("body")
    scope = body if isinstance(body, Tag) else soup
    main = main_of(soup)
    best: tuple[float, list[Tag], list[Tag]] | None = None
    for members in _groups(scope):
        scored = _scored(members, main, loose)
        if scored and (best is None or scored[0] > best[0]):  # (a tie: the outer group, first seen)
            best = scored
    if best is None:
        return None
    _, blocks, titles = best
    if not loose and sum(len(text_of(b)) for b in blocks) < SHARE * len(text_of(main)):
        return None  # a list inside a page of other things: a post's list of links, a box of teasers
    lead = featured(scope, blocks, titles)
    return Listing(tuple(b for b, _ in lead) + tuple(blocks), tuple(t for _, t in lead) + tuple(titles),
                   len(lead), selector_of(blocks[0]))


def _groups(scope: Tag) -> Iterator[list[Tag]]:
    """Elements that could be posts, grouped by their path of tags and classes below `scope`."""
    paths: dict[int, int] = {id(scope): 0}
    keys: dict[tuple[int, str], int] = {}
    groups: dict[int, list[Tag]] = defaultdict(list)
    for tag in scope.find_all(True):
        parent = paths.get(id(tag.parent), 0)
        key = keys.setdefault((parent, signature(tag)), len(keys) + 1)
        paths[id(tag)] = key
        if tag.name in _BLOCKS:
            groups[key].append(tag)
    return (g for g in groups.values() if len(g) >= MIN_BLOCKS)


def signature(tag: Tag) -> str:
    """A tag's shape: its name and first class word (`div.pmdiv`)."""
    classes = [c for c in (tag.get("class") or []) if c and not c[0].isdigit()]
    return f"{tag.name}.{classes[0]}" if classes else tag.name


def selector_of(tag: Tag) -> str:
    """A CSS selector for blocks of `tag`'s shape: the shapes from its nearest ancestor with a
    class (at most three up) down to its own (`div.news-list > div > div.row`)."""
    parts = [css_of(tag)]
    for parent in tag.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "[document]") or len(parts) > 3:
            break
        parts.append(css_of(parent))
        if "." in parts[-1]:
            break
    return " > ".join(reversed(parts))


def css_of(tag: Tag) -> str:
    """A tag's shape as a CSS selector (`div.pmdiv`)."""
    name = signature(tag)
    return name if "." not in name else ".".join([name.split(".")[0], _escape(name.split(".", 1)[1])])


def _escape(word: str) -> str:
    return re.sub(r"([^\w-])", r"\\\1", word)


def chrome(tag: Tag, stop: Tag | None = None) -> bool:
    """In (or itself) a menu, sidebar, footer, carousel, gallery or "most read" box, below `stop`."""
    for t in (tag, *tag.parents):
        if t is stop or not isinstance(t, Tag) or t.name in ("body", "html", "[document]"):
            return False
        if t.name in _CHROME or attr_of(t, "role") in _CHROME_ROLES or not_post(t):
            return True
        words = class_words(t).lower()
        if any(d in words for d in _DECOYS):
            return True
    return False


def block_title(block: Tag) -> Tag | None:
    """A block's title: what the field rules take (feeds.ingest.html.fields), else its first
    heading, an element whose class names it a title, or its first link of some words."""
    found = title_element(block)
    if found is not None:
        return found
    for tag in block.find_all(True):
        if tag.name in _HEADINGS or (_TITLE_CLASS.search(" ".join(tag.get("class") or []))
                                     and tag.name not in ("img", "time")):
            if text_of(tag):
                return tag
    for a in block.find_all("a", href=True):
        if len(text_of(a).split()) >= 3 and len(text_of(a)) < 200:
            return a
    return None


def _scored(members: list[Tag], main: Tag, loose: bool) -> tuple[float, list[Tag], list[Tag]] | None:
    if chrome(members[0]) or _decoy_box(members[0]):
        return None
    blocks, titles, weight = [], [], 0.0
    for m in members:
        title = block_title(m)
        if title is None or _wrapper(m, title):
            continue
        text = text_of(m)
        rest = len(text) - len(text_of(title))
        dated = m.find("time") is not None or date_line(m, title) is not None
        # (a block that links nowhere and shows no date is a section of one page, not a post)
        if (rest < 20 and not dated and not loose) or not (dated or _link(m, title)) or _link_list(m, text):
            continue
        blocks.append(m)
        titles.append(title)
        weight += 1 + min(rest, 300) / 100 + (title.name in _HEADINGS) + dated
    texts = [text_of(t) for t in titles]
    if len(blocks) < MIN_BLOCKS or len(blocks) < 0.7 * len(members) or len(set(texts)) < 0.8 * len(texts):
        return None
    if sum(len(t.split()) for t in texts) < (1 if loose else 2) * len(texts):
        return None
    inside = any(p is main for p in members[0].parents) and main.name != "body"
    return weight * (2 if inside else 1), blocks, titles


def _decoy_box(block: Tag) -> bool:
    """Is the block in a box headed "Most read", "Popular", "Related", … (the heading just
    before its list, or its list's box)?"""
    box = block.parent
    for _ in range(2):
        if not isinstance(box, Tag):
            return False
        heading = box.find_previous_sibling(_HEADINGS) or box.find(_HEADINGS, recursive=False)
        if isinstance(heading, Tag) and _DECOY_HEADING.search(text_of(heading)):
            return True
        box = box.parent
    return False


def _link_list(block: Tag, text: str) -> bool:
    """Is the block mostly links, several of them (a column of a menu, a tag cloud)?"""
    links = [text_of(a) for a in block.find_all("a", href=True)]
    return len(links) >= 3 and sum(map(len, links)) >= 0.8 * len(text)


def _contains(outer: Tag, inner: Tag) -> bool:
    return any(p is outer for p in inner.parents)


def _wrapper(block: Tag, title: Tag) -> bool:
    """Does the block hold several titles of its title's level (a box of posts, not one)?"""
    if title.name not in _HEADINGS:
        return False
    return sum(1 for h in block.find_all(title.name) if text_of(h)) > 1


def _folder(url: str | None) -> str | None:
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    return path.rsplit("/", 1)[0] if "/" in path.strip("/") else None


def _link(block: Tag, title: Tag) -> str | None:
    a = title if title.name == "a" else title.find("a", href=True) or title.find_parent("a", href=True)
    if not isinstance(a, Tag):
        a = block.find("a", href=True) if block.name != "a" else block
    return attr_of(a, "href") if isinstance(a, Tag) else None


def featured(scope: Tag, blocks: list[Tag], titles: list[Tag]) -> list[tuple[Tag, Tag]]:
    """Blocks of another shape before the list whose heading links where the list's posts are."""
    links = [_link(b, t) for b, t in zip(blocks, titles, strict=True)]
    folders = {f for f in map(_folder, links) if f}
    first_part = {"/" + f.strip("/").split("/")[0] for f in folders}
    if len(first_part) != 1 or sum(1 for u in links if _folder(u)) < 0.7 * len(links):
        return []
    known = set(links) | {text_of(t) for t in titles}
    first = blocks[0]
    found: list[tuple[Tag, Tag]] = []
    for heading in scope.find_all(_HEADINGS):
        if heading.sourceline is not None and first.sourceline is not None and \
                (heading.sourceline, heading.sourcepos or 0) >= (first.sourceline, first.sourcepos or 0):
            break
        link = _link(heading, heading) if heading.find("a", href=True) or heading.find_parent("a", href=True) else None
        if not link or _folder(link) not in folders or link in known or text_of(heading) in known or chrome(heading):
            continue
        found.append((_block_of(heading, first), heading))
    return found


def _block_of(heading: Tag, first: Tag) -> Tag:
    """The largest element around a featured heading that holds no other heading of its
    level or above, nor the list."""
    block = heading
    for parent in heading.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "main") or _contains(parent, first):
            break
        level = int(heading.name[1])
        if sum(1 for h in parent.find_all(_HEADINGS[:level]) if text_of(h)) > 1:
            break
        block = parent
    return block


def header_dates(blocks: tuple[Tag, ...], stop: Tag) -> dict[int, date]:
    """The date written once above blocks (a heading, a line of its own), by id of block: for
    each block, the nearest short element before it that is only a date, looking back past
    the blocks before it and up to `stop`."""
    ids = {id(b) for b in blocks}
    memo: dict[int, date | None] = {}
    found = {}
    for b in blocks:
        day = _date_above(b, stop, ids, memo)
        if day is not None:
            found[id(b)] = day
    return found


def _date_above(el: Tag, stop: Tag, blocks: set[int], memo: dict[int, date | None]) -> date | None:
    if el is stop or not isinstance(el, Tag) or el.name in ("body", "html", "[document]"):
        return None
    if id(el) in memo:
        return memo[id(el)]
    result: date | None = None
    for sib in el.previous_siblings:
        if not isinstance(sib, Tag):
            continue
        if id(sib) in blocks:
            result = memo.get(id(sib))
            break
        text = text_of(sib)
        if text and len(text) <= 60 and (day := parse_text_date(text)) is not None:
            result = day
            break
    else:
        result = _date_above(el.parent, stop, blocks, memo) if isinstance(el.parent, Tag) else None
    memo[id(el)] = result
    return result


def date_line(block: Tag, title: Tag | None) -> date | None:
    """A date the block shows as a short text of its own (`<strong>5 May 2022</strong>`), not in
    its title, nor one its excerpt mentions in passing."""
    found = dated_element(block, title)
    return parse_text_date(text_of(found)) if found is not None else None


def dated_element(block: Tag, title: Tag | None) -> Tag | None:
    """The element of date_line's date."""
    for string in block.find_all(string=True):
        text = " ".join(string.split())
        if text and len(text) <= 60 and not isinstance(string, Comment) and isinstance(string.parent, Tag) and \
                not any(p is title for p in string.parents) and parse_text_date(text) is not None:
            return string.parent
    return None
