"""What a page says about its post in structured data, read with beautifulsoup4 and json:
JSON-LD (schema.org `BlogPosting`, `Article`, `NewsArticle`, `SocialMediaPosting`, …, also
inside `@graph` and as the items of an `ItemList`), OpenGraph and `article:*` meta, Dublin
Core and `<meta name="author">`.

Why no library: extruct parses the page a second time with lxml and brings rdflib, pyrdfa3,
mf2py, w3lib and html-text for RDFa and formats a blog page does not use; what a post needs
from JSON-LD and meta tags is a few lookups in the tree beautifulsoup4 has already built.
Microdata (`itemprop`) and microformats (`h-entry`, hAtom) are read where the post's
fields are (.fields), as selectors on the same tree.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup

from feeds.ingest.html.dates import ISO_TIME

#: schema.org types of a post (and of a page that is one).
POST_TYPES = {"BlogPosting", "Article", "NewsArticle", "SocialMediaPosting", "Posting", "Report",
              "TechArticle", "ScholarlyArticle", "LiveBlogPosting", "DiscussionForumPosting", "OpinionNewsArticle",
              "AnalysisNewsArticle", "ReportageNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle"}
_CDATA = re.compile(r"^\s*(?:<!--|<!\[CDATA\[|//\s*<!\[CDATA\[)|(?:-->|\]\]>|//\s*\]\]>)\s*$")
#: What stands between a post's title and its site's name in a page's <title> or og:title.
_SEPARATOR = re.compile(r"\s+(?:[|·•»«:@~/\\–—-]|::)\s+|\s+[|·•»«–—:@]+\s*$|^\s*[|·•»«–—]+\s+")


def _parsed(text: str) -> Any:
    """A script's JSON, also when a generator wrapped it in a comment or CDATA section."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(_CDATA.sub("", text.strip()))
    except (ValueError, RecursionError):  # (RecursionError: nested deeper than json can read)
        return None


def _types(item: dict) -> set[str]:
    types = item.get("@type")
    return {str(t).rsplit("/", 1)[-1] for t in (types if isinstance(types, list) else [types]) if t}


def ld_items(soup: BeautifulSoup) -> Iterator[tuple[dict, bool]]:
    """Every JSON-LD object of the page, `@graph` members and `ItemList` elements included,
    each with whether it is an element of an `ItemList` (a post the page lists)."""
    for script in soup.find_all("script", type=re.compile(r"^\s*application/ld\+json", re.I)):
        data = _parsed(script.string or script.get_text() or "")
        stack: list[tuple[Any, bool]] = [(d, False) for d in (data if isinstance(data, list) else [data])]
        while stack:
            item, listed = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = [(i, listed) for i in item]
            if not isinstance(item, dict):
                continue
            yield item, listed
            if isinstance(item.get("@graph"), list):
                stack[:0] = [(i, listed) for i in item["@graph"]]
            if "ItemList" in _types(item) and isinstance(item.get("itemListElement"), list):
                stack[:0] = [(e.get("item", e) if isinstance(e, dict) else e, True) for e in item["itemListElement"]]


def ld_posts(soup: BeautifulSoup, listed: bool = False) -> list[dict]:
    """The page's JSON-LD objects that are posts, in page order: the page's own (a post's
    page), or with `listed` those it lists (an `ItemList`'s elements)."""
    return [i for i, in_list in ld_items(soup) if in_list == listed and _types(i) & POST_TYPES]


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    return " ".join(html.unescape(value).split()) or None if isinstance(value, str) else None


def ld_author(item: dict) -> str | None:
    """A post's author as JSON-LD gives it: a Person (or a list of them) or a plain name; the
    names of several authors joined with ", "."""
    author = item.get("author") or item.get("creator")
    names = [n for n in (_text(a) for a in (author if isinstance(author, list) else [author])) if n]
    return ", ".join(dict.fromkeys(names)) if names else None


def ld_date(item: dict, key: str = "datePublished") -> str | None:
    value = _text(item.get(key))
    return value if value and ISO_TIME.match(value) else None


def ld_categories(item: dict) -> tuple[str, ...]:
    """`articleSection` first, then `keywords` (a list, or one comma-separated string)."""
    names: list[str] = []
    for key in ("articleSection", "keywords"):
        value = item.get(key)
        values = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else []
        names += [n for n in (_text(v) if not isinstance(v, str) else " ".join(v.split()) for v in values) if n]
    return tuple(dict.fromkeys(names))


def _meta_index(soup: BeautifulSoup) -> dict[str, str]:
    """The page's `<meta>` values by property, name and itemprop (lower case; the first of
    each), made once per page: one walk instead of one per lookup."""
    index = soup.__dict__.get("_feeds_meta")  # (not getattr: bs4 would look for a <_feeds_meta> tag)
    if index is None:
        index = {}
        for tag in soup.find_all("meta", content=True):
            value = " ".join(str(tag.get("content")).split())
            for attr in ("property", "name", "itemprop"):
                key = tag.get(attr)
                if isinstance(key, str) and value:
                    index.setdefault(key.strip().lower(), value)
        soup.__dict__["_feeds_meta"] = index  # (the page's own cache, on the page)
    return index


def meta(soup: BeautifulSoup, *names: str) -> str | None:
    """The first of the named `<meta>` values the page has (by property, name or itemprop)."""
    index = _meta_index(soup)
    return next((index[n.lower()] for n in names if n.lower() in index), None)


def page_date(soup: BeautifulSoup, ld: list[dict]) -> list[str]:
    """The publication dates the page's structured data gives, most trusted first: JSON-LD,
    `article:published_time` (and its kin), Dublin Core. Only ISO values count."""
    values = [d for d in (ld_date(i) for i in ld) if d]
    for names in (("article:published_time", "og:published_time", "published_time", "article.published",
                   "datePublished", "pubdate", "publishdate", "publish-date"),
                  ("dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dcterms.created")):
        value = meta(soup, *names)
        if value and ISO_TIME.fullmatch(value):
            values.append(value)
    return list(dict.fromkeys(values))


def page_authors(soup: BeautifulSoup, ld: list[dict]) -> list[str]:
    """The authors structured data names, most trusted first: JSON-LD, `article:author`,
    Dublin Core, `<meta name=author>` (without a URL or handle in brackets after the name)."""
    names = [n for n in (ld_author(i) for i in ld) if n]
    for key in ("article:author", "dc.creator", "dcterms.creator", "author"):
        value = meta(soup, key)
        if value and not re.match(r"https?://", value):
            names.append(re.sub(r"\s*\((?:https?://[^)]*|[\w.@-]+)\)\s*$", "", value))
    return [n for n in dict.fromkeys(names) if n]


def title_variants(soup: BeautifulSoup, ld: list[dict]) -> list[str]:
    """What the page's structured data calls the post, whole and without the site's name:
    JSON-LD `headline`, `og:title`, `twitter:title`, `<title>`; each also cut at a separator
    (" | ", " - ", " :: ", …), the part at the start first (sites write "Post | Site"), then the
    part at the end ("Site | Post"). The site's own name (`og:site_name`) is never a variant."""
    site = (meta(soup, "og:site_name", "application-name") or "").casefold()
    whole = [t for t in (*(_text(i.get("headline")) or _text(i.get("name")) for i in ld),
                         meta(soup, "og:title"), meta(soup, "twitter:title"),
                         " ".join(soup.title.get_text().split()) if soup.title else None) if t]
    firsts: list[str] = []
    lasts: list[str] = []
    for title in whole:
        parts = [p for p in _SEPARATOR.split(title) if p and p.strip()]
        spans = [m.span() for m in _SEPARATOR.finditer(title)]
        firsts += [title[:start].strip() for start, _ in spans]
        lasts += [title[end:].strip() for _, end in spans]
        if len(parts) == 1:
            firsts.append(parts[0].strip())
    variants = [*whole, *sorted(firsts, key=len, reverse=True), *sorted(lasts, key=len, reverse=True)]
    return [v for v in dict.fromkeys(variants) if v and v.casefold() != site]
