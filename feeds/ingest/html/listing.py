"""A listing's posts: from the items of an `[[input.html]]` table (.selectors), from the post
elements the engine table marks (.engines, via .posts), or from the repeated blocks the page's
structure shows (.structure); each post's fields by the field rules (.fields), and a record
of the rule that found each (`HtmlPost.sources`, for `feeds inspect --explain`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag

from feeds.config.selectors import HtmlSelectors
from feeds.ingest.budget import Deadline
from feeds.ingest.html.engines import GENERIC, engine_of
from feeds.ingest.html.fields import (
    author_in,
    categories_in,
    drop_more_links,
    post_body,
    published_in,
    title_element,
    title_link,
    truncated_in,
)
from feeds.ingest.html.page import attr_of, join, text_of, web_url
from feeds.ingest.html.records import HtmlPost
from feeds.ingest.html.selectors import Selected, select_posts
from feeds.ingest.html.structure import (
    Listing,
    block_title,
    date_line,
    featured,
    find_listing,
    header_dates,
    main_of,
)
from feeds.ingest.html.titles import title_text


@dataclasses.dataclass(frozen=True)
class Found:
    """What reading a listing's posts needs besides the page: where it is, what its relative
    links are relative to, which dates are plausible, its deadline, the posts it may give."""

    path: str
    base: str | None
    plausible: Callable[[str], bool]
    deadline: Deadline
    max_posts: int | None = None


def listed_posts(soup: BeautifulSoup, found: Found, rules: HtmlSelectors | None, listing: Listing | None,
                 candidates: list[Tag]) -> tuple[list[HtmlPost], list[str]]:
    """A listing's posts, by `rules` if given, else `listing` (the structure's) if given, else
    the post elements `candidates`; and warnings: a selector that matched nothing, posts left out."""
    said: list[str] = []
    if rules:
        selected, said = select_posts(soup, rules, found.path, found.plausible)
        posts = [_from_selected(s, found.base) for s in _limited(selected, found, said)]
    elif listing:
        posts = _from_structure(listing, found, main_of(soup), said)
    else:
        lead = _featured_above(soup, candidates, found)
        posts = lead + _listing(_limited(candidates, found, said), found.base, found.plausible, found.deadline)
    return posts, said


def _featured_above(soup: BeautifulSoup, candidates: list[Tag], found: Found) -> list[HtmlPost]:
    """A featured post above the post elements: a heading outside them that links where they do."""
    titles = [title_of(c) for c in candidates]
    body = soup.find("body")
    if len(candidates) < 2 or not isinstance(body, Tag) or any(t is None for t in titles):
        return []
    lead = featured(body, candidates, [t for t in titles if t is not None])
    posts = [_listed(b, found.base, found.plausible, t, "structure: featured post above the list") for b, t in lead]
    return [p for p in posts if p is not None]


def _limited(items: list, found: Found, said: list[str]) -> list:
    if found.max_posts is not None and len(items) > found.max_posts:
        said.append(f"{found.path}: {len(items)} posts, more than the {found.max_posts} a page may give: the "
                    f"first {found.max_posts} are read, the rest left out")
        return items[:found.max_posts]
    return items


def _listing(candidates: list[Tag], base: str | None, plausible: Callable[[str], bool],
             deadline: Deadline) -> list[HtmlPost]:
    """The posts of a listing's post elements, those with a title."""
    posts = []
    for c in candidates:
        deadline.check()
        post = _listed(c, base, plausible)
        if post:
            posts.append(post)
    return posts


def title_of(post: Tag) -> Tag | None:
    """A post element's title by the field rules; else, for an element an engine's own row
    names (not any `<article>`), by the structure's (a heading, a title class, a link)."""
    found = title_element(post)
    if found is None and engine_of(post) not in GENERIC:
        found = block_title(post)
    return found


def _listed(container: Tag, base: str | None, plausible: Callable[[str], bool], title_el: Tag | None = None,
            found_by: str = "") -> HtmlPost | None:
    """A post element's post, its fields by the field rules (.fields); `title_el` when the
    finder already knows its title (the structure's)."""
    title_el = title_el if title_el is not None else title_of(container)
    if title_el is None:
        return None
    href = title_link(container) if title_el is title_element(container) else _title_href(container, title_el)
    url = web_url(join(base, href))
    body_el = post_body(container, title_el)
    if url:
        drop_more_links(body_el, url)
    found_by = found_by or f"engine table: {engine_of(container)}"
    return HtmlPost(
        title=title_text(title_el), url=url,
        published=published_in(container, plausible), author=author_in(container), categories=categories_in(container),
        body=str(body_el), body_element=body_el, truncated=truncated_in(container, body_el, url),
        line=container.sourceline or 1,
        sources=(("post", found_by), ("title", found_by), ("url", "title link" if href else "none"),
                 *((f, "field rules (fields.py)") for f in ("published", "author", "categories", "truncated"))))


def _title_href(block: Tag, title: Tag) -> str | None:
    """The link of a title the structure found: around it, in it, else the block's own or first link."""
    a = title if title.name == "a" else title.find("a", href=True) or title.find_parent("a", href=True)
    if not isinstance(a, Tag) or not any(p is block for p in (a, *a.parents)):
        a = block if block.name == "a" and block.get("href") else block.find("a", href=True)
    return attr_of(a, "href").strip() or None if isinstance(a, Tag) else None


def structure_of(soup: BeautifulSoup, candidates: list[Tag]) -> Listing | None:
    """The list of posts the page's structure shows. Beside one post element, only a list
    inside it whose posts link to pages of their own (a page's wrapper element, not a post)."""
    listing = find_listing(soup)
    if listing is None or not candidates:
        return listing
    inside = all(any(p is candidates[0] for p in b.parents) for b in listing.blocks)
    links = [_title_href(b, t) for b, t in zip(listing.blocks, listing.titles, strict=True)]
    return listing if inside and len({u for u in links if u}) >= 0.7 * len(links) else None


def _from_structure(listing: Listing, found: Found, main: Tag, said: list[str]) -> list[HtmlPost]:
    """The posts of the blocks the structure found; a block with no date of its own takes
    the date written above it, or one written in its text."""
    above = header_dates(listing.blocks, main)
    posts = []
    pairs = _limited(list(zip(listing.blocks, listing.titles, strict=True)), found, said)
    for i, (block, title) in enumerate(pairs):
        found.deadline.check()
        how = "structure: featured post above the list" if i < listing.featured else \
            f"structure: repeated blocks {listing.selector}"
        post = _listed(block, found.base, found.plausible, title, how)
        if post is None:
            continue
        if post.published is None:
            day = above.get(id(block))
            source = "structure: date above the block" if day else "structure: date in the block's text"
            day = day or date_line(block, title)
            if day and found.plausible(day.isoformat()):
                post = dataclasses.replace(post, published=day.isoformat(),
                                           sources=(*post.sources, ("published", source)))
        posts.append(post)
    return posts


def _from_selected(s: Selected, base: str | None) -> HtmlPost:
    url = web_url(join(base, s.href))
    if url:
        drop_more_links(s.body, url)
    return HtmlPost(title=text_of(s.title), url=url, published=s.published, author=s.author,
                    categories=s.categories, body=str(s.body), body_element=s.body, truncated=s.truncated(url),
                    line=s.item.sourceline or 1, sources=(("post", "selector item"), *s.sources))
