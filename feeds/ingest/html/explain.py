"""`feeds inspect --explain PAGE`: which rule found each post and field of a saved page, and,
where its posts were guessed from its structure or not found at all, `[[input.html]]`
selectors proposed from the structure it shows, ready to paste into feeds.toml.
"""

from __future__ import annotations

import json
import os

from bs4 import Tag

from feeds.errors import DumpError
from feeds.ingest.html.page import Soup, class_words, decode_page, text_of
from feeds.ingest.html.posts import HtmlPost, read_html
from feeds.ingest.html.structure import Listing, css_of, dated_element, find_listing, selector_of
from feeds.ingest.reader import Settings

FIELDS = ("title", "url", "published", "author", "categories", "truncated")


def explain(path: str, data: bytes, settings: Settings) -> dict:
    """What `--explain` shows of one page: its kind, each post's fields with the rule that
    found each, what went wrong, and the proposed selectors (TOML, or None)."""
    try:
        page = read_html(path, data, settings.site_url, encoding=settings.encoding, language=settings.language,
                         selectors=settings.html)
    except DumpError as exc:
        return {"page": path, "kind": None, "posts": [], "error": str(exc), "proposal": _proposal(path, data)}
    by_selector = any(dict(p.sources).get("post") == "selector item" for p in page.posts)
    guessed = page.structure is not None and not by_selector
    return {"page": path, "kind": page.kind, "posts": [_post(p) for p in page.posts], "error": None,
            "warnings": list(page.warnings), "proposal": _proposal(path, data) if guessed else None}


def _post(post: HtmlPost) -> dict:
    sources: dict[str, str] = {}
    for name, rule in post.sources:  # (a later record of a field replaces an earlier one)
        sources[name] = rule
    fields = {name: {"value": list(v) if isinstance(v := getattr(post, name), tuple) else v,
                     "rule": sources.get(name, "single-post rules") if v not in (None, (), "") else "none found"}
              for name in FIELDS}
    return {"post": sources.get("post", "single-post rules"), "fields": fields}


def _proposal(path: str, data: bytes) -> str | None:
    markup, _ = decode_page(data, path, "", "en")
    soup = Soup(markup)
    listing = find_listing(soup) or find_listing(soup, loose=True)
    if listing is None:
        return None
    return proposal(listing, os.path.basename(path))


def proposal(listing: Listing, match: str) -> str:
    """An `[[input.html]]` table that selects the listing's blocks and their titles, links and dates."""
    blocks, titles = listing.blocks, listing.titles
    item = ", ".join(dict.fromkeys(selector_of(b) for b in (*blocks[:listing.featured], blocks[listing.featured])))
    lines = ["[[input.html]]", f"match = {json.dumps(match)}", f"item = {json.dumps(item)}"]
    title = _common(blocks, titles)
    if title:
        lines.append(f"title = {json.dumps(title)}")
        links = [t if t.name == "a" else t.find("a", href=True) for t in titles]
        if all(isinstance(a, Tag) for a in links) and not all(t.name == "a" for t in titles):
            lines.append(f"link = {json.dumps(', '.join(t.strip() + ' a' for t in title.split(',')))}")
    dates = [_date_element(b) for b in blocks]
    date = _common(blocks, dates) if all(d is not None for d in dates) else None
    if date:
        lines.append(f"date = {json.dumps(date)}")
    return "\n".join(lines) + "\n"


def _common(blocks: tuple[Tag, ...], found: tuple[Tag, ...] | list[Tag | None]) -> str | None:
    """A selector, inside each block, for the element found in it: its shape alone when that
    selects it first in every block, else its path of shapes from below the block."""
    first, block = found[0], blocks[0]
    if first is None:
        return None
    chain = []
    for t in (first, *first.parents):
        if t is block:
            break
        chain.append(t)
    else:
        return None
    shapes = ", ".join(dict.fromkeys(css_of(f) for f in found if f is not None))
    for selector in (css_of(first), shapes, " > ".join(css_of(t) for t in reversed(chain))):
        if all(f is None or b.select_one(selector) is f for b, f in zip(blocks, found, strict=True)):
            return selector
    return None


def _date_element(block: Tag) -> Tag | None:
    """The element of a block that shows its date: a `<time>`, else a short element whose class says date."""
    time = block.find("time")
    if isinstance(time, Tag):
        return time
    for tag in block.find_all(True):
        if "date" in class_words(tag).lower() and 0 < len(text_of(tag)) <= 60:
            return tag
    return dated_element(block, None)
