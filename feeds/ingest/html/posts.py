"""Read a saved HTML page (a blog's listing or a single post) into posts, with beautifulsoup4.

Built on the conventions blog engines share, not on one theme:

- a post is an `<article>`, an hAtom `.hentry`/`.h-entry`, a `.post`/`.type-post`, or a
  schema.org `BlogPosting`/`Article`; comments, related-post and share widgets, sidebars
  and navigation are not posts;
- its title is the `.entry-title` (or `[itemprop=headline]`, `.post-title`, a heading with
  a link); on a single post's page a title above the post (`h1.page-title`) counts too;
- its URL is the title's link on a listing, the page's `rel=canonical` on a post's page;
- its date is, in this order, `<time datetime>`, microformats `abbr.published[title]`,
  `[itemprop=datePublished]`, `article:published_time`, JSON-LD `datePublished`, and a
  date written in the post's byline or text (English, German, French, Spanish, Italian,
  Dutch or Portuguese month names);
- its author is the byline's name (`.byline-author`, `.fn`, `[itemprop=author]`,
  a visible `rel=author` link);
- its categories are the `rel=tag`/`rel=category` links, `.cat-links`, Blogger labels;
- it is cut when the listing shows a "more" link ("Continue reading", "Read more",
  "Weiterlesen", …) or an excerpt ending in "[…]".

At most `max_posts` posts are read from a page; the rest are left out with a warning.
How a page is parsed and walked is in .page, a post's fields in .fields, its dates in .dates;
structured data (JSON-LD, OpenGraph, Dublin Core) in .structured, titles in .titles, bylines in
.byline, categories and tags in .terms, and a post's own page's fields, each from the best
source it has, in .single.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from bs4 import BeautifulSoup, Tag

from feeds.config.selectors import HtmlSelectors
from feeds.errors import DumpError
from feeds.ingest.budget import Deadline
from feeds.ingest.html.dates import PlausibleDates
from feeds.ingest.html.engines import POST_SELECTOR
from feeds.ingest.html.fields import (
    BODY,
    post_body,
    title_link,
)
from feeds.ingest.html.listing import Found, listed_posts, structure_of, title_of
from feeds.ingest.html.page import (
    MAX_DEPTH,
    NEVER,
    Soup,
    attr_of,
    decode_page,
    excluded,
    join,
    may_hold_forbidden,
    same_url,
    select_in,
    strip_forbidden,
    web_url,
)
from feeds.ingest.html.records import HtmlPage, HtmlPost
from feeds.ingest.html.single import (
    post_scope,
    single_author,
    single_categories,
    single_date,
    single_title,
    titled_post_page,
)
from feeds.ingest.html.structured import ld_posts, meta
from feeds.ingest.text import strip_xml_forbidden


def read_html(path: str, data: bytes, site_url: str | None = None, written: datetime | None = None, *,
              encoding: str = "", language: str = "en", deadline: Deadline = NEVER,
              max_posts: int | None = None, selectors: tuple[HtmlSelectors, ...] = ()) -> HtmlPage:
    """A saved page's posts. Raises DumpError when it has none.

    Relative links are resolved against the page's `<base href>`, then its canonical URL,
    then `site_url`; a post URL that is still not an absolute http(s) URL is dropped. A
    date outside PlausibleDates (`written`: when the page was saved, if known) is ignored
    with a warning, as a malformed one is: the post is dated by the page's next date, or
    as a text dump's posts are.

    The posts are, in this order of trust: the items of the first `selectors` table whose
    glob matches `path` (input.html); the post elements the engine table marks (.engines);
    on a page that is not marked as one post's and has at most one of those, the list its
    structure shows (.structure), when it shows one.
    """
    plausible = PlausibleDates(path, written)
    markup, decoding = decode_page(data, path, encoding, language)
    soup = Soup(markup, deadline=deadline)
    if soup.find("html") is None and soup.find("body") is None and not soup.find(True):
        raise DumpError(path, "not an HTML page")
    removed = strip_forbidden(soup) if may_hold_forbidden(markup) else 0
    canonical, base = _addresses(soup, site_url)
    ld = list(_json_ld(soup))
    candidates = _candidates(soup)
    rules = next((r for r in selectors if r.matches(path)), None)
    listing = None if rules or _marked_single(soup, ld) or len(candidates) > 1 else structure_of(soup, candidates)
    is_post = False if rules or listing else _is_single(soup, candidates, canonical, ld)
    posts: list[HtmlPost] = []
    limited: list[str] = []
    if is_post:
        container = candidates[0] if candidates else next(iter(_post_elements(soup)), None)
        post = _single(soup, container, canonical, ld, plausible)
        posts += [post] if post else []
    elif is_post is False:
        found = Found(path, base, plausible, deadline, max_posts)
        posts, limited = listed_posts(soup, found, rules, listing, candidates)
    # JSON-LD values (a headline, an author, a date) come from escapes such as \u0001 in a
    # script's text, which the walk above does not see. A title of nothing else is no title.
    safe = [_xml_safe(p) for p in posts]
    removed += sum(_text_length(p) - _text_length(q) for p, q in zip(posts, safe, strict=True))
    safe = [dataclasses.replace(p, title=" ".join(p.title.split())) for p in safe if p.title.strip()]
    deep = f"left out {soup.too_deep} element(s) nested more than {MAX_DEPTH} deep, and their text"
    if not safe:
        raise DumpError(path, "no posts found in this HTML page (no article, .hentry or .post with a title, "
                              "and nothing that marks it as a single post's page)"
                              + (f"; {deep}" if soup.too_deep else ""))
    warnings = (*decoding, *([f"{path}: removed {removed} characters that XML forbids"] if removed else []),
                *([f"{path}: {deep}"] if soup.too_deep else []), *limited, *plausible.warnings)
    return HtmlPage("post" if is_post else "listing", canonical, base, tuple(safe), warnings, listing)


def _addresses(soup: BeautifulSoup, site_url: str | None) -> tuple[str | None, str | None]:
    """The page's own URL (canonical), if it says, and what its relative links are relative to."""
    canonical = web_url(_link(soup, "canonical", site_url)) or web_url(join(site_url, _meta(soup, "og:url")))
    base_tag = soup.find("base", href=True)
    base = join(canonical or site_url, attr_of(base_tag, "href")) if isinstance(base_tag, Tag) else None
    return canonical, base or canonical or site_url


def _xml_safe(post: HtmlPost) -> HtmlPost:
    """The post's text fields without characters XML forbids."""
    def clean(text: str | None) -> str | None:
        return None if text is None else strip_xml_forbidden(text)
    return dataclasses.replace(post, title=strip_xml_forbidden(post.title), url=clean(post.url),
                               published=clean(post.published), author=clean(post.author) or None,
                               categories=tuple(c for c in map(strip_xml_forbidden, post.categories) if c.strip()))


def _text_length(post: HtmlPost) -> int:
    return sum(len(t or "") for t in (post.title, post.url, post.published, post.author, *post.categories))


def _link(soup: BeautifulSoup, rel: str, base: str | None) -> str | None:
    for link in soup.find_all("link", href=True):
        if rel in [r.lower() for r in (link.get("rel") or [])]:
            return join(base, str(link["href"]))
    return None


def _meta(soup: BeautifulSoup, name: str) -> str | None:
    return meta(soup, name)


def _json_ld(soup: BeautifulSoup) -> list[dict]:
    return ld_posts(soup)


def _post_elements(soup: BeautifulSoup) -> list[Tag]:
    """The outermost post elements, in page order."""
    found = [t for t in soup.select(POST_SELECTOR) if not excluded(t)]
    chosen = set(map(id, found))
    return [t for t in found if not any(id(p) in chosen for p in t.parents)]


def _candidates(soup: BeautifulSoup) -> list[Tag]:
    """The outermost post elements that have a title: the posts of a listing."""
    return [t for t in _post_elements(soup) if title_of(t) is not None]


def _marked_single(soup: BeautifulSoup, ld: list[dict]) -> bool:
    """Does the page say it is one post's: JSON-LD of a post, og:type article, a body class?"""
    body = soup.find("body")
    classes = set(body.get("class") or []) if isinstance(body, Tag) else set()
    return bool(ld) or _meta(soup, "og:type") == "article" or bool(classes & {"single", "single-post", "singular"})


def _is_single(soup: BeautifulSoup, candidates: list[Tag], canonical: str | None, ld: list[dict]) -> bool | None:
    """True: a single post's page; False: a listing; None: neither can be told (no posts)."""
    body = soup.find("body")
    classes = set(body.get("class") or []) if isinstance(body, Tag) else set()
    if classes & {"home", "blog", "archive", "category", "tag", "search", "paged"}:
        return False
    if classes & {"single", "single-post", "singular"} or _meta(soup, "og:type") == "article":
        return True
    if len(candidates) > 1:
        return False
    if ld:
        return True
    if not candidates:
        # Nothing marks posts: only a page that says it is one post's (a post element, or an
        # h1 beside a content element) is read as one; anything else is not guessed at.
        has_body = any(True for _ in select_in(soup, BODY))
        if (_post_elements(soup) or (has_body and soup.find("h1"))) and canonical:
            return True
        return True if titled_post_page(soup, ld) else None
    link = title_link(candidates[0])
    return link is None or (canonical is not None and same_url(link, canonical))


def _single(soup: BeautifulSoup, container: Tag | None, url: str | None, ld: list[dict],
            plausible: Callable[[str], bool]) -> HtmlPost | None:
    """The one post of a post's page, each field from the best source it has (.single)."""
    title_el, title = single_title(soup, container, ld)
    if not title:
        return None
    main = container or soup.find("main") or (post_scope(title_el) if title_el is not None else None) \
        or soup.find("body") or soup
    # Byline, date and categories may sit above the post, beside its title: look from the
    # element that holds both.
    scope = _common_ancestor(title_el, main) if title_el is not None and main is not soup else main
    scopes = [main] if scope is main else [main, scope]
    body_el = post_body(main, title_el)
    return HtmlPost(title=title, url=url, published=single_date(soup, scopes, ld, plausible),
                    author=single_author(soup, scopes, ld), categories=single_categories(soup, scopes, ld),
                    body=str(body_el), body_element=body_el, truncated=False,
                    line=(container or main).sourceline or 1, sources=_SINGLE_SOURCES)


_SINGLE_SOURCES = (("post", "a post's page"),
                   ("title", "the heading og:title/headline/<title> name, else the title element (single.py)"),
                   ("url", "canonical"),
                   ("published", "structured data (JSON-LD, article:published_time), else the post's date (single.py)"),
                   ("author", "a structured name the page shows, else the byline (single.py, byline.py)"),
                   ("categories", "the terms the post shows (terms.py), else JSON-LD keywords it shows"))


def _common_ancestor(a: Tag, b: Tag) -> Tag:
    chain = [a, *a.parents]
    ids = {id(t) for t in chain}
    for t in (b, *b.parents):
        if id(t) in ids and isinstance(t, Tag):
            return t
    return b
